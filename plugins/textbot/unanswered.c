/* Questions the bot found no good article for, for the KB editors: a ring
 * of unanswered_keep entries, slot = seq % capacity, each slot persisted
 * as kv "u/<slot>" = {"seq","at","q","c"} (one small write per question). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textbot.h"

static void slot_clear(tbp_question *q)
{
    free(q->text);
    free(q->conversation_id);
    memset(q, 0, sizeof *q);
}

sb_status tbp_unanswered_load(textbot *b)
{
    b->uq_cap = (size_t)b->unanswered_keep;
    b->uq = calloc(b->uq_cap, sizeof *b->uq);
    if (!b->uq) return SB_ERR_NOMEM;
    char val[8192];   /* a slot is <= 6 x (512 + 128) bytes escaped, plus keys */
    for (size_t i = 0; i < b->uq_cap; i++) {
        char key[32];
        size_t len = 0;
        snprintf(key, sizeof key, "u/%zu", i);
        if (b->host->kv_get(b->ctx, key, strlen(key), val, sizeof val, &len) != SB_OK) continue;
        json_t *o = json_loadb(val, len, 0, NULL);
        json_int_t seq = json_integer_value(json_object_get(o, "seq"));
        const char *q = json_string_value(json_object_get(o, "q"));
        const char *c = json_string_value(json_object_get(o, "c"));
        tbp_question *slot = &b->uq[(uint64_t)seq % b->uq_cap];
        if (seq > 0 && q && c && (uint64_t)seq > slot->seq) {
            slot_clear(slot);
            slot->seq = (uint64_t)seq;
            slot->at_ms = json_integer_value(json_object_get(o, "at"));
            slot->text = tbp_strndup_utf8(q, TBP_LOGGED_MAX);
            slot->conversation_id = tbp_strndup_utf8(c, TBP_CONV_ID_MAX);
            if (!slot->text || !slot->conversation_id) slot_clear(slot);
            if ((uint64_t)seq > b->uq_seq) b->uq_seq = (uint64_t)seq;
        }
        json_decref(o);
    }
    return SB_OK;
}

void tbp_unanswered_free(textbot *b)
{
    for (size_t i = 0; i < b->uq_cap; i++) slot_clear(&b->uq[i]);
    free(b->uq);
    b->uq = NULL;
    b->uq_cap = 0;
}

void tbp_unanswered_add(textbot *b, const char *question, const char *conversation_id)
{
    uint64_t seq = b->uq_seq + 1;
    size_t si = seq % b->uq_cap;
    tbp_question *slot = &b->uq[si];
    char *text = tbp_strndup_utf8(question, TBP_LOGGED_MAX);
    char *conv = tbp_strndup_utf8(conversation_id, TBP_CONV_ID_MAX);
    int64_t at = b->host->now_ms(b->ctx);
    json_t *o = text && conv ? json_pack("{s:I, s:I, s:s, s:s}", "seq", (json_int_t)seq,
                                         "at", (json_int_t)at, "q", text, "c", conv)
                             : NULL;
    char *val = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!val) {
        /* jansson refuses invalid UTF-8; the ring only keeps what it can show */
        free(text);
        free(conv);
        return;
    }
    slot_clear(slot);
    b->uq_seq = seq;
    slot->seq = seq;
    slot->at_ms = at;
    slot->text = text;
    slot->conversation_id = conv;
    char key[32];
    snprintf(key, sizeof key, "u/%zu", si);
    sb_status st = b->host->kv_put(b->ctx, key, strlen(key), val, strlen(val), NULL, NULL);
    if (st != SB_OK)
        b->host->log(b->ctx, SB_LOG_WARN, "unanswered question not stored: %s",
                     b->host->strstatus(st));
    free(val);
}

char *tbp_unanswered_json(const textbot *b, uint64_t before, size_t limit)
{
    json_t *items = json_array();
    json_t *root = json_pack("{s:o, s:n}", "items", items, "next_cursor");
    if (!root) return NULL;
    uint64_t top = before && before - 1 < b->uq_seq ? before - 1 : b->uq_seq;
    uint64_t low = b->uq_seq > b->uq_cap ? b->uq_seq - b->uq_cap + 1 : 1;
    uint64_t last = 0;
    for (uint64_t s = top; s >= low && s > 0; s--) {
        const tbp_question *q = &b->uq[s % b->uq_cap];
        if (q->seq != s) continue;
        if (json_array_size(items) == limit) {
            /* there is at least one more: the page ends at `last` */
            char cur[24];
            snprintf(cur, sizeof cur, "%llu", (unsigned long long)last);
            json_object_set_new(root, "next_cursor", json_string(cur));
            break;
        }
        char id[24], at[32];
        snprintf(id, sizeof id, "%llu", (unsigned long long)s);
        tbp_rfc3339(q->at_ms, at);
        json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s}", "id", id, "question",
                                               q->text, "conversation_id", q->conversation_id,
                                               "created_at", at));
        last = s;
    }
    char *out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return out;
}
