/* Events: durable, dispatched after the commit in log order, safe to act
 * on from the callback. */
#include "harness.h"

typedef struct log_copy {
    uint64_t seq[16];
    json_t *json[16];
    size_t n;
} log_copy;

static int read_log(void *ud, uint64_t seq, const void *rec, size_t len)
{
    log_copy *l = ud;
    json_error_t err;
    l->seq[l->n] = seq;
    l->json[l->n] = json_loadb(rec, len, 0, &err);
    assert_non_null(l->json[l->n]);
    l->n++;
    return 0;
}

static void dispatched_in_order_after_commit_and_logged(void **state)
{
    harness *h = h_open(NULL);
    uint64_t before = sb_store_log_last(h->st);
    sb_inbound in = h_msg("u-1", "k-1", "hello");
    h_done d = {0};
    assert_int_equal(sb_engine_inbound(h->e, "apichannel", "main", &in, h_done_cb, &d), SB_OK);
    ev_run(h->loop, EVRUN_NOWAIT);
    assert_int_equal(h->n_events, 0); /* written, not yet committed */
    /* client.created, conversation.created, message.created, and
     * conversation.queued: no group exists, nobody can take it */
    assert_int_equal(sb_store_log_last(h->st), before + 4);
    assert_int_equal(sb_store_flush(h->st), SB_OK);
    assert_int_equal(h->n_events, 4);
    for (size_t i = 0; i < 4; i++) assert_int_equal(h->events[i].seq, before + 1 + i);

    /* the log holds the same objects, for analytics and replication */
    log_copy l = {0};
    assert_int_equal(sb_store_log_read(h->st, before + 1, 16, read_log, &l), 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(l.seq[i], h->events[i].seq);
        assert_true(json_equal(l.json[i], h->events[i].json));
        json_decref(l.json[i]);
    }
    h_close(h);
}

typedef struct bot {
    harness *h;
    int calls, msg_events;
    char reply_id[32];
} bot;

/* Answers every inbound message, from the event callback. */
static void bot_on_message(void *ud, const sb_event *ev)
{
    bot *b = ud;
    b->msg_events++;
    assert_true(strncmp(ev->type, "message.", 8) == 0);
    json_error_t err;
    json_t *j = json_loadb(ev->json, ev->json_len, 0, &err);
    assert_non_null(j);
    if (strcmp(ev->type, "message.created") == 0 && strcmp(h_str(j, "message.direction"), "in") == 0) {
        b->calls++;
        sb_reply r = {.conversation_id = h_str(j, "conversation_id"), .author_kind = "bot",
                      .text = "auto-answer"};
        char *json = NULL;
        assert_int_equal(sb_engine_reply(b->h->e, &r, &json), SB_OK);
        json_t *m = h_parse(json);
        h_copy(b->reply_id, sizeof b->reply_id, h_str(m, "id"));
        json_decref(m);
    }
    json_decref(j);
}

typedef struct counter {
    harness *h;
    int n;
    bool leave, join;
    struct counter *joiner;
} counter;

static void count_event(void *ud, const sb_event *ev)
{
    counter *c = ud;
    c->n++;
    if (c->leave) sb_engine_unsubscribe_owner(c->h->e, c);
    if (c->join) {
        c->join = false;
        assert_int_equal(sb_engine_subscribe(c->h->e, "", count_event, c->joiner, c->joiner), SB_OK);
    }
}

static void callbacks_may_act_on_the_engine(void **state)
{
    harness *h = h_open(NULL);
    bot b = {.h = h};
    counter leaver = {.h = h, .leave = true}, joiner = {.h = h},
            inviter = {.h = h, .join = true, .joiner = &joiner};
    assert_int_equal(sb_engine_subscribe(h->e, "message.", bot_on_message, &b, &b), SB_OK);
    assert_int_equal(sb_engine_subscribe(h->e, NULL, count_event, &leaver, &leaver), SB_OK);
    assert_int_equal(sb_engine_subscribe(h->e, "", count_event, &inviter, &inviter), SB_OK);
    assert_int_equal(sb_engine_subscribe(h->e, "x", NULL, NULL, NULL), SB_ERR_INVALID);

    sb_inbound in = h_msg("u-1", "k-1", "hello");
    h_done d;
    h_inbound(h, "apichannel", "main", &in, &d);
    /* client.created, conversation.created, message.created(in),
     * conversation.queued */
    assert_int_equal(leaver.n, 1);      /* gone after its first event */
    /* the bot's reply is a 5th event, in a later batch of the same flush */
    assert_int_equal(inviter.n, 5);
    assert_int_equal(joiner.n, 4);      /* from the event after the one it joined in */
    assert_int_equal(b.calls, 1);
    assert_int_equal(b.msg_events, 2);  /* message.* only: its question and its answer */
    /* the bot's reply was written inside the dispatch: its event comes
     * with the next commit, after the ones before it */
    size_t n = h->n_events;
    assert_string_equal(h->events[n - 1].type, "message.created");
    assert_string_equal(h_str(h->events[n - 1].json, "message.direction"), "out");
    assert_string_equal(h_str(h->events[n - 1].json, "message.id"), b.reply_id);
    for (size_t i = 1; i < n; i++) assert_true(h->events[i].seq > h->events[i - 1].seq);
    h_wait_sends(h, 1, 1000);
    assert_string_equal(h->sends[0].message_id, b.reply_id);

    /* unsubscribing outside a dispatch */
    sb_engine_unsubscribe_owner(h->e, &b);
    int calls = b.msg_events;
    sb_inbound in2 = h_msg("u-1", "k-2", "again");
    h_inbound(h, "apichannel", "main", &in2, &d);
    h_step(h);
    assert_int_equal(b.msg_events, calls);
    assert_int_equal(leaver.n, 1);
    h_close(h);
}

static void pending_work_survives_engine_free(void **state)
{
    harness *h = h_open(NULL);
    sb_inbound in = h_msg("u-1", "k-1", "hello");
    h_done d = {0};
    assert_int_equal(sb_engine_inbound(h->e, "apichannel", "main", &in, h_done_cb, &d), SB_OK);
    size_t events = h->n_events;
    /* the engine goes before the commit: the channel still gets its answer */
    sb_engine_free(h->e);
    h->e = NULL;
    sb_store_close(h->st);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, SB_OK);
    assert_int_equal(h->n_events, events);
    h_start_engine(h);
    json_t *m = h_get(h, sb_engine_message_json, d.id);
    assert_string_equal(h_str(m, "text"), "hello");
    json_decref(m);
    h_close(h);
}

static void failed_batch_answers_with_the_error(void **state)
{
    harness *h = calloc(1, sizeof *h);
    assert_non_null(h);
    snprintf(h->dir, sizeof h->dir, "/tmp/sb-engine-XXXXXX");
    assert_non_null(mkdtemp(h->dir));
    h->loop = ev_loop_new(EVFLAG_AUTO);
    size_t n;
    const char *const *names = sb_engine_table_names(&n);
    sb_store_options so = {.path = h->dir, .tables = names, .n_tables = n, .no_sync = true,
                           .map_size = 1 << 20, .max_map_size = 1 << 20};
    assert_int_equal(sb_store_open(&h->st, &so, NULL, 0), SB_OK);
    h->e = sb_engine_new(h->loop, h->st, 0, NULL);
    assert_non_null(h->e);
    assert_int_equal(sb_engine_subscribe(h->e, "", h_on_event, h, h), SB_OK);
    sb_engine_start(h->e);

    /* one batch of big messages until the map, which cannot grow, is full */
    static char text[60000];
    memset(text, 'z', sizeof text - 1);
    h_done d[64];
    memset(d, 0, sizeof d);
    size_t i;
    sb_status s = SB_OK;
    for (i = 0; i < 64 && s == SB_OK; i++) {
        char key[16];
        snprintf(key, sizeof key, "k-%zu", i);
        sb_inbound in = h_msg("u-1", key, text);
        s = sb_engine_inbound(h->e, "apichannel", "main", &in, h_done_cb, &d[i]);
    }
    assert_int_equal(s, SB_ERR_FULL);
    assert_true(i > 2);
    assert_int_equal(sb_store_flush(h->st), SB_ERR_FULL);
    /* those accepted before the failure answer with it; nothing was announced */
    for (size_t k = 0; k + 1 < i; k++) {
        assert_int_equal(d[k].calls, 1);
        assert_int_equal(d[k].status, SB_ERR_FULL);
        assert_string_equal(d[k].id, "");
    }
    assert_int_equal(d[i - 1].calls, 0);
    assert_int_equal(h->n_events, 0);
    /* nothing of it was kept: the first key stores anew */
    sb_inbound again = h_msg("u-1", "k-0", "small");
    h_done ok;
    h_inbound(h, "apichannel", "main", &again, &ok);
    assert_int_equal(ok.duplicate, 0);
    assert_int_equal(h_count_events(h, "client.created"), 1);
    h_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dispatched_in_order_after_commit_and_logged),
        cmocka_unit_test(callbacks_may_act_on_the_engine),
        cmocka_unit_test(pending_work_survives_engine_free),
        cmocka_unit_test(failed_batch_answers_with_the_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
