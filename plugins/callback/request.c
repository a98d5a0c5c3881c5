/* The callback form's endpoints under /hooks/callback/<instance>:
 *   GET  /slots[?lang=en]  {"open_now":bool,"slots":[{"at":ms,"label":".."}]}
 *   POST ""                {"phone","name","when":"now"|ms,"id"} -> the
 *                          request is stored as a client message, then 200
 *                          {"message_id","duplicate"}; 4xx names the field.
 * Bodies are JSON sent as text/plain, so a site's page posts them without
 * a CORS preflight. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "cb.h"

#define CB_MAX_SLOTS 200

typedef struct cb_pending {
    struct cb_pending *next;
    cb_state *s;
    uint64_t reply_id;
    char origin[257];
} cb_pending;

static const char *header(const sb_http_request *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0) return r->headers[i].value;
    return NULL;
}

/* The Origin to echo in CORS headers; NULL when none. *ok false when the
 * instance lists origins and this one is not among them. */
static const char *cors_origin(const cb_state *s, const sb_http_request *r, bool *ok)
{
    const char *o = header(r, "Origin");
    *ok = true;
    if (!o || !s->n_origins) return o;
    for (size_t i = 0; i < s->n_origins; i++)
        if (strcmp(s->origins[i], o) == 0) return o;
    *ok = false;
    return NULL;
}

static void reply(cb_state *s, uint64_t reply_id, const char *origin, int status, json_t *j)
{
    sb_header hdr[3] = {{"Cache-Control", "no-store"}};
    size_t n = 1;
    if (origin && strlen(origin) <= 256) {
        hdr[n++] = (sb_header){"Access-Control-Allow-Origin", origin};
        hdr[n++] = (sb_header){"Vary", "Origin"};
    }
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        s->host->http_error(s->ctx, reply_id, 500, "internal", "out of memory");
        return;
    }
    s->host->http_reply(s->ctx, reply_id, status, "application/json; charset=utf-8", hdr, n,
                        text, strlen(text));
    free(text);
}

static void fail(cb_state *s, uint64_t reply_id, const char *origin, int status, const char *code,
                 const char *message)
{
    reply(s, reply_id, origin, status,
          json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message));
}

bool cb_phone_normalize(const char *in, char *out, size_t cap)
{
    size_t digits = 0, o = 0;
    if (!in || strlen(in) > 32 || cap < 22) return false;
    for (const char *p = in; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (++digits > 20) return false;
            out[o++] = *p;
        } else if (*p == '+' && o == 0 && digits == 0) {
            out[o++] = '+';
        } else if (!strchr(" -().", *p)) {
            return false;
        }
    }
    out[o] = 0;
    return digits >= 3;
}

/* A fixed table of addresses; a new address takes the slot whose window
 * started longest ago, so the table never grows. */
static bool rate_ok(cb_state *s, const char *peer)
{
    char ip[64];
    snprintf(ip, sizeof ip, "%s", peer ? peer : "");
    char *colon = strrchr(ip, ':'); /* "ip:port" and "[v6]:port" */
    if (colon) *colon = 0;
    int64_t now = s->host->now_ms(s->ctx);
    cb_rate *oldest = &s->rate[0];
    for (size_t i = 0; i < CB_RATE_SLOTS; i++) {
        cb_rate *r = &s->rate[i];
        if (strcmp(r->ip, ip) == 0) {
            if (now - r->since >= CB_RATE_WINDOW_MS) {
                r->since = now;
                r->count = 0;
            }
            return ++r->count <= s->per_ip;
        }
        if (r->since < oldest->since) oldest = r;
    }
    snprintf(oldest->ip, sizeof oldest->ip, "%s", ip);
    oldest->since = now;
    oldest->count = 1;
    return true;
}

static void on_slots(cb_state *s, const sb_http_request *r, const char *origin)
{
    const char *lang = strstr(r->query, "lang=en") ? "en" : "ru";
    int64_t now = s->host->now_ms(s->ctx), at[CB_MAX_SLOTS];
    /* A slot starting within 5 minutes could not be kept. */
    int n = cb_hours_slots(&s->hours, now, 300000, (int)s->days_ahead, at, CB_MAX_SLOTS);
    json_t *slots = json_array();
    for (int i = 0; i < n; i++) {
        char label[48];
        cb_hours_label(&s->hours, at[i], lang, label, sizeof label);
        json_array_append_new(slots, json_pack("{s:I,s:s}", "at", (json_int_t)at[i], "label", label));
    }
    reply(s, r->reply_id, origin, 200,
          json_pack("{s:b,s:i,s:o}", "open_now", cb_hours_open_at(&s->hours, now),
                    "utc_offset_min", s->hours.offset_min, "slots", slots));
}

static void stored(void *ud, sb_status st, const char *message_id, int duplicate)
{
    cb_pending *p = ud;
    cb_state *s = p->s;
    cb_pending **pp = &s->pending;
    while (*pp && *pp != p) pp = &(*pp)->next;
    if (*pp) *pp = p->next;
    const char *origin = *p->origin ? p->origin : NULL;
    if (st != SB_OK)
        fail(s, p->reply_id, origin, 503, "unavailable", s->host->strstatus(st));
    else
        reply(s, p->reply_id, origin, 200,
              json_pack("{s:s,s:b}", "message_id", message_id, "duplicate", duplicate != 0));
    free(p);
}

void cb_pending_free(cb_state *s)
{
    while (s->pending) {
        cb_pending *p = s->pending;
        s->pending = p->next;
        free(p);
    }
}

static bool id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    return n >= 1 && n <= 64 &&
           strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

static void on_request(cb_state *s, const sb_http_request *r, const char *origin)
{
    const sb_host *h = s->host;
    /* Every attempt counts, valid or not: the limit bounds a flood. */
    if (!rate_ok(s, r->peer)) {
        fail(s, r->reply_id, origin, 429, "rate_limited", "too many requests from this address, retry later");
        return;
    }
    json_t *b = r->body_len && r->body_len <= 8192 ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
    json_t *jw = json_object_get(b, "when"), *jn = json_object_get(b, "name");
    const char *phone_in = json_string_value(json_object_get(b, "phone"));
    const char *name = jn ? json_string_value(jn) : "";
    const char *id = json_string_value(json_object_get(b, "id"));
    char phone[24], rid[33], when[96];
    int64_t now = h->now_ms(s->ctx), at = 0;
    const char *err = NULL;
    int status = 400;
    if (!json_is_object(b)) err = "body: expected a JSON object";
    else if (!cb_phone_normalize(phone_in, phone, sizeof phone))
        err = "phone: 3..20 digits (spaces, +, -, ( ) allowed)";
    else if (!name || strlen(name) > 256) err = "name: a string of at most 256 bytes";
    else if (json_object_get(b, "id") && !id_ok(id)) err = "id: 1..64 of [A-Za-z0-9_-]";
    else if (json_is_string(jw) && strcmp(json_string_value(jw), "now") == 0) {
        if (!cb_hours_open_at(&s->hours, now)) {
            err = "when: we are closed now, pick a time slot";
            status = 422;
        }
    } else if (json_is_integer(jw)) {
        at = (int64_t)json_integer_value(jw);
        if (at <= now || at > now + s->days_ahead * 86400000LL) {
            err = "when: the slot must be in the future, within days_ahead";
            status = 422;
        } else if (!cb_hours_is_slot(&s->hours, at)) {
            err = "when: not a slot within business hours";
            status = 422;
        }
    } else {
        err = "when: \"now\" or a slot's time in ms";
    }
    if (err) {
        json_decref(b);
        fail(s, r->reply_id, origin, status, "bad_request", err);
        return;
    }
    if (!id) { /* without the form's id a retry makes a second request */
        unsigned char x[16];
        if (getrandom(x, sizeof x, 0) != (ssize_t)sizeof x) x[0] = 0;
        for (int i = 0; i < 16; i++) snprintf(rid + 2 * i, 3, "%02x", x[i]);
        id = rid;
    }
    if (at) {
        char label[48];
        cb_hours_label(&s->hours, at, "ru", label, sizeof label);
        int off = s->hours.offset_min < 0 ? -s->hours.offset_min : s->hours.offset_min;
        snprintf(when, sizeof when, "%s (UTC%c%02d:%02d)", label,
                 s->hours.offset_min < 0 ? '-' : '+', off / 60, off % 60);
    } else {
        snprintf(when, sizeof when, "сейчас");
    }
    /* Control characters never reach the operator's screen. */
    char clean[257];
    size_t k = 0;
    for (const char *p = name; *p && k < sizeof clean - 1; p++)
        clean[k++] = (unsigned char)*p < ' ' ? ' ' : *p;
    clean[k] = 0;
    size_t tl = strlen(clean) + strlen(phone) + strlen(when) + 40;
    char *text = malloc(tl), dedup[128];
    cb_pending *p = calloc(1, sizeof *p);
    if (!text || !p) {
        free(text);
        free(p);
        json_decref(b);
        fail(s, r->reply_id, origin, 503, "unavailable", "out of memory");
        return;
    }
    snprintf(text, tl, "Перезвонить: %s, %s", *clean ? clean : phone, when);
    snprintf(dedup, sizeof dedup, "%s:%s", phone, id);
    p->s = s;
    p->reply_id = r->reply_id;
    if (origin && strlen(origin) < sizeof p->origin) strcpy(p->origin, origin);
    sb_inbound in = {.struct_size = sizeof in, .kind = SB_IN_MESSAGE, .external_id = phone,
                     .dedup_key = dedup, .name = *clean ? clean : NULL, .phone = phone,
                     .text = text};
    sb_status st = h->inbound(s->ctx, &in, stored, p);
    free(text);
    json_decref(b);
    if (st == SB_OK) {
        p->next = s->pending;
        s->pending = p;
        return;
    }
    free(p);
    fail(s, r->reply_id, origin, st == SB_ERR_INVALID || st == SB_ERR_TOO_BIG ? 400 : 503,
         st == SB_ERR_INVALID || st == SB_ERR_TOO_BIG ? "bad_request" : "unavailable",
         h->strstatus(st));
}

void cb_http(void *ud, const sb_http_request *r)
{
    cb_state *s = ud;
    bool ok;
    const char *origin = cors_origin(s, r, &ok);
    if (!ok) {
        fail(s, r->reply_id, NULL, 403, "forbidden", "Origin: not allowed");
    } else if (strcmp(r->method, "OPTIONS") == 0) {
        sb_header hdr[] = {{"Access-Control-Allow-Origin", origin ? origin : "*"},
                           {"Access-Control-Allow-Methods", "GET, POST, OPTIONS"},
                           {"Access-Control-Allow-Headers", "Content-Type"}};
        s->host->http_reply(s->ctx, r->reply_id, 204, NULL, hdr, 3, NULL, 0);
    } else if (strcmp(r->method, "GET") == 0 && strcmp(r->subpath, "/slots") == 0) {
        on_slots(s, r, origin);
    } else if (strcmp(r->method, "POST") == 0 && *r->subpath == 0) {
        on_request(s, r, origin);
    } else {
        fail(s, r->reply_id, origin, 404, "not_found", "POST the form here, or GET /slots");
    }
}
