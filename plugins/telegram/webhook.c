/* Webhook mode: setWebhook at start, then Telegram POSTs each update to
 * /hooks/telegram/<instance> with the secret token in a header. An update
 * is answered 200 only once it is stored; anything else makes Telegram
 * deliver it again, and the dedup on update_id makes that harmless. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tg.h"
#include "wire.h"

static const char *header(const sb_http_request *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0) return r->headers[i].value;
    return NULL;
}

/* Exact comparison in time independent of where the texts differ. */
static bool same_secret(const char *got, const char *want)
{
    size_t gl = strlen(got), wl = strlen(want);
    unsigned char diff = gl != wl;
    for (size_t i = 0; i < wl; i++) diff |= (unsigned char)(want[i] ^ (i < gl ? got[i] : 0));
    return diff == 0;
}

static void reply_ok(tg_state *s, uint64_t reply_id)
{
    s->h->http_reply(s->ctx, reply_id, 200, "application/json", NULL, 0, "{\"ok\":true}", 11);
}

static void stored(tg_state *s, uint64_t reply_id, sb_status st)
{
    if (st == SB_OK) {
        reply_ok(s, reply_id);
        return;
    }
    char msg[160];
    snprintf(msg, sizeof msg, "not stored (%s): deliver it again", s->h->strstatus(st));
    s->h->http_error(s->ctx, reply_id, 503, "unavailable", msg);
}

void tg_webhook(void *ud, const sb_http_request *req)
{
    tg_state *s = ud;
    const sb_host *h = s->h;
    if (s->cfg.mode != TG_MODE_WEBHOOK) {
        h->http_error(s->ctx, req->reply_id, 404, "not_found",
                      "this instance polls getUpdates: its webhook is off");
        return;
    }
    const char *got = header(req, "X-Telegram-Bot-Api-Secret-Token");
    if (!got || !same_secret(got, s->cfg.secret)) {
        h->http_error(s->ctx, req->reply_id, 403, "forbidden",
                      "X-Telegram-Bot-Api-Secret-Token: missing or wrong");
        return;
    }
    if (req->body_len > TG_MAX_UPDATE) {
        h->http_error(s->ctx, req->reply_id, 413, "too_large", "an update over 1 MiB");
        return;
    }
    json_error_t je;
    json_t *root = json_loadb(req->body, req->body_len, 0, &je);
    char why[300];
    if (!root) {
        snprintf(why, sizeof why, "body: not valid JSON at line %d column %d: %s", je.line,
                 je.column, je.text);
        h->http_error(s->ctx, req->reply_id, 400, "bad_request", why);
        return;
    }
    tg_ing r = tg_ingest(s, root, stored, req->reply_id, why, sizeof why);
    json_decref(root);
    switch (r) {
    case TG_ING_PENDING:
        return;
    case TG_ING_SKIPPED: /* nothing to store: Telegram need not send it again */
        reply_ok(s, req->reply_id);
        return;
    case TG_ING_BAD:
        tg_log(s, SB_LOG_WARN, "webhook update refused: %s", why);
        h->http_error(s->ctx, req->reply_id, 400, "bad_request", why);
        return;
    case TG_ING_FAILED:
        h->http_error(s->ctx, req->reply_id, 503, "unavailable", why);
        return;
    }
}

/* ---- setWebhook ------------------------------------------------------------ */

static void hook_url(tg_state *s, char *out, size_t cap)
{
    snprintf(out, cap, "%s/hooks/%s/%s", s->cfg.public_url, s->h->plugin_name(s->ctx),
             s->h->instance_name(s->ctx));
}

static void webhook_set(void *ud, uint64_t id, const sb_http_response *res)
{
    (void)id;
    tg_state *s = ud;
    s->call = 0;
    if (res->status == SB_ERR_CANCELLED) return;
    tg_result r;
    tg_parse_result(res->body, res->body_len, res->http_status, &r);
    char url[2 * TG_MAX_URL], why[400];
    hook_url(s, url, sizeof url);
    if (res->status == SB_OK && r.ok) {
        s->backoff_ms = 0;
        tg_log(s, SB_LOG_INFO, "webhook set: Telegram posts updates to %s", url);
    } else {
        tg_describe(s, res, r.description, why, sizeof why);
        uint64_t ms = tg_transport_retry(s, r.retry_after_s * 1000, tg_webhook_start);
        tg_log(s, SB_LOG_ERROR, "setWebhook %s failed: %s; trying again in %llu s", url, why,
               (unsigned long long)(ms / 1000));
    }
    tg_result_free(&r);
}

void tg_webhook_start(tg_state *s)
{
    if (!s->running || s->call) return;
    char url[2 * TG_MAX_URL];
    hook_url(s, url, sizeof url);
    char *body = tg_json_set_webhook(url, s->cfg.secret);
    s->call = body ? tg_api_call(s, "setWebhook", body, TG_API_TIMEOUT_MS, 64 * 1024,
                                 webhook_set, s)
                   : 0;
    free(body);
    if (!s->call) {
        uint64_t ms = tg_transport_retry(s, 0, tg_webhook_start);
        tg_log(s, SB_LOG_ERROR, "setWebhook could not start; trying again in %llu s",
               (unsigned long long)(ms / 1000));
    }
}
