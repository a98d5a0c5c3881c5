/* /clients and /audit: profiles, one history across channels, merge and
 * its undo, erasure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "util/query.h"

void sb_rest_clients(sb_rest_ctx *c)
{
    char query[300], buf[16], *out = NULL;
    long r = sb_query_get(c->req->query, "query", query, sizeof query);
    size_t limit = 20;
    if (sb_query_get(c->req->query, "limit", buf, sizeof buf) > 0) limit = strtoul(buf, NULL, 10);
    if (r < 0) {
        sb_http_error(c->api->d.http, c->req->id, 400, "bad_request",
                      r == -1 ? "query: required (a name, phone, e-mail or external id)"
                              : "query: at most 256 bytes");
        return;
    }
    sb_api_reply(c, sb_engine_clients_search(c->api->d.engine, query, limit, &out), 200, &out,
                 "query: 1 to 256 bytes", "clients");
}

void sb_rest_client(sb_rest_ctx *c)
{
    sb_engine *e = c->api->d.engine;
    const char *id = c->seg[1];
    const char *by = *c->who.user_id ? c->who.user_id : c->who.login;
    char *out = NULL, err[256] = "";
    if (strcmp(c->req->method, "PATCH") == 0)
        sb_api_reply(c, sb_engine_client_patch(e, id, c->req->body, c->req->body_len, &out, err,
                                               sizeof err), 200, &out, err, "client");
    else if (strcmp(c->req->method, "DELETE") == 0)
        sb_api_reply(c, sb_engine_client_erase(e, id, by, &out), 200, &out, NULL, "client");
    else
        sb_api_reply(c, sb_engine_client_json(e, id, &out), 200, &out, NULL, "client");
}

void sb_rest_client_messages(sb_rest_ctx *c)
{
    size_t limit;
    char cursor[64], *out = NULL;
    if (!sb_api_page(c, &limit, cursor, sizeof cursor)) return;
    sb_api_reply(c, sb_engine_client_messages(c->api->d.engine, c->seg[1], *cursor ? cursor : NULL,
                                              limit, &out), 200, &out, SB_API_BAD_CURSOR, "client");
}

void sb_rest_client_merge(sb_rest_ctx *c)
{
    json_t *b = sb_api_body(c);
    if (!b) return;
    const char *src = json_string_value(json_object_get(b, "client_id"));
    char *out = NULL, err[256] = "";
    const char *by = *c->who.user_id ? c->who.user_id : c->who.login;
    sb_status st = src ? sb_engine_client_merge(c->api->d.engine, c->seg[1], src, by, &out, err,
                                                sizeof err)
                       : SB_ERR_INVALID;
    if (!src) snprintf(err, sizeof err, "client_id: required");
    json_decref(b);
    sb_api_reply(c, st, 200, &out, err, "client");
}

void sb_rest_audit(sb_rest_ctx *c)
{
    size_t limit;
    char cursor[64], *out = NULL;
    if (!sb_api_page(c, &limit, cursor, sizeof cursor)) return;
    sb_api_reply(c, sb_engine_audit_list(c->api->d.engine, *cursor ? cursor : NULL, limit, &out),
                 200, &out, NULL, "audit");
}

void sb_rest_audit_undo(sb_rest_ctx *c)
{
    char *out = NULL;
    const char *by = *c->who.user_id ? c->who.user_id : c->who.login;
    sb_api_reply(c, sb_engine_audit_undo(c->api->d.engine, c->seg[1], by, &out), 200, &out, NULL,
                 "audit record");
}
