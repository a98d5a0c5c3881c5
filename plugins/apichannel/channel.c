/* The API channel's behaviour: the signed inbound webhook, answered only
 * after the message is stored, and outbound delivery to callback_url. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apichannel.h"
#include "signature.h"
#include "wire.h"

static const char *header(const sb_http_request *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0) return r->headers[i].value;
    return NULL;
}

typedef struct {
    ac_state *s;
    uint64_t reply_id;
} ac_pending_in;

static void stored(void *ud, sb_status st, const char *message_id, int duplicate)
{
    ac_pending_in *p = ud;
    const sb_host *h = p->s->host;
    if (st != SB_OK) {
        /* Not stored: the client must retry, so never answer 2xx here. */
        h->http_error(p->s->ctx, p->reply_id, 503, "unavailable", h->strstatus(st));
    } else {
        char body[400];
        int n = snprintf(body, sizeof body, "{\"message_id\":\"%s\",\"duplicate\":%s}",
                         message_id, duplicate ? "true" : "false");
        h->http_reply(p->s->ctx, p->reply_id, 200, "application/json", NULL, 0, body,
                      (size_t)n);
    }
    free(p);
}

void ac_webhook(void *ud, const sb_http_request *req)
{
    ac_state *s = ud;
    const sb_host *h = s->host;
    if (*s->secret && !sbp_verify(s->secret, req->body, req->body_len,
                                 header(req, "X-Switchboard-Signature"))) {
        h->http_error(s->ctx, req->reply_id, 401, "bad_signature",
                      "X-Switchboard-Signature: missing or wrong");
        return;
    }
    ac_inbound in;
    char err[300];
    if (ac_parse_inbound(req->body, req->body_len, &in, err, sizeof err) != 0) {
        h->http_error(s->ctx, req->reply_id, 400, "bad_request", err);
        return;
    }
    ac_pending_in *p = malloc(sizeof *p);
    sb_status st = p ? SB_OK : SB_ERR_NOMEM;
    if (p) {
        p->s = s;
        p->reply_id = req->reply_id;
        st = h->inbound(s->ctx, &in.msg, stored, p);
    }
    ac_inbound_free(&in);
    if (st == SB_OK) return;
    free(p);
    /* The parser names every field it knows is wrong; what the core still
     * refuses is a limit or rule of its own configuration. */
    if (st == SB_ERR_TOO_BIG)
        h->http_error(s->ctx, req->reply_id, 413, "too_large",
                      "message refused: a field is over the server's limit");
    else if (st == SB_ERR_INVALID)
        h->http_error(s->ctx, req->reply_id, 400, "bad_request",
                      "message refused by the server as invalid");
    else
        h->http_error(s->ctx, req->reply_id, 503, "unavailable", h->strstatus(st));
}

/* ---- outbound ------------------------------------------------------------ */

typedef struct ac_pending_out {
    struct ac_pending_out *next; /* in s->start_failed only */
    ac_state *s;
    uint64_t op;
    char message_id[64];
} ac_pending_out;

/* Retry-After in seconds (the HTTP-date form is rare from APIs; it falls
 * back to the core's backoff). */
static uint64_t retry_after_ms(const sb_http_response *res)
{
    for (size_t i = 0; i < res->n_headers; i++)
        if (strcasecmp(res->headers[i].name, "Retry-After") == 0) {
            char *end;
            unsigned long v = strtoul(res->headers[i].value, &end, 10);
            if (*end == 0 && v <= 86400) return (uint64_t)v * 1000u;
        }
    return 0;
}

static void delivered(void *ud, uint64_t call_id, const sb_http_response *res)
{
    (void)call_id;
    ac_pending_out *p = ud;
    const sb_host *h = p->s->host;
    char err[160];
    long code = res->http_status;
    if (res->status == SB_OK && code >= 200 && code < 300) {
        h->send_result(p->s->ctx, p->op, SB_SENT, p->message_id, 0, NULL);
    } else if (res->status != SB_OK) {
        snprintf(err, sizeof err, "callback: %s", res->error ? res->error : h->strstatus(res->status));
        h->send_result(p->s->ctx, p->op, SB_SEND_RETRY, NULL, 0, err);
    } else {
        /* 408, 429 and 5xx are the receiver's temporary trouble; any other
         * 4xx means it will never take this message. */
        bool again = code == 408 || code == 429 || code >= 500;
        snprintf(err, sizeof err, "callback answered HTTP %ld", code);
        h->send_result(p->s->ctx, p->op, again ? SB_SEND_RETRY : SB_SEND_FAILED, NULL,
                       again ? retry_after_ms(res) : 0, err);
    }
    free(p);
}

/* A call that could not even start is a transient failure, reported from
 * a timer because send_result must not run inside send(). */
static void start_failed(void *ud, uint64_t timer_id)
{
    (void)timer_id;
    ac_pending_out *p = ud, **pp = &p->s->start_failed;
    while (*pp != p) pp = &(*pp)->next;
    *pp = p->next;
    p->s->host->send_result(p->s->ctx, p->op, SB_SEND_RETRY, NULL, 0,
                            "callback: could not start the request");
    free(p);
}

void ac_free_pending(ac_state *s)
{
    while (s->start_failed) {
        ac_pending_out *p = s->start_failed;
        s->start_failed = p->next;
        free(p);
    }
}

sb_send_accept ac_send(void *state, const sb_outbound *msg, uint64_t op)
{
    ac_state *s = state;
    const sb_host *h = s->host;
    if (!*s->callback_url) return SB_SEND_REJECTED;
    char *body = ac_outbound_json(msg);
    ac_pending_out *p = malloc(sizeof *p);
    if (!body || !p) {
        free(body);
        free(p);
        return SB_SEND_REJECTED;
    }
    p->s = s;
    p->op = op;
    snprintf(p->message_id, sizeof p->message_id, "%s", msg->message_id);
    char sig[SBP_SIG_LEN + 1];
    sb_header hdr[2] = {{"Content-Type", "application/json"}, {"X-Switchboard-Signature", sig}};
    size_t nh = 1;
    if (*s->secret) {
        sbp_sign(s->secret, body, strlen(body), sig);
        nh = 2;
    }
    sb_http_call call = {.struct_size = sizeof call, .method = "POST", .url = s->callback_url,
                         .headers = hdr, .n_headers = nh, .body = body,
                         .body_len = strlen(body), .timeout_ms = (uint32_t)s->timeout_ms,
                         .max_response = 64 * 1024};
    uint64_t id = h->http_call(s->ctx, &call, delivered, p);
    free(body);
    if (id) return SB_SEND_ACCEPTED;
    if (h->timer_start(s->ctx, 0, 0, start_failed, p)) {
        p->next = s->start_failed;
        s->start_failed = p;
        return SB_SEND_ACCEPTED;
    }
    free(p);
    return SB_SEND_REJECTED;
}
