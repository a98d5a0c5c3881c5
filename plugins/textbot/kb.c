/* The knowledge base: the search index lives in memory and is rebuilt at
 * start from kv, where each article is "a/<id>" (its canonical JSON) and
 * the ids are listed in TBP_BUCKETS manifest values "m/<n>" (kv has no
 * key scan; a bucket keeps each write small when one article changes). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textbot.h"

#define KV_READ_MAX (1024 * 1024)
#define IMPORT_FILE_MAX (16u * 1024 * 1024)

/* ---- counted writes ---------------------------------------------------- */

struct tbp_writes {
    textbot *b;
    int pending;                  /* started writes + 1 until tbp_writes_end */
    sb_status status;
    tbp_writes_done done;
    void *ud;
};

tbp_writes *tbp_writes_new(textbot *b, tbp_writes_done done, void *ud)
{
    tbp_writes *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->b = b;
    w->pending = 1;
    w->done = done;
    w->ud = ud;
    return w;
}

static void writes_release(tbp_writes *w, sb_status st)
{
    /* deleting an absent manifest bucket is fine */
    if (st != SB_OK && st != SB_ERR_NOT_FOUND && w->status == SB_OK) w->status = st;
    if (--w->pending) return;
    if (w->done) w->done(w->ud, w->status);
    free(w);
}

static void writes_cb(void *ud, sb_status st) { writes_release(ud, st); }

void tbp_writes_end(tbp_writes *w) { writes_release(w, SB_OK); }

static void w_put(tbp_writes *w, const char *key, const char *val, size_t len)
{
    w->pending++;
    sb_status st = w->b->host->kv_put(w->b->ctx, key, strlen(key), val, len, writes_cb, w);
    if (st != SB_OK) writes_release(w, st);
}

static void w_del(tbp_writes *w, const char *key)
{
    w->pending++;
    sb_status st = w->b->host->kv_del(w->b->ctx, key, strlen(key), writes_cb, w);
    if (st != SB_OK) writes_release(w, st);
}

/* ---- ids --------------------------------------------------------------- */

static unsigned bucket_of(const char *id)
{
    uint32_t h = 2166136261u;
    for (; *id; id++) h = (h ^ (unsigned char)*id) * 16777619u;
    return h % TBP_BUCKETS;
}

/* Position of id in the sorted list, or where it would go; *found set. */
static size_t id_pos(const textbot *b, const char *id, int *found)
{
    size_t lo = 0, hi = b->n_ids;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(b->ids[mid], id);
        if (!c) {
            *found = 1;
            return mid;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = 0;
    return lo;
}

int tbp_kb_has(const textbot *b, const char *id)
{
    int found;
    id_pos(b, id, &found);
    return found;
}

size_t tbp_kb_after(const textbot *b, const char *after)
{
    int found;
    size_t p = id_pos(b, after, &found);
    return found ? p + 1 : p;
}

static sb_status id_insert(textbot *b, const char *id)
{
    int found;
    size_t p = id_pos(b, id, &found);
    if (found) return SB_OK;
    if (b->n_ids == b->cap_ids) {
        size_t cap = b->cap_ids ? b->cap_ids * 2 : 64;
        char **v = realloc(b->ids, cap * sizeof *v);
        if (!v) return SB_ERR_NOMEM;
        b->ids = v;
        b->cap_ids = cap;
    }
    char *copy = strdup(id);
    if (!copy) return SB_ERR_NOMEM;
    memmove(b->ids + p + 1, b->ids + p, (b->n_ids - p) * sizeof *b->ids);
    b->ids[p] = copy;
    b->n_ids++;
    return SB_OK;
}

static void id_remove(textbot *b, const char *id)
{
    int found;
    size_t p = id_pos(b, id, &found);
    if (!found) return;
    free(b->ids[p]);
    memmove(b->ids + p, b->ids + p + 1, (b->n_ids - p - 1) * sizeof *b->ids);
    b->n_ids--;
}

void tbp_kb_new_id(textbot *b, char out[TB_ID_MAX + 1])
{
    do {
        snprintf(out, TB_ID_MAX + 1, "a%llx%04x",
                 (unsigned long long)b->host->now_ms(b->ctx), ++b->id_seq & 0xffff);
    } while (tbp_kb_has(b, out));
}

/* ---- kv reads ---------------------------------------------------------- */

/* The value under key, malloc'ed and NUL-terminated; NULL when absent. */
static char *kv_read(textbot *b, const char *key, size_t *len)
{
    size_t cap = 4096, n = 0;
    for (;;) {
        char *buf = malloc(cap + 1);
        if (!buf) return NULL;
        sb_status st = b->host->kv_get(b->ctx, key, strlen(key), buf, cap, &n);
        if (st == SB_OK) {
            buf[n] = 0;
            if (len) *len = n;
            return buf;
        }
        free(buf);
        if (st != SB_ERR_TOO_BIG || n > KV_READ_MAX || n <= cap) return NULL;
        cap = n;
    }
}

char *tbp_kb_get_json(textbot *b, const char *id, size_t *len)
{
    char key[TB_ID_MAX + 8];
    snprintf(key, sizeof key, "a/%s", id);
    return kv_read(b, key, len);
}

/* ---- changes ----------------------------------------------------------- */

sb_status tbp_kb_new(textbot *b)
{
    tb_config cfg = {.struct_size = sizeof cfg, .max_articles = (uint32_t)b->max_articles,
                     .max_title_bytes = TBP_TITLE_MAX, .max_body_bytes = TBP_BODY_MAX};
    b->ix = tb_index_new(&cfg);
    return b->ix ? SB_OK : SB_ERR_NOMEM;
}

void tbp_kb_free(textbot *b)
{
    tb_index_free(b->ix);
    b->ix = NULL;
    for (size_t i = 0; i < b->n_ids; i++) free(b->ids[i]);
    free(b->ids);
    b->ids = NULL;
    b->n_ids = b->cap_ids = 0;
}

static sb_status index_put(textbot *b, const tbp_article *a)
{
    tb_article ta = {.id = a->id, .title = a->title, .body = a->body,
                     .keywords = a->keywords, .n_keywords = a->n_keywords,
                     .misspellings = a->misspellings, .n_misspellings = a->n_misspellings};
    return tb_index_put(b->ix, &ta);
}

sb_status tbp_kb_put(textbot *b, const tbp_article *a, uint64_t *dirty, tbp_writes *w)
{
    int exists = tbp_kb_has(b, a->id);
    if (!exists && b->n_ids >= (size_t)b->max_articles) return SB_ERR_FULL;
    char *created = NULL;
    if (exists) {
        /* keep the first creation time of an article that is replaced */
        char *old = tbp_kb_get_json(b, a->id, NULL);
        json_t *o = old ? json_loads(old, 0, NULL) : NULL;
        const char *c = json_string_value(json_object_get(o, "created_at"));
        if (c) created = strdup(c);
        json_decref(o);
        free(old);
    }
    json_t *j = tbp_article_json(a, created, b->host->now_ms(b->ctx));
    free(created);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    sb_status st = text ? SB_OK : SB_ERR_NOMEM;
    if (st == SB_OK && !exists) st = id_insert(b, a->id);
    if (st == SB_OK) {
        st = index_put(b, a);
        if (st != SB_OK && !exists) id_remove(b, a->id);
    }
    if (st == SB_OK) {
        char key[TB_ID_MAX + 8];
        snprintf(key, sizeof key, "a/%s", a->id);
        w_put(w, key, text, strlen(text));
        if (!exists) *dirty |= 1ull << bucket_of(a->id);
    }
    free(text);
    return st;
}

sb_status tbp_kb_del(textbot *b, const char *id, uint64_t *dirty, tbp_writes *w)
{
    if (!tbp_kb_has(b, id)) return SB_ERR_NOT_FOUND;
    tb_index_del(b->ix, id);
    *dirty |= 1ull << bucket_of(id);
    char key[TB_ID_MAX + 8];
    snprintf(key, sizeof key, "a/%s", id);
    w_del(w, key);
    id_remove(b, id);
    return SB_OK;
}

void tbp_kb_flush(textbot *b, uint64_t dirty, tbp_writes *w)
{
    for (unsigned k = 0; k < TBP_BUCKETS; k++) {
        if (!(dirty & (1ull << k))) continue;
        char key[16];
        snprintf(key, sizeof key, "m/%u", k);
        size_t len = 0;
        for (size_t i = 0; i < b->n_ids; i++)
            if (bucket_of(b->ids[i]) == k) len += strlen(b->ids[i]) + 1;
        if (!len) {
            w_del(w, key);
            continue;
        }
        char *val = malloc(len), *p = val;
        if (!val) {
            w->pending++;
            writes_release(w, SB_ERR_NOMEM);
            continue;
        }
        for (size_t i = 0; i < b->n_ids; i++) {
            if (bucket_of(b->ids[i]) != k) continue;
            size_t n = strlen(b->ids[i]);
            memcpy(p, b->ids[i], n);
            p[n] = '\n';
            p += n + 1;
        }
        w_put(w, key, val, len);
        free(val);
    }
}

/* ---- start: rebuild from kv, or import ------------------------------------ */

static void load_article(textbot *b, const char *id)
{
    char *text = tbp_kb_get_json(b, id, NULL);
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    tbp_article a;
    char field[96];
    const char *err = o ? tbp_article_parse(o, "", &a, field, sizeof field) : "unreadable";
    if (!err && (!a.id || strcmp(a.id, id))) err = "id does not match its key";
    sb_status st = SB_OK;
    if (!err && (st = id_insert(b, id)) == SB_OK && (st = index_put(b, &a)) != SB_OK)
        id_remove(b, id);
    if (err || st != SB_OK)
        b->host->log(b->ctx, SB_LOG_WARN, "article %s skipped: %s", id,
                     err ? err : b->host->strstatus(st));
    json_decref(o);
    free(text);
}

static void import_done(void *ud, sb_status st)
{
    textbot *b = ud;
    if (st != SB_OK)
        b->host->log(b->ctx, SB_LOG_ERROR, "import: storing failed: %s", b->host->strstatus(st));
}

static char *read_file(const char *path, size_t *len, const char **why)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *why = strerror(errno);
        return NULL;
    }
    char *buf = malloc(IMPORT_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, IMPORT_FILE_MAX + 1, f) : 0;
    int bad = !buf || ferror(f) || n > IMPORT_FILE_MAX;
    fclose(f);
    if (bad) {
        *why = !buf ? "out of memory" : n > IMPORT_FILE_MAX ? "over 16 MiB" : "read error";
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static sb_status import_file(textbot *b)
{
    const sb_host *h = b->host;
    size_t len = 0;
    const char *why = NULL;
    char *text = read_file(b->import_path, &len, &why);
    if (!text) {
        h->log(b->ctx, SB_LOG_ERROR, "import %s: %s", b->import_path, why);
        return SB_ERR_IO;
    }
    json_error_t jerr;
    json_t *arr = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!json_is_array(arr) || json_array_size(arr) > (size_t)b->max_articles) {
        h->log(b->ctx, SB_LOG_ERROR, "import %s:%d: %s", b->import_path, arr ? 1 : jerr.line,
               arr ? "expected a JSON array of at most max_articles articles" : jerr.text);
        json_decref(arr);
        return SB_ERR_INVALID;
    }
    /* all or nothing: check every article before storing one */
    tbp_article a;
    char where[32], field[128];
    for (size_t i = 0; i < json_array_size(arr); i++) {
        snprintf(where, sizeof where, "[%zu].", i);
        const char *err = tbp_article_parse(json_array_get(arr, i), where, &a, field, sizeof field);
        if (err) {
            h->log(b->ctx, SB_LOG_ERROR, "import %s: %s: %s", b->import_path, field, err);
            json_decref(arr);
            return SB_ERR_INVALID;
        }
    }
    tbp_writes *w = tbp_writes_new(b, import_done, b);
    if (!w) {
        json_decref(arr);
        return SB_ERR_NOMEM;
    }
    uint64_t dirty = 0;
    sb_status st = SB_OK;
    for (size_t i = 0; st == SB_OK && i < json_array_size(arr); i++) {
        tbp_article_parse(json_array_get(arr, i), "", &a, field, sizeof field);
        char id[TB_ID_MAX + 1];
        if (!a.id) {
            tbp_kb_new_id(b, id);
            a.id = id;
        }
        st = tbp_kb_put(b, &a, &dirty, w);
    }
    tbp_kb_flush(b, dirty, w);
    tbp_writes_end(w);
    json_decref(arr);
    if (st != SB_OK)
        h->log(b->ctx, SB_LOG_ERROR, "import %s: %s", b->import_path, h->strstatus(st));
    else
        h->log(b->ctx, SB_LOG_INFO, "imported %zu articles from %s", b->n_ids, b->import_path);
    return st;
}

sb_status tbp_kb_load(textbot *b)
{
    for (unsigned k = 0; k < TBP_BUCKETS; k++) {
        char key[16];
        snprintf(key, sizeof key, "m/%u", k);
        char *list = kv_read(b, key, NULL);
        for (char *p = list, *nl; p && *p; p = nl + 1) {
            nl = strchr(p, '\n');
            if (!nl) break;
            *nl = 0;
            if (tbp_valid_id(p)) load_article(b, p);
        }
        free(list);
    }
    b->host->log(b->ctx, SB_LOG_INFO, "knowledge base %s: %zu articles", b->kb, b->n_ids);
    if (!b->n_ids && b->import_path) return import_file(b);
    return SB_OK;
}
