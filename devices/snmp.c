/* devices/snmp.c — the SNMP switch driver: net-snmp sessions (single-session
 * API), GETBULK walks, SET PDUs, error translation, and the apply sequence
 * (read, check, send group by group, undo a refused PDU, verify).  The pure
 * half lives in devices/snmp_data.c; the contract is in devices/snmp.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/snmpusm.h>

#include "core/log.h"
#include "devices/snmp.h"

/* Every net-snmp call of this module runs under this lock (see Caveats). */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

#define MAX_WALK_VARBINDS 4000000UL
#define KEY_MAX 64

struct dev_snmp {
	char name[DEV_NAME_MAX];
	char peer[128];
	enum dev_snmp_version version;
	char user[64];
	void *h;                         /* snmp_sess_open() handle */
	bool have_keys;                  /* localized keys captured after discovery */
	uint8_t auth_key[KEY_MAX], priv_key[KEY_MAX];
	size_t auth_key_len, priv_key_len;
	unsigned timeout_ms, retries, maxrep, maxvb;
	struct dev_snmp_stats stats;
};

/* ---- library ---- */

/* net-snmp's own log lines: a library logs only at debug (errors come back
 * as codes with messages). */
static int on_log(int major, int minor, void *serverarg, void *clientarg)
{
	const struct snmp_log_message *m = serverarg;
	if (!m || !m->msg)
		return 0;
	size_t n = strlen(m->msg);
	while (n && (m->msg[n - 1] == '\n' || m->msg[n - 1] == '\r'))
		n--;
	if (n)
		log_debug("devices: net-snmp: %.*s", (int)n, m->msg);
	return 0;
}

static void lib_init_once(void)
{
	if (find_sec_mod(USM_SEC_MODEL_NUMBER))
		return;   /* initialized by someone else in this process (mibs/) */
	snmp_disable_log();
	snmp_enable_calllog();
	snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, on_log, NULL);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);
	/* numeric OIDs only: no MIB text to read (or warn about) */
	netsnmp_set_mib_directory("/nonexistent/netd-no-mibs");
	init_snmp("netd");
}

void dev_snmp_lib_init(void)
{
	pthread_once(&g_once, lib_init_once);
}

/* ---- USM users (under g_lock) ---- */

static void usm_drop_named(const char *name)
{
	struct usmUser *u = usm_get_userList(), *next;
	for (; u; u = next) {
		next = u->next;
		if (u->name && !strcmp(u->name, name)) {
			usm_remove_user(u);
			usm_free_user(u);
		}
	}
}

static bool usm_keys_ours(const struct dev_snmp *s, const struct usmUser *u)
{
	return u->authKey && u->privKey && u->authKeyLen == s->auth_key_len && u->privKeyLen == s->priv_key_len &&
	       !memcmp(u->authKey, s->auth_key, s->auth_key_len) && !memcmp(u->privKey, s->priv_key, s->priv_key_len);
}

static void usm_capture(struct dev_snmp *s, const struct usmUser *u)
{
	if (!u->authKey || !u->privKey || u->authKeyLen > KEY_MAX || u->privKeyLen > KEY_MAX)
		return;
	memcpy(s->auth_key, u->authKey, u->authKeyLen);
	memcpy(s->priv_key, u->privKey, u->privKeyLen);
	s->auth_key_len = u->authKeyLen;
	s->priv_key_len = u->privKeyLen;
	s->have_keys = true;
}

/* Make the process-wide USM entry for this session's (engine, user) carry
 * this session's keys, before a request (@after false) and after a
 * successful one (@after true).  Before discovery the engine is unknown:
 * every entry of the user name is dropped, so that discovery (inside the
 * first request, under the same lock) creates ours from the session; after
 * that first success its localized keys are captured.  Later, an entry
 * with other keys (another session's) is replaced by one made from this
 * session. */
static void usm_install(struct dev_snmp *s, bool after)
{
	netsnmp_session *ss = snmp_sess_session(s->h);
	struct usmUser *u;

	if (s->version != DEV_SNMP_V3 || !ss)
		return;
	if (ss->securityEngineIDLen == 0) {
		usm_drop_named(s->user);
		return;
	}
	u = usm_get_user(ss->securityEngineID, ss->securityEngineIDLen, s->user);
	if (u && (s->have_keys ? usm_keys_ours(s, u) : after)) {
		if (!s->have_keys)
			usm_capture(s, u);
		return;
	}
	if (u) {
		usm_remove_user(u);
		usm_free_user(u);
	}
	ss->flags &= ~(u_int)SNMP_FLAGS_USER_CREATED;
	usm_create_user_from_session(ss);
	u = usm_get_user(ss->securityEngineID, ss->securityEngineIDLen, s->user);
	if (u && !s->have_keys)
		usm_capture(s, u);
}

/* ---- errors (net-snmp's codes are translated here, once) ---- */

static const char *version_name(const struct dev_snmp *s)
{
	return s->version == DEV_SNMP_V3 ? "SNMPv3" : "SNMPv2c";
}

static int lib_error(struct dev_snmp *s, int status, int snmperr, const char *detail, const char *what,
		     struct netd_err *e)
{
	if (status == STAT_TIMEOUT || snmperr == SNMPERR_TIMEOUT)
		return netd_err_set(e, -ETIMEDOUT, NULL,
				    "switch %s (%s, %s): no answer to %s within %u ms x %u tries%s", s->name, s->peer,
				    version_name(s), what, s->timeout_ms, s->retries + 1,
				    s->version == DEV_SNMP_V2C ? " (unreachable, or a wrong community)" : "");
	switch (snmperr) {
	case SNMPERR_AUTHENTICATION_FAILURE:
	case SNMPERR_USM_AUTHENTICATIONFAILURE:
	case SNMPERR_DECRYPTION_ERR:
	case SNMPERR_USM_DECRYPTIONERROR:
	case SNMPERR_UNKNOWN_USER_NAME:
	case SNMPERR_USM_UNKNOWNSECURITYNAME:
	case SNMPERR_UNSUPPORTED_SEC_LEVEL:
	case SNMPERR_USM_UNSUPPORTEDSECURITYLEVEL:
		return netd_err_set(e, NETD_EAUTH, NULL,
				    "switch %s (%s): the agent refused SNMPv3 user %s on %s: %s (check the user, "
				    "its auth and priv keys and protocols)",
				    s->name, s->peer, s->user, what, detail && *detail ? detail : snmp_api_errstring(snmperr));
	}
	return netd_err_set(e, -EIO, NULL, "switch %s (%s, %s): %s failed: %s", s->name, s->peer, version_name(s), what,
			    detail && *detail ? detail : snmp_api_errstring(snmperr));
}

/* An error-status of a response, as netd's code. */
static int errstat_code(long st)
{
	switch (st) {
	case SNMP_ERR_NOACCESS:
	case SNMP_ERR_NOTWRITABLE:
	case SNMP_ERR_NOCREATION:
	case SNMP_ERR_READONLY:
		return NETD_EPERM;
	case SNMP_ERR_AUTHORIZATIONERROR:
		return NETD_EAUTH;
	case SNMP_ERR_WRONGTYPE:
	case SNMP_ERR_WRONGLENGTH:
	case SNMP_ERR_WRONGENCODING:
	case SNMP_ERR_WRONGVALUE:
	case SNMP_ERR_INCONSISTENTVALUE:
	case SNMP_ERR_BADVALUE:
	case SNMP_ERR_INCONSISTENTNAME:
		return NETD_EINVAL;
	case SNMP_ERR_NOSUCHNAME:
		return NETD_ENOTFOUND;
	}
	return -EIO;
}

/* ---- requests ---- */

/* snmp_pdu_create() draws request and message ids from process-wide
 * counters: under the lock too. */
static netsnmp_pdu *new_pdu(int type)
{
	pthread_mutex_lock(&g_lock);
	netsnmp_pdu *pdu = snmp_pdu_create(type);
	pthread_mutex_unlock(&g_lock);
	return pdu;
}

/* Send @pdu (consumed) and wait.  0 with *ret (free with snmp_free_pdu), or
 * the translated error. */
static int request(struct dev_snmp *s, netsnmp_pdu *pdu, netsnmp_pdu **ret, const char *what, struct netd_err *e)
{
	netsnmp_pdu *resp = NULL;
	int status, liberr = 0, snmperr = 0, rc = 0;
	char *msg = NULL;

	pthread_mutex_lock(&g_lock);
	usm_install(s, false);
	status = snmp_sess_synch_response(s->h, pdu, &resp);
	if (status == STAT_SUCCESS)
		usm_install(s, true);
	else
		snmp_sess_error(s->h, &liberr, &snmperr, &msg);
	pthread_mutex_unlock(&g_lock);
	if (status != STAT_SUCCESS || !resp) {
		rc = lib_error(s, status, snmperr, NULL, what, e);
		free(msg);
		if (resp)
			snmp_free_pdu(resp);
		return rc;
	}
	free(msg);
	*ret = resp;
	return 0;
}

static void to_vb(const netsnmp_variable_list *v, uint32_t *oidbuf, struct dev_vb *vb)
{
	size_t n = v->name_length < MAX_OID_LEN ? v->name_length : MAX_OID_LEN;
	for (size_t i = 0; i < n; i++)
		oidbuf[i] = (uint32_t)v->name[i];
	memset(vb, 0, sizeof *vb);
	vb->oid = oidbuf;
	vb->oid_len = n;
	vb->type = v->type;
	switch (v->type) {
	case ASN_INTEGER:
	case ASN_GAUGE:
	case ASN_COUNTER:
	case ASN_TIMETICKS:
		vb->num = v->val.integer ? (int64_t)*v->val.integer : 0;
		if (v->type != ASN_INTEGER)
			vb->num = (int64_t)(uint32_t)vb->num;
		break;
	case ASN_OCTET_STR:
		vb->str = v->val.string;
		vb->len = v->val_len;
		break;
	}
}

static bool under(const oid *name, size_t len, const uint32_t *root, size_t rlen)
{
	if (len <= rlen)
		return false;
	for (size_t i = 0; i < rlen; i++)
		if (name[i] != root[i])
			return false;
	return true;
}

struct wcol {
	const uint32_t *root;
	size_t rlen;
	oid cur[MAX_OID_LEN];
	size_t cur_len;
	bool done;
};

/* One GETBULK round over the columns not done yet. */
static int walk_round(struct dev_snmp *s, struct wcol *c, size_t n, struct dev_reply *r, unsigned long *total,
		      struct netd_err *e)
{
	size_t act[16], na = 0, k = 0;
	netsnmp_pdu *pdu = new_pdu(SNMP_MSG_GETBULK), *resp = NULL;
	uint32_t oidbuf[MAX_OID_LEN];
	int rc;

	if (!pdu)
		return -ENOMEM;
	pdu->non_repeaters = 0;
	pdu->max_repetitions = (long)s->maxrep;
	for (size_t i = 0; i < n; i++) {
		if (c[i].done)
			continue;
		act[na++] = i;
		snmp_add_null_var(pdu, c[i].cur, c[i].cur_len);
	}
	s->stats.get_pdus++;
	if ((rc = request(s, pdu, &resp, "a GETBULK walk", e)) != 0)
		return rc;
	if (resp->errstat == SNMP_ERR_TOOBIG && s->maxrep > 1) {
		s->maxrep /= 2;
		snmp_free_pdu(resp);
		return 0;
	}
	if (resp->errstat != SNMP_ERR_NOERROR) {
		rc = netd_err_set(e, errstat_code(resp->errstat), NULL, "switch %s (%s): the agent answered a walk with %s",
				  s->name, s->peer, snmp_errstring((int)resp->errstat));
		goto out;
	}
	for (netsnmp_variable_list *v = resp->variables; v; v = v->next_variable, k++) {
		struct wcol *w = &c[act[k % na]];
		if (w->done)
			continue;
		if (v->type == SNMP_ENDOFMIBVIEW || v->type == SNMP_NOSUCHOBJECT || v->type == SNMP_NOSUCHINSTANCE ||
		    !under(v->name, v->name_length, w->root, w->rlen)) {
			w->done = true;
			continue;
		}
		if (snmp_oid_compare(v->name, v->name_length, w->cur, w->cur_len) <= 0 || v->name_length > MAX_OID_LEN) {
			char t[256];
			struct dev_vb vb;
			to_vb(v, oidbuf, &vb);
			rc = netd_err_set(e, NETD_ECORRUPT, NULL, "switch %s (%s): the agent walked backwards (to %s)",
					  s->name, s->peer, dev_oid_text(vb.oid, vb.oid_len, t, sizeof t));
			goto out;
		}
		if (++*total > MAX_WALK_VARBINDS) {
			rc = netd_err_set(e, NETD_ETOOBIG, NULL, "switch %s: a walk returned more than %lu values", s->name,
					  MAX_WALK_VARBINDS);
			goto out;
		}
		struct dev_vb vb;
		to_vb(v, oidbuf, &vb);
		if ((rc = dev_reply_add(r, &vb, e)) != 0)
			goto out;
		memcpy(w->cur, v->name, v->name_length * sizeof *v->name);
		w->cur_len = v->name_length;
	}
	if (k == 0)
		rc = netd_err_set(e, NETD_ECORRUPT, NULL, "switch %s (%s): the agent answered a walk with no values",
				  s->name, s->peer);
out:
	snmp_free_pdu(resp);
	return rc;
}

int dev_snmp_walk(struct dev_snmp *s, unsigned what, struct dev_reply *r, struct netd_err *e)
{
	const uint32_t *roots[16];
	size_t lens[16], n = dev_read_columns(what, roots, lens);
	struct wcol c[16];
	unsigned long total = 0;
	int rc;

	for (size_t i = 0; i < n; i++) {
		c[i].root = roots[i];
		c[i].rlen = lens[i];
		for (size_t k = 0; k < lens[i]; k++)
			c[i].cur[k] = roots[i][k];
		c[i].cur_len = lens[i];
		c[i].done = false;
	}
	for (;;) {
		bool more = false;
		for (size_t i = 0; i < n; i++)
			more |= !c[i].done;
		if (!more)
			return 0;
		if ((rc = walk_round(s, c, n, r, &total, e)) != 0)
			return rc;
	}
}

static int read_what(struct dev_snmp *s, const struct dev_switch *sw, unsigned what, struct dev_snmp_state *out,
		     struct netd_err *e)
{
	struct dev_reply *r = NULL;
	int rc;
	if ((rc = dev_reply_new(s->name, &r)) != 0)
		return rc;
	if ((rc = dev_snmp_walk(s, what, r, e)) == 0)
		rc = dev_reply_state(r, sw->nports, out, e);
	dev_reply_free(r);
	return rc;
}

int dev_snmp_read(struct dev_snmp *s, const struct dev_switch *sw, struct dev_snmp_state *out, struct netd_err *e)
{
	return read_what(s, sw, DEV_READ_STATE, out, e);
}

/* ---- open / close ---- */

static int check_cfg(const struct dev_snmp_cfg *cfg, struct netd_err *e)
{
	const char *n = cfg->name && *cfg->name ? cfg->name : "?";
	if (!cfg->peer || !*cfg->peer || strlen(cfg->peer) >= 128)
		return netd_err_set(e, NETD_EINVAL, NULL, "switch %s: no (or an overlong) management address", n);
	if (cfg->version == DEV_SNMP_V2C) {
		if (!cfg->community || !*cfg->community)
			return netd_err_set(e, NETD_EINVAL, NULL, "switch %s: SNMPv2c needs a community", n);
		return 0;
	}
	if (cfg->version != DEV_SNMP_V3)
		return netd_err_set(e, NETD_EINVAL, NULL, "switch %s: unknown SNMP version %d", n, (int)cfg->version);
	if (!cfg->user || !*cfg->user || strlen(cfg->user) >= 64)
		return netd_err_set(e, NETD_EINVAL, NULL, "switch %s: SNMPv3 needs a user name (1..63 characters)", n);
	if (!cfg->auth_pass || strlen(cfg->auth_pass) < 8 || !cfg->priv_pass || strlen(cfg->priv_pass) < 8)
		return netd_err_set(e, NETD_EINVAL, NULL,
				    "switch %s: SNMPv3 authPriv needs auth and priv passphrases of 8 characters or more", n);
	if (cfg->auth > DEV_AUTH_SHA1 || cfg->priv != DEV_PRIV_AES128)
		return netd_err_set(e, NETD_EINVAL, NULL, "switch %s: unsupported auth or priv protocol", n);
	return 0;
}

static int session_v3(const struct dev_snmp_cfg *cfg, netsnmp_session *ss, struct netd_err *e)
{
	const oid *ap = usmHMAC192SHA256AuthProtocol;
	size_t alen = OID_LENGTH(usmHMAC192SHA256AuthProtocol);
	if (cfg->auth == DEV_AUTH_SHA1) {
		ap = usmHMACSHA1AuthProtocol;
		alen = OID_LENGTH(usmHMACSHA1AuthProtocol);
	}
	ss->securityName = (char *)cfg->user;
	ss->securityNameLen = strlen(cfg->user);
	ss->securityLevel = SNMP_SEC_LEVEL_AUTHPRIV;
	ss->securityAuthProto = (oid *)ap;
	ss->securityAuthProtoLen = alen;
	ss->securityPrivProto = usmAESPrivProtocol;
	ss->securityPrivProtoLen = OID_LENGTH(usmAESPrivProtocol);
	ss->securityAuthKeyLen = USM_AUTH_KU_LEN;
	ss->securityPrivKeyLen = USM_PRIV_KU_LEN;
	if (generate_Ku(ap, (u_int)alen, (const u_char *)cfg->auth_pass, strlen(cfg->auth_pass), ss->securityAuthKey,
			&ss->securityAuthKeyLen) != SNMPERR_SUCCESS ||
	    generate_Ku(ap, (u_int)alen, (const u_char *)cfg->priv_pass, strlen(cfg->priv_pass), ss->securityPrivKey,
			&ss->securityPrivKeyLen) != SNMPERR_SUCCESS)
		return netd_err_set(e, NETD_EINVAL, NULL, "switch %s: cannot derive SNMPv3 keys from the passphrases",
				    cfg->name);
	return 0;
}

/* GET sysUpTime.0: the switch answers, and accepts these credentials. */
static int probe(struct dev_snmp *s, struct netd_err *e)
{
	static const oid uptime[] = { 1, 3, 6, 1, 2, 1, 1, 3, 0 };
	netsnmp_pdu *pdu = new_pdu(SNMP_MSG_GET), *resp = NULL;
	int rc;
	if (!pdu)
		return -ENOMEM;
	snmp_add_null_var(pdu, uptime, OID_LENGTH(uptime));
	s->stats.get_pdus++;
	if ((rc = request(s, pdu, &resp, "GET sysUpTime.0", e)) != 0)
		return rc;
	if (resp->errstat != SNMP_ERR_NOERROR)
		rc = netd_err_set(e, errstat_code(resp->errstat), NULL, "switch %s (%s): GET sysUpTime.0 answered %s",
				  s->name, s->peer, snmp_errstring((int)resp->errstat));
	snmp_free_pdu(resp);
	return rc;
}

/* The net-snmp session of @s (no request yet: SNMPv3 discovery happens
 * with the first one). */
static int session_open(struct dev_snmp *s, const struct dev_snmp_cfg *cfg, struct netd_err *e)
{
	netsnmp_session ss;
	int liberr = 0, snmperr = 0, rc = 0;
	char *msg = NULL;

	pthread_mutex_lock(&g_lock);
	snmp_sess_init(&ss);
	pthread_mutex_unlock(&g_lock);
	ss.peername = s->peer;
	ss.timeout = (long)s->timeout_ms * 1000;
	ss.retries = (int)s->retries;
	if (cfg->version == DEV_SNMP_V2C) {
		ss.version = SNMP_VERSION_2c;
		ss.community = (u_char *)cfg->community;
		ss.community_len = strlen(cfg->community);
	} else {
		ss.version = SNMP_VERSION_3;
		if ((rc = session_v3(cfg, &ss, e)) != 0)
			return rc;
	}
	pthread_mutex_lock(&g_lock);
	s->h = snmp_sess_open(&ss);
	if (!s->h)
		snmp_error(&ss, &liberr, &snmperr, &msg);
	pthread_mutex_unlock(&g_lock);
	memset(ss.securityAuthKey, 0, sizeof ss.securityAuthKey);
	memset(ss.securityPrivKey, 0, sizeof ss.securityPrivKey);
	if (!s->h)
		rc = snmperr == SNMPERR_BAD_ADDRESS
			     ? netd_err_set(e, NETD_EINVAL, NULL, "switch %s: management address \"%s\" does not resolve",
					    s->name, s->peer)
			     : lib_error(s, STAT_ERROR, snmperr, msg, "opening a session", e);
	free(msg);
	return rc;
}

int dev_snmp_open(const struct dev_snmp_cfg *cfg, struct dev_snmp **ret, struct netd_err *e)
{
	struct dev_snmp *s;
	int rc;

	if ((rc = check_cfg(cfg, e)) != 0)
		return rc;
	dev_snmp_lib_init();
	if (!(s = calloc(1, sizeof *s)))
		return -ENOMEM;
	snprintf(s->name, sizeof s->name, "%s", cfg->name ? cfg->name : "");
	snprintf(s->peer, sizeof s->peer, "%s", cfg->peer);
	if (cfg->version == DEV_SNMP_V3)
		snprintf(s->user, sizeof s->user, "%s", cfg->user);
	s->version = cfg->version;
	s->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 1000;
	s->retries = cfg->retries;
	s->maxrep = cfg->max_repetitions ? cfg->max_repetitions : 24;
	s->maxvb = cfg->max_set_varbinds ? cfg->max_set_varbinds : 64;
	if ((rc = session_open(s, cfg, e)) != 0 || (rc = probe(s, e)) != 0) {
		dev_snmp_close(s);
		return rc;
	}
	*ret = s;
	return 0;
}

void dev_snmp_close(struct dev_snmp *s)
{
	if (!s)
		return;
	if (s->h) {
		pthread_mutex_lock(&g_lock);
		netsnmp_session *ss = snmp_sess_session(s->h);
		if (s->version == DEV_SNMP_V3 && ss && ss->securityEngineIDLen) {
			struct usmUser *u = usm_get_user(ss->securityEngineID, ss->securityEngineIDLen, s->user);
			if (u && s->have_keys && usm_keys_ours(s, u)) {
				usm_remove_user(u);
				usm_free_user(u);
			}
		}
		snmp_sess_close(s->h);
		pthread_mutex_unlock(&g_lock);
	}
	memset(s->auth_key, 0, sizeof s->auth_key);
	memset(s->priv_key, 0, sizeof s->priv_key);
	free(s);
}

void dev_snmp_stats(const struct dev_snmp *s, struct dev_snmp_stats *out)
{
	*out = s->stats;
}

/* ---- SETs ---- */

static int add_setvb(netsnmp_pdu *pdu, const struct dev_setvb *vb)
{
	oid name[DEV_OID_MAX];
	for (size_t i = 0; i < vb->oid_len; i++)
		name[i] = vb->oid[i];
	if (vb->type == DEV_ASN_OCTETS)
		return snmp_pdu_add_variable(pdu, name, vb->oid_len, ASN_OCTET_STR, vb->len ? vb->str : (const u_char *)"",
					     vb->len) ? 0 : -ENOMEM;
	long v = (long)vb->num;
	return snmp_pdu_add_variable(pdu, name, vb->oid_len, vb->type, &v, sizeof v) ? 0 : -ENOMEM;
}

/* One SET PDU of the varbinds of @steps[0..n) (or their undo).  0 with the
 * agent's *errstat / *errindex, or a transport error. */
static int set_pdu(struct dev_snmp *s, const struct dev_step *steps, size_t n, bool undo, long *errstat,
		   long *errindex, struct netd_err *e)
{
	netsnmp_pdu *pdu = new_pdu(SNMP_MSG_SET), *resp = NULL;
	size_t nvb = 0;
	int rc = 0;

	if (!pdu)
		return -ENOMEM;
	for (size_t i = 0; i < n && !rc; i++) {
		/* undo runs the steps backwards */
		const struct dev_step *st = undo ? &steps[n - 1 - i] : &steps[i];
		size_t m = undo ? st->n_undo : st->n_vbs;
		for (size_t k = 0; k < m && !rc; k++, nvb++)
			rc = add_setvb(pdu, undo ? &st->undo[k] : &st->vbs[k]);
	}
	if (rc) {
		snmp_free_pdu(pdu);
		return rc;
	}
	if (undo)
		s->stats.undo_pdus++;
	s->stats.set_pdus++;
	s->stats.set_varbinds += nvb;
	if ((rc = request(s, pdu, &resp, "a SET", e)) != 0)
		return rc;
	*errstat = resp->errstat;
	*errindex = resp->errindex;
	snmp_free_pdu(resp);
	return 0;
}

/* ---- apply ---- */

static bool in_ranges(const struct dev_range *r, size_t n, unsigned v)
{
	for (size_t i = 0; i < n; i++)
		if (v >= r[i].first && v <= r[i].last)
			return true;
	return false;
}

static int guard(const struct dev_switch *sw, const struct dev_snmp_state *before, const struct dev_snmp_plan *p,
		 struct netd_err *e)
{
	int rc = dev_ops_check(sw, &before->actual, p->ops, p->n_ops, e);
	if (rc)
		return rc;
	for (size_t i = 0; i < p->n_aliases; i++) {
		unsigned port = p->aliases[i].port;
		if (port < 1 || port > sw->nports || !in_ranges(sw->ports, sw->n_ports, port))
			return netd_err_set(e, NETD_EPERM, NULL,
					    "switch %s port %u: port is not in the allowed ports (ifAlias not written)",
					    sw->name, port);
	}
	for (size_t i = 0; i < p->n_activate; i++)
		if (!in_ranges(sw->vlans, sw->n_vlans, p->activate[i]))
			return netd_err_set(e, NETD_EPERM, NULL, "switch %s VLAN %u: VLAN is not in the allowed VLANs",
					    sw->name, p->activate[i]);
	return 0;
}

static unsigned steps_mask(const struct dev_step *st, size_t n)
{
	unsigned m = 0;
	for (size_t i = 0; i < n; i++) {
		if (st[i].kind == DEV_STEP_ALIAS)
			m |= DEV_READ_PORTS;
		else if (st[i].kind == DEV_STEP_OP && st[i].group == 2)
			m |= DEV_READ_PVID;
		else
			m |= DEV_READ_VLANS;
	}
	return m;
}

/* The apply of one switch: its steps, their state, and what the switch
 * should hold after the steps applied so far. */
struct run {
	struct dev_snmp *s;
	const struct dev_switch *sw;
	struct dev_step *steps;
	uint8_t *state;
	size_t n;
	struct dev_snmp_state expected;
	unsigned reads, set_pdus, set_vbs, undo_pdus;
};

static size_t applied(const struct run *R)
{
	size_t k = 0;
	for (size_t i = 0; i < R->n; i++)
		k += R->state[i] == DEV_STEP_APPLIED;
	return k;
}

static int reread(struct run *R, unsigned what, struct dev_snmp_state *out, struct netd_err *e)
{
	R->reads++;
	return read_what(R->s, R->sw, what, out, e);
}

/* After a failed PDU of steps [a, b): undo what of it reached the switch. */
static void undo_failed(struct run *R, size_t a, size_t b, char *info, size_t cap)
{
	struct dev_snmp_state fresh;
	struct netd_err re = { 0 };
	bool *need = calloc(b - a, sizeof *need);
	size_t n_need = 0, n_partial = 0;
	long es = 0, ei = 0;

	memset(&fresh, 0, sizeof fresh);
	if (!need || reread(R, steps_mask(R->steps + a, b - a), &fresh, &re) != 0) {
		for (size_t i = a; i < b; i++)
			R->state[i] = DEV_STEP_UNKNOWN;
		snprintf(info, cap, "; the switch could not be re-read, so what that PDU set is unknown: %.150s", re.msg);
		free(need);
		return;
	}
	for (size_t i = a; i < b; i++) {
		R->state[i] = DEV_STEP_UNDONE;
		for (size_t k = 0; k < R->steps[i].n_vbs; k++)
			if (dev_snmp_state_holds(&fresh, &R->steps[i].vbs[k]) &&
			    !dev_snmp_state_holds(&R->expected, &R->steps[i].vbs[k]))
				need[i - a] = true;
		n_need += need[i - a];
	}
	dev_snmp_state_free(&fresh);
	if (n_need == 0) {
		snprintf(info, cap, "; nothing of that PDU had been applied");
		free(need);
		return;
	}
	/* write back the old values, newest first: one PDU, else step by step */
	struct dev_step *todo = calloc(n_need, sizeof *todo);
	size_t t = 0;
	for (size_t i = a; todo && i < b; i++)
		if (need[i - a])
			todo[t++] = R->steps[i];
	R->undo_pdus++;
	if (!todo || set_pdu(R->s, todo, t, true, &es, &ei, &re) != 0 || es != 0)
		for (size_t i = t; todo && i-- > 0;) {
			R->undo_pdus++;
			set_pdu(R->s, &todo[i], 1, true, &es, &ei, &re);
		}
	free(todo);
	if (reread(R, steps_mask(R->steps + a, b - a), &fresh, &re) != 0) {
		for (size_t i = a; i < b; i++)
			if (need[i - a])
				R->state[i] = DEV_STEP_UNKNOWN;
		snprintf(info, cap, "; undo sent, but the switch could not be re-read: %.150s", re.msg);
		free(need);
		return;
	}
	for (size_t i = a; i < b; i++) {
		if (!need[i - a])
			continue;
		bool ok = R->steps[i].n_undo > 0;
		for (size_t k = 0; k < R->steps[i].n_undo; k++)
			ok &= dev_snmp_state_holds(&fresh, &R->steps[i].undo[k]);
		R->state[i] = ok ? DEV_STEP_UNDONE : DEV_STEP_PARTIAL;
		n_partial += !ok;
	}
	dev_snmp_state_free(&fresh);
	if (n_partial)
		snprintf(info, cap, "; %zu step(s) of that PDU had been partly applied, %zu could not be undone",
			 n_need, n_partial);
	else
		snprintf(info, cap, "; %zu step(s) of that PDU had been partly applied and were undone", n_need);
	free(need);
}

/* Which step holds varbind @index (1-based) of a PDU of steps [a, b). */
static size_t step_of_vb(const struct run *R, size_t a, size_t b, long index, size_t *vb)
{
	long k = 0;
	for (size_t i = a; i < b; i++) {
		if (index > k && index <= k + (long)R->steps[i].n_vbs) {
			*vb = (size_t)(index - k - 1);
			return i;
		}
		k += (long)R->steps[i].n_vbs;
	}
	*vb = 0;
	return a;
}

static int refused(struct run *R, size_t a, size_t b, long es, long ei, size_t nvb, struct netd_err *e)
{
	char info[300], oid[256];
	size_t k, i = step_of_vb(R, a, b, ei, &k);
	const struct dev_setvb *vb = &R->steps[i].vbs[k];

	undo_failed(R, a, b, info, sizeof info);
	return netd_err_set(e, errstat_code(es), NULL,
			    "switch %s: the agent refused the SET of %s (%s): %s (varbind %ld of %zu)%s; "
			    "%zu of %zu steps applied before",
			    R->sw->name, dev_oid_text(vb->oid, vb->oid_len, oid, sizeof oid), R->steps[i].label,
			    snmp_errstring((int)es), ei, nvb, info, applied(R), R->n);
}

static int sent_ok(struct run *R, size_t a, size_t b, struct netd_err *e)
{
	for (size_t i = a; i < b; i++) {
		R->state[i] = DEV_STEP_APPLIED;
		for (size_t k = 0; k < R->steps[i].n_vbs; k++) {
			int rc = dev_snmp_state_set(&R->expected, &R->steps[i].vbs[k], e);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* Send the steps [a, b) of one group in as few PDUs as the agent takes. */
static int send_group(struct run *R, size_t a, size_t b, struct netd_err *e)
{
	size_t i = a;
	while (i < b) {
		size_t j = i, nvb = 0;
		long es = 0, ei = 0;
		while (j < b && (j == i || nvb + R->steps[j].n_vbs <= R->s->maxvb))
			nvb += R->steps[j++].n_vbs;
		R->set_pdus++;
		R->set_vbs += (unsigned)nvb;
		int rc = set_pdu(R->s, R->steps + i, j - i, false, &es, &ei, e);
		if (rc) {
			char info[300];
			struct netd_err keep = *e;
			undo_failed(R, i, j, info, sizeof info);
			*e = keep;
			size_t l = strlen(e->msg);
			snprintf(e->msg + l, sizeof e->msg - l, "%s", info);
			return rc;
		}
		if (es == SNMP_ERR_TOOBIG && j - i > 1) {
			/* too big for the agent: make sure nothing of it stays, then
			 * halve the PDU and resend */
			char info[300];
			bool clean = true;
			undo_failed(R, i, j, info, sizeof info);
			for (size_t k = i; k < j; k++) {
				clean &= R->state[k] == DEV_STEP_UNDONE;
				R->state[k] = DEV_STEP_PENDING;
			}
			if (!clean)
				return netd_err_set(e, -EIO, NULL, "switch %s: the agent answered tooBig to a SET of %zu "
						    "varbinds%s", R->sw->name, nvb, info);
			R->s->maxvb = nvb / 2 ? (unsigned)(nvb / 2) : 1;
			continue;
		}
		if (es != SNMP_ERR_NOERROR)
			return refused(R, i, j, es, ei, nvb, e);
		if ((rc = sent_ok(R, i, j, e)) != 0)
			return rc;
		i = j;
	}
	return 0;
}

static int verify(struct run *R, const struct dev_desired *d, struct netd_err *e)
{
	struct dev_snmp_state fresh;
	struct dev_snmp_plan p2;
	struct dev_step *st = NULL;
	size_t n = 0;
	int rc;

	if ((rc = reread(R, DEV_READ_STATE, &fresh, e)) != 0)
		return rc;
	rc = dev_snmp_plan(R->sw, d, &fresh, &p2, e);
	if (rc == 0 && dev_snmp_plan_size(&p2) > 0) {
		rc = dev_snmp_steps(R->sw, &fresh, &p2, &st, &n, e);
		if (rc == 0)
			rc = netd_err_set(e, NETD_ECONFLICT, NULL,
					  "switch %s: after applying, the switch still differs from the desired state "
					  "(%zu step(s) left, first: %s)",
					  R->sw->name, n, n ? st[0].label : "?");
		free(st);
	}
	dev_snmp_plan_free(&p2);
	dev_snmp_state_free(&fresh);
	return rc;
}

static int run_groups(struct run *R, const struct dev_desired *d, struct netd_err *e)
{
	size_t a = 0;
	int rc;

	while (a < R->n) {
		size_t b = a;
		while (b < R->n && R->steps[b].group == R->steps[a].group)
			b++;
		struct dev_snmp_state fresh;
		if ((rc = reread(R, steps_mask(R->steps + a, R->n - a), &fresh, e)) != 0)
			return rc;
		rc = dev_snmp_fresh(R->sw, &R->expected, &fresh, R->steps + a, R->n - a, e);
		dev_snmp_state_free(&fresh);
		if (rc) {
			size_t l = strlen(e->msg);
			snprintf(e->msg + l, sizeof e->msg - l, "; nothing further applied (%zu of %zu steps applied before)",
				 applied(R), R->n);
			return rc;
		}
		if ((rc = send_group(R, a, b, e)) != 0)
			return rc;
		a = b;
	}
	return verify(R, d, e);
}

void dev_snmp_report_free(struct dev_snmp_report *r)
{
	if (!r)
		return;
	free(r->steps);
	free(r->state);
	memset(r, 0, sizeof *r);
}

int dev_snmp_apply(struct dev_snmp *s, const struct dev_switch *sw, const struct dev_desired *d,
		   const struct dev_snmp_state *before, const struct dev_snmp_plan *p, struct dev_snmp_report *rep,
		   struct netd_err *e)
{
	struct run R;
	int rc;

	memset(&R, 0, sizeof R);
	if (rep)
		memset(rep, 0, sizeof *rep);
	R.s = s;
	R.sw = sw;
	if (before->actual.nports != sw->nports)
		return netd_err_set(e, NETD_EINVAL, NULL, "switch %s: the state was read for %u ports, the switch has %u",
				    sw->name, before->actual.nports, sw->nports);
	if ((rc = guard(sw, before, p, e)) != 0)
		return rc;
	if ((rc = dev_snmp_steps(sw, before, p, &R.steps, &R.n, e)) != 0)
		return rc;
	if (!(R.state = calloc(R.n ? R.n : 1, 1)) || dev_snmp_state_copy(before, &R.expected) != 0) {
		rc = -ENOMEM;
		goto out;
	}
	rc = R.n ? run_groups(&R, d, e) : 0;
out:
	if (rep) {
		memset(rep, 0, sizeof *rep);
		rep->steps = R.steps;
		rep->state = R.state;
		rep->n_steps = R.n;
		rep->n_applied = R.state ? applied(&R) : 0;
		rep->set_pdus = R.set_pdus;
		rep->set_varbinds = R.set_vbs;
		rep->read_walks = R.reads;
		rep->undo_pdus = R.undo_pdus;
		rep->verified = rc == 0;
	} else {
		free(R.steps);
		free(R.state);
	}
	dev_snmp_state_free(&R.expected);
	return rc;
}

int dev_snmp_reconcile(struct dev_snmp *s, const struct dev_switch *sw, const struct dev_desired *d,
		       struct dev_snmp_report *rep, struct netd_err *e)
{
	struct dev_snmp_state st;
	struct dev_snmp_plan p;
	int rc;

	if (rep)
		memset(rep, 0, sizeof *rep);
	if ((rc = dev_snmp_read(s, sw, &st, e)) != 0)
		return rc;
	if ((rc = dev_snmp_plan(sw, d, &st, &p, e)) == 0) {
		rc = dev_snmp_apply(s, sw, d, &st, &p, rep, e);
		dev_snmp_plan_free(&p);
	}
	dev_snmp_state_free(&st);
	return rc;
}

const char *dev_snmp_report_text(const struct dev_snmp_report *r, char *buf, size_t cap)
{
	static const char *names[] = { "pending", "applied", "undone", "partly applied", "unknown" };
	size_t w;
	int k;

	if (cap == 0)
		return buf;
	k = snprintf(buf, cap, "%zu of %zu steps applied", r->n_applied, r->n_steps);
	w = k < 0 ? 0 : (size_t)k;
	for (uint8_t st = DEV_STEP_UNDONE; st <= DEV_STEP_UNKNOWN; st++) {
		bool first = true;
		for (size_t i = 0; i < r->n_steps && w < cap; i++) {
			if (r->state[i] != st)
				continue;
			k = snprintf(buf + w, cap - w, "%s%s%s", first ? "; " : ", ", first ? names[st] : "",
				     first ? ": " : "");
			w += k < 0 ? 0 : (size_t)k;
			if (w < cap) {
				k = snprintf(buf + w, cap - w, "%s", r->steps[i].label);
				w += k < 0 ? 0 : (size_t)k;
			}
			first = false;
		}
	}
	return buf;
}

/* ---- learning ---- */

int dev_snmp_learn(struct dev_snmp *s, const struct dev_nicmac *nics, size_t n_nics, struct dev_learn_result *out,
		   struct netd_err *e)
{
	struct dev_reply *r = NULL;
	struct dev_lldp_rem *ll = NULL;
	struct dev_fdb_entry *fdb = NULL;
	size_t nl = 0, nf = 0;
	int rc;

	if ((rc = dev_reply_new(s->name, &r)) != 0)
		return rc;
	if ((rc = dev_snmp_walk(s, DEV_READ_LINKS, r, e)) != 0)
		goto out;
	if ((rc = dev_reply_lldp(r, &ll, &nl, NULL)) != 0 || (rc = dev_reply_fdb(r, &fdb, &nf)) != 0)
		goto out;
	rc = dev_learn(nics, n_nics, ll, nl, fdb, nf, out);
out:
	free(ll);
	free(fdb);
	dev_reply_free(r);
	return rc;
}
