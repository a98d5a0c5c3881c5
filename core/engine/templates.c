#include "engine/internal.h"

#include <stdlib.h>
#include <string.h>

/* Quick replies: {title, text, hotkey}, stored by id. */

enum { TPL_V = 1, TPL_N = 4 };

static const char *const k_keys[] = {"id", "title", "text", "hotkey", NULL};

typedef struct tpl {
    uint64_t id;
    char *title, *text, *hotkey;
    int64_t created_at;
} tpl;

static void tpl_clear(tpl *t)
{
    free(t->title);
    free(t->text);
    free(t->hotkey);
    memset(t, 0, sizeof *t);
}

static sb_status tpl_save(sb_engine *e, const tpl *t)
{
    sb_rec_writer *w = &e->w;
    sb_rec_begin(w, TPL_V, TPL_N);
    sb_rec_str(w, t->title);
    sb_rec_str(w, t->text);
    sb_rec_str(w, t->hotkey);
    sb_rec_i64(w, t->created_at);
    return sb_eng_rec_put_id(e, TB_TEMPLATES, t->id);
}

static sb_status tpl_decode(uint64_t id, const void *val, size_t len, tpl *t)
{
    memset(t, 0, sizeof *t);
    t->id = id;
    sb_rec_reader r;
    if (sb_rec_open(&r, val, len) != SB_OK) return SB_ERR_IO;
    bool nomem = false;
    t->title = sb_eng_rd_dup(&r, &nomem);
    t->text = sb_eng_rd_dup(&r, &nomem);
    t->hotkey = sb_eng_rd_dup(&r, &nomem);
    t->created_at = sb_rec_next_i64(&r, 0);
    sb_status s = sb_rec_close(&r) != SB_OK ? SB_ERR_IO : nomem ? SB_ERR_NOMEM : SB_OK;
    if (s == SB_OK && (!t->title || !t->text)) s = SB_ERR_IO;
    if (s != SB_OK) tpl_clear(t);
    return s;
}

static sb_status tpl_load(sb_engine *e, const char *id, tpl *t)
{
    uint64_t n = id ? sb_id_parse(id) : 0;
    if (!n) return SB_ERR_NOT_FOUND;
    unsigned char k[8];
    sb_key_put_u64(k, n);
    void *buf;
    size_t len;
    sb_status s = sb_store_get_alloc(e->st, TBL(e, TB_TEMPLATES), k, sizeof k, &buf, &len);
    if (s != SB_OK) return s;
    s = tpl_decode(n, buf, len, t);
    free(buf);
    return s;
}

static json_t *tpl_json(const tpl *t)
{
    return json_pack("{s:o, s:s, s:s, s:s?, s:o}", "id", sb_eng_json_id(t->id), "title", t->title,
                     "text", t->text, "hotkey", t->hotkey, "created_at",
                     sb_eng_json_time(t->created_at));
}

/* Fills t from a body: title and text required (a PUT replaces). */
static sb_status parse(const char *json, size_t len, tpl *t, char *err, size_t errlen)
{
    json_t *o = sb_eng_body(json, len, err, errlen);
    if (!o) return SB_ERR_INVALID;
    const char *title = NULL, *text = NULL, *hotkey = NULL;
    sb_status s = sb_eng_only(o, k_keys, err, errlen);
    if (s == SB_OK) s = sb_eng_in_str(o, "title", 1, 256, false, &title, NULL, err, errlen);
    if (s == SB_OK) s = sb_eng_in_str(o, "text", 1, 4096, false, &text, NULL, err, errlen);
    if (s == SB_OK) s = sb_eng_in_str(o, "hotkey", 0, 32, true, &hotkey, NULL, err, errlen);
    if (s == SB_OK && !title) s = sb_eng_bad(err, errlen, "title", "required");
    if (s == SB_OK && !text) s = sb_eng_bad(err, errlen, "text", "required");
    if (s == SB_OK && !sb_eng_utf8_valid(title, strlen(title))) s = sb_eng_bad(err, errlen, "title", "not UTF-8");
    if (s == SB_OK && !sb_eng_utf8_valid(text, strlen(text))) s = sb_eng_bad(err, errlen, "text", "not UTF-8");
    if (s == SB_OK && hotkey && !sb_eng_utf8_valid(hotkey, strlen(hotkey)))
        s = sb_eng_bad(err, errlen, "hotkey", "not UTF-8");
    if (s == SB_OK) {
        t->title = strdup(title);
        t->text = strdup(text);
        t->hotkey = hotkey && *hotkey ? strdup(hotkey) : NULL;
        if (!t->title || !t->text || (hotkey && *hotkey && !t->hotkey)) s = SB_ERR_NOMEM;
    }
    json_decref(o);
    return s;
}

static sb_status store_and_tell(sb_engine *e, tpl *t, const char *type, char **out)
{
    sb_status s = tpl_save(e, t);
    if (s == SB_OK) s = sb_eng_emit_obj(e, type, "template", tpl_json(t));
    if (s == SB_OK) s = sb_eng_json_take(tpl_json(t), out);
    tpl_clear(t);
    return s;
}

sb_status sb_engine_template_create(sb_engine *e, const char *json, size_t len, char **out,
                                    char *err, size_t errlen)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    tpl t = {0};
    sb_status s = parse(json, len, &t, err, errlen);
    if (s != SB_OK) {
        tpl_clear(&t);
        return s;
    }
    t.id = sb_id_next();
    t.created_at = sb_eng_now();
    return store_and_tell(e, &t, "template.created", out);
}

sb_status sb_engine_template_update(sb_engine *e, const char *id, const char *json, size_t len,
                                    char **out, char *err, size_t errlen)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    tpl old;
    sb_status s = tpl_load(e, id, &old);
    if (s != SB_OK) return s;
    tpl t = {0};
    s = parse(json, len, &t, err, errlen);
    t.id = old.id;
    t.created_at = old.created_at;
    tpl_clear(&old);
    if (s != SB_OK) {
        tpl_clear(&t);
        return s;
    }
    return store_and_tell(e, &t, "template.updated", out);
}

sb_status sb_engine_template_delete(sb_engine *e, const char *id)
{
    if (!e) return SB_ERR_INVALID;
    tpl t;
    sb_status s = tpl_load(e, id, &t);
    if (s != SB_OK) return s;
    unsigned char k[8];
    sb_key_put_u64(k, t.id);
    s = sb_store_del(e->st, TBL(e, TB_TEMPLATES), k, sizeof k);
    if (s == SB_OK) s = sb_eng_emit_obj(e, "template.deleted", "template", tpl_json(&t));
    tpl_clear(&t);
    return s;
}

sb_status sb_engine_template_json(sb_engine *e, const char *id, char **out)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    tpl t;
    sb_status s = tpl_load(e, id, &t);
    if (s != SB_OK) return s;
    s = sb_eng_json_take(tpl_json(&t), out);
    tpl_clear(&t);
    return s;
}

static json_t *page_item(sb_engine *e, uint64_t id, const void *val, size_t vlen)
{
    (void)e;
    tpl t;
    if (tpl_decode(id, val, vlen, &t) != SB_OK) return NULL;
    json_t *j = tpl_json(&t);
    tpl_clear(&t);
    return j;
}

sb_status sb_engine_templates_list(sb_engine *e, const char *cursor, size_t limit, char **out)
{
    return sb_eng_id_page(e, TB_TEMPLATES, cursor, limit, page_item, out);
}
