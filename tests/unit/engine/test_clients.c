/* Client profiles: automatic merge by phone and its undo, merge by hand,
 * search, patch, erasure; and the admin objects (operators, groups,
 * templates) with their input errors; conversation lists and visibility. */
#include "routing_harness.h"

static size_t history_len(harness *h, const char *client)
{
    char *page = NULL;
    assert_int_equal(sb_engine_client_messages(h->e, client, NULL, 500, &page), SB_OK);
    json_t *p = h_parse(page);
    size_t n = json_array_size(json_object_get(p, "items"));
    json_decref(p);
    return n;
}

static void client_of(harness *h, const char *conv, char out[32])
{
    json_t *c = r_conv(h, conv);
    h_copy(out, 32, h_str(c, "client_id"));
    json_decref(c);
}

static void auto_merge_by_phone_and_undo(void **state)
{
    harness *h = h_open(NULL);
    h->on_send = r_accept;
    char cx[32], cy[32], x[32], y[32], *out = NULL;
    r_write(h, "main", "u-1", NULL, "hello from the site", cx);
    r_write(h, "second", "tg-1", "+7 900 000-00-01", "hello from telegram", cy);
    r_write(h, "second", "tg-1", NULL, "are you there?", NULL);
    client_of(h, cx, x);
    client_of(h, cy, y);
    assert_string_not_equal(x, y);
    char attrs[] = "{\"attributes\":{\"tariff\":\"gold\"},\"tags\":[\"vip\"]}", err[128];
    assert_int_equal(sb_engine_client_patch(h->e, y, attrs, strlen(attrs), &out, err, sizeof err), SB_OK);
    free(out);
    assert_int_equal(history_len(h, x), 1);
    assert_int_equal(history_len(h, y), 2);

    /* the site's client now gives the same phone: one profile (the older) */
    r_write(h, "main", "u-1", "79000000001", "my phone is this", NULL);
    h_step(h);
    json_t *ev = h_last_event(h, "client.merged");
    assert_non_null(ev);
    assert_string_equal(h_str(ev, "client.id"), x);
    assert_string_equal(h_str(ev, "source_id"), y);
    assert_string_equal(h_str(ev, "by"), "auto");
    char audit[32];
    h_copy(audit, sizeof audit, h_str(ev, "audit_id"));
    json_t *cl = h_get(h, sb_engine_client_json, x);
    assert_int_equal(json_array_size(json_object_get(cl, "identities")), 2);
    assert_string_equal(h_str(cl, "phone"), "79000000001");
    assert_string_equal(h_str(cl, "attributes.tariff"), "gold");
    json_decref(cl);
    assert_int_equal(sb_engine_client_json(h->e, y, &out), SB_ERR_NOT_FOUND);
    assert_int_equal(history_len(h, x), 4); /* one history across both */
    /* telegram now reaches the merged profile */
    char c3[32], who[32];
    r_write(h, "second", "tg-1", NULL, "still me", c3);
    client_of(h, c3, who);
    assert_string_equal(who, x);
    assert_int_equal(history_len(h, x), 5);
    /* the conversation list by client finds both conversations */
    sb_conv_filter f = {.client_id = x};
    assert_int_equal(sb_engine_conversations_list(h->e, &f, &out, err, sizeof err), SB_OK);
    json_t *l = h_parse(out);
    assert_int_equal(json_array_size(json_object_get(l, "items")), 2);
    json_decref(l);

    /* undo by a supervisor: two profiles again, each with its own history */
    assert_int_equal(sb_engine_audit_undo(h->e, audit, "sup-1", &out), SB_OK);
    json_t *a = h_parse(out);
    assert_string_equal(h_str(a, "kind"), "merge");
    assert_non_null(h_str(a, "undone_at"));
    json_decref(a);
    json_t *yj = h_get(h, sb_engine_client_json, y);
    assert_string_equal(h_str(yj, "phone"), "79000000001");
    assert_string_equal(h_str(json_array_get(json_object_get(yj, "identities"), 0), "external_id"), "tg-1");
    json_decref(yj);
    json_t *xj = h_get(h, sb_engine_client_json, x);
    assert_int_equal(json_array_size(json_object_get(xj, "identities")), 1);
    assert_true(json_is_null(json_object_get(xj, "phone")));
    assert_null(json_object_get(json_object_get(xj, "attributes"), "tariff"));
    json_decref(xj);
    /* "still me" went into the site's open conversation after the merge:
     * it stays there; the telegram conversation goes back whole */
    assert_int_equal(history_len(h, y), 2);
    assert_int_equal(history_len(h, x), 3);
    /* twice: a conflict with the record */
    assert_int_equal(sb_engine_audit_undo(h->e, audit, "sup-1", &out), SB_ERR_STATE);
    free(out);
    /* the same phone again does not merge them again */
    size_t merges = h_count_events(h, "client.merged");
    r_write(h, "main", "u-1", "79000000001", "it is my phone", NULL);
    h_step(h);
    assert_int_equal(h_count_events(h, "client.merged"), merges);
    assert_int_equal(history_len(h, x), 4);
    assert_int_equal(history_len(h, y), 2);
    h_close(h);
}

/* A web-chat visitor follows the site's deep link into a messenger: the
 * messenger's new account joins the visitor's client, once. */
static void a_linked_new_account_joins_the_client(void **state)
{
    (void)state;
    harness *h = h_open(NULL);
    h->on_send = r_accept;
    char cv[32], ct[32], cz[32], v[32], t[32], z[32];
    r_write(h, "main", "visitor-1", NULL, "hello from the site", cv);
    sb_inbound in = h_msg("tg-77", "tg-77-1", "/start tok");
    in.link_plugin = "apichannel";
    in.link_instance = "main";
    in.link_external_id = "visitor-1";
    h_done d;
    h_inbound(h, "apichannel", "second", &in, &d);
    json_t *m = h_get(h, sb_engine_message_json, d.id);
    h_copy(ct, 32, h_str(m, "conversation_id"));
    json_decref(m);
    client_of(h, cv, v);
    client_of(h, ct, t);
    assert_string_equal(v, t);
    assert_string_equal(cv, ct); /* one open conversation across channels */
    assert_int_equal(history_len(h, v), 2);
    /* a link naming nobody, or given for a known account, changes nothing */
    in = h_msg("tg-78", "tg-78-1", "hi");
    in.link_plugin = "apichannel";
    in.link_instance = "main";
    in.link_external_id = "nobody";
    h_inbound(h, "apichannel", "second", &in, &d);
    m = h_get(h, sb_engine_message_json, d.id);
    h_copy(cz, 32, h_str(m, "conversation_id"));
    json_decref(m);
    client_of(h, cz, z);
    assert_string_not_equal(z, v);
    in = h_msg("tg-78", "tg-78-2", "again");
    in.link_plugin = "apichannel";
    in.link_instance = "main";
    in.link_external_id = "visitor-1";
    h_inbound(h, "apichannel", "second", &in, &d);
    m = h_get(h, sb_engine_message_json, d.id);
    assert_string_equal(h_str(m, "client_id"), z);
    json_decref(m);
    h_close(h);
}

static void merge_by_hand_search_and_patch(void **state)
{
    harness *h = h_open(NULL);
    char c1[32], c2[32], a[32], b[32], *out = NULL, err[128];
    sb_inbound in = h_msg("ext-ivan", "d-1", "привет");
    in.name = "Иван Петров";
    h_done d;
    h_inbound(h, "apichannel", "main", &in, &d);
    json_t *m = h_get(h, sb_engine_message_json, d.id);
    h_copy(c1, sizeof c1, h_str(m, "conversation_id"));
    json_decref(m);
    r_write(h, "main", "ext-2", NULL, "hi", c2);
    client_of(h, c1, a);
    client_of(h, c2, b);
    char patch[] = "{\"email\":\"Ivan@Example.com\",\"name\":\"Ivan Two\"}";
    assert_int_equal(sb_engine_client_patch(h->e, b, patch, strlen(patch), &out, err, sizeof err), SB_OK);
    free(out);
    /* the same e-mail on another profile is a conflict */
    char clash[] = "{\"email\":\"ivan@example.com\"}";
    assert_int_equal(sb_engine_client_patch(h->e, a, clash, strlen(clash), &out, err, sizeof err), SB_ERR_EXISTS);
    char bad[] = "{\"phone\":\"12\"}";
    assert_int_equal(sb_engine_client_patch(h->e, a, bad, strlen(bad), &out, err, sizeof err), SB_ERR_INVALID);
    assert_non_null(strstr(err, "phone"));

    /* search: a name word prefix in any case, e-mail, external id */
    struct { const char *q; size_t n; } cases[] = {
        {"иван", 1}, {"ИВА", 1}, {"пет", 1}, {"ivan", 1}, {"ivan@exa", 1}, {"ext-2", 1},
        {"Иван Петров", 1}, {"nobody", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(sb_engine_clients_search(h->e, cases[i].q, 10, &out), SB_OK);
        json_t *r = h_parse(out);
        if (json_array_size(json_object_get(r, "items")) != cases[i].n)
            fail_msg("query '%s': %zu results", cases[i].q, json_array_size(json_object_get(r, "items")));
        json_decref(r);
    }
    assert_int_equal(sb_engine_clients_search(h->e, "", 10, &out), SB_ERR_INVALID);

    /* merge by hand */
    assert_int_equal(sb_engine_client_merge(h->e, a, b, "sup-1", &out, err, sizeof err), SB_OK);
    json_t *r = h_parse(out);
    assert_string_equal(h_str(r, "client.email"), "ivan@example.com");
    json_decref(r);
    assert_int_equal(sb_engine_clients_search(h->e, "ext-2", 10, &out), SB_OK);
    r = h_parse(out);
    assert_string_equal(h_str(json_array_get(json_object_get(r, "items"), 0), "id"), a);
    json_decref(r);
    assert_int_equal(sb_engine_client_merge(h->e, a, a, NULL, &out, err, sizeof err), SB_ERR_INVALID);
    assert_int_equal(sb_engine_client_merge(h->e, a, b, NULL, &out, err, sizeof err), SB_ERR_NOT_FOUND);
    char *list = NULL;
    assert_int_equal(sb_engine_audit_list(h->e, NULL, 10, &list), SB_OK);
    r = h_parse(list);
    assert_int_equal(json_array_size(json_object_get(r, "items")), 1);
    json_decref(r);
    h_close(h);
}

static void erase_leaves_no_personal_data(void **state)
{
    harness *h = h_open(NULL);
    h->on_send = r_accept;
    r_group(h, "{\"id\":\"support\"}");
    r_default(h, "support");
    char op[24], c[32], cl[32], m[32], *out = NULL;
    r_op(h, "{\"login\":\"a\",\"groups\":[\"support\"]}", op);
    r_status(h, op, "online");
    r_write(h, "main", "u-secret", "+7 900 555-44-33", "my card is 1234", c);
    h_reply(h, c, "thanks", m);
    client_of(h, c, cl);
    assert_int_equal(r_load(h, op), 1);
    assert_int_equal(sb_engine_client_erase(h->e, cl, "admin-1", &out), SB_OK);
    json_t *a = h_parse(out);
    assert_string_equal(h_str(a, "kind"), "erase");
    assert_int_equal(json_integer_value(json_object_get(a, "messages")), 2);
    json_decref(a);
    h_step(h);
    assert_int_equal(sb_engine_client_json(h->e, cl, &out), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_engine_conversation_json(h->e, c, &out), SB_ERR_NOT_FOUND);
    /* plugins hear which accounts to forget, outside the durable log */
    json_t *fg = h_last_event(h, "client.forget");
    assert_non_null(fg);
    assert_string_equal(h_str(fg, "client_id"), cl);
    json_t *acc = json_array_get(json_object_get(fg, "identities"), 0);
    assert_string_equal(h_str(acc, "channel"), "apichannel");
    assert_string_equal(h_str(acc, "external_id"), "u-secret");
    for (size_t i = 0; i < h->n_events; i++)
        if (strcmp(h->events[i].type, "client.forget") == 0) assert_int_equal(h->events[i].seq, 0);
    assert_int_equal(sb_engine_message_json(h->e, m, &out), SB_ERR_NOT_FOUND);
    assert_int_equal(r_load(h, op), 0);
    assert_int_equal(sb_engine_clients_search(h->e, "u-secret", 10, &out), SB_OK);
    json_t *r = h_parse(out);
    assert_int_equal(json_array_size(json_object_get(r, "items")), 0);
    json_decref(r);
    /* no trace in any table keyed by the client, the phone or the account */
    char *list = NULL, err[64];
    sb_conv_filter f = {.operator_id = op};
    assert_int_equal(sb_engine_conversations_list(h->e, &f, &list, err, sizeof err), SB_OK);
    r = h_parse(list);
    assert_int_equal(json_array_size(json_object_get(r, "items")), 0);
    json_decref(r);
    /* the same person writing again is a new client */
    char c2[32], cl2[32];
    r_write(h, "main", "u-secret", "+7 900 555-44-33", "hello again", c2);
    client_of(h, c2, cl2);
    assert_string_not_equal(cl2, cl);
    assert_int_equal(history_len(h, cl2), 1);
    h_close(h);
}

static void admin_objects_and_their_errors(void **state)
{
    harness *h = h_open(NULL);
    char *out = NULL, err[160];
    /* groups */
    r_group(h, "{\"id\":\"support\",\"name\":\"Поддержка\",\"business_hours\":{\"utc_offset\":\"+03:00\",\"mon\":\"09:00-18:00\"}}");
    const char *bad_groups[][2] = {
        {"{\"id\":\"a b\"}", "id"}, {"{\"strategy\":\"random\"}", "strategy"},
        {"{\"max_per_operator\":0}", "max_per_operator"}, {"{\"colour\":1}", "colour"},
        {"{\"business_hours\":{\"mon\":\"9-18\"}}", "business_hours"},
        {"[1]", "body"},
    };
    for (size_t i = 0; i < sizeof bad_groups / sizeof *bad_groups; i++) {
        err[0] = '\0';
        assert_int_equal(sb_engine_group_create(h->e, bad_groups[i][0], strlen(bad_groups[i][0]), &out, err, sizeof err), SB_ERR_INVALID);
        if (!strstr(err, bad_groups[i][1])) fail_msg("%s: error '%s' does not name %s", bad_groups[i][0], err, bad_groups[i][1]);
    }
    char dup[] = "{\"id\":\"support\"}";
    assert_int_equal(sb_engine_group_create(h->e, dup, strlen(dup), &out, err, sizeof err), SB_ERR_EXISTS);
    char upd[] = "{\"strategy\":\"round_robin\",\"reassign_after\":60000}";
    assert_int_equal(sb_engine_group_update(h->e, "support", upd, strlen(upd), &out, err, sizeof err), SB_OK);
    json_t *g = h_parse(out);
    assert_string_equal(h_str(g, "strategy"), "round_robin");
    assert_string_equal(h_str(g, "name"), "Поддержка");
    assert_string_equal(h_str(g, "business_hours.mon"), "09:00-18:00");
    json_decref(g);

    /* operators */
    char op[24];
    r_op(h, "{\"login\":\"anna\",\"name\":\"Анна\",\"role\":\"supervisor\",\"groups\":[\"support\"],\"skills\":{\"english\":3},\"password\":\"x\"}", op);
    sb_operator_auth au;
    assert_int_equal(sb_engine_operator_by_login(h->e, "anna", &au), SB_OK);
    assert_string_equal(au.id, op);
    assert_string_equal(au.role, "supervisor");
    assert_string_equal(au.hash, "hash");
    free(au.hash);
    assert_int_equal(sb_engine_operator_by_login(h->e, "nobody", &au), SB_ERR_NOT_FOUND);
    json_t *o = h_get(h, sb_engine_operator_json, op);
    assert_null(json_object_get(o, "hash"));
    assert_null(json_object_get(o, "password"));
    assert_int_equal(json_integer_value(json_object_get(o, "skills")) , 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "skills"), "english")), 3);
    json_decref(o);
    const char *bad_ops[][2] = {
        {"{\"name\":\"x\"}", "login"}, {"{\"login\":\"anna\"}", ""},
        {"{\"login\":\"b\",\"role\":\"king\"}", "role"}, {"{\"login\":\"b\",\"groups\":[\"nope\"]}", "groups"},
        {"{\"login\":\"b\",\"skills\":{\"x\":11}}", "skills"}, {"{\"login\":\"b c\"}", "login"},
        {"{\"login\":\"b\",\"max_conversations\":\"5\"}", "max_conversations"},
    };
    for (size_t i = 0; i < sizeof bad_ops / sizeof *bad_ops; i++) {
        err[0] = '\0';
        sb_status s = sb_engine_operator_create(h->e, bad_ops[i][0], strlen(bad_ops[i][0]), "h", &out, err, sizeof err);
        if (!*bad_ops[i][1]) assert_int_equal(s, SB_ERR_EXISTS);
        else if (s != SB_ERR_INVALID || !strstr(err, bad_ops[i][1]))
            fail_msg("%s: %d '%s'", bad_ops[i][0], (int)s, err);
    }
    assert_int_equal(sb_engine_operator_set_status(h->e, op, "sleeping", NULL), SB_ERR_INVALID);
    assert_int_equal(sb_engine_operator_set_status(h->e, "1", "online", NULL), SB_ERR_NOT_FOUND);
    r_status(h, op, "away");
    json_t *st = h_last_event(h, "operator.status");
    assert_string_equal(h_str(st, "operator.status"), "away");
    assert_string_equal(h_str(st, "previous"), "offline");
    /* login change keeps the index right */
    char ren[] = "{\"login\":\"anna2\"}";
    assert_int_equal(sb_engine_operator_update(h->e, op, ren, strlen(ren), "h2", &out, err, sizeof err), SB_OK);
    free(out);
    assert_int_equal(sb_engine_operator_by_login(h->e, "anna", &au), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_engine_operator_by_login(h->e, "anna2", &au), SB_OK);
    assert_string_equal(au.hash, "h2");
    free(au.hash);
    assert_int_equal(sb_engine_operators_list(h->e, NULL, 10, &out), SB_OK);
    o = h_parse(out);
    assert_int_equal(json_array_size(json_object_get(o, "items")), 1);
    json_decref(o);
    /* the default group cannot go; another one can, operators forget it */
    r_default(h, "support");
    assert_int_equal(sb_engine_group_delete(h->e, "support"), SB_ERR_STATE);
    r_group(h, "{\"id\":\"sales\"}");
    char both[] = "{\"groups\":[\"support\",\"sales\"]}";
    assert_int_equal(sb_engine_operator_update(h->e, op, both, strlen(both), NULL, &out, err, sizeof err), SB_OK);
    free(out);
    assert_true(sb_engine_operator_sees(h->e, op, "sales", NULL));
    assert_int_equal(sb_engine_group_delete(h->e, "sales"), SB_OK);
    assert_false(sb_engine_operator_sees(h->e, op, "sales", NULL));
    assert_true(sb_engine_operator_sees(h->e, op, "other", op));
    assert_int_equal(sb_engine_groups_list(h->e, &out), SB_OK);
    g = h_parse(out);
    assert_int_equal(json_array_size(json_object_get(g, "items")), 1);
    json_decref(g);

    /* templates */
    char t1[] = "{\"title\":\"Hi\",\"text\":\"Здравствуйте!\",\"hotkey\":\"F1\"}";
    assert_int_equal(sb_engine_template_create(h->e, t1, strlen(t1), &out, err, sizeof err), SB_OK);
    json_t *t = h_parse(out);
    char tid[32];
    h_copy(tid, sizeof tid, h_str(t, "id"));
    json_decref(t);
    char t2[] = "{\"title\":\"Bye\",\"text\":\"До свидания\"}";
    assert_int_equal(sb_engine_template_update(h->e, tid, t2, strlen(t2), &out, err, sizeof err), SB_OK);
    t = h_parse(out);
    assert_true(json_is_null(json_object_get(t, "hotkey")));
    json_decref(t);
    char t3[] = "{\"title\":\"No text\"}";
    assert_int_equal(sb_engine_template_create(h->e, t3, strlen(t3), &out, err, sizeof err), SB_ERR_INVALID);
    assert_non_null(strstr(err, "text"));
    assert_int_equal(sb_engine_templates_list(h->e, NULL, 0, &out), SB_OK);
    t = h_parse(out);
    assert_int_equal(json_array_size(json_object_get(t, "items")), 1);
    json_decref(t);
    assert_int_equal(sb_engine_template_delete(h->e, tid), SB_OK);
    assert_int_equal(sb_engine_template_json(h->e, tid, &out), SB_ERR_NOT_FOUND);

    /* operator deletion */
    assert_int_equal(sb_engine_operator_delete(h->e, op), SB_OK);
    assert_int_equal(sb_engine_operator_json(h->e, op, &out), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_engine_operator_by_login(h->e, "anna2", &au), SB_ERR_NOT_FOUND);
    h_step(h);
    h_close(h);
}

static void conversation_lists_tags_and_visibility(void **state)
{
    harness *h = h_open(NULL);
    h->on_send = r_accept;
    r_group(h, "{\"id\":\"support\",\"max_per_operator\":1}");
    r_group(h, "{\"id\":\"vip\"}");
    r_default(h, "support");
    assert_int_equal(sb_engine_set_instance_group(h->e, "apichannel", "vip-site", "vip"), SB_OK);
    char a[24], v[24], c[6][32], *out = NULL, err[128], buf[64];
    r_op(h, "{\"login\":\"a\",\"groups\":[\"support\"]}", a);
    r_op(h, "{\"login\":\"v\",\"groups\":[\"vip\"]}", v);
    r_status(h, a, "online");
    for (int i = 0; i < 4; i++) {
        char ext[16];
        snprintf(ext, sizeof ext, "u-%d", i);
        r_write(h, "main", ext, NULL, "hi", c[i]);
    }
    r_write(h, "vip-site", "rich-1", NULL, "hi", c[4]);
    r_write(h, "vip-site", "rich-2", NULL, "hi", c[5]);
    assert_string_equal(r_field(h, c[4], "group_id", buf), "vip");
    struct { sb_conv_filter f; size_t n; } cases[] = {
        {{.status = "queued"}, 5}, {{.status = "assigned"}, 1}, {{.group_id = "vip"}, 2},
        {{.operator_id = a}, 1}, {{.group_id = "support", .status = "queued"}, 3}, {{0}, 6},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(sb_engine_conversations_list(h->e, &cases[i].f, &out, err, sizeof err), SB_OK);
        json_t *l = h_parse(out);
        if (json_array_size(json_object_get(l, "items")) != cases[i].n)
            fail_msg("case %zu: %zu items", i, json_array_size(json_object_get(l, "items")));
        json_decref(l);
    }
    /* paging: newest first, two at a time */
    sb_conv_filter f = {.status = "queued", .limit = 2};
    assert_int_equal(sb_engine_conversations_list(h->e, &f, &out, err, sizeof err), SB_OK);
    json_t *l = h_parse(out);
    assert_string_equal(h_str(json_array_get(json_object_get(l, "items"), 0), "id"), c[5]);
    char next[32];
    h_copy(next, sizeof next, h_str(l, "next_cursor"));
    json_decref(l);
    f.cursor = next;
    assert_int_equal(sb_engine_conversations_list(h->e, &f, &out, err, sizeof err), SB_OK);
    l = h_parse(out);
    assert_string_equal(h_str(json_array_get(json_object_get(l, "items"), 0), "id"), c[3]);
    json_decref(l);
    sb_conv_filter badf = {.status = "sleeping"};
    assert_int_equal(sb_engine_conversations_list(h->e, &badf, &out, err, sizeof err), SB_ERR_INVALID);
    assert_non_null(strstr(err, "status"));
    /* visibility: its groups, or its own */
    bool vis;
    assert_int_equal(sb_engine_conversation_visible(h->e, c[4], a, &vis), SB_OK);
    assert_false(vis);
    assert_int_equal(sb_engine_conversation_visible(h->e, c[4], v, &vis), SB_OK);
    assert_true(vis);
    assert_int_equal(sb_engine_conversation_visible(h->e, c[0], a, &vis), SB_OK);
    assert_true(vis);
    /* tags and attributes */
    char tags[] = "[\"billing\",\"urgent\",\"billing\"]";
    assert_int_equal(sb_engine_conversation_set_tags(h->e, c[0], tags, strlen(tags), &out, err, sizeof err), SB_OK);
    json_t *cj = h_parse(out);
    assert_int_equal(json_array_size(json_object_get(cj, "tags")), 2);
    json_decref(cj);
    char attrs[] = "{\"order\":12345,\"paid\":true,\"note\":\"x\"}";
    assert_int_equal(sb_engine_conversation_patch_attributes(h->e, c[0], attrs, strlen(attrs), &out, err, sizeof err), SB_OK);
    free(out);
    char rm[] = "{\"note\":null}";
    assert_int_equal(sb_engine_conversation_patch_attributes(h->e, c[0], rm, strlen(rm), &out, err, sizeof err), SB_OK);
    cj = h_parse(out);
    /* numbers and booleans keep their JSON types */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(cj, "attributes"), "order")), 12345);
    assert_true(json_is_true(json_object_get(json_object_get(cj, "attributes"), "paid")));
    assert_null(json_object_get(json_object_get(cj, "attributes"), "note"));
    json_decref(cj);
    char badtags[] = "[1]";
    assert_int_equal(sb_engine_conversation_set_tags(h->e, c[0], badtags, strlen(badtags), &out, err, sizeof err), SB_ERR_INVALID);
    /* first_response_at comes with the first operator reply */
    char m[32];
    cj = r_conv(h, c[0]);
    assert_true(json_is_null(json_object_get(cj, "first_response_at")));
    json_decref(cj);
    h_reply(h, c[0], "hello", m);
    cj = r_conv(h, c[0]);
    assert_non_null(h_str(cj, "first_response_at"));
    assert_non_null(h_str(cj, "assigned_at"));
    json_decref(cj);
    h_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(auto_merge_by_phone_and_undo),
        cmocka_unit_test(a_linked_new_account_joins_the_client),
        cmocka_unit_test(merge_by_hand_search_and_patch),
        cmocka_unit_test(erase_leaves_no_personal_data),
        cmocka_unit_test(admin_objects_and_their_errors),
        cmocka_unit_test(conversation_lists_tags_and_visibility),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
