#include "engine/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Request bodies: the checks every admin/operator input goes through, each
 * error naming its member. */

sb_status sb_eng_bad(char *err, size_t errlen, const char *field, const char *fmt, ...)
{
    if (err && errlen) {
        int n = snprintf(err, errlen, "%s: ", field);
        if (n >= 0 && (size_t)n < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return SB_ERR_INVALID;
}

json_t *sb_eng_body(const char *json, size_t len, char *err, size_t errlen)
{
    if (!json) {
        sb_eng_bad(err, errlen, "body", "required");
        return NULL;
    }
    json_error_t je;
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        sb_eng_bad(err, errlen, "body", "not JSON: %s", je.text);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        sb_eng_bad(err, errlen, "body", "must be an object");
        return NULL;
    }
    return o;
}

sb_status sb_eng_only(json_t *o, const char *const *allowed, char *err, size_t errlen)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++) ok = strcmp(allowed[i], k) == 0;
        if (!ok) return sb_eng_bad(err, errlen, k, "unknown member");
    }
    return SB_OK;
}

sb_status sb_eng_in_str(json_t *o, const char *key, size_t min, size_t max, bool nullable,
                        const char **out, bool *set, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);
    if (set) *set = v != NULL;
    if (!v) return SB_OK;
    if (json_is_null(v) && nullable) {
        *out = NULL;
        return SB_OK;
    }
    if (!json_is_string(v))
        return sb_eng_bad(err, errlen, key, nullable ? "must be a string or null" : "must be a string");
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n < min || n > max)
        return sb_eng_bad(err, errlen, key, "must be %zu..%zu bytes", min, max);
    if (strlen(s) != n) return sb_eng_bad(err, errlen, key, "must not hold NUL");
    *out = s;
    return SB_OK;
}

sb_status sb_eng_in_int(json_t *o, const char *key, int64_t min, int64_t max, int64_t *out,
                        bool *set, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);
    if (set) *set = v != NULL;
    if (!v) return SB_OK;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return sb_eng_bad(err, errlen, key, "must be an integer %lld..%lld", (long long)min,
                          (long long)max);
    *out = (int64_t)json_integer_value(v);
    return SB_OK;
}

bool sb_eng_slug_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > RT_ID_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

char *sb_eng_xstrdup(const char *s) { return s ? strdup(s) : NULL; }

/* A stored string field as a malloc'ed copy; NULL for nil (or no memory:
 * *nomem set). */
char *sb_eng_rd_dup(sb_rec_reader *r, bool *nomem)
{
    size_t n;
    const char *s = sb_rec_next_str(r, &n);
    if (!s) return NULL;
    char *p = strndup(s, n);
    if (!p) *nomem = true;
    return p;
}

sb_status sb_eng_strs_dup(const char *const *src, size_t n, char ***out)
{
    *out = NULL;
    if (!n) return SB_OK;
    char **a = calloc(n, sizeof *a);
    if (!a) return SB_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (!(a[i] = strdup(src[i] ? src[i] : ""))) {
            sb_eng_strs_free(a, i);
            return SB_ERR_NOMEM;
        }
    *out = a;
    return SB_OK;
}

void sb_eng_strs_free(char **a, size_t n)
{
    for (size_t i = 0; i < n; i++) free(a[i]);
    free(a);
}

/* Replaces *dst with a copy of src (NULL allowed). */
sb_status sb_eng_set_str(char **dst, const char *src)
{
    char *c = NULL;
    if (src && !(c = strdup(src))) return SB_ERR_NOMEM;
    free(*dst);
    *dst = c;
    return SB_OK;
}
