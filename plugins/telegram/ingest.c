/* One update -> host->inbound(), shared by the webhook and the poller.
 * Button data is mapped back to the button id, an edit to the dedup key of
 * the message it changes; a button press is answered (answerCallbackQuery)
 * once it is stored, which stops the spinner on the client's button. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg.h"
#include "wire.h"

struct tg_inflight {
    tg_inflight *next;
    tg_state *s;
    tg_ingest_cb cb;
    uint64_t tag;
    char callback_id[260]; /* "" when not a button press */
};

static void unlink_inflight(tg_state *s, tg_inflight *f)
{
    for (tg_inflight **p = &s->inflight; *p; p = &(*p)->next)
        if (*p == f) {
            *p = f->next;
            return;
        }
}

static void answered(void *ud, uint64_t id, const sb_http_response *res)
{
    (void)id;
    tg_state *s = ud;
    if (res->status == SB_ERR_CANCELLED) return;
    if (res->status == SB_OK && res->http_status == 200) return;
    tg_result r;
    tg_parse_result(res->body, res->body_len, res->http_status, &r);
    char why[400];
    tg_describe(s, res, r.description, why, sizeof why);
    tg_result_free(&r);
    /* Only the client's spinner is at stake: the press itself is stored. */
    tg_log(s, SB_LOG_WARN, "answerCallbackQuery failed: %s", why);
}

static void answer_callback(tg_state *s, const char *callback_id)
{
    char *body = tg_json_answer_callback(callback_id);
    uint64_t call = body ? tg_api_call(s, "answerCallbackQuery", body, TG_API_TIMEOUT_MS,
                                       64 * 1024, answered, s)
                         : 0;
    free(body);
    if (!call) tg_log(s, SB_LOG_WARN, "answerCallbackQuery could not start");
}

static void stored(void *ud, sb_status st, const char *message_id, int duplicate)
{
    (void)message_id;
    tg_inflight *f = ud;
    tg_state *s = f->s;
    unlink_inflight(s, f);
    if (st == SB_OK && !duplicate && f->callback_id[0]) answer_callback(s, f->callback_id);
    f->cb(s, f->tag, st);
    free(f);
}

tg_ing tg_ingest(tg_state *s, struct json_t *update, tg_ingest_cb cb, uint64_t tag, char *why,
                 size_t whylen)
{
    tg_update u;
    tg_upd_kind k = tg_parse_update(update, &u);
    snprintf(why, whylen, "%s", u.why);
    if (k == TG_UPD_BAD) return TG_ING_BAD;
    if (k == TG_UPD_SKIP) {
        tg_log(s, SB_LOG_DEBUG, "update %" PRId64 " skipped: %s", u.update_id, u.why);
        return TG_ING_SKIPPED;
    }
    char button[300], edit_of[64];
    if (u.callback_data) {
        tg_key_lookup(s, u.callback_data, button, sizeof button);
        u.msg.button_id = button;
    }
    if (u.msg.kind == SB_IN_EDIT) {
        tg_edit_lookup(s, u.chat, u.edited_id, edit_of, sizeof edit_of);
        u.msg.edit_of = edit_of;
    }
    tg_inflight *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(why, whylen, "out of memory");
        return TG_ING_FAILED;
    }
    f->s = s;
    f->cb = cb;
    f->tag = tag;
    if (u.callback_id) snprintf(f->callback_id, sizeof f->callback_id, "%s", u.callback_id);
    sb_status st = s->h->inbound(s->ctx, &u.msg, stored, f);
    if (st != SB_OK) {
        free(f);
        snprintf(why, whylen, "update %" PRId64 " refused by the core: %s", u.update_id,
                 s->h->strstatus(st));
        return st == SB_ERR_INVALID || st == SB_ERR_TOO_BIG ? TG_ING_BAD : TG_ING_FAILED;
    }
    f->next = s->inflight;
    s->inflight = f;
    if (u.message_id) tg_edit_remember(s, u.chat, u.message_id, u.dedup_key);
    return TG_ING_PENDING;
}

void tg_ingest_free_all(tg_state *s)
{
    while (s->inflight) {
        tg_inflight *f = s->inflight;
        s->inflight = f->next;
        free(f);
    }
}
