/* wire.c and split.c: every update shape, answers, request bodies, the
 * 4096 split. Pure functions, no host. */
#include "tg_test.h"

#include <stdlib.h>

#include "tg.h"
#include "wire.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (!v) fail_msg("bad test JSON: %s: %s", e.text, text);
    return v;
}

static tg_upd_kind parse(const char *text, tg_update *u, json_t **root)
{
    *root = J(text);
    return tg_parse_update(*root, u);
}

#define FROM "\"from\":{\"id\":42,\"is_bot\":false,\"first_name\":\"Анна\",\"last_name\":\"Петрова\"}"
#define CHAT "\"chat\":{\"id\":42,\"type\":\"private\"}"

static void test_text_message(void **st)
{
    (void)st;
    tg_update u;
    json_t *r;
    assert_int_equal(parse("{\"update_id\":1000,\"message\":{\"message_id\":5," FROM "," CHAT
                           ",\"date\":1700000000,\"text\":\"hi\"}}", &u, &r),
                     TG_UPD_INBOUND);
    assert_int_equal(u.msg.kind, SB_IN_MESSAGE);
    assert_string_equal(u.msg.dedup_key, "u1000");
    assert_string_equal(u.msg.external_id, "42");
    assert_string_equal(u.msg.name, "Анна Петрова");
    assert_string_equal(u.msg.text, "hi");
    assert_int_equal(u.msg.sent_at_ms, 1700000000000LL);
    assert_int_equal(u.msg.n_attachments, 0);
    assert_int_equal(u.message_id, 5);
    assert_null(u.callback_id);
    json_decref(r);
}

static void test_callback_query(void **st)
{
    (void)st;
    tg_update u;
    json_t *r;
    assert_int_equal(parse("{\"update_id\":1001,\"callback_query\":{\"id\":\"4382\"," FROM
                           ",\"message\":{\"message_id\":7," CHAT ",\"date\":1,\"text\":\"Pick\"},"
                           "\"chat_instance\":\"-1\",\"data\":\"yes\"}}", &u, &r),
                     TG_UPD_INBOUND);
    assert_string_equal(u.msg.dedup_key, "u1001");
    assert_string_equal(u.msg.external_id, "42");
    assert_string_equal(u.callback_id, "4382");
    assert_string_equal(u.callback_data, "yes");
    assert_null(u.msg.text);
    assert_int_equal(u.message_id, 0); /* not a message of the client's */
    json_decref(r);
    /* without the message (inline mode): the sender's id is the chat */
    assert_int_equal(parse("{\"update_id\":1002,\"callback_query\":{\"id\":\"9\",\"from\":{\"id\":77,"
                           "\"first_name\":\"B\"},\"data\":\"k1\"}}", &u, &r),
                     TG_UPD_INBOUND);
    assert_string_equal(u.msg.external_id, "77");
    json_decref(r);
    /* a game's callback carries no data: nothing to store */
    assert_int_equal(parse("{\"update_id\":1003,\"callback_query\":{\"id\":\"9\",\"from\":{\"id\":77},"
                           "\"game_short_name\":\"g\"}}", &u, &r),
                     TG_UPD_SKIP);
    json_decref(r);
    assert_int_equal(parse("{\"update_id\":1004,\"callback_query\":{\"from\":{\"id\":77},"
                           "\"data\":\"x\"}}", &u, &r),
                     TG_UPD_BAD);
    assert_non_null(strstr(u.why, "callback_query.id"));
    json_decref(r);
}

static void test_photo_takes_largest(void **st)
{
    (void)st;
    tg_update u;
    json_t *r;
    assert_int_equal(
        parse("{\"update_id\":3,\"message\":{\"message_id\":6," FROM "," CHAT ",\"date\":1,"
              "\"photo\":[{\"file_id\":\"small\",\"file_unique_id\":\"a\",\"width\":90,\"height\":60,"
              "\"file_size\":1000},{\"file_id\":\"big\",\"file_unique_id\":\"b\",\"width\":1280,"
              "\"height\":853,\"file_size\":90000},{\"file_id\":\"mid\",\"file_unique_id\":\"c\","
              "\"width\":320,\"height\":213,\"file_size\":9000}],\"caption\":\"look\"}}", &u, &r),
        TG_UPD_INBOUND);
    assert_int_equal(u.msg.n_attachments, 1);
    assert_string_equal(u.att.kind, "image");
    assert_string_equal(u.att.ref, "big");
    assert_string_equal(u.att.mime, "image/jpeg");
    assert_int_equal(u.att.size, 90000);
    assert_null(u.att.name);
    assert_string_equal(u.msg.text, "look");
    json_decref(r);
}

static void test_document_voice_video(void **st)
{
    (void)st;
    tg_update u;
    json_t *r;
    assert_int_equal(
        parse("{\"update_id\":4,\"message\":{\"message_id\":8," FROM "," CHAT ",\"date\":1,"
              "\"document\":{\"file_id\":\"DOC-1_x\",\"file_unique_id\":\"u\",\"file_name\":"
              "\"счёт.pdf\",\"mime_type\":\"application/pdf\",\"file_size\":12345},"
              "\"caption\":\"invoice\"}}", &u, &r),
        TG_UPD_INBOUND);
    assert_string_equal(u.att.kind, "file");
    assert_string_equal(u.att.ref, "DOC-1_x");
    assert_string_equal(u.att.name, "счёт.pdf");
    assert_string_equal(u.att.mime, "application/pdf");
    assert_int_equal(u.att.size, 12345);
    assert_string_equal(u.msg.text, "invoice");
    json_decref(r);

    assert_int_equal(parse("{\"update_id\":5,\"message\":{\"message_id\":9," FROM "," CHAT
                           ",\"date\":1,\"voice\":{\"file_id\":\"V\",\"file_unique_id\":\"u\","
                           "\"duration\":3,\"file_size\":4000}}}", &u, &r),
                     TG_UPD_INBOUND);
    assert_string_equal(u.att.kind, "voice");
    assert_string_equal(u.att.mime, "audio/ogg");
    assert_null(u.msg.text);
    json_decref(r);

    assert_int_equal(parse("{\"update_id\":6,\"message\":{\"message_id\":10," FROM "," CHAT
                           ",\"date\":1,\"video\":{\"file_id\":\"VID\",\"file_unique_id\":\"u\","
                           "\"width\":1,\"height\":1,\"duration\":3,\"mime_type\":\"video/quicktime\","
                           "\"file_size\":77}}}", &u, &r),
                     TG_UPD_INBOUND);
    assert_string_equal(u.att.kind, "video");
    assert_string_equal(u.att.mime, "video/quicktime");
    assert_int_equal(u.att.size, 77);
    json_decref(r);

    /* a file object without a usable file_id is malformed */
    assert_int_equal(parse("{\"update_id\":7,\"message\":{\"message_id\":11," CHAT ",\"date\":1,"
                           "\"document\":{\"file_name\":\"x\"}}}", &u, &r),
                     TG_UPD_BAD);
    assert_non_null(strstr(u.why, "message.document.file_id"));
    json_decref(r);
}

static void test_contact(void **st)
{
    (void)st;
    tg_update u;
    json_t *r;
    assert_int_equal(parse("{\"update_id\":8,\"message\":{\"message_id\":12," FROM "," CHAT
                           ",\"date\":1,\"contact\":{\"phone_number\":\"7 (900) 123-45-67\","
                           "\"first_name\":\"Анна\",\"user_id\":42}}}", &u, &r),
                     TG_UPD_INBOUND);
    assert_int_equal(u.msg.kind, SB_IN_CONTACT);
    assert_string_equal(u.msg.phone, "+79001234567");
    assert_null(u.msg.text);
    json_decref(r);
    /* without user_id: still the client's own (a request_contact answer has it) */
    assert_int_equal(parse("{\"update_id\":9,\"message\":{\"message_id\":13," FROM "," CHAT
                           ",\"date\":1,\"contact\":{\"phone_number\":\"+44 20 7946 0000\","
                           "\"first_name\":\"A\"}}}", &u, &r),
                     TG_UPD_INBOUND);
    assert_int_equal(u.msg.kind, SB_IN_CONTACT);
    assert_string_equal(u.msg.phone, "+442079460000");
    json_decref(r);
    /* someone else's card is a message, not the client's phone */
    assert_int_equal(parse("{\"update_id\":10,\"message\":{\"message_id\":14," FROM "," CHAT
                           ",\"date\":1,\"contact\":{\"phone_number\":\"79990000000\","
                           "\"first_name\":\"Иван\",\"last_name\":\"И\",\"user_id\":99}}}", &u, &r),
                     TG_UPD_INBOUND);
    assert_int_equal(u.msg.kind, SB_IN_MESSAGE);
    assert_null(u.msg.phone);
    assert_string_equal(u.msg.text, "Иван И: +79990000000");
    json_decref(r);
    assert_int_equal(parse("{\"update_id\":11,\"message\":{\"message_id\":15," CHAT ",\"date\":1,"
                           "\"contact\":{\"phone_number\":\"12\"}}}", &u, &r),
                     TG_UPD_SKIP);
    json_decref(r);
}

static void test_edited_message(void **st)
{
    (void)st;
    tg_update u;
    json_t *r;
    assert_int_equal(parse("{\"update_id\":12,\"edited_message\":{\"message_id\":5," FROM "," CHAT
                           ",\"date\":1700000000,\"edit_date\":1700000060,\"text\":\"hi!\"}}", &u, &r),
                     TG_UPD_INBOUND);
    assert_int_equal(u.msg.kind, SB_IN_EDIT);
    assert_string_equal(u.msg.dedup_key, "u12");
    assert_string_equal(u.msg.text, "hi!");
    assert_int_equal(u.edited_id, 5);
    assert_int_equal(u.message_id, 0);
    assert_int_equal(u.msg.sent_at_ms, 1700000060000LL);
    json_decref(r);
}

static void test_unknown_and_malformed(void **st)
{
    (void)st;
    tg_update u;
    json_t *r;
    assert_int_equal(parse("{\"update_id\":13,\"my_chat_member\":{\"chat\":{\"id\":1}}}", &u, &r),
                     TG_UPD_SKIP);
    assert_non_null(strstr(u.why, "my_chat_member"));
    json_decref(r);
    assert_int_equal(parse("{\"update_id\":14,\"message\":{\"message_id\":1," CHAT ",\"date\":1,"
                           "\"sticker\":{\"file_id\":\"s\"}}}", &u, &r),
                     TG_UPD_SKIP);
    json_decref(r);
    assert_int_equal(parse("{\"update_id\":15,\"message\":{\"message_id\":1,\"chat\":{\"id\":-100,"
                           "\"type\":\"group\"},\"date\":1,\"text\":\"x\"}}", &u, &r),
                     TG_UPD_SKIP);
    assert_non_null(strstr(u.why, "group"));
    json_decref(r);
    const char *bad[] = {
        "[1]",
        "{\"message\":{}}",
        "{\"update_id\":-1,\"message\":{}}",
        "{\"update_id\":\"1\",\"message\":{}}",
        "{\"update_id\":1,\"message\":5}",
        "{\"update_id\":1,\"message\":{\"message_id\":1,\"text\":\"x\"}}",
        "{\"update_id\":1,\"message\":{\"message_id\":1,\"chat\":{\"id\":\"42\"},\"text\":\"x\"}}",
        "{\"update_id\":1,\"message\":{\"chat\":{\"id\":42},\"text\":\"x\"}}",
        "{\"update_id\":1,\"callback_query\":{\"id\":\"1\",\"data\":\"x\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(bad[i], &u, &r), TG_UPD_BAD);
        assert_true(u.why[0] != '\0');
        json_decref(r);
    }
}

static void test_results(void **st)
{
    (void)st;
    tg_result r;
    const char *e429 = "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: "
                       "retry after 2282\",\"parameters\":{\"retry_after\":2282}}";
    tg_parse_result(e429, strlen(e429), 429, &r);
    assert_false(r.ok);
    assert_int_equal(r.code, 429);
    assert_int_equal(r.retry_after_s, 2282);
    assert_string_equal(r.description, "Too Many Requests: retry after 2282");
    tg_result_free(&r);

    const char *okb = "{\"ok\":true,\"result\":{\"message_id\":77}}";
    tg_parse_result(okb, strlen(okb), 200, &r);
    assert_true(r.ok);
    assert_int_equal(json_integer_value(json_object_get(r.result, "message_id")), 77);
    tg_result_free(&r);

    tg_parse_result("<html>bad gateway</html>", 24, 502, &r);
    assert_false(r.ok);
    assert_int_equal(r.code, 502);
    assert_string_equal(r.description, "not a Bot API answer");
    tg_result_free(&r);
    tg_parse_result(NULL, 0, 0, &r);
    assert_false(r.ok);
    tg_result_free(&r);
    /* ok:true with a failing status is not a success */
    tg_parse_result(okb, strlen(okb), 500, &r);
    assert_false(r.ok);
    tg_result_free(&r);
}

static void test_request_bodies(void **st)
{
    (void)st;
    tg_button_out b[2] = {{"Да", "yes"}, {"Нет", "k1"}};
    char *s = tg_json_send_message(42, "Pick one", 4, b, 2);
    assert_string_equal(s, "{\"chat_id\":42,\"text\":\"Pick\",\"reply_markup\":{\"inline_keyboard\":"
                           "[[{\"text\":\"Да\",\"callback_data\":\"yes\"}],[{\"text\":\"Нет\","
                           "\"callback_data\":\"k1\"}]]}}");
    free(s);
    s = tg_json_send_message(-1001, "x", 1, NULL, 0);
    assert_string_equal(s, "{\"chat_id\":-1001,\"text\":\"x\"}");
    free(s);
    s = tg_json_send_media(42, "photo", "https://x/p.jpg", NULL, 0);
    assert_string_equal(s, "{\"chat_id\":42,\"photo\":\"https://x/p.jpg\"}");
    free(s);
    s = tg_json_answer_callback("4382");
    assert_string_equal(s, "{\"callback_query_id\":\"4382\"}");
    free(s);
    s = tg_json_set_webhook("https://h/hooks/telegram/a", "sec");
    assert_string_equal(s, "{\"url\":\"https://h/hooks/telegram/a\",\"secret_token\":\"sec\","
                           "\"allowed_updates\":[\"message\",\"edited_message\",\"callback_query\"]}");
    free(s);
    s = tg_json_get_updates(1001, 100, 25);
    json_t *o = J(s);
    assert_int_equal(json_integer_value(json_object_get(o, "offset")), 1001);
    assert_int_equal(json_integer_value(json_object_get(o, "timeout")), 25);
    assert_int_equal(json_integer_value(json_object_get(o, "limit")), 100);
    assert_int_equal(json_array_size(json_object_get(o, "allowed_updates")), 3);
    json_decref(o);
    free(s);
    s = tg_json_get_updates(-1, 100, 25);
    assert_null(strstr(s, "offset"));
    free(s);
}

static void test_phone_and_chat(void **st)
{
    (void)st;
    char p[24];
    int64_t c;
    assert_int_equal(tg_normalise_phone("+7 900 123-45-67", p, sizeof p), 0);
    assert_string_equal(p, "+79001234567");
    assert_int_equal(tg_normalise_phone("12", p, sizeof p), -1);
    assert_int_equal(tg_normalise_phone("123456789012345678901", p, sizeof p), -1);
    assert_int_equal(tg_parse_chat("42", &c), 0);
    assert_int_equal(c, 42);
    assert_int_equal(tg_parse_chat("-1001234567890", &c), 0);
    assert_int_equal(c, -1001234567890LL);
    assert_int_equal(tg_parse_chat("", &c), -1);
    assert_int_equal(tg_parse_chat("4x", &c), -1);
    assert_int_equal(tg_parse_chat("99999999999999999999", &c), -1);
    assert_int_equal(tg_parse_chat("-", &c), -1);
}

/* ---- split ---------------------------------------------------------------- */

static char *repeat(const char *unit, size_t n)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * n + 1);
    for (size_t i = 0; i < n; i++) memcpy(s + i * ul, unit, ul);
    s[ul * n] = '\0';
    return s;
}

static void test_split_short_and_words(void **st)
{
    (void)st;
    tg_span sp[8];
    assert_int_equal(tg_split("hello", 5, 4096, sp, 8), 1);
    assert_int_equal(sp[0].off, 0);
    assert_int_equal(sp[0].len, 5);
    assert_int_equal(tg_split("   ", 3, 4096, sp, 8), 0);
    /* at word boundaries, the spaces dropped */
    const char *t = "aaa bbb ccc";
    assert_int_equal(tg_split(t, strlen(t), 7, sp, 8), 2);
    assert_int_equal(sp[0].len, 7); /* "aaa bbb" */
    assert_memory_equal(t + sp[1].off, "ccc", 3);
    assert_int_equal(sp[1].len, 3);
    /* the cut falls on a space exactly at the limit */
    assert_int_equal(tg_split("abcd efgh", 9, 4, sp, 8), 2);
    assert_int_equal(sp[0].len, 4);
    assert_int_equal(sp[1].off, 5);
}

static void test_split_4096_cyrillic(void **st)
{
    (void)st;
    /* 5000 Cyrillic letters in words of 9 ("слово123 " style): 2 parts,
     * the first at most 4096 letters and ending on a word */
    char *word = repeat("я", 8);
    size_t nwords = 600;
    size_t wl = strlen(word);
    char *t = malloc(nwords * (wl + 1) + 1);
    size_t o = 0;
    for (size_t i = 0; i < nwords; i++) {
        memcpy(t + o, word, wl);
        o += wl;
        t[o++] = ' ';
    }
    t[o] = '\0';
    tg_span sp[4];
    size_t n = tg_split(t, o, 4096, sp, 4);
    assert_int_equal(n, 2);
    size_t u0 = tg_utf16_len(t + sp[0].off, sp[0].len);
    assert_true(u0 <= 4096);
    assert_true(u0 > 4096 - 9);
    assert_int_equal(u0 % 9, 8);            /* whole words only */
    assert_int_equal(sp[0].len % 2, 0);     /* never inside a letter */
    assert_int_equal(t[sp[0].off + sp[0].len], ' ');
    size_t total = tg_utf16_len(t + sp[0].off, sp[0].len) + tg_utf16_len(t + sp[1].off, sp[1].len);
    assert_int_equal(total, 600 * 8 + 599 - 1); /* all letters, one space gone at the cut */
    free(word);
    free(t);
}

static void test_split_long_word_and_emoji(void **st)
{
    (void)st;
    /* one word of 5000 Cyrillic letters: a hard split at 4096 letters */
    char *t = repeat("ж", 5000);
    tg_span sp[4];
    assert_int_equal(tg_split(t, strlen(t), 4096, sp, 4), 2);
    assert_int_equal(sp[0].len, 4096 * 2);
    assert_int_equal(sp[1].off, 4096 * 2);
    assert_int_equal(sp[1].len, 904 * 2);
    free(t);
    /* emoji past U+FFFF count as two units, as Telegram counts them */
    t = repeat("\xF0\x9F\x98\x80", 3000); /* 6000 units */
    assert_int_equal(tg_utf16_len(t, strlen(t)), 6000);
    assert_int_equal(tg_split(t, strlen(t), 4096, sp, 4), 2);
    assert_int_equal(sp[0].len, 2048 * 4);
    free(t);
    /* a short word then a long one: the cut comes after the short one */
    char *big = repeat("x", 5000);
    char *u = malloc(5010);
    snprintf(u, 5010, "ab %s", big);
    assert_int_equal(tg_split(u, strlen(u), 4096, sp, 4), 3);
    assert_int_equal(sp[0].len, 2);
    assert_int_equal(sp[1].len, 4096);
    assert_int_equal(sp[2].len, 904);
    free(big);
    free(u);
    /* count only, without room */
    t = repeat("a ", 10000);
    assert_int_equal(tg_split(t, strlen(t), 4096, NULL, 0), 5);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_message),
        cmocka_unit_test(test_callback_query),
        cmocka_unit_test(test_photo_takes_largest),
        cmocka_unit_test(test_document_voice_video),
        cmocka_unit_test(test_contact),
        cmocka_unit_test(test_edited_message),
        cmocka_unit_test(test_unknown_and_malformed),
        cmocka_unit_test(test_results),
        cmocka_unit_test(test_request_bodies),
        cmocka_unit_test(test_phone_and_chat),
        cmocka_unit_test(test_split_short_and_words),
        cmocka_unit_test(test_split_4096_cyrillic),
        cmocka_unit_test(test_split_long_word_and_emoji),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
