/* Conversations held by the gateway: each client message goes to the bot as
 * a signed POST (one at a time per conversation, the rest queued, so the
 * bot sees them in order), the bot's answer is applied, and a bot that
 * fails max_errors times in a row, times out or stays silent hands the
 * client to operators. A conversation's state lives only while something is
 * going on (a POST, a queued event, an unanswered client message), so the
 * table holds at most max_conversations busy ones. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "botgateway.h"
#include "signature.h"

typedef struct bg_queued {
    struct bg_queued *next;
    char *body;
} bg_queued;

struct bg_conv {
    bg_conv *next;            /* bucket chain */
    bg_state *s;
    uint64_t call_id;         /* POST in flight, 0 = none */
    uint64_t silence_timer;   /* running since the first unanswered client message */
    int64_t errors;           /* failed answers in a row */
    char last_error[300];      /* clean UTF-8 */
    bg_queued *head, *tail;
    size_t n_queued;
    char id[];
};

/* ---- the table ------------------------------------------------------------ */

static size_t bucket(const char *id)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) h = (h ^ *p) * 16777619u;
    return h % BG_BUCKETS;
}

static bg_conv *find(bg_state *s, const char *id)
{
    for (bg_conv *c = s->buckets[bucket(id)]; c; c = c->next)
        if (strcmp(c->id, id) == 0) return c;
    return NULL;
}

static bg_conv *conv_new(bg_state *s, const char *id)
{
    size_t n = strlen(id);
    bg_conv *c = calloc(1, sizeof *c + n + 1);
    if (!c) return NULL;
    memcpy(c->id, id, n + 1);
    c->s = s;
    bg_conv **b = &s->buckets[bucket(id)];
    c->next = *b;
    *b = c;
    s->n_convs++;
    return c;
}

static void conv_free(bg_conv *c)
{
    bg_state *s = c->s;
    bg_conv **pp = &s->buckets[bucket(c->id)];
    while (*pp != c) pp = &(*pp)->next;
    *pp = c->next;
    s->n_convs--;
    if (c->silence_timer) s->host->timer_stop(s->ctx, c->silence_timer);
    /* Its done runs now with SB_ERR_CANCELLED and only clears call_id. */
    if (c->call_id) s->host->http_cancel(s->ctx, c->call_id);
    while (c->head) {
        bg_queued *q = c->head;
        c->head = q->next;
        free(q->body);
        free(q);
    }
    free(c);
}

void bg_conv_free_all(bg_state *s)
{
    for (size_t i = 0; i < BG_BUCKETS; i++)
        while (s->buckets[i]) conv_free(s->buckets[i]);
}

/* ---- hand-off ------------------------------------------------------------- */

void bg_force_handoff(bg_state *s, const char *conversation_id, const char *reason)
{
    const sb_host *h = s->host;
    h->log(s->ctx, SB_LOG_WARN, "conversation %s: handing off to operators: %s", conversation_id,
           reason);
    h->metric_add(s->ctx, "forced_handoffs_total", 1);
    sb_status st = h->bot_reply(s->ctx, conversation_id, s->handoff_text, NULL, 0);
    if (st == SB_ERR_STATE || st == SB_ERR_NOT_FOUND) return; /* not ours any more */
    if (st != SB_OK)
        h->log(s->ctx, SB_LOG_ERROR, "conversation %s: telling the client failed: %s",
               conversation_id, h->strstatus(st));
    st = h->bot_handoff(s->ctx, conversation_id, s->handoff_group, NULL, 0, reason);
    if (st != SB_OK && st != SB_ERR_STATE && st != SB_ERR_NOT_FOUND)
        h->log(s->ctx, SB_LOG_ERROR, "conversation %s: hand-off failed: %s", conversation_id,
               h->strstatus(st));
}

static void fmt_duration(char *buf, size_t len, uint64_t ms)
{
    if (ms % 1000 == 0) snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
    else snprintf(buf, len, "%llums", (unsigned long long)ms);
}

/* `reason` may have been cut by snprintf inside a UTF-8 character. */
static void handoff_and_free(bg_conv *c, char *reason)
{
    bg_text_clean(reason);
    bg_force_handoff(c->s, c->id, reason);
    conv_free(c);
}

/* ---- the POST ------------------------------------------------------------- */

static void answered(void *ud, uint64_t call_id, const sb_http_response *res);
static void silent(void *ud, uint64_t timer_id);

/* One more failed answer; false when that was the last allowed and the
 * conversation went to operators (c is freed then). */
static bool count_error(bg_conv *c, const char *what)
{
    bg_state *s = c->s;
    c->errors++;
    snprintf(c->last_error, sizeof c->last_error, "%s", what);
    bg_text_clean(c->last_error);
    s->host->metric_add(s->ctx, "errors_total", 1);
    s->host->log(s->ctx, SB_LOG_WARN, "conversation %s: bot error %lld of %lld: %s", c->id,
                 (long long)c->errors, (long long)s->max_errors, c->last_error);
    if (c->errors < s->max_errors) return true;
    char reason[BG_MAX_REASON];
    snprintf(reason, sizeof reason, "bot error: %s ×%lld", c->last_error, (long long)c->errors);
    handoff_and_free(c, reason);
    return false;
}

/* Starts the POST of `body` (taken); false when c is gone. */
static bool post(bg_conv *c, char *body)
{
    bg_state *s = c->s;
    char sig[SBP_SIG_LEN + 1];
    sbp_sign(s->secret, body, strlen(body), sig);
    sb_header hdr[] = {{"Content-Type", "application/json"}, {"X-Switchboard-Signature", sig}};
    sb_http_call call = {.struct_size = sizeof call, .method = "POST", .url = s->url,
                         .headers = hdr, .n_headers = 2, .body = body, .body_len = strlen(body),
                         .timeout_ms = (uint32_t)s->timeout_ms, .max_response = BG_MAX_RESPONSE};
    c->call_id = s->host->http_call(s->ctx, &call, answered, c);
    free(body);
    if (c->call_id) {
        s->host->metric_add(s->ctx, "events_total", 1);
        return true;
    }
    return count_error(c, "could not start the request");
}

/* Sends what is queued; frees c once nothing is going on. */
static void pump(bg_conv *c)
{
    while (!c->call_id && c->head) {
        bg_queued *q = c->head;
        c->head = q->next;
        if (!c->head) c->tail = NULL;
        c->n_queued--;
        char *body = q->body;
        free(q);
        if (!post(c, body)) return;
    }
    if (!c->call_id && !c->silence_timer) conv_free(c);
}

static void apply_answer(bg_conv *c, const sb_http_response *res)
{
    bg_state *s = c->s;
    char err[300], what[360];
    bg_actions acts;
    bg_parse_result pr = bg_actions_parse(res->body, res->body_len, &acts, err, sizeof err);
    if (pr != BG_PARSE_OK) {
        snprintf(what, sizeof what, "%s: %s",
                 pr == BG_PARSE_MALFORMED ? "malformed JSON" : "invalid actions", err);
        if (count_error(c, what)) pump(c);
        return;
    }
    bg_applied ap;
    bg_apply(s, c->id, &acts, NULL, &ap);
    s->host->metric_add(s->ctx, "actions_total", (double)ap.done);
    if (ap.ended) {
        bg_actions_free(&acts);
        conv_free(c);
        return;
    }
    if (ap.failed != SB_OK) {
        snprintf(what, sizeof what, "actions[%zu] (%s) refused: %s", ap.done,
                 bg_action_name(acts.v[ap.done].type), s->host->strstatus(ap.failed));
        bg_actions_free(&acts);
        if (count_error(c, what)) pump(c);
        return;
    }
    bg_actions_free(&acts);
    c->errors = 0;
    if (ap.replied && c->silence_timer) {
        s->host->timer_stop(s->ctx, c->silence_timer);
        c->silence_timer = 0;
        /* The reply answered the message in flight; those queued behind it
         * are still unanswered, and the bot gets a fresh silence_timeout. */
        if (c->head) {
            c->silence_timer = s->host->timer_start(s->ctx, s->silence_ms, 0, silent, c);
            if (!c->silence_timer) {
                char why[] = "bot gateway: no timer for the silence timeout";
                handoff_and_free(c, why);
                return;
            }
        }
    }
    pump(c);
}

static void answered(void *ud, uint64_t call_id, const sb_http_response *res)
{
    (void)call_id;
    bg_conv *c = ud;
    bg_state *s = c->s;
    c->call_id = 0;
    if (res->status == SB_ERR_CANCELLED) return; /* c is being freed */
    char what[200], d[32];
    if (res->status == SB_ERR_TIMEOUT) {
        fmt_duration(d, sizeof d, s->timeout_ms);
        snprintf(what, sizeof what, "bot timeout: no answer within %s", d);
        handoff_and_free(c, what);
        return;
    }
    if (res->status != SB_OK) {
        snprintf(what, sizeof what, "%s",
                 res->status == SB_ERR_TOO_BIG ? "answer over 256 KiB"
                 : res->error                  ? res->error
                                               : s->host->strstatus(res->status));
    } else if (res->http_status < 200 || res->http_status > 299) {
        snprintf(what, sizeof what, "HTTP %ld", res->http_status);
    } else {
        apply_answer(c, res);
        return;
    }
    if (count_error(c, what)) pump(c);
}

/* ---- silence -------------------------------------------------------------- */

static void silent(void *ud, uint64_t timer_id)
{
    (void)timer_id;
    bg_conv *c = ud;
    c->silence_timer = 0;
    char reason[BG_MAX_REASON], d[32];
    fmt_duration(d, sizeof d, c->s->silence_ms);
    if (c->errors)
        snprintf(reason, sizeof reason, "bot silent %s (after %lld error%s, last: %s)", d,
                 (long long)c->errors, c->errors == 1 ? "" : "s", c->last_error);
    else
        snprintf(reason, sizeof reason, "bot silent %s", d);
    handoff_and_free(c, reason);
}

/* ---- events in -------------------------------------------------------------- */

char *bg_snapshot(bg_state *s, const char *conversation_id, sb_status *st)
{
    size_t cap = 16 * 1024, len = 0;
    char *buf = malloc(cap);
    *st = buf ? s->host->conversation_get(s->ctx, conversation_id, buf, cap, &len) : SB_ERR_NOMEM;
    if (*st == SB_ERR_TOO_BIG && len < BG_MAX_SNAPSHOT) {
        char *bigger = realloc(buf, len + 1);
        if (bigger) {
            buf = bigger;
            *st = s->host->conversation_get(s->ctx, conversation_id, buf, len + 1, &len);
        }
    }
    if (*st == SB_OK) return buf;
    free(buf);
    return NULL;
}

sb_status bg_bot_event(void *state, const sb_bot_event *ev)
{
    bg_state *s = state;
    const sb_host *h = s->host;
    if (!ev || !ev->conversation_id) return SB_ERR_INVALID;
    bg_conv *c = find(s, ev->conversation_id);
    char reason[200];
    if (!c && (int64_t)s->n_convs >= s->max_conversations) {
        snprintf(reason, sizeof reason, "bot gateway busy: %lld conversations waiting for the bot",
                 (long long)s->max_conversations);
        bg_force_handoff(s, ev->conversation_id, reason);
        return SB_OK;
    }
    if (c && c->n_queued >= BG_MAX_QUEUED) {
        snprintf(reason, sizeof reason, "bot backlog: %d client messages waiting for the bot",
                 BG_MAX_QUEUED);
        handoff_and_free(c, reason);
        return SB_OK;
    }
    /* Without it the event still carries the ids. */
    sb_status got;
    char *snap = bg_snapshot(s, ev->conversation_id, &got);
    bg_event_in in = {.ev = ev, .bot_instance = h->instance_name(s->ctx), .snapshot = snap,
                      .now_ms = h->now_ms(s->ctx)};
    char *body = bg_event_json(&in);
    free(snap);
    bg_queued *q = body && c ? malloc(sizeof *q) : NULL;
    if (!c && body) c = conv_new(s, ev->conversation_id);
    if (!body || !c || (c->call_id && !q)) {
        /* The core hands off when bot_event fails. */
        free(body);
        free(q);
        if (c && !c->call_id && !c->head && !c->silence_timer) conv_free(c);
        return SB_ERR_NOMEM;
    }
    if (!c->silence_timer) c->silence_timer = h->timer_start(s->ctx, s->silence_ms, 0, silent, c);
    if (!c->silence_timer) {
        /* Without it a silent bot would keep the client waiting forever. */
        free(body);
        free(q);
        if (!c->call_id && !c->head) conv_free(c);
        return SB_ERR_FULL;
    }
    if (c->call_id) {
        q->body = body;
        q->next = NULL;
        if (c->tail) c->tail->next = q;
        else c->head = q;
        c->tail = q;
        c->n_queued++;
        return SB_OK;
    }
    free(q);
    if (post(c, body) && !c->call_id && !c->head && !c->silence_timer) conv_free(c);
    return SB_OK;
}

/* ---- outside news ------------------------------------------------------------ */

void bg_conv_replied(bg_state *s, const char *conversation_id)
{
    bg_conv *c = find(s, conversation_id);
    if (!c) return;
    c->errors = 0;
    if (c->silence_timer) {
        s->host->timer_stop(s->ctx, c->silence_timer);
        c->silence_timer = 0;
    }
    if (!c->call_id && !c->head) conv_free(c);
}

void bg_conv_ended(bg_state *s, const char *conversation_id)
{
    bg_conv *c = find(s, conversation_id);
    if (c) conv_free(c);
}

void bg_conv_event(void *ud, const sb_event *ev)
{
    bg_state *s = ud;
    if (s->n_convs == 0) return;
    json_t *root = json_loadb(ev->json, ev->json_len, 0, NULL);
    json_t *conv = json_object_get(root, "conversation");
    const char *id = json_string_value(json_object_get(conv, "id"));
    const char *status = json_string_value(json_object_get(conv, "status"));
    if (id && status && strcmp(status, "bot") != 0) bg_conv_ended(s, id);
    json_decref(root);
}
