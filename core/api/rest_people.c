/* /me, /operators, /groups, /queues, /templates, /plugins. */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/password.h"

#define IS(c, m) (strcmp((c)->req->method, (m)) == 0)

void sb_rest_me(sb_rest_ctx *c)
{
    char *op = NULL;
    if (*c->who.user_id) sb_engine_operator_json(c->api->d.engine, c->who.user_id, &op);
    json_t *o = json_pack("{s:{s:s?, s:s, s:s}}", "user", "id",
                          *c->who.user_id ? c->who.user_id : NULL, "login", c->who.login,
                          "role", c->who.role);
    json_t *opj = op ? json_loads(op, 0, NULL) : NULL;
    free(op);
    if (o && !json_object_get(json_object_get(o, "user"), "id"))
        json_object_set_new(json_object_get(o, "user"), "id", json_null());
    if (o) json_object_set_new(o, "operator", opj ? opj : json_null());
    sb_api_send_json(c->api, c->req->id, 200, o ? json_dumps(o, JSON_COMPACT) : NULL);
    json_decref(o);
}

void sb_rest_me_status(sb_rest_ctx *c)
{
    if (!*c->who.user_id) {
        sb_http_error(c->api->d.http, c->req->id, 400, "bad_request",
                      "an API token is not an operator: log in to set a status");
        return;
    }
    json_t *b = sb_api_body(c);
    if (!b) return;
    const char *s = json_string_value(json_object_get(b, "status"));
    if (!s || (strcmp(s, "online") && strcmp(s, "away") && strcmp(s, "offline"))) {
        sb_http_error(c->api->d.http, c->req->id, 400, "bad_request",
                      "status: one of online, away, offline");
    } else {
        char *out = NULL;
        sb_status st = sb_engine_operator_set_status(c->api->d.engine, c->who.user_id, s, &out);
        sb_api_reply(c, st, 200, &out, NULL, "operator");
    }
    json_decref(b);
}

/* ---- operators: a password in the body is hashed on a worker first ------ */
typedef struct {
    uint64_t req_id;
    char id[SB_API_SEG_MAX];  /* "" = create */
    char *body;
    size_t len;
} op_write;

static void op_write_finish(sb_api *api, op_write *w, const char *hash)
{
    sb_rest_ctx c = {.api = api};
    sb_http_req fake = {.id = w->req_id};
    c.req = &fake;
    char *out = NULL, err[256] = "";
    sb_status st = *w->id ? sb_engine_operator_update(api->d.engine, w->id, w->body, w->len, hash,
                                                      &out, err, sizeof err)
                          : sb_engine_operator_create(api->d.engine, w->body, w->len, hash, &out,
                                                      err, sizeof err);
    sb_api_reply(&c, st, *w->id ? 200 : 201, &out, err, "operator");
    free(w->body);
    free(w);
}

static void op_hashed(sb_api *api, void *ud, const char *hash)
{
    op_write *w = ud;
    if (hash) {
        op_write_finish(api, w, hash);
        return;
    }
    sb_http_error(api->d.http, w->req_id, 503, "unavailable", "cannot hash the password");
    free(w->body);
    free(w);
}

static void op_write_start(sb_rest_ctx *c, const char *id)
{
    json_t *b = sb_api_body(c);
    if (!b) return;
    json_t *pw = json_object_get(b, "password");
    const char *bad = NULL;
    if (pw && (!json_is_string(pw) || json_string_length(pw) < 8 ||
               json_string_length(pw) > SB_PASSWORD_MAX))
        bad = "password: a string of 8 to 1024 characters";
    else if (!id && !pw)
        bad = "password: required";
    op_write *w = bad ? NULL : calloc(1, sizeof *w);
    char *pass = pw ? strdup(json_string_value(pw)) : NULL;
    json_object_del(b, "password"); /* the engine never sees it */
    if (w) {
        w->req_id = c->req->id;
        snprintf(w->id, sizeof w->id, "%s", id ? id : "");
        w->body = json_dumps(b, JSON_COMPACT);
        w->len = w->body ? strlen(w->body) : 0;
    }
    json_decref(b);
    if (bad) {
        sb_http_error(c->api->d.http, c->req->id, 400, "bad_request", bad);
    } else if (!w || !w->body || (pw && !pass)) {
        if (w) free(w->body);
        free(w);
        sb_http_error(c->api->d.http, c->req->id, 500, "internal", "out of memory");
    } else if (!pass) {
        op_write_finish(c->api, w, NULL);
    } else if (sb_api_hash_password(c->api, pass, op_hashed, w) != SB_OK) {
        free(w->body);
        free(w);
        sb_http_error(c->api->d.http, c->req->id, 503, "unavailable", "too busy, try again");
    }
    if (pass) {
        memset(pass, 0, strlen(pass));
        free(pass);
    }
}

void sb_rest_operators(sb_rest_ctx *c)
{
    if (IS(c, "POST")) {
        op_write_start(c, NULL);
        return;
    }
    size_t limit;
    char cursor[64], *out = NULL;
    if (!sb_api_page(c, &limit, cursor, sizeof cursor)) return;
    sb_api_reply(c, sb_engine_operators_list(c->api->d.engine, *cursor ? cursor : NULL, limit,
                                             &out), 200, &out, NULL, "operators");
}

void sb_rest_operator(sb_rest_ctx *c)
{
    const char *id = c->seg[1];
    char *out = NULL;
    if (IS(c, "PATCH")) op_write_start(c, id);
    else if (IS(c, "DELETE")) sb_api_reply(c, sb_engine_operator_delete(c->api->d.engine, id), 204, NULL, NULL, "operator");
    else sb_api_reply(c, sb_engine_operator_json(c->api->d.engine, id, &out), 200, &out, NULL, "operator");
}

/* ---- groups, queues, templates, plugins --------------------------------- */
void sb_rest_groups(sb_rest_ctx *c)
{
    char *out = NULL, err[256] = "";
    if (!IS(c, "POST")) {
        sb_api_reply(c, sb_engine_groups_list(c->api->d.engine, &out), 200, &out, NULL, "groups");
        return;
    }
    sb_status st = sb_engine_group_create(c->api->d.engine, c->req->body, c->req->body_len, &out,
                                          err, sizeof err);
    sb_api_reply(c, st, 201, &out, err, "group");
}

void sb_rest_group(sb_rest_ctx *c)
{
    const char *id = c->seg[1];
    char *out = NULL, err[256] = "";
    sb_engine *e = c->api->d.engine;
    if (IS(c, "PATCH"))
        sb_api_reply(c, sb_engine_group_update(e, id, c->req->body, c->req->body_len, &out, err,
                                               sizeof err), 200, &out, err, "group");
    else if (IS(c, "DELETE"))
        sb_api_reply(c, sb_engine_group_delete(e, id), 204, NULL, NULL, "group");
    else
        sb_api_reply(c, sb_engine_group_json(e, id, &out), 200, &out, NULL, "group");
}

void sb_rest_queues(sb_rest_ctx *c)
{
    char *out = NULL;
    sb_api_reply(c, sb_engine_queue_stats(c->api->d.engine, NULL, &out), 200, &out, NULL, "queues");
}

void sb_rest_templates(sb_rest_ctx *c)
{
    char *out = NULL, err[256] = "", cursor[64];
    size_t limit;
    if (IS(c, "POST")) {
        sb_api_reply(c, sb_engine_template_create(c->api->d.engine, c->req->body, c->req->body_len,
                                                  &out, err, sizeof err), 201, &out, err, "template");
        return;
    }
    if (!sb_api_page(c, &limit, cursor, sizeof cursor)) return;
    sb_api_reply(c, sb_engine_templates_list(c->api->d.engine, *cursor ? cursor : NULL, limit, &out),
                 200, &out, NULL, "templates");
}

void sb_rest_template(sb_rest_ctx *c)
{
    const char *id = c->seg[1];
    char *out = NULL, err[256] = "";
    sb_engine *e = c->api->d.engine;
    if (IS(c, "PUT"))
        sb_api_reply(c, sb_engine_template_update(e, id, c->req->body, c->req->body_len, &out, err,
                                                  sizeof err), 200, &out, err, "template");
    else if (IS(c, "DELETE"))
        sb_api_reply(c, sb_engine_template_delete(e, id), 204, NULL, NULL, "template");
    else
        sb_api_reply(c, sb_engine_template_json(e, id, &out), 200, &out, NULL, "template");
}

void sb_rest_plugins(sb_rest_ctx *c)
{
    sb_api_send_json(c->api, c->req->id, 200, sb_plugins_json(c->api->d.plugins));
}
