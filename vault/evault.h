/*
 * evault.h - the public interface of the evault library.
 *
 * evault keeps evidence (files, testimonies, hashes of files that may not be
 * kept) encrypted, compressed and padded in a vault directory, with an
 * encrypted SQLite catalog.  This header is the only one the command line
 * includes.  The library never prints, prompts or exits: every function
 * returns an ev_status, and ev_vault_errmsg() gives the detail (a path, an
 * SQLite message) of the last failure on a handle.
 *
 * Thread safety: one ev_vault handle is used by one thread at a time.  The
 * library starts worker threads of its own while it adds or reads data.
 */
#ifndef EVAULT_H
#define EVAULT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define EV_API __attribute__((visibility("default")))
#else
#define EV_API
#endif

/* ===================================================================
 * Types
 * =================================================================== */

typedef struct ev_vault ev_vault;

#define EV_SHA256_BYTES 32
/* A recovery key as printed: 9 groups of 4 characters joined by '-'. */
#define EV_RECOVERY_KEY_CHARS 44
/* The vault format this library writes and the newest it reads. */
#define EV_FORMAT_VERSION 2

/* Record states, as stored in the catalog. */
enum ev_state {
    EV_STATE_ACTIVE = 1,
    EV_STATE_SEALED = 2,
    EV_STATE_DESTROYED = 3
};

/* A record's metadata.  Strings are NUL-terminated UTF-8 owned by the
 * record; NULL means "not given".  Release with ev_record_release(). */
typedef struct ev_record {
    int64_t id;
    int state;             /* enum ev_state */
    char *name;            /* file name as added (no directories) */
    char *path;            /* the path given at intake, relative */
    char *kind;            /* video, photo, audio, document, testimony */
    char *case_name;       /* --case */
    char *source;          /* --source (a pseudonym, ideally) */
    char *note;            /* --note */
    char *captured_at;     /* --captured-at, ISO 8601 */
    char *location;        /* --location */
    char **tags;           /* ntags strings */
    size_t ntags;
    uint8_t sha256[EV_SHA256_BYTES];
    uint64_t size;         /* bytes of the original */
    int64_t added_at;      /* seconds since the epoch, local clock */
    int hash_only;         /* 1: only the hash and size were recorded */
    int64_t same_as;       /* another record with identical content, or 0 */
    char *added_by;        /* the operator who added it */
    int64_t custody_seq;   /* index of its intake entry in the custody log */
    uint8_t commit_salt[32]; /* opens the intake entry's commitment */
    size_t namendments;    /* metadata corrections appended since */
} ev_record;

/* What `add` attaches to every record it makes.  Any field may be NULL. */
typedef struct ev_add_opts {
    const char *name;        /* overrides the file name (stdin, --sha256) */
    const char *kind;        /* NULL: guessed from the file name */
    const char *case_name;
    const char *source;
    const char *note;
    const char *captured_at; /* already checked with ev_parse_time() */
    const char *location;
    const char *const *tags;
    size_t ntags;
    int hash_only;           /* record SHA-256 and size, store no bytes */
    /* For ev_record_add_fd: asked once the input has ended, before the
     * record is kept; 0 means the input was not authentic (a decrypting
     * producer failed) and nothing is added.  NULL: always kept. */
    int (*input_ok)(void *ctx);
    void *input_ctx;
} ev_add_opts;

/* Equality filters for ev_record_list(); NULL fields match everything. */
typedef struct ev_filter {
    const char *case_name;
    const char *source;
    const char *tag;
    const uint8_t *sha256;   /* EV_SHA256_BYTES, or NULL */
} ev_filter;

/* Called once per record after it is committed (durable). */
typedef int (*ev_record_fn)(void *ctx, const ev_record *r);
/* Progress of long work: bytes done out of total (total may be 0). */
typedef void (*ev_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/* ===================================================================
 * Errors
 * =================================================================== */

typedef enum ev_status {
    EV_OK = 0,         /* success */
    EV_EINVAL = 1,     /* a malformed argument or input from the caller */
    EV_ENOMEM = 2,     /* out of memory */
    EV_EIO = 3,        /* a read, write or sync failed */
    EV_ENOSPC = 4,     /* the disk is full */
    EV_ENOTVAULT = 5,  /* the directory is not an evault vault */
    EV_EVERSION = 6,   /* the vault's format is newer than this evault */
    EV_EKEY = 7,       /* wrong passphrase or key */
    EV_ECORRUPT = 8,   /* a MAC, hash or structure check failed: the data
                          was altered or damaged */
    EV_EBUSY = 9,      /* another process is writing to the vault */
    EV_ENOENT = 10,    /* no such file or record */
    EV_ECHANGED = 11,  /* a file changed while it was being read */
    EV_EEXIST = 12,    /* the target already exists */
    EV_ELOCKED = 13,   /* the vault is not unlocked */
    EV_ESEALED = 14,   /* the record is sealed and cannot change */
    EV_ENOTSEALED = 15, /* the record is not sealed (no proof yet) */
    EV_EDESTROYED = 16, /* the record was destroyed: only its custody
                           entries remain */
    EV_ESTORE = 17,    /* the object store failed a request or cannot be
                          reached */
    EV_EDENIED = 18,   /* the object store refused the credentials */
    EV_ELAST           /* never used: the number of codes */
} ev_status;

/* A short description of a status code; never NULL. */
EV_API const char *ev_strerror(int code);

/* ===================================================================
 * Vault
 * =================================================================== */

/* Where a vault's blobs live: its own directory (url NULL or "local"),
 * or an S3-compatible object store.  Credentials are never part of it:
 * they come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and
 * AWS_SESSION_TOKEN), else the shared credentials file
 * (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile
 * AWS_PROFILE or "default"). */
typedef struct ev_store_spec {
    const char *url;      /* "s3://BUCKET[/PREFIX]", "local" or NULL */
    const char *endpoint; /* "https://host[:port]" (S3 only) */
    const char *region;   /* NULL: "us-east-1" */
    int path_style;       /* ENDPOINT/BUCKET/KEY rather than BUCKET.HOST */
    int create_bucket;    /* make the bucket when it does not exist */
} ev_store_spec;

/* Creation options; zero fields take the defaults. */
typedef struct ev_create_opts {
    uint64_t argon2_ops;       /* Argon2id passes for the passphrase slot */
    uint64_t argon2_mem_kib;   /* Argon2id memory in KiB */
    const char *operator_;     /* the default operator's name, or NULL */
    const ev_store_spec *store; /* NULL: blobs in the vault directory */
} ev_create_opts;

/* The defaults: unlocking takes about half a second on a 2020s laptop,
 * with a peak of 40 MiB.  (Until 2026-12 the default was 30 passes over
 * 48 MiB, the same number of block operations and so the same time: the
 * memory went to `add`, which seals files while Argon2id runs; see
 * docs/FORMAT.md, "Key slots".) */
#define EV_ARGON2_OPS_DEFAULT 36
#define EV_ARGON2_MEM_KIB_DEFAULT (40 * 1024)

/* Library initialisation (libsodium, OpenSSL); safe to call many times. */
EV_API int ev_init(void);

/* A new handle; close and free it with ev_vault_free(), which accepts NULL. */
EV_API int ev_vault_new(ev_vault **out);
EV_API void ev_vault_free(ev_vault *v);

/* The detail of the last failure on this handle ("" when none). */
EV_API const char *ev_vault_errmsg(const ev_vault *v);
/* A likely fix for the last failure ("check AWS_SECRET_ACCESS_KEY"), or ""
 * when the library knows none. */
EV_API const char *ev_vault_hint(const ev_vault *v);

/* Creates a vault in dir (created if missing, must be empty otherwise),
 * with a passphrase slot and a recovery-key slot, and leaves it open and
 * unlocked.  The recovery key is written to recovery (NUL-terminated);
 * show it to the user once. */
EV_API int ev_vault_create(ev_vault *v, const char *dir,
                           const ev_create_opts *opts, const char *pass,
                           size_t pass_len,
                           char recovery[EV_RECOVERY_KEY_CHARS + 1]);

/* Opens an existing vault (locked).  Checks the format version. */
EV_API int ev_vault_open(ev_vault *v, const char *dir);

/* Is dir an evault vault?  1 yes, 0 no. */
EV_API int ev_vault_probe(const char *dir);

/* Unlocks with a passphrase or with a recovery key as printed by init.
 * EV_EKEY when it does not open any slot. */
EV_API int ev_vault_unlock_passphrase(ev_vault *v, const char *pass,
                                      size_t pass_len);
EV_API int ev_vault_unlock_recovery(ev_vault *v, const char *recovery_key);

/* The passphrase unlock in two steps.  begin copies the passphrase and
 * starts Argon2id on a thread of its own, then returns: ev_record_add_paths
 * and ev_record_add_fd spend that time on the work that needs no key
 * (reading, hashing, compressing and sealing files under their random
 * data keys) and then finish the unlock themselves.  Any other call
 * needs ev_vault_unlock_wait first, which returns what
 * ev_vault_unlock_passphrase would have (EV_OK when nothing is pending). */
EV_API int ev_vault_unlock_passphrase_begin(ev_vault *v, const char *pass,
                                            size_t pass_len);
EV_API int ev_vault_unlock_wait(ev_vault *v);

/* Checks a recovery key's form and checksum without a vault: EV_OK or
 * EV_EINVAL (a mistyped key). */
EV_API int ev_recovery_key_check(const char *recovery_key);

/* Sets the progress callback for long work (NULL: none). */
EV_API void ev_vault_set_progress(ev_vault *v, ev_progress_fn fn, void *ctx);

/* How long a writer waits for another writer before EV_EBUSY (ms). */
EV_API void ev_vault_set_busy_timeout(ev_vault *v, int ms);

/* ===================================================================
 * Keys: the ways into a vault (key slots), lockdown and recovery
 * =================================================================== */

/* Slot kinds, as stored in the catalog. */
enum ev_slot_kind {
    EV_SLOT_PASSPHRASE = 1, /* Argon2id of a passphrase */
    EV_SLOT_RECOVERY = 2,   /* the recovery key printed at init */
    EV_SLOT_MEMBER = 3,     /* a team member's age X25519 identity */
    EV_SLOT_TRUSTEE = 4     /* any k of n trustee shares */
};

#define EV_LABEL_MAX 64
/* A trustee share as printed, without its line end. */
#define EV_SHARE_CHARS 191

/* What `key ls` shows of a slot: never a secret. */
typedef struct ev_slot_info {
    int64_t id;
    int kind;                /* enum ev_slot_kind, or another number for a
                                slot this evault does not know */
    int current;             /* 1: this slot unlocked the handle */
    char label[EV_LABEL_MAX + 1];    /* member name, share set label */
    char added_by[EV_LABEL_MAX + 1]; /* the operator who added it */
    int64_t added_at;        /* 0 when not recorded */
    char recipient[96];      /* a member's age1... recipient */
    int threshold, shares;   /* a trustee set: k of n */
} ev_slot_info;
typedef int (*ev_slot_fn)(void *ctx, const ev_slot_info *s);

/* "passphrase", "recovery key", "member", "trustee shares" or "unknown". */
EV_API const char *ev_slot_kind_name(int kind);

/* Every slot, in id order (unlocked handle).  fn's non-zero stops. */
EV_API int ev_key_list(ev_vault *v, ev_slot_fn fn, void *ctx);

/* Adds a passphrase slot.  replace: also removes the slot that unlocked
 * this handle (a passphrase change).  ops/mem 0: the cost of the
 * passphrase slot that unlocked the handle, else the defaults.  *slot (if
 * not NULL) receives the new slot's id. */
EV_API int ev_key_add_passphrase(ev_vault *v, const char *pass, size_t len,
                                 const char *label, int replace,
                                 uint64_t ops, uint64_t mem_kib,
                                 int64_t *slot);
/* Removes a slot.  Without force it refuses (EV_EINVAL, with the reason)
 * to remove the last slot, or the last passphrase or member slot (the
 * vault would then open only with the recovery key or trustee shares). */
EV_API int ev_key_remove(ev_vault *v, int64_t slot, int force);
/* Makes a new recovery key and removes every older recovery-key slot. */
EV_API int ev_key_new_recovery(ev_vault *v,
                               char recovery[EV_RECOVERY_KEY_CHARS + 1]);
/* A team member opens the vault with the age identity of recipient. */
EV_API int ev_key_member_add(ev_vault *v, const char *name,
                             const char *recipient);
EV_API int ev_key_member_remove(ev_vault *v, const char *name);
/* Splits a new trustee secret into n shares, any k of which open the
 * vault (2 <= k <= n <= 255).  *lines receives n lines, each ending in
 * '\n', in guarded memory: release with ev_secret_free. */
EV_API int ev_key_shares(ev_vault *v, int k, int n, const char *label,
                         char **lines);

/* Unlocks with a member's age identity file (its text). */
EV_API int ev_vault_unlock_identity(ev_vault *v, const char *text,
                                    size_t len);
/* Unlocks with trustee shares (lines as printed).  A bad line fails with
 * EV_EINVAL naming it; shares of different sets or too few fail EV_EKEY. */
EV_API int ev_vault_unlock_shares(ev_vault *v, const char *const *lines,
                                  size_t n);
/* Unlocks with the trustee secret as gfcombine rebuilds it (32 bytes). */
EV_API int ev_vault_unlock_trustee_secret(ev_vault *v, const uint8_t *secret,
                                          size_t len);
/* Checks one share line without a vault: EV_OK (and its number, k and n)
 * or EV_EINVAL with why set to a short reason. */
EV_API int ev_share_check(const char *line, int *x, int *k, int *n,
                          const char **why);

/* Lockdown: records it in the custody log, then destroys every
 * passphrase and member slot (all: the recovery-key slots too), leaving
 * only recovery and trustee slots, and flushes the catalog's log so no
 * removed slot survives in the WAL.  Refuses (EV_EINVAL) to leave no way
 * in at all unless force.  *removed receives the number of slots gone. */
EV_API int ev_vault_lockdown(ev_vault *v, int all, int force, int *removed);
/* A new master key: re-encrypts every catalog value under it (files are
 * not re-encrypted), removes every slot and re-makes them: a passphrase
 * slot for pass (ops/mem 0: the opening slot's cost), a new recovery key
 * (written to recovery), every member slot, and every trustee set with new
 * shares (*lines, guarded memory, NULL when none; *k and *n of the
 * first set).  All or nothing. */
EV_API int ev_key_rotate(ev_vault *v, const char *pass, size_t len,
                         uint64_t ops, uint64_t mem_kib,
                         char recovery[EV_RECOVERY_KEY_CHARS + 1],
                         char **lines, int *k, int *n);
/* ev_key_rotate and ev_key_new_recovery leave a mark, in the same
 * transaction, that their new recovery key has not been shown; the caller
 * clears it with ev_keys_seen once it has shown the key.  *unseen is 1
 * while the mark is there: a process killed between the two, and the old
 * recovery key no longer opens the vault.  ev_keys_unseen needs an open
 * vault, ev_keys_seen an unlocked one. */
EV_API int ev_keys_unseen(ev_vault *v, int *unseen);
EV_API int ev_keys_seen(ev_vault *v);
/* After unlocking with the recovery key or trustee shares: adds a
 * passphrase slot and records the recovery in the custody log. */
EV_API int ev_vault_recover(ev_vault *v, const char *pass, size_t len,
                            uint64_t ops, uint64_t mem_kib);

/* ===================================================================
 * Records
 * =================================================================== */

/* Adds files and directories (recursively, in name order), one record per
 * regular file.  cb runs for each record once it is durable. */
EV_API int ev_record_add_paths(ev_vault *v, const char *const *paths,
                               size_t npaths, const ev_add_opts *opts,
                               ev_record_fn cb, void *ctx);

/* Adds the bytes read from fd until end of file (a testimony on stdin).
 * Nothing is written in plaintext anywhere. */
EV_API int ev_record_add_fd(ev_vault *v, int fd, const ev_add_opts *opts,
                            ev_record_fn cb, void *ctx);

/* Adds the plaintext of an age file encrypted to this vault's identity
 * (evault id's age recipient), streaming: no plaintext touches the disk,
 * and nothing is added unless the whole age file authenticates.
 * *age_err receives the age error on failure. */
EV_API int ev_record_add_age(ev_vault *v, int age_fd, const ev_add_opts *opts,
                             ev_record_fn cb, void *ctx, int *age_err);

/* Records a SHA-256 and size known from elsewhere; stores no bytes. */
EV_API int ev_record_add_hash(ev_vault *v,
                              const uint8_t sha256[EV_SHA256_BYTES],
                              uint64_t size, const ev_add_opts *opts,
                              ev_record_fn cb, void *ctx);

/* One record's metadata.  EV_ENOENT when there is no such record,
 * EV_EDESTROYED (the detail saying when and why) when it was destroyed. */
EV_API int ev_record_get(ev_vault *v, int64_t id, ev_record *out);
EV_API void ev_record_release(ev_record *r);

/* Lists records matching f (NULL: all), in id order; destroyed records
 * are not listed. */
EV_API int ev_record_list(ev_vault *v, const ev_filter *f, ev_record_fn cb,
                          void *ctx);

/* Writes the exact original bytes of a record to fd.  Every chunk is
 * authenticated before it is written; on EV_ECORRUPT the bytes already
 * written must be discarded by the caller. */
EV_API int ev_record_read(ev_vault *v, int64_t id, int fd);

/* Like ev_record_read, to a callback (which returns 0 or an errno). */
EV_API int ev_record_stream(ev_vault *v, int64_t id,
                            int (*fn)(void *ctx, const uint8_t *p, size_t n),
                            void *ctx);

/* Like ev_record_read, into a new file at path (refuses to overwrite unless
 * overwrite is set).  The file appears under its name only once all of it
 * was authenticated and synced; on failure nothing is left behind.  Where
 * the file system has no unnamed files, it is written under a hidden name
 * beside path (".NAME.evault-<16 hex>"), as is a replaced file for a
 * moment.  Hidden names that a killed export left in that folder are
 * removed first, and *swept (when not NULL) counts them. */
EV_API int ev_record_export(ev_vault *v, int64_t id, const char *path,
                            int overwrite, unsigned *swept);
/* What ev_record_export checks of path before anything else: EV_EEXIST
 * when something is there that is not a regular file, or a file and not
 * overwrite; else EV_OK.  For a caller that logs the export first. */
EV_API int ev_record_export_check(ev_vault *v, const char *path,
                                  int overwrite);

/* What ev_record_destroy did. */
typedef struct ev_destroy_result {
    int destroyed;         /* 1 once the destruction is committed: from then
                              on it stands, even when a later step failed */
    int64_t custody_seq;   /* index of its destroy entry in the custody log */
    int had_blob;          /* its content was stored (not hash-only) */
    int64_t shared_with;   /* a record holding the same content, whose blob
                              therefore stays; 0 when none */
    int blob_removed;      /* the blob's wrapped key and bytes are gone */
    int wal_cleared;       /* the catalog's write-ahead log was emptied */
    uint64_t leftovers;    /* blob files of earlier interrupted adds or
                              destroys removed on the way */
} ev_destroy_result;

/* Crypto-shreds an unsealed record: in one transaction, a "destroy" entry
 * naming the record with reason as its note (required) is appended to the
 * custody log, the record's row becomes a tombstone (its id is never
 * reused; metadata, blob reference, search index rows and amendments are
 * deleted), and the blob's row -- its wrapped data key, and its bytes when
 * kept in the catalog -- is deleted unless another record holds the same
 * content.  With secure_delete the freed bytes are zeroed.  Then the
 * catalog's write-ahead log is checkpointed and truncated, so no older
 * page with the key survives in it, and the blob file is removed.
 * EV_ESEALED for a sealed record, EV_EDESTROYED for one destroyed before,
 * EV_ENOENT for no such record.  When a step after the commit fails
 * (another process's read keeps the log: EV_EBUSY; a file cannot be
 * removed: EV_EIO) out->destroyed is 1 and the error says what is left;
 * ev_vault_sweep() finishes it later. */
EV_API int ev_record_destroy(ev_vault *v, int64_t id, const char *reason,
                             ev_destroy_result *out);

/* Removes blob files that no catalog row names (left by an add or a
 * destroy that was interrupted; their keys were never or are no longer
 * stored) and truncates the catalog's write-ahead log.  *nremoved gets
 * the number of files removed.  Takes the writer lock. */
EV_API int ev_vault_sweep(ev_vault *v, uint64_t *nremoved);

/* ===================================================================
 * Custody
 * =================================================================== */

/* Who is acting, for the custody log (NULL: the vault's default operator,
 * set at init, else "unnamed").  The name is copied. */
EV_API int ev_vault_set_operator(ev_vault *v, const char *name);

/* Appends an entry (action, records, note) to the custody log; EV_ENOENT,
 * and nothing logged, when one of the records does not exist. */
EV_API int ev_log_action(ev_vault *v, const char *action, const int64_t *ids,
                         size_t nids, const char *note);

/* Calls fn for each entry of the log (or those naming record, when > 0),
 * in order, with the entry's index and text. */
typedef int (*ev_entry_fn)(void *ctx, uint64_t seq, const char *text);
EV_API int ev_log_list(ev_vault *v, int64_t record, ev_entry_fn fn,
                       void *ctx);

/* Seals records: they can no longer change (corrections are appended as
 * amendments) and a signed checkpoint covering them is made.  Records
 * already sealed are skipped; *nsealed says how many were sealed now. */
EV_API int ev_seal(ev_vault *v, const int64_t *ids, size_t nids,
                   const char *note, size_t *nsealed);

/* Appends a metadata correction to a record (fields given in opts; name,
 * kind, case, source, note, captured_at, location, tags).  reason is
 * required. */
EV_API int ev_record_amend(ev_vault *v, int64_t id, const ev_add_opts *opts,
                           const char *reason);
/* The corrections of a record, oldest first, as partial records (only the
 * fields that were corrected are set; note holds the reason in `path`). */
EV_API int ev_record_amendments(ev_vault *v, int64_t id, ev_record_fn fn,
                                void *ctx);

/* The vault's verification key, the C2SP signed-note verifier key text
 * ("name+keyid+base64"); out needs 256 bytes. */
EV_API int ev_vault_public_key(ev_vault *v, char *out, size_t out_len);

/* A C2SP tlog-proof for a sealed record: its intake entry as extra data,
 * its index, the inclusion path and the latest checkpoint covering it.
 * *out is malloc'ed text. */
EV_API int ev_proof(ev_vault *v, int64_t id, char **out, size_t *out_len);

/* What verifying a file against a proof found. */
typedef struct ev_verify_report {
    int ok;                  /* 1 when everything below holds */
    int key_ok;              /* the key file parses */
    int proof_ok;            /* the proof file parses */
    int signature_ok;        /* the checkpoint is signed by the key */
    int inclusion_ok;        /* the entry is in the signed tree */
    int entry_ok;            /* the entry is an intake entry */
    int hash_ok;             /* the file's SHA-256 and size match it */
    char failure[256];       /* the first thing that failed, in words */
    char key_name[129];
    char key_id[9];          /* the key id (hex) the key file carries */
    int64_t record;
    char entered_at[32];
    char sealed_at[32];      /* the checkpoint's time */
    uint64_t log_size;       /* the checkpoint's tree size */
    uint64_t index;
    char sha256[65];
    uint64_t size;
    char commitment[65];
} ev_verify_report;

/* Verifies a file (its SHA-256 and size) against a tlog proof and a
 * verifier key, with no vault.  EV_OK when everything holds, else
 * EV_ECORRUPT with the report saying what failed (EV_EINVAL when a file
 * is not a key or a proof at all). */
EV_API int ev_verify_proof(const char *proof, size_t proof_len,
                           const char *key, size_t key_len,
                           const uint8_t sha256[EV_SHA256_BYTES],
                           uint64_t size, ev_verify_report *report);

/* RFC 3161 trusted time for the latest checkpoint.  request: a DER
 * TimeStampReq (SHA-256 of the checkpoint's signed note, a nonce) to send
 * to a timestamp authority; it is also kept.  attach: checks the
 * authority's DER reply against that request (and its signature against
 * the CA certificates in ca_file, when not NULL) and keeps it; when gets
 * the authority's time.  *der is malloc'ed. */
EV_API int ev_timestamp_request(ev_vault *v, uint8_t **der, size_t *len);
EV_API int ev_timestamp_attach(ev_vault *v, const uint8_t *tsr, size_t len,
                               const char *ca_file, char when[32]);
/* The reply kept for the checkpoint whose note is given (EV_ENOENT when
 * none). */
EV_API int ev_timestamp_reply(ev_vault *v, const char *checkpoint_note,
                              uint8_t **der, size_t *len);
/* Checks a reply against a checkpoint note with no vault: EV_OK and the
 * time, or EV_ECORRUPT/EV_EINVAL with err saying why. */
EV_API int ev_timestamp_verify(const char *note, size_t note_len,
                               const uint8_t *tsr, size_t tsr_len,
                               const char *ca_file, char when[32], char *err,
                               size_t err_len);

/* SHA-256 and size of a file (for verify). */
EV_API int ev_sha256_file(const char *path, uint8_t sha256[EV_SHA256_BYTES],
                          uint64_t *size);

/* ===================================================================
 * Sharing
 * =================================================================== */

/* The vault's identity as others see it. */
typedef struct ev_identity_info {
    char name[129];       /* the vault's key name, evault.local/<hex> */
    char age[80];         /* age recipient, age1... */
    char minisign[64];    /* minisign public key, RW... */
    char fingerprint[32]; /* to compare by phone: XXXX-XXXX-XXXX-XXXX-XXXX */
} ev_identity_info;
EV_API int ev_identity(ev_vault *v, ev_identity_info *out);
/* The minisign public key in minisign's own .pub file format. */
EV_API int ev_identity_minisign_file(ev_vault *v, char *out, size_t cap);
/* A contact file for partners: "evault contact v1" and name, age,
 * minisign lines. */
EV_API int ev_identity_export(ev_vault *v, char *out, size_t cap);

typedef struct ev_contact {
    char name[129];
    char age[80];
    char minisign[64];
    char fingerprint[32];
} ev_contact;
/* Checks and pins a partner (names are unique). */
EV_API int ev_contact_add(ev_vault *v, const char *name, const char *age,
                          const char *minisign);
/* Parses a contact file (as ev_identity_export writes); name may be NULL
 * to keep the file's. */
EV_API int ev_contact_parse(const char *text, size_t len, ev_contact *out);
EV_API int ev_contact_list(ev_vault *v,
                           int (*fn)(void *ctx, const ev_contact *c),
                           void *ctx);
EV_API int ev_contact_remove(ev_vault *v, const char *name);

typedef struct ev_share_opts {
    const char *const *to;     /* contact names */
    size_t nto;
    const char *const *redact; /* metadata fields left out of the manifest */
    size_t nredact;
    int seal_first;            /* seal unsealed records instead of refusing */
} ev_share_opts;
/* Writes a bundle: an age file to the contacts (and to this vault) whose
 * plaintext is a tar of README.txt, MANIFEST.json, SHA256SUMS, their
 * minisign signatures, the records' files, one tlog proof each, and the
 * keys to check them with.  Streamed; logged in the custody log. */
EV_API int ev_share(ev_vault *v, const int64_t *ids, size_t nids,
                    const ev_share_opts *opts, const char *out_path);

/* Imports a bundle written to this vault: checks the age layer, the
 * signatures against a pinned contact, every SHA-256 and every proof,
 * then adds its records with their provenance in one transaction;
 * anything that fails rejects the whole bundle and adds nothing.  The
 * same bundle imported twice adds nothing (EV_EEXIST).  Signatures must
 * be minisign's hashed form unless allow_legacy is set. */
EV_API int ev_import(ev_vault *v, const char *path, int allow_legacy,
                     ev_record_fn cb, void *ctx, size_t *nimported);

/* Decrypts an age v1 file (binary or armored) from in_fd to out_fd, with
 * the vault's X25519 identity (vault unlocked), an age identity file's
 * text, or a passphrase (scrypt).  Only authenticated chunks are written;
 * on failure *age_err holds the age error (see ev_age_error_text). */
typedef struct ev_age_source {
    ev_vault *vault;          /* or NULL */
    const char *identity;     /* identity file text, or NULL */
    size_t identity_len;
    const char *passphrase;   /* or NULL */
    size_t passphrase_len;
} ev_age_source;
EV_API int ev_age_decrypt(const ev_age_source *src, int in_fd, int out_fd,
                          int *age_err);
/* The same into a new file at path (refused, EV_EEXIST, when it exists):
 * it appears complete, synced, once every chunk was authenticated; until
 * then it is an unnamed file where the file system allows, so a process
 * killed halfway leaves no plaintext behind.  As in ev_record_export,
 * *swept (when not NULL) counts the hidden names of killed writers
 * removed from path's folder. */
EV_API int ev_age_decrypt_file(const ev_age_source *src, int in_fd,
                               const char *path, int *age_err,
                               unsigned *swept);
EV_API const char *ev_age_error_text(int age_err);

/* What an identity file's text is: in the clear (AGE-SECRET-KEY-1..., or
 * not an age file at all), protected with a passphrase (an age file with
 * an scrypt stanza, as 'age -p' writes it), an age file encrypted to some
 * key rather than a passphrase, or an age file whose header is damaged
 * (*age_err says how).  Nothing is derived or decrypted. */
enum {
    EV_IDENTITY_CLEAR = 0,
    EV_IDENTITY_PASSPHRASE = 1,
    EV_IDENTITY_FOR_KEY = 2,
    EV_IDENTITY_DAMAGED = 3
};
EV_API int ev_age_identity_kind(const char *text, size_t len, int *age_err);
/* Decrypts a passphrase-protected identity file into guarded memory:
 * *out (release with ev_secret_free) holds *out_len bytes of identity file
 * text.  EV_EKEY for a wrong passphrase, EV_EINVAL for a damaged file or
 * one of more than 64 KiB, EV_ENOMEM; *age_err holds the age error. */
EV_API int ev_age_identity_decrypt(const char *text, size_t len,
                                   const char *pass, size_t pass_len,
                                   char **out, size_t *out_len, int *age_err);

/* ===================================================================
 * Checking
 * =================================================================== */

#define EV_CHECK_READ_DATA 1 /* decrypt every blob and compare SHA-256 */

/* One problem found by ev_check.  record is 0 when it concerns no record. */
typedef struct ev_problem {
    int64_t record;
    int code;            /* ev_status: EV_ECORRUPT for damage */
    const char *what;    /* plain words */
} ev_problem;
typedef void (*ev_problem_fn)(void *ctx, const ev_problem *p);

/* What ev_check went through.  A destroyed record keeps only a tombstone
 * (its id and state); it is checked against the custody log but is not
 * evidence, so it is counted apart. */
typedef struct ev_check_counts {
    uint64_t records;   /* records checked, destroyed ones not included */
    uint64_t destroyed; /* tombstones of destroyed records checked */
} ev_check_counts;

/* Checks the catalog (and with EV_CHECK_READ_DATA every blob).  Returns
 * EV_OK when all is intact, EV_ECORRUPT when anything is damaged; each
 * problem is passed to cb.  *counts (when not NULL) receives how many
 * records were checked. */
EV_API int ev_check(ev_vault *v, int flags, ev_problem_fn cb, void *ctx,
                    ev_check_counts *counts);

/* ===================================================================
 * Object storage
 * =================================================================== */

/* Where the blobs live, in words ("s3://bucket/prefix at https://host" or
 * the blobs directory); the vault must be unlocked (the S3 settings are
 * encrypted). */
EV_API int ev_store_where(ev_vault *v, char *out, size_t out_len);

/* What a migration did. */
typedef struct ev_migrate_report {
    uint64_t blobs;    /* blobs the catalog names outside itself */
    uint64_t copied;   /* copied now (and verified) */
    uint64_t present;  /* already in the target, verified, not copied */
    uint64_t removed;  /* removed from the old store after the switch */
    uint64_t bytes;    /* bytes copied */
} ev_migrate_report;

/* Moves every stored blob to another store (to an S3 bucket, or back to
 * the vault directory), then makes the catalog name the new store and,
 * unless keep_old, removes the old copies.  Each blob is read back from
 * the target and compared (SHA-256) with the source before the switch.
 * Resumable: run again after an interruption, blobs already in the target
 * are verified, not copied again.  Takes the writer lock throughout;
 * progress in bytes through the progress callback. */
EV_API int ev_store_migrate(ev_vault *v, const ev_store_spec *to,
                            int keep_old, ev_migrate_report *report);

/* ===================================================================
 * Helpers for front ends
 * =================================================================== */

/* Parses an ISO 8601 time ("2024-03-01", "2024-03-01T14:05",
 * "2024-03-01T14:05:09Z", "2024-03-01 14:05:09+02:00") and writes it back
 * normalised as UTC "YYYY-MM-DDTHH:MM:SSZ" (or the date alone). */
EV_API int ev_parse_time(const char *in, char *out, size_t out_len);

/* Guarded memory for secrets a front end holds (a passphrase as typed):
 * locked, with guard pages, wiped when freed.  ev_secret_free accepts
 * NULL. */
EV_API void *ev_secret_alloc(size_t n);
EV_API void ev_secret_free(void *p);
EV_API void ev_secret_wipe(void *p, size_t n);

/* Hex of a SHA-256 (65 bytes with the NUL) and back. */
EV_API void ev_hex(char *out, const uint8_t *in, size_t in_len);
EV_API int ev_unhex(uint8_t *out, size_t out_len, const char *in);

#ifdef __cplusplus
}
#endif
#endif /* EVAULT_H */
