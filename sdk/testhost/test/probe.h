/* The probe plugin both test files of the test host drive: its init runs a
 * per-test hook; afterwards the tests call host functions through H and C.
 * Included once per test executable (its definitions are static). */
#ifndef SB_TESTHOST_PROBE_H
#define SB_TESTHOST_PROBE_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "testhost.h"

static const sb_host *H;
static sb_ctx *C;
static sb_status (*init_hook)(void);
static int destroyed, stopped, state_token;
static sb_send_accept (*send_hook)(uint64_t op);

static sb_status probe_init(const sb_host *h, sb_ctx *c, void **state)
{
    H = h;
    C = c;
    *state = &state_token;
    return init_hook ? init_hook() : SB_OK;
}
static void probe_stop(void *s) { (void)s; stopped++; }
static void probe_destroy(void *s) { (void)s; destroyed++; }
static sb_send_accept probe_send(void *s, const sb_outbound *m, uint64_t op)
{
    (void)s, (void)m;
    return send_hook ? send_hook(op) : SB_SEND_ACCEPTED;
}

static sb_plugin probe = {
    SB_PLUGIN_HEADER("probe", "0", SB_KIND_CHANNEL),
    .init = probe_init, .stop = probe_stop, .destroy = probe_destroy,
    .send = probe_send,
};

static sb_th *up(void)
{
    sb_th *th = sb_th_new("probe", "p1");
    assert_int_equal(sb_th_start(th, &probe), SB_OK);
    return th;
}

static int reset(void **state)
{
    (void)state;
    init_hook = NULL;
    send_hook = NULL;
    destroyed = stopped = 0;
    return 0;
}

#endif
