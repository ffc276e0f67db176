/* netd/dnsd.c — being written (see dnsd.h). */
#include "netd/dnsd.h"

#include <string.h>

int dnsd_start(struct netd *d, struct netd_err *e) { (void)d; (void)e; return 0; }
void dnsd_stop(struct netd *d) { (void)d; }
int dnsd_doc_check(struct netd *d, struct store_txn *t, const struct lyd_node *top, struct ops_result *r)
{ (void)d; (void)t; (void)top; (void)r; return 0; }
int dnsd_txn(struct netd *d, struct store_txn *t, const struct ops_touched *tc, uint64_t now, struct ops_result *r)
{ (void)d; (void)t; (void)tc; (void)now; (void)r; return 0; }
void dnsd_committed(struct netd *d, const struct ops_touched *tc) { (void)d; (void)tc; }
int dnsd_state(struct netd *d, struct store_txn *t, struct lyd_node *top) { (void)d; (void)t; (void)top; return 0; }
int dnsd_rpc(struct netd *d, struct store_txn *t, struct ops_prep *p, const char *name, const struct lyd_node *rpc,
	     uint64_t now, struct ops_result *r, bool *handled)
{ (void)d; (void)t; (void)p; (void)name; (void)rpc; (void)now; (void)r; *handled = false; return 0; }
void dnsd_figures(struct netd *d, struct dnsd_figures *out) { (void)d; memset(out, 0, sizeof *out); }
int dnsd_node_status(struct netd *d, const char *node, uint64_t counts[6]) { (void)d; (void)node; (void)counts; return NETD_ENOTFOUND; }
