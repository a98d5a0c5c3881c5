/* Typo candidates, SymSpell-style: every vocabulary term of >= 4 letters is
 * stored under the hashes of its "deletes" (the term's first
 * TB_TYPO_PREFIX letters with up to 1 letter removed, 2 for terms of >= 8
 * letters). A query term's own deletes then find the terms within that
 * edit distance without scanning the vocabulary; each hit is verified with
 * a real edit distance, so hash collisions cost time, never wrong results. */
#include <stdlib.h>
#include <string.h>
#include "search_internal.h"

#define MAX_DELETES 160      /* 1 + 9 + 9*8 with repeats, before dedup */
#define MAX_CHECKED 512      /* distinct terms verified per query term */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t key_of(const uint32_t *w, size_t n)
{
    uint32_t h = tb_hash(w, n * sizeof *w);
    return h ? h : 1;        /* 0 marks an empty slot */
}

static void deletes_rec(uint32_t *w, size_t n, int depth, uint32_t *keys, size_t *nk)
{
    if (!depth || n <= 1) return;
    uint32_t tmp[TB_TYPO_PREFIX];
    for (size_t i = 0; i < n && *nk < MAX_DELETES; i++) {
        size_t m = 0;
        for (size_t j = 0; j < n; j++)
            if (j != i) tmp[m++] = w[j];
        keys[(*nk)++] = key_of(tmp, m);
        deletes_rec(tmp, m, depth - 1, keys, nk);
    }
}

/* Sorted distinct keys of the deletes of w's prefix, w's prefix included. */
static size_t deletes(const uint32_t *w, size_t n, int depth, uint32_t *keys)
{
    uint32_t p[TB_TYPO_PREFIX];
    if (n > TB_TYPO_PREFIX) n = TB_TYPO_PREFIX;
    memcpy(p, w, n * sizeof *w);
    size_t nk = 0;
    keys[nk++] = key_of(p, n);
    deletes_rec(p, n, depth, keys, &nk);
    qsort(keys, nk, sizeof *keys, cmp_u32);
    size_t u = 0;
    for (size_t i = 0; i < nk; i++)
        if (!u || keys[u - 1] != keys[i]) keys[u++] = keys[i];
    return u;
}

static bool typo_grow(tb_index *ix)
{
    uint32_t cap = ix->typo_cap ? ix->typo_cap * 2 : 8192;
    tb_typo_slot *t = calloc(cap, sizeof *t);
    if (!t) return false;
    for (uint32_t i = 0; i < ix->typo_cap; i++) {
        if (!ix->typo[i].key) continue;
        uint32_t j = ix->typo[i].key & (cap - 1);
        while (t[j].key) j = (j + 1) & (cap - 1);
        t[j] = ix->typo[i];
    }
    free(ix->typo);
    ix->typo = t;
    ix->typo_cap = cap;
    return true;
}

sb_status tb_typo_add(tb_index *ix, uint32_t term)
{
    const tb_term *t = &ix->terms[term];
    int depth = tb_typo_max_dist(t->nchars);
    if (!depth) return SB_OK;
    /* Bounded like the vocabulary: at most ~16 entries per allowed term. */
    if (ix->typo_used >= (uint64_t)ix->cfg.max_terms * 16) return SB_ERR_FULL;
    uint32_t w[TB_TOKEN_CHARS], keys[MAX_DELETES + 1];
    size_t n = tb_utf8_decode_all(tb_term_str(ix, term), t->len, w, TB_TOKEN_CHARS);
    size_t nk = deletes(w, n, depth, keys);
    if ((ix->typo_used + nk) * 2 > ix->typo_cap) {
        while ((ix->typo_used + nk) * 2 > ix->typo_cap)
            if (!typo_grow(ix)) return SB_ERR_NOMEM;
    }
    uint32_t mask = ix->typo_cap - 1;
    for (size_t k = 0; k < nk; k++) {
        uint32_t j = keys[k] & mask;
        while (ix->typo[j].key) j = (j + 1) & mask;
        ix->typo[j] = (tb_typo_slot){keys[k], term};
        ix->typo_used++;
    }
    return SB_OK;
}

void tb_typo_free(tb_index *ix)
{
    free(ix->typo);
    ix->typo = NULL;
    ix->typo_cap = ix->typo_used = 0;
}

int tb_edit_distance(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, int maxd)
{
    if (na > TB_TOKEN_CHARS || nb > TB_TOKEN_CHARS) return maxd + 1;
    int diff = (int)na - (int)nb;
    if (diff > maxd || -diff > maxd) return maxd + 1;
    int d[TB_TOKEN_CHARS + 1][TB_TOKEN_CHARS + 1];
    for (size_t i = 0; i <= na; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= nb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        int rowmin = maxd + 1;
        for (size_t j = 1; j <= nb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < v) v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;     /* adjacent transposition */
            d[i][j] = v;
            if (v < rowmin) rowmin = v;
        }
        if (rowmin > maxd) return maxd + 1;
    }
    return d[na][nb];
}

static int cmp_cand(const void *x, const void *y, const tb_index *ix)
{
    const tb_candidate *a = x, *b = y;
    if (a->dist != b->dist) return a->dist - b->dist;
    uint32_t da = ix->terms[a->term].n_post, db = ix->terms[b->term].n_post;
    return da > db ? -1 : da < db;
}

size_t tb_typo_candidates(const tb_index *ix, const char *s, size_t len,
                          tb_candidate *out, size_t max)
{
    if (!ix->typo_cap || !max) return 0;
    uint32_t q[TB_TOKEN_CHARS], keys[MAX_DELETES + 1], seen[MAX_CHECKED];
    size_t nq = tb_utf8_decode_all(s, len, q, TB_TOKEN_CHARS);
    int dq = tb_typo_max_dist(nq);
    if (!dq) return 0;
    size_t nk = deletes(q, nq, dq, keys), nseen = 0, n = 0;
    uint32_t mask = ix->typo_cap - 1;
    for (size_t k = 0; k < nk && nseen < MAX_CHECKED; k++) {
        for (uint32_t j = keys[k] & mask; ix->typo[j].key && nseen < MAX_CHECKED; j = (j + 1) & mask) {
            if (ix->typo[j].key != keys[k]) continue;
            uint32_t id = ix->typo[j].term;
            bool dup = false;
            for (size_t i = 0; i < nseen && !dup; i++) dup = seen[i] == id;
            if (dup) continue;
            seen[nseen++] = id;
            const tb_term *t = &ix->terms[id];
            if (!t->n_post) continue;                   /* no live article has it */
            int allowed = tb_typo_max_dist(t->nchars);
            if (dq < allowed) allowed = dq;
            uint32_t w[TB_TOKEN_CHARS];
            size_t nw = tb_utf8_decode_all(tb_term_str(ix, id), t->len, w, TB_TOKEN_CHARS);
            int dist = tb_edit_distance(q, nq, w, nw, allowed);
            if (dist < 1 || dist > allowed) continue;   /* 0: the term itself */
            tb_candidate c = {id, dist};
            /* keep the best max: insertion into a sorted array */
            size_t pos = n;
            while (pos > 0 && cmp_cand(&c, &out[pos - 1], ix) < 0) pos--;
            if (pos >= max) continue;
            if (n < max) n++;
            memmove(&out[pos + 1], &out[pos], (n - 1 - pos) * sizeof *out);
            out[pos] = c;
        }
    }
    return n;
}
