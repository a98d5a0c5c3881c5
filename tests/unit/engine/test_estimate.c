/* Wait estimates (Erlang C and the simple fallback) and business hours. */
#include "routing_harness.h"

#include <math.h>

#include "engine/internal.h"

static void erlang_c_known_values(void **state)
{
    /* 2 servers, 1 Erlang: C = 1/3; 1 server: C = A; A >= N: everyone waits */
    assert_true(fabs(sb_eng_erlang_c(2, 1.0) - 1.0 / 3.0) < 1e-9);
    assert_true(fabs(sb_eng_erlang_c(1, 0.5) - 0.5) < 1e-9);
    assert_true(fabs(sb_eng_erlang_c(10, 8.0) - 0.409) < 0.001); /* textbook table */
    assert_true(sb_eng_erlang_c(5, 5.0) == 1.0);
    assert_true(sb_eng_erlang_c(0, 1.0) == 0.0);
    /* thousands of servers stay finite */
    double c = sb_eng_erlang_c(3000, 2900.0);
    assert_true(c > 0 && c < 1);
}

static void estimate_with_and_without_history(void **state)
{
    rt_group g;
    memset(&g, 0, sizeof g);
    /* nobody online: no estimate */
    assert_true(sb_eng_rt_estimate(NULL, &g, 1) < 0);
    /* 4 slots, no history: 5 min per conversation * position / slots */
    g.slots = 4;
    assert_int_equal(sb_eng_rt_estimate(NULL, &g, 8), 2 * 300000);
    /* learned handle time, few arrivals yet: the same formula with it */
    g.aht_ms = 60000;
    g.aht_n = 25;
    assert_int_equal(sb_eng_rt_estimate(NULL, &g, 4), 60000);
    /* enough history: Erlang C's wait of an arrival plus those ahead */
    g.iat_ms = 30000; /* A = 2 Erlangs on 4 servers: C = 0.1739 */
    g.iat_n = 25;
    int64_t w1 = sb_eng_rt_estimate(NULL, &g, 1), w3 = sb_eng_rt_estimate(NULL, &g, 3);
    assert_true(llabs(w1 - (int64_t)(0.173913 * 60000 / 2)) < 50);
    assert_int_equal(w3 - w1, 2 * 60000 / 4);
    /* overloaded (A >= N): position * AHT / N */
    g.iat_ms = 10000;
    assert_int_equal(sb_eng_rt_estimate(NULL, &g, 2), 2 * 60000 / 4);
}

static void business_hours_by_weekday_and_offset(void **state)
{
    rt_group g;
    memset(&g, 0, sizeof g);
    char err[128];
    json_t *h = json_loads("{\"utc_offset\":\"+03:00\",\"mon\":\"09:00-18:00\",\"sat\":\"10:00-14:00\"}", 0, NULL);
    assert_int_equal(sb_eng_rt_hours_parse(h, &g, err, sizeof err), SB_OK);
    json_decref(h);
    /* 2026-11-23 is a Monday; 06:00Z = 09:00 in UTC+3 */
    int64_t mon = (int64_t)1795392000 * 1000; /* 2026-11-23T00:00:00Z */
    assert_false(sb_eng_rt_open_at(&g, mon + 5 * 3600000LL + 59 * 60000LL));
    assert_true(sb_eng_rt_open_at(&g, mon + 6 * 3600000LL));
    assert_true(sb_eng_rt_open_at(&g, mon + 14 * 3600000LL + 59 * 60000LL));
    assert_false(sb_eng_rt_open_at(&g, mon + 15 * 3600000LL));
    assert_false(sb_eng_rt_open_at(&g, mon + 24 * 3600000LL + 8 * 3600000LL)); /* Tuesday */
    assert_true(sb_eng_rt_open_at(&g, mon + 5 * 24 * 3600000LL + 8 * 3600000LL)); /* Saturday 11:00 */
    const char *bad[] = {"{\"mon\":\"18:00-09:00\"}", "{\"utc_offset\":\"3\"}", "{\"funday\":\"09:00-10:00\"}",
                         "{\"mon\":\"25:00-26:00\"}", "[]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        h = json_loads(bad[i], 0, NULL);
        assert_int_equal(sb_eng_rt_hours_parse(h, &g, err, sizeof err), SB_ERR_INVALID);
        assert_non_null(strstr(err, "business_hours"));
        json_decref(h);
    }
}

static void out_of_hours_clients_hear_the_offline_message(void **state)
{
    harness *h = h_open(NULL);
    h->on_send = r_accept;
    /* open only on the day after today (UTC), so closed now */
    static const char *const days[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    int64_t day = h_now() / 86400000;
    int tomorrow = (int)((day + 3 + 1) % 7);
    char body[256];
    snprintf(body, sizeof body,
             "{\"id\":\"support\",\"offline_message\":\"We work 09-18, we will call you back\","
             "\"business_hours\":{\"%s\":\"00:00-24:00\"}}", days[tomorrow]);
    r_group(h, body);
    r_default(h, "support");
    char a[24], c[32];
    r_op(h, "{\"login\":\"a\",\"groups\":[\"support\"],\"max_conversations\":1}", a);
    r_status(h, a, "online");
    r_write(h, "main", "u-1", NULL, "hi", NULL); /* takes the only place */
    r_write(h, "main", "u-2", NULL, "hi", c);
    h_run_for(h, 30);
    assert_int_equal(r_sends_with(h, "We work 09-18"), 1);
    assert_int_equal(r_sends_with(h, "в очереди"), 0);
    h_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(erlang_c_known_values),
        cmocka_unit_test(estimate_with_and_without_history),
        cmocka_unit_test(business_hours_by_weekday_and_offset),
        cmocka_unit_test(out_of_hours_clients_hear_the_offline_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
