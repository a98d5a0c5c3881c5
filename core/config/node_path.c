/* Dotted paths into the tree ("plugins[0].config.token"): find and --set. */
#include "config/config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARTS 64
#define MAX_ASSIGNMENT ((size_t)64 << 10)

typedef struct {
    const char *key;  /* NULL for an index */
    size_t key_len;
    size_t index;
    size_t end;       /* offset just past this part in the path text */
} part;

/* Splits path[0..len) into parts. -1 when malformed, -2 when too deep. */
static int split_path(const char *path, size_t len, part *parts, size_t *n_parts)
{
    size_t i = 0, n = 0;
    while (i < len) {
        if (n == MAX_PARTS) return -2;
        part *p = &parts[n];
        if (path[i] == '[') {
            size_t j = i + 1, digits = 0, v = 0;
            for (; j < len && path[j] >= '0' && path[j] <= '9' && digits < 9; j++, digits++)
                v = v * 10 + (size_t)(path[j] - '0');
            if (digits == 0 || j >= len || path[j] != ']') return -1;
            *p = (part){NULL, 0, v, j + 1};
            i = j + 1;
        } else {
            if (n > 0) {
                if (path[i] != '.') return -1;
                i++;
            }
            size_t j = i;
            while (j < len && path[j] != '.' && path[j] != '[' && path[j] != ']') j++;
            if (j == i) return -1;
            *p = (part){path + i, j - i, 0, j};
            i = j;
        }
        n++;
    }
    *n_parts = n;
    return n > 0 && parts[0].key ? 0 : -1;
}

static sb_node *map_get(const sb_node *map, const char *key, size_t key_len)
{
    for (size_t i = 0; i < map->n_items; i++) {
        const char *k = map->items[i]->key;
        if (k && strlen(k) == key_len && memcmp(k, key, key_len) == 0) return map->items[i];
    }
    return NULL;
}

sb_node *sb_node_find(const sb_node *n, const char *path)
{
    part parts[MAX_PARTS];
    size_t n_parts;
    if (!n || !path || split_path(path, strlen(path), parts, &n_parts) != 0) return NULL;
    const sb_node *cur = n;
    for (size_t i = 0; i < n_parts && cur; i++) {
        if (parts[i].key)
            cur = cur->kind == SB_NODE_MAP ? map_get(cur, parts[i].key, parts[i].key_len) : NULL;
        else
            cur = cur->kind == SB_NODE_SEQ && parts[i].index < cur->n_items
                      ? cur->items[parts[i].index] : NULL;
    }
    return (sb_node *)cur;
}

static bool is_null_text(const char *v)
{
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
           !strcmp(v, "NULL");
}

/* One assignment being applied: what its messages need. */
typedef struct {
    const char *key;  /* the assignment text; the key is its first key_len bytes */
    size_t key_len;
    char *err;
    size_t errlen;
} setter;

/* "--set KEY: <what>"; returns -1. */
static int set_fail(const setter *S, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int set_fail(const setter *S, const char *fmt, ...)
{
    if (!S->err || S->errlen == 0) return -1;
    int k = snprintf(S->err, S->errlen, "--set %.*s: ", (int)S->key_len, S->key);
    if (k >= 0 && (size_t)k < S->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(S->err + k, S->errlen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* The child of cur named by part i, created (as a map, or as a scalar when
 * it is the last part) when absent; NULL after writing a message. */
static sb_node *walk_key(const setter *S, sb_node *cur, const part *parts, size_t i,
                         size_t n, size_t done)
{
    const char *a = S->key;
    const part *p = &parts[i];
    if (cur->kind == SB_NODE_SCALAR && cur->is_null) {
        /* `section:` with nothing behind it is an empty map to fill. */
        free(cur->value);
        cur->value = NULL;
        cur->is_null = false;
        cur->kind = SB_NODE_MAP;
    }
    if (cur->kind == SB_NODE_SCALAR) {
        set_fail(S, "%.*s is a scalar, not a map", (int)done, a);
        return NULL;
    }
    if (cur->kind == SB_NODE_SEQ) {
        set_fail(S, "%.*s is a list: index it as %.*s[N]", (int)done, a, (int)done, a);
        return NULL;
    }
    sb_node *next = map_get(cur, p->key, p->key_len);
    if (next) return next;
    bool last = i + 1 == n;
    if (!last && !parts[i + 1].key) {
        set_fail(S, "%.*s is not set, and --set cannot create a list", (int)p->end, a);
        return NULL;
    }
    next = sb_node_new(last ? SB_NODE_SCALAR : SB_NODE_MAP, "--set", 0, 0);
    if (!next || !(next->key = strndup(p->key, p->key_len)) || sb_node_append(cur, next) != 0) {
        sb_node_free(next);
        set_fail(S, "out of memory");
        return NULL;
    }
    return next;
}

int sb_node_set(sb_node *root, const char *a, char *err, size_t errlen)
{
    if (a && strnlen(a, MAX_ASSIGNMENT + 1) > MAX_ASSIGNMENT) {
        snprintf(err, errlen, "--set: assignment longer than 64 KiB");
        return -1;
    }
    const char *eq = a ? strchr(a, '=') : NULL;
    if (!eq) {
        snprintf(err, errlen, "--set '%s': expected KEY=VALUE", a ? a : "");
        return -1;
    }
    setter S = {a, (size_t)(eq - a), err, errlen};
    part parts[MAX_PARTS];
    size_t n;
    int rc = split_path(a, S.key_len, parts, &n);
    if (rc == -2) return set_fail(&S, "more than %d parts", MAX_PARTS);
    if (rc != 0) return set_fail(&S, "malformed key (expected a form like a.b[0].c)");
    if (!root || root->kind != SB_NODE_MAP)
        return set_fail(&S, "the configuration root is not a map");

    sb_node *cur = root;
    size_t done = 0; /* length of the key text walked so far, for messages */
    for (size_t i = 0; i < n; i++) {
        const part *p = &parts[i];
        if (p->key) {
            if (!(cur = walk_key(&S, cur, parts, i, n, done))) return -1;
        } else if (cur->kind != SB_NODE_SEQ) {
            return set_fail(&S, "%.*s is not a list", (int)done, a);
        } else if (p->index >= cur->n_items) {
            return set_fail(&S, "%.*s: index past the end of the list (%zu items)",
                            (int)p->end, a, cur->n_items);
        } else {
            cur = cur->items[p->index];
        }
        done = p->end;
    }
    if (cur->kind != SB_NODE_SCALAR)
        return set_fail(&S, "%.*s is a %s, not a scalar", (int)S.key_len, a,
                        cur->kind == SB_NODE_MAP ? "map" : "list");
    char *v = strdup(eq + 1);
    if (!v) return set_fail(&S, "out of memory");
    free(cur->value);
    cur->value = v;
    cur->quoted = false;
    cur->is_null = is_null_text(v);
    cur->file = "--set";
    cur->line = cur->col = 0;
    return 0;
}
