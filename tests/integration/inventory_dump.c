/* inventory_dump — print cdt_inventory_read_links() of the current network
 * namespace, one link per line:
 *
 *   name ifindex mac perm mtu oper class speed pci driver kind master supported
 *
 * MACs as aa:bb:cc:dd:ee:ff, oper as cdt_operstate_name(), class and speed
 * in Mb/s (0 = unknown), master as an ifindex (0 = none), supported as the
 * supported speeds in Mb/s, comma-separated; "-" for an empty or unknown
 * field.  Used by test_inventory.sh inside a namespace.
 *
 *   inventory_dump [--physical] [--no-ethtool]
 *   inventory_dump --seeds DIR   write each raw RTM_NEWLINK payload of the
 *                                link dump to DIR/link-<n> (fuzz seeds)
 *   inventory_dump --set-modes IFNAME MODE[,MODE...]
 *                                make the supported (and advertised) link
 *                                modes of a tun/tap device these (it keeps
 *                                what ETHTOOL_SLINKSETTINGS gives it, so the
 *                                kernel reports them back): 10baseT_Full,
 *                                100baseT_Full, 1000baseT_Full,
 *                                2500baseT_Full, 10000baseT_Full,
 *                                20000baseKR2_Full, 25000baseCR_Full,
 *                                100000baseCR4_Full, TP, Autoneg
 * Exit 0, or 1 with the error on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <net/if.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "conduits/conduits.h"
#include "conduits/inv_int.h"

static const struct {
	const char *name;
	int bit;
} mode_names[] = {
	{ "10baseT_Full", ETHTOOL_LINK_MODE_10baseT_Full_BIT },
	{ "100baseT_Full", ETHTOOL_LINK_MODE_100baseT_Full_BIT },
	{ "1000baseT_Full", ETHTOOL_LINK_MODE_1000baseT_Full_BIT },
	{ "2500baseT_Full", ETHTOOL_LINK_MODE_2500baseT_Full_BIT },
	{ "10000baseT_Full", ETHTOOL_LINK_MODE_10000baseT_Full_BIT },
	{ "20000baseKR2_Full", ETHTOOL_LINK_MODE_20000baseKR2_Full_BIT },
	{ "25000baseCR_Full", ETHTOOL_LINK_MODE_25000baseCR_Full_BIT },
	{ "100000baseCR4_Full", ETHTOOL_LINK_MODE_100000baseCR4_Full_BIT },
	{ "TP", ETHTOOL_LINK_MODE_TP_BIT },
	{ "Autoneg", ETHTOOL_LINK_MODE_Autoneg_BIT },
};

#define WORDS_MAX (3 * 127)   /* supported, advertising, peer; s8 count */

static int set_modes(const char *ifname, const char *list)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 1;
	struct ethtool_link_settings *s = calloc(1, sizeof *s + WORDS_MAX * sizeof(uint32_t));
	char *copy = strdup(list), *save = NULL;
	if (fd < 0 || !s || !copy || strlen(ifname) >= sizeof ifr.ifr_name) {
		fprintf(stderr, "inventory_dump: --set-modes: %s\n", fd < 0 ? strerror(errno) : "bad arguments");
		goto out;
	}
	memset(&ifr, 0, sizeof ifr);
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	ifr.ifr_data = (void *)s;
	s->cmd = ETHTOOL_GLINKSETTINGS;   /* handshake: the kernel's word count */
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0 || s->link_mode_masks_nwords >= 0) {
		fprintf(stderr, "inventory_dump: %s: ETHTOOL_GLINKSETTINGS: %s\n", ifname, strerror(errno));
		goto out;
	}
	int nw = -s->link_mode_masks_nwords;
	memset(s, 0, sizeof *s + WORDS_MAX * sizeof(uint32_t));
	s->cmd = ETHTOOL_GLINKSETTINGS;
	s->link_mode_masks_nwords = (int8_t)nw;
	if (nw > WORDS_MAX / 3 || ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
		fprintf(stderr, "inventory_dump: %s: ETHTOOL_GLINKSETTINGS: %s\n", ifname, strerror(errno));
		goto out;
	}
	memset(s->link_mode_masks, 0, 2 * (size_t)nw * sizeof(uint32_t));   /* supported, advertising */
	for (char *m = strtok_r(copy, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
		size_t i = 0;
		while (i < sizeof mode_names / sizeof mode_names[0] && strcmp(mode_names[i].name, m))
			i++;
		if (i == sizeof mode_names / sizeof mode_names[0] || mode_names[i].bit >= nw * 32) {
			fprintf(stderr, "inventory_dump: unknown link mode %s\n", m);
			goto out;
		}
		int b = mode_names[i].bit;
		s->link_mode_masks[b / 32] |= 1u << (b % 32);
		s->link_mode_masks[nw + b / 32] |= 1u << (b % 32);
	}
	s->cmd = ETHTOOL_SLINKSETTINGS;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
		fprintf(stderr, "inventory_dump: %s: ETHTOOL_SLINKSETTINGS: %s\n", ifname, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(s);
	free(copy);
	return rc;
}

static const char *speeds_str(uint32_t mask, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (unsigned k = 0; k < CDT_LINK_SPEEDS && o < len; k++)
		if (mask >> k & 1u)
			o += (size_t)snprintf(buf + o, len - o, "%s%u", o ? "," : "", cdt_link_speeds[k]);
	return buf[0] ? buf : "-";
}

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
		else if (strcmp(argv[i], "--set-modes") == 0 && i + 2 < argc)
			return set_modes(argv[i + 1], argv[i + 2]);
		else {
			fprintf(stderr, "usage: inventory_dump [--physical] [--no-ethtool] | --seeds DIR"
				" | --set-modes IFNAME MODE[,MODE...]\n");
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
		char mac[18], perm[18], sup[160];
		printf("%s %d %s %s %u %s %u %u %s %s %s %d %s\n", c->name, c->ifindex, mac_str(c->mac, mac, sizeof mac),
		       c->has_perm_mac ? mac_str(c->perm_mac, perm, sizeof perm) : "-", c->mtu,
		       cdt_operstate_name(c->operstate), c->speed_class, c->speed, or_dash(c->pci),
		       or_dash(c->driver), or_dash(v[i].kind), v[i].master, speeds_str(c->supported, sup, sizeof sup));
	}
	free(v);
	return 0;
}
