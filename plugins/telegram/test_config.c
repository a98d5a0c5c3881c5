/* Configuration: required keys, formats, mode-dependent keys, unknown
 * keys, several bots side by side. */
#include "tg_test.h"

/* Starts and expects a refusal naming `path`. */
static void refused(sb_th *th, const char *path)
{
    assert_int_not_equal(sb_th_start(th, tg_plugin()), SB_OK);
    for (size_t i = 0; i < sb_th_config_error_count(th); i++)
        if (strncmp(sb_th_config_error(th, i), path, strlen(path)) == 0) return;
    fail_msg("no config error for %s (first: %s)", path,
             sb_th_config_error(th, 0) ? sb_th_config_error(th, 0) : "none");
}

static void test_missing_token(void **st)
{
    (void)st;
    sb_th *th = sb_th_new("telegram", "main");
    refused(th, "token");
    assert_non_null(strstr(sb_th_config_error(th, 0), "required"));
    sb_th_free(th);
}

static void test_bad_values(void **st)
{
    (void)st;
    static const struct {
        const char *key, *value, *mode;
    } k[] = {
        {"token", "has space", NULL},
        {"token", "tok/../x", NULL},
        {"mode", "carrier-pigeon", NULL},
        {"api_url", "ftp://x", NULL},
        {"api_url", "https://a b", NULL},
        {"secret_token", "with space", "webhook"},
        {"secret_token", "", "webhook"},
        {"secret_token", "toolong", "webhook"}, /* replaced by 257 characters below */
        {"secret_token", "ÿ", NULL},
        {"public_url", "sb.example", "webhook"},
        {"poll_timeout", "61s", NULL},
        {"poll_timeout", "soon", NULL},
        {"max_file", "0", NULL},
        {"max_file", "1GiB", NULL},
    };
    char longsecret[258];
    memset(longsecret, 'a', 257);
    longsecret[257] = '\0';
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        sb_th *th = tg_host(k[i].mode);
        sb_th_config_set(th, k[i].key, strcmp(k[i].value, "toolong") == 0 ? longsecret : k[i].value);
        refused(th, k[i].key);
        sb_th_free(th);
    }
}

static void test_webhook_needs_secret_and_url(void **st)
{
    (void)st;
    sb_th *th = sb_th_new("telegram", "main");
    sb_th_config_set(th, "token", TOKEN);
    sb_th_config_set(th, "mode", "webhook");
    refused(th, "secret_token");
    refused(th, "public_url");
    assert_int_equal(sb_th_config_error_count(th), 2); /* both at once */
    sb_th_free(th);
}

static void test_unknown_key(void **st)
{
    (void)st;
    sb_th *th = tg_host(NULL);
    sb_th_config_set(th, "tokne", "x");
    refused(th, "tokne");
    sb_th_free(th);
}

static void test_defaults_and_full_config(void **st)
{
    (void)st;
    sb_th *th = sb_th_new("telegram", "main");
    sb_th_config_set(th, "token", TOKEN);
    assert_int_equal(sb_th_start(th, tg_plugin()), SB_OK);
    /* poll mode against the real API by default, 25 s long polls */
    const sb_th_http_call *c = sb_th_http_call_get(th, 0);
    assert_string_equal(c->url, "https://api.telegram.org/bot" TOKEN "/getUpdates");
    assert_non_null(strstr(c->body, "\"timeout\":25"));
    sb_th_free(th);

    th = tg_host("webhook");
    sb_th_config_set(th, "poll_timeout", "10s");
    sb_th_config_set(th, "max_file", "5MiB");
    assert_int_equal(sb_th_start(th, tg_plugin()), SB_OK);
    assert_null(sb_th_unused_config(th));
    assert_string_equal(sb_th_http_call_get(th, 0)->url, BOT "setWebhook");
    sb_th_free(th);
}

static void test_two_bots_side_by_side(void **st)
{
    (void)st;
    sb_th *a = tg_host("webhook"), *b = sb_th_new("telegram", "second");
    sb_th_config_set(b, "token", "777:bbb");
    sb_th_config_set(b, "api_url", API);
    sb_th_config_set(b, "mode", "webhook");
    sb_th_config_set(b, "secret_token", "other");
    sb_th_config_set(b, "public_url", "https://sb.example");
    sb_th_http_expect(a, "POST", BOT "setWebhook", 200, OK_TRUE);
    sb_th_http_expect(b, "POST", API "/bot777:bbb/setWebhook", 200, OK_TRUE);
    assert_int_equal(sb_th_start(a, tg_plugin()), SB_OK);
    assert_int_equal(sb_th_start(b, tg_plugin()), SB_OK);
    sb_th_run_pending(a);
    sb_th_run_pending(b);
    assert_non_null(strstr(sb_th_http_call_get(b, 0)->body, "/hooks/telegram/second"));
    /* each checks its own secret */
    const char *body = "{\"update_id\":1,\"message\":{\"message_id\":1,\"chat\":{\"id\":1,"
                       "\"type\":\"private\"},\"text\":\"x\"}}";
    sb_header h[1] = {{"X-Telegram-Bot-Api-Secret-Token", "other"}};
    assert_int_equal(sb_th_http_request(a, "POST", HOOK, h, 1, body, strlen(body))->status, 403);
    assert_false(sb_th_http_request(b, "POST", "/hooks/telegram/second", h, 1, body,
                                    strlen(body))->replied);
    sb_th_free(a);
    sb_th_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_token),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_webhook_needs_secret_and_url),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_defaults_and_full_config),
        cmocka_unit_test(test_two_bots_side_by_side),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
