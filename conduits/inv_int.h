/* conduits/inv_int.h — the inventory's pure conversions and its I/O edge.
 * Private to conduits/ (and its unit tests and fuzz target).
 *
 * cdt_inv_collect() holds the logic: it asks an ops table for the link dump
 * and the per-link ethtool / sysfs facts, and turns them into
 * struct cdt_inv_link with the pure functions below.  inventory.c has the
 * real backend (libnl, ioctl, sysfs); unit tests plug in a fake.
 */
#ifndef NETD_CONDUITS_INV_INT_H
#define NETD_CONDUITS_INV_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conduits/conduits.h"

#define CDT_INV_MODE_WORDS 8      /* link-mode bitmap words kept (256 modes) */
#define CDT_INV_PATH_MAX 4096     /* a sysfs path */

/* Called by dump_links once per RTM_NEWLINK message with its payload
 * (struct ifinfomsg, then attributes; 4-byte aligned).  Non-zero stops the
 * dump and is returned by dump_links. */
typedef int (*cdt_inv_each_fn)(void *arg, const void *payload, size_t len);

struct cdt_inv_ops {
	/* Dump every link.  0; NETD_ECONFLICT when the kernel marked the dump
	 * interrupted (the caller retries from scratch); the callback's
	 * non-zero value; -errno with a message in @e. */
	int (*dump_links)(void *ctx, cdt_inv_each_fn each, void *arg, struct netd_err *e);
	/* Supported link modes of @ifname into @modes[0..CDT_INV_MODE_WORDS)
	 * (zero-filled beyond what the driver knows) and the speed the driver
	 * reports (Mb/s, 0 = unknown) into *@speed.  0 or -errno
	 * (-EOPNOTSUPP: no ethtool link settings). */
	int (*link_modes)(void *ctx, const char *ifname, uint32_t *modes, uint32_t *speed);
	/* Permanent MAC of @ifname.  0 (may be all zeros = none) or -errno. */
	int (*perm_addr)(void *ctx, const char *ifname, uint8_t mac[6]);
	/* Contents of /sys/class/net/<ifname>/<attr>, NUL-terminated, cut to
	 * @len - 1.  0 or -errno (-EINVAL for speed of a down link). */
	int (*sysfs_read)(void *ctx, const char *ifname, const char *attr, char *buf, size_t len);
	/* realpath() of /sys/class/net/<ifname>/<rel> into @buf.  0 or -errno
	 * (-ENOENT: no such link, e.g. no device for a virtual NIC). */
	int (*sysfs_path)(void *ctx, const char *ifname, const char *rel, char *buf, size_t len);
};

/* The real backend (libnl, ethtool ioctls, /sys/class/net).  Its ctx is
 * private to inventory.c, except that dump_links ignores it: tools may call
 * cdt_inv_real_ops.dump_links(NULL, ...) to see the raw messages. */
extern const struct cdt_inv_ops cdt_inv_real_ops;

/* The whole inventory through @ops/@ctx (see cdt_inventory_read_links). */
int cdt_inv_collect(const struct cdt_inv_ops *ops, void *ctx, const struct cdt_inventory_opts *opts,
		    struct cdt_inv_link **out, size_t *n, struct netd_err *e);

/* ---- pure conversions ---- */

/* Parse one RTM_NEWLINK payload (@len bytes: struct ifinfomsg + attributes,
 * checked against nla_policy tables).  Returns 0 with *@out filled (netlink
 * facts only: speed, class, pci, driver are 0/"") and *@skip false; 0 with
 * *@skip true for links the inventory leaves out (loopback, not
 * ARPHRD_ETHER; *@out untouched); NETD_ECORRUPT with a message for a short
 * payload, an attribute of the wrong size, a missing or invalid name or an
 * Ethernet link without a 6-byte MAC.  Never reads outside the payload. */
int cdt_inv_parse_link(const void *payload, size_t len, struct cdt_inv_link *out, bool *skip,
		       struct netd_err *e);

/* Fastest speed (Mb/s) among the link modes set in @modes[0..nwords) (bit
 * k of the map is bit k%32 of word k/32, as the kernel lays them out); 0
 * when none with a speed is set. */
uint32_t cdt_inv_modes_class(const uint32_t *modes, size_t nwords);

/* The speeds of the link modes set in @modes[0..nwords), as a
 * supported-speeds mask (bit k = cdt_link_speeds[k]); 0 when none with a
 * speed is set.  cdt_link_speeds_max() of it is cdt_inv_modes_class(). */
uint32_t cdt_inv_modes_speeds(const uint32_t *modes, size_t nwords);

/* Contents of a sysfs speed file ("10000\n") -> Mb/s.  Returns 0 with
 * *@out = speed, or *@out = 0 for the kernel's unknown markers ("-1",
 * "4294967295", "unknown", "0"); NETD_EINVAL for other text (*@out
 * untouched). */
int cdt_inv_speed_parse(const char *text, uint32_t *out);

/* PCI bus path of a net device from its device path (realpath, or the
 * relative link target "../../../0000:03:00.1") and the basename of its
 * subsystem: the last component for "pci", the one before it for
 * "virtio"; it must read DDDD:BB:DD.F (cdt_ref_parse's pci: grammar).
 * Writes it (or "" when none) into @buf and returns 0; NETD_ETOOBIG when it
 * does not fit @len. */
int cdt_inv_pci_from_path(const char *devpath, const char *subsystem, char *buf, size_t len);

/* Last component of @path ("" for NULL or a path ending in '/'). */
const char *cdt_inv_basename(const char *path);

/* Speed class from what was learnt: the fastest supported mode, else the
 * current speed, else the speed the driver reported, else 0. */
uint32_t cdt_inv_class(uint32_t modes_class, uint32_t cur_speed, uint32_t drv_speed);

#endif
