/* Erasure reaches the web chat. When the core erases a client it names the
 * client's channel accounts in a client.forget event (never logged); a
 * visitor of this instance among them loses here too what this plugin keeps
 * of it: its history, the files it sent, its messenger start token, and
 * its open chats. */
#include <stdio.h>
#include <string.h>

#include "wc.h"

static void del(wc_state *s, const char *key)
{
    s->host->kv_del(s->ctx, key, strlen(key), NULL, NULL);
}

/* A file the visitor sent: its chunks and its description. */
static void forget_file(wc_state *s, const char *url)
{
    const char *fid = url ? strrchr(url, '/') : NULL;
    if (!fid || strlen(fid + 1) != WC_VID_HEX || strspn(fid + 1, "0123456789abcdef") != WC_VID_HEX)
        return;
    fid++;
    char key[64], meta[1024];
    size_t len = 0;
    snprintf(key, sizeof key, "f:%s", fid);
    if (s->host->kv_get(s->ctx, key, strlen(key), meta, sizeof meta, &len) != SB_OK) return;
    json_t *m = json_loadb(meta, len, 0, NULL);
    json_int_t chunks = json_integer_value(json_object_get(m, "chunks"));
    json_decref(m);
    for (json_int_t i = 0; i < chunks; i++) {
        snprintf(key, sizeof key, "f:%s:%lld", fid, (long long)i);
        del(s, key);
    }
    snprintf(key, sizeof key, "f:%s", fid);
    del(s, key);
}

void wc_forget_visitor(wc_state *s, const char *vid)
{
    json_t *hist = wc_history_load(s, vid);
    size_t i, j;
    json_t *it, *att;
    json_array_foreach(json_object_get(hist, "items"), i, it) {
        const char *dir = json_string_value(json_object_get(it, "dir"));
        if (!dir || strcmp(dir, "in") != 0) continue; /* operators' files are theirs */
        json_array_foreach(json_object_get(it, "attachments"), j, att)
            forget_file(s, json_string_value(json_object_get(att, "url")));
    }
    json_decref(hist);
    char key[8 + WC_VID_HEX + WC_TOKEN_LEN], token[WC_TOKEN_LEN + 1];
    size_t len = 0;
    snprintf(key, sizeof key, "vt:%s", vid);
    if (s->host->kv_get(s->ctx, key, strlen(key), token, WC_TOKEN_LEN, &len) == SB_OK &&
        len == WC_TOKEN_LEN) {
        token[WC_TOKEN_LEN] = 0;
        char tkey[8 + WC_TOKEN_LEN];
        snprintf(tkey, sizeof tkey, "t:%s", token);
        del(s, tkey);
    }
    del(s, key);
    snprintf(key, sizeof key, "h:%s", vid);
    del(s, key);
    wc_live_forget(s, vid);
    s->host->log(s->ctx, SB_LOG_INFO, "an erased client's web chat data removed");
}

static void on_forget(void *ud, const sb_event *ev)
{
    wc_state *s = ud;
    json_t *o = json_loadb(ev->json, ev->json_len, 0, NULL);
    const char *me = s->host->instance_name(s->ctx);
    size_t i;
    json_t *acc;
    json_array_foreach(json_object_get(o, "identities"), i, acc) {
        const char *ch = json_string_value(json_object_get(acc, "channel"));
        const char *in = json_string_value(json_object_get(acc, "instance"));
        const char *vid = json_string_value(json_object_get(acc, "external_id"));
        if (ch && in && vid && strcmp(ch, "webchat") == 0 && strcmp(in, me) == 0 &&
            strlen(vid) == WC_VID_HEX && strspn(vid, "0123456789abcdef") == WC_VID_HEX)
            wc_forget_visitor(s, vid);
    }
    json_decref(o);
}

sb_status wc_forget_subscribe(wc_state *s)
{
    return s->host->subscribe(s->ctx, "client.forget", on_forget, s);
}
