/* netd/anneal.c — being written (see anneal.h). */
#include "netd/anneal.h"

#include <errno.h>
#include <string.h>

int anneal_start(struct netd *d, struct netd_err *e) { (void)d; (void)e; return 0; }
void anneal_stop(struct netd *d) { (void)d; }
int anneal_doc_check(struct netd *d, struct store_txn *t, enum ops_doc doc, const struct lyd_node *top,
		     struct ops_result *r) { (void)d; (void)t; (void)doc; (void)top; (void)r; return 0; }
int anneal_txn(struct netd *d, struct store_txn *t, const struct ops_touched *tc, uint64_t now,
	       struct ops_result *r) { (void)d; (void)t; (void)tc; (void)now; (void)r; return 0; }
void anneal_committed(struct netd *d, const struct ops_touched *tc) { (void)d; (void)tc; }
int anneal_state(struct netd *d, struct store_txn *t, const char *top_name, struct lyd_node *top, const char *one)
{ (void)d; (void)t; (void)top_name; (void)top; (void)one; return 0; }
int anneal_rpc(struct netd *d, struct store_txn *t, struct ops_prep *p, const char *name, const struct lyd_node *rpc,
	       uint64_t now, struct ops_result *r, bool *handled)
{ (void)d; (void)t; (void)p; (void)name; (void)rpc; (void)now; (void)r; *handled = false; return 0; }
void anneal_figures(struct netd *d, struct anneal_figures *out) { (void)d; memset(out, 0, sizeof *out); }
uint64_t anneal_event_last(struct netd *d) { (void)d; return 0; }
int anneal_event_wait(struct netd *d, uint64_t after, int timeout_ms) { (void)d; (void)after; (void)timeout_ms; return -ETIMEDOUT; }
int anneal_event_read(struct netd *d, struct store_txn *t, uint64_t after, size_t max,
		      int (*fn)(const struct anneal_event *ev, void *arg), void *arg)
{ (void)d; (void)t; (void)after; (void)max; (void)fn; (void)arg; return 0; }
char *anneal_event_json(const struct anneal_event *ev) { (void)ev; return NULL; }
