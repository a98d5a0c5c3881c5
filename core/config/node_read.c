/* Typed reads of scalars, with the type error naming the place. */
#include "config/config.h"

#include <stdio.h>
#include <string.h>

/* "expected <what>, got ..." with the offending text shown on one line and
 * cut short, since a value may be a whole block scalar. */
static int type_error(const sb_node *n, const char *path, const char *what,
                      char *err, size_t errlen)
{
    if (n->kind != SB_NODE_SCALAR)
        return sb_node_errf(n, path, err, errlen, "expected %s, got a %s", what,
                            n->kind == SB_NODE_MAP ? "map" : "list");
    char shown[64];
    size_t len = strlen(n->value), k = 0;
    for (; k < len && k < 40; k++) {
        unsigned char c = (unsigned char)n->value[k];
        shown[k] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    /* Cut on a UTF-8 character boundary. */
    if (len > k)
        while (k > 0 && ((unsigned char)n->value[k] & 0xC0) == 0x80) k--;
    shown[k] = '\0';
    return sb_node_errf(n, path, err, errlen, "expected %s, got '%s%s'", what, shown,
                        len > k ? "..." : "");
}

int sb_node_str(sb_node *n, const char *path, const char **out, char *err, size_t errlen)
{
    n->used = true;
    if (n->kind != SB_NODE_SCALAR) return type_error(n, path, "a string", err, errlen);
    *out = n->value;
    return 0;
}

int sb_node_int(sb_node *n, const char *path, int64_t *out, char *err, size_t errlen)
{
    n->used = true;
    if (n->kind != SB_NODE_SCALAR || sb_parse_int(n->value, out) != 0)
        return type_error(n, path, "an integer", err, errlen);
    return 0;
}

int sb_node_bool(sb_node *n, const char *path, bool *out, char *err, size_t errlen)
{
    n->used = true;
    if (n->kind != SB_NODE_SCALAR || sb_parse_bool(n->value, out) != 0)
        return type_error(n, path, "a boolean (true/false)", err, errlen);
    return 0;
}

int sb_node_size(sb_node *n, const char *path, uint64_t *out, char *err, size_t errlen)
{
    n->used = true;
    if (n->kind != SB_NODE_SCALAR || sb_parse_size(n->value, out) != 0)
        return type_error(n, path, "a size like 1MiB", err, errlen);
    return 0;
}

int sb_node_duration(sb_node *n, const char *path, uint64_t *out_ms, char *err, size_t errlen)
{
    n->used = true;
    if (n->kind != SB_NODE_SCALAR || sb_parse_duration(n->value, out_ms) != 0)
        return type_error(n, path, "a duration like 30s", err, errlen);
    return 0;
}

int sb_node_map(sb_node *n, const char *path, char *err, size_t errlen)
{
    n->used = true;
    return n->kind == SB_NODE_MAP ? 0 : type_error(n, path, "a map", err, errlen);
}

int sb_node_seq(sb_node *n, const char *path, char *err, size_t errlen)
{
    n->used = true;
    return n->kind == SB_NODE_SEQ ? 0 : type_error(n, path, "a list", err, errlen);
}

sb_node *sb_node_get(sb_node *map, const char *key)
{
    if (!map || map->kind != SB_NODE_MAP) return NULL;
    for (size_t i = 0; i < map->n_items; i++) {
        sb_node *c = map->items[i];
        if (c->key && strcmp(c->key, key) == 0) {
            c->used = true;
            return c;
        }
    }
    return NULL;
}
