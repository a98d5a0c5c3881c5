/* A small path language over JSON answers: keys joined by dots, list
 * indexes in brackets: "data.orders[0].status". */
#include <stdlib.h>
#include <string.h>

#include "bb.h"

/* Walks (when root) or only checks (root NULL) the path. */
static int walk(json_t *root, const char *path, json_t **out)
{
    const char *p = path;
    json_t *cur = root;
    if (!*p || strlen(path) > 256) return -1;
    while (*p) {
        if (*p == '[') {
            char *end;
            long i = strtol(p + 1, &end, 10);
            if (end == p + 1 || *end != ']' || i < 0 || i > 100000) return -1;
            if (root) cur = json_is_array(cur) ? json_array_get(cur, (size_t)i) : NULL;
            p = end + 1;
        } else {
            if (p != path) {
                if (*p != '.') return -1;
                p++;
            }
            size_t n = strcspn(p, ".[");
            if (n == 0 || n > 128) return -1;
            if (root) {
                char key[129];
                memcpy(key, p, n);
                key[n] = 0;
                cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
            }
            p += n;
        }
        if (root && !cur) return 1;
    }
    if (out) *out = cur;
    return 0;
}

int bb_jpath_check(const char *path) { return walk(NULL, path, NULL) == 0 ? 0 : -1; }

json_t *bb_jpath(json_t *root, const char *path)
{
    json_t *v = NULL;
    return root && walk(root, path, &v) == 0 ? v : NULL;
}

char *bb_json_text(const json_t *v)
{
    char *s;
    if (json_is_string(v)) s = strdup(json_string_value(v));
    else if (json_is_null(v)) s = strdup("");
    else s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s && strlen(s) > BB_MAX_VALUE) {
        /* Cut on a character boundary: the value must stay UTF-8. */
        size_t n = BB_MAX_VALUE;
        while (n && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
        s[n] = 0;
    }
    return s;
}
