/* History benchmark (not a test): MESSAGES inbound messages over CLIENTS
 * clients, stored through the real engine (dedup, client, conversation,
 * routing, indexes; no fsync). A tenth of the clients are heavy: 60
 * messages each over 3 conversations (closed every 20); the rest share
 * what is left. Then one history page of 50 (newest first, across the
 * client's conversations) is read for random heavy clients, and the next
 * page through its cursor; p50/p99 of each read.
 * Usage: bench_history DIR [messages clients] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>
#include <jansson.h>

#include "engine/engine.h"
#include "store/store.h"
#include "util/log.h"
#include "../common/bench.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

typedef struct slot {
    char msg[24]; /* the client's last stored message */
} slot;

static int failed;
static void done_cb(void *ud, sb_status st, const char *id, int dup)
{
    (void)dup;
    if (st != SB_OK) failed++;
    else snprintf(((slot *)ud)->msg, sizeof ((slot *)ud)->msg, "%s", id);
}

static char *field_of(sb_engine *e, const char *msg_id, const char *field, char *out, size_t cap)
{
    char *txt = NULL;
    out[0] = '\0';
    if (sb_engine_message_json(e, msg_id, &txt) != SB_OK) return out;
    json_t *m = json_loads(txt, 0, NULL);
    snprintf(out, cap, "%s", json_string_value(json_object_get(m, field)) ? json_string_value(json_object_get(m, field)) : "");
    json_decref(m);
    free(txt);
    return out;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [messages clients]\n", argv[0]);
        return 2;
    }
    size_t n_msgs = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
    size_t n_clients = argc > 3 ? strtoul(argv[3], NULL, 10) : 100000;
    size_t heavy = n_clients / 10, per_heavy = 60;
    if (heavy * per_heavy > n_msgs) per_heavy = n_msgs / (heavy ? heavy : 1);
    size_t light_msgs = n_msgs - heavy * per_heavy, light = n_clients - heavy;
    sb_log_set_level(SB_LOG_WARN);
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    sb_store *st;
    sb_engine *e;
    if (!bench_open(loop, argv[1], 4ull << 30, &st, &e)) return 1;
    printf("history bench: %zu messages, %zu clients (%zu with %zu messages each)\n", n_msgs,
           n_clients, heavy, per_heavy);
    slot *slots = calloc(n_clients, sizeof *slots);
    int64_t t0 = bench_now_ns();
    size_t written = 0, light_next = 0;
    /* rounds: each heavy client writes once, light clients fill in between */
    for (size_t r = 0; r < per_heavy; r++) {
        size_t light_this = light_msgs / per_heavy + (r < light_msgs % per_heavy);
        for (size_t i = 0; i < heavy + light_this; i++) {
            size_t c = i < heavy ? i : heavy + (light_next++ % (light ? light : 1));
            char ext[32], key[40];
            snprintf(ext, sizeof ext, "c%zu", c);
            snprintf(key, sizeof key, "m%zu", written);
            sb_inbound in = {.struct_size = sizeof in, .kind = SB_IN_MESSAGE, .external_id = ext,
                             .dedup_key = key,
                             .text = "Good afternoon, my order has not arrived yet, could you check it please?"};
            if (sb_engine_inbound(e, "bench", "main", &in, done_cb, &slots[c]) != SB_OK) failed++;
            if (++written % 1000 == 0) sb_store_flush(st);
        }
        sb_store_flush(st);
        if (r % 20 == 19) { /* heavy clients' conversations end; the next message opens another */
            for (size_t c = 0; c < heavy; c++) {
                char conv[32], *o = NULL;
                field_of(e, slots[c].msg, "conversation_id", conv, sizeof conv);
                if (sb_engine_conversation_close(e, conv, NULL, &o) == SB_OK) free(o);
                if (c % 1000 == 999) sb_store_flush(st);
            }
            sb_store_flush(st);
        }
        if (r % 10 == 9) {
            printf("  %zu messages stored (%.0f/s)\n", written, written / ((bench_now_ns() - t0) / 1e9));
            fflush(stdout);
        }
    }
    sb_store_flush(st);
    double secs = (bench_now_ns() - t0) / 1e9;
    printf("stored %zu messages in %.1f s (%.0f/s, group commit every 1000), %d failed\n", written,
           secs, written / secs, failed);

    /* the clients to read, and their ids, looked up before any timing */
    size_t samples = 10000;
    char (*ids)[32] = calloc(samples, sizeof *ids);
    for (size_t i = 0; i < samples; i++)
        field_of(e, slots[bench_rnd(&rng) % heavy].msg, "client_id", ids[i], sizeof ids[i]);
    int64_t *p1 = calloc(samples, sizeof *p1), *p2 = calloc(samples, sizeof *p2);
    for (int pass = 1; pass <= 2; pass++) {
        size_t items_total = 0, items2 = 0;
        for (size_t i = 0; i < samples; i++) {
            char *page = NULL;
            int64_t a = bench_now_ns();
            if (sb_engine_client_messages(e, ids[i], NULL, 50, &page) != SB_OK) return 1;
            p1[i] = bench_now_ns() - a;
            json_t *j = json_loads(page, 0, NULL);
            items_total += json_array_size(json_object_get(j, "items"));
            char cursor[32];
            const char *nc = json_string_value(json_object_get(j, "next_cursor"));
            snprintf(cursor, sizeof cursor, "%s", nc ? nc : "");
            json_decref(j);
            free(page);
            a = bench_now_ns();
            if (sb_engine_client_messages(e, ids[i], cursor, 50, &page) != SB_OK) return 1;
            p2[i] = bench_now_ns() - a;
            j = json_loads(page, 0, NULL);
            items2 += json_array_size(json_object_get(j, "items"));
            json_decref(j);
            free(page);
        }
        printf("pass %d (%s): first pages %.1f items, second pages %.1f items on average\n",
               pass, pass == 1 ? "first read since written" : "again",
               (double)items_total / samples, (double)items2 / samples);
        bench_report("  first page, 50 newest", p1, samples, 1);
        bench_report("  second page via next_cursor", p2, samples, 1);
    }
    free(ids);
    sb_store_stats ss;
    sb_store_get_stats(st, &ss);
    printf("store map size %.0f MiB\n", ss.map_size / 1048576.0);
    free(p1);
    free(p2);
    free(slots);
    sb_engine_free(e);
    sb_store_close(st);
    ev_loop_destroy(loop);
    return 0;
}
