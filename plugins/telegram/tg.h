/* The Telegram plugin's state and the functions its files share.
 * plugin.c: config and lifecycle; api.c: Bot API calls and the token's
 * redaction; ingest.c: an update -> inbound(); webhook.c, poll.c: the two
 * ways updates arrive; send.c: outbound with pacing; keys.c: what lives in
 * kv (button keys, edited messages); file.c: the attachment route. */
#ifndef TG_H
#define TG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <switchboard/plugin.h>

#define TG_MAX_TOKEN 256
#define TG_MAX_URL 512
#define TG_MAX_SECRET 256
#define TG_MAX_UPDATE (1024 * 1024)  /* bytes of one webhook body */
#define TG_POLL_LIMIT 100            /* updates per getUpdates */
#define TG_POLL_MAX_RESPONSE (8u * 1024 * 1024)
#define TG_BACKOFF_MIN_MS 1000
#define TG_BACKOFF_MAX_MS 60000
#define TG_POLL_MIN_GAP_MS 500       /* between polls that came back empty early */
#define TG_API_TIMEOUT_MS 20000      /* one call; well under the core's send deadline */
#define TG_TEXT_MAX 4096             /* UTF-16 units of one message */
#define TG_DATA_MAX 64               /* bytes of callback_data */

typedef enum { TG_MODE_POLL, TG_MODE_WEBHOOK } tg_mode;

typedef struct tg_config {
    char token[TG_MAX_TOKEN + 1];
    char api_url[TG_MAX_URL + 1];     /* without a trailing '/' */
    tg_mode mode;
    char secret[TG_MAX_SECRET + 1];   /* "" when not set */
    char public_url[TG_MAX_URL + 1];  /* without a trailing '/' */
    uint64_t poll_timeout_ms;
    uint64_t max_file;
    /* "" or the URL a "/start <token>" is looked up at (the web chat's
     * GET .../webchat/api/start/<token>), to continue a site visitor's
     * history here */
    char start_url[TG_MAX_URL + 1];
} tg_config;

typedef struct tg_inflight tg_inflight; /* ingest.c */
typedef struct tg_job tg_job;           /* send.c */
typedef struct tg_chat tg_chat;         /* send.c */
typedef struct tg_fetch tg_fetch;       /* file.c */

typedef struct tg_state {
    const sb_host *h;
    sb_ctx *ctx;
    tg_config cfg;
    bool running;       /* between start and stop */

    /* transport: setWebhook (webhook mode) or getUpdates (poll mode) */
    uint64_t call;      /* the running setWebhook/getUpdates, 0 none */
    uint64_t timer;     /* the next attempt, 0 none */
    void (*again)(struct tg_state *); /* what the timer runs */
    uint64_t backoff_ms; /* the last delay after a failure, 0 after a success */
    int64_t poll_started;
    int64_t offset;     /* next getUpdates offset, -1 before the first */
    unsigned limit;     /* updates per poll (halved when answers are too big) */
    uint64_t batch;     /* generation of the batch being stored */
    size_t batch_waiting;
    bool batch_failed;
    int64_t batch_max;  /* highest update_id of the batch, -1 none */

    tg_inflight *inflight; /* updates handed to inbound() */

    /* sending */
    tg_job *jobs, **jobs_tail;
    size_t n_jobs;
    tg_chat *chats;
    int64_t recent[30];    /* start times of the last 30 calls: 30 per second */
    size_t recent_at;
    uint64_t pump_timer;
    int64_t pump_due;
    uint64_t pump_pass;
    tg_job *reports;       /* results to report from a 0 ms timer */
    uint64_t report_timer;
    uint64_t key_seq;      /* last "k<n>" button key handed out */

    tg_fetch *fetches;
} tg_state;

/* plugin.c */
sb_status tg_read_config(tg_state *s, tg_config *c);
/* "/channels/telegram/<instance>/files": under /api/v1, where operators
 * fetch a client's file (GET .../files/<file_id>); an inbound attachment's
 * ref is that URL. */
void tg_files_path(tg_state *s, char *out, size_t cap);

/* api.c: POST <api_url>/bot<token>/<method> with a JSON body. 0 when the
 * call could not start (done never runs). */
uint64_t tg_api_call(tg_state *s, const char *method, const char *json, uint32_t timeout_ms,
                     size_t max_response, sb_http_done done, void *ud);
/* GET <api_url>/file/bot<token>/<path>. */
uint64_t tg_api_download(tg_state *s, const char *path, uint32_t timeout_ms,
                         size_t max_response, sb_http_done done, void *ud);
/* Copies in into out (cap bytes with the NUL) with the token replaced by
 * "<token>": the token sits in every URL, so text from the transport or
 * the network never goes to a log or the store without this. */
void tg_redact(const tg_state *s, const char *in, char *out, size_t cap);
/* host->log after tg_redact. */
void tg_log(tg_state *s, sb_log_level level, const char *fmt, ...) SB_PRINTF(3, 4);
/* "HTTP 429 (Too Many Requests: retry after 2)" or the transport's error,
 * redacted, into out. */
void tg_describe(tg_state *s, const sb_http_response *res, const char *description, char *out,
                 size_t cap);

/* ingest.c: hands one update (a JSON object) to inbound(). */
typedef enum {
    TG_ING_PENDING, /* cb will run once it is stored (or not) */
    TG_ING_SKIPPED, /* nothing to store: unknown type or content (logged) */
    TG_ING_BAD,     /* malformed; why says which field */
    TG_ING_FAILED   /* could not hand it over now; try again later */
} tg_ing;
typedef void (*tg_ingest_cb)(tg_state *s, uint64_t tag, sb_status st);
struct json_t;
tg_ing tg_ingest(tg_state *s, struct json_t *update, tg_ingest_cb cb, uint64_t tag, char *why,
                 size_t whylen);
void tg_ingest_free_all(tg_state *s);

/* webhook.c */
void tg_webhook(void *ud, const sb_http_request *req);
void tg_webhook_start(tg_state *s);

/* poll.c */
void tg_poll_start(tg_state *s);

/* Runs again(s) after ms, replacing a pending timer. */
void tg_transport_timer(tg_state *s, uint64_t ms, void (*again)(tg_state *));
/* Stops the setWebhook/getUpdates machinery (calls, timer, batch). */
void tg_transport_stop(tg_state *s);
/* The next attempt after a failure: backoff doubling 1 s .. 60 s, at
 * least at_least_ms. Returns the delay. */
uint64_t tg_transport_retry(tg_state *s, uint64_t at_least_ms, void (*again)(tg_state *));

/* send.c */
sb_send_accept tg_send(void *state, const sb_outbound *msg, uint64_t op);
/* Reports every queued or running send as to be retried (stop). */
void tg_send_stop(tg_state *s);
void tg_send_free(tg_state *s);

/* keys.c: button ids to callback_data and back; edited messages. */
int tg_key_is_mapped(const char *data);
/* The callback_data for button id: the id itself when it fits and does not
 * look like a key, else "k<n>" stored in kv. -1 on a kv failure, -2 for an
 * id over 290 bytes (never sendable). */
int tg_key_for(tg_state *s, const char *id, char *out, size_t cap);
/* The button id behind callback_data into out; the data itself when it is
 * not a key or the key is unknown. */
void tg_key_lookup(tg_state *s, const char *data, char *out, size_t cap);
void tg_key_load(tg_state *s);
/* Remembers which update carried message (chat, message_id), so that its
 * edit can name it (bounded: a slot per hash, newer replace older). */
void tg_edit_remember(tg_state *s, int64_t chat, int64_t message_id, const char *dedup_key);
/* The dedup key of the update that carried (chat, message_id) into out;
 * "m<chat>:<id>" (which names no stored message) when forgotten. */
void tg_edit_lookup(tg_state *s, int64_t chat, int64_t message_id, char *out, size_t cap);

/* file.c */
void tg_file_route(void *ud, const sb_http_request *req);
void tg_file_stop(tg_state *s);
void tg_file_free(tg_state *s);

/* split.c: cuts text (valid UTF-8) into parts of at most max UTF-16 units
 * (what Telegram counts), at the last whitespace inside the limit, else
 * hard at a code point. Whitespace around the cuts is dropped. Writes up to
 * cap spans; returns how many parts there are (even past cap). */
typedef struct tg_span {
    size_t off, len;
} tg_span;
size_t tg_split(const char *text, size_t len, size_t max, tg_span *out, size_t cap);
/* UTF-16 units of text[0..len). */
size_t tg_utf16_len(const char *text, size_t len);

#endif
