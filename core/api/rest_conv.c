/* /conversations: lists, reads, replies and the operators' actions. An
 * operator reaches only the conversations of its groups (and those
 * assigned or queued to it); admins and supervisors reach all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "util/query.h"

#define MAX_BUTTONS 20

/* False after answering 404/403. */
static bool visible(sb_rest_ctx *c, const char *conv_id)
{
    if (sb_api_sees_all(&c->who)) return true;
    bool ok = false;
    sb_status st = *c->who.user_id
                       ? sb_engine_conversation_visible(c->api->d.engine, conv_id, c->who.user_id, &ok)
                       : SB_OK;
    if (st == SB_ERR_NOT_FOUND) {
        sb_http_error(c->api->d.http, c->req->id, 404, "not_found", "conversation not found");
        return false;
    }
    if (!ok) {
        sb_http_error(c->api->d.http, c->req->id, 403, "forbidden",
                      "this conversation belongs to a group you are not in");
        return false;
    }
    return true;
}

/* Drops the items an operator may not see from a list page. */
static char *filter_visible(sb_rest_ctx *c, char *page)
{
    if (sb_api_sees_all(&c->who) || !page) return page;
    json_t *o = json_loads(page, 0, NULL);
    free(page);
    json_t *items = json_object_get(o, "items");
    for (size_t i = json_array_size(items); i-- > 0;) {
        json_t *it = json_array_get(items, i);
        const char *g = json_string_value(json_object_get(it, "group_id"));
        const char *op = json_string_value(json_object_get(it, "operator_id"));
        if (!*c->who.user_id || !sb_engine_operator_sees(c->api->d.engine, c->who.user_id, g, op))
            json_array_remove(items, i);
    }
    char *out = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return out;
}

void sb_rest_conversations(sb_rest_ctx *c)
{
    char status[16] = "", group[80] = "", op[32] = "", client[32] = "", cursor[64];
    size_t limit;
    if (!sb_api_page(c, &limit, cursor, sizeof cursor)) return;
    const struct { const char *name; char *buf; size_t cap; } q[] = {
        {"status", status, sizeof status}, {"group", group, sizeof group},
        {"operator", op, sizeof op}, {"client", client, sizeof client}};
    for (size_t i = 0; i < 4; i++)
        if (sb_query_get(c->req->query, q[i].name, q[i].buf, q[i].cap) == -2) {
            char msg[64];
            snprintf(msg, sizeof msg, "%s: malformed or too long", q[i].name);
            sb_http_error(c->api->d.http, c->req->id, 400, "bad_request", msg);
            return;
        }
    sb_conv_filter f = {status, group, op, client, *cursor ? cursor : NULL, limit};
    char *out = NULL, err[256] = "";
    sb_status st = sb_engine_conversations_list(c->api->d.engine, &f, &out, err, sizeof err);
    if (st == SB_OK) out = filter_visible(c, out);
    sb_api_reply(c, st, 200, &out, err, "conversations");
}

void sb_rest_conversation(sb_rest_ctx *c)
{
    char *out = NULL;
    if (!visible(c, c->seg[1])) return;
    sb_api_reply(c, sb_engine_conversation_json(c->api->d.engine, c->seg[1], &out), 200, &out, NULL,
                 "conversation");
}

static void post_message(sb_rest_ctx *c)
{
    json_t *b = sb_api_body(c);
    if (!b) return;
    json_t *text = json_object_get(b, "text"), *buttons = json_object_get(b, "buttons");
    const char *err = NULL;
    sb_button bt[MAX_BUTTONS];
    size_t nb = 0;
    if (!json_is_string(text) || json_string_length(text) == 0)
        err = "text: required, a non-empty string";
    else if (buttons && !json_is_null(buttons) &&
             (!json_is_array(buttons) || json_array_size(buttons) > MAX_BUTTONS))
        err = "buttons: expected an array of at most 20 {id, title}";
    for (size_t i = 0; !err && json_is_array(buttons) && i < json_array_size(buttons); i++) {
        json_t *it = json_array_get(buttons, i);
        bt[nb].id = json_string_value(json_object_get(it, "id"));
        bt[nb].title = json_string_value(json_object_get(it, "title"));
        if (!bt[nb].id || !bt[nb].title || !*bt[nb].id) err = "buttons[]: id and title required";
        nb++;
    }
    if (err) {
        sb_http_error(c->api->d.http, c->req->id, 400, "bad_request", err);
        json_decref(b);
        return;
    }
    sb_reply r = {.conversation_id = c->seg[1], .author_kind = "operator",
                  .author_id = *c->who.user_id ? c->who.user_id : NULL,
                  .text = json_string_value(text), .buttons = bt, .n_buttons = nb};
    char *out = NULL;
    sb_status st = sb_engine_reply(c->api->d.engine, &r, &out);
    json_decref(b);
    sb_api_reply(c, st, 202, &out, NULL, "conversation");
}

void sb_rest_conversation_messages(sb_rest_ctx *c)
{
    if (!visible(c, c->seg[1])) return;
    if (strcmp(c->req->method, "POST") == 0) {
        post_message(c);
        return;
    }
    size_t limit;
    char cursor[64], *out = NULL;
    if (!sb_api_page(c, &limit, cursor, sizeof cursor)) return;
    sb_api_reply(c, sb_engine_conversation_messages(c->api->d.engine, c->seg[1],
                                                    *cursor ? cursor : NULL, limit, &out),
                 200, &out, SB_API_BAD_CURSOR, "conversation");
}

/* take, assign, transfer, close. */
void sb_rest_conversation_action(sb_rest_ctx *c)
{
    sb_engine *e = c->api->d.engine;
    const char *id = c->seg[1], *act = c->seg[2];
    const char *by = *c->who.user_id ? c->who.user_id : NULL;
    char *out = NULL, err[256] = "";
    sb_status st;
    if (strcmp(act, "take") == 0) {
        if (!by) {
            sb_http_error(c->api->d.http, c->req->id, 400, "bad_request",
                          "an API token is not an operator: use assign");
            return;
        }
        if (!visible(c, id)) return;
        st = sb_engine_conversation_take(e, id, by, &out);
    } else if (strcmp(act, "close") == 0) {
        if (!visible(c, id)) return;
        /* an optional body {"ask_rating": true} asks the client to rate it */
        json_t *b = c->req->body_len ? sb_api_body(c) : NULL;
        if (c->req->body_len && !b) return;
        json_t *ask = json_object_get(b, "ask_rating");
        if (ask && !json_is_boolean(ask)) {
            json_decref(b);
            sb_http_error(c->api->d.http, c->req->id, 400, "bad_request",
                          "ask_rating: must be true or false");
            return;
        }
        st = sb_engine_conversation_close_ex(e, id, by, json_is_true(ask), &out);
        json_decref(b);
    } else {
        if (!visible(c, id)) return;
        json_t *b = sb_api_body(c);
        if (!b) return;
        const char *op = json_string_value(json_object_get(b, "operator_id"));
        const char *grp = json_string_value(json_object_get(b, "group_id"));
        if (strcmp(act, "assign") == 0) {
            st = op ? sb_engine_conversation_assign(e, id, op, by, &out) : SB_ERR_INVALID;
            if (!op) snprintf(err, sizeof err, "operator_id: required");
        } else {
            sb_transfer t = {op, grp, by, json_string_value(json_object_get(b, "note"))};
            st = sb_engine_conversation_transfer(e, id, &t, &out, err, sizeof err);
        }
        json_decref(b);
    }
    sb_api_reply(c, st, 200, &out, err, "conversation");
}

void sb_rest_conversation_tags(sb_rest_ctx *c)
{
    char *out = NULL, err[256] = "";
    if (!visible(c, c->seg[1])) return;
    sb_api_reply(c, sb_engine_conversation_set_tags(c->api->d.engine, c->seg[1], c->req->body,
                                                    c->req->body_len, &out, err, sizeof err),
                 200, &out, err, "conversation");
}

void sb_rest_conversation_attributes(sb_rest_ctx *c)
{
    char *out = NULL, err[256] = "";
    if (!visible(c, c->seg[1])) return;
    sb_api_reply(c, sb_engine_conversation_patch_attributes(c->api->d.engine, c->seg[1],
                                                            c->req->body, c->req->body_len, &out,
                                                            err, sizeof err),
                 200, &out, err, "conversation");
}
