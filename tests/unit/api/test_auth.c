/* Passwords, sessions and login rate limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/password.h"
#include "api/ratelimit.h"
#include "api/sessions.h"

static void password_round_trip(void **st)
{
    (void)st;
    char a[SB_PASSWORD_HASH_MAX], b[SB_PASSWORD_HASH_MAX];
    assert_int_equal(sb_password_hash("Пароль-1", 1000, a, sizeof a), 0);
    assert_int_equal(sb_password_hash("Пароль-1", 1000, b, sizeof b), 0);
    assert_string_not_equal(a, b); /* per-user salt */
    assert_true(strncmp(a, "pbkdf2-sha256$1000$", 19) == 0);
    assert_true(sb_password_verify("Пароль-1", a));
    assert_false(sb_password_verify("Пароль-2", a));
    assert_false(sb_password_verify("", a));
}

/* RFC 7914 §11 gives PBKDF2-HMAC-SHA256("passwd", "salt", 1, 64); the first
 * 32 bytes, base64, with salt "salt" = c2FsdA==. */
static void password_known_vector(void **st)
{
    (void)st;
    const char *enc = "pbkdf2-sha256$1$c2FsdA==$VawEblbjCJ/sFpHCJUS2BflBhSFt3gRl5oudV8INrLw=";
    assert_true(sb_password_verify("passwd", enc));
    assert_false(sb_password_verify("passwe", enc));
}

static void password_malformed(void **st)
{
    (void)st;
    const char *bad[] = {NULL, "", "plain", "pbkdf2-sha256$0$c2FsdA==$AAAA",
                         "pbkdf2-sha256$1$$", "pbkdf2-sha256$1$c2FsdA==$!!!!",
                         "pbkdf2-sha256$99999999999$c2FsdA==$AAAA", "md5$1$a$b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(sb_password_verify("x", bad[i]));
    char huge[SB_PASSWORD_MAX + 2], out[SB_PASSWORD_HASH_MAX];
    memset(huge, 'a', sizeof huge - 1);
    huge[sizeof huge - 1] = 0;
    assert_int_equal(sb_password_hash(huge, 1000, out, sizeof out), -1);
}

static void ratelimit_window(void **st)
{
    (void)st;
    static sb_ratelimit rl;
    sb_rl_init(&rl, 3, 1000);
    for (int i = 0; i < 3; i++) assert_true(sb_rl_hit(&rl, "login:ivan", 0));
    assert_false(sb_rl_hit(&rl, "login:ivan", 10));
    assert_true(sb_rl_hit(&rl, "login:petr", 10)); /* other keys unaffected */
    /* Just after the window turns, the old attempts still count almost fully. */
    assert_true(sb_rl_hit(&rl, "login:ivan", 1010));
    assert_false(sb_rl_hit(&rl, "login:ivan", 1020));
    assert_true(sb_rl_hit(&rl, "login:ivan", 2100));
    sb_rl_reset(&rl, "login:petr");
    for (int i = 0; i < 3; i++) assert_true(sb_rl_hit(&rl, "login:petr", 20));
    /* A flood of distinct keys stays within the fixed table. */
    char key[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "addr:%d", i);
        sb_rl_hit(&rl, key, 3000);
    }
}

static char g_dir[64];

static void sessions_lifecycle(void **st)
{
    (void)st;
    strcpy(g_dir, "/tmp/sb-sess-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    size_t n;
    const char *const *names = sb_sessions_table_names(&n);
    sb_store_options o = {.path = g_dir, .tables = names, .n_tables = n, .no_sync = true};
    sb_store *s;
    char err[256];
    assert_int_equal(sb_store_open(&s, &o, err, sizeof err), SB_OK);
    sb_session in = {.user_id = "42", .login = "ivan", .role = "operator", .expires_at_ms = 5000};
    char tok[SB_SESSION_TOKEN_LEN + 1], tok2[SB_SESSION_TOKEN_LEN + 1];
    assert_int_equal(sb_session_create(s, 0, &in, tok), SB_OK);
    in.expires_at_ms = 9000;
    assert_int_equal(sb_session_create(s, 0, &in, tok2), SB_OK);
    assert_int_equal((int)strlen(tok), SB_SESSION_TOKEN_LEN);
    assert_int_equal(sb_store_flush(s), SB_OK);
    sb_session out;
    assert_int_equal(sb_session_find(s, 0, tok, 1000, &out), SB_OK);
    assert_string_equal(out.login, "ivan");
    assert_string_equal(out.role, "operator");
    assert_int_equal(sb_session_find(s, 0, "00", 1000, &out), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_session_find(s, 0, tok, 6000, &out), SB_ERR_NOT_FOUND); /* expired */
    assert_int_equal(sb_sessions_expire(s, 0, 10000, 100), 1); /* tok2 only; tok was dropped */
    assert_int_equal(sb_session_find(s, 0, tok2, 1000, &out), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_session_create(s, 0, &in, tok), SB_OK);
    assert_int_equal(sb_session_delete(s, 0, tok), SB_OK);
    assert_int_equal(sb_session_find(s, 0, tok, 1000, &out), SB_ERR_NOT_FOUND);
    sb_store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(password_round_trip), cmocka_unit_test(password_known_vector),
        cmocka_unit_test(password_malformed), cmocka_unit_test(ratelimit_window),
        cmocka_unit_test(sessions_lifecycle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
