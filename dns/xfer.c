/* dns/xfer.c — blocking UDP/TCP exchange of one DNS message with a
 * deadline.  See xfer.h.
 */
#include "dns/xfer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "dns/wire.h"

int dns_server_parse(const char *text, uint16_t default_port, struct dns_server *out,
		     struct netd_err *e)
{
	char host[48];  /* INET6_ADDRSTRLEN + 2; with "[]:65535" it fits text */
	const char *port_s = NULL;
	struct dns_server s;
	memset(&s, 0, sizeof s);
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || (size_t)(close - text - 1) >= sizeof host)
			goto bad;
		memcpy(host, text + 1, (size_t)(close - text - 1));
		host[close - text - 1] = '\0';
		if (close[1] == ':')
			port_s = close + 2;
		else if (close[1] != '\0')
			goto bad;
	} else {
		const char *c = strchr(text, ':');
		if (c && strchr(c + 1, ':'))
			c = NULL;  /* bare IPv6 */
		size_t hl = c ? (size_t)(c - text) : strlen(text);
		if (hl >= sizeof host)
			goto bad;
		memcpy(host, text, hl);
		host[hl] = '\0';
		if (c)
			port_s = c + 1;
	}
	unsigned long port = default_port;
	if (port_s) {
		char *end;
		errno = 0;
		port = strtoul(port_s, &end, 10);
		if (!*port_s || *end || errno || port == 0 || port > 65535)
			goto bad;
	}
	struct sockaddr_in *v4 = (struct sockaddr_in *)&s.sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&s.sa;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		s.salen = sizeof *v4;
		snprintf(s.text, sizeof s.text, "%s:%lu", host, port);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		s.salen = sizeof *v6;
		snprintf(s.text, sizeof s.text, "[%s]:%lu", host, port);
	} else {
		goto bad;
	}
	*out = s;
	return 0;
bad:
	return netd_err_set(e, NETD_EINVAL, NULL,
			    "DNS server \"%.80s\": expected ADDR, ADDR:PORT or [IPV6]:PORT", text);
}

int64_t dns_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for @events on @fd until @deadline.  0, -ETIMEDOUT or -errno. */
int dns_wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - dns_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = {.fd = fd, .events = events};
		int n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static uint16_t msg_id(const uint8_t *m)
{
	return (uint16_t)(m[0] << 8 | m[1]);
}

static int xfer_udp(const struct dns_server *srv, const uint8_t *msg, size_t len, uint8_t *reply,
		    size_t cap, size_t *reply_len, int64_t deadline)
{
	int rc, fd = socket(srv->sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&srv->sa, srv->salen) < 0 ||
	    send(fd, msg, len, 0) < 0) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		rc = dns_wait_fd(fd, POLLIN, deadline);
		if (rc)
			goto out;
		ssize_t n = recv(fd, reply, cap, MSG_TRUNC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if ((size_t)n > cap) {
			rc = NETD_ETOOBIG;
			goto out;
		}
		if (n >= (ssize_t)DNS_HEADER_LEN && msg_id(reply) == msg_id(msg) &&
		    (reply[2] & 0x80)) {
			*reply_len = (size_t)n;
			rc = 0;
			goto out;
		}
		/* a stray or mangled datagram: keep waiting */
	}
out:
	close(fd);
	return rc;
}

/* Write or read exactly @n bytes by the deadline. */
int dns_io_full(int fd, bool wr, void *p, size_t n, int64_t deadline)
{
	uint8_t *b = p;
	while (n > 0) {
		int rc = dns_wait_fd(fd, wr ? POLLOUT : POLLIN, deadline);
		if (rc)
			return rc;
		ssize_t k = wr ? send(fd, b, n, MSG_NOSIGNAL) : recv(fd, b, n, 0);
		if (k < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -ECONNRESET;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

int dns_tcp_connect(const struct dns_server *srv, int64_t deadline, int *out)
{
	int fd = socket(srv->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int rc = 0;
	if (connect(fd, (const struct sockaddr *)&srv->sa, srv->salen) < 0) {
		if (errno != EINPROGRESS) {
			rc = -errno;
			goto fail;
		}
		rc = dns_wait_fd(fd, POLLOUT, deadline);
		if (rc)
			goto fail;
		int err = 0;
		socklen_t el = sizeof err;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err) {
			rc = -err;
			goto fail;
		}
	}
	*out = fd;
	return 0;
fail:
	close(fd);
	return rc;
}

static int xfer_tcp(const struct dns_server *srv, const uint8_t *msg, size_t len, uint8_t *reply,
		    size_t cap, size_t *reply_len, int64_t deadline)
{
	int fd = -1, rc = dns_tcp_connect(srv, deadline, &fd);
	if (rc)
		return rc;
	uint8_t *out = malloc(len + 2);
	if (!out) {
		rc = -ENOMEM;
		goto done;
	}
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	memcpy(out + 2, msg, len);
	rc = dns_io_full(fd, true, out, len + 2, deadline);
	free(out);
	if (rc)
		goto done;
	uint8_t lb[2];
	rc = dns_io_full(fd, false, lb, 2, deadline);
	if (rc)
		goto done;
	size_t n = (size_t)(lb[0] << 8 | lb[1]);
	if (n > cap) {
		rc = NETD_ETOOBIG;
		goto done;
	}
	rc = dns_io_full(fd, false, reply, n, deadline);
	if (rc)
		goto done;
	if (n < DNS_HEADER_LEN || msg_id(reply) != msg_id(msg)) {
		rc = NETD_ECORRUPT;
		goto done;
	}
	*reply_len = n;
done:
	close(fd);
	return rc;
}

int dns_xfer(const struct dns_server *srv, const uint8_t *msg, size_t len, uint8_t *reply,
	     size_t cap, size_t *reply_len, int timeout_ms, unsigned flags,
	     struct dns_xfer_info *info, struct netd_err *e)
{
	struct dns_xfer_info in = {0};
	int64_t deadline = dns_now_ms() + (timeout_ms > 0 ? timeout_ms : 1);
	int rc;
	if (len < DNS_HEADER_LEN || len > DNS_MSG_MAX)
		return netd_err_set(e, NETD_EINVAL, NULL, "DNS message of %zu bytes to %s", len,
				    srv->text);
	bool tcp = (flags & DNS_XFER_TCP) || len > DNS_UDP_MAX;
	if (!tcp) {
		rc = xfer_udp(srv, msg, len, reply, cap, reply_len, deadline);
		if (rc == 0 && (reply[2] & 0x02)) {  /* TC */
			in.truncated = true;
			tcp = true;
		}
		if (rc)
			goto fail;
	}
	if (tcp) {
		in.tcp = true;
		rc = xfer_tcp(srv, msg, len, reply, cap, reply_len, deadline);
		if (rc)
			goto fail;
	}
	if (info)
		*info = in;
	return 0;
fail:
	return netd_err_set(e, rc, NULL, "DNS server %s over %s: %s", srv->text,
			    tcp ? "TCP" : "UDP",
			    rc == -ETIMEDOUT ? "no reply in time" : netd_strerror(rc));
}
