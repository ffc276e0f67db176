/* Unit tests for core/loop.c: timers, wakes, signals, fd readiness, and
 * changes made from inside callbacks.  Each test arms a watchdog timer so a
 * bug shows up as a failure instead of a hang. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/loop.h"

static void on_watchdog(struct loop *l, void *arg)
{
	(void)l;
	(void)arg;
	fail_msg("watchdog: loop did not finish in time");
}

static struct loop *new_loop(void)
{
	struct loop *l = NULL;
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(loop_timer_add(l, 5000, 0, on_watchdog, NULL, NULL), 0);
	return l;
}

static void quit_cb(struct loop *l, void *arg)
{
	(void)arg;
	loop_quit(l);
}

/* ---- timers ----------------------------------------------------------- */

struct order {
	int seen[16];
	int n;
};

struct order_arg {
	struct order *o;
	int id;
};

static void record(struct loop *l, void *arg)
{
	(void)l;
	struct order_arg *a = arg;
	a->o->seen[a->o->n++] = a->id;
}

static void test_timer_order(void **state)
{
	(void)state;
	struct loop *l = new_loop();
	struct order o = {0};
	/* Created out of order; ids are the expected firing order. Equal
	 * deadlines fire in creation order (3 before 4). */
	static const struct { uint64_t after; int id; } t[] = {
		{30, 5}, {10, 2}, {0, 1}, {20, 3}, {20, 4},
	};
	struct order_arg args[5];
	uint64_t start = loop_now_ms();
	for (int i = 0; i < 5; i++) {
		args[i] = (struct order_arg){&o, t[i].id};
		assert_int_equal(loop_timer_add(l, t[i].after, 0, record, &args[i], NULL), 0);
	}
	assert_int_equal(loop_timer_add(l, 40, 0, quit_cb, NULL, NULL), 0);
	assert_int_equal(loop_run(l), 0);
	assert_true(loop_now_ms() - start >= 40);
	assert_int_equal(o.n, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(o.seen[i], i + 1);
	loop_free(l);
}

struct periodic {
	int count;
	uint64_t first, last;
	struct loop_timer *t;
};

static void on_periodic(struct loop *l, void *arg)
{
	struct periodic *p = arg;
	uint64_t now = loop_now_ms();
	if (p->count++ == 0)
		p->first = now;
	p->last = now;
	if (p->count == 5)
		loop_quit(l);
}

static void test_timer_periodic(void **state)
{
	(void)state;
	struct loop *l = new_loop();
	struct periodic p = {0};
	uint64_t start = loop_now_ms();
	assert_int_equal(loop_timer_add(l, 5, 10, on_periodic, &p, &p.t), 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(p.count, 5);
	/* Deadlines keep the phase (start + 5 + k * 10), so the gap between
	 * two callbacks can be shorter than a period when the first ran late;
	 * measure from the start instead. */
	assert_true(p.first - start >= 5);
	assert_true(p.last - start >= 45);
	loop_timer_del(l, p.t);
	loop_free(l);
}

struct self_del {
	int count;
	struct loop_timer *t;
};

static void on_self_del(struct loop *l, void *arg)
{
	struct self_del *s = arg;
	s->count++;
	loop_timer_del(l, s->t);  /* deleting the timer that is firing */
	s->t = NULL;
}

static void test_timer_delete_self(void **state)
{
	(void)state;
	struct loop *l = new_loop();
	struct self_del periodic = {0}, oneshot = {0};
	assert_int_equal(loop_timer_add(l, 1, 1, on_self_del, &periodic, &periodic.t), 0);
	assert_int_equal(loop_timer_add(l, 2, 0, on_self_del, &oneshot, &oneshot.t), 0);
	assert_int_equal(loop_timer_add(l, 30, 0, quit_cb, NULL, NULL), 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(periodic.count, 1);  /* never again after deleting itself */
	assert_int_equal(oneshot.count, 1);
	loop_free(l);
}

struct del_other {
	struct loop_timer *victim;
	int fired;
};

static void on_del_other(struct loop *l, void *arg)
{
	struct del_other *d = arg;
	loop_timer_del(l, d->victim);
	d->victim = NULL;
}

static void on_victim(struct loop *l, void *arg)
{
	(void)l;
	((struct del_other *)arg)->fired++;
}

static void test_timer_delete_other(void **state)
{
	(void)state;
	struct loop *l = new_loop();
	struct del_other d = {0};
	/* Same deadline: the killer runs first (created first) and deletes the
	 * victim, which is due in the same pass. */
	assert_int_equal(loop_timer_add(l, 5, 0, on_del_other, &d, NULL), 0);
	assert_int_equal(loop_timer_add(l, 5, 0, on_victim, &d, &d.victim), 0);
	assert_int_equal(loop_timer_add(l, 20, 0, quit_cb, NULL, NULL), 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(d.fired, 0);
	assert_null(d.victim);
	loop_free(l);
}

struct readd {
	int count;
};

static void on_readd(struct loop *l, void *arg)
{
	struct readd *r = arg;
	/* A 0 ms timer adding another 0 ms timer must not starve the loop:
	 * the quit timer below still gets its turn. */
	if (++r->count < 1000000)
		assert_int_equal(loop_timer_add(l, 0, 0, on_readd, r, NULL), 0);
}

static void test_timer_readd_zero(void **state)
{
	(void)state;
	struct loop *l = new_loop();
	struct readd r = {0};
	assert_int_equal(loop_timer_add(l, 0, 0, on_readd, &r, NULL), 0);
	assert_int_equal(loop_timer_add(l, 10, 0, quit_cb, NULL, NULL), 0);
	assert_int_equal(loop_run(l), 0);
	assert_true(r.count > 1);
	assert_true(r.count < 1000000);
	loop_free(l);  /* frees the pending unowned timer */
}

static void count_cb(struct loop *l, void *arg)
{
	(void)l;
	(*(int *)arg)++;
}

/* An owned one-shot goes idle after firing: deleting it later is fine, and
 * so is leaving it to loop_free() (the ASan build checks for leaks). */
static void test_timer_owned_oneshot(void **state)
{
	(void)state;
	struct loop *l = new_loop();
	int a = 0, b = 0;
	struct loop_timer *ta, *tb, *never;
	/* A deadline at the end of time must not break arming the timerfd. */
	assert_int_equal(loop_timer_add(l, UINT64_MAX, 0, count_cb, &a, &never), 0);
	assert_int_equal(loop_timer_add(l, 1, 0, count_cb, &a, &ta), 0);
	assert_int_equal(loop_timer_add(l, 2, 0, count_cb, &b, &tb), 0);
	assert_int_equal(loop_timer_add(l, 10, 0, quit_cb, NULL, NULL), 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(a, 1);
	assert_int_equal(b, 1);
	loop_timer_del(l, ta);
	loop_timer_del(l, never);
	loop_timer_del(l, NULL);
	loop_free(l);  /* frees tb */
}

static void test_quit_before_run(void **state)
{
	(void)state;
	struct loop *l = new_loop();
	loop_quit(l);
	assert_int_equal(loop_run(l), 0);
	/* The request was consumed: the next run needs its own quit. */
	assert_int_equal(loop_timer_add(l, 1, 0, quit_cb, NULL, NULL), 0);
	assert_int_equal(loop_run(l), 0);
	loop_free(l);
	loop_free(NULL);
}

/* ---- wakes ------------------------------------------------------------ */

struct waker {
	struct loop_wake *w;
	int calls;
};

static void *wake_thread(void *arg)
{
	struct waker *k = arg;
	usleep(10000);
	loop_wake(k->w);
	return NULL;
}

static void on_wake(struct loop *l, void *arg)
{
	struct waker *k = arg;
	k->calls++;
	loop_quit(l);
}

static void test_wake_thread(void **state)
{
	(void)state;
	struct loop *l = new_loop();
	struct waker k = {0};
	assert_int_equal(loop_wake_new(l, on_wake, &k, &k.w), 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, wake_thread, &k), 0);
	assert_int_equal(loop_run(l), 0);
	pthread_join(th, NULL);
	assert_int_equal(k.calls, 1);

	/* Several wakes before the loop runs coalesce into one call. */
	loop_wake(k.w);
	loop_wake(k.w);
	loop_wake(k.w);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(k.calls, 2);
	loop_free(l);
}

/* ---- signals ---------------------------------------------------------- */

struct sigseen {
	int signo, calls;
};

static void on_signal(struct loop *l, int signo, void *arg)
{
	struct sigseen *s = arg;
	s->signo = signo;
	s->calls++;
	loop_quit(l);
}

static void send_usr1(struct loop *l, void *arg)
{
	(void)l;
	(void)arg;
	kill(getpid(), SIGUSR1);
}

static void test_signal(void **state)
{
	(void)state;
	struct loop *l = new_loop();
	struct sigseen s = {0};
	assert_int_equal(loop_signal(l, SIGUSR1, on_signal, &s), 0);
	assert_int_equal(loop_timer_add(l, 5, 0, send_usr1, NULL, NULL), 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(s.signo, SIGUSR1);
	assert_int_equal(s.calls, 1);

	assert_int_equal(loop_signal(l, SIGKILL, on_signal, &s), NETD_EINVAL);
	assert_int_equal(loop_signal(l, 0, on_signal, &s), NETD_EINVAL);
	assert_int_equal(loop_signal(l, SIGUSR2, NULL, NULL), NETD_EINVAL);
	loop_free(l);
}

/* ---- fds -------------------------------------------------------------- */

struct pipe_ctx {
	int rfd, wfd;
	char got[8];
	int reads, writes;
	uint32_t events;
};

static void on_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct pipe_ctx *p = arg;
	p->events = events;
	ssize_t n = read(fd, p->got, sizeof p->got - 1);
	assert_true(n > 0);
	p->got[n] = '\0';
	p->reads++;
	loop_quit(l);
}

static void on_writable(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct pipe_ctx *p = arg;
	assert_true(events & LOOP_OUT);
	assert_int_equal(write(fd, "ping", 4), 4);
	p->writes++;
	/* Done writing: stop asking, else this fires forever. */
	assert_int_equal(loop_fd_del(l, fd), 0);
}

static void test_pipe(void **state)
{
	(void)state;
	struct loop *l = new_loop();
	struct pipe_ctx p = {0};
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	p.rfd = fds[0];
	p.wfd = fds[1];
	assert_int_equal(loop_fd_add(l, p.rfd, LOOP_IN, on_readable, &p), 0);
	assert_int_equal(loop_fd_add(l, p.wfd, LOOP_OUT, on_writable, &p), 0);
	assert_int_equal(loop_fd_add(l, p.rfd, LOOP_IN, on_readable, &p), NETD_EEXIST);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(p.writes, 1);
	assert_int_equal(p.reads, 1);
	assert_true(p.events & LOOP_IN);
	assert_string_equal(p.got, "ping");

	assert_int_equal(loop_fd_mod(l, p.wfd, LOOP_OUT), NETD_ENOTFOUND);
	assert_int_equal(loop_fd_del(l, p.wfd), NETD_ENOTFOUND);
	assert_int_equal(loop_fd_add(l, -1, LOOP_IN, on_readable, &p), NETD_EINVAL);
	assert_int_equal(loop_fd_del(l, p.rfd), 0);
	close(p.rfd);
	close(p.wfd);
	loop_free(l);
}

static void on_hup(struct loop *l, int fd, uint32_t events, void *arg)
{
	uint32_t *ev = arg;
	*ev = events;
	loop_fd_del(l, fd);
	loop_quit(l);
}

static void test_pipe_hup(void **state)
{
	(void)state;
	struct loop *l = new_loop();
	int fds[2];
	uint32_t ev = 0;
	assert_int_equal(pipe(fds), 0);
	close(fds[1]);
	assert_int_equal(loop_fd_add(l, fds[0], LOOP_IN, on_hup, &ev), 0);
	assert_int_equal(loop_run(l), 0);
	assert_true(ev & LOOP_IN);   /* reported so a read sees EOF */
	assert_true(ev & LOOP_HUP);
	close(fds[0]);
	loop_free(l);
}

/* Two readable pipes in one batch: the first callback deletes (and closes)
 * the second; its pending event must be dropped, not dispatched. */
struct pair {
	int a[2], b[2];
	int a_calls, b_calls;
};

static void on_a(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct pair *p = arg;
	p->a_calls++;
	if (p->b[0] >= 0) {
		assert_int_equal(loop_fd_del(l, p->b[0]), 0);
		close(p->b[0]);
		p->b[0] = -1;
	}
	char c;
	assert_int_equal(read(fd, &c, 1), 1);
	loop_quit(l);
}

static void on_b(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct pair *p = arg;
	p->b_calls++;
	if (p->a[0] >= 0) {
		assert_int_equal(loop_fd_del(l, p->a[0]), 0);
		close(p->a[0]);
		p->a[0] = -1;
	}
	char c;
	assert_int_equal(read(fd, &c, 1), 1);
	loop_quit(l);
}

static void test_fd_delete_in_batch(void **state)
{
	(void)state;
	struct loop *l = new_loop();
	struct pair p = {0};
	assert_int_equal(pipe(p.a), 0);
	assert_int_equal(pipe(p.b), 0);
	assert_int_equal(loop_fd_add(l, p.a[0], LOOP_IN, on_a, &p), 0);
	assert_int_equal(loop_fd_add(l, p.b[0], LOOP_IN, on_b, &p), 0);
	assert_int_equal(write(p.a[1], "x", 1), 1);
	assert_int_equal(write(p.b[1], "x", 1), 1);
	assert_int_equal(loop_run(l), 0);
	/* Whichever ran first removed the other. */
	assert_int_equal(p.a_calls + p.b_calls, 1);
	for (int i = 0; i < 2; i++) {
		if (p.a[i] >= 0)
			close(p.a[i]);
		if (p.b[i] >= 0)
			close(p.b[i]);
	}
	loop_free(l);
}

static void test_clocks(void **state)
{
	(void)state;
	uint64_t a = loop_now_ms();
	usleep(2000);
	uint64_t b = loop_now_ms();
	assert_true(b >= a + 2);
	assert_true(wall_now_s() > 1600000000u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_order),
		cmocka_unit_test(test_timer_periodic),
		cmocka_unit_test(test_timer_delete_self),
		cmocka_unit_test(test_timer_delete_other),
		cmocka_unit_test(test_timer_readd_zero),
		cmocka_unit_test(test_timer_owned_oneshot),
		cmocka_unit_test(test_quit_before_run),
		cmocka_unit_test(test_wake_thread),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_pipe_hup),
		cmocka_unit_test(test_fd_delete_in_batch),
		cmocka_unit_test(test_clocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
