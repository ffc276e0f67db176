/* netd/config.h — the daemon's configuration file (netd-server YANG module,
 * JSON), validated by libyang; command-line flags override it. */
#ifndef NETD_CONFIG_H
#define NETD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <libyang/libyang.h>

#include "core/err.h"
#include "core/log.h"
#include "netd/auth.h"

/* One authorized SSH public key of a user (OpenSSH one-line format). */
struct config_ssh_key {
	char user[65];
	char key[4096];
};

struct netd_config {
	char store[4096];
	char listen_host[256];      /* without brackets */
	uint16_t listen_port;
	bool tls;
	char tls_cert[4096], tls_key[4096];
	enum log_level log_level;
	bool syslog;
	uint32_t hold_down_s;
	unsigned http_threads;
	bool response_cache;
	uint64_t store_map_size;
	uint32_t anneal_max_running;  /* annealer: transitions at once, 0 = no limit */
	struct auth_user *users;
	size_t n_users;
	struct auth_token *tokens;
	size_t n_tokens;
	/* NETCONF over SSH (container netconf; absent = off) */
	bool netconf;
	char nc_listen_host[256];   /* without brackets */
	uint16_t nc_listen_port;
	char nc_host_key[4096];     /* "" = <store>/ssh_host_key */
	struct config_ssh_key *ssh_keys;   /* users' authorized keys, in file order */
	size_t n_ssh_keys;
	/* NETD-MIB AgentX subagent (container snmp; absent = off) */
	bool snmp;
	char snmp_agentx_socket[4096];
	uint8_t snmp_threshold_pct;   /* 1..100 */
};

/* Defaults (store ./var/netd, 127.0.0.1:8080, hold-down 3600, ...). */
void config_defaults(struct netd_config *c);
/* Load @path (JSON, {"netd-server:server": {...}}) over the defaults. A
 * missing file, bad JSON or a failed constraint is an error naming the file
 * and the data path: e->msg is "<path>: <reason>", e->path the YANG data
 * path (e.g. /netd-server:server/user[name='a']/role) or "". An empty file,
 * "{}" or an empty server container give the defaults. *out is written only
 * on success and entirely (its previous content is not freed or kept).
 * 0, NETD_EINVAL, NETD_ETOOBIG (over 1 MiB), -ENOMEM or -errno (open). */
int config_load(const struct ly_ctx *ctx, const char *path, struct netd_config *out, struct netd_err *e);
/* Parse "HOST:PORT" or "[V6]:PORT" (port 1..65535; bracketed hosts must be
 * IPv6 addresses; an unbracketed host must not contain ':') into the
 * config's listen fields. 0, or NETD_EINVAL with a message quoting the
 * value and nothing written. */
int config_set_listen(struct netd_config *c, const char *hostport, struct netd_err *e);
/* The same for the NETCONF listener (nc_listen_host, nc_listen_port). */
int config_set_netconf_listen(struct netd_config *c, const char *hostport, struct netd_err *e);
/* Is the listen host a loopback address (127.0.0.0/8, ::1, localhost)? */
bool config_listen_is_loopback(const struct netd_config *c);
/* Print the canonical form (all leaves, defaults included) as JSON; loading
 * it gives back an equal struct. 0, NETD_EINVAL (a value the YANG module
 * rejects, e.g. duplicate user names), -ENOMEM or -EIO. */
int config_print(const struct ly_ctx *ctx, const struct netd_config *c, FILE *out);
void config_free(struct netd_config *c);  /* frees users/tokens; accepts zeroed */

#endif
