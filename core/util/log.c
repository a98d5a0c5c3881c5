#include "util/log.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile int g_level = SB_LOG_INFO;
static const char *const k_names[] = {"error", "warn", "info", "debug"};

void sb_log_set_level(sb_log_level level) { g_level = (int)level; }
sb_log_level sb_log_get_level(void) { return (sb_log_level)g_level; }

int sb_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, k_names[i]) == 0) return i;
    return -1;
}

/* Quotes and escapes the message so one event is always one line. */
static size_t put_quoted(char *out, size_t cap, size_t n, const char *s)
{
    if (n < cap) out[n++] = '"';
    for (; *s && n + 2 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { out[n++] = '\\'; out[n++] = (char)c; }
        else if (c == '\n') { out[n++] = '\\'; out[n++] = 'n'; }
        else if (c < 0x20) out[n++] = ' ';
        else out[n++] = (char)c;
    }
    if (n < cap) out[n++] = '"';
    return n;
}

void sb_vlog(sb_log_level level, const char *module, const char *instance,
             const char *fmt, va_list ap)
{
    if ((int)level > g_level) return;
    char msg[2048], line[4096];
    vsnprintf(msg, sizeof msg, fmt, ap);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03dZ level=%s module=%s",
                          (int)(tv.tv_usec / 1000), k_names[level & 3],
                          module ? module : "core");
    if (instance && n < sizeof line)
        n += (size_t)snprintf(line + n, sizeof line - n, " plugin=%s", instance);
    if (n + 5 < sizeof line) { memcpy(line + n, " msg=", 5); n += 5; }
    n = put_quoted(line, sizeof line - 1, n, msg);
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}

void sb_log(sb_log_level level, const char *module, const char *instance,
            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vlog(level, module, instance, fmt, ap);
    va_end(ap);
}
