/* Watchdog: every call into plugin code is timed. The loop stamps the start
 * of the outermost callback in an atomic; a separate thread wakes every
 * half threshold and logs a callback that is still running past it — so a
 * plugin stuck in a loop is named while it is stuck, not only afterwards. */
#include <errno.h>
#include <time.h>

#include "host/host_internal.h"
#include "util/log.h"

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void *wd_main(void *arg)
{
    sb_plugins *p = arg;
    uint64_t limit_us = p->d.watchdog_ms * 1000u, reported = 0;
    uint64_t tick_us = limit_us / 2 < 5000 ? 5000 : limit_us / 2;
    pthread_mutex_lock(&p->wd_mu);
    while (!atomic_load(&p->wd_stop)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + (tick_us % 1000000u) * 1000u;
        ts.tv_sec += (time_t)(tick_us / 1000000u + ns / 1000000000u);
        ts.tv_nsec = (long)(ns % 1000000000u);
        int rc = pthread_cond_timedwait(&p->wd_cv, &p->wd_mu, &ts);
        if (rc != 0 && rc != ETIMEDOUT) break;
        uint64_t start = atomic_load(&p->wd_started_us);
        if (start == 0 || start == reported) continue;
        uint64_t now = mono_us();
        if (now > start && now - start > limit_us) {
            reported = start;
            sb_log(SB_LOG_WARN, "watchdog", atomic_load(&p->wd_label),
                   "callback %s has been running for %llu ms (threshold %llu ms)",
                   atomic_load(&p->wd_what), (unsigned long long)((now - start) / 1000),
                   (unsigned long long)p->d.watchdog_ms);
        }
    }
    pthread_mutex_unlock(&p->wd_mu);
    return NULL;
}

void sb_watchdog_start(sb_plugins *p)
{
    if (p->wd_running || p->d.watchdog_ms == 0) return;
    atomic_store(&p->wd_stop, false);
    p->wd_running = pthread_create(&p->wd_thread, NULL, wd_main, p) == 0;
    if (!p->wd_running) sb_warn("watchdog", "cannot start the watchdog thread");
}

void sb_watchdog_stop(sb_plugins *p)
{
    if (!p->wd_running) return;
    pthread_mutex_lock(&p->wd_mu);
    atomic_store(&p->wd_stop, true);
    pthread_cond_signal(&p->wd_cv);
    pthread_mutex_unlock(&p->wd_mu);
    pthread_join(p->wd_thread, NULL);
    p->wd_running = false;
}

uint64_t sb_cb_enter(sb_inst *in, const char *what)
{
    sb_plugins *p = in->host;
    uint64_t t0 = mono_us();
    if (p->cb_depth++ == 0) {
        atomic_store(&p->wd_label, in->label);
        atomic_store(&p->wd_what, what);
        atomic_store(&p->wd_started_us, t0);
    }
    return t0;
}

void sb_cb_leave(sb_inst *in, const char *what, uint64_t t0)
{
    sb_plugins *p = in->host;
    uint64_t dt = mono_us() - t0;
    if (--p->cb_depth == 0) atomic_store(&p->wd_started_us, 0);
    in->cb_seconds += (double)dt / 1e6;
    in->cb_count++;
    if (p->d.watchdog_ms && dt > p->d.watchdog_ms * 1000u) {
        in->cb_slow++;
        sb_log(SB_LOG_WARN, "watchdog", in->label, "callback %s took %llu ms (threshold %llu ms)",
               what, (unsigned long long)(dt / 1000), (unsigned long long)p->d.watchdog_ms);
    }
}
