/* The sb_host table: logging, configuration access, identity, and the
 * assembly of the table itself. Timers and post() live in host_timer.c,
 * storage/HTTP/channels/events in host_io.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_internal.h"
#include "util/log.h"
#include "util/str.h"

sb_inst *sb_ctx_inst(sb_ctx *ctx)
{
    if (!ctx || ctx->magic != SB_CTX_MAGIC || !ctx->inst) return NULL;
    return ctx->inst;
}

static const char *h_strstatus(sb_status s) { return sb_status_text(s); }

static void h_vlog(sb_ctx *ctx, sb_log_level level, const char *fmt, va_list ap)
{
    sb_inst *in = sb_ctx_inst(ctx);
    if ((int)level < SB_LOG_ERROR || (int)level > SB_LOG_DEBUG) level = SB_LOG_INFO;
    sb_vlog(level, "plugin", in ? in->label : "?", fmt, ap);
}

static void h_log(sb_ctx *ctx, sb_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    h_vlog(ctx, level, fmt, ap);
    va_end(ap);
}

/* ---- configuration ------------------------------------------------------ */

/* Walks "a.b[2].c", marking every node on the way as read, so that a key
 * the plugin looked at is never reported as unknown. */
static sb_node *find_mark(sb_node *n, const char *path)
{
    const char *p = path;
    while (n && *p) {
        if (*p == '[') {
            char *end;
            unsigned long i = strtoul(p + 1, &end, 10);
            if (*end != ']' || n->kind != SB_NODE_SEQ || i >= n->n_items) return NULL;
            n = n->items[i];
            p = end + 1;
        } else {
            if (*p == '.') p++;
            size_t len = strcspn(p, ".[");
            if (len == 0 || n->kind != SB_NODE_MAP) return NULL;
            sb_node *next = NULL;
            for (size_t i = 0; i < n->n_items && !next; i++)
                if (strlen(n->items[i]->key) == len && memcmp(n->items[i]->key, p, len) == 0)
                    next = n->items[i];
            n = next;
            p += len;
        }
        if (n) n->used = true;
    }
    return n;
}

static void record_error(sb_inst *in, const char *msg)
{
    if (!in->cfg_failed) sb_strlcpy(in->last_error, msg, sizeof in->last_error);
    in->cfg_failed = true;
    sb_log(SB_LOG_ERROR, "config", in->label, "%s", msg);
}

/* One typed getter: find the node, then convert with the config module's
 * reader, which writes "file:line:col: path: expected ..." on a type error. */
#define CONFIG_GETTER(fname, ctype, reader)                                      \
    static sb_status fname(sb_ctx *ctx, const char *path, ctype *out)            \
    {                                                                            \
        sb_inst *in = sb_ctx_inst(ctx);                                          \
        if (!in || !path || !out) return SB_ERR_HANDLE;                          \
        sb_node *n = find_mark(in->cfg, path);                                   \
        if (!n || (n->kind == SB_NODE_SCALAR && n->is_null)) return SB_ERR_NOT_FOUND; \
        char full[512], err[768];                                                \
        snprintf(full, sizeof full, "%s.%s", in->cfg_prefix, path);              \
        if (reader(n, full, out, err, sizeof err) != 0) {                        \
            record_error(in, err);                                               \
            return SB_ERR_INVALID;                                               \
        }                                                                        \
        return SB_OK;                                                            \
    }

static int read_bool_int(sb_node *n, const char *path, int *out, char *err, size_t len)
{
    bool b;
    if (sb_node_bool(n, path, &b, err, len) != 0) return -1;
    *out = b;
    return 0;
}

CONFIG_GETTER(h_config_string, const char *, sb_node_str)
CONFIG_GETTER(h_config_int, int64_t, sb_node_int)
CONFIG_GETTER(h_config_bool, int, read_bool_int)
CONFIG_GETTER(h_config_size, uint64_t, sb_node_size)
CONFIG_GETTER(h_config_duration, uint64_t, sb_node_duration)

static sb_status h_config_count(sb_ctx *ctx, const char *path, size_t *out)
{
    sb_inst *in = sb_ctx_inst(ctx);
    if (!in || !path || !out) return SB_ERR_HANDLE;
    sb_node *n = *path ? find_mark(in->cfg, path) : in->cfg;
    if (!n || (n->kind == SB_NODE_SCALAR && n->is_null)) return SB_ERR_NOT_FOUND;
    if (n->kind == SB_NODE_SCALAR) {
        char where[256], msg[768];
        snprintf(msg, sizeof msg, "%s: %s.%s: expected a list or a map",
                 sb_node_where(n, where, sizeof where), in->cfg_prefix, path);
        record_error(in, msg);
        return SB_ERR_INVALID;
    }
    *out = n->n_items;
    return SB_OK;
}

static void h_config_error(sb_ctx *ctx, const char *path, const char *message)
{
    sb_inst *in = sb_ctx_inst(ctx);
    if (!in) return;
    sb_node *n = path && *path ? find_mark(in->cfg, path) : NULL;
    char where[256], msg[1024];
    snprintf(msg, sizeof msg, "%s: %s%s%s: %s", sb_node_where(n ? n : in->cfg, where, sizeof where),
             in->cfg_prefix, path && *path ? "." : "", path ? path : "",
             message ? message : "invalid");
    record_error(in, msg);
}

static const char *h_instance_name(sb_ctx *ctx)
{
    sb_inst *in = sb_ctx_inst(ctx);
    return in ? in->instance : NULL;
}

static const char *h_plugin_name(sb_ctx *ctx)
{
    sb_inst *in = sb_ctx_inst(ctx);
    return in ? in->name : NULL;
}

static int64_t h_now_ms(sb_ctx *ctx)
{
    sb_inst *in = sb_ctx_inst(ctx);
    return in ? (int64_t)(ev_now(in->host->d.loop) * 1000.0) : 0;
}

void sb_host_table_fill(sb_host *t)
{
    memset(t, 0, sizeof *t);
    t->struct_size = sizeof *t;
    t->abi_major = SB_ABI_MAJOR;
    t->abi_minor = SB_ABI_MINOR;
    t->strstatus = h_strstatus;
    t->log = h_log;
    t->vlog = h_vlog;
    t->config_string = h_config_string;
    t->config_int = h_config_int;
    t->config_bool = h_config_bool;
    t->config_size = h_config_size;
    t->config_duration = h_config_duration;
    t->config_count = h_config_count;
    t->config_error = h_config_error;
    t->instance_name = h_instance_name;
    t->plugin_name = h_plugin_name;
    t->now_ms = h_now_ms;
    t->timer_start = sb_h_timer_start;
    t->timer_stop = sb_h_timer_stop;
    t->post = sb_h_post;
    sb_host_io_fill(t);
}
