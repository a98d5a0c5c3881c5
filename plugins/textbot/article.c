/* Article JSON: what editors send is checked field by field (the error
 * names the field), and what is stored is one canonical shape. */
#include <stdio.h>
#include <string.h>

#include "textbot.h"

static int blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') return 0;
    return 1;
}

static const char *set_field(char *field, size_t fcap, const char *where, const char *name,
                             const char *msg)
{
    snprintf(field, fcap, "%s%s", where, name);
    return msg;
}

/* A list of short strings (keywords, misspellings); absent or null = none. */
static const char *parse_words(json_t *o, const char *key, const char *where, const char **out,
                               size_t *n, char *field, size_t fcap)
{
    json_t *v = json_object_get(o, key);
    *n = 0;
    if (!v || json_is_null(v)) return NULL;
    if (!json_is_array(v) || json_array_size(v) > TBP_WORDS_MAX)
        return set_field(field, fcap, where, key, "must be an array of at most 64 strings");
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *w = json_array_get(v, i);
        size_t len = json_is_string(w) ? json_string_length(w) : 0;
        if (!len || len > TBP_WORD_MAX || blank(json_string_value(w))) {
            char name[64];
            snprintf(name, sizeof name, "%s[%zu]", key, i);
            return set_field(field, fcap, where, name, "must be a non-blank string of 1..256 bytes");
        }
        out[(*n)++] = json_string_value(w);
    }
    return NULL;
}

const char *tbp_article_parse(json_t *o, const char *where, tbp_article *a, char *field,
                              size_t fcap)
{
    memset(a, 0, sizeof *a);
    if (!json_is_object(o)) {
        size_t wl = strlen(where);
        /* "[3]." names the item itself as "[3]"; a lone article is the body */
        snprintf(field, fcap, "%.*s", wl ? (int)(wl - 1) : 4, wl ? where : "body");
        return "must be an article object";
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        if (strcmp(key, "id") && strcmp(key, "title") && strcmp(key, "body") &&
            strcmp(key, "keywords") && strcmp(key, "misspellings") &&
            strcmp(key, "created_at") && strcmp(key, "updated_at")) {
            char name[80];
            snprintf(name, sizeof name, "%.64s", key);
            return set_field(field, fcap, where, name, "unknown field");
        }
    }
    v = json_object_get(o, "id");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v) || json_string_length(v) != strlen(json_string_value(v)) ||
            !tbp_valid_id(json_string_value(v)))
            return set_field(field, fcap, where, "id", "must be 1..64 characters of A-Z a-z 0-9 _ -");
        a->id = json_string_value(v);
    }
    v = json_object_get(o, "title");
    if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > TBP_TITLE_MAX ||
        blank(json_string_value(v)))
        return set_field(field, fcap, where, "title", "required: a non-blank string of 1..512 bytes");
    a->title = json_string_value(v);
    v = json_object_get(o, "body");
    if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > TBP_BODY_MAX ||
        blank(json_string_value(v)))
        return set_field(field, fcap, where, "body", "required: a non-blank string of 1..65536 bytes");
    a->body = json_string_value(v);
    const char *err = parse_words(o, "keywords", where, a->keywords, &a->n_keywords, field, fcap);
    if (!err)
        err = parse_words(o, "misspellings", where, a->misspellings, &a->n_misspellings, field, fcap);
    return err;
}

static json_t *words(const char *const *w, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) json_array_append_new(arr, json_string(w[i]));
    return arr;
}

json_t *tbp_article_json(const tbp_article *a, const char *created_at, int64_t updated_ms)
{
    char u[32];
    tbp_rfc3339(updated_ms, u);
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s}", "id", a->id, "title", a->title,
                     "body", a->body, "keywords", words(a->keywords, a->n_keywords),
                     "misspellings", words(a->misspellings, a->n_misspellings),
                     "created_at", created_at ? created_at : u, "updated_at", u);
}
