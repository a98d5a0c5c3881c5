/* The node tree -> typed sb_config: defaults, types, ranges, unknown keys. */
#include "config/config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/str.h"

#define MAX_LIST 1024 /* entries of plugins, api_tokens, groups */
#define MAX_NAME 64   /* plugin names and instances */

typedef struct {
    sb_config *cfg;
    char *err;
    size_t errlen;
} loader;

/* The value of key in map, NULL when absent or null (`key:`, `key: ~`). */
static sb_node *opt(sb_node *map, const char *key)
{
    sb_node *n = sb_node_get(map, key);
    return n && n->kind == SB_NODE_SCALAR && n->is_null ? NULL : n;
}

static void join(char *buf, size_t cap, const char *prefix, const char *key)
{
    snprintf(buf, cap, "%s%s%s", prefix, *prefix ? "." : "", key);
}

static int oom(loader *L)
{
    snprintf(L->err, L->errlen, "%s: out of memory", L->cfg->path);
    return -1;
}

static int dup_into(loader *L, char **dst, const char *s)
{
    if (!s) { *dst = NULL; return 0; }
    return (*dst = strdup(s)) ? 0 : oom(L);
}

/* ---- scalar fields, table driven: defaults go through the same parsers --- */
typedef enum { F_STR, F_SIZE, F_DUR, F_INT, F_BOOL } field_type;
typedef struct {
    const char *key;
    field_type type;
    size_t off;         /* in sb_config */
    const char *def;    /* default as it would be written; NULL: none */
    bool positive;      /* must be > 0 */
} field;

#define OFF(member) offsetof(sb_config, member)

static const field k_http[] = {
    {"listen", F_STR, OFF(http.listen), "127.0.0.1:8080", false},
    {"max_body", F_SIZE, OFF(http.max_body), "1MiB", true},
    {"max_header", F_SIZE, OFF(http.max_header), "16KiB", true},
    {"max_headers", F_INT, OFF(http.max_headers), "100", true},
    {"max_connections", F_INT, OFF(http.max_connections), "10000", true},
    {"idle_timeout", F_DUR, OFF(http.idle_timeout_ms), "60s", true},
    {"header_timeout", F_DUR, OFF(http.header_timeout_ms), "10s", true},
    {"body_timeout", F_DUR, OFF(http.body_timeout_ms), "30s", true},
    {"ws_max_message", F_SIZE, OFF(http.ws_max_message), "1MiB", true},
    {"ws_max_queue", F_SIZE, OFF(http.ws_max_queue), "4MiB", true},
};
static const field k_tls[] = {
    {"cert", F_STR, OFF(http.tls_cert), NULL, false},
    {"key", F_STR, OFF(http.tls_key), NULL, false},
};
static const field k_storage[] = {
    {"path", F_STR, OFF(storage.path), "./data", false},
    {"map_size", F_SIZE, OFF(storage.map_size), "1GiB", true},
    {"max_map_size", F_SIZE, OFF(storage.max_map_size), "64GiB", true},
};
static const field k_top[] = {
    {"plugins_dir", F_STR, OFF(plugins_dir), "build/plugins", false},
    {"plugins_strict", F_BOOL, OFF(plugins_strict), "false", false},
    {"watchdog", F_DUR, OFF(watchdog_ms), "50ms", true},
    {"node_id", F_INT, OFF(node_id), "0", false},
};
static const field k_auth[] = {
    {"token_ttl", F_DUR, OFF(auth.token_ttl_ms), "12h", true},
};

static int read_field(loader *L, sb_node *map, const char *prefix, const field *f)
{
    char path[256];
    join(path, sizeof path, prefix, f->key);
    sb_node *n = opt(map, f->key);
    void *dst = (char *)L->cfg + f->off;
    const char *s = f->def;
    int rc = 0;
    bool zero = false;
    /* Absent: the default text, a constant above that always parses. */
    switch (f->type) {
    case F_STR:
        if (n) rc = sb_node_str(n, path, &s, L->err, L->errlen);
        if (rc == 0) rc = dup_into(L, (char **)dst, s);
        break;
    case F_SIZE:
        if (n) rc = sb_node_size(n, path, dst, L->err, L->errlen);
        else sb_parse_size(s, dst);
        zero = *(uint64_t *)dst == 0;
        break;
    case F_DUR:
        if (n) rc = sb_node_duration(n, path, dst, L->err, L->errlen);
        else sb_parse_duration(s, dst);
        zero = *(uint64_t *)dst == 0;
        break;
    case F_INT:
        if (n) rc = sb_node_int(n, path, dst, L->err, L->errlen);
        else sb_parse_int(s, dst);
        zero = *(int64_t *)dst <= 0;
        break;
    case F_BOOL:
        if (n) rc = sb_node_bool(n, path, dst, L->err, L->errlen);
        else sb_parse_bool(s, dst);
        break;
    }
    if (rc == 0 && f->positive && zero)
        return sb_node_errf(n, path, L->err, L->errlen, "must be greater than 0");
    return rc;
}

static int read_fields(loader *L, sb_node *map, const char *prefix, const field *fs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (read_field(L, map, prefix, &fs[i]) != 0) return -1;
    return 0;
}

/* A map below parent: *out NULL when absent or null. */
static int section(loader *L, sb_node *parent, const char *key, const char *path,
                   sb_node **out)
{
    *out = opt(parent, key);
    return *out ? sb_node_map(*out, path, L->err, L->errlen) : 0;
}

/* ---- checks of single values ---------------------------------------------- */
static bool all_of(const char *s, const char *extra, bool upper)
{
    if (!*s || strlen(s) > MAX_NAME) return false;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  (upper && c >= 'A' && c <= 'Z') || (c && strchr(extra, c));
        if (!ok) return false;
    }
    return true;
}

static int check_listen(loader *L, sb_node *n, const char *s)
{
    char host[SB_LISTEN_HOST_MAX];
    uint16_t port;
    int rc = sb_parse_listen(s, host, sizeof host, &port);
    if (rc == -2)
        return sb_node_errf(n, "http.listen", L->err, L->errlen,
                            "port %s out of range 0..65535", strrchr(s, ':') + 1);
    if (rc != 0)
        return sb_node_errf(n, "http.listen", L->err, L->errlen,
                            "expected host:port or [v6]:port, got '%s'", s);
    return 0;
}

/* A string field of a list item that must be there (at the item's place
 * when missing). allow_empty: "" and `key:` with nothing are fine (as ""). */
static int required(loader *L, sb_node *item, const char *prefix, const char *key,
                    bool allow_empty, char **out)
{
    char path[256];
    join(path, sizeof path, prefix, key);
    sb_node *n = sb_node_get(item, key);
    if (!n || (n->kind == SB_NODE_SCALAR && n->is_null && !allow_empty))
        return sb_node_errf(item, path, L->err, L->errlen, "required");
    const char *s = "";
    if (!(n->kind == SB_NODE_SCALAR && n->is_null) &&
        sb_node_str(n, path, &s, L->err, L->errlen) != 0)
        return -1;
    if (!*s && !allow_empty) return sb_node_errf(n, path, L->err, L->errlen, "must not be empty");
    return dup_into(L, out, s);
}

static int one_of(loader *L, sb_node *item, const char *prefix, const char *key,
                  const char *value, const char *const *allowed, const char *listed)
{
    for (; *allowed; allowed++)
        if (strcmp(value, *allowed) == 0) return 0;
    char path[256];
    join(path, sizeof path, prefix, key);
    sb_node *n = sb_node_get(item, key);
    return sb_node_errf(n ? n : item, path, L->err, L->errlen,
                        "expected one of %s, got '%s'", listed, value);
}

/* A list section: *out NULL and *n 0 when absent or null. */
static int list(loader *L, sb_node *parent, const char *key, const char *path,
                sb_node **out, size_t *n)
{
    *out = opt(parent, key);
    *n = 0;
    if (!*out) return 0;
    if (sb_node_seq(*out, path, L->err, L->errlen) != 0) return -1;
    if ((*out)->n_items > MAX_LIST)
        return sb_node_errf(*out, path, L->err, L->errlen, "more than %d entries", MAX_LIST);
    *n = (*out)->n_items;
    return 0;
}

/* ---- sections -------------------------------------------------------------- */
static int read_http(loader *L, sb_node *root)
{
    sb_node *http, *tls;
    sb_config *c = L->cfg;
    if (section(L, root, "http", "http", &http) != 0 ||
        read_fields(L, http, "http", k_http, sizeof k_http / sizeof k_http[0]) != 0 ||
        section(L, http, "tls", "http.tls", &tls) != 0 ||
        read_fields(L, tls, "http.tls", k_tls, 2) != 0)
        return -1;
    sb_node *listen = opt(http, "listen");
    if (listen && check_listen(L, listen, c->http.listen) != 0) return -1;
    if (!c->http.tls_cert != !c->http.tls_key)
        return sb_node_errf(tls, "http.tls", L->err, L->errlen,
                            "cert and key must be given together");
    return 0;
}

static int read_storage(loader *L, sb_node *root)
{
    sb_node *st;
    if (section(L, root, "storage", "storage", &st) != 0 ||
        read_fields(L, st, "storage", k_storage, sizeof k_storage / sizeof k_storage[0]) != 0)
        return -1;
    if (L->cfg->storage.map_size > L->cfg->storage.max_map_size) {
        sb_node *max = opt(st, "max_map_size");
        return max ? sb_node_errf(max, "storage.max_map_size", L->err, L->errlen,
                                  "must be at least storage.map_size")
                   : sb_node_errf(opt(st, "map_size"), "storage.map_size", L->err, L->errlen,
                                  "must not exceed storage.max_map_size (64GiB by default)");
    }
    return 0;
}

static int read_top(loader *L, sb_node *root)
{
    sb_node *log, *level;
    if (read_fields(L, root, "", k_top, sizeof k_top / sizeof k_top[0]) != 0 ||
        section(L, root, "log", "log", &log) != 0)
        return -1;
    L->cfg->log.level = SB_LOG_INFO;
    if ((level = opt(log, "level"))) {
        const char *s;
        if (sb_node_str(level, "log.level", &s, L->err, L->errlen) != 0) return -1;
        if ((L->cfg->log.level = sb_log_level_parse(s)) < 0)
            return sb_node_errf(level, "log.level", L->err, L->errlen,
                                "expected one of error|warn|info|debug, got '%s'", s);
    }
    if (L->cfg->node_id < 0 || L->cfg->node_id > 1023)
        return sb_node_errf(opt(root, "node_id"), "node_id", L->err, L->errlen,
                            "must be between 0 and 1023, got %lld",
                            (long long)L->cfg->node_id);
    return 0;
}

static int read_plugin(loader *L, sb_node *item, size_t i)
{
    sb_plugin_conf *p = &L->cfg->plugins[i];
    char path[64];
    snprintf(path, sizeof path, "plugins[%zu]", i);
    p->where = item;
    p->index = i;
    p->enabled = true;
    sb_node *en;
    if (sb_node_map(item, path, L->err, L->errlen) != 0 ||
        required(L, item, path, "name", false, &p->name) != 0 ||
        required(L, item, path, "instance", false, &p->instance) != 0)
        return -1;
    char npath[96], ipath[96], epath[96], cpath[96];
    join(npath, sizeof npath, path, "name");
    join(ipath, sizeof ipath, path, "instance");
    join(epath, sizeof epath, path, "enabled");
    join(cpath, sizeof cpath, path, "config");
    if (!all_of(p->name, "_", false))
        return sb_node_errf(sb_node_get(item, "name"), npath, L->err, L->errlen,
                            "expected [a-z0-9_]{1,%d}, got '%s'", MAX_NAME, p->name);
    if (!all_of(p->instance, "_-", true))
        return sb_node_errf(sb_node_get(item, "instance"), ipath, L->err, L->errlen,
                            "expected [A-Za-z0-9_-]{1,%d}, got '%s'", MAX_NAME, p->instance);
    if ((en = opt(item, "enabled")) && sb_node_bool(en, epath, &p->enabled, L->err, L->errlen))
        return -1;
    for (size_t j = 0; j < i; j++) {
        const sb_plugin_conf *q = &L->cfg->plugins[j];
        if (strcmp(q->name, p->name) == 0 && strcmp(q->instance, p->instance) == 0)
            return sb_node_errf(sb_node_get(item, "instance"), ipath, L->err, L->errlen,
                                "duplicate instance '%s' of plugin '%s' (also plugins[%zu])",
                                p->instance, p->name, j);
    }
    sb_node *conf = sb_node_get(item, "config");
    if (conf && conf->kind == SB_NODE_SCALAR && conf->is_null) {
        /* `config:` with nothing is the empty section. */
        free(conf->value);
        conf->value = NULL;
        conf->is_null = false;
        conf->kind = SB_NODE_MAP;
    } else if (!conf) {
        if (!(conf = sb_node_new(SB_NODE_MAP, item->file, item->line, item->col)) ||
            !(conf->key = strdup("config")) || sb_node_append(item, conf) != 0) {
            sb_node_free(conf);
            return oom(L);
        }
    }
    p->config = conf;
    return sb_node_map(conf, cpath, L->err, L->errlen);
}

static int read_plugins(loader *L, sb_node *root)
{
    sb_node *seq;
    size_t n;
    if (list(L, root, "plugins", "plugins", &seq, &n) != 0) return -1;
    if (n && !(L->cfg->plugins = calloc(n, sizeof *L->cfg->plugins))) return oom(L);
    for (size_t i = 0; i < n; i++) {
        L->cfg->n_plugins = i + 1; /* so that sb_config_free sees what was filled */
        if (read_plugin(L, seq->items[i], i) != 0) return -1;
    }
    return 0;
}

static int read_auth(loader *L, sb_node *root)
{
    static const char *const roles[] = {"admin", "supervisor", "operator", NULL};
    sb_config *c = L->cfg;
    sb_node *auth, *seq, *admin;
    size_t n;
    if (section(L, root, "auth", "auth", &auth) != 0 ||
        read_fields(L, auth, "auth", k_auth, 1) != 0 ||
        list(L, auth, "api_tokens", "auth.api_tokens", &seq, &n) != 0)
        return -1;
    if (n && !(c->auth.api_tokens = calloc(n, sizeof *c->auth.api_tokens))) return oom(L);
    for (size_t i = 0; i < n; i++) {
        sb_api_token_conf *t = &c->auth.api_tokens[i];
        sb_node *item = seq->items[i];
        char path[64];
        snprintf(path, sizeof path, "auth.api_tokens[%zu]", i);
        c->auth.n_api_tokens = i + 1;
        if (sb_node_map(item, path, L->err, L->errlen) != 0 ||
            required(L, item, path, "name", false, &t->name) != 0 ||
            required(L, item, path, "token", true, &t->token) != 0 ||
            required(L, item, path, "role", false, &t->role) != 0 ||
            one_of(L, item, path, "role", t->role, roles, "admin|supervisor|operator") != 0)
            return -1;
    }
    if (section(L, auth, "bootstrap_admin", "auth.bootstrap_admin", &admin) != 0) return -1;
    if (admin &&
        (required(L, admin, "auth.bootstrap_admin", "login", false, &c->auth.admin_login) != 0 ||
         required(L, admin, "auth.bootstrap_admin", "password", true,
                  &c->auth.admin_password) != 0))
        return -1;
    return 0;
}

static int read_group(loader *L, sb_node *item, size_t i)
{
    static const char *const strategies[] = {"least_busy", "round_robin", "longest_idle",
                                             "skills", "manual", NULL};
    sb_group_conf *g = &L->cfg->routing.groups[i];
    char path[64], mpath[96];
    snprintf(path, sizeof path, "routing.groups[%zu]", i);
    sb_node *n;
    const char *s;
    if (sb_node_map(item, path, L->err, L->errlen) != 0 ||
        required(L, item, path, "id", false, &g->id) != 0)
        return -1;
    join(mpath, sizeof mpath, path, "id");
    for (size_t j = 0; j < i; j++)
        if (strcmp(L->cfg->routing.groups[j].id, g->id) == 0)
            return sb_node_errf(sb_node_get(item, "id"), mpath, L->err, L->errlen,
                                "duplicate group id '%s' (also routing.groups[%zu])", g->id, j);
    join(mpath, sizeof mpath, path, "name");
    if ((n = opt(item, "name")) && sb_node_str(n, mpath, &s, L->err, L->errlen) != 0) return -1;
    if (dup_into(L, &g->name, n ? s : g->id) != 0) return -1;
    join(mpath, sizeof mpath, path, "strategy");
    if ((n = opt(item, "strategy")) && sb_node_str(n, mpath, &s, L->err, L->errlen) != 0)
        return -1;
    if (dup_into(L, &g->strategy, n ? s : "least_busy") != 0 ||
        one_of(L, item, path, "strategy", g->strategy, strategies,
               "least_busy|round_robin|longest_idle|skills|manual") != 0)
        return -1;
    join(mpath, sizeof mpath, path, "max_per_operator");
    g->max_per_operator = 3;
    if ((n = opt(item, "max_per_operator")) &&
        sb_node_int(n, mpath, &g->max_per_operator, L->err, L->errlen) != 0)
        return -1;
    if (g->max_per_operator < 1)
        return sb_node_errf(n, mpath, L->err, L->errlen, "must be at least 1");
    join(mpath, sizeof mpath, path, "bot");
    if ((n = opt(item, "bot")) && !n->is_null) {
        if (sb_node_str(n, mpath, &s, L->err, L->errlen) != 0) return -1;
        if (!sb_is_instance_ref(s))
            return sb_node_errf(n, mpath, L->err, L->errlen,
                                "expected \"<plugin>/<instance>\" of a bot");
        if (dup_into(L, &g->bot, s) != 0) return -1;
    }
    return 0;
}

static int read_routing(loader *L, sb_node *root)
{
    sb_node *routing, *seq, *dg;
    size_t n;
    const char *s;
    if (section(L, root, "routing", "routing", &routing) != 0) return -1;
    if ((dg = opt(routing, "default_group")) &&
        (sb_node_str(dg, "routing.default_group", &s, L->err, L->errlen) != 0 ||
         dup_into(L, &L->cfg->routing.default_group, s) != 0))
        return -1;
    if (list(L, routing, "groups", "routing.groups", &seq, &n) != 0) return -1;
    if (n && !(L->cfg->routing.groups = calloc(n, sizeof *L->cfg->routing.groups)))
        return oom(L);
    for (size_t i = 0; i < n; i++) {
        L->cfg->routing.n_groups = i + 1;
        if (read_group(L, seq->items[i], i) != 0) return -1;
    }
    return 0;
}

/* Keys nobody read are typos; but plugins[i].config belongs to the plugin
 * (the host checks it after init), so its items are hidden from the walk
 * for its duration instead of being marked used. */
static int check_unknown(loader *L)
{
    sb_config *c = L->cfg;
    size_t hidden[MAX_LIST];
    for (size_t i = 0; i < c->n_plugins; i++) {
        hidden[i] = c->plugins[i].config->n_items;
        c->plugins[i].config->n_items = 0;
    }
    int rc = sb_node_check_unused(c->root, NULL, L->err, L->errlen);
    for (size_t i = 0; i < c->n_plugins; i++) c->plugins[i].config->n_items = hidden[i];
    return rc;
}

int sb_config_load(sb_config *cfg, const char *path, const char *text, size_t text_len,
                   const char *const *sets, size_t n_sets, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    loader L = {cfg, err, errlen};
    if (!text && !path) {
        snprintf(err, errlen, "no configuration file given");
        return -1;
    }
    if (!(cfg->path = strdup(path ? path : "<embedded>"))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    cfg->root = text ? sb_yaml_load_string(cfg->path, text, text_len, err, errlen)
                     : sb_yaml_load_file(cfg->path, err, errlen);
    int rc = cfg->root ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n_sets; i++)
        rc = sb_node_set(cfg->root, sets[i], err, errlen);
    if (rc == 0)
        rc = read_http(&L, cfg->root) || read_storage(&L, cfg->root) ||
                     read_top(&L, cfg->root) || read_plugins(&L, cfg->root) ||
                     read_auth(&L, cfg->root) || read_routing(&L, cfg->root) ||
                     check_unknown(&L)
                 ? -1 : 0;
    if (rc != 0) sb_config_free(cfg);
    return rc;
}

void sb_config_free(sb_config *cfg)
{
    free(cfg->path);
    sb_node_free(cfg->root);
    free(cfg->http.listen);
    free(cfg->http.tls_cert);
    free(cfg->http.tls_key);
    free(cfg->storage.path);
    free(cfg->plugins_dir);
    for (size_t i = 0; i < cfg->n_plugins; i++) {
        free(cfg->plugins[i].name);
        free(cfg->plugins[i].instance);
    }
    free(cfg->plugins);
    for (size_t i = 0; i < cfg->auth.n_api_tokens; i++) {
        free(cfg->auth.api_tokens[i].name);
        free(cfg->auth.api_tokens[i].token);
        free(cfg->auth.api_tokens[i].role);
    }
    free(cfg->auth.api_tokens);
    free(cfg->auth.admin_login);
    free(cfg->auth.admin_password);
    free(cfg->routing.default_group);
    for (size_t i = 0; i < cfg->routing.n_groups; i++) {
        free(cfg->routing.groups[i].id);
        free(cfg->routing.groups[i].name);
        free(cfg->routing.groups[i].strategy);
        free(cfg->routing.groups[i].bot);
    }
    free(cfg->routing.groups);
    memset(cfg, 0, sizeof *cfg);
}
