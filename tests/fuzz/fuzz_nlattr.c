/* Fuzz target for conduits/ inventory parsing of kernel-supplied data.
 *
 * The input is the payload of one RTM_NEWLINK message (struct ifinfomsg,
 * then attributes), as cdt_inv_parse_link() receives it from a link dump.
 * Properties (any violation abort()s, which libFuzzer and the replay build
 * both report):
 *  - no crash, no read outside the input (ASan), whatever the bytes;
 *  - failure returns NETD_ECORRUPT with a message and leaves the outputs
 *    untouched; success either skips the link (output untouched) or gives
 *    a valid kernel name, a positive ifindex, a known operstate, a master
 *    that is not the link itself and NUL-terminated strings;
 *  - the same input read as text through the sysfs helpers
 *    (cdt_inv_speed_parse, cdt_inv_pci_from_path) never crashes, and a PCI
 *    path found is a non-empty part of the text.
 * Seeds in corpus/nlattr are real payloads from a namespace with lo, veth,
 * a bridge with a port, and a macvlan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conduits/conduits.h"
#include "conduits/inv_int.h"

#define INPUT_MAX 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                          \
	do {                                                                     \
		if (!(cond)) {                                                       \
			fprintf(stderr, "fuzz_nlattr: %s:%d: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                         \
		}                                                                    \
	} while (0)

static bool nul_within(const char *s, size_t len)
{
	return memchr(s, '\0', len) != NULL;
}

static void check_link(const uint8_t *data, size_t size)
{
	/* A copy sized exactly to the input, 4-byte aligned as nlmsg_data() is:
	 * ASan catches any read beyond it. */
	uint32_t *buf = malloc(size ? size : 1);
	CHECK(buf != NULL);
	if (size)
		memcpy(buf, data, size);
	struct cdt_inv_link l, before;
	memset(&l, 0xa5, sizeof l);
	memcpy(&before, &l, sizeof l);
	bool skip = false;
	struct netd_err e = { 0 };
	int rc = cdt_inv_parse_link(buf, size, &l, &skip, &e);
	if (rc < 0) {
		CHECK(rc == NETD_ECORRUPT);
		CHECK(e.code == rc && e.msg[0] != '\0');
		CHECK(memcmp(&l, &before, sizeof l) == 0);
	} else if (skip) {
		CHECK(rc == 0);
		CHECK(memcmp(&l, &before, sizeof l) == 0);
	} else {
		CHECK(rc == 0 && e.code == 0);
		CHECK(nul_within(l.nic.name, sizeof l.nic.name) && l.nic.name[0] != '\0');
		CHECK(strchr(l.nic.name, '/') == NULL);
		CHECK(l.nic.ifindex > 0);
		CHECK(l.nic.operstate <= CDT_OPER_UP);
		CHECK(l.master >= 0 && l.master != l.nic.ifindex);
		CHECK(nul_within(l.kind, sizeof l.kind));
		CHECK(l.nic.speed == 0 && l.nic.speed_class == 0);
		CHECK(l.nic.pci[0] == '\0' && l.nic.driver[0] == '\0');
	}
	free(buf);
}

static void check_text(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	uint32_t speed = 12345;
	int rc = cdt_inv_speed_parse(text, &speed);
	CHECK(rc == 0 || (rc == NETD_EINVAL && speed == 12345));
	static const char *const subsystems[] = { "pci", "virtio", "usb" };
	for (size_t i = 0; i < sizeof subsystems / sizeof subsystems[0]; i++) {
		char pci[CDT_PCI_MAX];
		rc = cdt_inv_pci_from_path(text, subsystems[i], pci, sizeof pci);
		CHECK(rc == 0 || rc == NETD_ETOOBIG);
		if (rc == 0 && pci[0]) {
			CHECK(i < 2 && strstr(text, pci) != NULL);
		}
	}
	(void)cdt_inv_basename(text);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > INPUT_MAX)
		return 0;
	check_link(data, size);
	check_text(data, size);
	return 0;
}
