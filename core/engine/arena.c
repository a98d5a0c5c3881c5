#include "engine/records.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

/* A loaded record is many small strings that die together: one bump
 * allocator per record turns a dozen frees into one. */
struct sb_eng_chunk {
    sb_eng_chunk *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
};

enum { CHUNK = 1024 };

void *sb_eng_alloc(sb_eng_arena *a, size_t n)
{
    const size_t al = alignof(max_align_t);
    if (n > SIZE_MAX / 2) return NULL;
    n = (n + al - 1) / al * al;
    if (n == 0) n = al;
    sb_eng_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK ? n : CHUNK;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

char *sb_eng_strndup(sb_eng_arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX) return NULL;
    char *p = sb_eng_alloc(a, n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void sb_eng_arena_free(sb_eng_arena *a)
{
    while (a->head) {
        sb_eng_chunk *c = a->head;
        a->head = c->next;
        free(c);
    }
}
