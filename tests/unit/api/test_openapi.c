/* core/api/openapi.json describes exactly the routes the REST layer serves:
 * every route is documented with its method, and every documented path and
 * method is served. Operations marked x-plugin are plugins' routes (served
 * when the plugin runs; tests/integration/plugin_api_docs.test.js). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"

/* "conversations/{id}/take" becomes the route pattern "conversations/STAR/take". */
static void to_pattern(const char *path, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = path + 1; *p && n + 2 < cap; p++) {
        if (*p == '{') {
            out[n++] = '*';
            p = strchr(p, '}');
            if (!p) break;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = 0;
}

static void routes_match_document(void **st)
{
    (void)st;
    json_error_t je;
    json_t *doc = json_load_file(SB_TEST_SOURCE_DIR "/core/api/openapi.json", 0, &je);
    assert_non_null(doc);
    assert_true(strncmp(json_string_value(json_object_get(doc, "openapi")), "3.1.", 4) == 0);
    json_t *paths = json_object_get(doc, "paths");
    size_t n, documented = 0;
    const sb_rest_route *r = sb_api_routes(&n);
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item) {
        char pat[256];
        to_pattern(path, pat, sizeof pat);
        const char *method;
        json_t *op;
        json_object_foreach(item, method, op) {
            if (strcmp(method, "parameters") == 0 || json_object_get(op, "x-plugin")) continue;
            char up[16] = {0};
            for (size_t i = 0; method[i] && i < 15; i++) up[i] = (char)toupper((unsigned char)method[i]);
            bool served = false;
            for (size_t i = 0; i < n && !served; i++)
                served = strcmp(r[i].pattern, pat) == 0 && strcmp(r[i].method, up) == 0;
            if (!served) fail_msg("documented but not served: %s %s", up, path);
            documented++;
        }
    }
    assert_int_equal(documented, n); /* and so every route is documented once */
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(routes_match_document)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
