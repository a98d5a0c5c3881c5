/* WebSocket: handshake, echo of text and binary, fragmentation, limits,
 * ping/pong and silent peers, both close handshakes, slow readers. The
 * client side is written by hand so that every frame is under control. */
#include "test_http_harness.h"

enum { BIG_MSG = 200 * 1024 };
static sb_http_server *g_srv;
static struct ev_loop *g_loop;

/* Loop-thread state, read by the test through th_call. */
typedef struct wsstate {
    uint64_t ws_id;
    sb_status accept_rc;
    int closes;
    int close_code;
    uint64_t close_id;
    sb_status after_close_rc; /* sb_ws_send right after sb_ws_close */
    sb_status stale_rc;       /* sb_ws_send on the id after on_close */
    int flood_sent;
    sb_status flood_rc;
    ev_timer flood;
} wsstate;
static wsstate g;

static void flood_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    static char chunk[16 * 1024];
    (void)revents;
    g.flood_rc = sb_ws_send(g_srv, g.ws_id, true, chunk, sizeof chunk);
    if (g.flood_rc == SB_OK)
        g.flood_sent++;
    else
        ev_timer_stop(loop, w);
}

static void on_message(void *ud, uint64_t id, bool binary, const void *data, size_t len)
{
    (void)ud;
    TH_CHECK(id == g.ws_id);
    if (!binary && len == 8 && !memcmp(data, "close-me", 8)) {
        TH_CHECK(sb_ws_close(g_srv, id, 4000, "bye") == SB_OK);
        g.after_close_rc = sb_ws_send(g_srv, id, false, "x", 1);
        TH_CHECK(sb_ws_close(g_srv, id, 4001, NULL) == SB_OK); /* already closing */
        return;
    }
    if (!binary && len == 3 && !memcmp(data, "big", 3)) {
        /* several times what the connection queue takes at once */
        static char big[BIG_MSG];
        for (size_t i = 0; i < sizeof big; i++)
            big[i] = (char)(i % 251);
        TH_CHECK(sb_ws_send(g_srv, id, true, big, sizeof big) == SB_OK);
        return;
    }
    if (!binary && len == 5 && !memcmp(data, "flood", 5)) {
        ev_timer_init(&g.flood, flood_tick, 0.001, 0.001);
        ev_timer_start(g_loop, &g.flood);
        return;
    }
    TH_CHECK(sb_ws_send(g_srv, id, binary, data, len) == SB_OK);
}

static void on_close(void *ud, uint64_t id, int code)
{
    (void)ud;
    g.closes++;
    g.close_code = code;
    g.close_id = id;
    g.stale_rc = sb_ws_send(g_srv, id, false, "x", 1);
    if (ev_is_active(&g.flood))
        ev_timer_stop(g_loop, &g.flood);
}

static const sb_ws_handlers handlers = {on_message, on_close};

static void h_ws(sb_http_req *req, void *ud)
{
    uint64_t id = 0;
    (void)ud;
    g.accept_rc = sb_ws_accept(g_srv, req->id, &handlers, NULL, &id);
    if (g.accept_rc == SB_OK)
        g.ws_id = id;
    /* the request is answered either way */
    TH_CHECK(sb_http_respond(g_srv, req->id, 200, NULL, NULL, 0, NULL, 0) == SB_ERR_HANDLE);
}

static void setup_routes(th_server *s, void *arg)
{
    (void)arg;
    g_srv = s->srv;
    g_loop = s->loop;
    assert_int_equal(sb_http_route(s->srv, "GET", "/ws", false, h_ws, NULL, NULL), SB_OK);
}

static th_server g_s;

static void start_ping(uint64_t ping_ms)
{
    sb_http_limits l = th_limits();
    memset(&g, 0, sizeof g);
    l.ws_ping_ms = ping_ms;
    th_start(&g_s, &l, setup_routes, NULL);
}

static int start(void **state)
{
    (void)state;
    start_ping(5000);
    return 0;
}

static int stop(void **state)
{
    (void)state;
    th_stop(&g_s);
    return 0;
}

static wsstate g_copy;
static void snap(th_server *s, void *arg)
{
    (void)s;
    (void)arg;
    g_copy = g;
}

static wsstate snapshot(void)
{
    th_call(&g_s, snap, NULL);
    return g_copy;
}

/* Waits until on_close ran `n` times (or 3 s). */
static wsstate wait_closes(int n)
{
    wsstate st = snapshot();
    for (double end = th_now() + 3; st.closes < n && th_now() < end; st = snapshot())
        th_sleep_ms(5);
    return st;
}

/* ---- a minimal client ---------------------------------------------------- */

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="

static th_conn *ws_open_fd(int fd)
{
    th_conn *c = calloc(1, sizeof *c);
    th_resp r;
    char v[64];
    assert_non_null(c);
    c->fd = fd;
    th_send(c, "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
               "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n");
    assert_true(th_read_resp(c, &r, true));
    assert_int_equal(r.status, 101);
    assert_true(th_header(r.head, "Sec-WebSocket-Accept", v, sizeof v));
    assert_string_equal(v, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); /* RFC 6455 section 1.3 */
    th_resp_free(&r);
    return c;
}

static th_conn *ws_open(void)
{
    return ws_open_fd(th_socket_to(AF_INET, "127.0.0.1", g_s.port, 5000));
}

static void ws_send(th_conn *c, bool fin, int opcode, const void *data, size_t len)
{
    unsigned char hdr[14], mask[4] = {0x12, 0x34, 0x56, 0x78};
    size_t hl = 0;
    unsigned char *buf = malloc(len + 14);
    assert_non_null(buf);
    hdr[hl++] = (unsigned char)((fin ? 0x80 : 0) | opcode);
    if (len < 126) {
        hdr[hl++] = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        hdr[hl++] = 0x80 | 126;
        hdr[hl++] = (unsigned char)(len >> 8);
        hdr[hl++] = (unsigned char)len;
    } else {
        hdr[hl++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            hdr[hl++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    memcpy(hdr + hl, mask, 4);
    hl += 4;
    memcpy(buf, hdr, hl);
    for (size_t i = 0; i < len; i++)
        buf[hl + i] = ((const unsigned char *)data)[i] ^ mask[i % 4];
    th_send_raw(c->fd, buf, hl + len);
    free(buf);
}

typedef struct frame {
    int opcode;
    bool fin;
    char *data;
    size_t len;
} frame;

/* One frame from the server (unmasked); false at EOF/timeout. */
static bool ws_read(th_conn *c, frame *f)
{
    size_t need = 2, hl, len;
    while (c->len < need)
        if (th_fill(c) <= 0)
            return false;
    unsigned char *p = (unsigned char *)c->buf;
    assert_int_equal(p[1] & 0x80, 0); /* servers do not mask */
    len = p[1] & 0x7f;
    hl = 2;
    if (len == 126)
        hl = 4;
    else if (len == 127)
        hl = 10;
    while (c->len < hl)
        if (th_fill(c) <= 0)
            return false;
    p = (unsigned char *)c->buf;
    if (len == 126)
        len = (size_t)p[2] << 8 | p[3];
    else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | p[2 + i];
    }
    while (c->len < hl + len)
        if (th_fill(c) <= 0)
            return false;
    f->fin = (c->buf[0] & 0x80) != 0;
    f->opcode = c->buf[0] & 0x0f;
    f->len = len;
    f->data = malloc(len + 1);
    memcpy(f->data, c->buf + hl, len);
    f->data[len] = 0;
    th_consume(c, hl + len);
    return true;
}

static void expect_frame(th_conn *c, int opcode, const void *data, size_t len)
{
    frame f;
    assert_true(ws_read(c, &f));
    assert_int_equal(f.opcode, opcode);
    assert_true(f.fin);
    assert_int_equal(f.len, len);
    assert_memory_equal(f.data, data, len);
    free(f.data);
}

/* A close frame with `code`; then the server closes the socket. */
static void expect_close(th_conn *c, int code)
{
    frame f;
    do {
        assert_true(ws_read(c, &f));
        if (f.opcode != 8)
            free(f.data);
    } while (f.opcode != 8);
    assert_true(f.len >= 2);
    assert_int_equal(((unsigned char)f.data[0] << 8) | (unsigned char)f.data[1], code);
    free(f.data);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_ws_handshake(void **state)
{
    th_conn *c = ws_open();
    wsstate st;
    sb_http_stats hs;
    th_resp r;
    char v[16];
    (void)state;
    st = snapshot();
    assert_int_equal(st.accept_rc, SB_OK);
    assert_true(st.ws_id > 0);
    hs = th_stats(&g_s);
    assert_int_equal(hs.ws_clients, 1);
    th_close(c);
    st = wait_closes(1);
    assert_int_equal(st.closes, 1);
    assert_int_equal(st.close_code, 1006);
    assert_int_equal(st.stale_rc, SB_ERR_HANDLE);
    hs = th_stats(&g_s);
    assert_int_equal(hs.ws_clients, 0);

    /* no key: 400, SB_ERR_INVALID, closed */
    c = th_connect(g_s.port);
    th_send(c, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n");
    assert_true(th_read_resp(c, &r, false));
    assert_int_equal(r.status, 400);
    th_resp_free(&r);
    assert_true(th_wait_closed(c->fd, 2000));
    th_close(c);
    assert_int_equal(snapshot().accept_rc, SB_ERR_INVALID);

    /* wrong version: 400 naming the one supported */
    c = th_connect(g_s.port);
    th_send(c, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 8\r\n\r\n");
    assert_true(th_read_resp(c, &r, false));
    assert_int_equal(r.status, 400);
    assert_true(th_header(r.head, "Sec-WebSocket-Version", v, sizeof v));
    assert_string_equal(v, "13");
    th_resp_free(&r);
    th_close(c);

    /* a plain GET on the route is not an upgrade */
    c = th_connect(g_s.port);
    th_send(c, "GET /ws HTTP/1.1\r\n\r\n");
    assert_true(th_read_resp(c, &r, false));
    assert_int_equal(r.status, 400);
    th_resp_free(&r);
    th_close(c);
}

static void test_ws_echo(void **state)
{
    th_conn *c = ws_open();
    unsigned char bin[60000];
    (void)state;
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (unsigned char)(i * 7);
    ws_send(c, true, 1, "hello", 5);
    expect_frame(c, 1, "hello", 5);
    ws_send(c, true, 2, bin, 300);
    expect_frame(c, 2, bin, 300);
    ws_send(c, true, 2, bin, sizeof bin);
    expect_frame(c, 2, bin, sizeof bin);
    ws_send(c, true, 1, "", 0);
    expect_frame(c, 1, "", 0);
    {
        char *want = malloc(BIG_MSG);
        for (size_t i = 0; i < BIG_MSG; i++)
            want[i] = (char)(i % 251);
        ws_send(c, true, 1, "big", 3);
        expect_frame(c, 2, want, BIG_MSG);
        free(want);
    }
    th_close(c);
}

static void test_ws_fragmented(void **state)
{
    th_conn *c = ws_open();
    (void)state;
    ws_send(c, false, 1, "Hel", 3);
    ws_send(c, true, 9, "mid", 3); /* control frames may come between fragments */
    ws_send(c, false, 0, "lo ", 3);
    ws_send(c, true, 0, "world", 5);
    expect_frame(c, 10, "mid", 3);
    expect_frame(c, 1, "Hello world", 11);
    th_close(c);
}

static void test_ws_too_big(void **state)
{
    th_conn *c = ws_open();
    size_t n = 70 * 1024; /* ws_max_message is 64 KiB */
    char *big = calloc(1, n);
    wsstate st;
    (void)state;
    /* fragments of 40 KiB each: only the reassembled size is over */
    ws_send(c, false, 2, big, 40 * 1024);
    ws_send(c, true, 0, big, n - 40 * 1024);
    expect_close(c, 1009);
    assert_true(th_wait_closed(c->fd, 3000));
    st = wait_closes(1);
    assert_int_equal(st.closes, 1);
    assert_int_equal(st.close_code, 1009);
    free(big);
    th_close(c);
}

static void test_ws_ping_pong(void **state)
{
    th_conn *c = ws_open();
    (void)state;
    ws_send(c, true, 9, "abc", 3);
    expect_frame(c, 10, "abc", 3);
    ws_send(c, true, 1, "after", 5);
    expect_frame(c, 1, "after", 5);
    th_close(c);
}

static void test_ws_server_ping(void **state)
{
    th_conn *c;
    frame f;
    int pings = 0;
    double t0;
    wsstate st;
    (void)state;
    th_stop(&g_s);
    start_ping(100);
    c = ws_open();
    /* answering pings keeps the connection */
    for (t0 = th_now(); th_now() - t0 < 0.5;) {
        assert_true(ws_read(c, &f));
        assert_int_equal(f.opcode, 9);
        ws_send(c, true, 10, f.data, f.len);
        free(f.data);
        pings++;
    }
    assert_true(pings >= 2);
    ws_send(c, true, 1, "alive", 5);
    do {
        assert_true(ws_read(c, &f));
        free(f.data);
    } while (f.opcode == 9);
    assert_int_equal(f.opcode, 1);
    assert_int_equal(snapshot().closes, 0);
    /* silence: closed after about two intervals */
    t0 = th_now();
    assert_true(th_wait_closed(c->fd, 3000));
    assert_true(th_now() - t0 < 2.0);
    st = wait_closes(1);
    assert_int_equal(st.closes, 1);
    assert_int_equal(st.close_code, 1006);
    th_close(c);
}

static void test_ws_client_close(void **state)
{
    th_conn *c = ws_open();
    wsstate st;
    (void)state;
    ws_send(c, true, 8,
            "\x03\xe8"
            "bye",
            5); /* 1000 */
    expect_close(c, 1000);
    assert_true(th_wait_closed(c->fd, 2000));
    st = wait_closes(1);
    assert_int_equal(st.closes, 1);
    assert_int_equal(st.close_code, 1000);
    th_sleep_ms(50);
    assert_int_equal(snapshot().closes, 1); /* exactly once */
    th_close(c);
}

static void test_ws_server_close(void **state)
{
    th_conn *c = ws_open();
    wsstate st;
    frame f;
    (void)state;
    ws_send(c, true, 1, "close-me", 8);
    assert_true(ws_read(c, &f));
    assert_int_equal(f.opcode, 8);
    assert_int_equal(f.len, 5);
    assert_memory_equal(f.data,
                        "\x0f\xa0"
                        "bye",
                        5); /* 4000 */
    free(f.data);
    st = snapshot();
    assert_int_equal(st.after_close_rc, SB_ERR_STATE);
    assert_int_equal(st.closes, 0); /* waits for the peer's close */
    ws_send(c, true, 8, "\x0f\xa0", 2);
    assert_true(th_wait_closed(c->fd, 2000));
    st = wait_closes(1);
    assert_int_equal(st.closes, 1);
    assert_int_equal(st.close_code, 4000);
    th_close(c);
}

static void test_ws_slow_reader(void **state)
{
    int fd, small = 4096;
    struct sockaddr_in a = {.sin_family = AF_INET};
    th_conn *c;
    wsstate st;
    double end;
    (void)state;
    th_stop(&g_s);
    start_ping(300); /* also the close grace */
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    a.sin_port = htons((uint16_t)g_s.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    th_rcv_timeout(fd, 5000);
    c = ws_open_fd(fd);
    ws_send(c, true, 1, "flood", 5);
    /* the client reads nothing more; the server sends until the bound */
    for (end = th_now() + 5, st = snapshot(); st.closes == 0 && th_now() < end; st = snapshot())
        th_sleep_ms(10);
    assert_int_equal(st.flood_rc, SB_ERR_FULL);
    /* more than the queue bound went out before the peer was dropped */
    assert_true((size_t)st.flood_sent * 16 * 1024 > 256 * 1024);
    assert_int_equal(st.closes, 1);
    assert_int_equal(st.close_code, 1008);
    assert_int_equal(th_stats(&g_s).ws_clients, 0);
    assert_true(th_wait_closed(c->fd, 3000));
    th_close(c);
}

static void test_ws_server_free(void **state)
{
    th_conn *c = ws_open();
    (void)state;
    th_stop(&g_s); /* frees the server: on_close(1001) on this thread */
    assert_int_equal(g.closes, 1);
    assert_int_equal(g.close_code, 1001);
    th_close(c);
    start_ping(5000); /* for the teardown */
}

static void test_accept_key(void **state)
{
    (void)state;
    /* the RFC example went through the handshake above; a short key fails */
    th_conn *c = th_connect(g_s.port);
    th_resp r;
    th_send(c, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n");
    assert_true(th_read_resp(c, &r, false));
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "Sec-WebSocket-Key"));
    th_resp_free(&r);
    th_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ws_handshake, start, stop),
        cmocka_unit_test_setup_teardown(test_accept_key, start, stop),
        cmocka_unit_test_setup_teardown(test_ws_echo, start, stop),
        cmocka_unit_test_setup_teardown(test_ws_fragmented, start, stop),
        cmocka_unit_test_setup_teardown(test_ws_too_big, start, stop),
        cmocka_unit_test_setup_teardown(test_ws_ping_pong, start, stop),
        cmocka_unit_test_setup_teardown(test_ws_server_ping, start, stop),
        cmocka_unit_test_setup_teardown(test_ws_client_close, start, stop),
        cmocka_unit_test_setup_teardown(test_ws_server_close, start, stop),
        cmocka_unit_test_setup_teardown(test_ws_slow_reader, start, stop),
        cmocka_unit_test_setup_teardown(test_ws_server_free, start, stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
