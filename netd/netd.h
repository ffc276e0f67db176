/* netd/netd.h — the daemon's wiring: one struct that owns every module.
 * Private to netd/ (nothing includes netd/). */
#ifndef NETD_NETD_H
#define NETD_NETD_H

#include <stdatomic.h>
#include <stdint.h>

#include <libyang/libyang.h>

#include "core/loop.h"
#include "core/model.h"
#include "core/store.h"
#include "ipam/ipam.h"
#include "netd/auth.h"
#include "netd/config.h"

#define NETD_VERSION "0.1.0"

struct rc_server;
struct ncs_server;
struct writer;
struct anneal;
struct dnsd;
struct devd;

struct netd {
	struct netd_config cfg;
	const char *config_path;     /* NULL = built-in defaults */
	struct ly_ctx *ly;
	struct store *store;
	struct model_tables mt;
	store_tbl doc_tbl;           /* configuration documents (dns, roles, deployments), see ops.c */
	struct ipam *ipam;
	struct auth *auth;
	struct loop *loop;
	struct writer *writer;       /* the one writer: group commit for every face */
	struct anneal *anneal;       /* the annealer service (netd/anneal.h), loop thread */
	struct dnsd *dnsd;           /* DNS publication (netd/dnsd.h) */
	struct devd *devd;           /* switches and BMCs (netd/devd.h) */
	struct rc_server *rc;
	struct ncs_server *nc;       /* NETCONF over SSH, NULL when not configured */
	_Atomic uint32_t nc_lock_sid; /* NETCONF session holding <lock> on running, 0 = none */
	uint64_t started_at;         /* unix seconds */
};

#endif
