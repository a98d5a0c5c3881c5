/* Internals shared by http_*.c and ws*.c. Not for other modules: they use
 * net/http.h. Thread: loop thread only, like the server. */
#ifndef SB_HTTP_INTERNAL_H
#define SB_HTTP_INTERNAL_H

#include <ev.h>
#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/http.h"
#include "net/tls.h"
#include "util/idmap.h"

/* Output stops being produced (pipelined requests wait, wslay keeps frames
 * in its own queue) while this much is queued to the socket. */
#define SB_HTTP_OUT_HIGH (64 * 1024)

typedef struct sb_http_conn sb_http_conn;
typedef struct sb_ws sb_ws;

/* ---- routes (http_route.c) ----------------------------------------------- */
typedef struct sb_http_routeent {
    char *method; /* NULL = any */
    char *path;
    size_t path_len;
    bool prefix;
    sb_http_handler_fn fn;
    void *ud;
    const void *owner;
} sb_http_routeent;

typedef struct sb_http_match {
    const sb_http_routeent *route; /* NULL: none for this method */
    size_t sub_off;                /* subpath = path + sub_off */
    char allow[128];               /* when route is NULL and some matched: "GET, POST" */
} sb_http_match;

/* Fills m; route NULL with allow[0] != 0 means 405, both empty means 404. */
void sb_http_route_find(const sb_http_server *srv, const char *method, const char *path,
                        sb_http_match *m);
void sb_http_routes_free(sb_http_server *srv);

/* ---- server (http_server.c) ---------------------------------------------- */
typedef struct sb_http_listener {
    ev_io w; /* first: the accept callback casts the watcher back */
    int fd;
    sb_tls_server *tls;
} sb_http_listener;

struct sb_http_server {
    struct ev_loop *loop;
    sb_http_limits lim;
    sb_http_listener **ls; /* each allocated alone: libev keeps pointers */
    size_t n_ls;
    int port;
    bool stopping;     /* sb_http_stop_accepting */
    bool paused;       /* at max_connections */
    ev_timer retry;    /* accept backoff after EMFILE/ENFILE */
    sb_http_conn *conns;
    sb_idmap ids;      /* request and WebSocket id -> sb_http_conn* */
    uint64_t next_id;
    sb_http_routeent *routes;
    size_t n_routes, cap_routes;
    sb_http_observe_fn observe;
    void *observe_ud;
    sb_http_stats stats;
};

uint64_t sb_http_next_id(sb_http_server *srv);
/* The live connection a request or WebSocket id belongs to; NULL when gone
 * or when srv is NULL. */
static inline sb_http_conn *sb_http_conn_by_id(const sb_http_server *srv, uint64_t id)
{
    uint64_t v;
    return srv && sb_idmap_get(&srv->ids, id, &v) ? (sb_http_conn *)(uintptr_t)v : NULL;
}
/* Adopts a connected, non-blocking socket as an HTTP connection (plain or
 * TLS). Used by accept and by the fuzz target (one end of a socketpair).
 * On failure the fd is closed. */
sb_http_conn *sb_http_adopt_fd(sb_http_server *srv, int fd, sb_tls_server *tls,
                               const char *peer);
/* Called by a connection leaving: resumes accept below max_connections. */
void sb_http_server_conn_gone(sb_http_server *srv);

/* ---- connection (http_conn.c) -------------------------------------------- */
typedef enum sb_conn_state {
    SB_CS_TLS,     /* TLS handshake */
    SB_CS_IDLE,    /* between requests; nothing of the next one parsed */
    SB_CS_HEAD,    /* request line/headers arriving (header_timeout) */
    SB_CS_BODY,    /* head done, body arriving (body_timeout) */
    SB_CS_HANDLER, /* dispatched; waiting for sb_http_respond */
    SB_CS_CLOSING, /* flushing the last bytes, then LINGER */
    SB_CS_LINGER,  /* write side shut; reading and discarding until EOF */
    SB_CS_WS       /* WebSocket frames */
} sb_conn_state;

typedef struct sb_http_outbuf {
    struct sb_http_outbuf *next;
    size_t len, off, cap;
    char data[];
} sb_http_outbuf;

typedef struct sb_http_hdroff {
    size_t name, value;
} sb_http_hdroff;

struct sb_http_conn {
    sb_http_server *srv;
    sb_http_conn *prev, *next; /* srv->conns */
    int fd;
    ev_io rw, ww;
    ev_timer tm;
    sb_conn_state st;
    unsigned busy;        /* frames on the stack using this connection */
    bool closed;          /* torn down; freed when busy drops to 0 */
    bool eof;             /* peer finished sending */
    bool in_process;      /* inside sb_http_process: no re-entry */
    sb_tls_conn *tls;
    size_t tls_retry;     /* length of a TLS write to repeat after WANT_WRITE */
    bool tls_read_wants_write;
    char peer[64];
    ev_tstamp started;    /* first byte of the current request */
    ev_tstamp last_rx;    /* last time bytes arrived */

    char *in;             /* received, in[in_off..in_len) not yet consumed */
    size_t in_len, in_off, in_cap;

    /* Request being parsed / handled (http_parse.c). hbuf is the request's
     * arena for strings: url, header names and values, path, query, route. */
    http_parser hp;
    char *hbuf;
    size_t hlen, hcap;
    sb_http_hdroff *hoff;
    size_t nh, hoff_cap;
    sb_header *hdrs;
    size_t hdrs_cap;
    char *body;
    size_t blen, bcap;
    size_t url_len;
    size_t path_off, query_off; /* in hbuf, set when the head is complete */
    uint64_t head_used;   /* bytes of the head consumed so far */
    uint64_t trailer_bytes;
    int64_t trailer_lines;
    int last_cb;          /* 0 none, 1 header field, 2 header value */
    int fail_status;      /* limit hit inside a parser callback */
    int pause_why;        /* 1 head complete, 2 message complete */
    bool method_known;
    bool keep_alive;
    bool head_req;        /* HEAD: no body in the answer */
    uint64_t req_id;      /* current request, 0 when none pending */
    size_t route_off;     /* route pattern in hbuf, (size_t)-1 = "unmatched" */
    sb_http_req req;

    sb_http_outbuf *out_head, *out_tail;
    size_t out_bytes;
    size_t out_mark;      /* undelivered bytes at the last idle expiry */

    sb_ws *ws;
};

/* A connection on fd (owned from now on), in the server's list, reading.
 * NULL on allocation failure (fd untouched). */
sb_http_conn *sb_http_conn_new(sb_http_server *srv, int fd, sb_tls_server *tls,
                               const char *peer);
/* Start/stop the entry guard: a connection closed inside is freed by the
 * outermost sb_http_conn_leave. */
void sb_http_conn_enter(sb_http_conn *c);
void sb_http_conn_leave(sb_http_conn *c);
/* Tears the connection down now (watchers, fd, ids, WebSocket on_close). */
void sb_http_conn_close(sb_http_conn *c);
/* Queues bytes (copied); SB_ERR_NOMEM leaves the connection to the caller. */
sb_status sb_http_conn_queue(sb_http_conn *c, const void *data, size_t len);
/* An empty output buffer of cap bytes (NULL on failure), and queueing it
 * (ownership passes to the connection). */
sb_http_outbuf *sb_http_outbuf_new(size_t cap);
void sb_http_conn_queue_buf(sb_http_conn *c, sb_http_outbuf *b);
/* Writes what the socket takes now; the rest waits for the write watcher.
 * May close the connection (check c->closed). */
void sb_http_conn_flush(sb_http_conn *c);
/* Flush what is queued, then shut the write side, linger, close. */
void sb_http_conn_begin_close(sb_http_conn *c);
/* Arms the connection's single timer ms from now; 0 disarms. */
void sb_http_conn_arm(sb_http_conn *c, uint64_t ms);
/* idle_timeout for IDLE and CLOSING: expires for good only when no output
 * moved during a whole timeout. */
void sb_http_conn_arm_idle(sb_http_conn *c);
/* Re-runs input processing from the loop (buffered pipelined requests). */
void sb_http_conn_kick(sb_http_conn *c);
/* Read watcher on/off from state, EOF and buffer use. */
void sb_http_conn_update_read(sb_http_conn *c);

/* ---- parsing and dispatch (http_parse.c) ---------------------------------- */
void sb_http_parse_init(sb_http_conn *c);
/* Parses buffered input, answers limit errors, dispatches complete
 * requests; stops at a pending request. May close the connection. */
void sb_http_process(sb_http_conn *c);
/* Forgets the answered request (arena reused by the next one). */
void sb_http_req_reset(sb_http_conn *c);
void sb_http_parse_free(sb_http_conn *c);

/* ---- responses (http_response.c) ----------------------------------------- */
/* Answers the connection's current request. close forces Connection: close.
 * Observes, forgets the request, moves to IDLE or CLOSING, flushes. */
sb_status sb_http_conn_respond(sb_http_conn *c, int status, const char *content_type,
                               const sb_header *headers, size_t n_headers,
                               const void *body, size_t len, bool close);
/* The observer call for the current request, then forgetting it (id,
 * arena). For answers that do not go through sb_http_conn_respond (101). */
void sb_http_conn_done(sb_http_conn *c, int status);
/* The server's own error answer ({"error":...}) to the current request. */
void sb_http_conn_fail(sb_http_conn *c, int status, const char *code, const char *message,
                       bool close);
/* Appends the JSON error body to buf (cap bytes); returns the length it
 * needs (like snprintf). */
size_t sb_http_error_json(char *buf, size_t cap, const char *code, const char *message);

/* ---- WebSocket (ws.c, ws_handshake.c) ------------------------------------- */
/* base64(SHA-1(key + GUID)) into out (29 bytes with the NUL); SB_ERR_INVALID
 * when key is not 16 bytes of base64. */
sb_status sb_ws_accept_key(const char *key, char out[29]);
/* Checks the upgrade headers; NULL when fine, else why not. */
const char *sb_ws_check_upgrade(const sb_http_req *req, bool *bad_version);
void sb_ws_on_input(sb_http_conn *c);
void sb_ws_on_writable(sb_http_conn *c);
void sb_ws_on_timer(sb_http_conn *c);
/* The connection is going away: on_close (code when the peer vanished or
 * the server is freed), frees the WebSocket state. */
void sb_ws_gone(sb_http_conn *c, int code);

#endif
