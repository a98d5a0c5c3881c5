#include "engine/internal.h"

/* An order-statistic treap: expected O(log n) insert, remove, rank and
 * select, with the subtree size and the minimum of `aux` kept in every
 * node. Split/merge keep it short; recursion depth is the tree's height
 * (expected ~2.5 log2 n, a few dozen frames at millions of nodes). */

static uint32_t next_pri(void)
{
    /* xorshift32: heap priorities only need to be spread, one loop thread */
    static uint32_t x = 2463534242u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
}

static int cmp(const uint64_t *a, const uint64_t *b)
{
    for (int i = 0; i < 3; i++)
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    return 0;
}

static size_t sz(const sb_eng_tnode *n) { return n ? n->size : 0; }

static void upd(sb_eng_tnode *n)
{
    n->size = 1 + (uint32_t)sz(n->l) + (uint32_t)sz(n->r);
    int64_t m = n->aux;
    if (n->l && n->l->aux_min < m) m = n->l->aux_min;
    if (n->r && n->r->aux_min < m) m = n->r->aux_min;
    n->aux_min = m;
}

/* *l: keys < k (or <= k when le), *r: the rest. */
static void split(sb_eng_tnode *t, const uint64_t *k, bool le, sb_eng_tnode **l,
                  sb_eng_tnode **r)
{
    if (!t) { *l = *r = NULL; return; }
    int c = cmp(t->k, k);
    if (c < 0 || (le && c == 0)) {
        split(t->r, k, le, &t->r, r);
        *l = t;
    } else {
        split(t->l, k, le, l, &t->l);
        *r = t;
    }
    upd(t);
}

static sb_eng_tnode *merge(sb_eng_tnode *a, sb_eng_tnode *b)
{
    if (!a) return b;
    if (!b) return a;
    if (a->pri > b->pri) {
        a->r = merge(a->r, b);
        upd(a);
        return a;
    }
    b->l = merge(a, b->l);
    upd(b);
    return b;
}

void sb_eng_tree_insert(sb_eng_tree *t, sb_eng_tnode *n)
{
    if (n->in) return;
    n->l = n->r = NULL;
    n->pri = next_pri();
    upd(n);
    sb_eng_tnode *l, *r;
    split(t->root, n->k, false, &l, &r);
    t->root = merge(merge(l, n), r);
    n->in = true;
}

void sb_eng_tree_remove(sb_eng_tree *t, sb_eng_tnode *n)
{
    if (!n->in) return;
    sb_eng_tnode *l, *m, *r;
    split(t->root, n->k, false, &l, &m);
    split(m, n->k, true, &m, &r);
    /* m is n alone: keys are unique (the last part is always an id) */
    t->root = merge(l, r);
    n->in = false;
    n->l = n->r = NULL;
}

sb_eng_tnode *sb_eng_tree_at(const sb_eng_tree *t, size_t i)
{
    sb_eng_tnode *n = t->root;
    while (n) {
        size_t ls = sz(n->l);
        if (i < ls) n = n->l;
        else if (i == ls) return n;
        else { i -= ls + 1; n = n->r; }
    }
    return NULL;
}

sb_eng_tnode *sb_eng_tree_first(const sb_eng_tree *t)
{
    sb_eng_tnode *n = t->root;
    while (n && n->l) n = n->l;
    return n;
}

size_t sb_eng_tree_rank(const sb_eng_tree *t, const sb_eng_tnode *x)
{
    size_t r = 0;
    for (sb_eng_tnode *n = t->root; n;) {
        int c = cmp(x->k, n->k);
        if (c <= 0) n = n->l;
        else { r += sz(n->l) + 1; n = n->r; }
    }
    return r;
}

sb_eng_tnode *sb_eng_tree_after(const sb_eng_tree *t, const uint64_t k[3])
{
    sb_eng_tnode *best = NULL;
    for (sb_eng_tnode *n = t->root; n;) {
        if (cmp(n->k, k) > 0) { best = n; n = n->l; }
        else n = n->r;
    }
    return best;
}

size_t sb_eng_tree_size(const sb_eng_tree *t) { return sz(t->root); }

int64_t sb_eng_tree_aux_min(const sb_eng_tree *t)
{
    return t->root ? t->root->aux_min : INT64_MAX;
}
