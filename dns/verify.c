/* dns/verify.c — verification by query: many (owner, type) questions to
 * one server at once, through c-ares.  See verify.h.
 *
 * Overview.  One c-ares channel per call, pointed at exactly one server
 * (ares_set_servers_ports(), UDP and TCP port from struct dns_server), with
 * ARES_FLAG_NOCHECKRESP so that REFUSED or SERVFAIL reach us as answers
 * instead of being retried elsewhere, NORECURSE (RD clear: we ask an
 * authority), and no search list.  Queries are built with wire.h and sent
 * with ares_send(); c-ares assigns the IDs, matches the answers (ID and
 * question), retries once and switches to TCP on a truncated answer.
 *
 * Up to @parallel queries are in flight, but not at once: the window
 * starts at WINDOW_START and grows by one per answer (doubling per round
 * trip), and is halved once per loss (an answer that needed a retry).  A
 * server's UDP socket buffer is finite: BIND 9.18 on loopback drops
 * queries when ~200 arrive from one socket faster than it reads them
 * (RcvbufErrors), and c-ares can only notice by a timeout; the window
 * keeps one such loss from becoming many.  The loop is the classic
 * ares_getsock() + poll() + ares_process_fd() one, with ares_timeout() as
 * the poll timeout.
 *
 * The library is initialised once per process (pthread_once); channels are
 * per call, so concurrent calls on different threads share nothing.
 *
 * c-ares status codes are translated here, once (ares_to_errno()).
 */
#include "dns/verify.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>

#define PARALLEL_DEFAULT 256u
#define TIMEOUT_DEFAULT_MS 2000u
#define QUERY_MAX 512u        /* header + question: a name is at most 255 octets */
#define RCVBUF (1 << 20)      /* our UDP socket: room for 256 answers in a burst */
#define WINDOW_START 16u      /* queries in flight at first (see the overview) */

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_status = ARES_SUCCESS;

static void lib_init(void)
{
	lib_status = ares_library_init(ARES_LIB_INIT_ALL);
}

static int ares_to_errno(int status)
{
	switch (status) {
	case ARES_ETIMEOUT: return -ETIMEDOUT;
	case ARES_ECONNREFUSED: return -ECONNREFUSED;
	case ARES_ENOMEM: return -ENOMEM;
	case ARES_EBADRESP: return NETD_ECORRUPT;
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION: return -ECANCELED;
	default: return -EIO;
	}
}

void dns_answer_clear(struct dns_answer *a)
{
	if (!a)
		return;
	dns_recset_clear(&a->rrs);
	memset(a, 0, sizeof *a);
}

/* One query of the batch. */
struct slot {
	struct batch *b;
	size_t i;
	struct dns_name name;  /* the asked owner, wire form */
};

struct batch {
	ares_channel ch;
	const struct dns_query_item *items;
	struct slot *slots;
	struct dns_answer *ans;  /* the answers being built */
	size_t n, next, done, inflight;
	unsigned parallel;       /* the caller's limit */
	unsigned window;         /* the current one: slow start, halved on a loss */
	size_t cut_at;           /* queries sent before the last halving: no second cut */
	int fatal;               /* -ENOMEM while taking an answer */
};

static bool type_ok(uint16_t t)
{
	return t == DNS_REC_A || t == DNS_REC_AAAA || t == DNS_REC_CNAME || t == DNS_REC_PTR ||
	       t == DNS_REC_TXT;
}

/* Keep one answer RR if it is at the asked owner and of the asked type (or
 * a CNAME: see verify.h). */
static int take_rr(const struct slot *s, uint16_t qtype, const uint8_t *msg, size_t len,
		   const struct dns_msg_ref *ref, struct dns_answer *a)
{
	struct dns_rd r;
	struct dns_rr rr;
	struct dns_rec rec;
	dns_rd_init(&r, msg, len);
	r.pos = ref->off;
	dns_rd_rr(&r, &rr);
	if (r.err)
		return NETD_ECORRUPT;
	if (!dns_name_eq(&rr.owner, &s->name) || (rr.type != qtype && rr.type != DNS_T_CNAME))
		return 0;  /* the CNAME's target and whatever else: not followed */
	if (dns_rec_from_rr(&rr, &rec) != 0) {
		a->n_other++;
		return 0;
	}
	return dns_recset_add(&a->rrs, &rec);
}

/* Parse the answer to slot @s into @a (rcode, rrs).  0, NETD_ECORRUPT or
 * -ENOMEM. */
static int take_answer(const struct slot *s, const uint8_t *msg, size_t len, struct dns_answer *a)
{
	struct dns_msg_iter it;
	struct dns_msg_ref ref;
	uint16_t qtype = s->b->items[s->i].type;
	if (dns_msg_iter_init(&it, msg, len) != 0)
		return NETD_ECORRUPT;
	a->rcode = DNS_F_RCODE(it.hdr.flags);
	int rc;
	while ((rc = dns_msg_iter_next(&it, &ref)) == 1) {
		if (ref.section != DNS_S_AN)
			continue;
		rc = take_rr(s, qtype, msg, len, &ref, a);
		if (rc)
			return rc;
	}
	if (rc)
		return NETD_ECORRUPT;
	dns_recset_sort(&a->rrs);
	return 0;
}

/* The window: +1 per answer that needed no retry, halved once per loss
 * event (a retried query sent after the last halving; the others lost in
 * the same burst do not cut again). */
static void window_adapt(struct batch *b, size_t i, bool lost)
{
	if (lost && i >= b->cut_at) {
		b->window = b->window > 1 ? b->window / 2 : 1;
		b->cut_at = b->next;
	} else if (!lost && b->window < b->parallel) {
		b->window++;
	}
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct slot *s = arg;
	struct batch *b = s->b;
	struct dns_answer *a = &b->ans[s->i];
	b->inflight--;
	b->done++;
	window_adapt(b, s->i, timeouts > 0);
	dns_answer_clear(a);
	if (status != ARES_SUCCESS || !abuf || alen <= 0) {
		a->rcode = ares_to_errno(status == ARES_SUCCESS ? ARES_EBADRESP : status);
		if (a->rcode == -ENOMEM)
			b->fatal = -ENOMEM;
		return;
	}
	int rc = take_answer(s, abuf, (size_t)alen, a);
	if (rc) {
		dns_answer_clear(a);
		a->rcode = rc;
		if (rc == -ENOMEM)
			b->fatal = -ENOMEM;
	}
}

/* Check every item and keep its name in wire form: nothing is sent
 * unless the whole batch is valid.  0 or NETD_EINVAL. */
static int prepare(struct batch *b, struct netd_err *e)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct dns_query_item *it = &b->items[i];
		struct slot *s = &b->slots[i];
		s->b = b;
		s->i = i;
		if (!type_ok(it->type))
			return netd_err_set(e, NETD_EINVAL, NULL, "query item %zu (%.255s): type %u is "
					    "not A, AAAA, CNAME, PTR or TXT", i, it->owner, it->type);
		if (memchr(it->owner, '\0', sizeof it->owner) == NULL ||
		    dns_name_parse(it->owner, 0, &s->name, NULL) != 0)
			return netd_err_set(e, NETD_EINVAL, NULL, "query item %zu: owner \"%.255s\" is "
					    "not a valid DNS name", i, it->owner);
	}
	return 0;
}

/* The query of slot @s into @buf (QUERY_MAX): its length. */
static int build_query(const struct slot *s, uint8_t *buf)
{
	struct dns_wr w;
	struct dns_header h = {.qdcount = 1};  /* ID set by c-ares; RD clear */
	struct dns_question q = {.name = s->name, .type = s->b->items[s->i].type, .cls = DNS_C_IN};
	dns_wr_init(&w, buf, QUERY_MAX);
	dns_wr_header(&w, &h);
	dns_wr_question(&w, &q);
	return (int)w.pos;  /* 12 + 255 + 4 always fit */
}

/* Fill the window of outstanding queries. */
static void submit(struct batch *b)
{
	uint8_t q[QUERY_MAX];
	while (b->next < b->n && b->inflight < b->window && !b->fatal) {
		size_t i = b->next++;
		int len = build_query(&b->slots[i], q);
		b->inflight++;  /* before: ares_send() may call back at once */
		ares_send(b->ch, q, len, on_answer, &b->slots[i]);
	}
}

/* One round of poll() on c-ares' sockets and processing. */
static int pump(struct batch *b)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct pollfd p[ARES_GETSOCK_MAXNUM];
	/* The bit mask by hand: ARES_GETSOCK_WRITABLE() shifts a signed 1 into
	 * the sign bit for socket 15. */
	unsigned bits = (unsigned)ares_getsock(b->ch, socks, ARES_GETSOCK_MAXNUM);
	nfds_t np = 0;
	for (unsigned k = 0; k < ARES_GETSOCK_MAXNUM; k++) {
		short ev = (short)((bits & (1u << k) ? POLLIN : 0) |
				   (bits & (1u << (k + ARES_GETSOCK_MAXNUM)) ? POLLOUT : 0));
		if (ev)
			p[np++] = (struct pollfd){.fd = socks[k], .events = ev};
	}
	struct timeval tv, *tvp = ares_timeout(b->ch, NULL, &tv);
	long ms = tvp ? tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000 : 1000;
	int n = poll(p, np, ms > INT_MAX ? INT_MAX : (int)ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 0) {
		ares_process_fd(b->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  /* timeouts */
		return 0;
	}
	for (nfds_t k = 0; k < np; k++) {
		short re = p[k].revents;
		if (!re)
			continue;
		ares_process_fd(b->ch, (re & (POLLIN | POLLERR | POLLHUP)) ? p[k].fd : ARES_SOCKET_BAD,
				(re & POLLOUT) ? p[k].fd : ARES_SOCKET_BAD);
	}
	return 0;
}

/* A channel that talks to @srv only. */
static int channel_open(const struct dns_server *srv, uint32_t timeout_ms, ares_channel *ch,
			struct netd_err *e)
{
	struct ares_options o;
	memset(&o, 0, sizeof o);
	o.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NORECURSE | ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	o.timeout = timeout_ms > INT_MAX ? INT_MAX : (int)timeout_ms;
	o.tries = 2;
	o.nservers = 0;  /* given: so c-ares does not read resolv.conf for servers */
	o.socket_receive_buffer_size = RCVBUF;
	int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SERVERS |
		   ARES_OPT_SOCK_RCVBUF;
	int st = ares_init_options(ch, &o, mask);
	if (st != ARES_SUCCESS)
		return netd_err_set(e, st == ARES_ENOMEM ? -ENOMEM : NETD_EUNSUPPORTED, NULL,
				    "c-ares channel for %s: %s", srv->text, ares_strerror(st));
	struct ares_addr_port_node node;
	memset(&node, 0, sizeof node);
	node.family = srv->sa.ss_family;
	if (node.family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)&srv->sa;
		memcpy(&node.addr.addr4, &v4->sin_addr, sizeof node.addr.addr4);
		node.udp_port = node.tcp_port = ntohs(v4->sin_port);
	} else {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&srv->sa;
		memcpy(&node.addr.addr6, &v6->sin6_addr, sizeof node.addr.addr6);
		node.udp_port = node.tcp_port = ntohs(v6->sin6_port);
	}
	st = ares_set_servers_ports(*ch, &node);
	if (st != ARES_SUCCESS) {
		ares_destroy(*ch);
		return netd_err_set(e, st == ARES_ENOMEM ? -ENOMEM : NETD_EUNSUPPORTED, NULL,
				    "c-ares: server %s: %s", srv->text, ares_strerror(st));
	}
	return 0;
}

static void answers_free(struct dns_answer *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++)
		dns_answer_clear(&a[i]);
	free(a);
}

/* Run the batch to the end.  0, -ENOMEM or -errno from poll(). */
static int run(struct batch *b)
{
	int rc = 0;
	while (rc == 0 && b->done < b->n) {
		submit(b);
		rc = b->fatal;
		if (rc == 0 && b->done < b->n)
			rc = pump(b);
	}
	return rc;
}

int dns_query_batch(const struct dns_server *srv, const struct dns_query_item *items, size_t n,
		    unsigned parallel, uint32_t timeout_ms, struct dns_answer *answers,
		    struct netd_err *e)
{
	struct batch b;
	memset(&b, 0, sizeof b);
	if (n == 0)
		return 0;
	pthread_once(&lib_once, lib_init);
	if (lib_status != ARES_SUCCESS)
		return netd_err_set(e, NETD_EUNSUPPORTED, NULL, "c-ares library: %s",
				    ares_strerror(lib_status));
	b.items = items;
	b.n = n;
	b.parallel = parallel ? parallel : PARALLEL_DEFAULT;
	b.window = b.parallel < WINDOW_START ? b.parallel : WINDOW_START;
	b.slots = calloc(n, sizeof *b.slots);
	b.ans = calloc(n, sizeof *b.ans);
	if (!b.slots || !b.ans) {
		free(b.slots);
		free(b.ans);
		return netd_err_set(e, -ENOMEM, NULL, "DNS queries: %zu answers: out of memory", n);
	}
	int rc = prepare(&b, e);
	if (rc)
		goto cleanup;
	rc = channel_open(srv, timeout_ms ? timeout_ms : TIMEOUT_DEFAULT_MS, &b.ch, e);
	if (rc)
		goto cleanup;
	rc = run(&b);
	ares_destroy(b.ch);  /* calls back what is still in flight (after an error) */
	if (rc) {
		netd_err_set(e, rc, NULL, "DNS queries to %s: %s", srv->text,
			     rc == -ENOMEM ? "out of memory" : netd_strerror(rc));
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		answers[i] = b.ans[i];
		memset(&b.ans[i], 0, sizeof b.ans[i]);  /* moved */
	}
cleanup:
	answers_free(b.ans, n);
	free(b.slots);
	return rc;
}
