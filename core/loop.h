/* core/loop.h — the epoll event loop that owns every descriptor.
 *
 * Single-threaded: callbacks run on the thread that calls loop_run().
 * Other threads talk to the loop only through loop_wake_* (an eventfd).
 * Signals are delivered through a signalfd (loop_signal blocks them).
 *
 * Callbacks may add and delete fds and timers freely, including deleting
 * the timer whose callback is running and fds whose events are still
 * pending in the current batch (those events are dropped).
 *
 * Caveats:
 *  - Call loop_signal() before starting other threads: it blocks the signal
 *    only in the calling thread, and threads inherit the mask at creation.
 *    A thread that does not block it may take the signal instead.
 *  - Signals stay blocked after loop_free().
 *  - loop_fd_del() before close(): a dup of a closed fd would stay in epoll.
 *  - loop_free() must not be called from a callback, nor while another
 *    thread may still call loop_wake().
 */
#ifndef NETD_CORE_LOOP_H
#define NETD_CORE_LOOP_H

#include <stdint.h>

struct loop;
struct loop_timer;
struct loop_wake;

/* Same bits as EPOLLIN / EPOLLOUT / EPOLLERR / EPOLLHUP.  LOOP_ERR and
 * LOOP_HUP are never asked for; when they occur the callback gets them
 * together with the watched LOOP_IN / LOOP_OUT bits, so its read or write
 * sees the error. */
enum { LOOP_IN = 1, LOOP_OUT = 4, LOOP_ERR = 8, LOOP_HUP = 16 };

typedef void (*loop_fd_cb)(struct loop *l, int fd, uint32_t events, void *arg);
typedef void (*loop_cb)(struct loop *l, void *arg);
typedef void (*loop_signal_cb)(struct loop *l, int signo, void *arg);

int loop_new(struct loop **out);
void loop_free(struct loop *l);   /* accepts NULL; closes the loop's own fds */

/* Watch @fd for @events (LOOP_IN | LOOP_OUT). One watch per fd.
 * add: 0, NETD_EINVAL, NETD_EEXIST (fd already watched), -errno.
 * mod, del: 0, NETD_ENOTFOUND, -errno (mod only). */
int loop_fd_add(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *arg);
int loop_fd_mod(struct loop *l, int fd, uint32_t events);
int loop_fd_del(struct loop *l, int fd);

/* One-shot (@every_ms 0) or periodic timers (milliseconds, CLOCK_MONOTONIC).
 * Timers due at the same time fire in creation order.  A periodic timer
 * that fell behind skips the missed ticks.
 * Ownership: with @out, the caller owns the timer; it stays allocated (a
 * fired one-shot just goes idle) until loop_timer_del() or loop_free().
 * With @out NULL, a one-shot timer frees itself after its callback returns
 * (a periodic one then lives until loop_free()).
 * Returns 0, NETD_EINVAL (@cb NULL) or -ENOMEM. */
int loop_timer_add(struct loop *l, uint64_t after_ms, uint64_t every_ms, loop_cb cb, void *arg,
		   struct loop_timer **out);
void loop_timer_del(struct loop *l, struct loop_timer *t);  /* accepts NULL */

/* Block @signo and call @cb from the loop when it arrives (a second call
 * for the same @signo replaces the callback). 0, NETD_EINVAL or -errno. */
int loop_signal(struct loop *l, int signo, loop_signal_cb cb, void *arg);

/* A wake-up handle: any thread may call loop_wake(); @cb runs on the loop
 * thread (several wakes before it runs coalesce into one call). */
int loop_wake_new(struct loop *l, loop_cb cb, void *arg, struct loop_wake **out);
void loop_wake(struct loop_wake *w);  /* also async-signal-safe */

/* Run until loop_quit(). Returns 0, or a negative error from epoll.
 * loop_quit() called before loop_run() makes it return at once; the
 * request is consumed when loop_run() returns. */
int loop_run(struct loop *l);
void loop_quit(struct loop *l);

/* Monotonic and wall clocks. */
uint64_t loop_now_ms(void);   /* CLOCK_MONOTONIC milliseconds */
uint64_t wall_now_s(void);    /* unix seconds */

#endif
