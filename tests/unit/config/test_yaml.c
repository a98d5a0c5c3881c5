/* YAML -> node tree: positions, rejected constructs, limits, ${} expansion. */
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

static char err[512];

static sb_node *load(const char *yaml)
{
    err[0] = '\0';
    return sb_yaml_load_string("t.yaml", yaml, strlen(yaml), err, sizeof err);
}

/* The document must fail with exactly `want`. */
static void fails(const char *yaml, const char *want)
{
    sb_node *n = load(yaml);
    if (n) {
        sb_node_free(n);
        fail_msg("accepted: %s", yaml);
    }
    assert_string_equal(err, want);
}

static void test_tree_and_positions(void **state)
{
    (void)state;
    sb_node *r = load("# head\n"
                      "http:\n"
                      "  listen: 127.0.0.1:8080\n"
                      "plugins:\n"
                      "  - name: a\n"
                      "    enabled: \"true\"\n"
                      "  - { name: b, config: }\n"
                      "empty:\n"
                      "tilde: ~\n"
                      "quoted_empty: ''\n"
                      "text: |\n"
                      "  two\n"
                      "  lines\n");
    assert_non_null(r);
    assert_int_equal(r->kind, SB_NODE_MAP);
    assert_string_equal(r->file, "t.yaml");
    assert_int_equal(r->n_items, 6);

    sb_node *listen = sb_node_find(r, "http.listen");
    assert_non_null(listen);
    assert_string_equal(listen->key, "listen");
    assert_string_equal(listen->value, "127.0.0.1:8080");
    assert_int_equal(listen->line, 3);
    assert_int_equal(listen->col, 3);
    assert_false(listen->used);

    sb_node *plugins = sb_node_find(r, "plugins");
    assert_int_equal(plugins->kind, SB_NODE_SEQ);
    assert_int_equal(plugins->line, 4);
    assert_int_equal(plugins->col, 1);
    assert_int_equal(plugins->n_items, 2);
    sb_node *p0 = sb_node_find(r, "plugins[0]");
    assert_int_equal(p0->kind, SB_NODE_MAP);
    assert_null(p0->key);
    assert_int_equal(p0->line, 5);
    assert_int_equal(p0->col, 5);
    sb_node *en = sb_node_find(r, "plugins[0].enabled");
    assert_true(en->quoted);
    assert_false(en->is_null);
    assert_int_equal(en->line, 6);
    assert_int_equal(en->col, 5);
    sb_node *p1 = sb_node_find(r, "plugins[1]");
    assert_int_equal(p1->line, 7);
    assert_int_equal(p1->col, 5);
    sb_node *name1 = sb_node_find(r, "plugins[1].name");
    assert_string_equal(name1->value, "b");
    assert_int_equal(name1->col, 7);
    assert_true(sb_node_find(r, "plugins[1].config")->is_null);

    assert_true(sb_node_find(r, "empty")->is_null);
    assert_string_equal(sb_node_find(r, "empty")->value, "");
    assert_true(sb_node_find(r, "tilde")->is_null);
    sb_node *qe = sb_node_find(r, "quoted_empty");
    assert_false(qe->is_null);
    assert_true(qe->quoted);
    assert_string_equal(sb_node_find(r, "text")->value, "two\nlines\n");
    assert_false(sb_node_find(r, "text")->quoted);
    sb_node_free(r);
}

static void test_empty_documents(void **state)
{
    (void)state;
    const char *empties[] = {"", "# only a comment\n", "---\n", "--- ~\n", "---\n...\n"};
    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        sb_node *r = load(empties[i]);
        if (!r) fail_msg("'%s' failed: %s", empties[i], err);
        assert_int_equal(r->kind, SB_NODE_MAP);
        assert_int_equal(r->n_items, 0);
        sb_node_free(r);
    }
}

static void test_syntax_errors(void **state)
{
    (void)state;
    fails("a: [1, 2\n", "t.yaml:2:1: did not find expected ',' or ']'");
    fails("ok: 1\nbad: b: c\n", "t.yaml:2:7: mapping values are not allowed in this context");
    fails("a:\n  b: 1\n c: 2\n", "t.yaml:3:2: did not find expected key");
    fails("a: 'open\n", "t.yaml:2:1: found unexpected end of stream");
    /* A reader error is reported by byte offset; it still gets line:col. */
    fails("a: 1\nbb: \xff\n", "t.yaml:2:5: invalid leading UTF-8 octet");
}

static void test_rejected_constructs(void **state)
{
    (void)state;
    fails("a: 1\nb:\n  c: 2\n  c: 3\n", "t.yaml:4:3: b.c: duplicate key");
    fails("l:\n  - {x: 1, y: 2, x: 3}\n", "t.yaml:2:18: l[0].x: duplicate key");
    fails("a: &anchor 1\n", "t.yaml:1:4: aliases not supported");
    fails("a: 1\nb: *x\n", "t.yaml:2:4: aliases not supported");
    fails("a: !!str 1\n", "t.yaml:1:4: tags not supported");
    fails("? [a]\n: 1\n", "t.yaml:1:3: non-scalar key");
    fails("x:\n  ? {k: v}\n  : 1\n", "t.yaml:2:5: non-scalar key");
    fails("'': 1\n", "t.yaml:1:1: empty key");
    fails("a: \"x\\0y\"\n", "t.yaml:1:4: NUL byte in a scalar");
    fails("a: 1\n---\nb: 2\n", "t.yaml:2:1: multiple documents not supported");
    fails("- 1\n- 2\n", "t.yaml:1:1: expected a map at the top level");
    fails("just text\n", "t.yaml:1:1: expected a map at the top level");
}

/* "a: " followed by `levels` nested flow lists. */
static char *nested(int levels)
{
    char *s = malloc((size_t)levels * 2 + 8);
    int k = sprintf(s, "a: ");
    for (int i = 0; i < levels; i++) s[k++] = '[';
    for (int i = 0; i < levels; i++) s[k++] = ']';
    s[k++] = '\n';
    s[k] = '\0';
    return s;
}

static void test_limits(void **state)
{
    (void)state;
    /* Root map is level 1, so 63 lists below it are the deepest allowed. */
    char *ok = nested(63), *deep = nested(64);
    sb_node *r = load(ok);
    assert_non_null(r);
    sb_node_free(r);
    fails(deep, "t.yaml:1:67: nested deeper than 64 levels");
    free(ok);
    free(deep);

    size_t big = SB_YAML_MAX_TEXT;
    char *text = malloc(big + 2);
    memset(text, ' ', big + 1);
    text[0] = '#';
    text[big - 1] = '\n';
    text[big] = '\0';
    r = sb_yaml_load_string("t.yaml", text, big, err, sizeof err);
    assert_non_null(r); /* exactly 4 MiB is fine */
    assert_int_equal(r->n_items, 0);
    sb_node_free(r);
    text[big] = '\n';
    assert_null(sb_yaml_load_string("t.yaml", text, big + 1, err, sizeof err));
    assert_string_equal(err, "t.yaml: larger than 4 MiB");
    free(text);

    /* 200001 list items, each 2 bytes. */
    size_t n = SB_YAML_MAX_NODES + 1;
    char *many = malloc(n * 2 + 16);
    size_t k = (size_t)sprintf(many, "a: [");
    for (size_t i = 0; i < n; i++) {
        many[k++] = '1';
        many[k++] = ',';
    }
    many[k - 1] = ']';
    many[k] = '\0';
    r = load(many);
    assert_null(r);
    assert_non_null(strstr(err, ": more than 200000 nodes"));
    free(many);
}

static void test_env_expansion(void **state)
{
    (void)state;
    setenv("SB_T_HOST", "example.org", 1);
    setenv("SB_T_EMPTY", "", 1);
    unsetenv("SB_T_MISSING");
    sb_node *r = load("url: https://${SB_T_HOST}:${SB_T_MISSING:-8443}/x?${SB_T_HOST}\n"
                      "empty: ${SB_T_EMPTY:-fallback}\n"
                      "dflt: ${SB_T_MISSING:-a:b c}\n"
                      "none: ${SB_T_MISSING:-}\n"
                      "flow: { k: \"${SB_T_HOST}\" }\n"
                      "dollar: a$b $ {x} $\n"
                      "${SB_T_HOST}: keys are literal\n");
    if (!r) fail_msg("%s", err);
    assert_string_equal(sb_node_find(r, "url")->value,
                        "https://example.org:8443/x?example.org");
    assert_string_equal(sb_node_find(r, "empty")->value, ""); /* set, though empty */
    assert_string_equal(sb_node_find(r, "dflt")->value, "a:b c");
    assert_string_equal(sb_node_find(r, "none")->value, "");
    assert_false(sb_node_find(r, "none")->is_null);
    assert_string_equal(sb_node_find(r, "flow.k")->value, "example.org");
    assert_string_equal(sb_node_find(r, "dollar")->value, "a$b $ {x} $");
    assert_non_null(sb_node_find(r, "${SB_T_HOST}"));
    sb_node_free(r);

    fails("plugins:\n  - name: t\n    config:\n      token: x${SB_T_MISSING}y\n",
          "t.yaml:4:7: plugins[0].config.token: environment variable SB_T_MISSING is not set");
    fails("a:\n  - ok\n  - ${SB_T_MISSING}\n",
          "t.yaml:3:5: a[1]: environment variable SB_T_MISSING is not set");
    fails("a: ${SB_T_HOST\n", "t.yaml:1:1: a: unterminated ${");
    fails("a: ${1BAD}\n", "t.yaml:1:1: a: bad variable reference '${1BAD}'");
    fails("a: ${X-y}\n", "t.yaml:1:1: a: bad variable reference '${X-y}'");
    fails("a: ${}\n", "t.yaml:1:1: a: bad variable reference '${}'");
}

static void test_expansion_limits(void **state)
{
    (void)state;
    size_t len = 600 * 1024;
    char *big = malloc(len + 1);
    memset(big, 'x', len);
    big[len] = '\0';
    setenv("SB_T_BIG", big, 1);
    free(big);
    fails("a: ${SB_T_BIG}${SB_T_BIG}\n", "t.yaml:1:1: a: longer than 1 MiB after ${} expansion");

    char yaml[1024];
    size_t k = 0;
    for (int i = 0; i < 30; i++) k += (size_t)sprintf(yaml + k, "k%d: ${SB_T_BIG}\n", i);
    /* 600 KiB * 28 passes 16 MiB at the 28th value, on line 28. */
    fails(yaml, "t.yaml:28:1: more than 16 MiB of values after ${} expansion");
    unsetenv("SB_T_BIG");
}

static void test_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/sb-config-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], want[512];

    snprintf(path, sizeof path, "%s/conf/x.yaml", dir);
    assert_null(sb_yaml_load_file(path, err, sizeof err));
    snprintf(want, sizeof want, "%s: cannot read: No such file or directory", path);
    assert_string_equal(err, want);

    assert_null(sb_yaml_load_file(dir, err, sizeof err));
    snprintf(want, sizeof want, "%s: cannot read: Is a directory", dir);
    assert_string_equal(err, want);

    snprintf(path, sizeof path, "%s/bad.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("http:\n  listen: 1\n  listen: 2\n", f);
    fclose(f);
    assert_null(sb_yaml_load_file(path, err, sizeof err));
    snprintf(want, sizeof want, "%s:3:3: http.listen: duplicate key", path);
    assert_string_equal(err, want);

    f = fopen(path, "w");
    fputs("http:\n  listen: 1\n", f);
    fclose(f);
    sb_node *r = sb_yaml_load_file(path, err, sizeof err);
    assert_non_null(r);
    assert_string_equal(sb_node_find(r, "http.listen")->file, path);
    sb_node_free(r);

    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_and_positions),
        cmocka_unit_test(test_empty_documents),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_rejected_constructs),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_env_expansion),
        cmocka_unit_test(test_expansion_limits),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
