/*
 * internal.h - the vault handle, shared by vault.c, record.c and check.c.
 * Not installed; front ends use evault.h only.
 */
#ifndef EV_INTERNAL_H
#define EV_INTERNAL_H

#include "catalog.h"
#include "crypto.h"
#include "evault.h"
#include "store.h"

#include <stdarg.h>

#define EV_VAULT_ID_BYTES 16

/* Keys derived from the master key; one sodium_malloc'd block. */
struct ev_keys {
    uint8_t mk[EV_KEY_BYTES];
    uint8_t meta[EV_KEY_BYTES];
    uint8_t blind[EV_KEY_BYTES];
    uint8_t blobid[EV_KEY_BYTES];
    uint8_t dek[EV_KEY_BYTES];
    uint8_t identity[EV_KEY_BYTES];
    uint8_t custody[EV_KEY_BYTES];
    uint8_t scratch[64]; /* a wrapped data key being built or read */
    uint8_t read_dek[EV_KEY_BYTES]; /* the data key of the blob being read */
};

struct ev_chunk_ctx;

struct ev_vault {
    char *dir;
    struct ev_chunk_ctx *chunk_ctx; /* for one-chunk blobs; made on use */
    uint8_t *rbuf_in, *rbuf_out;    /* their buffers, kept between reads */
    size_t rbuf_in_cap, rbuf_out_cap;
    ev_catalog *cat;
    ev_store *store;
    uint8_t vault_id[EV_VAULT_ID_BYTES];
    struct ev_keys *keys; /* NULL while locked */
    int lock_fd;          /* the writer lock, -1 when not held */
    int busy_ms;
    char *operator_;      /* who acts, for the custody log */
    struct ev_kdf_job *unlocking; /* a passphrase unlock begun, not ended */
    int64_t slot_id;      /* the key slot that unlocked, 0 before */
    int slot_kind;
    uint64_t slot_ops, slot_mem; /* its Argon2id cost (passphrase) */
    /* while an import adds records: input comes from read_fn, and the
     * intake neither begins nor commits (the importer's transaction) */
    long (*read_fn)(void *ctx, uint8_t *p, size_t n);
    void *read_ctx;
    int hold_txn;
    /* while ev_record_stream runs: where plaintext goes */
    int (*stream_fn)(void *ctx, const uint8_t *p, size_t n);
    void *stream_ctx;
    ev_progress_fn progress;
    void *progress_ctx;
    int store_loaded;     /* the store settings were read after unlock */
    char errmsg[1024];
    char hint[300];       /* a likely fix for the last failure, or "" */
};

/* For tests: how many records the intake has finished before the keys
 * came (record.c). */
extern unsigned long ev_test_early_records;

/* Sets the handle's detail message and returns code. */
int ev_fail(ev_vault *v, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Copies the catalog's message into the handle and returns code. */
int ev_fail_catalog(ev_vault *v, int code, const char *what);

/* Takes and releases the writer lock (DIR/lock, flock). */
int ev_vault_lock_write(ev_vault *v);
void ev_vault_unlock_write(ev_vault *v);

/* After a slot opened the vault: loads what needs the keys (the default
 * operator, the store settings: an S3 store's are encrypted). */
int ev_vault_after_unlock(ev_vault *v);

/* Installs the master key: derives every subkey.  mk is copied. */
int ev_vault_set_master(ev_vault *v, const uint8_t mk[EV_KEY_BYTES]);

/* The store settings in the catalog (meta 'store'), encrypted with the
 * metadata key; cfg NULL removes them (blobs in the vault directory). */
struct ev_s3_config;
int ev_vault_store_save(ev_vault *v, const struct ev_s3_config *cfg);
/* Reads them: EV_OK with *found 0 when the blobs are local. */
int ev_vault_store_load(ev_vault *v, struct ev_s3_config *cfg, int *found);
/* A store spec as S3 settings (*remote 1), or the vault directory
 * (*remote 0).  EV_EINVAL with the reason.  (migrate.c) */
int ev_store_spec_config(ev_vault *v, const ev_store_spec *spec,
                         struct ev_s3_config *cfg, int *remote);
/* The bucket answers and holds nothing under the prefix; with create, a
 * missing bucket is made.  (migrate.c) */
int ev_store_target_check(ev_vault *v, const struct ev_s3_config *cfg,
                          int create);

/* Blind index fields (pinned values). */
enum ev_blind_field {
    EV_BLIND_CASE = 1,
    EV_BLIND_SOURCE = 2,
    EV_BLIND_TAG = 3,
    EV_BLIND_SHA256 = 4
};
/* EV_OK, or EV_ENOMEM (with the handle's message) for a value too long
 * for the stack when memory is short. */
int ev_blind_value(ev_vault *v, uint8_t out[16], int field, const void *in,
                   size_t in_len);
/* Text fields are trimmed and ASCII-lowercased before hashing. */
int ev_blind_text(ev_vault *v, uint8_t out[16], int field, const char *s);

/* Record metadata <-> encrypted bytes (meta.c). */
int ev_meta_seal(ev_vault *v, const ev_record *r, uint8_t **out,
                 size_t *out_len);
int ev_meta_open(ev_vault *v, int64_t id, const uint8_t *in, size_t in_len,
                 ev_record *r);
/* The salted commitment to a record's metadata held by its intake entry:
 * SHA-256("evault metadata commitment v1\n" || salt || compact JSON with
 * sorted keys of name, path, kind, case, source, note, captured_at,
 * location, added_by, tags). */
int ev_meta_commitment(uint8_t out[32], const ev_record *r);
/* Adds the blind index rows of a record. */
int ev_meta_index(ev_vault *v, const ev_record *r);

/* The data key and lengths of a blob, wrapped in blobs.key. */
#define EV_DEKREC_BYTES (EV_KEY_BYTES + 16)
#define EV_DEKREC_WRAPPED (EV_DEKREC_BYTES + EV_WRAP_OVERHEAD)
int ev_dek_wrap(ev_vault *v, uint8_t out[EV_DEKREC_WRAPPED],
                 const uint8_t id[EV_BLOBID_BYTES],
                 const uint8_t dek[EV_KEY_BYTES], uint64_t stored_len,
                 uint64_t content_len);
int ev_dek_unwrap(ev_vault *v, uint8_t dek[EV_KEY_BYTES],
                  uint64_t *stored_len, uint64_t *content_len,
                  const uint8_t id[EV_BLOBID_BYTES], const uint8_t *in,
                  size_t in_len);

/* Adds one record whose bytes come from v->read_fn (see above). */
int ev_record_add_reader(ev_vault *v, const ev_add_opts *opts,
                         ev_record_fn cb, void *ctx);

/* Reads a blob and writes its plaintext to aw, else to fd (fd < 0 and no
 * aw: discard), hashing into sha256 when not NULL.  (record.c) */
struct ev_awriter;
int ev_blob_read(ev_vault *v, const uint8_t id[EV_BLOBID_BYTES], int fd,
                 struct ev_awriter *aw, uint8_t *sha256,
                 uint64_t *content_len);

/* The catalog's encrypted JSON fields, read after decryption (js holds n
 * bytes, no terminator needed).  EV_OK; EV_ECORRUPT when unreadable;
 * EV_ENOMEM.  A contact row (contact.c): EV_EINVAL when its keys are not
 * valid age and minisign keys.  An amendment (seal.c): *out is the
 * amended fields of record, released with ev_record_release. */
int ev_contact_decode(const char *js, size_t n, ev_contact *c);
int ev_amendment_decode(const char *js, size_t n, int64_t record,
                        ev_record *out);

#endif
