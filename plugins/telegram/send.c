/* Outbound: one stored message -> one or more Bot API calls (attachments
 * by URL, then the text cut at 4096, the buttons on the last call), paced
 * inside the plugin as Telegram asks: one call per chat per second, 30 per
 * second in all. The queue is bounded so that every accepted send reports
 * well before the core's send deadline; past the bound a send is answered
 * SB_SEND_RETRY with the wait as retry_after. A message whose first parts
 * went out keeps its progress in kv, so a retry sends only the rest. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg.h"
#include "wire.h"

#define QUEUE_MAX 1000        /* messages waiting or running */
#define MAX_WAIT_MS 30000     /* estimated wait past which a send is refused */
#define CHAT_GAP_MS 1000
#define GLOBAL_PER_S 30
#define MAX_RESPONSE (256 * 1024)

typedef struct tg_part {
    const char *method;
    char *body;
} tg_part;

struct tg_chat {
    tg_chat *next;
    int64_t id;
    int64_t next_ms;  /* no call to this chat before */
    size_t jobs;      /* messages queued for it */
    size_t parts;     /* calls still to make for them */
    bool busy;        /* a call to it is running */
    uint64_t mark;    /* pump pass that saw its first message */
};

struct tg_job {
    tg_job *next;
    tg_state *s;
    uint64_t op;
    tg_chat *chat;
    tg_part *parts;
    size_t n, at;          /* calls, and the next to make */
    char key[96];          /* kv progress key, "" when one call */
    char remote[24];       /* message_id of the last call that went out */
    uint64_t call;
    sb_send_status status; /* for a deferred report */
    char error[300];
    uint64_t retry_ms;
};

/* ---- chats ---------------------------------------------------------------- */

static tg_chat *chat_get(tg_state *s, int64_t id, bool create)
{
    for (tg_chat *c = s->chats; c; c = c->next)
        if (c->id == id) return c;
    tg_chat *c = create ? calloc(1, sizeof *c) : NULL;
    if (c) {
        c->id = id;
        c->next = s->chats;
        s->chats = c;
    }
    return c;
}

/* Chats with nothing queued whose gap has passed are forgotten. */
static void chats_prune(tg_state *s, int64_t now)
{
    for (tg_chat **p = &s->chats; *p;) {
        tg_chat *c = *p;
        if (!c->jobs && !c->busy && c->next_ms <= now) {
            *p = c->next;
            free(c);
        } else {
            p = &c->next;
        }
    }
}

/* ---- jobs ------------------------------------------------------------------ */

static void job_free(tg_job *j)
{
    for (size_t i = 0; i < j->n; i++) free(j->parts[i].body);
    free(j->parts);
    free(j);
}

static void unqueue(tg_state *s, tg_job *j)
{
    for (tg_job **p = &s->jobs; *p; p = &(*p)->next)
        if (*p == j) {
            *p = j->next;
            if (!*p) s->jobs_tail = p;
            break;
        }
    s->n_jobs--;
    if (j->chat) {
        j->chat->jobs--;
        j->chat->parts -= j->n - j->at;
    }
}

static void progress_save(tg_state *s, tg_job *j)
{
    char val[48];
    int n = snprintf(val, sizeof val, "%zu %s", j->at, j->remote);
    if (!j->key[0]) return;
    sb_status st = s->h->kv_put(s->ctx, j->key, strlen(j->key), val, (size_t)n, NULL, NULL);
    if (st != SB_OK)
        tg_log(s, SB_LOG_WARN, "progress of %s not saved (%s): a retry may repeat parts",
               j->key, s->h->strstatus(st));
}

static void progress_load(tg_state *s, tg_job *j)
{
    char val[48];
    size_t len = 0;
    if (!j->key[0] || s->h->kv_get(s->ctx, j->key, strlen(j->key), val, sizeof val - 1, &len) != SB_OK)
        return;
    val[len] = '\0';
    char *sp = strchr(val, ' ');
    size_t at = strtoul(val, NULL, 10);
    if (!sp || at == 0 || at >= j->n) return;
    j->at = at;
    snprintf(j->remote, sizeof j->remote, "%s", sp + 1);
}

/* Reports the outcome and forgets the job (after send() returned). */
static void finish(tg_state *s, tg_job *j, sb_send_status st, uint64_t retry_ms, const char *err)
{
    unqueue(s, j);
    if (j->key[0] && st != SB_SEND_RETRY) s->h->kv_del(s->ctx, j->key, strlen(j->key), NULL, NULL);
    if (st == SB_SENT) s->h->metric_add(s->ctx, "messages_sent", 1);
    else s->h->metric_add(s->ctx, "send_errors", 1);
    sb_status r = s->h->send_result(s->ctx, j->op, st, st == SB_SENT ? j->remote : NULL,
                                    retry_ms, err);
    if (r != SB_OK)
        tg_log(s, SB_LOG_WARN, "send_result for op %" PRIu64 ": %s", j->op, s->h->strstatus(r));
    job_free(j);
}

/* ---- results ------------------------------------------------------------------ */

/* The Bot API's answer as a send outcome. */
static sb_send_status classify(const sb_http_response *res, const tg_result *r, uint64_t *retry_ms)
{
    *retry_ms = 0;
    if (res->status != SB_OK) return SB_SEND_RETRY; /* network, timeout */
    if (r->ok) return SB_SENT;
    switch (r->code) {
    case 429:
        *retry_ms = r->retry_after_s * 1000;
        return SB_SEND_RETRY;
    case 403: /* blocked by the user, user deactivated, kicked: the client is gone */
        return SB_SEND_UNREACHABLE;
    case 400:
        return SB_SEND_FAILED;
    case 401: /* the token: fixable in config, so not the message's fault */
    case 404:
    case 408:
        return SB_SEND_RETRY;
    default:
        return r->code >= 500 || r->code < 400 ? SB_SEND_RETRY : SB_SEND_FAILED;
    }
}

static void pump(tg_state *s);

static void sent(void *ud, uint64_t id, const sb_http_response *res)
{
    (void)id;
    tg_job *j = ud;
    tg_state *s = j->s;
    j->call = 0;
    j->chat->busy = false;
    if (res->status == SB_ERR_CANCELLED) return; /* stopping: tg_send_stop reports it */
    tg_result r;
    tg_parse_result(res->body, res->body_len, res->http_status, &r);
    uint64_t retry_ms;
    sb_send_status st = classify(res, &r, &retry_ms);
    if (st == SB_SENT) {
        json_t *mid = json_object_get(r.result, "message_id");
        if (json_is_integer(mid))
            snprintf(j->remote, sizeof j->remote, "%" JSON_INTEGER_FORMAT, json_integer_value(mid));
        j->at++;
        j->chat->parts--;
        if (j->at < j->n) progress_save(s, j);
        else finish(s, j, SB_SENT, 0, NULL);
    } else {
        char why[400];
        tg_describe(s, res, r.description, why, sizeof why);
        if (retry_ms) { /* flood control: later messages to this chat wait too */
            int64_t until = s->h->now_ms(s->ctx) + (int64_t)retry_ms;
            if (until > j->chat->next_ms) j->chat->next_ms = until;
        }
        if (r.code == 401 || r.code == 404)
            tg_log(s, SB_LOG_ERROR, "%s: the Bot API refused the token (%s); check `token`",
                   j->parts[j->at].method, why);
        else
            tg_log(s, SB_LOG_DEBUG, "%s to %" PRId64 ": %s", j->parts[j->at].method, j->chat->id,
                   why);
        finish(s, j, st, retry_ms, why);
    }
    tg_result_free(&r);
    pump(s);
}

/* ---- pacing ------------------------------------------------------------------ */

static void pump_fire(void *ud, uint64_t id)
{
    (void)id;
    tg_state *s = ud;
    s->pump_timer = 0;
    pump(s);
}

static void pump_at(tg_state *s, int64_t due)
{
    if (s->pump_timer && s->pump_due <= due) return;
    if (s->pump_timer) s->h->timer_stop(s->ctx, s->pump_timer);
    int64_t now = s->h->now_ms(s->ctx);
    s->pump_due = due;
    s->pump_timer = s->h->timer_start(s->ctx, due > now ? (uint64_t)(due - now) : 0, 0, pump_fire, s);
    if (!s->pump_timer) tg_log(s, SB_LOG_ERROR, "no timer: sending stalls until the next send");
}

static bool start_call(tg_state *s, tg_job *j, int64_t now)
{
    const tg_part *p = &j->parts[j->at];
    j->call = tg_api_call(s, p->method, p->body, TG_API_TIMEOUT_MS, MAX_RESPONSE, sent, j);
    if (!j->call) return false;
    j->chat->busy = true;
    j->chat->next_ms = now + CHAT_GAP_MS;
    s->recent[s->recent_at] = now;
    s->recent_at = (s->recent_at + 1) % GLOBAL_PER_S;
    return true;
}

/* Starts every call allowed now: the first waiting message of each chat,
 * when the chat's gap and the global rate allow; sleeps until the next. */
static void pump(tg_state *s)
{
    if (!s->running) return;
    int64_t now = s->h->now_ms(s->ctx), wake = INT64_MAX;
    uint64_t pass = ++s->pump_pass;
    for (tg_job *j = s->jobs, *next; j; j = next) {
        next = j->next;
        tg_chat *c = j->chat;
        if (c->mark == pass) continue; /* an earlier message to this chat goes first */
        c->mark = pass;
        if (c->busy) continue;
        int64_t global = s->recent[s->recent_at] + 1000; /* the oldest of the last 30 */
        int64_t due = c->next_ms > global ? c->next_ms : global;
        if (due > now) {
            if (due < wake) wake = due;
            continue;
        }
        if (!start_call(s, j, now)) finish(s, j, SB_SEND_RETRY, 0, "the request could not start");
    }
    chats_prune(s, now);
    if (wake != INT64_MAX) pump_at(s, wake);
}

/* ---- deferred reports (send() must return before send_result) ---------------- */

static void report_fire(void *ud, uint64_t id)
{
    (void)id;
    tg_state *s = ud;
    s->report_timer = 0;
    while (s->reports) {
        tg_job *j = s->reports;
        s->reports = j->next;
        s->h->send_result(s->ctx, j->op, j->status, NULL, j->retry_ms, j->error);
        job_free(j);
    }
}

/* ACCEPTED with the outcome reported from a 0 ms timer; REJECTED when even
 * that is impossible. */
static sb_send_accept defer(tg_state *s, uint64_t op, sb_send_status st, uint64_t retry_ms,
                            const char *error)
{
    tg_job *j = calloc(1, sizeof *j);
    if (!j) return SB_SEND_REJECTED;
    if (!s->report_timer) s->report_timer = s->h->timer_start(s->ctx, 0, 0, report_fire, s);
    if (!s->report_timer) {
        free(j);
        return SB_SEND_REJECTED;
    }
    j->op = op;
    j->status = st;
    j->retry_ms = retry_ms;
    snprintf(j->error, sizeof j->error, "%s", error);
    j->next = s->reports;
    s->reports = j;
    return SB_SEND_ACCEPTED;
}

/* ---- send() --------------------------------------------------------------------- */

typedef enum { BUILD_OK, BUILD_NOTHING, BUILD_BAD, BUILD_NOMEM, BUILD_KV } build_rc;

static build_rc build(tg_state *s, const sb_outbound *m, int64_t chat, tg_job *j)
{
    size_t tlen = m->text ? strlen(m->text) : 0;
    size_t nspan = tlen ? tg_split(m->text, tlen, TG_TEXT_MAX, NULL, 0) : 0;
    size_t total = m->n_attachments + nspan;
    if (total == 0) return BUILD_NOTHING;
    tg_span *spans = nspan ? calloc(nspan, sizeof *spans) : NULL;
    tg_button_out *btn = m->n_buttons ? calloc(m->n_buttons, sizeof *btn) : NULL;
    char(*data)[TG_DATA_MAX + 1] = m->n_buttons ? calloc(m->n_buttons, sizeof *data) : NULL;
    j->parts = calloc(total, sizeof *j->parts);
    build_rc rc = BUILD_OK;
    if ((nspan && !spans) || (m->n_buttons && (!btn || !data)) || !j->parts) rc = BUILD_NOMEM;
    for (size_t i = 0; rc == BUILD_OK && i < m->n_buttons; i++) {
        const sb_button *b = &m->buttons[i];
        int k;
        if (!b->id || !*b->id || !b->title || !*b->title) rc = BUILD_BAD;
        else if ((k = tg_key_for(s, b->id, data[i], sizeof data[i])) != 0)
            rc = k == -2 ? BUILD_BAD : BUILD_KV;
        btn[i] = (tg_button_out){b->title, data[i]};
    }
    if (rc == BUILD_OK && nspan) tg_split(m->text, tlen, TG_TEXT_MAX, spans, nspan);
    for (size_t i = 0; rc == BUILD_OK && i < total; i++) {
        bool last = i + 1 == total;
        tg_part *p = &j->parts[i];
        if (i < m->n_attachments) {
            const sb_attachment *a = &m->attachments[i];
            bool photo = a->kind && strcmp(a->kind, "image") == 0;
            if (!a->ref || !*a->ref) {
                rc = BUILD_BAD;
                break;
            }
            p->method = photo ? "sendPhoto" : "sendDocument";
            p->body = tg_json_send_media(chat, photo ? "photo" : "document", a->ref, btn,
                                         last ? m->n_buttons : 0);
        } else {
            const tg_span *sp = &spans[i - m->n_attachments];
            p->method = "sendMessage";
            p->body = tg_json_send_message(chat, m->text + sp->off, sp->len, btn,
                                           last ? m->n_buttons : 0);
        }
        j->n = i + 1; /* parts to free */
        if (!p->body) rc = BUILD_NOMEM;
    }
    free(spans);
    free(btn);
    free(data);
    return rc;
}

static size_t queued_parts(tg_state *s)
{
    size_t n = 0;
    for (tg_job *j = s->jobs; j; j = j->next) n += j->n - j->at;
    return n;
}

sb_send_accept tg_send(void *state, const sb_outbound *m, uint64_t op)
{
    tg_state *s = state;
    int64_t chat;
    if (!m->external_id || tg_parse_chat(m->external_id, &chat) != 0) {
        tg_log(s, SB_LOG_WARN, "message %s: recipient %.40s is not a Telegram chat id",
               m->message_id ? m->message_id : "?", m->external_id ? m->external_id : "(none)");
        return SB_SEND_REJECTED;
    }
    tg_job *j = calloc(1, sizeof *j);
    if (!j) return defer(s, op, SB_SEND_RETRY, 0, "out of memory");
    j->s = s;
    j->op = op;
    build_rc rc = build(s, m, chat, j);
    if (rc != BUILD_OK) {
        job_free(j);
        if (rc == BUILD_NOTHING || rc == BUILD_BAD) {
            tg_log(s, SB_LOG_WARN, "message %s: %s", m->message_id ? m->message_id : "?",
                   rc == BUILD_BAD ? "a button or attachment without id, title or URL, "
                                                    "or a button id over 290 bytes"
                                   : "nothing Telegram can carry (no text, no attachment)");
            return SB_SEND_REJECTED;
        }
        return defer(s, op, SB_SEND_RETRY, 0,
                     rc == BUILD_KV ? "button keys could not be stored" : "out of memory");
    }
    /* bounds: every accepted message must be reported well within the
     * core's send deadline */
    int64_t now = s->h->now_ms(s->ctx);
    tg_chat *c = chat_get(s, chat, false);
    uint64_t chat_wait = c && c->parts ? c->parts * CHAT_GAP_MS +
                                         (c->next_ms > now ? (uint64_t)(c->next_ms - now) : 0)
                                       : 0;
    uint64_t global_wait = (uint64_t)queued_parts(s) * 1000 / GLOBAL_PER_S;
    uint64_t wait = chat_wait > global_wait ? chat_wait : global_wait;
    if (s->n_jobs >= QUEUE_MAX || (wait && wait + (j->n - 1) * CHAT_GAP_MS >= MAX_WAIT_MS)) {
        job_free(j);
        char why[120];
        snprintf(why, sizeof why, "the Telegram send queue is full; retry in %" PRIu64 " ms",
                 wait ? wait : 1000);
        return defer(s, op, SB_SEND_RETRY, wait ? wait : 1000, why);
    }
    if (!c && !(c = chat_get(s, chat, true))) {
        job_free(j);
        return defer(s, op, SB_SEND_RETRY, 0, "out of memory");
    }
    if (j->n > 1 && m->message_id) {
        snprintf(j->key, sizeof j->key, "part:%.80s", m->message_id);
        progress_load(s, j);
    }
    j->chat = c;
    c->jobs++;
    c->parts += j->n - j->at;
    *s->jobs_tail = j;
    s->jobs_tail = &j->next;
    s->n_jobs++;
    pump_at(s, now); /* from a timer: a call failing to start reports at once */
    return SB_SEND_ACCEPTED;
}

void tg_send_stop(tg_state *s)
{
    if (s->pump_timer) s->h->timer_stop(s->ctx, s->pump_timer);
    s->pump_timer = 0;
    while (s->jobs) {
        tg_job *j = s->jobs;
        if (j->call) s->h->http_cancel(s->ctx, j->call); /* its done only clears the call */
        /* a later start sends it (or its remaining parts) again */
        finish(s, j, SB_SEND_RETRY, 0, "the Telegram channel stopped before it was sent");
    }
    if (s->report_timer) s->h->timer_stop(s->ctx, s->report_timer);
    report_fire(s, 0);
}

void tg_send_free(tg_state *s)
{
    while (s->jobs) {
        tg_job *j = s->jobs;
        s->jobs = j->next;
        job_free(j);
    }
    s->jobs_tail = &s->jobs;
    s->n_jobs = 0;
    while (s->reports) {
        tg_job *j = s->reports;
        s->reports = j->next;
        job_free(j);
    }
    while (s->chats) {
        tg_chat *c = s->chats;
        s->chats = c->next;
        free(c);
    }
}
