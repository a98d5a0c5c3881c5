/* The environment: directory, process lock, LMDB env and tables, close,
 * stats. Writes are in store_batch.c, reads in store_read.c. */
#include "store/store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

#define DEFAULT_MAP_SIZE (UINT64_C(64) << 20)
#define DEFAULT_MAX_MAP_SIZE (UINT64_C(16) << 30)
/* LMDB looks named tables up linearly; far fewer are ever needed. */
#define MAX_TABLES 1024

static const char *const k_own_tables[SB_TBL_OWN] = {"_events", "_dedup", "_dedup_exp"};

static void set_err(char *err, size_t errlen, const char *fmt, ...) SB_PRINTF(3, 4);
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* "<dir>/<name>", malloc'ed; NULL without memory. */
static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static bool is_permission(int e) { return e == EACCES || e == EPERM || e == EROFS; }

/* Creates the last component of path if missing; checks it is a writable
 * directory. */
static sb_status prepare_dir(const char *path, char *err, size_t errlen)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        int e = errno;
        set_err(err, errlen, "storage.path %s: %s: %s", path,
                is_permission(e) ? "not writable" : "cannot create directory",
                strerror(e));
        return SB_ERR_IO;
    }
    struct stat sb;
    int rc = stat(path, &sb);
    if (rc != 0 || !S_ISDIR(sb.st_mode)) {
        int e = rc != 0 ? errno : ENOTDIR;
        set_err(err, errlen, "storage.path %s: cannot create directory: %s", path,
                strerror(e));
        return SB_ERR_IO;
    }
    if (access(path, W_OK | X_OK) != 0) {
        set_err(err, errlen, "storage.path %s: not writable: %s", path, strerror(errno));
        return SB_ERR_IO;
    }
    return SB_OK;
}

/* Takes the exclusive flock on <path>/switchboard.lock and writes our pid
 * into it; *fd keeps it. */
static sb_status take_lock(const char *path, int *fd, char *err, size_t errlen)
{
    char *lp = join(path, "switchboard.lock");
    if (!lp) return SB_ERR_NOMEM;
    *fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    int e = errno;
    free(lp);
    if (*fd < 0) {
        set_err(err, errlen, "storage.path %s: %s: %s", path,
                is_permission(e) ? "not writable" : "cannot open switchboard.lock",
                strerror(e));
        return SB_ERR_IO;
    }
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        e = errno;
        char buf[32] = "";
        ssize_t r = pread(*fd, buf, sizeof buf - 1, 0);
        buf[r > 0 ? r : 0] = '\0';
        long pid = strtol(buf, NULL, 10);
        close(*fd);
        *fd = -1;
        if (e == EWOULDBLOCK) {
            if (pid > 0)
                set_err(err, errlen, "storage.path %s: locked by another running "
                        "switchboard (pid %ld)", path, pid);
            else
                set_err(err, errlen, "storage.path %s: locked by another running "
                        "switchboard", path);
            return SB_ERR_STATE;
        }
        set_err(err, errlen, "storage.path %s: cannot lock switchboard.lock: %s",
                path, strerror(e));
        return SB_ERR_IO;
    }
    /* The pid only makes the "locked" message useful; failing to write it
     * (a full disk) does not weaken the lock itself. */
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(*fd, 0) != 0 || pwrite(*fd, pid, (size_t)len, 0) != len)
        sb_warn("store", "storage.path %s: cannot write the pid into switchboard.lock", path);
    return SB_OK;
}

static uint64_t round_up(uint64_t v, uint64_t page)
{
    return v % page ? v + (page - v % page) : v;
}

static sb_status check_options(const sb_store_options *opt, char *err, size_t errlen)
{
    if (!opt || !opt->path || !*opt->path) {
        set_err(err, errlen, "storage.path: missing");
        return SB_ERR_INVALID;
    }
    if (opt->n_tables && !opt->tables) {
        set_err(err, errlen, "storage: no table names");
        return SB_ERR_INVALID;
    }
    if (opt->n_tables > MAX_TABLES) {
        set_err(err, errlen, "storage: %zu tables, at most %d", opt->n_tables, MAX_TABLES);
        return SB_ERR_INVALID;
    }
    for (size_t i = 0; i < opt->n_tables; i++) {
        const char *t = opt->tables[i];
        if (!t || !*t || *t == '_') {
            set_err(err, errlen, "storage: table %zu: name %s", i,
                    t && *t ? "starting with '_' is reserved" : "empty");
            return SB_ERR_INVALID;
        }
    }
    return SB_OK;
}

/* Creates or opens every table and recovers the log position, in one txn. */
static int open_tables(sb_store *st, const sb_store_options *opt)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc != MDB_SUCCESS) return rc;
    for (size_t i = 0; i < st->n_user + SB_TBL_OWN && rc == MDB_SUCCESS; i++) {
        const char *name = i < st->n_user ? opt->tables[i] : k_own_tables[i - st->n_user];
        rc = mdb_dbi_open(txn, name, MDB_CREATE, &st->dbi[i]);
    }
    if (rc == MDB_SUCCESS && sb_store_log_open(st, txn) != SB_OK) rc = MDB_CORRUPTED;
    if (rc != MDB_SUCCESS) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

static void free_store(sb_store *st)
{
    if (st->rtxn) mdb_txn_abort(st->rtxn);
    if (st->env) mdb_env_close(st->env);
    if (st->lock_fd >= 0) close(st->lock_fd); /* releases the flock */
    sb_store_batch_free(st);
    free(st->dbi);
    free(st);
}

sb_status sb_store_open(sb_store **out, const sb_store_options *opt, char *err,
                        size_t errlen)
{
    *out = NULL;
    set_err(err, errlen, "%s", "");
    sb_status s = check_options(opt, err, errlen);
    if (s != SB_OK) return s;

    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t map = round_up(opt->map_size ? opt->map_size : DEFAULT_MAP_SIZE, page);
    uint64_t max = round_up(opt->max_map_size ? opt->max_map_size : DEFAULT_MAX_MAP_SIZE, page);
    if (max < map) max = map;
    if (map > SIZE_MAX || max > SIZE_MAX) {
        set_err(err, errlen, "storage.map_size: too big for this machine");
        return SB_ERR_INVALID;
    }

    sb_store *st = calloc(1, sizeof *st);
    if (!st) return SB_ERR_NOMEM;
    st->lock_fd = -1;
    st->n_user = opt->n_tables;
    st->dbi = calloc(st->n_user + SB_TBL_OWN, sizeof *st->dbi);
    if (!st->dbi) {
        free_store(st);
        return SB_ERR_NOMEM;
    }
    if ((s = prepare_dir(opt->path, err, errlen)) != SB_OK ||
        (s = take_lock(opt->path, &st->lock_fd, err, errlen)) != SB_OK) {
        free_store(st);
        return s;
    }

    int rc = mdb_env_create(&st->env);
    if (rc != MDB_SUCCESS) st->env = NULL;
    unsigned flags = MDB_NOTLS | (opt->no_sync ? MDB_NOSYNC : 0);
    /* An existing file keeps the size it grew to (LMDB stores it) unless
     * the configured one is bigger; a new one starts at the configured. */
    char *data = join(opt->path, "data.mdb");
    struct stat sb;
    bool existing = data && stat(data, &sb) == 0 && sb.st_size > 0;
    free(data);
    if (rc == MDB_SUCCESS && !existing) rc = mdb_env_set_mapsize(st->env, (size_t)map);
    if (rc == MDB_SUCCESS) rc = mdb_env_set_maxdbs(st->env, (MDB_dbi)(st->n_user + SB_TBL_OWN));
    if (rc == MDB_SUCCESS) rc = mdb_env_open(st->env, opt->path, flags, 0600);
    MDB_envinfo info;
    if (rc == MDB_SUCCESS && (rc = mdb_env_info(st->env, &info)) == MDB_SUCCESS &&
        info.me_mapsize < map)
        rc = mdb_env_set_mapsize(st->env, (size_t)map);
    if (rc == MDB_SUCCESS) {
        int dead = 0;
        /* A killed process leaves its reader slots behind; they would pin
         * old pages forever. We hold the lock, so none of them is alive. */
        mdb_reader_check(st->env, &dead);
        if (dead) sb_info("store", "cleared %d stale reader slots", dead);
        rc = open_tables(st, opt);
    }
    if (rc != MDB_SUCCESS) {
        set_err(err, errlen, "storage.path %s: cannot open database: %s", opt->path,
                mdb_strerror(rc));
        free_store(st);
        return SB_ERR_IO;
    }
    mdb_env_info(st->env, &info);
    st->map_size = info.me_mapsize;
    st->max_map_size = max > st->map_size ? max : st->map_size;
    st->max_key = (size_t)mdb_env_get_maxkeysize(st->env);
    *out = st;
    return SB_OK;
}

void sb_store_close(sb_store *st)
{
    if (!st) return;
    if (!st->in_flush) sb_store_flush(st);
    if (sb_store_pending(st) || st->wtxn) sb_store_batch_cancel(st, SB_ERR_CANCELLED);
    free_store(st);
}

void sb_store_get_stats(const sb_store *st, sb_store_stats *out)
{
    *out = st->stats;
    out->map_size = st->map_size;
}
