/* One client history across conversations and channels, paged newest
 * first. */
#include "harness.h"

static void close_conversation(harness *h, const char *id)
{
    char *out = NULL;
    assert_int_equal(sb_engine_conversation_close(h->e, id, NULL, &out), SB_OK);
    free(out);
    h_step(h);
}

static json_t *client_page(harness *h, const char *client, const char *before, size_t limit)
{
    char *text = NULL;
    assert_int_equal(sb_engine_client_messages(h->e, client, before, limit, &text), SB_OK);
    return h_parse(text);
}

static void expect_items(json_t *page, const char *const *ids, size_t n, const char *next)
{
    json_t *items = json_object_get(page, "items");
    assert_int_equal(json_array_size(items), n);
    for (size_t i = 0; i < n; i++) assert_string_equal(h_str(json_array_get(items, i), "id"), ids[i]);
    if (next) assert_string_equal(h_str(page, "next_cursor"), next);
    else assert_true(json_is_null(json_object_get(page, "next_cursor")));
}

static void client_history_across_conversations(void **state)
{
    harness *h = h_open(NULL);
    char ids[6][32], conv_a[32], conv_b[32], client[32];
    h_done d;
    const char *texts[] = {"m1", "m2", "m3"};
    for (int i = 0; i < 3; i++) {
        char dedup[8];
        snprintf(dedup, sizeof dedup, "a%d", i);
        sb_inbound in = h_msg("u-1", dedup, texts[i]);
        in.phone = "+44 20 7946 0000";
        h_inbound(h, "telegram", "bot1", &in, &d);
        h_copy(ids[i], 32, d.id);
    }
    json_t *m = h_get(h, sb_engine_message_json, ids[0]);
    h_copy(conv_a, 32, h_str(m, "conversation_id"));
    h_copy(client, 32, h_str(m, "client_id"));
    json_decref(m);
    h_reply(h, conv_a, "r1", ids[3]);
    h_step(h);
    close_conversation(h, conv_a);

    /* the client comes back from another channel: a new conversation, one history */
    for (int i = 4; i < 6; i++) {
        char dedup[8];
        snprintf(dedup, sizeof dedup, "b%d", i);
        sb_inbound in = h_msg("442079460000@wa", dedup, "later");
        in.phone = "442079460000";
        h_inbound(h, "whatsapp", "main", &in, &d);
        h_copy(ids[i], 32, d.id);
    }
    m = h_get(h, sb_engine_message_json, ids[5]);
    h_copy(conv_b, 32, h_str(m, "conversation_id"));
    assert_string_equal(h_str(m, "client_id"), client);
    assert_string_not_equal(conv_a, conv_b);
    json_decref(m);

    json_t *p1 = client_page(h, client, NULL, 2);
    expect_items(p1, (const char *const[]){ids[5], ids[4]}, 2, ids[4]);
    json_t *p2 = client_page(h, client, h_str(p1, "next_cursor"), 2);
    expect_items(p2, (const char *const[]){ids[3], ids[2]}, 2, ids[2]);
    assert_string_equal(h_str(json_array_get(json_object_get(p2, "items"), 0), "direction"), "out");
    json_t *p3 = client_page(h, client, h_str(p2, "next_cursor"), 2);
    expect_items(p3, (const char *const[]){ids[1], ids[0]}, 2, NULL);
    /* limit 0 is the default (50): everything, no next page */
    json_t *all = client_page(h, client, NULL, 0);
    expect_items(all, (const char *const[]){ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]}, 6, NULL);
    /* over the maximum is clamped, not refused */
    json_t *big = client_page(h, client, "", 100000);
    assert_int_equal(json_array_size(json_object_get(big, "items")), 6);

    /* each conversation pages only its own */
    char *text = NULL;
    assert_int_equal(sb_engine_conversation_messages(h->e, conv_a, NULL, 3, &text), SB_OK);
    json_t *ca = h_parse(text);
    expect_items(ca, (const char *const[]){ids[3], ids[2], ids[1]}, 3, ids[1]);
    assert_int_equal(sb_engine_conversation_messages(h->e, conv_a, ids[1], 3, &text), SB_OK);
    json_t *ca2 = h_parse(text);
    expect_items(ca2, (const char *const[]){ids[0]}, 1, NULL);
    assert_int_equal(sb_engine_conversation_messages(h->e, conv_b, NULL, 50, &text), SB_OK);
    json_t *cb = h_parse(text);
    expect_items(cb, (const char *const[]){ids[5], ids[4]}, 2, NULL);

    assert_int_equal(sb_engine_client_messages(h->e, client, "not-an-id", 2, &text), SB_ERR_INVALID);
    assert_int_equal(sb_engine_client_messages(h->e, "777", NULL, 2, &text), SB_ERR_NOT_FOUND);

    /* replying in a closed conversation is a state conflict */
    sb_reply r = {.conversation_id = conv_a, .author_kind = "operator", .text = "too late"};
    assert_int_equal(sb_engine_reply(h->e, &r, &text), SB_ERR_STATE);
    assert_null(text);

    json_t *pages[] = {p1, p2, p3, all, big, ca, ca2, cb};
    for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) json_decref(pages[i]);
    h_close(h);
}

static void reply_validation(void **state)
{
    harness *h = h_open(NULL);
    char conv[32], *json = NULL;
    h_conversation(h, "u-1", conv);
    sb_button many[21];
    for (int i = 0; i < 21; i++) many[i] = (sb_button){"b", "B"};
    struct { sb_reply r; sb_status want; } cases[] = {
        {{.conversation_id = conv, .author_kind = "client", .text = "x"}, SB_ERR_INVALID},
        {{.conversation_id = conv, .author_kind = NULL, .text = "x"}, SB_ERR_INVALID},
        {{.conversation_id = conv, .author_kind = "bot"}, SB_ERR_INVALID},
        {{.conversation_id = conv, .author_kind = "bot", .text = "\xc0\xaf"}, SB_ERR_INVALID},
        {{.conversation_id = conv, .author_kind = "bot", .buttons = many, .n_buttons = 21}, SB_ERR_TOO_BIG},
        {{.conversation_id = conv, .author_kind = "bot", .buttons = (sb_button[]){{"", "t"}}, .n_buttons = 1}, SB_ERR_INVALID},
        {{.conversation_id = "123", .author_kind = "bot", .text = "x"}, SB_ERR_NOT_FOUND},
        {{.conversation_id = NULL, .author_kind = "bot", .text = "x"}, SB_ERR_NOT_FOUND},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sb_status s = sb_engine_reply(h->e, &cases[i].r, &json);
        if (s != cases[i].want) fail_msg("case %zu: got %d, want %d", i, s, cases[i].want);
        assert_null(json);
    }
    /* buttons alone make a "buttons" message */
    sb_reply ok = {.conversation_id = conv, .author_kind = "bot", .author_id = "buttonbot/main",
                   .buttons = (sb_button[]){{"yes", "Да"}, {"no", "Нет"}}, .n_buttons = 2};
    assert_int_equal(sb_engine_reply(h->e, &ok, &json), SB_OK);
    json_t *m = h_parse(json);
    assert_string_equal(h_str(m, "type"), "buttons");
    assert_string_equal(h_str(m, "author.kind"), "bot");
    assert_string_equal(h_str(m, "author.id"), "buttonbot/main");
    assert_string_equal(h_str(json_array_get(json_object_get(m, "buttons"), 1), "title"), "Нет");
    assert_string_equal(h_str(m, "direction"), "out");
    assert_true(json_is_null(json_object_get(m, "delivery")) == 0);
    json_decref(m);
    h_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(client_history_across_conversations),
        cmocka_unit_test(reply_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
