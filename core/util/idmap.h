/* A u64 -> u64 hash map for ids (request, WebSocket, operator, conversation
 * and message ids) that are looked up on every event. Keys are non-zero: 0
 * marks an empty slot. A pointer is stored as (uint64_t)(uintptr_t)p.
 *
 * Thread: a map belongs to one thread; no locking. Lifetime: zero-initialise
 * (sb_idmap m = {0}) before use; sb_idmap_free releases the table and leaves
 * an empty map that can be used again. */
#ifndef SB_IDMAP_H
#define SB_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <switchboard/plugin.h>

typedef struct sb_idmap {
    struct sb_idmap_slot *slots;
    size_t cap, n; /* cap: a power of two, or 0 before the first put */
} sb_idmap;

/* True and *v (when v is not NULL) set when k is present. k == 0: false. */
bool sb_idmap_get(const sb_idmap *m, uint64_t k, uint64_t *v);
/* Inserts or replaces k's value. SB_ERR_INVALID for k == 0, SB_ERR_NOMEM when
 * the table cannot grow (the map is then unchanged). */
sb_status sb_idmap_put(sb_idmap *m, uint64_t k, uint64_t v);
/* Removes k; false when it was absent. */
bool sb_idmap_del(sb_idmap *m, uint64_t k);
/* Walks the entries in table order: start with *pos = 0; each true return
 * sets *k and *v (either may be NULL) to one entry. The map must not change
 * during the walk (a put may grow it, a del shifts entries). */
bool sb_idmap_next(const sb_idmap *m, size_t *pos, uint64_t *k, uint64_t *v);
void sb_idmap_free(sb_idmap *m);

#endif
