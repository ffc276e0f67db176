/* devices/bmc.c — a BMC's LAN channel over IPMI 2.0 / RMCP+ through
 * FreeIPMI's libfreeipmi: the session, the LAN channel, reading the
 * parameters, applying a plan inside set in progress / commit / set
 * complete, and the read-back.  The plan itself is pure data
 * (devices/bmc_lan.c); see devices/bmc.h for the decisions and caveats.
 *
 * FreeIPMI is translated exactly once, here: a failed command is reported
 * with its completion code (read from the response object) when the BMC
 * sent one, else with the context's errnum (timeouts, authentication).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <freeipmi/freeipmi.h>

#include "devices/bmc.h"

#define NAME_MAX_LEN (DEV_BMC_HOST_MAX + 8)

struct dev_bmc {
	ipmi_ctx_t ctx;                  /* NULL once the session is gone */
	struct dev_bmc_target t;
	struct dev_bmc_cred c;
	char name[NAME_MAX_LEN];         /* "host:port" / "[v6]:port" */
	unsigned sets;
};

/* ---- small helpers ---- */

static bool nul_within(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static bool cipher_ok(uint8_t cs)
{
	return cs == 3 || cs == 8 || cs == 12 || cs == 17;
}

/* "host:port" ("[v6]:port") of @t into @buf. */
static void name_of(const struct dev_bmc_target *t, char *buf, size_t len)
{
	unsigned port = t->port ? t->port : DEV_BMC_PORT_DEFAULT;
	bool v6 = strchr(t->host, ':') != NULL;
	snprintf(buf, len, "%s%.*s%s:%u", v6 ? "[" : "", DEV_BMC_HOST_MAX - 1, t->host, v6 ? "]" : "", port);
}

static int target_check(const struct dev_bmc_target *t, const struct dev_bmc_cred *c, struct netd_err *e)
{
	char name[NAME_MAX_LEN];
	if (!nul_within(t->host, sizeof t->host) || !t->host[0])
		return netd_err_set(e, NETD_EINVAL, NULL, "BMC target: host is empty or not terminated");
	name_of(t, name, sizeof name);
	if (t->cipher_suite && !cipher_ok(t->cipher_suite))
		return netd_err_set(e, NETD_EINVAL, NULL,
				    "BMC %s: cipher_suite %u is not one of 3, 8, 12, 17 (authenticated, "
				    "integrity-protected and encrypted)", name, t->cipher_suite);
	if (t->channel > DEV_BMC_CHANNEL_MAX)
		return netd_err_set(e, NETD_EINVAL, NULL, "BMC %s: channel %u is not 0 (find) or 1..%d", name,
				    t->channel, DEV_BMC_CHANNEL_MAX);
	if (t->timeout_ms > 600000)
		return netd_err_set(e, NETD_EINVAL, NULL, "BMC %s: timeout_ms %u is above 600000", name,
				    t->timeout_ms);
	if (!nul_within(c->user, sizeof c->user))
		return netd_err_set(e, NETD_EINVAL, NULL, "BMC %s: user is longer than %d octets", name,
				    DEV_BMC_USER_MAX - 1);
	if (!nul_within(c->password, sizeof c->password))
		return netd_err_set(e, NETD_EINVAL, NULL, "BMC %s: password is longer than %d octets", name,
				    DEV_BMC_PASS_MAX - 1);
	if (c->k_g_len > DEV_BMC_KG_MAX)
		return netd_err_set(e, NETD_EINVAL, NULL, "BMC %s: k_g_len %zu is above %d", name, c->k_g_len,
				    DEV_BMC_KG_MAX);
	return 0;
}

static void set_name(struct dev_bmc *b)
{
	name_of(&b->t, b->name, sizeof b->name);
}

static void session_end(struct dev_bmc *b)
{
	if (!b->ctx)
		return;
	ipmi_ctx_close(b->ctx);
	ipmi_ctx_destroy(b->ctx);
	b->ctx = NULL;
}

static unsigned timeout_of(const struct dev_bmc *b)
{
	return b->t.timeout_ms ? b->t.timeout_ms : DEV_BMC_TIMEOUT_DEFAULT_MS;
}

static unsigned retrans_of(const struct dev_bmc *b)
{
	unsigned r = timeout_of(b) / 4;
	return r > 1000 ? 1000 : r ? r : 1;
}

static uint8_t suite_of(const struct dev_bmc *b)
{
	return b->t.cipher_suite ? b->t.cipher_suite : DEV_BMC_CIPHER_DEFAULT;
}

/* A context for the session-less commands (Get Channel Cipher Suites), or
 * NULL.  Session-less messages use the IPMI 1.5 format with authentication
 * type none (FreeIPMI refuses NOSESSION on its 2.0 open); no credential is
 * sent. */
static ipmi_ctx_t sessionless(struct dev_bmc *b)
{
	ipmi_ctx_t ctx = ipmi_ctx_create();
	if (!ctx)
		return NULL;
	if (ipmi_ctx_open_outofband(ctx, b->name, NULL, NULL, IPMI_AUTHENTICATION_TYPE_NONE,
				    IPMI_PRIVILEGE_LEVEL_ADMIN, timeout_of(b), retrans_of(b),
				    IPMI_WORKAROUND_FLAGS_DEFAULT, IPMI_FLAGS_NOSESSION) < 0) {
		ipmi_ctx_destroy(ctx);
		return NULL;
	}
	return ctx;
}

/* The cipher suite records of the current channel, concatenated (Get
 * Channel Cipher Suites, list index 0.. until a short answer).  Returns
 * their length, or -1 if the BMC could not be asked. */
static int suite_records(ipmi_ctx_t ctx, uint8_t *buf, size_t cap)
{
	fiid_obj_t rq = fiid_obj_create(tmpl_cmd_get_channel_cipher_suites_rq);
	fiid_obj_t rs = fiid_obj_create(tmpl_cmd_get_channel_cipher_suites_rs);
	int len = -1;
	if (!rq || !rs)
		goto out;
	len = 0;
	for (uint8_t idx = 0; idx < 64 && (size_t)len + 16 <= cap; idx++) {
		if (fill_cmd_get_channel_cipher_suites(IPMI_CHANNEL_NUMBER_CURRENT_CHANNEL, IPMI_PAYLOAD_TYPE_IPMI, idx,
						       IPMI_LIST_ALGORITHMS_BY_CIPHER_SUITE, rq) < 0 ||
		    ipmi_cmd(ctx, IPMI_BMC_IPMB_LUN_BMC, IPMI_NET_FN_APP_RQ, rq, rs) < 0) {
			len = idx ? len : -1;
			break;
		}
		int n = fiid_obj_get_data(rs, "cipher_suite_record_data", buf + len, 16);
		if (n <= 0)
			break;
		len += n;
		if (n < 16)
			break;
	}
out:
	fiid_obj_destroy(rq);
	fiid_obj_destroy(rs);
	return len;
}

/* After a failed session open that may be the cipher suite's fault: ask the
 * BMC which suites it offers.  NETD_EUNSUPPORTED naming them when ours is
 * not one of them, else 0 (the caller reports its own error). */
static int suite_offered(struct dev_bmc *b, struct netd_err *e)
{
	uint8_t rec[1024], ids[64];
	char list[256] = "";
	size_t o = 0;
	ipmi_ctx_t ctx = sessionless(b);
	if (!ctx)
		return 0;
	int len = suite_records(ctx, rec, sizeof rec);
	ipmi_ctx_close(ctx);
	ipmi_ctx_destroy(ctx);
	if (len <= 0)
		return 0;
	size_t n = dev_bmc_cipher_ids(rec, (size_t)len, ids, sizeof ids);
	for (size_t i = 0; i < n; i++) {
		if (ids[i] == suite_of(b))
			return 0;
		if (o < sizeof list)
			o += (size_t)snprintf(list + o, sizeof list - o, "%s%u", i ? ", " : "", ids[i]);
	}
	return netd_err_set(e, NETD_EUNSUPPORTED, NULL,
			    "BMC %s: cipher suite %u is not offered by the BMC (it offers %s)", b->name, suite_of(b),
			    n ? list : "none");
}

/* Open the RMCP+ session to b->t.host (b->name).
 *
 * The Open Session Request names ADMIN as the maximum privilege rather than
 * 0 ("the highest the cipher suite allows", FreeIPMI's default): some BMCs
 * answer 0 to that instead of the level they grant (ipmi_sim does), which
 * FreeIPMI then reports as "privilege level cannot be obtained".  ipmitool
 * names the level too.  Since RAKP 1 asks for ADMIN as well, FreeIPMI's
 * OPEN_SESSION_PRIVILEGE workaround changes nothing else. */
static int session_open(struct dev_bmc *b, struct netd_err *e)
{
	uint8_t cs = suite_of(b);
	ipmi_ctx_t ctx = ipmi_ctx_create();
	if (!ctx)
		return netd_err_set(e, -ENOMEM, NULL, "BMC %s: cannot create an IPMI context", b->name);
	if (ipmi_ctx_open_outofband_2_0(ctx, b->name, b->c.user, b->c.password,
					b->c.k_g_len ? b->c.k_g : NULL, (unsigned)b->c.k_g_len,
					IPMI_PRIVILEGE_LEVEL_ADMIN, cs, timeout_of(b), retrans_of(b),
					IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_OPEN_SESSION_PRIVILEGE,
					IPMI_FLAGS_DEFAULT) < 0) {
		int errnum = ipmi_ctx_errnum(ctx);
		ipmi_ctx_destroy(ctx);
		if (errnum == IPMI_ERR_CIPHER_SUITE_ID_UNAVAILABLE || errnum == IPMI_ERR_BAD_RMCPPLUS_STATUS_CODE ||
		    errnum == IPMI_ERR_IPMI_ERROR || errnum == IPMI_ERR_AUTHENTICATION_TYPE_UNAVAILABLE) {
			int rc = suite_offered(b, e);
			if (rc)
				return rc;
		}
		return netd_err_set(e, dev_bmc_ipmi_errnum_code(errnum), NULL,
				    "BMC %s: cannot open an RMCP+ session (cipher suite %u, ADMIN privilege): %s",
				    b->name, cs, ipmi_ctx_strerror(errnum));
	}
	b->ctx = ctx;
	return 0;
}

/* ---- session ---- */

int dev_bmc_open(const struct dev_bmc_target *t, const struct dev_bmc_cred *c, struct dev_bmc **ret,
		 struct netd_err *e)
{
	int rc = target_check(t, c, e);
	if (rc)
		return rc;
	struct dev_bmc *b = calloc(1, sizeof *b);
	if (!b)
		return netd_err_set(e, -ENOMEM, NULL, "BMC %s: out of memory", t->host);
	b->t = *t;
	b->c = *c;
	set_name(b);
	rc = session_open(b, e);
	if (rc) {
		dev_bmc_close(b);
		return rc;
	}
	*ret = b;
	return 0;
}

void dev_bmc_close(struct dev_bmc *b)
{
	if (!b)
		return;
	session_end(b);
	explicit_bzero(&b->c, sizeof b->c);
	free(b);
}

const char *dev_bmc_name(const struct dev_bmc *b)
{
	return b->name;
}

unsigned dev_bmc_sets_sent(const struct dev_bmc *b)
{
	return b->sets;
}

/* ---- one command ---- */

/* A fresh response object, or NULL with @e set. */
static fiid_obj_t rs_new(struct dev_bmc *b, fiid_field_t *tmpl, struct netd_err *e)
{
	fiid_obj_t rs = fiid_obj_create(tmpl);
	if (!rs)
		netd_err_set(e, -ENOMEM, NULL, "BMC %s: out of memory", b->name);
	return rs;
}

/* Report a failed command: the BMC's completion code when it sent one, else
 * the library's error.  @what names the command and parameter. */
static int cmd_fail(struct dev_bmc *b, fiid_obj_t rs, uint8_t cmd, uint8_t netfn, const char *what,
		    struct netd_err *e)
{
	uint64_t cc = 0;
	if (rs && fiid_obj_get(rs, "comp_code", &cc) == 1 && cc != 0) {
		char text[256];
		if (ipmi_completion_code_strerror_r(cmd, netfn, (uint8_t)cc, text, sizeof text) < 0)
			snprintf(text, sizeof text, "unknown completion code");
		return netd_err_set(e, dev_bmc_cc_code((uint8_t)cc), NULL, "BMC %s %s: completion code 0x%02X (%s)",
				    b->name, what, (unsigned)cc, text);
	}
	int errnum = ipmi_ctx_errnum(b->ctx);
	return netd_err_set(e, dev_bmc_ipmi_errnum_code(errnum), NULL, "BMC %s %s: %s", b->name, what,
			    ipmi_ctx_strerror(errnum));
}

static int no_session(struct dev_bmc *b, struct netd_err *e)
{
	return netd_err_set(e, -ENOTCONN, NULL, "BMC %s: the session is closed", b->name);
}

/* A field the BMC must have returned. */
static int field(struct dev_bmc *b, fiid_obj_t rs, const char *key, const char *what, uint64_t *v,
		 struct netd_err *e)
{
	if (fiid_obj_get(rs, key, v) == 1)
		return 0;
	return netd_err_set(e, NETD_ECORRUPT, NULL, "BMC %s %s: the answer lacks %s", b->name, what, key);
}

/* ---- channel ---- */

static int channel_info(struct dev_bmc *b, uint8_t ch, uint8_t *actual, uint8_t *medium, struct netd_err *e)
{
	char what[64];
	uint64_t a = 0, m = 0;
	int rc = 0;
	if (!b->ctx)
		return no_session(b, e);
	snprintf(what, sizeof what, "get channel info (channel %u)", ch);
	fiid_obj_t rs = rs_new(b, tmpl_cmd_get_channel_info_rs, e);
	if (!rs)
		return -ENOMEM;
	if (ipmi_cmd_get_channel_info(b->ctx, ch, rs) < 0) {
		rc = cmd_fail(b, rs, IPMI_CMD_GET_CHANNEL_INFO_COMMAND, IPMI_NET_FN_APP_RQ, what, e);
		goto out;
	}
	rc = field(b, rs, "actual_channel_number", what, &a, e);
	if (!rc)
		rc = field(b, rs, "channel_medium_type", what, &m, e);
	if (!rc) {
		*actual = (uint8_t)a;
		*medium = (uint8_t)m;
	}
out:
	fiid_obj_destroy(rs);
	return rc;
}

/* Errors that only mean "not this channel" while scanning. */
static bool not_this_channel(int rc)
{
	return rc == NETD_ENOTFOUND || rc == NETD_EINVAL || rc == NETD_EUNSUPPORTED;
}

static int find_channel(struct dev_bmc *b, uint8_t *ret, struct netd_err *e)
{
	uint8_t actual, medium;
	struct netd_err scratch = { 0 };
	int rc = channel_info(b, IPMI_CHANNEL_NUMBER_CURRENT_CHANNEL, &actual, &medium, &scratch);
	if (!rc && medium == IPMI_CHANNEL_MEDIUM_TYPE_LAN_802_3 && actual >= 1 && actual <= DEV_BMC_CHANNEL_MAX) {
		*ret = actual;
		return 0;
	}
	if (rc && !not_this_channel(rc))
		return netd_err_set(e, rc, NULL, "%s", scratch.msg);
	for (uint8_t ch = 1; ch <= DEV_BMC_CHANNEL_MAX; ch++) {
		netd_err_clear(&scratch);
		rc = channel_info(b, ch, &actual, &medium, &scratch);
		if (rc && !not_this_channel(rc))
			return netd_err_set(e, rc, NULL, "%s", scratch.msg);
		if (!rc && medium == IPMI_CHANNEL_MEDIUM_TYPE_LAN_802_3) {
			*ret = ch;
			return 0;
		}
	}
	return netd_err_set(e, NETD_ENOTFOUND, NULL, "BMC %s: no 802.3 LAN channel among channels 1..%d",
			    b->name, DEV_BMC_CHANNEL_MAX);
}

int dev_bmc_lan_channel(struct dev_bmc *b, uint8_t *ret_channel, struct netd_err *e)
{
	uint8_t actual, medium;
	if (!b->t.channel)
		return find_channel(b, ret_channel, e);
	int rc = channel_info(b, b->t.channel, &actual, &medium, e);
	if (rc)
		return rc;
	if (medium != IPMI_CHANNEL_MEDIUM_TYPE_LAN_802_3)
		return netd_err_set(e, NETD_EINVAL, NULL,
				    "BMC %s: channel %u is not an 802.3 LAN channel (medium type 0x%02X)", b->name,
				    b->t.channel, medium);
	*ret_channel = b->t.channel;
	return 0;
}

/* ---- reading ---- */

typedef int (*get_fn)(ipmi_ctx_t, uint8_t, uint8_t, uint8_t, uint8_t, fiid_obj_t);

static const struct getter {
	enum dev_bmc_param p;
	fiid_field_t *tmpl;
	get_fn fn;
} getters[] = {   /* in the order they are read */
	{ DEV_BMC_P_IP_SOURCE, tmpl_cmd_get_lan_configuration_parameters_ip_address_source_rs,
	  ipmi_cmd_get_lan_configuration_parameters_ip_address_source },
	{ DEV_BMC_P_IP, tmpl_cmd_get_lan_configuration_parameters_ip_address_rs,
	  ipmi_cmd_get_lan_configuration_parameters_ip_address },
	{ DEV_BMC_P_NETMASK, tmpl_cmd_get_lan_configuration_parameters_subnet_mask_rs,
	  ipmi_cmd_get_lan_configuration_parameters_subnet_mask },
	{ DEV_BMC_P_GATEWAY, tmpl_cmd_get_lan_configuration_parameters_default_gateway_address_rs,
	  ipmi_cmd_get_lan_configuration_parameters_default_gateway_address },
	{ DEV_BMC_P_VLAN, tmpl_cmd_get_lan_configuration_parameters_vlan_id_rs,
	  ipmi_cmd_get_lan_configuration_parameters_vlan_id },
	{ DEV_BMC_P_MAC, tmpl_cmd_get_lan_configuration_parameters_mac_address_rs,
	  ipmi_cmd_get_lan_configuration_parameters_mac_address },
};

/* Store the fields of parameter @p's answer in @out. */
static int take(struct dev_bmc *b, enum dev_bmc_param p, fiid_obj_t rs, const char *what, struct dev_bmc_lan *out,
		struct netd_err *e)
{
	uint64_t v = 0, en = 0;
	int rc;
	switch (p) {
	case DEV_BMC_P_IP_SOURCE:
		rc = field(b, rs, "ip_address_source", what, &v, e);
		out->ip_source = (uint8_t)v;
		break;
	case DEV_BMC_P_IP:
	case DEV_BMC_P_GATEWAY:
		rc = field(b, rs, "ip_address", what, &v, e);
		dev_bmc_ipv4_from_field(v, p == DEV_BMC_P_IP ? out->ip : out->gateway);
		break;
	case DEV_BMC_P_NETMASK:
		rc = field(b, rs, "subnet_mask", what, &v, e);
		dev_bmc_ipv4_from_field(v, out->netmask);
		break;
	case DEV_BMC_P_VLAN:
		rc = field(b, rs, "vlan_id", what, &v, e);
		if (!rc)
			rc = field(b, rs, "vlan_id_enable", what, &en, e);
		out->vlan_id = (uint16_t)v;
		out->vlan_enabled = en != 0;
		break;
	case DEV_BMC_P_MAC:
		rc = field(b, rs, "mac_address", what, &v, e);
		dev_bmc_mac_from_field(v, out->mac);
		break;
	default:
		return netd_err_set(e, -EINVAL, NULL, "BMC %s: parameter %d is not read here", b->name, (int)p);
	}
	if (!rc)
		out->have |= DEV_BMC_HAVE(p);
	return rc;
}

static int read_one(struct dev_bmc *b, uint8_t ch, const struct getter *g, struct dev_bmc_lan *out,
		    struct netd_err *e)
{
	char what[96];
	struct netd_err scratch = { 0 };
	int rc;
	snprintf(what, sizeof what, "channel %u: get %s (LAN parameter %d)", ch, dev_bmc_param_name(g->p), (int)g->p);
	fiid_obj_t rs = rs_new(b, g->tmpl, e);
	if (!rs)
		return -ENOMEM;
	if (g->fn(b->ctx, ch, IPMI_GET_LAN_PARAMETER, IPMI_LAN_CONFIGURATION_PARAMETERS_NO_SET_SELECTOR,
		  IPMI_LAN_CONFIGURATION_PARAMETERS_NO_BLOCK_SELECTOR, rs) < 0) {
		rc = cmd_fail(b, rs, IPMI_CMD_GET_LAN_CONFIGURATION_PARAMETERS, IPMI_NET_FN_TRANSPORT_RQ, what,
			      &scratch);
		uint64_t cc = 0;
		/* 0x80 "parameter not supported": absent, not an error */
		if (fiid_obj_get(rs, "comp_code", &cc) == 1 && cc == 0x80)
			rc = 0;
		else
			netd_err_set(e, rc, NULL, "%s", scratch.msg);
		goto out;
	}
	rc = take(b, g->p, rs, what, out, e);
out:
	fiid_obj_destroy(rs);
	return rc;
}

int dev_bmc_read_lan(struct dev_bmc *b, uint8_t channel, struct dev_bmc_lan *out, struct netd_err *e)
{
	struct dev_bmc_lan lan;
	if (!b->ctx)
		return no_session(b, e);
	memset(&lan, 0, sizeof lan);
	lan.channel = channel;
	for (size_t i = 0; i < sizeof getters / sizeof getters[0]; i++) {
		int rc = read_one(b, channel, &getters[i], &lan, e);
		if (rc)
			return rc;
	}
	*out = lan;
	return 0;
}

/* ---- writing ---- */

static int send_op(struct dev_bmc *b, uint8_t ch, const struct dev_bmc_op *op, fiid_obj_t rs)
{
	switch (op->param) {
	case DEV_BMC_P_IP_SOURCE:
		return ipmi_cmd_set_lan_configuration_parameters_ip_address_source(b->ctx, ch, op->source, rs);
	case DEV_BMC_P_IP:
		return ipmi_cmd_set_lan_configuration_parameters_ip_address(b->ctx, ch, dev_bmc_ipv4_to_field(op->ip),
									    rs);
	case DEV_BMC_P_NETMASK:
		return ipmi_cmd_set_lan_configuration_parameters_subnet_mask(b->ctx, ch,
									     dev_bmc_ipv4_to_field(op->ip), rs);
	case DEV_BMC_P_GATEWAY:
		return ipmi_cmd_set_lan_configuration_parameters_default_gateway_address(
			b->ctx, ch, dev_bmc_ipv4_to_field(op->ip), rs);
	case DEV_BMC_P_VLAN:
		return ipmi_cmd_set_lan_configuration_parameters_vlan_id(b->ctx, ch, op->vlan_id,
									 op->vlan_enabled ? 1 : 0, rs);
	case DEV_BMC_P_SET_IN_PROGRESS:
		return ipmi_cmd_set_lan_configuration_parameters_set_in_progress(b->ctx, ch, op->source, rs);
	case DEV_BMC_P_MAC:
		break;
	}
	return -2;   /* not a parameter written here */
}

/* One Set LAN Configuration Parameters. */
static int set_param(struct dev_bmc *b, uint8_t ch, const struct dev_bmc_op *op, struct netd_err *e)
{
	char what[160], desc[96];
	int rc = 0;
	if (!b->ctx)
		return no_session(b, e);
	dev_bmc_op_value(op, desc, sizeof desc);
	snprintf(what, sizeof what, "channel %u: set %s (LAN parameter %d) to %s", ch, dev_bmc_param_name(op->param),
		 (int)op->param, desc);
	fiid_obj_t rs = rs_new(b, tmpl_cmd_set_lan_configuration_parameters_rs, e);
	if (!rs)
		return -ENOMEM;
	b->sets++;
	int r = send_op(b, ch, op, rs);
	if (r == -2)
		rc = netd_err_set(e, -EINVAL, NULL, "BMC %s %s: not a writable parameter here", b->name, what);
	else if (r < 0)
		rc = cmd_fail(b, rs, IPMI_CMD_SET_LAN_CONFIGURATION_PARAMETERS, IPMI_NET_FN_TRANSPORT_RQ, what, e);
	fiid_obj_destroy(rs);
	return rc;
}

static int set_progress(struct dev_bmc *b, uint8_t ch, uint8_t state, struct netd_err *e)
{
	struct dev_bmc_op op = { .param = DEV_BMC_P_SET_IN_PROGRESS, .source = state };
	return set_param(b, ch, &op, e);
}

/* Send set complete without commit (a BMC with a rollback copy discards
 * the partial change), unless the session is gone. */
static void roll_back(struct dev_bmc *b, uint8_t ch, int why)
{
	struct netd_err ignore = { 0 };
	if (b->ctx && why != -ETIMEDOUT)
		set_progress(b, ch, IPMI_LAN_CONFIGURATION_PARAMETERS_SET_COMPLETE, &ignore);
}

/* Commit and set complete.  With @moving, a timeout means the BMC took the
 * new address: the session is then dropped and that is not an error. */
static int finish(struct dev_bmc *b, uint8_t ch, bool moving, struct netd_err *e)
{
	struct netd_err scratch = { 0 };
	int rc = set_progress(b, ch, IPMI_LAN_CONFIGURATION_PARAMETERS_SET_COMMIT_WRITE, &scratch);
	/* commit write is optional in the spec: "not supported" / "invalid" are fine */
	if (rc == NETD_EUNSUPPORTED || rc == NETD_EINVAL)
		rc = 0;
	if (rc && !(rc == -ETIMEDOUT && moving))
		roll_back(b, ch, rc);
	if (!rc) {
		netd_err_clear(&scratch);
		rc = set_progress(b, ch, IPMI_LAN_CONFIGURATION_PARAMETERS_SET_COMPLETE, &scratch);
	}
	if (rc == -ETIMEDOUT && moving) {
		session_end(b);
		return 0;
	}
	if (rc)
		netd_err_set(e, rc, NULL, "%s", scratch.msg);
	return rc;
}

static int run_plan(struct dev_bmc *b, uint8_t ch, const struct dev_bmc_plan *pl, bool moving, struct netd_err *e)
{
	struct netd_err scratch = { 0 };
	int rc = set_progress(b, ch, IPMI_LAN_CONFIGURATION_PARAMETERS_SET_IN_PROGRESS, &scratch);
	bool framed = rc == 0;
	if (rc && rc != NETD_EUNSUPPORTED)   /* no parameter 0: each set applies at once */
		return netd_err_set(e, rc, NULL, "%s", scratch.msg);
	for (size_t i = 0; i < pl->n; i++) {
		rc = set_param(b, ch, &pl->ops[i], e);
		if (rc) {
			if (framed)
				roll_back(b, ch, rc);
			return rc;
		}
	}
	return framed ? finish(b, ch, moving, e) : 0;
}

/* ---- verification ---- */

/* The actual value of @p in @a as an op (for messages). */
static struct dev_bmc_op actual_op(const struct dev_bmc_lan *a, enum dev_bmc_param p)
{
	struct dev_bmc_op op = { .param = p, .source = a->ip_source, .vlan_id = a->vlan_id,
				 .vlan_enabled = a->vlan_enabled };
	memcpy(op.ip, p == DEV_BMC_P_IP ? a->ip : p == DEV_BMC_P_NETMASK ? a->netmask : a->gateway, 4);
	return op;
}

static int verify(struct dev_bmc *b, uint8_t ch, const struct dev_bmc_want *w, struct dev_bmc_lan *after,
		  struct netd_err *e)
{
	struct dev_bmc_plan left;
	char want[96], got[96];
	int rc = dev_bmc_read_lan(b, ch, after, e);
	if (!rc)
		rc = dev_bmc_diff(w, after, NULL, &left, e);
	if (rc || left.n == 0)
		return rc;
	struct dev_bmc_op have = actual_op(after, left.ops[0].param);
	dev_bmc_op_print(&left.ops[0], want, sizeof want);
	dev_bmc_op_print(&have, got, sizeof got);
	return netd_err_set(e, NETD_EUNSUPPORTED, NULL,
			    "BMC %s channel %u: after the apply, %s (LAN parameter %d) reads back as \"%s\", not "
			    "\"%s\": the BMC does not keep it", b->name, ch, dev_bmc_param_name(left.ops[0].param),
			    (int)left.ops[0].param, got, want);
}

/* Whether the session runs through the address the plan changes. */
static bool path_moves(const struct dev_bmc *b, const struct dev_bmc_lan *before, const struct dev_bmc_want *w)
{
	uint8_t host[4];
	return dev_bmc_ipv4_parse(b->t.host, host) == 0 && memcmp(host, before->ip, 4) == 0 &&
	       memcmp(before->ip, w->ip, 4) != 0;
}

/* Drop the session and open one to the new address @ip. */
static int follow(struct dev_bmc *b, const uint8_t ip[4], struct netd_err *e)
{
	char old[NAME_MAX_LEN];
	struct netd_err scratch = { 0 };
	snprintf(old, sizeof old, "%s", b->name);
	session_end(b);
	dev_bmc_ipv4_str(ip, b->t.host, sizeof b->t.host);
	set_name(b);
	int rc = session_open(b, &scratch);
	if (rc)
		return netd_err_set(e, rc, NULL, "BMC %s moved to %s; to verify: %s", old, b->name, scratch.msg);
	return 0;
}

int dev_bmc_apply(struct dev_bmc *b, const struct dev_bmc_want *w, struct dev_bmc_result *out,
		  struct netd_err *e)
{
	struct dev_bmc_result res;
	char who[NAME_MAX_LEN + 8];
	uint8_t ch = 0;
	memset(&res, 0, sizeof res);
	snprintf(who, sizeof who, "BMC %s", b->name);
	int rc = dev_bmc_want_check(w, who, e);
	if (!rc)
		rc = dev_bmc_lan_channel(b, &ch, e);
	if (!rc)
		rc = dev_bmc_read_lan(b, ch, &res.before, e);
	if (!rc)
		rc = dev_bmc_diff(w, &res.before, who, &res.plan, e);
	if (rc)
		return rc;
	unsigned sets0 = b->sets;
	bool moving = res.plan.n && path_moves(b, &res.before, w);
	if (res.plan.n) {
		rc = run_plan(b, ch, &res.plan, moving, e);
		if (!rc && moving)
			rc = follow(b, w->ip, e);
		if (!rc)
			rc = verify(b, ch, w, &res.after, e);
	} else {
		res.after = res.before;
	}
	if (rc)
		return rc;
	res.channel = ch;
	res.sets = b->sets - sets0;
	res.moved = moving;
	snprintf(res.verified_at, sizeof res.verified_at, "%s", b->name);
	*out = res;
	return 0;
}
