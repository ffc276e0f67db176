/* Fuzz target for devices/ Q-BRIDGE PortList decoding.
 *
 * Input: two octets giving the switch's port count (big-endian, taken modulo
 * DEV_PORTS_MAX, plus 1), then the PortList octet string.  Properties:
 *  - decode never crashes; it refuses exactly when a bit beyond the port
 *    count is set, with NETD_EINVAL and a message, leaving the output as it
 *    was;
 *  - on success, encode(decode(x)) equals x normalized: cut or zero-padded to
 *    (nports + 7) / 8 octets; test() agrees with the bits; the hex text is
 *    twice that long and decodes to the same octets.
 * Any violated property abort()s.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                              \
	do {                                                                         \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz_portlist: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                             \
		}                                                                        \
	} while (0)

static bool extra_set(const uint8_t *x, size_t len, unsigned nports)
{
	for (size_t p = (size_t)nports + 1; p <= len * 8; p++)
		if (x[(p - 1) / 8] & (0x80u >> ((p - 1) % 8)))
			return true;
	return false;
}

static unsigned hexval(char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dev_portlist pl, before;
	static uint8_t norm[DEV_PORTLIST_OCTETS], enc[DEV_PORTLIST_OCTETS];
	static char hex[DEV_PORTLIST_HEX_MAX];
	struct netd_err e = { 0 };

	if (size < 2)
		return 0;
	unsigned nports = (((unsigned)data[0] << 8 | data[1]) % DEV_PORTS_MAX) + 1;
	const uint8_t *x = data + 2;
	size_t len = size - 2, n = (nports + 7) / 8;

	memset(&pl, 0x5a, sizeof pl);
	before = pl;
	int rc = dev_portlist_decode(len ? x : NULL, len, nports, "fuzz", &pl, &e);
	if (extra_set(x, len, nports)) {
		CHECK(rc == NETD_EINVAL && e.code == rc && e.msg[0]);
		CHECK(memcmp(&pl, &before, sizeof pl) == 0);
		return 0;
	}
	CHECK(rc == 0 && e.code == 0);
	memset(norm, 0, sizeof norm);
	memcpy(norm, x, len < n ? len : n);
	CHECK(dev_portlist_encode(&pl, nports, enc, sizeof enc) == (int)n);
	CHECK(memcmp(enc, norm, n) == 0);
	for (unsigned p = 1; p <= nports; p++)
		CHECK(dev_portlist_test(&pl, p) == !!(norm[(p - 1) / 8] & (0x80u >> ((p - 1) % 8))));
	CHECK(!dev_portlist_test(&pl, 0) && !dev_portlist_test(&pl, DEV_PORTS_MAX + 1));
	dev_portlist_hex(&pl, nports, hex, sizeof hex);
	CHECK(strlen(hex) == 2 * n);
	for (size_t i = 0; i < n; i++)
		CHECK((hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1])) == norm[i]);
	return 0;
}
