/* Routing benchmark (not a test): OPS operators in GROUPS groups, CONVS
 * conversations queued, on a real store (no fsync) and the real engine.
 * Prints, each as p50/p99 of one call:
 *   A  the in-memory decision alone: pick the operator of a group and
 *      re-file it after its load changes (what every assignment does);
 *   B  a new conversation when nobody is free: inbound stored, routed,
 *      queued, the client told (one sb_engine_inbound call, writes
 *      included, commit excluded);
 *   C  an operator coming online takes its limit from the queue (per
 *      assignment);
 *   D  an operator closes one, the head of the queue takes the slot (one
 *      sb_engine_conversation_close call: close + decision + assignment);
 * and the memory of the routing state: anonymous RSS growth for the
 * operators and for the queued conversations (LMDB's mapped file pages are
 * reported apart: they are the OS page cache, not our heap).
 * Usage: bench_routing DIR [operators groups conversations] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>

#include "config/config.h"
#include "engine/internal.h"
#include "store/store.h"
#include "util/log.h"
#include "../common/bench.h"

static long status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') v = atol(line + n + 1);
    if (f) fclose(f);
    return v;
}

static uint64_t rng = 88172645463325252ull;

static void done_cb(void *ud, sb_status st, const char *id, int dup)
{
    (void)id;
    (void)dup;
    if (st != SB_OK) (*(int *)ud)++;
}

/* Counts what each phase wrote: assignments and messages to clients. */
static size_t n_assigned, n_told;
static void count(void *ud, const sb_event *ev)
{
    (void)ud;
    if (strcmp(ev->type, "conversation.assigned") == 0) n_assigned++;
    else if (strstr(ev->json, "\"author\":{\"kind\":\"system\"") && strstr(ev->json, "\"direction\":\"out\""))
        n_told++;
}

static void must(sb_status s, const char *what)
{
    if (s != SB_OK) {
        fprintf(stderr, "bench: %s failed (%d)\n", what, (int)s);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [operators groups conversations]\n", argv[0]);
        return 2;
    }
    size_t n_ops = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000;
    size_t n_groups = argc > 3 ? strtoul(argv[3], NULL, 10) : 100;
    size_t n_convs = argc > 4 ? strtoul(argv[4], NULL, 10) : 100000;
    sb_log_set_level(SB_LOG_WARN);
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    sb_store *st;
    sb_engine *e;
    if (!bench_open(loop, argv[1], 1ull << 30, &st, &e)) return 1;
    char err[256];
    sb_engine_subscribe(e, "", count, NULL, NULL);
    printf("routing bench: %zu operators, %zu groups, %zu conversations\n", n_ops, n_groups, n_convs);

    long anon0 = status_kb("RssAnon");
    char body[256], *out;
    for (size_t g = 0; g < n_groups; g++) {
        snprintf(body, sizeof body, "{\"id\":\"g%zu\",\"max_per_operator\":3}", g);
        must(sb_engine_group_create(e, body, strlen(body), &out, err, sizeof err), "group");
        free(out);
        char inst[32], gid[32];
        snprintf(inst, sizeof inst, "i%zu", g);
        snprintf(gid, sizeof gid, "g%zu", g);
        must(sb_engine_set_instance_group(e, "bench", inst, gid), "instance group");
    }
    sb_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.routing.default_group = "g0";
    must(sb_engine_configure_routing(e, &cfg, err, sizeof err), "default group");
    char (*ops)[24] = calloc(n_ops, sizeof *ops);
    for (size_t i = 0; i < n_ops; i++) {
        snprintf(body, sizeof body, "{\"login\":\"op%zu\",\"groups\":[\"g%zu\"],\"max_conversations\":5}",
                 i, i % n_groups);
        must(sb_engine_operator_create(e, body, strlen(body), "h", &out, err, sizeof err), "operator");
        json_t *o = json_loads(out, 0, NULL);
        snprintf(ops[i], 24, "%s", json_string_value(json_object_get(o, "id")));
        json_decref(o);
        free(out);
        if (i % 1000 == 999) sb_store_flush(st);
    }
    sb_store_flush(st);
    long anon_ops = status_kb("RssAnon");

    /* A: the in-memory decision, every operator online and free */
    for (size_t i = 0; i < n_ops; i++) {
        must(sb_engine_operator_set_status(e, ops[i], "online", NULL), "online");
        if (i % 1000 == 999) sb_store_flush(st);
    }
    sb_store_flush(st);
    size_t na = 200000;
    int64_t *lat = calloc(na > n_convs ? na : n_convs, sizeof *lat);
    for (size_t i = 0; i < na; i++) {
        rt_group *g = e->rt.groups[bench_rnd(&rng) % e->rt.n_groups];
        int64_t t0 = bench_now_ns();
        rt_op *op = sb_eng_rt_pick(e, g, NULL, 0);
        if (op) {
            op->load++;
            op->last_assigned_at++;
            sb_eng_rt_reindex_op(e, op);
        }
        lat[i] = bench_now_ns() - t0;
        if (op) { /* put it back, untimed */
            op->load--;
            sb_eng_rt_reindex_op(e, op);
        }
    }
    bench_report("A  pick + re-file (in memory)", lat, na, 1);
    for (size_t i = 0; i < n_ops; i++) {
        must(sb_engine_operator_set_status(e, ops[i], "offline", NULL), "offline");
        if (i % 1000 == 999) sb_store_flush(st);
    }
    sb_store_flush(st);

    /* B: conversations arrive while nobody is there */
    long anon1 = status_kb("RssAnon"), file1 = status_kb("RssFile");
    int failed = 0;
    int64_t commit_ns = 0, t_all = bench_now_ns();
    for (size_t i = 0; i < n_convs; i++) {
        char ext[32], key[32], inst[32];
        snprintf(ext, sizeof ext, "c%zu", i);
        snprintf(key, sizeof key, "k%zu", i);
        snprintf(inst, sizeof inst, "i%zu", i % n_groups);
        sb_inbound in = {.struct_size = sizeof in, .kind = SB_IN_MESSAGE, .external_id = ext,
                         .dedup_key = key, .text = "hello, I need help with my order"};
        int64_t t0 = bench_now_ns();
        must(sb_engine_inbound(e, "bench", inst, &in, done_cb, &failed), "inbound");
        lat[i] = bench_now_ns() - t0;
        if (i % 500 == 499) {
            int64_t c0 = bench_now_ns();
            sb_store_flush(st);
            commit_ns += bench_now_ns() - c0;
        }
    }
    int64_t c0 = bench_now_ns();
    sb_store_flush(st);
    commit_ns += bench_now_ns() - c0;
    double secs = (bench_now_ns() - t_all) / 1e9;
    bench_report("B  new conversation queued (inbound + route + tell)", lat, n_convs, 1);
    printf("   %zu inbound in %.1f s (%.0f/s incl. commits; commits %.1f s), %d failed\n", n_convs,
           secs, n_convs / secs, commit_ns / 1e9, failed);
    long anon2 = status_kb("RssAnon"), file2 = status_kb("RssFile");
    size_t waiting = 0;
    for (size_t g = 0; g < e->rt.n_groups; g++) waiting += sb_eng_tree_size(&e->rt.groups[g]->queue);
    printf("   queued now: %zu\n", waiting);

    /* C: operators come online; each takes its limit from its group's queue */
    n_assigned = n_told = 0;
    size_t nc = 0;
    for (size_t i = 0; i < n_ops; i++) {
        rt_op *op = sb_eng_rt_op(e, sb_id_parse(ops[i]));
        uint32_t before = op->load;
        int64_t t0 = bench_now_ns();
        must(sb_engine_operator_set_status(e, ops[i], "online", NULL), "online");
        int64_t dt = bench_now_ns() - t0;
        if (op->load > before) lat[nc++] = dt / (op->load - before);
        if (i % 100 == 99) sb_store_flush(st);
    }
    sb_store_flush(st);
    bench_report("C  operator online: per assignment from the queue", lat, nc, 1);

    printf("   %zu assigned, %zu queue-position messages to clients\n", n_assigned, n_told);

    /* D: steady state, a slot frees and the queue's head takes it */
    n_assigned = n_told = 0;
    size_t nd = 10000, k = 0;
    for (size_t i = 0; i < nd; i++) {
        rt_op *op = sb_eng_rt_op(e, sb_id_parse(ops[bench_rnd(&rng) % n_ops]));
        sb_eng_tnode *n = sb_eng_tree_first(&op->convs);
        if (!n) continue;
        rt_conv *rc = SB_ENG_CONTAINER(n, rt_conv, onode);
        char cid[21], *o2 = NULL;
        sb_id_str(rc->id, cid);
        int64_t t0 = bench_now_ns();
        must(sb_engine_conversation_close(e, cid, ops[0], &o2), "close");
        lat[k++] = bench_now_ns() - t0;
        free(o2);
        if (i % 100 == 99) sb_store_flush(st);
    }
    sb_store_flush(st);
    bench_report("D  close -> queue head assigned (one call, writes incl.)", lat, k, 1);
    printf("   %zu assigned, %zu queue-position messages to clients (%.1f per close)\n", n_assigned,
           n_told, k ? (double)n_told / k : 0.0);

    printf("memory: operators %+ld KiB anon (%.0f B each); %zu queued conversations %+ld KiB anon "
           "(%.0f B each); LMDB pages mapped %+ld KiB (file-backed)\n",
           anon_ops - anon0, (anon_ops - anon0) * 1024.0 / n_ops, n_convs, anon2 - anon1,
           (anon2 - anon1) * 1024.0 / n_convs, file2 - file1);
    printf("        sizeof rt_conv %zu B, rt_op %zu B (+ %zu B per group membership)\n",
           sizeof(rt_conv), sizeof(rt_op), sizeof(rt_member));
    free(lat);
    free(ops);
    sb_engine_free(e);
    sb_store_close(st);
    ev_loop_destroy(loop);
    return 0;
}
