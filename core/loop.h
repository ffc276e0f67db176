/* core/loop.h — the epoll event loop that owns every descriptor.
 *
 * Single-threaded: callbacks run on the thread that calls loop_run().
 * Other threads talk to the loop only through loop_wake_* (an eventfd).
 * Signals are delivered through a signalfd (loop_signal blocks them).
 */
#ifndef NETD_CORE_LOOP_H
#define NETD_CORE_LOOP_H

#include <stdint.h>

struct loop;
struct loop_timer;
struct loop_wake;

enum { LOOP_IN = 1, LOOP_OUT = 4 };  /* same bits as EPOLLIN / EPOLLOUT */

typedef void (*loop_fd_cb)(struct loop *l, int fd, uint32_t events, void *arg);
typedef void (*loop_cb)(struct loop *l, void *arg);
typedef void (*loop_signal_cb)(struct loop *l, int signo, void *arg);

int loop_new(struct loop **out);
void loop_free(struct loop *l);   /* accepts NULL; closes the loop's own fds */

/* Watch @fd for @events (LOOP_IN | LOOP_OUT). One watch per fd. */
int loop_fd_add(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *arg);
int loop_fd_mod(struct loop *l, int fd, uint32_t events);
int loop_fd_del(struct loop *l, int fd);

/* One-shot or periodic timers (milliseconds, CLOCK_MONOTONIC). */
int loop_timer_add(struct loop *l, uint64_t after_ms, uint64_t every_ms, loop_cb cb, void *arg,
		   struct loop_timer **out);
void loop_timer_del(struct loop *l, struct loop_timer *t);  /* accepts NULL */

/* Block @signo and call @cb from the loop when it arrives. */
int loop_signal(struct loop *l, int signo, loop_signal_cb cb, void *arg);

/* A wake-up handle: any thread may call loop_wake(); @cb runs on the loop
 * thread (several wakes before it runs coalesce into one call). */
int loop_wake_new(struct loop *l, loop_cb cb, void *arg, struct loop_wake **out);
void loop_wake(struct loop_wake *w);

/* Run until loop_quit(). Returns 0, or a negative error from epoll. */
int loop_run(struct loop *l);
void loop_quit(struct loop *l);

/* Monotonic and wall clocks. */
uint64_t loop_now_ms(void);   /* CLOCK_MONOTONIC milliseconds */
uint64_t wall_now_s(void);    /* unix seconds */

#endif
