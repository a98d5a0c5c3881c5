/* The direct message writer (pages) gives exactly the text of the jansson
 * builder (events, single reads). */
#include "harness.h"

#include "engine/internal.h"

static void same(const sb_eng_msg *m)
{
    json_t *j = sb_eng_msg_json(m);
    assert_non_null(j);
    char *want = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    sb_eng_jw w = {0};
    sb_eng_jw_msg(&w, m);
    assert_false(w.oom);
    if (strcmp(want, w.p) != 0) fail_msg("differs:\n jansson %s\n writer  %s", want, w.p);
    free(want);
    free(w.p);
}

static void writer_matches_jansson(void **state)
{
    sb_button buttons[2] = {{"b1", "Да \"yes\""}, {"b/2", "tab\there"}};
    sb_attachment atts[2] = {
        {.struct_size = sizeof(sb_attachment), .kind = "image", .ref = "https://x/y.png", .name = "y.png", .mime = "image/png", .size = 123},
        {.struct_size = sizeof(sb_attachment), .kind = "file", .ref = "r", .name = NULL, .mime = NULL, .size = 0},
    };
    sb_eng_msg m = {
        .id = 383337634677653504ull, .conv_id = 383337634677653000ull, .client_id = 7,
        .plugin = "apichannel", .instance = "main", .direction = "in", .author_kind = "client",
        .author_id = "7", .type = "text", .text = "Привет, \\ \"мир\"\n\r\b\f\x01\x1f\x7f / emoji \xF0\x9F\x98\x80",
        .created_at = 1795392000123, .sent_at = 1795392000001,
    };
    same(&m);
    m.buttons = buttons;
    m.n_buttons = 2;
    m.atts = atts;
    m.n_atts = 2;
    m.button_id = "b1";
    m.direction = "out";
    m.delivery_status = "failed";
    m.delivery_error = "429: \"slow down\"";
    same(&m);
    m.event = "edit";
    m.edit_of = 0;
    m.text = NULL;
    m.author_id = NULL;
    m.sent_at = 0;
    same(&m);
    m.edit_of = 99;
    m.event = "contact";
    m.delivery_error = NULL;
    m.text = "bad utf-8 \xC3\x28 and \xFF end";
    same(&m);
    m.client_id = 0;
    m.created_at = 0;
    m.text = "";
    same(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(writer_matches_jansson)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
