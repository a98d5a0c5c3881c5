/* Query: question -> terms (+ typo candidates) -> BM25 per field, weighted
 * and summed over the postings of those terms only -> top N. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "search_internal.h"

#define K1 1.2
#define B 0.75
#define QUERY_TOKENS_CAP 256
#define QTERMS_CAP 512
/* A typo candidate counts for less than the word itself. */
static const double typo_weight[3] = {1.0, 0.6, 0.4};

typedef struct qterm { uint32_t term; double weight; } qterm;

static void qterm_add(qterm *q, size_t *n, uint32_t term, double w)
{
    for (size_t i = 0; i < *n; i++) {
        if (q[i].term == term) {
            if (w > q[i].weight) q[i].weight = w;
            return;
        }
    }
    if (*n < QTERMS_CAP) q[(*n)++] = (qterm){term, w};
}

static double field_score(double tf, double len, double avg)
{
    return tf * (K1 + 1) / (tf + K1 * (1 - B + B * len / avg));
}

/* Better result first: higher score, then smaller id (stable order). */
static bool better(const tb_index *ix, float s1, uint32_t d1, float s2, uint32_t d2)
{
    if (s1 != s2) return s1 > s2;
    return strcmp(ix->docs[d1].id, ix->docs[d2].id) < 0;
}

/* Runs the query; fills slots[] and scores[] (best first), returns count. */
static size_t run(tb_index *ix, const char *query, size_t limit, uint32_t *slots, float *scores)
{
    if (!query || !ix->live) return 0;
    if (limit > TB_LIMIT_MAX) limit = TB_LIMIT_MAX;
    size_t maxtok = ix->cfg.max_query_tokens < QUERY_TOKENS_CAP ? ix->cfg.max_query_tokens : QUERY_TOKENS_CAP;
    tb_token tok[QUERY_TOKENS_CAP];
    size_t nt = tb_normalize(query, strlen(query), ix->cfg.max_query_bytes, tok, maxtok);

    qterm q[QTERMS_CAP];
    size_t nq = 0;
    tb_candidate cand[32];
    size_t maxc = ix->cfg.max_candidates < 32 ? ix->cfg.max_candidates : 32;
    char term[TB_TOKEN_BYTES];
    for (size_t i = 0; i < nt; i++) {
        size_t tl = tb_token_term(ix->stem, &tok[i], term, sizeof term);
        if (!tl) continue;
        uint32_t id = tb_term_find(ix, term, tl);
        if (id != UINT32_MAX && ix->terms[id].n_post) {
            qterm_add(q, &nq, id, typo_weight[0]);
            continue;
        }
        size_t nc = tb_typo_candidates(ix, term, tl, cand, maxc);
        for (size_t c = 0; c < nc; c++)
            qterm_add(q, &nq, cand[c].term, typo_weight[cand[c].dist]);
    }
    if (!nq) return 0;

    const double w[TB_NFIELDS] = {ix->cfg.w_title, ix->cfg.w_keywords, ix->cfg.w_body};
    double avg[TB_NFIELDS];
    for (int f = 0; f < TB_NFIELDS; f++) {
        avg[f] = (double)ix->sum_len[f] / ix->live;
        if (avg[f] <= 0) avg[f] = 1;
    }
    size_t ntouched = 0;
    const double N = ix->live;
    for (size_t i = 0; i < nq; i++) {
        const tb_term *t = &ix->terms[q[i].term];
        double df = t->n_post;
        double idf = log(1.0 + (N - df + 0.5) / (df + 0.5));
        double qw = idf * q[i].weight;
        for (uint32_t p = 0; p < t->n_post; p++) {
            const tb_posting *po = &t->post[p];
            const tb_doc *d = &ix->docs[po->doc];
            double s = 0;
            if (po->tf_title) s += w[TB_F_TITLE] * field_score(po->tf_title, d->len[TB_F_TITLE], avg[TB_F_TITLE]);
            if (po->tf_kw) s += w[TB_F_KEYWORDS] * field_score(po->tf_kw, d->len[TB_F_KEYWORDS], avg[TB_F_KEYWORDS]);
            if (po->tf_body) s += w[TB_F_BODY] * field_score(po->tf_body, d->len[TB_F_BODY], avg[TB_F_BODY]);
            if (ix->acc[po->doc] == 0) ix->touched[ntouched++] = po->doc;
            ix->acc[po->doc] += (float)(qw * s);
        }
    }
    /* Top `limit` by insertion; the scratch is reset as it is read. */
    size_t n = 0;
    for (size_t i = 0; i < ntouched; i++) {
        uint32_t d = ix->touched[i];
        float s = ix->acc[d];
        ix->acc[d] = 0;
        if (n == limit && !better(ix, s, d, scores[n - 1], slots[n - 1])) continue;
        size_t pos = n < limit ? n++ : n - 1;
        while (pos > 0 && better(ix, s, d, scores[pos - 1], slots[pos - 1])) {
            scores[pos] = scores[pos - 1];
            slots[pos] = slots[pos - 1];
            pos--;
        }
        scores[pos] = s;
        slots[pos] = d;
    }
    return n;
}

size_t tb_query_terms(tb_index *ix, const char *query)
{
    if (!ix || !query) return 0;
    size_t maxtok = ix->cfg.max_query_tokens < QUERY_TOKENS_CAP ? ix->cfg.max_query_tokens : QUERY_TOKENS_CAP;
    tb_token tok[QUERY_TOKENS_CAP];
    size_t nt = tb_normalize(query, strlen(query), ix->cfg.max_query_bytes, tok, maxtok);
    size_t n = 0;
    char term[TB_TOKEN_BYTES];
    for (size_t i = 0; i < nt; i++)
        if (tb_token_term(ix->stem, &tok[i], term, sizeof term)) n++;
    return n;
}

sb_status tb_search(tb_index *ix, const char *query, size_t limit,
                    tb_result *results, size_t *n)
{
    if (n) *n = 0;
    if (!ix || !n || (limit && !results)) return SB_ERR_INVALID;
    if (!limit) return SB_OK;
    uint32_t slots[TB_LIMIT_MAX];
    float scores[TB_LIMIT_MAX];
    size_t k = run(ix, query, limit, slots, scores);
    for (size_t i = 0; i < k; i++) {
        snprintf(results[i].id, sizeof results[i].id, "%s", ix->docs[slots[i]].id);
        results[i].score = scores[i];
    }
    *n = k;
    return SB_OK;
}

char *tb_search_json(tb_index *ix, const char *query, size_t limit)
{
    if (!ix) return NULL;
    uint32_t slots[TB_LIMIT_MAX];
    float scores[TB_LIMIT_MAX];
    size_t k = limit ? run(ix, query, limit, slots, scores) : 0;
    json_t *items = json_array();
    json_t *root = json_pack("{s:o}", "items", items);
    if (!root) return NULL;
    for (size_t i = 0; i < k; i++) {
        const tb_doc *d = &ix->docs[slots[i]];
        /* ids and titles are checked UTF-8 by jansson; a bad one is skipped */
        json_t *it = json_pack("{s:s, s:s, s:f}", "id", d->id, "title", d->title,
                               "score", round(scores[i] * 1000.0) / 1000.0);
        if (it) json_array_append_new(items, it);
    }
    char *out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return out;
}
