/* libFuzzer: arbitrary bytes as one client connection's input, through the
 * real read/parse/dispatch/respond path (and WebSocket framing after an
 * upgrade). The server end of a socketpair is adopted as a connection;
 * the first input byte picks the write size so that requests also arrive
 * in pieces. After the input, the client half-closes and the connection
 * must go away: a connection still open after many loop turns is a hang.
 */
#include <errno.h>
#include <ev.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/http_internal.h"
#include "util/log.h"

static struct ev_loop *loop;
static sb_http_server *srv;
static int timers_pending;

static void h_echo(sb_http_req *req, void *ud)
{
    sb_header h[2] = {{"X-Path", req->path}, {"X-Sub", req->subpath}};
    (void)ud;
    /* path bytes may hold CR/LF-free garbage; a refused header is fine */
    if (sb_http_respond(srv, req->id, 200, "text/plain", h, 2, req->body, req->body_len) != SB_OK)
        sb_http_respond(srv, req->id, 200, NULL, NULL, 0, req->body, req->body_len);
}

static void h_error(sb_http_req *req, void *ud)
{
    (void)ud;
    sb_http_error(srv, req->id, 422, req->query, req->body);
}

typedef struct later {
    ev_timer t;
    uint64_t id;
} later;

static void later_fire(struct ev_loop *l, ev_timer *w, int revents)
{
    later *x = (later *)w;
    (void)l;
    (void)revents;
    sb_http_respond(srv, x->id, 204, NULL, NULL, 0, NULL, 0);
    timers_pending--;
    free(x);
}

static void h_async(sb_http_req *req, void *ud)
{
    later *x = calloc(1, sizeof *x);
    (void)ud;
    if (!x) {
        sb_http_respond(srv, req->id, 503, NULL, NULL, 0, NULL, 0);
        return;
    }
    x->id = req->id;
    ev_timer_init(&x->t, later_fire, 0., 0.);
    ev_timer_start(loop, &x->t);
    timers_pending++;
}

static void ws_msg(void *ud, uint64_t id, bool binary, const void *data, size_t len)
{
    (void)ud;
    if (len == 5 && !memcmp(data, "close", 5))
        sb_ws_close(srv, id, 1000, "bye");
    else
        sb_ws_send(srv, id, binary, data, len);
}

static void ws_close(void *ud, uint64_t id, int code)
{
    (void)ud;
    (void)id;
    (void)code;
}

static const sb_ws_handlers ws_h = {ws_msg, ws_close};

static void h_ws(sb_http_req *req, void *ud)
{
    uint64_t id;
    (void)ud;
    sb_ws_accept(srv, req->id, &ws_h, NULL, &id);
}

static void init(void)
{
    sb_http_limits l = {
        .max_body = 4096,
        .max_header = 2048,
        .max_headers = 20,
        .max_connections = 100,
        /* timers must not fire during one input: these are long */
        .idle_timeout_ms = 600000,
        .header_timeout_ms = 600000,
        .body_timeout_ms = 600000,
        .ws_max_message = 4096,
        .ws_max_queue = 16384,
        .ws_ping_ms = 600000,
    };
    sb_log_set_level(SB_LOG_ERROR);
    loop = ev_loop_new(EVFLAG_AUTO);
    srv = sb_http_server_new(loop, &l);
    if (!loop || !srv)
        abort();
    sb_http_route(srv, NULL, "/", true, h_echo, NULL, NULL);
    sb_http_route(srv, "POST", "/e", false, h_error, NULL, NULL);
    sb_http_route(srv, "GET", "/a", true, h_async, NULL, NULL);
    sb_http_route(srv, "GET", "/ws", false, h_ws, NULL, NULL);
}

static void drain(int fd)
{
    char buf[65536];
    while (read(fd, buf, sizeof buf) > 0)
        ;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int sv[2];
    size_t chunk, off = 1;
    sb_http_stats st;

    if (!srv)
        init();
    if (size < 1)
        return 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        abort();
    if (!sb_http_adopt_fd(srv, sv[0], NULL, "fuzz"))
        abort();
    chunk = data[0] & 0x80 ? (size_t)(data[0] & 0x7f) + 1 : size;
    for (int turns = 0; off < size; turns++) {
        size_t n = size - off < chunk ? size - off : chunk;
        /* MSG_NOSIGNAL: a server that closed must end the input, not the fuzzer */
        ssize_t w = send(sv[1], data + off, n, MSG_NOSIGNAL);
        if (w > 0)
            off += (size_t)w;
        else if (w < 0 && errno != EAGAIN)
            break; /* the server closed: the rest has nowhere to go */
        ev_run(loop, EVRUN_NOWAIT);
        drain(sv[1]);
        if (turns > 100000)
            abort(); /* the server stopped reading for good */
    }
    shutdown(sv[1], SHUT_WR);
    for (int turns = 0;; turns++) {
        ev_run(loop, EVRUN_NOWAIT);
        drain(sv[1]);
        sb_http_get_stats(srv, &st);
        if (st.open_connections == 0 && timers_pending == 0)
            break;
        if (turns > 10000) {
            fprintf(stderr, "connection still open after the client left\n");
            abort();
        }
    }
    close(sv[1]);
    return 0;
}
