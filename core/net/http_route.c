/* Route table: a few tens of entries, scanned linearly per request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_internal.h"

static bool same_method(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* Methods end up in Allow headers: tokens only. */
static bool valid_method(const char *m)
{
    if (!*m)
        return false;
    for (; *m; m++)
        if (!((*m >= 'A' && *m <= 'Z') || *m == '-' || *m == '_'))
            return false;
    return true;
}

sb_status sb_http_route(sb_http_server *srv, const char *method, const char *path, bool prefix,
                        sb_http_handler_fn fn, void *ud, const void *owner)
{
    sb_http_routeent *r;
    if (!srv || !path || path[0] != '/' || !fn || (method && !valid_method(method)))
        return SB_ERR_INVALID;
    for (size_t i = 0; i < srv->n_routes; i++) {
        r = &srv->routes[i];
        if (r->prefix == prefix && same_method(r->method, method) && !strcmp(r->path, path))
            return SB_ERR_EXISTS;
    }
    if (srv->n_routes == srv->cap_routes) {
        size_t ncap = srv->cap_routes ? srv->cap_routes * 2 : 16;
        sb_http_routeent *nr = realloc(srv->routes, ncap * sizeof *nr);
        if (!nr)
            return SB_ERR_NOMEM;
        srv->routes = nr;
        srv->cap_routes = ncap;
    }
    r = &srv->routes[srv->n_routes];
    r->path = strdup(path);
    r->method = method ? strdup(method) : NULL;
    if (!r->path || (method && !r->method)) {
        free(r->path);
        free(r->method);
        return SB_ERR_NOMEM;
    }
    r->path_len = strlen(path);
    r->prefix = prefix;
    r->fn = fn;
    r->ud = ud;
    r->owner = owner;
    srv->n_routes++;
    return SB_OK;
}

void sb_http_unroute_owner(sb_http_server *srv, const void *owner)
{
    size_t j = 0;
    for (size_t i = 0; i < srv->n_routes; i++) {
        if (srv->routes[i].owner == owner) {
            free(srv->routes[i].path);
            free(srv->routes[i].method);
        } else {
            srv->routes[j++] = srv->routes[i];
        }
    }
    srv->n_routes = j;
}

void sb_http_routes_free(sb_http_server *srv)
{
    for (size_t i = 0; i < srv->n_routes; i++) {
        free(srv->routes[i].path);
        free(srv->routes[i].method);
    }
    free(srv->routes);
    srv->routes = NULL;
    srv->n_routes = srv->cap_routes = 0;
}

/* Prefix "/a" covers "/a" and "/a/..."; a prefix ending in '/' covers
 * everything below it ("/" covers every path). */
static bool path_matches(const sb_http_routeent *r, const char *path, size_t plen)
{
    if (!r->prefix)
        return plen == r->path_len && !memcmp(path, r->path, plen);
    if (plen < r->path_len || memcmp(path, r->path, r->path_len))
        return false;
    return plen == r->path_len || r->path[r->path_len - 1] == '/' || path[r->path_len] == '/';
}

static bool method_ok(const sb_http_routeent *r, const char *method)
{
    if (!r->method || !strcmp(r->method, method))
        return true;
    return !strcmp(method, "HEAD") && !strcmp(r->method, "GET");
}

static void allow_add(char *allow, size_t cap, const char *m)
{
    size_t len = strlen(allow);
    size_t mlen = strlen(m);
    /* each method once: look for it as a whole list item */
    for (const char *p = allow; (p = strstr(p, m)) != NULL; p += mlen)
        if ((p == allow || p[-1] == ' ') && (p[mlen] == ',' || p[mlen] == 0))
            return;
    if (len + mlen + 3 > cap)
        return;
    snprintf(allow + len, cap - len, "%s%s", len ? ", " : "", m);
}

void sb_http_route_find(const sb_http_server *srv, const char *method, const char *path,
                        sb_http_match *m)
{
    size_t plen = strlen(path);
    const sb_http_routeent *best = NULL;
    m->route = NULL;
    m->sub_off = 0;
    m->allow[0] = 0;
    for (size_t i = 0; i < srv->n_routes; i++) {
        const sb_http_routeent *r = &srv->routes[i];
        if (!path_matches(r, path, plen))
            continue;
        if (!method_ok(r, method)) {
            allow_add(m->allow, sizeof m->allow, r->method);
            if (!strcmp(r->method, "GET"))
                allow_add(m->allow, sizeof m->allow, "HEAD");
            continue;
        }
        if (!best || (best->prefix && !r->prefix) ||
            (best->prefix == r->prefix && r->path_len > best->path_len) ||
            (best->prefix == r->prefix && r->path_len == best->path_len && r->method &&
             !best->method))
            best = r;
    }
    m->route = best;
    if (best) {
        m->allow[0] = 0;
        m->sub_off = best->prefix ? best->path_len : plen;
        /* "/" prefix: keep the leading slash in subpath */
        if (best->prefix && best->path[best->path_len - 1] == '/')
            m->sub_off--;
    }
}
