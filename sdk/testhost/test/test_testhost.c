/* The test host itself, driven through a probe plugin whose init runs a
 * per-test hook; afterwards the tests call host functions directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "testhost.h"

/* ---- the probe plugin ------------------------------------------------------- */

static const sb_host *H;
static sb_ctx *C;
static sb_status (*init_hook)(void);
static int destroyed, stopped, state_token;
static sb_send_accept (*send_hook)(uint64_t op);

static sb_status probe_init(const sb_host *h, sb_ctx *c, void **state)
{
    H = h;
    C = c;
    *state = &state_token;
    return init_hook ? init_hook() : SB_OK;
}
static void probe_stop(void *s) { (void)s; stopped++; }
static void probe_destroy(void *s) { (void)s; destroyed++; }
static sb_send_accept probe_send(void *s, const sb_outbound *m, uint64_t op)
{
    (void)s, (void)m;
    return send_hook ? send_hook(op) : SB_SEND_ACCEPTED;
}

static sb_plugin probe = {
    SB_PLUGIN_HEADER("probe", "0", SB_KIND_CHANNEL),
    .init = probe_init, .stop = probe_stop, .destroy = probe_destroy,
    .send = probe_send,
};

static void noop(void *ud) { (void)ud; }

static sb_th *up(void)
{
    sb_th *th = sb_th_new("probe", "p1");
    assert_int_equal(sb_th_start(th, &probe), SB_OK);
    return th;
}

static int reset(void **state)
{
    (void)state;
    init_hook = NULL;
    send_hook = NULL;
    destroyed = stopped = 0;
    return 0;
}

/* ---- descriptor and lifecycle ---------------------------------------------- */

static void test_descriptor_checks(void **state)
{
    (void)state;
    sb_th *th = sb_th_new("probe", "p1");
    sb_plugin p = probe;
    assert_int_equal(sb_th_start(th, NULL), SB_ERR_UNSUPPORTED);
    p.abi_major = 2;
    assert_int_equal(sb_th_start(th, &p), SB_ERR_UNSUPPORTED);
    assert_true(sb_th_log_find(th, "plugin ABI 2.1, host ABI 1.1") >= 0);
    p = probe;
    p.name = "other";
    assert_int_equal(sb_th_start(th, &p), SB_ERR_INVALID);
    p = probe;
    p.send = NULL;
    assert_int_equal(sb_th_start(th, &p), SB_ERR_INVALID);
    assert_true(sb_th_log_find(th, "a channel must have send") >= 0);
    p = probe;
    p.kind = SB_KIND_BOT; /* a bot without bot_event */
    assert_int_equal(sb_th_start(th, &p), SB_ERR_INVALID);
    assert_true(sb_th_log_find(th, "a bot must have bot_event") >= 0);
    p = probe;
    p.struct_size = 8;
    assert_int_equal(sb_th_start(th, &p), SB_ERR_INVALID);
    p.struct_size = offsetof(sb_plugin, send); /* send lies beyond: absent */
    assert_int_equal(sb_th_start(th, &p), SB_ERR_INVALID);
    assert_int_equal(destroyed, 0);

    assert_int_equal(sb_th_start(th, &probe), SB_OK);
    assert_ptr_equal(sb_th_state(th), &state_token);
    assert_int_equal(sb_th_start(th, &probe), SB_ERR_STATE);
    assert_string_equal(H->plugin_name(C), "probe");
    assert_string_equal(H->instance_name(C), "p1");
    sb_th_stop(th);
    assert_int_equal(stopped, 1);
    assert_int_equal(destroyed, 1);
    assert_null(sb_th_state(th));
    /* the ctx is stale now */
    size_t n;
    assert_int_equal(H->kv_get(C, "k", 1, NULL, 0, &n), SB_ERR_HANDLE);
    assert_int_equal(H->post(C, noop, NULL), SB_ERR_STATE);
    sb_th_free(th);
}

static sb_status fail_init(void) { return SB_ERR_IO; }

static void test_failed_init_is_undone(void **state)
{
    (void)state;
    sb_th *th = sb_th_new("probe", "p1");
    init_hook = fail_init;
    assert_int_equal(sb_th_start(th, &probe), SB_ERR_IO);
    assert_int_equal(stopped, 0);
    assert_int_equal(destroyed, 1); /* state was set */
    assert_true(sb_th_log_find(th, "init failed: I/O error") >= 0);
    sb_th_free(th);
}

/* ---- config ------------------------------------------------------------------- */

static sb_status read_all(void)
{
    const char *s;
    int64_t i;
    int b;
    uint64_t u;
    size_t n;
    assert_int_equal(H->config_string(C, "name", &s), SB_OK);
    assert_string_equal(s, "x y");
    assert_int_equal(H->config_int(C, "neg", &i), SB_OK);
    assert_int_equal(i, INT64_MIN);
    assert_int_equal(H->config_int(C, "big", &i), SB_ERR_INVALID);
    assert_int_equal(H->config_bool(C, "flag", &b), SB_OK);
    assert_int_equal(b, 1);
    assert_int_equal(H->config_size(C, "mib", &u), SB_OK);
    assert_int_equal(u, 1048576);
    assert_int_equal(H->config_size(C, "kb", &u), SB_OK);
    assert_int_equal(u, 512000);
    assert_int_equal(H->config_duration(C, "wait", &u), SB_OK);
    assert_int_equal(u, 300000);
    assert_int_equal(H->config_duration(C, "zero", &u), SB_OK);
    assert_int_equal(u, 0);
    assert_int_equal(H->config_duration(C, "bare", &u), SB_ERR_INVALID);
    assert_int_equal(H->config_count(C, "items", &n), SB_OK);
    assert_int_equal(n, 2);
    assert_int_equal(H->config_count(C, "items[0]", &n), SB_OK);
    assert_int_equal(n, 2);
    assert_int_equal(H->config_count(C, "", &n), SB_OK);
    assert_int_equal(n, 10); /* name ... bare, items */
    assert_int_equal(H->config_count(C, "name", &n), SB_ERR_INVALID);
    assert_int_equal(H->config_string(C, "items", &s), SB_ERR_INVALID);
    assert_int_equal(H->config_string(C, "absent", &s), SB_ERR_NOT_FOUND);
    assert_int_equal(H->config_string(C, "items[0].id", &s), SB_OK);
    assert_int_equal(H->config_string(C, "items[0].title", &s), SB_OK);
    assert_string_equal(s, "A");
    /* items[1].id stays unread */
    return SB_OK;
}

static void test_config(void **state)
{
    (void)state;
    sb_th *th = sb_th_new("probe", "p1");
    const char *kv[][2] = {
        {"name", "x y"}, {"neg", "-9223372036854775808"},
        {"big", "9223372036854775808"}, {"flag", "Yes"}, {"mib", "1MiB"},
        {"kb", "512KB"}, {"wait", "5m"}, {"zero", "0"}, {"bare", "30"},
        {"items[0].id", "a"}, {"items[0].title", "A"}, {"items[1].id", "b"},
        {"other", "1"}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++)
        assert_int_equal(sb_th_config_set(th, kv[i][0], kv[i][1]), SB_OK);
    assert_int_equal(sb_th_config_set(th, "other", NULL), SB_OK); /* removed */
    assert_int_equal(sb_th_config_set(th, "name.x", "1"), SB_ERR_INVALID);
    assert_int_equal(sb_th_config_set(th, "items.x", "1"), SB_ERR_INVALID);
    assert_int_equal(sb_th_config_set(th, "items[3].id", "1"), SB_ERR_INVALID);
    assert_int_equal(sb_th_config_set(th, "items", "1"), SB_ERR_INVALID);
    assert_int_equal(sb_th_config_set(th, "a..b", "1"), SB_ERR_INVALID);
    assert_int_equal(sb_th_config_set(th, "a[x]", "1"), SB_ERR_INVALID);

    init_hook = read_all;
    /* the type errors recorded fail the start even though init said OK */
    assert_int_equal(sb_th_start(th, &probe), SB_ERR_INVALID);
    assert_string_equal(sb_th_config_error(th, 0),
                        "big: expected an integer, got '9223372036854775808'");
    assert_string_equal(sb_th_config_error(th, 1),
                        "bare: expected a duration, got '30'");
    assert_string_equal(sb_th_config_error(th, 2),
                        "name: expected a list or map, got 'x y'");
    assert_string_equal(sb_th_config_error(th, 3),
                        "items: expected a string, got a list");
    assert_null(sb_th_config_error(th, 4));
    assert_string_equal(sb_th_unused_config(th), "items[1].id");

    /* fixed values: now only the unread key fails the start */
    sb_th_config_set(th, "big", "1");
    sb_th_config_set(th, "bare", "30s");
    sb_th_config_set(th, "name", "x y");
    init_hook = NULL;
    assert_int_equal(sb_th_start(th, &probe), SB_ERR_INVALID);
    assert_string_equal(sb_th_config_error(th, 0), "name: unknown key");
    sb_th_free(th);
}

static sb_status record_error(void)
{
    H->config_error(C, "token", "required");
    return SB_OK;
}

static void test_config_error_fails_init(void **state)
{
    (void)state;
    sb_th *th = sb_th_new("probe", "p1");
    init_hook = record_error;
    assert_int_equal(sb_th_start(th, &probe), SB_ERR_INVALID);
    assert_string_equal(sb_th_config_error(th, 0), "token: required");
    assert_int_equal(sb_th_config_error_count(th), 1);
    sb_th_free(th);
}

/* ---- timers --------------------------------------------------------------------- */

static int64_t fired_at[16];
static uint64_t fired_id[16];
static int n_fired;
static uint64_t repeating;

static void on_timer(void *ud, uint64_t id)
{
    (void)ud;
    fired_at[n_fired] = H->now_ms(C);
    fired_id[n_fired++] = id;
    if (id == repeating && n_fired >= 4) H->timer_stop(C, id);
}

static void test_timers(void **state)
{
    (void)state;
    sb_th *th = up();
    n_fired = 0;
    int64_t t0 = sb_th_now(th);
    repeating = H->timer_start(C, 100, 50, on_timer, NULL);
    uint64_t once = H->timer_start(C, 120, 0, on_timer, NULL);
    uint64_t never = H->timer_start(C, 10, 0, on_timer, NULL);
    H->timer_stop(C, never);
    assert_int_equal(sb_th_timer_count(th), 2);
    assert_int_equal(sb_th_advance(th, 99), 0);
    assert_int_equal(sb_th_advance(th, 151), 4); /* to t0 + 250 */
    int64_t want[] = {100, 120, 150, 200};
    for (int i = 0; i < 4; i++) assert_int_equal(fired_at[i] - t0, want[i]);
    assert_int_equal(fired_id[1], once);
    assert_int_equal(sb_th_now(th) - t0, 250);
    assert_int_equal(sb_th_timer_count(th), 0); /* one-shot gone, repeat stopped */
    sb_th_free(th);
}

/* ---- kv and the pending queue ----------------------------------------------------- */

static int dones;
static sb_status last_done;
static void on_done(void *ud, sb_status st)
{
    (void)ud;
    dones++;
    last_done = st;
}

static void test_kv(void **state)
{
    (void)state;
    sb_th *th = up();
    char buf[8];
    size_t n;
    dones = 0;
    sb_th_kv_set(th, "seed", "s", 1);
    assert_int_equal(H->kv_get(C, "seed", 4, buf, sizeof buf, &n), SB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(H->kv_put(C, "k", 1, "0123456789", 10, on_done, NULL), SB_OK);
    assert_int_equal(dones, 0);
    assert_int_equal(H->kv_get(C, "k", 1, buf, sizeof buf, &n), SB_ERR_TOO_BIG);
    assert_int_equal(n, 10);
    assert_int_equal(sb_th_pending(th), 1);
    assert_int_equal(sb_th_run_pending(th), 1);
    assert_int_equal(dones, 1);
    assert_int_equal(last_done, SB_OK);
    assert_int_equal(H->kv_del(C, "k", 1, NULL, NULL), SB_OK);
    assert_null(sb_th_kv_peek(th, "k", NULL));
    assert_int_equal(H->kv_get(C, "k", 1, buf, sizeof buf, &n), SB_ERR_NOT_FOUND);
    assert_int_equal(H->kv_put(C, "", 0, "v", 1, NULL, NULL), SB_ERR_INVALID);
    assert_int_equal(sb_th_fail_next(th, "kv_put", SB_ERR_FULL), SB_OK);
    assert_int_equal(sb_th_fail_next(th, "nope", SB_ERR_FULL), SB_ERR_INVALID);
    assert_int_equal(H->kv_put(C, "k", 1, "v", 1, NULL, NULL), SB_ERR_FULL);
    assert_null(sb_th_kv_peek(th, "k", NULL));
    assert_int_equal(H->kv_put(C, "k", 1, "v", 1, on_done, NULL), SB_OK);
    sb_th_stop(th); /* a pending done runs cancelled */
    assert_int_equal(dones, 2);
    assert_int_equal(last_done, SB_ERR_CANCELLED);
    assert_string_equal(sb_th_kv_peek(th, "k", NULL), "v"); /* survives stop */
    sb_th_free(th);
}

static int posted;
static void on_post(void *ud) { (void)ud; posted++; }
static void *poster(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++) assert_int_equal(H->post(C, on_post, NULL), SB_OK);
    return NULL;
}

static void test_post_from_threads(void **state)
{
    (void)state;
    sb_th *th = up();
    posted = 0;
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, poster, NULL);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    assert_int_equal(posted, 0);
    assert_int_equal(sb_th_run_pending(th), 400);
    assert_int_equal(posted, 400);
    assert_int_equal(H->post(C, on_post, NULL), SB_OK);
    sb_th_stop(th); /* accepted but not run: dropped, as in the core */
    assert_int_equal(posted, 400);
    sb_th_free(th);
}

/* ---- outbound HTTP ------------------------------------------------------------------ */

typedef struct got {
    int calls;
    sb_status status;
    long http_status;
    char body[64], error[64], header[64];
} got;

static void on_http(void *ud, uint64_t id, const sb_http_response *res)
{
    (void)id;
    got *g = ud;
    g->calls++;
    g->status = res->status;
    g->http_status = res->http_status;
    snprintf(g->body, sizeof g->body, "%s", res->body);
    snprintf(g->error, sizeof g->error, "%s", res->error ? res->error : "");
    if (res->n_headers)
        snprintf(g->header, sizeof g->header, "%s=%s", res->headers[0].name,
                 res->headers[0].value);
}

static uint64_t call(const char *method, const char *url, size_t max, got *g)
{
    sb_header h[] = {{"Authorization", "Bearer t"}};
    sb_http_call c = {.struct_size = sizeof c, .method = method, .url = url,
                      .headers = h, .n_headers = 1, .body = "{\"a\":1}",
                      .body_len = 7, .max_response = max};
    return H->http_call(C, &c, on_http, g);
}

static void test_http_calls(void **state)
{
    (void)state;
    sb_th *th = up();
    got ok = {0}, none = {0}, late = {0}, big = {0}, cut = {0}, gone = {0};
    sb_th_http_expect(th, "POST", "https://api.example/send", 200, "{\"ok\":true}");
    sb_th_http_expect_header(th, "Retry-After", "3");
    sb_th_http_expect_error(th, NULL, "https://api.example/", SB_ERR_TIMEOUT, "slow");
    sb_th_http_expect(th, "GET", "https://big/", 200, "0123456789");
    sb_th_http_expect(th, "GET", "https://cut/", 200, "x");
    assert_int_not_equal(call("POST", "https://api.example/send?x=1", 0, &ok), 0);
    assert_int_not_equal(call("GET", "https://unknown/", 0, &none), 0);
    assert_int_not_equal(call("GET", "https://api.example/poll", 0, &late), 0);
    assert_int_not_equal(call("GET", "https://big/", 4, &big), 0);
    uint64_t cut_id = call("GET", "https://cut/", 0, &cut);
    H->http_cancel(C, cut_id);
    assert_int_equal(cut.calls, 1); /* before http_cancel returned */
    assert_int_equal(cut.status, SB_ERR_CANCELLED);
    H->http_cancel(C, cut_id);
    assert_int_equal(ok.calls, 0); /* never from inside http_call */
    assert_int_equal(sb_th_run_pending(th), 4);
    assert_int_equal(ok.status, SB_OK);
    assert_int_equal(ok.http_status, 200);
    assert_string_equal(ok.body, "{\"ok\":true}");
    assert_string_equal(ok.header, "Retry-After=3");
    assert_int_equal(none.status, SB_ERR_IO);
    assert_string_equal(none.error, "no scripted response");
    assert_int_equal(late.status, SB_ERR_TIMEOUT);
    assert_string_equal(late.error, "slow");
    assert_int_equal(big.status, SB_ERR_TOO_BIG);
    assert_int_equal(cut.calls, 1);
    assert_int_equal(sb_th_http_expect_left(th), 0);

    assert_int_equal(sb_th_http_call_count(th), 5);
    const sb_th_http_call *c = sb_th_http_call_get(th, 0);
    assert_string_equal(c->method, "POST");
    assert_string_equal(c->url, "https://api.example/send?x=1");
    assert_string_equal(c->headers[0].value, "Bearer t");
    assert_string_equal(c->body, "{\"a\":1}");
    assert_true(c->completed);
    assert_int_equal(sb_th_http_call_get(th, 4)->status, SB_ERR_CANCELLED);

    assert_int_not_equal(call("GET", "https://x/", 0, &gone), 0);
    sb_th_stop(th);
    assert_int_equal(gone.status, SB_ERR_CANCELLED);
    sb_th_free(th);
}

/* ---- routes --------------------------------------------------------------------------- */

static uint64_t held; /* a request answered later */
static char seen[128];

static void on_req(void *ud, const sb_http_request *req)
{
    snprintf(seen, sizeof seen, "%s %s|%s|%s|%s", (const char *)ud, req->method,
             req->path, req->subpath, req->query);
    if (strcmp((const char *)ud, "later") == 0) {
        held = req->reply_id;
        return;
    }
    sb_header h = {"X-A", "1"};
    H->http_reply(C, req->reply_id, 201, "text/plain", &h, 1, req->body, req->body_len);
}

static void test_routes(void **state)
{
    (void)state;
    sb_th *th = up();
    assert_int_equal(H->http_route(C, NULL, "", SB_ROUTE_PREFIX, on_req, "prefix"), SB_OK);
    assert_int_equal(H->http_route(C, "POST", "/x", 0, on_req, "exact"), SB_OK);
    assert_int_equal(H->http_route(C, "POST", "/x", 0, on_req, "again"), SB_ERR_EXISTS);
    assert_int_equal(H->http_route(C, "GET", "/later", 0, on_req, "later"), SB_OK);
    assert_int_equal(H->http_route(C, "GET", "/w.js", SB_ROUTE_PAGE, on_req, "page"), SB_OK);
    assert_int_equal(H->http_route(C, "GET", "nope", 0, on_req, "bad"), SB_ERR_INVALID);

    const sb_th_reply *r = sb_th_http_request(th, "POST", "/hooks/probe/p1/x?q=1", NULL, 0, "hi", 2);
    assert_string_equal(seen, "exact POST|/hooks/probe/p1/x||q=1");
    assert_int_equal(r->status, 201);
    assert_string_equal(r->body, "hi");
    assert_string_equal(r->headers[0].name, "X-A");
    r = sb_th_http_request(th, "PUT", "/hooks/probe/p1/x/y", NULL, 0, NULL, 0);
    assert_string_equal(seen, "prefix PUT|/hooks/probe/p1/x/y|/x/y|");
    sb_th_http_request(th, "GET", "/probe/w.js", NULL, 0, NULL, 0);
    assert_string_equal(seen, "page GET|/probe/w.js||");
    assert_int_equal(sb_th_http_request(th, "GET", "/probe/other", NULL, 0, NULL, 0)->status, 404);
    assert_int_equal(sb_th_http_request(th, "POST", "/probe/w.js", NULL, 0, NULL, 0)->status, 405);

    r = sb_th_http_request(th, "GET", "/hooks/probe/p1/later", NULL, 0, NULL, 0);
    assert_false(r->replied);
    assert_int_equal(H->http_error(C, held, 429, "slow \"down\"", "a\nb"), SB_OK);
    assert_int_equal(r->status, 429);
    assert_string_equal(r->content_type, "application/json");
    assert_string_equal(r->body, "{\"error\":{\"code\":\"slow \\\"down\\\"\","
                                 "\"message\":\"a\\u000ab\"}}");
    assert_int_equal(H->http_reply(C, held, 200, NULL, NULL, 0, NULL, 0), SB_ERR_HANDLE);

    r = sb_th_http_request(th, "GET", "/hooks/probe/p1/later", NULL, 0, NULL, 0);
    sb_th_http_abandon(th, r);
    assert_int_equal(H->http_reply(C, held, 200, NULL, NULL, 0, NULL, 0), SB_ERR_HANDLE);
    assert_false(r->replied);
    sb_th_free(th);
}

/* ---- channel -------------------------------------------------------------------------- */

static int answers, last_dup;
static sb_status last_status;
static char last_id[32];
static void on_stored(void *ud, sb_status st, const char *id, int dup)
{
    (void)ud;
    answers++;
    last_status = st;
    last_dup = dup;
    snprintf(last_id, sizeof last_id, "%s", id ? id : "(null)");
}

static sb_status in(const char *from, const char *key, const char *text)
{
    sb_attachment a = {.struct_size = sizeof a, .kind = "image", .ref = "f1"};
    sb_inbound m = {.struct_size = sizeof m, .external_id = from,
                    .dedup_key = key, .text = text, .attachments = &a,
                    .n_attachments = text ? 0 : 1};
    return H->inbound(C, &m, on_stored, NULL);
}

static void test_inbound(void **state)
{
    (void)state;
    sb_th *th = up();
    answers = 0;
    assert_int_equal(in("u", "", "x"), SB_ERR_INVALID);
    assert_int_equal(in(NULL, "k", "x"), SB_ERR_INVALID);
    assert_int_equal(in("u", "k1", NULL), SB_OK); /* an image */
    assert_string_equal(sb_th_inbound_get(th, 0)->msg.attachments[0].ref, "f1");
    assert_int_equal(in("u", "k1", NULL), SB_OK); /* waits on the first */
    assert_int_equal(sb_th_inbound_complete(th, 0, SB_ERR_FULL), SB_OK);
    assert_int_equal(answers, 2);
    assert_int_equal(last_status, SB_ERR_FULL);
    assert_string_equal(last_id, "(null)");
    assert_int_equal(sb_th_inbound_complete(th, 0, SB_OK), SB_ERR_STATE);
    assert_int_equal(sb_th_inbound_complete(th, 9, SB_OK), SB_ERR_NOT_FOUND);

    sb_th_inbound_autocomplete(th, 1);
    assert_int_equal(in("u", "k1", "again"), SB_OK); /* failed key is free */
    assert_int_equal(sb_th_inbound_count(th), 2);
    sb_th_run_pending(th);
    assert_int_equal(last_status, SB_OK);
    assert_string_equal(last_id, "msg-2");
    assert_int_equal(last_dup, 0);
    in("u", "k1", "again");
    sb_th_run_pending(th);
    assert_string_equal(last_id, "msg-2");
    assert_int_equal(last_dup, 1);

    sb_th_inbound_autocomplete(th, 0);
    in("u", "k3", "open");
    answers = 0;
    sb_th_stop(th);
    assert_int_equal(answers, 1);
    assert_int_equal(last_status, SB_ERR_CANCELLED);
    assert_int_equal(sb_th_inbound_get(th, 2)->status, SB_ERR_CANCELLED);
    sb_th_free(th);
}

static sb_send_accept report_inside(uint64_t op)
{
    assert_int_equal(H->send_result(C, op, SB_SENT, "r", 0, NULL), SB_ERR_STATE);
    return SB_SEND_ACCEPTED;
}
static sb_send_accept reject(uint64_t op) { (void)op; return SB_SEND_REJECTED; }

static void test_send_results(void **state)
{
    (void)state;
    sb_th *th = up();
    sb_outbound m = {.external_id = "u", .text = "t"};
    uint64_t op;
    send_hook = report_inside;
    assert_int_equal(sb_th_send(th, &m, &op), SB_SEND_ACCEPTED);
    assert_int_equal(H->send_result(C, op, SB_SEND_RETRY, NULL, 5000, "busy"), SB_OK);
    assert_int_equal(H->send_result(C, op, SB_SENT, "r", 0, NULL), SB_ERR_HANDLE);
    send_hook = reject;
    uint64_t rejected;
    assert_int_equal(sb_th_send(th, &m, &rejected), SB_SEND_REJECTED);
    assert_int_equal(H->send_result(C, rejected, SB_SENT, "r", 0, NULL), SB_ERR_HANDLE);
    assert_int_equal(sb_th_send_result_count(th), 1);
    const sb_th_send_result *r = sb_th_send_result_get(th, 0);
    assert_int_equal(r->op, op);
    assert_int_equal(r->status, SB_SEND_RETRY);
    assert_int_equal(r->retry_after_ms, 5000);
    assert_string_equal(r->error, "busy");
    assert_null(r->remote_id);
    sb_th_free(th);
}

/* ---- events and metrics ----------------------------------------------------------------- */

static uint64_t last_seq;
static char last_type[64];
static void on_event(void *ud, const sb_event *ev)
{
    (void)ud;
    last_seq = ev->seq;
    snprintf(last_type, sizeof last_type, "%s", ev->type);
}

static void test_events_and_metrics(void **state)
{
    (void)state;
    sb_th *th = up();
    assert_int_equal(H->subscribe(C, "conversation.", on_event, NULL), SB_OK);
    assert_int_equal(sb_th_emit_event(th, "message.created", NULL), 0);
    assert_int_equal(sb_th_emit_event(th, "conversation.closed", "{\"id\":\"1\"}"), 1);
    assert_int_equal(last_seq, 2);
    assert_string_equal(last_type, "conversation.closed");

    assert_int_equal(H->metric_add(C, "sent_total", 1), SB_OK);
    assert_int_equal(H->metric_add(C, "sent_total", 2.5), SB_OK);
    assert_true(sb_th_metric(th, "sent_total") == 3.5);
    assert_int_equal(H->metric_add(C, "Bad", 1), SB_ERR_INVALID);
    char name[16];
    for (int i = 1; i < 64; i++) {
        snprintf(name, sizeof name, "m%d", i);
        assert_int_equal(H->metric_add(C, name, 1), SB_OK);
    }
    assert_int_equal(H->metric_add(C, "one_too_many", 1), SB_ERR_FULL);
    sb_th_free(th);
}

/* ---- API routes (1.1) ------------------------------------------------------------------ */

static char who[128];
static void on_api(void *ud, const sb_http_request *req)
{
    assert_true(SB_REQ_HAS(req, auth_user));
    snprintf(who, sizeof who, "%s %s|%s|%s", (const char *)ud, req->subpath,
             req->auth_role ? req->auth_role : "-", req->auth_user ? req->auth_user : "-");
    H->http_reply(C, req->reply_id, 200, NULL, NULL, 0, NULL, 0);
}

static void test_api_routes(void **state)
{
    (void)state;
    sb_th *th = up();
    assert_int_equal(H->struct_size, sizeof(sb_host));
    assert_int_equal(H->abi_minor, 1);
    assert_true(SB_HOST_HAS(H, client_typing));
    unsigned api = SB_ROUTE_API;
    assert_int_equal(H->http_route(C, "GET", "/kb", api, on_api, "open"), SB_OK);
    assert_int_equal(H->http_route(C, "GET", "/op", api | SB_ROUTE_AUTH_OPERATOR, on_api, "op"), SB_OK);
    assert_int_equal(H->http_route(C, "GET", "/sup", api | SB_ROUTE_AUTH_SUPERVISOR, on_api, "sup"), SB_OK);
    assert_int_equal(H->http_route(C, NULL, "/adm", api | SB_ROUTE_PREFIX | SB_ROUTE_AUTH_ADMIN,
                                   on_api, "adm"), SB_OK);
    assert_int_equal(H->http_route(C, "GET", "/h", 0, on_api, "hook"), SB_OK);
    assert_int_equal(H->http_route(C, "GET", "/x", api | SB_ROUTE_PAGE, on_api, "x"), SB_ERR_INVALID);
    assert_int_equal(H->http_route(C, "GET", "", api, on_api, "x"), SB_ERR_EXISTS);
    assert_int_equal(H->http_route(C, "GET", "/ws", api, on_api, "x"), SB_ERR_EXISTS);
    assert_int_equal(H->http_route(C, "GET", "/x", 64, on_api, "x"), SB_ERR_INVALID);

    who[0] = 0;
    assert_int_equal(sb_th_http_request(th, "GET", "/api/v1/kb", NULL, 0, NULL, 0)->status, 200);
    assert_string_equal(who, "open |-|-");
    who[0] = 0;
    const sb_th_reply *r = sb_th_http_request(th, "GET", "/api/v1/op", NULL, 0, NULL, 0);
    assert_int_equal(r->status, 401);
    assert_string_equal(r->body, "{\"error\":{\"code\":\"unauthorized\",\"message\":"
                                 "\"a valid bearer token is required\"}}");
    assert_string_equal(who, ""); /* the handler did not run */

    assert_int_equal(sb_th_http_auth(th, "root", "u"), SB_ERR_INVALID);
    assert_int_equal(sb_th_http_auth(th, "operator", NULL), SB_ERR_INVALID);
    assert_int_equal(sb_th_http_auth(th, "operator", "op-1"), SB_OK);
    assert_int_equal(sb_th_http_request(th, "GET", "/api/v1/op", NULL, 0, NULL, 0)->status, 200);
    assert_string_equal(who, "op |operator|op-1");
    r = sb_th_http_request(th, "GET", "/api/v1/sup", NULL, 0, NULL, 0);
    assert_int_equal(r->status, 403);
    assert_string_equal(r->body, "{\"error\":{\"code\":\"forbidden\",\"message\":"
                                 "\"supervisors and admins only\"}}");
    sb_th_http_request(th, "GET", "/hooks/probe/p1/h", NULL, 0, NULL, 0);
    assert_string_equal(who, "hook |-|-"); /* no caller outside the API */

    sb_th_http_auth(th, "supervisor", "boss");
    assert_int_equal(sb_th_http_request(th, "GET", "/api/v1/sup", NULL, 0, NULL, 0)->status, 200);
    assert_string_equal(who, "sup |supervisor|boss");
    r = sb_th_http_request(th, "DELETE", "/api/v1/adm/1", NULL, 0, NULL, 0);
    assert_int_equal(r->status, 403);
    assert_non_null(strstr(r->body, "\"admins only\""));
    sb_th_http_auth(th, "admin", "ci-token");
    assert_int_equal(sb_th_http_request(th, "DELETE", "/api/v1/adm/1", NULL, 0, NULL, 0)->status, 200);
    assert_string_equal(who, "adm /1|admin|ci-token");
    assert_int_equal(sb_th_http_request(th, "GET", "/api/v1/sup", NULL, 0, NULL, 0)->status, 200);
    assert_int_equal(sb_th_http_request(th, "POST", "/api/v1/kb", NULL, 0, NULL, 0)->status, 405);
    sb_th_http_auth(th, NULL, NULL);
    assert_int_equal(sb_th_http_request(th, "GET", "/api/v1/adm", NULL, 0, NULL, 0)->status, 401);
    sb_th_free(th);
}

/* ---- WebSockets (1.1) ------------------------------------------------------------------- */

static uint64_t ws_last;
static char ws_got[64];
static int ws_closes, ws_code, ws_binary;

static void on_ws_msg(void *ud, uint64_t id, int binary, const char *data, size_t len)
{
    (void)ud;
    snprintf(ws_got, sizeof ws_got, "%.*s", (int)len, data);
    ws_binary = binary;
    assert_int_equal(H->ws_send(C, id, data, len), SB_OK); /* echo */
}
static void on_ws_close(void *ud, uint64_t id, int code)
{
    (void)ud, (void)id;
    ws_closes++;
    ws_code = code;
}
static void on_ws_req(void *ud, const sb_http_request *req)
{
    (void)ud;
    ws_last = H->ws_accept(C, req->reply_id, on_ws_msg, on_ws_close, NULL);
}

static void test_websockets(void **state)
{
    (void)state;
    sb_th *th = up();
    ws_closes = 0;
    assert_int_equal(H->http_route(C, NULL, "/ws", 0, on_ws_req, NULL), SB_OK);
    const sb_th_reply *r = sb_th_http_request(th, "GET", "/hooks/probe/p1/ws", NULL, 0, NULL, 0);
    assert_int_equal(ws_last, 0); /* no upgrade headers */
    assert_int_equal(r->status, 400);
    assert_null(sb_th_ws_for(th, r));
    sb_header up_post[] = {{"Upgrade", "websocket"}, {"Sec-WebSocket-Key", "k"}};
    sb_th_http_request(th, "POST", "/hooks/probe/p1/ws", up_post, 2, NULL, 0);
    assert_int_equal(ws_last, 0); /* not a GET */
    assert_int_equal(sb_th_fail_next(th, "ws_accept", SB_ERR_NOMEM), SB_OK);
    r = sb_th_ws_connect(th, "/hooks/probe/p1/ws");
    assert_int_equal(ws_last, 0);
    assert_false(r->replied);

    r = sb_th_ws_connect(th, "/hooks/probe/p1/ws");
    assert_int_not_equal(ws_last, 0);
    assert_int_equal(r->status, 101);
    const sb_th_ws *a = sb_th_ws_for(th, r);
    assert_ptr_equal(a, sb_th_ws_get(th, 0));
    assert_int_equal(sb_th_ws_count(th), 1);
    assert_int_equal(a->id, ws_last);
    assert_int_equal(sb_th_ws_peer_send(th, a->id, 0, "hello", 5), SB_OK);
    assert_string_equal(ws_got, "hello");
    assert_int_equal(ws_binary, 0);
    assert_int_equal(sb_th_ws_peer_send(th, a->id, 1, "\x01\x02", 2), SB_OK);
    assert_int_equal(ws_binary, 1);
    for (int i = 0; i < 10; i++) H->ws_send(C, a->id, "x", 1); /* grows the list */
    assert_int_equal(a->n_sent, 12);
    assert_string_equal(a->sent[0].text, "hello");
    assert_int_equal(a->sent[1].len, 2);
    assert_int_equal(sb_th_ws_peer_close(th, a->id, 4000), SB_OK);
    assert_int_equal(ws_closes, 1);
    assert_int_equal(ws_code, 4000);
    assert_false(a->open);
    assert_int_equal(a->close_code, 4000);
    assert_int_equal(H->ws_send(C, a->id, "x", 1), SB_ERR_HANDLE);
    assert_int_equal(H->ws_close(C, a->id, 1000, NULL), SB_ERR_HANDLE);
    assert_int_equal(sb_th_ws_peer_send(th, a->id, 0, "x", 1), SB_ERR_HANDLE);
    assert_int_equal(sb_th_ws_peer_close(th, a->id, 1000), SB_ERR_HANDLE);

    /* the plugin closes: on_close follows at run_pending, never inside */
    sb_th_ws_connect(th, "/hooks/probe/p1/ws");
    const sb_th_ws *b = sb_th_ws_get(th, 1);
    assert_int_equal(H->ws_close(C, b->id, 1005, NULL), SB_ERR_INVALID);
    char reason[130];
    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = 0;
    assert_int_equal(H->ws_close(C, b->id, 1000, reason), SB_ERR_INVALID);
    assert_int_equal(H->ws_close(C, b->id, 0, "bye"), SB_OK); /* 0: 1000 */
    assert_int_equal(H->ws_close(C, b->id, 1001, NULL), SB_OK); /* closing */
    assert_int_equal(H->ws_send(C, b->id, "x", 1), SB_ERR_STATE);
    assert_int_equal(ws_closes, 1);
    assert_true(b->plugin_closed);
    assert_string_equal(b->plugin_reason, "bye");
    assert_int_equal(sb_th_run_pending(th), 1);
    assert_int_equal(ws_closes, 2);
    assert_int_equal(ws_code, 1000);
    assert_int_equal(H->ws_send(C, b->id, "x", 1), SB_ERR_HANDLE);

    /* a slow peer: SB_ERR_FULL closes it with 1008 */
    sb_th_ws_connect(th, "/hooks/probe/p1/ws");
    const sb_th_ws *c = sb_th_ws_get(th, 2);
    sb_th_fail_next(th, "ws_send", SB_ERR_FULL);
    assert_int_equal(H->ws_send(C, c->id, "x", 1), SB_ERR_FULL);
    assert_int_equal(c->n_sent, 0);
    sb_th_run_pending(th);
    assert_int_equal(ws_code, 1008);
    assert_int_equal(ws_closes, 3);

    /* open or closing at stop: on_close(1001) before stop(), as in the core */
    sb_th_ws_connect(th, "/hooks/probe/p1/ws");
    sb_th_ws_connect(th, "/hooks/probe/p1/ws");
    const sb_th_ws *d = sb_th_ws_get(th, 3), *e = sb_th_ws_get(th, 4);
    assert_int_equal(H->ws_close(C, e->id, 3001, NULL), SB_OK);
    assert_int_equal(sb_th_ws_peer_close(th, d->id, 0), SB_OK);
    assert_int_equal(ws_code, 1005);
    sb_th_ws_connect(th, "/hooks/probe/p1/ws");
    const sb_th_ws *f = sb_th_ws_get(th, 5);
    sb_th_stop(th);
    assert_int_equal(ws_closes, 6);
    assert_int_equal(e->close_code, 1001);
    assert_int_equal(f->close_code, 1001);
    assert_false(f->open);
    sb_th_free(th);
}

/* ---- bots (1.1) ------------------------------------------------------------------------- */

static sb_status bot_answer = SB_OK;
static sb_status bot_event_fn(void *s, const sb_bot_event *ev)
{
    (void)s;
    if (bot_answer != SB_OK) return bot_answer;
    sb_button b[] = {{"yes", "Yes"}, {"no", "No"}};
    char text[64];
    snprintf(text, sizeof text, "you said %s", ev->text ? ev->text : "nothing");
    return H->bot_reply(C, ev->conversation_id, text, b, 2);
}

static sb_plugin bot = {
    SB_PLUGIN_HEADER("probe", "0", SB_KIND_BOT),
    .init = probe_init, .bot_event = bot_event_fn,
};

static void test_bots(void **state)
{
    (void)state;
    sb_th *th = sb_th_new("probe", "b1");
    bot_answer = SB_OK;
    assert_int_equal(sb_th_start(th, &bot), SB_OK);
    sb_bot_event ev = {.kind = SB_BOT_START, .conversation_id = "c1",
                       .client_id = "cl1", .channel = "telegram", .instance = "main",
                       .message_id = "m1", .text = "hi", .message_json = "{}"};
    assert_int_equal(sb_th_bot_event(th, &ev), SB_OK);
    assert_int_equal(sb_th_bot_action_count(th), 1);
    const sb_th_bot_action *a = sb_th_bot_action_get(th, 0);
    assert_int_equal(a->kind, SB_TH_BOT_REPLY);
    assert_string_equal(a->conversation_id, "c1");
    assert_string_equal(a->text, "you said hi");
    assert_int_equal(a->n_buttons, 2);
    assert_string_equal(a->buttons[1].id, "no");
    assert_string_equal(a->buttons[1].title, "No");

    /* argument checks */
    sb_button many[21];
    for (int i = 0; i < 21; i++) many[i] = (sb_button){"id", "t"};
    sb_button bad_id = {"", "t"};
    assert_int_equal(H->bot_reply(C, "c1", NULL, NULL, 0), SB_ERR_INVALID);
    assert_int_equal(H->bot_reply(C, "c1", NULL, many, 21), SB_ERR_INVALID);
    assert_int_equal(H->bot_reply(C, "c1", NULL, &bad_id, 1), SB_ERR_INVALID);
    assert_int_equal(H->bot_reply(C, "", "t", NULL, 0), SB_ERR_INVALID);
    assert_int_equal(H->bot_reply(C, "c1", NULL, many, 20), SB_OK);
    const char *bad_json[] = {NULL, "", "[]", "{\"a\":{}}", "{\"a\":[1]}", "{\"a\":1,}",
                              "{a:1}", "{\"a\":01}", "{\"a\":tru}", "{\"a\":\"x} ",
                              "{\"a\":1} x", "{\"a\":\"\\q\"}"};
    for (size_t i = 0; i < sizeof bad_json / sizeof *bad_json; i++)
        assert_int_equal(H->bot_set_attributes(C, "c1", SB_SCOPE_CLIENT, bad_json[i]),
                         SB_ERR_INVALID);
    assert_int_equal(H->bot_set_attributes(C, "c1", (sb_scope)7, "{}"), SB_ERR_INVALID);
    assert_int_equal(H->bot_set_attributes(C, "c1", SB_SCOPE_CONVERSATION,
                     " { \"plan\" : \"gold\\u00e9\", \"n\": -1.5e3, \"vip\": true, \"x\": null } "),
                     SB_OK);
    assert_int_equal(H->bot_set_attributes(C, "c1", SB_SCOPE_CLIENT, "{}"), SB_OK);
    char tag[66];
    memset(tag, 't', 65);
    tag[65] = 0;
    assert_int_equal(H->bot_add_tag(C, "c1", SB_SCOPE_CLIENT, tag), SB_ERR_INVALID);
    tag[64] = 0;
    assert_int_equal(H->bot_add_tag(C, "c1", SB_SCOPE_CLIENT, tag), SB_OK);
    assert_int_equal(H->bot_add_tag(C, "c1", SB_SCOPE_CLIENT, ""), SB_ERR_INVALID);
    assert_int_equal(sb_th_fail_next(th, "bot_add_tag", SB_ERR_IO), SB_OK);
    assert_int_equal(H->bot_add_tag(C, "c1", SB_SCOPE_CLIENT, "x"), SB_ERR_IO);
    char reason[514];
    memset(reason, 'r', 513);
    reason[513] = 0;
    assert_int_equal(H->bot_handoff(C, "c1", NULL, NULL, 0, reason), SB_ERR_INVALID);
    assert_int_equal(sb_th_bot_action_count(th), 5); /* reply x2, attrs x2, tag */
    a = sb_th_bot_action_get(th, 2);
    assert_int_equal(a->kind, SB_TH_BOT_ATTRIBUTES);
    assert_int_equal(a->scope, SB_SCOPE_CONVERSATION);
    assert_non_null(strstr(a->json, "\"vip\": true"));
    a = sb_th_bot_action_get(th, 4);
    assert_int_equal(a->kind, SB_TH_BOT_TAG);
    assert_int_equal(strlen(a->tag), 64);

    /* hand-off: the conversation is no longer the bot's */
    reason[512] = 0;
    assert_true(sb_th_conversation_held(th, "c1"));
    assert_int_equal(H->bot_handoff(C, "c1", "sales", "german", 3, reason), SB_OK);
    assert_false(sb_th_conversation_held(th, "c1"));
    a = sb_th_bot_action_get(th, 5);
    assert_int_equal(a->kind, SB_TH_BOT_HANDOFF);
    assert_string_equal(a->group_id, "sales");
    assert_string_equal(a->skill, "german");
    assert_int_equal(a->skill_level, 3);
    assert_int_equal(strlen(a->reason), 512);
    assert_int_equal(H->bot_reply(C, "c1", "late", NULL, 0), SB_ERR_STATE);
    assert_int_equal(H->bot_close(C, "c1", 0), SB_ERR_STATE);
    assert_int_equal(sb_th_bot_event(th, &ev), SB_ERR_STATE);
    assert_true(sb_th_log_find(th, "conversation c1 is no longer held") >= 0);

    /* close with rating; a NULL group and skill */
    assert_int_equal(H->bot_close(C, "c2", 1), SB_OK);
    assert_int_equal(sb_th_bot_action_get(th, 6)->kind, SB_TH_BOT_CLOSE);
    assert_int_equal(sb_th_bot_action_get(th, 6)->ask_rating, 1);
    assert_int_equal(H->bot_handoff(C, "c2", NULL, NULL, 0, NULL), SB_ERR_STATE);
    assert_int_equal(H->bot_handoff(C, "c3", NULL, NULL, 0, NULL), SB_OK);
    assert_null(sb_th_bot_action_get(th, 7)->group_id);
    sb_th_conversation_release(th, "c4"); /* an operator took it */
    assert_int_equal(H->bot_add_tag(C, "c4", SB_SCOPE_CONVERSATION, "x"), SB_ERR_STATE);
    assert_null(sb_th_bot_action_get(th, 8));

    /* a failing bot hands the conversation to operators */
    bot_answer = SB_ERR_IO;
    ev.conversation_id = "c5";
    ev.kind = SB_BOT_MESSAGE;
    assert_int_equal(sb_th_bot_event(th, &ev), SB_ERR_IO);
    assert_false(sb_th_conversation_held(th, "c5"));
    ev.conversation_id = NULL;
    assert_int_equal(sb_th_bot_event(th, &ev), SB_ERR_INVALID);

    /* conversation_get */
    char buf[64];
    size_t len = 0;
    const char *js = "{\"conversation\":{\"id\":\"c1\"},\"client\":{\"id\":\"cl1\"}}";
    assert_int_equal(H->conversation_get(C, "c1", buf, sizeof buf, &len), SB_ERR_NOT_FOUND);
    sb_th_conversation_set(th, "c1", "{}");
    sb_th_conversation_set(th, "c1", js); /* replaces */
    assert_int_equal(H->conversation_get(C, "c1", buf, strlen(js), &len), SB_ERR_TOO_BIG);
    assert_int_equal(len, strlen(js));
    assert_int_equal(H->conversation_get(C, "c1", NULL, 0, &len), SB_ERR_TOO_BIG);
    assert_int_equal(H->conversation_get(C, "c1", buf, strlen(js) + 1, &len), SB_OK);
    assert_string_equal(buf, js);
    assert_int_equal(H->conversation_get(C, "c1", buf, sizeof buf, NULL), SB_ERR_INVALID);
    sb_th_fail_next(th, "conversation_get", SB_ERR_IO);
    assert_int_equal(H->conversation_get(C, "c1", buf, sizeof buf, &len), SB_ERR_IO);
    sb_th_conversation_set(th, "c1", NULL);
    assert_int_equal(H->conversation_get(C, "c1", buf, sizeof buf, &len), SB_ERR_NOT_FOUND);
    sb_th_free(th);

    /* a channel holds no conversation, but may read them; it has no bot_event */
    th = up();
    assert_int_equal(H->bot_reply(C, "c1", "t", NULL, 0), SB_ERR_STATE);
    assert_true(sb_th_log_find(th, "this instance is no bot") >= 0);
    sb_th_conversation_set(th, "c1", "{}");
    assert_int_equal(H->conversation_get(C, "c1", buf, sizeof buf, &len), SB_OK);
    ev.conversation_id = "c1";
    assert_int_equal(sb_th_bot_event(th, &ev), SB_ERR_UNSUPPORTED);
    sb_th_free(th);
}

/* ---- typing (1.1) ------------------------------------------------------------------------ */

static void test_typing(void **state)
{
    (void)state;
    sb_th *th = up();
    assert_int_equal(H->client_typing(C, "u1", "hel"), SB_OK);
    assert_int_equal(H->client_typing(C, "u1", ""), SB_OK);
    assert_int_equal(H->client_typing(C, "", "x"), SB_ERR_INVALID);
    assert_int_equal(H->client_typing(C, "u1", NULL), SB_ERR_INVALID);
    char big[1100];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    memcpy(big + 1022, "\xc3\xa9", 2); /* fits: bytes 1022..1023 */
    assert_int_equal(H->client_typing(C, "u2", big), SB_OK);
    memcpy(big + 1023, "\xc3\xa9", 2); /* straddles 1024: cut before it */
    assert_int_equal(H->client_typing(C, "u2", big), SB_OK);
    sb_th_fail_next(th, "client_typing", SB_ERR_NOT_FOUND);
    assert_int_equal(H->client_typing(C, "u3", "x"), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_th_typing_count(th), 4);
    assert_string_equal(sb_th_typing_get(th, 0)->external_id, "u1");
    assert_string_equal(sb_th_typing_get(th, 0)->text, "hel");
    assert_string_equal(sb_th_typing_get(th, 1)->text, "");
    assert_int_equal(strlen(sb_th_typing_get(th, 2)->text), 1024);
    assert_int_equal(strlen(sb_th_typing_get(th, 3)->text), 1023);
    assert_null(sb_th_typing_get(th, 4));
    sb_th_free(th);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, reset)
    const struct CMUnitTest tests[] = {
        T(test_descriptor_checks), T(test_failed_init_is_undone),
        T(test_config), T(test_config_error_fails_init), T(test_timers),
        T(test_kv), T(test_post_from_threads), T(test_http_calls),
        T(test_routes), T(test_inbound), T(test_send_results),
        T(test_events_and_metrics), T(test_api_routes), T(test_websockets),
        T(test_bots), T(test_typing),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
