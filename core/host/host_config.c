/* Each instance keeps a private copy of its config section, so that a
 * reload can swap it in (and back, when the plugin refuses the new one)
 * independently of the config file's lifetime. */
#include <stdlib.h>
#include <string.h>

#include "host/host_internal.h"

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

sb_node *sb_node_clone(const sb_node *n)
{
    sb_node *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    *c = *n;
    c->items = NULL;
    c->n_items = 0;
    c->used = false;
    c->key = dup_or_null(n->key);
    c->value = dup_or_null(n->value);
    c->file = dup_or_null(n->file);
    if ((n->key && !c->key) || (n->value && !c->value) || (n->file && !c->file)) goto fail;
    if (n->n_items) {
        c->items = calloc(n->n_items, sizeof *c->items);
        if (!c->items) goto fail;
        for (size_t i = 0; i < n->n_items; i++) {
            if (!(c->items[i] = sb_node_clone(n->items[i]))) goto fail;
            c->n_items = i + 1;
        }
    }
    return c;
fail:
    sb_node_clone_free(c);
    return NULL;
}

void sb_node_clone_free(sb_node *n)
{
    if (!n) return;
    for (size_t i = 0; i < n->n_items; i++) sb_node_clone_free(n->items[i]);
    free(n->items);
    free(n->key);
    free(n->value);
    free((char *)n->file);
    free(n);
}

static bool str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool sb_node_equal(const sb_node *a, const sb_node *b)
{
    if (a->kind != b->kind || a->n_items != b->n_items || a->quoted != b->quoted ||
        a->is_null != b->is_null || !str_eq(a->key, b->key) || !str_eq(a->value, b->value))
        return false;
    for (size_t i = 0; i < a->n_items; i++)
        if (!sb_node_equal(a->items[i], b->items[i])) return false;
    return true;
}
