/* core/loop.c — epoll loop: fd watches, timers, signals, cross-thread wakes.
 *
 * Sources registered in epoll all start with a struct source tag, so one
 * epoll_event.data.ptr identifies what fired.
 *
 * Timers: one timerfd for the whole loop, armed (absolute, CLOCK_MONOTONIC)
 * at the earliest deadline of a list kept sorted by (deadline, seq).  The
 * seq makes equal deadlines fire in creation order and lets a dispatch pass
 * skip timers created during that pass, so a callback that re-adds a 0 ms
 * timer cannot starve the loop.  A sorted list is O(n) per insert, fine for
 * the tens to hundreds of timers netd keeps; swap in a heap if that changes.
 *
 * Deletion during dispatch: epoll_wait hands back a batch of pointers, and a
 * callback may delete a watch that a later event in the same batch points
 * to.  Deleted watches are therefore marked dead and freed only after the
 * batch.  The timer whose callback is running is likewise freed only after
 * its callback returns.
 */
#include "core/loop.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>

#include "core/err.h"

#define LOOP_BATCH 64

enum src_kind { SRC_FD, SRC_TIMERFD, SRC_SIGNAL, SRC_WAKE };

struct source {
	enum src_kind kind;
};

struct watch {
	struct source src;  /* first: epoll data.ptr points here */
	int fd;
	uint32_t events;
	loop_fd_cb cb;
	void *arg;
	bool dead;
	struct watch *next_zombie;
};

struct loop_timer {
	uint64_t deadline;  /* CLOCK_MONOTONIC ms */
	uint64_t every;     /* 0 = one-shot */
	uint64_t seq;
	loop_cb cb;
	void *arg;
	struct loop_timer **list;  /* &loop->timers, &loop->idle, or NULL */
	bool owned;         /* the caller holds a handle and must delete it */
	struct loop_timer *prev, *next;
};

struct loop_wake {
	struct source src;
	int efd;
	loop_cb cb;
	void *arg;
	struct loop_wake *next;
};

struct sig_handler {
	loop_signal_cb cb;
	void *arg;
};

struct loop {
	int epfd, tfd, sfd;
	struct source tfd_src, sig_src;

	struct watch **watches;  /* indexed by fd */
	size_t nwatches;
	struct watch *zombies;   /* deleted during dispatch, freed after it */
	bool dispatching;

	struct loop_timer *timers;  /* armed, sorted by (deadline, seq) */
	struct loop_timer *idle;    /* fired owned one-shots, kept for loop_free */
	uint64_t timer_seq;
	bool armed;
	uint64_t armed_ms;
	struct loop_timer *firing;  /* timer whose callback runs now */
	bool firing_deleted;

	sigset_t sigs;
	struct sig_handler sig[_NSIG];

	struct loop_wake *wakes;
	atomic_bool quit;
};

uint64_t loop_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t wall_now_s(void)
{
	return (uint64_t)time(NULL);
}

/* ---- lifetime --------------------------------------------------------- */

static int epoll_add_src(struct loop *l, int fd, struct source *src)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = src};
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int loop_new(struct loop **out)
{
	int rc;
	struct loop *l = calloc(1, sizeof *l);
	if (!l)
		return -ENOMEM;
	l->epfd = l->tfd = l->sfd = -1;
	l->tfd_src.kind = SRC_TIMERFD;
	l->sig_src.kind = SRC_SIGNAL;
	sigemptyset(&l->sigs);
	atomic_init(&l->quit, false);

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		rc = -errno;
		goto fail;
	}
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->tfd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = epoll_add_src(l, l->tfd, &l->tfd_src);
	if (rc < 0)
		goto fail;
	*out = l;
	return 0;
fail:
	loop_free(l);
	return rc;
}

static void free_zombies(struct loop *l)
{
	while (l->zombies) {
		struct watch *w = l->zombies;
		l->zombies = w->next_zombie;
		free(w);
	}
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nwatches; i++)
		free(l->watches[i]);  /* the watched fds belong to the caller */
	free(l->watches);
	free_zombies(l);
	struct loop_timer *lists[] = {l->timers, l->idle};
	for (size_t i = 0; i < 2; i++) {
		while (lists[i]) {
			struct loop_timer *t = lists[i];
			lists[i] = t->next;
			free(t);
		}
	}
	while (l->wakes) {
		struct loop_wake *w = l->wakes;
		l->wakes = w->next;
		close(w->efd);
		free(w);
	}
	/* Signals stay blocked: unblocking with one pending would run its
	 * default action, usually terminating the process. */
	if (l->sfd >= 0)
		close(l->sfd);
	if (l->tfd >= 0)
		close(l->tfd);
	if (l->epfd >= 0)
		close(l->epfd);
	free(l);
}

/* ---- fd watches ------------------------------------------------------- */

static struct watch *watch_get(struct loop *l, int fd)
{
	return fd >= 0 && (size_t)fd < l->nwatches ? l->watches[fd] : NULL;
}

static int watches_grow(struct loop *l, int fd)
{
	if ((size_t)fd < l->nwatches)
		return 0;
	size_t n = l->nwatches ? l->nwatches : 64;
	while (n <= (size_t)fd)
		n *= 2;
	struct watch **nw = realloc(l->watches, n * sizeof *nw);
	if (!nw)
		return -ENOMEM;
	memset(nw + l->nwatches, 0, (n - l->nwatches) * sizeof *nw);
	l->watches = nw;
	l->nwatches = n;
	return 0;
}

static uint32_t to_epoll(uint32_t events)
{
	return events & (EPOLLIN | EPOLLOUT);
}

int loop_fd_add(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *arg)
{
	if (fd < 0 || !cb)
		return NETD_EINVAL;
	if (watch_get(l, fd))
		return NETD_EEXIST;
	int rc = watches_grow(l, fd);
	if (rc < 0)
		return rc;
	struct watch *w = calloc(1, sizeof *w);
	if (!w)
		return -ENOMEM;
	*w = (struct watch){.src.kind = SRC_FD, .fd = fd, .events = events, .cb = cb, .arg = arg};
	struct epoll_event ev = {.events = to_epoll(events), .data.ptr = &w->src};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		rc = -errno;
		free(w);
		return rc;
	}
	l->watches[fd] = w;
	return 0;
}

int loop_fd_mod(struct loop *l, int fd, uint32_t events)
{
	struct watch *w = watch_get(l, fd);
	if (!w)
		return NETD_ENOTFOUND;
	struct epoll_event ev = {.events = to_epoll(events), .data.ptr = &w->src};
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	w->events = events;
	return 0;
}

int loop_fd_del(struct loop *l, int fd)
{
	struct watch *w = watch_get(l, fd);
	if (!w)
		return NETD_ENOTFOUND;
	/* Fails with EBADF if the caller closed the fd first, which already
	 * took it out of the epoll set; nothing left to undo then. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->watches[fd] = NULL;
	if (l->dispatching) {
		w->dead = true;
		w->next_zombie = l->zombies;
		l->zombies = w;
	} else {
		free(w);
	}
	return 0;
}

/* ERR and HUP come without being asked for; report them as readiness of the
 * watched directions too, so a callback that only tests LOOP_IN still reads
 * and sees the error (instead of the loop spinning on an ignored event). */
static void dispatch_fd(struct loop *l, struct watch *w, uint32_t e)
{
	if (w->dead)
		return;
	uint32_t ev = e & (EPOLLIN | EPOLLOUT);
	if (e & (EPOLLERR | EPOLLHUP)) {
		ev |= w->events & (LOOP_IN | LOOP_OUT);
		ev |= e & (EPOLLERR | EPOLLHUP);
	}
	if (ev)
		w->cb(l, w->fd, ev, w->arg);
}

/* ---- timers ----------------------------------------------------------- */

static bool timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
	return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void timer_link(struct loop *l, struct loop_timer *t)
{
	t->seq = ++l->timer_seq;
	struct loop_timer *prev = NULL, *cur = l->timers;
	while (cur && !timer_before(t, cur)) {
		prev = cur;
		cur = cur->next;
	}
	t->prev = prev;
	t->next = cur;
	if (cur)
		cur->prev = t;
	if (prev)
		prev->next = t;
	else
		l->timers = t;
	t->list = &l->timers;
}

/* The idle list is unordered: push at the head. */
static void timer_park(struct loop *l, struct loop_timer *t)
{
	t->prev = NULL;
	t->next = l->idle;
	if (l->idle)
		l->idle->prev = t;
	l->idle = t;
	t->list = &l->idle;
}

static void timer_unlink(struct loop_timer *t)
{
	if (!t->list)
		return;
	if (t->prev)
		t->prev->next = t->next;
	else
		*t->list = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->prev = t->next = NULL;
	t->list = NULL;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* The timer is owned by the caller when @out is given: it stays allocated
 * (a fired one-shot simply goes idle) until loop_timer_del() or loop_free().
 * With @out NULL a one-shot frees itself after its callback returns. */
int loop_timer_add(struct loop *l, uint64_t after_ms, uint64_t every_ms, loop_cb cb, void *arg,
		   struct loop_timer **out)
{
	if (!cb)
		return NETD_EINVAL;
	struct loop_timer *t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	t->deadline = add_sat(loop_now_ms(), after_ms);
	t->every = every_ms;
	t->cb = cb;
	t->arg = arg;
	t->owned = out != NULL;
	timer_link(l, t);
	if (out)
		*out = t;
	return 0;
}

void loop_timer_del(struct loop *l, struct loop_timer *t)
{
	if (!t)
		return;
	timer_unlink(t);
	if (t == l->firing)
		l->firing_deleted = true;  /* freed when its callback returns */
	else
		free(t);
}

/* Point the timerfd at the earliest deadline (or disarm it). */
static int timers_arm(struct loop *l)
{
	struct itimerspec its = {0};
	bool want = l->timers != NULL;
	uint64_t ms = want ? l->timers->deadline : 0;
	if (want == l->armed && ms == l->armed_ms)
		return 0;
	if (want) {
		its.it_value.tv_sec = (time_t)(ms / 1000);
		its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1;  /* all-zero would disarm */
	}
	if (timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	l->armed = want;
	l->armed_ms = ms;
	return 0;
}

static void timerfd_drain(struct loop *l)
{
	uint64_t ticks;
	ssize_t r = read(l->tfd, &ticks, sizeof ticks);
	(void)r;  /* EAGAIN: nothing pending; that is fine too */
	l->armed = false;  /* expired: the next timers_arm() must set it again */
}

static void run_timers(struct loop *l)
{
	uint64_t now = loop_now_ms();
	uint64_t last_seq = l->timer_seq;  /* timers added from here on wait */
	struct loop_timer *t;
	while ((t = l->timers) && t->deadline <= now && t->seq <= last_seq &&
	       !atomic_load(&l->quit)) {
		timer_unlink(t);
		if (t->every) {
			/* Keep the period's phase; after a stall, skip the missed
			 * ticks rather than firing them back to back. */
			t->deadline = add_sat(t->deadline, t->every);
			if (t->deadline <= now)
				t->deadline = add_sat(now, t->every);
			timer_link(l, t);
		}
		l->firing = t;
		l->firing_deleted = false;
		t->cb(l, t->arg);
		l->firing = NULL;
		if (l->firing_deleted || (!t->every && !t->owned))
			free(t);
		else if (!t->every)
			timer_park(l, t);
	}
}

/* ---- signals ---------------------------------------------------------- */

int loop_signal(struct loop *l, int signo, loop_signal_cb cb, void *arg)
{
	if (signo <= 0 || signo >= _NSIG || signo == SIGKILL || signo == SIGSTOP || !cb)
		return NETD_EINVAL;
	sigset_t one, next = l->sigs;
	sigemptyset(&one);
	sigaddset(&one, signo);
	sigaddset(&next, signo);
	int rc = pthread_sigmask(SIG_BLOCK, &one, NULL);
	if (rc)
		return -rc;
	int fd = signalfd(l->sfd, &next, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (l->sfd < 0) {
		rc = epoll_add_src(l, fd, &l->sig_src);
		if (rc < 0) {
			close(fd);
			return rc;
		}
		l->sfd = fd;
	}
	l->sigs = next;
	l->sig[signo] = (struct sig_handler){cb, arg};
	return 0;
}

static void dispatch_signals(struct loop *l)
{
	struct signalfd_siginfo si;
	while (read(l->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
		int signo = (int)si.ssi_signo;
		if (signo > 0 && signo < _NSIG && l->sig[signo].cb)
			l->sig[signo].cb(l, signo, l->sig[signo].arg);
	}
}

/* ---- wakes ------------------------------------------------------------ */

int loop_wake_new(struct loop *l, loop_cb cb, void *arg, struct loop_wake **out)
{
	if (!cb)
		return NETD_EINVAL;
	int rc;
	struct loop_wake *w = calloc(1, sizeof *w);
	if (!w)
		return -ENOMEM;
	w->src.kind = SRC_WAKE;
	w->cb = cb;
	w->arg = arg;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = epoll_add_src(l, w->efd, &w->src);
	if (rc < 0)
		goto fail;
	w->next = l->wakes;
	l->wakes = w;
	*out = w;
	return 0;
fail:
	if (w->efd >= 0)
		close(w->efd);
	free(w);
	return rc;
}

/* Any thread, also a signal handler: write() is async-signal-safe. EAGAIN
 * means the counter is saturated, i.e. a wake is pending anyway. */
void loop_wake(struct loop_wake *w)
{
	uint64_t one = 1;
	ssize_t r = write(w->efd, &one, sizeof one);
	(void)r;
}

static void dispatch_wake(struct loop *l, struct loop_wake *w)
{
	uint64_t n;
	/* Reading resets the counter: all wakes so far become one call. */
	if (read(w->efd, &n, sizeof n) == (ssize_t)sizeof n)
		w->cb(l, w->arg);
}

/* ---- running ---------------------------------------------------------- */

static void dispatch(struct loop *l, const struct epoll_event *e)
{
	struct source *src = e->data.ptr;
	switch (src->kind) {
	case SRC_FD:
		dispatch_fd(l, (struct watch *)src, e->events);
		break;
	case SRC_TIMERFD:
		timerfd_drain(l);
		break;
	case SRC_SIGNAL:
		dispatch_signals(l);
		break;
	case SRC_WAKE:
		dispatch_wake(l, (struct loop_wake *)src);
		break;
	}
}

/* 0 if a timer is due already, else -1 (block; the timerfd wakes us). */
static int wait_timeout(struct loop *l, int *timeout)
{
	if (l->timers && l->timers->deadline <= loop_now_ms()) {
		*timeout = 0;
		return 0;
	}
	*timeout = -1;
	return timers_arm(l);
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[LOOP_BATCH];
	int rc = 0;
	while (!atomic_load(&l->quit)) {
		int timeout;
		rc = wait_timeout(l, &timeout);
		if (rc < 0)
			break;
		int n = epoll_wait(l->epfd, evs, LOOP_BATCH, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		l->dispatching = true;
		for (int i = 0; i < n && !atomic_load(&l->quit); i++)
			dispatch(l, &evs[i]);
		run_timers(l);
		l->dispatching = false;
		free_zombies(l);
	}
	atomic_store(&l->quit, false);
	return rc;
}

/* Also before loop_run(): it then returns at once. */
void loop_quit(struct loop *l)
{
	atomic_store(&l->quit, true);
}
