#include "engine/internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

sb_status sb_eng_emit_message(sb_engine *e, const char *type, const sb_eng_msg *m)
{
    json_t *ev = sb_eng_event_new(type), *mj = sb_eng_msg_json(m);
    if (!ev || !mj || json_object_set_new(ev, "conversation_id", sb_eng_json_id(m->conv_id)) != 0) {
        json_decref(ev);
        json_decref(mj);
        return SB_ERR_NOMEM;
    }
    if (json_object_set_new(ev, "message", mj) != 0) {
        json_decref(ev);
        return SB_ERR_NOMEM;
    }
    return sb_eng_emit(e, ev);
}

sb_status sb_eng_msg_create(sb_engine *e, const sb_eng_msg *m)
{
    unsigned char k[16], v[8];
    sb_status s = sb_eng_msg_save(e, m);
    if (s != SB_OK) return s;
    sb_key_put_u64(k, m->client_id);
    sb_key_put_u64(k + 8, m->id);
    sb_key_put_u64(v, m->conv_id);
    s = sb_store_put(e->st, TBL(e, TB_CLIENT_MSGS), k, sizeof k, v, sizeof v);
    if (s == SB_OK && m->ext_ref) {
        unsigned char xk[SB_ENG_KEY_MAX];
        size_t xlen = sb_eng_key_join(xk, sizeof xk, m->plugin, m->instance, m->ext_ref);
        unsigned char id[8];
        sb_key_put_u64(id, m->id);
        s = xlen ? sb_store_put(e->st, TBL(e, TB_MSG_EXT), xk, xlen, id, sizeof id)
                 : SB_ERR_TOO_BIG;
    }
    if (s == SB_OK) s = sb_eng_emit_message(e, "message.created", m);
    if (s != SB_OK) return s;
    sb_key_put_u64(k, m->id);
    return sb_store_put(e->st, TBL(e, TB_MSG_INDEX), k, 8, v, sizeof v);
}

sb_status sb_eng_msg_locate(sb_engine *e, uint64_t msg_id, uint64_t *conv_id)
{
    unsigned char k[8], v[8];
    size_t vlen;
    sb_key_put_u64(k, msg_id);
    sb_status s = sb_store_get(e->st, TBL(e, TB_MSG_INDEX), k, sizeof k, v, sizeof v, &vlen);
    if (s == SB_ERR_TOO_BIG || (s == SB_OK && vlen != 8)) return SB_ERR_IO;
    if (s == SB_OK) *conv_id = sb_key_get_u64(v);
    return s;
}

sb_status sb_engine_message_json(sb_engine *e, const char *id, char **json)
{
    if (!e || !id || !json) return SB_ERR_INVALID;
    *json = NULL;
    uint64_t mid = sb_id_parse(id), conv;
    if (!mid) return SB_ERR_NOT_FOUND;
    sb_status s = sb_eng_msg_locate(e, mid, &conv);
    if (s != SB_OK) return s;
    sb_eng_msg m;
    if ((s = sb_eng_msg_load(e, conv, mid, &m)) != SB_OK) return s;
    s = sb_eng_json_take(sb_eng_msg_json(&m), json);
    sb_eng_msg_clear(&m);
    return s;
}

/* ---- pages, newest first ---------------------------------------------
 * A reverse range read of at most limit + 1 keys under one owner (the
 * conversation or the client): the extra key only says whether another
 * page exists. */

typedef struct page_keys {
    uint64_t *msg, *conv; /* conv: from the value (client history) */
    size_t n;
} page_keys;

static int collect(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    page_keys *pk = ud;
    if (klen != 16) return 0;
    pk->msg[pk->n] = sb_key_get_u64((const unsigned char *)key + 8);
    pk->conv[pk->n] = vlen == 8 ? sb_key_get_u64(val) : 0;
    pk->n++;
    return 0;
}

static sb_status page(sb_engine *e, int table, uint64_t owner, const char *before,
                      size_t limit, bool by_client, char **json)
{
    uint64_t cursor = 0;
    if (before && *before && !(cursor = sb_id_parse(before))) return SB_ERR_INVALID;
    limit = sb_eng_page_limit(limit);

    unsigned char from[8], to[16];
    sb_key_put_u64(from, owner);
    size_t tlen = 16;
    sb_key_put_u64(to, owner);
    if (cursor) sb_key_put_u64(to + 8, cursor);
    else { sb_key_put_u64(to, owner + 1); tlen = 8; }

    page_keys pk = {.msg = calloc(limit + 1, 8), .conv = calloc(limit + 1, 8)};
    sb_status s = pk.msg && pk.conv ? SB_OK : SB_ERR_NOMEM;
    if (s == SB_OK) {
        long n = sb_store_scan(e->st, TBL(e, table), from, sizeof from, to, tlen, true,
                               limit + 1, collect, &pk);
        if (n < 0) s = (sb_status)n;
    }
    /* written straight as text: objects per message cost most of a page */
    sb_eng_jw w = {0};
    sb_eng_jw_raw(&w, "{\"items\":[", 10);
    size_t shown = pk.n > limit ? limit : pk.n, written = 0;
    for (size_t i = 0; s == SB_OK && i < shown; i++) {
        sb_eng_msg m;
        sb_status ls = sb_eng_msg_load(e, by_client ? pk.conv[i] : owner, pk.msg[i], &m);
        if (ls == SB_ERR_NOT_FOUND) {
            /* a history key whose message is gone: leave it out */
            char ids[21];
            sb_warn("engine", "history names a missing message %s", sb_id_str(pk.msg[i], ids));
            continue;
        }
        if (ls != SB_OK) { s = ls; break; }
        if (written++) sb_eng_jw_raw(&w, ",", 1);
        sb_eng_jw_msg(&w, &m);
        sb_eng_msg_clear(&m);
    }
    uint64_t next = pk.n > limit ? pk.msg[limit - 1] : 0;
    free(pk.msg);
    free(pk.conv);
    sb_eng_jw_raw(&w, "],\"next_cursor\":", 16);
    sb_eng_jw_id(&w, next);
    sb_eng_jw_raw(&w, "}", 1);
    if (s == SB_OK && w.oom) s = SB_ERR_NOMEM;
    if (s != SB_OK) {
        free(w.p);
        return s;
    }
    *json = w.p;
    return SB_OK;
}

/* SB_OK when the table has the id, without copying its record. */
static sb_status exists(sb_engine *e, int table, uint64_t id)
{
    unsigned char k[8], v[1];
    size_t vlen;
    sb_key_put_u64(k, id);
    sb_status s = sb_store_get(e->st, TBL(e, table), k, sizeof k, v, sizeof v, &vlen);
    return s == SB_ERR_TOO_BIG ? SB_OK : s;
}

sb_status sb_engine_conversation_messages(sb_engine *e, const char *conv_id, const char *before,
                                          size_t limit, char **json)
{
    if (!e || !conv_id || !json) return SB_ERR_INVALID;
    *json = NULL;
    uint64_t id = sb_id_parse(conv_id);
    if (!id) return SB_ERR_NOT_FOUND;
    sb_status s = exists(e, TB_CONVERSATIONS, id);
    if (s != SB_OK) return s;
    return page(e, TB_MESSAGES, id, before, limit, false, json);
}

sb_status sb_engine_client_messages(sb_engine *e, const char *client_id, const char *before,
                                    size_t limit, char **json)
{
    if (!e || !client_id || !json) return SB_ERR_INVALID;
    *json = NULL;
    uint64_t id = sb_id_parse(client_id);
    if (!id) return SB_ERR_NOT_FOUND;
    sb_status s = exists(e, TB_CLIENTS, id);
    if (s != SB_OK) return s;
    return page(e, TB_CLIENT_MSGS, id, before, limit, true, json);
}
