/* The callback plugin on the SDK test host: business hours, the form's
 * validation, the stored request, the per-address limit and send(). */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cb.h"
#include "testhost.h"

/* The test host's clock starts at 2026-01-01T00:00:00Z, a Thursday. */
#define T0 1767225600000LL
#define HOUR 3600000LL

static sb_th *started(void)
{
    sb_th *th = sb_th_new("callback", "main");
    sb_th_config_set(th, "hours.utc_offset", "+03:00");
    sb_th_config_set(th, "hours.thu", "09:00-18:00");
    sb_th_config_set(th, "hours.fri", "09:00-13:00");
    sb_th_config_set(th, "slot_minutes", "60");
    sb_th_config_set(th, "days_ahead", "2");
    sb_th_config_set(th, "per_ip", "3");
    assert_int_equal(sb_th_start(th, sb_plugin_entry(SB_ABI_MAJOR, SB_ABI_MINOR)), SB_OK);
    return th;
}

static const sb_th_reply *post(sb_th *th, const char *body)
{
    return sb_th_http_request(th, "POST", "/hooks/callback/main", NULL, 0, body, strlen(body));
}

static void assert_error(const sb_th_reply *r, int status, const char *needle)
{
    assert_int_equal(r->status, status);
    if (!strstr(r->body, needle)) fail_msg("%s does not mention %s", r->body, needle);
}

static void test_hours(void **st)
{
    (void)st;
    int o, c;
    assert_true(cb_hours_parse_range("09:00-18:00", &o, &c));
    assert_int_equal(o, 540);
    assert_int_equal(c, 1080);
    assert_true(cb_hours_parse_range("00:00-24:00", &o, &c));
    assert_false(cb_hours_parse_range("18:00-09:00", &o, &c));
    assert_false(cb_hours_parse_range("9:00-18:00", &o, &c));
    assert_false(cb_hours_parse_range("09:60-18:00", &o, &c));
    assert_true(cb_hours_parse_offset("+03:00", &o));
    assert_int_equal(o, 180);
    assert_true(cb_hours_parse_offset("-05:30", &o));
    assert_int_equal(o, -330);
    assert_true(cb_hours_parse_offset("+3", &o));
    assert_false(cb_hours_parse_offset("03:00", &o));
    assert_false(cb_hours_parse_offset("+15:00", &o));

    cb_hours h = {.offset_min = 180, .slot_min = 60};
    for (int d = 0; d < 7; d++) h.open[d] = h.close[d] = -1;
    h.open[3] = 540; /* Thursday 09:00-18:00 local = 06:00-15:00 UTC */
    h.close[3] = 1080;
    assert_false(cb_hours_open_at(&h, T0 + 5 * HOUR));
    assert_true(cb_hours_open_at(&h, T0 + 6 * HOUR));
    assert_true(cb_hours_open_at(&h, T0 + 15 * HOUR - 1));
    assert_false(cb_hours_open_at(&h, T0 + 15 * HOUR));
    assert_true(cb_hours_is_slot(&h, T0 + 14 * HOUR));   /* 17:00-18:00 */
    assert_false(cb_hours_is_slot(&h, T0 + 15 * HOUR));  /* 18:00: closed */
    assert_false(cb_hours_is_slot(&h, T0 + 6 * HOUR + 60000));
    int64_t at[20];
    int n = cb_hours_slots(&h, T0 + 12 * HOUR + 1, 0, 7, at, 20);
    assert_int_equal(n, 2); /* 16:00 and 17:00 local; next Thursday is beyond 7 days */
    assert_int_equal(at[0], T0 + 13 * HOUR);
    char label[48];
    cb_hours_label(&h, at[0], "ru", label, sizeof label);
    assert_string_equal(label, "Чт 01.01 16:00");
    cb_hours_label(&h, at[1], "en", label, sizeof label);
    assert_string_equal(label, "Thu 01.01 17:00");

    char phone[24];
    assert_true(cb_phone_normalize("+7 (999) 123-45-67", phone, sizeof phone));
    assert_string_equal(phone, "+79991234567");
    assert_false(cb_phone_normalize("12", phone, sizeof phone));
    assert_false(cb_phone_normalize("123456789012345678901", phone, sizeof phone));
    assert_false(cb_phone_normalize("12a456", phone, sizeof phone));
    assert_false(cb_phone_normalize("12+3456", phone, sizeof phone));
}

static void test_request_stored_as_a_client_message(void **st)
{
    (void)st;
    sb_th *th = started();
    sb_th_set_now(th, T0 + 7 * HOUR); /* Thursday 10:00 local: open */
    const sb_th_reply *r = post(th, "{\"phone\":\"+7 999 123-45-67\",\"name\":\"Иван\","
                                    "\"when\":\"now\",\"id\":\"f-1\"}");
    assert_false(r->replied);
    assert_int_equal(sb_th_inbound_count(th), 1);
    const sb_th_inbound *in = sb_th_inbound_get(th, 0);
    assert_string_equal(in->msg.external_id, "+79991234567");
    assert_string_equal(in->msg.phone, "+79991234567");
    assert_string_equal(in->msg.name, "Иван");
    assert_string_equal(in->msg.text, "Перезвонить: Иван, сейчас");
    sb_th_inbound_complete(th, 0, SB_OK);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "\"message_id\":\"msg-1\""));

    const sb_th_reply *s = sb_th_http_request(th, "GET", "/hooks/callback/main/slots", NULL, 0, NULL, 0);
    assert_int_equal(s->status, 200);
    json_t *j = json_loads(s->body, 0, NULL);
    assert_true(json_is_true(json_object_get(j, "open_now")));
    json_t *slots = json_object_get(j, "slots");
    /* 11:00..17:00 on Thursday (10:00 is under way), 09:00..12:00 on Friday */
    assert_int_equal(json_array_size(slots), 11);
    json_int_t first = json_integer_value(json_object_get(json_array_get(slots, 0), "at"));
    assert_int_equal(first, T0 + 8 * HOUR);
    json_decref(j);
    char body[160];
    snprintf(body, sizeof body, "{\"phone\":\"8 999 000 11 22\",\"when\":%lld}", (long long)first);
    const sb_th_reply *r2 = post(th, body);
    assert_int_equal(sb_th_inbound_count(th), 2);
    assert_string_equal(sb_th_inbound_get(th, 1)->msg.text,
                        "Перезвонить: 89990001122, Чт 01.01 11:00 (UTC+03:00)");
    sb_th_inbound_complete(th, 1, SB_ERR_IO);
    assert_int_equal(r2->status, 503);
    sb_th_free(th);
}

static void test_bad_input_and_rate(void **st)
{
    (void)st;
    sb_th *th = started();
    sb_th_set_now(th, T0 + 2 * HOUR); /* Thursday 05:00 local: closed */
    assert_error(post(th, "{\"phone\":\"12\",\"when\":\"now\"}"), 400, "phone");
    assert_error(post(th, "[1]"), 400, "body");
    assert_error(post(th, "{\"phone\":\"12345\",\"when\":\"now\"}"), 422, "closed");
    sb_th_set_now(th, T0 + 2 * HOUR + 600000); /* a new window for the address */
    char name[300], body[400];
    memset(name, 'x', 257);
    name[257] = 0;
    snprintf(body, sizeof body, "{\"phone\":\"12345\",\"name\":\"%s\",\"when\":\"now\"}", name);
    assert_error(post(th, body), 400, "name");
    snprintf(body, sizeof body, "{\"phone\":\"12345\",\"when\":%lld}", T0 + 7 * HOUR + 1800000);
    assert_error(post(th, body), 422, "slot");
    snprintf(body, sizeof body, "{\"phone\":\"12345\",\"when\":%lld}", T0 - HOUR);
    assert_error(post(th, body), 422, "future");
    /* the fourth attempt in ten minutes from one address */
    assert_error(post(th, "{\"phone\":\"12345\",\"when\":\"later\"}"), 429, "too many");
    assert_int_equal(sb_th_inbound_count(th), 0);
    sb_outbound m = {.struct_size = sizeof m, .message_id = "1", .external_id = "12345", .text = "hi"};
    assert_int_equal(sb_th_send(th, &m, NULL), SB_SEND_REJECTED);
    sb_th_free(th);
}

static void test_config_errors(void **st)
{
    (void)st;
    sb_th *th = sb_th_new("callback", "main");
    sb_th_config_set(th, "hours.utc_offset", "MSK");
    sb_th_config_set(th, "hours.mon", "9-18");
    sb_th_config_set(th, "slot_minutes", "1");
    assert_int_not_equal(sb_th_start(th, sb_plugin_entry(SB_ABI_MAJOR, SB_ABI_MINOR)), SB_OK);
    const char *want[] = {"hours.utc_offset", "hours.mon", "slot_minutes"};
    for (size_t w = 0; w < 3; w++) {
        bool found = false;
        for (size_t i = 0; i < sb_th_config_error_count(th); i++)
            if (strstr(sb_th_config_error(th, i), want[w])) found = true;
        if (!found) fail_msg("no config error mentions %s", want[w]);
    }
    sb_th_free(th);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hours),
        cmocka_unit_test(test_request_stored_as_a_client_message),
        cmocka_unit_test(test_bad_input_and_rate),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
