/* Configuration: YAML (libyaml) -> a tree of located nodes -> typed sb_config.
 *
 * Shape and rules: shared/design/config.md. Every error message names its
 * place as "file:line:col: dotted.path: what is wrong" (lines and columns
 * 1-based). Unknown keys are errors. ${NAME} and ${NAME:-default} are
 * expanded in every scalar value at load time (a missing NAME without default
 * is an error naming NAME and the place).
 *
 * Every function that takes `err, errlen` writes exactly one message there
 * on failure (truncated to errlen; err may be NULL when errlen is 0) and
 * never prints anything.
 *
 * Thread: loop thread (or main before the loop). Not thread-safe.
 */
#ifndef SB_CONFIG_H
#define SB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the node tree ------------------------------------------------------ */
typedef enum { SB_NODE_SCALAR, SB_NODE_MAP, SB_NODE_SEQ } sb_node_kind;

typedef struct sb_node sb_node;
struct sb_node {
    sb_node_kind kind;
    char *key;          /* key when the node is a map value, else NULL */
    char *value;        /* SB_NODE_SCALAR: text after ${} expansion, never NULL */
    bool quoted;        /* scalar was quoted in YAML ("true" is a string) */
    bool is_null;       /* plain scalar ~, null, Null, NULL or empty */
    const char *file;   /* file name (shared, owned by the root) */
    int line, col;      /* 1-based position of the node (of its key in a map);
                           line 0: no position (nodes made by --set) */
    sb_node **items;    /* MAP: values (each with ->key); SEQ: items */
    size_t n_items;
    bool used;          /* set by readers; unread keys are "unknown" */
};

/* Limits of the YAML loader; exceeding one is an error naming it. */
#define SB_YAML_MAX_TEXT ((size_t)4 << 20)      /* bytes of YAML text */
#define SB_YAML_MAX_DEPTH 64                    /* nested maps/lists, root = 1 */
#define SB_YAML_MAX_NODES 200000                /* nodes in one document */
#define SB_YAML_MAX_EXPANDED ((size_t)16 << 20) /* bytes of all values after ${} */
#define SB_ENV_MAX_VALUE ((size_t)1 << 20)      /* bytes of one value after ${} */

/* Loads a YAML document from a file / a string. `name` is what error
 * messages call the source ("<string>" when NULL). Returns a tree owned by
 * the caller (sb_node_free), or NULL with a message in err. The root is
 * always a map: a document whose root is empty (or an empty stream) gives
 * an empty map; any other root is an error.
 *
 * Rejected, with "file:line:col: <problem>": libyaml syntax errors (its
 * problem text), duplicate keys in a map ("a.b: duplicate key", at the
 * second one), anchors and aliases ("aliases not supported"), explicit tags
 * ("tags not supported"), non-scalar and empty keys, NUL bytes in a scalar,
 * more than one document, and the limits above. A file that cannot be
 * opened or read: "path: cannot read: <strerror>"; files must be regular.
 *
 * Keys are taken literally; values are expanded with sb_env_expand, errors
 * reading "file:line:col: a.b: environment variable NAME is not set". */
sb_node *sb_yaml_load_file(const char *path, char *err, size_t errlen);
sb_node *sb_yaml_load_string(const char *name, const char *text, size_t len,
                             char *err, size_t errlen);
/* Frees n and everything below it. NULL is fine. */
void sb_node_free(sb_node *n);

/* ${NAME} / ${NAME:-default} in `in` (NUL-terminated) -> *out (malloc'd).
 * Several references per text; text around them is kept; a '$' not followed
 * by '{' is literal. NAME is [A-Za-z_][A-Za-z0-9_]*; the default runs to the
 * first '}' and is not expanded again. A variable set to "" counts as set.
 * Returns 0, or -1 with the reason (no place) in why: "environment variable
 * NAME is not set", "unterminated ${", "bad variable reference '${...}'",
 * "longer than 1 MiB after ${} expansion", "out of memory". */
int sb_env_expand(const char *in, char **out, char *why, size_t whylen);

/* Building trees (the loader and --set use these). sb_node_new returns a
 * zeroed node of `kind` at file:line:col (file borrowed: it must outlive
 * the tree, as the root's name or a literal does), value "" for scalars;
 * NULL when out of memory. sb_node_append adds child at the end of a MAP or
 * SEQ; -1 when out of memory (child then stays the caller's). */
sb_node *sb_node_new(sb_node_kind kind, const char *file, int line, int col);
int sb_node_append(sb_node *parent, sb_node *child);

/* "a.b[2].c" below n; NULL when absent or when path is malformed. Keys are
 * the text between '.' and '['; an index is decimal. Does not mark `used`. */
sb_node *sb_node_find(const sb_node *n, const char *path);

/* --set KEY=VALUE: sets a scalar by dotted path (split at the first '='),
 * creating maps as needed (located as file "--set", line 0); a null scalar
 * on the way becomes an empty map. VALUE is taken literally (no ${}), as an
 * unquoted YAML scalar would be ("" and "null" are null). Fails, with
 * "--set KEY: <problem>", when KEY is malformed or deeper than 64 parts, a
 * component crosses a scalar, indexes a map or past a list's end, names a
 * list without an index, or the target is a map or list. Max 64 KiB. On
 * failure, maps created on the way may remain (empty). */
int sb_node_set(sb_node *root, const char *assignment, char *err, size_t errlen);

/* Literals. Return 0 and set *out, or -1 when the text is not one (also on
 * overflow). No spaces, no fractions, units are case-sensitive.
 *   size:     digits + optional unit. none or B = bytes; KB MB GB TB are
 *             decimal (1000^n); KiB MiB GiB TiB binary (1024^n). "1K" and
 *             "1k" are rejected as ambiguous.
 *   duration: digits + unit ms s m h d, in milliseconds. A unit is
 *             required except for "0".
 *   bool:     true false yes no on off, any letter case.
 *   int:      decimal with optional + or -, within int64. */
int sb_parse_size(const char *s, uint64_t *out);      /* 1MiB 512KB 4GiB 1024 */
int sb_parse_duration(const char *s, uint64_t *out_ms); /* 250ms 30s 5m 1h 2d */
int sb_parse_bool(const char *s, bool *out);          /* true/false yes/no on/off */
int sb_parse_int(const char *s, int64_t *out);
/* "host:port" or "[v6]:port" (http.listen). host: letters, digits, '.',
 * '-', '_' (a name or IPv4 address; not resolved here); inside brackets a
 * valid IPv6 address. port: decimal 0..65535. Writes the host without
 * brackets into host (hostlen >= SB_LISTEN_HOST_MAX). Returns 0, -1 when
 * malformed, -2 when only the port is out of range. */
#define SB_LISTEN_HOST_MAX 256
int sb_parse_listen(const char *s, char *host, size_t hostlen, uint16_t *port);

/* Typed reads of a node, marking it used. Any scalar qualifies (quoted ones
 * too, so "${X:-true}" in a flow map works); a null scalar is read as its
 * text. On a type error they write
 * "file:line:col: <path>: expected <type>, got '<text>'" (or "got a map" /
 * "got a list") into err and return -1. Types: "a string", "an integer",
 * "a boolean (true/false)", "a size like 1MiB", "a duration like 30s".
 * `path` is only used in that message. *out of sb_node_str is borrowed from
 * the node. */
int sb_node_str(sb_node *n, const char *path, const char **out, char *err, size_t errlen);
int sb_node_int(sb_node *n, const char *path, int64_t *out, char *err, size_t errlen);
int sb_node_bool(sb_node *n, const char *path, bool *out, char *err, size_t errlen);
int sb_node_size(sb_node *n, const char *path, uint64_t *out, char *err, size_t errlen);
int sb_node_duration(sb_node *n, const char *path, uint64_t *out_ms, char *err, size_t errlen);
/* The same for sections: 0 when n is a map / a list (marking n, not its
 * items, used), else "expected a map, got ..." / "expected a list, got ...". */
int sb_node_map(sb_node *n, const char *path, char *err, size_t errlen);
int sb_node_seq(sb_node *n, const char *path, char *err, size_t errlen);
/* The value of `key` in map (NULL when n is not a map or has no such key),
 * marked used. A null scalar is returned as it is: callers decide whether
 * `key:` with nothing means absent. */
sb_node *sb_node_get(sb_node *map, const char *key);

/* Marks n and everything below it used (a section handed on whole). */
void sb_node_mark_used(sb_node *n);
/* Finds the first unused node below n (depth first, in document order) and
 * writes "file:line:col: <prefix>.<path>: unknown key" into err (no dot when
 * prefix is NULL or ""). Returns 0 when every node was used, -1 otherwise. */
int sb_node_check_unused(const sb_node *n, const char *prefix, char *err, size_t errlen);
/* "file:line:col" of a node into buf ("file" alone when line is 0). */
const char *sb_node_where(const sb_node *n, char *buf, size_t len);
/* Writes "<where n>: <path>: <message>" (no "path: " when path is NULL)
 * into err and returns -1: the one shape of every error about a node. */
int sb_node_errf(const sb_node *n, const char *path, char *err, size_t errlen,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---- the typed configuration --------------------------------------------- */
/* Keys of the file and their defaults are given beside each field. A null
 * value (`key:` with nothing, or ~) counts as absent: the default applies,
 * or "required" when there is none. Lists (plugins, auth.api_tokens,
 * routing.groups) hold at most 1024 entries; a missing required field is
 * reported at its list item: "file:line:col: plugins[1].name: required". */
typedef struct sb_plugin_conf {
    char *name;          /* plugins[].name, required, [a-z0-9_]+:
                            loads <plugins_dir>/<name>.so */
    char *instance;      /* plugins[].instance, required, [A-Za-z0-9_-]+,
                            (name, instance) unique */
    bool enabled;        /* plugins[].enabled, default true */
    sb_node *config;     /* the instance's `config:` section (borrowed from
                            the root; an empty map when absent). Its keys are
                            NOT checked here: the plugin host calls
                            sb_node_check_unused on it after the plugin's init */
    sb_node *where;      /* the list item, for file:line in messages */
    size_t index;        /* position in plugins[] */
} sb_plugin_conf;

typedef struct sb_api_token_conf {
    char *name;          /* required */
    char *token;         /* required; "" means disabled: consumers skip it */
    char *role;          /* required: admin|supervisor|operator */
} sb_api_token_conf;

typedef struct sb_group_conf {
    char *id;                 /* required, unique */
    char *name;               /* default: the id */
    char *strategy;           /* least_busy|round_robin|longest_idle|skills|manual,
                                 default least_busy */
    int64_t max_per_operator; /* >= 1, default 3 */
    char *bot;                /* "plugin/instance" meeting its new conversations, or NULL */
} sb_group_conf;

typedef struct sb_config {
    char *path;                  /* the name read from (file path, or the name
                                    given with the text), "<embedded>" if none */
    sb_node *root;
    struct {
        char *listen;            /* http.listen, default 127.0.0.1:8080;
                                    host:port or [v6]:port, port 0..65535 */
        char *tls_cert, *tls_key;/* http.tls.{cert,key}: both or neither; NULL */
        uint64_t max_body;       /* default 1MiB */
        uint64_t max_header;     /* default 16KiB, whole header block */
        int64_t max_headers;     /* default 100 header lines */
        int64_t max_connections; /* default 10000 */
        uint64_t idle_timeout_ms;   /* http.idle_timeout: keep-alive idle, default 60s */
        uint64_t header_timeout_ms; /* http.header_timeout: whole request head, 10s */
        uint64_t body_timeout_ms;   /* http.body_timeout: whole body, default 30s */
        uint64_t ws_max_message;    /* default 1MiB */
        uint64_t ws_max_queue;      /* bytes queued to one WS client, 4MiB */
    } http;                      /* every limit and timeout must be > 0 */
    struct {
        char *path;              /* default ./data */
        uint64_t map_size;       /* default 1GiB; grows on demand */
        uint64_t max_map_size;   /* default 64GiB; >= map_size > 0 */
    } storage;
    struct {
        int level;               /* log.level error|warn|info|debug -> sb_log_level,
                                    default info */
    } log;
    char *plugins_dir;           /* default build/plugins */
    bool plugins_strict;         /* a plugin that fails to load stops start; false */
    uint64_t watchdog_ms;        /* watchdog: slow callback threshold, 50ms, > 0 */
    int64_t node_id;             /* 0..1023, in ids; default 0 */
    sb_plugin_conf *plugins;
    size_t n_plugins;
    struct {
        sb_api_token_conf *api_tokens; /* auth.api_tokens[] */
        size_t n_api_tokens;
        char *admin_login, *admin_password; /* auth.bootstrap_admin.{login,password}:
                                    both required when the section is there
                                    (password may be ""); NULL when absent */
        uint64_t token_ttl_ms;   /* auth.token_ttl, default 12h, > 0 */
    } auth;
    struct {
        char *default_group;     /* NULL when absent; not checked against
                                    groups (the API may create groups) */
        sb_group_conf *groups;   /* routing.groups[] */
        size_t n_groups;
    } routing;
} sb_config;

/* Reads `path`, or the text when text != NULL (then `path` is only the name
 * messages use), applies the --set assignments in order, fills defaults and
 * validates; then any key not read (outside plugins[i].config) is an error
 * "file:line:col: http.lisen: unknown key". Returns 0, or -1 with one clear
 * message in err and cfg left zeroed. cfg owns everything; sb_config_free
 * (safe on a zeroed cfg, and twice). */
int sb_config_load(sb_config *cfg, const char *path, const char *text, size_t text_len,
                   const char *const *sets, size_t n_sets, char *err, size_t errlen);
void sb_config_free(sb_config *cfg);

/* The embedded copy of conf/switchboard.yaml (generated at build time). */
extern const char sb_default_config[];
extern const size_t sb_default_config_len;

#endif
