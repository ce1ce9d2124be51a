/*
 * faultfs.c - the fault tests' counting file system (see faultfs.h).
 *
 * Owns: the replaced ev_os entries and the SQLite VFS shim "faultfs".
 * Never: changes what a call does when it is not the one that fails.
 *
 * Test code, not library code: the library needs no hook for it, since
 * SQLite opens the catalog with the default VFS and the ev_os table is
 * already public to tests.
 */
#include "faultfs.h"

#include "evault.h"
#include "os.h"

#include <errno.h>
#include <execinfo.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ff_kind {
    K_WRITE,
    K_FSYNC,
    K_RENAME,
    K_SQL_WRITE,
    K_SQL_SYNC,
    K_SQL_TRUNCATE,
    K_SQL_DELETE,
    K_SQL_DIRSYNC,
    K_LAST
};
static const char *const kind_names[K_LAST] = {
    "write",         "fsync",        "rename",
    "sqlite xWrite", "sqlite xSync", "sqlite xTruncate",
    "sqlite xDelete", "sqlite xDelete's directory sync"};

static atomic_long calls;
static atomic_long by_kind[K_LAST];
static atomic_int counting;
static long fail_at, fail_len;
static int fail_errno;
static atomic_int fired;
static int fired_expect;
static char fired_what[256];

void
ff_count(void)
{
    ff_arm(0, 0);
}

void
ff_arm(long n, int err)
{
    ff_arm_run(n, 1, err);
}

void
ff_arm_run(long n, long len, int err)
{
    atomic_store(&counting, 0);
    atomic_store(&calls, 0);
    for (int i = 0; i < K_LAST; i++) {
        atomic_store(&by_kind[i], 0);
    }
    atomic_store(&fired, 0);
    fail_at = n;
    fail_len = len;
    fail_errno = err;
    fired_expect = EV_OK;
    fired_what[0] = '\0';
    atomic_store(&counting, 1);
}

void
ff_off(void)
{
    atomic_store(&counting, 0);
}

long
ff_calls(void)
{
    return atomic_load(&calls);
}

int
ff_fired(void)
{
    return atomic_load(&fired);
}

int
ff_expected(void)
{
    return fired_expect;
}

const char *
ff_what(void)
{
    return fired_what;
}

void
ff_summary(char *out, unsigned long n)
{
    size_t o = 0;

    out[0] = '\0';
    for (int i = 0; i < K_LAST && o < n; i++) {
        long c = atomic_load(&by_kind[i]);
        if (c > 0) {
            int w = snprintf(out + o, n - o, "%s%ld %s", o > 0 ? ", " : "", c,
                             kind_names[i]);
            o += w > 0 ? (size_t)w : 0;
        }
    }
}

/* Counts a call; 1 when this one must fail (errno is then set). */
static int
hit(enum ff_kind k, const char *name)
{
    long n;

    if (!atomic_load(&counting)) {
        return 0;
    }
    n = atomic_fetch_add(&calls, 1) + 1;
    atomic_fetch_add(&by_kind[k], 1);
    if (fail_at == 0 || n < fail_at || n >= fail_at + fail_len) {
        return 0;
    }
    if (n > fail_at) {
        /* the first failure is the one reported */
        errno = fail_errno;
        return 1;
    }
    /* what the library should make of it */
    if (k == K_WRITE || k == K_FSYNC || k == K_RENAME || k == K_SQL_WRITE) {
        fired_expect = fail_errno == ENOSPC ? EV_ENOSPC : EV_EIO;
    } else {
        fired_expect = EV_EIO;
    }
    snprintf(fired_what, sizeof fired_what, "%s%s%s (call %ld, %s)",
             kind_names[k], name != NULL ? " " : "", name != NULL ? name : "",
             n, strerror(fail_errno));
    atomic_store(&fired, 1);
    if (getenv("EV_FAULT_TRACE") != NULL) {
        /* where the failing call came from (link with -rdynamic or read
         * the addresses with addr2line) */
        void *bt[32];
        fprintf(stderr, "faulting %s:\n", fired_what);
        backtrace_symbols_fd(bt, backtrace(bt, 32), 2);
    }
    errno = fail_errno;
    return 1;
}

/* ------------------------------------------------------------------ */
/* The library's calls                                                 */
/* ------------------------------------------------------------------ */

static ssize_t
ff_write(int fd, const void *buf, size_t n)
{
    return hit(K_WRITE, NULL) ? -1 : ev_os_default.write(fd, buf, n);
}

static ssize_t
ff_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    return hit(K_WRITE, NULL) ? -1 : ev_os_default.pwrite(fd, buf, n, off);
}

/* A sync that does not fail does nothing: no test here cuts the power,
 * and thousands of runs of real syncs would take minutes. */
static int
ff_fsync(int fd)
{
    (void)fd;
    return hit(K_FSYNC, NULL) ? -1 : 0;
}

static int
ff_rename(const char *from, const char *to)
{
    return hit(K_RENAME, to) ? -1 : ev_os_default.rename(from, to);
}

/* ------------------------------------------------------------------ */
/* SQLite's calls                                                      */
/* ------------------------------------------------------------------ */

struct ff_file {
    sqlite3_file base;
    sqlite3_file *real;
    const char *name; /* the last part of its path, for messages */
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs ff_vfs;
static sqlite3_io_methods ff_io;

#define REAL(f) (((struct ff_file *)(f))->real)
#define NAME(f) (((struct ff_file *)(f))->name)

static int
io_close(sqlite3_file *f)
{
    return REAL(f)->pMethods->xClose(REAL(f));
}

static int
io_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}

static int
io_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    if (hit(K_SQL_WRITE, NAME(f))) {
        return fail_errno == ENOSPC ? SQLITE_FULL : SQLITE_IOERR_WRITE;
    }
    return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}

static int
io_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    if (hit(K_SQL_TRUNCATE, NAME(f))) {
        return SQLITE_IOERR_TRUNCATE;
    }
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int
io_sync(sqlite3_file *f, int flags)
{
    (void)flags;
    return hit(K_SQL_SYNC, NAME(f)) ? SQLITE_IOERR_FSYNC : SQLITE_OK;
}

static int
io_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int
io_lock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xLock(REAL(f), l);
}

static int
io_unlock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), l);
}

static int
io_check_lock(sqlite3_file *f, int *out)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int
io_fcntl(sqlite3_file *f, int op, void *arg)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int
io_sector(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int
io_chars(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int
io_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **out)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, out);
}

static int
io_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void
io_shm_barrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int
io_shm_unmap(sqlite3_file *f, int del)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int
io_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **out)
{
    return REAL(f)->pMethods->xFetch(REAL(f), off, n, out);
}

static int
io_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static int
vfs_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
         int *out_flags)
{
    struct ff_file *p = (struct ff_file *)f;
    const char *slash = name != NULL ? strrchr(name, '/') : NULL;
    int rc;

    (void)vfs;
    p->real = (sqlite3_file *)(p + 1);
    p->name = slash != NULL ? slash + 1 : name;
    rc = real_vfs->xOpen(real_vfs, name, p->real, flags, out_flags);
    if (p->real->pMethods == NULL) {
        f->pMethods = NULL;
        return rc;
    }
    if (ff_io.iVersion == 0) {
        ff_io.iVersion =
            p->real->pMethods->iVersion < 3 ? p->real->pMethods->iVersion : 3;
    }
    f->pMethods = &ff_io;
    return rc;
}

/* A rollback journal's deletion is a commit (journal_mode=DELETE, which
 * key changes and destroy use): it may fail before the file goes, or in
 * the directory's sync after (SQLite then says SQLITE_IOERR_DIR_FSYNC of
 * a journal that is gone).  The sync itself is skipped, as all syncs. */
static int
vfs_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    const char *slash = strrchr(name, '/');
    const char *base = slash != NULL ? slash + 1 : name;
    int rc;

    (void)vfs;
    if (hit(K_SQL_DELETE, base)) {
        return SQLITE_IOERR_DELETE;
    }
    rc = real_vfs->xDelete(real_vfs, name, 0);
    if (rc == SQLITE_OK && sync_dir && hit(K_SQL_DIRSYNC, base)) {
        return SQLITE_IOERR_DIR_FSYNC;
    }
    return rc;
}

static int
vfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int
vfs_full_path(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static int
vfs_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xRandomness(real_vfs, n, out);
}

static int
vfs_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return real_vfs->xSleep(real_vfs, us);
}

static int
vfs_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return real_vfs->xCurrentTime(real_vfs, out);
}

static int
vfs_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xGetLastError(real_vfs, n, out);
}

static int
vfs_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

void
ff_install(void)
{
    static int done;

    if (done) {
        return;
    }
    done = 1;
    ev_os.write = ff_write;
    ev_os.pwrite = ff_pwrite;
    ev_os.fsync = ff_fsync;
    ev_os.rename = ff_rename;

    real_vfs = sqlite3_vfs_find("unix");
    if (real_vfs == NULL) {
        fprintf(stderr, "faultfs: SQLite has no unix VFS\n");
        exit(2);
    }
    ff_io = (sqlite3_io_methods){0,
                                 io_close,
                                 io_read,
                                 io_write,
                                 io_truncate,
                                 io_sync,
                                 io_file_size,
                                 io_lock,
                                 io_unlock,
                                 io_check_lock,
                                 io_fcntl,
                                 io_sector,
                                 io_chars,
                                 io_shm_map,
                                 io_shm_lock,
                                 io_shm_barrier,
                                 io_shm_unmap,
                                 io_fetch,
                                 io_unfetch};
    ff_vfs = (sqlite3_vfs){
        2,
        (int)(sizeof(struct ff_file) + (size_t)real_vfs->szOsFile),
        real_vfs->mxPathname,
        NULL,
        "faultfs",
        NULL,
        vfs_open,
        vfs_delete,
        vfs_access,
        vfs_full_path,
        NULL,
        NULL,
        NULL,
        NULL,
        vfs_randomness,
        vfs_sleep,
        vfs_time,
        vfs_last_error,
        vfs_time64,
        NULL,
        NULL,
        NULL};
    if (sqlite3_vfs_register(&ff_vfs, 1) != SQLITE_OK) {
        fprintf(stderr, "faultfs: cannot register the VFS\n");
        exit(2);
    }
}
