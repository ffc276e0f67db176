/* conduits/apply_int.h — the actual-state dump's pure parsers, its I/O edge
 * (an ops table, as the inventory's in inv_int.h) and the netlink context
 * that actual.c and apply.c share.  Private to conduits/ and its tests.
 */
#ifndef NETD_CONDUITS_APPLY_INT_H
#define NETD_CONDUITS_APPLY_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "conduits/cdt_int.h"
#include "conduits/inv_int.h"

#define CDT_ACT_MAX 16384   /* links, addresses or routes one dump may hold */

struct cdt_act_ops {
	/* Dump @type (RTM_GETLINK, RTM_GETADDR or RTM_GETROUTE, all families),
	 * calling @each with the payload of every reply message (struct
	 * ifinfomsg / ifaddrmsg / rtmsg, then attributes).  0; NETD_ECONFLICT
	 * when the kernel marked the dump interrupted; the callback's non-zero
	 * value; -errno with a message in @e. */
	int (*dump)(void *ctx, int type, cdt_inv_each_fn each, void *arg, struct netd_err *e);
};

/* The whole actual state through @ops/@ctx (see cdt_actual_read). */
int cdt_act_collect(const struct cdt_act_ops *ops, void *ctx, struct cdt_actual *out, struct netd_err *e);

/* Pure parsers (nla_policy checked).  0 with *@out and *@skip false; 0 with
 * *@skip true for what the actual state leaves out (loopback; addresses
 * other than v4/v6; routes outside the main table or not unicast);
 * NETD_ECORRUPT with a message for a payload that does not parse. */
int cdt_act_parse_link(const void *payload, size_t len, struct cdt_alink *out, bool *skip, struct netd_err *e);
int cdt_act_parse_addr(const void *payload, size_t len, struct cdt_aaddr *out, bool *skip, struct netd_err *e);
int cdt_act_parse_route(const void *payload, size_t len, struct cdt_aroute *out, bool *skip, struct netd_err *e);

/* One libnl route socket with the kernel's last error captured (errno and
 * the extended-ack text), and a count of the modifying requests sent. */
struct nl_sock;
struct cdt_nl {
	struct nl_sock *sk;
	int kerr;                  /* errno of the last NLMSG_ERROR, 0 none */
	char kmsg[256];            /* its extended-ack message, "" none */
	unsigned msgs;             /* modifying requests sent */
};

/* 0 or -errno with a message. */
int cdt_nl_open(struct cdt_nl *nl, struct netd_err *e);
void cdt_nl_close(struct cdt_nl *nl);

/* The real dump over a struct cdt_nl (the ctx). */
extern const struct cdt_act_ops cdt_act_real_ops;

#endif
