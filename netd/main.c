/* netd/main.c — the daemon: configuration, wiring of every module, the
 * event loop, signals (TERM/INT stop, HUP reloads) and systemd readiness.
 *
 *   netd [-c FILE] [--store DIR] [--listen HOST:PORT] [--check-config]
 *
 * Flags override the configuration file; without a file the built-in
 * defaults apply (store ./var/netd, RESTCONF on 127.0.0.1:8080).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"
#include "mibs/mib.h"
#include "netd/agent.h"
#include "netd/anneal.h"
#include "netd/cdtd.h"
#include "netd/devd.h"
#include "netd/dnsd.h"
#include "netd/metrics.h"
#include "netd/netconf.h"
#include "netd/netd.h"
#include "netd/restconf.h"
#include "netd/writer.h"
#include "netd/yangctx.h"

struct opts {
	const char *config;
	const char *store;
	const char *listen;
	const char *log_level;
	bool check_config;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: netd [-c FILE] [--store DIR] [--listen HOST:PORT] [--log-level LEVEL] [--check-config]\n"
		"\n"
		"  -c, --config FILE     configuration (JSON, YANG module netd-server)\n"
		"  -s, --store DIR       LMDB store directory (default ./var/netd)\n"
		"  -l, --listen H:P      RESTCONF listener (default 127.0.0.1:8080; [::1]:P for IPv6)\n"
		"      --log-level L     error, warning, info or debug\n"
		"      --check-config    validate the configuration, print its canonical form, exit\n"
		"      --agent ...       run as a node's conduit agent (netd --agent --help)\n"
		"  -V, --version         print the version\n");
}

/* The command line, reapplied over the file on every reload. */
static const struct opts *cmdline;

/* The NETD-MIB subagent (container snmp), NULL when not configured. */
static struct mib_agent *snmp_agent;

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "c:s:l:Vh", longs, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 's': o->store = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'L': o->log_level = optarg; break;
		case 'C': o->check_config = true; break;
		case 'V': printf("netd %s\n", NETD_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "netd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	return 0;
}

/* Config file, then flags on top. */
static int load_config(struct netd *d, const struct opts *o, struct netd_config *cfg, struct netd_err *e)
{
	int rc;
	config_defaults(cfg);
	if (o->config && (rc = config_load(d->ly, o->config, cfg, e)) < 0)
		return rc;
	if (o->store)
		snprintf(cfg->store, sizeof cfg->store, "%s", o->store);
	if (o->listen && (rc = config_set_listen(cfg, o->listen, e)) < 0)
		return rc;
	if (o->log_level && log_level_parse(o->log_level, &cfg->log_level) < 0)
		return netd_err_set(e, NETD_EINVAL, NULL, "--log-level: '%s' is not error, warning, info or debug",
				    o->log_level);
	if (!cfg->tls && !config_listen_is_loopback(cfg))
		return netd_err_set(e, NETD_EINVAL, o->listen ? NULL : "/netd-server:server/listen",
				    "%s%s: refusing to listen on %s without TLS: configure server/tls (certificate, key) "
				    "or listen on a loopback address", o->listen ? "--listen " : "",
				    o->listen ? o->listen : o->config ? o->config : "netd", cfg->listen_host);
	return 0;
}

static int apply_auth(struct netd *d, struct netd_err *e)
{
	int rc = auth_set(d->auth, d->cfg.users, d->cfg.n_users, d->cfg.tokens, d->cfg.n_tokens);
	if (rc < 0)
		return netd_err_set(e, rc, NULL, "users and tokens: %s", netd_strerror(rc));
	if (d->cfg.n_users + d->cfg.n_tokens == 0)
		return auth_bootstrap(d->auth, d->cfg.store, e);
	return 0;
}

static void on_stop(struct loop *l, int signo, void *arg)
{
	log_info("signal %d: shutting down", signo);
	loop_quit(l);
}

/* SIGHUP: re-read the file; users, tokens, hold-down and log level change
 * at once; the listener and the store need a restart. */
static void on_reload(struct loop *l, int signo, void *arg)
{
	struct netd *d = arg;
	struct netd_config cfg;
	struct netd_err e = { 0 };
	struct opts o = *cmdline;
	if (!d->config_path) {
		log_info("SIGHUP: no configuration file, nothing to reload");
		return;
	}
	if (load_config(d, &o, &cfg, &e) < 0) {
		log_err("reload of %s failed, keeping the running configuration: %s%s%s", d->config_path, e.msg,
			e.path[0] ? " at " : "", e.path);
		config_free(&cfg);
		return;
	}
	if (strcmp(cfg.listen_host, d->cfg.listen_host) || cfg.listen_port != d->cfg.listen_port ||
	    strcmp(cfg.store, d->cfg.store))
		log_warn("reload: listen and store changes take effect after a restart");
	if (cfg.netconf != d->cfg.netconf || strcmp(cfg.nc_listen_host, d->cfg.nc_listen_host) ||
	    cfg.nc_listen_port != d->cfg.nc_listen_port || strcmp(cfg.nc_host_key, d->cfg.nc_host_key))
		log_warn("reload: NETCONF listener changes take effect after a restart (users and keys apply now)");
	snprintf(cfg.store, sizeof cfg.store, "%s", d->cfg.store);
	snprintf(cfg.listen_host, sizeof cfg.listen_host, "%s", d->cfg.listen_host);
	cfg.listen_port = d->cfg.listen_port;
	config_free(&d->cfg);
	d->cfg = cfg;
	log_set_level(d->cfg.log_level);
	ipam_set_cfg(d->ipam, &(struct ipam_cfg){ .hold_down_s = d->cfg.hold_down_s });
	rc_forget_answers(d->rc);
	netconf_reload(d->nc, &d->cfg);
	if (cfg.snmp != (snmp_agent != NULL) ||
	    (snmp_agent && strcmp(cfg.snmp_agentx_socket, d->cfg.snmp_agentx_socket)))
		log_warn("reload: snmp on/off and agentx-socket changes take effect after a restart");
	mib_set_threshold(snmp_agent, d->cfg.snmp_threshold_pct);
	if (apply_auth(d, &e) < 0)
		log_err("reload: %s", e.msg);
	else
		log_info("configuration reloaded from %s", d->config_path);
}

/* Tell systemd we are ready (Type=notify), without linking libsystemd. */
static void notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (!path || !path[0] || strlen(path) >= sizeof sa.sun_path)
		return;
	memcpy(sa.sun_path, path, strlen(path));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	if (sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&sa, len) < 0)
		log_warn("sd_notify: %s", strerror(errno));
	close(fd);
}

static int open_modules(struct netd *d, struct netd_err *e)
{
	struct store_opts so = { .initial_map_size = d->cfg.store_map_size };
	int rc = store_open(d->cfg.store, &so, &d->store, e);
	if (rc < 0)
		return rc;
	if ((rc = model_open(d->store, &d->mt)) < 0 || (rc = store_table(d->store, "doc", &d->doc_tbl)) < 0)
		return netd_err_set(e, rc, NULL, "store tables: %s", netd_strerror(rc));
	struct ipam_cfg ic = { .hold_down_s = d->cfg.hold_down_s };
	if ((rc = ipam_open(d->store, &d->mt, &ic, &d->ipam)) < 0)
		return netd_err_set(e, rc, NULL, "ipam: %s", netd_strerror(rc));
	if ((rc = auth_new(&d->auth)) < 0)
		return netd_err_set(e, rc, NULL, "auth: %s", netd_strerror(rc));
	if ((rc = apply_auth(d, e)) < 0)
		return rc;
	if ((rc = loop_new(&d->loop)) < 0)
		return netd_err_set(e, rc, NULL, "event loop: %s", netd_strerror(rc));
	if ((rc = loop_signal(d->loop, SIGTERM, on_stop, d)) < 0 || (rc = loop_signal(d->loop, SIGINT, on_stop, d)) < 0 ||
	    (rc = loop_signal(d->loop, SIGHUP, on_reload, d)) < 0)
		return netd_err_set(e, rc, NULL, "signals: %s", netd_strerror(rc));
	if ((rc = wr_new(d, &d->writer)) < 0)
		return netd_err_set(e, rc, NULL, "writer: %s", netd_strerror(rc));
	/* before the faces: their tables are opened here, and requests may
	 * reach them as soon as a face listens */
	if ((rc = dnsd_start(d, e)) < 0 || (rc = anneal_start(d, e)) < 0 || (rc = cdtd_start(d, e)) < 0 ||
	    (rc = devd_start(d, e)) < 0)
		return rc;
	if ((rc = rc_start(d, &d->rc, e)) < 0)
		return rc;
	if (d->cfg.netconf && (rc = netconf_start(d, &d->nc, e)) < 0)
		return rc;
	if (d->cfg.snmp) {
		struct mib_source src;   /* the same figures as /metrics (netd/metrics.h) */
		metrics_mib_source(d, &src);
		struct mib_cfg mc = { .agentx_socket = d->cfg.snmp_agentx_socket,
				      .threshold_pct = d->cfg.snmp_threshold_pct };
		if ((rc = mib_start(d->loop, &src, &mc, &snmp_agent, e)) < 0)
			return rc;
	}
	/* after the subagent: net-snmp's first init must be the agent's (devices/snmp.h) */
	return devd_run(d, e);
}

static void close_modules(struct netd *d)
{
	netconf_stop(d->nc);   /* first: it may still hand writes to the writer */
	d->nc = NULL;
	rc_stop(d->rc);
	mib_stop(snmp_agent);  /* before the loop it watches fds on */
	snmp_agent = NULL;
	wr_free(d->writer);   /* runs what is queued: the hooks below still see it */
	anneal_stop(d);   /* cancels the devices jig's runs */
	devd_stop(d);
	dnsd_stop(d);
	loop_free(d->loop);
	auth_free(d->auth);
	ipam_close(d->ipam);
	store_close(d->store);
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct netd d = { 0 };
	struct netd_err e = { 0 };
	int rc;

	signal(SIGPIPE, SIG_IGN);
	ly_log_options(LY_LOSTORE_LAST);   /* errors reach clients through yc_err, not stderr */
	if (agent_wanted(argc, argv))
		return agent_main(argc, argv);   /* netd --agent: a node's side (netd/agent.h) */
	if (parse_args(argc, argv, &o) < 0)
		return 64;
	cmdline = &o;
	d.config_path = o.config;
	if ((rc = yc_new(&d.ly, &e)) < 0)
		goto fail;
	if ((rc = load_config(&d, &o, &d.cfg, &e)) < 0)
		goto fail;
	log_set_level(d.cfg.log_level);
	if (d.cfg.syslog)
		log_use_syslog("netd");
	if (o.check_config) {
		rc = config_print(d.ly, &d.cfg, stdout);
		config_free(&d.cfg);
		ly_ctx_destroy(d.ly);
		return rc < 0 ? 1 : 0;
	}
	d.started_at = wall_now_s();
	if (d.cfg.netconf && (rc = netconf_prepare(&d, &e)) < 0)
		goto fail;
	if ((rc = open_modules(&d, &e)) < 0)
		goto fail;
	log_info("netd %s: RESTCONF on %s://%s:%u, store %s", NETD_VERSION, d.cfg.tls ? "https" : "http",
		 d.cfg.listen_host, rc_port(d.rc), store_path(d.store));
	if (d.nc)
		log_info("NETCONF over SSH on %s port %u", d.cfg.nc_listen_host, netconf_port(d.nc));
	if (snmp_agent)
		log_info("NETD-MIB AgentX subagent of %s", d.cfg.snmp_agentx_socket);
	notify_ready();
	rc = loop_run(d.loop);
	close_modules(&d);
	config_free(&d.cfg);
	ly_ctx_destroy(d.ly);
	return rc < 0 ? 1 : 0;
fail:
	log_err("%s%s%s", e.msg[0] ? e.msg : netd_strerror(rc), e.path[0] ? " at " : "", e.path);
	close_modules(&d);
	config_free(&d.cfg);
	ly_ctx_destroy(d.ly);
	return 1;
}
