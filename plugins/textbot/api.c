/* REST routes of one knowledge base, under /api/v1/kb/<kb>/ (api.md):
 *   GET  articles?limit&cursor        list {id,title}, by id      any role
 *   POST articles                     one article, or an array    supervisor+
 *                                     (bulk import: replaces same ids)
 *   GET|PUT|DELETE articles/<id>                                  read any, write supervisor+
 *   POST search {"query","limit"}     {"items":[{id,title,score}]} any role
 *   GET  unanswered?limit&cursor      newest first                any role
 * The core checks the token and role (SB_ROUTE_AUTH_*); the handlers check
 * again so a route registered with a wrong flag cannot open a write. Writes
 * are answered once kv has them durably. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textbot.h"

#define JSON_TYPE "application/json"
#define LIST_DEFAULT 50
#define LIST_MAX 500
#define SEARCH_DEFAULT 10

enum { READ = 0, WRITE = 1 };

static void reply_json(textbot *b, uint64_t rid, int status, const char *body)
{
    b->host->http_reply(b->ctx, rid, status, JSON_TYPE, NULL, 0, body, body ? strlen(body) : 0);
}

static void bad(textbot *b, uint64_t rid, const char *field, const char *msg)
{
    char text[256];
    snprintf(text, sizeof text, "%s: %s", field, msg);
    b->host->http_error(b->ctx, rid, 400, "invalid", text);
}

static int allowed(textbot *b, const sb_http_request *req, int write)
{
    const char *role = SB_REQ_HAS(req, auth_role) ? req->auth_role : NULL;
    if (!role) {
        b->host->http_error(b->ctx, req->reply_id, 401, "unauthorized", "a valid bearer token is required");
        return 0;
    }
    if (write && strcmp(role, "supervisor") && strcmp(role, "admin")) {
        b->host->http_error(b->ctx, req->reply_id, 403, "forbidden",
                            "editing the knowledge base needs the supervisor or admin role");
        return 0;
    }
    return 1;
}

/* ?limit=: 1..max, default def; -1 after answering 400. */
static long read_limit(textbot *b, const sb_http_request *req, long def, long max)
{
    char v[16];
    int r = tbp_query_param(req->query, "limit", v, sizeof v);
    if (r == 0) return def;
    char *end = NULL;
    long n = r > 0 ? strtol(v, &end, 10) : 0;
    if (r < 0 || end == v || *end || n < 1 || n > max) {
        char msg[64];
        snprintf(msg, sizeof msg, "must be an integer from 1 to %ld", max);
        bad(b, req->reply_id, "limit", msg);
        return -1;
    }
    return n;
}

static json_t *parse_body(textbot *b, const sb_http_request *req)
{
    json_error_t err;
    json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (!j) {
        char msg[200];
        snprintf(msg, sizeof msg, "not valid JSON (line %d: %s)", err.line, err.text);
        bad(b, req->reply_id, "body", msg);
    }
    return j;
}

/* ---- answers after durable writes ------------------------------------------ */

typedef struct pending {
    textbot *b;
    uint64_t rid;                 /* 0: answered already */
    int status;
    char *body;                   /* NULL: no body (204) */
} pending;

static void pending_done(void *ud, sb_status st)
{
    pending *p = ud;
    if (!p->rid) {
        /* answered already, with the error that stopped the change */
    } else if (st == SB_OK) reply_json(p->b, p->rid, p->status, p->body);
    else {
        /* the index already has the change: it holds until a restart */
        char msg[160];
        snprintf(msg, sizeof msg, "not stored (%s): the change is lost at restart; repeat it "
                 "(PUT for an article that exists)", p->b->host->strstatus(st));
        p->b->host->http_error(p->b->ctx, p->rid, st == SB_ERR_CANCELLED ? 503 : 500,
                               "storage_error", msg);
    }
    free(p->body);
    free(p);
}

/* Starts a change answered with status + body (taken) once stored. */
static tbp_writes *begin(textbot *b, uint64_t rid, pending **out)
{
    pending *p = calloc(1, sizeof *p);
    tbp_writes *w = p ? tbp_writes_new(b, pending_done, p) : NULL;
    if (!w) {
        free(p);
        b->host->http_error(b->ctx, rid, 500, "internal", "out of memory");
        return NULL;
    }
    p->b = b;
    p->rid = rid;
    *out = p;
    return w;
}

static void put_error(textbot *b, uint64_t rid, sb_status st)
{
    if (st == SB_ERR_FULL)
        b->host->http_error(b->ctx, rid, 409, "kb_full", "the knowledge base holds max_articles articles");
    else
        b->host->http_error(b->ctx, rid, 500, "internal", b->host->strstatus(st));
}

/* ---- articles ----------------------------------------------------------- */

static void list_articles(void *ud, const sb_http_request *req)
{
    textbot *b = ud;
    if (!allowed(b, req, READ)) return;
    long limit = read_limit(b, req, LIST_DEFAULT, LIST_MAX);
    if (limit < 0) return;
    char cursor[TB_ID_MAX + 2] = "";
    int r = tbp_query_param(req->query, "cursor", cursor, sizeof cursor);
    if (r < 0 || (r > 0 && *cursor && !tbp_valid_id(cursor))) {
        bad(b, req->reply_id, "cursor", "not a cursor this list gave");
        return;
    }
    json_t *items = json_array();
    json_t *root = json_pack("{s:o, s:n}", "items", items, "next_cursor");
    size_t i = tbp_kb_after(b, cursor);
    for (; root && i < b->n_ids && json_array_size(items) < (size_t)limit; i++)
        json_array_append_new(items, json_pack("{s:s, s:s}", "id", b->ids[i], "title",
                                               tb_index_title(b->ix, b->ids[i])));
    if (root && i < b->n_ids && i > 0)
        json_object_set_new(root, "next_cursor", json_string(b->ids[i - 1]));
    char *out = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (out) reply_json(b, req->reply_id, 200, out);
    else b->host->http_error(b->ctx, req->reply_id, 500, "internal", "out of memory");
    free(out);
}

static void create_one(textbot *b, const sb_http_request *req, json_t *o)
{
    tbp_article a;
    char field[128], id[TB_ID_MAX + 1];
    const char *err = tbp_article_parse(o, "", &a, field, sizeof field);
    if (err) {
        bad(b, req->reply_id, field, err);
        return;
    }
    if (a.id && tbp_kb_has(b, a.id)) {
        b->host->http_error(b->ctx, req->reply_id, 409, "exists",
                            "id: an article with this id exists (PUT replaces it)");
        return;
    }
    if (!a.id) {
        tbp_kb_new_id(b, id);
        a.id = id;
    }
    pending *p;
    tbp_writes *w = begin(b, req->reply_id, &p);
    if (!w) return;
    uint64_t dirty = 0;
    sb_status st = tbp_kb_put(b, &a, &dirty, w);
    if (st != SB_OK) {
        p->rid = 0;   /* answered here; the writes' answer goes nowhere */
        put_error(b, req->reply_id, st);
    } else {
        tbp_kb_flush(b, dirty, w);
        p->status = 201;
        p->body = tbp_kb_get_json(b, a.id, NULL);
    }
    tbp_writes_end(w);
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* An array: every item is checked first, then all are stored (ids already
 * in the KB are replaced, so re-running an import is harmless). */
static void create_bulk(textbot *b, const sb_http_request *req, json_t *arr)
{
    size_t n = json_array_size(arr);
    if (!n) {
        bad(b, req->reply_id, "body", "an empty array imports nothing");
        return;
    }
    if (n > TBP_BULK_MAX) {
        b->host->http_error(b->ctx, req->reply_id, 413, "too_large",
                            "body: at most 1000 articles per request");
        return;
    }
    tbp_article a;
    char field[128], where[32];
    size_t fresh = 0, n_ids = 0;
    const char **ids = malloc(n * sizeof *ids);
    if (!ids) {
        b->host->http_error(b->ctx, req->reply_id, 500, "internal", "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(where, sizeof where, "[%zu].", i);
        const char *err = tbp_article_parse(json_array_get(arr, i), where, &a, field, sizeof field);
        if (err) {
            free(ids);
            bad(b, req->reply_id, field, err);
            return;
        }
        if (!a.id || !tbp_kb_has(b, a.id)) fresh++;
        if (a.id) ids[n_ids++] = a.id;
    }
    qsort(ids, n_ids, sizeof *ids, cmp_str);
    for (size_t i = 1; i < n_ids; i++) {
        if (!strcmp(ids[i - 1], ids[i])) {
            snprintf(field, sizeof field, "\"%.64s\" appears twice in one import", ids[i]);
            free(ids);
            bad(b, req->reply_id, "id", field);
            return;
        }
    }
    free(ids);
    if (b->n_ids + fresh > (size_t)b->max_articles) {
        put_error(b, req->reply_id, SB_ERR_FULL);
        return;
    }
    pending *p;
    tbp_writes *w = begin(b, req->reply_id, &p);
    if (!w) return;
    json_t *items = json_array();
    uint64_t dirty = 0;
    sb_status st = items ? SB_OK : SB_ERR_NOMEM;
    for (size_t i = 0; st == SB_OK && i < n; i++) {
        char id[TB_ID_MAX + 1];
        tbp_article_parse(json_array_get(arr, i), "", &a, field, sizeof field);
        if (!a.id) {
            tbp_kb_new_id(b, id);
            a.id = id;
        }
        st = tbp_kb_put(b, &a, &dirty, w);
        if (st == SB_OK) json_array_append_new(items, json_pack("{s:s, s:s}", "id", a.id, "title", a.title));
    }
    tbp_kb_flush(b, dirty, w);
    json_t *root = json_pack("{s:I, s:o}", "imported", (json_int_t)json_array_size(items), "items", items);
    if (st != SB_OK || !root) {
        p->rid = 0;
        put_error(b, req->reply_id, st != SB_OK ? st : SB_ERR_NOMEM);
    } else {
        p->status = 201;
        p->body = json_dumps(root, JSON_COMPACT);
    }
    json_decref(root);
    tbp_writes_end(w);
}

static void create_articles(void *ud, const sb_http_request *req)
{
    textbot *b = ud;
    if (!allowed(b, req, WRITE)) return;
    json_t *j = parse_body(b, req);
    if (!j) return;
    if (json_is_array(j)) create_bulk(b, req, j);
    else create_one(b, req, j);
    json_decref(j);
}

/* The id of /articles/<id>; NULL after answering 404. */
static const char *path_id(textbot *b, const sb_http_request *req)
{
    const char *id = req->subpath ? req->subpath : "";
    if (*id == '/') id++;
    if (!tbp_valid_id(id) || !tbp_kb_has(b, id)) {
        b->host->http_error(b->ctx, req->reply_id, 404, "not_found", "no such article");
        return NULL;
    }
    return id;
}

static void get_article(textbot *b, const sb_http_request *req, const char *id)
{
    size_t len = 0;
    char *text = tbp_kb_get_json(b, id, &len);
    if (text) b->host->http_reply(b->ctx, req->reply_id, 200, JSON_TYPE, NULL, 0, text, len);
    else b->host->http_error(b->ctx, req->reply_id, 500, "storage_error", "article unreadable");
    free(text);
}

static void put_article(textbot *b, const sb_http_request *req, const char *id)
{
    json_t *o = parse_body(b, req);
    if (!o) return;
    tbp_article a;
    char field[128];
    const char *err = tbp_article_parse(o, "", &a, field, sizeof field);
    if (!err && a.id && strcmp(a.id, id)) {
        err = "does not match the article's path";
        snprintf(field, sizeof field, "id");
    }
    pending *p = NULL;
    tbp_writes *w = err ? NULL : begin(b, req->reply_id, &p);
    if (err) bad(b, req->reply_id, field, err);
    if (w) {
        a.id = id;
        uint64_t dirty = 0;
        sb_status st = tbp_kb_put(b, &a, &dirty, w);
        if (st != SB_OK) {
            p->rid = 0;
            put_error(b, req->reply_id, st);
        } else {
            p->status = 200;
            p->body = tbp_kb_get_json(b, id, NULL);
        }
        tbp_writes_end(w);
    }
    json_decref(o);
}

static void del_article(textbot *b, const sb_http_request *req, const char *id)
{
    pending *p;
    tbp_writes *w = begin(b, req->reply_id, &p);
    if (!w) return;
    uint64_t dirty = 0;
    tbp_kb_del(b, id, &dirty, w);
    tbp_kb_flush(b, dirty, w);
    p->status = 204;
    tbp_writes_end(w);
}

static void one_article(void *ud, const sb_http_request *req)
{
    textbot *b = ud;
    int write = strcmp(req->method, "GET") != 0;
    if (!allowed(b, req, write)) return;
    const char *id = path_id(b, req);
    if (!id) return;
    if (!strcmp(req->method, "GET")) get_article(b, req, id);
    else if (!strcmp(req->method, "PUT")) put_article(b, req, id);
    else del_article(b, req, id);
}

/* ---- search and unanswered ------------------------------------------------- */

static void search(void *ud, const sb_http_request *req)
{
    textbot *b = ud;
    if (!allowed(b, req, READ)) return;
    json_t *o = parse_body(b, req);
    if (!o) return;
    const char *key, *field = NULL, *msg = NULL;
    json_t *v;
    if (!json_is_object(o)) field = "body", msg = "must be an object {\"query\",\"limit\"}";
    else json_object_foreach(o, key, v) {
        if (strcmp(key, "query") && strcmp(key, "limit")) {
            field = key, msg = "unknown field";
            break;
        }
    }
    json_t *q = json_object_get(o, "query"), *l = json_object_get(o, "limit");
    if (!field && (!json_is_string(q) || json_string_length(q) > TBP_QUERY_MAX ||
                   json_string_length(q) != strlen(json_string_value(q))))
        field = "query", msg = "required: a string of at most 2048 bytes";
    json_int_t limit = SEARCH_DEFAULT;
    if (!field && l) {
        limit = json_is_integer(l) ? json_integer_value(l) : 0;
        if (limit < 1 || limit > TB_LIMIT_MAX) field = "limit", msg = "must be an integer from 1 to 50";
    }
    if (field) {
        char name[80];
        snprintf(name, sizeof name, "%.64s", field);
        bad(b, req->reply_id, name, msg);
    } else {
        char *out = tb_search_json(b->ix, json_string_value(q), (size_t)limit);
        if (out) reply_json(b, req->reply_id, 200, out);
        else b->host->http_error(b->ctx, req->reply_id, 500, "internal", "out of memory");
        free(out);
    }
    json_decref(o);
}

static void unanswered(void *ud, const sb_http_request *req)
{
    textbot *b = ud;
    if (!allowed(b, req, READ)) return;
    long limit = read_limit(b, req, LIST_DEFAULT, LIST_MAX);
    if (limit < 0) return;
    char cur[24];
    unsigned long long before = 0;
    int r = tbp_query_param(req->query, "cursor", cur, sizeof cur);
    char *end = NULL;
    if (r > 0) before = strtoull(cur, &end, 10);
    if (r < 0 || (r > 0 && (end == cur || *end || *cur == '-' || !before))) {
        bad(b, req->reply_id, "cursor", "not a cursor this list gave");
        return;
    }
    char *out = tbp_unanswered_json(b, before, (size_t)limit);
    if (out) reply_json(b, req->reply_id, 200, out);
    else b->host->http_error(b->ctx, req->reply_id, 500, "internal", "out of memory");
    free(out);
}

sb_status tbp_api_routes(textbot *b)
{
    static const struct {
        const char *method, *path;
        unsigned flags;
        sb_http_handler fn;
    } routes[] = {
        {"GET", "/articles", SB_ROUTE_AUTH_OPERATOR, list_articles},
        {"POST", "/articles", SB_ROUTE_AUTH_SUPERVISOR, create_articles},
        {"GET", "/articles", SB_ROUTE_PREFIX | SB_ROUTE_AUTH_OPERATOR, one_article},
        {"PUT", "/articles", SB_ROUTE_PREFIX | SB_ROUTE_AUTH_SUPERVISOR, one_article},
        {"DELETE", "/articles", SB_ROUTE_PREFIX | SB_ROUTE_AUTH_SUPERVISOR, one_article},
        {"POST", "/search", SB_ROUTE_AUTH_OPERATOR, search},
        {"GET", "/unanswered", SB_ROUTE_AUTH_OPERATOR, unanswered},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "/kb/%s%s", b->kb, routes[i].path);
        sb_status st = b->host->http_route(b->ctx, routes[i].method, path,
                                           SB_ROUTE_API | routes[i].flags, routes[i].fn, b);
        if (st != SB_OK) {
            b->host->log(b->ctx, SB_LOG_ERROR, "route %s /api/v1%s: %s%s", routes[i].method, path,
                         b->host->strstatus(st),
                         st == SB_ERR_EXISTS ? " (another instance serves this kb)" : "");
            return st;
        }
    }
    return SB_OK;
}
