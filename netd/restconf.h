/* netd/restconf.h — the RESTCONF face (RFC 8040) over libmicrohttpd.
 *
 * Threads: libmicrohttpd runs its own polling thread(s); reads are answered
 * there, inside a read transaction.  Writes and RPCs are suspended and handed
 * to the loop thread through a wake-up; the loop runs every queued request in
 * one write transaction, each in a child transaction of its own, commits once
 * (group commit: many requests, one fsync), then resumes the connections with
 * their answers.  A request is answered only after its change is durable.
 *
 * The event stream (RFC 8040 section 6): GET /restconf/streams/netd/json
 * answers text/event-stream, one event per annealer transition
 * ("id: SEQ" + "data: <ietf-restconf:notification JSON>"), replayed from the
 * audit log after Last-Event-ID or ?after=SEQ, then live, with a
 * ": keepalive" comment after 15 s of silence.  Any authenticated user may
 * read it; at most 64 streams at once (503 beyond).  Its location is served
 * at /restconf/data/ietf-restconf-monitoring:restconf-state/streams.
 * Streams never block an HTTP thread: an idle one is a suspended connection
 * resumed by a notifier thread (restconf.c, "the event stream").
 */
#ifndef NETD_RESTCONF_H
#define NETD_RESTCONF_H

#include "core/err.h"
#include "netd/netd.h"

struct rc_server;

/* Listen on d->cfg's address (TLS when configured). 0 or an error in @e. */
int rc_start(struct netd *d, struct rc_server **out, struct netd_err *e);
/* Answer what is queued, end every event stream, then stop listening and
 * free. Accepts NULL. */
void rc_stop(struct rc_server *s);
/* Drop every cached answer (e.g. after a reload changed how answers are
 * printed: the hold-down shows in hold-until). */
void rc_forget_answers(struct rc_server *s);
/* The port actually bound (useful with port 0). */
unsigned rc_port(const struct rc_server *s);

#endif
