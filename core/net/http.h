/* HTTP/1.1 server on the libev loop (parser: Debian's http-parser), with
 * optional TLS (mbedtls) and WebSocket upgrade (wslay).
 *
 * Thread: loop thread only. Everything may be called from the server's own
 * callbacks (handlers, on_message, on_close, the observer) except
 * sb_http_server_free.
 *
 * Requests on one connection are handled one at a time, in order
 * (pipelined requests wait in the input buffer until the previous one is
 * answered), so responses always leave in request order. A handler may
 * answer at once or later (after a commit, after an outbound call) by its
 * request id; if the client leaves first (EOF or error while the request is
 * pending), the connection is closed, the late answer is dropped and
 * sb_http_respond returns SB_ERR_HANDLE.
 *
 * Limits (sb_http_limits) are enforced before a handler ever runs: 413 for a
 * body over max_body (Content-Length, checked before the body is read, or
 * chunked), 431 for a head over max_header bytes or max_headers lines, 417
 * for an Expect other than 100-continue, 400 for malformed requests (the
 * connection closes after any of these), 408 and close when the head or
 * body does not arrive within its timeout (header_timeout runs from the
 * first byte of the request line to the end of the head, body_timeout over
 * the whole body), idle keep-alive connections are closed after
 * idle_timeout (an answer the client stops reading: once nothing of it has
 * moved for one to two idle_timeouts), and accept() pauses at
 * max_connections and resumes below it. Every error body is
 * {"error":{"code","message"}}. "Expect: 100-continue" is answered with
 * "100 Continue" only when the declared length is within max_body.
 */
#ifndef SB_HTTP_H
#define SB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <switchboard/plugin.h> /* sb_status, sb_header */

struct ev_loop;
typedef struct sb_http_server sb_http_server;

/* A zero field takes its default (the one in brackets). */
typedef struct sb_http_limits {
    uint64_t max_body;          /* bytes [1 MiB] */
    uint64_t max_header;        /* bytes of the request head [16 KiB]; at most 80 KiB
                                   (http-parser's own ceiling) */
    int64_t max_headers;        /* header lines [100] */
    int64_t max_connections;    /* [10000] */
    uint64_t idle_timeout_ms;   /* [60 s] */
    uint64_t header_timeout_ms; /* [10 s] */
    uint64_t body_timeout_ms;   /* [30 s] */
    uint64_t ws_max_message;    /* bytes of one (reassembled) WS message [1 MiB] */
    uint64_t ws_max_queue;      /* bytes queued to one WS peer before it is dropped [4 MiB] */
    uint64_t ws_ping_ms;        /* ping interval; a peer silent for 2 intervals is
                                   closed [30 s] */
} sb_http_limits;

/* One request, owned by the server, valid until it is answered or the
 * connection closes. Handlers get it BORROWED; keep `id`, not the pointer,
 * across loop iterations. */
typedef struct sb_http_req {
    uint64_t id;             /* for sb_http_respond; never 0 */
    const char *method;      /* "GET" ... */
    const char *path;        /* raw (not percent-decoded) path without query */
    const char *query;       /* raw, "" when none */
    const sb_header *headers;/* as received (values without surrounding blanks);
                                trailers of a chunked body are dropped */
    size_t n_headers;
    const char *body;        /* NUL-terminated (the NUL is not counted) */
    size_t body_len;
    const char *peer;        /* "ip:port", "[v6]:port" */
    const char *subpath;     /* path after the matched route prefix ("" when exact) */
    void *route_ud;          /* the ud given to sb_http_route */
    int64_t received_ms;     /* loop time when the head was complete */
} sb_http_req;

/* Case-insensitive header lookup; NULL when absent. */
const char *sb_http_header(const sb_http_req *req, const char *name);

typedef void (*sb_http_handler_fn)(sb_http_req *req, void *ud);

/* lim NULL = every default. NULL on allocation failure. */
sb_http_server *sb_http_server_new(struct ev_loop *loop, const sb_http_limits *lim);
/* Stops accepting, closes every connection (pending requests dropped; open
 * WebSockets get on_close with 1001). */
void sb_http_server_free(sb_http_server *srv);

/* Binds "host:port" or "[v6]:port" (host numeric, "localhost", "*" or
 * empty for every IPv4 address; "[::]" binds IPv6 only). May be called
 * more than once. With cert and key (PEM files) the listener speaks TLS
 * (1.2). Errors name the address and the reason. */
sb_status sb_http_listen(sb_http_server *srv, const char *addr, const char *tls_cert,
                         const char *tls_key, char *err, size_t errlen);
/* The port bound by the first successful sb_http_listen (useful with port 0);
 * 0 when none. */
int sb_http_port(const sb_http_server *srv);
/* Stop accepting new connections (shutdown begins); responses from now on
 * carry "Connection: close". */
void sb_http_stop_accepting(sb_http_server *srv);

/* Routes. Exact match, or prefix match (path itself and anything below
 * "path/"; a prefix ending in '/' covers everything below it). The longest
 * matching prefix wins; exact beats prefix. `method` (upper-case token,
 * "GET") NULL = any; a GET route also answers HEAD. A path that matches with
 * another method only gets 405 (with Allow). `owner` groups routes for
 * removal (a plugin instance). path must start with '/'; method and path
 * are copied. SB_ERR_EXISTS for the same method, path and kind twice. */
sb_status sb_http_route(sb_http_server *srv, const char *method, const char *path,
                        bool prefix, sb_http_handler_fn fn, void *ud, const void *owner);
void sb_http_unroute_owner(sb_http_server *srv, const void *owner);

/* Answers request `id`. content_type NULL = "application/json". headers and
 * body are copied; Content-Length, Connection and Transfer-Encoding in
 * `headers` are ignored (the server frames the response). HEAD requests get
 * the headers only; 204 and 304 never carry a body. Returns SB_ERR_HANDLE
 * when the request is gone or already answered, SB_ERR_INVALID (request
 * still pending) for a status outside 200..599 or a header with CR/LF. */
sb_status sb_http_respond(sb_http_server *srv, uint64_t id, int status,
                          const char *content_type, const sb_header *headers,
                          size_t n_headers, const void *body, size_t len);
/* {"error":{"code":code,"message":message}} with proper JSON escaping
 * (invalid UTF-8 becomes U+FFFD). */
sb_status sb_http_error(sb_http_server *srv, uint64_t id, int status,
                        const char *code, const char *message);

/* Called after every response (also the server's own 4xx), from inside the
 * call that answered: for metrics. route is the matched route's path
 * pattern (or "unmatched"); method "UNKNOWN" when the request line was
 * unreadable; seconds from the complete head (or from the first byte) to
 * the answer. Strings are borrowed for the call. */
typedef void (*sb_http_observe_fn)(void *ud, const char *route, const char *method,
                                   int status, double seconds);
void sb_http_set_observer(sb_http_server *srv, sb_http_observe_fn fn, void *ud);

typedef struct sb_http_stats {
    uint64_t open_connections;
    uint64_t ws_clients;
    uint64_t accepted;
    uint64_t rejected_limit;   /* times accept() paused at max_connections */
} sb_http_stats;
void sb_http_get_stats(const sb_http_server *srv, sb_http_stats *out);

/* ---- WebSocket (RFC 6455) ------------------------------------------------ */
typedef struct sb_ws_handlers {
    /* A complete (reassembled) message; text is valid UTF-8. data borrowed
     * for the call. */
    void (*on_message)(void *ud, uint64_t ws_id, bool binary, const void *data, size_t len);
    /* The connection is gone: close handshake done (or not finished within
     * one ping interval), error, silent peer, dropped as slow, server
     * freed. Called exactly once, from the loop (never from inside
     * sb_ws_send/sb_ws_close); ws_id is stale afterwards. code: the peer's
     * close code (1005 when it sent none), else the one the server sent
     * (1008 dropped as slow, 1009 message too big, 1002 protocol error, the
     * code given to sb_ws_close), 1001 server freed, 1006 when the peer
     * vanished. */
    void (*on_close)(void *ud, uint64_t ws_id, int code);
} sb_ws_handlers;

/* Upgrades request `req_id` (a GET with the Upgrade headers) to a WebSocket:
 * answers 101 and returns the socket's id (>0) in *ws_id. A request without
 * valid upgrade headers gets 400 and SB_ERR_INVALID. h is copied. */
sb_status sb_ws_accept(sb_http_server *srv, uint64_t req_id, const sb_ws_handlers *h,
                       void *ud, uint64_t *ws_id);
/* Queues one message (copied); it is written from the loop. SB_ERR_HANDLE
 * when gone, SB_ERR_STATE once closing has begun. When the peer's queue
 * would exceed ws_max_queue the message is not queued, the peer is closed
 * (1008) and SB_ERR_FULL is returned. */
sb_status sb_ws_send(sb_http_server *srv, uint64_t ws_id, bool binary,
                     const void *data, size_t len);
/* Starts the close handshake with code (1000..1003, 1007..1011,
 * 3000..4999) and reason (at most 123 bytes). SB_OK when already closing. */
sb_status sb_ws_close(sb_http_server *srv, uint64_t ws_id, int code, const char *reason);

#endif
