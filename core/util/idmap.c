/* Open addressing with linear probing; deletion shifts the rest of the probe
 * run back, so there are no tombstones and lookups stay short however many
 * ids come and go. */
#include "util/idmap.h"

#include <stdlib.h>

struct sb_idmap_slot {
    uint64_t k, v;
};

static size_t slot_of(uint64_t k, size_t cap)
{
    /* splitmix64 finalizer: sequential ids spread over the table */
    k ^= k >> 30;
    k *= UINT64_C(0xbf58476d1ce4e5b9);
    k ^= k >> 27;
    k *= UINT64_C(0x94d049bb133111eb);
    k ^= k >> 31;
    return (size_t)k & (cap - 1);
}

/* The slot holding k, or the empty slot where it would go. cap > 0, and the
 * table is never full (load stays below 3/4). */
static size_t find(const struct sb_idmap_slot *s, size_t cap, uint64_t k)
{
    size_t i = slot_of(k, cap);
    while (s[i].k && s[i].k != k) i = (i + 1) & (cap - 1);
    return i;
}

bool sb_idmap_get(const sb_idmap *m, uint64_t k, uint64_t *v)
{
    if (!m->cap || !k) return false;
    const struct sb_idmap_slot *s = &m->slots[find(m->slots, m->cap, k)];
    if (!s->k) return false;
    if (v) *v = s->v;
    return true;
}

static sb_status grow(sb_idmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct sb_idmap_slot *ns = calloc(cap, sizeof *ns);
    if (!ns) return SB_ERR_NOMEM;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].k) ns[find(ns, cap, m->slots[i].k)] = m->slots[i];
    free(m->slots);
    m->slots = ns;
    m->cap = cap;
    return SB_OK;
}

sb_status sb_idmap_put(sb_idmap *m, uint64_t k, uint64_t v)
{
    if (!k) return SB_ERR_INVALID;
    if ((m->n + 1) * 4 > m->cap * 3) {
        sb_status s = grow(m);
        if (s != SB_OK) return s;
    }
    struct sb_idmap_slot *s = &m->slots[find(m->slots, m->cap, k)];
    if (!s->k) m->n++;
    s->k = k;
    s->v = v;
    return SB_OK;
}

bool sb_idmap_del(sb_idmap *m, uint64_t k)
{
    if (!m->cap || !k) return false;
    size_t mask = m->cap - 1, i = find(m->slots, m->cap, k);
    if (!m->slots[i].k) return false;
    /* Backward shift: move a later member of the run into the hole unless
     * its home slot lies cyclically in (hole, j], where it can still be
     * found. */
    for (size_t j = (i + 1) & mask; m->slots[j].k; j = (j + 1) & mask) {
        size_t home = slot_of(m->slots[j].k, m->cap);
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].k = 0;
    m->slots[i].v = 0;
    m->n--;
    return true;
}

bool sb_idmap_next(const sb_idmap *m, size_t *pos, uint64_t *k, uint64_t *v)
{
    for (; *pos < m->cap; ++*pos) {
        const struct sb_idmap_slot *s = &m->slots[*pos];
        if (!s->k) continue;
        if (k) *k = s->k;
        if (v) *v = s->v;
        ++*pos;
        return true;
    }
    return false;
}

void sb_idmap_free(sb_idmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}
