/*
 * catalog.c - the SQLite catalog (schema in catalog.h, docs/FORMAT.md).
 *
 * Owns: vault.db, its schema and every SQL statement.
 * Never: sees a key or a plaintext field: callers pass bytes already
 * encrypted, and blind index values already keyed.
 */
#include "catalog.h"

#include "evault.h"
#include "os.h"
#include "pack.h"
#include "util.h"

#include <errno.h>
#include <limits.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STMT_CACHE 24

/* Prepared statements are kept for reuse: an add of 10,000 small files
 * runs each insert 10,000 times. */
struct stmt_slot {
    char *sql;
    sqlite3_stmt *st;
    int in_use;
};

struct ev_catalog {
    sqlite3 *db;
    int busy_ms;
    struct timespec busy_since; /* when the current wait began */
    int direct; /* this transaction uses a rollback journal */
    char errmsg[512];
    struct stmt_slot cache[STMT_CACHE];
    int last_status; /* of the last failure */
    int txn;         /* inside a write transaction we began */
    int lost;        /* ... which SQLite has rolled back on an error */
    int unsynced;    /* the last commit may not survive a crash */
    ev_pack *pack;   /* vault.pack, beside vault.db */
    int pack_txn;    /* this transaction has appended to it */
    int pack_session; /* ev_catalog_pack_put began appending, across
                         transactions, until ev_catalog_pack_close */
    uint64_t pack_base; /* the committed end where appending began */
    uint64_t pack_named_end; /* the end of the furthest blob a row names */
    int pack_unnamed; /* this process may have appended bytes no committed
                         row names: ev_catalog_pack_close cuts them */
};

/* The longest blob kept in vault.pack: one chunk, its index and padding
 * (a larger length in a row is damage, not a reason to allocate). */
#define PACK_BLOB_MAX ((uint64_t)2 << 20)

/* Ranges of vault.pack whose blobs were destroyed and that are still to
 * be overwritten with zeros (format 2; made by the first commit that
 * appends to vault.pack in a vault of format 1). */
#define PACK_FREE_SCHEMA                                                     \
    "CREATE TABLE IF NOT EXISTS pack_free("                                  \
    " off INTEGER PRIMARY KEY, len INTEGER NOT NULL);"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta("
    " key TEXT PRIMARY KEY, value BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS keyslots("
    " id INTEGER PRIMARY KEY, kind INTEGER NOT NULL,"
    " params BLOB NOT NULL, wrapped BLOB NOT NULL, info BLOB);"
    "CREATE TABLE IF NOT EXISTS blobs("
    " n INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, key BLOB NOT NULL,"
    " padded_size INTEGER NOT NULL, data BLOB);"
    "CREATE TABLE IF NOT EXISTS records("
    " id INTEGER PRIMARY KEY, state INTEGER NOT NULL, blob BLOB,"
    " padded_size INTEGER NOT NULL, meta BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS blind("
    " field INTEGER NOT NULL, value BLOB NOT NULL, record INTEGER NOT NULL,"
    " PRIMARY KEY(field, value, record)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS custody("
    " seq INTEGER PRIMARY KEY, entry BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS checkpoints("
    " id INTEGER PRIMARY KEY, size INTEGER NOT NULL, note BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS amendments("
    " id INTEGER PRIMARY KEY, record INTEGER NOT NULL, meta BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS timestamps("
    " checkpoint INTEGER PRIMARY KEY, tsq BLOB, tsr BLOB);"
    "CREATE TABLE IF NOT EXISTS contacts("
    " id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
    PACK_FREE_SCHEMA;

void
ev_bytes_free(ev_bytes *b)
{
    if (b != NULL) {
        free(b->p);
        b->p = NULL;
        b->n = 0;
    }
}

static int
status_of(int rc)
{
    if (rc == SQLITE_IOERR_NOMEM) {
        return EV_ENOMEM; /* an allocation failed during I/O */
    }
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return EV_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return EV_EBUSY;
    case SQLITE_FULL:
        return EV_ENOSPC;
    case SQLITE_NOMEM:
        return EV_ENOMEM;
    case SQLITE_CORRUPT:
        return EV_ECORRUPT;
    case SQLITE_NOTADB:
        return EV_ENOTVAULT;
    case SQLITE_CANTOPEN:
        return EV_ENOENT;
    default:
        return EV_EIO;
    }
}

static int
sql_status(ev_catalog *c, int rc)
{
    int status = status_of(rc);

    snprintf(c->errmsg, sizeof c->errmsg, "%s",
             c->db != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    if (status != EV_OK) {
        c->last_status = status;
    }
    return status;
}

/* SQLite rolls a whole transaction back when a statement in it fails for
 * lack of memory, or on an I/O error, even a SELECT.  Statements run after
 * that would each commit on their own: half a batch of records, a custody
 * entry without its record.  So once our transaction is gone, nothing runs
 * until the caller rolls back; the commit fails too.  EV_OK when the
 * transaction (if any) is whole. */
static int
txn_gone(ev_catalog *c)
{
    if (c->txn && !c->lost && sqlite3_get_autocommit(c->db)) {
        c->lost = 1;
        if (c->last_status == EV_OK) {
            c->last_status = EV_EIO;
            snprintf(c->errmsg, sizeof c->errmsg,
                     "the transaction was rolled back");
        }
    }
    return c->lost ? c->last_status : EV_OK;
}

static int
exec(ev_catalog *c, const char *sql)
{
    int rc = txn_gone(c);

    if (rc != EV_OK) {
        return rc;
    }
    rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? EV_OK : sql_status(c, rc);
}

/* SQLite's own busy timeout sleeps ever longer between tries (up to
 * 100 ms), so a process that waits for the write lock keeps missing the
 * short moments between an add's batches and can starve.  Trying every
 * millisecond catches them (record.c leaves a few between batches). */
static int
on_busy(void *arg, int tries)
{
    ev_catalog *c = arg;
    struct timespec now;
    double waited;

    clock_gettime(CLOCK_MONOTONIC, &now);
    if (tries == 0) {
        c->busy_since = now;
    }
    waited = (double)(now.tv_sec - c->busy_since.tv_sec) * 1e3 +
             (double)(now.tv_nsec - c->busy_since.tv_nsec) / 1e6;
    if (waited >= (double)c->busy_ms) {
        return 0;
    }
    sqlite3_sleep(1);
    return 1;
}

int
ev_catalog_status(const ev_catalog *c)
{
    return c != NULL && c->last_status != EV_OK ? c->last_status : EV_EIO;
}

const char *
ev_catalog_errmsg(const ev_catalog *c)
{
    return c != NULL ? c->errmsg : "out of memory";
}

int
ev_catalog_open(ev_catalog **out, const char *path, int create, int busy_ms)
{
    ev_catalog *c = calloc(1, sizeof *c);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    int rc;

    *out = c;
    if (c == NULL) {
        return EV_ENOMEM;
    }
    {
        /* DIR/vault.db -> DIR/vault.pack */
        char pack[PATH_MAX];
        size_t n = strlen(path);
        if (n > 3 && strcmp(path + n - 3, ".db") == 0) {
            n -= 3;
        }
        if (n + sizeof ".pack" > sizeof pack) {
            snprintf(c->errmsg, sizeof c->errmsg, "path too long");
            return EV_EINVAL;
        }
        memcpy(pack, path, n);
        memcpy(pack + n, ".pack", sizeof ".pack");
        if ((c->pack = ev_pack_new(pack)) == NULL) {
            return EV_ENOMEM;
        }
    }
    if (create) {
        flags |= SQLITE_OPEN_CREATE;
    }
    rc = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        return sql_status(c, rc);
    }
    sqlite3_extended_result_codes(c->db, 1);
    c->busy_ms = busy_ms;
    sqlite3_busy_handler(c->db, on_busy, c);
    /* Refuse a file that is not a vault before changing anything: an
     * empty file or another program's database must stay as it is. */
    if (!create) {
        rc = exec(c, "SELECT 1 FROM meta WHERE key = 'magic' AND "
                     "value = CAST('evault' AS BLOB);");
        if (rc == EV_OK) {
            sqlite3_stmt *st = NULL;
            int found = sqlite3_prepare_v2(
                            c->db,
                            "SELECT count(*) FROM meta WHERE key = 'magic' "
                            "AND value = CAST('evault' AS BLOB)",
                            -1, &st, NULL) == SQLITE_OK &&
                        sqlite3_step(st) == SQLITE_ROW &&
                        sqlite3_column_int(st, 0) == 1;
            sqlite3_finalize(st);
            if (!found) {
                return EV_ENOTVAULT;
            }
        } else if (rc != EV_EBUSY) {
            return EV_ENOTVAULT;
        } else {
            return rc;
        }
    }
    /* 2 KiB pages: chosen when small blobs were rows here (each wasted
     * half a page); with them in vault.pack, 4 KiB pages measured no
     * faster on 10,000 small files.  Takes effect only at creation. */
    if (create && (rc = exec(c, "PRAGMA page_size=2048;")) != EV_OK) {
        return rc;
    }
    rc = exec(c, "PRAGMA journal_mode=WAL;"
                 "PRAGMA synchronous=FULL;"
                 "PRAGMA secure_delete=ON;"
                 "PRAGMA foreign_keys=ON;"
                 "PRAGMA trusted_schema=OFF;"
                 /* 8 MiB: a batch of 1,000 small records fits without
                  * spilling pages to the WAL before the commit (4 %
                  * faster on 10,000 small files); it fills only after
                  * the unlock has freed Argon2id's memory */
                 "PRAGMA cache_size=-8192;");
    if (rc != EV_OK) {
        return rc;
    }
    if (create) {
        rc = exec(c, schema);
    }
    return rc;
}

void
ev_catalog_close(ev_catalog *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < STMT_CACHE; i++) {
        sqlite3_finalize(c->cache[i].st);
        free(c->cache[i].sql);
    }
    sqlite3_close_v2(c->db);
    ev_pack_free(c->pack);
    free(c);
}

int
ev_catalog_begin(ev_catalog *c)
{
    int rc;

    if (c->txn && sqlite3_get_autocommit(c->db)) {
        c->txn = c->lost = 0; /* one that failed and was never ended */
    }
    if (c->pack_txn && sqlite3_get_autocommit(c->db)) {
        /* appends of a transaction that never ended: where the next one
         * starts is read again under the new write lock (a session keeps
         * its appends: blobs put before the unlock are still to come) */
        if (!c->pack_session) {
            ev_pack_abandon(c->pack);
        }
        c->pack_txn = 0;
    }
    rc = exec(c, "BEGIN IMMEDIATE;");
    if (rc == EV_OK) {
        c->txn = 1;
    }
    return rc;
}

/* Sets the journal mode without waiting for other connections; EV_OK
 * only when the catalog is in that mode afterwards. */
static int
journal_mode(ev_catalog *c, const char *mode)
{
    char sql[40];
    sqlite3_stmt *st = NULL;
    int rc, ok = 0;

    snprintf(sql, sizeof sql, "PRAGMA main.journal_mode=%s;", mode);
    sqlite3_busy_handler(c->db, NULL, NULL);
    rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *now = (const char *)sqlite3_column_text(st, 0);
        ok = now != NULL && sqlite3_stricmp(now, mode) == 0;
    }
    sqlite3_finalize(st);
    sqlite3_busy_handler(c->db, on_busy, c);
    return ok ? EV_OK : EV_EBUSY;
}

/* Back to the write-ahead log once a direct transaction has ended. */
static void
end_direct(ev_catalog *c)
{
    if (c->direct && sqlite3_get_autocommit(c->db)) {
        c->direct = 0;
        sqlite3_exec(c->db, "PRAGMA synchronous=FULL;", NULL, NULL, NULL);
        /* if another process holds the catalog now, its own open sets
         * WAL mode again */
        journal_mode(c, "wal");
    }
}

/* In WAL mode a commit lands in vault.db-wal, and vault.db keeps the old
 * pages until a checkpoint copies the new ones over: killed in between,
 * vault.db alone (without the log, which anyone holding the files may
 * drop) still holds what the transaction removed, a key slot after a
 * lockdown.  So this transaction empties the log and runs with a rollback
 * journal instead: pages change in place, their old images only in
 * vault.db-journal, and the commit point is that journal's deletion
 * (synchronous=EXTRA syncs the directory after it).  When another process
 * has the catalog open the mode cannot change: then it is an ordinary
 * transaction, and the caller's checkpoint after it does what it can. */
int
ev_catalog_begin_direct(ev_catalog *c)
{
    int rc;

    if (journal_mode(c, "delete") == EV_OK) {
        c->direct = 1;
        rc = exec(c, "PRAGMA synchronous=EXTRA;");
        if (rc != EV_OK) {
            end_direct(c);
            return rc;
        }
    } else {
        c->direct = 1; /* the mode may have changed all the same */
        end_direct(c);
    }
    rc = exec(c, "BEGIN IMMEDIATE;");
    if (rc != EV_OK) {
        end_direct(c);
    } else {
        c->txn = 1;
    }
    return rc;
}

int
ev_catalog_savepoint(ev_catalog *c)
{
    return exec(c, "SAVEPOINT one;");
}

void
ev_catalog_savepoint_end(ev_catalog *c, int keep)
{
    if (!keep && txn_gone(c) == EV_OK) {
        int rc = sqlite3_exec(c->db, "ROLLBACK TO one;", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            /* what the savepoint did would commit with the rest */
            sql_status(c, rc);
            c->lost = c->txn;
            return;
        }
    }
    /* A failed release leaves the savepoint open inside the transaction,
     * which the commit or rollback ends all the same. */
    sqlite3_exec(c->db, "RELEASE one;", NULL, NULL, NULL);
}

int
ev_catalog_begin_read(ev_catalog *c)
{
    int rc = exec(c, "BEGIN DEFERRED;");

    /* A deferred transaction takes its snapshot at the first read. */
    return rc == EV_OK ? exec(c, "SELECT count(*) FROM meta;") : rc;
}

void
ev_catalog_end_read(ev_catalog *c)
{
    ev_catalog_rollback(c);
}

/* A commit with a rollback journal happens when the journal is deleted;
 * SQLITE_IOERR_DIR_FSYNC says the deletion is done but its directory's
 * sync failed.  Every reader now sees the change (a kill or crash could
 * still bring the journal back and undo it), so it is no failure to
 * report as one: the directory is synced once more, and only if that
 * fails too is the commit marked unsynced. */
static int
committed_unsynced(ev_catalog *c)
{
    const char *db = sqlite3_db_filename(c->db, "main");
    const char *slash = db != NULL ? strrchr(db, '/') : NULL;
    char dir[PATH_MAX];

    c->txn = 0;
    c->unsynced = 0;
    if (slash == NULL) {
        snprintf(dir, sizeof dir, ".");
    } else {
        snprintf(dir, sizeof dir, "%.*s",
                 slash == db ? 1 : (int)(slash - db), db);
    }
    if (ev_os_fsync_dir(dir) != 0) {
        c->unsynced = 1;
        snprintf(c->errmsg, sizeof c->errmsg,
                 "cannot sync '%.300s' after the commit: %s", dir,
                 strerror(errno));
    }
    return EV_OK;
}

int
ev_catalog_unsynced(const ev_catalog *c)
{
    return c->unsynced;
}

static int meta_put_u64(ev_catalog *c, const char *key, uint64_t v);

/* Before a commit that appended to vault.pack: the bytes are on disk,
 * the new end goes into the same transaction as the rows that point
 * there, and a vault of format 1 becomes format 2 (older versions of
 * evault, which know no vault.pack, then refuse it). */
static int
pack_commit(ev_catalog *c)
{
    uint64_t end;
    ev_bytes fmt = {NULL, 0};
    int rc;

    c->pack_txn = 0;
    if (ev_pack_sync(c->pack, &end) != 0) {
        int err = errno;
        ev_pack_abandon(c->pack);
        c->pack_session = 0;
        c->pack_unnamed = 1;
        snprintf(c->errmsg, sizeof c->errmsg, "cannot write '%.400s': %s",
                 ev_pack_path(c->pack), strerror(err));
        c->last_status = err == ENOSPC || err == EDQUOT ? EV_ENOSPC : EV_EIO;
        return c->last_status;
    }
    if (!c->pack_session) {
        ev_pack_stop(c->pack);
    }
    /* The end of the furthest blob a row names, not of what was appended:
     * blobs put ahead of their rows (ev_catalog_pack_put) and a record
     * that failed at the tail stay past it, for the next writer to cut. */
    end = c->pack_named_end > c->pack_base ? c->pack_named_end : c->pack_base;
    rc = meta_put_u64(c, "pack_end", end);
    if (rc == EV_OK) {
        rc = ev_catalog_meta_get(c, "format", &fmt);
    }
    if (rc == EV_OK && fmt.n == 1 && fmt.p[0] == '1') {
        char v[16];
        snprintf(v, sizeof v, "%d", EV_FORMAT_VERSION);
        rc = exec(c, PACK_FREE_SCHEMA);
        if (rc == EV_OK) {
            rc = ev_catalog_meta_put(c, "format", v, strlen(v));
        }
    }
    ev_bytes_free(&fmt);
    return rc;
}

int
ev_catalog_commit(ev_catalog *c)
{
    int rc = txn_gone(c);

    c->unsynced = 0;
    if (rc == EV_OK && c->pack_txn) {
        rc = pack_commit(c);
    }
    if (rc != EV_OK) {
        return rc;
    }
    rc = sqlite3_exec(c->db, "COMMIT;", NULL, NULL, NULL);
    if (rc == SQLITE_IOERR_DIR_FSYNC && sqlite3_get_autocommit(c->db)) {
        rc = committed_unsynced(c);
    } else {
        rc = rc == SQLITE_OK ? EV_OK : sql_status(c, rc);
    }
    if (rc == EV_OK) {
        c->txn = 0;
    }
    end_direct(c);
    return rc;
}

void
ev_catalog_rollback(ev_catalog *c)
{
    if (c->pack_txn) {
        if (!c->pack_session) {
            ev_pack_abandon(c->pack);
        }
        c->pack_txn = 0;
    }
    if (!sqlite3_get_autocommit(c->db)) {
        sqlite3_exec(c->db, "ROLLBACK;", NULL, NULL, NULL);
    }
    c->txn = c->lost = 0;
    end_direct(c);
}

int
ev_catalog_checkpoint(ev_catalog *c)
{
    sqlite3_stmt *st = NULL;
    /* main only: the temp database, once PRAGMA integrity_check has opened
     * it, answers a checkpoint after a journal mode change with
     * SQLITE_LOCKED */
    int rc = sqlite3_prepare_v2(
        c->db, "PRAGMA main.wal_checkpoint(TRUNCATE);", -1, &st, NULL);

    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            /* (busy, frames in the log, frames moved): busy means a
             * reader kept the log from being emptied. */
            rc = sqlite3_column_int(st, 0) != 0 ? SQLITE_BUSY : SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_BUSY) {
        snprintf(c->errmsg, sizeof c->errmsg,
                 "another process is reading the catalog");
        return EV_EBUSY;
    }
    return rc == SQLITE_OK || rc == SQLITE_DONE ? EV_OK : sql_status(c, rc);
}

static int
prepare(ev_catalog *c, const char *sql, sqlite3_stmt **st)
{
    struct stmt_slot *free_slot = NULL;
    int rc = txn_gone(c);

    if (rc != EV_OK) {
        return rc;
    }
    for (size_t i = 0; i < STMT_CACHE; i++) {
        struct stmt_slot *e = &c->cache[i];
        if (e->sql == NULL) {
            if (free_slot == NULL) {
                free_slot = e;
            }
        } else if (!e->in_use && strcmp(e->sql, sql) == 0) {
            e->in_use = 1;
            *st = e->st;
            return EV_OK;
        }
    }
    rc = sqlite3_prepare_v2(c->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        return sql_status(c, rc);
    }
    if (free_slot != NULL && (free_slot->sql = strdup(sql)) != NULL) {
        free_slot->st = *st;
        free_slot->in_use = 1;
    }
    return EV_OK;
}

/* Gives a statement back: reset for reuse if cached, else finalized. */
static void
finish(ev_catalog *c, sqlite3_stmt *st)
{
    for (size_t i = 0; i < STMT_CACHE; i++) {
        if (c->cache[i].st == st && c->cache[i].in_use) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            c->cache[i].in_use = 0;
            return;
        }
    }
    sqlite3_finalize(st);
}

/* Steps a statement that returns no rows, and finalizes it. */
static int
step_done(ev_catalog *c, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    int status = rc == SQLITE_DONE ? EV_OK : sql_status(c, rc);

    finish(c, st);
    return status;
}

/* Steps a statement that returns one integer, and finalizes it. */
static int
step_int64(ev_catalog *c, sqlite3_stmt *st, int64_t *out)
{
    int rc = sqlite3_step(st);
    int status = rc == SQLITE_ROW ? EV_OK : sql_status(c, rc);

    if (status == EV_OK) {
        *out = sqlite3_column_int64(st, 0);
    }
    finish(c, st);
    return status;
}

static int
copy_blob(ev_bytes *out, sqlite3_stmt *st, int col)
{
    const void *p = sqlite3_column_blob(st, col);
    int n = sqlite3_column_bytes(st, col);

    out->p = malloc(n > 0 ? (size_t)n : 1);
    out->n = (size_t)n;
    if (out->p == NULL) {
        return EV_ENOMEM;
    }
    if (n > 0) {
        memcpy(out->p, p, (size_t)n);
    }
    return EV_OK;
}

int
ev_catalog_meta_put(ev_catalog *c, const char *key, const void *v, size_t n)
{
    sqlite3_stmt *st;
    int rc = prepare(c, "INSERT OR REPLACE INTO meta(key, value) VALUES(?,?)",
                     &st);

    if (rc != EV_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, v, (int)n, SQLITE_STATIC);
    return step_done(c, st);
}

int
ev_catalog_meta_get(ev_catalog *c, const char *key, ev_bytes *out)
{
    sqlite3_stmt *st;
    int rc = prepare(c, "SELECT value FROM meta WHERE key = ?", &st);

    if (rc != EV_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rc = copy_blob(out, st, 0);
    } else if (rc == SQLITE_DONE) {
        snprintf(c->errmsg, sizeof c->errmsg, "no '%s' in the catalog", key);
        rc = EV_ENOENT;
    } else {
        rc = sql_status(c, rc);
    }
    finish(c, st);
    return rc;
}

int
ev_catalog_keyslot_add(ev_catalog *c, int kind, const void *params,
                       size_t params_len, const void *wrapped,
                       size_t wrapped_len, const void *info, size_t info_len,
                       int64_t *id)
{
    sqlite3_stmt *st;
    int rc = prepare(c,
                     "INSERT INTO keyslots(kind, params, wrapped, info) "
                     "VALUES(?,?,?,?)",
                     &st);

    if (rc != EV_OK) {
        return rc;
    }
    sqlite3_bind_int(st, 1, kind);
    sqlite3_bind_blob(st, 2, params, (int)params_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, wrapped, (int)wrapped_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, info, (int)info_len, SQLITE_STATIC);
    rc = step_done(c, st);
    if (rc == EV_OK && id != NULL) {
        *id = sqlite3_last_insert_rowid(c->db);
    }
    return rc;
}

int
ev_catalog_keyslot_delete(ev_catalog *c, int64_t id)
{
    sqlite3_stmt *st;
    int rc = prepare(c, "DELETE FROM keyslots WHERE id = ?", &st);

    if (rc != EV_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, id);
    rc = step_done(c, st);
    if (rc == EV_OK && sqlite3_changes(c->db) != 1) {
        snprintf(c->errmsg, sizeof c->errmsg, "no key slot %lld",
                 (long long)id);
        rc = EV_ENOENT;
    }
    return rc;
}

int
ev_catalog_keyslot_each(ev_catalog *c,
                        int (*fn)(void *ctx, const ev_slot_row *row),
                        void *ctx)
{
    sqlite3_stmt *st;
    int rc = prepare(c,
                     "SELECT id, kind, params, wrapped, info FROM keyslots "
                     "ORDER BY id",
                     &st);

    if (rc != EV_OK) {
        return rc;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ev_slot_row row;
        int r;
        row.id = sqlite3_column_int64(st, 0);
        row.kind = sqlite3_column_int(st, 1);
        row.params = sqlite3_column_blob(st, 2);
        row.params_len = (size_t)sqlite3_column_bytes(st, 2);
        row.wrapped = sqlite3_column_blob(st, 3);
        row.wrapped_len = (size_t)sqlite3_column_bytes(st, 3);
        row.info = sqlite3_column_blob(st, 4);
        row.info_len = (size_t)sqlite3_column_bytes(st, 4);
        r = fn(ctx, &row);
        if (r != 0) {
            finish(c, st);
            return r;
        }
    }
    rc = rc == SQLITE_DONE ? EV_OK : sql_status(c, rc);
    finish(c, st);
    return rc;
}

void
ev_blob_row_free(ev_blob_row *r)
{
    ev_bytes_free(&r->key);
    ev_bytes_free(&r->data);
}

static int
meta_get_u64(ev_catalog *c, const char *key, uint64_t *v)
{
    ev_bytes b = {NULL, 0};
    int rc = ev_catalog_meta_get(c, key, &b);

    *v = 0;
    if (rc == EV_ENOENT) {
        return EV_OK;
    }
    if (rc == EV_OK && b.n == 8) {
        *v = ev_load64(b.p);
    } else if (rc == EV_OK) {
        snprintf(c->errmsg, sizeof c->errmsg, "meta '%s' is damaged", key);
        rc = c->last_status = EV_ECORRUPT;
    }
    ev_bytes_free(&b);
    return rc;
}

static int
meta_put_u64(ev_catalog *c, const char *key, uint64_t v)
{
    uint8_t b[8];

    ev_store64(b, v);
    return ev_catalog_meta_put(c, key, b, sizeof b);
}

static int
pack_fail(ev_catalog *c, const char *what)
{
    int err = errno;

    snprintf(c->errmsg, sizeof c->errmsg, "cannot %s '%.400s': %s", what,
             ev_pack_path(c->pack), strerror(err));
    c->last_status = err == ENOSPC || err == EDQUOT ? EV_ENOSPC
                     : err == ENOMEM                ? EV_ENOMEM
                                                    : EV_EIO;
    return c->last_status;
}

/* Where vault.pack's committed bytes end: pack_end, or further when a row
 * says so (a pack_end lowered by tampering must not make the next writer
 * cut off, and write over, blobs that rows still name). */
static int
pack_live_end(ev_catalog *c, uint64_t *end)
{
    sqlite3_stmt *st;
    int rc = meta_get_u64(c, "pack_end", end);

    if (rc == EV_OK) {
        rc = prepare(c,
                     "SELECT coalesce(max(data + padded_size), 0) FROM blobs"
                     " WHERE typeof(data) = 'integer' AND data >= 0 AND"
                     " padded_size BETWEEN 0 AND ?1",
                     &st);
    }
    if (rc == EV_OK) {
        int64_t m = 0;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)PACK_BLOB_MAX);
        rc = step_int64(c, st, &m);
        if (rc == EV_OK && m > 0 && (uint64_t)m > *end) {
            *end = (uint64_t)m;
        }
    }
    return rc;
}

static int pack_start(ev_catalog *c);

/* Appends a blob to vault.pack inside the open transaction. */
static int
pack_append(ev_catalog *c, const void *data, size_t n, uint64_t *off)
{
    int rc;

    if (!c->txn) {
        snprintf(c->errmsg, sizeof c->errmsg,
                 "a blob is added outside a transaction");
        return c->last_status = EV_EINVAL;
    }
    if (!c->pack_txn && !c->pack_session) {
        rc = pack_start(c);
        if (rc != EV_OK) {
            return rc;
        }
    }
    c->pack_txn = 1;
    if (ev_pack_append(c->pack, data, n, off) != 0) {
        return pack_fail(c, "write");
    }
    return EV_OK;
}

/* Begins appending at the committed end, cutting off what lies past it. */
static int
pack_start(ev_catalog *c)
{
    uint64_t end;
    int rc = pack_live_end(c, &end);

    if (rc != EV_OK) {
        return rc;
    }
    if (ev_pack_begin(c->pack, end) != 0) {
        return pack_fail(c, "open");
    }
    c->pack_base = c->pack_named_end = end;
    return EV_OK;
}

int
ev_catalog_pack_put(ev_catalog *c, const void *data, size_t n, uint64_t *off)
{
    int rc;

    if (!c->pack_session && !c->pack_txn) {
        rc = pack_start(c);
        if (rc != EV_OK) {
            return rc;
        }
    }
    c->pack_session = 1;
    c->pack_unnamed = 1;
    if (ev_pack_append(c->pack, data, n, off) != 0) {
        return pack_fail(c, "write");
    }
    return EV_OK;
}

int
ev_catalog_pack_move(ev_catalog *c, uint64_t from, uint64_t to, size_t n,
                     void *scratch)
{
    if (!c->pack_session || to < c->pack_named_end || to < c->pack_base) {
        snprintf(c->errmsg, sizeof c->errmsg,
                 "a blob would be moved over a named one in '%.400s'",
                 ev_pack_path(c->pack));
        return c->last_status = EV_EINVAL;
    }
    return ev_pack_move(c->pack, from, to, n, scratch) == 0
               ? EV_OK
               : pack_fail(c, "move a blob in");
}

int
ev_catalog_pack_rewind(ev_catalog *c, uint64_t pos)
{
    if (!c->pack_session || pos < c->pack_named_end || pos < c->pack_base) {
        snprintf(c->errmsg, sizeof c->errmsg,
                 "'%.400s' would be rewound over a named blob",
                 ev_pack_path(c->pack));
        return c->last_status = EV_EINVAL;
    }
    return ev_pack_rewind(c->pack, pos) == 0 ? EV_OK
                                             : pack_fail(c, "write");
}

void
ev_catalog_pack_close(ev_catalog *c)
{
    uint64_t end;

    if (!c->pack_session && !c->pack_unnamed) {
        return;
    }
    c->pack_session = 0;
    c->pack_unnamed = 0;
    if (c->txn) {
        return; /* the transaction's end settles it; the next writer cuts */
    }
    ev_pack_abandon(c->pack);
    /* what no committed row names: blobs of duplicates, of records that
     * failed, or of an unlock that failed */
    if (pack_live_end(c, &end) == EV_OK) {
        (void)ev_pack_cut(c->pack, end);
    }
}

/* The blobs row; off >= 0: its bytes are in vault.pack there, named_len
 * of them (the commit's new end takes them in), else in a blob file. */
static int
blob_row_add(ev_catalog *c, const uint8_t id[32], const void *key,
             size_t key_len, uint64_t padded_size, int64_t off,
             uint64_t named_len)
{
    sqlite3_stmt *st;
    int rc = prepare(c,
                     "INSERT INTO blobs(id, key, padded_size, data) "
                     "VALUES(?,?,?,?)",
                     &st);

    if (rc != EV_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, key, (int)key_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)padded_size);
    if (off >= 0) {
        c->pack_txn = 1;
        if ((uint64_t)off + named_len > c->pack_named_end) {
            c->pack_named_end = (uint64_t)off + named_len;
        }
        sqlite3_bind_int64(st, 4, (sqlite3_int64)off);
    } else {
        sqlite3_bind_null(st, 4);
    }
    return step_done(c, st);
}

int
ev_catalog_blob_add(ev_catalog *c, const uint8_t id[32], const void *key,
                    size_t key_len, uint64_t padded_size, const void *data,
                    size_t data_len)
{
    uint64_t off;
    int rc;

    if (data == NULL) {
        return blob_row_add(c, id, key, key_len, padded_size, -1, 0);
    }
    rc = pack_append(c, data, data_len, &off);
    if (rc != EV_OK) {
        return rc;
    }
    return blob_row_add(c, id, key, key_len, padded_size, (int64_t)off,
                        data_len);
}

int
ev_catalog_blob_add_packed(ev_catalog *c, const uint8_t id[32],
                           const void *key, size_t key_len,
                           uint64_t padded_size, uint64_t off)
{
    if (!c->txn || !c->pack_session || padded_size > PACK_BLOB_MAX ||
        off < c->pack_base || off > INT64_MAX - padded_size) {
        snprintf(c->errmsg, sizeof c->errmsg,
                 "a blob is named outside what this process put in '%.400s'",
                 ev_pack_path(c->pack));
        return c->last_status = EV_EINVAL;
    }
    return blob_row_add(c, id, key, key_len, padded_size, (int64_t)off,
                        padded_size);
}

/* A blob in vault.pack: data_len is how much of it the file holds (less
 * than padded_size when the file was cut), and with want_data that much
 * is read into data.  A blob outside the file, or longer than a blob in
 * vault.pack can be, has data_len 0: damage for check and the reader. */
static int
pack_blob(ev_catalog *c, ev_blob_row *b, int want_data)
{
    uint64_t size, off = (uint64_t)b->pack_off;
    size_t got;

    b->data_len = 0;
    if (b->pack_off < 0 || b->padded_size > PACK_BLOB_MAX) {
        return EV_OK;
    }
    if (!want_data) {
        if (ev_pack_size(c->pack, &size) != 0) {
            return pack_fail(c, "read");
        }
        if (off < size) {
            b->data_len =
                size - off < b->padded_size ? size - off : b->padded_size;
        }
        return EV_OK;
    }
    b->data.p = malloc(b->padded_size > 0 ? (size_t)b->padded_size : 1);
    if (b->data.p == NULL) {
        snprintf(c->errmsg, sizeof c->errmsg, "out of memory");
        return c->last_status = EV_ENOMEM;
    }
    if (ev_pack_read(c->pack, b->data.p, (size_t)b->padded_size, off,
                     &got) != 0) {
        return pack_fail(c, "read");
    }
    b->data.n = got;
    b->data_len = got;
    return EV_OK;
}

int
ev_catalog_blob_get(ev_catalog *c, const uint8_t id[32], int want_data,
                    ev_blob_row *out)
{
    sqlite3_stmt *st;
    int rc = prepare(c,
                     want_data ? "SELECT key, padded_size, data IS NOT NULL,"
                                 " length(data), typeof(data) = 'integer',"
                                 " data FROM blobs WHERE id = ?"
                               : "SELECT key, padded_size, data IS NOT NULL,"
                                 " length(data), typeof(data) = 'integer',"
                                 " CASE typeof(data) WHEN 'integer' THEN data"
                                 " END FROM blobs WHERE id = ?",
                     &st);

    memset(out, 0, sizeof *out);
    out->pack_off = -1;
    if (rc != EV_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->padded_size = (uint64_t)sqlite3_column_int64(st, 1);
        out->inline_ = sqlite3_column_int(st, 2);
        out->data_len = (uint64_t)sqlite3_column_int64(st, 3);
        rc = copy_blob(&out->key, st, 0);
        if (rc == EV_OK && sqlite3_column_int(st, 4)) {
            out->pack_off = sqlite3_column_int64(st, 5);
            rc = pack_blob(c, out, want_data);
        } else if (rc == EV_OK && want_data && out->inline_) {
            rc = copy_blob(&out->data, st, 5);
        }
    } else if (rc == SQLITE_DONE) {
        snprintf(c->errmsg, sizeof c->errmsg, "blob missing from catalog");
        rc = EV_ENOENT;
    } else {
        rc = sql_status(c, rc);
    }
    finish(c, st);
    if (rc != EV_OK) {
        ev_blob_row_free(out);
    }
    return rc;
}

int
ev_catalog_blob_each(ev_catalog *c,
                     int (*fn)(void *ctx, const uint8_t *id, int inline_,
                               uint64_t padded_size),
                     void *ctx)
{
    sqlite3_stmt *st;
    int rc = prepare(c,
                     "SELECT id, data IS NOT NULL, padded_size FROM blobs "
                     "ORDER BY n",
                     &st);

    if (rc != EV_OK) {
        return rc;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint8_t id[32] = {0};
        int r;
        if (sqlite3_column_bytes(st, 0) == 32) {
            memcpy(id, sqlite3_column_blob(st, 0), 32);
        }
        r = fn(ctx, id, sqlite3_column_int(st, 1),
               (uint64_t)sqlite3_column_int64(st, 2));
        if (r != 0) {
            finish(c, st);
            return r;
        }
    }
    rc = rc == SQLITE_DONE ? EV_OK : sql_status(c, rc);
    finish(c, st);
    return rc;
}

int64_t
ev_catalog_record_next_id(ev_catalog *c)
{
    sqlite3_stmt *st;
    int64_t id = 1;

    int rc;

    if (prepare(c, "SELECT coalesce(max(id), 0) + 1 FROM records", &st) !=
        EV_OK) {
        return -1;
    }
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
    } else {
        sql_status(c, rc);
        id = -1;
    }
    finish(c, st);
    return id;
}

int
ev_catalog_record_add(ev_catalog *c, int64_t id, int state,
                      const uint8_t *blob_id, uint64_t padded_size,
                      const void *meta, size_t meta_len)
{
    sqlite3_stmt *st;
    int rc = prepare(c,
                     "INSERT INTO records(id, state, blob, padded_size, meta)"
                     " VALUES(?,?,?,?,?)",
                     &st);

    if (rc != EV_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, state);
    if (blob_id != NULL) {
        sqlite3_bind_blob(st, 3, blob_id, 32, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 3);
    }
    sqlite3_bind_int64(st, 4, (sqlite3_int64)padded_size);
    sqlite3_bind_blob(st, 5, meta, (int)meta_len, SQLITE_STATIC);
    return step_done(c, st);
}

void
ev_record_row_free(ev_record_row *r)
{
    ev_bytes_free(&r->meta);
}

static void
row_from(ev_record_row *r, sqlite3_stmt *st)
{
    r->id = sqlite3_column_int64(st, 0);
    r->state = sqlite3_column_int(st, 1);
    r->has_blob = sqlite3_column_bytes(st, 2) == 32;
    if (r->has_blob) {
        memcpy(r->blob_id, sqlite3_column_blob(st, 2), 32);
    }
    r->padded_size = (uint64_t)sqlite3_column_int64(st, 3);
}

int
ev_catalog_record_get(ev_catalog *c, int64_t id, ev_record_row *out)
{
    sqlite3_stmt *st;
    int rc = prepare(c,
                     "SELECT id, state, blob, padded_size, meta FROM records"
                     " WHERE id = ?",
                     &st);

    memset(out, 0, sizeof *out);
    if (rc != EV_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        row_from(out, st);
        rc = copy_blob(&out->meta, st, 4);
    } else if (rc == SQLITE_DONE) {
        snprintf(c->errmsg, sizeof c->errmsg, "no record %lld",
                 (long long)id);
        rc = EV_ENOENT;
    } else {
        rc = sql_status(c, rc);
    }
    finish(c, st);
    return rc;
}

int
ev_catalog_record_each(ev_catalog *c, const ev_blind_term *blind,
                       size_t nblind,
                       int (*fn)(void *ctx, const ev_record_row *r),
                       void *ctx)
{
    char sql[1024];
    size_t len;
    sqlite3_stmt *st;
    int rc;

    if (nblind > 8) {
        return EV_EINVAL;
    }
    len = (size_t)snprintf(sql, sizeof sql,
                           "SELECT id, state, blob, padded_size, meta "
                           "FROM records WHERE 1");
    for (size_t i = 0; i < nblind; i++) {
        len += (size_t)snprintf(sql + len, sizeof sql - len,
                                " AND id IN (SELECT record FROM blind"
                                " WHERE field = ? AND value = ?)");
    }
    snprintf(sql + len, sizeof sql - len, " ORDER BY id");
    rc = prepare(c, sql, &st);
    if (rc != EV_OK) {
        return rc;
    }
    for (size_t i = 0; i < nblind; i++) {
        sqlite3_bind_int(st, (int)(2 * i + 1), blind[i].field);
        sqlite3_bind_blob(st, (int)(2 * i + 2), blind[i].value, 16,
                          SQLITE_STATIC);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ev_record_row r;
        int stop;
        memset(&r, 0, sizeof r);
        row_from(&r, st);
        r.meta.p = (uint8_t *)sqlite3_column_blob(st, 4);
        r.meta.n = (size_t)sqlite3_column_bytes(st, 4);
        stop = fn(ctx, &r);
        if (stop != 0) {
            finish(c, st);
            return stop;
        }
    }
    rc = rc == SQLITE_DONE ? EV_OK : sql_status(c, rc);
    finish(c, st);
    return rc;
}

int
ev_catalog_blind_add(ev_catalog *c, int field, const uint8_t value[16],
                     int64_t record)
{
    sqlite3_stmt *st;
    int rc = prepare(c,
                     "INSERT OR IGNORE INTO blind(field, value, record) "
                     "VALUES(?,?,?)",
                     &st);

    if (rc != EV_OK) {
        return rc;
    }
    sqlite3_bind_int(st, 1, field);
    sqlite3_bind_blob(st, 2, value, 16, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, record);
    return step_done(c, st);
}

int
ev_catalog_blind_each(ev_catalog *c,
                      int (*fn)(void *ctx, int field, const uint8_t *value,
                                int64_t record),
                      void *ctx)
{
    sqlite3_stmt *st;
    int rc = prepare(c, "SELECT field, value, record FROM blind", &st);

    if (rc != EV_OK) {
        return rc;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint8_t v[16] = {0};
        int r;
        if (sqlite3_column_bytes(st, 1) == 16) {
            memcpy(v, sqlite3_column_blob(st, 1), 16);
        }
        r = fn(ctx, sqlite3_column_int(st, 0), v,
               sqlite3_column_int64(st, 2));
        if (r != 0) {
            finish(c, st);
            return r;
        }
    }
    rc = rc == SQLITE_DONE ? EV_OK : sql_status(c, rc);
    finish(c, st);
    return rc;
}

int
ev_catalog_integrity(ev_catalog *c)
{
    sqlite3_stmt *st;
    int rc = prepare(c, "PRAGMA integrity_check", &st);
    const char *msg;

    if (rc != EV_OK) {
        return rc;
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = sql_status(c, rc);
        finish(c, st);
        return rc == EV_OK ? EV_ECORRUPT : rc;
    }
    msg = (const char *)sqlite3_column_text(st, 0);
    if (msg != NULL && strcmp(msg, "ok") == 0) {
        rc = EV_OK;
    } else {
        snprintf(c->errmsg, sizeof c->errmsg, "%s",
                 msg != NULL ? msg : "integrity_check failed");
        rc = EV_ECORRUPT;
    }
    finish(c, st);
    return rc;
}

/* A generic walk over (integer, integer, blob) rows. */
static int
each3(ev_catalog *c, const char *sql, int64_t bind,
      int (*fn)(void *ctx, int64_t a, int64_t b, const uint8_t *p, size_t n),
      void *ctx)
{
    sqlite3_stmt *st;
    int rc = prepare(c, sql, &st);

    if (rc != EV_OK) {
        return rc;
    }
    if (bind >= 0) {
        sqlite3_bind_int64(st, 1, bind);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int r = fn(ctx, sqlite3_column_int64(st, 0),
                   sqlite3_column_int64(st, 1), sqlite3_column_blob(st, 2),
                   (size_t)sqlite3_column_bytes(st, 2));
        if (r != 0) {
            finish(c, st);
            return r;
        }
    }
    rc = rc == SQLITE_DONE ? EV_OK : sql_status(c, rc);
    finish(c, st);
    return rc;
}

static int64_t
scalar(ev_catalog *c, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    int rc;

    if (prepare(c, sql, &st) != EV_OK) {
        return -1;
    }
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    } else {
        sql_status(c, rc);
    }
    finish(c, st);
    return v;
}

/* INSERT with up to two integer parameters then one blob, as the
 * append-only tables (custody, checkpoints, amendments, contacts) take. */
static int
insert_row(ev_catalog *c, const char *sql, int64_t a, const int64_t *b,
           const void *blob, size_t len)
{
    sqlite3_stmt *st;
    int rc = prepare(c, sql, &st), i = 1;

    if (rc != EV_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, i++, a);
    if (b != NULL) {
        sqlite3_bind_int64(st, i++, *b);
    }
    sqlite3_bind_blob(st, i, blob, (int)len, SQLITE_STATIC);
    return step_done(c, st);
}

int64_t
ev_catalog_custody_count(ev_catalog *c)
{
    /* max + 1, not count(*): O(log n), and equal while the log has no
     * gap (which ev_custody_load checks). */
    return scalar(c, "SELECT coalesce(max(seq) + 1, 0) FROM custody");
}

int
ev_catalog_custody_add(ev_catalog *c, int64_t seq, const void *entry,
                       size_t len)
{
    return insert_row(c, "INSERT INTO custody(seq, entry) VALUES(?,?)", seq,
                      NULL, entry, len);
}

int
ev_catalog_custody_each(ev_catalog *c,
                        int (*fn)(void *ctx, int64_t seq, int64_t unused,
                                  const uint8_t *p, size_t n),
                        void *ctx)
{
    return each3(c, "SELECT seq, 0, entry FROM custody ORDER BY seq", -1, fn,
                 ctx);
}

int64_t
ev_catalog_checkpoint_next_id(ev_catalog *c)
{
    return scalar(c, "SELECT coalesce(max(id), 0) + 1 FROM checkpoints");
}

int
ev_catalog_checkpoint_add(ev_catalog *c, int64_t id, uint64_t size,
                          const void *note, size_t len)
{
    int64_t sz = (int64_t)size;

    return insert_row(c,
                      "INSERT INTO checkpoints(id, size, note) VALUES(?,?,?)",
                      id, &sz, note, len);
}

int
ev_catalog_checkpoint_each(ev_catalog *c,
                           int (*fn)(void *ctx, int64_t id, int64_t size,
                                     const uint8_t *p, size_t n),
                           void *ctx)
{
    return each3(c, "SELECT id, size, note FROM checkpoints ORDER BY id", -1,
                 fn, ctx);
}

int
ev_catalog_record_set_state(ev_catalog *c, int64_t id, int state)
{
    sqlite3_stmt *st;
    int rc = prepare(c, "UPDATE records SET state = ? WHERE id = ?", &st);

    if (rc != EV_OK) {
        return rc;
    }
    sqlite3_bind_int(st, 1, state);
    sqlite3_bind_int64(st, 2, id);
    rc = step_done(c, st);
    if (rc == EV_OK && sqlite3_changes(c->db) != 1) {
        snprintf(c->errmsg, sizeof c->errmsg, "no record %lld",
                 (long long)id);
        return EV_ENOENT;
    }
    return rc;
}

int64_t
ev_catalog_amendment_next_id(ev_catalog *c)
{
    return scalar(c, "SELECT coalesce(max(id), 0) + 1 FROM amendments");
}

int
ev_catalog_amendment_add(ev_catalog *c, int64_t id, int64_t record,
                         const void *meta, size_t len)
{
    return insert_row(c,
                      "INSERT INTO amendments(id, record, meta) VALUES(?,?,?)",
                      id, &record, meta, len);
}

int
ev_catalog_amendment_each(ev_catalog *c, int64_t record,
                          int (*fn)(void *ctx, int64_t id, int64_t record,
                                    const uint8_t *p, size_t n),
                          void *ctx)
{
    if (record > 0) {
        return each3(c,
                     "SELECT id, record, meta FROM amendments WHERE record = ?"
                     " ORDER BY id",
                     record, fn, ctx);
    }
    return each3(c, "SELECT id, record, meta FROM amendments ORDER BY id", -1,
                 fn, ctx);
}

int
ev_catalog_timestamp_put(ev_catalog *c, int64_t checkpoint, int which,
                         const void *der, size_t len)
{
    sqlite3_stmt *st;
    int rc = prepare(c,
                     which == 0
                         ? "INSERT INTO timestamps(checkpoint, tsq) VALUES(?,?)"
                           " ON CONFLICT(checkpoint) DO UPDATE SET"
                           " tsq = excluded.tsq, tsr = NULL"
                         : "UPDATE timestamps SET tsr = ?2 WHERE"
                           " checkpoint = ?1",
                     &st);

    if (rc != EV_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, checkpoint);
    sqlite3_bind_blob(st, 2, der, (int)len, SQLITE_STATIC);
    return step_done(c, st);
}

int
ev_catalog_timestamp_get(ev_catalog *c, int64_t checkpoint, int which,
                         ev_bytes *out)
{
    sqlite3_stmt *st;
    int rc = prepare(c,
                     which == 0
                         ? "SELECT tsq FROM timestamps WHERE checkpoint = ? "
                           "AND tsq IS NOT NULL"
                         : "SELECT tsr FROM timestamps WHERE checkpoint = ? "
                           "AND tsr IS NOT NULL",
                     &st);

    if (rc != EV_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, checkpoint);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rc = copy_blob(out, st, 0);
    } else {
        rc = rc == SQLITE_DONE ? EV_ENOENT : sql_status(c, rc);
    }
    finish(c, st);
    return rc;
}

int64_t
ev_catalog_contact_next_id(ev_catalog *c)
{
    return scalar(c, "SELECT coalesce(max(id), 0) + 1 FROM contacts");
}

int
ev_catalog_contact_put(ev_catalog *c, int64_t id, const void *data,
                       size_t len)
{
    return insert_row(c, "INSERT INTO contacts(id, data) VALUES(?,?)", id,
                      NULL, data, len);
}

int
ev_catalog_contact_delete(ev_catalog *c, int64_t id)
{
    sqlite3_stmt *st;
    int rc = prepare(c, "DELETE FROM contacts WHERE id = ?", &st);

    if (rc != EV_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, id);
    return step_done(c, st);
}

int
ev_catalog_contact_each(ev_catalog *c,
                        int (*fn)(void *ctx, int64_t id, int64_t unused,
                                  const uint8_t *p, size_t n),
                        void *ctx)
{
    return each3(c, "SELECT id, 0, data FROM contacts ORDER BY id", -1, fn,
                 ctx);
}

int
ev_catalog_meta_delete(ev_catalog *c, const char *key)
{
    sqlite3_stmt *st;
    int rc = prepare(c, "DELETE FROM meta WHERE key = ?", &st);

    if (rc != EV_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    return step_done(c, st);
}

int
ev_catalog_blind_clear(ev_catalog *c)
{
    return exec(c, "DELETE FROM blind;");
}

/* Key rotation's walk over one encrypted column: rows are read a batch at
 * a time (key > the last seen, in key order), the statement is reset, and
 * only then is fn called and the row updated, so fn may use the catalog
 * and no statement reads a table while it is being changed. */
static const struct {
    const char *count, *select, *update;
} rewrite_sql[EV_REWRITE_LAST] = {
    [EV_REWRITE_RECORDS] =
        {"SELECT count(*) FROM records",
         "SELECT id, state, blob, meta FROM records WHERE id > ?1"
         " ORDER BY id LIMIT ?2",
         "UPDATE records SET meta = ?2 WHERE id = ?1"},
    [EV_REWRITE_BLOBS] = {"SELECT count(*) FROM blobs",
                          "SELECT n, 0, id, key FROM blobs WHERE n > ?1"
                          " ORDER BY n LIMIT ?2",
                          "UPDATE blobs SET key = ?2 WHERE n = ?1"},
    [EV_REWRITE_CUSTODY] = {"SELECT count(*) FROM custody",
                            "SELECT seq, 0, NULL, entry FROM custody"
                            " WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                            "UPDATE custody SET entry = ?2 WHERE seq = ?1"},
    [EV_REWRITE_CHECKPOINTS] =
        {"SELECT count(*) FROM checkpoints",
         "SELECT id, size, NULL, note FROM checkpoints WHERE id > ?1"
         " ORDER BY id LIMIT ?2",
         "UPDATE checkpoints SET note = ?2 WHERE id = ?1"},
    [EV_REWRITE_AMENDMENTS] =
        {"SELECT count(*) FROM amendments",
         "SELECT id, record, NULL, meta FROM amendments WHERE id > ?1"
         " ORDER BY id LIMIT ?2",
         "UPDATE amendments SET meta = ?2 WHERE id = ?1"},
    [EV_REWRITE_TSQ] =
        {"SELECT count(*) FROM timestamps WHERE tsq IS NOT NULL",
         "SELECT checkpoint, 0, NULL, tsq FROM timestamps"
         " WHERE checkpoint > ?1 AND tsq IS NOT NULL"
         " ORDER BY checkpoint LIMIT ?2",
         "UPDATE timestamps SET tsq = ?2 WHERE checkpoint = ?1"},
    [EV_REWRITE_TSR] =
        {"SELECT count(*) FROM timestamps WHERE tsr IS NOT NULL",
         "SELECT checkpoint, 0, NULL, tsr FROM timestamps"
         " WHERE checkpoint > ?1 AND tsr IS NOT NULL"
         " ORDER BY checkpoint LIMIT ?2",
         "UPDATE timestamps SET tsr = ?2 WHERE checkpoint = ?1"},
    [EV_REWRITE_CONTACTS] = {"SELECT count(*) FROM contacts",
                             "SELECT id, 0, NULL, data FROM contacts"
                             " WHERE id > ?1 ORDER BY id LIMIT ?2",
                             "UPDATE contacts SET data = ?2 WHERE id = ?1"},
};

#define REWRITE_BATCH_ROWS 256
#define REWRITE_BATCH_BYTES (4u << 20)

int64_t
ev_catalog_rewrite_count(ev_catalog *c, enum ev_rewrite_table t)
{
    if ((unsigned)t >= EV_REWRITE_LAST) {
        return -1;
    }
    return scalar(c, rewrite_sql[t].count);
}

static void
rewrite_batch_free(ev_rewrite_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((void *)rows[i].tag);
        free((void *)rows[i].value);
    }
}

/* Reads up to one batch of rows after *cursor into rows; *n gets the
 * count (0 at the end). */
static int
rewrite_read(ev_catalog *c, enum ev_rewrite_table t, int64_t cursor,
             ev_rewrite_row *rows, size_t *n)
{
    sqlite3_stmt *st;
    size_t bytes = 0;
    int rc = prepare(c, rewrite_sql[t].select, &st);

    *n = 0;
    if (rc != EV_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, cursor);
    sqlite3_bind_int(st, 2, REWRITE_BATCH_ROWS);
    while (bytes < REWRITE_BATCH_BYTES &&
           (rc = sqlite3_step(st)) == SQLITE_ROW) {
        ev_rewrite_row *r = &rows[*n];
        ev_bytes tag = {0}, val = {0};
        memset(r, 0, sizeof *r);
        r->key = sqlite3_column_int64(st, 0);
        r->aux = sqlite3_column_int64(st, 1);
        if (sqlite3_column_type(st, 2) != SQLITE_NULL &&
            copy_blob(&tag, st, 2) != EV_OK) {
            rc = SQLITE_NOMEM;
            break;
        }
        if (copy_blob(&val, st, 3) != EV_OK) {
            free(tag.p);
            rc = SQLITE_NOMEM;
            break;
        }
        r->tag = tag.p;
        r->tag_len = tag.n;
        r->value = val.p;
        r->value_len = val.n;
        bytes += val.n;
        (*n)++;
    }
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        rc = EV_OK; /* a full batch, or the end */
    } else if (rc == SQLITE_NOMEM) {
        snprintf(c->errmsg, sizeof c->errmsg, "out of memory");
        rc = EV_ENOMEM;
    } else {
        rc = sql_status(c, rc);
    }
    finish(c, st);
    if (rc != EV_OK) {
        rewrite_batch_free(rows, *n);
        *n = 0;
    }
    return rc;
}

static int
rewrite_update(ev_catalog *c, enum ev_rewrite_table t, int64_t key,
               const ev_bytes *value)
{
    sqlite3_stmt *st;
    int rc = prepare(c, rewrite_sql[t].update, &st);

    if (rc != EV_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, key);
    sqlite3_bind_blob64(st, 2, value->p, value->n, SQLITE_STATIC);
    rc = step_done(c, st);
    if (rc == EV_OK && sqlite3_changes(c->db) != 1) {
        snprintf(c->errmsg, sizeof c->errmsg, "row %lld vanished",
                 (long long)key);
        return EV_EIO;
    }
    return rc;
}

int
ev_catalog_rewrite(ev_catalog *c, enum ev_rewrite_table t, ev_rewrite_fn fn,
                   void *ctx)
{
    ev_rewrite_row *rows;
    int64_t cursor = INT64_MIN;
    size_t n = 0;
    int rc;

    if ((unsigned)t >= EV_REWRITE_LAST) {
        return EV_EINVAL;
    }
    rows = calloc(REWRITE_BATCH_ROWS, sizeof *rows);
    if (rows == NULL) {
        return EV_ENOMEM;
    }
    do {
        rc = rewrite_read(c, t, cursor, rows, &n);
        for (size_t i = 0; rc == EV_OK && i < n; i++) {
            ev_bytes out = {0};
            rc = fn(ctx, &rows[i], &out);
            if (rc == 0 && out.p != NULL) {
                rc = rewrite_update(c, t, rows[i].key, &out);
            }
            ev_bytes_free(&out);
            cursor = rows[i].key;
        }
        rewrite_batch_free(rows, n);
    } while (rc == EV_OK && n > 0);
    free(rows);
    return rc;
}

int
ev_catalog_in_txn(ev_catalog *c)
{
    return !sqlite3_get_autocommit(c->db);
}

/* ------------------------------------------------------------------ */
/* Destroying a record                                                 */
/* ------------------------------------------------------------------ */

int
ev_catalog_blob_user(ev_catalog *c, const uint8_t id[32], int64_t except,
                     int64_t *record)
{
    sqlite3_stmt *st;
    int rc = prepare(c,
                     "SELECT id FROM records WHERE blob = ? AND id != ?"
                     " ORDER BY id LIMIT 1",
                     &st);

    *record = 0;
    if (rc != EV_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, except);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *record = sqlite3_column_int64(st, 0);
        rc = EV_OK;
    } else {
        rc = rc == SQLITE_DONE ? EV_OK : sql_status(c, rc);
    }
    finish(c, st);
    return rc;
}

int
ev_catalog_blob_known(ev_catalog *c, const uint8_t id[32], int *known)
{
    sqlite3_stmt *st;
    int rc = prepare(c,
                     "SELECT EXISTS(SELECT 1 FROM blobs WHERE id = ?1) OR"
                     " EXISTS(SELECT 1 FROM records WHERE blob = ?1)",
                     &st);

    *known = 1;
    if (rc != EV_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *known = sqlite3_column_int(st, 0) != 0;
        rc = EV_OK;
    } else {
        rc = sql_status(c, rc);
    }
    finish(c, st);
    return rc;
}

int
ev_catalog_blob_delete(ev_catalog *c, const uint8_t id[32])
{
    sqlite3_stmt *st;
    /* A blob in vault.pack leaves its range to be wiped (pack_free), in
     * the same transaction. */
    int rc = exec(c, PACK_FREE_SCHEMA);

    if (rc == EV_OK) {
        rc = prepare(c,
                     "INSERT OR IGNORE INTO pack_free(off, len) "
                     "SELECT data, padded_size FROM blobs WHERE id = ?1 AND "
                     "typeof(data) = 'integer' AND data >= 0 AND "
                     "padded_size BETWEEN 1 AND ?2",
                     &st);
    }
    if (rc == EV_OK) {
        sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)PACK_BLOB_MAX);
        rc = step_done(c, st);
    }
    if (rc == EV_OK) {
        rc = prepare(c, "DELETE FROM blobs WHERE id = ?", &st);
    }
    if (rc != EV_OK) {
        return rc;
    }
    sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
    return step_done(c, st);
}

int
ev_catalog_pack_sweep(ev_catalog *c, uint64_t *nwiped)
{
    sqlite3_stmt *st = NULL;
    uint64_t end = 0;
    int rc;

    *nwiped = 0;
    rc = ev_catalog_begin(c);
    if (rc != EV_OK) {
        return rc;
    }
    rc = pack_live_end(c, &end);
    if (rc == EV_OK) {
        rc = exec(c, PACK_FREE_SCHEMA); /* a format-1 vault has none */
    }
    /* Only a range no longer than a blob there can be, and one that no
     * row still points into: those bytes are evidence, whatever a
     * (tampered) pack_free row says. */
    if (rc == EV_OK) {
        rc = prepare(c,
                     "SELECT off, len FROM pack_free f WHERE off >= 0 AND"
                     " len BETWEEN 1 AND ?1 AND NOT EXISTS(SELECT 1 FROM"
                     " blobs WHERE typeof(data) = 'integer' AND"
                     " data < f.off + f.len AND data + padded_size > f.off)"
                     " ORDER BY off",
                     &st);
    }
    if (rc == EV_OK) {
        int r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)PACK_BLOB_MAX);
        while (rc == EV_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
            uint64_t off = (uint64_t)sqlite3_column_int64(st, 0);
            uint64_t len = (uint64_t)sqlite3_column_int64(st, 1);
            if (ev_pack_wipe(c->pack, off, len) != 0) {
                rc = pack_fail(c, "wipe a destroyed blob in");
            } else {
                (*nwiped)++;
            }
        }
        if (rc == EV_OK && r != SQLITE_DONE) {
            rc = sql_status(c, r);
        }
        finish(c, st);
    }
    if (rc == EV_OK) {
        rc = exec(c, "DELETE FROM pack_free;");
    }
    /* Past the committed end: what a killed writer appended.  Holding the
     * write lock, no writer is between its append and its commit. */
    if (rc == EV_OK && ev_pack_cut(c->pack, end) != 0) {
        rc = pack_fail(c, "cut");
    }
    if (rc == EV_OK) {
        rc = ev_catalog_commit(c);
    }
    if (rc != EV_OK) {
        ev_catalog_rollback(c);
    }
    return rc;
}

int
ev_catalog_record_wipe(ev_catalog *c, int64_t id)
{
    static const char *const sql[] = {
        ("UPDATE records SET state = ?2, blob = NULL, padded_size = 0,"
         " meta = X'' WHERE id = ?1"),
        "DELETE FROM blind WHERE record = ?1",
        "DELETE FROM amendments WHERE record = ?1"};
    int rc = EV_OK;

    for (size_t i = 0; rc == EV_OK && i < sizeof sql / sizeof *sql; i++) {
        sqlite3_stmt *st;
        rc = prepare(c, sql[i], &st);
        if (rc != EV_OK) {
            break;
        }
        sqlite3_bind_int64(st, 1, id);
        if (i == 0) {
            sqlite3_bind_int(st, 2, EV_STATE_DESTROYED);
        }
        rc = step_done(c, st);
        if (rc == EV_OK && i == 0 && sqlite3_changes(c->db) != 1) {
            snprintf(c->errmsg, sizeof c->errmsg, "no record %lld",
                     (long long)id);
            rc = EV_ENOENT;
        }
    }
    return rc;
}
