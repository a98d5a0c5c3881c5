/* The API channel on the SDK test host: the signed webhook answered only
 * after the core stored the message, delivery to callback_url with every
 * answer a receiver may give, and the configuration with its errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "testhost.h"

#define HOOK "/hooks/apichannel/app"
#define SECRET "shh-test-secret"
#define CB "https://crm.example/cb"
/* Signed with SECRET: `printf %s BODY | openssl dgst -sha256 -hmac SECRET`. */
#define BODY "{\"external_id\":\"u-1\",\"message_id\":\"m-1\",\"text\":\"hi\"}"
#define BODY_SIG "sha256=69de53234797fdad6ae6159af087a0b4d89bd95bdcb5a4ecb48a4bad8c04e0d7"

static const sb_plugin *apichannel(void)
{
    return sb_plugin_entry(SB_ABI_MAJOR, SB_ABI_MINOR);
}

/* A host with secret and callback_url set (either may be NULL) plus one
 * more key; not started. */
static sb_th *host_with(const char *secret, const char *url, const char *key, const char *value)
{
    sb_th *th = sb_th_new("apichannel", "app");
    if (secret) assert_int_equal(sb_th_config_set(th, "secret", secret), SB_OK);
    if (url) assert_int_equal(sb_th_config_set(th, "callback_url", url), SB_OK);
    if (key) assert_int_equal(sb_th_config_set(th, key, value), SB_OK);
    return th;
}

static sb_th *started(const char *secret, const char *url)
{
    sb_th *th = host_with(secret, url, NULL, NULL);
    assert_int_equal(sb_th_start(th, apichannel()), SB_OK);
    assert_null(sb_th_unused_config(th));
    return th;
}

/* POST to the webhook with the signature header when sig is not NULL. */
static const sb_th_reply *post_sig(sb_th *th, const char *body, const char *sig)
{
    sb_header h = {"X-Switchboard-Signature", sig};
    return sb_th_http_request(th, "POST", HOOK, sig ? &h : NULL, sig ? 1 : 0, body, strlen(body));
}

/* A JSON reply's string at "a.b" (two levels at most), copied into out. */
static const char *reply_field(const sb_th_reply *r, const char *outer, const char *inner,
                               char *out, size_t cap)
{
    json_error_t je;
    json_t *root = json_loads(r->body, 0, &je);
    if (!root) fail_msg("reply is not JSON: %s", r->body);
    json_t *v = json_object_get(root, outer);
    if (inner) v = json_object_get(v, inner);
    if (json_is_string(v)) snprintf(out, cap, "%s", json_string_value(v));
    else if (json_is_true(v)) snprintf(out, cap, "true");
    else if (json_is_false(v)) snprintf(out, cap, "false");
    else snprintf(out, cap, "(absent)");
    json_decref(root);
    return out;
}

static void assert_error(const sb_th_reply *r, int status, const char *code, const char *message)
{
    char got[400];
    assert_true(r->replied);
    assert_int_equal(r->status, status);
    assert_string_equal(reply_field(r, "error", "code", got, sizeof got), code);
    if (message) assert_string_equal(reply_field(r, "error", "message", got, sizeof got), message);
}

static void assert_stored(const sb_th_reply *r, const char *id, const char *duplicate)
{
    char got[400];
    assert_true(r->replied);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->content_type, "application/json");
    assert_string_equal(reply_field(r, "message_id", NULL, got, sizeof got), id);
    assert_string_equal(reply_field(r, "duplicate", NULL, got, sizeof got), duplicate);
}

/* ---- webhook -------------------------------------------------------------------- */

static void test_signed_message_answered_after_storing(void **state)
{
    (void)state;
    sb_th *th = started(SECRET, NULL);
    const sb_th_reply *r = post_sig(th, BODY, BODY_SIG);
    /* handed to the core, but not answered: the sender must not believe it
     * stored before it is */
    assert_false(r->replied);
    assert_int_equal(sb_th_inbound_count(th), 1);
    const sb_th_inbound *in = sb_th_inbound_get(th, 0);
    assert_string_equal(in->msg.external_id, "u-1");
    assert_string_equal(in->msg.dedup_key, "m-1");
    assert_string_equal(in->msg.text, "hi");
    sb_th_run_pending(th);
    assert_false(r->replied);

    assert_int_equal(sb_th_inbound_complete(th, 0, SB_OK), SB_OK);
    assert_stored(r, in->message_id, "false");
    assert_string_equal(in->message_id, "msg-1");
    sb_th_free(th);
}

static void test_every_shape_reaches_the_core(void **state)
{
    (void)state;
    sb_th *th = started(NULL, NULL); /* unsigned: the shapes are the point */
    post_sig(th, "{\"external_id\":\"u\",\"message_id\":\"a\",\"button_id\":\"yes\"}", NULL);
    post_sig(th, "{\"external_id\":\"u\",\"message_id\":\"b\",\"attachments\":"
                 "[{\"url\":\"https://x/f.pdf\",\"name\":\"f.pdf\",\"size\":7}]}", NULL);
    post_sig(th, "{\"external_id\":\"u\",\"message_id\":\"c\",\"text\":\"t\","
                 "\"phone\":\"+7 999 123 45 67\",\"email\":\"a@b.ru\",\"name\":\"N\"}", NULL);
    assert_int_equal(sb_th_inbound_count(th), 3);
    const sb_inbound *m = &sb_th_inbound_get(th, 0)->msg;
    assert_string_equal(m->button_id, "yes");
    assert_null(m->text);
    m = &sb_th_inbound_get(th, 1)->msg;
    assert_int_equal(m->n_attachments, 1);
    assert_string_equal(m->attachments[0].ref, "https://x/f.pdf");
    assert_string_equal(m->attachments[0].kind, "file");
    assert_string_equal(m->attachments[0].name, "f.pdf");
    assert_int_equal(m->attachments[0].size, 7);
    m = &sb_th_inbound_get(th, 2)->msg;
    assert_string_equal(m->phone, "+7 999 123 45 67");
    assert_string_equal(m->email, "a@b.ru");
    assert_string_equal(m->name, "N");
    sb_th_free(th);
}

static void test_signature_required_when_secret_set(void **state)
{
    (void)state;
    sb_th *th = started(SECRET, NULL);
    const char *msg = "X-Switchboard-Signature: missing or wrong";
    assert_error(post_sig(th, BODY, NULL), 401, "bad_signature", msg);
    /* signed with another secret (openssl, secret "wrong") */
    assert_error(post_sig(th, BODY, "sha256=d2d8a7708d47c19477dfa5e5c56a06091cb600b873ff71cc884c49d83278bb78"),
                 401, "bad_signature", msg);
    /* the right signature for another body */
    assert_error(post_sig(th, BODY " ", BODY_SIG), 401, "bad_signature", msg);
    assert_error(post_sig(th, BODY, "sha256=69de5323"), 401, "bad_signature", msg);
    assert_error(post_sig(th, BODY, ""), 401, "bad_signature", msg);
    /* checked before the body is parsed: garbage gets 401, not 400 */
    assert_error(post_sig(th, "{", NULL), 401, "bad_signature", msg);
    assert_int_equal(sb_th_inbound_count(th), 0);

    /* upper-case hex, and the header name in another case */
    sb_header h = {"x-switchboard-signature",
                   "sha256=69DE53234797FDAD6AE6159AF087A0B4D89BD95BDCB5A4ECB48A4BAD8C04E0D7"};
    const sb_th_reply *r = sb_th_http_request(th, "POST", HOOK, &h, 1, BODY, strlen(BODY));
    assert_false(r->replied);
    assert_int_equal(sb_th_inbound_count(th), 1);
    sb_th_free(th);
}

static void test_unsigned_allowed_without_secret(void **state)
{
    (void)state;
    sb_th *th = started(NULL, NULL);
    assert_true(sb_th_log_find(th, "no secret set") >= 0);
    sb_th_inbound_autocomplete(th, 1);
    const sb_th_reply *r = post_sig(th, BODY, NULL);
    sb_th_run_pending(th);
    assert_stored(r, "msg-1", "false");
    /* a stray signature header is not checked without a secret */
    r = post_sig(th, "{\"external_id\":\"u\",\"message_id\":\"m-2\",\"text\":\"x\"}", "sha256=00");
    sb_th_run_pending(th);
    assert_stored(r, "msg-2", "false");
    sb_th_free(th);

    th = started(SECRET, NULL);
    assert_int_equal(sb_th_log_find(th, "no secret set"), -1);
    sb_th_free(th);
}

static void test_bad_body_400_names_field(void **state)
{
    (void)state;
    sb_th *th = started(NULL, NULL);
    static const struct {
        const char *body, *message;
    } cases[] = {
        {"{\"message_id\":\"m\",\"text\":\"t\"}", "external_id: required, a string of 1-256 bytes"},
        {"{\"external_id\":1,\"message_id\":\"m\",\"text\":\"t\"}",
         "external_id: expected a string of 1-256 bytes"},
        {"{\"external_id\":\"u\",\"text\":\"t\"}", "message_id: required, a string of 1-256 bytes"},
        {"{\"external_id\":\"u\",\"message_id\":\"\",\"text\":\"t\"}",
         "message_id: expected a string of 1-256 bytes"},
        {"{\"external_id\":\"u\",\"message_id\":\"m\"}", "text: required (or button_id, or attachments)"},
        {"{\"external_id\":\"u\",\"message_id\":\"m\",\"attachments\":[{\"url\":\"a\",\"kind\":\"gif\"}]}",
         "attachments[0].kind: expected one of image, file, audio, video, voice"},
        {"{\"external_id\":\"u\",\"message_id\":\"m\",\"text\":\"t\",\"email\":\"x\"}",
         "email: expected an address like name@example.com"},
        {"{\"external_id\":\"u\",\"message_id\":\"m\",\"text\":\"t\",\"phone\":\"n/a\"}",
         "phone: expected 3-20 digits, optionally with + ( ) - . and spaces"},
        {"[1]", "body: expected a JSON object"},
        {"{\"a\":1,\"a\":2}", "body: not valid JSON at line 1 column 10: duplicate object key near '\"a\"'"},
        {"nope", "body: not valid JSON at line 1 column 4: '[' or '{' expected near 'nope'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const sb_th_reply *r = post_sig(th, cases[i].body, NULL);
        assert_error(r, 400, "bad_request", cases[i].message);
    }
    assert_int_equal(sb_th_inbound_count(th), 0);
    sb_th_free(th);
}

static void test_duplicate_answers_same_id(void **state)
{
    (void)state;
    sb_th *th = started(SECRET, NULL);
    /* the sender retried while the first was still being stored */
    const sb_th_reply *a = post_sig(th, BODY, BODY_SIG);
    const sb_th_reply *b = post_sig(th, BODY, BODY_SIG);
    assert_int_equal(sb_th_inbound_count(th), 1);
    assert_false(a->replied);
    assert_false(b->replied);
    sb_th_inbound_complete(th, 0, SB_OK);
    sb_th_run_pending(th);
    assert_stored(a, "msg-1", "false");
    assert_stored(b, "msg-1", "true");

    /* and again after, with other content: still nothing new, the text of
     * the first stays */
    sb_th_inbound_autocomplete(th, 1);
    const sb_th_reply *c = post_sig(th,
        "{\"external_id\":\"u-1\",\"message_id\":\"m-1\",\"text\":\"changed\"}",
        "sha256=54efb3eb1f2a118ead5e2acca2201caccf6b714b8f617002b0d3e800b1f52b92");
    assert_false(c->replied);
    sb_th_run_pending(th);
    assert_stored(c, "msg-1", "true");
    assert_int_equal(sb_th_inbound_count(th), 1);
    assert_int_equal(sb_th_inbound_get(th, 0)->duplicates, 2);
    assert_string_equal(sb_th_inbound_get(th, 0)->msg.text, "hi");
    sb_th_free(th);
}

static void test_inbound_error_answers_503(void **state)
{
    (void)state;
    sb_th *th = started(SECRET, NULL);
    const sb_th_reply *r = post_sig(th, BODY, BODY_SIG);
    assert_int_equal(sb_th_inbound_complete(th, 0, SB_ERR_IO), SB_OK);
    /* not stored: never 2xx, so the sender delivers again */
    assert_error(r, 503, "unavailable", NULL);
    /* and the redelivery is stored as new */
    r = post_sig(th, BODY, BODY_SIG);
    assert_int_equal(sb_th_inbound_count(th), 2);
    sb_th_inbound_complete(th, 1, SB_OK);
    assert_stored(r, "msg-2", "false");
    sb_th_free(th);
}

/* inbound() refusing at once: done never runs, so the webhook answers
 * itself (and frees what it allocated for done; ASan checks). */
static void test_inbound_refused_at_once(void **state)
{
    (void)state;
    sb_th *th = started(NULL, NULL);
    sb_th_fail_next(th, "inbound", SB_ERR_INVALID);
    assert_error(post_sig(th, BODY, NULL), 400, "bad_request",
                 "message refused by the server as invalid");
    sb_th_fail_next(th, "inbound", SB_ERR_TOO_BIG);
    assert_error(post_sig(th, BODY, NULL), 413, "too_large",
                 "message refused: a field is over the server's limit");
    sb_th_fail_next(th, "inbound", SB_ERR_FULL);
    assert_error(post_sig(th, BODY, NULL), 503, "unavailable", NULL);
    assert_int_equal(sb_th_inbound_count(th), 0);
    sb_th_free(th);
}

static void test_stop_answers_waiting_webhook(void **state)
{
    (void)state;
    sb_th *th = started(NULL, NULL);
    const sb_th_reply *r = post_sig(th, BODY, NULL);
    sb_th_stop(th);
    /* stored or not is unknown: the sender must deliver again */
    assert_error(r, 503, "unavailable", NULL);
    sb_th_free(th);
}

/* ---- send ------------------------------------------------------------------------ */

static const sb_header *find_header(const sb_th_http_call *c, const char *name)
{
    for (size_t i = 0; i < c->n_headers; i++)
        if (strcasecmp(c->headers[i].name, name) == 0) return &c->headers[i];
    return NULL;
}

static uint64_t send_hi(sb_th *th)
{
    sb_outbound m = {.message_id = "out-1", .conversation_id = "c-1", .external_id = "u-1",
                     .text = "hi"};
    uint64_t op = 0;
    assert_int_equal(sb_th_send(th, &m, &op), SB_SEND_ACCEPTED);
    assert_int_not_equal(op, 0);
    return op;
}

#define OUT_BODY \
    "{\"message_id\":\"out-1\",\"external_id\":\"u-1\",\"text\":\"hi\",\"conversation_id\":\"c-1\"}"
/* `printf %s OUT_BODY | openssl dgst -sha256 -hmac shh-test-secret` */
#define OUT_SIG "sha256=59a5a940f6282e84ff0e218ca49f027e6941b71b6697715ff642b701f6d731f1"

static void test_send_posts_signed_json(void **state)
{
    (void)state;
    sb_th *th = host_with(SECRET, CB, "timeout", "2500ms");
    assert_int_equal(sb_th_start(th, apichannel()), SB_OK);
    sb_th_http_expect(th, "POST", CB, 200, "{}");
    uint64_t op = send_hi(th);
    assert_int_equal(sb_th_send_result_count(th), 0); /* never inside send */

    assert_int_equal(sb_th_http_call_count(th), 1);
    const sb_th_http_call *c = sb_th_http_call_get(th, 0);
    assert_string_equal(c->method, "POST");
    assert_string_equal(c->url, CB);
    assert_string_equal(c->body, OUT_BODY);
    assert_int_equal(c->body_len, strlen(OUT_BODY));
    assert_int_equal(c->timeout_ms, 2500);
    assert_int_equal(c->n_headers, 2);
    const sb_header *h = find_header(c, "Content-Type");
    assert_non_null(h);
    assert_string_equal(h->value, "application/json");
    h = find_header(c, "X-Switchboard-Signature");
    assert_non_null(h);
    assert_string_equal(h->value, OUT_SIG);

    sb_th_run_pending(th);
    assert_int_equal(sb_th_send_result_count(th), 1);
    const sb_th_send_result *s = sb_th_send_result_get(th, 0);
    assert_int_equal(s->op, op);
    assert_int_equal(s->status, SB_SENT);
    assert_string_equal(s->remote_id, "out-1");
    assert_int_equal(sb_th_http_expect_left(th), 0);
    sb_th_free(th);
}

static void test_send_unsigned_without_secret(void **state)
{
    (void)state;
    sb_th *th = started(NULL, "http://127.0.0.1:9/cb");
    sb_th_http_expect(th, "POST", "http://127.0.0.1:9/cb", 204, NULL);
    send_hi(th);
    const sb_th_http_call *c = sb_th_http_call_get(th, 0);
    assert_int_equal(c->n_headers, 1);
    assert_null(find_header(c, "X-Switchboard-Signature"));
    assert_int_equal(c->timeout_ms, 10000); /* the default */
    sb_th_run_pending(th);
    assert_int_equal(sb_th_send_result_get(th, 0)->status, SB_SENT);
    sb_th_free(th);
}

/* One send answered with `status` (and Retry-After when not NULL). */
static const sb_th_send_result *answered(sb_th *th, long status, const char *retry_after)
{
    sb_th_http_expect(th, "POST", CB, status, "{\"error\":\"x\"}");
    if (retry_after) sb_th_http_expect_header(th, "Retry-After", retry_after);
    size_t before = sb_th_send_result_count(th);
    uint64_t op = send_hi(th);
    sb_th_run_pending(th);
    assert_int_equal(sb_th_send_result_count(th), before + 1);
    const sb_th_send_result *s = sb_th_send_result_get(th, before);
    assert_int_equal(s->op, op);
    return s;
}

static void test_send_outcomes(void **state)
{
    (void)state;
    sb_th *th = started(SECRET, CB);
    const sb_th_send_result *s;

    s = answered(th, 201, NULL);
    assert_int_equal(s->status, SB_SENT);
    s = answered(th, 500, NULL);
    assert_int_equal(s->status, SB_SEND_RETRY);
    assert_int_equal(s->retry_after_ms, 0);
    assert_string_equal(s->error, "callback answered HTTP 500");
    s = answered(th, 503, "7");
    assert_int_equal(s->status, SB_SEND_RETRY);
    assert_int_equal(s->retry_after_ms, 7000);
    s = answered(th, 429, "3");
    assert_int_equal(s->status, SB_SEND_RETRY);
    assert_int_equal(s->retry_after_ms, 3000);
    assert_string_equal(s->error, "callback answered HTTP 429");
    /* header names are case-insensitive; the date form falls back to the
     * core's backoff, and so does a value past a day */
    s = answered(th, 429, NULL);
    assert_int_equal(s->retry_after_ms, 0);
    sb_th_http_expect(th, "POST", CB, 429, "");
    sb_th_http_expect_header(th, "retry-after", "2");
    send_hi(th);
    sb_th_run_pending(th);
    assert_int_equal(sb_th_send_result_get(th, sb_th_send_result_count(th) - 1)->retry_after_ms, 2000);
    s = answered(th, 503, "Wed, 21 Oct 2026 07:28:00 GMT");
    assert_int_equal(s->status, SB_SEND_RETRY);
    assert_int_equal(s->retry_after_ms, 0);
    s = answered(th, 503, "86401");
    assert_int_equal(s->retry_after_ms, 0);
    s = answered(th, 408, NULL);
    assert_int_equal(s->status, SB_SEND_RETRY);

    /* the receiver will never take it */
    s = answered(th, 404, "5");
    assert_int_equal(s->status, SB_SEND_FAILED);
    assert_int_equal(s->retry_after_ms, 0);
    assert_string_equal(s->error, "callback answered HTTP 404");
    s = answered(th, 400, NULL);
    assert_int_equal(s->status, SB_SEND_FAILED);
    assert_null(s->remote_id);
    assert_int_equal(sb_th_http_expect_left(th), 0);
    sb_th_free(th);
}

static void test_send_transport_errors_retry(void **state)
{
    (void)state;
    sb_th *th = started(SECRET, CB);
    sb_th_http_expect_error(th, "POST", CB, SB_ERR_TIMEOUT, "Operation timed out");
    send_hi(th);
    sb_th_http_expect_error(th, "POST", CB, SB_ERR_IO, "Could not connect");
    send_hi(th);
    /* a body over max_response: still the receiver's trouble, retried */
    char big[70000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    sb_th_http_expect(th, "POST", CB, 200, big);
    send_hi(th);
    sb_th_run_pending(th);
    assert_int_equal(sb_th_send_result_count(th), 3);
    const sb_th_send_result *s = sb_th_send_result_get(th, 0);
    assert_int_equal(s->status, SB_SEND_RETRY);
    assert_string_equal(s->error, "callback: Operation timed out");
    s = sb_th_send_result_get(th, 1);
    assert_int_equal(s->status, SB_SEND_RETRY);
    assert_string_equal(s->error, "callback: Could not connect");
    assert_int_equal(sb_th_http_call_get(th, 2)->status, SB_ERR_TOO_BIG);
    assert_int_equal(sb_th_send_result_get(th, 2)->status, SB_SEND_RETRY);
    sb_th_free(th);
}

/* Stopping with a call in flight: the host cancels it, and the message
 * goes back to the core's outbox as a retry (the pending state is freed:
 * ASan checks). */
static void test_stop_with_send_in_flight(void **state)
{
    (void)state;
    sb_th *th = started(SECRET, CB);
    sb_th_http_expect(th, "POST", CB, 200, NULL);
    uint64_t op = send_hi(th);
    sb_th_stop(th);
    assert_int_equal(sb_th_http_call_get(th, 0)->status, SB_ERR_CANCELLED);
    assert_int_equal(sb_th_send_result_count(th), 1);
    assert_int_equal(sb_th_send_result_get(th, 0)->op, op);
    assert_int_equal(sb_th_send_result_get(th, 0)->status, SB_SEND_RETRY);
    sb_th_free(th);
}

static void test_send_rejected_without_callback_url(void **state)
{
    (void)state;
    sb_th *th = started(SECRET, NULL);
    sb_outbound m = {.message_id = "o", .conversation_id = "c", .external_id = "u", .text = "t"};
    assert_int_equal(sb_th_send(th, &m, NULL), SB_SEND_REJECTED);
    assert_int_equal(sb_th_http_call_count(th), 0);
    sb_th_run_pending(th);
    assert_int_equal(sb_th_send_result_count(th), 0);
    sb_th_free(th);
}

/* http_call could not start: a retry reported later from a timer, never
 * inside send(); with no timer either, the send is refused. */
static void test_send_call_not_started(void **state)
{
    (void)state;
    sb_th *th = started(SECRET, CB);
    sb_th_fail_next(th, "http_call", SB_ERR_NOMEM);
    uint64_t op = send_hi(th);
    assert_int_equal(sb_th_send_result_count(th), 0);
    assert_int_equal(sb_th_advance(th, 0), 1);
    assert_int_equal(sb_th_send_result_count(th), 1);
    const sb_th_send_result *s = sb_th_send_result_get(th, 0);
    assert_int_equal(s->op, op);
    assert_int_equal(s->status, SB_SEND_RETRY);
    assert_string_equal(s->error, "callback: could not start the request");

    sb_th_fail_next(th, "http_call", SB_ERR_NOMEM);
    sb_th_fail_next(th, "timer_start", SB_ERR_NOMEM);
    sb_outbound m = {.message_id = "o", .conversation_id = "c", .external_id = "u", .text = "t"};
    assert_int_equal(sb_th_send(th, &m, NULL), SB_SEND_REJECTED);

    /* stopped before the timer fired: nothing reported, nothing leaked */
    sb_th_fail_next(th, "http_call", SB_ERR_NOMEM);
    send_hi(th);
    sb_th_fail_next(th, "http_call", SB_ERR_NOMEM);
    send_hi(th);
    assert_int_equal(sb_th_timer_count(th), 2);
    sb_th_stop(th);
    assert_int_equal(sb_th_send_result_count(th), 1);
    sb_th_free(th);
}

/* ---- configuration ---------------------------------------------------------------- */

/* init must fail and record exactly these errors, in order. */
static void expect_config_errors(sb_th *th, const char *const *want, size_t n)
{
    assert_int_equal(sb_th_start(th, apichannel()), SB_ERR_INVALID);
    assert_null(sb_th_state(th));
    for (size_t i = 0; i < n; i++) {
        const char *got = sb_th_config_error(th, i);
        if (!got || strcmp(got, want[i]) != 0)
            fail_msg("config error %zu: got '%s', want '%s'", i, got ? got : "(none)", want[i]);
    }
    assert_int_equal(sb_th_config_error_count(th), n);
    /* nothing stays registered */
    assert_int_equal(post_sig(th, BODY, NULL)->status, 404);
    sb_th_free(th);
}

#define ONE(th, msg) do { const char *w_[] = {msg}; expect_config_errors(th, w_, 1); } while (0)

static void test_config_errors(void **state)
{
    (void)state;
    ONE(host_with(NULL, "ftp://x/cb", NULL, NULL),
        "callback_url: expected an http:// or https:// URL");
    ONE(host_with(NULL, "crm.example/cb", NULL, NULL),
        "callback_url: expected an http:// or https:// URL");
    ONE(host_with(NULL, CB, "timeout", "0"), "timeout: expected a duration from 1ms to 5m");
    ONE(host_with(NULL, CB, "timeout", "301s"), "timeout: expected a duration from 1ms to 5m");
    ONE(host_with(NULL, CB, "timeout", "ten"), "timeout: expected a duration, got 'ten'");
    ONE(host_with(NULL, NULL, "secret.value", "x"), "secret: expected a string, got a map");
    ONE(host_with(NULL, NULL, "callback_url[0]", CB), "callback_url: expected a string, got a list");
    ONE(host_with(SECRET, CB, "callbak_url", CB), "callbak_url: unknown key");

    /* every problem at once: a bad first key does not hide the others, nor
     * leave them unread (which would add "unknown key" errors) */
    sb_th *th = host_with(NULL, "ftp://x", "secret.a", "b");
    sb_th_config_set(th, "timeout", "0");
    const char *all[] = {"secret: expected a string, got a map",
                         "callback_url: expected an http:// or https:// URL",
                         "timeout: expected a duration from 1ms to 5m"};
    expect_config_errors(th, all, 3);

    /* the limits themselves are fine */
    th = host_with(NULL, CB, "timeout", "5m");
    assert_int_equal(sb_th_start(th, apichannel()), SB_OK);
    sb_th_free(th);
    th = host_with(NULL, "http://x", "timeout", "1ms");
    assert_int_equal(sb_th_start(th, apichannel()), SB_OK);
    sb_th_free(th);
}

static void test_reload_keeps_old_config_on_error(void **state)
{
    (void)state;
    sb_th *th = started(SECRET, CB);
    sb_th_config_set(th, "callback_url", "gopher://new");
    sb_th_config_set(th, "secret", "new-secret");
    assert_int_equal(sb_th_reload(th), SB_ERR_INVALID);
    /* still the old URL, secret and timeout */
    sb_th_http_expect(th, "POST", CB, 200, NULL);
    send_hi(th);
    const sb_th_http_call *c = sb_th_http_call_get(th, 0);
    assert_string_equal(c->url, CB);
    assert_string_equal(find_header(c, "X-Switchboard-Signature")->value, OUT_SIG);
    assert_error(post_sig(th, BODY, NULL), 401, "bad_signature", NULL);
    assert_false(post_sig(th, BODY, BODY_SIG)->replied);

    sb_th_config_set(th, "callback_url", "https://new.example/cb");
    sb_th_config_set(th, "timeout", "0");
    assert_int_equal(sb_th_reload(th), SB_ERR_INVALID);
    send_hi(th);
    assert_string_equal(sb_th_http_call_get(th, 1)->url, CB);
    assert_int_equal(sb_th_http_call_get(th, 1)->timeout_ms, 10000);

    /* a good one applies every key: URL, timeout and the secret, under
     * which the old signature no longer matches */
    sb_th_config_set(th, "timeout", "3s");
    assert_int_equal(sb_th_reload(th), SB_OK);
    sb_th_http_expect(th, "POST", "https://new.example/cb", 200, NULL);
    send_hi(th);
    c = sb_th_http_call_get(th, 2);
    assert_string_equal(c->url, "https://new.example/cb");
    assert_int_equal(c->timeout_ms, 3000);
    /* OUT_BODY signed with new-secret (openssl) */
    assert_string_equal(find_header(c, "X-Switchboard-Signature")->value,
                        "sha256=8b817541165fbdce625f93063ee23a68852f9e2c34d704d8cc124367f32ab906");
    assert_error(post_sig(th, BODY, BODY_SIG), 401, "bad_signature", NULL);

    /* removing callback_url disables sending */
    sb_th_config_set(th, "callback_url", NULL);
    assert_int_equal(sb_th_reload(th), SB_OK);
    sb_outbound m = {.message_id = "o", .conversation_id = "c", .external_id = "u", .text = "t"};
    assert_int_equal(sb_th_send(th, &m, NULL), SB_SEND_REJECTED);
    sb_th_run_pending(th);
    sb_th_free(th);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signed_message_answered_after_storing),
        cmocka_unit_test(test_every_shape_reaches_the_core),
        cmocka_unit_test(test_signature_required_when_secret_set),
        cmocka_unit_test(test_unsigned_allowed_without_secret),
        cmocka_unit_test(test_bad_body_400_names_field),
        cmocka_unit_test(test_duplicate_answers_same_id),
        cmocka_unit_test(test_inbound_error_answers_503),
        cmocka_unit_test(test_inbound_refused_at_once),
        cmocka_unit_test(test_stop_answers_waiting_webhook),
        cmocka_unit_test(test_send_posts_signed_json),
        cmocka_unit_test(test_send_unsigned_without_secret),
        cmocka_unit_test(test_send_outcomes),
        cmocka_unit_test(test_send_transport_errors_retry),
        cmocka_unit_test(test_stop_with_send_in_flight),
        cmocka_unit_test(test_send_rejected_without_callback_url),
        cmocka_unit_test(test_send_call_not_started),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_reload_keeps_old_config_on_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
