/* mibs/agentx.c — the AgentX subagent (see mib.h for the contract).
 *
 * net-snmp is the only foreign library here and is adapted in this file:
 * its logging goes to core/log, its fds and timeouts to core/loop, its
 * failures to netd error codes. The figures come from snap.c.
 *
 *   master snmpd  <-- AgentX (unix socket) -->  net-snmp session
 *                                                  | fds: loop_fd_add
 *                                                  | timeouts/alarms: one-shot loop timer
 *   handler(GET/GETNEXT) --> snapshot (<= 1 s old) --> figures (store read txn + services)
 *   tick (1 s) --> snapshot if the store or the services' figures changed
 *              --> threshold edges, drift and role-error rises --> send_v2trap
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <net-snmp/agent/agent_callbacks.h>
#include <net-snmp/library/large_fd_set.h>

#include "core/log.h"
#include "mibs/mib.h"
#include "mibs/snap.h"

#define SNAP_MAX_AGE_MS 1000
#define IDLE_REBUILD_MS 10000
#define MAX_FDS 16

struct mib_agent {
	struct loop *loop;
	struct mib_source src;
	unsigned threshold;
	struct mib_snap snap;
	uint64_t snap_ms;          /* loop_now_ms() when built; 0 = none */
	int fds[MAX_FDS];          /* fds we watch for net-snmp */
	size_t n_fds;
	struct loop_timer *timeout; /* net-snmp's next timeout or alarm */
	struct loop_timer *tick;    /* 1 s: notifications */
	bool connected;
	bool recheck;               /* evaluate the notifications at the next tick */
	char **above;               /* sorted keys of ranges notified as above */
	size_t n_above;
	struct mib_rise drift;      /* netdDnsDriftDetected: records in drift */
	struct mib_rise role_err;   /* netdNodeRoleError: node-roles in error now */
	struct mib_rise role_errs;  /* netdNodeRoleError: transitions into error since start */
	netsnmp_handler_registration *reg;
};

static struct mib_agent *agent;   /* net-snmp is process-global */
static bool in_init;              /* init_snmp() running: its MIB-parser chatter is debug */
static bool started_once;

static const oid base_oid[] = { MIB_BASE_ARCS };
static const oid trap_oid_oid[] = { 1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0 };   /* snmpTrapOID.0 */
static const oid exhausted_oid[] = { MIB_BASE_ARCS, 0, 1 };   /* netdRangeNearlyExhausted */
static const oid drift_oid[] = { MIB_BASE_ARCS, 0, 2 };       /* netdDnsDriftDetected */
static const oid role_error_oid[] = { MIB_BASE_ARCS, 0, 3 };  /* netdNodeRoleError */
static const oid threshold_oid[] = { MIB_BASE_ARCS, 1, 1, 5, 0 };

/* ---- logging ---- */

/* net-snmp builds an SNMPv1 copy of every notification, even in a subagent
 * (which has no trap sinks of its own: the master sends our SNMPv2
 * notification), and warns when a Counter64 varbind (netdNodeRoleErrors)
 * makes that copy impossible (RFC 3584 drops such notifications for v1). */
static bool v1_copy_chatter(const char *msg)
{
	return !strncmp(msg, "send_trap: v1 traps can't carry Counter64", 41) ||
	       !strncmp(msg, "send_trap: failed to convert v2->v1", 35);
}

static int on_log(int major, int minor, void *serverarg, void *clientarg)
{
	const struct snmp_log_message *m = serverarg;
	if (!m || !m->msg)
		return 0;
	size_t n = strlen(m->msg);
	while (n && (m->msg[n - 1] == '\n' || m->msg[n - 1] == '\r'))
		n--;
	if (n == 0)
		return 0;
	if ((in_init && m->priority > LOG_ERR) || v1_copy_chatter(m->msg))
		log_debug("snmp: %.*s", (int)n, m->msg);
	else if (m->priority <= LOG_ERR)
		log_warn("snmp: %.*s", (int)n, m->msg);
	else if (m->priority <= LOG_INFO)
		log_info("snmp: %.*s", (int)n, m->msg);
	else
		log_debug("snmp: %.*s", (int)n, m->msg);
	return 0;
}

/* ---- snapshot ---- */

static int refresh(struct mib_agent *a, bool force)
{
	uint64_t now = loop_now_ms();
	if (!force && a->snap_ms && now - a->snap_ms < SNAP_MAX_AGE_MS)
		return 0;
	struct mib_snap s;
	int rc = mib_snap_build(&a->src, a->threshold, &s);
	if (rc < 0) {
		log_warn("snmp: reading the store failed: %s; serving the previous figures", netd_strerror(rc));
		return rc;
	}
	mib_snap_free(&a->snap);
	a->snap = s;
	a->snap_ms = now;
	a->recheck = true;   /* a snapshot the handler built is checked at the next tick too */
	return 0;
}

/* ---- the MIB handler ---- */

static void set_value(netsnmp_variable_list *vb, const struct mib_val *v)
{
	switch (v->type) {
	case MIB_T_STRING:
		snmp_set_var_typed_value(vb, ASN_OCTET_STR, v->str, strlen(v->str));
		break;
	case MIB_T_COUNTER64: {
		struct counter64 c = { .high = (u_long)(v->num >> 32), .low = (u_long)(v->num & 0xffffffffu) };
		snmp_set_var_typed_value(vb, ASN_COUNTER64, &c, sizeof c);
		break;
	}
	case MIB_T_INTEGER: {
		long x = (long)v->num;
		snmp_set_var_typed_value(vb, ASN_INTEGER, &x, sizeof x);
		break;
	}
	default: {   /* Gauge32 and Unsigned32 share one tag */
		u_long x = (u_long)v->num;
		snmp_set_var_typed_value(vb, ASN_GAUGE, &x, sizeof x);
		break;
	}
	}
}

/* net-snmp's oid (unsigned long) to ours; arcs beyond 32 bits (which SNMP
 * does not allow) saturate, OIDs beyond 128 arcs are cut. */
static size_t from_netsnmp(const oid *in, size_t n, uint32_t *out)
{
	if (n > MIB_OID_MAX)
		n = MIB_OID_MAX;
	for (size_t i = 0; i < n; i++)
		out[i] = in[i] > UINT32_MAX ? UINT32_MAX : (uint32_t)in[i];
	return n;
}

static int handler(netsnmp_mib_handler *h, netsnmp_handler_registration *reg, netsnmp_agent_request_info *ri,
		   netsnmp_request_info *req)
{
	struct mib_agent *a = agent;
	if (!a)
		return SNMP_ERR_GENERR;
	refresh(a, false);
	for (; req; req = req->next) {
		if (req->processed)
			continue;
		netsnmp_variable_list *vb = req->requestvb;
		uint32_t o[MIB_OID_MAX];
		size_t n = from_netsnmp(vb->name, vb->name_length, o);
		const struct mib_val *v;
		switch (ri->mode) {
		case MODE_GET:
			if ((v = mib_snap_get(&a->snap, o, n)))
				set_value(vb, v);
			else
				netsnmp_set_request_error(ri, req, mib_object_served(&a->snap, o, n) ? SNMP_NOSUCHINSTANCE
												      : SNMP_NOSUCHOBJECT);
			break;
		case MODE_GETNEXT:
			if ((v = mib_snap_next(&a->snap, o, n, req->inclusive != 0))) {
				oid name[MIB_OID_MAX];
				for (size_t i = 0; i < v->len; i++)
					name[i] = v->oid[i];
				snmp_set_var_objid(vb, name, v->len);
				set_value(vb, v);
			}
			/* else: past our subtree; the agent moves on (endOfMibView) */
			break;
		default:
			netsnmp_set_request_error(ri, req, SNMP_ERR_NOTWRITABLE);
			break;
		}
	}
	return SNMP_ERR_NOERROR;
}

/* ---- notifications ---- */

static char *range_key(const struct mib_range_fig *r)
{
	size_t n = strlen(r->network) + strlen(r->name) + 8;
	char *k = malloc(n);
	if (k)
		snprintf(k, n, "%s\x1f%u\x1f%s", r->network, (unsigned)r->family, r->name);
	return k;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool was_above(const struct mib_agent *a, const char *key)
{
	return a->n_above && bsearch(&key, a->above, a->n_above, sizeof *a->above, key_cmp);
}

static void add_var_str(netsnmp_variable_list **vars, uint32_t column, const struct mib_range_fig *r, const char *s)
{
	uint32_t o[MIB_OID_MAX];
	oid name[MIB_OID_MAX];
	size_t n = mib_range_oid(o, column, r);
	for (size_t i = 0; i < n; i++)
		name[i] = o[i];
	snmp_varlist_add_variable(vars, name, n, ASN_OCTET_STR, s, strlen(s));
}

static void send_exhausted(struct mib_agent *a, const struct mib_range_fig *r)
{
	netsnmp_variable_list *vars = NULL;
	uint32_t o[MIB_OID_MAX];
	oid name[MIB_OID_MAX];
	u_long util = r->util_pct, thr = a->threshold;

	snmp_varlist_add_variable(&vars, trap_oid_oid, OID_LENGTH(trap_oid_oid), ASN_OBJECT_ID,
				  exhausted_oid, sizeof exhausted_oid);
	add_var_str(&vars, 4, r, r->network);   /* netdRangeNetwork */
	add_var_str(&vars, 3, r, r->name);      /* netdRangeName */
	size_t n = mib_range_oid(o, 11, r);     /* netdRangeUtilization */
	for (size_t i = 0; i < n; i++)
		name[i] = o[i];
	snmp_varlist_add_variable(&vars, name, n, ASN_GAUGE, &util, sizeof util);
	add_var_str(&vars, 10, r, r->free);     /* netdRangeFree */
	snmp_varlist_add_variable(&vars, threshold_oid, OID_LENGTH(threshold_oid), ASN_UNSIGNED, &thr, sizeof thr);
	send_v2trap(vars);
	snmp_free_varbind(vars);
	log_info("snmp: netdRangeNearlyExhausted: network %s range %s at %u%% (threshold %u%%)", r->network, r->name,
		 r->util_pct, a->threshold);
}

/* One varbind of ours: @type ASN_GAUGE (@v a u_long) or ASN_COUNTER64. */
static void add_var_num(netsnmp_variable_list **vars, const uint32_t *o, size_t n, u_char type, uint64_t v)
{
	oid name[MIB_OID_MAX];
	for (size_t i = 0; i < n; i++)
		name[i] = o[i];
	if (type == ASN_COUNTER64) {
		struct counter64 c = { .high = (u_long)(v >> 32), .low = (u_long)(v & 0xffffffffu) };
		snmp_varlist_add_variable(vars, name, n, ASN_COUNTER64, &c, sizeof c);
	} else {
		u_long g = v > UINT32_MAX ? UINT32_MAX : (u_long)v;
		snmp_varlist_add_variable(vars, name, n, ASN_GAUGE, &g, sizeof g);
	}
}

static void send_drift(const struct mib_service_figs *svc)
{
	netsnmp_variable_list *vars = NULL;
	uint32_t o[MIB_OID_MAX];

	snmp_varlist_add_variable(&vars, trap_oid_oid, OID_LENGTH(trap_oid_oid), ASN_OBJECT_ID, drift_oid,
				  sizeof drift_oid);
	add_var_num(&vars, o, mib_state_oid(o, MIB_ARC_DNS_STATES, MIB_STATE_COUNT_COL, MIB_DNS_DRIFT), ASN_GAUGE,
		    svc->dns_records[MIB_DNS_DRIFT]);
	send_v2trap(vars);
	snmp_free_varbind(vars);
	log_info("snmp: netdDnsDriftDetected: %llu DNS records in drift",
		 (unsigned long long)svc->dns_records[MIB_DNS_DRIFT]);
}

static void send_role_error(const struct mib_service_figs *svc)
{
	netsnmp_variable_list *vars = NULL;
	uint32_t o[MIB_OID_MAX];

	snmp_varlist_add_variable(&vars, trap_oid_oid, OID_LENGTH(trap_oid_oid), ASN_OBJECT_ID, role_error_oid,
				  sizeof role_error_oid);
	add_var_num(&vars, o, mib_state_oid(o, MIB_ARC_ROLE_STATES, MIB_STATE_COUNT_COL, MIB_ROLE_ERROR), ASN_GAUGE,
		    svc->roles[MIB_ROLE_ERROR]);
	add_var_num(&vars, o, mib_scalar_oid(o, MIB_ARC_ROLES, MIB_SC_ROLE_ERRORS), ASN_COUNTER64, svc->role_errors);
	send_v2trap(vars);
	snmp_free_varbind(vars);
	log_info("snmp: netdNodeRoleError: %llu node-roles in error, %llu errors since start",
		 (unsigned long long)svc->roles[MIB_ROLE_ERROR], (unsigned long long)svc->role_errors);
}

/* The services' rises (see mib_rise_check): DNS drift, node-role errors
 * (the count in error now rose, or the transitions into error did, which
 * also catches one that entered while another left). */
static void check_rises(struct mib_agent *a)
{
	const struct mib_service_figs *svc = &a->snap.svc;
	if (svc->have_dns && mib_rise_check(&a->drift, svc->dns_records[MIB_DNS_DRIFT], a->connected))
		send_drift(svc);
	if (svc->have_anneal) {
		bool now_rose = mib_rise_check(&a->role_err, svc->roles[MIB_ROLE_ERROR], a->connected);
		bool total_rose = mib_rise_check(&a->role_errs, svc->role_errors, a->connected);
		if (now_rose || total_rose)
			send_role_error(svc);
	}
}

static void free_keys(char **k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(k[i]);
	free(k);
}

/* Edge detection: a range above the threshold that was not above at the
 * last check gets a notification; one that fell below is re-armed. A
 * crossing seen while no master is connected stays pending. */
static void check_thresholds(struct mib_agent *a)
{
	char **now = calloc(a->snap.n_ranges + 1, sizeof *now);
	size_t n_now = 0;
	if (!now)
		return;
	for (size_t i = 0; i < a->snap.n_ranges; i++) {
		const struct mib_range_fig *r = &a->snap.ranges[i];
		if (r->util_pct < a->threshold)
			continue;
		char *k = range_key(r);
		if (!k)
			continue;
		if (!was_above(a, k)) {
			if (!a->connected) {
				free(k);
				continue;
			}
			send_exhausted(a, r);
		}
		now[n_now++] = k;
	}
	qsort(now, n_now, sizeof *now, key_cmp);
	free_keys(a->above, a->n_above);
	a->above = now;
	a->n_above = n_now;
}

/* ---- net-snmp driven by the loop ---- */

static void sync_io(struct mib_agent *a);

static void after_io(struct mib_agent *a)
{
	run_alarms();
	netsnmp_check_outstanding_agent_requests();
	sync_io(a);
}

static void on_fd(struct loop *l, int fd, uint32_t events, void *arg)
{
	netsnmp_large_fd_set set;
	netsnmp_large_fd_set_init(&set, fd + 1);
	NETSNMP_LARGE_FD_SET(fd, &set);
	snmp_read2(&set);
	netsnmp_large_fd_set_cleanup(&set);
	after_io(arg);
}

static void on_timeout(struct loop *l, void *arg)
{
	snmp_timeout();
	after_io(arg);
}

/* Watch exactly the fds net-snmp wants and arm its timeout. Every fd is
 * re-added each time: net-snmp closes and reopens sockets behind our back
 * (reconnects), and a reused fd number would otherwise stay unwatched. */
static void sync_io(struct mib_agent *a)
{
	netsnmp_large_fd_set set;
	struct timeval tv = { 0, 0 };
	int numfds = 0, block = 0;

	for (size_t i = 0; i < a->n_fds; i++)
		loop_fd_del(a->loop, a->fds[i]);
	a->n_fds = 0;
	netsnmp_large_fd_set_init(&set, FD_SETSIZE);
	snmp_select_info2(&numfds, &set, &tv, &block);
	for (int fd = 0; fd < numfds; fd++) {
		if (!NETSNMP_LARGE_FD_ISSET(fd, &set))
			continue;
		if (a->n_fds == MAX_FDS) {
			log_warn("snmp: net-snmp wants more than %d fds; ignoring fd %d", MAX_FDS, fd);
			continue;
		}
		int rc = loop_fd_add(a->loop, fd, LOOP_IN, on_fd, a);
		if (rc < 0)
			log_warn("snmp: watching fd %d: %s", fd, netd_strerror(rc));
		else
			a->fds[a->n_fds++] = fd;
	}
	netsnmp_large_fd_set_cleanup(&set);
	loop_timer_del(a->loop, a->timeout);
	a->timeout = NULL;
	if (!block) {
		uint64_t ms = (uint64_t)tv.tv_sec * 1000 + ((uint64_t)tv.tv_usec + 999) / 1000;
		if (loop_timer_add(a->loop, ms, 0, on_timeout, a, &a->timeout) < 0)
			log_warn("snmp: cannot arm the net-snmp timer");
	}
}

static bool counts_differ(const uint64_t *x, const uint64_t *y, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return true;
	return false;
}

/* The services count partly in memory: their figures can change while the
 * store does not, so they are read at every tick. Compared field by field:
 * the snapshot's copy need not carry the padding bytes along. */
static bool services_changed(struct mib_agent *a)
{
	struct mib_service_figs n;
	const struct mib_service_figs *o = &a->snap.svc;
	if (!a->src.services)
		return false;
	mib_services_read(&a->src, &n);
	return n.have_counters != o->have_counters || n.have_dns != o->have_dns || n.have_anneal != o->have_anneal ||
	       n.allocations_total != o->allocations_total || n.releases_total != o->releases_total ||
	       n.exhausted_total != o->exhausted_total || counts_differ(n.dns_records, o->dns_records, MIB_DNS_STATES) ||
	       n.dns_outbox_depth != o->dns_outbox_depth || n.dns_outbox_oldest_age_s != o->dns_outbox_oldest_age_s ||
	       n.dns_updates_sent != o->dns_updates_sent || n.dns_updates_failed != o->dns_updates_failed ||
	       counts_differ(n.roles, o->roles, MIB_ROLE_STATES) || n.roles_running != o->roles_running ||
	       n.role_transitions != o->role_transitions || n.role_errors != o->role_errors ||
	       n.have_devices != o->have_devices || counts_differ(n.switches, o->switches, MIB_DEV_STATES) ||
	       counts_differ(n.bmcs, o->bmcs, MIB_DEV_STATES) || n.switch_syncs != o->switch_syncs ||
	       n.switch_sync_errors != o->switch_sync_errors || n.switch_set_pdus != o->switch_set_pdus ||
	       n.bmc_syncs != o->bmc_syncs || n.bmc_errors != o->bmc_errors || n.bmc_sets != o->bmc_sets;
}

static void on_tick(struct loop *l, void *arg)
{
	struct mib_agent *a = arg;
	bool changed = store_generation(a->src.store) != a->snap.generation || services_changed(a);
	if (!a->connected && !changed)
		return;
	if (changed || loop_now_ms() - a->snap_ms >= IDLE_REBUILD_MS) {
		if (refresh(a, true) < 0)
			return;
	} else if (!a->recheck) {
		return;
	}
	a->recheck = false;
	check_thresholds(a);
	check_rises(a);
}

/* AgentX session up (INDEX_START) and down (INDEX_STOP). */
static int on_session(int major, int minor, void *serverarg, void *clientarg)
{
	struct mib_agent *a = clientarg;
	bool up = minor == SNMPD_CALLBACK_INDEX_START;
	if (up != a->connected)
		log_info("snmp: AgentX session to the master %s", up ? "open" : "closed");
	a->connected = up;
	if (up)
		a->recheck = true;
	return 0;
}

/* ---- start / stop ---- */

int mib_start(struct loop *l, const struct mib_source *src, const struct mib_cfg *cfg, struct mib_agent **out,
	      struct netd_err *e)
{
	if (!l || !src || !cfg || !cfg->agentx_socket || !cfg->agentx_socket[0] || cfg->threshold_pct < 1 ||
	    cfg->threshold_pct > 100)
		return netd_err_set(e, NETD_EINVAL, NULL, "snmp: an AgentX socket and a threshold of 1..100 %% are needed");
	if (started_once)
		return netd_err_set(e, NETD_EUNSUPPORTED, NULL, "snmp: the subagent cannot be started twice");
	struct mib_agent *a = calloc(1, sizeof *a);
	int rc;
	if (!a)
		return -ENOMEM;
	a->loop = l;
	a->src = *src;
	a->threshold = cfg->threshold_pct;
	started_once = true;
	agent = a;

	snmp_disable_log();
	snmp_enable_calllog();
	snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, on_log, NULL);
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
	netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET, cfg->agentx_socket);
	netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
			   cfg->ping_interval_s ? (int)cfg->ping_interval_s : 2);
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_NO_CONNECTION_WARNINGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_START, on_session, a);
	snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_STOP, on_session, a);

	if (init_agent("netd") != 0) {
		rc = netd_err_set(e, NETD_ESTORE, NULL, "snmp: init_agent failed");
		goto fail;
	}
	a->reg = netsnmp_create_handler_registration("netdMIB", handler, base_oid, OID_LENGTH(base_oid),
						     HANDLER_CAN_RONLY);
	if (!a->reg || netsnmp_register_handler(a->reg) != MIB_REGISTERED_OK) {
		a->reg = NULL;   /* netsnmp_register_handler frees it on failure */
		rc = netd_err_set(e, NETD_ESTORE, NULL, "snmp: registering netdMIB failed");
		goto fail;
	}
	/* No MIB text is needed to serve numeric OIDs: point the parser at no
	 * directory, so it does not read (and warn about) the host's MIBs. */
	netsnmp_set_mib_directory("/nonexistent/netd-no-mibs");
	in_init = true;
	init_snmp("netd");   /* opens the AgentX session (or arms the retry) */
	in_init = false;
	/* init_snmp() may reset it from the (unread) configuration */
	netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
			   cfg->ping_interval_s ? (int)cfg->ping_interval_s : 2);
	if (!a->connected)
		log_warn("snmp: AgentX master at %s not reachable yet; retrying every %u s", cfg->agentx_socket,
			 cfg->ping_interval_s ? cfg->ping_interval_s : 2);
	if (loop_timer_add(l, 1000, 1000, on_tick, a, &a->tick) < 0) {
		rc = netd_err_set(e, -ENOMEM, NULL, "snmp: timer");
		goto fail;
	}
	a->recheck = true;
	sync_io(a);
	*out = a;
	return 0;
fail:
	mib_stop(a);
	return rc;
}

void mib_set_threshold(struct mib_agent *a, unsigned threshold_pct)
{
	if (!a || threshold_pct < 1 || threshold_pct > 100 || threshold_pct == a->threshold)
		return;
	a->threshold = threshold_pct;
	a->snap_ms = 0;
	a->recheck = true;
}

void mib_stop(struct mib_agent *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_fds; i++)
		loop_fd_del(a->loop, a->fds[i]);
	a->n_fds = 0;
	loop_timer_del(a->loop, a->timeout);
	loop_timer_del(a->loop, a->tick);
	snmp_unregister_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_START, on_session, a, 1);
	snmp_unregister_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_STOP, on_session, a, 1);
	snmp_shutdown("netd");
	shutdown_agent();
	agent = NULL;
	mib_snap_free(&a->snap);
	free_keys(a->above, a->n_above);
	free(a);
}
