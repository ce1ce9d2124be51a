/*
 * rotate.h - master-key rotation, the catalog half: re-encrypting every
 * value kept under a key derived from the master key, and the retired
 * blob-id keys that rotation leaves behind.  Internal to the library.
 */
#ifndef EV_ROTATE_H
#define EV_ROTATE_H

#include "internal.h"
#include "merkle.h"

/* Re-encrypts, in the caller's transaction, every value in the catalog
 * that is encrypted or keyed under a key derived from the installed master
 * key so that it is under the keys derived from new_mk, then installs
 * new_mk in v.  The vault must be unlocked; the caller holds the writer
 * lock and has begun the transaction (ev_catalog_begin), and commits or
 * rolls back after.
 *
 * Re-encrypted: records.meta (tombstones skipped), blobs.key, the blind
 * index (rebuilt under the new blind key), amendments, custody entries,
 * checkpoints, the custody head, timestamps, contacts, and meta
 * 'identity', 'operator' and 'blobid_retired'.  Blob bytes and key slots
 * are left alone: the caller remakes the slots with the new key.  Nothing
 * is appended to the custody log (the caller logs the key change).
 *
 * On failure v keeps the old keys and the detail is on v; the caller must
 * roll back, since some rows may already be rewritten. */
int ev_rotate_rewrap(ev_vault *v, const uint8_t new_mk[EV_KEY_BYTES]);

/* EV_OK when v's keys are the vault's current ones; EV_EKEY (detail on v)
 * when another handle rotated the master key since v was unlocked.  Every
 * write checks this inside its transaction, so a process unlocked before a
 * rotation cannot add rows under the old keys. */
int ev_rotate_keys_current(ev_vault *v);

/* ---- Blob ids across rotations ----
 *
 * A blob's id is its file name and cannot change, so every blob-id key
 * that still names a blob is kept after a rotation, in meta
 * 'blobid_retired' (see docs/FORMAT.md, "Key rotation").  New blobs are
 * named with the current key only. */
#define EV_BLOBID_RETIRED_MAX 256

typedef struct ev_blobid_keys {
    uint8_t *k; /* n keys in guarded memory: the current key, then the
                   retired ones, newest first */
    size_t n;
} ev_blobid_keys;

/* Loads the current and the retired keys of an unlocked vault.
 * EV_ECORRUPT (detail on v) when the retired list fails to open. */
int ev_blobid_keys_load(ev_vault *v, ev_blobid_keys *ks);
void ev_blobid_keys_release(ev_blobid_keys *ks);
/* The id that key i gives a blob whose plaintext has this SHA-256. */
void ev_blobid_of(const ev_blobid_keys *ks, size_t i,
                  uint8_t id[EV_BLOBID_BYTES], const uint8_t sha256[32]);
/* The index of the key under which sha256 names id, or -1 when none. */
int ev_blobid_which(const ev_blobid_keys *ks, const uint8_t sha256[32],
                    const uint8_t id[EV_BLOBID_BYTES]);
/* One question without keeping the keys: EV_OK when sha256 names id under
 * the current or a retired key, EV_ECORRUPT when under none (no detail
 * set), another code (detail on v) when the keys cannot be read. */
int ev_blobid_names(ev_vault *v, const uint8_t sha256[32],
                    const uint8_t id[EV_BLOBID_BYTES]);

/* ---- Re-encryption hooks, one per format, each in its owner's file ----
 *
 * Each opens one stored value under the key set `from` and seals the same
 * plaintext under `to`, with the same associated data and a fresh nonce.
 * out holds in_len bytes (re-encrypting keeps the length).  They return
 * EV_OK, or EV_ECORRUPT when the value does not open under `from`. */
/* Their shared step: ev_rewrap through a heap buffer, wiped after. */
int ev_rekey_value(const uint8_t from[EV_KEY_BYTES],
                   const uint8_t to[EV_KEY_BYTES], const uint8_t *ad,
                   size_t ad_len, const uint8_t *in, size_t in_len,
                   uint8_t *out);
int ev_meta_rekey(const struct ev_keys *from, const struct ev_keys *to,
                  int64_t id, const uint8_t *in, size_t in_len, uint8_t *out);
/* (to's guarded scratch holds the data key in passing) */
int ev_dek_rekey(const struct ev_keys *from, struct ev_keys *to,
                 const uint8_t id[EV_BLOBID_BYTES], const uint8_t *in,
                 size_t in_len, uint8_t *out);
/* leaf gets the entry's Merkle leaf hash (the plaintext is unchanged, so
 * is the tree). */
int ev_custody_entry_rekey(const struct ev_keys *from,
                           const struct ev_keys *to, int64_t seq,
                           const uint8_t *in, size_t in_len, uint8_t *out,
                           ev_hash leaf);
int ev_checkpoint_rekey(const struct ev_keys *from, const struct ev_keys *to,
                        int64_t id, const uint8_t *in, size_t in_len,
                        uint8_t *out);
int ev_amendment_rekey(const struct ev_keys *from, const struct ev_keys *to,
                       int64_t id, int64_t record, const uint8_t *in,
                       size_t in_len, uint8_t *out);
/* which: 0 the request (tsq), 1 the reply (tsr). */
int ev_timestamp_rekey(const struct ev_keys *from, const struct ev_keys *to,
                       int which, int64_t checkpoint, const uint8_t *in,
                       size_t in_len, uint8_t *out);
int ev_contact_rekey(const struct ev_keys *from, const struct ev_keys *to,
                     int64_t id, const uint8_t *in, size_t in_len,
                     uint8_t *out);
/* The meta rows 'identity' and 'operator' (absent: nothing to do), read
 * and written in place; detail on v. */
int ev_identity_rekey(ev_vault *v, const struct ev_keys *from,
                      const struct ev_keys *to);
int ev_operator_rekey(ev_vault *v, const struct ev_keys *from,
                      const struct ev_keys *to);
/* The same for meta 'store', the S3 settings (vault.c); nothing to do for
 * a vault whose blobs are in its directory. */
int ev_store_settings_rekey(ev_vault *v, const struct ev_keys *from,
                            const struct ev_keys *to);

#endif
