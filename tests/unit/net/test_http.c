/* HTTP server: routing, keep-alive, pipelining, bodies, HEAD, errors,
 * late answers, the observer, IPv6. */
#include "test_http_harness.h"

#include <jansson.h>

static sb_http_server *g_srv; /* the running test server (handlers use it) */

/* ---- handlers (loop thread) ------------------------------------------------ */

/* "<ud> <method> <path> sub=<subpath> q=<query> body=<body>" */
static void h_echo(sb_http_req *req, void *ud)
{
    char buf[8192];
    int n = snprintf(buf, sizeof buf, "%s %s %s sub=%s q=%s body=%s", (const char *)ud, req->method,
                     req->path, req->subpath, req->query, req->body);
    sb_header h = {"X-Test", "yes"};
    TH_CHECK((size_t)n < sizeof buf);
    TH_CHECK(strlen(req->body) == req->body_len);
    TH_CHECK(sb_http_respond(g_srv, req->id, 200, "text/plain", &h, 1, buf, (size_t)n) == SB_OK);
}

/* Answers after ?<ms> milliseconds from a timer. */
typedef struct later {
    ev_timer t;
    uint64_t id;
    char text[256];
} later;

static void later_fire(struct ev_loop *loop, ev_timer *w, int revents)
{
    later *l = (later *)w;
    (void)loop;
    (void)revents;
    TH_CHECK(sb_http_respond(g_srv, l->id, 200, "text/plain", NULL, 0, l->text, strlen(l->text)) ==
             SB_OK);
    free(l);
}

static struct ev_loop *g_loop;

static void h_async(sb_http_req *req, void *ud)
{
    later *l = calloc(1, sizeof *l);
    (void)ud;
    TH_CHECK(l != NULL);
    l->id = req->id;
    snprintf(l->text, sizeof l->text, "async %s", req->query);
    ev_timer_init(&l->t, later_fire, atoi(req->query) / 1000.0, 0);
    ev_timer_start(g_loop, &l->t);
}

/* Keeps the id; the test answers (or not) through th_call. */
static uint64_t g_held;
static void h_hold(sb_http_req *req, void *ud)
{
    (void)ud;
    g_held = req->id;
}

static sb_status g_bad_respond;
static void h_err(sb_http_req *req, void *ud)
{
    sb_header bad = {"X-Evil", "a\r\nInjected: 1"};
    (void)ud;
    g_bad_respond = sb_http_respond(g_srv, req->id, 200, NULL, &bad, 1, "x", 1);
    TH_CHECK(sb_http_error(g_srv, req->id, 422, "bad\"code",
                           "line\nbreak \x01 \xff tab\t quote\" \xc3\xa9") == SB_OK);
}

static int g_owner_tag;

static void setup_routes(th_server *s, void *arg)
{
    (void)arg;
    g_srv = s->srv;
    g_loop = s->loop;
    assert_int_equal(sb_http_route(s->srv, "GET", "/hello", false, h_echo, "hello", NULL), SB_OK);
    assert_int_equal(sb_http_route(s->srv, "POST", "/echo", false, h_echo, "echo", NULL), SB_OK);
    assert_int_equal(sb_http_route(s->srv, NULL, "/api", true, h_echo, "api", NULL), SB_OK);
    assert_int_equal(sb_http_route(s->srv, NULL, "/api/v1", true, h_echo, "v1", NULL), SB_OK);
    assert_int_equal(sb_http_route(s->srv, "GET", "/api/v1/x", false, h_echo, "x", NULL), SB_OK);
    assert_int_equal(sb_http_route(s->srv, "POST", "/only-post", false, h_echo, "p", NULL), SB_OK);
    assert_int_equal(sb_http_route(s->srv, "PUT", "/only-post", false, h_echo, "p", NULL), SB_OK);
    assert_int_equal(sb_http_route(s->srv, "GET", "/async", false, h_async, NULL, NULL), SB_OK);
    assert_int_equal(sb_http_route(s->srv, "GET", "/hold", false, h_hold, NULL, NULL), SB_OK);
    assert_int_equal(sb_http_route(s->srv, "GET", "/err", false, h_err, NULL, NULL), SB_OK);
    th_route_big(s);
    assert_int_equal(sb_http_route(s->srv, "GET", "/owned", true, h_echo, "owned", &g_owner_tag),
                     SB_OK);
}

static th_server g_s;

static int start(void **state)
{
    sb_http_limits l = th_limits();
    (void)state;
    th_start(&g_s, &l, setup_routes, NULL);
    return 0;
}

static int stop(void **state)
{
    (void)state;
    th_stop(&g_s);
    return 0;
}

static void expect_body(th_resp *r, int status, const char *body)
{
    if (r->status != status || strcmp(r->body, body))
        fprintf(stderr, "got %d '%s', want %d '%s'\n", r->status, r->body, status, body);
    assert_int_equal(r->status, status);
    assert_string_equal(r->body, body);
    th_resp_free(r);
}

/* The next response on a kept-alive connection, checked like expect_body. */
static void expect_next(th_conn *c, int status, const char *body)
{
    th_resp r;
    assert_true(th_read_resp(c, &r, false));
    expect_body(&r, status, body);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_get_post(void **state)
{
    th_resp r = th_request(g_s.port, "GET /hello?x=1 HTTP/1.1\r\nHost: t\r\n\r\n");
    char v[64];
    (void)state;
    assert_true(th_header(r.head, "X-Test", v, sizeof v));
    assert_string_equal(v, "yes");
    assert_true(th_header(r.head, "Content-Type", v, sizeof v));
    assert_string_equal(v, "text/plain");
    expect_body(&r, 200, "hello GET /hello sub= q=x=1 body=");
    r = th_request(g_s.port, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
    expect_body(&r, 200, "echo POST /echo sub= q= body=abc");
    /* absolute form */
    r = th_request(g_s.port, "GET http://example.com/hello?y HTTP/1.1\r\nHost: t\r\n\r\n");
    expect_body(&r, 200, "hello GET /hello sub= q=y body=");
}

static void test_exact_vs_prefix(void **state)
{
    th_resp r;
    (void)state;
    r = th_request(g_s.port, "GET /api/v1/x HTTP/1.1\r\n\r\n");
    expect_body(&r, 200, "x GET /api/v1/x sub= q= body=");
    r = th_request(g_s.port, "GET /api/v1/y/z HTTP/1.1\r\n\r\n");
    expect_body(&r, 200, "v1 GET /api/v1/y/z sub=/y/z q= body=");
    r = th_request(g_s.port, "POST /api/v1/x HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    expect_body(&r, 200, "v1 POST /api/v1/x sub=/x q= body=");
    r = th_request(g_s.port, "DELETE /api/other HTTP/1.1\r\n\r\n");
    expect_body(&r, 200, "api DELETE /api/other sub=/other q= body=");
    r = th_request(g_s.port, "GET /api HTTP/1.1\r\n\r\n");
    expect_body(&r, 200, "api GET /api sub= q= body=");
    r = th_request(g_s.port, "GET /apix HTTP/1.1\r\n\r\n");
    assert_int_equal(r.status, 404);
    th_resp_free(&r);
}

/* A url long enough that splitting it grows the request's string arena. */
static void test_long_url(void **state)
{
    char req[4096], want[4096], seg[1200];
    th_resp r;
    (void)state;
    memset(seg, 'a', sizeof seg - 1);
    seg[sizeof seg - 1] = 0;
    snprintf(req, sizeof req, "GET /api/%s?q=%s HTTP/1.1\r\nHost: h\r\n\r\n", seg, seg);
    snprintf(want, sizeof want, "api GET /api/%s sub=/%s q=q=%s body=", seg, seg, seg);
    r = th_request(g_s.port, req);
    expect_body(&r, 200, want);
}

static void test_404_json(void **state)
{
    th_resp r = th_request(g_s.port, "GET /nope HTTP/1.1\r\n\r\n");
    json_error_t e;
    json_t *j;
    char v[64];
    (void)state;
    assert_int_equal(r.status, 404);
    assert_true(th_header(r.head, "Content-Type", v, sizeof v));
    assert_string_equal(v, "application/json");
    j = json_loads(r.body, 0, &e);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
                        "not_found");
    json_decref(j);
    th_resp_free(&r);
}

static void test_405(void **state)
{
    th_resp r = th_request(g_s.port, "GET /only-post HTTP/1.1\r\n\r\n");
    char v[64];
    (void)state;
    assert_int_equal(r.status, 405);
    assert_true(th_header(r.head, "Allow", v, sizeof v));
    assert_string_equal(v, "POST, PUT");
    assert_non_null(strstr(r.body, "\"method_not_allowed\""));
    th_resp_free(&r);
}

static void test_keep_alive(void **state)
{
    sb_http_stats before = th_stats(&g_s), after;
    th_conn *c = th_connect(g_s.port);
    th_resp r;
    char v[32];
    (void)state;
    for (int i = 0; i < 3; i++) {
        th_send(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_true(th_read_resp(c, &r, false));
        assert_false(th_header(r.head, "Connection", v, sizeof v));
        expect_body(&r, 200, "hello GET /hello sub= q= body=");
    }
    after = th_stats(&g_s);
    assert_int_equal(after.accepted, before.accepted + 1);
    /* Connection: close is honoured */
    th_send(c, "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert_true(th_read_resp(c, &r, false));
    assert_true(th_header(r.head, "Connection", v, sizeof v));
    assert_string_equal(v, "close");
    th_resp_free(&r);
    assert_true(th_wait_closed(c->fd, 2000));
    th_close(c);
}

static void test_http10(void **state)
{
    th_conn *c = th_connect(g_s.port);
    th_resp r;
    char v[32];
    (void)state;
    th_send(c, "GET /hello HTTP/1.0\r\n\r\n");
    assert_true(th_read_resp(c, &r, false));
    assert_true(th_header(r.head, "Connection", v, sizeof v));
    assert_string_equal(v, "close");
    th_resp_free(&r);
    assert_true(th_wait_closed(c->fd, 2000));
    th_close(c);

    c = th_connect(g_s.port);
    th_send(c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_true(th_read_resp(c, &r, false));
    assert_true(th_header(r.head, "Connection", v, sizeof v));
    assert_string_equal(v, "keep-alive");
    th_resp_free(&r);
    th_send(c, "GET /api/v1/x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    expect_next(c, 200, "x GET /api/v1/x sub= q= body=");
    th_close(c);
}

static void test_pipelining(void **state)
{
    th_conn *c = th_connect(g_s.port);
    (void)state;
    th_send(c, "GET /hello?1 HTTP/1.1\r\n\r\n"
               "POST /echo?2 HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody"
               "GET /api/v1/x?3 HTTP/1.1\r\n\r\n");
    expect_next(c, 200, "hello GET /hello sub= q=1 body=");
    expect_next(c, 200, "echo POST /echo sub= q=2 body=body");
    expect_next(c, 200, "x GET /api/v1/x sub= q=3 body=");
    th_close(c);
}

static void test_pipelining_async(void **state)
{
    th_conn *c = th_connect(g_s.port);
    (void)state;
    /* the first answer comes last in time: order must still hold */
    th_send(c, "GET /async?120 HTTP/1.1\r\n\r\n"
               "GET /async?10 HTTP/1.1\r\n\r\n"
               "GET /async?60 HTTP/1.1\r\n\r\n");
    expect_next(c, 200, "async 120");
    expect_next(c, 200, "async 10");
    expect_next(c, 200, "async 60");
    th_close(c);
}

static void test_chunked_body(void **state)
{
    th_conn *c = th_connect(g_s.port);
    (void)state;
    th_send(c, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n");
    th_sleep_ms(20);
    th_send(c, "6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
    expect_next(c, 200, "echo POST /echo sub= q= body=hello world");
    th_close(c);
}

static void test_head(void **state)
{
    th_conn *c = th_connect(g_s.port);
    th_resp r;
    char v[32];
    (void)state;
    th_send(c, "HEAD /hello HTTP/1.1\r\n\r\n");
    assert_true(th_read_resp(c, &r, true));
    assert_int_equal(r.status, 200);
    assert_true(th_header(r.head, "Content-Length", v, sizeof v));
    assert_string_equal(v, "31"); /* strlen("hello HEAD /hello sub= q= body=") */
    th_resp_free(&r);
    /* no body bytes followed: the next answer parses cleanly */
    th_send(c, "GET /hello HTTP/1.1\r\n\r\n");
    expect_next(c, 200, "hello GET /hello sub= q= body=");
    th_close(c);
}

static void test_garbage(void **state)
{
    th_conn *c = th_connect(g_s.port);
    th_resp r;
    (void)state;
    th_send_raw(c->fd, "\x01\x02 garbage\r\n\r\n", 14);
    assert_true(th_read_resp(c, &r, false));
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"bad_request\""));
    th_resp_free(&r);
    assert_true(th_wait_closed(c->fd, 2000));
    th_close(c);
    /* bad chunk size */
    c = th_connect(g_s.port);
    th_send(c, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    assert_true(th_read_resp(c, &r, false));
    assert_int_equal(r.status, 400);
    th_resp_free(&r);
    assert_true(th_wait_closed(c->fd, 2000));
    th_close(c);
}

/* A reader slower than the server: the answer waits in the output queue
 * and leaves as the socket drains; the next request on the connection
 * still works. */
static void test_slow_reader(void **state)
{
    th_conn *c = th_connect_rcvbuf(g_s.port, 4096);
    th_resp r;
    (void)state;
    th_send(c, "GET /big HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\n");
    th_sleep_ms(100);
    assert_true(th_read_resp(c, &r, true));
    assert_int_equal(r.status, 200);
    th_resp_free(&r);
    /* stream the body through the small client buffer, checking each byte */
    for (size_t got = 0; got < TH_BIG;) {
        size_t n = c->len < TH_BIG - got ? c->len : TH_BIG - got;
        for (size_t i = 0; i < n; i++)
            if (c->buf[i] != (char)('a' + (got + i) % 23))
                fail_msg("byte %zu differs", got + i);
        got += n;
        th_consume(c, n);
        if (got < TH_BIG)
            assert_true(th_fill(c) > 0);
    }
    expect_next(c, 200, "hello GET /hello sub= q= body=");
    th_close(c);
}

static uint64_t g_open;
static void count_open(th_server *s, void *arg)
{
    sb_http_stats st;
    (void)arg;
    sb_http_get_stats(s->srv, &st);
    g_open = st.open_connections;
}

static sb_status g_rc;
static void answer_held(th_server *s, void *arg)
{
    (void)arg;
    g_rc = sb_http_respond(s->srv, g_held, 200, "text/plain", NULL, 0, "late", 4);
}

static void test_late_respond(void **state)
{
    th_conn *c = th_connect(g_s.port);
    double deadline;
    (void)state;
    g_held = 0;
    th_send(c, "GET /hold HTTP/1.1\r\n\r\n");
    for (deadline = th_now() + 2; th_now() < deadline; th_sleep_ms(5)) {
        th_call(&g_s, count_open, NULL);
        if (g_held)
            break;
    }
    assert_true(g_held != 0);
    th_close(c);
    for (deadline = th_now() + 2; th_now() < deadline; th_sleep_ms(5)) {
        th_call(&g_s, count_open, NULL);
        if (g_open == 0)
            break;
    }
    assert_int_equal(g_open, 0);
    th_call(&g_s, answer_held, NULL);
    assert_int_equal(g_rc, SB_ERR_HANDLE);

    /* answered once, then the id is stale */
    c = th_connect(g_s.port);
    g_held = 0;
    th_send(c, "GET /hold HTTP/1.1\r\n\r\n");
    for (deadline = th_now() + 2; th_now() < deadline && !g_held; th_sleep_ms(5))
        th_call(&g_s, count_open, NULL);
    th_call(&g_s, answer_held, NULL);
    assert_int_equal(g_rc, SB_OK);
    th_call(&g_s, answer_held, NULL);
    assert_int_equal(g_rc, SB_ERR_HANDLE);
    expect_next(c, 200, "late");
    th_close(c);
}

static void unroute(th_server *s, void *arg)
{
    (void)arg;
    sb_http_unroute_owner(s->srv, &g_owner_tag);
}

static void test_unroute_owner(void **state)
{
    th_resp r = th_request(g_s.port, "GET /owned/a HTTP/1.1\r\n\r\n");
    (void)state;
    expect_body(&r, 200, "owned GET /owned/a sub=/a q= body=");
    th_call(&g_s, unroute, NULL);
    r = th_request(g_s.port, "GET /owned/a HTTP/1.1\r\n\r\n");
    assert_int_equal(r.status, 404);
    th_resp_free(&r);
    r = th_request(g_s.port, "GET /hello HTTP/1.1\r\n\r\n");
    assert_int_equal(r.status, 200);
    th_resp_free(&r);
}

static void test_error_escaping(void **state)
{
    th_resp r = th_request(g_s.port, "GET /err HTTP/1.1\r\n\r\n");
    json_error_t e;
    json_t *j, *err;
    (void)state;
    assert_int_equal(g_bad_respond, SB_ERR_INVALID);
    assert_int_equal(r.status, 422);
    j = json_loads(r.body, 0, &e);
    if (!j)
        fprintf(stderr, "bad json: %s (%s)\n", r.body, e.text);
    assert_non_null(j);
    err = json_object_get(j, "error");
    assert_string_equal(json_string_value(json_object_get(err, "code")), "bad\"code");
    assert_string_equal(json_string_value(json_object_get(err, "message")),
                        "line\nbreak \x01 \xef\xbf\xbd tab\t quote\" \xc3\xa9");
    json_decref(j);
    th_resp_free(&r);
}

typedef struct obs {
    int calls;
    char route[64], method[16];
    int status;
    double seconds;
} obs;
static obs g_obs;

static void observe(void *ud, const char *route, const char *method, int status, double seconds)
{
    obs *o = ud;
    o->calls++;
    snprintf(o->route, sizeof o->route, "%s", route);
    snprintf(o->method, sizeof o->method, "%s", method);
    o->status = status;
    o->seconds = seconds;
}

static void set_observer(th_server *s, void *arg)
{
    sb_http_set_observer(s->srv, observe, arg);
}

static obs g_obs_copy;
static void read_obs(th_server *s, void *arg)
{
    (void)s;
    (void)arg;
    g_obs_copy = g_obs;
}

static void test_observer(void **state)
{
    th_resp r;
    (void)state;
    memset(&g_obs, 0, sizeof g_obs);
    th_call(&g_s, set_observer, &g_obs);
    r = th_request(g_s.port, "GET /api/v1/y HTTP/1.1\r\n\r\n");
    th_resp_free(&r);
    th_call(&g_s, read_obs, NULL);
    assert_int_equal(g_obs_copy.calls, 1);
    assert_string_equal(g_obs_copy.route, "/api/v1");
    assert_string_equal(g_obs_copy.method, "GET");
    assert_int_equal(g_obs_copy.status, 200);
    assert_true(g_obs_copy.seconds >= 0 && g_obs_copy.seconds < 5);
    r = th_request(g_s.port, "PATCH /zzz HTTP/1.1\r\n\r\n");
    th_resp_free(&r);
    th_call(&g_s, read_obs, NULL);
    assert_int_equal(g_obs_copy.calls, 2);
    assert_string_equal(g_obs_copy.route, "unmatched");
    assert_string_equal(g_obs_copy.method, "PATCH");
    assert_int_equal(g_obs_copy.status, 404);
}

static void nop(sb_http_req *req, void *ud)
{
    (void)req;
    (void)ud;
}

static void test_route_register(void **state)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    sb_http_server *srv = sb_http_server_new(loop, NULL);
    char err[128];
    (void)state;
    assert_int_equal(sb_http_route(srv, "GET", "/a", false, nop, NULL, NULL), SB_OK);
    assert_int_equal(sb_http_route(srv, "GET", "/a", false, nop, NULL, NULL), SB_ERR_EXISTS);
    assert_int_equal(sb_http_route(srv, "GET", "/a", true, nop, NULL, NULL), SB_OK);
    assert_int_equal(sb_http_route(srv, NULL, "/a", false, nop, NULL, NULL), SB_OK);
    assert_int_equal(sb_http_route(srv, "GET", "a", false, nop, NULL, NULL), SB_ERR_INVALID);
    assert_int_equal(sb_http_route(srv, "GET", "/b", false, NULL, NULL, NULL), SB_ERR_INVALID);
    assert_int_equal(sb_http_listen(srv, "nohost:80", NULL, NULL, err, sizeof err), SB_ERR_INVALID);
    assert_non_null(strstr(err, "nohost:80"));
    assert_int_equal(sb_http_listen(srv, "127.0.0.1:99999", NULL, NULL, err, sizeof err),
                     SB_ERR_INVALID);
    assert_int_equal(sb_http_listen(srv, "[::1:80", NULL, NULL, err, sizeof err), SB_ERR_INVALID);
    assert_int_equal(
        sb_http_listen(srv, "127.0.0.1:0", "/nonexistent.pem", "/nonexistent.key", err, sizeof err),
        SB_ERR_INVALID);
    assert_non_null(strstr(err, "/nonexistent.pem"));
    assert_int_equal(sb_http_port(srv), 0);
    sb_http_server_free(srv);
    ev_loop_destroy(loop);
}

static void test_ipv6(void **state)
{
    th_server s6;
    sb_http_limits l = th_limits();
    int fd;
    th_conn *c;
    (void)state;
    if (!th_start_at(&s6, &l, "[::1]:0", NULL, NULL, setup_routes, NULL))
        skip(); /* no IPv6 on this host */
    fd = th_socket_to(AF_INET6, "::1", s6.port, 5000);
    assert_true(fd >= 0);
    c = calloc(1, sizeof *c);
    c->fd = fd;
    th_send(c, "GET /hello HTTP/1.1\r\n\r\n");
    expect_next(c, 200, "hello GET /hello sub= q= body=");
    th_close(c);
    th_stop(&s6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_post, start, stop),
        cmocka_unit_test_setup_teardown(test_exact_vs_prefix, start, stop),
        cmocka_unit_test_setup_teardown(test_long_url, start, stop),
        cmocka_unit_test_setup_teardown(test_404_json, start, stop),
        cmocka_unit_test_setup_teardown(test_405, start, stop),
        cmocka_unit_test_setup_teardown(test_keep_alive, start, stop),
        cmocka_unit_test_setup_teardown(test_http10, start, stop),
        cmocka_unit_test_setup_teardown(test_pipelining, start, stop),
        cmocka_unit_test_setup_teardown(test_pipelining_async, start, stop),
        cmocka_unit_test_setup_teardown(test_chunked_body, start, stop),
        cmocka_unit_test_setup_teardown(test_head, start, stop),
        cmocka_unit_test_setup_teardown(test_garbage, start, stop),
        cmocka_unit_test_setup_teardown(test_slow_reader, start, stop),
        cmocka_unit_test_setup_teardown(test_late_respond, start, stop),
        cmocka_unit_test_setup_teardown(test_unroute_owner, start, stop),
        cmocka_unit_test_setup_teardown(test_error_escaping, start, stop),
        cmocka_unit_test_setup_teardown(test_observer, start, stop),
        cmocka_unit_test(test_route_register),
        cmocka_unit_test(test_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
