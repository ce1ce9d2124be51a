/*
 * test_vault.c - the library through evault.h: create, open, unlock,
 * recovery keys, add (paths, fd, hash), read back, dedup, search, check,
 * and tampering with every part of a blob and of the catalog.
 */
#include "blob.h"
#include "harness.h"
#include "testutil.h"
#include "testdb.h"
#include "util.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#define MiB ((size_t)1 << 20)

static char *root;

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

struct probs {
    int n;
    int64_t rec[64];
    int code[64];
};

static void
on_problem(void *ctx, const ev_problem *p)
{
    struct probs *ps = ctx;

    if (ps->n < 64) {
        ps->rec[ps->n] = p->record;
        ps->code[ps->n] = p->code;
        ps->n++;
    }
    if (getenv("EV_TEST_VERBOSE") != NULL) {
        fprintf(stderr, "  problem: record %lld code %d: %s\n",
                (long long)p->record, p->code, p->what);
    }
}

/* ev_check, and whether some EV_ECORRUPT problem names record id. */
static int
check_names(ev_vault *v, int flags, int64_t id, int *names)
{
    struct probs ps;
    int rc;

    memset(&ps, 0, sizeof ps);
    rc = ev_check(v, flags, on_problem, &ps, NULL);
    *names = 0;
    for (int i = 0; i < ps.n; i++) {
        if (ps.rec[i] == id && ps.code[i] == EV_ECORRUPT) {
            *names = 1;
        }
    }
    return rc;
}

/* ev_check passes with no damage reported at all. */
static int
check_clean(ev_vault *v, uint64_t *nrecords)
{
    struct probs ps;
    ev_check_counts k;
    int rc;

    memset(&ps, 0, sizeof ps);
    rc = ev_check(v, EV_CHECK_READ_DATA, on_problem, &ps, &k);
    if (nrecords != NULL) {
        *nrecords = k.records;
    }
    for (int i = 0; i < ps.n; i++) {
        if (ps.code[i] != EV_OK) {
            return -1;
        }
    }
    return rc;
}

static int
add_one(ev_vault *v, const char *path, const ev_add_opts *o,
        struct t_rec *out)
{
    struct t_recs rs;
    const char *paths[1] = {path};
    int rc;

    memset(&rs, 0, sizeof rs);
    rc = ev_record_add_paths(v, paths, 1, o, t_collect, &rs);
    if (rc == EV_OK && rs.n != 1) {
        return -1;
    }
    if (rc == EV_OK) {
        *out = rs.v[0];
    }
    return rc;
}

static int
read_status(ev_vault *v, int64_t id)
{
    size_t n;
    int rc;

    free(t_read_record(v, id, root, &n, &rc));
    return rc;
}

/* The path of a record's blob file (the layout of store.h). */
static int
blob_file(const char *vdir, int64_t id, char *out, size_t n)
{
    sqlite3 *db = t_db_open(vdir);
    sqlite3_stmt *st = NULL;
    int rc = -1;

    if (db == NULL) {
        return -1;
    }
    if (sqlite3_prepare_v2(db,
                           "SELECT lower(hex(blob)) FROM records WHERE id = ?",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *hex = (const char *)sqlite3_column_text(st, 0);
            if (hex != NULL && strlen(hex) == 64) {
                snprintf(out, n, "%s/blobs/%.2s/%s", vdir, hex, hex);
                rc = 0;
            }
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

static int
flip_file(const char *path, uint64_t off, uint8_t mask)
{
    int fd = open(path, O_RDWR);
    uint8_t b;
    int ok;

    if (fd < 0) {
        return -1;
    }
    ok = pread(fd, &b, 1, (off_t)off) == 1;
    b ^= mask;
    ok = ok && pwrite(fd, &b, 1, (off_t)off) == 1;
    close(fd);
    return ok ? 0 : -1;
}

static uint64_t
file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static void
sha256(uint8_t out[32], const void *p, size_t n)
{
    crypto_hash_sha256(out, p, n);
}

/* ------------------------------------------------------------------ */
/* Create, open, unlock                                                */
/* ------------------------------------------------------------------ */

static void
test_create_unlock(void)
{
    char dir[PATH_MAX], rec[EV_RECOVERY_KEY_CHARS + 1];
    ev_vault *v;
    int rc;

    t_path(dir, sizeof dir, root, "v-unlock");
    v = t_vault_create(dir, rec);
    CHECK(v != NULL);
    ev_vault_free(v);
    CHECK_EQ(ev_vault_probe(dir), 1);

    /* the right passphrase */
    CHECK_EQ(ev_vault_new(&v), EV_OK);
    CHECK_EQ(ev_vault_open(v, dir), EV_OK);
    {
        struct t_recs rs;
        memset(&rs, 0, sizeof rs);
        /* locked: nothing readable */
        CHECK_EQ(ev_record_list(v, NULL, t_collect, &rs), EV_ELOCKED);
        CHECK_EQ(ev_record_read(v, 1, -1), EV_ELOCKED);
        CHECK_EQ(ev_check(v, 0, NULL, NULL, NULL), EV_ELOCKED);
    }
    CHECK_EQ(ev_vault_unlock_passphrase(v, T_PASS, strlen(T_PASS)), EV_OK);
    ev_vault_free(v);

    /* wrong passphrases: another word, a prefix, one more byte, case */
    {
        static const char *const wrong[] = {"wrong", "correct horse battery",
                                            T_PASS " ", "Correct horse "
                                                        "battery staple"};
        for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
            CHECK_EQ(ev_vault_new(&v), EV_OK);
            CHECK_EQ(ev_vault_open(v, dir), EV_OK);
            rc = ev_vault_unlock_passphrase(v, wrong[i], strlen(wrong[i]));
            CHECK_EQ(rc, EV_EKEY);
            CHECK(ev_vault_errmsg(v)[0] != '\0');
            CHECK_EQ(ev_record_read(v, 1, -1), EV_ELOCKED);
            ev_vault_free(v);
        }
    }
    /* a passphrase with a NUL inside is its bytes, not a C string */
    CHECK_EQ(ev_vault_new(&v), EV_OK);
    CHECK_EQ(ev_vault_open(v, dir), EV_OK);
    CHECK_EQ(ev_vault_unlock_passphrase(v, T_PASS "\0x", strlen(T_PASS) + 2),
             EV_EKEY);
    CHECK_EQ(ev_vault_unlock_passphrase(v, T_PASS, strlen(T_PASS)), EV_OK);
    ev_vault_free(v);

    /* creating over a vault or a non-empty directory is refused */
    CHECK_EQ(ev_vault_new(&v), EV_OK);
    CHECK_EQ(ev_vault_create(v, dir, &t_cheap, "x", 1, rec), EV_EEXIST);
    CHECK_EQ(ev_vault_create(v, root, &t_cheap, "x", 1, rec), EV_EEXIST);
    {
        char d2[PATH_MAX];
        t_path(d2, sizeof d2, root, "v-empty-pass");
        CHECK_EQ(ev_vault_create(v, d2, &t_cheap, "", 0, rec), EV_EINVAL);
    }
    ev_vault_free(v);
    ev_vault_free(NULL);
}

/* ------------------------------------------------------------------ */
/* Recovery keys                                                       */
/* ------------------------------------------------------------------ */

static const char symbols[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* Every single-character change of key (each position, each other
 * symbol; a dash becomes a symbol) makes ev_recovery_key_check refuse it.
 * Returns how many changes were accepted. */
static int
single_changes_accepted(const char *key, int verbose)
{
    char k[EV_RECOVERY_KEY_CHARS + 1];
    int accepted = 0;

    for (size_t pos = 0; pos < strlen(key); pos++) {
        for (const char *s = symbols; *s; s++) {
            memcpy(k, key, sizeof k);
            if (*s == key[pos]) {
                continue;
            }
            if (key[pos] == '-' && s != symbols) {
                continue; /* one symbol in place of a dash is enough */
            }
            k[pos] = *s;
            if (ev_recovery_key_check(k) != EV_EINVAL) {
                accepted++;
                if (verbose) {
                    fprintf(stderr,
                            "recovery key %s with one character changed "
                            "(%s) passes its check\n",
                            key, k);
                }
            }
        }
    }
    return accepted;
}

/* A recovery key in the documented text form for a given secret. */
static void
make_key(char out[EV_RECOVERY_KEY_CHARS + 1], const uint8_t secret[20])
{
    uint8_t raw[22];
    char b32[40];
    size_t o = 0;
    unsigned crc = 0xffff;

    /* FORMAT.md: the check is CRC-16/CCITT (0x1021, init 0xffff) of the
     * secret, big-endian; computed here bit by bit over each input bit. */
    for (size_t i = 0; i < 20 * 8; i++) {
        unsigned bit = (secret[i / 8] >> (7 - i % 8)) & 1;
        unsigned top = (crc >> 15) & 1;
        crc = (crc << 1) & 0xffff;
        if (top ^ bit) {
            crc ^= 0x1021;
        }
    }
    memcpy(raw, secret, 20);
    raw[20] = (uint8_t)(crc >> 8);
    raw[21] = (uint8_t)crc;
    ev_base32_encode(b32, raw, sizeof raw);
    for (size_t i = 0; i < 36; i++) {
        if (i > 0 && i % 4 == 0) {
            out[o++] = '-';
        }
        out[o++] = b32[i];
    }
    out[o] = '\0';
}

static void
test_recovery(void)
{
    char dir[PATH_MAX], rec[EV_RECOVERY_KEY_CHARS + 1];
    char other_dir[PATH_MAX], other[EV_RECOVERY_KEY_CHARS + 1];
    char k[EV_RECOVERY_KEY_CHARS + 1];
    ev_vault *v;

    t_path(dir, sizeof dir, root, "v-recovery");
    v = t_vault_create(dir, rec);
    CHECK(v != NULL);
    ev_vault_free(v);

    /* the printed form: 9 groups of 4 symbols */
    CHECK_EQ(strlen(rec), EV_RECOVERY_KEY_CHARS);
    for (size_t i = 0; i < strlen(rec); i++) {
        if (i % 5 == 4) {
            CHECK(rec[i] == '-');
        } else {
            CHECK(strchr(symbols, rec[i]) != NULL);
        }
    }
    CHECK_EQ(ev_recovery_key_check(rec), EV_OK);

    /* it unlocks, also typed in lower case with spaces */
    CHECK_EQ(ev_vault_new(&v), EV_OK);
    CHECK_EQ(ev_vault_open(v, dir), EV_OK);
    CHECK_EQ(ev_vault_unlock_recovery(v, rec), EV_OK);
    {
        struct t_recs rs;
        memset(&rs, 0, sizeof rs);
        CHECK_EQ(ev_record_list(v, NULL, t_collect, &rs), EV_OK);
    }
    ev_vault_free(v);
    memcpy(k, rec, sizeof k);
    for (size_t i = 0; k[i]; i++) {
        if (k[i] == '-') {
            k[i] = ' ';
        } else if (k[i] >= 'A' && k[i] <= 'Z') {
            k[i] = (char)(k[i] - 'A' + 'a');
        }
    }
    CHECK_EQ(ev_recovery_key_check(k), EV_OK);
    CHECK_EQ(ev_vault_new(&v), EV_OK);
    CHECK_EQ(ev_vault_open(v, dir), EV_OK);
    CHECK_EQ(ev_vault_unlock_recovery(v, k), EV_OK);
    ev_vault_free(v);

    /* every single-character change is caught by the check */
    CHECK_EQ(single_changes_accepted(rec, 1), 0);
    /* and none of them unlocks */
    {
        int opened = 0;
        CHECK_EQ(ev_vault_new(&v), EV_OK);
        CHECK_EQ(ev_vault_open(v, dir), EV_OK);
        for (size_t pos = 0; pos < strlen(rec); pos++) {
            memcpy(k, rec, sizeof k);
            k[pos] = k[pos] == 'Z' ? 'Y' : 'Z';
            if (ev_vault_unlock_recovery(v, k) != EV_EKEY) {
                opened++;
            }
        }
        CHECK_EQ(opened, 0);
        ev_vault_free(v);
    }
    /* dropped and added characters */
    memcpy(k, rec, sizeof k);
    k[strlen(k) - 1] = '\0';
    CHECK_EQ(ev_recovery_key_check(k), EV_EINVAL);
    {
        char longer[EV_RECOVERY_KEY_CHARS + 8];
        snprintf(longer, sizeof longer, "%s0", rec);
        CHECK_EQ(ev_recovery_key_check(longer), EV_EINVAL);
        snprintf(longer, sizeof longer, "%sU", rec);
        CHECK_EQ(ev_recovery_key_check(longer), EV_EINVAL);
    }
    CHECK_EQ(ev_recovery_key_check(""), EV_EINVAL);
    /* a well-formed key of another vault: EV_EKEY */
    t_path(other_dir, sizeof other_dir, root, "v-recovery-2");
    v = t_vault_create(other_dir, other);
    CHECK(v != NULL);
    ev_vault_free(v);
    CHECK_EQ(ev_recovery_key_check(other), EV_OK);
    CHECK_EQ(ev_vault_new(&v), EV_OK);
    CHECK_EQ(ev_vault_open(v, dir), EV_OK);
    CHECK_EQ(ev_vault_unlock_recovery(v, other), EV_EKEY);
    CHECK(ev_vault_errmsg(v)[0] != '\0');
    /* the passphrase still works after failures */
    CHECK_EQ(ev_vault_unlock_passphrase(v, T_PASS, strlen(T_PASS)), EV_OK);
    ev_vault_free(v);
}

/* FORMAT.md: "A mistyped key is caught by the check before any slot is
 * tried."  Over many keys (deterministic secrets), no single-character
 * typo may pass the check.  Regression: a 16-bit BLAKE2b check let about
 * 1 in 65536 typos through (4 of these 300 keys had one); the CRC-16
 * catches every error within 16 consecutive bits. */
static void
test_recovery_typos_many_keys(void)
{
    int accepted = 0, keys_with_miss = 0;
    char key[EV_RECOVERY_KEY_CHARS + 1];

    for (uint64_t seed = 1; seed <= 300; seed++) {
        uint8_t secret[20];
        int a;
        t_fill_random(secret, sizeof secret, seed);
        make_key(key, secret);
        CHECK_EQ(ev_recovery_key_check(key), EV_OK);
        a = single_changes_accepted(key, accepted == 0);
        accepted += a;
        keys_with_miss += a > 0;
    }
    if (accepted != 0) {
        fprintf(stderr,
                "%d single-character typos in %d of 300 recovery keys pass "
                "the checksum\n",
                accepted, keys_with_miss);
    }
    CHECK_EQ(accepted, 0);
}

/* ------------------------------------------------------------------ */
/* Not a vault, newer format                                           */
/* ------------------------------------------------------------------ */

static void
test_not_vault(void)
{
    char dir[PATH_MAX], db[PATH_MAX];
    ev_vault *v;
    uint8_t junk[8192];
    static const char *const contents[] = {"garbage", "text", "empty",
                                           "sqlite"};

    CHECK_EQ(ev_vault_new(&v), EV_OK);
    /* an empty directory, a missing one, a file */
    t_path(dir, sizeof dir, root, "not-a-vault");
    CHECK_EQ(mkdir(dir, 0700), 0);
    CHECK_EQ(ev_vault_probe(dir), 0);
    CHECK_EQ(ev_vault_open(v, dir), EV_ENOTVAULT);
    CHECK(ev_vault_errmsg(v)[0] != '\0');
    t_path(db, sizeof db, root, "missing-dir");
    CHECK_EQ(ev_vault_open(v, db), EV_ENOTVAULT);
    t_path(db, sizeof db, dir, "vault.db");

    ev_vault_free(v);

    for (size_t i = 0; i < sizeof contents / sizeof *contents; i++) {
        uint8_t *before, *now;
        size_t bn = 0, nn = 0, n = 0;
        char wal[PATH_MAX + 8];
        int same, diff_at = -1;
        unlink(db);
        if (i == 0) {
            t_fill_random(junk, sizeof junk, 5);
            n = sizeof junk;
        } else if (i == 1) {
            n = (size_t)snprintf((char *)junk, sizeof junk,
                                 "this is not a database, only notes\n");
        } else if (i == 3) {
            /* a real SQLite file (rollback journal mode), not a catalog */
            sqlite3 *s = NULL;
            sqlite3_open(db, &s);
            sqlite3_exec(s, "CREATE TABLE t(x); INSERT INTO t VALUES(1);",
                         NULL, NULL, NULL);
            sqlite3_close(s);
        }
        if (i != 3) {
            CHECK_EQ(t_write_file(db, junk, n), 0);
        }
        before = t_read_file(db, &bn);
        CHECK_EQ(ev_vault_probe(dir), 1);
        CHECK_EQ(ev_vault_new(&v), EV_OK);
        CHECK_EQ(ev_vault_open(v, dir), EV_ENOTVAULT);
        CHECK(ev_vault_errmsg(v)[0] != '\0');
        CHECK(ev_vault_unlock_passphrase(v, T_PASS, strlen(T_PASS)) != EV_OK);
        ev_vault_free(v);
        /* trying changed nothing: no byte of the file, no -wal beside it
         * (catalog.c: "Refuse a file that is not a database before
         * changing anything") */
        now = t_read_file(db, &nn);
        same = now != NULL && before != NULL && nn == bn &&
               (bn == 0 || memcmp(now, before, bn) == 0);
        for (size_t k = 0; !same && now != NULL && before != NULL &&
                           k < nn && k < bn;
             k++) {
            if (now[k] != before[k]) {
                diff_at = (int)k;
                break;
            }
        }
        snprintf(wal, sizeof wal, "%s-wal", db);
        if (!same || access(wal, F_OK) == 0) {
            fprintf(stderr,
                    "ev_vault_open changed a vault.db that is not a vault "
                    "(%s): %zu -> %zu bytes, first change at byte %d, "
                    "-wal %s\n",
                    contents[i], bn, nn, diff_at,
                    access(wal, F_OK) == 0 ? "left" : "absent");
        }
        CHECK(same);
        CHECK(access(wal, F_OK) != 0);
        unlink(wal);
        snprintf(wal, sizeof wal, "%s-shm", db);
        unlink(wal);
        free(before);
        free(now);
    }
}

static void
test_format_version(void)
{
    char dir[PATH_MAX];
    ev_vault *v;

    t_path(dir, sizeof dir, root, "v-format");
    v = t_vault_create(dir, NULL);
    CHECK(v != NULL);
    ev_vault_free(v);

    CHECK_EQ(t_db_exec(dir, "UPDATE meta SET value='3' WHERE key='format'"), 0);
    CHECK_EQ(ev_vault_new(&v), EV_OK);
    CHECK_EQ(ev_vault_open(v, dir), EV_EVERSION);
    CHECK(strstr(ev_vault_errmsg(v), "upgrade") != NULL);
    CHECK_EQ(t_db_exec(dir, "UPDATE meta SET value='10' WHERE key='format'"),
             0);
    CHECK_EQ(ev_vault_open(v, dir), EV_EVERSION);
    /* unreadable versions are damage, not a newer evault */
    CHECK_EQ(t_db_exec(dir, "UPDATE meta SET value='0' WHERE key='format'"), 0);
    CHECK_EQ(ev_vault_open(v, dir), EV_ECORRUPT);
    CHECK_EQ(t_db_exec(dir, "UPDATE meta SET value='1x' WHERE key='format'"),
             0);
    CHECK_EQ(ev_vault_open(v, dir), EV_ECORRUPT);
    CHECK_EQ(t_db_exec(dir, "DELETE FROM meta WHERE key='format'"), 0);
    CHECK_EQ(ev_vault_open(v, dir), EV_ECORRUPT);
    /* back to 1: opens and unlocks */
    CHECK_EQ(t_db_exec(dir, "INSERT INTO meta VALUES('format', '1')"), 0);
    CHECK_EQ(ev_vault_open(v, dir), EV_OK);
    CHECK_EQ(ev_vault_unlock_passphrase(v, T_PASS, strlen(T_PASS)), EV_OK);
    ev_vault_free(v);
    /* another magic: not a vault */
    CHECK_EQ(t_db_exec(dir, "UPDATE meta SET value='evaulX' WHERE key='magic'"),
             0);
    CHECK_EQ(ev_vault_new(&v), EV_OK);
    CHECK_EQ(ev_vault_open(v, dir), EV_ENOTVAULT);
    ev_vault_free(v);
}

/* ------------------------------------------------------------------ */
/* Adding and reading back                                             */
/* ------------------------------------------------------------------ */

struct reader {
    int fd;
    uint8_t *buf;
    size_t n, cap;
};

static void *
reader_main(void *arg)
{
    struct reader *r = arg;

    for (;;) {
        ssize_t got;
        if (r->n == r->cap) {
            r->cap = r->cap ? 2 * r->cap : 65536;
            r->buf = realloc(r->buf, r->cap);
        }
        got = read(r->fd, r->buf + r->n, r->cap - r->n);
        if (got <= 0) {
            break;
        }
        r->n += (size_t)got;
    }
    return NULL;
}

struct writer {
    int fd;
    const uint8_t *buf;
    size_t n;
};

static void *
writer_main(void *arg)
{
    struct writer *w = arg;
    size_t off = 0;

    while (off < w->n) {
        size_t piece = w->n - off < 7777 ? w->n - off : 7777;
        ssize_t put = write(w->fd, w->buf + off, piece);
        if (put <= 0) {
            break;
        }
        off += (size_t)put;
    }
    close(w->fd);
    return NULL;
}

static const size_t sizes[] = {0,       1,       MiB - 1,
                               MiB,     MiB + 1, 3 * MiB + 17};
#define NSIZES (sizeof sizes / sizeof *sizes)

static void
test_sizes(const char *vdir, ev_vault *v)
{
    char in[PATH_MAX];

    t_path(in, sizeof in, root, "in-sizes");
    CHECK_EQ(mkdir(in, 0700), 0);
    for (int kind = 0; kind < 2; kind++) {
        for (size_t i = 0; i < NSIZES; i++) {
            char path[PATH_MAX], name[64];
            size_t n = sizes[i];
            uint8_t *data = malloc(n + 1), want[32];
            struct t_rec r;
            ev_record full;
            int rc;
            snprintf(name, sizeof name, "%s-%zu.%s",
                     kind ? "text" : "random", n, kind ? "txt" : "mp4");
            t_path(path, sizeof path, in, name);
            if (kind) {
                t_fill_text(data, n, 1000 + n);
            } else {
                t_fill_random(data, n, 2000 + n);
            }
            CHECK_EQ(t_write_file(path, data, n), 0);
            rc = add_one(v, path, NULL, &r);
            CHECK_EQ(rc, EV_OK);
            if (rc != EV_OK) {
                fprintf(stderr, "add %s: %s\n", path, ev_vault_errmsg(v));
                free(data);
                continue;
            }
            sha256(want, data, n);
            CHECK_EQ(r.size, n);
            CHECK(memcmp(r.sha256, want, 32) == 0);
            CHECK(strcmp(r.name, name) == 0);
            CHECK_EQ(r.hash_only, 0);
            CHECK(t_reads_back(root, v, r.id, data, n));
            /* the metadata as stored */
            CHECK_EQ(ev_record_get(v, r.id, &full), EV_OK);
            CHECK(full.name != NULL && strcmp(full.name, name) == 0);
            CHECK(full.kind != NULL &&
                  strcmp(full.kind, kind ? "document" : "video") == 0);
            CHECK_EQ(full.size, n);
            CHECK_EQ(full.state, EV_STATE_ACTIVE);
            CHECK(memcmp(full.sha256, want, 32) == 0);
            ev_record_release(&full);
            /* where it lives: inline up to one chunk, else a file whose
             * size is the padded size */
            {
                int64_t inl = t_db_int(vdir,
                                     "SELECT data IS NOT NULL FROM blobs "
                                     "WHERE id = (SELECT blob FROM records "
                                     "WHERE id = ?)",
                                     r.id);
                int64_t padded = t_db_int(
                    vdir, "SELECT padded_size FROM records WHERE id = ?",
                    r.id);
                CHECK_EQ(inl, n <= MiB ? 1 : 0);
                if (n > MiB) {
                    char bp[PATH_MAX];
                    CHECK_EQ(blob_file(vdir, r.id, bp, sizeof bp), 0);
                    CHECK_EQ(file_size(bp), (uint64_t)padded);
                }
                if (kind == 0) {
                    /* random content: stored raw, so the padded size is
                     * Padmé of header + chunks + tags + index */
                    uint64_t nc = ev_blob_nchunks(n);
                    uint64_t stored = 16 + n + 16 * nc + 16 + 4 * nc + 16;
                    CHECK_EQ((uint64_t)padded, ev_padme(stored));
                } else if (n >= 1000) {
                    CHECK((uint64_t)padded < n); /* compressed */
                }
            }
            /* ev_record_export: the same bytes, refuses to overwrite */
            {
                char out[PATH_MAX];
                size_t got_n = 0;
                uint8_t *got;
                snprintf(out, sizeof out, "%s/export-%s", root, name);
                CHECK_EQ(ev_record_export(v, r.id, out, 0, NULL), EV_OK);
                got = t_read_file(out, &got_n);
                CHECK(got != NULL && got_n == n &&
                      (n == 0 || memcmp(got, data, n) == 0));
                free(got);
                CHECK_EQ(ev_record_export(v, r.id, out, 0, NULL), EV_EEXIST);
                CHECK_EQ(ev_record_export(v, r.id, out, 1, NULL), EV_OK);
                unlink(out);
            }
            free(data);
        }
    }
    /* reading into a pipe, 3 MiB + 17 */
    {
        size_t n = 3 * MiB + 17;
        uint8_t *data = malloc(n);
        char path[PATH_MAX];
        struct t_rec r;
        int p[2];
        pthread_t th;
        struct reader rd = {0};
        t_path(path, sizeof path, in, "pipe-source.bin");
        t_fill_random(data, n, 77);
        CHECK_EQ(t_write_file(path, data, n), 0);
        CHECK_EQ(add_one(v, path, NULL, &r), EV_OK);
        CHECK_EQ(pipe(p), 0);
        rd.fd = p[0];
        pthread_create(&th, NULL, reader_main, &rd);
        CHECK_EQ(ev_record_read(v, r.id, p[1]), EV_OK);
        close(p[1]);
        pthread_join(th, NULL);
        close(p[0]);
        CHECK(rd.n == n && memcmp(rd.buf, data, n) == 0);
        free(rd.buf);
        free(data);
    }
    /* no such record */
    CHECK_EQ(ev_record_read(v, 999999, -1), EV_ENOENT);
    {
        ev_record r;
        CHECK_EQ(ev_record_get(v, 999999, &r), EV_ENOENT);
    }
    /* a whole directory: one record per file, in name order */
    {
        struct t_recs rs;
        const char *paths[1] = {in};
        memset(&rs, 0, sizeof rs);
        CHECK_EQ(ev_record_add_paths(v, paths, 1, NULL, t_collect, &rs),
                 EV_OK);
        CHECK_EQ(rs.n, 2 * NSIZES + 1);
        for (size_t i = 1; i < rs.n; i++) {
            CHECK(strcmp(rs.v[i - 1].name, rs.v[i].name) < 0);
            CHECK(rs.v[i - 1].id < rs.v[i].id);
        }
        /* all of it is a repeat: every record names an earlier one */
        for (size_t i = 0; i < rs.n; i++) {
            CHECK(rs.v[i].same_as > 0 && rs.v[i].same_as < rs.v[0].id);
        }
    }
}

static void
test_add_fd(ev_vault *v)
{
    size_t n = 2 * MiB + 500;
    uint8_t *data = malloc(n), want[32];
    int p[2];
    pthread_t th;
    struct writer w;
    struct t_recs rs;
    ev_add_opts o;
    ev_record full;

    t_fill_text(data, n / 2, 9);
    t_fill_random(data + n / 2, n - n / 2, 9);
    sha256(want, data, n);
    CHECK_EQ(pipe(p), 0);
    w.fd = p[1];
    w.buf = data;
    w.n = n;
    pthread_create(&th, NULL, writer_main, &w);
    memset(&o, 0, sizeof o);
    o.name = "statement-1.txt";
    o.case_name = "Case-FD";
    memset(&rs, 0, sizeof rs);
    CHECK_EQ(ev_record_add_fd(v, p[0], &o, t_collect, &rs), EV_OK);
    pthread_join(th, NULL);
    close(p[0]);
    CHECK_EQ(rs.n, 1);
    CHECK_EQ(rs.v[0].size, n);
    CHECK(memcmp(rs.v[0].sha256, want, 32) == 0);
    CHECK(strcmp(rs.v[0].name, "statement-1.txt") == 0);
    CHECK(t_reads_back(root, v, rs.v[0].id, data, n));
    CHECK_EQ(ev_record_get(v, rs.v[0].id, &full), EV_OK);
    CHECK(full.kind != NULL && strcmp(full.kind, "testimony") == 0);
    CHECK(full.case_name != NULL && strcmp(full.case_name, "Case-FD") == 0);
    ev_record_release(&full);

    /* an empty pipe: an empty testimony */
    CHECK_EQ(pipe(p), 0);
    close(p[1]);
    memset(&rs, 0, sizeof rs);
    CHECK_EQ(ev_record_add_fd(v, p[0], NULL, t_collect, &rs), EV_OK);
    close(p[0]);
    CHECK_EQ(rs.n, 1);
    CHECK_EQ(rs.v[0].size, 0);
    CHECK(strcmp(rs.v[0].name, "testimony") == 0);
    CHECK(t_reads_back(root, v, rs.v[0].id, data, 0));
    free(data);
}

static void
test_dedup(const char *vdir, ev_vault *v)
{
    char in[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
    size_t n = MiB + 4321;
    uint8_t *data = malloc(n);
    struct t_rec ra, rb;
    int64_t blobs0, blobs1;

    t_path(in, sizeof in, root, "in-dedup");
    CHECK_EQ(mkdir(in, 0700), 0);
    t_path(a, sizeof a, in, "a.bin");
    t_path(b, sizeof b, in, "b-copy.bin");
    t_fill_random(data, n, 4242);
    CHECK_EQ(t_write_file(a, data, n), 0);
    CHECK_EQ(t_write_file(b, data, n), 0);
    blobs0 = t_db_int(vdir, "SELECT count(*) + 0 * ? FROM blobs", 0);
    CHECK_EQ(add_one(v, a, NULL, &ra), EV_OK);
    CHECK_EQ(ra.same_as, 0);
    CHECK_EQ(add_one(v, b, NULL, &rb), EV_OK);
    CHECK_EQ(rb.same_as, ra.id);
    CHECK(memcmp(ra.sha256, rb.sha256, 32) == 0);
    blobs1 = t_db_int(vdir, "SELECT count(*) + 0 * ? FROM blobs", 0);
    CHECK_EQ(blobs1, blobs0 + 1); /* one blob for both */
    CHECK_EQ(t_db_int(vdir,
                    "SELECT count(DISTINCT blob) FROM records WHERE id IN "
                    "(?, (SELECT max(id) FROM records))",
                    ra.id),
             1);
    CHECK(t_reads_back(root, v, ra.id, data, n));
    CHECK(t_reads_back(root, v, rb.id, data, n));
    {
        ev_record full;
        CHECK_EQ(ev_record_get(v, rb.id, &full), EV_OK);
        CHECK_EQ(full.same_as, ra.id);
        ev_record_release(&full);
    }
    /* within one add: two new identical small files */
    {
        char in2[PATH_MAX], p1[PATH_MAX], p2[PATH_MAX];
        const char *paths[1];
        struct t_recs rs;
        t_path(in2, sizeof in2, root, "in-dedup-2");
        CHECK_EQ(mkdir(in2, 0700), 0);
        t_path(p1, sizeof p1, in2, "one.txt");
        t_path(p2, sizeof p2, in2, "two.txt");
        CHECK_EQ(t_write_file(p1, "same words\n", 11), 0);
        CHECK_EQ(t_write_file(p2, "same words\n", 11), 0);
        paths[0] = in2;
        memset(&rs, 0, sizeof rs);
        CHECK_EQ(ev_record_add_paths(v, paths, 1, NULL, t_collect, &rs),
                 EV_OK);
        CHECK_EQ(rs.n, 2);
        CHECK_EQ(rs.v[0].same_as, 0);
        CHECK_EQ(rs.v[1].same_as, rs.v[0].id);
        CHECK(t_reads_back(root, v, rs.v[1].id,
                           (const uint8_t *)"same words\n", 11));
    }
    free(data);
}

static void
test_hash_only(ev_vault *v)
{
    uint8_t sha[32];
    struct t_recs rs;
    ev_add_opts o;
    ev_record full;
    char path[PATH_MAX];
    struct t_rec r;
    static const char body[] = "a video we may not keep";

    memset(&o, 0, sizeof o);
    /* ev_record_add_hash needs a name */
    randombytes_buf(sha, sizeof sha);
    CHECK_EQ(ev_record_add_hash(v, sha, 12345, &o, t_collect, &rs),
             EV_EINVAL);
    CHECK_EQ(ev_record_add_hash(v, sha, 12345, NULL, t_collect, &rs),
             EV_EINVAL);
    o.name = "torture-video.mp4";
    memset(&rs, 0, sizeof rs);
    CHECK_EQ(ev_record_add_hash(v, sha, 12345, &o, t_collect, &rs), EV_OK);
    CHECK_EQ(rs.n, 1);
    CHECK_EQ(rs.v[0].hash_only, 1);
    CHECK_EQ(rs.v[0].size, 12345);
    CHECK(memcmp(rs.v[0].sha256, sha, 32) == 0);
    CHECK_EQ(read_status(v, rs.v[0].id), EV_ENOENT);
    CHECK(ev_vault_errmsg(v)[0] != '\0');
    CHECK_EQ(ev_record_get(v, rs.v[0].id, &full), EV_OK);
    CHECK_EQ(full.hash_only, 1);
    CHECK_EQ(full.size, 12345);
    ev_record_release(&full);

    /* --hash-only on a file: its hash and size, no bytes */
    t_path(path, sizeof path, root, "hash-only.mp4");
    CHECK_EQ(t_write_file(path, body, sizeof body - 1), 0);
    memset(&o, 0, sizeof o);
    o.hash_only = 1;
    CHECK_EQ(add_one(v, path, &o, &r), EV_OK);
    CHECK_EQ(r.hash_only, 1);
    CHECK_EQ(r.size, sizeof body - 1);
    sha256(sha, body, sizeof body - 1);
    CHECK(memcmp(r.sha256, sha, 32) == 0);
    CHECK_EQ(read_status(v, r.id), EV_ENOENT);
    {
        char out[PATH_MAX];
        t_path(out, sizeof out, root, "hash-only-export");
        CHECK_EQ(ev_record_export(v, r.id, out, 0, NULL), EV_ENOENT);
        CHECK(access(out, F_OK) != 0); /* nothing left behind */
    }
}

struct idlist {
    int64_t id[64];
    size_t n;
};

static int
collect_ids(void *ctx, const ev_record *r)
{
    struct idlist *l = ctx;

    if (l->n < 64) {
        l->id[l->n++] = r->id;
    }
    return 0;
}

static int
stop_after_one(void *ctx, const ev_record *r)
{
    (void)r;
    (*(int *)ctx)++;
    return 1;
}

static size_t
list(ev_vault *v, const ev_filter *f, struct idlist *l)
{
    memset(l, 0, sizeof *l);
    if (ev_record_list(v, f, collect_ids, l) != EV_OK) {
        return (size_t)-1;
    }
    return l->n;
}

static void
test_filters(void)
{
    char dir[PATH_MAX], in[PATH_MAX], p[3][PATH_MAX];
    ev_vault *v;
    struct t_rec r[3];
    ev_add_opts o[3];
    static const char *const tags0[] = {"alpha", "Beta"};
    static const char *const tags1[] = {"  beta "};
    struct idlist l;
    ev_filter f;

    t_path(dir, sizeof dir, root, "v-filters");
    v = t_vault_create(dir, NULL);
    CHECK(v != NULL);
    t_path(in, sizeof in, root, "in-filters");
    CHECK_EQ(mkdir(in, 0700), 0);
    memset(o, 0, sizeof o);
    o[0].case_name = "Case-A";
    o[0].source = "Src-1";
    o[0].tags = tags0;
    o[0].ntags = 2;
    o[1].case_name = "case-a";
    o[1].source = "src-2";
    o[1].tags = tags1;
    o[1].ntags = 1;
    o[2].case_name = "Case-B";
    for (int i = 0; i < 3; i++) {
        char name[32], body[32];
        snprintf(name, sizeof name, "f%d.txt", i);
        snprintf(body, sizeof body, "content %d\n", i);
        t_path(p[i], sizeof p[i], in, name);
        CHECK_EQ(t_write_file(p[i], body, strlen(body)), 0);
        CHECK_EQ(add_one(v, p[i], &o[i], &r[i]), EV_OK);
    }

    CHECK_EQ(list(v, NULL, &l), 3);
    CHECK(l.id[0] == r[0].id && l.id[1] == r[1].id && l.id[2] == r[2].id);
    memset(&f, 0, sizeof f);
    CHECK_EQ(list(v, &f, &l), 3);

    f.case_name = " CASE-a\t";
    CHECK_EQ(list(v, &f, &l), 2);
    CHECK(l.id[0] == r[0].id && l.id[1] == r[1].id);
    f.case_name = "case-b";
    CHECK_EQ(list(v, &f, &l), 1);
    CHECK(l.id[0] == r[2].id);
    f.case_name = "case-c";
    CHECK_EQ(list(v, &f, &l), 0);
    f.case_name = "case";
    CHECK_EQ(list(v, &f, &l), 0);

    memset(&f, 0, sizeof f);
    f.source = "SRC-1";
    CHECK_EQ(list(v, &f, &l), 1);
    CHECK(l.id[0] == r[0].id);
    f.source = "src-2 ";
    CHECK_EQ(list(v, &f, &l), 1);
    CHECK(l.id[0] == r[1].id);

    memset(&f, 0, sizeof f);
    f.tag = "BETA";
    CHECK_EQ(list(v, &f, &l), 2);
    f.tag = "alpha";
    CHECK_EQ(list(v, &f, &l), 1);
    CHECK(l.id[0] == r[0].id);
    f.tag = "gamma";
    CHECK_EQ(list(v, &f, &l), 0);

    /* filters combine */
    memset(&f, 0, sizeof f);
    f.case_name = "case-a";
    f.tag = "alpha";
    CHECK_EQ(list(v, &f, &l), 1);
    CHECK(l.id[0] == r[0].id);
    f.source = "src-2";
    CHECK_EQ(list(v, &f, &l), 0);

    /* by SHA-256 */
    memset(&f, 0, sizeof f);
    f.sha256 = r[2].sha256;
    CHECK_EQ(list(v, &f, &l), 1);
    CHECK(l.id[0] == r[2].id);
    {
        uint8_t other[32];
        memcpy(other, r[2].sha256, 32);
        other[0] ^= 1;
        f.sha256 = other;
        CHECK_EQ(list(v, &f, &l), 0);
    }
    /* the stored values keep their case; the tags come back */
    {
        ev_record full;
        CHECK_EQ(ev_record_get(v, r[0].id, &full), EV_OK);
        CHECK(full.case_name != NULL &&
              strcmp(full.case_name, "Case-A") == 0);
        CHECK_EQ(full.ntags, 2);
        if (full.ntags == 2) {
            CHECK(strcmp(full.tags[0], "alpha") == 0);
            CHECK(strcmp(full.tags[1], "Beta") == 0);
        }
        ev_record_release(&full);
    }
    /* a callback that stops the walk */
    {
        int calls = 0;
        CHECK_EQ(ev_record_list(v, NULL, stop_after_one, &calls), EV_OK);
        CHECK_EQ(calls, 1);
    }
    CHECK_EQ(check_clean(v, NULL), EV_OK);
    ev_vault_free(v);
}

/* ------------------------------------------------------------------ */
/* Check and tamper                                                    */
/* ------------------------------------------------------------------ */

struct tamper_env {
    const char *vdir;
    ev_vault *v;
    int64_t id;      /* the record whose blob is damaged */
};

/* After damage: check (with data) fails and names the record; the
 * record does not read. */
static void
expect_damage(struct tamper_env *e, const char *what, int need_read_data)
{
    int names = 0, rc;

    rc = check_names(e->v, EV_CHECK_READ_DATA, e->id, &names);
    if (rc != EV_ECORRUPT || !names) {
        fprintf(stderr, "tamper '%s': check gave %d, names record: %d\n",
                what, rc, names);
    }
    CHECK_EQ(rc, EV_ECORRUPT);
    CHECK(names);
    if (!need_read_data) {
        rc = check_names(e->v, 0, e->id, &names);
        if (rc != EV_ECORRUPT || !names) {
            fprintf(stderr,
                    "tamper '%s': check without --read-data gave %d, "
                    "names record: %d\n",
                    what, rc, names);
        }
        CHECK_EQ(rc, EV_ECORRUPT);
        CHECK(names);
    }
    rc = read_status(e->v, e->id);
    if (rc != EV_ECORRUPT) {
        fprintf(stderr, "tamper '%s': ev_record_read gave %d (%s)\n", what,
                rc, ev_vault_errmsg(e->v));
    }
    CHECK_EQ(rc, EV_ECORRUPT);
}

static void
test_tamper_file_blob(const char *vdir, ev_vault *v)
{
    char in[PATH_MAX], bp[PATH_MAX];
    size_t n = 3 * MiB + 17;
    uint8_t *data = malloc(n);
    struct t_rec r;
    struct tamper_env e;
    uint64_t nc = ev_blob_nchunks(n), stored, size;
    uint64_t idx_len = ev_blob_index_bytes(nc), cl = MiB + 16;

    t_path(in, sizeof in, root, "tamper-big.bin");
    t_fill_random(data, n, 31337);
    CHECK_EQ(t_write_file(in, data, n), 0);
    CHECK_EQ(add_one(v, in, NULL, &r), EV_OK);
    CHECK_EQ(blob_file(vdir, r.id, bp, sizeof bp), 0);
    CHECK_EQ(check_clean(v, NULL), EV_OK);
    /* random data is stored raw: the layout is known */
    stored = 16 + n + 16 * nc + idx_len;
    size = file_size(bp);
    CHECK_EQ(size, ev_padme(stored));
    CHECK(size > stored);
    e.vdir = vdir;
    e.v = v;
    e.id = r.id;

    {
        static const struct {
            const char *what;
            uint64_t off;
        } where[] = {
            {"first chunk", 16 + 100},
            {"first chunk tag", 16 + MiB + 15},
            {"middle chunk", 16 + 2 * (MiB + 16) + 5000},
            {"last chunk", 16 + 3 * (MiB + 16) + 3},
        };
        for (size_t i = 0; i < sizeof where / sizeof *where; i++) {
            CHECK_EQ(flip_file(bp, where[i].off, 0x04), 0);
            expect_damage(&e, where[i].what, 1);
            CHECK_EQ(flip_file(bp, where[i].off, 0x04), 0);
        }
        /* the index: its first, a middle and its last byte */
        for (uint64_t k = 0; k < 3; k++) {
            uint64_t off = stored - idx_len + k * (idx_len - 1) / 2;
            CHECK_EQ(flip_file(bp, off, 0x40), 0);
            expect_damage(&e, "index", 1);
            CHECK_EQ(flip_file(bp, off, 0x40), 0);
        }
        /* the padding: first, middle, last byte */
        for (uint64_t k = 0; k < 3; k++) {
            uint64_t off = stored + k * (size - stored - 1) / 2;
            CHECK_EQ(flip_file(bp, off, 0x01), 0);
            expect_damage(&e, "padding", 1);
            CHECK_EQ(flip_file(bp, off, 0x01), 0);
        }
    }
    CHECK_EQ(check_clean(v, NULL), EV_OK);

    /* the header: every byte, two different bit flips */
    for (uint64_t off = 0; off < 16; off++) {
        static const uint8_t masks[2] = {0x01, 0x80};
        for (int m = 0; m < 2; m++) {
            char what[64];
            snprintf(what, sizeof what, "header byte %llu ^ 0x%02x",
                     (unsigned long long)off, masks[m]);
            CHECK_EQ(flip_file(bp, off, masks[m]), 0);
            expect_damage(&e, what, 1);
            CHECK_EQ(flip_file(bp, off, masks[m]), 0);
        }
    }
    CHECK_EQ(check_clean(v, NULL), EV_OK);

    /* two chunks swapped (same length): reordering is caught */
    {
        int fd = open(bp, O_RDWR);
        uint8_t *c1 = malloc(cl), *c2 = malloc(cl);
        CHECK(fd >= 0);
        CHECK(pread(fd, c1, cl, 16 + cl) == (ssize_t)cl);
        CHECK(pread(fd, c2, cl, 16 + 2 * cl) == (ssize_t)cl);
        CHECK(pwrite(fd, c2, cl, 16 + cl) == (ssize_t)cl);
        CHECK(pwrite(fd, c1, cl, 16 + 2 * cl) == (ssize_t)cl);
        expect_damage(&e, "chunks 1 and 2 swapped", 1);
        CHECK(pwrite(fd, c1, cl, 16 + cl) == (ssize_t)cl);
        CHECK(pwrite(fd, c2, cl, 16 + 2 * cl) == (ssize_t)cl);
        close(fd);
        free(c1);
        free(c2);
    }
    /* cut short, made longer, removed: caught without reading data */
    {
        uint8_t *whole;
        size_t wn = 0;
        whole = t_read_file(bp, &wn);
        CHECK(whole != NULL && wn == size);
        CHECK_EQ(truncate(bp, (off_t)size - 1), 0);
        expect_damage(&e, "one byte cut", 0);
        CHECK_EQ(truncate(bp, (off_t)stored), 0);
        expect_damage(&e, "padding cut", 0);
        CHECK_EQ(truncate(bp, (off_t)size + 1), 0);
        expect_damage(&e, "one byte added", 0);
        CHECK_EQ(unlink(bp), 0);
        expect_damage(&e, "blob file removed", 0);
        CHECK_EQ(t_write_file(bp, whole, wn), 0);
        free(whole);
    }
    CHECK_EQ(check_clean(v, NULL), EV_OK);
    CHECK(t_reads_back(root, v, r.id, data, n));
    free(data);
}

/* Replaces one blob value (?1 = id, ?2 = the value). */
static int
db_put(const char *vdir, const char *update, int64_t id, const uint8_t *p,
       size_t n)
{
    sqlite3 *db = t_db_open(vdir);
    sqlite3_stmt *st = NULL;
    int ok = 0;

    if (db == NULL) {
        return -1;
    }
    if (sqlite3_prepare_v2(db, update, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_blob(st, 2, p, (int)n, SQLITE_TRANSIENT);
        ok = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok ? 0 : -1;
}

static const char sel_data[] =
    "SELECT data FROM blobs WHERE id = (SELECT blob FROM records WHERE "
    "id = ?1)";
static const char upd_data[] =
    "UPDATE blobs SET data = ?2 WHERE id = (SELECT blob FROM records "
    "WHERE id = ?1)";

/* A small blob in vault.pack: where it starts (-1 when it is not there)
 * and its bytes. */
static int64_t
pack_off(const char *vdir, int64_t id)
{
    return t_db_int(vdir,
                    "SELECT CASE typeof(data) WHEN 'integer' THEN data "
                    "ELSE -1 END FROM blobs WHERE id = (SELECT blob FROM "
                    "records WHERE id = ?1)",
                    id);
}

static uint8_t *
pack_get(const char *vdir, int64_t id, size_t *n)
{
    char path[PATH_MAX];
    size_t size = 0;
    int64_t off = pack_off(vdir, id);
    int64_t len = t_db_int(vdir,
                           "SELECT padded_size FROM blobs WHERE id = (SELECT "
                           "blob FROM records WHERE id = ?1)",
                           id);
    uint8_t *all, *p = NULL;

    *n = 0;
    t_path(path, sizeof path, vdir, "vault.pack");
    all = t_read_file(path, &size);
    if (all != NULL && off >= 0 && len > 0 && (uint64_t)(off + len) <= size &&
        (p = malloc((size_t)len)) != NULL) {
        memcpy(p, all + off, (size_t)len);
        *n = (size_t)len;
    }
    free(all);
    return p;
}

static int
unlink_pack(const char *vdir)
{
    char path[PATH_MAX];

    t_path(path, sizeof path, vdir, "vault.pack");
    return unlink(path);
}

/* Writes n bytes at the blob's offset in vault.pack. */
static int
pack_put(const char *vdir, int64_t id, const uint8_t *p, size_t n)
{
    char path[PATH_MAX];
    int64_t off = pack_off(vdir, id);
    int fd, ok;

    t_path(path, sizeof path, vdir, "vault.pack");
    fd = open(path, O_WRONLY);
    if (fd < 0 || off < 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    ok = pwrite(fd, p, n, (off_t)off) == (ssize_t)n;
    close(fd);
    return ok ? 0 : -1;
}
static const char sel_key[] =
    "SELECT key FROM blobs WHERE id = (SELECT blob FROM records WHERE "
    "id = ?1)";
static const char upd_key[] =
    "UPDATE blobs SET key = ?2 WHERE id = (SELECT blob FROM records "
    "WHERE id = ?1)";
static const char sel_meta[] = "SELECT meta FROM records WHERE id = ?1";
static const char upd_meta[] = "UPDATE records SET meta = ?2 WHERE id = ?1";

/* Runs sql on the closed vault, reopens it and expects check (catalog
 * level: no data needed unless need_data) to name record `id`; then runs
 * undo and expects a clean check. */
static void
catalog_damage(struct tamper_env *e, ev_vault **vp, const char *what,
               const char *sql, const char *undo, int64_t id, int need_data)
{
    int names = 0, rc;

    ev_vault_free(*vp);
    CHECK_EQ(t_db_exec(e->vdir, sql), 0);
    *vp = e->v = t_vault_reopen(e->vdir);
    rc = check_names(*vp, need_data ? EV_CHECK_READ_DATA : 0, id, &names);
    if (rc != EV_ECORRUPT || !names) {
        fprintf(stderr, "tamper '%s': check gave %d, names record: %d\n",
                what, rc, names);
    }
    CHECK_EQ(rc, EV_ECORRUPT);
    CHECK(names);
    ev_vault_free(*vp);
    CHECK_EQ(t_db_exec(e->vdir, undo), 0);
    *vp = e->v = t_vault_reopen(e->vdir);
    CHECK_EQ(check_clean(*vp, NULL), EV_OK);
}

static void
test_tamper_catalog(const char *vdir, ev_vault **vp)
{
    char in[PATH_MAX], sql[512], undo[512];
    size_t n = 1000;
    uint8_t data[1000], data2[999];
    struct t_rec r, r2;
    struct tamper_env e;
    ev_add_opts o;
    static const char *const tags[] = {"tag-one"};
    uint64_t stored = 16 + n + 16 + ev_blob_index_bytes(1);

    memset(&o, 0, sizeof o);
    o.case_name = "Case-T";
    o.source = "Src-T";
    o.tags = tags;
    o.ntags = 1;
    t_path(in, sizeof in, root, "tamper-small.bin");
    t_fill_random(data, n, 555);
    CHECK_EQ(t_write_file(in, data, n), 0);
    CHECK_EQ(add_one(*vp, in, &o, &r), EV_OK);
    t_path(in, sizeof in, root, "tamper-small-2.bin");
    t_fill_random(data2, sizeof data2, 556);
    CHECK_EQ(t_write_file(in, data2, sizeof data2), 0);
    CHECK_EQ(add_one(*vp, in, NULL, &r2), EV_OK);
    CHECK_EQ(check_clean(*vp, NULL), EV_OK);
    e.vdir = vdir;
    e.v = *vp;
    e.id = r.id;

    /* the blob in vault.pack: header, chunk, index, padding; then cut
     * short, and the file missing */
    {
        static const struct {
            const char *what;
            long off;
        } where[] = {
            {"inline header magic", 0},
            {"inline header version", 6},
            {"inline chunk", 16 + 500},
            {"inline chunk tag", 16 + 1000 + 3},
            {"inline index", 16 + 1016 + 7},
            {"inline padding", -1},
        };
        size_t len = 0, pack_len = 0;
        char pack[PATH_MAX], moved[PATH_MAX];
        uint8_t *orig = pack_get(vdir, r.id, &len), *whole;
        int64_t off = pack_off(vdir, r.id);
        t_path(pack, sizeof pack, vdir, "vault.pack");
        t_path(moved, sizeof moved, root, "vault.pack.moved");
        whole = t_read_file(pack, &pack_len);
        CHECK(orig != NULL && whole != NULL);
        CHECK_EQ(len, ev_padme(stored));
        CHECK(len > stored);
        for (size_t i = 0; orig != NULL && i < sizeof where / sizeof *where;
             i++) {
            size_t at = where[i].off < 0 ? len - 1 : (size_t)where[i].off;
            ev_vault_free(*vp);
            orig[at] ^= 0x02;
            CHECK_EQ(pack_put(vdir, r.id, orig, len), 0);
            orig[at] ^= 0x02;
            *vp = e.v = t_vault_reopen(vdir);
            expect_damage(&e, where[i].what, 1);
            ev_vault_free(*vp);
            CHECK_EQ(pack_put(vdir, r.id, orig, len), 0);
            *vp = e.v = t_vault_reopen(vdir);
            CHECK_EQ(check_clean(*vp, NULL), EV_OK);
        }
        if (orig != NULL && whole != NULL && off >= 0) {
            /* cut one byte into the blob: check names it without reading
             * data */
            ev_vault_free(*vp);
            CHECK_EQ(truncate(pack, (off_t)(off + (int64_t)len - 1)), 0);
            *vp = e.v = t_vault_reopen(vdir);
            expect_damage(&e, "blob in vault.pack cut by one byte", 0);
            ev_vault_free(*vp);
            CHECK_EQ(t_write_file(pack, whole, pack_len), 0);
            CHECK_EQ(rename(pack, moved), 0);
            *vp = e.v = t_vault_reopen(vdir);
            expect_damage(&e, "vault.pack missing", 0);
            ev_vault_free(*vp);
            CHECK_EQ(rename(moved, pack), 0);
            *vp = e.v = t_vault_reopen(vdir);
        }
        free(orig);
        free(whole);
        CHECK_EQ(check_clean(*vp, NULL), EV_OK);
    }
    /* records.meta (nonce, body, tag) and blobs.key (nonce, body, tag) */
    {
        static const struct {
            const char *what;
            const char *sel, *upd;
            long off;
            int is_meta;
        } where[] = {
            {"records.meta nonce", sel_meta, upd_meta, 0, 1},
            {"records.meta body", sel_meta, upd_meta, 100, 1},
            {"records.meta tag", sel_meta, upd_meta, -1, 1},
            {"blobs.key nonce", sel_key, upd_key, 3, 0},
            {"blobs.key body", sel_key, upd_key, 30, 0},
            {"blobs.key tag", sel_key, upd_key, -2, 0},
        };
        for (size_t i = 0; i < sizeof where / sizeof *where; i++) {
            ev_vault_free(*vp);
            CHECK(t_db_flip(vdir, where[i].sel, where[i].upd, r.id,
                          where[i].off, 0x08) > 0);
            *vp = e.v = t_vault_reopen(vdir);
            expect_damage(&e, where[i].what, 0);
            if (where[i].is_meta) {
                ev_record full;
                CHECK_EQ(ev_record_get(*vp, r.id, &full), EV_ECORRUPT);
            }
            ev_vault_free(*vp);
            CHECK(t_db_flip(vdir, where[i].sel, where[i].upd, r.id,
                          where[i].off, 0x08) > 0);
            *vp = e.v = t_vault_reopen(vdir);
            CHECK_EQ(check_clean(*vp, NULL), EV_OK);
        }
    }
    /* blind.value of each field (case, source, tag, SHA-256) */
    for (int field = 1; field <= 4; field++) {
        char sel[128], upd[128];
        int names = 0;
        snprintf(sel, sizeof sel,
                 "SELECT value FROM blind WHERE record = ?1 AND field = %d",
                 field);
        snprintf(upd, sizeof upd,
                 "UPDATE blind SET value = ?2 WHERE record = ?1 AND "
                 "field = %d",
                 field);
        ev_vault_free(*vp);
        CHECK_EQ(t_db_flip(vdir, sel, upd, r.id, 5, 0x10), 16);
        *vp = e.v = t_vault_reopen(vdir);
        CHECK_EQ(check_names(*vp, 0, r.id, &names), EV_ECORRUPT);
        CHECK(names);
        ev_vault_free(*vp);
        CHECK_EQ(t_db_flip(vdir, sel, upd, r.id, 5, 0x10), 16);
        *vp = e.v = t_vault_reopen(vdir);
        CHECK_EQ(check_clean(*vp, NULL), EV_OK);
    }
    /* a blind row moved to another record, and one removed */
    snprintf(sql, sizeof sql,
             "UPDATE blind SET record = %lld WHERE record = %lld AND "
             "field = 1",
             (long long)r2.id, (long long)r.id);
    snprintf(undo, sizeof undo,
             "UPDATE blind SET record = %lld WHERE record = %lld AND "
             "field = 1",
             (long long)r.id, (long long)r2.id);
    catalog_damage(&e, vp, "blind row moved", sql, undo, r.id, 0);
    catalog_damage(&e, vp, "blind row moved (other side)", sql, undo, r2.id,
                   0);
    snprintf(sql, sizeof sql,
             "CREATE TABLE saved AS SELECT * FROM blind WHERE record = %lld "
             "AND field = 3; DELETE FROM blind WHERE record = %lld AND "
             "field = 3",
             (long long)r.id, (long long)r.id);
    catalog_damage(&e, vp, "blind row removed", sql,
                   "INSERT INTO blind SELECT * FROM saved; DROP TABLE saved",
                   r.id, 0);
    /* one record's metadata copied onto another row */
    snprintf(sql, sizeof sql,
             "CREATE TABLE saved AS SELECT * FROM records;"
             "UPDATE records SET meta = (SELECT meta FROM records WHERE "
             "id = %lld) WHERE id = %lld",
             (long long)r.id, (long long)r2.id);
    catalog_damage(&e, vp, "metadata moved", sql,
                   "DELETE FROM records; INSERT INTO records SELECT * FROM "
                   "saved; DROP TABLE saved",
                   r2.id, 0);
    /* one record pointed at another's blob (the sizes differ) */
    snprintf(sql, sizeof sql,
             "CREATE TABLE saved AS SELECT * FROM records;"
             "UPDATE records SET blob = (SELECT blob FROM records WHERE "
             "id = %lld) WHERE id = %lld",
             (long long)r2.id, (long long)r.id);
    catalog_damage(&e, vp, "blob reference moved", sql,
                   "DELETE FROM records; INSERT INTO records SELECT * FROM "
                   "saved; DROP TABLE saved",
                   r.id, 0);
    /* its blob row removed */
    snprintf(sql, sizeof sql,
             "CREATE TABLE saved AS SELECT * FROM blobs; DELETE FROM blobs "
             "WHERE id = (SELECT blob FROM records WHERE id = %lld)",
             (long long)r.id);
    catalog_damage(&e, vp, "blob row removed", sql,
                   "INSERT INTO blobs SELECT * FROM saved WHERE n NOT IN "
                   "(SELECT n FROM blobs); DROP TABLE saved",
                   r.id, 0);
    CHECK(t_reads_back(root, *vp, r.id, data, n));
    CHECK(t_reads_back(root, *vp, r2.id, data2, sizeof data2));
}

static void
test_records(void)
{
    char dir[PATH_MAX];
    ev_vault *v;
    uint64_t nrec = 0;

    t_path(dir, sizeof dir, root, "v-records");
    v = t_vault_create(dir, NULL);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    test_sizes(dir, v);
    test_add_fd(v);
    test_dedup(dir, v);
    test_hash_only(v);
    /* healthy: check passes, with and without data, counting every record */
    {
        struct idlist l;
        size_t all;
        memset(&l, 0, sizeof l);
        CHECK_EQ(ev_record_list(v, NULL, collect_ids, &l), EV_OK);
        all = l.n;
        CHECK_EQ(check_clean(v, &nrec), EV_OK);
        CHECK(nrec >= all && all > 20);
        CHECK_EQ(ev_check(v, 0, NULL, NULL, NULL), EV_OK);
    }
    /* a fresh handle sees the same */
    ev_vault_free(v);
    v = t_vault_reopen(dir);
    CHECK(v != NULL);
    CHECK_EQ(check_clean(v, NULL), EV_OK);
    test_tamper_file_blob(dir, v);
    test_tamper_catalog(dir, &v);
    ev_vault_free(v);
}

/* A vault of format 1 keeps small blobs' bytes in their rows: it still
 * reads and checks, and the first add that appends to vault.pack makes it
 * format 2 (with the pack_free table), so that an older evault, which
 * knows no vault.pack, refuses it instead of calling its blobs missing. */
static void
test_format1_inline(void)
{
    char dir[PATH_MAX], in[PATH_MAX];
    uint8_t a[3000], b[2000], *bytes;
    size_t n = 0;
    struct t_rec ra, rb;
    ev_vault *v;

    t_path(dir, sizeof dir, root, "v-format1");
    v = t_vault_create(dir, NULL);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    t_path(in, sizeof in, root, "format1-a.bin");
    t_fill_random(a, sizeof a, 901);
    CHECK_EQ(t_write_file(in, a, sizeof a), 0);
    CHECK_EQ(add_one(v, in, NULL, &ra), EV_OK);
    ev_vault_free(v);
    /* what evault 1 wrote: the bytes in the row, no pack_free, format 1 */
    bytes = pack_get(dir, ra.id, &n);
    CHECK(bytes != NULL && n > sizeof a);
    CHECK_EQ(db_put(dir, upd_data, ra.id, bytes, n), 0);
    free(bytes);
    CHECK_EQ(t_db_exec(dir, "DROP TABLE pack_free;"
                            "DELETE FROM meta WHERE key = 'pack_end';"
                            "UPDATE meta SET value = '1' WHERE key = 'format'"),
             0);
    CHECK_EQ(unlink_pack(dir), 0);
    CHECK_EQ(pack_off(dir, ra.id), -1);
    v = t_vault_reopen(dir);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    CHECK_EQ(check_clean(v, NULL), EV_OK);
    CHECK(t_reads_back(root, v, ra.id, a, sizeof a));
    /* a new small file goes to vault.pack, and the vault is format 2 */
    t_path(in, sizeof in, root, "format1-b.bin");
    t_fill_random(b, sizeof b, 902);
    CHECK_EQ(t_write_file(in, b, sizeof b), 0);
    CHECK_EQ(add_one(v, in, NULL, &rb), EV_OK);
    CHECK(pack_off(dir, rb.id) >= 0);
    CHECK_EQ(t_db_int(dir,
                      "SELECT CAST(value AS TEXT) = '2' FROM meta WHERE "
                      "key = 'format'",
                      0),
             1);
    CHECK_EQ(t_db_int(dir,
                      "SELECT count(*) FROM sqlite_schema WHERE name = "
                      "'pack_free'",
                      0),
             1);
    CHECK(t_reads_back(root, v, ra.id, a, sizeof a));
    CHECK(t_reads_back(root, v, rb.id, b, sizeof b));
    CHECK_EQ(check_clean(v, NULL), EV_OK);
    /* the row's bytes are still checked */
    ev_vault_free(v);
    CHECK(t_db_flip(dir, sel_data, upd_data, ra.id, 40, 0x10) > 0);
    v = t_vault_reopen(dir);
    CHECK(v != NULL);
    CHECK_EQ(read_status(v, ra.id), EV_ECORRUPT);
    CHECK(t_reads_back(root, v, rb.id, b, sizeof b));
    ev_vault_free(v);
}

static long
pack_size(const char *vdir)
{
    char path[PATH_MAX];
    struct stat st;

    t_path(path, sizeof path, vdir, "vault.pack");
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Appends n bytes to path, as a killed writer would leave them. */
static int
append_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "ab");
    int ok = f != NULL && fwrite(p, 1, n, f) == n;

    if (f != NULL && fclose(f) != 0) {
        ok = 0;
    }
    return ok ? 0 : -1;
}

/* What a killed add appended to vault.pack past its committed end is no
 * damage, and goes: the next add writes over it from the end, the sweep
 * cuts it off. */
static void
test_pack_tail(void)
{
    char dir[PATH_MAX], in[PATH_MAX], pack[PATH_MAX];
    uint8_t a[4000], b[1500], junk[5000];
    struct t_rec ra, rb;
    uint64_t nswept = 0;
    long end;
    ev_vault *v;

    t_path(dir, sizeof dir, root, "v-tail");
    t_path(pack, sizeof pack, dir, "vault.pack");
    v = t_vault_create(dir, NULL);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    CHECK_EQ(pack_size(dir), -1); /* no small blob yet: no file */
    t_path(in, sizeof in, root, "tail-a.bin");
    t_fill_random(a, sizeof a, 911);
    CHECK_EQ(t_write_file(in, a, sizeof a), 0);
    CHECK_EQ(add_one(v, in, NULL, &ra), EV_OK);
    end = pack_size(dir);
    CHECK(end > (long)sizeof a);
    t_fill_random(junk, sizeof junk, 912);
    CHECK_EQ(append_file(pack, junk, sizeof junk), 0);
    CHECK_EQ(check_clean(v, NULL), EV_OK);
    /* the next add starts at the committed end */
    t_path(in, sizeof in, root, "tail-b.bin");
    t_fill_random(b, sizeof b, 913);
    CHECK_EQ(t_write_file(in, b, sizeof b), 0);
    CHECK_EQ(add_one(v, in, NULL, &rb), EV_OK);
    CHECK_EQ(pack_off(dir, rb.id), end);
    CHECK(pack_size(dir) < end + (long)sizeof junk);
    CHECK(t_reads_back(root, v, ra.id, a, sizeof a));
    CHECK(t_reads_back(root, v, rb.id, b, sizeof b));
    end = pack_size(dir);
    /* the sweep cuts a tail */
    CHECK_EQ(append_file(pack, junk, 100), 0);
    CHECK_EQ(pack_size(dir), end + 100);
    CHECK_EQ(ev_vault_sweep(v, &nswept), EV_OK);
    CHECK_EQ(pack_size(dir), end);
    CHECK_EQ(check_clean(v, NULL), EV_OK);
    CHECK(t_reads_back(root, v, rb.id, b, sizeof b));
    ev_vault_free(v);
}

static void
on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "test_vault: reading a FIFO as vault.pack "
                              "hung\n";
    if (write(2, msg, sizeof msg - 1) < 0) {
        _exit(3);
    }
    _exit(3);
}

/* The catalog's numbers about vault.pack are outside input: a row's
 * length or offset, a pack_free row or pack_end changed by someone with
 * the folder must never make evault wipe, cut or overwrite the bytes of
 * another record; and a FIFO in place of the file must not hang it. */
static void
test_pack_untrusted(void)
{
    char dir[PATH_MAX], in[PATH_MAX], pack[PATH_MAX], moved[PATH_MAX];
    char sql[512];
    uint8_t data[4][2500];
    struct t_rec r[4];
    ev_destroy_result d;
    uint64_t n;
    ev_vault *v;

    t_path(dir, sizeof dir, root, "v-untrusted");
    t_path(pack, sizeof pack, dir, "vault.pack");
    t_path(moved, sizeof moved, root, "untrusted.pack");
    v = t_vault_create(dir, NULL);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "untrusted-%d.bin", i);
        t_path(in, sizeof in, root, name);
        t_fill_random(data[i], sizeof data[i], 920 + (uint64_t)i);
        CHECK_EQ(t_write_file(in, data[i], sizeof data[i]), 0);
        CHECK_EQ(add_one(v, in, NULL, &r[i]), EV_OK);
    }
    ev_vault_free(v);

    /* record 0's length made huge, then destroyed: nothing else wiped */
    snprintf(sql, sizeof sql,
             "UPDATE blobs SET padded_size = 4611686018427387904 WHERE id ="
             " (SELECT blob FROM records WHERE id = %lld)",
             (long long)r[0].id);
    CHECK_EQ(t_db_exec(dir, sql), 0);
    v = t_vault_reopen(dir);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    CHECK_EQ(ev_record_destroy(v, r[0].id, "test", &d), EV_OK);
    CHECK(t_reads_back(root, v, r[1].id, data[1], sizeof data[1]));
    CHECK(t_reads_back(root, v, r[2].id, data[2], sizeof data[2]));
    ev_vault_free(v);

    /* record 1's offset pointed at record 2's blob, then destroyed */
    snprintf(sql, sizeof sql,
             "UPDATE blobs SET data = (SELECT data FROM blobs WHERE id ="
             " (SELECT blob FROM records WHERE id = %lld)) WHERE id ="
             " (SELECT blob FROM records WHERE id = %lld)",
             (long long)r[2].id, (long long)r[1].id);
    CHECK_EQ(t_db_exec(dir, sql), 0);
    v = t_vault_reopen(dir);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    CHECK_EQ(ev_record_destroy(v, r[1].id, "test", &d), EV_OK);
    CHECK(t_reads_back(root, v, r[2].id, data[2], sizeof data[2]));
    ev_vault_free(v);

    /* a pack_free row over record 2's bytes: the sweep leaves them */
    snprintf(sql, sizeof sql,
             "INSERT INTO pack_free(off, len) SELECT data, padded_size FROM"
             " blobs WHERE id = (SELECT blob FROM records WHERE id = %lld)",
             (long long)r[2].id);
    CHECK_EQ(t_db_exec(dir, sql), 0);
    v = t_vault_reopen(dir);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    CHECK_EQ(ev_vault_sweep(v, &n), EV_OK);
    CHECK(t_reads_back(root, v, r[2].id, data[2], sizeof data[2]));
    ev_vault_free(v);

    /* pack_end gone (it reads as 0): the next add keeps record 2 */
    CHECK_EQ(t_db_exec(dir, "DELETE FROM meta WHERE key = 'pack_end'"), 0);
    v = t_vault_reopen(dir);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    t_path(in, sizeof in, root, "untrusted-3.bin");
    t_fill_random(data[3], sizeof data[3], 930);
    CHECK_EQ(t_write_file(in, data[3], sizeof data[3]), 0);
    CHECK_EQ(add_one(v, in, NULL, &r[3]), EV_OK);
    CHECK(t_reads_back(root, v, r[2].id, data[2], sizeof data[2]));
    CHECK(t_reads_back(root, v, r[3].id, data[3], sizeof data[3]));
    CHECK_EQ(check_clean(v, NULL), EV_OK);
    ev_vault_free(v);

    /* a FIFO where vault.pack was: damage, at once */
    CHECK_EQ(rename(pack, moved), 0);
    CHECK_EQ(mkfifo(pack, 0600), 0);
    signal(SIGALRM, on_alarm);
    alarm(30);
    v = t_vault_reopen(dir);
    CHECK(v != NULL);
    if (v != NULL) {
        CHECK_EQ(read_status(v, r[2].id), EV_ECORRUPT);
        CHECK(check_clean(v, NULL) != EV_OK);
        ev_vault_free(v);
    }
    alarm(0);
    CHECK_EQ(unlink(pack), 0);
    CHECK_EQ(rename(moved, pack), 0);
    v = t_vault_reopen(dir);
    CHECK(v != NULL);
    if (v != NULL) {
        CHECK(t_reads_back(root, v, r[2].id, data[2], sizeof data[2]));
        ev_vault_free(v);
    }
}

/* An empty directory adds nothing and is no error; nor is an empty
 * directory inside another.  (Near the end: under UBSan a failure here
 * stops the program.) */
static void
test_add_empty_dir(void)
{
    char dir[PATH_MAX], in[PATH_MAX], sub[PATH_MAX];
    ev_vault *v;
    struct t_recs rs;
    const char *paths[1];

    t_path(dir, sizeof dir, root, "v-empty-dir");
    t_path(in, sizeof in, root, "in-empty");
    t_path(sub, sizeof sub, in, "nothing-here");
    CHECK_EQ(mkdir(in, 0700), 0);
    v = t_vault_create(dir, NULL);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    paths[0] = in;
    memset(&rs, 0, sizeof rs);
    CHECK_EQ(ev_record_add_paths(v, paths, 1, NULL, t_collect, &rs), EV_OK);
    CHECK_EQ(rs.n, 0);
    CHECK_EQ(mkdir(sub, 0700), 0);
    CHECK_EQ(ev_record_add_paths(v, paths, 1, NULL, t_collect, &rs), EV_OK);
    CHECK_EQ(rs.n, 0);
    ev_vault_free(v);
}

/* Argon2id cannot get its memory: said so, not "wrong passphrase".  The
 * address space is limited in a child (not under ASan, whose shadow
 * memory needs address space of its own). */
static void
test_unlock_out_of_memory(void)
{
#ifndef __SANITIZE_ADDRESS__
    static const ev_create_opts big = {1, 64 * 1024, NULL, NULL};
    char dir[PATH_MAX], rec[EV_RECOVERY_KEY_CHARS + 1];
    ev_vault *v = NULL;
    int status = -1;
    pid_t pid;

    t_path(dir, sizeof dir, root, "v-oom");
    CHECK_EQ(ev_vault_new(&v), EV_OK);
    CHECK_EQ(ev_vault_create(v, dir, &big, T_PASS, strlen(T_PASS), rec),
             EV_OK);
    ev_vault_free(v);
    pid = fork();
    if (pid == 0) {
        struct rlimit rl;
        unsigned long pages = 0;
        FILE *f = fopen("/proc/self/statm", "r");
        int rc;
        v = NULL;
        if (f == NULL || fscanf(f, "%lu", &pages) != 1 ||
            ev_vault_new(&v) != EV_OK || ev_vault_open(v, dir) != EV_OK) {
            _exit(10);
        }
        fclose(f);
        /* room for 16 MiB more: less than Argon2id's 64 MiB */
        rl.rlim_cur = rl.rlim_max =
            (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + 16 * 1024 * 1024;
        if (setrlimit(RLIMIT_AS, &rl) != 0) {
            _exit(11);
        }
        rc = ev_vault_unlock_passphrase(v, T_PASS, strlen(T_PASS));
        if (rc != EV_ENOMEM) {
            _exit(12);
        }
        _exit(strstr(ev_vault_errmsg(v), "Argon2id needs 64 MiB") != NULL
                  ? 0
                  : 13);
    }
    CHECK(pid > 0);
    if (pid > 0) {
        CHECK_EQ(waitpid(pid, &status, 0), pid);
        CHECK(WIFEXITED(status));
        CHECK_EQ(WEXITSTATUS(status), 0);
    }
    /* with the memory there, the same passphrase opens it */
    v = t_vault_reopen(dir);
    CHECK(v != NULL);
    ev_vault_free(v);
#endif
}

/* A new vault, with no record yet, checks clean.  (Last: under UBSan a
 * failure here stops the program.) */
static void
test_check_empty(void)
{
    char dir[PATH_MAX];
    ev_vault *v;
    ev_check_counts k = {99, 99};

    t_path(dir, sizeof dir, root, "v-empty");
    v = t_vault_create(dir, NULL);
    CHECK(v != NULL);
    if (v != NULL) {
        CHECK_EQ(ev_check(v, EV_CHECK_READ_DATA, NULL, NULL, &k), EV_OK);
        CHECK_EQ(k.records, 0);
        CHECK_EQ(k.destroyed, 0);
        ev_vault_free(v);
    }
}

int
main(void)
{
    if (ev_init() != EV_OK) {
        return 1;
    }
    root = t_mkdtemp();
    test_create_unlock();
    test_recovery();
    test_recovery_typos_many_keys();
    test_not_vault();
    test_format_version();
    test_filters();
    test_records();
    test_format1_inline();
    test_pack_tail();
    test_pack_untrusted();
    test_add_empty_dir();
    test_unlock_out_of_memory();
    test_check_empty();
    t_rmtree(root);
    EV_TEST_END();
}
