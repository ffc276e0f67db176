/* inventory_dump — print cdt_inventory_read_links() of the current network
 * namespace, one link per line:
 *
 *   name ifindex mac perm mtu oper class speed pci driver kind master
 *
 * MACs as aa:bb:cc:dd:ee:ff, oper as cdt_operstate_name(), class and speed
 * in Mb/s (0 = unknown), master as an ifindex (0 = none); "-" for an empty
 * or unknown text field.  Used by test_inventory.sh inside a namespace.
 *
 *   inventory_dump [--physical] [--no-ethtool]
 *   inventory_dump --seeds DIR   write each raw RTM_NEWLINK payload of the
 *                                link dump to DIR/link-<n> (fuzz seeds)
 * Exit 0, or 1 with the error on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conduits/conduits.h"
#include "conduits/inv_int.h"

static const char *mac_str(const uint8_t *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

static const char *or_dash(const char *s)
{
	return s[0] ? s : "-";
}

struct seeds {
	const char *dir;
	int n;
};

static int write_seed(void *arg, const void *payload, size_t len)
{
	struct seeds *s = arg;
	char path[4096];
	snprintf(path, sizeof path, "%s/link-%d", s->dir, s->n++);
	FILE *f = fopen(path, "wb");
	if (!f)
		return -errno;
	size_t w = fwrite(payload, 1, len, f);
	return fclose(f) == 0 && w == len ? 0 : -EIO;
}

static int dump_seeds(const char *dir)
{
	struct seeds s = { .dir = dir };
	struct netd_err e = { 0 };
	int rc = cdt_inv_real_ops.dump_links(NULL, write_seed, &s, &e);
	if (rc < 0) {
		fprintf(stderr, "inventory_dump: %s: %s\n", netd_strerror(rc), e.msg);
		return 1;
	}
	printf("%d seeds\n", s.n);
	return 0;
}

int main(int argc, char **argv)
{
	struct cdt_inventory_opts opts = { 0 };
	struct cdt_inv_link *v = NULL;
	struct netd_err e = { 0 };
	size_t n = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--physical") == 0)
			opts.physical_only = true;
		else if (strcmp(argv[i], "--no-ethtool") == 0)
			opts.no_ethtool = true;
		else if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc)
			return dump_seeds(argv[i + 1]);
		else {
			fprintf(stderr, "usage: inventory_dump [--physical] [--no-ethtool] | --seeds DIR\n");
			return 2;
		}
	}
	int rc = cdt_inventory_read_links(&v, &n, &opts, &e);
	if (rc < 0) {
		fprintf(stderr, "inventory_dump: %s: %s\n", netd_strerror(rc), e.msg);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct cdt_nic *c = &v[i].nic;
		char mac[18], perm[18];
		printf("%s %d %s %s %u %s %u %u %s %s %s %d\n", c->name, c->ifindex, mac_str(c->mac, mac, sizeof mac),
		       c->has_perm_mac ? mac_str(c->perm_mac, perm, sizeof perm) : "-", c->mtu,
		       cdt_operstate_name(c->operstate), c->speed_class, c->speed, or_dash(c->pci),
		       or_dash(c->driver), or_dash(v[i].kind), v[i].master);
	}
	free(v);
	return 0;
}
