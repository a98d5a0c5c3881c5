/* Inbound messages: storage, dedup, identities, validation. */
#include "harness.h"

static void inbound_creates_client_conversation_message(void **state)
{
    harness *h = h_open(NULL);
    sb_inbound in = h_msg("u-1", "m-1", "Привет");
    in.name = "Иван";
    h_done d = {0};
    assert_int_equal(sb_engine_inbound(h->e, "apichannel", "main", &in, h_done_cb, &d), SB_OK);
    /* nothing is acknowledged, nor announced, before the commit */
    assert_int_equal(d.calls, 0);
    assert_true(sb_store_pending(h->st));
    ev_run(h->loop, EVRUN_NOWAIT);
    assert_int_equal(d.calls, 0);
    assert_int_equal(h->n_events, 0);
    assert_int_equal(sb_store_flush(h->st), SB_OK);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, SB_OK);
    assert_int_equal(d.duplicate, 0);

    json_t *m = h_get(h, sb_engine_message_json, d.id);
    assert_string_equal(h_str(m, "id"), d.id);
    assert_string_equal(h_str(m, "direction"), "in");
    assert_string_equal(h_str(m, "type"), "text");
    assert_string_equal(h_str(m, "text"), "Привет");
    assert_string_equal(h_str(m, "channel"), "apichannel");
    assert_string_equal(h_str(m, "instance"), "main");
    assert_string_equal(h_str(m, "author.kind"), "client");
    assert_true(json_is_null(json_object_get(m, "delivery")));
    const char *created = h_str(m, "created_at");
    assert_non_null(created);
    assert_int_equal(strlen(created), strlen("2026-11-22T10:00:00.123Z"));
    assert_int_equal(created[strlen(created) - 1], 'Z');

    json_t *c = h_get(h, sb_engine_conversation_json, h_str(m, "conversation_id"));
    assert_string_equal(h_str(c, "status"), "queued");
    assert_string_equal(h_str(c, "client_id"), h_str(m, "client_id"));
    assert_string_equal(h_str(c, "channel"), "apichannel");
    assert_true(json_is_null(json_object_get(c, "group_id")));

    json_t *cl = h_get(h, sb_engine_client_json, h_str(m, "client_id"));
    assert_string_equal(h_str(cl, "name"), "Иван");
    assert_string_equal(h_str(cl, "open_conversation_id"), h_str(c, "id"));
    json_t *ids = json_object_get(cl, "identities");
    assert_int_equal(json_array_size(ids), 1);
    assert_string_equal(h_str(json_array_get(ids, 0), "external_id"), "u-1");

    /* client, then conversation, then message, in log order; then routing
     * queues it (no group is configured here) */
    assert_int_equal(h->n_events, 4);
    assert_string_equal(h->events[3].type, "conversation.queued");
    assert_string_equal(h->events[0].type, "client.created");
    assert_string_equal(h->events[1].type, "conversation.created");
    assert_string_equal(h->events[2].type, "message.created");
    assert_true(h->events[0].seq < h->events[1].seq && h->events[1].seq < h->events[2].seq);
    assert_string_equal(h_str(h->events[2].json, "conversation_id"), h_str(c, "id"));
    assert_string_equal(h_str(h->events[2].json, "message.id"), d.id);

    json_decref(m);
    json_decref(c);
    json_decref(cl);
    h_close(h);
}

static void dedup_returns_original_and_stores_nothing(void **state)
{
    harness *h = h_open(NULL);
    sb_inbound in = h_msg("u-1", "m-1", "one");
    h_done a = {0}, b = {0};
    /* the same key twice in one batch: both answer after its commit */
    assert_int_equal(sb_engine_inbound(h->e, "apichannel", "main", &in, h_done_cb, &a), SB_OK);
    assert_int_equal(sb_engine_inbound(h->e, "apichannel", "main", &in, h_done_cb, &b), SB_OK);
    assert_int_equal(a.calls + b.calls, 0);
    h_step(h);
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 1);
    assert_int_equal(a.duplicate, 0);
    assert_int_equal(b.duplicate, 1);
    assert_string_equal(a.id, b.id);
    size_t events = h->n_events;

    /* and again after the commit, with another text: still the original */
    in.text = "changed";
    h_done c;
    h_inbound(h, "apichannel", "main", &in, &c);
    assert_int_equal(c.duplicate, 1);
    assert_string_equal(c.id, a.id);
    assert_int_equal(h->n_events, events);

    json_t *m = h_get(h, sb_engine_message_json, a.id);
    assert_string_equal(h_str(m, "text"), "one");
    char *page = NULL;
    assert_int_equal(sb_engine_conversation_messages(h->e, h_str(m, "conversation_id"), NULL, 0,
                                                     &page), SB_OK);
    json_t *p = h_parse(page);
    assert_int_equal(json_array_size(json_object_get(p, "items")), 1);

    /* the key is per channel instance: another instance stores anew */
    h_done other;
    h_inbound(h, "apichannel", "second", &in, &other);
    assert_int_equal(other.duplicate, 0);
    assert_string_not_equal(other.id, a.id);

    json_decref(m);
    json_decref(p);
    h_close(h);
}

static void invalid_input_is_refused_at_once(void **state)
{
    sb_engine_options opt = {.max_text = 100};
    harness *h = h_open(&opt);
    h_done d = {0};
    char big[300], text[102];
    memset(big, 'x', 257);
    big[257] = '\0';
    memset(text, 'y', 101);
    text[101] = '\0';
    sb_attachment att[21];
    for (int i = 0; i < 21; i++)
        att[i] = (sb_attachment){.struct_size = sizeof att[i], .kind = "image", .ref = "https://x/1.png"};

    struct { sb_inbound in; const char *plugin; sb_status want; } cases[] = {
        {h_msg(NULL, "k", "t"), "apichannel", SB_ERR_INVALID},
        {h_msg("", "k", "t"), "apichannel", SB_ERR_INVALID},
        {h_msg("u", NULL, "t"), "apichannel", SB_ERR_INVALID},
        {h_msg("u", "", "t"), "apichannel", SB_ERR_INVALID},
        {h_msg(big, "k", "t"), "apichannel", SB_ERR_TOO_BIG},
        {h_msg("u", big, "t"), "apichannel", SB_ERR_TOO_BIG},
        {h_msg("u", "k", text), "apichannel", SB_ERR_TOO_BIG},
        {h_msg("u", "k", "\xff\xfe"), "apichannel", SB_ERR_INVALID},
        {h_msg("u", "k", NULL), "apichannel", SB_ERR_INVALID},
        {h_msg("u", "k", ""), "apichannel", SB_ERR_INVALID},
        {h_msg("u", "k", "t"), "", SB_ERR_INVALID},
        {h_msg("u", "k", "t"), NULL, SB_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sb_status s = sb_engine_inbound(h->e, cases[i].plugin, "main", &cases[i].in, h_done_cb, &d);
        if (s != cases[i].want) fail_msg("case %zu: got %d, want %d", i, s, cases[i].want);
    }
    sb_inbound in = h_msg("u", "k", "t");
    in.struct_size = sizeof in - 1;
    assert_int_equal(sb_engine_inbound(h->e, "apichannel", "main", &in, h_done_cb, &d), SB_ERR_INVALID);
    in = h_msg("u", "k", "t");
    in.kind = (sb_inbound_kind)7;
    assert_int_equal(sb_engine_inbound(h->e, "apichannel", "main", &in, h_done_cb, &d), SB_ERR_INVALID);
    in = h_msg("u", "k", "t");
    in.attachments = att;
    in.n_attachments = 21;
    assert_int_equal(sb_engine_inbound(h->e, "apichannel", "main", &in, h_done_cb, &d), SB_ERR_TOO_BIG);
    in.n_attachments = 1;
    att[0].kind = "hologram";
    assert_int_equal(sb_engine_inbound(h->e, "apichannel", "main", &in, h_done_cb, &d), SB_ERR_INVALID);
    att[0].kind = "image";
    att[0].ref = NULL;
    assert_int_equal(sb_engine_inbound(h->e, "apichannel", "main", &in, h_done_cb, &d), SB_ERR_INVALID);
    in = h_msg("u", "k", "t");
    in.phone = "call me maybe";
    assert_int_equal(sb_engine_inbound(h->e, "apichannel", "main", &in, h_done_cb, &d), SB_ERR_INVALID);
    in = h_msg("u", "k", "t");
    in.email = "no-at-sign";
    assert_int_equal(sb_engine_inbound(h->e, "apichannel", "main", &in, h_done_cb, &d), SB_ERR_INVALID);
    in = h_msg("u", "k", NULL);
    in.kind = SB_IN_CONTACT; /* a contact without phone or e-mail */
    assert_int_equal(sb_engine_inbound(h->e, "apichannel", "main", &in, h_done_cb, &d), SB_ERR_INVALID);
    in = h_msg("u", "k", "new text");
    in.kind = SB_IN_EDIT; /* an edit of nothing */
    assert_int_equal(sb_engine_inbound(h->e, "apichannel", "main", &in, h_done_cb, &d), SB_ERR_INVALID);
    assert_int_equal(sb_engine_inbound(h->e, "apichannel", "main", NULL, h_done_cb, &d), SB_ERR_INVALID);
    in = h_msg("u", "k", "t");
    assert_int_equal(sb_engine_inbound(h->e, "apichannel", "main", &in, NULL, NULL), SB_ERR_INVALID);

    /* none stored anything, nor will answer */
    h_run_for(h, 20);
    assert_int_equal(d.calls, 0);
    assert_int_equal(h->n_events, 0);
    /* and the key k is still free */
    h_inbound(h, "apichannel", "main", &in, &d);
    assert_int_equal(d.duplicate, 0);
    h_close(h);
}

static void same_client_across_channels_by_phone(void **state)
{
    harness *h = h_open(NULL);
    sb_inbound a = h_msg("tg-42", "u1", "hi from telegram");
    a.phone = "+7 (999) 123-45-67";
    h_done da, db, dc;
    h_inbound(h, "telegram", "bot1", &a, &da);
    sb_inbound b = h_msg("79991234567@wa", "w1", "hi from whatsapp");
    b.phone = "79991234567";
    h_inbound(h, "whatsapp", "main", &b, &db);

    json_t *ma = h_get(h, sb_engine_message_json, da.id), *mb = h_get(h, sb_engine_message_json, db.id);
    assert_string_equal(h_str(ma, "client_id"), h_str(mb, "client_id"));
    /* one open conversation, now answered where the client wrote last */
    assert_string_equal(h_str(ma, "conversation_id"), h_str(mb, "conversation_id"));
    json_t *conv = h_get(h, sb_engine_conversation_json, h_str(mb, "conversation_id"));
    assert_string_equal(h_str(conv, "channel"), "whatsapp");
    assert_int_equal(h_count_events(h, "conversation.created"), 1);
    assert_int_equal(h_count_events(h, "conversation.updated"), 1);
    assert_int_equal(h_count_events(h, "client.created"), 1);

    json_t *cl = h_get(h, sb_engine_client_json, h_str(ma, "client_id"));
    assert_string_equal(h_str(cl, "phone"), "79991234567");
    json_t *ids = json_object_get(cl, "identities");
    assert_int_equal(json_array_size(ids), 2);
    assert_string_equal(h_str(json_array_get(ids, 1), "channel"), "whatsapp");

    /* an e-mail joins too, whatever its case */
    sb_inbound c = h_msg("visitor-9", "e1", "hi from the widget");
    c.email = "Ivan@Example.COM";
    h_inbound(h, "webchat", "site", &c, &dc);
    sb_inbound c2 = h_msg("ivan@example.com", "e2", "hi by mail");
    c2.email = "ivan@example.com";
    h_done dd;
    h_inbound(h, "email", "support", &c2, &dd);
    json_t *mc = h_get(h, sb_engine_message_json, dc.id), *md = h_get(h, sb_engine_message_json, dd.id);
    assert_string_equal(h_str(mc, "client_id"), h_str(md, "client_id"));
    assert_string_not_equal(h_str(mc, "client_id"), h_str(ma, "client_id"));

    json_decref(ma);
    json_decref(mb);
    json_decref(mc);
    json_decref(md);
    json_decref(conv);
    json_decref(cl);
    h_close(h);
}

static void contact_updates_phone_and_joins_later_accounts(void **state)
{
    harness *h = h_open(NULL);
    sb_inbound a = h_msg("tg-1", "u1", "hello");
    h_done d1, d2, d3;
    h_inbound(h, "telegram", "bot1", &a, &d1);
    sb_inbound share = {.struct_size = sizeof share, .kind = SB_IN_CONTACT, .external_id = "tg-1",
                        .dedup_key = "u2", .phone = "+1 555 0100"};
    h_inbound(h, "telegram", "bot1", &share, &d2);
    json_t *m = h_get(h, sb_engine_message_json, d2.id);
    assert_string_equal(h_str(m, "type"), "event");
    assert_string_equal(h_str(m, "event"), "contact");
    json_t *cl = h_get(h, sb_engine_client_json, h_str(m, "client_id"));
    assert_string_equal(h_str(cl, "phone"), "15550100");
    assert_non_null(h_last_event(h, "client.updated"));

    /* a second share replaces the phone */
    share.dedup_key = "u3";
    share.phone = "+1 555 0199";
    h_done d4;
    h_inbound(h, "telegram", "bot1", &share, &d4);
    json_t *cl2 = h_get(h, sb_engine_client_json, h_str(m, "client_id"));
    assert_string_equal(h_str(cl2, "phone"), "15550199");

    /* the new number finds this client from another channel; the old one does not */
    sb_inbound v = h_msg("viber-1", "v1", "hi");
    v.phone = "15550199";
    h_inbound(h, "viber", "main", &v, &d3);
    json_t *mv = h_get(h, sb_engine_message_json, d3.id);
    assert_string_equal(h_str(mv, "client_id"), h_str(m, "client_id"));
    sb_inbound old = h_msg("vk-1", "k1", "hi");
    old.phone = "15550100";
    h_done d5;
    h_inbound(h, "vk", "main", &old, &d5);
    json_t *mo = h_get(h, sb_engine_message_json, d5.id);
    assert_string_not_equal(h_str(mo, "client_id"), h_str(m, "client_id"));

    json_decref(m);
    json_decref(cl);
    json_decref(cl2);
    json_decref(mv);
    json_decref(mo);
    h_close(h);
}

static void edits_buttons_and_media(void **state)
{
    harness *h = h_open(NULL);
    h_done d1, d2, d3, d4;
    sb_inbound a = h_msg("u", "tg-100", "helo");
    h_inbound(h, "telegram", "bot1", &a, &d1);
    sb_inbound ed = h_msg("u", "tg-101", "hello");
    ed.kind = SB_IN_EDIT;
    ed.edit_of = "tg-100";
    h_inbound(h, "telegram", "bot1", &ed, &d2);
    json_t *m = h_get(h, sb_engine_message_json, d2.id);
    assert_string_equal(h_str(m, "type"), "event");
    assert_string_equal(h_str(m, "event"), "edit");
    assert_string_equal(h_str(m, "edit_of"), d1.id);
    assert_string_equal(h_str(m, "text"), "hello");
    json_decref(m);

    sb_inbound press = h_msg("u", "tg-102", NULL);
    press.button_id = "menu.delivery";
    h_inbound(h, "telegram", "bot1", &press, &d3);
    m = h_get(h, sb_engine_message_json, d3.id);
    assert_string_equal(h_str(m, "type"), "text");
    assert_string_equal(h_str(m, "button_id"), "menu.delivery");
    assert_true(json_is_null(json_object_get(m, "text")));
    json_decref(m);

    sb_attachment att = {.struct_size = sizeof att, .kind = "image", .ref = "file-77",
                         .name = "photo.jpg", .mime = "image/jpeg", .size = 12345};
    sb_inbound media = h_msg("u", "tg-103", NULL);
    media.attachments = &att;
    media.n_attachments = 1;
    media.sent_at_ms = 1700000000123;
    h_inbound(h, "telegram", "bot1", &media, &d4);
    m = h_get(h, sb_engine_message_json, d4.id);
    assert_string_equal(h_str(m, "type"), "media");
    json_t *a0 = json_array_get(json_object_get(m, "attachments"), 0);
    assert_string_equal(h_str(a0, "url"), "file-77");
    assert_string_equal(h_str(a0, "mime"), "image/jpeg");
    assert_int_equal(json_integer_value(json_object_get(a0, "size")), 12345);
    assert_string_equal(h_str(m, "sent_at"), "2023-11-14T22:13:20.123Z");
    json_decref(m);
    h_close(h);
}

static void unknown_ids_are_not_found(void **state)
{
    harness *h = h_open(NULL);
    char *json = (char *)"untouched";
    assert_int_equal(sb_engine_message_json(h->e, "12345", &json), SB_ERR_NOT_FOUND);
    assert_null(json);
    assert_int_equal(sb_engine_conversation_json(h->e, "nope", &json), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_engine_client_json(h->e, "-1", &json), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_engine_conversation_messages(h->e, "99", NULL, 10, &json), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_engine_client_messages(h->e, "", NULL, 10, &json), SB_ERR_NOT_FOUND);
    h_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inbound_creates_client_conversation_message),
        cmocka_unit_test(dedup_returns_original_and_stores_nothing),
        cmocka_unit_test(invalid_input_is_refused_at_once),
        cmocka_unit_test(same_client_across_channels_by_phone),
        cmocka_unit_test(contact_updates_phone_and_joins_later_accounts),
        cmocka_unit_test(edits_buttons_and_media),
        cmocka_unit_test(unknown_ids_are_not_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
