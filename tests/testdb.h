/*
 * testdb.h - the catalog seen from outside: a second SQLite connection to
 * a vault's vault.db, as an attacker or a damaged disk would change it.
 * For tests only; include after testutil.h.
 */
#ifndef EVAULT_TESTDB_H
#define EVAULT_TESTDB_H

#include <sqlite3.h>

static inline sqlite3 *
t_db_open(const char *vdir)
{
    char path[PATH_MAX];
    sqlite3 *db = NULL;

    t_path(path, sizeof path, vdir, "vault.db");
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
        SQLITE_OK) {
        fprintf(stderr, "sqlite3_open %s: %s\n", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* Runs sql; 0, or -1 with the reason on stderr. */
static inline int
t_db_exec(const char *vdir, const char *sql)
{
    sqlite3 *db = t_db_open(vdir);
    int rc;

    if (db == NULL) {
        return -1;
    }
    rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
    }
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

/* The first column of the first row of sql, with ?1 = arg when sql has a
 * parameter; -1 when there is no row. */
static inline int64_t
t_db_int(const char *vdir, const char *sql, int64_t arg)
{
    sqlite3 *db = t_db_open(vdir);
    sqlite3_stmt *st = NULL;
    int64_t r = -1;

    if (db == NULL) {
        return -1;
    }
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_bind_parameter_count(st) > 0) {
            sqlite3_bind_int64(st, 1, arg);
        }
        if (sqlite3_step(st) == SQLITE_ROW) {
            r = sqlite3_column_int64(st, 0);
        }
    } else {
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return r;
}

/* Flips one byte (at off, or from the end when off < 0) of the blob that
 * `select` returns for ?1 = id, writing it back with `update` (?2 = the
 * new value).  Flipping twice restores.  Returns the value's length, or
 * -1. */
static inline long
t_db_flip(const char *vdir, const char *select, const char *update, int64_t id,
          long off, uint8_t mask)
{
    sqlite3 *db = t_db_open(vdir);
    sqlite3_stmt *st = NULL;
    uint8_t *buf = NULL;
    long n = -1;

    if (db == NULL) {
        return -1;
    }
    if (sqlite3_prepare_v2(db, select, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", select, sqlite3_errmsg(db));
        goto done;
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        goto done;
    }
    n = sqlite3_column_bytes(st, 0);
    buf = malloc((size_t)n + 1);
    if (n > 0) {
        memcpy(buf, sqlite3_column_blob(st, 0), (size_t)n);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (off < 0) {
        off += n;
    }
    if (off < 0 || off >= n) {
        n = -1;
        goto done;
    }
    buf[off] ^= mask;
    if (sqlite3_prepare_v2(db, update, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", update, sqlite3_errmsg(db));
        n = -1;
        goto done;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_blob(st, 2, buf, (int)n, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != 1) {
        fprintf(stderr, "%s: %s\n", update, sqlite3_errmsg(db));
        n = -1;
    }
done:
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(buf);
    return n;
}

#endif
