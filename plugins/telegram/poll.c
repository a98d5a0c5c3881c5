/* Poll mode: getUpdates long polling. The offset (which confirms every
 * update before it to Telegram) moves on, and is saved in kv for the next
 * start, only once every update of the batch is stored. A batch with any
 * update not stored is fetched again (dedup on update_id makes the stored
 * ones harmless). Errors back off 1 s doubling to 60 s, or retry_after. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg.h"
#include "wire.h"

static void poll_issue(tg_state *s);

/* Not a failure: the next poll without backoff. */
static void poll_later(tg_state *s, uint64_t ms)
{
    if (ms == 0) poll_issue(s);
    else tg_transport_timer(s, ms, poll_issue);
}

static void offset_saved(void *ud, sb_status st)
{
    tg_state *s = ud;
    if (st != SB_OK)
        tg_log(s, SB_LOG_WARN, "offset %" PRId64 " not saved (%s): a restart fetches "
               "some updates again", s->offset, s->h->strstatus(st));
    if (s->running && !s->call && !s->timer) poll_issue(s);
}

static void batch_done(tg_state *s)
{
    if (s->batch_failed) {
        uint64_t ms = tg_transport_retry(s, 0, poll_issue);
        tg_log(s, SB_LOG_WARN, "updates not stored; fetching them again in %llu s",
               (unsigned long long)(ms / 1000));
        return;
    }
    s->backoff_ms = 0;
    if (s->batch_max < 0) { /* nothing came: do not hammer a server that answers at once */
        int64_t due = s->poll_started + TG_POLL_MIN_GAP_MS, now = s->h->now_ms(s->ctx);
        poll_later(s, due > now ? (uint64_t)(due - now) : 0);
        return;
    }
    s->offset = s->batch_max + 1;
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%" PRId64, s->offset);
    sb_status st = s->h->kv_put(s->ctx, "offset", 6, buf, (size_t)n, offset_saved, s);
    if (st != SB_OK) offset_saved(s, st);
}

static void batch_stored(tg_state *s, uint64_t tag, sb_status st)
{
    if (tag != s->batch) return; /* a batch the poller gave up (reload, stop) */
    if (st != SB_OK) s->batch_failed = true;
    if (--s->batch_waiting == 0) batch_done(s);
}

static void failed(tg_state *s, const sb_http_response *res, const tg_result *r)
{
    char why[400];
    tg_describe(s, res, r->description, why, sizeof why);
    uint64_t ms = tg_transport_retry(s, r->retry_after_s * 1000, poll_issue);
    unsigned long long sec = (unsigned long long)(ms / 1000);
    if (res->status == SB_OK && r->code == 409)
        tg_log(s, SB_LOG_ERROR, "getUpdates: 409 Conflict: %s. Another process polls with "
               "this bot's token, or a webhook is set for it (delete it, or use mode: "
               "webhook); trying again in %llu s", why, sec);
    else if (res->status == SB_OK && (r->code == 401 || r->code == 404))
        tg_log(s, SB_LOG_ERROR, "getUpdates: the Bot API refused the token: %s; check "
               "`token`; trying again in %llu s", why, sec);
    else
        tg_log(s, SB_LOG_WARN, "getUpdates failed: %s; trying again in %llu s", why, sec);
}

static void polled(void *ud, uint64_t id, const sb_http_response *res)
{
    (void)id;
    tg_state *s = ud;
    s->call = 0;
    if (res->status == SB_ERR_CANCELLED) return;
    if (res->status == SB_ERR_TOO_BIG && s->limit > 1) {
        s->limit /= 2; /* fewer updates per answer */
        tg_log(s, SB_LOG_WARN, "getUpdates answer over %u bytes; asking for %u updates at a time",
               (unsigned)TG_POLL_MAX_RESPONSE, s->limit);
        poll_later(s, 0);
        return;
    }
    tg_result r;
    tg_parse_result(res->body, res->body_len, res->http_status, &r);
    if (res->status != SB_OK || !r.ok || !json_is_array(r.result)) {
        if (res->status == SB_OK && r.ok) snprintf(r.description, sizeof r.description,
                                                   "result: expected an array");
        failed(s, res, &r);
        tg_result_free(&r);
        return;
    }
    s->batch++;
    s->batch_waiting = 1; /* held until every update is handed over */
    s->batch_failed = false;
    s->batch_max = -1;
    size_t n = json_array_size(r.result);
    for (size_t i = 0; i < n; i++) {
        json_t *u = json_array_get(r.result, i);
        json_t *uid = json_object_get(u, "update_id");
        if (json_is_integer(uid) && json_integer_value(uid) > s->batch_max)
            s->batch_max = (int64_t)json_integer_value(uid);
        char why[200];
        switch (tg_ingest(s, u, batch_stored, s->batch, why, sizeof why)) {
        case TG_ING_PENDING:
            s->batch_waiting++;
            break;
        case TG_ING_SKIPPED:
            break;
        case TG_ING_BAD: /* it would never be stored: do not hold the others back */
            tg_log(s, SB_LOG_WARN, "update dropped: %s", why);
            break;
        case TG_ING_FAILED:
            s->batch_failed = true;
            tg_log(s, SB_LOG_WARN, "update not handed over: %s", why);
            break;
        }
    }
    tg_result_free(&r);
    if (n && s->batch_max < 0) s->batch_failed = true; /* no update_id to move past */
    batch_stored(s, s->batch, SB_OK);
}

static void poll_issue(tg_state *s)
{
    if (!s->running || s->call) return;
    if (s->timer) s->h->timer_stop(s->ctx, s->timer);
    s->timer = 0;
    char *body = tg_json_get_updates(s->offset, s->limit, (unsigned)(s->cfg.poll_timeout_ms / 1000));
    s->poll_started = s->h->now_ms(s->ctx);
    s->call = body ? tg_api_call(s, "getUpdates", body,
                                 (uint32_t)(s->cfg.poll_timeout_ms + 10000), TG_POLL_MAX_RESPONSE,
                                 polled, s)
                   : 0;
    free(body);
    if (!s->call) {
        uint64_t ms = tg_transport_retry(s, 0, poll_issue);
        tg_log(s, SB_LOG_ERROR, "getUpdates could not start; trying again in %llu s",
               (unsigned long long)(ms / 1000));
    }
}

void tg_poll_start(tg_state *s)
{
    char buf[24];
    size_t len = 0;
    s->offset = -1;
    s->limit = TG_POLL_LIMIT;
    if (s->h->kv_get(s->ctx, "offset", 6, buf, sizeof buf - 1, &len) == SB_OK) {
        buf[len] = '\0';
        int64_t v;
        if (tg_parse_chat(buf, &v) == 0 && v >= 0) s->offset = v;
    }
    poll_issue(s);
}
