/*
 * test_killpoints.c - key changes and destroy killed at every durable step.
 *
 * A child process runs a key change (lockdown, passphrase change,
 * rotation) or a destroy, its SQLite I/O going through a VFS that kills it
 * (SIGKILL) just before its N-th write, sync, truncate or delete, for
 * N = 1, 2, ... until it runs to its end.  After each kill the vault is in
 * the old state or the new one (one passphrase opens it, never both or
 * neither; the record reads back or is a tombstone) and passes ev_check.
 * Once the change took effect, vault.db alone as the kill left it (what
 * whoever takes the laptop then has, without the -wal log that SQLite
 * would replay) must not open with the old passphrase, nor read the
 * destroyed record: the commit point of a change that removes a way in or
 * a key is the point after which no copy of it is in the catalog file.
 * tests/crash/campaign.sh found kills that broke this: 5 kill points of
 * each change, between its commit into the WAL and the checkpoint after.
 */
#include "harness.h"
#include "os.h"
#include "testutil.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

/* ------------------------------------------------------------------ */
/* A VFS that dies at the N-th durable call                           */
/* ------------------------------------------------------------------ */

static sqlite3_vfs *real_vfs;
static long kill_at, calls;

typedef struct {
    sqlite3_file base;
    sqlite3_file *real; /* follows this struct in the same allocation */
} kfile;

static void
step(void)
{
    if (kill_at > 0 && ++calls == kill_at) {
        raise(SIGKILL);
    }
}

#define REAL(f) (((kfile *)(f))->real)

static int
k_close(sqlite3_file *f)
{
    return REAL(f)->pMethods->xClose(REAL(f));
}
static int
k_read(sqlite3_file *f, void *p, int n, sqlite3_int64 o)
{
    return REAL(f)->pMethods->xRead(REAL(f), p, n, o);
}
static int
k_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 o)
{
    step();
    return REAL(f)->pMethods->xWrite(REAL(f), p, n, o);
}
static int
k_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    step();
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
/* A kill keeps what was written (the page cache outlives the process):
 * syncs only count, they would make hundreds of runs slow. */
static int
k_sync(sqlite3_file *f, int flags)
{
    (void)f;
    (void)flags;
    step();
    return SQLITE_OK;
}
static int
k_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int
k_lock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int
k_unlock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int
k_reserved(sqlite3_file *f, int *out)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int
k_fcntl(sqlite3_file *f, int op, void *arg)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int
k_sector(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int
k_dev(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int
k_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, pp);
}
static int
k_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void
k_shm_barrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int
k_shm_unmap(sqlite3_file *f, int del)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static const sqlite3_io_methods k_io = {
    2,      k_close,   k_read,     k_write,       k_truncate,  k_sync,
    k_size, k_lock,    k_unlock,   k_reserved,    k_fcntl,     k_sector,
    k_dev,  k_shm_map, k_shm_lock, k_shm_barrier, k_shm_unmap, NULL,
    NULL};

static int
k_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
       int *out_flags)
{
    kfile *k = (kfile *)f;
    int rc;

    (void)vfs;
    k->real = (sqlite3_file *)(k + 1);
    rc = real_vfs->xOpen(real_vfs, name, k->real, flags, out_flags);
    k->base.pMethods = k->real->pMethods != NULL ? &k_io : NULL;
    return rc;
}

static int
k_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    (void)sync_dir;
    step();
    return real_vfs->xDelete(real_vfs, name, 0);
}

static sqlite3_vfs k_vfs;

/* The library's own writes, syncs, renames and unlinks (blob files, the
 * bundle share writes) are kill points too, on the same counter. */
static ssize_t
kos_write(int fd, const void *buf, size_t n)
{
    step();
    return ev_os_default.write(fd, buf, n);
}
static ssize_t
kos_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    step();
    return ev_os_default.pwrite(fd, buf, n, off);
}
static int
kos_ftruncate(int fd, off_t len)
{
    step();
    return ev_os_default.ftruncate(fd, len);
}
static int
kos_fsync(int fd)
{
    (void)fd;
    step();
    return 0;
}
static int
kos_rename(const char *from, const char *to)
{
    step();
    return ev_os_default.rename(from, to);
}
static int
kos_unlink(const char *path)
{
    step();
    return ev_os_default.unlink(path);
}

/* Every later catalog opens through the killing VFS (which kills only
 * once kill_at is set, in a child). */
static void
install_killer(void)
{
    real_vfs = sqlite3_vfs_find(NULL);
    k_vfs = *real_vfs;
    k_vfs.iVersion = real_vfs->iVersion < 3 ? real_vfs->iVersion : 3;
    k_vfs.szOsFile = (int)sizeof(kfile) + real_vfs->szOsFile;
    k_vfs.zName = "killer";
    k_vfs.xOpen = k_open;
    k_vfs.xDelete = k_delete;
    sqlite3_vfs_register(&k_vfs, 1);
    ev_os.write = kos_write;
    ev_os.pwrite = kos_pwrite;
    ev_os.ftruncate = kos_ftruncate;
    ev_os.fsync = kos_fsync;
    ev_os.rename = kos_rename;
    ev_os.unlink = kos_unlink;
}

/* ------------------------------------------------------------------ */
/* The changes                                                         */
/* ------------------------------------------------------------------ */

#define NEW_PASS "a new passphrase, after the border"

enum change {
    LOCKDOWN,
    PASSPHRASE,
    ROTATE,
    DESTROY_INLINE,
    DESTROY_BLOB,
    SHARE
};
static const char *const change_names[] = {
    "lockdown",       "passphrase", "rotate", "destroy (inline)",
    "destroy (blob)", "share"};

static char *root;
static char recovery[EV_RECOVERY_KEY_CHARS + 1];
static char bundle[PATH_MAX]; /* share's output */

/* The vault every run starts from, made once: record 1 a short testimony
 * (kept inline in the catalog), record 2 in a blob file, record 3 sealed
 * for share, and a contact to share with. */
#define BIG (1100 * 1024)
static char tmpl[PATH_MAX];

static void
make_template(void)
{
    ev_vault *v;
    char path[PATH_MAX];
    const char *paths[1] = {path};
    static const char text[] = "a testimony that must survive";
    uint8_t *big = malloc(BIG);

    /* the least Argon2id memory a slot allows: hundreds of unlocks */
    static const ev_create_opts tiny = {.argon2_ops = 1, .argon2_mem_kib = 8};

    t_path(tmpl, sizeof tmpl, root, "template");
    CHECK_EQ(ev_vault_new(&v), EV_OK);
    CHECK_EQ(ev_vault_create(v, tmpl, &tiny, T_PASS, strlen(T_PASS), recovery),
             EV_OK);
    t_path(path, sizeof path, root, "testimony.txt");
    CHECK(t_write_file(path, text, sizeof text - 1) == 0);
    CHECK_EQ(ev_record_add_paths(v, paths, 1, NULL, NULL, NULL), EV_OK);
    /* record 2: too big to be kept inline, in a blob file */
    CHECK(big != NULL);
    t_fill_random(big, BIG, 17);
    t_path(path, sizeof path, root, "video.mp4");
    CHECK(t_write_file(path, big, BIG) == 0);
    CHECK_EQ(ev_record_add_paths(v, paths, 1, NULL, NULL, NULL), EV_OK);
    free(big);
    /* record 3, sealed, to share with a contact (this vault itself) */
    t_path(path, sizeof path, root, "statement.txt");
    CHECK(t_write_file(path, text, sizeof text - 1) == 0);
    CHECK_EQ(ev_record_add_paths(v, paths, 1, NULL, NULL, NULL), EV_OK);
    {
        int64_t three = 3;
        size_t n;
        ev_identity_info me;
        CHECK_EQ(ev_seal(v, &three, 1, "to share", &n), EV_OK);
        CHECK_EQ(ev_identity(v, &me), EV_OK);
        CHECK_EQ(ev_contact_add(v, "partner", me.age, me.minisign), EV_OK);
    }
    ev_vault_free(v);
}

static int
copy_file(const char *from, const char *to)
{
    size_t n;
    uint8_t *p = t_read_file(from, &n);
    int rc = p != NULL ? t_write_file(to, p, n) : -1;

    free(p);
    return rc;
}

static const char *copy_to;
static char tmpl_from[PATH_MAX]; /* the tree copy_one copies */

static int
copy_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    char to[PATH_MAX];

    (void)f;
    t_path(to, sizeof to, copy_to, path + strlen(tmpl_from));
    if (flag == FTW_D) {
        return mkdir(to, st->st_mode & 07777) == 0 ? 0 : -1;
    }
    return copy_file(path, to) == 0 && chmod(to, st->st_mode & 07777) == 0 ? 0
                                                                           : -1;
}

/* A fresh copy of the template at dir. */
static void
make_vault(const char *dir)
{
    copy_to = dir;
    snprintf(tmpl_from, sizeof tmpl_from, "%s", tmpl);
    CHECK(nftw(tmpl, copy_one, 16, FTW_PHYS) == 0);
}

/* The change, in a child killed at the n-th durable call.  1 when the
 * child was killed, 0 when the change ran to its end. */
static int
run_killed(const char *dir, enum change c, long n)
{
    pid_t pid = fork();
    int status;

    if (pid == 0) {
        ev_vault *v = NULL;
        int rc, removed;
        char rec[EV_RECOVERY_KEY_CHARS + 1], *lines = NULL;
        int k, m;

        if (ev_vault_new(&v) != EV_OK || ev_vault_open(v, dir) != EV_OK ||
            ev_vault_unlock_passphrase(v, T_PASS, strlen(T_PASS)) != EV_OK) {
            _exit(3);
        }
        kill_at = n;
        calls = 0;
        switch (c) {
        case LOCKDOWN:
            rc = ev_vault_lockdown(v, 0, 0, &removed);
            break;
        case PASSPHRASE:
            rc = ev_key_add_passphrase(v, NEW_PASS, strlen(NEW_PASS), NULL, 1,
                                       0, 0, NULL);
            break;
        case ROTATE:
            rc = ev_key_rotate(v, NEW_PASS, strlen(NEW_PASS), 0, 0, rec, &lines,
                               &k, &m);
            break;
        case SHARE: {
            static const char *const to[] = {"partner"};
            ev_share_opts so = {to, 1, NULL, 0, 0};
            int64_t three = 3;
            rc = ev_share(v, &three, 1, &so, bundle);
            break;
        }
        default: {
            ev_destroy_result res;
            rc =
                ev_record_destroy(v, c == DESTROY_INLINE ? 1 : 2, "test", &res);
            break;
        }
        }
        _exit(rc == EV_OK ? 0 : 4);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        CHECK(!"fork");
        return 0;
    }
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
        return 1;
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return 0;
}

/* Does pass open the vault in dir?  ev status of the unlock; when it
 * opens and check is set, the vault must pass ev_check too. */
static int
opens_(const char *dir, const char *pass, int check)
{
    ev_vault *v = NULL;
    int rc = ev_vault_new(&v);

    if (rc == EV_OK) {
        rc = ev_vault_open(v, dir);
    }
    if (rc == EV_OK) {
        rc = ev_vault_unlock_passphrase(v, pass, strlen(pass));
    }
    if (rc == EV_OK && check) {
        rc = ev_check(v, EV_CHECK_READ_DATA, NULL, NULL, NULL);
        CHECK_EQ(rc, EV_OK);
    }
    ev_vault_free(v);
    return rc;
}

#define opens(dir, pass) opens_(dir, pass, 1)

static int
count_share(void *ctx, uint64_t seq, const char *text)
{
    (void)seq;
    *(int *)ctx += strstr(text, "\naction share\n") != NULL;
    return 0;
}

/* Custody entries of shares in dir (-1: it does not open). */
static int
shares_logged(const char *dir)
{
    ev_vault *v = NULL;
    int rc = ev_vault_new(&v), n = 0;

    if (rc == EV_OK) {
        rc = ev_vault_open(v, dir);
    }
    if (rc == EV_OK) {
        rc = ev_vault_unlock_passphrase(v, T_PASS, strlen(T_PASS));
    }
    if (rc == EV_OK) {
        rc = ev_log_list(v, 0, count_share, &n);
    }
    ev_vault_free(v);
    return rc == EV_OK ? n : -1;
}

/* Record id in dir: 1 readable, 0 a tombstone, -1 anything else. */
static int
record_state(const char *dir, int64_t id)
{
    ev_vault *v = NULL;
    ev_record r;
    int rc = ev_vault_new(&v), st = -1, fd;
    char path[PATH_MAX];

    if (rc == EV_OK) {
        rc = ev_vault_open(v, dir);
    }
    if (rc == EV_OK) {
        rc = ev_vault_unlock_passphrase(v, T_PASS, strlen(T_PASS));
    }
    if (rc == EV_OK && (rc = ev_record_get(v, id, &r)) == EV_EDESTROYED) {
        st = 0;
    } else if (rc == EV_OK) {
        if (r.state == EV_STATE_DESTROYED) {
            st = 0;
        } else {
            t_path(path, sizeof path, root, "read.out");
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            st = fd >= 0 && ev_record_read(v, id, fd) == EV_OK ? 1 : -1;
            if (fd >= 0) {
                close(fd);
            }
        }
        ev_record_release(&r);
    }
    ev_vault_free(v);
    return st;
}

static int
recovery_opens(const char *dir)
{
    ev_vault *v = NULL;
    int rc = ev_vault_new(&v);

    if (rc == EV_OK) {
        rc = ev_vault_open(v, dir);
    }
    if (rc == EV_OK) {
        rc = ev_vault_unlock_recovery(v, recovery);
    }
    ev_vault_free(v);
    return rc;
}

static void
killpoints(enum change c)
{
    char dir[PATH_MAX], bare[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
    long n, took = 0, kept = 0, bare_open = 0;

    t_path(dir, sizeof dir, root, change_names[c]);
    t_path(bare, sizeof bare, root, "bare");
    for (n = 1; n < 10000; n++) {
        int killed, old_ok, new_ok;

        t_rmtree(strdup(dir));
        make_vault(dir);
        unlink(bundle);
        killed = run_killed(dir, c, n);
        if (c == SHARE) {
            /* a bundle under its name is logged: no record leaves the
             * vault without its custody entry */
            int logged = shares_logged(dir);
            CHECK(opens(dir, T_PASS) == EV_OK);
            CHECK(logged == 0 || logged == 1);
            if (access(bundle, F_OK) == 0) {
                took++;
                if (logged != 1) {
                    bare_open++;
                    fprintf(stderr,
                            "share killed at step %ld: the bundle is "
                            "there, the custody log has no share entry\n",
                            n);
                    CHECK(!"a bundle without its custody entry");
                }
            } else {
                kept++;
            }
            if (!killed) {
                break;
            }
            continue;
        }
        /* the catalog file alone, before anything opens the vault */
        t_rmtree(strdup(bare));
        CHECK(mkdir(bare, 0700) == 0);
        t_path(a, sizeof a, dir, "vault.db");
        t_path(b, sizeof b, bare, "vault.db");
        CHECK(copy_file(a, b) == 0);
        t_path(b, sizeof b, bare, "blobs");
        CHECK(mkdir(b, 0700) == 0);
        t_path(b, sizeof b, bare, "tmp");
        CHECK(mkdir(b, 0700) == 0);

        if (c >= DESTROY_INLINE) {
            /* the bare copy keeps vault.pack and the blob files as the
             * kill left them */
            t_path(a, sizeof a, dir, "vault.pack");
            t_path(b, sizeof b, bare, "vault.pack");
            if (access(a, F_OK) == 0) {
                CHECK(copy_file(a, b) == 0);
            }
            t_path(a, sizeof a, dir, "blobs");
            t_path(b, sizeof b, bare, "blobs");
            rmdir(b);
            copy_to = b;
            snprintf(tmpl_from, sizeof tmpl_from, "%s", a);
            CHECK(nftw(a, copy_one, 16, FTW_PHYS) == 0);
            int64_t id = c == DESTROY_INLINE ? 1 : 2;
            int st = record_state(dir, id);
            CHECK(st >= 0);
            old_ok = st == 1;
            new_ok = st == 0;
            CHECK(opens(dir, T_PASS) == EV_OK);
            if (new_ok) {
                took++;
                if (record_state(bare, id) == 1) {
                    bare_open++;
                    fprintf(stderr,
                            "%s killed at step %ld: the record is "
                            "destroyed, yet vault.db alone still reads "
                            "it\n",
                            change_names[c], n);
                    CHECK(!"vault.db alone reads a destroyed record");
                }
            } else {
                kept++;
            }
            if (!killed) {
                break;
            }
            continue;
        }
        old_ok = opens(dir, T_PASS) == EV_OK;
        new_ok = c == LOCKDOWN ? recovery_opens(dir) == EV_OK && !old_ok
                               : opens(dir, NEW_PASS) == EV_OK;
        if (old_ok == new_ok) {
            fprintf(stderr, "%s killed at step %ld: old opens %d, new %d\n",
                    change_names[c], n, old_ok, new_ok);
        }
        CHECK(old_ok != new_ok);
        if (c == LOCKDOWN) {
            CHECK_EQ(recovery_opens(dir), EV_OK);
        }
        if (new_ok) {
            took++;
            if (opens_(bare, T_PASS, 0) == EV_OK) {
                bare_open++;
                fprintf(stderr,
                        "%s killed at step %ld: it took effect, yet "
                        "vault.db alone opens with the old passphrase\n",
                        change_names[c], n);
                CHECK(!"vault.db alone opens with the old passphrase");
            }
        } else {
            kept++;
        }
        if (!killed) {
            break;
        }
    }
    printf("%s: killed at %ld points, then run to its end: %ld left the "
           "old state, %ld the new; %ld %s\n",
           change_names[c], n - 1, kept, took, bare_open,
           c == SHARE ? "left a bundle without its custody entry"
                      : "left vault.db alone in the old state");
    CHECK(n > 3);
    t_rmtree(strdup(dir));
    t_rmtree(strdup(bare));
}

int
main(void)
{
    CHECK_EQ(ev_init(), EV_OK);
    install_killer();
    root = t_mkdtemp();
    make_template();
    t_path(bundle, sizeof bundle, root, "bundle.age");
    killpoints(LOCKDOWN);
    killpoints(PASSPHRASE);
    killpoints(ROTATE);
    killpoints(DESTROY_INLINE);
    killpoints(DESTROY_BLOB);
    killpoints(SHARE);
    t_rmtree(root);
    EV_TEST_END();
}
