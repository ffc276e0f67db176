/* bench/hello.c — the bare libmicrohttpd peer of netd's RESTCONF GET.
 *
 *   hello PORT [THREADS]
 *
 * Listens on 127.0.0.1:PORT (like netd in the benchmark) and answers every request with a fixed "hello" body, using the same daemon
 * setup as netd's RESTCONF server: MHD_USE_EPOLL_INTERNAL_THREAD with a
 * pool of THREADS (default 2, netd's default http-threads), and the response
 * queued on the second access-handler call (queueing it on the first makes
 * libmicrohttpd close the connection, defeating keep-alive).  Runs until
 * SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <microhttpd.h>

static const char HELLO[] = "hello\n";

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	static int seen;   /* only its address is used: a per-request marker */
	if (!*con_cls) {
		*con_cls = &seen;
		return MHD_YES;
	}
	*upload_size = 0;
	struct MHD_Response *r = MHD_create_response_from_buffer(sizeof HELLO - 1, (void *)HELLO,
								  MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

int main(int argc, char **argv)
{
	sigset_t set;
	int sig;
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: hello PORT [THREADS]\n");
		return 64;
	}
	unsigned port = (unsigned)strtoul(argv[1], NULL, 10);
	unsigned threads = argc == 3 ? (unsigned)strtoul(argv[2], NULL, 10) : 2;
	if (!port || port > 65535 || !threads) {
		fprintf(stderr, "hello: bad port or thread count\n");
		return 64;
	}
	/* Block the stop signals before the daemon's threads inherit the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port,
						NULL, NULL, on_request, NULL,
						MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
						MHD_OPTION_THREAD_POOL_SIZE, threads,
						MHD_OPTION_CONNECTION_TIMEOUT, 120u,
						MHD_OPTION_CONNECTION_LIMIT, 1024u,
						MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "hello: cannot listen on port %u\n", port);
		return 1;
	}
	fprintf(stderr, "hello: listening on port %u with %u threads\n", port, threads);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
