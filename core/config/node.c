/* The located node tree: building, freeing, positions, unused-key checks. */
#include "config/config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sb_node *sb_node_new(sb_node_kind kind, const char *file, int line, int col)
{
    sb_node *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->kind = kind;
    n->file = file;
    n->line = line;
    n->col = col;
    if (kind == SB_NODE_SCALAR && !(n->value = strdup(""))) {
        free(n);
        return NULL;
    }
    return n;
}

int sb_node_append(sb_node *parent, sb_node *child)
{
    size_t n = parent->n_items;
    /* Capacity is implied by the count (4, then powers of two), so the
     * public struct needs no capacity field. */
    if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
        size_t cap = n == 0 ? 4 : n * 2;
        sb_node **items = realloc(parent->items, cap * sizeof *items);
        if (!items) return -1;
        parent->items = items;
    }
    parent->items[parent->n_items++] = child;
    return 0;
}

void sb_node_free(sb_node *n)
{
    if (!n) return;
    for (size_t i = 0; i < n->n_items; i++) sb_node_free(n->items[i]);
    free(n->items);
    free(n->key);
    free(n->value);
    free(n);
}

const char *sb_node_where(const sb_node *n, char *buf, size_t len)
{
    if (n->line > 0)
        snprintf(buf, len, "%s:%d:%d", n->file, n->line, n->col);
    else
        snprintf(buf, len, "%s", n->file);
    return buf;
}

int sb_node_errf(const sb_node *n, const char *path, char *err, size_t errlen,
                 const char *fmt, ...)
{
    if (!err || errlen == 0) return -1;
    int k = n->line > 0 ? snprintf(err, errlen, "%s:%d:%d: ", n->file, n->line, n->col)
                        : snprintf(err, errlen, "%s: ", n->file);
    if (path && k >= 0 && (size_t)k < errlen)
        k += snprintf(err + k, errlen - (size_t)k, "%s: ", path);
    if (k >= 0 && (size_t)k < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void sb_node_mark_used(sb_node *n)
{
    n->used = true;
    for (size_t i = 0; i < n->n_items; i++) sb_node_mark_used(n->items[i]);
}

/* Appends ".key" or "[i]" of child i of n to path (kept NUL-terminated,
 * cut off when it does not fit: the position still names the place). */
static size_t path_push(char *path, size_t cap, size_t len, const sb_node *n, size_t i)
{
    int k;
    if (n->kind == SB_NODE_MAP)
        k = snprintf(path + len, cap - len, "%s%s", len ? "." : "", n->items[i]->key);
    else
        k = snprintf(path + len, cap - len, "[%zu]", i);
    if (k < 0) return len;
    return len + (size_t)k >= cap ? cap - 1 : len + (size_t)k;
}

static const sb_node *first_unused(const sb_node *n, char *path, size_t cap, size_t len)
{
    for (size_t i = 0; i < n->n_items; i++) {
        size_t l = path_push(path, cap, len, n, i);
        const sb_node *c = n->items[i];
        if (!c->used) return c;
        const sb_node *u = first_unused(c, path, cap, l);
        if (u) return u;
        path[len] = '\0';
    }
    return NULL;
}

int sb_node_check_unused(const sb_node *n, const char *prefix, char *err, size_t errlen)
{
    char path[1024];
    int k = snprintf(path, sizeof path, "%s", prefix ? prefix : "");
    size_t len = k < 0 ? 0 : ((size_t)k >= sizeof path ? sizeof path - 1 : (size_t)k);
    const sb_node *u = first_unused(n, path, sizeof path, len);
    if (!u) return 0;
    return sb_node_errf(u, path, err, errlen, "unknown key");
}
