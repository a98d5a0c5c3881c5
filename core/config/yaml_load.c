/* YAML text -> sb_node tree, through libyaml's event parser. */
#include "config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

typedef struct {
    sb_node *node;      /* the map or list being filled */
    char *key;          /* map: the key read, whose value has not come yet */
    int key_line, key_col;
    size_t index;       /* position of node in its parent (for paths) */
} frame;

typedef struct {
    sb_node *root;
    frame stack[SB_YAML_MAX_DEPTH];
    int depth;
    bool doc_seen, root_seen;
    size_t nodes, expanded;
    char *err;
    size_t errlen;
} loader;

/* "name:line:col: <msg>", with a 1-based position. */
static int fail_at(loader *L, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_at(loader *L, int line, int col, const char *fmt, ...)
{
    if (!L->err || L->errlen == 0) return -1;
    int k = snprintf(L->err, L->errlen, "%s:%d:%d: ", L->root->file, line, col);
    if (k >= 0 && (size_t)k < L->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(L->err + k, L->errlen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int fail_mark(loader *L, yaml_mark_t m, const char *msg)
{
    return fail_at(L, (int)m.line + 1, (int)m.column + 1, "%s", msg);
}

/* Dotted path of the open collections, then `key` (when not NULL) or
 * `[index]` (when index >= 0). Cut short when it does not fit. */
static const char *build_path(const loader *L, char *buf, size_t cap, const char *key,
                              long index)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 1; i <= L->depth; i++) {
        int k;
        if (i < L->depth) {
            const sb_node *parent = L->stack[i - 1].node, *n = L->stack[i].node;
            k = parent->kind == SB_NODE_MAP
                    ? snprintf(buf + len, cap - len, "%s%s", len ? "." : "", n->key)
                    : snprintf(buf + len, cap - len, "[%zu]", L->stack[i].index);
        } else if (key) {
            k = snprintf(buf + len, cap - len, "%s%s", len ? "." : "", key);
        } else if (index >= 0) {
            k = snprintf(buf + len, cap - len, "[%ld]", index);
        } else {
            break;
        }
        if (k < 0 || len + (size_t)k >= cap) break;
        len += (size_t)k;
    }
    return buf;
}

static bool is_null_text(const char *v)
{
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
           !strcmp(v, "NULL");
}

/* Reports the earliest key of `map` that repeats an earlier one. */
typedef struct { const char *key; size_t idx; } keyref;

static int cmp_keyref(const void *a, const void *b)
{
    const keyref *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static int check_duplicates(loader *L, const sb_node *map)
{
    size_t n = map->n_items;
    if (n < 2) return 0;
    /* Sorting keeps a large map O(n log n) instead of comparing all pairs. */
    keyref *refs = malloc(n * sizeof *refs);
    if (!refs) return fail_at(L, map->line, map->col, "out of memory");
    for (size_t i = 0; i < n; i++) refs[i] = (keyref){map->items[i]->key, i};
    qsort(refs, n, sizeof *refs, cmp_keyref);
    size_t dup = n;
    for (size_t i = 1; i < n; i++)
        if (strcmp(refs[i].key, refs[i - 1].key) == 0 && refs[i].idx < dup) dup = refs[i].idx;
    free(refs);
    if (dup == n) return 0;
    const sb_node *d = map->items[dup];
    char path[512];
    return fail_at(L, d->line, d->col, "%s: duplicate key",
                   build_path(L, path, sizeof path, d->key, -1));
}

/* Anchors would need aliases to mean anything; tags would change types
 * behind the reader's back. Both are refused rather than half-supported. */
static int check_plain_node(loader *L, const yaml_event_t *ev, const yaml_char_t *anchor,
                            const yaml_char_t *tag)
{
    if (anchor) return fail_mark(L, ev->start_mark, "aliases not supported");
    if (tag) return fail_mark(L, ev->start_mark, "tags not supported");
    return 0;
}

/* The document's first node becomes the root map (or leaves it empty). */
static int on_root(loader *L, const yaml_event_t *ev)
{
    L->root_seen = true;
    if (ev->type == YAML_MAPPING_START_EVENT) {
        L->root->line = (int)ev->start_mark.line + 1;
        L->root->col = (int)ev->start_mark.column + 1;
        L->stack[0] = (frame){L->root, NULL, 0, 0, 0};
        L->depth = 1;
        return 0;
    }
    if (ev->type == YAML_SCALAR_EVENT &&
        ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        is_null_text((const char *)ev->data.scalar.value))
        return 0;
    return fail_mark(L, ev->start_mark, "expected a map at the top level");
}

/* A scalar in key position: kept in the frame until its value arrives. */
static int on_key(loader *L, frame *top, const yaml_event_t *ev)
{
    if (ev->type != YAML_SCALAR_EVENT) return fail_mark(L, ev->start_mark, "non-scalar key");
    const char *raw = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (len == 0 || strlen(raw) != len)
        return fail_mark(L, ev->start_mark, len == 0 ? "empty key" : "NUL byte in a key");
    if (!(top->key = strdup(raw))) return fail_mark(L, ev->start_mark, "out of memory");
    top->key_line = (int)ev->start_mark.line + 1;
    top->key_col = (int)ev->start_mark.column + 1;
    return 0;
}

static int set_scalar(loader *L, sb_node *n, const yaml_event_t *ev, const char *path)
{
    const char *raw = (const char *)ev->data.scalar.value;
    if (strlen(raw) != ev->data.scalar.length)
        return fail_mark(L, ev->start_mark, "NUL byte in a scalar");
    yaml_scalar_style_t style = ev->data.scalar.style;
    n->quoted = style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    n->is_null = style == YAML_PLAIN_SCALAR_STYLE && is_null_text(raw);
    char why[256], *val;
    if (sb_env_expand(raw, &val, why, sizeof why) != 0)
        return fail_at(L, n->line, n->col, "%s: %s", path, why);
    free(n->value);
    n->value = val;
    L->expanded += strlen(val);
    if (L->expanded > SB_YAML_MAX_EXPANDED)
        return fail_at(L, n->line, n->col, "more than 16 MiB of values after ${} expansion");
    return 0;
}

/* A scalar, map or list in value position (or as a list item). */
static int on_value(loader *L, frame *top, const yaml_event_t *ev)
{
    sb_node_kind kind = ev->type == YAML_SCALAR_EVENT    ? SB_NODE_SCALAR
                        : ev->type == YAML_MAPPING_START_EVENT ? SB_NODE_MAP
                                                               : SB_NODE_SEQ;
    if (++L->nodes > SB_YAML_MAX_NODES)
        return fail_mark(L, ev->start_mark, "more than 200000 nodes");
    if (kind != SB_NODE_SCALAR && L->depth == SB_YAML_MAX_DEPTH)
        return fail_mark(L, ev->start_mark, "nested deeper than 64 levels");
    bool in_map = top->node->kind == SB_NODE_MAP;
    char path[512];
    build_path(L, path, sizeof path, in_map ? top->key : NULL,
               in_map ? -1 : (long)top->node->n_items);
    /* A map value is located at its key, where a reader looks for it. */
    int line = in_map ? top->key_line : (int)ev->start_mark.line + 1;
    int col = in_map ? top->key_col : (int)ev->start_mark.column + 1;
    sb_node *n = sb_node_new(kind, L->root->file, line, col);
    if (!n || sb_node_append(top->node, n) != 0) {
        sb_node_free(n);
        return fail_mark(L, ev->start_mark, "out of memory");
    }
    if (in_map) {
        n->key = top->key;
        top->key = NULL;
    }
    if (kind == SB_NODE_SCALAR) return set_scalar(L, n, ev, path);
    L->stack[L->depth++] = (frame){n, NULL, 0, 0, top->node->n_items - 1};
    return 0;
}

static int on_event(loader *L, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (L->doc_seen) return fail_mark(L, ev->start_mark, "multiple documents not supported");
        L->doc_seen = true;
        return 0;
    case YAML_ALIAS_EVENT:
        return fail_mark(L, ev->start_mark, "aliases not supported");
    case YAML_SCALAR_EVENT:
        if (check_plain_node(L, ev, ev->data.scalar.anchor, ev->data.scalar.tag)) return -1;
        break;
    case YAML_MAPPING_START_EVENT:
        if (check_plain_node(L, ev, ev->data.mapping_start.anchor, ev->data.mapping_start.tag))
            return -1;
        break;
    case YAML_SEQUENCE_START_EVENT:
        if (check_plain_node(L, ev, ev->data.sequence_start.anchor,
                             ev->data.sequence_start.tag))
            return -1;
        break;
    case YAML_MAPPING_END_EVENT:
        if (check_duplicates(L, L->stack[L->depth - 1].node)) return -1;
        L->depth--;
        return 0;
    case YAML_SEQUENCE_END_EVENT:
        L->depth--;
        return 0;
    default: /* stream start/end, document end */
        return 0;
    }
    if (!L->root_seen) return on_root(L, ev);
    frame *top = &L->stack[L->depth - 1];
    if (top->node->kind == SB_NODE_MAP && !top->key) return on_key(L, top, ev);
    return on_value(L, top, ev);
}

/* 1-based line and column (in characters) of a byte offset, for reader
 * errors, which libyaml reports by offset only. */
static void offset_to_mark(const char *text, size_t len, size_t off, yaml_mark_t *m)
{
    m->line = 0;
    m->column = 0;
    for (size_t i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') { m->line++; m->column = 0; }
        else if (((unsigned char)text[i] & 0xC0) != 0x80) m->column++;
    }
}

static int syntax_error(loader *L, const yaml_parser_t *p, const char *text, size_t len)
{
    if (p->error == YAML_MEMORY_ERROR)
        return fail_at(L, 1, 1, "out of memory");
    yaml_mark_t m = p->problem_mark;
    if (p->error == YAML_READER_ERROR) offset_to_mark(text, len, p->problem_offset, &m);
    return fail_mark(L, m, p->problem ? p->problem : "malformed YAML");
}

/* The root carries the source name in the same allocation, so freeing the
 * tree frees the name that every node's `file` points to. */
static sb_node *new_root(const char *name)
{
    size_t len = strlen(name);
    sb_node *root = calloc(1, sizeof *root + len + 1);
    if (!root) return NULL;
    char *file = (char *)(root + 1);
    memcpy(file, name, len + 1);
    root->kind = SB_NODE_MAP;
    root->file = file;
    root->line = root->col = 1;
    return root;
}

sb_node *sb_yaml_load_string(const char *name, const char *text, size_t len, char *err,
                             size_t errlen)
{
    if (!name) name = "<string>";
    if (!text) {
        text = "";
        len = 0;
    }
    if (len > SB_YAML_MAX_TEXT) {
        snprintf(err, errlen, "%s: larger than 4 MiB", name);
        return NULL;
    }
    loader L = {.err = err, .errlen = errlen, .root = new_root(name)};
    if (!L.root) {
        snprintf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        sb_node_free(L.root);
        snprintf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    int rc = 0;
    for (bool done = false; !done && rc == 0;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = syntax_error(&L, &p, text, len);
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        rc = on_event(&L, &ev);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    for (int i = 0; i < L.depth; i++) free(L.stack[i].key);
    if (rc != 0) {
        sb_node_free(L.root);
        return NULL;
    }
    return L.root;
}

/* Reads at most SB_YAML_MAX_TEXT + 1 bytes of a regular file. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    const char *why = NULL;
    if (fstat(fd, &st) != 0) why = strerror(errno);
    else if (S_ISDIR(st.st_mode)) why = strerror(EISDIR);
    else if (!S_ISREG(st.st_mode)) why = "not a regular file"; /* a FIFO could block forever */
    if (why) {
        snprintf(err, errlen, "%s: cannot read: %s", path, why);
        close(fd);
        return NULL;
    }
    size_t cap = SB_YAML_MAX_TEXT + 1, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        close(fd);
        return NULL;
    }
    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
            free(buf);
            close(fd);
            return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    *len = n;
    return buf;
}

sb_node *sb_yaml_load_file(const char *path, char *err, size_t errlen)
{
    if (!path) {
        snprintf(err, errlen, "no configuration file given");
        return NULL;
    }
    size_t len;
    char *text = read_file(path, &len, err, errlen);
    if (!text) return NULL;
    sb_node *root = sb_yaml_load_string(path, text, len, err, errlen);
    free(text);
    return root;
}
