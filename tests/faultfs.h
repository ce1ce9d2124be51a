/*
 * faultfs.h - the fault tests' file system: one counter over every call of
 * an operation that can fail durably, whoever makes it.
 *
 * The library's own calls go through the ev_os table (vault/os.h): its
 * write, fsync and rename are replaced.  The catalog's go through SQLite,
 * which does its own I/O: a VFS registered as SQLite's default wraps the
 * real "unix" VFS, and its xWrite, xSync and xTruncate (on vault.db, its
 * -wal log and any journal) and xDelete (a rollback journal's deletion is
 * a commit; after it, the directory's sync) count on the same counter.  So "the N-th
 * write of an add" may be a blob file's write or a page of the catalog's
 * log, in the order the operation makes them.
 *
 * A failing call returns what the real one would: -1 with errno for the
 * ev_os calls; SQLITE_FULL (ENOSPC) or SQLITE_IOERR_WRITE from xWrite, and
 * SQLITE_IOERR_FSYNC / SQLITE_IOERR_TRUNCATE from xSync / xTruncate,
 * SQLITE_IOERR_DELETE / SQLITE_IOERR_DIR_FSYNC from xDelete (SQLite's
 * unix VFS never reports a full disk from those).  A sync
 * that does not fail returns at once without syncing: these tests break
 * calls, they do not cut the power, and real syncs would make thousands
 * of runs slow.
 */
#ifndef EV_FAULTFS_H
#define EV_FAULTFS_H

/* Installs the counting table and registers the VFS as SQLite's default.
 * Call once, before any vault is opened. */
void ff_install(void);

/* Counts from 0 and fails nothing. */
void ff_count(void);
/* Counts from 0 and fails the n-th call (1-based) with err (ENOSPC or
 * EIO); later calls succeed. */
void ff_arm(long n, int err);
/* The same, failing len calls from the n-th on (a disk that stays bad). */
void ff_arm_run(long n, long len, int err);
/* Stops counting; nothing fails. */
void ff_off(void);

/* Calls counted since ff_count / ff_arm. */
long ff_calls(void);
/* 1 when the armed call was reached (and failed). */
int ff_fired(void);
/* The ev_status that the failed call should come back as (EV_EIO or
 * EV_ENOSPC), and what it was ("sqlite xSync vault.db-wal", "fsync"). */
int ff_expected(void);
const char *ff_what(void);
/* Counted calls by kind since ff_count: writes, syncs, renames and
 * truncates of the library, and SQLite's. */
void ff_summary(char *out, unsigned long n);

#endif
