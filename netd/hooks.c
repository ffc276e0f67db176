/* netd/hooks.c — the edit engine's hand-over points (see hooks.h). */
#include "netd/hooks.h"

#include <string.h>

#include "netd/anneal.h"
#include "netd/cdtd.h"
#include "netd/devd.h"
#include "netd/dnsd.h"

int hooks_doc_check(struct netd *d, struct store_txn *t, enum ops_doc doc, const struct lyd_node *top,
		    struct ops_result *r)
{
	if (doc == OPS_DOC_DNS)
		return dnsd_doc_check(d, t, top, r);
	if (doc == OPS_DOC_CONDUITS)
		return cdtd_doc_check(d, t, top, r);
	if (doc == OPS_DOC_SWITCHES)
		return devd_doc_check(d, t, top, r);
	return anneal_doc_check(d, t, doc, top, r);
}

int hooks_txn(struct netd *d, struct store_txn *t, const struct ops_touched *tc, uint64_t now,
	      struct ops_result *r)
{
	int rc = dnsd_txn(d, t, tc, now, r);
	if (rc >= 0)
		rc = cdtd_txn(d, t, tc, now, r);
	if (rc >= 0)
		rc = devd_txn(d, t, tc, now, r);
	return rc < 0 ? rc : anneal_txn(d, t, tc, now, r);
}

void hooks_committed(struct netd *d, const struct ops_touched *tc)
{
	dnsd_committed(d, tc);
	devd_committed(d, tc);
	anneal_committed(d, tc);
}

int hooks_state(struct netd *d, struct store_txn *t, const char *top_name, struct lyd_node *top, const char *one)
{
	if (!strcmp(top_name, "dns"))
		return dnsd_state_for(d, t, top, one);
	if (!strcmp(top_name, "switches"))
		return devd_state(d, t, top);
	if (!strcmp(top_name, "roles") || !strcmp(top_name, "conduits"))
		return 0;   /* configuration only */
	return anneal_state(d, t, top_name, top, one);
}

int hooks_rpc(struct netd *d, struct store_txn *t, struct ops_prep *p, const char *name, const struct lyd_node *rpc,
	      uint64_t now, struct ops_result *r, bool *handled)
{
	*handled = false;
	int rc = dnsd_rpc(d, t, p, name, rpc, now, r, handled);
	if (*handled)
		return rc;
	rc = cdtd_rpc(d, t, p, name, rpc, now, r, handled);
	if (*handled)
		return rc;
	rc = devd_rpc(d, t, p, name, rpc, now, r, handled);
	if (*handled)
		return rc;
	return anneal_rpc(d, t, p, name, rpc, now, r, handled);
}
