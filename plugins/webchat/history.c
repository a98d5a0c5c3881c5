/* A visitor's history in the instance's kv ("h:<vid>"), because a plugin
 * cannot read the core's: the messages in and out, newest last, bounded by
 * history_max items and WC_HISTORY_BYTES of JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wc.h"

#define WC_HISTORY_BYTES (512u * 1024u)

static int key_of(const char *vid, char key[8 + WC_VID_HEX])
{
    return snprintf(key, 8 + WC_VID_HEX, "h:%s", vid);
}

json_t *wc_history_load(wc_state *s, const char *vid)
{
    char key[8 + WC_VID_HEX];
    int kl = key_of(vid, key);
    size_t len = 0, cap = 16384;
    char *buf = malloc(cap);
    sb_status st = buf ? s->host->kv_get(s->ctx, key, (size_t)kl, buf, cap, &len) : SB_ERR_NOMEM;
    if (st == SB_ERR_TOO_BIG) {
        char *b = realloc(buf, cap = len);
        st = b ? s->host->kv_get(s->ctx, key, (size_t)kl, buf = b, cap, &len) : SB_ERR_NOMEM;
    }
    json_t *h = NULL;
    if (st == SB_ERR_NOT_FOUND) h = json_pack("{s:I,s:[]}", "seq", (json_int_t)0, "items");
    else if (st == SB_OK) h = json_loadb(buf, len, 0, NULL);
    free(buf);
    if (h && (!json_is_integer(json_object_get(h, "seq")) ||
              !json_is_array(json_object_get(h, "items")))) {
        json_decref(h);
        h = NULL;
    }
    if (!h) s->host->log(s->ctx, SB_LOG_ERROR, "history of a visitor unreadable: %s",
                         s->host->strstatus(st == SB_OK ? SB_ERR_INVALID : st));
    return h;
}

uint64_t wc_history_seq(json_t *hist)
{
    return (uint64_t)json_integer_value(json_object_get(hist, "seq"));
}

uint64_t wc_history_append(wc_state *s, const char *vid, json_t *hist, json_t *item,
                           sb_done_cb done, void *ud)
{
    json_t *items = json_object_get(hist, "items");
    uint64_t seq = wc_history_seq(hist) + 1;
    json_object_set_new(item, "seq", json_integer((json_int_t)seq));
    json_object_set_new(hist, "seq", json_integer((json_int_t)seq));
    json_array_append_new(items, item);
    while (json_array_size(items) > (size_t)s->cfg.history_max) json_array_remove(items, 0);
    char *text = json_dumps(hist, JSON_COMPACT);
    while (text && strlen(text) > WC_HISTORY_BYTES && json_array_size(items) > 1) {
        free(text);
        json_array_remove(items, 0);
        text = json_dumps(hist, JSON_COMPACT);
    }
    if (!text) return 0;
    char key[8 + WC_VID_HEX];
    int kl = key_of(vid, key);
    sb_status st = s->host->kv_put(s->ctx, key, (size_t)kl, text, strlen(text), done, ud);
    free(text);
    if (st != SB_OK) {
        s->host->log(s->ctx, SB_LOG_ERROR, "history not stored: %s", s->host->strstatus(st));
        return 0;
    }
    return seq;
}

json_t *wc_history_after(json_t *hist, uint64_t after)
{
    json_t *out = json_array(), *it;
    size_t i;
    json_array_foreach(json_object_get(hist, "items"), i, it)
        if ((uint64_t)json_integer_value(json_object_get(it, "seq")) > after)
            json_array_append(out, it);
    return out;
}

static bool field_is(json_t *it, const char *key, const char *want)
{
    const char *v = json_string_value(json_object_get(it, key));
    return v && strcmp(v, want) == 0;
}

json_t *wc_history_find(json_t *hist, const char *id, const char *dir)
{
    json_t *it;
    size_t i;
    json_array_foreach(json_object_get(hist, "items"), i, it)
        if (field_is(it, "id", id) && field_is(it, "dir", dir)) return it;
    return NULL;
}
