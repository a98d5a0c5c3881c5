/* Plugin instances: creation from the config, the lifecycle, reload on
 * SIGHUP, and the views the API and /metrics read. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/routing.h"
#include "host/host_internal.h"
#include "util/log.h"
#include "util/str.h"

static const char *const k_tables[] = {"kv"};

const char *const *sb_plugins_table_names(size_t *n)
{
    *n = sizeof k_tables / sizeof k_tables[0];
    return k_tables;
}

static const char *state_name(sb_inst_state s)
{
    static const char *const names[] = {"loaded", "initialised", "running",
                                        "stopped", "failed", "destroyed"};
    return names[s];
}

static const char *kind_name(const sb_plugin *d)
{
    if (!d) return "unknown";
    return d->kind == SB_KIND_CHANNEL ? "channel" : d->kind == SB_KIND_BOT ? "bot" : "service";
}


static sb_inst *find_inst(sb_plugins *p, const char *name, const char *instance)
{
    for (sb_inst *in = p->insts; in; in = in->next)
        if (strcmp(in->name, name) == 0 && strcmp(in->instance, instance) == 0) return in;
    return NULL;
}

sb_inst *sb_inst_by_label(sb_plugins *p, const char *label)
{
    for (sb_inst *in = p->insts; in; in = in->next)
        if (strcmp(in->label, label) == 0) return in;
    return NULL;
}

/* The engine's way to a channel: find the running instance, call send(). */
static sb_send_accept send_to_channel(void *ud, const char *plugin, const char *instance,
                                      const sb_outbound *msg, uint64_t op, bool *transient)
{
    sb_inst *in = find_inst(ud, plugin, instance);
    if (in && in->state == SB_INST_RUNNING && HAS(in->desc, send)) {
        sb_send_accept r;
        SB_PLUGIN_CALL(in, "send", r = in->desc->send(in->state_ptr, msg, op));
        *transient = false;
        return r;
    }
    *transient = true; /* not running now (disabled, failed, reloading): retry later */
    return SB_SEND_REJECTED;
}

sb_plugins *sb_plugins_new(const sb_plugins_deps *deps)
{
    sb_plugins *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->d = *deps;
    sb_host_table_fill(&p->table);
    sb_post_init(p);
    pthread_mutex_init(&p->wd_mu, NULL);
    pthread_cond_init(&p->wd_cv, NULL);
    sb_watchdog_start(p);
    if (p->d.engine) sb_engine_set_sender(p->d.engine, send_to_channel, p);
    sb_host_bot_subscribe(p);
    return p;
}

static void fail(sb_inst *in, const char *msg)
{
    if (msg && (!in->cfg_failed || !in->last_error[0]))
        sb_strlcpy(in->last_error, msg, sizeof in->last_error);
    in->state = SB_INST_FAILED;
    sb_log(SB_LOG_ERROR, "host", in->label, "%s", in->last_error);
}

/* Calls destroy when the plugin got that far, then invalidates the ctx. */
static void inst_destroy(sb_inst *in)
{
    atomic_store(&in->ctx->accepting_posts, false);
    sb_inst_release(in);
    if (in->state_ptr && HAS(in->desc, destroy))
        SB_PLUGIN_CALL(in, "destroy", in->desc->destroy(in->state_ptr));
    in->state_ptr = NULL;
    in->ctx->magic = SB_CTX_DEAD;
    in->ctx->inst = NULL;
    in->state = SB_INST_DESTROYED;
}

static int check_config(sb_inst *in)
{
    char err[1024];
    if (in->cfg_failed) return -1;
    if (sb_node_check_unused(in->cfg, in->cfg_prefix, err, sizeof err) != 0) {
        sb_strlcpy(in->last_error, err, sizeof in->last_error);
        in->cfg_failed = true;
        return -1;
    }
    return 0;
}

/* A string key of a channel's section that the core reads itself; bot
 * must look like "plugin/instance". */
static int core_key(sb_inst *in, const char *key, const char **out, char *err, size_t errlen)
{
    char path[128];
    snprintf(path, sizeof path, "%s.%s", in->cfg_prefix, key);
    sb_node *n = sb_node_find(in->cfg, key);
    if (n && sb_node_str(n, path, out, err, errlen) != 0) return -1;
    if (*out && strcmp(key, "bot") == 0) {
        if (!sb_is_instance_ref(*out) || strlen(*out) > 129) {
            char where[256];
            snprintf(err, errlen, "%s: %s: expected \"<plugin>/<instance>\" of a bot",
                     sb_node_where(n, where, sizeof where), path);
            return -1;
        }
    }
    return 0;
}

static void inst_init(sb_plugins *p, sb_inst *in)
{
    char err[1024];
    in->desc = sb_loader_open(p, in->name, err, sizeof err);
    if (!in->desc) { fail(in, err); return; }
    in->ctx = calloc(1, sizeof *in->ctx);
    if (in->ctx && p->n_ctxs == p->cap_ctxs) {
        size_t cap = p->cap_ctxs ? p->cap_ctxs * 2 : 16;
        sb_ctx **c = realloc(p->ctxs, cap * sizeof *c);
        if (c) { p->ctxs = c; p->cap_ctxs = cap; }
    }
    if (!in->ctx || p->n_ctxs == p->cap_ctxs) {
        free(in->ctx);
        in->ctx = NULL;
        fail(in, "out of memory");
        return;
    }
    p->ctxs[p->n_ctxs++] = in->ctx;
    in->ctx->magic = SB_CTX_MAGIC;
    in->ctx->inst = in;
    in->ctx->host = p;
    atomic_store(&in->ctx->accepting_posts, true);
    if (in->desc->kind == SB_KIND_CHANNEL) {
        /* Outbound pacing belongs to the core's outbox, so the host reads
         * it from every channel's section (messages per second, 0 = none). */
        sb_node *rl = sb_node_find(in->cfg, "rate_limit");
        int64_t rate = 0;
        char path[96];
        snprintf(path, sizeof path, "%s.rate_limit", in->cfg_prefix);
        if (rl && (sb_node_int(rl, path, &rate, err, sizeof err) != 0 || rate < 0)) {
            if (rate < 0) snprintf(err, sizeof err, "%s: must be >= 0", path);
            inst_destroy(in);
            { fail(in, err); return; }
        }
        if (p->d.engine) sb_engine_set_rate(p->d.engine, in->name, in->instance, (double)rate);
        /* Which operator group, and which bot, meet this channel's new
         * conversations. */
        const char *group = NULL, *bot = NULL;
        if (core_key(in, "group", &group, err, sizeof err) != 0 ||
            core_key(in, "bot", &bot, err, sizeof err) != 0) {
            inst_destroy(in);
            { fail(in, err); return; }
        }
        if (p->d.engine) {
            sb_engine_set_instance_group(p->d.engine, in->name, in->instance, group);
            sb_engine_set_instance_bot(p->d.engine, in->name, in->instance, bot);
        }
    }
    sb_status st;
    SB_PLUGIN_CALL(in, "init", st = in->desc->init(&p->table, in->ctx, &in->state_ptr));
    if (st != SB_OK || check_config(in) != 0) {
        if (!in->cfg_failed)
            snprintf(err, sizeof err, "init failed: %s", p->table.strstatus(st));
        inst_destroy(in);
        { fail(in, in->cfg_failed ? NULL : err); return; }
    }
    in->state = SB_INST_INITED;
}

static sb_inst *inst_new(sb_plugins *p, const sb_plugin_conf *pc)
{
    sb_inst *in = calloc(1, sizeof *in);
    char label[300];
    snprintf(label, sizeof label, "%s/%s", pc->name, pc->instance);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "plugins[%zu].config", pc->index);
    if (!in || !(in->name = strdup(pc->name)) || !(in->instance = strdup(pc->instance)) ||
        !(in->label = strdup(label)) || !(in->cfg_prefix = strdup(prefix)) ||
        !(in->cfg = sb_node_clone(pc->config))) {
        if (in) {
            free(in->name); free(in->instance); free(in->label); free(in->cfg_prefix);
            free(in);
        }
        return NULL;
    }
    in->host = p;
    in->index = pc->index;
    in->cfg->used = true;
    return in;
}

static void inst_free(sb_inst *in)
{
    sb_node_clone_free(in->cfg);
    sb_node_clone_free(in->cfg_retired);
    free(in->name);
    free(in->instance);
    free(in->label);
    free(in->cfg_prefix);
    /* in->ctx stays allocated until sb_plugins_free: a plugin's thread may
     * still hold it after a reload removed the instance. */
    free(in);
}


static void append(sb_plugins *p, sb_inst *in)
{
    sb_inst **pp = &p->insts;
    while (*pp) pp = &(*pp)->next;
    *pp = in;
}

int sb_plugins_load(sb_plugins *p, const sb_config *cfg, char *err, size_t errlen)
{
    int failed = 0;
    for (size_t i = 0; i < cfg->n_plugins; i++) {
        const sb_plugin_conf *pc = &cfg->plugins[i];
        if (!pc->enabled) continue;
        sb_inst *in = inst_new(p, pc);
        if (!in) {
            snprintf(err, errlen, "out of memory loading plugins[%zu]", i);
            return -1;
        }
        append(p, in);
        inst_init(p, in);
        if (in->state != SB_INST_FAILED) continue;
        failed++;
        if (p->d.strict) {
            snprintf(err, errlen, "%s (plugins_strict is on)", in->last_error);
            return -1;
        }
    }
    /* A channel's bot must be a bot instance that is configured and loaded. */
    for (sb_inst *in = p->insts; in; in = in->next) {
        sb_node *n = in->state == SB_INST_INITED && in->desc->kind == SB_KIND_CHANNEL
                         ? sb_node_find(in->cfg, "bot") : NULL;
        if (!n || n->kind != SB_NODE_SCALAR || n->is_null) continue;
        sb_inst *b = sb_inst_by_label(p, n->value);
        if (b && b->state == SB_INST_INITED && b->desc->kind == SB_KIND_BOT) continue;
        char where[256], msg[768];
        snprintf(msg, sizeof msg, "%s: %s.bot: '%s' is not %s", sb_node_where(n, where, sizeof where),
                 in->cfg_prefix, n->value,
                 !b ? "an enabled plugin instance" : b->state != SB_INST_INITED
                     ? "running (it failed to load)" : "a bot plugin");
        failed++;
        if (p->d.strict) {
            snprintf(err, errlen, "%s (plugins_strict is on)", msg);
            return -1;
        }
        sb_log(SB_LOG_ERROR, "config", in->label, "%s: its conversations go to operators", msg);
    }
    return failed;
}

static void inst_start(sb_inst *in)
{
    if (in->state != SB_INST_INITED) return;
    sb_status st = SB_OK;
    if (HAS(in->desc, start))
        SB_PLUGIN_CALL(in, "start", st = in->desc->start(in->state_ptr));
    if (st != SB_OK) {
        char err[256];
        snprintf(err, sizeof err, "start failed: %s", in->host->table.strstatus(st));
        inst_destroy(in);
        { fail(in, err); return; }
    }
    in->state = SB_INST_RUNNING;
    sb_log(SB_LOG_INFO, "host", in->label, "started %s plugin %s",
           kind_name(in->desc), in->desc->version ? in->desc->version : "");
}

void sb_plugins_start(sb_plugins *p)
{
    for (sb_inst *in = p->insts; in; in = in->next) inst_start(in);
}

static void inst_stop(sb_inst *in)
{
    if (in->state != SB_INST_RUNNING && in->state != SB_INST_INITED) return;
    atomic_store(&in->ctx->accepting_posts, false);
    sb_ws_release(in, true);
    if (HAS(in->desc, stop)) SB_PLUGIN_CALL(in, "stop", in->desc->stop(in->state_ptr));
    sb_inst_release(in);
    in->state = SB_INST_STOPPED;
}

void sb_plugins_stop(sb_plugins *p)
{
    for (sb_inst *in = p->insts; in; in = in->next) inst_stop(in);
}

/* Swaps in the new section and asks the plugin to re-read it; on refusal
 * the old section comes back, so the plugin's borrowed strings stay valid. */
static void inst_reload(sb_inst *in, const sb_plugin_conf *pc)
{
    if (sb_node_equal(in->cfg, pc->config)) return;
    if (!HAS(in->desc, reload)) {
        sb_log(SB_LOG_WARN, "host", in->label, "config changed but the plugin cannot "
               "reload; restart switchboard to apply it");
        return;
    }
    sb_node *fresh = sb_node_clone(pc->config), *old = in->cfg;
    if (!fresh) return;
    fresh->used = true;
    in->cfg = fresh;
    in->cfg_failed = false;
    sb_status st;
    SB_PLUGIN_CALL(in, "reload", st = in->desc->reload(in->state_ptr));
    if (st == SB_OK && check_config(in) == 0) {
        sb_node_clone_free(old);
        sb_log(SB_LOG_INFO, "host", in->label, "reloaded");
        return;
    }
    sb_log(SB_LOG_ERROR, "host", in->label, "reload refused, keeping the old config: %s",
           in->cfg_failed ? in->last_error : in->host->table.strstatus(st));
    in->cfg = old;
    in->cfg_failed = false;
    if (st == SB_OK) {
        /* The plugin took the new section, which the host then refused (an
         * unknown key): have it read the old one again. Its strings may
         * still point into the new section, which stays until destroy. */
        SB_PLUGIN_CALL(in, "reload", st = in->desc->reload(in->state_ptr));
        sb_node_clone_free(in->cfg_retired);
        in->cfg_retired = fresh;
        return;
    }
    sb_node_clone_free(fresh);
}

void sb_plugins_reload(sb_plugins *p, const sb_config *cfg)
{
    /* Gone or disabled instances stop first, so a renamed one can't clash. */
    sb_inst **pp = &p->insts;
    while (*pp) {
        sb_inst *in = *pp;
        bool keep = false;
        for (size_t i = 0; i < cfg->n_plugins && !keep; i++)
            keep = cfg->plugins[i].enabled && strcmp(cfg->plugins[i].name, in->name) == 0 &&
                   strcmp(cfg->plugins[i].instance, in->instance) == 0;
        if (keep) { pp = &in->next; continue; }
        sb_log(SB_LOG_INFO, "host", in->label, "removed from the config: stopping");
        inst_stop(in);
        if (in->ctx && in->state != SB_INST_DESTROYED && in->state != SB_INST_FAILED)
            inst_destroy(in);
        *pp = in->next;
        inst_free(in);
    }
    for (size_t i = 0; i < cfg->n_plugins; i++) {
        const sb_plugin_conf *pc = &cfg->plugins[i];
        if (!pc->enabled) continue;
        sb_inst *in = find_inst(p, pc->name, pc->instance);
        if (in && in->state == SB_INST_RUNNING) {
            inst_reload(in, pc);
            continue;
        }
        if (in) { /* failed before: try again from scratch with the new section */
            for (sb_inst **q = &p->insts; *q; q = &(*q)->next)
                if (*q == in) { *q = in->next; break; }
            inst_free(in);
        }
        if (!(in = inst_new(p, pc))) continue;
        append(p, in);
        inst_init(p, in);
        inst_start(in);
    }
}

void sb_plugins_free(sb_plugins *p)
{
    if (!p) return;
    sb_plugins_stop(p);
    if (p->d.engine) sb_engine_unsubscribe_owner(p->d.engine, p);
    while (p->insts) {
        sb_inst *in = p->insts;
        p->insts = in->next;
        if (in->ctx && in->state != SB_INST_DESTROYED && in->state != SB_INST_FAILED)
            inst_destroy(in);
        inst_free(in);
    }
    sb_watchdog_stop(p);
    sb_idmap_free(&p->ws_recs);
    for (size_t i = 0; i < p->n_ctxs; i++) free(p->ctxs[i]);
    free(p->ctxs);
    pthread_cond_destroy(&p->wd_cv);
    pthread_mutex_destroy(&p->wd_mu);
    sb_post_fini(p);
    sb_loader_free(p);
    free(p);
}

char *sb_plugins_json(sb_plugins *p)
{
    json_t *arr = json_array();
    for (sb_inst *in = p->insts; in; in = in->next) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "name", in->name, "instance",
                              in->instance, "kind", kind_name(in->desc), "version",
                              in->desc && in->desc->version ? in->desc->version : "",
                              "state", state_name(in->state), "last_error",
                              in->last_error[0] ? in->last_error : NULL);
        if (o && !in->last_error[0]) json_object_set_new(o, "last_error", json_null());
        json_array_append_new(arr, o);
    }
    char *s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return s;
}

void sb_plugins_metrics(sb_plugins *p, void (*inst_cb)(void *, const sb_plugin_metrics *),
                        void (*counter_cb)(void *, const char *, const char *, const char *,
                                           double),
                        void *ud)
{
    for (sb_inst *in = p->insts; in; in = in->next) {
        sb_plugin_metrics m = {in->name, in->instance, state_name(in->state),
                               in->cb_seconds, in->cb_count, in->cb_slow};
        inst_cb(ud, &m);
        for (size_t i = 0; i < in->n_metrics; i++)
            counter_cb(ud, in->name, in->instance, in->metrics[i].name, in->metrics[i].value);
    }
}

bool sb_plugins_all_running(const sb_plugins *p)
{
    for (const sb_inst *in = p->insts; in; in = in->next)
        if (in->state != SB_INST_RUNNING && in->state != SB_INST_FAILED) return false;
    return true;
}
