/* Request and WebSocket ids -> live connection: open addressing with linear
 * probing and backward-shift deletion (no tombstones). Key 0 marks an empty
 * slot; ids are never 0. */
#include <stdlib.h>

#include "net/http_internal.h"

struct sb_http_idslot {
    uint64_t id;
    sb_http_conn *c;
};

static size_t slot_of(uint64_t id, size_t cap)
{
    /* splitmix64 finalizer: sequential ids spread over the table */
    id ^= id >> 30;
    id *= 0xbf58476d1ce4e5b9ULL;
    id ^= id >> 27;
    id *= 0x94d049bb133111ebULL;
    id ^= id >> 31;
    return (size_t)id & (cap - 1);
}

static void raw_put(struct sb_http_idslot *s, size_t cap, uint64_t id, sb_http_conn *c)
{
    size_t i = slot_of(id, cap);
    while (s[i].id != 0 && s[i].id != id)
        i = (i + 1) & (cap - 1);
    s[i].id = id;
    s[i].c = c;
}

sb_status sb_http_idmap_put(sb_http_idmap *m, uint64_t id, sb_http_conn *c)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        struct sb_http_idslot *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return SB_ERR_NOMEM;
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].id)
                raw_put(ns, ncap, m->slots[i].id, m->slots[i].c);
        free(m->slots);
        m->slots = ns;
        m->cap = ncap;
    }
    raw_put(m->slots, m->cap, id, c);
    m->n++;
    return SB_OK;
}

sb_http_conn *sb_http_idmap_get(const sb_http_idmap *m, uint64_t id)
{
    if (!m->cap || id == 0)
        return NULL;
    for (size_t i = slot_of(id, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->slots[i].id == id)
            return m->slots[i].c;
        if (m->slots[i].id == 0)
            return NULL;
    }
}

void sb_http_idmap_del(sb_http_idmap *m, uint64_t id)
{
    size_t i, j, mask;
    if (!m->cap || id == 0)
        return;
    mask = m->cap - 1;
    for (i = slot_of(id, m->cap); m->slots[i].id != id; i = (i + 1) & mask)
        if (m->slots[i].id == 0)
            return;
    /* Shift later members of the probe run back into the hole, when their
     * home slot is not between the hole and their position. */
    for (j = (i + 1) & mask; m->slots[j].id != 0; j = (j + 1) & mask) {
        size_t home = slot_of(m->slots[j].id, m->cap);
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].id = 0;
    m->slots[i].c = NULL;
    m->n--;
}

void sb_http_idmap_free(sb_http_idmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}
