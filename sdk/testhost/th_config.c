/* Test host: the instance's config section as flat "path = text" pairs,
 * the typed getters and the unknown-key tracking. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "th_internal.h"

typedef struct cfg_entry {
    char *path;
    char *value;
    int used; /* read by a getter since the last start */
} cfg_entry;

static int is_key_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* key ('.' key | '[' digits ']')* */
static int valid_path(const char *p)
{
    if (!is_key_char(*p)) return 0;
    while (*p) {
        if (is_key_char(*p)) {
            p++;
        } else if (*p == '.' && is_key_char(p[1])) {
            p++;
        } else if (*p == '[' && isdigit((unsigned char)p[1])) {
            for (p++; isdigit((unsigned char)*p); p++) {}
            if (*p++ != ']' || (*p && *p != '.' && *p != '[')) return 0;
        } else {
            return 0;
        }
    }
    return 1;
}

static int is_sep(char c) { return c == '.' || c == '['; }

/* e lies below the container c (c "" is the root). */
static int below(const char *e, const char *c, size_t clen)
{
    return clen == 0 || (strncmp(e, c, clen) == 0 && is_sep(e[clen]));
}

static size_t find(const sb_th *th, const char *path)
{
    for (size_t i = 0; i < th->config.n; i++)
        if (strcmp(((cfg_entry *)th->config.v[i])->path, path) == 0) return i;
    return (size_t)-1;
}

/* Where the child of container c (length clen) starts inside e, and how
 * long its name is ("3" for e = "items[3].id", c = "items"). */
static const char *child_of(const char *e, size_t clen, size_t *len)
{
    const char *s = clen ? e + clen + 1 : e;
    size_t n = 0;
    while (s[n] && !is_sep(s[n]) && s[n] != ']') n++;
    *len = n;
    return s;
}

/* Distinct children below c; *is_list when they are [n] items. */
static size_t count_children(const sb_th *th, const char *c, int *is_list)
{
    size_t clen = strlen(c), count = 0;
    *is_list = 0;
    for (size_t i = 0; i < th->config.n; i++) {
        const char *e = ((cfg_entry *)th->config.v[i])->path;
        if (!below(e, c, clen)) continue;
        if (clen) *is_list = e[clen] == '[';
        size_t n, m;
        const char *name = child_of(e, clen, &n);
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) {
            const char *f = ((cfg_entry *)th->config.v[j])->path;
            if (!below(f, c, clen)) continue;
            const char *other = child_of(f, clen, &m);
            seen = m == n && memcmp(other, name, n) == 0;
        }
        count += !seen;
    }
    return count;
}

/* The new path must agree with every existing one about what is a scalar,
 * a map or a list, and list items come in order. */
static int fits(const sb_th *th, const char *p)
{
    size_t plen = strlen(p);
    for (size_t i = 0; i < th->config.n; i++) {
        const char *e = ((cfg_entry *)th->config.v[i])->path;
        if (strcmp(e, p) == 0) continue;
        if (below(e, p, plen)) return 0; /* p would hide a container */
        for (size_t k = 0; k < plen; k++) {
            if (!is_sep(p[k]) || strncmp(e, p, k) != 0) continue;
            if (e[k] == '\0') return 0;                  /* e is a scalar there */
            if (is_sep(e[k]) && e[k] != p[k]) return 0;  /* map vs list */
        }
    }
    for (size_t k = 0; k < plen; k++) {
        if (p[k] != '[') continue;
        char *c = sb_thi_memdup(p, k);
        int is_list;
        size_t have = count_children(th, c, &is_list);
        free(c);
        if (strtoull(p + k + 1, NULL, 10) > have) return 0;
    }
    return 1;
}

sb_status sb_th_config_set(sb_th *th, const char *path, const char *value)
{
    if (!path || !valid_path(path)) return SB_ERR_INVALID;
    size_t i = find(th, path);
    if (i != (size_t)-1) {
        cfg_entry *e = th->config.v[i];
        sb_thi_push(&th->retired, e->value); /* the plugin may hold it */
        if (value) {
            e->value = sb_thi_strdup(value);
            return SB_OK;
        }
        free(e->path);
        free(e);
        sb_thi_remove(&th->config, i);
        return SB_OK;
    }
    if (!value) return SB_OK;
    if (!fits(th, path)) return SB_ERR_INVALID;
    cfg_entry *e = sb_thi_alloc(sizeof *e);
    e->path = sb_thi_strdup(path);
    e->value = sb_thi_strdup(value);
    sb_thi_push(&th->config, e);
    return SB_OK;
}

const char *sb_th_unused_config(const sb_th *th)
{
    for (size_t i = 0; i < th->config.n; i++) {
        const cfg_entry *e = th->config.v[i];
        if (!e->used) return e->path;
    }
    return NULL;
}

size_t sb_th_config_error_count(const sb_th *th) { return th->config_errors.n; }

const char *sb_th_config_error(const sb_th *th, size_t i)
{
    return i < th->config_errors.n ? th->config_errors.v[i] : NULL;
}

void sb_thi_config_reset_use(sb_th *th)
{
    for (size_t i = 0; i < th->config.n; i++)
        ((cfg_entry *)th->config.v[i])->used = 0;
}

void sb_thi_config_free(sb_th *th)
{
    for (size_t i = 0; i < th->config.n; i++) {
        cfg_entry *e = th->config.v[i];
        free(e->path);
        free(e->value);
        free(e);
    }
    free(th->config.v);
    for (size_t i = 0; i < th->retired.n; i++) free(th->retired.v[i]);
    free(th->retired.v);
}

/* ---- getters ---------------------------------------------------------------- */

static void record(sb_th *th, char *msg)
{
    sb_thi_push(&th->config_errors, msg);
    sb_thi_log(th, SB_LOG_ERROR, "config: %s", msg);
}

/* The scalar text at path for a getter expecting `type`, marked read. */
static sb_status lookup(sb_ctx *ctx, const char *fn, const char *path,
                        const char *type, const char **text, sb_th **pth)
{
    sb_th *th = sb_thi_enter(ctx, fn);
    if (!th) return SB_ERR_HANDLE;
    *pth = th;
    if (!path) return SB_ERR_INVALID;
    size_t i = find(th, path);
    if (i != (size_t)-1) {
        cfg_entry *e = th->config.v[i];
        e->used = 1;
        *text = e->value;
        return SB_OK;
    }
    int is_list;
    if (count_children(th, path, &is_list) == 0) return SB_ERR_NOT_FOUND;
    record(th, sb_thi_printf("%s: expected %s, got a %s", path, type,
                             is_list ? "list" : "map"));
    return SB_ERR_INVALID;
}

static sb_status bad(sb_th *th, const char *path, const char *type,
                     const char *text)
{
    record(th, sb_thi_printf("%s: expected %s, got '%s'", path, type, text));
    return SB_ERR_INVALID;
}

static sb_status h_config_string(sb_ctx *ctx, const char *path, const char **out)
{
    sb_th *th;
    const char *t;
    sb_status st = lookup(ctx, "config_string", path, "a string", &t, &th);
    if (st == SB_OK) *out = t;
    return st;
}

/* Digits only (no sign, no space), overflow-checked. */
static int parse_u64(const char *s, const char **end, uint64_t *out)
{
    if (!isdigit((unsigned char)*s)) return -1;
    uint64_t v = 0;
    for (; isdigit((unsigned char)*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *end = s;
    *out = v;
    return 0;
}

static sb_status h_config_int(sb_ctx *ctx, const char *path, int64_t *out)
{
    sb_th *th;
    const char *t;
    sb_status st = lookup(ctx, "config_int", path, "an integer", &t, &th);
    if (st != SB_OK) return st;
    const char *s = t + (*t == '-' || *t == '+'), *end;
    uint64_t v;
    uint64_t limit = *t == '-' ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (parse_u64(s, &end, &v) != 0 || *end || v > limit)
        return bad(th, path, "an integer", t);
    *out = *t == '-' ? (int64_t)(0 - v) : (int64_t)v;
    return SB_OK;
}

static sb_status h_config_bool(sb_ctx *ctx, const char *path, int *out)
{
    sb_th *th;
    const char *t;
    sb_status st = lookup(ctx, "config_bool", path, "a boolean (true/false)", &t, &th);
    if (st != SB_OK) return st;
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(t, yes[i]) == 0) return *out = 1, SB_OK;
        if (strcasecmp(t, no[i]) == 0) return *out = 0, SB_OK;
    }
    return bad(th, path, "a boolean (true/false)", t);
}

typedef struct unit {
    const char *name;
    uint64_t mul;
} unit;

/* digits + one of units (exact, case-sensitive). */
static int parse_with_unit(const char *t, const unit *units, size_t n,
                           uint64_t *out)
{
    const char *end;
    uint64_t v;
    if (parse_u64(t, &end, &v) != 0) return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(end, units[i].name) == 0) {
            if (v > UINT64_MAX / units[i].mul) return -1;
            *out = v * units[i].mul;
            return 0;
        }
    return -1;
}

static sb_status h_config_size(sb_ctx *ctx, const char *path, uint64_t *out)
{
    static const unit units[] = {
        {"", 1}, {"B", 1}, {"KB", 1000}, {"MB", 1000000},
        {"GB", 1000000000}, {"TB", 1000000000000}, {"KiB", 1ull << 10},
        {"MiB", 1ull << 20}, {"GiB", 1ull << 30}, {"TiB", 1ull << 40}};
    sb_th *th;
    const char *t;
    sb_status st = lookup(ctx, "config_size", path, "a size", &t, &th);
    if (st != SB_OK) return st;
    if (parse_with_unit(t, units, sizeof units / sizeof *units, out) != 0)
        return bad(th, path, "a size", t);
    return SB_OK;
}

static sb_status h_config_duration(sb_ctx *ctx, const char *path, uint64_t *out)
{
    static const unit units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000},
                                 {"h", 3600000}, {"d", 86400000}};
    sb_th *th;
    const char *t;
    sb_status st = lookup(ctx, "config_duration", path, "a duration", &t, &th);
    if (st != SB_OK) return st;
    /* A bare number is ambiguous, except 0 (as in the core). */
    if (strcmp(t, "0") == 0) return *out = 0, SB_OK;
    if (parse_with_unit(t, units, sizeof units / sizeof *units, out) != 0)
        return bad(th, path, "a duration", t);
    return SB_OK;
}

static sb_status h_config_count(sb_ctx *ctx, const char *path, size_t *out)
{
    sb_th *th = sb_thi_enter(ctx, "config_count");
    if (!th) return SB_ERR_HANDLE;
    if (!path) return SB_ERR_INVALID;
    size_t i = find(th, path);
    if (i != (size_t)-1) {
        cfg_entry *e = th->config.v[i];
        e->used = 1;
        record(th, sb_thi_printf("%s: expected a list or map, got '%s'",
                                 path, e->value));
        return SB_ERR_INVALID;
    }
    int is_list;
    size_t n = count_children(th, path, &is_list);
    if (n == 0) return SB_ERR_NOT_FOUND;
    *out = n;
    return SB_OK;
}

static void h_config_error(sb_ctx *ctx, const char *path, const char *message)
{
    sb_th *th = sb_thi_enter(ctx, "config_error");
    if (!th) return;
    const char *m = message ? message : "invalid";
    record(th, path ? sb_thi_printf("%s: %s", path, m) : sb_thi_strdup(m));
}

void sb_thi_config_fill(sb_host *h)
{
    h->config_string = h_config_string;
    h->config_int = h_config_int;
    h->config_bool = h_config_bool;
    h->config_size = h_config_size;
    h->config_duration = h_config_duration;
    h->config_count = h_config_count;
    h->config_error = h_config_error;
}
