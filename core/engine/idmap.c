#include "engine/internal.h"

#include <stdlib.h>

/* Open addressing with linear probing; deletion shifts the run back, so
 * there are no tombstones and lookups stay short however many ops come
 * and go. Key 0 marks an empty slot. */

static size_t slot(uint64_t k, size_t cap)
{
    k ^= k >> 33;
    k *= UINT64_C(0xff51afd7ed558ccd);
    k ^= k >> 33;
    return (size_t)k & (cap - 1);
}

bool sb_eng_idmap_get(const sb_eng_idmap *m, uint64_t k, uint64_t *v)
{
    if (!m->cap || !k) return false;
    for (size_t i = slot(k, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == k) {
            if (v) *v = m->vals[i];
            return true;
        }
        if (!m->keys[i]) return false;
    }
}

static sb_status grow(sb_eng_idmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    uint64_t *keys = calloc(cap, sizeof *keys), *vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return SB_ERR_NOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = slot(m->keys[i], cap);
        while (keys[j]) j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return SB_OK;
}

sb_status sb_eng_idmap_put(sb_eng_idmap *m, uint64_t k, uint64_t v)
{
    if (!k) return SB_ERR_INVALID;
    if ((m->n + 1) * 4 > m->cap * 3) {
        sb_status s = grow(m);
        if (s != SB_OK) return s;
    }
    size_t i = slot(k, m->cap);
    while (m->keys[i] && m->keys[i] != k) i = (i + 1) & (m->cap - 1);
    if (!m->keys[i]) m->n++;
    m->keys[i] = k;
    m->vals[i] = v;
    return SB_OK;
}

bool sb_eng_idmap_del(sb_eng_idmap *m, uint64_t k)
{
    if (!m->cap || !k) return false;
    size_t mask = m->cap - 1, i = slot(k, m->cap);
    while (m->keys[i] != k) {
        if (!m->keys[i]) return false;
        i = (i + 1) & mask;
    }
    /* Backward shift: move later members of the run into the hole when
     * their home slot does not lie cyclically in (hole, j]. */
    for (size_t j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
        size_t h = slot(m->keys[j], m->cap);
        bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (stays) continue;
        m->keys[i] = m->keys[j];
        m->vals[i] = m->vals[j];
        i = j;
    }
    m->keys[i] = 0;
    m->n--;
    return true;
}

void sb_eng_idmap_free(sb_eng_idmap *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = m->vals = NULL;
    m->cap = m->n = 0;
}
