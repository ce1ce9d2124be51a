/*
 * test_faults.c - fault injection through the ev_os table (os.h).
 *
 * The N-th write, fsync or rename fails with ENOSPC or EIO, for N = 1, 2,
 * ... until an add runs without reaching the fault: each faulty add must
 * fail cleanly (EV_ENOSPC / EV_EIO with a message), leave no temporary file,
 * and leave a vault that opens, unlocks, passes check --read-data and still
 * reads every committed record byte for byte.  Then files that change while
 * they are read.  SQLite's own I/O, allocation failures and the other
 * operations are broken by test_faults_io and test_faults_alloc.
 */
#include "harness.h"
#include "os.h"
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/file.h>
#include <sys/time.h>

#define MiB ((size_t)1 << 20)

static char *root;

/* ------------------------------------------------------------------ */
/* The faulty table                                                    */
/* ------------------------------------------------------------------ */

enum fault_op { OP_WRITE, OP_FSYNC, OP_RENAME };
static const char *const op_names[] = {"write", "fsync", "rename"};

static atomic_int calls;
static int fault_at;    /* fail this call (1-based); 0 never */
static int fault_errno;
static atomic_int fired;

static int
should_fail(void)
{
    int n = atomic_fetch_add(&calls, 1) + 1;

    if (n == fault_at) {
        atomic_store(&fired, 1);
        errno = fault_errno;
        return 1;
    }
    return 0;
}

static ssize_t
bad_write(int fd, const void *buf, size_t n)
{
    if (should_fail()) {
        return -1;
    }
    return ev_os_default.write(fd, buf, n);
}

static int
bad_fsync(int fd)
{
    if (should_fail()) {
        return -1;
    }
    return ev_os_default.fsync(fd);
}

static int
bad_rename(const char *from, const char *to)
{
    if (should_fail()) {
        return -1;
    }
    return ev_os_default.rename(from, to);
}

static void
arm(enum fault_op op, int at, int err)
{
    atomic_store(&calls, 0);
    atomic_store(&fired, 0);
    fault_at = at;
    fault_errno = err;
    ev_os = ev_os_default;
    switch (op) {
    case OP_WRITE:
        ev_os.write = bad_write;
        break;
    case OP_FSYNC:
        ev_os.fsync = bad_fsync;
        break;
    case OP_RENAME:
        ev_os.rename = bad_rename;
        break;
    }
}

static void
disarm(void)
{
    ev_os = ev_os_default;
}

/* ------------------------------------------------------------------ */
/* What the vault should hold                                          */
/* ------------------------------------------------------------------ */

/* Every file ever added, by name: its bytes. */
struct known {
    char name[64];
    uint8_t *data;
    size_t n;
};
static struct known known[64];
static size_t nknown;

static void
know(const char *name, const uint8_t *data, size_t n)
{
    struct known *k = &known[nknown++];

    snprintf(k->name, sizeof k->name, "%s", name);
    k->data = malloc(n + 1);
    memcpy(k->data, data, n);
    k->n = n;
}

static const struct known *
lookup(const char *name)
{
    /* the newest wins: names are reused with new content */
    for (size_t i = nknown; i > 0; i--) {
        if (strcmp(known[i - 1].name, name) == 0) {
            return &known[i - 1];
        }
    }
    return NULL;
}

/* Writes a file and remembers its bytes. */
static void
make_file(const char *dir, const char *name, size_t n, uint64_t seed,
          int text)
{
    char path[PATH_MAX];
    uint8_t *data = malloc(n + 1);

    if (text) {
        t_fill_text(data, n, seed);
    } else {
        t_fill_random(data, n, seed);
    }
    t_path(path, sizeof path, dir, name);
    if (t_write_file(path, data, n) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    know(name, data, n);
    free(data);
}

struct recent {
    int64_t id;
    char name[64];
    uint8_t sha[32];
    uint64_t size;
};
struct verify {
    ev_vault *v;
    int bad;
    size_t n;
    struct recent r[1024];
};

static int
list_one(void *ctx, const ev_record *r)
{
    struct verify *vf = ctx;

    if (vf->n < sizeof vf->r / sizeof *vf->r) {
        struct recent *x = &vf->r[vf->n++];
        x->id = r->id;
        snprintf(x->name, sizeof x->name, "%s", r->name);
        memcpy(x->sha, r->sha256, 32);
        x->size = r->size;
    }
    return 0;
}

/* Every record in the vault reads back as the bytes of its file (records
 * name files whose content never changes under the same name within one
 * phase; the SHA-256 recorded identifies which version). */
static int
verify_all(ev_vault *v, size_t *count)
{
    struct verify *vf = calloc(1, sizeof *vf);
    int bad = 0;

    vf->v = v;
    if (ev_record_list(v, NULL, list_one, vf) != EV_OK) {
        free(vf);
        return -1;
    }
    for (size_t i = 0; i < vf->n; i++) {
        const struct known *k = NULL;
        uint8_t sha[32];
        size_t got_n = 0;
        int rc;
        uint8_t *got;
        for (size_t j = nknown; j > 0 && k == NULL; j--) {
            if (strcmp(known[j - 1].name, vf->r[i].name) == 0) {
                crypto_hash_sha256(sha, known[j - 1].data, known[j - 1].n);
                if (memcmp(sha, vf->r[i].sha, 32) == 0) {
                    k = &known[j - 1];
                }
            }
        }
        if (k == NULL) {
            fprintf(stderr, "record %lld '%s': no such content was added\n",
                    (long long)vf->r[i].id, vf->r[i].name);
            bad++;
            continue;
        }
        got = t_read_record(v, vf->r[i].id, root, &got_n, &rc);
        if (rc != EV_OK || got_n != k->n ||
            (k->n > 0 && memcmp(got, k->data, k->n) != 0)) {
            fprintf(stderr, "record %lld '%s': read %d, %zu of %zu bytes: "
                            "%s\n",
                    (long long)vf->r[i].id, vf->r[i].name, rc, got_n, k->n,
                    ev_vault_errmsg(v));
            bad++;
        }
        free(got);
    }
    if (count != NULL) {
        *count = vf->n;
    }
    free(vf);
    return bad;
}

static int
dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (d == NULL) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            n++;
        }
    }
    closedir(d);
    return n;
}

/* The vault after a failure: opens, unlocks, checks clean with data,
 * every record reads back, no temporary file is left. */
static int
vault_intact(const char *vdir, size_t *nrecords)
{
    ev_vault *v = t_vault_reopen(vdir);
    char tmp[PATH_MAX];
    int rc, ok = 1;

    if (v == NULL) {
        return 0;
    }
    rc = ev_check(v, EV_CHECK_READ_DATA, NULL, NULL, NULL);
    if (rc != EV_OK) {
        fprintf(stderr, "check: %s: %s\n", ev_strerror(rc),
                ev_vault_errmsg(v));
        ok = 0;
    }
    if (verify_all(v, nrecords) != 0) {
        ok = 0;
    }
    ev_vault_free(v);
    t_path(tmp, sizeof tmp, vdir, "tmp");
    if (dir_entries(tmp) != 0) {
        fprintf(stderr, "%d temporary files left in %s\n", dir_entries(tmp),
                tmp);
        ok = 0;
    }
    return ok;
}

/* ------------------------------------------------------------------ */
/* The N-th write / fsync / rename fails                               */
/* ------------------------------------------------------------------ */

static void
test_add_faults(void)
{
    char vdir[PATH_MAX], base[PATH_MAX];
    ev_vault *v;
    size_t before = 0;
    uint64_t seed = 1;
    static const int errs[2] = {ENOSPC, EIO};

    t_path(vdir, sizeof vdir, root, "vault");
    t_path(base, sizeof base, root, "base");
    CHECK_EQ(mkdir(base, 0700), 0);
    make_file(base, "base-note.txt", 5000, seed++, 1);
    make_file(base, "base-photo.jpg", 70000, seed++, 0);
    make_file(base, "base-video.mp4", 2 * MiB + 5, seed++, 0);
    make_file(base, "base-empty.txt", 0, seed++, 1);
    v = t_vault_create(vdir, NULL);
    CHECK(v != NULL);
    {
        const char *paths[1] = {base};
        CHECK_EQ(ev_record_add_paths(v, paths, 1, NULL, NULL, NULL), EV_OK);
    }
    ev_vault_free(v);
    CHECK(vault_intact(vdir, &before));
    CHECK_EQ(before, 4);

    for (int op = OP_WRITE; op <= OP_RENAME; op++) {
        for (int e = 0; e < 2; e++) {
            char in[PATH_MAX], name[64];
            int n, faults = 0;
            snprintf(name, sizeof name, "in-%s-%d", op_names[op], e);
            t_path(in, sizeof in, root, name);
            CHECK_EQ(mkdir(in, 0700), 0);
            /* new content each round, so nothing is deduplicated away */
            make_file(in, "a-small.txt", 3000, seed++, 1);
            make_file(in, "b-small.bin", 500, seed++, 0);
            make_file(in, "c-big.bin", 3 * MiB + 100, seed++, 0);
            /* larger than the writer's 4 MiB buffers: several writes */
            make_file(in, "d-huge.bin", 9 * MiB + 5, seed++, 0);
            for (n = 1; n < 200; n++) {
                const char *paths[1] = {in};
                struct t_recs rs;
                int rc, want = errs[e] == ENOSPC ? EV_ENOSPC : EV_EIO;
                v = t_vault_reopen(vdir);
                if (v == NULL) {
                    CHECK(0);
                    break;
                }
                memset(&rs, 0, sizeof rs);
                arm((enum fault_op)op, n, errs[e]);
                rc = ev_record_add_paths(v, paths, 1, NULL, t_collect, &rs);
                disarm();
                if (!atomic_load(&fired)) {
                    if (getenv("EV_TEST_VERBOSE") != NULL) {
                        fprintf(stderr, "%s: %d calls, rc %d, %zu records\n",
                                op_names[op], atomic_load(&calls), rc, rs.n);
                    }
                    /* the fault was never reached: a clean add */
                    CHECK_EQ(rc, EV_OK);
                    CHECK_EQ(rs.n, 4);
                    ev_vault_free(v);
                    CHECK(vault_intact(vdir, NULL));
                    break;
                }
                faults++;
                if (rc != want || ev_vault_errmsg(v)[0] == '\0') {
                    fprintf(stderr,
                            "%s #%d failing with %s: add gave %d (%s)\n",
                            op_names[op], n, strerror(errs[e]), rc,
                            ev_vault_errmsg(v));
                }
                CHECK_EQ(rc, want);
                CHECK(ev_vault_errmsg(v)[0] != '\0');
                /* the callback saw only durable records: never all four */
                CHECK(rs.n < 4);
                ev_vault_free(v);
                if (!vault_intact(vdir, NULL)) {
                    fprintf(stderr, "after %s #%d failing with %s\n",
                            op_names[op], n, strerror(errs[e]));
                    CHECK(0);
                }
            }
            /* every operation was reached at least once */
            CHECK(faults >= 1);
            if (getenv("EV_TEST_VERBOSE") != NULL) {
                fprintf(stderr, "%s/%s: %d fault points\n", op_names[op],
                        strerror(errs[e]), faults);
            }
        }
    }
    /* the records of the first add are all still there */
    {
        size_t after = 0;
        CHECK(vault_intact(vdir, &after));
        CHECK(after >= before + 6 * 4);
    }
}

/* A new vault vname in root holding one new file fname of n bytes (its
 * record in rs), for the export tests; NULL when it cannot be made. */
static ev_vault *
vault_with_file(const char *vname, const char *fname, size_t n,
                uint64_t seed, struct t_recs *rs)
{
    char vdir[PATH_MAX], src[PATH_MAX];
    const char *paths[1] = {src};
    ev_vault *v;

    t_path(vdir, sizeof vdir, root, vname);
    v = t_vault_create(vdir, NULL);
    CHECK(v != NULL);
    if (v == NULL) {
        return NULL;
    }
    make_file(root, fname, n, seed, 0);
    t_path(src, sizeof src, root, fname);
    memset(rs, 0, sizeof *rs);
    CHECK_EQ(ev_record_add_paths(v, paths, 1, NULL, t_collect, rs), EV_OK);
    return v;
}

/* Exporting: a failed write, fsync or rename leaves no file behind. */
static void
test_export_faults(void)
{
    char out[PATH_MAX];
    ev_vault *v;
    struct t_rec r;
    struct t_recs rs;

    v = vault_with_file("vault-export", "export-src.bin", 9 * MiB + 9, 999,
                        &rs);
    if (v == NULL) {
        return;
    }
    CHECK_EQ(rs.n, 1);
    r = rs.v[0];
    t_path(out, sizeof out, root, "export-out");
    for (int op = OP_WRITE; op <= OP_RENAME; op++) {
        for (int n = 1; n < 200; n++) {
            int rc, err = n % 2 ? ENOSPC : EIO;
            arm((enum fault_op)op, (n + 1) / 2, err);
            rc = ev_record_export(v, r.id, out, 0, NULL);
            disarm();
            if (!atomic_load(&fired)) {
                size_t got_n = 0;
                uint8_t *got = t_read_file(out, &got_n);
                const struct known *k = lookup("export-src.bin");
                CHECK_EQ(rc, EV_OK);
                CHECK(got != NULL && k != NULL && got_n == k->n &&
                      memcmp(got, k->data, k->n) == 0);
                free(got);
                unlink(out);
                if (n % 2 == 0) {
                    break; /* past the end with both errors */
                }
                continue;
            }
            if (rc != (err == ENOSPC ? EV_ENOSPC : EV_EIO)) {
                fprintf(stderr, "export: %s #%d failing with %s gave %d "
                                "(%s)\n",
                        op_names[op], (n + 1) / 2, strerror(err), rc,
                        ev_vault_errmsg(v));
            }
            CHECK_EQ(rc, err == ENOSPC ? EV_ENOSPC : EV_EIO);
            CHECK(ev_vault_errmsg(v)[0] != '\0');
            CHECK(access(out, F_OK) != 0);
            /* nothing else either: only the source file and the vault */
            {
                DIR *d = opendir(root);
                struct dirent *e;
                while ((e = readdir(d)) != NULL) {
                    if (strstr(e->d_name, "export-out") != NULL) {
                        fprintf(stderr, "left behind: %s\n", e->d_name);
                        CHECK(0);
                    }
                }
                closedir(d);
            }
        }
    }
    ev_vault_free(v);
}

/* A file system without unnamed files (O_TMPFILE): get -o falls back to a
 * hidden name beside the output, and still leaves nothing on failure. */
static int
open_no_tmpfile(const char *path, int flags, mode_t mode)
{
    if ((flags & O_TMPFILE) == O_TMPFILE) {
        errno = EOPNOTSUPP;
        return -1;
    }
    return ev_os_default.open(path, flags, mode);
}

/* Nothing named like hidden-out in root, but keep (when not NULL). */
static int
only_source_left_but(const char *keep)
{
    const char *base = keep != NULL ? strrchr(keep, '/') + 1 : NULL;
    DIR *d = opendir(root);
    struct dirent *e;
    int clean = 1;

    while ((e = readdir(d)) != NULL) {
        if (strstr(e->d_name, "hidden-out") != NULL &&
            (base == NULL || strcmp(e->d_name, base) != 0)) {
            fprintf(stderr, "left behind: %s\n", e->d_name);
            clean = 0;
        }
    }
    closedir(d);
    return clean;
}

static int
only_source_left(void)
{
    return only_source_left_but(NULL);
}

/* A FAT or exFAT stick: no unnamed files, no hard links, and (say, an
 * older kernel's driver) no RENAME_NOREPLACE. */
static int
link_unsupported(const char *from, const char *to)
{
    (void)from;
    (void)to;
    errno = EPERM;
    return -1;
}

static int
noreplace_unsupported(const char *from, const char *to)
{
    (void)from;
    (void)to;
    errno = EINVAL;
    return -1;
}

static int
same_as(const char *path, const struct known *k)
{
    size_t n = 0;
    uint8_t *got = t_read_file(path, &n);
    int same = got != NULL && k != NULL && n == k->n &&
               memcmp(got, k->data, n) == 0;

    free(got);
    return same;
}

static void
test_export_fat(ev_vault *v, int64_t id, const char *out,
                const struct known *k)
{
    char keep[PATH_MAX];
    unsigned swept = 9;

    /* each way of giving the name without replacing a file */
    for (int way = 0; way < 3; way++) {
        ev_os = ev_os_default;
        ev_os.open = open_no_tmpfile;
        if (way >= 1) {
            ev_os.rename_noreplace = noreplace_unsupported;
        }
        if (way == 2) {
            ev_os.link = link_unsupported;
        }
        CHECK_EQ(ev_record_export(v, id, out, 0, NULL), EV_OK);
        CHECK(same_as(out, k));
        CHECK(t_write_file(out, "the user's file", 15) == 0);
        CHECK_EQ(ev_record_export(v, id, out, 0, NULL), EV_EEXIST);
        ev_os = ev_os_default;
        CHECK(only_source_left_but(out));
        {
            size_t n = 0;
            uint8_t *got = t_read_file(out, &n);
            CHECK(got != NULL && n == 15 && memcmp(got, "the user's", 10) == 0);
            free(got);
        }
        unlink(out);
    }
    /* A file to replace whose name looks like a killed export's is not
     * swept away: --force replaces it only once the export is done. */
    t_path(keep, sizeof keep, root, ".hidden-out9.evault-0123456789abcdef");
    CHECK(t_write_file(keep, "the user's file", 15) == 0);
    CHECK_EQ(ev_record_export(v, id, keep, 0, &swept), EV_EEXIST);
    CHECK_EQ(swept, 0);
    CHECK(access(keep, F_OK) == 0);
    CHECK_EQ(ev_record_export(v, id, keep, 1, &swept), EV_OK);
    CHECK_EQ(swept, 0);
    CHECK(same_as(keep, k));
    unlink(keep);
}

static void
test_export_without_tmpfile(void)
{
    char out[PATH_MAX];
    const struct known *k;
    struct t_recs rs;
    ev_vault *v;

    v = vault_with_file("vault-notmpfile", "hidden-src.bin", 3 * MiB + 3, 777,
                        &rs);
    if (v == NULL) {
        return;
    }
    t_path(out, sizeof out, root, "hidden-out");
    k = lookup("hidden-src.bin");
    /* with unnamed files too, what a killed export left goes first */
    {
        char p[PATH_MAX];
        unsigned swept = 0;
        t_path(p, sizeof p, root, ".hidden-out.evault-aaaaaaaaaaaaaaaa");
        CHECK(t_write_file(p, "part", 4) == 0);
        CHECK_EQ(ev_record_export(v, rs.v[0].id, out, 0, &swept), EV_OK);
        CHECK_EQ(swept, 1);
        CHECK(access(p, F_OK) != 0);
        /* --force over it: the passing name is gone afterwards */
        CHECK_EQ(ev_record_export(v, rs.v[0].id, out, 1, &swept), EV_OK);
        CHECK_EQ(swept, 0);
        CHECK(only_source_left_but(out));
        unlink(out);
    }
    ev_os = ev_os_default;
    ev_os.open = open_no_tmpfile;
    /* What a killed export left: removed before the next one, unless a
     * live writer holds it or it is not evault's hidden name. */
    {
        static const char *const names[] = {
            ".hidden-out.evault-0123456789abcdef",  /* killed: removed */
            ".hidden-out2.evault-fedcba9876543210", /* being written */
            ".hidden-out.evault-0123456789ABCDEF",  /* not evault's */
            ".hidden-out.evault-0123456789abcde",   /* not evault's */
            "hidden-out.evault-0123456789abcdef",   /* not hidden */
        };
        char p[PATH_MAX], link[PATH_MAX];
        unsigned swept = 99;
        int held;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            t_path(p, sizeof p, root, names[i]);
            CHECK(t_write_file(p, "part of the plaintext", 21) == 0);
        }
        t_path(p, sizeof p, root, names[1]);
        held = open(p, O_RDONLY);
        CHECK(held >= 0 && flock(held, LOCK_EX) == 0);
        /* a link with the name is never followed nor removed */
        t_path(link, sizeof link, root, ".hidden-out3.evault-00112233445566ff");
        CHECK(symlink(p, link) == 0);
        CHECK_EQ(ev_record_export(v, rs.v[0].id, out, 0, &swept), EV_OK);
        CHECK_EQ(swept, 1);
        t_path(p, sizeof p, root, names[0]);
        CHECK(access(p, F_OK) != 0);
        for (size_t i = 1; i < sizeof names / sizeof names[0]; i++) {
            t_path(p, sizeof p, root, names[i]);
            CHECK(access(p, F_OK) == 0);
            unlink(p);
        }
        CHECK(unlink(link) == 0);
        close(held);
        unlink(out);
        /* nothing left to remove: none counted */
        CHECK_EQ(ev_record_export(v, rs.v[0].id, out, 0, &swept), EV_OK);
        CHECK_EQ(swept, 0);
    }
    CHECK(same_as(out, k));
    /* an existing file is kept, and refused */
    CHECK_EQ(ev_record_export(v, rs.v[0].id, out, 0, NULL), EV_EEXIST);
    /* --force replaces it */
    CHECK_EQ(ev_record_export(v, rs.v[0].id, out, 1, NULL), EV_OK);
    unlink(out);
    /* a failed write leaves neither the output nor its hidden name */
    fault_at = 1;
    fault_errno = ENOSPC;
    atomic_store(&calls, 0);
    atomic_store(&fired, 0);
    ev_os.write = bad_write;
    CHECK_EQ(ev_record_export(v, rs.v[0].id, out, 0, NULL), EV_ENOSPC);
    CHECK(atomic_load(&fired));
    ev_os = ev_os_default;
    CHECK(access(out, F_OK) != 0);
    CHECK(only_source_left());
    test_export_fat(v, rs.v[0].id, out, k);
    ev_vault_free(v);
}

/* ------------------------------------------------------------------ */
/* Durability of a blob directory after a failed directory fsync        */
/* ------------------------------------------------------------------ */

static char fsync_target[PATH_MAX];
static atomic_int target_synced, target_failures;

static void
fd_path(int fd, char *out, size_t n)
{
    char link[64];
    ssize_t r;

    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    r = readlink(link, out, n - 1);
    out[r > 0 ? (size_t)r : 0] = '\0';
}

/* Fails (once) the fsync of one directory; counts its fsyncs. */
static int
watch_fsync(int fd)
{
    char p[PATH_MAX];

    fd_path(fd, p, sizeof p);
    if (strcmp(p, fsync_target) == 0) {
        if (atomic_load(&target_failures) > 0) {
            atomic_fetch_sub(&target_failures, 1);
            errno = EIO;
            return -1;
        }
        atomic_fetch_add(&target_synced, 1);
    }
    return ev_os_default.fsync(fd);
}

/* FORMAT.md: a blob is renamed into blobs/ab/ and "blobs/ab/ is fsynced"
 * before its record commits.  When blobs/ab/ was just made, its entry in
 * blobs/ must be made durable too.  If that fsync of blobs/ fails, the add
 * fails; the next add of the same content finds blobs/ab/ present and must
 * still sync blobs/ before committing, or a crash can lose the directory
 * (and the blob) under a committed record. */
static void
test_dir_fsync_retry(void)
{
    char vdir[PATH_MAX], in[PATH_MAX], real[PATH_MAX];
    ev_vault *v;
    const char *paths[1];
    int rc;

    t_path(vdir, sizeof vdir, root, "vault-dirsync");
    v = t_vault_create(vdir, NULL);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    t_path(in, sizeof in, root, "dirsync.bin");
    make_file(root, "dirsync.bin", 2 * MiB + 1, 4711, 0);
    t_path(real, sizeof real, vdir, "blobs");
    if (realpath(real, fsync_target) == NULL) {
        CHECK(0);
        ev_vault_free(v);
        return;
    }
    paths[0] = in;
    ev_os = ev_os_default;
    ev_os.fsync = watch_fsync;
    atomic_store(&target_failures, 1);
    atomic_store(&target_synced, 0);
    rc = ev_record_add_paths(v, paths, 1, NULL, NULL, NULL);
    CHECK_EQ(rc, EV_EIO);
    CHECK_EQ(atomic_load(&target_failures), 0); /* the fault was reached */
    /* again, with every fsync working */
    atomic_store(&target_synced, 0);
    rc = ev_record_add_paths(v, paths, 1, NULL, NULL, NULL);
    disarm();
    CHECK_EQ(rc, EV_OK);
    if (atomic_load(&target_synced) == 0) {
        fprintf(stderr, "a blob was committed under a blobs/ subdirectory "
                        "whose entry in blobs/ was never synced (its "
                        "fsync had failed before)\n");
    }
    CHECK(atomic_load(&target_synced) >= 1);
    ev_vault_free(v);
    CHECK(vault_intact(vdir, NULL));
}

/* ------------------------------------------------------------------ */
/* Files that change while they are read                               */
/* ------------------------------------------------------------------ */

enum change { GROW, SHRINK, REWRITE };
static dev_t watch_dev;
static ino_t watch_ino;
static enum change watch_change;
static char watch_path[PATH_MAX];
static atomic_int watch_done;

static ssize_t
changing_read(int fd, void *buf, size_t n)
{
    ssize_t r = ev_os_default.read(fd, buf, n);
    struct stat st;

    if (r > 0 && !atomic_load(&watch_done) && fstat(fd, &st) == 0 &&
        st.st_dev == watch_dev && st.st_ino == watch_ino) {
        int w = open(watch_path, O_WRONLY | (watch_change == GROW
                                                 ? O_APPEND
                                                 : 0));
        atomic_store(&watch_done, 1);
        if (w >= 0) {
            if (watch_change == GROW) {
                if (write(w, "appended while read\n", 20) != 20) {
                    perror("append");
                }
            } else if (watch_change == SHRINK) {
                if (ftruncate(w, st.st_size / 2) != 0) {
                    perror("truncate");
                }
            } else {
                /* same size, one byte rewritten: only mtime tells */
                if (pwrite(w, "!", 1, st.st_size - 1) != 1) {
                    perror("pwrite");
                }
            }
            close(w);
        }
    }
    return r;
}

static void
watch(const char *path, enum change c)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        perror(path);
        exit(2);
    }
    watch_dev = st.st_dev;
    watch_ino = st.st_ino;
    watch_change = c;
    snprintf(watch_path, sizeof watch_path, "%s", path);
    atomic_store(&watch_done, 0);
    ev_os = ev_os_default;
    ev_os.read = changing_read;
}

/* An old mtime, so that a rewrite now is visible at any clock
 * granularity (no timing in the test). */
static void
age_file(const char *path)
{
    struct timespec ts[2] = {{946684800, 0}, {946684800, 0}};

    utimensat(AT_FDCWD, path, ts, 0);
}

static int
has_record_named(ev_vault *v, const char *name)
{
    struct verify *vf = calloc(1, sizeof *vf);
    int found = 0;

    ev_record_list(v, NULL, list_one, vf);
    for (size_t i = 0; i < vf->n; i++) {
        if (strcmp(vf->r[i].name, name) == 0) {
            found++;
        }
    }
    free(vf);
    return found;
}

static void
test_changing_files(void)
{
    char vdir[PATH_MAX];
    ev_vault *v;
    static const struct {
        const char *name;
        size_t n;
        enum change c;
    } cases[] = {
        {"grow-small.txt", 1000, GROW},
        {"grow-big.bin", 2 * MiB + 3, GROW},
        {"grow-exact.bin", MiB, GROW},
        {"shrink-big.bin", 3 * MiB, SHRINK},
        {"rewrite-small.txt", 4000, REWRITE},
        {"rewrite-big.bin", 2 * MiB + 77, REWRITE},
    };

    t_path(vdir, sizeof vdir, root, "vault-changing");
    v = t_vault_create(vdir, NULL);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    /* one record from the start, so that the vault is never empty */
    {
        char path[PATH_MAX];
        const char *paths[1];
        make_file(root, "changing-base.txt", 100, 5, 1);
        t_path(path, sizeof path, root, "changing-base.txt");
        paths[0] = path;
        CHECK_EQ(ev_record_add_paths(v, paths, 1, NULL, NULL, NULL), EV_OK);
    }
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char dir[PATH_MAX], path[PATH_MAX], name[64];
        const char *paths[1];
        struct t_recs rs;
        int rc;
        /* a directory: a stable file first, then the changing one */
        snprintf(name, sizeof name, "changing-%zu", i);
        t_path(dir, sizeof dir, root, name);
        CHECK_EQ(mkdir(dir, 0700), 0);
        snprintf(name, sizeof name, "a-stable-%zu.txt", i);
        make_file(dir, name, 2000 + i, 600 + i, 1);
        make_file(dir, cases[i].name, cases[i].n, 700 + i,
                  cases[i].c != REWRITE);
        t_path(path, sizeof path, dir, cases[i].name);
        age_file(path);
        paths[0] = dir;
        memset(&rs, 0, sizeof rs);
        watch(path, cases[i].c);
        rc = ev_record_add_paths(v, paths, 1, NULL, t_collect, &rs);
        disarm();
        CHECK(atomic_load(&watch_done));
        if (rc != EV_ECHANGED) {
            fprintf(stderr, "'%s' changed while read: add gave %d (%s)\n",
                    cases[i].name, rc, ev_vault_errmsg(v));
        }
        CHECK_EQ(rc, EV_ECHANGED);
        CHECK(strstr(ev_vault_errmsg(v), cases[i].name) != NULL);
        /* no record for it; the stable file before it is kept */
        for (size_t j = 0; j < rs.n; j++) {
            CHECK(strcmp(rs.v[j].name, cases[i].name) != 0);
        }
        CHECK_EQ(has_record_named(v, cases[i].name), 0);
        /* (whether the stable file before it was finished and kept
         * depends on the pipeline; if kept, it reads back: see the end) */
        CHECK(has_record_named(v, name) <= 1);
        /* the file alone, changing again */
        memset(&rs, 0, sizeof rs);
        paths[0] = path;
        age_file(path);
        watch(path, cases[i].c == SHRINK ? GROW : cases[i].c);
        rc = ev_record_add_paths(v, paths, 1, NULL, t_collect, &rs);
        disarm();
        CHECK_EQ(rc, EV_ECHANGED);
        CHECK_EQ(rs.n, 0);
        CHECK_EQ(has_record_named(v, cases[i].name), 0);
    }
    ev_vault_free(v);
    CHECK(vault_intact(vdir, NULL));
}

int
main(void)
{
    if (ev_init() != EV_OK) {
        return 1;
    }
    root = t_mkdtemp();
    test_add_faults();
    test_export_faults();
    test_export_without_tmpfile();
    test_dir_fsync_retry();
    test_changing_files();
    disarm();
    t_rmtree(root);
    EV_TEST_END();
}
