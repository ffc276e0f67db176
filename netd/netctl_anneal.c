/* netd/netctl_anneal.c — `netctl anneal ...` (being written). */
#include "netd/netctl.h"

int nc_cmd_anneal(struct nc *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return nc_fail(-1903, "anneal: not built yet");
}
