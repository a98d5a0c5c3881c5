/* RFC 6455 opening handshake: header checks and Sec-WebSocket-Accept. */
#include <mbedtls/base64.h>
#include <mbedtls/sha1.h>
#include <string.h>
#include <strings.h>

#include "net/http_internal.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

sb_status sb_ws_accept_key(const char *key, char out[29])
{
    unsigned char raw[24], sha[20];
    char cat[24 + sizeof ws_guid];
    size_t olen;

    if (!key || strlen(key) != 24 ||
        mbedtls_base64_decode(raw, sizeof raw, &olen, (const unsigned char *)key, 24) != 0 ||
        olen != 16)
        return SB_ERR_INVALID;
    memcpy(cat, key, 24);
    memcpy(cat + 24, ws_guid, sizeof ws_guid - 1);
    if (mbedtls_sha1_ret((const unsigned char *)cat, 24 + sizeof ws_guid - 1, sha) != 0 ||
        mbedtls_base64_encode((unsigned char *)out, 29, &olen, sha, sizeof sha) != 0)
        return SB_ERR_INVALID;
    return SB_OK;
}

/* tok appears as an item of the comma-separated list (case-insensitive). */
static bool has_token(const char *list, const char *tok)
{
    size_t tl = strlen(tok);
    const char *p = list;
    while (*p) {
        const char *end;
        size_t n;
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        end = p;
        while (*end && *end != ',')
            end++;
        n = (size_t)(end - p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == tl && !strncasecmp(p, tok, tl))
            return true;
        p = end;
    }
    return false;
}

const char *sb_ws_check_upgrade(const sb_http_req *req, bool *bad_version)
{
    const char *v;
    char acc[29];
    *bad_version = false;
    if (strcmp(req->method, "GET"))
        return "a WebSocket upgrade must be a GET";
    v = sb_http_header(req, "Upgrade");
    if (!v || !has_token(v, "websocket"))
        return "missing Upgrade: websocket";
    v = sb_http_header(req, "Connection");
    if (!v || !has_token(v, "upgrade"))
        return "missing Connection: Upgrade";
    v = sb_http_header(req, "Sec-WebSocket-Version");
    if (!v || strcmp(v, "13")) {
        *bad_version = true;
        return "Sec-WebSocket-Version must be 13";
    }
    if (sb_ws_accept_key(sb_http_header(req, "Sec-WebSocket-Key"), acc) != SB_OK)
        return "bad Sec-WebSocket-Key";
    return NULL;
}
