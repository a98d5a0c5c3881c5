/* sb_config_load: the repo's config, defaults, validation messages, --set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "util/log.h"

static char err[512];

static void clear_env(void)
{
    const char *vars[] = {"SB_LISTEN", "SB_DATA", "SB_APICHANNEL_SECRET",
                          "SB_APICHANNEL_CALLBACK", "SB_API_TOKEN", "SB_ADMIN_PASSWORD"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
}

static int load_sets(sb_config *c, const char *yaml, const char *const *sets, size_t n)
{
    err[0] = '\0';
    return sb_config_load(c, "t.yaml", yaml, strlen(yaml), sets, n, err, sizeof err);
}

static void load_ok(sb_config *c, const char *yaml)
{
    if (load_sets(c, yaml, NULL, 0) != 0) fail_msg("%s", err);
}

/* Loading must fail with exactly `want`, leaving cfg zeroed. */
static void fails(const char *yaml, const char *want)
{
    sb_config c;
    if (load_sets(&c, yaml, NULL, 0) == 0) {
        sb_config_free(&c);
        fail_msg("accepted:\n%s", yaml);
    }
    assert_string_equal(err, want);
    assert_null(c.root);
    assert_null(c.path);
    assert_int_equal(c.n_plugins, 0);
}

static void assert_defaults_not_in_file(const sb_config *c)
{
    assert_int_equal(c->http.max_header, 16 * 1024);
    assert_int_equal(c->http.max_headers, 100);
    assert_int_equal(c->http.header_timeout_ms, 10000);
    assert_int_equal(c->http.body_timeout_ms, 30000);
    assert_int_equal(c->http.ws_max_message, 1 << 20);
    assert_int_equal(c->http.ws_max_queue, 4 << 20);
    assert_null(c->http.tls_cert);
    assert_null(c->http.tls_key);
    assert_int_equal(c->storage.max_map_size, 64ULL << 30);
    assert_int_equal(c->watchdog_ms, 50);
    assert_int_equal(c->node_id, 0);
    assert_int_equal(c->auth.token_ttl_ms, 12ULL * 3600 * 1000);
}

static void check_repo_config(const sb_config *c)
{
    assert_string_equal(c->http.listen, "127.0.0.1:8080");
    assert_int_equal(c->http.max_body, 1 << 20);
    assert_int_equal(c->http.max_connections, 10000);
    assert_int_equal(c->http.idle_timeout_ms, 60000);
    assert_string_equal(c->storage.path, "./data");
    assert_int_equal(c->storage.map_size, 1ULL << 30);
    assert_int_equal(c->log.level, SB_LOG_INFO);
    assert_string_equal(c->plugins_dir, "build/plugins");
    assert_false(c->plugins_strict);
    assert_defaults_not_in_file(c);

    assert_true(c->n_plugins >= 1);
    const sb_plugin_conf *p = &c->plugins[0];
    assert_string_equal(p->name, "apichannel");
    assert_string_equal(p->instance, "main");
    assert_true(p->enabled);
    assert_int_equal(p->index, 0);
    assert_int_equal(p->config->kind, SB_NODE_MAP);
    assert_string_equal(sb_node_find(p->config, "secret")->value, "");
    assert_ptr_equal(p->where, sb_node_find(c->root, "plugins[0]"));
    for (size_t i = 0; i < c->n_plugins; i++) {
        assert_non_null(c->plugins[i].config);
        assert_int_equal(c->plugins[i].index, i);
    }

    assert_true(c->auth.n_api_tokens >= 1);
    assert_string_equal(c->auth.api_tokens[0].token, ""); /* disabled unless set */
    assert_string_equal(c->auth.admin_login, "admin");
    assert_string_equal(c->auth.admin_password, "");
    assert_string_equal(c->routing.default_group, "support");
    assert_true(c->routing.n_groups >= 1);
    assert_string_equal(c->routing.groups[0].id, "support");
    assert_string_equal(c->routing.groups[0].strategy, "least_busy");
    assert_int_equal(c->routing.groups[0].max_per_operator, 3);
}

static void test_repo_config(void **state)
{
    (void)state;
    clear_env();
    sb_config c;
    const char *path = SB_TEST_SOURCE_DIR "/conf/switchboard.yaml";
    if (sb_config_load(&c, path, NULL, 0, NULL, 0, err, sizeof err) != 0) fail_msg("%s", err);
    assert_string_equal(c.path, path);
    check_repo_config(&c);
    sb_config_free(&c);
    sb_config_free(&c); /* twice is harmless */

    /* The copy built into the binary is the same file. */
    const char *name = "<embedded>/conf/switchboard.yaml";
    if (sb_config_load(&c, name, sb_default_config, sb_default_config_len, NULL, 0, err,
                       sizeof err) != 0)
        fail_msg("%s", err);
    check_repo_config(&c);
    assert_string_equal(c.root->file, name);
    sb_config_free(&c);

    setenv("SB_LISTEN", "[::1]:9000", 1);
    setenv("SB_API_TOKEN", "secret-token", 1);
    if (sb_config_load(&c, path, NULL, 0, NULL, 0, err, sizeof err) != 0) fail_msg("%s", err);
    assert_string_equal(c.http.listen, "[::1]:9000");
    assert_string_equal(c.auth.api_tokens[0].token, "secret-token");
    sb_config_free(&c);
    clear_env();
}

static void test_defaults(void **state)
{
    (void)state;
    sb_config c;
    load_ok(&c, "");
    assert_string_equal(c.path, "t.yaml");
    assert_string_equal(c.http.listen, "127.0.0.1:8080");
    assert_int_equal(c.http.max_body, 1 << 20);
    assert_int_equal(c.http.max_connections, 10000);
    assert_int_equal(c.http.idle_timeout_ms, 60000);
    assert_string_equal(c.storage.path, "./data");
    assert_int_equal(c.storage.map_size, 1ULL << 30);
    assert_int_equal(c.log.level, SB_LOG_INFO);
    assert_string_equal(c.plugins_dir, "build/plugins");
    assert_defaults_not_in_file(&c);
    assert_int_equal(c.n_plugins, 0);
    assert_int_equal(c.auth.n_api_tokens, 0);
    assert_null(c.auth.admin_login);
    assert_null(c.routing.default_group);
    assert_int_equal(c.routing.n_groups, 0);
    sb_config_free(&c);

    /* `key:` with nothing is the default too. */
    load_ok(&c, "http:\n  max_body:\n  tls:\nlog:\n  level: ~\nplugins:\nnode_id: 1023\n");
    assert_int_equal(c.http.max_body, 1 << 20);
    assert_int_equal(c.log.level, SB_LOG_INFO);
    assert_int_equal(c.node_id, 1023);
    sb_config_free(&c);

    load_ok(&c, "http:\n"
                "  listen: '[::]:0'\n"
                "  tls: { cert: c.pem, key: k.pem }\n"
                "  max_body: 10MB\n"
                "  max_headers: 7\n"
                "  idle_timeout: 5m\n"
                "  ws_max_queue: 1KiB\n"
                "storage: { path: /d, map_size: 2GiB, max_map_size: 2GiB }\n"
                "log: { level: debug }\n"
                "plugins_strict: yes\n"
                "watchdog: 1s\n"
                "auth: { token_ttl: 1d }\n");
    assert_string_equal(c.http.listen, "[::]:0");
    assert_string_equal(c.http.tls_cert, "c.pem");
    assert_string_equal(c.http.tls_key, "k.pem");
    assert_int_equal(c.http.max_body, 10000000);
    assert_int_equal(c.http.max_headers, 7);
    assert_int_equal(c.http.idle_timeout_ms, 300000);
    assert_int_equal(c.http.ws_max_queue, 1024);
    assert_string_equal(c.storage.path, "/d");
    assert_int_equal(c.storage.max_map_size, 2ULL << 30);
    assert_int_equal(c.log.level, SB_LOG_DEBUG);
    assert_true(c.plugins_strict);
    assert_int_equal(c.watchdog_ms, 1000);
    assert_int_equal(c.auth.token_ttl_ms, 86400000);
    sb_config_free(&c);
}

static void test_type_and_range_errors(void **state)
{
    (void)state;
    fails("http:\n  max_body: lots\n",
          "t.yaml:2:3: http.max_body: expected a size like 1MiB, got 'lots'");
    fails("http:\n  idle_timeout: 60\n",
          "t.yaml:2:3: http.idle_timeout: expected a duration like 30s, got '60'");
    fails("http:\n  max_connections: 1e4\n",
          "t.yaml:2:3: http.max_connections: expected an integer, got '1e4'");
    fails("http:\n  max_connections: 99999999999999999999\n",
          "t.yaml:2:3: http.max_connections: expected an integer, got '99999999999999999999'");
    fails("http:\n  max_body: 0\n", "t.yaml:2:3: http.max_body: must be greater than 0");
    fails("http:\n  max_headers: -1\n", "t.yaml:2:3: http.max_headers: must be greater than 0");
    fails("http:\n  listen: [a]\n", "t.yaml:2:3: http.listen: expected a string, got a list");
    fails("http: 8080\n", "t.yaml:1:1: http: expected a map, got '8080'");
    fails("plugins_strict: maybe\n",
          "t.yaml:1:1: plugins_strict: expected a boolean (true/false), got 'maybe'");
    fails("node_id: 1024\n", "t.yaml:1:1: node_id: must be between 0 and 1023, got 1024");
    fails("node_id: -1\n", "t.yaml:1:1: node_id: must be between 0 and 1023, got -1");
    fails("log:\n  level: verbose\n",
          "t.yaml:2:3: log.level: expected one of error|warn|info|debug, got 'verbose'");
    fails("storage:\n  map_size: 2GiB\n  max_map_size: 1GiB\n",
          "t.yaml:3:3: storage.max_map_size: must be at least storage.map_size");
    fails("storage:\n  map_size: 65GiB\n",
          "t.yaml:2:3: storage.map_size: must not exceed storage.max_map_size (64GiB by default)");
    fails("http:\n  tls:\n    cert: c.pem\n",
          "t.yaml:2:3: http.tls: cert and key must be given together");
    fails("http:\n  tls: {key: k.pem, cert: }\n",
          "t.yaml:2:3: http.tls: cert and key must be given together");
    fails("plugins: {a: 1}\n", "t.yaml:1:1: plugins: expected a list, got a map");
}

static void test_listen(void **state)
{
    (void)state;
    const char *good[] = {"127.0.0.1:0", "0.0.0.0:65535", "localhost:80", "[::1]:8080",
                          "[::]:1", "my-host.example:443", "[fe80::1:2]:9"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char yaml[128];
        sb_config c;
        snprintf(yaml, sizeof yaml, "http:\n  listen: '%s'\n", good[i]);
        if (load_sets(&c, yaml, NULL, 0) != 0) fail_msg("%s: %s", good[i], err);
        assert_string_equal(c.http.listen, good[i]);
        sb_config_free(&c);
    }
    fails("http:\n  listen: 127.0.0.1:65536\n",
          "t.yaml:2:3: http.listen: port 65536 out of range 0..65535");
    fails("http:\n  listen: '[::1]:99999999999999999999'\n",
          "t.yaml:2:3: http.listen: port 99999999999999999999 out of range 0..65535");
    const char *bad[] = {"localhost", ":8080", "1.2.3.4:", "a:b:1", "::1:80", "[::1]8080",
                         "[::1:80", "[zz]:1", "[]:1", "host:-1", "host:+1", "host:8 0",
                         "ho st:1", "host:0x50"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char yaml[128], want[160];
        snprintf(yaml, sizeof yaml, "http:\n  listen: '%s'\n", bad[i]);
        snprintf(want, sizeof want,
                 "t.yaml:2:3: http.listen: expected host:port or [v6]:port, got '%s'", bad[i]);
        fails(yaml, want);
    }
}

static void test_unknown_keys(void **state)
{
    (void)state;
    fails("http:\n  lisen: 127.0.0.1:1\n", "t.yaml:2:3: http.lisen: unknown key");
    fails("lgo:\n  level: info\n", "t.yaml:1:1: lgo: unknown key");
    fails("http:\n  tls:\n    cert: a\n    key: b\n    ca: c\n",
          "t.yaml:5:5: http.tls.ca: unknown key");
    fails("plugins:\n  - name: a\n    instance: b\n    enabeld: true\n",
          "t.yaml:4:5: plugins[0].enabeld: unknown key");
    fails("routing:\n  groups:\n    - {id: g, skils: [x]}\n",
          "t.yaml:3:15: routing.groups[0].skils: unknown key");
    fails("auth:\n  bootstrap_admin: {login: a, password: b, mail: c}\n",
          "t.yaml:2:44: auth.bootstrap_admin.mail: unknown key");

    /* A plugin's own section is left to the plugin host: loaded, not checked,
     * and still unused so that the host can check it after init. */
    sb_config c;
    load_ok(&c, "plugins:\n"
                "  - name: a\n"
                "    instance: b\n"
                "    config:\n"
                "      anything: {deep: [1, 2]}\n");
    sb_node *conf = c.plugins[0].config;
    assert_int_equal(conf->n_items, 1);
    assert_false(conf->items[0]->used);
    assert_int_equal(sb_node_check_unused(conf, "plugins[0].config", err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:5:7: plugins[0].config.anything: unknown key");
    sb_config_free(&c);
}

static void test_env(void **state)
{
    (void)state;
    unsetenv("SB_T_NOPE");
    fails("plugins:\n"
          "  - name: telegram\n"
          "    instance: bot\n"
          "    config:\n"
          "      token: ${SB_T_NOPE}\n",
          "t.yaml:5:7: plugins[0].config.token: environment variable SB_T_NOPE is not set");
    sb_config c;
    setenv("SB_T_PORT", "9001", 1);
    load_ok(&c, "http:\n  listen: 127.0.0.1:${SB_T_PORT}\n  max_body: ${SB_T_NOPE:-2MiB}\n");
    assert_string_equal(c.http.listen, "127.0.0.1:9001");
    assert_int_equal(c.http.max_body, 2 << 20);
    sb_config_free(&c);
    unsetenv("SB_T_PORT");
}

static void test_set(void **state)
{
    (void)state;
    sb_config c;
    const char *yaml = "plugins:\n  - name: a\n    instance: b\n    config: {x: 1}\n";
    const char *sets[] = {"http.listen=127.0.0.1:0", "storage.path=/tmp/d",
                          "plugins[0].config.callback_url=http://x", "plugins[0].enabled=off",
                          "http.listen=127.0.0.1:1"};
    if (load_sets(&c, yaml, sets, 5) != 0) fail_msg("%s", err);
    assert_string_equal(c.http.listen, "127.0.0.1:1"); /* applied in order */
    assert_string_equal(c.storage.path, "/tmp/d");
    assert_false(c.plugins[0].enabled);
    assert_string_equal(sb_node_find(c.plugins[0].config, "callback_url")->value, "http://x");
    assert_string_equal(sb_node_find(c.plugins[0].config, "x")->value, "1");
    sb_config_free(&c);

    const char *bad_value[] = {"http.max_body=lots"};
    assert_int_equal(load_sets(&c, "", bad_value, 1), -1);
    assert_string_equal(err, "--set: http.max_body: expected a size like 1MiB, got 'lots'");
    const char *typo[] = {"http.lisen=1"};
    assert_int_equal(load_sets(&c, "", typo, 1), -1);
    assert_string_equal(err, "--set: http.lisen: unknown key");
    const char *past[] = {"plugins[1].name=x"};
    assert_int_equal(load_sets(&c, yaml, past, 1), -1);
    assert_string_equal(err,
                        "--set plugins[1].name: plugins[1]: index past the end of the list "
                        "(1 items)");
    const char *no_eq[] = {"http.listen"};
    assert_int_equal(load_sets(&c, yaml, no_eq, 1), -1);
    assert_string_equal(err, "--set 'http.listen': expected KEY=VALUE");
    assert_null(c.root);
}

static void test_plugins(void **state)
{
    (void)state;
    sb_config c;
    load_ok(&c, "plugins:\n"
                "  - name: tele_gram2\n"
                "    instance: Bot-1_x\n"
                "  - name: tele_gram2\n"
                "    instance: other\n"
                "    enabled: false\n"
                "    config:\n"
                "  - {name: echo, instance: Bot-1_x, config: {}}\n");
    assert_int_equal(c.n_plugins, 3);
    assert_true(c.plugins[0].enabled);
    assert_false(c.plugins[1].enabled);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(c.plugins[i].config->kind, SB_NODE_MAP);
        assert_int_equal(c.plugins[i].config->n_items, 0);
    }
    /* An absent section is an empty map placed at the item. */
    assert_ptr_equal(sb_node_find(c.root, "plugins[0].config"), c.plugins[0].config);
    assert_int_equal(c.plugins[0].config->line, 2);
    sb_config_free(&c);

    fails("plugins:\n  - name: a\n    instance: main\n  - name: a\n    instance: main\n",
          "t.yaml:5:5: plugins[1].instance: duplicate instance 'main' of plugin 'a' "
          "(also plugins[0])");
    fails("plugins:\n  - {name: a, instance: x}\n  - instance: b\n",
          "t.yaml:3:5: plugins[1].name: required");
    fails("plugins:\n  - name: a\n", "t.yaml:2:5: plugins[0].instance: required");
    fails("plugins:\n  - name:\n    instance: x\n", "t.yaml:2:5: plugins[0].name: required");
    fails("plugins:\n  - name: ''\n    instance: x\n",
          "t.yaml:2:5: plugins[0].name: must not be empty");
    fails("plugins:\n  - name: Tele\n    instance: x\n",
          "t.yaml:2:5: plugins[0].name: expected [a-z0-9_]{1,64}, got 'Tele'");
    fails("plugins:\n  - name: a\n    instance: x.y\n",
          "t.yaml:3:5: plugins[0].instance: expected [A-Za-z0-9_-]{1,64}, got 'x.y'");
    fails("plugins:\n  - name: a\n    instance: x\n    config: [1]\n",
          "t.yaml:4:5: plugins[0].config: expected a map, got a list");
    fails("plugins:\n  - name: a\n    instance: x\n    enabled: nah\n",
          "t.yaml:4:5: plugins[0].enabled: expected a boolean (true/false), got 'nah'");
    fails("plugins:\n  - just a string\n",
          "t.yaml:2:5: plugins[0]: expected a map, got 'just a string'");
}

static void test_auth_and_routing(void **state)
{
    (void)state;
    sb_config c;
    load_ok(&c, "auth:\n"
                "  api_tokens:\n"
                "    - {name: crm, token: '', role: admin}\n"
                "    - {name: bi, token: ~, role: operator}\n"
                "    - {name: sup, token: t0k, role: supervisor}\n"
                "  bootstrap_admin: {login: root, password: }\n"
                "routing:\n"
                "  default_group: sales\n"
                "  groups:\n"
                "    - {id: support}\n"
                "    - {id: vip, name: VIP, strategy: skills, max_per_operator: 1}\n");
    assert_int_equal(c.auth.n_api_tokens, 3);
    assert_string_equal(c.auth.api_tokens[0].token, "");
    assert_string_equal(c.auth.api_tokens[1].token, "");
    assert_string_equal(c.auth.api_tokens[2].token, "t0k");
    assert_string_equal(c.auth.api_tokens[2].role, "supervisor");
    assert_string_equal(c.auth.admin_login, "root");
    assert_string_equal(c.auth.admin_password, "");
    assert_string_equal(c.routing.default_group, "sales");
    assert_int_equal(c.routing.n_groups, 2);
    assert_string_equal(c.routing.groups[0].name, "support");
    assert_string_equal(c.routing.groups[0].strategy, "least_busy");
    assert_int_equal(c.routing.groups[0].max_per_operator, 3);
    assert_string_equal(c.routing.groups[1].name, "VIP");
    assert_string_equal(c.routing.groups[1].strategy, "skills");
    assert_int_equal(c.routing.groups[1].max_per_operator, 1);
    sb_config_free(&c);

    fails("auth:\n  api_tokens:\n    - {name: a, token: b, role: root}\n",
          "t.yaml:3:27: auth.api_tokens[0].role: expected one of admin|supervisor|operator, "
          "got 'root'");
    fails("auth:\n  api_tokens:\n    - {name: a, role: admin}\n",
          "t.yaml:3:7: auth.api_tokens[0].token: required");
    fails("auth:\n  bootstrap_admin: {password: x}\n",
          "t.yaml:2:3: auth.bootstrap_admin.login: required");
    fails("auth:\n  bootstrap_admin: admin\n",
          "t.yaml:2:3: auth.bootstrap_admin: expected a map, got 'admin'");
    fails("routing:\n  groups:\n    - {id: a}\n    - {id: a}\n",
          "t.yaml:4:8: routing.groups[1].id: duplicate group id 'a' (also routing.groups[0])");
    fails("routing:\n  groups:\n    - {name: x}\n", "t.yaml:3:7: routing.groups[0].id: required");
    fails("routing:\n  groups:\n    - {id: a, strategy: random}\n",
          "t.yaml:3:15: routing.groups[0].strategy: expected one of "
          "least_busy|round_robin|longest_idle|skills|manual, got 'random'");
    fails("routing:\n  groups:\n    - {id: a, max_per_operator: 0}\n",
          "t.yaml:3:15: routing.groups[0].max_per_operator: must be at least 1");
}

static void test_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/sb-config-test-XXXXXX", cwd[4096];
    assert_non_null(mkdtemp(dir));
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);

    sb_config c;
    assert_int_equal(sb_config_load(&c, "conf/x.yaml", NULL, 0, NULL, 0, err, sizeof err), -1);
    assert_string_equal(err, "conf/x.yaml: cannot read: No such file or directory");

    assert_int_equal(mkdir("conf", 0700), 0);
    FILE *f = fopen("conf/x.yaml", "w");
    assert_non_null(f);
    fputs("http:\n  max_body: lots\n", f);
    fclose(f);
    assert_int_equal(sb_config_load(&c, "conf/x.yaml", NULL, 0, NULL, 0, err, sizeof err), -1);
    assert_string_equal(err,
                        "conf/x.yaml:2:3: http.max_body: expected a size like 1MiB, got 'lots'");

    assert_int_equal(sb_config_load(&c, NULL, NULL, 0, NULL, 0, err, sizeof err), -1);
    assert_string_equal(err, "no configuration file given");

    unlink("conf/x.yaml");
    rmdir("conf");
    assert_int_equal(chdir(cwd), 0);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repo_config),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_type_and_range_errors),
        cmocka_unit_test(test_listen),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_plugins),
        cmocka_unit_test(test_auth_and_routing),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
