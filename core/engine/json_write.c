#include "engine/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Messages written straight into a text buffer, byte for byte what
 * json_dumps(sb_eng_msg_json(m), JSON_COMPACT) gives (test_json_write
 * checks it), without building a jansson object per message: a page of 50
 * messages is the API's hottest read, and building objects cost most of it. */

static void grow(sb_eng_jw *w, size_t more)
{
    if (w->oom || w->n + more + 1 <= w->cap) return;
    size_t cap = w->cap ? w->cap : 1024;
    while (cap < w->n + more + 1) cap *= 2;
    char *p = realloc(w->p, cap);
    if (!p) { w->oom = true; return; }
    w->p = p;
    w->cap = cap;
}

void sb_eng_jw_raw(sb_eng_jw *w, const char *s, size_t n)
{
    grow(w, n);
    if (w->oom) return;
    memcpy(w->p + w->n, s, n);
    w->n += n;
    w->p[w->n] = '\0';
}

static void lit(sb_eng_jw *w, const char *s) { sb_eng_jw_raw(w, s, strlen(s)); }

/* jansson's escaping: " \ and control characters; UTF-8 as it is. */
static void escaped(sb_eng_jw *w, const char *s, size_t n)
{
    grow(w, n + 2);
    sb_eng_jw_raw(w, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') { run++; continue; }
        sb_eng_jw_raw(w, s + i - run, run);
        run = 0;
        char seq[8];
        switch (c) {
        case '"': lit(w, "\\\""); break;
        case '\\': lit(w, "\\\\"); break;
        case '\b': lit(w, "\\b"); break;
        case '\f': lit(w, "\\f"); break;
        case '\n': lit(w, "\\n"); break;
        case '\r': lit(w, "\\r"); break;
        case '\t': lit(w, "\\t"); break;
        default:
            snprintf(seq, sizeof seq, "\\u%04X", c);
            lit(w, seq);
        }
    }
    sb_eng_jw_raw(w, s + n - run, run);
    sb_eng_jw_raw(w, "\"", 1);
}

void sb_eng_jw_str(sb_eng_jw *w, const char *s)
{
    if (!s) { lit(w, "null"); return; }
    size_t n = strlen(s);
    if (sb_eng_utf8_valid(s, n)) { escaped(w, s, n); return; }
    char *clean = sb_eng_sanitize(s, n); /* as sb_eng_json_str does */
    if (!clean) { w->oom = true; return; }
    escaped(w, clean, strlen(clean));
    free(clean);
}

void sb_eng_jw_id(sb_eng_jw *w, uint64_t id)
{
    char buf[24];
    if (!id) { lit(w, "null"); return; }
    buf[0] = '"';
    sb_id_str(id, buf + 1);
    size_t n = strlen(buf);
    buf[n] = '"';
    sb_eng_jw_raw(w, buf, n + 1);
}

void sb_eng_jw_time(sb_eng_jw *w, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms <= 0 || !gmtime_r(&t, &tm)) { lit(w, "null"); return; }
    char buf[48];
    size_t n = strftime(buf, sizeof buf, "\"%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof buf - n, ".%03dZ\"", (int)(ms % 1000));
    lit(w, buf);
}

/* "{" and the first key */
static void obj(sb_eng_jw *w, const char *k)
{
    sb_eng_jw_raw(w, "{\"", 2);
    lit(w, k);
    sb_eng_jw_raw(w, "\":", 2);
}

static void key(sb_eng_jw *w, const char *k, bool first)
{
    if (!first) sb_eng_jw_raw(w, ",", 1);
    sb_eng_jw_raw(w, "\"", 1);
    lit(w, k);
    sb_eng_jw_raw(w, "\":", 2);
}

void sb_eng_jw_msg(sb_eng_jw *w, const sb_eng_msg *m)
{
    obj(w, "id");
    sb_eng_jw_id(w, m->id);
    key(w, "conversation_id", false);
    sb_eng_jw_id(w, m->conv_id);
    key(w, "client_id", false);
    sb_eng_jw_id(w, m->client_id);
    key(w, "channel", false);
    sb_eng_jw_str(w, m->plugin);
    key(w, "instance", false);
    sb_eng_jw_str(w, m->instance);
    key(w, "direction", false);
    sb_eng_jw_str(w, m->direction);
    key(w, "author", false);
    obj(w, "kind");
    sb_eng_jw_str(w, m->author_kind);
    key(w, "id", false);
    sb_eng_jw_str(w, m->author_id);
    sb_eng_jw_raw(w, "}", 1);
    key(w, "type", false);
    sb_eng_jw_str(w, m->type);
    key(w, "text", false);
    sb_eng_jw_str(w, m->text);
    key(w, "buttons", false);
    sb_eng_jw_raw(w, "[", 1);
    for (size_t i = 0; i < m->n_buttons; i++) {
        if (i) sb_eng_jw_raw(w, ",", 1);
        obj(w, "id");
        sb_eng_jw_str(w, m->buttons[i].id);
        key(w, "title", false);
        sb_eng_jw_str(w, m->buttons[i].title);
        sb_eng_jw_raw(w, "}", 1);
    }
    sb_eng_jw_raw(w, "]", 1);
    key(w, "attachments", false);
    sb_eng_jw_raw(w, "[", 1);
    for (size_t i = 0; i < m->n_atts; i++) {
        const sb_attachment *a = &m->atts[i];
        if (i) sb_eng_jw_raw(w, ",", 1);
        obj(w, "kind");
        sb_eng_jw_str(w, a->kind);
        key(w, "url", false);
        sb_eng_jw_str(w, a->ref);
        key(w, "name", false);
        sb_eng_jw_str(w, a->name);
        key(w, "mime", false);
        sb_eng_jw_str(w, a->mime);
        key(w, "size", false);
        char num[24];
        snprintf(num, sizeof num, "%lld", (long long)(a->size > INT64_MAX ? INT64_MAX : a->size));
        lit(w, a->size ? num : "null");
        sb_eng_jw_raw(w, "}", 1);
    }
    sb_eng_jw_raw(w, "]", 1);
    if (m->button_id) {
        key(w, "button_id", false);
        sb_eng_jw_str(w, m->button_id);
    }
    if (m->event) {
        key(w, "event", false);
        sb_eng_jw_str(w, m->event);
        if (strcmp(m->event, "edit") == 0) {
            key(w, "edit_of", false);
            sb_eng_jw_id(w, m->edit_of);
        }
    }
    key(w, "created_at", false);
    sb_eng_jw_time(w, m->created_at);
    key(w, "sent_at", false);
    sb_eng_jw_time(w, m->sent_at);
    key(w, "delivery", false);
    if (m->delivery_status) {
        obj(w, "status");
        sb_eng_jw_str(w, m->delivery_status);
        key(w, "error", false);
        sb_eng_jw_str(w, m->delivery_error);
        sb_eng_jw_raw(w, "}", 1);
    } else {
        lit(w, "null");
    }
    sb_eng_jw_raw(w, "}", 1);
}
