/* sb_http_client against a tiny HTTP/1.1 server running in a thread of this
 * test (one thread per connection, keep-alive, canned answers per path),
 * with the client on a libev loop in the main thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ev.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/http_client.h"

/* ---- the server ----------------------------------------------------------- */

#define MAX_CONNS 512

static struct {
    int fd, port;
    pthread_t acceptor;
    atomic_int stop, accepted;
    pthread_mutex_t mu;
    pthread_t conns[MAX_CONNS];
    int n_conns;
} srv;

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Waits up to ms for input; 1 readable, 0 timeout. */
static int wait_readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms) > 0;
}

static int reply(int fd, const char *status, const char *extra,
                 const char *body, size_t len)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: text/plain\r\n%s"
                     "Content-Length: %zu\r\n\r\n",
                     status, extra, len);
    return send_all(fd, head, (size_t)n) || send_all(fd, body, len) ? -1 : 0;
}

/* Answers one request by path; -1 ends the connection. */
static int answer(int fd, const char *path, const char *req, size_t req_len)
{
    if (strcmp(path, "/ok") == 0) return reply(fd, "200 OK", "X-Test: yes\r\n", "hello", 5);
    if (strcmp(path, "/500") == 0) return reply(fd, "500 Oops", "", "boom", 4);
    if (strcmp(path, "/echo") == 0) return reply(fd, "200 OK", "", req, req_len);
    if (strcmp(path, "/slow") == 0) {
        /* The client gives up long before; its close ends the wait. */
        if (wait_readable(fd, 3000)) return -1;
        return reply(fd, "200 OK", "", "late", 4);
    }
    if (strcmp(path, "/big") == 0) {
        static char big[100000];
        memset(big, 'x', sizeof big);
        return reply(fd, "200 OK", "", big, sizeof big);
    }
    if (strcmp(path, "/big-chunked") == 0) {
        /* No Content-Length: only the write callback can notice. */
        const char *h = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        char chunk[1000 + 16];
        int n = snprintf(chunk, sizeof chunk, "%x\r\n", 1000);
        memset(chunk + n, 'y', 1000);
        memcpy(chunk + n + 1000, "\r\n", 2);
        if (send_all(fd, h, strlen(h))) return -1;
        for (int i = 0; i < 100; i++)
            if (send_all(fd, chunk, (size_t)n + 1002)) return -1;
        return send_all(fd, "0\r\n\r\n", 5);
    }
    return reply(fd, "404 Not Found", "", "", 0);
}

static void *serve_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[65536];
    size_t have = 0;
    for (;;) {
        char *end;
        while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
            if (have == sizeof buf || !wait_readable(fd, 5000)) goto out;
            ssize_t r = recv(fd, buf + have, sizeof buf - have, 0);
            if (r <= 0) goto out;
            have += (size_t)r;
        }
        size_t head_len = (size_t)(end - buf) + 4, body_len = 0;
        char *cl = memmem(buf, head_len, "Content-Length:", 15);
        if (cl) body_len = strtoul(cl + 15, NULL, 10);
        if (head_len + body_len > sizeof buf) goto out;
        while (have < head_len + body_len) {
            if (!wait_readable(fd, 5000)) goto out;
            ssize_t r = recv(fd, buf + have, sizeof buf - have, 0);
            if (r <= 0) goto out;
            have += (size_t)r;
        }
        char path[256] = "";
        sscanf(buf, "%*s %255s", path);
        if (answer(fd, path, buf, head_len + body_len) != 0) goto out;
        memmove(buf, buf + head_len + body_len, have - head_len - body_len);
        have -= head_len + body_len;
    }
out:
    close(fd);
    return NULL;
}

static void *acceptor(void *arg)
{
    (void)arg;
    while (!srv.stop) {
        if (!wait_readable(srv.fd, 50)) continue;
        int fd = accept(srv.fd, NULL, NULL);
        if (fd < 0) continue;
        srv.accepted++;
        pthread_mutex_lock(&srv.mu);
        if (srv.n_conns < MAX_CONNS &&
            pthread_create(&srv.conns[srv.n_conns], NULL, serve_conn,
                           (void *)(intptr_t)fd) == 0)
            srv.n_conns++;
        else
            close(fd);
        pthread_mutex_unlock(&srv.mu);
    }
    return NULL;
}

/* A TCP socket bound to 127.0.0.1:0; its port in *port. */
static int bound_socket(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static int server_up(void **state)
{
    (void)state;
    pthread_mutex_init(&srv.mu, NULL);
    srv.fd = bound_socket(&srv.port);
    if (srv.fd < 0 || listen(srv.fd, 128) != 0) return -1;
    return pthread_create(&srv.acceptor, NULL, acceptor, NULL);
}

static int server_down(void **state)
{
    (void)state;
    srv.stop = 1;
    pthread_join(srv.acceptor, NULL);
    for (int i = 0; i < srv.n_conns; i++) pthread_join(srv.conns[i], NULL);
    close(srv.fd);
    pthread_mutex_destroy(&srv.mu);
    return 0;
}

/* ---- the client side ------------------------------------------------------- */

typedef struct result {
    int calls;
    uint64_t id;
    sb_status status;
    long http_status;
    char error[256];
    char body[4096];
    size_t body_len;
    char x_test[64];
    uint64_t elapsed_ms;
} result;

static struct ev_loop *loop;
static sb_http_client *client;
static int in_start; /* set around start(): done must never run inside */
static int finished; /* done calls in the current test */

static void on_done(void *ud, uint64_t id, const sb_http_response *res)
{
    result *r = ud;
    assert_false(in_start);
    r->calls++;
    finished++;
    r->id = id;
    r->status = res->status;
    r->http_status = res->http_status;
    snprintf(r->error, sizeof r->error, "%s", res->error ? res->error : "");
    r->body_len = res->body_len;
    memcpy(r->body, res->body, res->body_len < sizeof r->body - 1
                                   ? res->body_len + 1 : sizeof r->body - 1);
    r->body[sizeof r->body - 1] = '\0';
    for (size_t i = 0; i < res->n_headers; i++)
        if (strcasecmp(res->headers[i].name, "X-Test") == 0)
            snprintf(r->x_test, sizeof r->x_test, "%s", res->headers[i].value);
    r->elapsed_ms = res->elapsed_ms;
}

static char *url(const char *path)
{
    static char u[128];
    snprintf(u, sizeof u, "http://127.0.0.1:%d%s", srv.port, path);
    return u;
}

static uint64_t start_call(sb_http_call *call, result *r, const void *owner)
{
    call->struct_size = sizeof *call;
    in_start = 1;
    uint64_t id = sb_http_client_start(client, call, on_done, r, owner);
    in_start = 0;
    return id;
}

static uint64_t get(const char *path, uint32_t timeout_ms, size_t max,
                    result *r, const void *owner)
{
    sb_http_call call = {.url = url(path), .timeout_ms = timeout_ms,
                         .max_response = max};
    return start_call(&call, r, owner);
}

/* Runs the loop until `want` done calls happened in this test, or 10 s. */
static void run_until(int want)
{
    ev_tstamp end = ev_time() + 10;
    while (finished < want && ev_time() < end) ev_run(loop, EVRUN_ONCE);
}

static void run_for(double seconds)
{
    ev_tstamp end = ev_time() + seconds;
    while (ev_time() < end) ev_run(loop, EVRUN_ONCE);
}

static void tick(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)l, (void)w, (void)revents;
}

static ev_timer ticker; /* bounds every EVRUN_ONCE to 20 ms */

static int client_up(void **state)
{
    (void)state;
    loop = ev_loop_new(EVFLAG_AUTO);
    client = sb_http_client_new(loop);
    ev_timer_init(&ticker, tick, 0.02, 0.02);
    ev_timer_start(loop, &ticker);
    finished = 0;
    return loop && client ? 0 : -1;
}

static int client_down(void **state)
{
    (void)state;
    sb_http_client_free(client);
    ev_timer_stop(loop, &ticker);
    ev_loop_destroy(loop);
    return 0;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_status_body_headers(void **state)
{
    (void)state;
    result ok = {0}, err = {0};
    assert_int_not_equal(get("/ok", 0, 0, &ok, NULL), 0);
    assert_int_not_equal(get("/500", 0, 0, &err, NULL), 0);
    assert_int_equal(sb_http_client_active(client), 2);
    run_until(2);
    assert_int_equal(ok.calls, 1);
    assert_int_equal(ok.status, SB_OK);
    assert_int_equal(ok.http_status, 200);
    assert_string_equal(ok.body, "hello");
    assert_int_equal(ok.body_len, 5);
    assert_string_equal(ok.x_test, "yes");
    assert_int_equal(err.calls, 1);
    assert_int_equal(err.status, SB_OK); /* an answer, even a 500 */
    assert_int_equal(err.http_status, 500);
    assert_string_equal(err.body, "boom");
    assert_int_equal(sb_http_client_active(client), 0);
}

static void test_post_sends_body_and_headers(void **state)
{
    (void)state;
    result r = {0};
    sb_header hs[] = {{"X-Custom", "abc 1"}, {"Content-Type", "text/plain"}};
    sb_http_call call = {.method = "POST", .url = url("/echo"), .headers = hs,
                         .n_headers = 2, .body = "ping=1&x", .body_len = 8};
    assert_int_not_equal(start_call(&call, &r, NULL), 0);
    run_until(1);
    assert_int_equal(r.status, SB_OK);
    assert_int_equal(r.http_status, 200);
    assert_non_null(strstr(r.body, "POST /echo HTTP/1.1\r\n"));
    assert_non_null(strstr(r.body, "\r\nX-Custom: abc 1\r\n"));
    assert_non_null(strstr(r.body, "\r\nContent-Type: text/plain\r\n"));
    assert_non_null(strstr(r.body, "\r\nContent-Length: 8\r\n"));
    assert_string_equal(r.body + r.body_len - 12, "\r\n\r\nping=1&x");
}

static void test_custom_method_with_body(void **state)
{
    (void)state;
    result r = {0};
    sb_http_call call = {.method = "PUT", .url = url("/echo"),
                         .body = "v", .body_len = 1};
    assert_int_not_equal(start_call(&call, &r, NULL), 0);
    run_until(1);
    assert_int_equal(r.status, SB_OK);
    assert_non_null(strstr(r.body, "PUT /echo HTTP/1.1\r\n"));
    assert_string_equal(r.body + r.body_len - 5, "\r\n\r\nv");
}

static void test_timeout_without_busy_loop(void **state)
{
    (void)state;
    result r = {0};
    unsigned iter0 = ev_iteration(loop);
    assert_int_not_equal(get("/slow", 300, 0, &r, NULL), 0);
    run_until(1);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, SB_ERR_TIMEOUT);
    assert_int_equal(r.http_status, 0);
    assert_non_null(strstr(r.error, "Timeout"));
    assert_in_range(r.elapsed_ms, 280, 2000);
    /* ~15 ticker wake-ups plus a few curl timers; a 0 s timer spinning
     * for 300 ms would be tens of thousands. */
    assert_in_range(ev_iteration(loop) - iter0, 1, 200);
}

static void test_too_big(void **state)
{
    (void)state;
    result declared = {0}, chunked = {0}, fits = {0};
    assert_int_not_equal(get("/big", 0, 1000, &declared, NULL), 0);
    assert_int_not_equal(get("/big-chunked", 0, 1000, &chunked, NULL), 0);
    assert_int_not_equal(get("/big", 0, 100000, &fits, NULL), 0);
    run_until(3);
    assert_int_equal(declared.status, SB_ERR_TOO_BIG);
    assert_string_equal(declared.error, "response body over 1000 bytes");
    assert_int_equal(chunked.status, SB_ERR_TOO_BIG);
    assert_int_equal(chunked.calls, 1);
    assert_int_equal(fits.status, SB_OK);
    assert_int_equal(fits.body_len, 100000);
}

static void test_refused_is_io(void **state)
{
    (void)state;
    int port = 0, fd = bound_socket(&port); /* bound, not listening: refuses */
    assert_true(fd >= 0);
    char u[64];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/", port);
    result r = {0};
    sb_http_call call = {.url = u};
    assert_int_not_equal(start_call(&call, &r, NULL), 0);
    assert_int_equal(r.calls, 0);
    run_until(1);
    close(fd);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, SB_ERR_IO);
    assert_non_null(strstr(r.error, "connect"));
}

static void test_bad_calls_do_not_start(void **state)
{
    (void)state;
    result r = {0};
    sb_header crlf[] = {{"X-A", "1\r\nX-Injected: 1"}};
    sb_http_call bad[] = {
        {.url = "not a url"},
        {.url = "file:///etc/passwd"},
        {.url = url("/ok"), .method = "get"},
        {.url = url("/ok"), .headers = crlf, .n_headers = 1},
        {.url = NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(start_call(&bad[i], &r, NULL), 0);
    sb_http_call old = {.url = url("/ok")};
    old.struct_size = 8;
    assert_int_equal(sb_http_client_start(client, &old, on_done, &r, NULL), 0);
    run_for(0.05);
    assert_int_equal(r.calls, 0);
    assert_int_equal(sb_http_client_active(client), 0);
}

static void test_cancel_by_id(void **state)
{
    (void)state;
    result now = {0}, later = {0}, other = {0};
    uint64_t a = get("/slow", 0, 0, &now, NULL);
    uint64_t b = get("/slow", 0, 0, &later, NULL);
    uint64_t c = get("/ok", 0, 0, &other, NULL);
    sb_http_client_cancel(client, a); /* before it ever ran */
    assert_int_equal(now.calls, 1);
    assert_int_equal(now.status, SB_ERR_CANCELLED);
    assert_int_equal(now.id, a);
    run_for(0.1); /* b is now connected and waiting */
    assert_int_equal(later.calls, 0);
    sb_http_client_cancel(client, b);
    assert_int_equal(later.calls, 1);
    assert_int_equal(later.status, SB_ERR_CANCELLED);
    sb_http_client_cancel(client, b); /* stale: ignored */
    sb_http_client_cancel(client, 9999);
    run_until(3);
    run_for(0.05);
    assert_int_equal(now.calls, 1);
    assert_int_equal(later.calls, 1);
    assert_int_equal(other.calls, 1);
    assert_int_equal(other.status, SB_OK);
    sb_http_client_cancel(client, c); /* finished: ignored */
    assert_int_equal(other.calls, 1);
}

static void test_cancel_owner_and_free(void **state)
{
    (void)state;
    int owner_a, owner_b;
    result a[3] = {{0}}, b = {0};
    for (int i = 0; i < 3; i++)
        assert_int_not_equal(get("/slow", 0, 0, &a[i], &owner_a), 0);
    assert_int_not_equal(get("/slow", 0, 0, &b, &owner_b), 0);
    run_for(0.05);
    sb_http_client_cancel_owner(client, &owner_a);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(a[i].calls, 1);
        assert_int_equal(a[i].status, SB_ERR_CANCELLED);
    }
    assert_int_equal(b.calls, 0);
    assert_int_equal(sb_http_client_active(client), 1);
    run_for(0.05);
    /* free cancels what is left; a fresh client lets teardown free again */
    sb_http_client_free(client);
    client = sb_http_client_new(loop);
    assert_int_equal(b.calls, 1);
    assert_int_equal(b.status, SB_ERR_CANCELLED);
    for (int i = 0; i < 3; i++) assert_int_equal(a[i].calls, 1);
}

#define MANY 50
static void test_many_concurrent(void **state)
{
    (void)state;
    static result rs[MANY];
    memset(rs, 0, sizeof rs);
    for (int i = 0; i < MANY; i++)
        assert_int_not_equal(get(i % 2 ? "/ok" : "/echo", 0, 0, &rs[i], NULL), 0);
    assert_int_equal(sb_http_client_active(client), MANY);
    run_until(MANY);
    for (int i = 0; i < MANY; i++) {
        assert_int_equal(rs[i].calls, 1);
        assert_int_equal(rs[i].status, SB_OK);
        assert_int_equal(rs[i].http_status, 200);
    }
    assert_int_equal(sb_http_client_active(client), 0);
}

/* Each done starts the next request, as a plugin's retry chain would. */
static int chain_left;
static void chain_done(void *ud, uint64_t id, const sb_http_response *res)
{
    on_done(ud, id, res);
    assert_int_equal(res->status, SB_OK);
    if (--chain_left > 0) {
        sb_http_call call = {.struct_size = sizeof call, .url = url("/ok")};
        assert_int_not_equal(
            sb_http_client_start(client, &call, chain_done, ud, NULL), 0);
    }
}

static void test_connection_reuse(void **state)
{
    (void)state;
    result r = {0};
    int before = srv.accepted;
    chain_left = 10;
    sb_http_call call = {.url = url("/ok"), .struct_size = sizeof call};
    assert_int_not_equal(sb_http_client_start(client, &call, chain_done, &r, NULL), 0);
    run_until(10);
    assert_int_equal(r.calls, 10);
    assert_in_range(srv.accepted - before, 1, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, client_up, client_down)
        T(test_status_body_headers),
        T(test_post_sends_body_and_headers),
        T(test_custom_method_with_body),
        T(test_timeout_without_busy_loop),
        T(test_too_big),
        T(test_refused_is_io),
        T(test_bad_calls_do_not_start),
        T(test_cancel_by_id),
        T(test_cancel_owner_and_free),
        T(test_many_concurrent),
        T(test_connection_reuse),
#undef T
    };
    return cmocka_run_group_tests(tests, server_up, server_down);
}
