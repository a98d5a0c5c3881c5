/* Helpers shared by the Telegram plugin's tests on the SDK test host. */
#ifndef TG_TEST_H
#define TG_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "testhost.h"

#define API "https://tg.test"
#define TOKEN "123456:SECRET-tok_en"
#define BOT API "/bot" TOKEN "/"
#define HOOK "/hooks/telegram/main"
#define SECRET "s3cret_Token-1"
#define OK_TRUE "{\"ok\":true,\"result\":true}"

static inline const sb_plugin *tg_plugin(void)
{
    return sb_plugin_entry(SB_ABI_MAJOR, SB_ABI_MINOR);
}

/* A host with token and api_url set; mode "webhook" adds its keys. */
static inline sb_th *tg_host(const char *mode)
{
    sb_th *th = sb_th_new("telegram", "main");
    sb_th_config_set(th, "token", TOKEN);
    sb_th_config_set(th, "api_url", API "/");
    if (mode) sb_th_config_set(th, "mode", mode);
    if (mode && strcmp(mode, "webhook") == 0) {
        sb_th_config_set(th, "secret_token", SECRET);
        sb_th_config_set(th, "public_url", "https://sb.example/");
    }
    return th;
}

/* Started in webhook mode, setWebhook answered. */
static inline sb_th *tg_webhook_host(void)
{
    sb_th *th = tg_host("webhook");
    sb_th_http_expect(th, "POST", BOT "setWebhook", 200, OK_TRUE);
    assert_int_equal(sb_th_start(th, tg_plugin()), SB_OK);
    sb_th_run_pending(th);
    assert_int_equal(sb_th_http_expect_left(th), 0);
    return th;
}

static inline const sb_th_reply *tg_post(sb_th *th, const char *secret, const char *body)
{
    sb_header h[1] = {{"X-Telegram-Bot-Api-Secret-Token", secret}};
    return sb_th_http_request(th, "POST", HOOK, h, secret ? 1 : 0, body, strlen(body));
}

/* The last http_call whose URL ends with "/<method>". */
static inline const sb_th_http_call *tg_last_call(sb_th *th, const char *method)
{
    for (size_t i = sb_th_http_call_count(th); i-- > 0;) {
        const sb_th_http_call *c = sb_th_http_call_get(th, i);
        size_t ul = strlen(c->url), ml = strlen(method);
        if (ul > ml && strcmp(c->url + ul - ml, method) == 0 && c->url[ul - ml - 1] == '/')
            return c;
    }
    return NULL;
}

static inline size_t tg_calls(sb_th *th, const char *method)
{
    size_t n = 0;
    for (size_t i = 0; i < sb_th_http_call_count(th); i++) {
        const sb_th_http_call *c = sb_th_http_call_get(th, i);
        size_t ul = strlen(c->url), ml = strlen(method);
        if (ul > ml && strcmp(c->url + ul - ml, method) == 0) n++;
    }
    return n;
}

/* No line the plugin logged holds the token's secret part (the test
 * host's own remarks, which print URLs, are not the plugin's). */
static inline void tg_assert_token_not_logged(sb_th *th)
{
    for (size_t i = 0; i < sb_th_log_count(th); i++) {
        const char *l = sb_th_log_line(th, i, NULL);
        if (strncmp(l, "testhost:", 9) == 0) continue;
        if (strstr(l, "SECRET-tok_en")) fail_msg("token logged: %s", l);
    }
}

#endif
