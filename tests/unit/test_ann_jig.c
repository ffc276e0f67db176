/* tests/unit/test_ann_jig.c — the jig registry and the noop / exec jigs.
 *
 * Everything runs for real: a struct loop from core/loop.h, and shell
 * scripts written at test time into a mkdtemp() directory (passed to them
 * as $OUT).  The test process makes itself a child subreaper, so the
 * grandchildren a script leaves behind become its children when the script
 * dies and the tests can tell, with waitpid(), that they are really gone.
 * Every done() is recorded (and checked not to run inside ann_jig_start());
 * a watchdog timer turns a hang into a failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "annealer/jig.h"
#include "core/err.h"
#include "core/loop.h"

#define MAX_RECS 128

struct rec {
	uint32_t nr;
	bool ok;
	char summary[600];
	char deployment[32], node[32], role[32];
	char *log;
	size_t log_len;
	uint64_t elapsed_ms;
};

/* State of the test jigs "ext" and "hold": in the fixture, so that it
 * outlives the registry even when a test fails half-way. */
struct ext {
	struct ann_jigs *J;
	struct ann_jig_run *run;
	unsigned cancels;
	bool cancel_matched;   /* cancel() got the run that start() got */
	bool checked_input;
};

struct fx {
	struct loop *l;
	struct ann_jigs *J;
	char dir[64];
	char out_env[128];          /* "OUT=<dir>" */
	const char *env[4];
	struct rec recs[MAX_RECS];
	size_t n_recs;
	unsigned count[MAX_RECS];   /* done() calls per node-role id */
	size_t want;                /* quit the loop at this many records */
	struct ext ext;
};

static bool g_in_start;  /* true while ann_jig_start() runs */

static void on_watchdog(struct loop *l, void *arg)
{
	(void)l;
	(void)arg;
	fail_msg("watchdog: the runs did not end in time");
}

static void on_done(void *arg, const struct ann_jig_input *in, const struct ann_jig_result *res)
{
	struct fx *f = arg;
	assert_false(g_in_start);
	assert_true(f->n_recs < MAX_RECS);
	assert_non_null(res->summary);
	assert_non_null(res->log);
	assert_int_equal(res->log[res->log_len], '\0');
	struct rec *r = &f->recs[f->n_recs++];
	r->nr = in->nr;
	r->ok = res->ok;
	snprintf(r->summary, sizeof r->summary, "%s", res->summary);
	snprintf(r->deployment, sizeof r->deployment, "%s", in->deployment);
	snprintf(r->node, sizeof r->node, "%s", in->node);
	snprintf(r->role, sizeof r->role, "%s", in->role);
	r->log = malloc(res->log_len + 1);
	assert_non_null(r->log);
	memcpy(r->log, res->log, res->log_len + 1);
	r->log_len = res->log_len;
	r->elapsed_ms = res->elapsed_ms;
	if (in->nr < MAX_RECS)
		f->count[in->nr]++;
	if (f->n_recs >= f->want)
		loop_quit(f->l);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	assert_int_equal(loop_new(&f->l), 0);
	assert_int_equal(loop_timer_add(f->l, 8000, 0, on_watchdog, NULL, NULL), 0);
	assert_int_equal(ann_jigs_new(f->l, on_done, f, &f->J), 0);
	snprintf(f->dir, sizeof f->dir, "/tmp/netd-jig-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->out_env, sizeof f->out_env, "OUT=%s", f->dir);
	f->env[0] = f->out_env;
	*state = f;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	ann_jigs_free(f->J);
	loop_free(f->l);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	for (size_t i = 0; i < f->n_recs; i++)
		free(f->recs[i].log);
	free(f);
	return 0;
}

/* ---- helpers --------------------------------------------------------- */

/* Write @text to <dir>/@name, mode @mode; the path goes to @path (256
 * bytes). */
static void script_raw(struct fx *f, const char *name, const char *text, mode_t mode, char *path)
{
	snprintf(path, 256, "%s/%s", f->dir, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* A /bin/sh script: "#!/bin/sh\n" + @body. */
static void script_mode(struct fx *f, const char *name, const char *body, mode_t mode, char *path)
{
	char text[2048];
	snprintf(text, sizeof text, "#!/bin/sh\n%s", body);
	script_raw(f, name, text, mode, path);
}

static void script(struct fx *f, const char *name, const char *body, char *path)
{
	script_mode(f, name, body, 0755, path);
}

static struct ann_jig_input input(struct fx *f, uint32_t nr, const char *path)
{
	return (struct ann_jig_input){
		.nr = nr, .deployment = "d1", .node = "n1", .role = "r1",
		.input_json = "{\"a\":1}", .env = f->env, .n_env = 1, .script = path,
	};
}

static int start(struct fx *f, const char *jig, const struct ann_jig_input *in, struct netd_err *e)
{
	g_in_start = true;
	int rc = ann_jig_start(f->J, jig, in, e);
	g_in_start = false;
	return rc;
}

static void start_ok(struct fx *f, const char *jig, const struct ann_jig_input *in)
{
	struct netd_err e = {0};
	int rc = start(f, jig, in, &e);
	if (rc != 0)
		fail_msg("ann_jig_start(%s): %d %s", jig, rc, e.msg);
}

static void run_until(struct fx *f, size_t want)
{
	f->want = want;
	if (f->n_recs < want)
		assert_int_equal(loop_run(f->l), 0);
	assert_int_equal(f->n_recs, want);
}

/* Run the loop for @ms more, to catch late or duplicate done() calls. */
static void quit_cb(struct loop *l, void *arg)
{
	(void)arg;
	loop_quit(l);
}

static void run_for(struct fx *f, uint64_t ms)
{
	f->want = SIZE_MAX;
	assert_int_equal(loop_timer_add(f->l, ms, 0, quit_cb, NULL, NULL), 0);
	assert_int_equal(loop_run(f->l), 0);
}

static char *slurp(const char *path, size_t *ret_len)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	size_t n;
	while ((n = fread(buf + len, 1, cap - len - 1, fp)) > 0) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	fclose(fp);
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	return buf;
}

static pid_t read_pid(struct fx *f, const char *name)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", f->dir, name);
	char *s = slurp(path, NULL);
	assert_non_null(s);
	pid_t pid = (pid_t)atoi(s);
	free(s);
	assert_true(pid > 1);
	return pid;
}

/* True once @pid is dead and reaped (by us, as its subreaper or parent, or
 * by someone else), within @ms. */
static bool pid_gone(pid_t pid, int ms)
{
	for (int i = 0; i <= ms / 10; i++) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return true;
		if (r < 0 && errno == ECHILD && kill(pid, 0) < 0 && errno == ESRCH)
			return true;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return false;
}

static bool file_exists(struct fx *f, const char *name)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", f->dir, name);
	return access(path, F_OK) == 0;
}

/* ---- registry -------------------------------------------------------- */

static int fail_start(void *ctx, struct ann_jigs *J, const struct ann_jig_input *in,
		      struct ann_jig_run *run, struct netd_err *e)
{
	(void)ctx;
	(void)J;
	(void)run;
	return netd_err_set(e, NETD_EINVAL, NULL, "refused node-role %u", in->nr);
}

static const struct ann_jig_ops fail_ops = {.name = "refuser", .start = fail_start};

static void test_registry(void **state)
{
	struct fx *f = *state;
	assert_true(ann_jig_known(f->J, "noop"));
	assert_true(ann_jig_known(f->J, "exec"));
	assert_false(ann_jig_known(f->J, "frobnicate"));
	assert_false(ann_jig_known(f->J, NULL));

	struct netd_err e = {0};
	assert_int_equal(ann_jig_register(f->J, &ann_jig_noop_ops, NULL, &e), NETD_EEXIST);
	assert_non_null(strstr(e.msg, "noop"));

	struct ann_jig_ops no_start = {.name = "broken"};
	netd_err_clear(&e);
	assert_int_equal(ann_jig_register(f->J, &no_start, NULL, &e), NETD_EINVAL);
	struct ann_jig_ops no_name = {.name = "", .start = fail_start};
	assert_int_equal(ann_jig_register(f->J, &no_name, NULL, NULL), NETD_EINVAL);
	assert_false(ann_jig_known(f->J, "broken"));

	struct ann_jig_input in = input(f, 1, NULL);
	netd_err_clear(&e);
	assert_int_equal(start(f, "frobnicate", &in, &e), NETD_ENOTFOUND);
	assert_non_null(strstr(e.msg, "frobnicate"));

	/* A jig's start error comes back as is, and no run remains. */
	assert_int_equal(ann_jig_register(f->J, &fail_ops, NULL, NULL), 0);
	netd_err_clear(&e);
	assert_int_equal(start(f, "refuser", &in, &e), NETD_EINVAL);
	assert_non_null(strstr(e.msg, "refused node-role 1"));
	assert_int_equal(ann_jigs_running(f->J), 0);

	/* exec refuses a relative or missing script path and bad env strings
	 * at once (no done() follows). */
	char rel[] = "bin/x.sh";
	in.script = rel;
	netd_err_clear(&e);
	assert_int_equal(start(f, "exec", &in, &e), NETD_EINVAL);
	assert_non_null(strstr(e.msg, "bin/x.sh"));
	in.script = NULL;
	assert_int_equal(start(f, "exec", &in, NULL), NETD_EINVAL);
	const char *bad_env[] = {"=oops"};
	in.script = "/bin/true";
	in.env = bad_env;
	in.n_env = 1;
	netd_err_clear(&e);
	assert_int_equal(start(f, "exec", &in, &e), NETD_EINVAL);
	assert_non_null(strstr(e.msg, "=oops"));
	assert_int_equal(ann_jigs_running(f->J), 0);
	run_for(f, 50);
	assert_int_equal(f->n_recs, 0);
}

/* ---- noop ------------------------------------------------------------ */

static void test_noop(void **state)
{
	struct fx *f = *state;
	char *dep = strdup("dep-x"), *node = strdup("node-x"), *role = strdup("role-x");
	struct ann_jig_input in = {.nr = 5, .deployment = dep, .node = node, .role = role};
	start_ok(f, "noop", &in);
	/* The caller's strings may go away at once: the input was copied. */
	memset(dep, '#', strlen(dep));
	free(dep);
	free(node);
	free(role);
	assert_int_equal(f->n_recs, 0);  /* not from inside start */
	assert_int_equal(ann_jigs_running(f->J), 1);
	run_until(f, 1);
	assert_true(f->recs[0].ok);
	assert_string_equal(f->recs[0].summary, "noop");
	assert_string_equal(f->recs[0].log, "");
	assert_int_equal(f->recs[0].nr, 5);
	assert_string_equal(f->recs[0].deployment, "dep-x");
	assert_string_equal(f->recs[0].node, "node-x");
	assert_string_equal(f->recs[0].role, "role-x");
	assert_int_equal(ann_jigs_running(f->J), 0);
	run_for(f, 20);
	assert_int_equal(f->n_recs, 1);
}

/* ---- exec: outcomes -------------------------------------------------- */

static void test_exec_outcomes(void **state)
{
	struct fx *f = *state;
	char ok[256], three[256], sig[256];
	script(f, "ok.sh", "echo out1\necho err1 >&2\necho out2\nexit 0\n", ok);
	script(f, "three.sh", "echo failing\nexit 3\n", three);
	script(f, "sig.sh", "echo dying\nkill -9 $$\n", sig);
	struct ann_jig_input a = input(f, 1, ok), b = input(f, 2, three), c = input(f, 3, sig);
	start_ok(f, "exec", &a);
	start_ok(f, "exec", &b);
	start_ok(f, "exec", &c);
	assert_int_equal(ann_jigs_running(f->J), 3);
	run_until(f, 3);
	for (size_t i = 0; i < 3; i++) {
		struct rec *r = &f->recs[i];
		if (r->nr == 1) {
			assert_true(r->ok);
			assert_string_equal(r->summary, "exit 0");
			/* stdout and stderr share one pipe: written order kept */
			assert_string_equal(r->log, "out1\nerr1\nout2\n");
		} else if (r->nr == 2) {
			assert_false(r->ok);
			assert_string_equal(r->summary, "exit 3");
			assert_string_equal(r->log, "failing\n");
		} else {
			assert_int_equal(r->nr, 3);
			assert_false(r->ok);
			assert_string_equal(r->summary, "killed by signal 9");
			assert_string_equal(r->log, "dying\n");
		}
	}
	assert_int_equal(ann_jigs_running(f->J), 0);
}

static void test_exec_cannot_run(void **state)
{
	struct fx *f = *state;
	char noexec[256];
	script_mode(f, "noexec.sh", "exit 0\n", 0644, noexec);
	struct ann_jig_input a = input(f, 1, "/nonexistent-netd-dir/x.sh");
	struct ann_jig_input b = input(f, 2, noexec);
	start_ok(f, "exec", &a);
	start_ok(f, "exec", &b);
	assert_int_equal(f->n_recs, 0);  /* reported through done(), later */
	run_until(f, 2);
	char want[600];
	for (size_t i = 0; i < 2; i++) {
		struct rec *r = &f->recs[i];
		assert_false(r->ok);
		if (r->nr == 1)
			snprintf(want, sizeof want,
				 "cannot run /nonexistent-netd-dir/x.sh: No such file or directory");
		else
			snprintf(want, sizeof want, "cannot run %s: Permission denied", noexec);
		assert_string_equal(r->summary, want);
	}
}

/* ---- exec: what the program sees ------------------------------------- */

static void test_exec_environment(void **state)
{
	struct fx *f = *state;
	char path[256], path2[256];
	script(f, "env.sh",
	       "env > \"$OUT/env.out\"\n"
	       "pwd > \"$OUT/pwd.out\"\n"
	       "echo \"$0|$1|$2|$3|$#\" > \"$OUT/argv.out\"\n"
	       "if [ -e /proc/$$/fd/$LEAKFD ]; then echo leaked; else echo closed; fi > \"$OUT/fd.out\"\n"
	       "read -r pid comm state ppid pgrp sid rest < /proc/$$/stat\n"
	       "echo \"$pid $pgrp $sid\" > \"$OUT/ids.out\"\n",
	       path);
	script(f, "path.sh", "env > \"$OUT/env2.out\"\n", path2);
	/* The signal state as exec'd, before any shell could change it (dash
	 * blocks everything around its own forks): awk only reads it. */
	char path3[256];
	script_raw(f, "sig.awk",
		   "#!/usr/bin/awk -f\n"
		   "BEGIN { while ((getline l < \"/proc/self/status\") > 0) if (l ~ /^Sig(Blk|Ign)/) print l }\n",
		   0755, path3);

	/* What netd has that must not leak: a variable, an fd without
	 * close-on-exec, a blocked and an ignored signal. */
	assert_int_equal(setenv("NETD_TEST_CANARY", "leak", 1), 0);
	int leak = fcntl(STDERR_FILENO, F_DUPFD, 100);
	assert_true(leak >= 100);
	char leak_env[32];
	snprintf(leak_env, sizeof leak_env, "LEAKFD=%d", leak);
	sigset_t usr1, old;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	assert_int_equal(pthread_sigmask(SIG_BLOCK, &usr1, &old), 0);
	void (*old_usr2)(int) = signal(SIGUSR2, SIG_IGN);

	const char *env[] = {f->out_env, "FOO=bar baz", leak_env};
	struct ann_jig_input in = input(f, 7, path);
	in.env = env;
	in.n_env = 3;
	start_ok(f, "exec", &in);
	const char *env2[] = {f->out_env, "PATH=/opt/netd-test/bin:/usr/bin:/bin"};
	struct ann_jig_input in2 = input(f, 8, path2);
	in2.env = env2;
	in2.n_env = 2;
	in2.input_json = NULL;
	start_ok(f, "exec", &in2);
	struct ann_jig_input in3 = input(f, 9, path3);
	start_ok(f, "exec", &in3);

	signal(SIGUSR2, old_usr2);
	assert_int_equal(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
	close(leak);
	unsetenv("NETD_TEST_CANARY");
	run_until(f, 3);
	const char *sig_log = NULL;
	for (size_t i = 0; i < 3; i++) {
		assert_true(f->recs[i].ok);
		if (f->recs[i].nr == 9)
			sig_log = f->recs[i].log;
	}
	assert_non_null(sig_log);

	char file[256];
	snprintf(file, sizeof file, "%s/env.out", f->dir);
	char *envs = slurp(file, NULL);
	assert_non_null(envs);
	const char *want[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"NETD_DEPLOYMENT=d1", "NETD_NODE=n1", "NETD_ROLE=r1", "NETD_NODE_ROLE_ID=7",
		"NETD_INPUT={\"a\":1}", f->out_env, "FOO=bar baz", leak_env,
	};
	size_t n_want = sizeof want / sizeof want[0], seen = 0;
	/* Exactly the documented set; the shell itself may add PWD, SHLVL, _. */
	for (char *save = NULL, *line = strtok_r(envs, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "PWD=", 4) == 0 || strncmp(line, "SHLVL=", 6) == 0 ||
		    strncmp(line, "_=", 2) == 0 || strncmp(line, "OLDPWD=", 7) == 0)
			continue;
		bool found = false;
		for (size_t i = 0; i < n_want; i++)
			found |= strcmp(line, want[i]) == 0;
		if (!found)
			fail_msg("unexpected variable in the program's environment: %s", line);
		seen++;
	}
	assert_int_equal(seen, n_want);
	free(envs);

	snprintf(file, sizeof file, "%s/env2.out", f->dir);
	envs = slurp(file, NULL);
	assert_non_null(envs);
	assert_non_null(strstr(envs, "PATH=/opt/netd-test/bin:/usr/bin:/bin\n"));
	assert_null(strstr(envs, "/usr/local/sbin"));        /* replaced, not doubled */
	assert_non_null(strstr(envs, "NETD_INPUT={}\n"));    /* NULL input reads as {} */
	free(envs);

	snprintf(file, sizeof file, "%s/pwd.out", f->dir);
	char *s = slurp(file, NULL);
	assert_string_equal(s, "/\n");
	free(s);
	snprintf(file, sizeof file, "%s/argv.out", f->dir);
	s = slurp(file, NULL);
	char argv_want[400];
	snprintf(argv_want, sizeof argv_want, "%s|d1|n1|r1|3\n", path);
	assert_string_equal(s, argv_want);
	free(s);
	snprintf(file, sizeof file, "%s/fd.out", f->dir);
	s = slurp(file, NULL);
	assert_string_equal(s, "closed\n");
	free(s);

	/* netd's blocked SIGUSR1 and ignored SIGUSR2 are not inherited. */
	const char *p = strstr(sig_log, "SigBlk:");
	assert_non_null(p);
	assert_int_equal(strtoull(p + 7, NULL, 16), 0);
	p = strstr(sig_log, "SigIgn:");
	assert_non_null(p);
	/* Signals 32 and 33 are glibc's own (cancellation, setxid): its
	 * posix_spawn() leaves them ignored, and glibc programs re-arm them. */
	assert_int_equal(strtoull(p + 7, NULL, 16) & ~(3ull << 31), 0);

	/* Its own session and process group: pid == pgrp == sid. */
	snprintf(file, sizeof file, "%s/ids.out", f->dir);
	s = slurp(file, NULL);
	long pid, pgrp, sid;
	assert_int_equal(sscanf(s, "%ld %ld %ld", &pid, &pgrp, &sid), 3);
	assert_int_equal(pgrp, pid);
	assert_int_equal(sid, pid);
	free(s);
}

static void test_exec_stdin(void **state)
{
	struct fx *f = *state;
	char path[256];
	script(f, "cat.sh", "cat > \"$OUT/stdin.out\"\necho \"${NETD_INPUT:-none}\"\n", path);
	/* Bigger than a pipe's buffer (partial writes) and NETD_INPUT's limit. */
	size_t len = 200 * 1024;
	char *json = malloc(len + 1);
	assert_non_null(json);
	size_t n = (size_t)snprintf(json, len + 1, "{\"k\":\"caf\xc3\xa9 \\\"q\\\" ");
	while (n < len - 2)
		json[n] = (char)('a' + n % 26), n++;
	json[n++] = '"';
	json[n++] = '}';
	json[n] = '\0';
	struct ann_jig_input in = input(f, 1, path);
	in.input_json = json;
	start_ok(f, "exec", &in);
	run_until(f, 1);
	assert_true(f->recs[0].ok);
	assert_string_equal(f->recs[0].log, "none\n");  /* too big for NETD_INPUT */
	char file[256];
	snprintf(file, sizeof file, "%s/stdin.out", f->dir);
	size_t got_len;
	char *got = slurp(file, &got_len);
	assert_non_null(got);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, json, len);
	free(got);
	free(json);
}

/* A program that never reads a 1 MiB input neither blocks the loop nor
 * gets netd killed by SIGPIPE once it exits. */
static void tick(struct loop *l, void *arg)
{
	(void)l;
	(*(unsigned *)arg)++;
}

static void test_exec_unread_stdin(void **state)
{
	struct fx *f = *state;
	assert_true(signal(SIGPIPE, SIG_DFL) != SIG_ERR);  /* default: it would kill us */
	char path[256];
	script(f, "deaf.sh", "echo started\nsleep 0.3\necho end\n", path);
	size_t len = 1024 * 1024;
	char *json = malloc(len + 1);
	assert_non_null(json);
	memset(json, 'x', len);
	json[0] = '"';
	json[len - 1] = '"';
	json[len] = '\0';
	struct ann_jig_input in = input(f, 1, path);
	in.input_json = json;
	unsigned ticks = 0;
	struct loop_timer *t = NULL;
	assert_int_equal(loop_timer_add(f->l, 20, 20, tick, &ticks, &t), 0);
	start_ok(f, "exec", &in);
	free(json);
	run_until(f, 1);
	loop_timer_del(f->l, t);
	assert_true(f->recs[0].ok);
	assert_string_equal(f->recs[0].log, "started\nend\n");
	assert_true(ticks >= 8);  /* the loop kept turning meanwhile */
	sigset_t pending;
	sigpending(&pending);
	assert_false(sigismember(&pending, SIGPIPE));
}

/* ---- exec: output capture -------------------------------------------- */

static void test_exec_big_output(void **state)
{
	struct fx *f = *state;
	char lines[256], exact[256], over[256];
	script(f, "lines.sh",
	       "i=0\nwhile [ $i -lt 10000 ]; do printf 'line %05d\\n' $i; i=$((i+1)); done\n", lines);
	script(f, "exact.sh", "head -c 65536 /dev/zero | tr '\\0' a\n", exact);
	script(f, "over.sh", "head -c 65537 /dev/zero | tr '\\0' b\n", over);
	struct ann_jig_input a = input(f, 1, lines), b = input(f, 2, exact), c = input(f, 3, over);
	start_ok(f, "exec", &a);
	start_ok(f, "exec", &b);
	start_ok(f, "exec", &c);
	run_until(f, 3);

	size_t full_len = 10000 * 11;
	char *full = malloc(full_len + 1);
	assert_non_null(full);
	for (int i = 0; i < 10000; i++)
		snprintf(full + i * 11, 12, "line %05d\n", i);
	const char marker[] = "\n[... 44464 bytes cut ...]\n";  /* 110000 - 65536 */
	for (size_t i = 0; i < 3; i++) {
		struct rec *r = &f->recs[i];
		assert_true(r->ok);
		if (r->nr == 1) {
			assert_int_equal(r->log_len, 65536 + strlen(marker));
			assert_memory_equal(r->log, full, 32768);
			assert_memory_equal(r->log + 32768, marker, strlen(marker));
			assert_memory_equal(r->log + 32768 + strlen(marker), full + full_len - 32768,
					    32768);
		} else if (r->nr == 2) {
			assert_int_equal(r->log_len, 65536);  /* fits: nothing cut */
			for (size_t k = 0; k < r->log_len; k++)
				assert_int_equal(r->log[k], 'a');
		} else {
			const char m1[] = "\n[... 1 bytes cut ...]\n";
			assert_int_equal(r->log_len, 65536 + strlen(m1));
			assert_memory_equal(r->log + 32768, m1, strlen(m1));
			assert_int_equal(r->log[0], 'b');
			assert_int_equal(r->log[r->log_len - 1], 'b');
		}
	}
	free(full);
}

/* ---- exec: timeouts and leftovers ------------------------------------ */

static void test_exec_timeout_tree(void **state)
{
	struct fx *f = *state;
	char path[256];
	script(f, "hang.sh",
	       "sleep 1000 &\necho $! > \"$OUT/gpid\"\necho $$ > \"$OUT/pid\"\nsleep 1000\n", path);
	struct ann_jig_input in = input(f, 1, path);
	in.timeout_ms = 300;
	start_ok(f, "exec", &in);
	run_until(f, 1);
	assert_false(f->recs[0].ok);
	assert_string_equal(f->recs[0].summary, "timed out after 300 ms");
	assert_true(f->recs[0].elapsed_ms >= 300);
	assert_true(f->recs[0].elapsed_ms < 2000);  /* SIGTERM was enough */
	pid_t pid = read_pid(f, "pid"), gpid = read_pid(f, "gpid");
	/* The script was reaped by the jig; the background sleep died too. */
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	assert_true(pid_gone(pid, 0));
	assert_true(pid_gone(gpid, 1000));
}

static void test_exec_sigterm_ignored(void **state)
{
	struct fx *f = *state;
	char path[256];
	/* The ignored SIGTERM is inherited by the sleep as well. */
	script(f, "stubborn.sh", "trap '' TERM\necho $$ > \"$OUT/pid\"\nsleep 1000\n", path);
	struct ann_jig_input in = input(f, 1, path);
	in.timeout_ms = 200;
	start_ok(f, "exec", &in);
	run_until(f, 1);
	assert_false(f->recs[0].ok);
	assert_string_equal(f->recs[0].summary, "timed out after 200 ms");
	assert_true(f->recs[0].elapsed_ms >= 2200);  /* SIGKILL 2 s after SIGTERM */
	assert_true(f->recs[0].elapsed_ms < 4000);
	assert_true(pid_gone(read_pid(f, "pid"), 0));
}

/* A background process keeps the output open after the script exited:
 * the run ends 1 s later, the process is left alone (documented). */
static void test_exec_output_held(void **state)
{
	struct fx *f = *state;
	char path[256];
	script(f, "daemon.sh", "sleep 1000 &\necho $! > \"$OUT/gpid\"\necho done\nexit 0\n", path);
	struct ann_jig_input in = input(f, 1, path);
	start_ok(f, "exec", &in);
	run_until(f, 1);
	struct rec *r = &f->recs[0];
	assert_true(r->ok);
	assert_string_equal(r->summary, "exit 0");
	assert_int_equal(strncmp(r->log, "done\n", 5), 0);
	assert_non_null(strstr(r->log, "a background process still holds it"));
	assert_true(r->elapsed_ms >= 1000);
	assert_true(r->elapsed_ms < 2500);
	pid_t gpid = read_pid(f, "gpid");
	assert_int_equal(kill(gpid, 0), 0);  /* still running */
	assert_int_equal(kill(gpid, SIGKILL), 0);
	assert_true(pid_gone(gpid, 1000));
}

/* ---- exec: many at once ---------------------------------------------- */

static void test_exec_concurrent(void **state)
{
	struct fx *f = *state;
	char path[256];
	script(f, "id.sh", "echo \"$NETD_NODE_ROLE_ID\"\n", path);
	for (uint32_t i = 0; i < 50; i++) {
		struct ann_jig_input in = input(f, i, path);
		start_ok(f, "exec", &in);
	}
	assert_int_equal(ann_jigs_running(f->J), 50);
	run_until(f, 50);
	run_for(f, 100);
	assert_int_equal(f->n_recs, 50);
	for (uint32_t i = 0; i < 50; i++)
		assert_int_equal(f->count[i], 1);
	for (size_t i = 0; i < 50; i++) {
		char want[16];
		snprintf(want, sizeof want, "%u\n", f->recs[i].nr);
		assert_true(f->recs[i].ok);
		assert_string_equal(f->recs[i].log, want);
	}
	assert_int_equal(ann_jigs_running(f->J), 0);
}

/* ---- externally implemented jigs -------------------------------------- */

static void ext_fire(struct loop *l, void *arg)
{
	(void)l;
	struct ext *x = arg;
	const struct ann_jig_input *in = ann_jig_run_input(x->run);
	x->checked_input = in->nr == 9 && strcmp(in->node, "node-e") == 0 &&
			   strcmp(in->input_json, "{\"e\":true}") == 0 &&
			   ann_jig_run_data(x->run) == x;
	ann_jig_finish(x->J, x->run, false, "ext failed", "line1\nline2\n");
	x->run = NULL;
}

static int ext_start(void *ctx, struct ann_jigs *J, const struct ann_jig_input *in,
		     struct ann_jig_run *run, struct netd_err *e)
{
	(void)in;
	struct ext *x = ctx;
	x->J = J;
	x->run = run;
	ann_jig_run_set_data(run, x);
	return loop_timer_add(ann_jigs_loop(J), 50, 0, ext_fire, x, NULL);
}

static void ext_cancel(void *ctx, struct ann_jig_run *run)
{
	struct ext *x = ctx;
	/* No assertion here: it may run from teardown, after a failure. */
	x->cancel_matched = run == x->run;
	x->cancels++;
}

static const struct ann_jig_ops ext_ops = {.name = "ext", .start = ext_start, .cancel = ext_cancel};

/* Finishes inside start(), with a log holding a NUL. */
static int sync_start(void *ctx, struct ann_jigs *J, const struct ann_jig_input *in,
		      struct ann_jig_run *run, struct netd_err *e)
{
	(void)ctx;
	(void)in;
	(void)e;
	ann_jig_finishn(J, run, true, "sync", "a\0b", 3);
	ann_jig_finish(J, run, false, "second", "ignored");  /* ignored */
	return 0;
}

static const struct ann_jig_ops sync_ops = {.name = "sync", .start = sync_start};

static void test_external_jig(void **state)
{
	struct fx *f = *state;
	struct ext *x = &f->ext;
	assert_int_equal(ann_jig_register(f->J, &ext_ops, x, NULL), 0);
	assert_int_equal(ann_jig_register(f->J, &sync_ops, NULL, NULL), 0);
	assert_true(ann_jig_known(f->J, "ext"));

	char *node = strdup("node-e"), *json = strdup("{\"e\":true}");
	struct ann_jig_input in = {.nr = 9, .deployment = "d", .node = node, .role = "r",
				   .input_json = json};
	start_ok(f, "ext", &in);
	free(node);
	free(json);
	struct ann_jig_input in2 = {.nr = 10};
	start_ok(f, "sync", &in2);
	assert_int_equal(f->n_recs, 0);
	assert_int_equal(ann_jigs_running(f->J), 2);

	run_until(f, 2);
	/* sync (next loop turn) comes before ext (50 ms) */
	assert_int_equal(f->recs[0].nr, 10);
	assert_true(f->recs[0].ok);
	assert_string_equal(f->recs[0].summary, "sync");
	assert_int_equal(f->recs[0].log_len, 3);
	assert_memory_equal(f->recs[0].log, "a\0b", 4);
	assert_string_equal(f->recs[0].deployment, "");  /* NULL reads as "" */

	assert_int_equal(f->recs[1].nr, 9);
	assert_false(f->recs[1].ok);
	assert_string_equal(f->recs[1].summary, "ext failed");
	assert_string_equal(f->recs[1].log, "line1\nline2\n");
	assert_int_equal(f->recs[1].log_len, 12);
	assert_true(f->recs[1].elapsed_ms >= 45);
	assert_true(x->checked_input);
	assert_int_equal(x->cancels, 0);
	assert_int_equal(ann_jigs_running(f->J), 0);
}

/* ---- ann_jigs_free with runs in flight -------------------------------- */

/* Never finishes by itself: only ann_jigs_free() ends it, via cancel. */
static int hold_start(void *ctx, struct ann_jigs *J, const struct ann_jig_input *in,
		      struct ann_jig_run *run, struct netd_err *e)
{
	(void)J;
	(void)in;
	(void)e;
	struct ext *x = ctx;
	x->run = run;
	return 0;
}

static const struct ann_jig_ops hold_ops = {.name = "hold", .start = hold_start,
					    .cancel = ext_cancel};

struct wait_files {
	struct fx *f;
	int n;
};

static void poll_files(struct loop *l, void *arg)
{
	struct wait_files *w = arg;
	for (int i = 0; i < w->n; i++) {
		char name[32];
		snprintf(name, sizeof name, "pid.%d", i);
		if (!file_exists(w->f, name))
			return;
	}
	loop_quit(l);
}

static void test_free_in_flight(void **state)
{
	struct fx *f = *state;
	char path[256];
	script(f, "busy.sh",
	       "sleep 1000 &\n"
	       "echo $! > \"$OUT/gpid.$NETD_NODE_ROLE_ID\"\n"
	       "echo $$ > \"$OUT/tmp.$NETD_NODE_ROLE_ID\"\n"
	       "mv \"$OUT/tmp.$NETD_NODE_ROLE_ID\" \"$OUT/pid.$NETD_NODE_ROLE_ID\"\n"
	       "wait\n",
	       path);
	for (uint32_t i = 0; i < 3; i++) {
		struct ann_jig_input in = input(f, i, path);
		start_ok(f, "exec", &in);
	}
	struct ext *x = &f->ext;
	assert_int_equal(ann_jig_register(f->J, &hold_ops, x, NULL), 0);
	struct ann_jig_input in = {.nr = 3};
	start_ok(f, "hold", &in);
	start_ok(f, "noop", &in);
	assert_int_equal(ann_jigs_running(f->J), 5);

	/* Wait until the scripts are up (the noop is delivered meanwhile). */
	struct wait_files w = {f, 3};
	struct loop_timer *t = NULL;
	f->want = SIZE_MAX;
	assert_int_equal(loop_timer_add(f->l, 10, 10, poll_files, &w, &t), 0);
	assert_int_equal(loop_run(f->l), 0);
	loop_timer_del(f->l, t);
	assert_int_equal(f->n_recs, 1);  /* the noop */

	uint64_t t0 = loop_now_ms();
	ann_jigs_free(f->J);
	f->J = NULL;
	assert_true(loop_now_ms() - t0 < 1000);
	assert_int_equal(f->n_recs, 1);  /* no done() from free */
	assert_int_equal(x->cancels, 1);
	assert_true(x->cancel_matched);
	for (int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof name, "pid.%d", i);
		pid_t pid = read_pid(f, name);
		/* Reaped by the jig: not a zombie, not our child any more. */
		assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
		assert_int_equal(errno, ECHILD);
		assert_int_equal(kill(pid, 0), -1);
		assert_int_equal(errno, ESRCH);
		snprintf(name, sizeof name, "gpid.%d", i);
		assert_true(pid_gone(read_pid(f, name), 1000));
	}
}

int main(void)
{
	/* Orphaned grandchildren of the scripts become our children, so the
	 * tests can reap them and check that they are gone. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
		return 1;
	/* The watchdog timers only work inside loop_run(): a hang elsewhere
	 * (ann_jigs_free() waiting for a process) ends here instead. */
	alarm(60);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_outcomes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_cannot_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_environment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_stdin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_unread_stdin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_big_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_timeout_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_sigterm_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_output_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_external_jig, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_in_flight, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
