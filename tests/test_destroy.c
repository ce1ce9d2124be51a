/*
 * test_destroy.c - ev_record_destroy and ev_vault_sweep through evault.h:
 * what a destroyed record leaves (a tombstone, two custody entries, no key
 * in vault.db or its WAL, no blob file), what is refused (sealed, unknown,
 * destroyed, no reason), shared content, a reader holding the WAL, leftover
 * blob files, check on tombstones, and the N-th open / flock / fsync /
 * unlink / write / rename failing during a destroy: a clean result, a
 * vault that opens and passes check, the record intact or destroyed.
 */
#include "harness.h"
#include "os.h"
#include "testutil.h"
#include "testdb.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <string.h>

#define MiB ((size_t)1 << 20)

static char *root;
static uint64_t seed = 1;

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

struct content {
    uint8_t *data;
    size_t n;
};

/* Adds n pseudo-random bytes as one record (a new file under root);
 * returns its id, 0 on failure. */
static int64_t
add_bytes(ev_vault *v, const char *name, size_t n, struct content *keep)
{
    char path[PATH_MAX];
    const char *paths[1] = {path};
    struct t_recs rs;
    uint8_t *data = malloc(n + 1);

    t_fill_random(data, n, seed++);
    t_path(path, sizeof path, root, name);
    if (t_write_file(path, data, n) != 0) {
        free(data);
        return 0;
    }
    memset(&rs, 0, sizeof rs);
    if (ev_record_add_paths(v, paths, 1, NULL, t_collect, &rs) != EV_OK ||
        rs.n != 1) {
        fprintf(stderr, "add %s: %s\n", name, ev_vault_errmsg(v));
        free(data);
        return 0;
    }
    if (keep != NULL) {
        keep->data = data;
        keep->n = n;
    } else {
        free(data);
    }
    return rs.v[0].id;
}

/* The record reads back as exactly these bytes. */
static int
reads_back(ev_vault *v, int64_t id, const struct content *c)
{
    size_t n = 0;
    int rc;
    uint8_t *got = t_read_record(v, id, root, &n, &rc);
    int same = rc == EV_OK && n == c->n && memcmp(got, c->data, n) == 0;

    free(got);
    return same;
}

/* A column of the catalog as bytes, read with sqlite3 (not through the
 * library): sql has one parameter, the record id. */
static size_t
catalog_bytes(const char *vdir, const char *sql, int64_t id, uint8_t *out,
              size_t cap)
{
    char path[PATH_MAX];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    size_t n = 0;

    t_path(path, sizeof path, vdir, "vault.db");
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            n = (size_t)sqlite3_column_bytes(st, 0);
            n = n < cap ? n : cap;
            memcpy(out, sqlite3_column_blob(st, 0), n);
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

#define KEY_SQL                                                                \
    "SELECT key FROM blobs WHERE id = (SELECT blob FROM records WHERE id = ?)"

/* Does needle occur in the file vdir/name?  -1 when the file is missing. */
static int
file_holds(const char *vdir, const char *name, const uint8_t *needle, size_t n)
{
    char path[PATH_MAX];
    size_t len = 0;
    uint8_t *p;
    int found = 0;

    t_path(path, sizeof path, vdir, name);
    p = t_read_file(path, &len);
    if (p == NULL) {
        return access(path, F_OK) == 0 ? 0 : -1;
    }
    for (size_t i = 0; n > 0 && i + n <= len && !found; i++) {
        found = memcmp(p + i, needle, n) == 0;
    }
    free(p);
    return found;
}

static long
file_size(const char *vdir, const char *name)
{
    char path[PATH_MAX];
    struct stat st;

    t_path(path, sizeof path, vdir, name);
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* The key is in neither vault.db nor vault.db-wal. */
static int
key_gone(const char *vdir, const uint8_t *key, size_t n)
{
    return file_holds(vdir, "vault.db", key, n) == 0 &&
           file_holds(vdir, "vault.db-wal", key, n) <= 0;
}

struct probs {
    int damage, notes;
    int64_t rec[32];
    int nrec;
    ev_check_counts counts;
};

static void
on_problem(void *ctx, const ev_problem *p)
{
    struct probs *ps = ctx;

    if (p->code == EV_OK) {
        ps->notes++;
    } else {
        ps->damage++;
        if (ps->nrec < 32) {
            ps->rec[ps->nrec++] = p->record;
        }
    }
    if (getenv("EV_TEST_VERBOSE") != NULL) {
        fprintf(stderr, "  problem: record %lld code %d: %s\n",
                (long long)p->record, p->code, p->what);
    }
}

static int
check_probs(ev_vault *v, struct probs *ps)
{
    memset(ps, 0, sizeof *ps);
    return ev_check(v, EV_CHECK_READ_DATA, on_problem, ps, &ps->counts);
}

static int
names(const struct probs *ps, int64_t id)
{
    for (int i = 0; i < ps->nrec; i++) {
        if (ps->rec[i] == id) {
            return 1;
        }
    }
    return 0;
}

struct entries {
    int add, destroy;
    char note[256];
};

static int
count_entry(void *ctx, uint64_t seq, const char *text)
{
    struct entries *e = ctx;
    const char *n;

    (void)seq;
    if (strstr(text, "\naction add\n") != NULL) {
        e->add++;
    }
    if (strstr(text, "\naction destroy\n") != NULL) {
        e->destroy++;
        n = strstr(text, "\nnote ");
        if (n != NULL) {
            snprintf(e->note, sizeof e->note, "%.*s", (int)strcspn(n + 6, "\n"),
                     n + 6);
        }
    }
    return 0;
}

static int
listed(ev_vault *v, int64_t id)
{
    struct t_recs rs;

    memset(&rs, 0, sizeof rs);
    ev_record_list(v, NULL, t_collect, &rs);
    for (size_t i = 0; i < rs.n; i++) {
        if (rs.v[i].id == id) {
            return 1;
        }
    }
    return 0;
}

static uint64_t
count_listed(ev_vault *v)
{
    struct t_recs rs;

    memset(&rs, 0, sizeof rs);
    ev_record_list(v, NULL, t_collect, &rs);
    return rs.n;
}

/* ------------------------------------------------------------------ */
/* Destroying                                                          */
/* ------------------------------------------------------------------ */

static void
test_destroy(void)
{
    char vdir[PATH_MAX];
    uint8_t key[128], key2[128], data[32];
    size_t klen, k2len, dlen, pack_len = 0;
    struct content big = {0}, copy = {0}, small = {0};
    ev_destroy_result d;
    struct entries e;
    struct probs ps;
    ev_record r;
    ev_vault *v;
    int64_t a, b, c, s, h, x;

    t_path(vdir, sizeof vdir, root, "vault");
    v = t_vault_create(vdir, NULL);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    a = add_bytes(v, "small.bin", 3000, &small);    /* kept in the catalog */
    b = add_bytes(v, "big.bin", 2 * MiB + 7, &big); /* a blob file */
    seed--;                                         /* the same bytes again */
    c = add_bytes(v, "copy.bin", 2 * MiB + 7, &copy);
    s = add_bytes(v, "sealed.bin", 500, NULL);
    {
        uint8_t sha[EV_SHA256_BYTES] = {7};
        ev_add_opts o;
        struct t_recs rs;
        memset(&o, 0, sizeof o);
        memset(&rs, 0, sizeof rs);
        o.name = "seized.img";
        CHECK_EQ(ev_record_add_hash(v, sha, 99, &o, t_collect, &rs), EV_OK);
        h = rs.v[0].id;
    }
    CHECK(a > 0 && b > 0 && c > 0 && s > 0 && h > 0);
    {
        size_t n;
        CHECK_EQ(ev_seal(v, &s, 1, "order", &n), EV_OK);
    }

    /* Refusals change nothing. */
    CHECK_EQ(ev_record_destroy(v, a, NULL, &d), EV_EINVAL);
    CHECK_EQ(ev_record_destroy(v, a, "", &d), EV_EINVAL);
    {
        char *longr = malloc(5000);
        memset(longr, 'x', 4999);
        longr[4999] = '\0';
        CHECK_EQ(ev_record_destroy(v, a, longr, &d), EV_EINVAL);
        free(longr);
    }
    CHECK_EQ(ev_record_destroy(v, 999, "why", &d), EV_ENOENT);
    CHECK(strstr(ev_vault_errmsg(v), "no record 999") != NULL);
    CHECK_EQ(ev_record_destroy(v, s, "why", &d), EV_ESEALED);
    CHECK_EQ(d.destroyed, 0);
    CHECK_EQ(d.custody_seq, -1);
    CHECK_EQ(ev_record_get(v, s, &r), EV_OK);
    CHECK_EQ(r.state, EV_STATE_SEALED);
    ev_record_release(&r);

    /* A small record: the key leaves vault.db and its WAL while the handle
     * is still open (the WAL file exists), and its bytes in vault.pack are
     * overwritten with zeros, the file keeping its length. */
    klen = catalog_bytes(vdir, KEY_SQL, a, key, sizeof key);
    {
        char pack[PATH_MAX];
        size_t plen = 0;
        uint8_t *all;
        int64_t off = t_db_int(vdir,
                               "SELECT data FROM blobs WHERE id = (SELECT "
                               "blob FROM records WHERE id = ?1) AND "
                               "typeof(data) = 'integer'",
                               a);
        t_path(pack, sizeof pack, vdir, "vault.pack");
        all = t_read_file(pack, &plen);
        CHECK(all != NULL && off >= 0 && (size_t)off + 132 <= plen);
        dlen = 0;
        if (all != NULL && off >= 0 && (size_t)off + 132 <= plen) {
            memcpy(data, all + off + 100, sizeof data);
            dlen = sizeof data;
        }
        free(all);
        pack_len = plen;
    }
    CHECK(klen > 32);
    CHECK_EQ(dlen, 32);
    CHECK(file_holds(vdir, "vault.pack", data, dlen) == 1);
    CHECK(file_holds(vdir, "vault.db", key, klen) == 1 ||
          file_holds(vdir, "vault.db-wal", key, klen) == 1);
    CHECK_EQ(ev_record_destroy(v, a, "the source withdrew", &d), EV_OK);
    CHECK_EQ(d.destroyed, 1);
    CHECK(d.custody_seq > 0);
    CHECK_EQ(d.had_blob, 1);
    CHECK_EQ(d.shared_with, 0);
    CHECK_EQ(d.blob_removed, 1);
    CHECK_EQ(d.wal_cleared, 1);
    CHECK_EQ(file_size(vdir, "vault.db-wal"), 0);
    CHECK(key_gone(vdir, key, klen));
    CHECK(key_gone(vdir, data, dlen));
    CHECK_EQ(file_holds(vdir, "vault.pack", data, dlen), 0);
    CHECK_EQ(file_size(vdir, "vault.pack"), (long)pack_len);
    CHECK_EQ(t_db_int(vdir, "SELECT count(*) FROM pack_free", 0), 0);

    /* Everything treats it as gone, and says so. */
    CHECK_EQ(ev_record_get(v, a, &r), EV_EDESTROYED);
    CHECK_EQ(r.state, EV_STATE_DESTROYED);
    CHECK(strstr(ev_vault_errmsg(v), "the source withdrew") != NULL);
    ev_record_release(&r);
    {
        size_t n;
        int rc;
        uint8_t *got = t_read_record(v, a, root, &n, &rc);
        CHECK_EQ(rc, EV_EDESTROYED);
        CHECK_EQ(n, 0);
        free(got);
    }
    CHECK(!listed(v, a));
    CHECK(listed(v, b));
    CHECK_EQ(ev_record_destroy(v, a, "again", &d), EV_EDESTROYED);
    CHECK_EQ(d.destroyed, 0);
    {
        size_t n;
        CHECK_EQ(ev_seal(v, &a, 1, NULL, &n), EV_EDESTROYED);
    }
    {
        ev_add_opts o;
        memset(&o, 0, sizeof o);
        o.note = "x";
        CHECK_EQ(ev_record_amend(v, a, &o, "r"), EV_EDESTROYED);
    }
    {
        char *proof = NULL;
        size_t n = 0;
        CHECK_EQ(ev_proof(v, a, &proof, &n), EV_EDESTROYED);
        free(proof);
    }
    memset(&e, 0, sizeof e);
    CHECK_EQ(ev_log_list(v, a, count_entry, &e), EV_OK);
    CHECK_EQ(e.add, 1);
    CHECK_EQ(e.destroy, 1);
    CHECK(strcmp(e.note, "the source withdrew") == 0);
    CHECK_EQ(check_probs(v, &ps), EV_OK);
    CHECK_EQ(ps.damage, 0);
    /* The tombstone is checked, but not counted as a record. */
    CHECK_EQ(ps.counts.destroyed, 1);
    CHECK_EQ(ps.counts.records, count_listed(v));

    /* Shared content: the blob stays for the other record. */
    klen = catalog_bytes(vdir, KEY_SQL, b, key, sizeof key);
    CHECK_EQ(ev_record_destroy(v, b, "duplicate", &d), EV_OK);
    CHECK_EQ(d.shared_with, c);
    CHECK_EQ(d.blob_removed, 0);
    CHECK(reads_back(v, c, &copy));
    CHECK(file_holds(vdir, "vault.db", key, klen) == 1 || /* c's key */
          file_holds(vdir, "vault.db-wal", key, klen) == 1);
    /* The last record of that content: its blob goes. */
    CHECK_EQ(ev_record_destroy(v, c, "not needed", &d), EV_OK);
    CHECK_EQ(d.shared_with, 0);
    CHECK_EQ(d.blob_removed, 1);
    CHECK(key_gone(vdir, key, klen));
    /* A hash-only record. */
    CHECK_EQ(ev_record_destroy(v, h, "hash only", &d), EV_OK);
    CHECK_EQ(d.had_blob, 0);
    CHECK_EQ(check_probs(v, &ps), EV_OK);
    CHECK_EQ(ps.damage, 0);
    CHECK_EQ(ps.counts.destroyed, 4);
    CHECK_EQ(ps.counts.records, count_listed(v));
    CHECK_EQ(ps.notes, 0); /* no blob file left behind */

    /* A reader holding an older snapshot keeps the WAL: the destroy
     * stands, says so, and a sweep afterwards empties the WAL. */
    x = add_bytes(v, "late.bin", 20000, NULL);
    k2len = catalog_bytes(vdir, KEY_SQL, x, key2, sizeof key2);
    {
        char path[PATH_MAX];
        sqlite3 *db = NULL;
        uint64_t n = 0;
        t_path(path, sizeof path, vdir, "vault.db");
        CHECK_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
                 SQLITE_OK);
        CHECK_EQ(sqlite3_exec(db, "BEGIN; SELECT count(*) FROM records;", NULL,
                              NULL, NULL),
                 SQLITE_OK);
        ev_vault_set_busy_timeout(v, 100);
        CHECK_EQ(ev_record_destroy(v, x, "while read", &d), EV_EBUSY);
        CHECK_EQ(d.destroyed, 1);
        CHECK_EQ(d.wal_cleared, 0);
        CHECK_EQ(d.blob_removed, 1);
        CHECK(strstr(ev_vault_errmsg(v), "was destroyed, but") != NULL);
        CHECK_EQ(ev_vault_sweep(v, &n), EV_EBUSY);
        sqlite3_exec(db, "COMMIT;", NULL, NULL, NULL);
        sqlite3_close(db);
        ev_vault_set_busy_timeout(v, 10000);
        CHECK_EQ(ev_vault_sweep(v, &n), EV_OK);
        CHECK_EQ(n, 0);
        CHECK_EQ(file_size(vdir, "vault.db-wal"), 0);
        CHECK(key_gone(vdir, key2, k2len));
        CHECK_EQ(ev_record_get(v, x, &r), EV_EDESTROYED);
        ev_record_release(&r);
    }

    /* Leftover blob files: swept when no row names them, never when one
     * does. */
    {
        char dir[PATH_MAX], path[PATH_MAX], name[80];
        uint8_t junk[4096];
        uint64_t n = 0;
        struct content kept = {0};
        int64_t y = add_bytes(v, "kept.bin", 3 * MiB, &kept);
        t_fill_random(junk, sizeof junk, seed++);
        t_path(dir, sizeof dir, vdir, "blobs/ab");
        mkdir(dir, 0700);
        snprintf(name, sizeof name, "ab%062d", 5);
        t_path(path, sizeof path, dir, name);
        CHECK_EQ(t_write_file(path, junk, sizeof junk), 0);
        CHECK_EQ(check_probs(v, &ps), EV_OK);
        CHECK_EQ(ps.notes, 1);
        CHECK_EQ(ev_vault_sweep(v, &n), EV_OK);
        CHECK_EQ(n, 1);
        CHECK(access(path, F_OK) != 0);
        CHECK(access(dir, F_OK) != 0); /* its folder went with it */
        CHECK(reads_back(v, y, &kept));
        free(kept.data);
        mkdir(dir, 0700);
        CHECK_EQ(t_write_file(path, junk, sizeof junk), 0);
        CHECK_EQ(ev_record_destroy(v, y, "with a leftover", &d), EV_OK);
        CHECK_EQ(d.leftovers, 1);
        CHECK(access(path, F_OK) != 0);
        CHECK_EQ(check_probs(v, &ps), EV_OK);
        CHECK_EQ(ps.notes, 0);
        CHECK_EQ(ps.damage, 0);
    }
    ev_vault_free(v);

    /* Reopened, locked: nothing to destroy with. */
    CHECK_EQ(ev_vault_new(&v), EV_OK);
    CHECK_EQ(ev_vault_open(v, vdir), EV_OK);
    CHECK_EQ(ev_record_destroy(v, s, "locked", &d), EV_ELOCKED);
    ev_vault_free(v);
    v = t_vault_reopen(vdir);
    CHECK(v != NULL);
    if (v != NULL) {
        CHECK_EQ(check_probs(v, &ps), EV_OK);
        CHECK_EQ(ps.damage, 0);
        ev_vault_free(v);
    }
    free(big.data);
    free(copy.data);
    free(small.data);
}

/* check on tombstones and destroy entries changed behind evault's back. */
static void
tamper(const char *vdir, const char *sql, int64_t id, const char *what)
{
    char path[PATH_MAX], bak[PATH_MAX];
    struct probs ps;
    ev_vault *v;
    sqlite3 *db = NULL;
    size_t n = 0;
    uint8_t *saved;

    t_path(path, sizeof path, vdir, "vault.db");
    t_path(bak, sizeof bak, root, "tamper.bak");
    saved = t_read_file(path, &n);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK &&
          sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    v = t_vault_reopen(vdir);
    CHECK(v != NULL);
    if (v != NULL) {
        int rc = check_probs(v, &ps);
        if (rc != EV_ECORRUPT || (id > 0 && !names(&ps, id))) {
            fprintf(stderr, "tamper '%s': check %d, %d problem(s)\n", what, rc,
                    ps.damage);
            CHECK(0);
        } else {
            CHECK(1);
        }
        ev_vault_free(v);
    }
    CHECK_EQ(t_write_file(path, saved, n), 0);
    free(saved);
}

static void
test_check_tombstones(void)
{
    char vdir[PATH_MAX], sql[512];
    ev_destroy_result d;
    struct probs ps;
    ev_vault *v;
    int64_t a, b, s;

    t_path(vdir, sizeof vdir, root, "vault-check");
    v = t_vault_create(vdir, NULL);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    a = add_bytes(v, "t-a.bin", 1000, NULL);
    b = add_bytes(v, "t-b.bin", 1500, NULL);
    s = add_bytes(v, "t-s.bin", 2000, NULL);
    {
        ev_add_opts o;
        size_t n;
        memset(&o, 0, sizeof o);
        o.location = "Osh";
        CHECK_EQ(ev_record_amend(v, a, &o, "place"), EV_OK);
        CHECK_EQ(ev_record_amend(v, b, &o, "place"), EV_OK);
        CHECK_EQ(ev_seal(v, &s, 1, NULL, &n), EV_OK);
    }
    CHECK_EQ(ev_record_destroy(v, a, "amended, then destroyed", &d), EV_OK);
    /* amendments of a destroyed record go; the amend entries stay */
    CHECK_EQ(check_probs(v, &ps), EV_OK);
    CHECK_EQ(ps.damage, 0);
    ev_vault_free(v);

    snprintf(sql, sizeof sql, "UPDATE records SET state = 1 WHERE id = %lld",
             (long long)a);
    tamper(vdir, sql, a, "tombstone turned back");
    snprintf(sql, sizeof sql, "DELETE FROM records WHERE id = %lld",
             (long long)a);
    tamper(vdir, sql, a, "tombstone deleted");
    snprintf(sql, sizeof sql, "UPDATE records SET meta = X'00' WHERE id = %lld",
             (long long)a);
    tamper(vdir, sql, a, "tombstone given metadata");
    snprintf(sql, sizeof sql,
             "UPDATE records SET state = 3, blob = NULL, padded_size = 0, "
             "meta = X'' WHERE id = %lld",
             (long long)b);
    tamper(vdir, sql, b, "destroyed without an entry");
    snprintf(sql, sizeof sql,
             "UPDATE records SET state = 3, blob = NULL, padded_size = 0, "
             "meta = X'' WHERE id = %lld",
             (long long)s);
    tamper(vdir, sql, s, "sealed record destroyed");
    snprintf(sql, sizeof sql,
             "INSERT INTO amendments SELECT 99, %lld, meta FROM amendments"
             " WHERE record = %lld",
             (long long)a, (long long)b);
    tamper(vdir, sql, 0, "amendment of a destroyed record");
    tamper(vdir,
           "DELETE FROM custody WHERE seq = (SELECT max(seq) FROM "
           "custody)",
           0, "destroy entry removed");
}

/* ------------------------------------------------------------------ */
/* Faults: the N-th call fails                                         */
/* ------------------------------------------------------------------ */

enum fault_op {
    OP_OPEN,
    OP_FLOCK,
    OP_FSYNC,
    OP_UNLINK,
    OP_WRITE,
    OP_PWRITE, /* vault.pack's wipe */
    OP_RENAME
};
static const char *const op_names[] = {"open",  "flock",  "fsync", "unlink",
                                       "write", "pwrite", "rename"};

static atomic_int calls;
static int fault_at;
static int fault_errno;
static int fault_sticky; /* every call from the fault_at-th on fails */
static atomic_int fired;

static int
should_fail(void)
{
    int n = atomic_fetch_add(&calls, 1) + 1;

    if (n == fault_at || (fault_sticky && n > fault_at)) {
        atomic_store(&fired, 1);
        errno = fault_errno;
        return 1;
    }
    return 0;
}

static int
bad_open(const char *path, int flags, mode_t mode)
{
    return should_fail() ? -1 : ev_os_default.open(path, flags, mode);
}

static int
bad_flock(int fd, int op)
{
    return should_fail() ? -1 : ev_os_default.flock(fd, op);
}

static int
bad_fsync(int fd)
{
    return should_fail() ? -1 : ev_os_default.fsync(fd);
}

static int
bad_unlink(const char *path)
{
    return should_fail() ? -1 : ev_os_default.unlink(path);
}

static ssize_t
bad_write(int fd, const void *buf, size_t n)
{
    return should_fail() ? -1 : ev_os_default.write(fd, buf, n);
}

static ssize_t
bad_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    return should_fail() ? -1 : ev_os_default.pwrite(fd, buf, n, off);
}

static int
bad_rename(const char *from, const char *to)
{
    return should_fail() ? -1 : ev_os_default.rename(from, to);
}

static void
arm(int op, int at, int err, int sticky)
{
    fault_sticky = sticky;
    atomic_store(&calls, 0);
    atomic_store(&fired, 0);
    fault_at = at;
    fault_errno = err;
    ev_os = ev_os_default;
    switch (op) {
    case OP_OPEN:
        ev_os.open = bad_open;
        break;
    case OP_FLOCK:
        ev_os.flock = bad_flock;
        break;
    case OP_FSYNC:
        ev_os.fsync = bad_fsync;
        break;
    case OP_UNLINK:
        ev_os.unlink = bad_unlink;
        break;
    case OP_WRITE:
        ev_os.write = bad_write;
        break;
    case OP_PWRITE:
        ev_os.pwrite = bad_pwrite;
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

static void
test_faults(void)
{
    char vdir[PATH_MAX];
    static const int errs[2] = {EIO, ENOSPC};
    int rounds = 0, failed = 0, after_commit = 0;
    ev_vault *v;

    t_path(vdir, sizeof vdir, root, "vault-faults");
    v = t_vault_create(vdir, NULL);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    ev_vault_free(v);
    for (int op = OP_OPEN; op <= OP_RENAME; op++) {
        for (int e = 0; e < 4; e++) {
            for (int at = 1; at < 50; at++) {
                struct content c = {0};
                ev_destroy_result d;
                struct probs ps;
                char name[64];
                int64_t id, shared = 0;
                uint64_t n;
                ev_record r;
                int rc, grc;

                v = t_vault_reopen(vdir);
                CHECK(v != NULL);
                if (v == NULL) {
                    return;
                }
                snprintf(name, sizeof name, "f-%s-%d-%d.bin", op_names[op], e,
                         at);
                /* a blob file, or every third round (every round of
                 * pwrite) one in vault.pack, or shared with a second
                 * record */
                id = add_bytes(v, name,
                               at % 3 == 0 || op == OP_PWRITE ? 2000 : MiB + 3,
                               &c);
                if (at % 4 == 0) {
                    seed--;
                    snprintf(name, sizeof name, "g-%s-%d-%d.bin", op_names[op],
                             e, at);
                    shared = add_bytes(v, name, MiB + 3, NULL);
                }
                CHECK(id > 0);
                arm(op, at, errs[e % 2], e >= 2);
                rc = ev_record_destroy(v, id, "fault test", &d);
                disarm();
                rounds++;
                if (rc != EV_OK) {
                    failed++;
                    after_commit += d.destroyed;
                    /* clean: a known code and a message */
                    CHECK(rc == EV_EIO || rc == EV_ENOSPC);
                    CHECK(ev_vault_errmsg(v)[0] != '\0');
                }
                ev_vault_free(v);

                /* The vault opens and passes check; the record is
                 * intact exactly when the destroy did not commit. */
                v = t_vault_reopen(vdir);
                CHECK(v != NULL);
                if (v == NULL) {
                    free(c.data);
                    return;
                }
                CHECK_EQ(check_probs(v, &ps), EV_OK);
                CHECK_EQ(ps.damage, 0);
                grc = ev_record_get(v, id, &r);
                ev_record_release(&r);
                if (d.destroyed) {
                    CHECK_EQ(grc, EV_EDESTROYED);
                } else {
                    CHECK_EQ(grc, EV_OK);
                    CHECK(reads_back(v, id, &c));
                    CHECK_EQ(ev_record_destroy(v, id, "again", &d), EV_OK);
                }
                if (shared > 0) {
                    CHECK_EQ(ev_record_destroy(v, shared, "pair", &d), EV_OK);
                }
                /* what a failure left, the next sweep removes */
                CHECK_EQ(ev_vault_sweep(v, &n), EV_OK);
                CHECK_EQ(check_probs(v, &ps), EV_OK);
                CHECK_EQ(ps.damage + ps.notes, 0);
                CHECK_EQ(t_db_int(vdir, "SELECT count(*) FROM pack_free", 0),
                         0);
                ev_vault_free(v);
                free(c.data);
                if (!atomic_load(&fired) && at >= 3) {
                    /* the destroy ran past the last such call (after at
                     * least one round on a blob in vault.pack) */
                    break;
                }
            }
        }
    }
    fprintf(stderr,
            "destroy faults: %d rounds, %d failed (%d after the "
            "commit)\n",
            rounds, failed, after_commit);
    CHECK(failed > 0);
    CHECK(after_commit > 0);
}

int
main(void)
{
    if (ev_init() != EV_OK) {
        return 1;
    }
    root = t_mkdtemp();
    test_destroy();
    test_check_tombstones();
    test_faults();
    disarm();
    t_rmtree(root);
    EV_TEST_END();
}
