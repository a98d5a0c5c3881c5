/* The inverted index: vocabulary of terms with their postings, article
 * slots, and add/replace/remove of an article. Ranking is in
 * search_query.c, typo candidates in search_typo.c. */
#include <stdlib.h>
#include <string.h>
#include "search_internal.h"

#define TITLE_TOKENS 256
#define KEYWORD_TOKENS 32

uint32_t tb_hash(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 16777619u;
    return h;
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static void config_defaults(tb_config *c, const tb_config *in)
{
    memset(c, 0, sizeof *c);
    if (in) memcpy(c, in, in->struct_size && in->struct_size < sizeof *c ? in->struct_size : sizeof *c);
    c->struct_size = sizeof *c;
#define DEF(f, v) if (!c->f) c->f = (v)
    DEF(max_articles, TB_DEFAULT_MAX_ARTICLES);
    DEF(max_terms, TB_DEFAULT_MAX_TERMS);
    DEF(max_query_bytes, TB_DEFAULT_QUERY_BYTES);
    DEF(max_query_tokens, TB_DEFAULT_QUERY_TOKENS);
    DEF(max_title_bytes, TB_DEFAULT_TITLE_BYTES);
    DEF(max_body_bytes, TB_DEFAULT_BODY_BYTES);
    DEF(max_body_tokens, TB_DEFAULT_BODY_TOKENS);
    DEF(max_keywords, TB_DEFAULT_KEYWORDS);
    DEF(max_keyword_bytes, TB_DEFAULT_KEYWORD_BYTES);
    DEF(max_candidates, TB_DEFAULT_CANDIDATES);
    DEF(w_title, 3.0);
    DEF(w_keywords, 2.0);
    DEF(w_body, 1.0);
#undef DEF
}

tb_index *tb_index_new(const tb_config *cfg)
{
    tb_index *ix = calloc(1, sizeof *ix);
    if (!ix) return NULL;
    config_defaults(&ix->cfg, cfg);
    ix->stem = tb_stemmer_new();
    if (!ix->stem) {
        free(ix);
        return NULL;
    }
    return ix;
}

static void doc_clear(tb_doc *d)
{
    free(d->id);
    free(d->title);
    free(d->terms);
    memset(d, 0, sizeof *d);
}

void tb_index_free(tb_index *ix)
{
    if (!ix) return;
    for (uint32_t i = 0; i < ix->n_terms; i++) free(ix->terms[i].post);
    for (uint32_t i = 0; i < ix->n_docs; i++) doc_clear(&ix->docs[i]);
    free(ix->terms);
    free(ix->term_tab);
    free(ix->pool);
    free(ix->docs);
    free(ix->free_slots);
    free(ix->id_tab);
    free(ix->acc);
    free(ix->touched);
    tb_typo_free(ix);
    tb_stemmer_free(ix->stem);
    free(ix);
}

/* ---- vocabulary ---------------------------------------------------- */

uint32_t tb_term_find(const tb_index *ix, const char *s, size_t len)
{
    if (!ix->term_tab_cap) return UINT32_MAX;
    uint32_t h = tb_hash(s, len), mask = ix->term_tab_cap - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        uint32_t v = ix->term_tab[i];
        if (!v) return UINT32_MAX;
        const tb_term *t = &ix->terms[v - 1];
        if (t->hash == h && t->len == len && !memcmp(ix->pool + t->off, s, len)) return v - 1;
    }
}

static bool term_tab_grow(tb_index *ix)
{
    uint32_t cap = ix->term_tab_cap ? ix->term_tab_cap * 2 : 1024;
    uint32_t *tab = calloc(cap, sizeof *tab);
    if (!tab) return false;
    for (uint32_t id = 0; id < ix->n_terms; id++) {
        uint32_t i = ix->terms[id].hash & (cap - 1);
        while (tab[i]) i = (i + 1) & (cap - 1);
        tab[i] = id + 1;
    }
    free(ix->term_tab);
    ix->term_tab = tab;
    ix->term_tab_cap = cap;
    return true;
}

/* Id of a term, added when new. UINT32_MAX when the vocabulary is full
 * (counted in dropped_terms) or on allocation failure (*nomem set). */
static uint32_t term_intern(tb_index *ix, const char *s, size_t len, bool *nomem)
{
    uint32_t id = tb_term_find(ix, s, len);
    if (id != UINT32_MAX) return id;
    if (ix->n_terms >= ix->cfg.max_terms) {
        ix->dropped_terms++;
        return UINT32_MAX;
    }
    if ((ix->n_terms + 1) * 2 > ix->term_tab_cap && !term_tab_grow(ix)) goto oom;
    if (ix->n_terms == ix->cap_terms) {
        uint32_t cap = ix->cap_terms ? ix->cap_terms * 2 : 1024;
        tb_term *t = realloc(ix->terms, (size_t)cap * sizeof *t);
        if (!t) goto oom;
        ix->terms = t;
        ix->cap_terms = cap;
    }
    if (ix->pool_len + len + 1 > ix->pool_cap) {
        size_t cap = ix->pool_cap ? ix->pool_cap * 2 : 65536;
        while (cap < ix->pool_len + len + 1) cap *= 2;
        char *p = realloc(ix->pool, cap);
        if (!p) goto oom;
        ix->pool = p;
        ix->pool_cap = cap;
    }
    id = ix->n_terms;
    tb_term *t = &ix->terms[id];
    memset(t, 0, sizeof *t);
    t->off = (uint32_t)ix->pool_len;
    t->len = (uint16_t)len;
    t->nchars = (uint16_t)utf8_chars(s, len);
    t->hash = tb_hash(s, len);
    memcpy(ix->pool + ix->pool_len, s, len);
    ix->pool[ix->pool_len + len] = 0;
    ix->pool_len += len + 1;
    uint32_t mask = ix->term_tab_cap - 1, i = t->hash & mask;
    while (ix->term_tab[i]) i = (i + 1) & mask;
    ix->term_tab[i] = id + 1;
    ix->n_terms++;
    tb_typo_add(ix, id);      /* on failure the term is only found exactly */
    return id;
oom:
    *nomem = true;
    return UINT32_MAX;
}

/* ---- article ids ----------------------------------------------------- */

#define TOMB UINT32_MAX

static uint32_t id_find(const tb_index *ix, const char *id, uint32_t *pos)
{
    if (!ix->id_tab_cap) return UINT32_MAX;
    uint32_t mask = ix->id_tab_cap - 1;
    for (uint32_t i = tb_hash(id, strlen(id)) & mask;; i = (i + 1) & mask) {
        uint32_t v = ix->id_tab[i];
        if (!v) return UINT32_MAX;
        if (v != TOMB && !strcmp(ix->docs[v - 1].id, id)) {
            if (pos) *pos = i;
            return v - 1;
        }
    }
}

static void id_insert(tb_index *ix, uint32_t slot)
{
    uint32_t mask = ix->id_tab_cap - 1;
    const char *id = ix->docs[slot].id;
    uint32_t i = tb_hash(id, strlen(id)) & mask;
    while (ix->id_tab[i] && ix->id_tab[i] != TOMB) i = (i + 1) & mask;
    if (!ix->id_tab[i]) ix->id_tab_used++;
    ix->id_tab[i] = slot + 1;
}

/* Makes room for one more id (tombstones count as used). */
static bool id_reserve(tb_index *ix)
{
    if ((ix->id_tab_used + 1) * 2 <= ix->id_tab_cap) return true;
    uint32_t cap = ix->id_tab_cap ? ix->id_tab_cap : 1024;
    while ((ix->live + 1) * 2 > cap / 2) cap *= 2;   /* stay under 1/4 after a rebuild */
    uint32_t *tab = calloc(cap, sizeof *tab);
    if (!tab) return false;
    free(ix->id_tab);
    ix->id_tab = tab;
    ix->id_tab_cap = cap;
    ix->id_tab_used = 0;
    for (uint32_t s = 0; s < ix->n_docs; s++)
        if (ix->docs[s].id) id_insert(ix, s);
    return true;
}

/* ---- put / del --------------------------------------------------------- */

typedef struct hit { uint32_t term; uint32_t field; } hit;

typedef struct builder {
    tb_index *ix;
    tb_token *tok;
    size_t tok_cap;
    hit *hits;
    size_t n_hits, cap_hits;
    uint32_t len[TB_NFIELDS];
    bool nomem;
} builder;

static void add_text(builder *b, const char *s, size_t max_bytes, size_t max_tokens, int field)
{
    if (!s || b->nomem) return;
    if (max_tokens > b->tok_cap) max_tokens = b->tok_cap;
    size_t n = tb_normalize(s, strlen(s), max_bytes, b->tok, max_tokens);
    char term[TB_TOKEN_BYTES];
    for (size_t i = 0; i < n; i++) {
        size_t tl = tb_token_term(b->ix->stem, &b->tok[i], term, sizeof term);
        if (!tl) continue;
        b->len[field]++;
        uint32_t id = term_intern(b->ix, term, tl, &b->nomem);
        if (b->nomem) return;
        if (id == UINT32_MAX) continue;
        if (b->n_hits == b->cap_hits) {
            size_t cap = b->cap_hits ? b->cap_hits * 2 : 256;
            hit *h = realloc(b->hits, cap * sizeof *h);
            if (!h) { b->nomem = true; return; }
            b->hits = h;
            b->cap_hits = cap;
        }
        b->hits[b->n_hits++] = (hit){id, (uint32_t)field};
    }
}

static int cmp_hit(const void *a, const void *b)
{
    const hit *x = a, *y = b;
    return x->term < y->term ? -1 : x->term > y->term;
}

static bool reserve_slot(tb_index *ix)
{
    if (ix->n_free || ix->n_docs < ix->cap_docs) return true;
    uint32_t cap = ix->cap_docs ? ix->cap_docs * 2 : 256;
    tb_doc *d = realloc(ix->docs, (size_t)cap * sizeof *d);
    if (!d) return false;
    ix->docs = d;
    float *acc = realloc(ix->acc, (size_t)cap * sizeof *acc);
    if (!acc) return false;
    ix->acc = acc;
    memset(acc + ix->cap_docs, 0, (size_t)(cap - ix->cap_docs) * sizeof *acc);
    uint32_t *t = realloc(ix->touched, (size_t)cap * sizeof *t);
    if (!t) return false;
    ix->touched = t;
    uint32_t *f = realloc(ix->free_slots, (size_t)cap * sizeof *f);
    if (!f) return false;
    ix->free_slots = f;
    ix->cap_docs = cap;
    return true;
}

static void remove_slot(tb_index *ix, uint32_t slot, uint32_t tabpos)
{
    tb_doc *d = &ix->docs[slot];
    for (uint32_t k = 0; k < d->n_terms; k++) {
        tb_term *t = &ix->terms[d->terms[k]];
        for (uint32_t p = 0; p < t->n_post; p++) {
            if (t->post[p].doc == slot) {
                t->post[p] = t->post[--t->n_post];
                ix->n_postings--;
                break;
            }
        }
    }
    for (int f = 0; f < TB_NFIELDS; f++) ix->sum_len[f] -= d->len[f];
    ix->id_tab[tabpos] = TOMB;
    ix->live--;
    doc_clear(d);
    ix->free_slots[ix->n_free++] = slot;
}

sb_status tb_index_put(tb_index *ix, const tb_article *a)
{
    if (!ix || !a || !a->id || !a->title) return SB_ERR_INVALID;
    size_t idlen = strlen(a->id);
    if (!idlen || idlen > TB_ID_MAX) return SB_ERR_INVALID;
    uint32_t oldpos = 0, old = id_find(ix, a->id, &oldpos);
    if (old == UINT32_MAX && ix->live >= ix->cfg.max_articles) return SB_ERR_FULL;

    const tb_config *c = &ix->cfg;
    builder b = {.ix = ix};
    b.tok_cap = c->max_body_tokens > TITLE_TOKENS ? c->max_body_tokens : TITLE_TOKENS;
    b.tok = malloc(b.tok_cap * sizeof *b.tok);
    if (!b.tok) return SB_ERR_NOMEM;
    add_text(&b, a->title, c->max_title_bytes, TITLE_TOKENS, TB_F_TITLE);
    size_t nk = 0;
    for (size_t i = 0; a->keywords && i < a->n_keywords && nk < c->max_keywords; i++, nk++)
        add_text(&b, a->keywords[i], c->max_keyword_bytes, KEYWORD_TOKENS, TB_F_KEYWORDS);
    nk = 0;
    for (size_t i = 0; a->misspellings && i < a->n_misspellings && nk < c->max_keywords; i++, nk++)
        add_text(&b, a->misspellings[i], c->max_keyword_bytes, KEYWORD_TOKENS, TB_F_KEYWORDS);
    add_text(&b, a->body, c->max_body_bytes, c->max_body_tokens, TB_F_BODY);
    free(b.tok);

    /* Aggregate (term, field) hits into distinct terms with per-field tf. */
    if (b.n_hits) qsort(b.hits, b.n_hits, sizeof *b.hits, cmp_hit);
    tb_posting *agg = NULL;
    uint32_t *terms = NULL;
    size_t n_agg = 0;
    char *id = NULL, *title = NULL;
    if (b.nomem) goto oom;
    if (b.n_hits) {
        agg = malloc(b.n_hits * sizeof *agg);
        terms = malloc(b.n_hits * sizeof *terms);
        if (!agg || !terms) goto oom;
    }
    for (size_t i = 0; i < b.n_hits; i++) {
        if (!n_agg || terms[n_agg - 1] != b.hits[i].term) {
            terms[n_agg] = b.hits[i].term;
            agg[n_agg++] = (tb_posting){0, 0, 0, 0};
        }
        tb_posting *p = &agg[n_agg - 1];
        switch (b.hits[i].field) {
        case TB_F_TITLE: if (p->tf_title < UINT8_MAX) p->tf_title++; break;
        case TB_F_KEYWORDS: if (p->tf_kw < UINT8_MAX) p->tf_kw++; break;
        default: if (p->tf_body < UINT16_MAX) p->tf_body++; break;
        }
    }
    /* Reserve everything, so that nothing below can fail. */
    for (size_t i = 0; i < n_agg; i++) {
        tb_term *t = &ix->terms[terms[i]];
        if (t->n_post == t->cap_post) {
            uint32_t cap = t->cap_post ? t->cap_post * 2 : 4;
            tb_posting *p = realloc(t->post, (size_t)cap * sizeof *p);
            if (!p) goto oom;
            t->post = p;
            t->cap_post = cap;
        }
    }
    id = strdup(a->id);
    size_t tl = strnlen(a->title, c->max_title_bytes);
    while (tl && ((unsigned char)a->title[tl] & 0xC0) == 0x80) tl--;   /* whole characters */
    title = malloc(tl + 1);
    if (!id || !title || !reserve_slot(ix) || !id_reserve(ix)) goto oom;
    memcpy(title, a->title, tl);
    title[tl] = 0;
    if (n_agg) {
        uint32_t *shrunk = realloc(terms, n_agg * sizeof *terms);
        if (shrunk) terms = shrunk;
    }

    if (old != UINT32_MAX) {
        old = id_find(ix, a->id, &oldpos);   /* id_reserve may have rebuilt the table */
        remove_slot(ix, old, oldpos);
    }
    uint32_t slot = ix->n_free ? ix->free_slots[--ix->n_free] : ix->n_docs++;
    tb_doc *d = &ix->docs[slot];
    d->id = id;
    d->title = title;
    d->terms = terms;
    d->n_terms = (uint32_t)n_agg;
    for (int f = 0; f < TB_NFIELDS; f++) {
        d->len[f] = b.len[f];
        ix->sum_len[f] += b.len[f];
    }
    for (size_t i = 0; i < n_agg; i++) {
        tb_term *t = &ix->terms[terms[i]];
        agg[i].doc = slot;
        t->post[t->n_post++] = agg[i];
    }
    ix->n_postings += n_agg;
    ix->acc[slot] = 0;
    id_insert(ix, slot);
    ix->live++;
    free(agg);
    free(b.hits);
    return SB_OK;
oom:
    free(agg);
    free(terms);
    free(id);
    free(title);
    free(b.hits);
    return SB_ERR_NOMEM;
}

sb_status tb_index_del(tb_index *ix, const char *id)
{
    if (!ix || !id) return SB_ERR_INVALID;
    uint32_t pos = 0, slot = id_find(ix, id, &pos);
    if (slot == UINT32_MAX) return SB_ERR_NOT_FOUND;
    remove_slot(ix, slot, pos);
    return SB_OK;
}

const char *tb_index_title(const tb_index *ix, const char *id)
{
    if (!ix || !id) return NULL;
    uint32_t slot = id_find(ix, id, NULL);
    return slot == UINT32_MAX ? NULL : ix->docs[slot].title;
}

void tb_index_stats(const tb_index *ix, tb_stats *st)
{
    memset(st, 0, sizeof *st);
    if (!ix) return;
    st->articles = ix->live;
    st->terms = ix->n_terms;
    st->postings = ix->n_postings;
    st->typo_entries = ix->typo_used;
    st->dropped_terms = ix->dropped_terms;
    size_t bytes = sizeof *ix + ix->pool_cap + (size_t)ix->cap_terms * sizeof(tb_term) +
                   (size_t)ix->term_tab_cap * 4 + (size_t)ix->id_tab_cap * 4 +
                   (size_t)ix->typo_cap * sizeof(tb_typo_slot) +
                   (size_t)ix->cap_docs * (sizeof(tb_doc) + sizeof(float) + 8);
    for (uint32_t i = 0; i < ix->n_terms; i++) bytes += (size_t)ix->terms[i].cap_post * sizeof(tb_posting);
    for (uint32_t i = 0; i < ix->n_docs; i++) {
        const tb_doc *d = &ix->docs[i];
        if (d->id) bytes += strlen(d->id) + strlen(d->title) + 2 + d->n_terms * 4u;
    }
    st->bytes = bytes;
}
