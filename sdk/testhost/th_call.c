/* Test host: http_call() answered from scripts the test queued. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_internal.h"

#define DEFAULT_MAX_RESPONSE ((size_t)1 << 20)
#define CALL_V1_SIZE (offsetof(sb_http_call, max_response) + sizeof(size_t))

typedef struct script {
    char *method; /* NULL: any */
    char *prefix;
    sb_status status; /* SB_OK: an answer; else a transport failure */
    long http_status;
    char *body;
    size_t body_len;
    sb_thi_vec headers; /* sb_header *, strings owned */
    char *error;
} script;

typedef struct call {
    sb_th_http_call pub; /* first: the test holds a pointer to it */
    sb_http_done done;
    void *ud;
    script *answer; /* taken from th->scripts at call time, or NULL */
} call;

static void headers_free(sb_header *hs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)hs[i].name);
        free((char *)hs[i].value);
    }
    free(hs);
}

static void script_free(script *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->headers.n; i++) headers_free(s->headers.v[i], 1);
    free(s->headers.v);
    free(s->method);
    free(s->prefix);
    free(s->body);
    free(s->error);
    free(s);
}

static script *expect(sb_th *th, const char *method, const char *url_prefix)
{
    script *s = sb_thi_alloc(sizeof *s);
    s->method = sb_thi_strdup(method);
    s->prefix = sb_thi_strdup(url_prefix ? url_prefix : "");
    sb_thi_push(&th->scripts, s);
    return s;
}

void sb_th_http_expect(sb_th *th, const char *method, const char *url_prefix,
                       long http_status, const char *body)
{
    script *s = expect(th, method, url_prefix);
    s->http_status = http_status;
    s->body_len = body ? strlen(body) : 0;
    s->body = sb_thi_memdup(body, s->body_len);
}

void sb_th_http_expect_header(sb_th *th, const char *name, const char *value)
{
    if (!th->scripts.n) {
        fputs("sb_testhost: sb_th_http_expect_header without a queued "
              "sb_th_http_expect\n", stderr);
        abort();
    }
    script *s = th->scripts.v[th->scripts.n - 1];
    sb_header *h = sb_thi_alloc(sizeof *h);
    h->name = sb_thi_strdup(name ? name : "");
    h->value = sb_thi_strdup(value ? value : "");
    sb_thi_push(&s->headers, h);
}

void sb_th_http_expect_error(sb_th *th, const char *method,
                             const char *url_prefix, sb_status status,
                             const char *error)
{
    script *s = expect(th, method, url_prefix);
    s->status = status == SB_OK ? SB_ERR_IO : status;
    s->error = sb_thi_strdup(error ? error : "scripted failure");
}

size_t sb_th_http_expect_left(const sb_th *th) { return th->scripts.n; }

size_t sb_th_http_call_count(const sb_th *th) { return th->calls.n; }

const sb_th_http_call *sb_th_http_call_get(const sb_th *th, size_t i)
{
    return i < th->calls.n ? &((call *)th->calls.v[i])->pub : NULL;
}

static script *take_script(sb_th *th, const char *method, const char *url)
{
    for (size_t i = 0; i < th->scripts.n; i++) {
        script *s = th->scripts.v[i];
        if ((!s->method || strcmp(s->method, method) == 0) &&
            strncmp(url, s->prefix, strlen(s->prefix)) == 0) {
            sb_thi_remove(&th->scripts, i);
            return s;
        }
    }
    return NULL;
}

static uint64_t h_http_call(sb_ctx *ctx, const sb_http_call *hc,
                            sb_http_done done, void *ud)
{
    sb_th *th = sb_thi_enter(ctx, "http_call");
    if (!th) return 0;
    if (!hc || !done || hc->struct_size < CALL_V1_SIZE || !hc->url ||
        (hc->n_headers && !hc->headers) || (hc->body_len && !hc->body)) {
        sb_thi_log(th, SB_LOG_WARN, "testhost: http_call: invalid call");
        return 0;
    }
    if (sb_thi_fault(th, "http_call") != SB_OK) return 0;
    call *c = sb_thi_alloc(sizeof *c);
    c->pub.id = ++th->next_call_id;
    c->pub.method = sb_thi_strdup(hc->method ? hc->method : "GET");
    c->pub.url = sb_thi_strdup(hc->url);
    if (hc->n_headers) {
        sb_header *hs = sb_thi_alloc(hc->n_headers * sizeof *hs);
        for (size_t i = 0; i < hc->n_headers; i++) {
            hs[i].name = sb_thi_strdup(hc->headers[i].name);
            hs[i].value = sb_thi_strdup(hc->headers[i].value);
        }
        c->pub.headers = hs;
        c->pub.n_headers = hc->n_headers;
    }
    c->pub.body = sb_thi_memdup(hc->body, hc->body_len);
    c->pub.body_len = hc->body_len;
    c->pub.timeout_ms = hc->timeout_ms;
    c->pub.max_response = hc->max_response;
    c->done = done;
    c->ud = ud;
    c->answer = take_script(th, c->pub.method, c->pub.url);
    if (!c->answer)
        sb_thi_log(th, SB_LOG_WARN, "testhost: http_call %s %s: no scripted "
                   "response", c->pub.method, c->pub.url);
    sb_thi_push(&th->calls, c);
    sb_thi_pend *p = sb_thi_alloc(sizeof *p);
    p->kind = PEND_HTTP_DONE;
    p->rec = c;
    sb_thi_queue(th, p);
    return c->pub.id;
}

void sb_thi_call_deliver(void *rec, sb_status forced)
{
    call *c = rec;
    const script *s = c->answer;
    size_t max = c->pub.max_response ? c->pub.max_response : DEFAULT_MAX_RESPONSE;
    char err[96];
    sb_http_response res = {.struct_size = sizeof res, .body = ""};
    /* Fresh copies freed after done: a plugin keeping them is caught. */
    char *body = NULL;
    sb_header *hs = NULL;
    if (forced != SB_OK) {
        res.status = forced;
        res.error = "cancelled";
    } else if (!s) {
        res.status = SB_ERR_IO;
        res.error = "no scripted response";
    } else if (s->status != SB_OK) {
        res.status = s->status;
        res.error = s->error;
    } else if (s->body_len > max) {
        res.status = SB_ERR_TOO_BIG;
        snprintf(err, sizeof err, "response body over %zu bytes", max);
        res.error = err;
    } else {
        res.http_status = s->http_status;
        res.body = body = sb_thi_memdup(s->body, s->body_len);
        res.body_len = s->body_len;
        if (s->headers.n) {
            hs = sb_thi_alloc(s->headers.n * sizeof *hs);
            for (size_t i = 0; i < s->headers.n; i++) {
                const sb_header *h = s->headers.v[i];
                hs[i].name = sb_thi_strdup(h->name);
                hs[i].value = sb_thi_strdup(h->value);
            }
            res.headers = hs;
            res.n_headers = s->headers.n;
        }
    }
    c->pub.completed = 1;
    c->pub.status = res.status;
    c->done(c->ud, c->pub.id, &res);
    free(body);
    headers_free(hs, res.n_headers);
}

static void h_http_cancel(sb_ctx *ctx, uint64_t id)
{
    sb_th *th = sb_thi_enter(ctx, "http_cancel");
    if (!th) return;
    for (size_t i = 0; i < th->calls.n; i++) {
        call *c = th->calls.v[i];
        if (c->pub.id == id && !c->pub.completed && sb_thi_unqueue_call(th, c))
            sb_thi_call_deliver(c, SB_ERR_CANCELLED);
    }
}

void sb_thi_call_free(sb_th *th)
{
    for (size_t i = 0; i < th->scripts.n; i++) script_free(th->scripts.v[i]);
    free(th->scripts.v);
    for (size_t i = 0; i < th->calls.n; i++) {
        call *c = th->calls.v[i];
        free((char *)c->pub.method);
        free((char *)c->pub.url);
        headers_free((sb_header *)c->pub.headers, c->pub.n_headers);
        free((char *)c->pub.body);
        script_free(c->answer);
        free(c);
    }
    free(th->calls.v);
}

void sb_thi_call_fill(sb_host *h)
{
    h->http_call = h_http_call;
    h->http_cancel = h_http_cancel;
}
