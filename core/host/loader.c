/* Finds, dlopens and checks plugin shared objects. One dlopen per .so, kept
 * for the process's life (no dlclose at run time: a stale function pointer
 * in a queued callback must never point into unmapped code). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_internal.h"
#include "util/log.h"

struct sb_loaded_so {
    char *name;
    void *handle;
    const sb_plugin *desc;
    sb_loaded_so *next;
};

static bool valid_name(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

/* The descriptor's fixed head is readable whatever its struct_size says;
 * everything after it is checked against struct_size before use. */
static int check_desc(const sb_plugin *d, const char *name, const char *path,
                      char *err, size_t errlen)
{
    if (d->abi_major != SB_ABI_MAJOR) {
        snprintf(err, errlen, "plugin %s (%s) is built for plugin ABI %u.%u, "
                 "this host speaks %u.%u", name, path, d->abi_major, d->abi_minor,
                 SB_ABI_MAJOR, SB_ABI_MINOR);
        return -1;
    }
    size_t need = offsetof(sb_plugin, init) + sizeof d->init;
    if (d->struct_size < need) {
        snprintf(err, errlen, "plugin %s (%s): descriptor too small (%u bytes)",
                 name, path, d->struct_size);
        return -1;
    }
    if (!d->name || strcmp(d->name, name) != 0) {
        snprintf(err, errlen, "plugin %s (%s) calls itself '%s'", name, path,
                 d->name ? d->name : "(null)");
        return -1;
    }
    if (!d->init) {
        snprintf(err, errlen, "plugin %s (%s): mandatory callback init is missing",
                 name, path);
        return -1;
    }
    if (d->kind != SB_KIND_CHANNEL && d->kind != SB_KIND_BOT && d->kind != SB_KIND_SERVICE) {
        snprintf(err, errlen, "plugin %s (%s): unknown kind %d", name, path, (int)d->kind);
        return -1;
    }
    bool has_send = d->struct_size >= offsetof(sb_plugin, send) + sizeof d->send && d->send;
    if (d->kind == SB_KIND_CHANNEL && !has_send) {
        snprintf(err, errlen, "plugin %s (%s): a channel must implement send", name, path);
        return -1;
    }
    bool has_bot = d->struct_size >= offsetof(sb_plugin, bot_event) + sizeof d->bot_event &&
                   d->bot_event;
    if (d->kind == SB_KIND_BOT && !has_bot) {
        snprintf(err, errlen, "plugin %s (%s): a bot must implement bot_event (ABI 1.1)", name,
                 path);
        return -1;
    }
    return 0;
}

const sb_plugin *sb_loader_open(sb_plugins *p, const char *name, char *err, size_t errlen)
{
    for (sb_loaded_so *s = p->sos; s; s = s->next)
        if (strcmp(s->name, name) == 0) return s->desc;
    if (!valid_name(name)) {
        snprintf(err, errlen, "plugin name '%s': only a-z, 0-9 and _ allowed", name);
        return NULL;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.so", p->d.plugins_dir, name);
    dlerror();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(err, errlen, "plugin %s: cannot load %s: %s", name, path, e ? e : "?");
        return NULL;
    }
    sb_plugin_entry_fn entry;
    /* POSIX: a function pointer comes out of dlsym through a void* copy. */
    void *sym = dlsym(h, SB_PLUGIN_ENTRY_SYMBOL);
    memcpy(&entry, &sym, sizeof entry);
    if (!sym) {
        snprintf(err, errlen, "plugin %s: %s is not a Switchboard plugin "
                 "(no symbol %s)", name, path, SB_PLUGIN_ENTRY_SYMBOL);
        return NULL; /* leaves the handle open; harmless and rare */
    }
    const sb_plugin *d = entry(SB_ABI_MAJOR, SB_ABI_MINOR);
    if (!d) {
        snprintf(err, errlen, "plugin %s (%s) refused this host (ABI %u.%u)", name, path,
                 SB_ABI_MAJOR, SB_ABI_MINOR);
        return NULL;
    }
    if (check_desc(d, name, path, err, errlen) != 0) return NULL;
    sb_loaded_so *s = calloc(1, sizeof *s);
    if (!s || !(s->name = strdup(name))) {
        free(s);
        snprintf(err, errlen, "plugin %s: out of memory", name);
        return NULL;
    }
    s->handle = h;
    s->desc = d;
    s->next = p->sos;
    p->sos = s;
    sb_info("host", "loaded plugin %s %s from %s (ABI %u.%u)", name,
            d->version ? d->version : "?", path, d->abi_major, d->abi_minor);
    return d;
}

void sb_loader_free(sb_plugins *p)
{
    while (p->sos) {
        sb_loaded_so *s = p->sos;
        p->sos = s->next;
        free(s->name);
        free(s);
    }
}
