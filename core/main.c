/* switchboard: the daemon. Reads the config, wires the modules together and
 * runs the one event loop (see shared/design/architecture.md). */
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "config/config.h"
#include "engine/engine.h"
#include "engine/routing.h"
#include "host/host.h"
#include "net/http.h"
#include "net/http_client.h"
#include "store/store.h"
#include "util/log.h"

#define DEFAULT_CONFIG "conf/switchboard.yaml"
#define EMBEDDED_NAME "<embedded>/conf/switchboard.yaml"
#define MAX_SETS 256
#define MAX_TABLES 64

typedef struct {
    const char *config_path;  /* NULL: the default file, else the embedded text */
    const char *sets[MAX_SETS];
    size_t n_sets;
    bool check;
} sb_args;

typedef struct {
    sb_args args;
    sb_config cfg;
    struct ev_loop *loop;
    sb_store *store;
    sb_http_server *http;
    sb_http_client *client;
    sb_engine *engine;
    sb_plugins *plugins;
    sb_api *api;
    ev_prepare commit_w;
    ev_signal sig_term, sig_int, sig_hup;
    bool stopping;
} sb_daemon;

static void usage(FILE *f)
{
    fprintf(f, "usage: switchboard [-c FILE] [--set KEY=VALUE]... [--check] [--version]\n"
               "  -c FILE          config file (default " DEFAULT_CONFIG ", else the embedded copy)\n"
               "  --set KEY=VALUE  override one value by its dotted path, e.g. http.listen=127.0.0.1:8080\n"
               "  --check          validate the config and init every enabled plugin, then exit\n"
               "  --version        print the version and the plugin ABI, then exit\n");
}

/* Returns -1 to exit with 1, 1 to exit with 0 (help, version), 0 to go on. */
static int parse_args(int argc, char **argv, sb_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--version") == 0) {
            printf("switchboard %s (plugin ABI %d.%d)\n", SB_VERSION, SB_ABI_MAJOR, SB_ABI_MINOR);
            return 1;
        } else if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(s, "--check") == 0) {
            a->check = true;
        } else if ((strcmp(s, "-c") == 0 || strcmp(s, "--config") == 0) && i + 1 < argc) {
            a->config_path = argv[++i];
        } else if (strcmp(s, "--set") == 0 && i + 1 < argc) {
            s = argv[++i];
            goto set;
        } else if (strncmp(s, "--set=", 6) == 0) {
            s += 6;
        set:
            if (!strchr(s, '=')) {
                fprintf(stderr, "switchboard: --set %s: expected KEY=VALUE\n", s);
                return -1;
            }
            if (a->n_sets == MAX_SETS) {
                fprintf(stderr, "switchboard: more than %d --set options\n", MAX_SETS);
                return -1;
            }
            a->sets[a->n_sets++] = s;
        } else {
            fprintf(stderr, "switchboard: unknown argument '%s'\n", s);
            usage(stderr);
            return -1;
        }
    }
    return 0;
}

static int load_config(const sb_args *a, sb_config *cfg, char *err, size_t errlen)
{
    const char *path = a->config_path;
    const char *text = NULL;
    size_t len = 0;
    if (!path) {
        path = DEFAULT_CONFIG;
        if (access(path, F_OK) != 0) { /* a bare binary runs on its built-in copy */
            path = EMBEDDED_NAME;
            text = sb_default_config;
            len = sb_default_config_len;
        }
    }
    return sb_config_load(cfg, path, text, len, a->sets, a->n_sets, err, errlen);
}

static sb_http_limits http_limits(const sb_config *c)
{
    sb_http_limits l = {
        .max_body = c->http.max_body, .max_header = c->http.max_header,
        .max_headers = c->http.max_headers, .max_connections = c->http.max_connections,
        .idle_timeout_ms = c->http.idle_timeout_ms, .header_timeout_ms = c->http.header_timeout_ms,
        .body_timeout_ms = c->http.body_timeout_ms, .ws_max_message = c->http.ws_max_message,
        .ws_max_queue = c->http.ws_max_queue, .ws_ping_ms = 30000,
    };
    return l;
}

/* Group commit: everything written during this loop iteration is committed
 * together just before the loop waits again, then acknowledged. */
static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)loop; (void)revents;
    sb_daemon *d = w->data;
    if (d->store && sb_store_pending(d->store)) sb_store_flush(d->store);
}

static void shutdown_begin(sb_daemon *d)
{
    if (d->stopping) return;
    d->stopping = true;
    sb_info("main", "stopping");
    sb_api_set_state(d->api, SB_API_STOPPING);
    sb_http_stop_accepting(d->http);
    sb_plugins_stop(d->plugins);
    sb_store_flush(d->store);
    ev_break(d->loop, EVBREAK_ALL);
}

static void on_stop_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop; (void)revents;
    shutdown_begin(w->data);
}

static void on_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop; (void)revents;
    sb_daemon *d = w->data;
    sb_config fresh;
    char err[1024];
    if (load_config(&d->args, &fresh, err, sizeof err) != 0) {
        sb_error("main", "reload refused, keeping the running config: %s", err);
        return;
    }
    if (sb_engine_configure_routing(d->engine, &fresh, err, sizeof err) != SB_OK) {
        sb_error("main", "reload refused, keeping the running config: %s", err);
        sb_config_free(&fresh);
        return;
    }
    sb_log_set_level((sb_log_level)fresh.log.level);
    sb_api_reload(d->api, &fresh);
    sb_plugins_reload(d->plugins, &fresh);
    sb_config_free(&d->cfg);
    d->cfg = fresh;
    sb_info("main", "config reloaded from %s", d->cfg.path);
}

/* The host's, the engine's and the API's tables, in one list for the store. */
static size_t table_names(const char **names, sb_table *engine_first, sb_table *api_first)
{
    size_t nh, ne, na, n = 0;
    const char *const *h = sb_plugins_table_names(&nh);
    const char *const *e = sb_engine_table_names(&ne);
    const char *const *a = sb_api_table_names(&na);
    for (size_t i = 0; i < nh && n < MAX_TABLES; i++) names[n++] = h[i];
    *engine_first = (sb_table)n;
    for (size_t i = 0; i < ne && n < MAX_TABLES; i++) names[n++] = e[i];
    *api_first = (sb_table)n;
    for (size_t i = 0; i < na && n < MAX_TABLES; i++) names[n++] = a[i];
    return n;
}

/* --check: init every enabled plugin without storage or listening. */
static int run_check(sb_daemon *d)
{
    char err[1024];
    sb_plugins_deps pd = {.loop = d->loop, .http = d->http, .plugins_dir = d->cfg.plugins_dir,
                          .strict = true, .watchdog_ms = d->cfg.watchdog_ms};
    d->plugins = sb_plugins_new(&pd);
    int failed = d->plugins ? sb_plugins_load(d->plugins, &d->cfg, err, sizeof err) : -1;
    printf("config %s: ok\n", d->cfg.path);
    for (size_t i = 0; i < d->cfg.n_plugins; i++)
        printf("plugins[%zu] %s/%s: %s\n", i, d->cfg.plugins[i].name, d->cfg.plugins[i].instance,
               d->cfg.plugins[i].enabled ? "enabled" : "disabled");
    if (failed != 0) {
        fprintf(stderr, "switchboard: %s\n", failed < 0 ? err : "a plugin failed to init");
        return 1;
    }
    printf("check passed\n");
    return 0;
}

static int start(sb_daemon *d)
{
    char err[1024];
    const char *names[MAX_TABLES];
    sb_table engine_first, api_first, kv_table = 0;
    size_t n = table_names(names, &engine_first, &api_first);
    sb_store_options so = {.path = d->cfg.storage.path, .map_size = d->cfg.storage.map_size,
                           .max_map_size = d->cfg.storage.max_map_size, .tables = names,
                           .n_tables = n};
    if (sb_store_open(&d->store, &so, err, sizeof err) != SB_OK) {
        fprintf(stderr, "switchboard: %s\n", err);
        return 1;
    }
    ev_prepare_init(&d->commit_w, on_prepare);
    d->commit_w.data = d;
    ev_prepare_start(d->loop, &d->commit_w);
    d->engine = sb_engine_new(d->loop, d->store, engine_first, NULL);
    if (d->engine && sb_engine_configure_routing(d->engine, &d->cfg, err, sizeof err) != SB_OK) {
        fprintf(stderr, "switchboard: %s\n", err);
        return 1;
    }
    d->client = sb_http_client_new(d->loop);
    sb_plugins_deps pd = {.loop = d->loop, .store = d->store, .kv_table = kv_table,
                          .http = d->http, .client = d->client, .engine = d->engine,
                          .plugins_dir = d->cfg.plugins_dir, .strict = d->cfg.plugins_strict,
                          .watchdog_ms = d->cfg.watchdog_ms};
    d->plugins = d->engine && d->client ? sb_plugins_new(&pd) : NULL;
    sb_api_deps ad = {.loop = d->loop, .http = d->http, .store = d->store,
                      .first_table = api_first, .engine = d->engine,
                      .plugins = d->plugins, .cfg = &d->cfg};
    d->api = d->plugins ? sb_api_new(&ad) : NULL;
    if (!d->api) {
        fprintf(stderr, "switchboard: out of memory at start\n");
        return 1;
    }
    sb_plugins_set_auth(d->plugins, sb_api_who, d->api);
    if (sb_plugins_load(d->plugins, &d->cfg, err, sizeof err) < 0) {
        fprintf(stderr, "switchboard: %s\n", err);
        return 1;
    }
    if (sb_http_listen(d->http, d->cfg.http.listen, d->cfg.http.tls_cert, d->cfg.http.tls_key,
                       err, sizeof err) != SB_OK) {
        fprintf(stderr, "switchboard: %s\n", err);
        return 1;
    }
    sb_plugins_start(d->plugins);
    sb_engine_start(d->engine);
    sb_api_start(d->api);
    sb_store_flush(d->store);
    sb_api_set_state(d->api, SB_API_READY);
    /* Tests and scripts wait for this line; with port 0 it tells the port. */
    const char *colon = strrchr(d->cfg.http.listen, ':');
    sb_info("main", "listening on %.*s:%d%s", colon ? (int)(colon - d->cfg.http.listen) : 0,
            d->cfg.http.listen, sb_http_port(d->http), d->cfg.http.tls_cert ? " (TLS)" : "");
    return 0;
}

static void teardown(sb_daemon *d)
{
    sb_api_stop(d->api);
    /* Pending commit callbacks (inbound `done`s) still reach live plugins. */
    if (d->store) sb_store_flush(d->store);
    sb_plugins_free(d->plugins);
    sb_engine_free(d->engine);
    sb_http_client_free(d->client);
    if (d->http) sb_http_server_free(d->http);
    sb_api_free(d->api);
    sb_store_close(d->store);
    sb_config_free(&d->cfg);
}

int main(int argc, char **argv)
{
    static sb_daemon d;
    int rc = parse_args(argc, argv, &d.args);
    if (rc) return rc < 0 ? 1 : 0;
    char err[1024];
    if (load_config(&d.args, &d.cfg, err, sizeof err) != 0) {
        fprintf(stderr, "switchboard: %s\n", err);
        return 1;
    }
    sb_log_set_level((sb_log_level)d.cfg.log.level);
    sb_id_init((unsigned)d.cfg.node_id);
    signal(SIGPIPE, SIG_IGN);
    d.loop = ev_default_loop(EVFLAG_AUTO);
    sb_http_limits lim = http_limits(&d.cfg);
    d.http = d.loop ? sb_http_server_new(d.loop, &lim) : NULL;
    if (!d.http) {
        fprintf(stderr, "switchboard: cannot create the event loop\n");
        return 1;
    }
    if (d.args.check) {
        rc = run_check(&d);
        teardown(&d);
        return rc;
    }
    rc = start(&d);
    if (rc == 0) {
        ev_signal_init(&d.sig_term, on_stop_signal, SIGTERM);
        ev_signal_init(&d.sig_int, on_stop_signal, SIGINT);
        ev_signal_init(&d.sig_hup, on_hup, SIGHUP);
        d.sig_term.data = d.sig_int.data = d.sig_hup.data = &d;
        ev_signal_start(d.loop, &d.sig_term);
        ev_signal_start(d.loop, &d.sig_int);
        ev_signal_start(d.loop, &d.sig_hup);
        ev_run(d.loop, 0);
        sb_info("main", "stopped");
    }
    teardown(&d);
    return rc;
}
