/* The test host itself, ABI 1.0: lifecycle, config, timers, kv, post(),
 * outbound HTTP, routes, channels, events and metrics; driven through the
 * probe plugin (probe.h). The 1.1 additions: test_testhost_v11.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"

static void noop(void *ud) { (void)ud; }

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

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, reset)
    const struct CMUnitTest tests[] = {
        T(test_descriptor_checks), T(test_failed_init_is_undone),
        T(test_config), T(test_config_error_fails_init), T(test_timers),
        T(test_kv), T(test_post_from_threads), T(test_http_calls),
        T(test_routes), T(test_inbound), T(test_send_results),
        T(test_events_and_metrics),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
