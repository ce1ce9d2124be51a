/*
 * catalog.h - the SQLite catalog, vault.db.  The only user of sqlite3.h.
 *
 * Tables (see docs/FORMAT.md, "Catalog"):
 *   meta(key, value)            format version, vault id, wrapped identity
 *   keyslots(id, kind, params, wrapped, info)
 *   blobs(n, id, key, padded_size, data)
 *                               key = wrapped DEK and lengths; data is a
 *                               small blob's offset in vault.pack (an
 *                               integer; padded_size is its length), its
 *                               bytes (format 1), or NULL for blob files
 *   pack_free(off, len)         ranges of vault.pack still to be wiped
 *   records(id, state, blob, padded_size, meta)
 *                               meta = encrypted metadata; a destroyed
 *                               record's row stays as a tombstone (state
 *                               3, blob NULL, padded_size 0, meta empty)
 *   blind(field, value, record) blind indexes for equality search
 *   custody(seq, entry)         the custody log, entries encrypted
 *   checkpoints(id, size, note) signed checkpoints, encrypted
 *   amendments(id, record, meta) metadata corrections, encrypted
 *
 * Opened in WAL mode with synchronous=FULL and secure_delete=ON.
 */
#ifndef EV_CATALOG_H
#define EV_CATALOG_H

#include <stddef.h>
#include <stdint.h>

typedef struct ev_catalog ev_catalog;

/* A byte string returned by the catalog; free with ev_bytes_free. */
typedef struct ev_bytes {
    uint8_t *p;
    size_t n;
} ev_bytes;
void ev_bytes_free(ev_bytes *b);

int ev_catalog_open(ev_catalog **out, const char *path, int create,
                    int busy_ms);
void ev_catalog_close(ev_catalog *c);
const char *ev_catalog_errmsg(const ev_catalog *c);
/* The status of the last failure (EV_EIO when none was recorded), for
 * the functions below that return -1 rather than a status. */
int ev_catalog_status(const ev_catalog *c);

/* Transactions: begin takes the write lock (BEGIN IMMEDIATE). */
int ev_catalog_begin(ev_catalog *c);
/* EV_OK once the change is what every reader sees.  A commit through a
 * rollback journal whose deletion could not be synced still is one (the
 * directory is synced again); ev_catalog_unsynced then says 1 when that
 * failed too, and a crash could still undo the change. */
int ev_catalog_commit(ev_catalog *c);
int ev_catalog_unsynced(const ev_catalog *c);
void ev_catalog_rollback(ev_catalog *c);
/* Begins a transaction whose commit leaves no copy of what it removes in
 * vault.db (a rollback journal instead of the WAL, for this transaction):
 * for key changes.  With another process on the catalog it is an ordinary
 * one; empty the WAL after it (ev_catalog_checkpoint). */
int ev_catalog_begin_direct(ev_catalog *c);
/* A savepoint inside a transaction: end with keep 0 to undo what was done
 * since (one record that failed halfway), 1 to keep it. */
int ev_catalog_savepoint(ev_catalog *c);
void ev_catalog_savepoint_end(ev_catalog *c, int keep);
/* A read transaction: everything read until ev_catalog_end_read sees one
 * snapshot, whatever other processes commit meanwhile. */
int ev_catalog_begin_read(ev_catalog *c);
void ev_catalog_end_read(ev_catalog *c);
/* 1 inside a transaction, 0 outside. */
int ev_catalog_in_txn(ev_catalog *c);
/* Moves the WAL's content into the main file and truncates the WAL to
 * nothing (PRAGMA wal_checkpoint(TRUNCATE)); EV_EBUSY when a reader kept
 * it from finishing. */
int ev_catalog_checkpoint(ev_catalog *c);

int ev_catalog_meta_put(ev_catalog *c, const char *key, const void *v,
                        size_t n);
/* EV_ENOENT when missing. */
int ev_catalog_meta_get(ev_catalog *c, const char *key, ev_bytes *out);

/* A key slot as stored: params and wrapped are read by keyslot.c; info
 * (label, who added it and when) is encrypted, NULL in older vaults. */
typedef struct ev_slot_row {
    int64_t id;
    int kind;
    const uint8_t *params, *wrapped, *info;
    size_t params_len, wrapped_len, info_len;
} ev_slot_row;

/* Adds a slot; *id (when not NULL) receives its number. */
int ev_catalog_keyslot_add(ev_catalog *c, int kind, const void *params,
                           size_t params_len, const void *wrapped,
                           size_t wrapped_len, const void *info,
                           size_t info_len, int64_t *id);
/* Deletes a slot (secure_delete overwrites it); EV_ENOENT when none. */
int ev_catalog_keyslot_delete(ev_catalog *c, int64_t id);
/* Calls fn for each slot in id order; stops when fn returns non-zero
 * and returns that value.  The row's bytes last until fn returns. */
int ev_catalog_keyslot_each(ev_catalog *c,
                            int (*fn)(void *ctx, const ev_slot_row *row),
                            void *ctx);

/* A blob row.  inline_ is 1 for a blob kept with the catalog, in
 * vault.pack or (format 1) in the row; data_len is 0 and inline_ 0 for a
 * blob kept as a file. */
typedef struct ev_blob_row {
    ev_bytes key;
    uint64_t padded_size;
    int inline_;
    int64_t pack_off;  /* where it starts in vault.pack, or -1 */
    uint64_t data_len; /* bytes of it that the row or vault.pack holds */
    ev_bytes data;
} ev_blob_row;
void ev_blob_row_free(ev_blob_row *r);

/* With data, the blob is appended to vault.pack (inside a transaction;
 * the commit syncs vault.pack first); without, it is a blob file. */
int ev_catalog_blob_add(ev_catalog *c, const uint8_t id[32], const void *key,
                        size_t key_len, uint64_t padded_size,
                        const void *data, size_t data_len);
/* A blob put in vault.pack before its row: for work done while the
 * keys are not known yet (the unlock runs), by a process holding the
 * write lock.  put appends, in or outside a transaction, and keeps
 * appending across commits until close; add_packed adds the row, in a
 * transaction, for bytes put at off.  A commit names as the pack's end
 * the end of the furthest blob a row names, so bytes put and never named
 * stay past it.  close, with no transaction open, cuts them off. */
int ev_catalog_pack_put(ev_catalog *c, const void *data, size_t n,
                        uint64_t *off);
int ev_catalog_blob_add_packed(ev_catalog *c, const uint8_t id[32],
                               const void *key, size_t key_len,
                               uint64_t padded_size, uint64_t off);
void ev_catalog_pack_close(ev_catalog *c);
/* Before naming them: moves put bytes down over the gap of one that will
 * not be named (never below a named blob), and makes the next put go to
 * pos (ev_pack_move, ev_pack_rewind). */
int ev_catalog_pack_move(ev_catalog *c, uint64_t from, uint64_t to,
                         size_t n, void *scratch);
int ev_catalog_pack_rewind(ev_catalog *c, uint64_t pos);
/* EV_ENOENT when missing.  want_data 0 skips the inline bytes. */
int ev_catalog_blob_get(ev_catalog *c, const uint8_t id[32], int want_data,
                        ev_blob_row *out);
/* Calls fn for each blob id (with whether it is inline). */
int ev_catalog_blob_each(ev_catalog *c,
                         int (*fn)(void *ctx, const uint8_t *id, int inline_,
                                   uint64_t padded_size),
                         void *ctx);

int64_t ev_catalog_record_next_id(ev_catalog *c);
int ev_catalog_record_add(ev_catalog *c, int64_t id, int state,
                          const uint8_t *blob_id, uint64_t padded_size,
                          const void *meta, size_t meta_len);
typedef struct ev_record_row {
    int64_t id;
    int state;
    int has_blob;
    uint8_t blob_id[32];
    uint64_t padded_size;
    ev_bytes meta;
} ev_record_row;
void ev_record_row_free(ev_record_row *r);
/* EV_ENOENT when missing. */
int ev_catalog_record_get(ev_catalog *c, int64_t id, ev_record_row *out);
/* Every record (blind == NULL) or those carrying each of the nblind
 * (field, value) pairs, in id order.  fn's row is valid during the call;
 * a non-zero return stops the walk and is returned. */
typedef struct ev_blind_term {
    int field;
    uint8_t value[16];
} ev_blind_term;
int ev_catalog_record_each(ev_catalog *c, const ev_blind_term *blind,
                           size_t nblind,
                           int (*fn)(void *ctx, const ev_record_row *r),
                           void *ctx);
int ev_catalog_blind_add(ev_catalog *c, int field, const uint8_t value[16],
                         int64_t record);
/* Record ids carrying a blind value, for the integrity check. */
int ev_catalog_blind_each(ev_catalog *c,
                          int (*fn)(void *ctx, int field,
                                    const uint8_t *value, int64_t record),
                          void *ctx);

/* The custody log: seq is the Merkle leaf index (0, 1, ...); entries are
 * stored encrypted by the caller. */
int64_t ev_catalog_custody_count(ev_catalog *c);
int ev_catalog_custody_add(ev_catalog *c, int64_t seq, const void *entry,
                           size_t len);
int ev_catalog_custody_each(ev_catalog *c,
                            int (*fn)(void *ctx, int64_t seq, int64_t unused,
                                      const uint8_t *p, size_t n),
                            void *ctx);
/* Signed checkpoints (encrypted by the caller), numbered from 1. */
int64_t ev_catalog_checkpoint_next_id(ev_catalog *c);
int ev_catalog_checkpoint_add(ev_catalog *c, int64_t id, uint64_t size,
                              const void *note, size_t len);
int ev_catalog_checkpoint_each(ev_catalog *c,
                               int (*fn)(void *ctx, int64_t id, int64_t size,
                                         const uint8_t *p, size_t n),
                               void *ctx);
int ev_catalog_record_set_state(ev_catalog *c, int64_t id, int state);
/* Metadata amendments, appended, never replaced (encrypted by the
 * caller).  record 0 walks all. */
int64_t ev_catalog_amendment_next_id(ev_catalog *c);
int ev_catalog_amendment_add(ev_catalog *c, int64_t id, int64_t record,
                             const void *meta, size_t len);
int ev_catalog_amendment_each(ev_catalog *c, int64_t record,
                              int (*fn)(void *ctx, int64_t id, int64_t record,
                                        const uint8_t *p, size_t n),
                              void *ctx);

/* RFC 3161 request (which 0) and reply (which 1) of a checkpoint,
 * encrypted by the caller.  Storing a request clears an older reply. */
int ev_catalog_timestamp_put(ev_catalog *c, int64_t checkpoint, int which,
                             const void *der, size_t len);
int ev_catalog_timestamp_get(ev_catalog *c, int64_t checkpoint, int which,
                             ev_bytes *out);

/* Pinned contacts, encrypted by the caller. */
int64_t ev_catalog_contact_next_id(ev_catalog *c);
int ev_catalog_contact_put(ev_catalog *c, int64_t id, const void *data,
                           size_t len);
int ev_catalog_contact_delete(ev_catalog *c, int64_t id);
int ev_catalog_contact_each(ev_catalog *c,
                            int (*fn)(void *ctx, int64_t id, int64_t unused,
                                      const uint8_t *p, size_t n),
                            void *ctx);

/* The value a walk's callback (the *_each functions) returns to stop early
 * when nothing went wrong; the walk then returns it.  It is no ev_status:
 * a walk that fails for lack of memory returns EV_ENOMEM, 2, which a stop
 * value of 2 would hide (a list cut short, reported as complete). */
#define EV_WALK_STOP 1000

/* Removes a meta row (no error when there is none). */
int ev_catalog_meta_delete(ev_catalog *c, const char *key);
/* Deletes every blind index row (key rotation rebuilds them). */
int ev_catalog_blind_clear(ev_catalog *c);

/* Key rotation (rotate.c): every encrypted value of one column, in the
 * caller's transaction.  Rows are read in batches (at most 256 rows or
 * 4 MiB), so memory stays bounded whatever the catalog's size. */
enum ev_rewrite_table {
    EV_REWRITE_RECORDS,     /* key id, aux state, tag blob id, records.meta */
    EV_REWRITE_BLOBS,       /* key n, tag blob id, blobs.key */
    EV_REWRITE_CUSTODY,     /* key seq, custody.entry */
    EV_REWRITE_CHECKPOINTS, /* key id, aux size, checkpoints.note */
    EV_REWRITE_AMENDMENTS,  /* key id, aux record, amendments.meta */
    EV_REWRITE_TSQ,         /* key checkpoint, timestamps.tsq (not NULL) */
    EV_REWRITE_TSR,         /* key checkpoint, timestamps.tsr (not NULL) */
    EV_REWRITE_CONTACTS,    /* key id, contacts.data */
    EV_REWRITE_LAST
};
typedef struct ev_rewrite_row {
    int64_t key, aux;
    const uint8_t *tag; /* NULL when the row has none */
    size_t tag_len;
    const uint8_t *value;
    size_t value_len;
} ev_rewrite_row;
/* Gets a row; sets *out to a malloc'd new value to store (left empty: the
 * row stays as it is).  Non-zero stops the walk. */
typedef int (*ev_rewrite_fn)(void *ctx, const ev_rewrite_row *row,
                             ev_bytes *out);
/* Calls fn for each row in key order and stores what it gives.  Returns
 * EV_OK, a catalog error, or fn's non-zero value. */
int ev_catalog_rewrite(ev_catalog *c, enum ev_rewrite_table t,
                       ev_rewrite_fn fn, void *ctx);
/* How many rows ev_catalog_rewrite will visit (-1 on error). */
int64_t ev_catalog_rewrite_count(ev_catalog *c, enum ev_rewrite_table t);
/* Destroying a record (destroy.c).  blob_user: the first record other
 * than except whose row names blob id (0 when none).  blob_known: whether
 * a blobs row or a records row names it.  record_wipe: the row becomes a
 * tombstone (state destroyed, no blob, padded size 0, empty meta) and its
 * blind index and amendment rows are deleted.  With secure_delete the
 * freed bytes are zeroed. */
int ev_catalog_blob_user(ev_catalog *c, const uint8_t id[32], int64_t except,
                         int64_t *record);
int ev_catalog_blob_known(ev_catalog *c, const uint8_t id[32], int *known);
/* blob_delete of a blob in vault.pack also lists its range in pack_free,
 * for ev_catalog_pack_sweep to wipe after the commit. */
int ev_catalog_blob_delete(ev_catalog *c, const uint8_t id[32]);
int ev_catalog_record_wipe(ev_catalog *c, int64_t id);
/* In a transaction of its own (the caller holds the vault's write lock):
 * overwrites with zeros every range listed in pack_free and forgets them,
 * and cuts vault.pack back to its committed end (what a killed writer
 * appended).  *nwiped: the ranges wiped. */
int ev_catalog_pack_sweep(ev_catalog *c, uint64_t *nwiped);

/* PRAGMA integrity_check: EV_OK or EV_ECORRUPT with the first problem. */
int ev_catalog_integrity(ev_catalog *c);

#endif
