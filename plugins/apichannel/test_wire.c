/* The API channel's wire format and signature, without the host: every
 * inbound shape it accepts, every refusal with the field it names, the
 * outbound JSON, and HMAC-SHA256 against vectors computed elsewhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signature.h"
#include "wire.h"

/* ---- accepted shapes ---------------------------------------------------------- */

/* Parses a body that must be accepted; the caller frees *in. */
static void parse_ok(const char *body, ac_inbound *in)
{
    char err[300] = "";
    int rc = ac_parse_inbound(body, strlen(body), in, err, sizeof err);
    if (rc != 0) fail_msg("refused %s: %s", body, err);
    assert_non_null(in->root);
    assert_int_equal(in->msg.struct_size, sizeof(sb_inbound));
    assert_int_equal(in->msg.kind, SB_IN_MESSAGE);
}

static void test_text_message(void **state)
{
    (void)state;
    ac_inbound in;
    parse_ok("{\"external_id\":\"u-1\",\"name\":\"\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd\","
             "\"text\":\"hello\",\"message_id\":\"m-1\"}", &in);
    assert_string_equal(in.msg.external_id, "u-1");
    assert_string_equal(in.msg.dedup_key, "m-1");
    assert_string_equal(in.msg.name, "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd");
    assert_string_equal(in.msg.text, "hello");
    assert_null(in.msg.button_id);
    assert_null(in.msg.phone);
    assert_null(in.msg.email);
    assert_int_equal(in.msg.n_attachments, 0);
    ac_inbound_free(&in);
    assert_null(in.root);
}

static void test_button_only(void **state)
{
    (void)state;
    ac_inbound in;
    parse_ok("{\"external_id\":\"u\",\"message_id\":\"m\",\"button_id\":\"yes\"}", &in);
    assert_null(in.msg.text);
    assert_string_equal(in.msg.button_id, "yes");
    ac_inbound_free(&in);
    /* an empty text beside a button is no text, not a refusal */
    parse_ok("{\"external_id\":\"u\",\"message_id\":\"m\",\"text\":\"\",\"button_id\":\"b\"}", &in);
    assert_string_equal(in.msg.button_id, "b");
    ac_inbound_free(&in);
}

/* A message of n attachments "u0".."u<n-1>", cycling through every kind. */
static void attachments_body(char *body, size_t cap, int n)
{
    static const char *kinds[] = {"image", "file", "audio", "video", "voice"};
    int k = snprintf(body, cap, "{\"external_id\":\"u\",\"message_id\":\"m\",\"attachments\":[");
    for (int i = 0; i < n; i++)
        k += snprintf(body + k, cap - (size_t)k, "%s{\"url\":\"u%d\",\"kind\":\"%s\"}",
                      i ? "," : "", i, kinds[i % 5]);
    snprintf(body + k, cap - (size_t)k, "]}");
}

static void test_attachments_only(void **state)
{
    (void)state;
    ac_inbound in;
    parse_ok("{\"external_id\":\"u\",\"message_id\":\"m\",\"attachments\":["
             "{\"url\":\"https://x/a.png\",\"kind\":\"image\",\"name\":\"a.png\","
             "\"mime\":\"image/png\",\"size\":1234},"
             "{\"url\":\"https://x/b\"},"
             "{\"url\":\"https://x/c\",\"kind\":null,\"name\":null,\"size\":null}]}", &in);
    assert_null(in.msg.text);
    assert_int_equal(in.msg.n_attachments, 3);
    assert_ptr_equal(in.msg.attachments, in.att);
    const sb_attachment *a = in.msg.attachments;
    assert_int_equal(a[0].struct_size, sizeof(sb_attachment));
    assert_string_equal(a[0].kind, "image");
    assert_string_equal(a[0].ref, "https://x/a.png");
    assert_string_equal(a[0].name, "a.png");
    assert_string_equal(a[0].mime, "image/png");
    assert_int_equal(a[0].size, 1234);
    /* kind defaults to "file", the one kind every messenger can show */
    for (int i = 1; i < 3; i++) {
        assert_int_equal(a[i].struct_size, sizeof(sb_attachment));
        assert_string_equal(a[i].kind, "file");
        assert_null(a[i].name);
        assert_null(a[i].mime);
        assert_int_equal(a[i].size, 0);
    }
    ac_inbound_free(&in);

    /* every kind the core stores, and exactly the maximum count */
    char body[2048];
    attachments_body(body, sizeof body, AC_MAX_ATTACHMENTS);
    parse_ok(body, &in);
    assert_int_equal(in.msg.n_attachments, AC_MAX_ATTACHMENTS);
    assert_string_equal(in.msg.attachments[9].ref, "u9");
    assert_string_equal(in.msg.attachments[9].kind, "voice");
    ac_inbound_free(&in);
}

static void test_identities(void **state)
{
    (void)state;
    ac_inbound in;
    parse_ok("{\"external_id\":\"u\",\"message_id\":\"m\",\"text\":\"t\","
             "\"phone\":\"+7 (999) 123-45.67\",\"email\":\"Ivan@Example.com\"}", &in);
    assert_string_equal(in.msg.phone, "+7 (999) 123-45.67");
    assert_string_equal(in.msg.email, "Ivan@Example.com");
    ac_inbound_free(&in);
    /* "" and null are how apps say "unknown": accepted and passed on as such */
    parse_ok("{\"external_id\":\"u\",\"message_id\":\"m\",\"text\":\"t\","
             "\"phone\":\"\",\"email\":null,\"name\":null}", &in);
    assert_string_equal(in.msg.phone, "");
    assert_null(in.msg.email);
    assert_null(in.msg.name);
    ac_inbound_free(&in);
}

/* Ids at exactly the limit pass; one byte more is refused below. */
static void test_ids_at_limit(void **state)
{
    (void)state;
    char id[AC_MAX_ID + 1], body[1024];
    memset(id, 'a', AC_MAX_ID);
    id[AC_MAX_ID] = 0;
    snprintf(body, sizeof body, "{\"external_id\":\"%s\",\"message_id\":\"%s\",\"text\":\"t\"}",
             id, id);
    ac_inbound in;
    parse_ok(body, &in);
    assert_int_equal(strlen(in.msg.external_id), AC_MAX_ID);
    assert_int_equal(strlen(in.msg.dedup_key), AC_MAX_ID);
    ac_inbound_free(&in);
}

/* Only len bytes are read: the body need not be NUL-terminated. */
static void test_body_length_is_honoured(void **state)
{
    (void)state;
    const char *obj = "{\"external_id\":\"u\",\"message_id\":\"m\",\"text\":\"t\"}";
    char buf[128];
    snprintf(buf, sizeof buf, "%sGARBAGE", obj);
    ac_inbound in;
    char err[300];
    assert_int_equal(ac_parse_inbound(buf, strlen(obj), &in, err, sizeof err), 0);
    assert_string_equal(in.msg.text, "t");
    ac_inbound_free(&in);
    /* and the garbage is refused once it is inside len */
    assert_int_equal(ac_parse_inbound(buf, strlen(buf), &in, err, sizeof err), -1);
    assert_null(in.root);
}

/* ---- refusals ------------------------------------------------------------------- */

typedef struct {
    const char *body;
    const char *want; /* the whole message, or its start when ending in "..." */
} refusal;

/* The body must be refused with the message `want`. */
static void refused(const char *body, const char *want)
{
    ac_inbound in;
    char err[300] = "";
    if (ac_parse_inbound(body, strlen(body), &in, err, sizeof err) != -1)
        fail_msg("accepted %s", body);
    assert_null(in.root); /* nothing left to free */
    size_t n = strlen(want);
    int prefix = n > 3 && strcmp(want + n - 3, "...") == 0;
    if (prefix ? strncmp(err, want, n - 3) != 0 : strcmp(err, want) != 0)
        fail_msg("%s\n  got:  %s\n  want: %s", body, err, want);
}

static void refuse_all(const refusal *r, size_t n)
{
    for (size_t i = 0; i < n; i++) refused(r[i].body, r[i].want);
}
#define REFUSE_ALL(table) refuse_all(table, sizeof table / sizeof *table)

/* {"<key>":"xxx...(n)",<rest>}, malloc'ed: values just over a limit. */
static char *long_field(const char *key, size_t n, const char *rest)
{
    size_t cap = strlen(key) + n + strlen(rest) + 16;
    char *b = malloc(cap);
    assert_non_null(b);
    int k = snprintf(b, cap, "{\"%s\":\"", key);
    memset(b + k, 'x', n);
    snprintf(b + k + n, cap - (size_t)k - n, "\",%s}", rest);
    return b;
}

#define EXT "\"external_id\":\"u\""
#define MID "\"message_id\":\"m\""
#define TXT "\"text\":\"t\""
#define EM "{" EXT "," MID ","  /* a valid start, the field under test after */

static void test_refused_ids(void **state)
{
    (void)state;
    static const refusal table[] = {
        {"{" MID "," TXT "}", "external_id: required, a string of 1-256 bytes"},
        {"{\"external_id\":null," MID "," TXT "}", "external_id: required, a string of 1-256 bytes"},
        {"{\"external_id\":\"\"," MID "," TXT "}", "external_id: expected a string of 1-256 bytes"},
        {"{\"external_id\":42," MID "," TXT "}", "external_id: expected a string of 1-256 bytes"},
        {"{\"external_id\":[\"u\"]," MID "," TXT "}", "external_id: expected a string of 1-256 bytes"},
        {"{\"external_id\":{}," MID "," TXT "}", "external_id: expected a string of 1-256 bytes"},
        {"{" EXT "," TXT "}", "message_id: required, a string of 1-256 bytes"},
        {"{" EXT ",\"message_id\":null," TXT "}", "message_id: required, a string of 1-256 bytes"},
        {"{" EXT ",\"message_id\":\"\"," TXT "}", "message_id: expected a string of 1-256 bytes"},
        {"{" EXT ",\"message_id\":7," TXT "}", "message_id: expected a string of 1-256 bytes"},
        {"{" EXT ",\"message_id\":true," TXT "}", "message_id: expected a string of 1-256 bytes"},
    };
    REFUSE_ALL(table);
    /* one byte over the limit */
    char *b = long_field("external_id", AC_MAX_ID + 1, MID "," TXT);
    refused(b, "external_id: expected a string of 1-256 bytes");
    free(b);
    b = long_field("message_id", AC_MAX_ID + 1, EXT "," TXT);
    refused(b, "message_id: expected a string of 1-256 bytes");
    free(b);
}

static void test_refused_content(void **state)
{
    (void)state;
    static const refusal table[] = {
        {"{" EXT "," MID "}", "text: required (or button_id, or attachments)"},
        {EM "\"text\":null}", "text: required (or button_id, or attachments)"},
        {EM "\"text\":\"\"}", "text: required (or button_id, or attachments)"},
        {EM "\"text\":\"\",\"button_id\":\"\"}", "text: required (or button_id, or attachments)"},
        {EM "\"attachments\":[]}", "text: required (or button_id, or attachments)"},
        {EM "\"attachments\":null}", "text: required (or button_id, or attachments)"},
        {EM "\"text\":5}", "text: expected a string of at most 65536 bytes"},
        {EM "\"text\":[\"a\"]}", "text: expected a string of at most 65536 bytes"},
        {EM "\"button_id\":1}", "button_id: expected a string of at most 256 bytes"},
        {EM TXT ",\"name\":{}}", "name: expected a string of at most 256 bytes"},
    };
    REFUSE_ALL(table);
    char *b = long_field("text", 65537, EXT "," MID);
    refused(b, "text: expected a string of at most 65536 bytes");
    free(b);
}

static void test_refused_attachments(void **state)
{
    (void)state;
    static const refusal table[] = {
        {EM "\"attachments\":{}}", "attachments: expected an array of at most 10 items"},
        {EM "\"attachments\":\"https://x\"}", "attachments: expected an array of at most 10 items"},
        {EM "\"attachments\":[5]}", "attachments[0]: expected an object"},
        {EM "\"attachments\":[{\"url\":\"a\"},{\"kind\":\"image\"}]}",
         "attachments[1].url: required, a string of 1-2048 bytes"},
        {EM "\"attachments\":[{\"url\":\"\"}]}", "attachments[0].url: expected a string of 1-2048 bytes"},
        {EM "\"attachments\":[{\"url\":3}]}", "attachments[0].url: expected a string of 1-2048 bytes"},
        {EM "\"attachments\":[{\"url\":\"a\",\"kind\":\"sticker\"}]}",
         "attachments[0].kind: expected one of image, file, audio, video, voice"},
        {EM "\"attachments\":[{\"url\":\"a\",\"kind\":1}]}",
         "attachments[0].kind: expected a string of at most 16 bytes"},
        {EM "\"attachments\":[{\"url\":\"a\",\"name\":false}]}",
         "attachments[0].name: expected a string of at most 256 bytes"},
        {EM "\"attachments\":[{\"url\":\"a\",\"mime\":[]}]}",
         "attachments[0].mime: expected a string of at most 128 bytes"},
        {EM "\"attachments\":[{\"url\":\"a\",\"size\":-1}]}",
         "attachments[0].size: expected a non-negative integer"},
        {EM "\"attachments\":[{\"url\":\"a\",\"size\":\"12\"}]}",
         "attachments[0].size: expected a non-negative integer"},
        {EM "\"attachments\":[{\"url\":\"a\",\"size\":1.5}]}",
         "attachments[0].size: expected a non-negative integer"},
    };
    REFUSE_ALL(table);
    char body[2048];
    attachments_body(body, sizeof body, AC_MAX_ATTACHMENTS + 1);
    refused(body, "attachments: expected an array of at most 10 items");
}

static void test_refused_identities(void **state)
{
    (void)state;
    static const refusal table[] = {
        {EM TXT ",\"phone\":\"call me\"}", "phone: expected 3-20 digits, optionally with + ( ) - . and spaces"},
        {EM TXT ",\"phone\":\"+12\"}", "phone: expected 3-20 digits, optionally with + ( ) - . and spaces"},
        {EM TXT ",\"phone\":\"123456789012345678901\"}",
         "phone: expected 3-20 digits, optionally with + ( ) - . and spaces"},
        {EM TXT ",\"phone\":79991234567}", "phone: expected a string of at most 32 bytes"},
        {EM TXT ",\"phone\":\"+1 (000) 000-0000 000-0000 0000 00\"}",
         "phone: expected a string of at most 32 bytes"},
        {EM TXT ",\"email\":\"nobody\"}", "email: expected an address like name@example.com"},
        {EM TXT ",\"email\":\"@example.com\"}", "email: expected an address like name@example.com"},
        {EM TXT ",\"email\":\"ivan@\"}", "email: expected an address like name@example.com"},
        {EM TXT ",\"email\":\"a@b@c\"}", "email: expected an address like name@example.com"},
        {EM TXT ",\"email\":\"iv an@x.ru\"}", "email: expected an address like name@example.com"},
        {EM TXT ",\"email\":{\"a\":1}}", "email: expected a string of at most 254 bytes"},
    };
    REFUSE_ALL(table);
}

static void test_refused_body(void **state)
{
    (void)state;
    static const refusal table[] = {
        {"[]", "body: expected a JSON object"},
        {"[{" EXT "," MID "," TXT "}]", "body: expected a JSON object"},
        {"", "body: not valid JSON at line ..."},
        {"{\"external_id\": ", "body: not valid JSON at line 1 column ..."},
        {"\"text\"", "body: not valid JSON at line 1 column ..."},
        {"{" EXT "," MID "," TXT "} {}", "body: not valid JSON at line 1 column ..."},
        {EM "\"text\":\"a\\u0000b\"}", "body: not valid JSON at line 1 column ..."},
        {EM "\"text\":\"\xff\"}", "body: not valid JSON at line 1 column ..."},
        /* a duplicate key is refused and named: which of the two would
         * count is up to the parser, and a signed body must mean one thing */
        {EM TXT ",\"text\":\"other\"}",
         "body: not valid JSON at line 1 column 53: duplicate object key near '\"text\"'"},
        {EM "\"attachments\":[{\"url\":\"a\",\"url\":\"b\"}]}", "body: not valid JSON at line 1 column ..."},
    };
    REFUSE_ALL(table);
}

/* The message always ends up NUL-terminated in a small buffer. */
static void test_error_truncated_to_buffer(void **state)
{
    (void)state;
    ac_inbound in;
    char err[8];
    memset(err, 'x', sizeof err);
    assert_int_equal(ac_parse_inbound("[]", 2, &in, err, sizeof err), -1);
    assert_string_equal(err, "body: e");
}

/* ---- outbound JSON ---------------------------------------------------------------- */

static void test_outbound_json(void **state)
{
    (void)state;
    sb_button b[2] = {{"ok", "\xd0\x94\xd0\xb0"}, {"no", "No \"thanks\""}};
    sb_attachment a[2] = {
        {.struct_size = sizeof(sb_attachment), .kind = "image", .ref = "https://x/1.png",
         .name = "1.png", .mime = "image/png", .size = 99},
        {.struct_size = sizeof(sb_attachment), .ref = "https://x/2"},
    };
    sb_outbound m = {.struct_size = sizeof m, .message_id = "123", .conversation_id = "45",
                     .external_id = "u-1", .text = "hi\n", .buttons = b, .n_buttons = 2,
                     .attachments = a, .n_attachments = 2, .attempt = 1};
    char *s = ac_outbound_json(&m);
    assert_non_null(s);
    assert_string_equal(s,
        "{\"message_id\":\"123\",\"external_id\":\"u-1\",\"text\":\"hi\\n\","
        "\"conversation_id\":\"45\","
        "\"buttons\":[{\"id\":\"ok\",\"title\":\"\xd0\x94\xd0\xb0\"},"
        "{\"id\":\"no\",\"title\":\"No \\\"thanks\\\"\"}],"
        "\"attachments\":[{\"kind\":\"image\",\"url\":\"https://x/1.png\",\"name\":\"1.png\","
        "\"mime\":\"image/png\",\"size\":99},"
        "{\"kind\":\"file\",\"url\":\"https://x/2\",\"name\":null,\"mime\":null,\"size\":0}]}");
    free(s);

    /* no text (media only): null, and no empty buttons/attachments arrays */
    sb_outbound bare = {.struct_size = sizeof bare, .message_id = "9", .conversation_id = "8",
                        .external_id = "u"};
    s = ac_outbound_json(&bare);
    assert_non_null(s);
    assert_string_equal(s, "{\"message_id\":\"9\",\"external_id\":\"u\",\"text\":null,"
                           "\"conversation_id\":\"8\"}");
    free(s);
}

/* ---- signature -------------------------------------------------------------------- */

/* Vectors from `printf %s BODY | openssl dgst -sha256 -hmac SECRET`; the
 * first is also RFC 4231 test case 2. */
static const struct {
    const char *secret, *body, *hex;
} k_vectors[] = {
    {"Jefe", "what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    {"shh-test-secret", "{\"external_id\":\"u-1\",\"message_id\":\"m-1\",\"text\":\"hi\"}",
     "69de53234797fdad6ae6159af087a0b4d89bd95bdcb5a4ecb48a4bad8c04e0d7"},
    {"k", "", "8bb990c40a7d61cb97597a942125025be50ac8beb74436e3735b98893a7f6620"},
};

static void test_sign_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof k_vectors / sizeof *k_vectors; i++) {
        char sig[SBP_SIG_LEN + 1], want[SBP_SIG_LEN + 1];
        memset(sig, '#', sizeof sig);
        sbp_sign(k_vectors[i].secret, k_vectors[i].body, strlen(k_vectors[i].body), sig);
        snprintf(want, sizeof want, "sha256=%s", k_vectors[i].hex);
        assert_string_equal(sig, want);
        assert_int_equal(strlen(sig), SBP_SIG_LEN);
    }
}

static void test_verify(void **state)
{
    (void)state;
    const char *secret = k_vectors[1].secret, *body = k_vectors[1].body;
    size_t len = strlen(body);
    char good[SBP_SIG_LEN + 1], upper[SBP_SIG_LEN + 1], bad[SBP_SIG_LEN + 2];
    snprintf(good, sizeof good, "sha256=%s", k_vectors[1].hex);
    assert_true(sbp_verify(secret, body, len, good));

    /* senders differ in hex case; both are the same digest */
    memcpy(upper, good, sizeof upper);
    for (size_t i = 7; i < SBP_SIG_LEN; i++) upper[i] = (char)toupper((unsigned char)upper[i]);
    assert_string_not_equal(upper, good);
    assert_true(sbp_verify(secret, body, len, upper));

    /* wrong: another secret, another body, one digit off at either end */
    assert_false(sbp_verify("other", body, len, good));
    assert_false(sbp_verify(secret, body, len - 1, good));
    memcpy(bad, good, sizeof good);
    bad[7] = bad[7] == '0' ? '1' : '0';
    assert_false(sbp_verify(secret, body, len, bad));
    memcpy(bad, good, sizeof good);
    bad[SBP_SIG_LEN - 1] = bad[SBP_SIG_LEN - 1] == '0' ? '1' : '0';
    assert_false(sbp_verify(secret, body, len, bad));
    /* a non-hex byte where a digit belongs */
    memcpy(bad, good, sizeof good);
    bad[20] = 'g';
    assert_false(sbp_verify(secret, body, len, bad));

    /* missing, empty, truncated, too long, no or another prefix */
    assert_false(sbp_verify(secret, body, len, NULL));
    assert_false(sbp_verify(secret, body, len, ""));
    assert_false(sbp_verify(secret, body, len, "sha256="));
    memcpy(bad, good, sizeof good);
    bad[SBP_SIG_LEN - 1] = 0;
    assert_false(sbp_verify(secret, body, len, bad));
    snprintf(bad, sizeof bad, "%s0", good);
    assert_false(sbp_verify(secret, body, len, bad));
    assert_false(sbp_verify(secret, body, len, good + 7));
    snprintf(bad, sizeof bad, "sha1=%s", good + 5);
    assert_int_equal(strlen(bad), SBP_SIG_LEN);
    assert_false(sbp_verify(secret, body, len, bad));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_message),
        cmocka_unit_test(test_button_only),
        cmocka_unit_test(test_attachments_only),
        cmocka_unit_test(test_identities),
        cmocka_unit_test(test_ids_at_limit),
        cmocka_unit_test(test_body_length_is_honoured),
        cmocka_unit_test(test_refused_ids),
        cmocka_unit_test(test_refused_content),
        cmocka_unit_test(test_refused_attachments),
        cmocka_unit_test(test_refused_identities),
        cmocka_unit_test(test_refused_body),
        cmocka_unit_test(test_error_truncated_to_buffer),
        cmocka_unit_test(test_outbound_json),
        cmocka_unit_test(test_sign_vectors),
        cmocka_unit_test(test_verify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
