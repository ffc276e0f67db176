/* dns/xfer.h — synchronous DNS transport: one message to one server, one
 * reply back.  PRIVATE to dns/.
 *
 * UDP first, with a connected socket (so ICMP "port unreachable" surfaces
 * as -ECONNREFUSED and only the server's datagrams arrive); TCP with the
 * 2-byte length prefix (RFC 1035 4.2.2) when the message is over 512 bytes,
 * when the UDP reply has TC set, or when asked.  The reply must carry the
 * request's ID with QR set; other datagrams are ignored until the deadline.
 *
 * Caveats: this blocks the calling thread for up to @timeout_ms; the daemon
 * will drive DNS from its event loop instead and keep this for tools and
 * tests.  UDP is sent once, not retransmitted.
 */
#ifndef NETD_DNS_XFER_H
#define NETD_DNS_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/err.h"

#define DNS_SERVER_STRLEN 64u

struct dns_server {
	struct sockaddr_storage sa;
	socklen_t salen;
	char text[DNS_SERVER_STRLEN];  /* "127.0.0.1:5302", "[::1]:5302" */
};

/* Parse "ADDR", "ADDR:PORT", "[V6]" or "[V6]:PORT" (numeric addresses
 * only; a bare IPv6 address takes no port).  Returns 0 or NETD_EINVAL with
 * a message in @e. */
int dns_server_parse(const char *text, uint16_t default_port, struct dns_server *out,
		     struct netd_err *e);

#define DNS_XFER_TCP 0x1u  /* use TCP from the start */

/* How a dns_xfer() went. */
struct dns_xfer_info {
	bool tcp;        /* the reply came over TCP */
	bool truncated;  /* a UDP reply had TC set, TCP followed */
};

/* Send @msg (@len bytes, >= 12) to @srv and wait up to @timeout_ms in all
 * for the reply, copied into @reply (@cap bytes) with its size in
 * *reply_len.  @info may be NULL.  Returns 0; -ETIMEDOUT; -ECONNREFUSED or
 * another -errno from the socket calls; NETD_ETOOBIG if the reply exceeds
 * @cap; NETD_ECORRUPT for a TCP reply shorter than a header or with
 * another ID.  Errors carry a message naming the server in @e. */
int dns_xfer(const struct dns_server *srv, const uint8_t *msg, size_t len, uint8_t *reply,
	     size_t cap, size_t *reply_len, int timeout_ms, unsigned flags,
	     struct dns_xfer_info *info, struct netd_err *e);

/* The pieces of the TCP path, for other dns/ readers (axfr.c).  Times are
 * milliseconds of CLOCK_MONOTONIC (dns_now_ms); each call returns 0,
 * -ETIMEDOUT once @deadline passed, or -errno (-ECONNRESET for a peer that
 * closed while bytes were still expected). */
int64_t dns_now_ms(void);
/* Wait until @fd is ready for @events (POLLIN / POLLOUT). */
int dns_wait_fd(int fd, short events, int64_t deadline);
/* Write (@wr) or read exactly @n bytes. */
int dns_io_full(int fd, bool wr, void *p, size_t n, int64_t deadline);
/* A non-blocking, close-on-exec TCP socket connected to @srv in *@out. */
int dns_tcp_connect(const struct dns_server *srv, int64_t deadline, int *out);

#endif
