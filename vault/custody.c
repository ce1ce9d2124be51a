/*
 * custody.c - the chain of custody: an append-only Merkle log of every
 * action, signed checkpoints, seals, proofs, and their verification.
 *
 * Owns: the custody and checkpoints tables' contents, entry text, the
 * vault's signing key while a checkpoint is made.
 * Never: rewrites or deletes an entry; releases a proof for a record that
 * no signed checkpoint covers.
 *
 * Entry (the bytes that are hashed, leaf = SHA-256(0x00 || entry)):
 *
 *   evault custody v1
 *   seq <n>
 *   time <YYYY-MM-DDTHH:MM:SSZ>
 *   action <add|get|show|seal|amend|check|init|...>
 *   [operator <name>]              (not in intake entries)
 *   [record <id>]...
 *   [sha256 <hex>]                 (intake entries)
 *   [size <bytes>]                 (intake entries)
 *   [commitment <hex>]             (intake: metadata, salted)
 *   [note <text>]
 *   salt <32 hex>                  (random: a proof's audit path cannot
 *                                   confirm a guess at another entry)
 *
 * An intake entry names no person and no other record, so it can be
 * disclosed alone in a proof.  Stored as XChaCha20-Poly1305(custody key,
 * entry, ad = "evault custody v1" || seq u64le).  Checkpoints are stored
 * the same way with ad = "evault checkpoint v1" || id u64le.
 */
#include "custody.h"

#include "note.h"
#include "rotate.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ENTRY_MAX 8192
#define IDENTITY_BYTES (EV_BOX_SK_BYTES + EV_SIGN_SK_BYTES)

static void
entry_ad(uint8_t ad[25], const char *label, int64_t n)
{
    size_t l = strlen(label); /* 17 or 20 bytes */

    memset(ad, 0, 25);
    memcpy(ad, label, l);
    ev_store64(ad + l, (uint64_t)n);
}

static size_t
ad_len(const char *label)
{
    return strlen(label) + 8;
}

void
ev_custody_time(char out[32], int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL ||
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(out, 32, "1970-01-01T00:00:00Z");
    }
}

/* Appends "key value\n", the value with control characters made spaces. */
static int
put(char *buf, size_t cap, size_t *n, const char *key, const char *val)
{
    size_t kl = strlen(key), vl = strlen(val);

    if (*n + kl + 1 + vl + 1 >= cap) {
        return -1;
    }
    memcpy(buf + *n, key, kl);
    buf[*n + kl] = ' ';
    for (size_t i = 0; i < vl; i++) {
        unsigned char c = (unsigned char)val[i];
        buf[*n + kl + 1 + i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    buf[*n + kl + 1 + vl] = '\n';
    *n += kl + 1 + vl + 1;
    return 0;
}

static int
put_salt(char *buf, size_t cap, size_t *n)
{
    uint8_t salt[16];
    char hex[33];

    ev_random(salt, sizeof salt);
    ev_hex(hex, salt, sizeof salt);
    return put(buf, cap, n, "salt", hex);
}

static int64_t
next_seq(ev_vault *v)
{
    int64_t n = ev_catalog_custody_count(v->cat);

    return n;
}

/* The head: the log's size and the leaf hash of its last entry, kept
 * authenticated in meta 'custody_head' so that entries removed from the end
 * (after the last checkpoint) are noticed:
 *   XChaCha20-Poly1305(custody key, size u64le || leaf[32],
 *                      ad = "evault custody head v1" || vault id) */
static void
head_ad(ev_vault *v, uint8_t ad[22 + EV_VAULT_ID_BYTES])
{
    memcpy(ad, "evault custody head v1", 22);
    memcpy(ad + 22, v->vault_id, EV_VAULT_ID_BYTES);
}

static int
store_head(ev_vault *v, uint64_t size, const ev_hash last)
{
    uint8_t plain[8 + EV_HASH_BYTES], w[8 + EV_HASH_BYTES + EV_WRAP_OVERHEAD];
    uint8_t ad[22 + EV_VAULT_ID_BYTES];
    int rc;

    ev_store64(plain, size);
    memcpy(plain + 8, last, EV_HASH_BYTES);
    head_ad(v, ad);
    ev_wrap(w, plain, sizeof plain, ad, sizeof ad, v->keys->custody);
    rc = ev_catalog_meta_put(v->cat, "custody_head", w, sizeof w);
    return rc == EV_OK ? EV_OK
                       : ev_fail_catalog(v, rc, "cannot write the log head");
}

int
ev_custody_head(ev_vault *v, uint64_t *size, ev_hash last)
{
    ev_bytes b = {0};
    uint8_t plain[8 + EV_HASH_BYTES], ad[22 + EV_VAULT_ID_BYTES];
    int rc = ev_catalog_meta_get(v->cat, "custody_head", &b);

    if (rc != EV_OK) {
        /* missing is damage; a failed read (memory, I/O) is not */
        return rc == EV_ENOENT ? EV_ECORRUPT : rc;
    }
    head_ad(v, ad);
    rc = b.n == sizeof plain + EV_WRAP_OVERHEAD &&
                 ev_unwrap(plain, b.p, b.n, ad, sizeof ad,
                           v->keys->custody) == 0
             ? EV_OK
             : EV_ECORRUPT;
    ev_bytes_free(&b);
    if (rc == EV_OK) {
        *size = ev_load64(plain);
        memcpy(last, plain + 8, EV_HASH_BYTES);
    }
    return rc;
}

int
ev_custody_store_head(ev_vault *v, uint64_t size, const ev_hash last)
{
    return store_head(v, size, last);
}

/* Stores entry text as entry number seq; updates the head unless the
 * caller will (an add updates it once per batch): leaf gets the entry's
 * leaf hash. */
static int
store_entry(ev_vault *v, int64_t seq, const char *text, size_t len,
            int update_head, ev_hash leaf)
{
    uint8_t ad[25], *sealed = malloc(len + EV_WRAP_OVERHEAD);
    int rc;

    if (sealed == NULL) {
        return ev_fail(v, EV_ENOMEM, "out of memory");
    }
    entry_ad(ad, "evault custody v1", seq);
    ev_wrap(sealed, (const uint8_t *)text, len, ad, ad_len("evault custody v1"),
            v->keys->custody);
    rc = ev_catalog_custody_add(v->cat, seq, sealed, len + EV_WRAP_OVERHEAD);
    free(sealed);
    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc, "cannot append to the custody log");
    }
    ev_merkle_leaf(leaf, text, len);
    return update_head ? store_head(v, (uint64_t)seq + 1, leaf) : EV_OK;
}

static const char *
operator_of(ev_vault *v)
{
    return v->operator_ != NULL ? v->operator_ : "unnamed";
}

int
ev_custody_append(ev_vault *v, const char *action, const int64_t *records,
                  size_t nrecords, const char *note, int64_t *seq_out)
{
    char buf[ENTRY_MAX], when[32], num[32];
    size_t n = 0;
    int64_t seq = next_seq(v);
    int bad = 0;

    if (seq < 0) {
        return ev_fail_catalog(v, ev_catalog_status(v->cat),
                               "cannot read the custody log");
    }
    {
        /* not under keys another process has since rotated away */
        int rc = ev_rotate_keys_current(v);
        if (rc != EV_OK) {
            return rc;
        }
    }
    ev_custody_time(when, (int64_t)time(NULL));
    snprintf(num, sizeof num, "%lld", (long long)seq);
    n = (size_t)snprintf(buf, sizeof buf, "evault custody v1\n");
    bad |= put(buf, sizeof buf, &n, "seq", num);
    bad |= put(buf, sizeof buf, &n, "time", when);
    bad |= put(buf, sizeof buf, &n, "action", action);
    bad |= put(buf, sizeof buf, &n, "operator", operator_of(v));
    for (size_t i = 0; i < nrecords && !bad; i++) {
        snprintf(num, sizeof num, "%lld", (long long)records[i]);
        bad |= put(buf, sizeof buf, &n, "record", num);
    }
    if (note != NULL && note[0] != '\0') {
        bad |= put(buf, sizeof buf, &n, "note", note);
    }
    bad |= put_salt(buf, sizeof buf, &n);
    if (bad) {
        return ev_fail(v, EV_EINVAL, "custody entry too long");
    }
    if (seq_out != NULL) {
        *seq_out = seq;
    }
    {
        ev_hash leaf;
        return store_entry(v, seq, buf, n, 1, leaf);
    }
}

int
ev_custody_append_intake(ev_vault *v, const ev_record *r, int64_t seq,
                         ev_hash leaf)
{
    char buf[ENTRY_MAX], when[32], num[32], hex[65];
    uint8_t commit[32];
    size_t n;
    int bad = 0, rc;

    rc = ev_meta_commitment(commit, r);
    if (rc != EV_OK) {
        return ev_fail(v, rc, "out of memory");
    }
    ev_custody_time(when, r->added_at);
    n = (size_t)snprintf(buf, sizeof buf, "evault custody v1\n");
    snprintf(num, sizeof num, "%lld", (long long)seq);
    bad |= put(buf, sizeof buf, &n, "seq", num);
    bad |= put(buf, sizeof buf, &n, "time", when);
    bad |= put(buf, sizeof buf, &n, "action", "add");
    snprintf(num, sizeof num, "%lld", (long long)r->id);
    bad |= put(buf, sizeof buf, &n, "record", num);
    ev_hex(hex, r->sha256, sizeof r->sha256);
    bad |= put(buf, sizeof buf, &n, "sha256", hex);
    snprintf(num, sizeof num, "%llu", (unsigned long long)r->size);
    bad |= put(buf, sizeof buf, &n, "size", num);
    ev_hex(hex, commit, sizeof commit);
    bad |= put(buf, sizeof buf, &n, "commitment", hex);
    if (r->hash_only) {
        bad |= put(buf, sizeof buf, &n, "stored", "hash-only");
    }
    bad |= put_salt(buf, sizeof buf, &n);
    if (bad) {
        return ev_fail(v, EV_EINVAL, "custody entry too long");
    }
    return store_entry(v, seq, buf, n, 0, leaf);
}

int64_t
ev_custody_next_seq(ev_vault *v)
{
    return next_seq(v);
}

/* ------------------------------------------------------------------ */
/* Reading the whole log                                               */
/* ------------------------------------------------------------------ */

void
ev_custody_log_free(ev_custody_log *log)
{
    if (log == NULL) {
        return;
    }
    for (uint64_t i = 0; i < log->n; i++) {
        free(log->entries[i].text);
    }
    free(log->entries);
    free(log->leaves);
    memset(log, 0, sizeof *log);
}

struct load_ctx {
    ev_vault *v;
    ev_custody_log *log;
    uint64_t cap;
    int rc;
};

static int
load_one(void *arg, int64_t seq, int64_t unused, const uint8_t *p, size_t n)
{
    struct load_ctx *l = arg;
    ev_custody_log *log = l->log;
    uint8_t ad[25];
    char *text;

    (void)unused;
    if (seq != (int64_t)log->n) {
        l->rc = ev_fail(l->v, EV_ECORRUPT,
                        "the custody log has a gap before entry %lld "
                        "(entries deleted or renumbered)",
                        (long long)seq);
        return 1;
    }
    if (n < EV_WRAP_OVERHEAD || n > ENTRY_MAX + EV_WRAP_OVERHEAD) {
        l->rc = ev_fail(l->v, EV_ECORRUPT, "custody entry %lld is damaged",
                        (long long)seq);
        return 1;
    }
    if (log->n == l->cap) {
        uint64_t cap = l->cap ? 2 * l->cap : 256;
        ev_custody_entry *e = realloc(log->entries, cap * sizeof *e);
        ev_hash *h;
        if (e == NULL) {
            l->rc = ev_fail(l->v, EV_ENOMEM, "out of memory");
            return 1;
        }
        log->entries = e;
        h = realloc(log->leaves, cap * sizeof *h);
        if (h == NULL) {
            l->rc = ev_fail(l->v, EV_ENOMEM, "out of memory");
            return 1;
        }
        log->leaves = h;
        l->cap = cap;
    }
    text = malloc(n - EV_WRAP_OVERHEAD + 1);
    if (text == NULL) {
        l->rc = ev_fail(l->v, EV_ENOMEM, "out of memory");
        return 1;
    }
    entry_ad(ad, "evault custody v1", seq);
    if (ev_unwrap((uint8_t *)text, p, n, ad, ad_len("evault custody v1"),
                  l->v->keys->custody) != 0) {
        free(text);
        l->rc = ev_fail(l->v, EV_ECORRUPT,
                        "custody entry %lld fails authentication (altered, "
                        "moved or replaced)",
                        (long long)seq);
        return 1;
    }
    text[n - EV_WRAP_OVERHEAD] = '\0';
    log->entries[log->n].text = text;
    log->entries[log->n].len = n - EV_WRAP_OVERHEAD;
    ev_merkle_leaf(log->leaves[log->n], text, n - EV_WRAP_OVERHEAD);
    log->n++;
    return 0;
}

int
ev_custody_load(ev_vault *v, ev_custody_log *log)
{
    struct load_ctx l = {v, log, 0, EV_OK};
    int rc;

    memset(log, 0, sizeof *log);
    rc = ev_catalog_custody_each(v->cat, load_one, &l);
    if (rc == 1 || l.rc != EV_OK) {
        ev_custody_log_free(log);
        return l.rc != EV_OK ? l.rc : EV_ECORRUPT;
    }
    if (rc != EV_OK) {
        ev_custody_log_free(log);
        return ev_fail_catalog(v, rc, "cannot read the custody log");
    }
    return EV_OK;
}

/* Finds "key value" in entry text; copies value (NUL-terminated). */
int
ev_custody_field(const char *text, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    const char *p = text;

    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t ll = nl != NULL ? (size_t)(nl - p) : strlen(p);
        if (ll > kl && strncmp(p, key, kl) == 0 && p[kl] == ' ') {
            size_t vl = ll - kl - 1;
            if (vl >= cap) {
                return -1;
            }
            memcpy(out, p + kl + 1, vl);
            out[vl] = '\0';
            return 0;
        }
        if (nl == NULL) {
            break;
        }
        p = nl + 1;
    }
    return -1;
}

/* Does the entry name this record on a "record" line? */
int
ev_custody_names_record(const char *text, int64_t id)
{
    char want[40];
    size_t wl;
    const char *p = text;

    snprintf(want, sizeof want, "record %lld\n", (long long)id);
    wl = strlen(want);
    while ((p = strstr(p, want)) != NULL) {
        if (p == text || p[-1] == '\n') {
            return 1;
        }
        p += wl;
    }
    (void)wl;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Keys and checkpoints                                                */
/* ------------------------------------------------------------------ */

/* Loads the identity secrets into guarded memory (box sk || sign sk). */
int
ev_identity_load(ev_vault *v, uint8_t **out)
{
    ev_bytes b = {0};
    uint8_t ad[18 + EV_VAULT_ID_BYTES];
    uint8_t *sk;
    int rc = ev_catalog_meta_get(v->cat, "identity", &b);

    *out = NULL;
    if (rc == EV_ENOENT) {
        return ev_fail(v, EV_ECORRUPT, "the vault's identity is missing");
    }
    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc, "cannot read the vault's identity");
    }
    sk = ev_secure_alloc(IDENTITY_BYTES);
    if (sk == NULL) {
        ev_bytes_free(&b);
        return ev_fail(v, EV_ENOMEM, "cannot lock memory for keys");
    }
    memcpy(ad, "evault identity v1", 18);
    memcpy(ad + 18, v->vault_id, EV_VAULT_ID_BYTES);
    if (b.n != IDENTITY_BYTES + EV_WRAP_OVERHEAD ||
        ev_unwrap(sk, b.p, b.n, ad, sizeof ad, v->keys->identity) != 0) {
        ev_bytes_free(&b);
        ev_secure_free(sk);
        return ev_fail(v, EV_ECORRUPT,
                       "the vault's identity fails authentication");
    }
    ev_bytes_free(&b);
    *out = sk;
    return EV_OK;
}

int
ev_custody_key(ev_vault *v, ev_note_key *k)
{
    uint8_t *sk, pk[32], h[32];
    char name[64], hex[17];
    int rc = ev_identity_load(v, &sk);

    if (rc != EV_OK) {
        return rc;
    }
    ev_sign_sk_to_pk(pk, sk + EV_BOX_SK_BYTES);
    ev_secure_free(sk);
    /* The name is derived from the key: it names no person or place. */
    ev_sha256_once(h, pk, sizeof pk);
    ev_hex(hex, h, 8);
    snprintf(name, sizeof name, "evault.local/%s", hex);
    if (ev_note_key_make(k, name, pk) != 0) {
        return ev_fail(v, EV_EINVAL, "bad key name");
    }
    return EV_OK;
}

static void
checkpoint_ad(uint8_t ad[28], int64_t id)
{
    entry_ad(ad, "evault checkpoint v1", id);
}

int
ev_custody_checkpoint(ev_vault *v, const ev_custody_log *log, char *note,
                      size_t note_cap)
{
    ev_checkpoint c;
    ev_note_key k;
    uint8_t *sk = NULL, ad[28], *sealed = NULL;
    int64_t id = 0;
    size_t len;
    int rc;

    memset(&c, 0, sizeof c);
    rc = ev_custody_key(v, &k);
    if (rc == EV_OK) {
        rc = ev_identity_load(v, &sk);
    }
    if (rc != EV_OK) {
        return rc;
    }
    snprintf(c.origin, sizeof c.origin, "%s", k.name);
    c.size = log->n;
    ev_merkle_root(c.root, log->leaves, log->n);
    ev_custody_time(c.time, (int64_t)time(NULL));
    if (ev_checkpoint_sign(note, note_cap, &c, &k, sk + EV_BOX_SK_BYTES) !=
        0) {
        ev_secure_free(sk);
        return ev_fail(v, EV_EINVAL, "checkpoint too large");
    }
    ev_secure_free(sk);
    len = strlen(note);
    sealed = malloc(len + EV_WRAP_OVERHEAD);
    if (sealed == NULL) {
        return ev_fail(v, EV_ENOMEM, "out of memory");
    }
    id = ev_catalog_checkpoint_next_id(v->cat);
    if (id < 1) {
        free(sealed);
        return ev_fail_catalog(v, ev_catalog_status(v->cat),
                               "cannot read checkpoints");
    }
    checkpoint_ad(ad, id);
    ev_wrap(sealed, (const uint8_t *)note, len, ad,
            ad_len("evault checkpoint v1"), v->keys->custody);
    rc = ev_catalog_checkpoint_add(v->cat, id, log->n, sealed,
                                   len + EV_WRAP_OVERHEAD);
    free(sealed);
    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc, "cannot store the checkpoint");
    }
    return EV_OK;
}

void
ev_custody_checkpoints_free(struct ev_custody_checkpoints *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].note);
    }
    free(c->v);
    memset(c, 0, sizeof *c);
}

struct cp_ctx {
    ev_vault *v;
    struct ev_custody_checkpoints *c;
    int rc;
};

static int
cp_one(void *arg, int64_t id, int64_t size, const uint8_t *p, size_t n)
{
    struct cp_ctx *x = arg;
    struct ev_custody_checkpoints *c = x->c;
    uint8_t ad[28];
    char *note;
    void *nv;

    if (id != (int64_t)c->n + 1 || n < EV_WRAP_OVERHEAD ||
        n > EV_NOTE_MAX + EV_WRAP_OVERHEAD || size < 0) {
        x->rc = ev_fail(x->v, EV_ECORRUPT,
                        "checkpoint %lld is missing or damaged",
                        (long long)id);
        return 1;
    }
    nv = realloc(c->v, (c->n + 1) * sizeof *c->v);
    note = malloc(n - EV_WRAP_OVERHEAD + 1);
    if (nv == NULL || note == NULL) {
        free(note);
        if (nv != NULL) {
            c->v = nv;
        }
        x->rc = ev_fail(x->v, EV_ENOMEM, "out of memory");
        return 1;
    }
    c->v = nv;
    checkpoint_ad(ad, id);
    if (ev_unwrap((uint8_t *)note, p, n, ad, ad_len("evault checkpoint v1"),
                  x->v->keys->custody) != 0) {
        free(note);
        x->rc = ev_fail(x->v, EV_ECORRUPT,
                        "checkpoint %lld fails authentication (altered or "
                        "replaced)",
                        (long long)id);
        return 1;
    }
    note[n - EV_WRAP_OVERHEAD] = '\0';
    c->v[c->n].id = id;
    c->v[c->n].size = (uint64_t)size;
    c->v[c->n].note = note;
    c->n++;
    return 0;
}

int
ev_custody_checkpoints_load(ev_vault *v, struct ev_custody_checkpoints *c)
{
    struct cp_ctx x = {v, c, EV_OK};
    int rc;

    memset(c, 0, sizeof *c);
    rc = ev_catalog_checkpoint_each(v->cat, cp_one, &x);
    if (rc == 1 || x.rc != EV_OK) {
        ev_custody_checkpoints_free(c);
        return x.rc != EV_OK ? x.rc : EV_ECORRUPT;
    }
    if (rc != EV_OK) {
        ev_custody_checkpoints_free(c);
        return ev_fail_catalog(v, rc, "cannot read checkpoints");
    }
    return EV_OK;
}

/* ------------------------------------------------------------------ */
/* Key rotation (rotate.c)                                             */
/* ------------------------------------------------------------------ */

int
ev_custody_entry_rekey(const struct ev_keys *from, const struct ev_keys *to,
                       int64_t seq, const uint8_t *in, size_t in_len,
                       uint8_t *out, ev_hash leaf)
{
    uint8_t ad[25], *text;
    int rc = EV_ECORRUPT;

    if (in_len < EV_WRAP_OVERHEAD || in_len > ENTRY_MAX + EV_WRAP_OVERHEAD) {
        return EV_ECORRUPT;
    }
    text = malloc(in_len - EV_WRAP_OVERHEAD + 1);
    if (text == NULL) {
        return EV_ENOMEM;
    }
    entry_ad(ad, "evault custody v1", seq);
    if (ev_rewrap(out, in, in_len, ad, ad_len("evault custody v1"),
                  from->custody, to->custody, text) == 0) {
        ev_merkle_leaf(leaf, text, in_len - EV_WRAP_OVERHEAD);
        rc = EV_OK;
    }
    ev_wipe(text, in_len - EV_WRAP_OVERHEAD);
    free(text);
    return rc;
}

int
ev_checkpoint_rekey(const struct ev_keys *from, const struct ev_keys *to,
                    int64_t id, const uint8_t *in, size_t in_len,
                    uint8_t *out)
{
    uint8_t ad[28];

    if (in_len > EV_NOTE_MAX + EV_WRAP_OVERHEAD) {
        return EV_ECORRUPT;
    }
    checkpoint_ad(ad, id);
    return ev_rekey_value(from->custody, to->custody, ad,
                          ad_len("evault checkpoint v1"), in, in_len, out);
}

int
ev_identity_rekey(ev_vault *v, const struct ev_keys *from,
                  const struct ev_keys *to)
{
    ev_bytes b = {0};
    uint8_t ad[18 + EV_VAULT_ID_BYTES], out[IDENTITY_BYTES + EV_WRAP_OVERHEAD];
    uint8_t *sk;
    int rc = ev_catalog_meta_get(v->cat, "identity", &b);

    if (rc == EV_ENOENT) {
        return ev_fail(v, EV_ECORRUPT, "the vault's identity is missing");
    }
    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc, "cannot read the vault's identity");
    }
    sk = ev_secure_alloc(IDENTITY_BYTES);
    if (sk == NULL) {
        ev_bytes_free(&b);
        return ev_fail(v, EV_ENOMEM, "cannot lock memory for keys");
    }
    memcpy(ad, "evault identity v1", 18);
    memcpy(ad + 18, v->vault_id, EV_VAULT_ID_BYTES);
    rc = b.n == sizeof out && ev_rewrap(out, b.p, b.n, ad, sizeof ad,
                                        from->identity, to->identity,
                                        sk) == 0
             ? EV_OK
             : EV_ECORRUPT;
    ev_secure_free(sk);
    ev_bytes_free(&b);
    if (rc != EV_OK) {
        return ev_fail(v, rc, "the vault's identity fails authentication");
    }
    rc = ev_catalog_meta_put(v->cat, "identity", out, sizeof out);
    return rc == EV_OK ? EV_OK
                       : ev_fail_catalog(v, rc, "cannot write the identity");
}
