/* netd/netctl_dns.c — `netctl dns ...` (being written). */
#include "netd/netctl.h"

int nc_cmd_dns(struct nc *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return nc_fail(-1903, "dns: not built yet");
}
