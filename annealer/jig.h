/* annealer/jig.h — jigs: what actually runs a node-role's transition.
 *
 * The scheduling core (annealer.h) decides *what* runs; a jig decides *how*.
 * Each role names a jig; when ann_next_runnable() hands out a node-role, the
 * daemon calls ann_jig_start() with the role's jig name and the node-role's
 * input, and the jig reports the end through the done callback given to
 * ann_jigs_new(), which the daemon turns into ann_complete().
 *
 * A struct ann_jigs is a registry of jigs by name plus the runs in flight,
 * bound to one struct loop (core/loop.h).  Two jigs are built in and
 * registered by ann_jigs_new():
 *   noop  succeeds on the next loop turn (summary "noop", empty log);
 *   exec  runs a program (see "The exec jig" below).
 * Jigs implemented elsewhere (netd registers ipam, dns, conduits, ...) are
 * added with ann_jig_register() and end their runs with ann_jig_finish().
 *
 * Contract between the registry and a jig (struct ann_jig_ops):
 *  - start() begins a run for @in (the registry's copy, valid until the run
 *    ends) and returns 0, or a negative error with a message in @e and no
 *    run (then no done() is ever delivered for it).
 *  - After a successful start, the jig ends the run exactly once with
 *    ann_jig_finish() (or ann_jig_finishn()), from the loop thread.  It may do
 *    so from inside start() (a synchronous jig): the registry then delivers
 *    done() from a 0 ms timer, so done() never runs inside ann_jig_start().
 *  - cancel() (may be NULL) is called only by ann_jigs_free() for a run that
 *    has not finished; it must release the run's resources at once and must
 *    not call ann_jig_finish().
 *  - ann_jig_run_set_data() attaches the jig's per-run state to the run.
 *
 * Delivery: done(arg, in, res) runs on the loop thread, from a loop callback,
 * once per successful start.  @in and every string in @res are valid only
 * during the call.  done() may start new runs and finish other runs; it must
 * not call ann_jigs_free().
 *
 * ---------------------------------------------------------------------------
 * The exec jig — the contract for script authors
 * ---------------------------------------------------------------------------
 * This is how shell, Ansible, Chef or any other automation plugs into netd.
 *
 * Invocation.  The program at the absolute path ann_jig_input.script is
 * executed directly (no shell; a script needs a "#!" line and the execute
 * bit) with
 *     argv = [script, deployment, node, role]
 * in a new session and process group (setsid), working directory "/", all
 * signals at their default action and unblocked, and no file descriptors
 * other than 0, 1 and 2 (netd's sockets and store never leak into it).
 * Everything else is netd's: user and groups, umask, resource limits,
 * cgroup, nice value.
 *
 * Input.  stdin is a pipe carrying the node-role's input document (a JSON
 * object; "{}" when there is none), then end-of-file.  Reading it is
 * optional: a script that ignores stdin neither blocks nor hurts netd.
 *
 * Environment.  Exactly these variables, nothing inherited from netd:
 *     PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
 *     NETD_DEPLOYMENT     deployment name (also argv[1])
 *     NETD_NODE           node name (also argv[2])
 *     NETD_ROLE           role name (also argv[3])
 *     NETD_NODE_ROLE_ID   the node-role id, decimal
 *     NETD_INPUT          the input document, only when shorter than 64 KiB
 *                         (read stdin to get it always)
 * followed by the caller's ann_jig_input.env strings ("KEY=VALUE"); one of
 * those replaces a variable of the same name above (PATH included).
 *
 * Output.  stdout and stderr go to one pipe, so they interleave in the order
 * written, and become the run's log.  netd keeps the first 32 KiB and the
 * last 32 KiB; longer output is cut in the middle with a line
 * "[... N bytes cut ...]".
 *
 * Exit status.  0 is success ("exit 0"); any other status is a failure
 * ("exit N"), as is death by a signal ("killed by signal N").  A program
 * that cannot be executed fails with "cannot run PATH: <reason>".
 *
 * Timeout.  ann_jig_input.timeout_ms (0 = 300000, five minutes) from the
 * start: the whole process group gets SIGTERM, then SIGKILL 2 s later if
 * still alive, and the run fails with "timed out after N ms".  A timed-out
 * run's process group is always sent SIGKILL before the run is reported.
 *
 * The end of a run is reported once the program has exited and its output
 * pipe has reached end-of-file.  Background processes the program leaves
 * behind are not killed after a normal exit, but if they keep the output
 * pipe open, netd closes it 1 s after the program exited (their further
 * writes fail with EPIPE or SIGPIPE) and says so in the log.  Start
 * long-lived services through the service manager, not as children.
 *
 * Idempotence.  A run may be repeated: after a crash or restart netd runs
 * again every node-role that was in transition, and an invalidation re-runs
 * active ones.  A script must converge to the desired state from any
 * starting point (check before changing; applying twice changes nothing).
 *
 * Caveats:
 *  - Not thread-safe: one owner (the event loop thread) calls everything.
 *  - Needs Linux >= 5.4 (pidfd_open, waitid(P_PIDFD)).  Processes are not
 *    reaped through SIGCHLD: the daemon must not set SIGCHLD to SIG_IGN
 *    (children would be reaped by the kernel) nor call wait(-1)/waitpid(-1)
 *    anywhere, which could reap an exec jig's process.
 *  - SIGPIPE: writing stdin to a program that exited never raises SIGPIPE
 *    in netd (it is blocked around the write and a resulting one consumed),
 *    whatever netd's own SIGPIPE disposition is.
 *  - ann_jigs_free() with exec runs in flight sends SIGKILL to their process
 *    groups and waits for each program to die (normally microseconds; a
 *    process stuck in uninterruptible sleep would delay it).
 */
#ifndef NETD_ANNEALER_JIG_H
#define NETD_ANNEALER_JIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct loop;
struct ann_jigs;      /* registry + runs in flight, bound to one loop */
struct ann_jig_run;   /* one run, from a successful start until done() */

#define ANN_JIG_TIMEOUT_DEFAULT_MS 300000u   /* timeout_ms 0 means this */
#define ANN_JIG_LOG_HEAD (32u * 1024u)       /* exec: output kept from the start */
#define ANN_JIG_LOG_TAIL (32u * 1024u)       /* exec: output kept from the end */
#define ANN_JIG_INPUT_ENV_MAX (64u * 1024u)  /* exec: NETD_INPUT only below this */

struct ann_jig_input {
	uint32_t nr;                     /* node-role id (opaque to the jig) */
	const char *deployment, *node, *role;  /* NULL reads as "" */
	const char *input_json;          /* JSON object text; NULL = "{}" */
	const char *const *env;          /* exec: extra "KEY=VALUE" strings; may be NULL */
	size_t n_env;
	const char *script;              /* exec: absolute program path */
	uint32_t timeout_ms;             /* 0 = ANN_JIG_TIMEOUT_DEFAULT_MS */
};

struct ann_jig_result {
	bool ok;
	const char *summary;   /* one line: "exit 0", "exit 3", "killed by signal 9",
				* "timed out after 2000 ms", "cannot run /x: No such
				* file or directory"; never NULL */
	const char *log;       /* output, NUL-terminated (may hold NULs: use log_len);
				* never NULL */
	size_t log_len;
	uint64_t elapsed_ms;   /* from start to the end of the run */
};

typedef void ann_jig_done_fn(void *arg, const struct ann_jig_input *in,
			     const struct ann_jig_result *res);

struct ann_jig_ops {
	const char *name;      /* unique in the registry, non-empty */
	/* Begin a run (see the contract above).  0, or a negative error. */
	int (*start)(void *ctx, struct ann_jigs *J, const struct ann_jig_input *in,
		     struct ann_jig_run *run, struct netd_err *e);
	/* Abandon an unfinished run, releasing everything; may be NULL. */
	void (*cancel)(void *ctx, struct ann_jig_run *run);
};

/* The built-in jigs' ops (ctx NULL), registered by ann_jigs_new(). */
extern const struct ann_jig_ops ann_jig_noop_ops;
extern const struct ann_jig_ops ann_jig_exec_ops;

/* ---- registry ---- */

/* Create a registry on @l with the built-in jigs; @done receives every end
 * of run.  0 and *@out, NETD_EINVAL (@l or @done NULL), or -ENOMEM. */
int ann_jigs_new(struct loop *l, ann_jig_done_fn *done, void *done_arg, struct ann_jigs **out);

/* Cancel every run in flight (exec: SIGKILL to the process group, then
 * reaped), without done() calls, and free @J.  Accepts NULL.  Not from
 * inside done().  The loop must still exist. */
void ann_jigs_free(struct ann_jigs *J);

/* Add a jig.  @ops must outlive @J; @ctx is passed to its functions.
 * 0, NETD_EINVAL (no name or no start), NETD_EEXIST (name taken, named in
 * the message), -ENOMEM. */
int ann_jig_register(struct ann_jigs *J, const struct ann_jig_ops *ops, void *ctx,
		     struct netd_err *e);

bool ann_jig_known(const struct ann_jigs *J, const char *name);

/* ---- runs ---- */

/* Start jig @name for @in.  @in and its strings are copied: the caller may
 * free them on return.  Returns 0 (exactly one done() follows, never from
 * inside this call), NETD_ENOTFOUND (unknown jig, named in the message),
 * -ENOMEM, or the jig's start error (exec: NETD_EINVAL for a missing or
 * relative script path or a malformed env string, -errno when pipes or the
 * pidfd cannot be made).  On error no done() follows. */
int ann_jig_start(struct ann_jigs *J, const char *name, const struct ann_jig_input *in,
		  struct netd_err *e);

/* End @run (for jigs that register themselves): @summary (NULL = "") and
 * @log (NULL = "", NUL-terminated) are copied or used before returning.
 * From the loop thread; done() runs inside this call unless the jig is
 * still inside its start(), in which case it runs on the next loop turn.
 * @run is invalid afterwards: finishing it again is a use after free
 * (except while a finish made inside start() awaits delivery: then a second
 * finish is ignored). */
void ann_jig_finish(struct ann_jigs *J, struct ann_jig_run *run, bool ok, const char *summary,
		    const char *log);
/* The same with a log of @log_len bytes that may contain NULs; @log[@log_len]
 * must be a NUL (done() hands the buffer on as a C string). */
void ann_jig_finishn(struct ann_jigs *J, struct ann_jig_run *run, bool ok, const char *summary,
		     const char *log, size_t log_len);

/* The registry's copy of the run's input (valid until the run ends). */
const struct ann_jig_input *ann_jig_run_input(const struct ann_jig_run *run);
/* The jig's private per-run state (NULL until set). */
void ann_jig_run_set_data(struct ann_jig_run *run, void *data);
void *ann_jig_run_data(const struct ann_jig_run *run);
/* The loop the registry is bound to (for jigs arming timers and fds). */
struct loop *ann_jigs_loop(const struct ann_jigs *J);

/* Runs started and not yet delivered. */
size_t ann_jigs_running(const struct ann_jigs *J);

#endif
