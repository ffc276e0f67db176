/* annealer/jig_exec.c — the exec jig: one program run per node-role.
 *
 * Overview (the contract for script authors is in jig.h).  A run is a
 * struct xrun attached to the registry's run:
 *
 *   start     two pipes (stdin; stdout+stderr), posix_spawn() of the program
 *             in a new session with a clean environment and only fds 0-2,
 *             pidfd_open(), then three watches on the loop: the stdin write
 *             end (until the input is written), the output read end (until
 *             EOF) and the pidfd (until the program exits); a timeout timer.
 *   exited    the pidfd is readable: the status is read with WNOWAIT.  The
 *             program stays a zombie until the run ends, so its pid — which
 *             is also its process group id — cannot be reused while we may
 *             still signal the group.  If the output is still open (a
 *             background process holds it), a 1 s grace timer will close it.
 *   timeout   SIGTERM to the process group, SIGKILL 2 s later.
 *   end       exited and output closed: SIGKILL to the group if the run timed
 *             out, reap, release everything, report through the registry.
 *
 * Why posix_spawn() and not fork(): glibc implements it with CLONE_VFORK,
 * so netd's page tables (a large LMDB map) are never copied, nothing runs
 * in the child between fork and exec but glibc's own async-signal-safe
 * code, and an exec failure comes back as the return value (glibc passes
 * the child's errno back) — a failure we then report asynchronously.
 *
 * The output is captured into a head buffer (the first ANN_JIG_LOG_HEAD
 * bytes) and a ring (the last ANN_JIG_LOG_TAIL bytes), both allocated only
 * when the program writes that much, so memory per run is bounded whatever
 * the program prints.
 */
#include "annealer/jig.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"

#define EXEC_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define EXEC_KILL_AFTER_MS 2000u   /* SIGTERM -> SIGKILL */
#define EXEC_GRACE_MS 1000u        /* program exited -> stop reading output */
#define EXEC_READ_CHUNK 16384u
#define EXEC_READS_PER_WAKE 4      /* a chatty program cannot hog the loop */
#define EXEC_N_FIXED_ENV 6         /* PATH and the NETD_* variables */

struct capture {
	char *head;        /* first ANN_JIG_LOG_HEAD bytes; NULL until output */
	size_t head_len;
	bool spilled;      /* head closed: later bytes go to the ring */
	char *tail;        /* ring of ANN_JIG_LOG_TAIL bytes; NULL until needed */
	size_t tail_pos;   /* where the next byte goes */
	size_t tail_len;
	uint64_t total;    /* every byte read */
};

struct xrun {
	struct ann_jigs *J;
	struct ann_jig_run *run;
	struct loop *loop;
	pid_t pid;                  /* also the process group id */
	int pidfd, in_fd, out_fd;   /* -1 once closed */
	const char *input;          /* the run's input copy */
	size_t input_len, input_off;
	uint32_t timeout_ms;
	struct loop_timer *timeout_t, *kill_t, *grace_t;
	bool exited, status_known, timed_out, abandoned;
	int wcode, wstatus;           /* siginfo si_code, si_status */
	struct capture cap;
};

/* ---- output capture -------------------------------------------------- */

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Bytes that cannot be kept (the buffers could not be allocated, or they
 * fell between head and tail) are only counted: the marker reports them. */
static void capture_add(struct capture *c, const char *p, size_t n)
{
	c->total += n;
	if (!c->spilled) {
		if (!c->head)
			c->head = malloc(ANN_JIG_LOG_HEAD);
		if (c->head) {
			size_t k = min_sz(n, ANN_JIG_LOG_HEAD - c->head_len);
			memcpy(c->head + c->head_len, p, k);
			c->head_len += k;
			p += k;
			n -= k;
		}
		if (n == 0)
			return;
		c->spilled = true;
	}
	if (!c->tail && !(c->tail = malloc(ANN_JIG_LOG_TAIL)))
		return;
	if (n > ANN_JIG_LOG_TAIL) {  /* only the last ring-full can stay */
		p += n - ANN_JIG_LOG_TAIL;
		n = ANN_JIG_LOG_TAIL;
	}
	size_t first = min_sz(n, ANN_JIG_LOG_TAIL - c->tail_pos);
	memcpy(c->tail + c->tail_pos, p, first);
	memcpy(c->tail, p + first, n - first);
	c->tail_pos = (c->tail_pos + n) % ANN_JIG_LOG_TAIL;
	c->tail_len = min_sz(ANN_JIG_LOG_TAIL, c->tail_len + n);
}

/* head + "\n[... N bytes cut ...]\n" (when bytes were dropped) + tail +
 * @note, NUL-terminated, in one new buffer.  NULL on ENOMEM. */
static char *capture_take(const struct capture *c, const char *note, size_t *ret_len)
{
	char marker[64] = "";
	uint64_t cut = c->total - c->head_len - c->tail_len;
	if (cut)
		snprintf(marker, sizeof marker, "\n[... %" PRIu64 " bytes cut ...]\n", cut);
	size_t mlen = strlen(marker), nlen = strlen(note);
	size_t len = c->head_len + mlen + c->tail_len + nlen;
	char *buf = malloc(len + 1);
	if (!buf)
		return NULL;
	char *p = buf;
	if (c->head_len)
		memcpy(p, c->head, c->head_len);
	p += c->head_len;
	memcpy(p, marker, mlen);
	p += mlen;
	/* The ring's oldest byte sits tail_len bytes before the write point. */
	size_t start = (c->tail_pos + ANN_JIG_LOG_TAIL - c->tail_len) % ANN_JIG_LOG_TAIL;
	size_t first = min_sz(c->tail_len, ANN_JIG_LOG_TAIL - start);
	if (first)
		memcpy(p, c->tail + start, first);
	if (c->tail_len - first)
		memcpy(p + first, c->tail, c->tail_len - first);
	p += c->tail_len;
	memcpy(p, note, nlen);
	p[nlen] = '\0';
	*ret_len = len;
	return buf;
}

/* ---- small helpers --------------------------------------------------- */

/* write() that never raises SIGPIPE in netd, whatever SIGPIPE's disposition:
 * a pipe's SIGPIPE goes to the writing thread, so block it here, and if our
 * write raised one (it was not pending before), take it back with a zero
 * timeout sigtimedwait() before unblocking. */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
	sigset_t pipe_set, old, pending;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	bool was_pending = sigismember(&pending, SIGPIPE);
	ssize_t n = write(fd, buf, len);
	int err = errno;
	if (n < 0 && err == EPIPE && !was_pending) {
		const struct timespec zero = {0, 0};
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return n;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Keep pipe ends off 0-2: netd may run with a standard fd closed, and the
 * child's dup2() onto 0, 1, 2 must not clobber another pipe end. */
static int fd_above_stdio(int fd)
{
	if (fd > 2)
		return fd;
	int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	int err = errno;
	close(fd);
	errno = err;
	return n;
}

/* A close-on-exec pipe with both ends above 2.  0 or -errno. */
static int make_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	p[0] = fd_above_stdio(p[0]);
	int err = errno;
	p[1] = fd_above_stdio(p[1]);
	if (p[1] < 0)
		err = errno;
	if (p[0] < 0 || p[1] < 0) {
		close_fd(&p[0]);
		close_fd(&p[1]);
		return -err;
	}
	return 0;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* Signal the program's process group, only while its leader is unreaped:
 * the zombie keeps the group id from being reused by an unrelated process. */
static void group_kill(const struct xrun *x, int sig)
{
	if (x->pidfd >= 0 && x->pid > 0)
		killpg(x->pid, sig);
}

/* Wait for the (dead or SIGKILLed) program and release its pid. */
static void reap(struct xrun *x)
{
	if (x->pidfd < 0)
		return;
	siginfo_t si;
	while (waitid(P_PIDFD, (id_t)x->pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
	loop_fd_del(x->loop, x->pidfd);  /* NETD_ENOTFOUND after exit: fine */
	close_fd(&x->pidfd);
}

/* Drop every fd, timer and buffer, and @x itself.  The program must be
 * reaped already (or never started). */
static void xrun_release(struct xrun *x)
{
	int *fds[] = {&x->in_fd, &x->out_fd, &x->pidfd};
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
		if (*fds[i] >= 0)
			loop_fd_del(x->loop, *fds[i]);
		close_fd(fds[i]);
	}
	loop_timer_del(x->loop, x->timeout_t);
	loop_timer_del(x->loop, x->kill_t);
	loop_timer_del(x->loop, x->grace_t);
	free(x->cap.head);
	free(x->cap.tail);
	free(x);
}

/* ---- the end of a run ------------------------------------------------ */

static bool summarize(const struct xrun *x, char *buf, size_t len)
{
	if (x->timed_out) {
		snprintf(buf, len, "timed out after %" PRIu32 " ms", x->timeout_ms);
		return false;
	}
	if (!x->status_known) {
		snprintf(buf, len, "exit status lost: the process was reaped outside the jig");
		return false;
	}
	if (x->wcode == CLD_EXITED) {
		snprintf(buf, len, "exit %d", x->wstatus);
		return x->wstatus == 0;
	}
	snprintf(buf, len, "killed by signal %d", x->wstatus);
	return false;
}

/* Report the run once the program has exited and its output is closed. */
static void xrun_maybe_end(struct xrun *x)
{
	if (!x->exited || x->out_fd >= 0)
		return;
	struct ann_jigs *J = x->J;
	struct ann_jig_run *run = x->run;
	if (x->timed_out)
		group_kill(x, SIGKILL);  /* what ignored SIGTERM dies with the run */
	reap(x);
	char summary[128];
	bool ok = summarize(x, summary, sizeof summary);
	const char *note = x->abandoned ? "\n[output closed 1 s after the program exited: "
					  "a background process still holds it]\n"
					: "";
	size_t log_len = 0;
	char *log = capture_take(&x->cap, note, &log_len);
	log_debug("exec jig: node-role %u: pid %d ended: %s", ann_jig_run_input(run)->nr, (int)x->pid,
		  summary);
	xrun_release(x);
	if (log)
		ann_jig_finishn(J, run, ok, summary, log, log_len);
	else
		ann_jig_finish(J, run, ok, summary, "[log lost: out of memory]");
	free(log);
}

/* ---- loop callbacks -------------------------------------------------- */

static void stdin_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	(void)events;
	struct xrun *x = arg;
	while (x->input_off < x->input_len) {
		ssize_t n = write_nosigpipe(fd, x->input + x->input_off, x->input_len - x->input_off);
		if (n > 0) {
			x->input_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		break;  /* EPIPE: the program does not read its input, which is fine */
	}
	loop_fd_del(l, fd);
	close_fd(&x->in_fd);  /* EOF for the program */
}

/* Read what is there, at most EXEC_READS_PER_WAKE chunks.  True at EOF or
 * on a read error (the pipe is useless then). */
static bool output_drain(struct xrun *x)
{
	char buf[EXEC_READ_CHUNK];
	for (int i = 0; i < EXEC_READS_PER_WAKE; i++) {
		ssize_t n = read(x->out_fd, buf, sizeof buf);
		if (n > 0) {
			capture_add(&x->cap, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
	}
	return false;
}

static void output_close(struct xrun *x)
{
	loop_fd_del(x->loop, x->out_fd);
	close_fd(&x->out_fd);
}

static void output_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	(void)l;
	(void)fd;
	(void)events;
	struct xrun *x = arg;
	if (!output_drain(x))
		return;
	output_close(x);
	xrun_maybe_end(x);
}

/* The program exited some time ago and something still holds the output
 * open: take what is there and stop listening. */
static void grace_cb(struct loop *l, void *arg)
{
	(void)l;
	struct xrun *x = arg;
	if (x->out_fd < 0)
		return;
	if (!output_drain(x))
		x->abandoned = true;
	output_close(x);
	xrun_maybe_end(x);
}

static void exited_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	(void)events;
	struct xrun *x = arg;
	siginfo_t si;
	memset(&si, 0, sizeof si);
	int rc = waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG | WNOWAIT);
	if (rc < 0 && errno == EINTR)
		return;
	if (rc == 0 && si.si_pid == 0)
		return;  /* not exited after all */
	x->exited = true;
	loop_fd_del(l, fd);  /* the fd stays open: it reaps at the end */
	if (rc == 0) {
		x->status_known = true;
		x->wcode = si.si_code;
		x->wstatus = si.si_status;
	} else {
		close_fd(&x->pidfd);  /* ECHILD: reaped behind our back (jig.h, Caveats) */
	}
	if (x->out_fd >= 0 && !x->grace_t &&
	    loop_timer_add(l, EXEC_GRACE_MS, 0, grace_cb, x, &x->grace_t) < 0)
		output_close(x);  /* no timer: do not risk waiting forever */
	xrun_maybe_end(x);
}

static void kill_cb(struct loop *l, void *arg)
{
	(void)l;
	struct xrun *x = arg;
	group_kill(x, SIGKILL);
}

static void timeout_cb(struct loop *l, void *arg)
{
	struct xrun *x = arg;
	x->timed_out = true;
	log_debug("exec jig: pid %d timed out after %" PRIu32 " ms", (int)x->pid, x->timeout_ms);
	group_kill(x, SIGTERM);
	if (loop_timer_add(l, EXEC_KILL_AFTER_MS, 0, kill_cb, x, &x->kill_t) < 0)
		group_kill(x, SIGKILL);
}

/* ---- start ----------------------------------------------------------- */

static size_t env_key_len(const char *s)
{
	const char *eq = strchr(s, '=');
	return eq ? (size_t)(eq - s) : 0;
}

/* "KEY=VALUE" in a new buffer, or NULL. */
static char *env_var(const char *key, const char *val)
{
	size_t k = strlen(key), v = strlen(val);
	char *s = malloc(k + v + 2);
	if (!s)
		return NULL;
	memcpy(s, key, k);
	s[k] = '=';
	memcpy(s + k + 1, val, v + 1);
	return s;
}

/* The program's environment (see jig.h): @own receives the strings made
 * here (the caller frees them with free_own(), also on failure); the
 * result points into @own and @in->env.  0, NETD_EINVAL for a malformed
 * env string, -ENOMEM. */
static int build_env(const struct ann_jig_input *in, char *own[EXEC_N_FIXED_ENV], char ***ret,
		     struct netd_err *e)
{
	for (size_t i = 0; i < in->n_env; i++)
		if (env_key_len(in->env[i]) == 0)
			return netd_err_set(e, NETD_EINVAL, NULL,
					    "exec jig: node-role %u: env string %zu \"%.64s\" is not KEY=VALUE",
					    in->nr, i, in->env[i]);
	char id[16];
	snprintf(id, sizeof id, "%" PRIu32, in->nr);
	own[0] = env_var("PATH", EXEC_PATH);
	own[1] = env_var("NETD_DEPLOYMENT", in->deployment);
	own[2] = env_var("NETD_NODE", in->node);
	own[3] = env_var("NETD_ROLE", in->role);
	own[4] = env_var("NETD_NODE_ROLE_ID", id);
	bool with_input = strlen(in->input_json) < ANN_JIG_INPUT_ENV_MAX;
	if (with_input)
		own[5] = env_var("NETD_INPUT", in->input_json);
	char **env = calloc(EXEC_N_FIXED_ENV + in->n_env + 1, sizeof *env);
	bool fail = !env || (with_input && !own[5]);
	for (size_t i = 0; i < EXEC_N_FIXED_ENV - 1; i++)
		fail |= !own[i];
	if (fail) {
		free(env);
		return netd_err_set(e, -ENOMEM, NULL,
				    "exec jig: node-role %u: out of memory building the environment", in->nr);
	}
	size_t n = 0;
	for (size_t i = 0; i < EXEC_N_FIXED_ENV; i++)
		if (own[i])
			env[n++] = own[i];
	/* The caller's strings come last and replace a variable of their name. */
	for (size_t i = 0; i < in->n_env; i++) {
		const char *s = in->env[i];
		size_t k = env_key_len(s), j;
		for (j = 0; j < n; j++)
			if (env_key_len(env[j]) == k && strncmp(env[j], s, k) == 0)
				break;
		env[j] = (char *)(uintptr_t)s;  /* posix_spawn's envp is char *const[] */
		if (j == n)
			n++;
	}
	env[n] = NULL;
	*ret = env;
	return 0;
}

static void free_own(char *own[EXEC_N_FIXED_ENV])
{
	for (size_t i = 0; i < EXEC_N_FIXED_ENV; i++) {
		free(own[i]);
		own[i] = NULL;
	}
}

/* posix_spawn() @in->script with stdin from @in_r and stdout+stderr to
 * @out_w.  Returns 0 and *@ret_pid, or the positive errno of the failure
 * (exec errors included). */
static int spawn(const struct ann_jig_input *in, char *const env[], int in_r, int out_w,
		 pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int rc = posix_spawn_file_actions_init(&fa);
	if (rc)
		return rc;
	rc = posix_spawnattr_init(&attr);
	if (rc) {
		posix_spawn_file_actions_destroy(&fa);
		return rc;
	}
	sigemptyset(&none);
	sigfillset(&all);
	/* netd blocks the signals its signalfd takes and may ignore SIGPIPE:
	 * both would be inherited across exec.  The program gets defaults. */
	if (!rc)
		rc = posix_spawnattr_setsigmask(&attr, &none);
	if (!rc)
		rc = posix_spawnattr_setsigdefault(&attr, &all);
	if (!rc)
		rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
						      POSIX_SPAWN_SETSIGDEF);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, in_r, 0);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, out_w, 1);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, out_w, 2);
	if (!rc)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (!rc)
		rc = posix_spawn_file_actions_addchdir_np(&fa, "/");
	char *argv[] = {(char *)(uintptr_t)in->script, (char *)(uintptr_t)in->deployment,
			(char *)(uintptr_t)in->node, (char *)(uintptr_t)in->role, NULL};
	if (!rc)
		rc = posix_spawn(ret_pid, in->script, &fa, &attr, argv, env);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* After a successful spawn: the pidfd, the three watches, the timeout. */
static int arm(struct xrun *x, struct netd_err *e)
{
	const struct ann_jig_input *in = ann_jig_run_input(x->run);
	int rc = 0;
	x->pidfd = pidfd_open(x->pid, 0);
	if (x->pidfd < 0)
		rc = -errno;
	if (!rc)
		rc = set_nonblock(x->in_fd);
	if (!rc)
		rc = set_nonblock(x->out_fd);
	if (!rc)
		rc = loop_fd_add(x->loop, x->out_fd, LOOP_IN, output_cb, x);
	if (!rc)
		rc = loop_fd_add(x->loop, x->in_fd, LOOP_OUT, stdin_cb, x);
	if (!rc)
		rc = loop_fd_add(x->loop, x->pidfd, LOOP_IN, exited_cb, x);
	if (!rc)
		rc = loop_timer_add(x->loop, x->timeout_ms, 0, timeout_cb, x, &x->timeout_t);
	if (rc < 0)
		return netd_err_set(e, rc, NULL, "exec jig: node-role %u: cannot watch %s: %s", in->nr,
				    in->script, netd_strerror(rc));
	return 0;
}

/* The spawned program must not outlive a failed start. */
static void kill_and_reap(struct xrun *x)
{
	killpg(x->pid, SIGKILL);
	if (x->pidfd >= 0) {
		reap(x);
		return;
	}
	while (waitpid(x->pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static int exec_start(void *ctx, struct ann_jigs *J, const struct ann_jig_input *in,
		      struct ann_jig_run *run, struct netd_err *e)
{
	(void)ctx;
	if (!in->script || in->script[0] != '/')
		return netd_err_set(e, NETD_EINVAL, NULL,
				    "exec jig: node-role %u (%s@%s): script path \"%s\" is not absolute",
				    in->nr, in->role, in->node, in->script ? in->script : "");
	char *own[EXEC_N_FIXED_ENV] = {0};
	char **env = NULL;
	int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
	struct xrun *x = NULL;
	int rc = build_env(in, own, &env, e);
	if (rc < 0)
		goto out;
	x = calloc(1, sizeof *x);
	if (!x) {
		rc = netd_err_set(e, -ENOMEM, NULL, "exec jig: node-role %u: out of memory", in->nr);
		goto out;
	}
	*x = (struct xrun){
		.J = J, .run = run, .loop = ann_jigs_loop(J),
		.pidfd = -1, .in_fd = -1, .out_fd = -1,
		.input = in->input_json, .input_len = strlen(in->input_json),
		.timeout_ms = in->timeout_ms ? in->timeout_ms : ANN_JIG_TIMEOUT_DEFAULT_MS,
	};
	rc = make_pipe(in_pipe);
	if (rc == 0)
		rc = make_pipe(out_pipe);
	if (rc < 0) {
		netd_err_set(e, rc, NULL, "exec jig: node-role %u: cannot make pipes: %s", in->nr,
			     netd_strerror(rc));
		goto out;
	}
	int err = spawn(in, env, in_pipe[0], out_pipe[1], &x->pid);
	close_fd(&in_pipe[0]);
	close_fd(&out_pipe[1]);
	if (err) {
		/* Reported like any failed run, on the next loop turn. */
		char summary[PATH_MAX + 128];
		snprintf(summary, sizeof summary, "cannot run %s: %s", in->script, netd_strerror(-err));
		ann_jig_finish(J, run, false, summary, NULL);
		rc = 0;
		goto out;
	}
	x->in_fd = in_pipe[1];
	x->out_fd = out_pipe[0];
	in_pipe[1] = out_pipe[0] = -1;
	rc = arm(x, e);
	if (rc < 0) {
		kill_and_reap(x);
		goto out;
	}
	log_debug("exec jig: node-role %u (%s@%s): %s started, pid %d", in->nr, in->role, in->node,
		  in->script, (int)x->pid);
	ann_jig_run_set_data(run, x);
	x = NULL;
out:
	if (x)
		xrun_release(x);
	close_fd(&in_pipe[0]);
	close_fd(&in_pipe[1]);
	close_fd(&out_pipe[0]);
	close_fd(&out_pipe[1]);
	free(env);
	free_own(own);
	return rc;
}

/* ann_jigs_free(): the whole group dies now, the leader is reaped, no
 * report. */
static void exec_cancel(void *ctx, struct ann_jig_run *run)
{
	(void)ctx;
	struct xrun *x = ann_jig_run_data(run);
	if (!x)
		return;
	group_kill(x, SIGKILL);
	reap(x);
	xrun_release(x);
	ann_jig_run_set_data(run, NULL);
}

const struct ann_jig_ops ann_jig_exec_ops = {
	.name = "exec",
	.start = exec_start,
	.cancel = exec_cancel,
};
