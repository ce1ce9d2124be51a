/*
 * keyslot.c - the key slots (formats in keyslot.h).
 *
 * Owns: the keyslots table's contents and the recovery key's text form.
 * Never: keeps a key-encryption key or passphrase beyond one call.
 *
 * Params by kind (byte 0 is the slot format, 1):
 *   passphrase (33): 1 || ops u64le || mem_kib u64le || salt[16]
 *   recovery    (1): 1
 *   member     (81): 1 || crypto_box_seal(KEK)[80]
 *   trustee     (7): 1 || k || n || set[4]
 * Recovery key text: Crockford base32 of secret[20] || check[2], where
 * check = CRC-16/CCITT(secret) big-endian, in 9 groups of 4.
 */
#include "keyslot.h"
#include "json.h"

#include "util.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PASS_PARAMS_BYTES 33
#define MEMBER_PARAMS_BYTES (1 + EV_KEY_BYTES + EV_BOX_SEAL_OVERHEAD)
#define TRUSTEE_PARAMS_BYTES (3 + EV_SHARE_SET_BYTES)
#define WRAPPED_BYTES (EV_KEY_BYTES + EV_WRAP_OVERHEAD)
#define AD_MAX 128
#define INFO_MAX 1024

static size_t
slot_ad(ev_vault *v, uint8_t ad[AD_MAX], const char *label, int kind,
        const uint8_t *params, size_t params_len)
{
    size_t n = strlen(label);

    if (n + EV_VAULT_ID_BYTES + 1 + params_len > AD_MAX) {
        return 0; /* a slot this evault does not know; never opens */
    }
    memcpy(ad, label, n);
    memcpy(ad + n, v->vault_id, EV_VAULT_ID_BYTES);
    n += EV_VAULT_ID_BYTES;
    ad[n++] = (uint8_t)kind;
    memcpy(ad + n, params, params_len);
    return n + params_len;
}

/* The slot's description as sealed JSON; NULL when out of memory. */
static uint8_t *
seal_info(ev_vault *v, int kind, const uint8_t *params, size_t params_len,
          const char *label, const char *recipient, int k, int n,
          size_t *out_len)
{
    uint8_t ad[AD_MAX], *out = NULL;
    size_t ad_len = slot_ad(v, ad, "evault slot info1", kind, params,
                            params_len);
    json_t *o = json_object();
    char *js = NULL;
    int bad = 0;

    if (o == NULL) {
        return NULL;
    }
    /* every setter checked: a member slot must never lose its name */
    bad |= json_object_set_new(o, "added_at",
                               json_integer((json_int_t)time(NULL))) != 0;
    bad |= json_object_set_new(o, "added_by",
                               json_string(v->operator_ != NULL
                                               ? v->operator_
                                               : "unnamed")) != 0;
    if (label != NULL) {
        bad |= json_object_set_new(o, "label", json_string(label)) != 0;
    }
    if (recipient != NULL) {
        bad |= json_object_set_new(o, "recipient", json_string(recipient)) !=
               0;
    }
    if (k > 0) {
        bad |= json_object_set_new(o, "k", json_integer(k)) != 0;
        bad |= json_object_set_new(o, "n", json_integer(n)) != 0;
    }
    js = bad ? NULL : ev_json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (js != NULL && strlen(js) <= INFO_MAX &&
        (out = malloc(strlen(js) + EV_WRAP_OVERHEAD)) != NULL) {
        ev_wrap(out, (const uint8_t *)js, strlen(js), ad, ad_len,
                v->keys->meta);
        *out_len = strlen(js) + EV_WRAP_OVERHEAD;
    }
    free(js);
    return out;
}

static int
add_slot(ev_vault *v, int kind, const uint8_t *params, size_t params_len,
         const uint8_t kek[EV_KEY_BYTES], const char *label,
         const char *recipient, int k, int n, int64_t *id)
{
    uint8_t ad[AD_MAX], wrapped[WRAPPED_BYTES], *info;
    size_t ad_len = slot_ad(v, ad, "evault keyslot v1", kind, params,
                            params_len);
    size_t info_len = 0;
    int rc;

    if (label != NULL && (label[0] == '\0' || strlen(label) > EV_LABEL_MAX)) {
        return ev_fail(v, EV_EINVAL, "a label or name is 1 to %d bytes",
                       EV_LABEL_MAX);
    }
    info = seal_info(v, kind, params, params_len, label, recipient, k, n,
                     &info_len);
    if (info == NULL) {
        return ev_fail(v, EV_ENOMEM, "out of memory");
    }
    ev_wrap(wrapped, v->keys->mk, EV_KEY_BYTES, ad, ad_len, kek);
    rc = ev_catalog_keyslot_add(v->cat, kind, params, params_len, wrapped,
                                sizeof wrapped, info, info_len, id);
    free(info);
    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc, "cannot add key slot");
    }
    return EV_OK;
}

static int
need_keys(ev_vault *v)
{
    return v->keys == NULL ? ev_fail(v, EV_ELOCKED, "vault is locked") : EV_OK;
}

int
ev_keyslot_cost_ok(uint64_t ops, uint64_t mem_kib)
{
    return ops >= 1 && ops <= EV_ARGON2_OPS_MAX && mem_kib >= 8 &&
           mem_kib <= EV_ARGON2_MEM_KIB_MAX &&
           ops * mem_kib <= EV_ARGON2_WORK_MAX;
}

int
ev_keyslot_add_passphrase(ev_vault *v, const char *pass, size_t len,
                          uint64_t ops, uint64_t mem_kib, const char *label,
                          int64_t *id)
{
    uint8_t params[PASS_PARAMS_BYTES];
    uint8_t *kek;
    int rc = need_keys(v);

    if (rc != EV_OK) {
        return rc;
    }
    if (!ev_keyslot_cost_ok(ops, mem_kib)) {
        return ev_fail(v, EV_EINVAL,
                       "Argon2id cost out of range (1..%d passes, up to %d "
                       "MiB, at most %d times the default work)",
                       EV_ARGON2_OPS_MAX, EV_ARGON2_MEM_KIB_MAX / 1024, 64);
    }
    params[0] = 1;
    ev_store64(params + 1, ops);
    ev_store64(params + 9, mem_kib);
    ev_random(params + 17, EV_SALT_BYTES);
    kek = ev_secure_alloc(EV_KEY_BYTES);
    if (kek == NULL) {
        return ev_fail(v, EV_ENOMEM, "cannot lock memory for a key");
    }
    if (ev_argon2id(kek, pass, len, params + 17, ops, mem_kib) != 0) {
        ev_secure_free(kek);
        return ev_fail(v, EV_ENOMEM,
                       "Argon2id failed: not enough memory for %llu KiB",
                       (unsigned long long)mem_kib);
    }
    rc = add_slot(v, EV_SLOT_PASSPHRASE, params, sizeof params, kek, label,
                  NULL, 0, 0, id);
    ev_secure_free(kek);
    return rc;
}

/* CRC-16/CCITT (poly 0x1021, init 0xffff) of the secret, big-endian.  A
 * CRC, not a hash: it catches every error in up to 16 consecutive bits, so
 * every mistyped symbol and every swap of two neighbouring symbols. */
static void
recovery_check(uint8_t check[2], const uint8_t *secret)
{
    uint16_t crc = 0xffff;

    for (size_t i = 0; i < EV_RECOVERY_SECRET_BYTES; i++) {
        crc ^= (uint16_t)(secret[i] << 8);
        for (int b = 0; b < 8; b++) {
            crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
        }
    }
    check[0] = (uint8_t)(crc >> 8);
    check[1] = (uint8_t)crc;
}

/* KEK = BLAKE2b-256(key = secret, label || vault id).  0, or -1 when
 * BLAKE2b refused its lengths (it does not: they are constant). */
static int
secret_kek(ev_vault *v, uint8_t kek[EV_KEY_BYTES], const char *label,
           const uint8_t *secret, size_t secret_len)
{
    uint8_t msg[18 + EV_VAULT_ID_BYTES];
    size_t n = strlen(label);

    memcpy(msg, label, n);
    memcpy(msg + n, v->vault_id, EV_VAULT_ID_BYTES);
    return ev_blake2b(kek, EV_KEY_BYTES, secret, secret_len, msg,
                      n + EV_VAULT_ID_BYTES);
}

/* Parses and checks the text form; 0 and the secret, or -1. */
static int
recovery_parse(uint8_t secret[EV_RECOVERY_SECRET_BYTES], const char *text)
{
    uint8_t raw[EV_RECOVERY_SECRET_BYTES + 2], check[2];
    long n = ev_base32_decode(raw, sizeof raw, text);
    int ok;

    if (n != (long)sizeof raw) {
        ev_wipe(raw, sizeof raw);
        return -1;
    }
    recovery_check(check, raw);
    ok = ev_memeq(check, raw + EV_RECOVERY_SECRET_BYTES, 2);
    memcpy(secret, raw, EV_RECOVERY_SECRET_BYTES);
    ev_wipe(raw, sizeof raw);
    return ok ? 0 : -1;
}

int
ev_recovery_key_check(const char *key)
{
    uint8_t secret[EV_RECOVERY_SECRET_BYTES];
    int rc = recovery_parse(secret, key) == 0 ? EV_OK : EV_EINVAL;

    ev_wipe(secret, sizeof secret);
    return rc;
}

int
ev_keyslot_add_recovery(ev_vault *v, char out[EV_RECOVERY_KEY_CHARS + 1],
                        int64_t *id)
{
    uint8_t *buf; /* secret || check || kek */
    char b32[40];
    const uint8_t params[1] = {1};
    size_t o = 0;
    int rc = need_keys(v);

    if (rc != EV_OK) {
        return rc;
    }
    buf = ev_secure_alloc(EV_RECOVERY_SECRET_BYTES + 2 + EV_KEY_BYTES);
    if (buf == NULL) {
        return ev_fail(v, EV_ENOMEM, "cannot lock memory for a key");
    }
    ev_random(buf, EV_RECOVERY_SECRET_BYTES);
    recovery_check(buf + EV_RECOVERY_SECRET_BYTES, buf);
    ev_base32_encode(b32, buf, EV_RECOVERY_SECRET_BYTES + 2); /* 36 chars */
    for (size_t i = 0; i < 36; i++) {
        if (i > 0 && i % 4 == 0) {
            out[o++] = '-';
        }
        out[o++] = b32[i];
    }
    out[o] = '\0';
    ev_wipe(b32, sizeof b32);
    if (secret_kek(v, buf + EV_RECOVERY_SECRET_BYTES + 2, "evault recovery v1",
                   buf, EV_RECOVERY_SECRET_BYTES) != 0) {
        rc = ev_fail(v, EV_ENOMEM, "cannot derive a key: libsodium failed");
    } else {
        rc = add_slot(v, EV_SLOT_RECOVERY, params, sizeof params,
                      buf + EV_RECOVERY_SECRET_BYTES + 2, NULL, NULL, 0, 0, id);
    }
    ev_secure_free(buf);
    if (rc != EV_OK) {
        ev_wipe(out, EV_RECOVERY_KEY_CHARS + 1);
    }
    return rc;
}

int
ev_keyslot_add_member(ev_vault *v, const char *name, const uint8_t pk[32],
                      const char *recipient, int64_t *id)
{
    uint8_t params[MEMBER_PARAMS_BYTES], *kek;
    int rc = need_keys(v);

    if (rc != EV_OK) {
        return rc;
    }
    kek = ev_secure_alloc(EV_KEY_BYTES);
    if (kek == NULL) {
        return ev_fail(v, EV_ENOMEM, "cannot lock memory for a key");
    }
    ev_random(kek, EV_KEY_BYTES);
    params[0] = 1;
    if (ev_box_seal(params + 1, kek, EV_KEY_BYTES, pk) != 0) {
        ev_secure_free(kek);
        return ev_fail(v, EV_EINVAL,
                       "'%s' is not a usable key (a low-order X25519 point)",
                       recipient != NULL ? recipient : name);
    }
    rc = add_slot(v, EV_SLOT_MEMBER, params, sizeof params, kek, name,
                  recipient, 0, 0, id);
    ev_secure_free(kek);
    return rc;
}

int
ev_keyslot_add_trustee(ev_vault *v,
                       const uint8_t secret[EV_TRUSTEE_SECRET_BYTES], int k,
                       int n, const uint8_t set[EV_SHARE_SET_BYTES],
                       const char *label, int64_t *id)
{
    uint8_t params[TRUSTEE_PARAMS_BYTES], *kek;
    int rc = need_keys(v);

    if (rc != EV_OK) {
        return rc;
    }
    kek = ev_secure_alloc(EV_KEY_BYTES);
    if (kek == NULL) {
        return ev_fail(v, EV_ENOMEM, "cannot lock memory for a key");
    }
    if (secret_kek(v, kek, "evault trustee v1", secret,
                   EV_TRUSTEE_SECRET_BYTES) != 0) {
        ev_secure_free(kek);
        return ev_fail(v, EV_ENOMEM, "cannot derive a key: libsodium failed");
    }
    params[0] = 1;
    params[1] = (uint8_t)k;
    params[2] = (uint8_t)n;
    memcpy(params + 3, set, EV_SHARE_SET_BYTES);
    rc = add_slot(v, EV_SLOT_TRUSTEE, params, sizeof params, kek, label,
                  NULL, k, n, id);
    ev_secure_free(kek);
    return rc;
}

int
ev_keyslot_trustee_set(const ev_slot_row *row,
                       uint8_t set[EV_SHARE_SET_BYTES], int *k, int *n)
{
    if (row->kind != EV_SLOT_TRUSTEE ||
        row->params_len != TRUSTEE_PARAMS_BYTES || row->params[0] != 1) {
        return -1;
    }
    *k = row->params[1];
    *n = row->params[2];
    memcpy(set, row->params + 3, EV_SHARE_SET_BYTES);
    return 0;
}

/* Does this evault know the slot's layout?  Damaged or newer slots are
 * skipped by unlock and shown as unknown by `key ls`. */
static int
slot_known(const ev_slot_row *row)
{
    if (row->wrapped_len != WRAPPED_BYTES || row->params_len == 0 ||
        row->params[0] != 1) {
        return 0;
    }
    switch (row->kind) {
    case EV_SLOT_PASSPHRASE:
        return row->params_len == PASS_PARAMS_BYTES;
    case EV_SLOT_RECOVERY:
        return row->params_len == 1;
    case EV_SLOT_MEMBER:
        return row->params_len == MEMBER_PARAMS_BYTES;
    case EV_SLOT_TRUSTEE:
        return row->params_len == TRUSTEE_PARAMS_BYTES;
    default:
        return 0;
    }
}

int
ev_keyslot_describe(ev_vault *v, const ev_slot_row *row, ev_slot_info *out)
{
    uint8_t ad[AD_MAX];
    char *js;
    size_t ad_len, n;
    int rc;

    memset(out, 0, sizeof *out);
    out->id = row->id;
    out->kind = slot_known(row) ? row->kind : -row->kind;
    out->current = row->id == v->slot_id;
    if (row->info == NULL || row->info_len <= EV_WRAP_OVERHEAD ||
        row->info_len > INFO_MAX + EV_WRAP_OVERHEAD || v->keys == NULL) {
        return EV_OK;
    }
    n = row->info_len - EV_WRAP_OVERHEAD;
    js = malloc(n + 1);
    if (js == NULL) {
        return ev_fail(v, EV_ENOMEM, "out of memory");
    }
    ad_len = slot_ad(v, ad, "evault slot info1", row->kind, row->params,
                     row->params_len);
    if (ad_len == 0 || ev_unwrap((uint8_t *)js, row->info, row->info_len, ad,
                                 ad_len, v->keys->meta) != 0) {
        free(js);
        snprintf(out->label, sizeof out->label, "(description damaged)");
        return EV_OK;
    }
    js[n] = '\0';
    rc = ev_slot_info_decode(js, out);
    free(js);
    return rc == EV_ENOMEM ? ev_fail(v, EV_ENOMEM, "out of memory") : EV_OK;
}

int
ev_slot_info_decode(const char *js, ev_slot_info *out)
{
    json_error_t jerr;
    json_t *o = json_loads(js, 0, &jerr);

    if (o == NULL) {
        return json_error_code(&jerr) == json_error_out_of_memory
                   ? EV_ENOMEM
                   : EV_ECORRUPT;
    }
    {
        const char *s;
        if ((s = json_string_value(json_object_get(o, "label"))) != NULL) {
            snprintf(out->label, sizeof out->label, "%s", s);
        }
        if ((s = json_string_value(json_object_get(o, "added_by"))) != NULL) {
            snprintf(out->added_by, sizeof out->added_by, "%s", s);
        }
        if ((s = json_string_value(json_object_get(o, "recipient"))) != NULL) {
            snprintf(out->recipient, sizeof out->recipient, "%s", s);
        }
        out->added_at =
            (int64_t)json_integer_value(json_object_get(o, "added_at"));
        json_int_t k = json_integer_value(json_object_get(o, "k"));
        json_int_t n = json_integer_value(json_object_get(o, "n"));
        /* a trustee set has at most 255 shares (libgfshare) */
        out->threshold = k >= 0 && k <= 255 ? (int)k : 0;
        out->shares = n >= 0 && n <= 255 ? (int)n : 0;
    }
    json_decref(o);
    return EV_OK;
}

/* A passphrase's Argon2id for one slot, derived on a thread of its own
 * (ev_keyslot_derive_start).  The thread touches nothing but this. */
struct ev_kdf_job {
    pthread_t thread;
    int started;
    atomic_int done;
    int rc;                          /* of ev_argon2id */
    int64_t slot_id;                 /* the slot it derives for */
    uint8_t params[PASS_PARAMS_BYTES]; /* that slot's, as read */
    uint8_t *secret;                 /* guarded: kek[32] || passphrase */
    size_t pass_len;
};

struct unlock_ctx {
    int bad_cost; /* a slot's Argon2 cost was out of range */
    const struct ev_kdf_job *job; /* a KEK derived already, or NULL */
    ev_vault *v;
    int kind;
    const char *pass;
    size_t pass_len;
    const uint8_t *secret;    /* recovery, trustee */
    const uint8_t *member_sk; /* member */
    uint8_t member_pk[32];
    int status;
};

/* Derives the slot's KEK into kek: 0, or -1 when this input does not
 * fit the slot (wrong member, impossible cost), or when the derivation
 * failed (u->status set: the walk stops). */
static int
slot_kek(struct unlock_ctx *u, const ev_slot_row *row, uint8_t *kek)
{
    const uint8_t *params = row->params;

    switch (row->kind) {
    case EV_SLOT_PASSPHRASE: {
        uint64_t ops = ev_load64(params + 1), mem = ev_load64(params + 9);
        /* The cost is read before anything authenticates it: refuse costs
         * no evault writes, so an altered slot fails in seconds rather than
         * deriving for hours. */
        if (!ev_keyslot_cost_ok(ops, mem)) {
            u->bad_cost = 1;
            return -1;
        }
        if (u->job != NULL && u->job->rc == 0 && row->id == u->job->slot_id &&
            memcmp(row->params, u->job->params, PASS_PARAMS_BYTES) == 0) {
            memcpy(kek, u->job->secret, EV_KEY_BYTES);
            return 0;
        }
        if (ev_argon2id(kek, u->pass, u->pass_len, params + 17, ops, mem) !=
            0) {
            /* The cost is in range, so only memory can be missing: not a
             * wrong passphrase, and no other slot would fare better. */
            u->status = ev_fail(u->v, EV_ENOMEM,
                                "not enough memory to check the passphrase "
                                "(Argon2id needs %llu MiB)",
                                (unsigned long long)(mem / 1024));
            return -1;
        }
        return 0;
    }
    case EV_SLOT_RECOVERY:
        if (secret_kek(u->v, kek, "evault recovery v1", u->secret,
                       EV_RECOVERY_SECRET_BYTES) != 0) {
            u->status = ev_fail(u->v, EV_ENOMEM,
                                "cannot derive a key: libsodium failed");
            return -1;
        }
        return 0;
    case EV_SLOT_MEMBER:
        return ev_box_seal_open(kek, params + 1, MEMBER_PARAMS_BYTES - 1,
                                u->member_pk, u->member_sk);
    case EV_SLOT_TRUSTEE:
        if (secret_kek(u->v, kek, "evault trustee v1", u->secret,
                       EV_TRUSTEE_SECRET_BYTES) != 0) {
            u->status = ev_fail(u->v, EV_ENOMEM,
                                "cannot derive a key: libsodium failed");
            return -1;
        }
        return 0;
    default:
        return -1;
    }
}

static int
try_slot(void *arg, const ev_slot_row *row)
{
    struct unlock_ctx *u = arg;
    uint8_t ad[AD_MAX];
    uint8_t *buf; /* kek || mk */
    size_t ad_len;
    int opened = 0;

    if (row->kind != u->kind || !slot_known(row)) {
        return 0; /* another kind, a slot from a newer evault, or damaged */
    }
    buf = ev_secure_alloc(2 * EV_KEY_BYTES);
    if (buf == NULL) {
        u->status = EV_ENOMEM;
        return 1;
    }
    if (slot_kek(u, row, buf) != 0) {
        ev_secure_free(buf);
        return u->status != EV_EKEY; /* 1 stops the walk on a failure */
    }
    ad_len = slot_ad(u->v, ad, "evault keyslot v1", row->kind, row->params,
                     row->params_len);
    if (ev_unwrap(buf + EV_KEY_BYTES, row->wrapped, row->wrapped_len, ad,
                  ad_len, buf) == 0) {
        u->status = ev_vault_set_master(u->v, buf + EV_KEY_BYTES);
        u->v->slot_id = row->id;
        u->v->slot_kind = row->kind;
        if (row->kind == EV_SLOT_PASSPHRASE) {
            u->v->slot_ops = ev_load64(row->params + 1);
            u->v->slot_mem = ev_load64(row->params + 9);
        }
        opened = 1;
    }
    ev_secure_free(buf);
    return opened;
}

/* How many slots of a kind exist (to tell "wrong key" from "no slot"). */
struct count_ctx {
    int kind;
    int n;
};

static int
count_kind(void *arg, const ev_slot_row *row)
{
    struct count_ctx *c = arg;

    c->n += row->kind == c->kind;
    return 0;
}

static int
unlock(ev_vault *v, struct unlock_ctx *u, const char *what)
{
    int rc;

    u->v = v;
    u->status = EV_EKEY;
    rc = ev_catalog_keyslot_each(v->cat, try_slot, u);
    if (rc != EV_OK && rc != 1) { /* 1: try_slot stopped the walk */
        return ev_fail_catalog(v, rc, "cannot read key slots");
    }
    if (u->status == EV_EKEY) {
        struct count_ctx c = {u->kind, 0};
        ev_catalog_keyslot_each(v->cat, count_kind, &c);
        if (c.n == 0 && (u->kind == EV_SLOT_PASSPHRASE ||
                         u->kind == EV_SLOT_MEMBER)) {
            struct count_ctx p = {EV_SLOT_PASSPHRASE, 0};
            struct count_ctx m = {EV_SLOT_MEMBER, 0};
            ev_catalog_keyslot_each(v->cat, count_kind, &p);
            ev_catalog_keyslot_each(v->cat, count_kind, &m);
            if (p.n == 0 && m.n == 0) {
                return ev_fail(v, EV_EKEY,
                               "this vault is locked down: no passphrase "
                               "or member key opens it; open it with the "
                               "recovery key or trustee shares (evault "
                               "recover)");
            }
        }
        return ev_fail(v, EV_EKEY, "%s does not open this vault%s", what,
                       u->bad_cost ? " (a passphrase slot has impossible "
                                     "settings: the catalog was altered)"
                                   : "");
    }
    return u->status;
}

/* job: a KEK derived already for one slot, or NULL. */
static int
unlock_passphrase(ev_vault *v, const char *pass, size_t len,
                  const struct ev_kdf_job *job)
{
    struct unlock_ctx u = {0};

    u.kind = EV_SLOT_PASSPHRASE;
    u.pass = pass;
    u.pass_len = len;
    u.job = job;
    return unlock(v, &u, "the passphrase");
}

int
ev_keyslot_unlock_passphrase(ev_vault *v, const char *pass, size_t len)
{
    return unlock_passphrase(v, pass, len, NULL);
}

void (*ev_kdf_test_hook)(void);

static void *
derive_main(void *arg)
{
    struct ev_kdf_job *j = arg;

    if (ev_kdf_test_hook != NULL) {
        ev_kdf_test_hook();
    }
    j->rc = ev_argon2id(j->secret, (const char *)j->secret + EV_KEY_BYTES,
                        j->pass_len, j->params + 17, ev_load64(j->params + 1),
                        ev_load64(j->params + 9));
    atomic_store(&j->done, 1);
    return NULL;
}

/* The first slot unlock would try with a passphrase. */
static int
first_passphrase_slot(void *arg, const ev_slot_row *row)
{
    struct ev_kdf_job *j = arg;

    if (row->kind != EV_SLOT_PASSPHRASE || !slot_known(row) ||
        !ev_keyslot_cost_ok(ev_load64(row->params + 1),
                            ev_load64(row->params + 9))) {
        return 0;
    }
    j->slot_id = row->id;
    memcpy(j->params, row->params, PASS_PARAMS_BYTES);
    return 1;
}

int
ev_keyslot_derive_start(ev_vault *v, const char *pass, size_t len,
                        ev_kdf_job **out)
{
    struct ev_kdf_job *j = calloc(1, sizeof *j);
    int rc;

    *out = NULL;
    if (j == NULL ||
        (j->secret = ev_secure_alloc(EV_KEY_BYTES + len + 1)) == NULL) {
        free(j);
        return ev_fail(v, EV_ENOMEM, "cannot lock memory for the passphrase");
    }
    memcpy(j->secret + EV_KEY_BYTES, pass, len);
    j->pass_len = len;
    j->rc = -1;
    rc = ev_catalog_keyslot_each(v->cat, first_passphrase_slot, j);
    if (rc == 1 && pthread_create(&j->thread, NULL, derive_main, j) == 0) {
        j->started = 1;
    } else {
        /* no slot to derive for, or no thread: the unlock derives (and
         * reports) as it always does */
        atomic_store(&j->done, 1);
    }
    *out = j;
    return EV_OK;
}

int
ev_kdf_job_done(ev_kdf_job *j)
{
    return atomic_load(&j->done);
}

void
ev_kdf_job_free(ev_kdf_job *j)
{
    if (j == NULL) {
        return;
    }
    if (j->started) {
        pthread_join(j->thread, NULL);
    }
    ev_secure_free(j->secret);
    free(j);
}

int
ev_keyslot_unlock_job(ev_vault *v, ev_kdf_job *j)
{
    int rc;

    if (j->started) {
        pthread_join(j->thread, NULL);
        j->started = 0;
    }
    rc = unlock_passphrase(v, (const char *)j->secret + EV_KEY_BYTES,
                           j->pass_len, j);
    ev_kdf_job_free(j);
    return rc;
}

int
ev_keyslot_unlock_recovery(ev_vault *v, const char *key)
{
    struct unlock_ctx u = {0};
    uint8_t *secret = ev_secure_alloc(EV_RECOVERY_SECRET_BYTES);
    int rc;

    if (secret == NULL) {
        return ev_fail(v, EV_ENOMEM, "cannot lock memory for a key");
    }
    if (recovery_parse(secret, key) != 0) {
        ev_secure_free(secret);
        return ev_fail(v, EV_EKEY,
                       "the recovery key is mistyped (its checksum does not "
                       "match)");
    }
    u.kind = EV_SLOT_RECOVERY;
    u.secret = secret;
    rc = unlock(v, &u, "the recovery key");
    ev_secure_free(secret);
    return rc;
}

int
ev_keyslot_unlock_member(ev_vault *v, const uint8_t sk[32])
{
    struct unlock_ctx u = {0};

    u.kind = EV_SLOT_MEMBER;
    u.member_sk = sk;
    if (ev_box_sk_to_pk(u.member_pk, sk) != 0) {
        return ev_fail(v, EV_EKEY, "this identity is not a usable key");
    }
    return unlock(v, &u, "this identity");
}

int
ev_keyslot_unlock_trustee(ev_vault *v,
                          const uint8_t secret[EV_TRUSTEE_SECRET_BYTES])
{
    struct unlock_ctx u = {0};

    u.kind = EV_SLOT_TRUSTEE;
    u.secret = secret;
    return unlock(v, &u, "the trustee shares");
}
