#include "engine/internal.h"

#include <stdlib.h>
#include <string.h>

/* The audit trail of profile changes that must be explainable and, for
 * merges, undoable: merge (with what undo needs: the source profile as it
 * was stored, the conversations moved, what the target took over), undo,
 * erase (counts only). audit_client indexes audits by every client they
 * name, so an erasure finds the snapshots that hold the person's data. */

enum { AUDIT_V = 1, AUDIT_N = 14 };

uint64_t sb_eng_audit_new_id(void) { return sb_id_next(); }

void sb_eng_audit_clear(sb_eng_audit *a)
{
    free(a->kind);
    free(a->by);
    free(a->undone_by);
    free(a->snapshot);
    free(a->convs);
    sb_eng_strs_free(a->attrs_added, a->n_attrs);
    sb_eng_strs_free(a->tags_added, a->n_tags);
    memset(a, 0, sizeof *a);
}

sb_status sb_eng_audit_save(sb_engine *e, const sb_eng_audit *a)
{
    sb_rec_writer *w = &e->w;
    unsigned char *convs = a->n_convs ? malloc(a->n_convs * 8) : NULL;
    if (a->n_convs && !convs) return SB_ERR_NOMEM;
    for (size_t i = 0; i < a->n_convs; i++) sb_key_put_u64(convs + 8 * i, a->convs[i]);
    sb_rec_begin(w, AUDIT_V, AUDIT_N);
    sb_rec_str(w, a->kind);
    sb_rec_i64(w, a->at);
    sb_rec_str(w, a->by);
    sb_rec_u64(w, a->target);
    sb_rec_u64(w, a->source);
    sb_rec_bin(w, a->snapshot, a->snapshot_len);
    sb_rec_bin(w, convs, a->n_convs * 8);
    sb_rec_str_array(w, (const char *const *)a->attrs_added, a->n_attrs);
    sb_rec_str_array(w, (const char *const *)a->tags_added, a->n_tags);
    sb_rec_u64(w, (a->phone_taken ? 1u : 0u) | (a->email_taken ? 2u : 0u));
    sb_rec_i64(w, a->undone_at);
    sb_rec_str(w, a->undone_by);
    sb_rec_u64(w, a->n_conversations);
    sb_rec_u64(w, a->n_messages);
    free(convs);
    return sb_eng_rec_put_id(e, TB_AUDIT, a->id);
}

sb_status sb_eng_audit_load(sb_engine *e, uint64_t id, sb_eng_audit *a)
{
    memset(a, 0, sizeof *a);
    unsigned char k[8];
    sb_key_put_u64(k, id);
    void *buf;
    size_t len;
    sb_status s = sb_store_get_alloc(e->st, TBL(e, TB_AUDIT), k, sizeof k, &buf, &len);
    if (s != SB_OK) return s;
    sb_rec_reader r;
    if (sb_rec_open(&r, buf, len) != SB_OK) {
        free(buf);
        return SB_ERR_IO;
    }
    bool nomem = false;
    a->id = id;
    a->kind = sb_eng_rd_dup(&r, &nomem);
    a->at = sb_rec_next_i64(&r, 0);
    a->by = sb_eng_rd_dup(&r, &nomem);
    a->target = sb_rec_next_u64(&r, 0);
    a->source = sb_rec_next_u64(&r, 0);
    size_t bl;
    const void *b = sb_rec_next_bin(&r, &bl);
    if (b && bl) {
        if ((a->snapshot = malloc(bl))) {
            memcpy(a->snapshot, b, bl);
            a->snapshot_len = bl;
        } else {
            nomem = true;
        }
    }
    b = sb_rec_next_bin(&r, &bl);
    if (b && bl >= 8) {
        if ((a->convs = malloc(bl / 8 * sizeof *a->convs))) {
            for (size_t i = 0; i < bl / 8; i++) a->convs[i] = sb_key_get_u64((const unsigned char *)b + 8 * i);
            a->n_convs = bl / 8;
        } else {
            nomem = true;
        }
    }
    const char *const *items;
    size_t n;
    if (sb_rec_next_str_array(&r, &items, &n) == SB_OK && sb_eng_strs_dup(items, n, &a->attrs_added) == SB_OK)
        a->n_attrs = n;
    else if (n) nomem = true;
    if (sb_rec_next_str_array(&r, &items, &n) == SB_OK && sb_eng_strs_dup(items, n, &a->tags_added) == SB_OK)
        a->n_tags = n;
    else if (n) nomem = true;
    uint64_t flags = sb_rec_next_u64(&r, 0);
    a->phone_taken = flags & 1;
    a->email_taken = (flags & 2) != 0;
    a->undone_at = sb_rec_next_i64(&r, 0);
    a->undone_by = sb_eng_rd_dup(&r, &nomem);
    a->n_conversations = sb_rec_next_u64(&r, 0);
    a->n_messages = sb_rec_next_u64(&r, 0);
    s = sb_rec_close(&r) != SB_OK || !a->kind ? SB_ERR_IO : nomem ? SB_ERR_NOMEM : SB_OK;
    free(buf);
    if (s != SB_OK) sb_eng_audit_clear(a);
    return s;
}

sb_status sb_eng_audit_link(sb_engine *e, uint64_t client, uint64_t audit)
{
    unsigned char k[16];
    sb_key_put_u64(k, client);
    sb_key_put_u64(k + 8, audit);
    return sb_store_put(e->st, TBL(e, TB_AUDIT_CLIENT), k, sizeof k, "", 0);
}

json_t *sb_eng_audit_json(const sb_eng_audit *a)
{
    bool merge = strcmp(a->kind, "merge") == 0;
    json_t *o = json_pack("{s:o, s:s, s:o, s:s?, s:o, s:o, s:o, s:s?, s:b}", "id",
                          sb_eng_json_id(a->id), "kind", a->kind, "at", sb_eng_json_time(a->at),
                          "by", a->by, "target_id", sb_eng_json_id(a->target), "source_id",
                          sb_eng_json_id(a->source), "undone_at", sb_eng_json_time(a->undone_at),
                          "undone_by", a->undone_by, "can_undo",
                          merge && !a->undone_at && a->snapshot != NULL);
    if (o && merge)
        json_object_set_new(o, "conversations_moved", json_integer((json_int_t)a->n_convs));
    if (o && strcmp(a->kind, "erase") == 0) {
        json_object_set_new(o, "conversations", json_integer((json_int_t)a->n_conversations));
        json_object_set_new(o, "messages", json_integer((json_int_t)a->n_messages));
    }
    return o;
}

sb_status sb_engine_audit_json(sb_engine *e, const char *audit_id, char **out)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    uint64_t id = audit_id ? sb_id_parse(audit_id) : 0;
    if (!id) return SB_ERR_NOT_FOUND;
    sb_eng_audit a;
    sb_status s = sb_eng_audit_load(e, id, &a);
    if (s != SB_OK) return s;
    s = sb_eng_json_take(sb_eng_audit_json(&a), out);
    sb_eng_audit_clear(&a);
    return s;
}

typedef struct page_ctx {
    uint64_t *ids;
    size_t n;
} page_ctx;

static int page_one(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    page_ctx *p = ud;
    if (klen == 8) p->ids[p->n++] = sb_key_get_u64(key);
    return 0;
}

sb_status sb_engine_audit_list(sb_engine *e, const char *cursor, size_t limit, char **out)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    uint64_t before = 0;
    if (cursor && *cursor && !(before = sb_id_parse(cursor))) return SB_ERR_INVALID;
    limit = sb_eng_page_limit(limit);
    page_ctx p = {calloc(limit + 1, 8), 0};
    if (!p.ids) return SB_ERR_NOMEM;
    unsigned char to[8];
    sb_key_put_u64(to, before);
    long n = sb_store_scan(e->st, TBL(e, TB_AUDIT), NULL, 0, before ? to : NULL, before ? 8 : 0,
                           true, limit + 1, page_one, &p);
    sb_status s = n < 0 ? (sb_status)n : SB_OK;
    json_t *items = json_array();
    if (s == SB_OK && !items) s = SB_ERR_NOMEM;
    size_t shown = p.n > limit ? limit : p.n;
    for (size_t i = 0; s == SB_OK && i < shown; i++) {
        sb_eng_audit a;
        if (sb_eng_audit_load(e, p.ids[i], &a) != SB_OK) continue;
        if (json_array_append_new(items, sb_eng_audit_json(&a)) != 0) s = SB_ERR_NOMEM;
        sb_eng_audit_clear(&a);
    }
    uint64_t next = p.n > limit ? p.ids[limit - 1] : 0;
    free(p.ids);
    return sb_eng_page_out(s, items, next, out);
}
