/* The knowledge base's REST routes on the SDK test host: roles, validation
 * naming the field, create/get/replace/delete, bulk import, lists with
 * cursors, search, durability in kv and the rebuild at start, the import
 * file, storage failures. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "testhost.h"

#define BASE "/api/v1/kb/faq"

static const char KB[] =
    "[{\"id\":\"card-block\",\"title\":\"Как заблокировать карту\",\"body\":\"Заблокируйте "
    "карту в приложении или позвоните в банк.\",\"keywords\":[\"блокировка\",\"потерял карту\"],"
    "\"misspellings\":[\"заблакировать\"]},"
    "{\"id\":\"transfer-phone\",\"title\":\"Перевод по номеру телефона\",\"body\":\"Переводы "
    "через СБП бесплатны до 100 000 рублей в месяц.\",\"keywords\":[\"сбп\"]},"
    "{\"id\":\"app-login\",\"title\":\"Не получается войти в приложение\",\"body\":\"Нажмите "
    "«Не помню пароль» и восстановите доступ по коду из СМС.\",\"keywords\":[\"забыл пароль\"]},"
    "{\"id\":\"deposit\",\"title\":\"Как открыть вклад\",\"body\":\"Вклад открывается в "
    "приложении за пару минут.\"}]";

static sb_th *boot(void)
{
    sb_th *th = sb_th_new("textbot", "main");
    sb_th_config_set(th, "kb", "faq");
    assert_int_equal(sb_th_start(th, sb_plugin_entry(SB_ABI_MAJOR, SB_ABI_MINOR)), SB_OK);
    sb_th_http_auth(th, "supervisor", "sup");
    return th;
}

/* A request answered now or once its kv writes are done. */
static const sb_th_reply *req(sb_th *th, const char *method, const char *target, const char *body)
{
    const sb_th_reply *r = sb_th_http_request(th, method, target, NULL, 0, body,
                                              body ? strlen(body) : 0);
    sb_th_run_pending(th);
    assert_true(r->replied);
    return r;
}

static json_t *json_of(const sb_th_reply *r)
{
    json_t *j = json_loads(r->body, 0, NULL);
    assert_non_null(j);
    return j;
}

static void expect_error(sb_th *th, const char *method, const char *target, const char *body,
                         int status, const char *in_message)
{
    const sb_th_reply *r = req(th, method, target, body);
    if (r->status != status || !strstr(r->body, in_message))
        fail_msg("%s %s: got %d %s, want %d with \"%s\"", method, target, r->status, r->body,
                 status, in_message);
}

static void import_kb(sb_th *th)
{
    const sb_th_reply *r = req(th, "POST", BASE "/articles", KB);
    assert_int_equal(r->status, 201);
    json_t *j = json_of(r);
    assert_int_equal(json_integer_value(json_object_get(j, "imported")), 4);
    json_decref(j);
}

static const char *top_id(sb_th *th, const char *query, json_t **keep)
{
    json_t *q = json_pack("{s:s}", "query", query);
    char *body = json_dumps(q, 0);
    const sb_th_reply *r = req(th, "POST", BASE "/search", body);
    free(body);
    json_decref(q);
    assert_int_equal(r->status, 200);
    *keep = json_of(r);
    json_t *first = json_array_get(json_object_get(*keep, "items"), 0);
    return json_string_value(json_object_get(first, "id"));
}

static void test_roles(void **st)
{
    (void)st;
    sb_th *th = boot();
    sb_th_http_auth(th, NULL, NULL);
    expect_error(th, "GET", BASE "/articles", NULL, 401, "unauthorized");
    expect_error(th, "POST", BASE "/search", "{\"query\":\"x\"}", 401, "unauthorized");
    sb_th_http_auth(th, "operator", "op-1");
    expect_error(th, "POST", BASE "/articles", KB, 403, "forbidden");
    assert_int_equal(req(th, "GET", BASE "/articles", NULL)->status, 200);
    assert_int_equal(req(th, "POST", BASE "/search", "{\"query\":\"карта\"}")->status, 200);
    assert_int_equal(req(th, "GET", BASE "/unanswered", NULL)->status, 200);
    sb_th_http_auth(th, "admin", "root");
    import_kb(th);
    sb_th_http_auth(th, "operator", "op-1");
    expect_error(th, "PUT", BASE "/articles/deposit", "{\"title\":\"x\",\"body\":\"y\"}", 403, "forbidden");
    expect_error(th, "DELETE", BASE "/articles/deposit", NULL, 403, "forbidden");
    assert_int_equal(req(th, "GET", BASE "/articles/deposit", NULL)->status, 200);
    /* another kb is no route of this instance */
    expect_error(th, "GET", "/api/v1/kb/other/articles", NULL, 404, "not_found");
    sb_th_free(th);
}

static void test_crud(void **st)
{
    (void)st;
    sb_th *th = boot();
    const sb_th_reply *r = req(th, "POST", BASE "/articles",
                               "{\"id\":\"limits\",\"title\":\"Лимиты\",\"body\":\"До 300 000 в день.\","
                               "\"keywords\":[\"лимит\"]}");
    assert_int_equal(r->status, 201);
    json_t *a = json_of(r);
    assert_string_equal(json_string_value(json_object_get(a, "id")), "limits");
    const char *created = json_string_value(json_object_get(a, "created_at"));
    assert_non_null(created);
    assert_non_null(sb_th_kv_peek(th, "a/limits", NULL));

    expect_error(th, "POST", BASE "/articles", "{\"id\":\"limits\",\"title\":\"t\",\"body\":\"b\"}",
                 409, "id:");

    /* without an id one is made */
    r = req(th, "POST", BASE "/articles", "{\"title\":\"Без id\",\"body\":\"текст\"}");
    assert_int_equal(r->status, 201);
    json_t *gen = json_of(r);
    const char *gid = json_string_value(json_object_get(gen, "id"));
    assert_true(gid && *gid);

    /* a GET result can be PUT back; created_at stays */
    sb_th_advance(th, 5000);
    r = req(th, "GET", BASE "/articles/limits", NULL);
    assert_int_equal(r->status, 200);
    json_t *got = json_of(r);
    json_object_set_new(got, "title", json_string("Лимиты по карте"));
    char *body = json_dumps(got, 0);
    r = req(th, "PUT", BASE "/articles/limits", body);
    free(body);
    assert_int_equal(r->status, 200);
    json_t *put = json_of(r);
    assert_string_equal(json_string_value(json_object_get(put, "title")), "Лимиты по карте");
    assert_string_equal(json_string_value(json_object_get(put, "created_at")), created);
    assert_string_not_equal(json_string_value(json_object_get(put, "updated_at")), created);
    json_t *keep;
    assert_string_equal(top_id(th, "лимиты по карте", &keep), "limits");
    json_decref(keep);

    expect_error(th, "PUT", BASE "/articles/limits", "{\"id\":\"other\",\"title\":\"t\",\"body\":\"b\"}",
                 400, "id:");
    expect_error(th, "PUT", BASE "/articles/nope", "{\"title\":\"t\",\"body\":\"b\"}", 404, "not_found");
    expect_error(th, "GET", BASE "/articles/nope", NULL, 404, "not_found");
    expect_error(th, "GET", BASE "/articles/bad%20id", NULL, 404, "not_found");
    expect_error(th, "DELETE", BASE "/articles/nope", NULL, 404, "not_found");

    r = req(th, "DELETE", BASE "/articles/limits", NULL);
    assert_int_equal(r->status, 204);
    assert_null(sb_th_kv_peek(th, "a/limits", NULL));
    expect_error(th, "GET", BASE "/articles/limits", NULL, 404, "not_found");
    assert_null(top_id(th, "лимиты по карте", &keep));
    json_decref(keep);
    json_decref(a);
    json_decref(gen);
    json_decref(got);
    json_decref(put);
    sb_th_free(th);
}

static char *repeat(const char *s, size_t n)
{
    size_t l = strlen(s);
    char *o = malloc(l * n + 1);
    for (size_t i = 0; i < n; i++) memcpy(o + i * l, s, l);
    o[l * n] = 0;
    return o;
}

static void test_validation(void **st)
{
    (void)st;
    sb_th *th = boot();
    const char *A = BASE "/articles";
    expect_error(th, "POST", A, "{\"title\":", 400, "body: not valid JSON");
    expect_error(th, "POST", A, "42", 400, "body: must be an article object");
    expect_error(th, "POST", A, "{\"body\":\"b\"}", 400, "title: required");
    expect_error(th, "POST", A, "{\"title\":\"   \",\"body\":\"b\"}", 400, "title: required");
    expect_error(th, "POST", A, "{\"title\":7,\"body\":\"b\"}", 400, "title: required");
    expect_error(th, "POST", A, "{\"title\":\"t\"}", 400, "body: required");
    expect_error(th, "POST", A, "{\"id\":\"a b\",\"title\":\"t\",\"body\":\"b\"}", 400, "id: must be");
    expect_error(th, "POST", A, "{\"title\":\"t\",\"body\":\"b\",\"colour\":1}", 400, "colour: unknown field");
    expect_error(th, "POST", A, "{\"title\":\"t\",\"body\":\"b\",\"keywords\":\"x\"}", 400, "keywords: must be");
    expect_error(th, "POST", A, "{\"title\":\"t\",\"body\":\"b\",\"keywords\":[\"a\",5]}", 400,
                 "keywords[1]: must be");
    expect_error(th, "POST", A, "{\"title\":\"t\",\"body\":\"b\",\"misspellings\":[\"\"]}", 400,
                 "misspellings[0]: must be");

    char *title = repeat("ж", 257);   /* 514 bytes */
    char *body = repeat("a", 65537);
    char *words = repeat("\"w\",", 65);
    words[strlen(words) - 1] = 0;
    char buf[70000];
    snprintf(buf, sizeof buf, "{\"title\":\"%s\",\"body\":\"b\"}", title);
    expect_error(th, "POST", A, buf, 400, "title: required: a non-blank string of 1..512 bytes");
    snprintf(buf, sizeof buf, "{\"title\":\"t\",\"body\":\"%s\"}", body);
    expect_error(th, "POST", A, buf, 400, "body: required");
    snprintf(buf, sizeof buf, "{\"title\":\"t\",\"body\":\"b\",\"keywords\":[%s]}", words);
    expect_error(th, "POST", A, buf, 400, "keywords: must be an array of at most 64");
    /* at the limits it is fine */
    title[512] = 0;
    body[65536] = 0;
    json_t *ok = json_pack("{s:s, s:s, s:s}", "id", "big", "title", title, "body", body);
    json_t *kw = json_array();
    for (int i = 0; i < 64; i++) json_array_append_new(kw, json_string("w"));
    json_object_set_new(ok, "keywords", kw);
    char *okb = json_dumps(ok, 0);
    assert_int_equal(req(th, "POST", A, okb)->status, 201);
    free(okb);
    json_decref(ok);
    free(title);
    free(body);
    free(words);

    /* search */
    const char *S = BASE "/search";
    expect_error(th, "POST", S, "{}", 400, "query: required");
    expect_error(th, "POST", S, "{\"query\":5}", 400, "query: required");
    expect_error(th, "POST", S, "[]", 400, "body: must be an object");
    expect_error(th, "POST", S, "{\"query\":\"x\",\"limit\":0}", 400, "limit: must be");
    expect_error(th, "POST", S, "{\"query\":\"x\",\"limit\":51}", 400, "limit: must be");
    expect_error(th, "POST", S, "{\"query\":\"x\",\"limit\":\"3\"}", 400, "limit: must be");
    expect_error(th, "POST", S, "{\"query\":\"x\",\"top\":3}", 400, "top: unknown field");
    char *q = repeat("a", 2049);
    snprintf(buf, sizeof buf, "{\"query\":\"%s\"}", q);
    free(q);
    expect_error(th, "POST", S, buf, 400, "query: required: a string of at most 2048 bytes");
    /* lists */
    expect_error(th, "GET", BASE "/articles?limit=0", NULL, 400, "limit: must be an integer from 1 to 500");
    expect_error(th, "GET", BASE "/articles?limit=501", NULL, 400, "limit:");
    expect_error(th, "GET", BASE "/articles?limit=2x", NULL, 400, "limit:");
    expect_error(th, "GET", BASE "/articles?cursor=%zz", NULL, 400, "cursor:");
    expect_error(th, "GET", BASE "/articles?cursor=a%20b", NULL, 400, "cursor:");
    expect_error(th, "GET", BASE "/unanswered?cursor=-1", NULL, 400, "cursor:");
    expect_error(th, "GET", BASE "/unanswered?cursor=0", NULL, 400, "cursor:");
    expect_error(th, "GET", BASE "/unanswered?limit=x", NULL, 400, "limit:");
    sb_th_free(th);
}

static void test_bulk(void **st)
{
    (void)st;
    sb_th *th = boot();
    const char *A = BASE "/articles";
    /* one bad item: nothing is stored, the error names the item */
    expect_error(th, "POST", A, "[{\"title\":\"t\",\"body\":\"b\"},{\"title\":\"t\"}]", 400,
                 "[1].body: required");
    expect_error(th, "POST", A, "[{\"title\":\"t\",\"body\":\"b\"},7]", 400,
                 "[1]: must be an article object");
    expect_error(th, "POST", A, "[{\"id\":\"x\",\"title\":\"t\",\"body\":\"b\"},"
                                "{\"id\":\"x\",\"title\":\"t\",\"body\":\"b\"}]", 400, "id: \\\"x\\\" appears twice");
    expect_error(th, "POST", A, "[]", 400, "body: an empty array");
    json_t *many = json_array();
    for (int i = 0; i < 1001; i++) json_array_append_new(many, json_pack("{s:s,s:s}", "title", "t", "body", "b"));
    char *mb = json_dumps(many, 0);
    expect_error(th, "POST", A, mb, 413, "at most 1000");
    free(mb);
    json_decref(many);
    json_t *list = json_of(req(th, "GET", A, NULL));
    assert_int_equal(json_array_size(json_object_get(list, "items")), 0);
    json_decref(list);

    import_kb(th);
    json_t *keep;
    assert_string_equal(top_id(th, "как заблакировать карточку", &keep), "card-block");
    json_decref(keep);
    assert_string_equal(top_id(th, "сколько стоит перевод по телефону", &keep), "transfer-phone");
    json_decref(keep);
    assert_null(top_id(th, "🙂🙂🙂", &keep));
    json_decref(keep);
    /* importing again replaces, it does not duplicate */
    import_kb(th);
    list = json_of(req(th, "GET", A, NULL));
    assert_int_equal(json_array_size(json_object_get(list, "items")), 4);
    json_decref(list);
    sb_th_free(th);
}

static void test_list_pages(void **st)
{
    (void)st;
    sb_th *th = boot();
    import_kb(th);
    const char *want[] = {"app-login", "card-block", "deposit", "transfer-phone"};
    char target[128] = BASE "/articles?limit=3";
    size_t seen = 0;
    for (int page = 0; page < 3; page++) {
        json_t *j = json_of(req(th, "GET", target, NULL));
        json_t *items = json_object_get(j, "items"), *it;
        size_t i;
        json_array_foreach(items, i, it) {
            assert_true(seen < 4);
            assert_string_equal(json_string_value(json_object_get(it, "id")), want[seen++]);
            assert_non_null(json_string_value(json_object_get(it, "title")));
        }
        json_t *next = json_object_get(j, "next_cursor");
        if (json_is_null(next)) {
            json_decref(j);
            break;
        }
        snprintf(target, sizeof target, BASE "/articles?limit=3&cursor=%s", json_string_value(next));
        json_decref(j);
    }
    assert_int_equal(seen, 4);
    sb_th_free(th);
}

/* stop + start is a restart: the index is rebuilt from kv */
static void test_restart_rebuilds(void **st)
{
    (void)st;
    sb_th *th = boot();
    import_kb(th);
    assert_int_equal(req(th, "DELETE", BASE "/articles/deposit", NULL)->status, 204);
    sb_th_stop(th);
    assert_int_equal(sb_th_start(th, sb_plugin_entry(SB_ABI_MAJOR, SB_ABI_MINOR)), SB_OK);
    sb_th_http_auth(th, "operator", "op");
    json_t *keep;
    assert_string_equal(top_id(th, "забыл пароль", &keep), "app-login");
    json_decref(keep);
    json_t *list = json_of(req(th, "GET", BASE "/articles", NULL));
    assert_int_equal(json_array_size(json_object_get(list, "items")), 3);
    json_decref(list);
    expect_error(th, "GET", BASE "/articles/deposit", NULL, 404, "not_found");
    assert_true(sb_th_log_find(th, "knowledge base faq: 3 articles") >= 0);
    sb_th_free(th);
}

static char *temp_file(const char *text)
{
    char *path = strdup("/tmp/textbot-import-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_import_file(void **st)
{
    (void)st;
    char *good = temp_file(KB);
    sb_th *th = sb_th_new("textbot", "main");
    sb_th_config_set(th, "kb", "faq");
    sb_th_config_set(th, "import", good);
    assert_int_equal(sb_th_start(th, sb_plugin_entry(SB_ABI_MAJOR, SB_ABI_MINOR)), SB_OK);
    sb_th_run_pending(th);
    sb_th_http_auth(th, "supervisor", "sup");
    json_t *list = json_of(req(th, "GET", BASE "/articles", NULL));
    assert_int_equal(json_array_size(json_object_get(list, "items")), 4);
    json_decref(list);
    /* a KB that is not empty is not imported again */
    assert_int_equal(req(th, "DELETE", BASE "/articles/deposit", NULL)->status, 204);
    sb_th_stop(th);
    assert_int_equal(sb_th_start(th, sb_plugin_entry(SB_ABI_MAJOR, SB_ABI_MINOR)), SB_OK);
    list = json_of(req(th, "GET", BASE "/articles", NULL));
    assert_int_equal(json_array_size(json_object_get(list, "items")), 3);
    json_decref(list);
    sb_th_free(th);

    /* a broken file fails the instance with the field named */
    char *bad = temp_file("[{\"title\":\"t\",\"body\":\"b\"},{\"body\":\"x\"}]");
    th = sb_th_new("textbot", "main");
    sb_th_config_set(th, "kb", "faq");
    sb_th_config_set(th, "import", bad);
    assert_int_not_equal(sb_th_start(th, sb_plugin_entry(SB_ABI_MAJOR, SB_ABI_MINOR)), SB_OK);
    assert_true(sb_th_log_find(th, "[1].title: required") >= 0);
    sb_th_free(th);
    th = sb_th_new("textbot", "main");
    sb_th_config_set(th, "kb", "faq");
    sb_th_config_set(th, "import", "/nonexistent/faq.json");
    assert_int_not_equal(sb_th_start(th, sb_plugin_entry(SB_ABI_MAJOR, SB_ABI_MINOR)), SB_OK);
    assert_true(sb_th_log_find(th, "/nonexistent/faq.json") >= 0);
    sb_th_free(th);
    unlink(good);
    unlink(bad);
    free(good);
    free(bad);
}

static void test_storage_failure(void **st)
{
    (void)st;
    sb_th *th = boot();
    sb_th_fail_next(th, "kv_put", SB_ERR_IO);
    expect_error(th, "POST", BASE "/articles", "{\"id\":\"x\",\"title\":\"t\",\"body\":\"b\"}", 500,
                 "storage_error");
    /* the answer waits for the durable write */
    const char *y = "{\"id\":\"y\",\"title\":\"t\",\"body\":\"b\"}";
    const sb_th_reply *r = sb_th_http_request(th, "POST", BASE "/articles", NULL, 0, y, strlen(y));
    assert_false(r->replied);
    sb_th_run_pending(th);
    assert_int_equal(r->status, 201);
    sb_th_free(th);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_crud),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_bulk),
        cmocka_unit_test(test_list_pages),
        cmocka_unit_test(test_restart_rebuilds),
        cmocka_unit_test(test_import_file),
        cmocka_unit_test(test_storage_failure),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
