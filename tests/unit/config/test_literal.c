/* Literals of the config: sizes, durations, booleans, integers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "config/config.h"

static uint64_t size_of(const char *s)
{
    uint64_t v = 0;
    assert_int_equal(sb_parse_size(s, &v), 0);
    return v;
}

static uint64_t ms_of(const char *s)
{
    uint64_t v = 0;
    assert_int_equal(sb_parse_duration(s, &v), 0);
    return v;
}

static void test_sizes(void **state)
{
    (void)state;
    assert_int_equal(size_of("0"), 0);
    assert_int_equal(size_of("1024"), 1024);
    assert_int_equal(size_of("7B"), 7);
    assert_int_equal(size_of("1KB"), 1000);
    assert_int_equal(size_of("512KB"), 512000);
    assert_int_equal(size_of("1MB"), 1000000);
    assert_int_equal(size_of("2GB"), 2000000000ULL);
    assert_int_equal(size_of("3TB"), 3000000000000ULL);
    assert_int_equal(size_of("1KiB"), 1024);
    assert_int_equal(size_of("1MiB"), 1048576);
    assert_int_equal(size_of("4GiB"), 4ULL << 30);
    assert_int_equal(size_of("2TiB"), 2ULL << 40);
    assert_int_equal(size_of("18446744073709551615"), UINT64_MAX);
    assert_int_equal(size_of("16777215TiB"), 16777215ULL << 40);

    uint64_t v = 99;
    const char *bad[] = {"", "1K", "1k", "1kb", "1mib", "1 MiB", "-1", "+1", "1.5MiB",
                         "MiB", "1MiBx", " 1", "1 ", "0x10",
                         "18446744073709551616", /* 2^64 */
                         "16777216TiB",          /* 2^24 * 2^40 = 2^64 */
                         "18446744073709551615KB"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (sb_parse_size(bad[i], &v) == 0) fail_msg("size '%s' was accepted", bad[i]);
    }
    assert_int_equal(v, 99); /* untouched on failure */
    assert_int_equal(sb_parse_size(NULL, &v), -1);
}

static void test_durations(void **state)
{
    (void)state;
    assert_int_equal(ms_of("0"), 0);
    assert_int_equal(ms_of("0ms"), 0);
    assert_int_equal(ms_of("250ms"), 250);
    assert_int_equal(ms_of("30s"), 30000);
    assert_int_equal(ms_of("5m"), 300000);
    assert_int_equal(ms_of("1h"), 3600000);
    assert_int_equal(ms_of("2d"), 172800000);
    assert_int_equal(ms_of("213503982334d"), 213503982334ULL * 86400000ULL);

    uint64_t v;
    const char *bad[] = {"", "10", "1.5s", "1S", "s", "1w", "-1s", "1 s", "1sec", "1hm",
                         "213503982335d", "18446744073709551616ms"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (sb_parse_duration(bad[i], &v) == 0) fail_msg("duration '%s' was accepted", bad[i]);
    }
    assert_int_equal(sb_parse_duration(NULL, &v), -1);
}

static void test_bools(void **state)
{
    (void)state;
    const char *yes[] = {"true", "yes", "on", "TRUE", "True", "On"};
    const char *no[] = {"false", "no", "off", "FALSE", "No", "OFF"};
    for (size_t i = 0; i < 6; i++) {
        bool b = false;
        assert_int_equal(sb_parse_bool(yes[i], &b), 0);
        assert_true(b);
        assert_int_equal(sb_parse_bool(no[i], &b), 0);
        assert_false(b);
    }
    bool b;
    const char *bad[] = {"", "1", "0", "y", "n", "truex", " true", "nope"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (sb_parse_bool(bad[i], &b) == 0) fail_msg("bool '%s' was accepted", bad[i]);
    }
    assert_int_equal(sb_parse_bool(NULL, &b), -1);
}

static void test_ints(void **state)
{
    (void)state;
    int64_t v = 1;
    assert_int_equal(sb_parse_int("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(sb_parse_int("-0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(sb_parse_int("+5", &v), 0);
    assert_int_equal(v, 5);
    assert_int_equal(sb_parse_int("-42", &v), 0);
    assert_int_equal(v, -42);
    assert_int_equal(sb_parse_int("007", &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(sb_parse_int("9223372036854775807", &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(sb_parse_int("-9223372036854775808", &v), 0);
    assert_true(v == INT64_MIN);

    const char *bad[] = {"", "-", "+", "9223372036854775808", "-9223372036854775809",
                         "99999999999999999999", "1e3", "0x10", " 1", "1 ", "1.0", "--1",
                         "1_000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (sb_parse_int(bad[i], &v) == 0) fail_msg("int '%s' was accepted", bad[i]);
    }
    assert_int_equal(sb_parse_int(NULL, &v), -1);
}

static void test_listen(void **state)
{
    (void)state;
    char host[SB_LISTEN_HOST_MAX];
    uint16_t port = 1;
    assert_int_equal(sb_parse_listen("127.0.0.1:0", host, sizeof host, &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 0);
    assert_int_equal(sb_parse_listen("[::1]:65535", host, sizeof host, &port), 0);
    assert_string_equal(host, "::1"); /* without brackets, ready for getaddrinfo */
    assert_int_equal(port, 65535);
    assert_int_equal(sb_parse_listen("my_host-1.example:8080", host, sizeof host, &port), 0);
    assert_string_equal(host, "my_host-1.example");
    assert_int_equal(port, 8080);

    assert_int_equal(sb_parse_listen("h:65536", host, sizeof host, &port), -2);
    assert_int_equal(sb_parse_listen("[::]:99999999999999999999999", host, sizeof host, &port), -2);
    const char *bad[] = {"", "h", ":1", "h:", "::1:80", "[::1]80", "[::1", "[x]:1", "[]:1",
                         "h:+1", "h:-1", "h:1 ", "h h:1", "[1.2.3.4]:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (sb_parse_listen(bad[i], host, sizeof host, &port) != -1)
            fail_msg("listen '%s' was not rejected as malformed", bad[i]);
    }
    char longhost[300];
    memset(longhost, 'a', 260);
    strcpy(longhost + 260, ":1");
    assert_int_equal(sb_parse_listen(longhost, host, sizeof host, &port), -1);
    assert_int_equal(sb_parse_listen("h:1", host, 16, &port), -1); /* buffer too small */
    assert_int_equal(sb_parse_listen(NULL, host, sizeof host, &port), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_bools),
        cmocka_unit_test(test_ints),
        cmocka_unit_test(test_listen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
