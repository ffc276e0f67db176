/* netd/netconf.h — the NETCONF face: libnetconf2 over SSH (issue 7).
 *
 * Same model, same store, same writer as RESTCONF: reads build the data with
 * ops_get_tree(), edits and RPCs are prepared on a NETCONF thread
 * (ops_nc_edit_prepare, ops_rpc_prepare_tree), run by the one writer and
 * answered after the durable commit. Users are netd's (password through
 * auth_check_basic, or an authorized public key from user/ssh-key) with the
 * RESTCONF roles: read-only may get, get-config and get-schema only.
 *
 * Threads: NCS_THREADS threads poll the sessions (nc_ps_poll); the first also
 * accepts. A write blocks its thread until the writer's done(), so another
 * session is served by another thread meanwhile.
 *
 * (nc_ is libnetconf2's prefix; ours is netconf_ / ncs_.)
 */
#ifndef NETD_NETCONF_H
#define NETD_NETCONF_H

#include "core/err.h"
#include "netd/netd.h"

/* Where the IETF NETCONF modules are read from (Debian: libyuma-base);
 * NETD_NETCONF_YANG_DIR in the environment overrides it. */
#define NETCONF_YANG_DIR "/usr/share/yuma/modules/ietf"

struct ncs_server;

/* Add ietf-netconf and its companions to d->ly (netd/yangctx.c). Call after
 * the configuration is loaded and before any thread uses the context. */
int netconf_prepare(struct netd *d, struct netd_err *e);
/* Listen on cfg.nc_listen_* and start the threads. Makes the host key at
 * first start when none is configured. 0 or an error in @e. */
int netconf_start(struct netd *d, struct ncs_server **out, struct netd_err *e);
/* Users, roles and keys from a reloaded configuration (SIGHUP). The listen
 * address and host key need a restart. Accepts NULL. */
void netconf_reload(struct ncs_server *s, const struct netd_config *cfg);
/* Close every session and join the threads; runs the writer while waiting,
 * so call it on the loop thread after loop_run() returned, before
 * wr_free(). Accepts NULL. */
void netconf_stop(struct ncs_server *s);
unsigned netconf_port(const struct ncs_server *s);

#endif
