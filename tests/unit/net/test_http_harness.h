/* Shared by tests/unit/net/test_http*.c and test_ws*.c: a server on its
 * own libev loop in a thread, and blocking socket clients with timeouts.
 * Everything touching the server after start goes through th_call (runs on
 * the loop thread). Not a test itself (no test_*.c name). */
#ifndef TEST_HTTP_HARNESS_H
#define TEST_HTTP_HARNESS_H

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/http.h"

/* For code on the loop thread, where cmocka's asserts (longjmp) must not
 * run: a failed check aborts the test program. */
#define TH_CHECK(cond)                                                              \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "%s:%d: loop-thread check failed: %s\n", __FILE__,     \
                    __LINE__, #cond);                                               \
            abort();                                                                \
        }                                                                           \
    } while (0)

typedef struct th_server th_server;
typedef void (*th_fn)(th_server *s, void *arg);

struct th_server {
    struct ev_loop *loop;
    sb_http_server *srv;
    pthread_t thread;
    ev_async wake;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    th_fn fn;
    void *arg;
    bool pending, quit;
    int port;
};

static inline double th_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void th_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline void th_on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
    th_server *s = w->data;
    (void)revents;
    pthread_mutex_lock(&s->mu);
    if (s->quit) {
        ev_break(loop, EVBREAK_ALL);
    } else if (s->pending) {
        s->fn(s, s->arg);
        s->pending = false;
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static inline void *th_main(void *p)
{
    th_server *s = p;
    ev_run(s->loop, 0);
    return NULL;
}

/* A limits set with short, test-sized timeouts. */
static inline sb_http_limits th_limits(void)
{
    sb_http_limits l = {
        .max_body = 64 * 1024,
        .max_header = 8 * 1024,
        .max_headers = 50,
        .max_connections = 4000,
        .idle_timeout_ms = 5000,
        .header_timeout_ms = 3000,
        .body_timeout_ms = 3000,
        .ws_max_message = 64 * 1024,
        .ws_max_queue = 256 * 1024,
        .ws_ping_ms = 5000,
    };
    return l;
}

/* setup runs before the loop thread starts (routes, observer). Listens on
 * addr ("127.0.0.1:0" when NULL) with optional TLS. Returns false (no
 * thread) when listening fails. */
static inline bool th_start_at(th_server *s, const sb_http_limits *lim, const char *addr,
                               const char *cert, const char *key, th_fn setup, void *arg)
{
    char err[256];
    memset(s, 0, sizeof *s);
    s->loop = ev_loop_new(EVFLAG_AUTO);
    assert_non_null(s->loop);
    s->srv = sb_http_server_new(s->loop, lim);
    assert_non_null(s->srv);
    if (setup)
        setup(s, arg);
    if (sb_http_listen(s->srv, addr ? addr : "127.0.0.1:0", cert, key, err, sizeof err) !=
        SB_OK) {
        fprintf(stderr, "listen: %s\n", err);
        sb_http_server_free(s->srv);
        ev_loop_destroy(s->loop);
        return false;
    }
    s->port = sb_http_port(s->srv);
    assert_true(s->port > 0);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    ev_async_init(&s->wake, th_on_wake);
    s->wake.data = s;
    ev_async_start(s->loop, &s->wake);
    assert_int_equal(pthread_create(&s->thread, NULL, th_main, s), 0);
    return true;
}

static inline void th_start(th_server *s, const sb_http_limits *lim, th_fn setup, void *arg)
{
    assert_true(th_start_at(s, lim, NULL, NULL, NULL, setup, arg));
}

/* Runs fn on the loop thread and waits for it. */
static inline void th_call(th_server *s, th_fn fn, void *arg)
{
    pthread_mutex_lock(&s->mu);
    s->fn = fn;
    s->arg = arg;
    s->pending = true;
    ev_async_send(s->loop, &s->wake);
    while (s->pending)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

static inline void th_stats_fn(th_server *s, void *arg)
{
    sb_http_get_stats(s->srv, arg);
}

static inline sb_http_stats th_stats(th_server *s)
{
    sb_http_stats st;
    th_call(s, th_stats_fn, &st);
    return st;
}

static inline void th_stop(th_server *s)
{
    pthread_mutex_lock(&s->mu);
    s->quit = true;
    ev_async_send(s->loop, &s->wake);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    sb_http_server_free(s->srv);
    ev_async_stop(s->loop, &s->wake);
    ev_loop_destroy(s->loop);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
}

/* ---- blocking clients ----------------------------------------------------- */

typedef struct th_conn {
    int fd;
    char buf[256 * 1024];
    size_t len;
} th_conn;

typedef struct th_resp {
    int status;
    char head[16 * 1024];
    char *body;
    size_t body_len;
} th_resp;

/* rcvbuf > 0 shrinks the receive buffer: set before connect, since it
 * sizes the TCP window, so the client reads slower than the server sends. */
static inline int th_socket_buf(int family, const char *ip, int port, int timeout_ms, int rcvbuf)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    int one = 1;
    if (fd < 0)
        return -1;
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (family == AF_INET6) {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
        inet_pton(AF_INET6, ip, &a.sin6_addr);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
            close(fd);
            return -1;
        }
    } else {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        inet_pton(AF_INET, ip, &a.sin_addr);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

static inline int th_socket_to(int family, const char *ip, int port, int timeout_ms)
{
    return th_socket_buf(family, ip, port, timeout_ms, 0);
}

/* A client on 127.0.0.1 with 5 s timeouts; rcvbuf as in th_socket_buf. */
static inline th_conn *th_connect_rcvbuf(int port, int rcvbuf)
{
    th_conn *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->fd = th_socket_buf(AF_INET, "127.0.0.1", port, 5000, rcvbuf);
    assert_true(c->fd >= 0);
    return c;
}

static inline th_conn *th_connect(int port)
{
    return th_connect_rcvbuf(port, 0);
}

static inline void th_close(th_conn *c)
{
    if (c) {
        close(c->fd);
        free(c);
    }
}

static inline void th_send_raw(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

static inline void th_send(th_conn *c, const char *s)
{
    th_send_raw(c->fd, s, strlen(s));
}

/* Reads more into c->buf; returns bytes read, 0 at EOF, -1 on timeout/error. */
static inline ssize_t th_fill(th_conn *c)
{
    ssize_t n;
    if (c->len == sizeof c->buf)
        return -1;
    do
        n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        c->len += (size_t)n;
    return n < 0 ? -1 : n;
}

static inline void th_consume(th_conn *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* Case-insensitive header lookup in a raw head; copies the value. */
static inline bool th_header(const char *head, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    const char *p = strstr(head, "\r\n");
    while (p && p[2]) {
        p += 2;
        if (!strncasecmp(p, name, nl) && p[nl] == ':') {
            const char *v = p + nl + 1, *e;
            while (*v == ' ')
                v++;
            e = strstr(v, "\r\n");
            size_t n = e ? (size_t)(e - v) : strlen(v);
            if (n >= outlen)
                n = outlen - 1;
            memcpy(out, v, n);
            out[n] = 0;
            return true;
        }
        p = strstr(p, "\r\n");
    }
    return false;
}

/* Reads one response (no body when head_only). false on EOF/timeout before
 * a complete response. */
static inline bool th_read_resp(th_conn *c, th_resp *r, bool head_only)
{
    char *end;
    size_t hl, cl = 0;
    char v[64];
    memset(r, 0, sizeof *r);
    for (;;) {
        c->buf[c->len < sizeof c->buf ? c->len : sizeof c->buf - 1] = 0;
        end = c->len ? strstr(c->buf, "\r\n\r\n") : NULL;
        if (end)
            break;
        if (th_fill(c) <= 0)
            return false;
    }
    hl = (size_t)(end - c->buf) + 4;
    if (hl >= sizeof r->head)
        return false;
    memcpy(r->head, c->buf, hl);
    r->head[hl] = 0;
    r->status = atoi(r->head + 9);
    if (!head_only && th_header(r->head, "Content-Length", v, sizeof v))
        cl = (size_t)strtoull(v, NULL, 10);
    while (c->len < hl + cl)
        if (th_fill(c) <= 0)
            return false;
    r->body = malloc(cl + 1);
    assert_non_null(r->body);
    memcpy(r->body, c->buf + hl, cl);
    r->body[cl] = 0;
    r->body_len = cl;
    th_consume(c, hl + cl);
    return true;
}

static inline void th_resp_free(th_resp *r)
{
    free(r->body);
    r->body = NULL;
}

/* True when the server closed the connection (EOF or reset) within ms;
 * any bytes before that are discarded. */
static inline void th_rcv_timeout(int fd, int ms);

static inline bool th_wait_closed(int fd, int ms)
{
    double deadline = th_now() + ms / 1000.0;
    char buf[4096];
    bool closed = false;
    th_rcv_timeout(fd, 20);
    while (!closed && th_now() < deadline) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            closed = true;
    }
    th_rcv_timeout(fd, 5000);
    return closed;
}

/* Sets the receive timeout of a client socket. */
static inline void th_rcv_timeout(int fd, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/* One request on a fresh connection; returns the response (caller frees). */
static inline th_resp th_request(int port, const char *raw)
{
    th_conn *c = th_connect(port);
    th_resp r;
    th_send(c, raw);
    assert_true(th_read_resp(c, &r, false));
    th_close(c);
    return r;
}

/* ---- GET /big: more than the kernel buffers on both sides ---------------- */
enum { TH_BIG = 8 << 20 };

/* TH_BIG bytes 'a' + i % 23, filled on the first call (th_route_big makes
 * that call before the server answers, so readers never race the fill). */
static inline const char *th_big_body(void)
{
    static char big[TH_BIG];
    if (!big[0])
        for (size_t i = 0; i < TH_BIG; i++)
            big[i] = (char)('a' + i % 23);
    return big;
}

static inline void th_h_big(sb_http_req *req, void *ud)
{
    TH_CHECK(sb_http_respond(ud, req->id, 200, "application/octet-stream", NULL, 0, th_big_body(),
                             TH_BIG) == SB_OK);
}

/* Routes GET /big to th_big_body(); called from a th_start setup function. */
static inline void th_route_big(th_server *s)
{
    th_big_body();
    assert_int_equal(sb_http_route(s->srv, "GET", "/big", false, th_h_big, s->srv, NULL), SB_OK);
}

#endif
