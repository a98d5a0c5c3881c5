/* The workspace plugin on the SDK test host: every embedded file served
 * with its type and ETag, revalidation, the redirect, config.json and its
 * configuration errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "testhost.h"
#include "workspace.h"

static const sb_plugin *workspace(void)
{
    return sb_plugin_entry(SB_ABI_MAJOR, SB_ABI_MINOR);
}

static const char *reply_header(const sb_th_reply *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0) return r->headers[i].value;
    return NULL;
}

static const sb_th_reply *get(sb_th *th, const char *target, const char *inm)
{
    sb_header h = {"If-None-Match", inm};
    return sb_th_http_request(th, "GET", target, inm ? &h : NULL, inm ? 1 : 0, NULL, 0);
}

static sb_th *started(const char *key, const char *value)
{
    sb_th *th = sb_th_new("workspace", "main");
    if (key) assert_int_equal(sb_th_config_set(th, key, value), SB_OK);
    assert_int_equal(sb_th_start(th, workspace()), SB_OK);
    assert_null(sb_th_unused_config(th));
    return th;
}

static void test_every_file_is_served_with_its_type_and_etag(void **st)
{
    (void)st;
    sb_th *th = started(NULL, NULL);
    assert_true(workspace_n_assets >= 5);
    int seen_index = 0, seen_js = 0;
    for (size_t i = 0; i < workspace_n_assets; i++) {
        const workspace_asset *a = &workspace_assets[i];
        char target[256];
        snprintf(target, sizeof target, "/workspace%s", a->path);
        const sb_th_reply *r = get(th, target, NULL);
        assert_int_equal(r->status, 200);
        assert_int_equal(r->body_len, a->len);
        assert_memory_equal(r->body, a->data, a->len);
        assert_string_equal(reply_header(r, "ETag"), a->etag);
        assert_string_equal(reply_header(r, "Cache-Control"), "no-cache");
        assert_non_null(strstr(reply_header(r, "Content-Security-Policy"), "script-src 'self'"));
        assert_string_not_equal(r->content_type, "application/octet-stream");
        seen_index += strcmp(a->path, "/index.html") == 0;
        seen_js += strcmp(a->path, "/app.js") == 0;
    }
    assert_int_equal(seen_index, 1);
    assert_int_equal(seen_js, 1);
    /* The folder itself is the page. */
    const sb_th_reply *r = get(th, "/workspace/", NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->content_type, "text/html; charset=utf-8");
    assert_string_equal(reply_header(r, "ETag"), workspace_asset_find("/index.html")->etag);
    sb_th_free(th);
}

static void test_revalidation_answers_304_only_for_the_same_etag(void **st)
{
    (void)st;
    sb_th *th = started(NULL, NULL);
    const char *etag = workspace_asset_find("/app.js")->etag;
    const sb_th_reply *r = get(th, "/workspace/app.js", etag);
    assert_int_equal(r->status, 304);
    assert_int_equal(r->body_len, 0);
    assert_string_equal(reply_header(r, "ETag"), etag);
    char list[128];
    snprintf(list, sizeof list, "\"nope\", W/%s", etag);
    assert_int_equal(get(th, "/workspace/app.js", list)->status, 304);
    assert_int_equal(get(th, "/workspace/app.js", "*")->status, 304);
    assert_int_equal(get(th, "/workspace/app.js", "\"nope\"")->status, 200);
    assert_int_equal(get(th, "/workspace/app.css", etag)->status, 200);
    sb_th_free(th);
}

static void test_etag_matching(void **st)
{
    (void)st;
    assert_true(workspace_etag_matches("\"a\"", "\"a\""));
    assert_true(workspace_etag_matches(" \"b\" ,\t\"a\" ", "\"a\""));
    assert_true(workspace_etag_matches("W/\"a\"", "\"a\""));
    assert_false(workspace_etag_matches("\"ab\"", "\"a\""));
    assert_false(workspace_etag_matches("", "\"a\""));
    assert_false(workspace_etag_matches(",,", "\"a\""));
    assert_false(workspace_etag_matches(NULL, "\"a\""));
}

static void test_content_types(void **st)
{
    (void)st;
    assert_string_equal(workspace_content_type("/x.js"), "text/javascript; charset=utf-8");
    assert_string_equal(workspace_content_type("/x.CSS"), "text/css; charset=utf-8");
    assert_string_equal(workspace_content_type("/index.html"), "text/html; charset=utf-8");
    assert_string_equal(workspace_content_type("/a.svg"), "image/svg+xml");
    assert_string_equal(workspace_content_type("/noext"), "application/octet-stream");
    assert_string_equal(workspace_content_type("/a.b/noext"), "application/octet-stream");
}

static void test_redirect_unknown_files_and_methods(void **st)
{
    (void)st;
    sb_th *th = started(NULL, NULL);
    const sb_th_reply *r = get(th, "/workspace", NULL);
    assert_int_equal(r->status, 301);
    assert_string_equal(reply_header(r, "Location"), "/workspace/");
    r = get(th, "/workspace?lang=en", NULL);
    assert_int_equal(r->status, 301);
    assert_string_equal(reply_header(r, "Location"), "/workspace/?lang=en");
    char longq[400] = "/workspace?q=";
    memset(longq + 13, 'a', 350);
    longq[363] = 0;
    assert_int_equal(get(th, longq, NULL)->status, 414);

    r = get(th, "/workspace/missing.js", NULL);
    assert_int_equal(r->status, 404);
    assert_non_null(strstr(r->body, "not_found"));
    assert_int_equal(get(th, "/workspace/../plugin.c", NULL)->status, 404);
    assert_int_equal(get(th, "/workspace/app.js/", NULL)->status, 404);
    r = sb_th_http_request(th, "POST", "/workspace/app.js", NULL, 0, "x", 1);
    assert_int_equal(r->status, 405);
    sb_th_free(th);
}

static json_t *config_json(sb_th *th)
{
    const sb_th_reply *r = get(th, "/workspace/config.json", NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->content_type, "application/json");
    json_t *o = json_loads(r->body, 0, NULL);
    assert_non_null(o);
    return o;
}

static void test_config_json_defaults_and_values(void **st)
{
    (void)st;
    sb_th *th = started(NULL, NULL);
    json_t *o = config_json(th);
    assert_string_equal(json_string_value(json_object_get(o, "lang")), "ru");
    assert_string_equal(json_string_value(json_object_get(o, "title")), "Switchboard");
    assert_true(json_is_true(json_object_get(o, "sound")));
    assert_string_equal(json_string_value(json_object_get(o, "api")), "/api/v1");
    json_decref(o);
    const char *etag = reply_header(get(th, "/workspace/config.json", NULL), "ETag");
    assert_int_equal(get(th, "/workspace/config.json", etag)->status, 304);

    /* A reload changes the document and its ETag. */
    assert_int_equal(sb_th_config_set(th, "lang", "en"), SB_OK);
    assert_int_equal(sb_th_config_set(th, "title", "Банк \"Рога\""), SB_OK);
    assert_int_equal(sb_th_config_set(th, "sound", "off"), SB_OK);
    assert_int_equal(sb_th_reload(th), SB_OK);
    assert_int_equal(get(th, "/workspace/config.json", etag)->status, 200);
    o = config_json(th);
    assert_string_equal(json_string_value(json_object_get(o, "lang")), "en");
    assert_string_equal(json_string_value(json_object_get(o, "title")), "Банк \"Рога\"");
    assert_true(json_is_false(json_object_get(o, "sound")));
    json_decref(o);

    /* A bad reload keeps the running values. */
    assert_int_equal(sb_th_config_set(th, "lang", "de"), SB_OK);
    assert_int_equal(sb_th_reload(th), SB_ERR_INVALID);
    o = config_json(th);
    assert_string_equal(json_string_value(json_object_get(o, "lang")), "en");
    json_decref(o);
    sb_th_free(th);
}

static void expect_config_error(const char *key, const char *value, const char *needle)
{
    sb_th *th = sb_th_new("workspace", "main");
    assert_int_equal(sb_th_config_set(th, key, value), SB_OK);
    assert_int_equal(sb_th_start(th, workspace()), SB_ERR_INVALID);
    assert_true(sb_th_config_error_count(th) >= 1);
    assert_non_null(strstr(sb_th_config_error(th, 0), needle));
    sb_th_free(th);
}

static void test_config_errors(void **st)
{
    (void)st;
    expect_config_error("lang", "de", "lang: expected ru, en or auto");
    expect_config_error("title", "", "title: expected 1..120 bytes");
    char longt[200];
    memset(longt, 'x', 121);
    longt[121] = 0;
    expect_config_error("title", longt, "title: expected 1..120 bytes");
    expect_config_error("sound", "maybe", "sound");
    expect_config_error("colour", "red", "colour: unknown key");
    /* Non-UTF-8 text cannot go into JSON. */
    expect_config_error("title", "\xff\xfe", "title: expected UTF-8");
}

static void test_allocation_failure_of_the_route_fails_init(void **st)
{
    (void)st;
    sb_th *th = sb_th_new("workspace", "main");
    assert_int_equal(sb_th_fail_next(th, "http_route", SB_ERR_NOMEM), SB_OK);
    assert_int_equal(sb_th_start(th, workspace()), SB_ERR_NOMEM);
    assert_int_equal(get(th, "/workspace/", NULL)->status, 404);
    sb_th_free(th);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_file_is_served_with_its_type_and_etag),
        cmocka_unit_test(test_revalidation_answers_304_only_for_the_same_etag),
        cmocka_unit_test(test_etag_matching),
        cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_redirect_unknown_files_and_methods),
        cmocka_unit_test(test_config_json_defaults_and_values),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_allocation_failure_of_the_route_fails_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
