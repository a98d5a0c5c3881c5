/* One update -> host->inbound(), shared by the webhook and the poller.
 * Button data is mapped back to the button id, an edit to the dedup key of
 * the message it changes; a button press is answered (answerCallbackQuery)
 * once it is stored, which stops the spinner on the client's button. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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

/* The start token of "/start <token>" (a deep link from the site's
 * omnibutton), into tok; false when the text is something else. */
static bool start_token(const char *text, char tok[65])
{
    if (!text || strncmp(text, "/start ", 7) != 0) return false;
    const char *t = text + 7;
    size_t n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
    if (n < 8 || n > 64 || t[n]) return false;
    memcpy(tok, t, n);
    tok[n] = 0;
    return true;
}

/* Hands a parsed update to the core; f is linked in on success. */
static tg_ing hand_in(tg_state *s, tg_update *u, tg_inflight *f, char *why, size_t whylen)
{
    char button[300], edit_of[64];
    if (u->callback_data) {
        tg_key_lookup(s, u->callback_data, button, sizeof button);
        u->msg.button_id = button;
    }
    if (u->msg.kind == SB_IN_EDIT) {
        tg_edit_lookup(s, u->chat, u->edited_id, edit_of, sizeof edit_of);
        u->msg.edit_of = edit_of;
    }
    if (u->callback_id) snprintf(f->callback_id, sizeof f->callback_id, "%s", u->callback_id);
    /* an attachment is shown to operators by the URL that fetches it */
    char ref[TG_MAX_URL + TG_MAX_FILE_ID + 16], files[TG_MAX_URL];
    if (u->msg.n_attachments) {
        tg_files_path(s, files, sizeof files);
        snprintf(ref, sizeof ref, "/api/v1%s/%s", files, u->att.ref);
        u->att.ref = ref;
    }
    sb_status st = s->h->inbound(s->ctx, &u->msg, stored, f);
    if (st != SB_OK) {
        snprintf(why, whylen, "update %" PRId64 " refused by the core: %s", u->update_id,
                 s->h->strstatus(st));
        return st == SB_ERR_INVALID || st == SB_ERR_TOO_BIG ? TG_ING_BAD : TG_ING_FAILED;
    }
    f->next = s->inflight;
    s->inflight = f;
    if (u->message_id) tg_edit_remember(s, u->chat, u->message_id, u->dedup_key);
    return TG_ING_PENDING;
}

/* A "/start <token>" waiting for the web chat to name its visitor. */
typedef struct {
    tg_inflight *f;
    json_t *update;
} tg_link;

static void linked(void *ud, uint64_t id, const sb_http_response *res)
{
    (void)id;
    tg_link *l = ud;
    tg_inflight *f = l->f;
    tg_state *s = f->s;
    sb_status st = res->status;
    tg_update u;
    json_t *who = NULL;
    if (st == SB_OK && tg_parse_update(l->update, &u) == TG_UPD_INBOUND) {
        who = res->http_status == 200 ? json_loadb(res->body, res->body_len, 0, NULL) : NULL;
        u.msg.link_plugin = json_string_value(json_object_get(who, "channel"));
        u.msg.link_instance = json_string_value(json_object_get(who, "instance"));
        u.msg.link_external_id = json_string_value(json_object_get(who, "external_id"));
        if (!u.msg.link_external_id)
            tg_log(s, SB_LOG_INFO, "start token not known to the web chat (HTTP %ld): "
                   "the client starts a new profile", res->http_status);
        char why[256];
        tg_ing r = hand_in(s, &u, f, why, sizeof why);
        if (r != TG_ING_PENDING) {
            tg_log(s, SB_LOG_WARN, "%s", why);
            st = r == TG_ING_BAD ? SB_ERR_INVALID : SB_ERR_IO;
        }
    } else if (st == SB_OK) {
        st = SB_ERR_INVALID;
    }
    json_decref(who);
    json_decref(l->update);
    free(l);
    if (st != SB_OK) { /* not handed in: the transport hears of it now */
        f->cb(s, f->tag, st);
        free(f);
    }
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
    tg_inflight *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(why, whylen, "out of memory");
        return TG_ING_FAILED;
    }
    f->s = s;
    f->cb = cb;
    f->tag = tag;
    char tok[65], url[TG_MAX_URL + 80];
    if (s->cfg.start_url[0] && u.msg.kind == SB_IN_MESSAGE && start_token(u.msg.text, tok)) {
        /* Ask the web chat whose token it is first; the update is parsed
         * again from its JSON when the answer comes. */
        tg_link *l = malloc(sizeof *l);
        snprintf(url, sizeof url, "%s/%s", s->cfg.start_url, tok);
        sb_http_call call = {.struct_size = sizeof call, .method = "GET", .url = url,
                             .timeout_ms = 5000, .max_response = 16 * 1024};
        if (l) {
            l->f = f;
            l->update = json_incref(update);
            if (s->h->http_call(s->ctx, &call, linked, l)) return TG_ING_PENDING;
            json_decref(l->update);
            free(l);
        }
        tg_log(s, SB_LOG_WARN, "start token lookup could not start: stored without a link");
    }
    tg_ing r = hand_in(s, &u, f, why, whylen);
    if (r != TG_ING_PENDING) free(f);
    return r;
}

void tg_ingest_free_all(tg_state *s)
{
    while (s->inflight) {
        tg_inflight *f = s->inflight;
        s->inflight = f->next;
        free(f);
    }
}
