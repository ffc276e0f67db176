/* netd/netctl.h — netctl's internals shared by its command files
 * (netctl.c: the core and the model commands; netctl_anneal.c,
 * netctl_dns.c: the annealer's and DNS commands).  Private to netctl.
 */
#ifndef NETD_NETCTL_H
#define NETD_NETCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <curl/curl.h>
#include <libyang/libyang.h>

/* netctl's own outcomes, beside netd's codes (core/err.h) and -errno. Each is
 * reported when it happens; the code only picks the exit status. */
enum {
	NC_EUSAGE = -1901,  /* bad command line: exit 64 */
	NC_ECONN = -1902,   /* netd unreachable: exit 2 */
	NC_ESERVER = -1903, /* netd answered with an error: exit 1 */
};

#define NC_EXIT_FAIL 1
#define NC_EXIT_CONN 2
#define NC_EXIT_USAGE 64

#define NC_DEFAULT_SERVER "http://127.0.0.1:8080"
#define NC_BODY_MAX ((size_t)64 << 20)   /* largest answer accepted */
#define NC_FILE_MAX ((size_t)64 << 20)   /* largest file read */
#define NC_DEC_MAX 64                    /* digits of a summed big-count */

struct nc_opts {
	const char *server;
	const char *token_file;
	const char *user;
	const char *password;
	bool json;
	bool help;
};

struct nc {
	struct ly_ctx *ctx;
	CURL *curl;
	char *base;                  /* server URL, no trailing '/' (owned) */
	char *token;                 /* bearer token or NULL (owned) */
	const char *user, *password; /* Basic credentials or NULL */
	bool json;
	struct curl_slist *hdr;      /* Accept, Authorization, Expect */
	struct curl_slist *hdr_body; /* the same plus Content-Type */
	char errbuf[CURL_ERROR_SIZE];
};

struct nc_resp {
	long status;
	char *body;   /* NUL-terminated once a request completed */
	size_t len;
	size_t cap;
	bool too_big;
};

#define NC_TABLE_MAXCOLS 12

struct nc_table {
	size_t ncols, nrows, cap; /* rows include the header; ncols <= NC_TABLE_MAXCOLS */
	char **cells;             /* nrows * ncols strings, owned */
};

int nc_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int nc_usage_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int nc_read_file(const char *path, char **out);
int nc_opt(int argc, char **argv, int *i, const char *name, const char *alias, const char **val);
int nc_no_options(int argc, char **argv, const char *cmd);
void nc_resp_clear(struct nc_resp *r);
int nc_call(struct nc *c, const char *method, const char *path, const char *body, struct nc_resp *resp);
int nc_parse_answer(struct nc *c, const char *body, const char *under, struct lyd_node **tree);
int nc_fetch(struct nc *c, const char *path, const char *under, bool missing_ok, struct nc_resp *resp,
	     struct lyd_node **tree);
const struct lyd_node *nc_top(const struct lyd_node *tree, const char *name);
const char *nc_leaf(const struct lyd_node *n, const char *name);
const struct lyd_node *nc_child(const struct lyd_node *n, const char *name, const char *key);
void nc_print_raw(const char *body);
int nc_table_add(struct nc_table *t, const char *const *row);
void nc_table_print(const struct nc_table *t, FILE *out);
void nc_table_free(struct nc_table *t);
int nc_request(struct nc *c, const char *method, const char *path, const char *body,
	       struct nc_resp *resp);

/* Command entry points of the other files: argv[0] is the command word. */
int nc_cmd_anneal(struct nc *c, int argc, char **argv);
int nc_cmd_dns(struct nc *c, int argc, char **argv);
/* netctl_conduit.c: argv[0] is "inventory" (of `node inventory`) or "conduit". */
int nc_cmd_node_inventory(struct nc *c, int argc, char **argv);
int nc_cmd_conduit(struct nc *c, int argc, char **argv);
/* netctl_devices.c: argv[0] is "switch" or "bmc". */
int nc_cmd_switch(struct nc *c, int argc, char **argv);
int nc_cmd_bmc(struct nc *c, int argc, char **argv);

#endif
