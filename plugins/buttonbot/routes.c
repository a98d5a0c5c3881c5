/* The scenario through the API: GET (any role), PUT and DELETE (admin) on
 * /api/v1/bots/buttonbot/<instance>/scenarios. A PUT scenario is validated
 * like the file, stored in kv "scenario" and used for new conversations;
 * it wins over the file at restart until a DELETE returns to the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb.h"

#define KV_SCENARIO "scenario"

typedef struct pending {
    bb_state *s;
    uint64_t reply_id;
    bb_scenario *sc;   /* NULL: a DELETE */
} pending;

static void reply_json(bb_state *s, uint64_t reply_id, int status, json_t *j)
{
    char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (txt) s->host->http_reply(s->ctx, reply_id, status, "application/json", NULL, 0, txt, strlen(txt));
    else s->host->http_error(s->ctx, reply_id, 500, "internal", "out of memory");
    free(txt);
    json_decref(j);
}

static json_t *describe(const bb_scenario *sc, const char *source, int with_text)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:i}", "source", source, "origin", sc->source,
                          "start", sc->steps[sc->start.ix].id, "steps", (int)sc->n_steps);
    if (j && with_text) json_object_set_new(j, "text", json_stringn(sc->text, sc->text_len));
    return j;
}

static void stored(void *ud, sb_status st)
{
    pending *p = ud;
    bb_state *s = p->s;
    if (st != SB_OK) {
        s->host->log(s->ctx, SB_LOG_ERROR, "scenario not stored: %s", s->host->strstatus(st));
        s->host->http_error(s->ctx, p->reply_id, 503, "unavailable", "the scenario could not be stored");
        bb_scenario_unref(p->sc);
    } else if (p->sc) {
        bb_use(s, p->sc, 1);
        s->host->log(s->ctx, SB_LOG_INFO, "scenario replaced through the API (%zu steps)", p->sc->n_steps);
        reply_json(s, p->reply_id, 200, describe(p->sc, "api", 0));
    } else {
        bb_scenario_ref(s->file_sc);
        bb_use(s, s->file_sc, 0);
        s->host->log(s->ctx, SB_LOG_INFO, "scenario back to the file %s", s->file_sc->source);
        reply_json(s, p->reply_id, 200, describe(s->file_sc, "file", 0));
    }
    free(p);
}

static void put(bb_state *s, const sb_http_request *req)
{
    if (req->body_len == 0) {
        s->host->http_error(s->ctx, req->reply_id, 400, "invalid", "body: a scenario in YAML or JSON required");
        return;
    }
    if (req->body_len > BB_MAX_TEXT) {
        s->host->http_error(s->ctx, req->reply_id, 413, "too_large", "body: larger than 256 KiB");
        return;
    }
    bb_errors err = {0};
    bb_scenario *sc = bb_load(s, "body", req->body, req->body_len, &err);
    if (!sc) {
        char *msg = bb_errors_join(&err);
        s->host->http_error(s->ctx, req->reply_id, 400, "invalid_scenario", msg ? msg : "invalid scenario");
        free(msg);
        bb_errors_free(&err);
        return;
    }
    pending *p = malloc(sizeof *p);
    sb_status st = p ? SB_OK : SB_ERR_NOMEM;
    if (p) {
        *p = (pending){s, req->reply_id, sc};
        st = s->host->kv_put(s->ctx, KV_SCENARIO, strlen(KV_SCENARIO), req->body, req->body_len, stored, p);
    }
    if (st != SB_OK) {
        free(p);
        bb_scenario_unref(sc);
        s->host->http_error(s->ctx, req->reply_id, 503, "unavailable", "the scenario could not be stored");
    }
}

static void del(bb_state *s, const sb_http_request *req)
{
    pending *p = malloc(sizeof *p);
    sb_status st = p ? SB_OK : SB_ERR_NOMEM;
    if (p) {
        *p = (pending){s, req->reply_id, NULL};
        st = s->host->kv_del(s->ctx, KV_SCENARIO, strlen(KV_SCENARIO), stored, p);
    }
    if (st == SB_ERR_NOT_FOUND) {  /* nothing stored: already the file's */
        stored(p, SB_OK);
        return;
    }
    if (st != SB_OK) {
        free(p);
        s->host->http_error(s->ctx, req->reply_id, 503, "unavailable", "the scenario could not be reset");
    }
}

static void handle(void *ud, const sb_http_request *req)
{
    bb_state *s = ud;
    const char *role = SB_REQ_HAS(req, auth_role) ? req->auth_role : NULL;
    if (!role) {  /* the route asks the core for a token; this is a second lock */
        s->host->http_error(s->ctx, req->reply_id, 401, "unauthorized", "a bearer token is required");
        return;
    }
    if (!strcmp(req->method, "GET")) {
        int file = !strcmp(req->query, "source=file");
        if (*req->query && !file && strcmp(req->query, "source=active")) {
            s->host->http_error(s->ctx, req->reply_id, 400, "invalid", "source: expected file or active");
            return;
        }
        const bb_scenario *sc = file ? s->file_sc : s->sc;
        reply_json(s, req->reply_id, 200, describe(sc, file || !s->sc_from_api ? "file" : "api", 1));
        return;
    }
    if (strcmp(req->method, "PUT") && strcmp(req->method, "DELETE")) {
        s->host->http_error(s->ctx, req->reply_id, 405, "method_not_allowed", "expected GET, PUT or DELETE");
        return;
    }
    if (strcmp(role, "admin")) {
        s->host->http_error(s->ctx, req->reply_id, 403, "forbidden", "changing a scenario needs the admin role");
        return;
    }
    if (!strcmp(req->method, "PUT")) put(s, req);
    else del(s, req);
}

sb_status bb_routes_register(bb_state *s)
{
    char path[300];
    snprintf(path, sizeof path, "/bots/%s/%s/scenarios", s->host->plugin_name(s->ctx),
             s->host->instance_name(s->ctx));
    return s->host->http_route(s->ctx, NULL, path, SB_ROUTE_API | SB_ROUTE_AUTH_OPERATOR, handle, s);
}
