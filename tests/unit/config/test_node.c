/* Node tree operations: find, --set, typed reads, unused keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "config/config.h"

static char err[512];

static sb_node *load(const char *yaml)
{
    sb_node *r = sb_yaml_load_string("t.yaml", yaml, strlen(yaml), err, sizeof err);
    if (!r) fail_msg("%s", err);
    return r;
}

static const char k_doc[] = "http:\n"
                            "  listen: 127.0.0.1:8080\n"
                            "  tls:\n"
                            "plugins:\n"
                            "  - name: apichannel\n"
                            "    config:\n"
                            "      secret: s\n"
                            "  - name: echo\n"
                            "list: [a, b]\n";

static void test_find(void **state)
{
    (void)state;
    sb_node *r = load(k_doc);
    assert_string_equal(sb_node_find(r, "http.listen")->value, "127.0.0.1:8080");
    assert_string_equal(sb_node_find(r, "plugins[1].name")->value, "echo");
    assert_string_equal(sb_node_find(r, "plugins[0].config.secret")->value, "s");
    assert_string_equal(sb_node_find(r, "list[1]")->value, "b");
    assert_ptr_equal(sb_node_find(r, "plugins"), r->items[1]);
    const char *absent[] = {"nope", "http.nope", "plugins[2]", "list[0].x", "http[0]",
                            "plugins.name", "list[1][0]", "", ".http", "http.", "http..listen",
                            "[0]", "list[", "list[x]", "list[1", "list]", "list[9999999999]"};
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++) {
        if (sb_node_find(r, absent[i])) fail_msg("found '%s'", absent[i]);
    }
    assert_null(sb_node_find(r, NULL));
    assert_false(sb_node_find(r, "http.listen")->used); /* find does not mark */
    sb_node_free(r);
}

static void set_ok(sb_node *r, const char *a)
{
    if (sb_node_set(r, a, err, sizeof err) != 0) fail_msg("%s: %s", a, err);
}

static void set_fails(sb_node *r, const char *a, const char *want)
{
    err[0] = '\0';
    assert_int_equal(sb_node_set(r, a, err, sizeof err), -1);
    assert_string_equal(err, want);
}

static void test_set(void **state)
{
    (void)state;
    sb_node *r = load(k_doc);
    char where[64];

    set_ok(r, "http.listen=127.0.0.1:0"); /* overriding */
    sb_node *listen = sb_node_find(r, "http.listen");
    assert_string_equal(listen->value, "127.0.0.1:0");
    assert_string_equal(sb_node_where(listen, where, sizeof where), "--set");
    assert_int_equal(sb_node_find(r, "http")->n_items, 2);

    set_ok(r, "storage.path=/tmp/x=y"); /* creating; the value keeps its '=' */
    sb_node *path = sb_node_find(r, "storage.path");
    assert_string_equal(path->value, "/tmp/x=y");
    assert_string_equal(path->file, "--set");
    assert_int_equal(path->line, 0);
    assert_int_equal(sb_node_find(r, "storage")->kind, SB_NODE_MAP);

    set_ok(r, "plugins[0].config.callback_url=http://x");
    assert_string_equal(sb_node_find(r, "plugins[0].config.callback_url")->value, "http://x");
    set_ok(r, "plugins[0].config.secret=");
    assert_true(sb_node_find(r, "plugins[0].config.secret")->is_null);
    set_ok(r, "plugins[1].config.deep.er=1"); /* config absent: maps are created */
    assert_string_equal(sb_node_find(r, "plugins[1].config.deep.er")->value, "1");
    set_ok(r, "http.tls.cert=/c.pem"); /* `tls:` was null: it becomes a map */
    assert_int_equal(sb_node_find(r, "http.tls")->kind, SB_NODE_MAP);
    assert_string_equal(sb_node_find(r, "http.tls.cert")->value, "/c.pem");
    set_ok(r, "list[0]=z");
    assert_string_equal(sb_node_find(r, "list[0]")->value, "z");

    set_fails(r, "http.listen", "--set 'http.listen': expected KEY=VALUE");
    set_fails(r, "=x", "--set : malformed key (expected a form like a.b[0].c)");
    set_fails(r, "a..b=1", "--set a..b: malformed key (expected a form like a.b[0].c)");
    set_fails(r, "[0]=1", "--set [0]: malformed key (expected a form like a.b[0].c)");
    set_fails(r, "http.listen.port=1",
              "--set http.listen.port: http.listen is a scalar, not a map");
    set_fails(r, "plugins.name=x", "--set plugins.name: plugins is a list: index it as plugins[N]");
    set_fails(r, "plugins[2].name=x",
              "--set plugins[2].name: plugins[2]: index past the end of the list (2 items)");
    set_fails(r, "http[0]=x", "--set http[0]: http is not a list");
    set_fails(r, "http=x", "--set http: http is a map, not a scalar");
    set_fails(r, "list=x", "--set list: list is a list, not a scalar");
    set_fails(r, "groups[0].id=x",
              "--set groups[0].id: groups is not set, and --set cannot create a list");
    char deep[200] = "a";
    for (int i = 0; i < 64; i++) strcat(deep, ".b");
    strcat(deep, "=1");
    err[0] = '\0';
    assert_int_equal(sb_node_set(r, deep, err, sizeof err), -1);
    assert_non_null(strstr(err, ": more than 64 parts"));
    sb_node_free(r);
}

static void test_typed_reads(void **state)
{
    (void)state;
    sb_node *r = load("s: text\n"
                      "i: -12\n"
                      "b: \"off\"\n"
                      "z: 1MiB\n"
                      "d: 250ms\n"
                      "bad: lots\n"
                      "m: {a: 1}\n"
                      "l: [1]\n"
                      "long: 0123456789012345678901234567890123456789abc\n"
                      "ctl: \"a\\tb\"\n");
    const char *s;
    int64_t i;
    bool b;
    uint64_t u;
    assert_int_equal(sb_node_str(sb_node_find(r, "s"), "s", &s, err, sizeof err), 0);
    assert_string_equal(s, "text");
    assert_true(sb_node_find(r, "s")->used);
    assert_int_equal(sb_node_int(sb_node_find(r, "i"), "i", &i, err, sizeof err), 0);
    assert_int_equal(i, -12);
    assert_int_equal(sb_node_bool(sb_node_find(r, "b"), "b", &b, err, sizeof err), 0);
    assert_false(b);
    assert_int_equal(sb_node_size(sb_node_find(r, "z"), "z", &u, err, sizeof err), 0);
    assert_int_equal(u, 1 << 20);
    assert_int_equal(sb_node_duration(sb_node_find(r, "d"), "d", &u, err, sizeof err), 0);
    assert_int_equal(u, 250);
    /* Any scalar is a string, numbers included. */
    assert_int_equal(sb_node_str(sb_node_find(r, "i"), "i", &s, err, sizeof err), 0);
    assert_string_equal(s, "-12");

    sb_node *bad = sb_node_find(r, "bad");
    assert_int_equal(sb_node_size(bad, "http.max_body", &u, err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:6:1: http.max_body: expected a size like 1MiB, got 'lots'");
    assert_true(bad->used);
    assert_int_equal(sb_node_duration(bad, "x.t", &u, err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:6:1: x.t: expected a duration like 30s, got 'lots'");
    assert_int_equal(sb_node_int(bad, "n", &i, err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:6:1: n: expected an integer, got 'lots'");
    assert_int_equal(sb_node_bool(bad, "f", &b, err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:6:1: f: expected a boolean (true/false), got 'lots'");
    assert_int_equal(sb_node_str(sb_node_find(r, "m"), "m", &s, err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:7:1: m: expected a string, got a map");
    assert_int_equal(sb_node_int(sb_node_find(r, "l"), "l", &i, err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:8:1: l: expected an integer, got a list");
    assert_int_equal(sb_node_map(sb_node_find(r, "l"), "l", err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:8:1: l: expected a map, got a list");
    assert_int_equal(sb_node_seq(sb_node_find(r, "s"), "s", err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:1:1: s: expected a list, got 'text'");
    assert_int_equal(sb_node_map(sb_node_find(r, "m"), "m", err, sizeof err), 0);
    assert_int_equal(sb_node_size(sb_node_find(r, "long"), "long", &u, err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:9:1: long: expected a size like 1MiB, "
                             "got '0123456789012345678901234567890123456789...'");
    assert_int_equal(sb_node_int(sb_node_find(r, "ctl"), "ctl", &i, err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:10:1: ctl: expected an integer, got 'a?b'");

    /* A short buffer truncates, never overflows. */
    char small[12];
    assert_int_equal(sb_node_int(bad, "n", &i, small, sizeof small), -1);
    assert_string_equal(small, "t.yaml:6:1:");
    sb_node_free(r);
}

static void test_unused(void **state)
{
    (void)state;
    sb_node *r = load("http:\n"
                      "  listen: x\n"
                      "  lisen: y\n"
                      "plugins:\n"
                      "  - name: a\n"
                      "    extra: 1\n");
    assert_int_equal(sb_node_check_unused(r, NULL, err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:1:1: http: unknown key");
    sb_node *http = sb_node_get(r, "http");
    assert_ptr_equal(http, sb_node_find(r, "http"));
    assert_true(http->used);
    assert_null(sb_node_get(r, "nope"));
    assert_null(sb_node_get(sb_node_find(r, "http.listen"), "x")); /* not a map */
    sb_node_get(http, "listen");
    assert_int_equal(sb_node_check_unused(r, NULL, err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:3:3: http.lisen: unknown key");
    assert_int_equal(sb_node_check_unused(http, "http", err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:3:3: http.lisen: unknown key");
    sb_node_get(http, "lisen");

    sb_node *plugins = sb_node_get(r, "plugins");
    plugins->items[0]->used = true;
    sb_node_get(plugins->items[0], "name");
    assert_int_equal(sb_node_check_unused(r, NULL, err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:6:5: plugins[0].extra: unknown key");
    assert_int_equal(sb_node_check_unused(plugins, "plugins", err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:6:5: plugins[0].extra: unknown key");
    assert_int_equal(sb_node_check_unused(plugins->items[0], "", err, sizeof err), -1);
    assert_string_equal(err, "t.yaml:6:5: extra: unknown key");

    sb_node_mark_used(plugins);
    assert_int_equal(sb_node_check_unused(r, NULL, err, sizeof err), 0);
    sb_node_free(r);
}

static void test_build(void **state)
{
    (void)state;
    sb_node *m = sb_node_new(SB_NODE_MAP, "mem", 1, 1);
    assert_non_null(m);
    /* Past the first few appends the array grows; every item stays put. */
    for (int i = 0; i < 100; i++) {
        sb_node *s = sb_node_new(SB_NODE_SCALAR, "mem", i + 1, 1);
        assert_string_equal(s->value, "");
        s->key = strdup(i == 99 ? "last" : "k");
        assert_int_equal(sb_node_append(m, s), 0);
    }
    assert_int_equal(m->n_items, 100);
    assert_int_equal(sb_node_find(m, "last")->line, 100);
    assert_int_equal(sb_node_errf(m->items[4], "k", err, sizeof err, "bad %d", 7), -1);
    assert_string_equal(err, "mem:5:1: k: bad 7");
    assert_int_equal(sb_node_errf(m, NULL, err, sizeof err, "whole"), -1);
    assert_string_equal(err, "mem:1:1: whole");
    sb_node_free(m);
    sb_node_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_typed_reads),
        cmocka_unit_test(test_unused),
        cmocka_unit_test(test_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
