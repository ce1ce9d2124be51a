/*
 * rotate.c - master-key rotation, the catalog half: every value kept under
 * a key derived from the master key is opened under the old keys and
 * sealed under the new ones, in the caller's transaction.
 *
 * Owns: the order of that work, the retired blob-id keys (meta
 * 'blobid_retired') and the key check (meta 'key_check').
 * Never: touches blob bytes or key slots, commits, or keeps a key outside
 * guarded memory.  Each format's owner re-encrypts its own values (the
 * ev_*_rekey hooks in rotate.h), so associated data is built in one place.
 *
 * meta 'blobid_retired' = nonce || XChaCha20-Poly1305(meta key,
 *     key_1[32] || ... || key_n[32], ad = "evault blobid retired v1" ||
 *     vault_id[16]), 1 <= n <= EV_BLOBID_RETIRED_MAX, newest first;
 *     absent when no blob is named under an older key.
 * meta 'key_check' = BLAKE2b-256(key = meta key, "evault key check v1" ||
 *     vault_id[16]); absent in a vault never rotated.
 */
#include "rotate.h"

#include "custody.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(EV_BLOBID_BYTES == 32, "a blob id is a keyed BLAKE2b-256");

#define RETIRED_LABEL "evault blobid retired v1"
#define RETIRED_AD_BYTES (sizeof RETIRED_LABEL - 1 + EV_VAULT_ID_BYTES)
#define CHECK_LABEL "evault key check v1"

int
ev_rekey_value(const uint8_t from[EV_KEY_BYTES],
               const uint8_t to[EV_KEY_BYTES], const uint8_t *ad,
               size_t ad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
    uint8_t *plain;
    int rc;

    if (in_len < EV_WRAP_OVERHEAD) {
        return EV_ECORRUPT;
    }
    plain = malloc(in_len - EV_WRAP_OVERHEAD + 1);
    if (plain == NULL) {
        return EV_ENOMEM;
    }
    rc = ev_rewrap(out, in, in_len, ad, ad_len, from, to, plain) == 0
             ? EV_OK
             : EV_ECORRUPT;
    ev_wipe(plain, in_len - EV_WRAP_OVERHEAD);
    free(plain);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Retired blob-id keys                                                */
/* ------------------------------------------------------------------ */

static void
retired_ad(const ev_vault *v, uint8_t ad[RETIRED_AD_BYTES])
{
    memcpy(ad, RETIRED_LABEL, sizeof RETIRED_LABEL - 1);
    memcpy(ad + sizeof RETIRED_LABEL - 1, v->vault_id, EV_VAULT_ID_BYTES);
}

void
ev_blobid_keys_release(ev_blobid_keys *ks)
{
    if (ks != NULL && ks->k != NULL) {
        ev_secure_free(ks->k);
    }
    if (ks != NULL) {
        ks->k = NULL;
        ks->n = 0;
    }
}

int
ev_blobid_keys_load(ev_vault *v, ev_blobid_keys *ks)
{
    ev_bytes b = {0};
    uint8_t ad[RETIRED_AD_BYTES];
    size_t nretired = 0;
    int rc;

    ks->k = NULL;
    ks->n = 0;
    if (v->keys == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
    }
    rc = ev_catalog_meta_get(v->cat, "blobid_retired", &b);
    if (rc == EV_OK) {
        size_t body = b.n >= EV_WRAP_OVERHEAD ? b.n - EV_WRAP_OVERHEAD : 0;
        nretired = body / EV_KEY_BYTES;
        if (b.n < EV_WRAP_OVERHEAD || body % EV_KEY_BYTES != 0 ||
            nretired == 0 || nretired > EV_BLOBID_RETIRED_MAX) {
            ev_bytes_free(&b);
            return ev_fail(v, EV_ECORRUPT,
                           "the retired blob-id keys are damaged");
        }
    } else if (rc != EV_ENOENT) {
        return ev_fail_catalog(v, rc, "cannot read the catalog");
    }
    ks->k = ev_secure_alloc((1 + nretired) * EV_KEY_BYTES);
    if (ks->k == NULL) {
        ev_bytes_free(&b);
        return ev_fail(v, EV_ENOMEM, "cannot lock memory for keys");
    }
    memcpy(ks->k, v->keys->blobid, EV_KEY_BYTES);
    ks->n = 1;
    if (nretired > 0) {
        retired_ad(v, ad);
        if (ev_unwrap(ks->k + EV_KEY_BYTES, b.p, b.n, ad, sizeof ad,
                      v->keys->meta) != 0) {
            ev_bytes_free(&b);
            ev_blobid_keys_release(ks);
            /* keys rotated away by another process, else damage */
            rc = ev_rotate_keys_current(v);
            return rc != EV_OK
                       ? rc
                       : ev_fail(v, EV_ECORRUPT, "the retired blob-id keys "
                                                 "fail authentication");
        }
        ks->n += nretired;
    }
    ev_bytes_free(&b);
    return EV_OK;
}

void
ev_blobid_of(const ev_blobid_keys *ks, size_t i, uint8_t id[EV_BLOBID_BYTES],
             const uint8_t sha256[32])
{
    ev_keyed_hash32(id, ks->k + i * EV_KEY_BYTES, sha256, 32);
}

int
ev_blobid_which(const ev_blobid_keys *ks, const uint8_t sha256[32],
                const uint8_t id[EV_BLOBID_BYTES])
{
    uint8_t want[EV_BLOBID_BYTES];

    for (size_t i = 0; i < ks->n; i++) {
        ev_blobid_of(ks, i, want, sha256);
        if (ev_memeq(want, id, EV_BLOBID_BYTES)) {
            return (int)i;
        }
    }
    return -1;
}

int
ev_blobid_names(ev_vault *v, const uint8_t sha256[32],
                const uint8_t id[EV_BLOBID_BYTES])
{
    uint8_t want[EV_BLOBID_BYTES];
    ev_blobid_keys ks;
    int rc;

    /* The current key first: most blobs, and no catalog read. */
    ev_keyed_hash32(want, v->keys->blobid, sha256, 32);
    if (ev_memeq(want, id, sizeof want)) {
        return EV_OK;
    }
    rc = ev_blobid_keys_load(v, &ks);
    if (rc != EV_OK) {
        return rc;
    }
    rc = ev_blobid_which(&ks, sha256, id) >= 0 ? EV_OK : EV_ECORRUPT;
    ev_blobid_keys_release(&ks);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The key check                                                       */
/* ------------------------------------------------------------------ */

static void
key_check_value(const ev_vault *v, const struct ev_keys *k, uint8_t out[32])
{
    uint8_t msg[sizeof CHECK_LABEL - 1 + EV_VAULT_ID_BYTES];

    memcpy(msg, CHECK_LABEL, sizeof CHECK_LABEL - 1);
    memcpy(msg + sizeof CHECK_LABEL - 1, v->vault_id, EV_VAULT_ID_BYTES);
    ev_keyed_hash32(out, k->meta, msg, sizeof msg);
}

int
ev_rotate_keys_current(ev_vault *v)
{
    ev_bytes b = {0};
    uint8_t want[32];
    int rc;

    if (v->keys == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
    }
    rc = ev_catalog_meta_get(v->cat, "key_check", &b);
    if (rc == EV_ENOENT) {
        return EV_OK;
    }
    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc, "cannot read the catalog");
    }
    key_check_value(v, v->keys, want);
    rc = b.n == sizeof want && ev_memeq(b.p, want, sizeof want) ? EV_OK
                                                                : EV_EKEY;
    ev_bytes_free(&b);
    if (rc != EV_OK) {
        return ev_fail(v, rc,
                       "the vault's master key was changed since it was "
                       "unlocked (key rotate): unlock it again");
    }
    return EV_OK;
}

/* ------------------------------------------------------------------ */
/* Rotation                                                            */
/* ------------------------------------------------------------------ */

struct rot {
    ev_vault *v;
    struct ev_keys *old, *new_;
    ev_blobid_keys ring;  /* under the old keys: its current key first */
    uint8_t *used;        /* ring.n flags: the key names a live blob */
    int64_t next_seq;     /* custody: the seq the next row must have */
    ev_hash last_leaf;
    uint64_t done, total; /* rows, for progress */
    int rc;               /* a hook's failure (detail on v) */
};

static void
progress(struct rot *r)
{
    ev_vault *v = r->v;

    r->done++;
    if (v->progress != NULL && (r->done % 1024 == 0 || r->done == r->total)) {
        v->progress(v->progress_ctx, r->done, r->total);
    }
}

/* Gives out a buffer for the re-encrypted value (same length). */
static int
out_alloc(struct rot *r, const ev_rewrite_row *row, ev_bytes *out)
{
    out->p = malloc(row->value_len > 0 ? row->value_len : 1);
    out->n = row->value_len;
    if (out->p == NULL) {
        r->rc = ev_fail(r->v, EV_ENOMEM, "out of memory");
        return 1;
    }
    return 0;
}

/* A hook's result: on failure, says which value and stops the walk. */
static int
hook_done(struct rot *r, int rc, const char *what, int64_t key)
{
    if (rc == EV_OK) {
        progress(r);
        return 0;
    }
    r->rc = rc == EV_ECORRUPT
                ? ev_fail(r->v, rc,
                          "%s %lld fails authentication under the current "
                          "key (altered or damaged): nothing was changed",
                          what, (long long)key)
                : ev_fail(r->v, rc, "%s %lld: %s", what, (long long)key,
                          ev_strerror(rc));
    return 1;
}

static int
rot_custody(void *ctx, const ev_rewrite_row *row, ev_bytes *out)
{
    struct rot *r = ctx;

    if (row->key != r->next_seq) {
        r->rc = ev_fail(r->v, EV_ECORRUPT,
                        "the custody log has a gap before entry %lld "
                        "(entries deleted or renumbered)",
                        (long long)row->key);
        return 1;
    }
    if (out_alloc(r, row, out) != 0) {
        return 1;
    }
    r->next_seq++;
    return hook_done(r,
                     ev_custody_entry_rekey(r->old, r->new_, row->key,
                                            row->value, row->value_len,
                                            out->p, r->last_leaf),
                     "custody entry", row->key);
}

static int
rot_checkpoint(void *ctx, const ev_rewrite_row *row, ev_bytes *out)
{
    struct rot *r = ctx;

    return out_alloc(r, row, out) != 0
               ? 1
               : hook_done(r,
                           ev_checkpoint_rekey(r->old, r->new_, row->key,
                                               row->value, row->value_len,
                                               out->p),
                           "checkpoint", row->key);
}

static int
rot_amendment(void *ctx, const ev_rewrite_row *row, ev_bytes *out)
{
    struct rot *r = ctx;

    return out_alloc(r, row, out) != 0
               ? 1
               : hook_done(r,
                           ev_amendment_rekey(r->old, r->new_, row->key,
                                              row->aux, row->value,
                                              row->value_len, out->p),
                           "amendment", row->key);
}

static int
rot_tsq(void *ctx, const ev_rewrite_row *row, ev_bytes *out)
{
    struct rot *r = ctx;

    return out_alloc(r, row, out) != 0
               ? 1
               : hook_done(r,
                           ev_timestamp_rekey(r->old, r->new_, 0, row->key,
                                              row->value, row->value_len,
                                              out->p),
                           "the timestamp request of checkpoint", row->key);
}

static int
rot_tsr(void *ctx, const ev_rewrite_row *row, ev_bytes *out)
{
    struct rot *r = ctx;

    return out_alloc(r, row, out) != 0
               ? 1
               : hook_done(r,
                           ev_timestamp_rekey(r->old, r->new_, 1, row->key,
                                              row->value, row->value_len,
                                              out->p),
                           "the timestamp of checkpoint", row->key);
}

static int
rot_contact(void *ctx, const ev_rewrite_row *row, ev_bytes *out)
{
    struct rot *r = ctx;

    return out_alloc(r, row, out) != 0
               ? 1
               : hook_done(r,
                           ev_contact_rekey(r->old, r->new_, row->key,
                                            row->value, row->value_len,
                                            out->p),
                           "contact", row->key);
}

static int
rot_blob(void *ctx, const ev_rewrite_row *row, ev_bytes *out)
{
    struct rot *r = ctx;

    if (row->tag == NULL || row->tag_len != EV_BLOBID_BYTES) {
        r->rc = ev_fail(r->v, EV_ECORRUPT, "blob row %lld has a bad id",
                        (long long)row->key);
        return 1;
    }
    return out_alloc(r, row, out) != 0
               ? 1
               : hook_done(r,
                           ev_dek_rekey(r->old, r->new_, row->tag,
                                        row->value, row->value_len, out->p),
                           "the data key of blob row", row->key);
}

/* records.meta, and the record's blind index rows under the new key; the
 * record's blob marks the blob-id key that names it as still in use. */
static int
rot_record(void *ctx, const ev_rewrite_row *row, ev_bytes *out)
{
    struct rot *r = ctx;
    ev_vault *v = r->v;
    ev_record rec;
    int rc, i;

    if (row->aux == EV_STATE_DESTROYED && row->value_len == 0) {
        progress(r); /* a tombstone: nothing is left to encrypt */
        return 0;
    }
    if (out_alloc(r, row, out) != 0) {
        return 1;
    }
    rc = ev_meta_rekey(r->old, r->new_, row->key, row->value, row->value_len,
                       out->p);
    if (rc != EV_OK) {
        return hook_done(r, rc, "the metadata of record", row->key);
    }
    /* Opened again under the new key (v->keys): it must, and the blind
     * index is rebuilt from what it holds. */
    rc = ev_meta_open(v, row->key, out->p, out->n, &rec);
    if (rc != EV_OK) {
        r->rc = rc;
        return 1;
    }
    rc = ev_meta_index(v, &rec);
    if (rc == EV_OK && row->tag != NULL && row->tag_len == EV_BLOBID_BYTES &&
        (i = ev_blobid_which(&r->ring, rec.sha256, row->tag)) >= 0) {
        r->used[i] = 1;
    }
    ev_record_release(&rec);
    if (rc != EV_OK) {
        r->rc = rc;
        return 1;
    }
    progress(r);
    return 0;
}

static int
walk(struct rot *r, enum ev_rewrite_table t, ev_rewrite_fn fn,
     const char *what)
{
    int rc = ev_catalog_rewrite(r->v->cat, t, fn, r);

    if (rc == EV_OK) {
        return EV_OK;
    }
    if (r->rc != EV_OK) {
        return r->rc;
    }
    return ev_fail_catalog(r->v, rc, what);
}

/* The custody head must describe the log just re-encrypted (its size and
 * last leaf: the plaintext, so the tree, did not change); it is then
 * stored under the new key. */
static int
rot_head(struct rot *r)
{
    ev_vault *v = r->v;
    ev_hash last;
    uint64_t size = 0;
    int rc;

    v->keys = r->old;
    rc = ev_custody_head(v, &size, last);
    v->keys = r->new_;
    if (rc == EV_ECORRUPT) {
        return ev_fail(v, EV_ECORRUPT,
                       "the custody log's head fails authentication");
    }
    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc, "cannot read the custody log's head");
    }
    if (size != (uint64_t)r->next_seq ||
        (size > 0 && !ev_memeq(last, r->last_leaf, EV_HASH_BYTES))) {
        return ev_fail(v, EV_ECORRUPT,
                       "the custody log's head does not match the log "
                       "(entries removed or replaced at its end)");
    }
    return ev_custody_store_head(v, size, last);
}

/* Keeps the old blob-id keys that still name a blob, under the new meta
 * key: the old current key first, then the older ones in their order. */
static int
rot_retired(struct rot *r)
{
    ev_vault *v = r->v;
    uint8_t ad[RETIRED_AD_BYTES], *plain = NULL, *w = NULL;
    size_t n = 0;
    int rc;

    for (size_t i = 0; i < r->ring.n; i++) {
        n += r->used[i] != 0;
    }
    if (n == 0) {
        rc = ev_catalog_meta_delete(v->cat, "blobid_retired");
        return rc == EV_OK ? EV_OK
                           : ev_fail_catalog(v, rc, "cannot write the "
                                                    "catalog");
    }
    if (n > EV_BLOBID_RETIRED_MAX) {
        return ev_fail(v, EV_EINVAL,
                       "blobs are named under %zu older keys, more than "
                       "the %d a vault keeps",
                       n, EV_BLOBID_RETIRED_MAX);
    }
    plain = ev_secure_alloc(n * EV_KEY_BYTES);
    w = malloc(n * EV_KEY_BYTES + EV_WRAP_OVERHEAD);
    if (plain == NULL || w == NULL) {
        rc = ev_fail(v, EV_ENOMEM, "cannot lock memory for keys");
        goto cleanup;
    }
    n = 0;
    for (size_t i = 0; i < r->ring.n; i++) {
        if (r->used[i]) {
            memcpy(plain + n++ * EV_KEY_BYTES,
                   r->ring.k + i * EV_KEY_BYTES, EV_KEY_BYTES);
        }
    }
    retired_ad(v, ad);
    ev_wrap(w, plain, n * EV_KEY_BYTES, ad, sizeof ad, r->new_->meta);
    rc = ev_catalog_meta_put(v->cat, "blobid_retired", w,
                             n * EV_KEY_BYTES + EV_WRAP_OVERHEAD);
    if (rc != EV_OK) {
        rc = ev_fail_catalog(v, rc, "cannot write the catalog");
    }
cleanup:
    if (plain != NULL) {
        ev_secure_free(plain);
    }
    free(w);
    return rc;
}

static int
rot_key_check(struct rot *r)
{
    uint8_t value[32];
    int rc;

    key_check_value(r->v, r->new_, value);
    rc = ev_catalog_meta_put(r->v->cat, "key_check", value, sizeof value);
    return rc == EV_OK ? EV_OK
                       : ev_fail_catalog(r->v, rc, "cannot write the "
                                                   "catalog");
}

static uint64_t
count_rows(ev_catalog *c)
{
    uint64_t total = 0;

    for (int t = 0; t < EV_REWRITE_LAST; t++) {
        int64_t n = ev_catalog_rewrite_count(c, (enum ev_rewrite_table)t);
        total += n > 0 ? (uint64_t)n : 0;
    }
    return total;
}

int
ev_rotate_rewrap(ev_vault *v, const uint8_t new_mk[EV_KEY_BYTES])
{
    struct rot r;
    int rc;

    memset(&r, 0, sizeof r);
    r.v = v;
    r.old = v->keys;
    if (v->cat == NULL || r.old == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
    }
    if (v->lock_fd < 0 || !ev_catalog_in_txn(v->cat)) {
        return ev_fail(v, EV_EINVAL, "key rotation needs the writer lock "
                                     "and an open transaction");
    }
    if (ev_memeq(r.old->mk, new_mk, EV_KEY_BYTES)) {
        return ev_fail(v, EV_EINVAL, "the new master key is the old one");
    }
    /* The new key set, in guarded memory of its own. */
    v->keys = NULL;
    rc = ev_vault_set_master(v, new_mk);
    r.new_ = v->keys;
    v->keys = r.old;
    if (rc != EV_OK) {
        return rc;
    }
    rc = ev_blobid_keys_load(v, &r.ring);
    if (rc == EV_OK) {
        r.used = calloc(r.ring.n, 1);
        rc = r.used != NULL ? EV_OK : ev_fail(v, EV_ENOMEM, "out of memory");
    }
    if (rc != EV_OK) {
        goto cleanup;
    }
    r.total = count_rows(v->cat);
    /* From here v->keys is the new set: what the modules write is under
     * it, and the hooks are given both sets. */
    v->keys = r.new_;
    rc = ev_identity_rekey(v, r.old, r.new_);
    if (rc == EV_OK) {
        rc = ev_operator_rekey(v, r.old, r.new_);
    }
    if (rc == EV_OK) {
        rc = ev_store_settings_rekey(v, r.old, r.new_);
    }
    if (rc == EV_OK) {
        rc = walk(&r, EV_REWRITE_CUSTODY, rot_custody,
                  "cannot re-encrypt the custody log");
    }
    if (rc == EV_OK) {
        rc = rot_head(&r);
    }
    if (rc == EV_OK) {
        rc = walk(&r, EV_REWRITE_CHECKPOINTS, rot_checkpoint,
                  "cannot re-encrypt checkpoints");
    }
    if (rc == EV_OK) {
        rc = walk(&r, EV_REWRITE_AMENDMENTS, rot_amendment,
                  "cannot re-encrypt amendments");
    }
    if (rc == EV_OK) {
        rc = walk(&r, EV_REWRITE_TSQ, rot_tsq,
                  "cannot re-encrypt timestamps");
    }
    if (rc == EV_OK) {
        rc = walk(&r, EV_REWRITE_TSR, rot_tsr,
                  "cannot re-encrypt timestamps");
    }
    if (rc == EV_OK) {
        rc = walk(&r, EV_REWRITE_CONTACTS, rot_contact,
                  "cannot re-encrypt contacts");
    }
    if (rc == EV_OK) {
        rc = walk(&r, EV_REWRITE_BLOBS, rot_blob,
                  "cannot re-encrypt data keys");
    }
    if (rc == EV_OK) {
        rc = ev_catalog_blind_clear(v->cat);
        if (rc != EV_OK) {
            rc = ev_fail_catalog(v, rc, "cannot clear the search index");
        }
    }
    if (rc == EV_OK) {
        rc = walk(&r, EV_REWRITE_RECORDS, rot_record,
                  "cannot re-encrypt records");
    }
    if (rc == EV_OK) {
        rc = rot_retired(&r);
    }
    if (rc == EV_OK) {
        rc = rot_key_check(&r);
    }
cleanup:
    v->keys = r.old;
    if (rc == EV_OK) {
        /* The old block takes the new keys: v->keys keeps its address. */
        rc = ev_vault_set_master(v, new_mk);
    }
    ev_blobid_keys_release(&r.ring);
    free(r.used);
    if (r.new_ != NULL) {
        ev_secure_free(r.new_);
    }
    return rc;
}
