/* GET /api/v1/channels/telegram/<instance>/files/<file_id>, for operators
 * only: getFile, then the bytes; 413 over max_file before any download. */
#include "tg_test.h"

#define FILES "/api/v1/channels/telegram/main/files"

#define FILE_OK(size, path)                                                                     \
    "{\"ok\":true,\"result\":{\"file_id\":\"AgAD\",\"file_unique_id\":\"u\",\"file_size\":" #size \
    ",\"file_path\":\"" path "\"}}"

static sb_th *host(void)
{
    sb_th *th = tg_host("webhook");
    sb_th_config_set(th, "max_file", "1KiB");
    sb_th_http_expect(th, "POST", BOT "setWebhook", 200, OK_TRUE);
    assert_int_equal(sb_th_start(th, tg_plugin()), SB_OK);
    sb_th_run_pending(th);
    sb_th_http_auth(th, "operator", "7");
    return th;
}

static const sb_th_reply *get(sb_th *th, const char *file_id)
{
    char target[512];
    snprintf(target, sizeof target, FILES "/%s", file_id);
    return sb_th_http_request(th, "GET", target, NULL, 0, NULL, 0);
}

static void test_serves_a_file(void **st)
{
    (void)st;
    sb_th *th = host();
    sb_th_http_expect(th, "POST", BOT "getFile", 200, FILE_OK(5, "photos/file_1.jpg"));
    sb_th_http_expect(th, "GET", API "/file/bot" TOKEN "/photos/file_1.jpg", 200, "JPEG!");
    const sb_th_reply *r = get(th, "AgAD-x_1");
    assert_false(r->replied);
    assert_string_equal(tg_last_call(th, "getFile")->body, "{\"file_id\":\"AgAD-x_1\"}");
    sb_th_run_pending(th);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->body, "JPEG!");
    assert_string_equal(r->content_type, "image/jpeg");
    const sb_th_http_call *dl = sb_th_http_call_get(th, sb_th_http_call_count(th) - 1);
    assert_int_equal(dl->max_response, 1024); /* never more than max_file kept */
    assert_int_equal(sb_th_http_expect_left(th), 0);
    sb_th_free(th);
}

static void test_over_max_file(void **st)
{
    (void)st;
    sb_th *th = host();
    /* by getFile's size: no download at all */
    sb_th_http_expect(th, "POST", BOT "getFile", 200, FILE_OK(5000, "documents/big.pdf"));
    const sb_th_reply *r = get(th, "BIG");
    sb_th_run_pending(th);
    assert_int_equal(r->status, 413);
    assert_non_null(strstr(r->body, "\"too_large\""));
    assert_non_null(strstr(r->body, "5000 bytes, over max_file (1024 bytes)"));
    assert_int_equal(tg_calls(th, "big.pdf"), 0);
    /* size unknown, the body turns out too big */
    sb_th_http_expect(th, "POST", BOT "getFile", 200,
                      "{\"ok\":true,\"result\":{\"file_id\":\"X\",\"file_path\":\"documents/x.bin\"}}");
    char big[2048];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sb_th_http_expect(th, "GET", API "/file/", 200, big);
    r = get(th, "X");
    sb_th_run_pending(th);
    assert_int_equal(r->status, 413);
    /* Telegram's own limit */
    sb_th_http_expect(th, "POST", BOT "getFile", 400,
                      "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: file is too big\"}");
    r = get(th, "Y");
    sb_th_run_pending(th);
    assert_int_equal(r->status, 413);
    sb_th_free(th);
}

static void test_bad_ids_and_failures(void **st)
{
    (void)st;
    sb_th *th = host();
    assert_int_equal(get(th, "a.b")->status, 400);
    assert_int_equal(get(th, "a%2Fb")->status, 400);
    assert_int_equal(sb_th_http_request(th, "GET", FILES, NULL, 0, NULL, 0)->status, 400);
    /* without an operator's token: refused before anything is fetched */
    sb_th_http_auth(th, NULL, NULL);
    assert_int_equal(get(th, "AgADabc")->status, 401);
    sb_th_http_auth(th, "operator", "7");
    sb_th_http_expect(th, "POST", BOT "getFile", 400,
                      "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: invalid file_id\"}");
    const sb_th_reply *r = get(th, "nope");
    sb_th_run_pending(th);
    assert_int_equal(r->status, 404);
    assert_non_null(strstr(r->body, "invalid file_id"));
    sb_th_http_expect_error(th, "POST", BOT "getFile", SB_ERR_IO,
                            "Could not connect to " BOT "getFile");
    r = get(th, "down");
    sb_th_run_pending(th);
    assert_int_equal(r->status, 502);
    assert_null(strstr(r->body, "SECRET-tok_en"));
    /* a file_path that tries to leave the file area */
    sb_th_http_expect(th, "POST", BOT "getFile", 200, FILE_OK(5, "../../etc/passwd"));
    r = get(th, "evil");
    sb_th_run_pending(th);
    assert_int_equal(r->status, 502);
    /* stop with a download running: answered, not leaked */
    sb_th_http_expect(th, "POST", BOT "getFile", 200, FILE_OK(5, "a/b.png"));
    r = get(th, "slow");
    sb_th_stop(th);
    assert_true(r->replied);
    assert_int_equal(r->status, 503);
    tg_assert_token_not_logged(th);
    sb_th_free(th);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serves_a_file),
        cmocka_unit_test(test_over_max_file),
        cmocka_unit_test(test_bad_ids_and_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
