/* Asynchronous outbound HTTP: one CURLM driven by the libev loop
 * (curl_multi_socket_action, after curl's evhiperfifo example).
 *
 * Thread: loop thread only. Connections are reused across requests
 * (HTTP/1.1 keep-alive, TCP keep-alive, the multi's connection cache);
 * DNS is resolved by curl's threaded resolver, never blocking the loop.
 * Only http:// and https:// URLs; TLS peers are verified (curl's defaults);
 * redirects are not followed (the caller sees the 3xx).
 *
 * Outcome given to done (sb_http_response, borrowed for the call):
 *   SB_OK              an HTTP answer arrived (any status code); headers of
 *                      the last answer, body NUL-terminated
 *   SB_ERR_TIMEOUT     call->timeout_ms (0 = 30 s) passed for the whole call
 *   SB_ERR_TOO_BIG     body over call->max_response (0 = 1 MiB), or answer
 *                      headers over 64 KiB; the transfer is aborted
 *   SB_ERR_CANCELLED   sb_http_client_cancel / _cancel_owner / _free
 *   SB_ERR_NOMEM       out of memory while receiving
 *   SB_ERR_IO          anything else (refused, DNS, TLS, reset); `error`
 *                      holds curl's text ("Couldn't connect to server: ...")
 */
#ifndef SB_HTTP_CLIENT_H
#define SB_HTTP_CLIENT_H

#include <stdint.h>
#include <switchboard/plugin.h> /* sb_http_call, sb_http_response, sb_http_done */

struct ev_loop;
typedef struct sb_http_client sb_http_client;

/* NULL when out of memory. The loop must outlive the client. */
sb_http_client *sb_http_client_new(struct ev_loop *loop);
/* Cancels every request (their done run with SB_ERR_CANCELLED, and may not
 * start new ones: start returns 0 from then on), closes the cached
 * connections, frees. Not from inside a done callback. NULL is ignored. */
void sb_http_client_free(sb_http_client *c);

/* Starts a request (everything in `call` copied). `owner` tags it for
 * sb_http_client_cancel_owner (a plugin instance). Returns an id (never 0),
 * or 0 when it could not start: bad URL or scheme, method not [A-Z]{1,16},
 * CR/LF in a header, struct_size too small, out of memory; then done never
 * runs. done runs exactly once, on the loop, never from inside this call.
 * A done may start and cancel requests. */
uint64_t sb_http_client_start(sb_http_client *c, const sb_http_call *call,
                              sb_http_done done, void *ud, const void *owner);
/* done runs with SB_ERR_CANCELLED before this returns; stale ids ignored. */
void sb_http_client_cancel(sb_http_client *c, uint64_t id);
/* Same for every request of `owner` in flight when called (requests their
 * done callbacks start are left running). */
void sb_http_client_cancel_owner(sb_http_client *c, const void *owner);
/* Requests in flight. */
unsigned sb_http_client_active(const sb_http_client *c);

#endif
