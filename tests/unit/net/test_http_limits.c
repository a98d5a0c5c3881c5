/* HTTP server limits: body and head sizes, Expect, timeouts (slowloris),
 * the connection limit, many idle connections. */
#include "test_http_harness.h"

#include <sys/resource.h>

static sb_http_server *g_srv;

static void h_echo(sb_http_req *req, void *ud)
{
    (void)ud;
    TH_CHECK(sb_http_respond(g_srv, req->id, 200, "text/plain", NULL, 0, req->body,
                             req->body_len) == SB_OK);
}

static void setup_routes(th_server *s, void *arg)
{
    (void)arg;
    g_srv = s->srv;
    assert_int_equal(sb_http_route(s->srv, NULL, "/", true, h_echo, NULL, NULL), SB_OK);
    th_route_big(s);
}

static th_server g_s;

static void start_with(sb_http_limits *l)
{
    th_start(&g_s, l, setup_routes, NULL);
}

static int stop(void **state)
{
    (void)state;
    th_stop(&g_s);
    return 0;
}

static int start_small(void **state)
{
    sb_http_limits l = th_limits();
    (void)state;
    l.max_body = 1000;
    l.max_header = 4096;
    l.max_headers = 20;
    start_with(&l);
    return 0;
}

/* The answer is `status` and the server closes the connection. */
static void expect_refused(th_conn *c, int status)
{
    th_resp r;
    assert_true(th_read_resp(c, &r, false));
    if (r.status != status)
        fprintf(stderr, "got %d %s\n", r.status, r.body);
    assert_int_equal(r.status, status);
    assert_non_null(strstr(r.body, "{\"error\":{\"code\":"));
    th_resp_free(&r);
    assert_true(th_wait_closed(c->fd, 3000));
}

static void test_413_content_length(void **state)
{
    th_conn *c = th_connect(g_s.port);
    (void)state;
    /* answered from the head alone: no body byte is sent */
    th_send(c, "POST /x HTTP/1.1\r\nContent-Length: 100000\r\n\r\n");
    expect_refused(c, 413);
    th_close(c);
    /* within the limit is fine */
    c = th_connect(g_s.port);
    th_send(c, "POST /x HTTP/1.1\r\nContent-Length: 1000\r\n\r\n");
    {
        char body[1000];
        th_resp r;
        memset(body, 'b', sizeof body);
        th_send_raw(c->fd, body, sizeof body);
        assert_true(th_read_resp(c, &r, false));
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body_len, 1000);
        th_resp_free(&r);
    }
    th_close(c);
}

static void test_413_chunked(void **state)
{
    th_conn *c = th_connect(g_s.port);
    char chunk[700];
    (void)state;
    memset(chunk, 'c', sizeof chunk);
    th_send(c, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2bc\r\n");
    th_send_raw(c->fd, chunk, sizeof chunk);
    th_send(c, "\r\n2bc\r\n");
    th_send_raw(c->fd, chunk, sizeof chunk);
    th_send(c, "\r\n0\r\n\r\n");
    expect_refused(c, 413);
    th_close(c);
}

static void test_431(void **state)
{
    th_conn *c = th_connect(g_s.port);
    char big[6000];
    (void)state;
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    th_send(c, "GET /x HTTP/1.1\r\nX-Big: ");
    th_send(c, big);
    th_send(c, "\r\n\r\n");
    expect_refused(c, 431);
    th_close(c);

    c = th_connect(g_s.port);
    th_send(c, "GET /x HTTP/1.1\r\n");
    for (int i = 0; i < 25; i++) {
        char h[32];
        snprintf(h, sizeof h, "X-H%d: v\r\n", i);
        th_send(c, h);
    }
    th_send(c, "\r\n");
    expect_refused(c, 431);
    th_close(c);

    /* a long request line counts too */
    c = th_connect(g_s.port);
    th_send(c, "GET /");
    th_send(c, big);
    th_send(c, " HTTP/1.1\r\n\r\n");
    expect_refused(c, 431);
    th_close(c);
}

static void test_expect_continue(void **state)
{
    th_conn *c = th_connect(g_s.port);
    th_resp r;
    (void)state;
    th_send(c, "POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    assert_true(th_read_resp(c, &r, true));
    assert_int_equal(r.status, 100);
    th_resp_free(&r);
    th_send(c, "hello");
    assert_true(th_read_resp(c, &r, false));
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello");
    th_resp_free(&r);
    th_close(c);

    /* over the limit: 413 and no 100 */
    c = th_connect(g_s.port);
    th_send(c, "POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
    expect_refused(c, 413);
    th_close(c);

    c = th_connect(g_s.port);
    th_send(c, "POST /x HTTP/1.1\r\nExpect: something-else\r\nContent-Length: 5\r\n\r\n");
    expect_refused(c, 417);
    th_close(c);
}

static int start_timeouts(void **state)
{
    sb_http_limits l = th_limits();
    (void)state;
    l.header_timeout_ms = 300;
    l.body_timeout_ms = 300;
    l.idle_timeout_ms = 250;
    start_with(&l);
    return 0;
}

static void test_slowloris(void **state)
{
    th_conn *c = th_connect(g_s.port);
    const char *req =
        "GET /x HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    double t0 = th_now(), took;
    th_resp r;
    (void)state;
    /* one byte every 20 ms keeps every single read fresh: only a deadline
     * on the whole head stops it */
    for (const char *p = req; *p; p++) {
        char peek;
        if (recv(c->fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) == 1)
            break; /* the answer is there */
        if (send(c->fd, p, 1, MSG_NOSIGNAL) != 1)
            break;
        th_sleep_ms(20);
        if (th_now() - t0 > 1.0)
            break;
    }
    assert_true(th_read_resp(c, &r, false));
    took = th_now() - t0;
    assert_int_equal(r.status, 408);
    th_resp_free(&r);
    assert_true(took >= 0.25 && took < 1.5);
    assert_true(th_wait_closed(c->fd, 3000));
    th_close(c);
}

static void test_body_timeout(void **state)
{
    th_conn *c = th_connect(g_s.port);
    double t0 = th_now();
    (void)state;
    th_send(c, "POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    expect_refused(c, 408);
    assert_true(th_now() - t0 < 2.0);
    th_close(c);
}

static void test_idle_timeout(void **state)
{
    th_conn *c = th_connect(g_s.port);
    th_resp r;
    double t0;
    (void)state;
    th_send(c, "GET /x HTTP/1.1\r\n\r\n");
    assert_true(th_read_resp(c, &r, false));
    assert_int_equal(r.status, 200);
    th_resp_free(&r);
    t0 = th_now();
    assert_true(th_wait_closed(c->fd, 3000));
    assert_true(th_now() - t0 >= 0.2);
    th_close(c);
    /* a connection that never sends anything is idle as well */
    c = th_connect(g_s.port);
    assert_true(th_wait_closed(c->fd, 3000));
    th_close(c);
}

/* An answer that takes several idle timeouts to read, read steadily, is
 * not cut by the idle timer. */
static void test_steady_reader(void **state)
{
    double t0 = th_now();
    th_conn *c = th_connect_rcvbuf(g_s.port, 128 * 1024);
    th_resp r;
    size_t got;
    (void)state;
    th_send(c, "GET /big HTTP/1.1\r\n\r\n");
    assert_true(th_read_resp(c, &r, true));
    assert_int_equal(r.status, 200);
    th_resp_free(&r);
    for (got = c->len, c->len = 0; got < TH_BIG && th_now() - t0 < 10; c->len = 0) {
        ssize_t n;
        th_sleep_ms(10);
        n = th_fill(c);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_int_equal(got, TH_BIG);
    assert_true(th_now() - t0 > 0.5); /* it did take longer than idle_timeout */
    th_close(c);
}

/* A client that stops reading an answer is dropped: nothing moved during
 * an idle timeout. */
static void test_stalled_reader(void **state)
{
    th_conn *c = th_connect(g_s.port);
    sb_http_stats st;
    double t0 = th_now();
    (void)state;
    th_send(c, "GET /big HTTP/1.1\r\n\r\n");
    do {
        th_sleep_ms(20);
        st = th_stats(&g_s);
    } while (st.open_connections > 0 && th_now() - t0 < 5);
    assert_int_equal(st.open_connections, 0);
    assert_true(th_now() - t0 >= 0.25);
    th_close(c);
}

static int start_limit(void **state)
{
    sb_http_limits l = th_limits();
    (void)state;
    l.max_connections = 10;
    start_with(&l);
    return 0;
}

static void test_connection_limit(void **state)
{
    th_conn *first[10], *extra[5];
    th_resp r;
    sb_http_stats st;
    (void)state;
    for (int i = 0; i < 10; i++) {
        first[i] = th_connect(g_s.port);
        th_send(first[i], "GET /x HTTP/1.1\r\n\r\n");
        assert_true(th_read_resp(first[i], &r, false));
        assert_int_equal(r.status, 200);
        th_resp_free(&r);
    }
    /* the kernel completes these handshakes; the server does not accept */
    for (int i = 0; i < 5; i++) {
        extra[i] = th_connect(g_s.port);
        th_send(extra[i], "GET /x HTTP/1.1\r\n\r\n");
    }
    th_rcv_timeout(extra[0]->fd, 300);
    assert_false(th_read_resp(extra[0], &r, false));
    th_rcv_timeout(extra[0]->fd, 5000);
    st = th_stats(&g_s);
    assert_int_equal(st.open_connections, 10);
    assert_true(st.rejected_limit >= 1);
    for (int i = 0; i < 5; i++)
        th_close(first[i]);
    for (int i = 0; i < 5; i++) {
        assert_true(th_read_resp(extra[i], &r, false));
        assert_int_equal(r.status, 200);
        th_resp_free(&r);
    }
    for (int i = 5; i < 10; i++) {
        th_send(first[i], "GET /x HTTP/1.1\r\n\r\n");
        assert_true(th_read_resp(first[i], &r, false));
        assert_int_equal(r.status, 200);
        th_resp_free(&r);
        th_close(first[i]);
    }
    for (int i = 0; i < 5; i++)
        th_close(extra[i]);
}

static int start_default(void **state)
{
    sb_http_limits l = th_limits();
    (void)state;
    start_with(&l);
    return 0;
}

static void test_many_idle(void **state)
{
    enum { N = 1000 };
    struct rlimit rl;
    int fds[N];
    th_conn *c;
    th_resp r;
    sb_http_stats st;
    double deadline;
    (void)state;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 2 * N + 100) {
        rl.rlim_cur = rl.rlim_max < 2 * N + 100 ? rl.rlim_max : 2 * N + 100;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < 2 * N + 100)
            skip(); /* cannot hold both ends of 1000 sockets */
    }
    for (int i = 0; i < N; i++) {
        fds[i] = th_socket_to(AF_INET, "127.0.0.1", g_s.port, 5000);
        assert_true(fds[i] >= 0);
    }
    for (deadline = th_now() + 5; th_now() < deadline; th_sleep_ms(10)) {
        st = th_stats(&g_s);
        if (st.open_connections == N)
            break;
    }
    assert_int_equal(st.open_connections, N);
    c = th_connect(g_s.port);
    th_send(c, "POST /x HTTP/1.1\r\nContent-Length: 2\r\n\r\nok");
    assert_true(th_read_resp(c, &r, false));
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ok");
    th_resp_free(&r);
    th_close(c);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    for (deadline = th_now() + 5; th_now() < deadline; th_sleep_ms(10)) {
        st = th_stats(&g_s);
        if (st.open_connections == 0)
            break;
    }
    assert_int_equal(st.open_connections, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_413_content_length, start_small, stop),
        cmocka_unit_test_setup_teardown(test_413_chunked, start_small, stop),
        cmocka_unit_test_setup_teardown(test_431, start_small, stop),
        cmocka_unit_test_setup_teardown(test_expect_continue, start_small, stop),
        cmocka_unit_test_setup_teardown(test_slowloris, start_timeouts, stop),
        cmocka_unit_test_setup_teardown(test_body_timeout, start_timeouts, stop),
        cmocka_unit_test_setup_teardown(test_idle_timeout, start_timeouts, stop),
        cmocka_unit_test_setup_teardown(test_steady_reader, start_timeouts, stop),
        cmocka_unit_test_setup_teardown(test_stalled_reader, start_timeouts, stop),
        cmocka_unit_test_setup_teardown(test_connection_limit, start_limit, stop),
        cmocka_unit_test_setup_teardown(test_many_idle, start_default, stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
