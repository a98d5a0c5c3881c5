/* What the plugin keeps in its kv besides the poll offset:
 *  - button ids that do not fit callback_data (64 bytes) as short keys
 *    "k<n>": "btn:k<n>" -> id and "btnid:<id>" -> "k<n>" (so a menu sent
 *    again reuses its keys); n wraps at TG_KEYS_MAX, the slot's old id is
 *    forgotten then;
 *  - which update carried a message, so that an edit names the original's
 *    dedup key: TG_EDIT_SLOTS slots by hash, a newer message replacing an
 *    older one in its slot (an edit of a forgotten message is stored
 *    without its link). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg.h"

#define TG_KEYS_MAX 1000000u
#define TG_EDIT_SLOTS (1u << 20)
#define KV_KEY_MAX 400

static int kv_get_str(tg_state *s, const char *key, char *out, size_t cap)
{
    size_t len = 0;
    if (s->h->kv_get(s->ctx, key, strlen(key), out, cap - 1, &len) != SB_OK) return -1;
    out[len] = '\0';
    return 0;
}

static sb_status kv_put_str(tg_state *s, const char *key, const char *val)
{
    return s->h->kv_put(s->ctx, key, strlen(key), val, strlen(val), NULL, NULL);
}

int tg_key_is_mapped(const char *data)
{
    size_t n = strlen(data);
    return n >= 2 && n <= 11 && data[0] == 'k' && strspn(data + 1, "0123456789") == n - 1;
}

void tg_key_load(tg_state *s)
{
    char buf[32];
    s->key_seq = kv_get_str(s, "keyseq", buf, sizeof buf) == 0 ? strtoull(buf, NULL, 10) : 0;
}

int tg_key_for(tg_state *s, const char *id, char *out, size_t cap)
{
    size_t len = strlen(id);
    if (len <= TG_DATA_MAX && !tg_key_is_mapped(id)) {
        snprintf(out, cap, "%s", id);
        return 0;
    }
    char rkey[KV_KEY_MAX + 1], key[32], fkey[40], held[300];
    if (len + 6 > KV_KEY_MAX || len >= sizeof held) return -2;
    snprintf(rkey, sizeof rkey, "btnid:%s", id);
    /* the same id had a key already, and that key still means it */
    if (kv_get_str(s, rkey, key, sizeof key) == 0 && tg_key_is_mapped(key)) {
        snprintf(fkey, sizeof fkey, "btn:%s", key);
        if (kv_get_str(s, fkey, held, sizeof held) == 0 && strcmp(held, id) == 0) {
            snprintf(out, cap, "%s", key);
            return 0;
        }
    }
    uint64_t seq = s->key_seq + 1;
    snprintf(key, sizeof key, "k%" PRIu64, (seq - 1) % TG_KEYS_MAX + 1);
    snprintf(fkey, sizeof fkey, "btn:%s", key);
    if (kv_get_str(s, fkey, held, sizeof held) == 0) { /* the slot is reused */
        char old[KV_KEY_MAX + 1];
        snprintf(old, sizeof old, "btnid:%s", held);
        s->h->kv_del(s->ctx, old, strlen(old), NULL, NULL);
    }
    char seqs[24];
    snprintf(seqs, sizeof seqs, "%" PRIu64, seq);
    if (kv_put_str(s, fkey, id) != SB_OK || kv_put_str(s, rkey, key) != SB_OK ||
        kv_put_str(s, "keyseq", seqs) != SB_OK)
        return -1;
    s->key_seq = seq;
    snprintf(out, cap, "%s", key);
    return 0;
}

void tg_key_lookup(tg_state *s, const char *data, char *out, size_t cap)
{
    if (tg_key_is_mapped(data)) {
        char fkey[40];
        snprintf(fkey, sizeof fkey, "btn:%s", data);
        if (kv_get_str(s, fkey, out, cap) == 0) return;
        tg_log(s, SB_LOG_WARN, "button key %s is unknown (forgotten or never sent); "
               "passing it on as the button id", data);
    }
    snprintf(out, cap, "%s", data);
}

static uint64_t edit_slot(int64_t chat, int64_t message_id)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    uint64_t v[2] = {(uint64_t)chat, (uint64_t)message_id};
    for (int i = 0; i < 2; i++)
        for (int b = 0; b < 8; b++) {
            h ^= (v[i] >> (8 * b)) & 0xFF;
            h *= 1099511628211ull;
        }
    return h % TG_EDIT_SLOTS;
}

void tg_edit_remember(tg_state *s, int64_t chat, int64_t message_id, const char *dedup_key)
{
    char key[32], val[96];
    snprintf(key, sizeof key, "edit:%" PRIu64, edit_slot(chat, message_id));
    snprintf(val, sizeof val, "%" PRId64 ":%" PRId64 " %s", chat, message_id, dedup_key);
    sb_status st = kv_put_str(s, key, val);
    if (st != SB_OK)
        tg_log(s, SB_LOG_WARN, "edits of message %" PRId64 " will not link to it: %s",
               message_id, s->h->strstatus(st));
}

void tg_edit_lookup(tg_state *s, int64_t chat, int64_t message_id, char *out, size_t cap)
{
    char key[32], val[96], want[48];
    snprintf(key, sizeof key, "edit:%" PRIu64, edit_slot(chat, message_id));
    snprintf(want, sizeof want, "%" PRId64 ":%" PRId64 " ", chat, message_id);
    if (kv_get_str(s, key, val, sizeof val) == 0 && strncmp(val, want, strlen(want)) == 0) {
        snprintf(out, cap, "%s", val + strlen(want));
        return;
    }
    snprintf(out, cap, "m%" PRId64 ":%" PRId64, chat, message_id);
}
