/*
 * keyslot.c - passphrase and recovery-key slots (formats in keyslot.h).
 *
 * Owns: the keyslots table's contents and the recovery key's text form.
 * Never: keeps a key-encryption key or passphrase beyond one call.
 *
 * Passphrase params (33 bytes): version 1 || ops u64le || mem_kib u64le ||
 * salt[16].  Recovery params (1 byte): version 1.
 * Recovery key text: Crockford base32 of secret[20] || check[2], where
 * check = CRC-16/CCITT(secret) big-endian, in 9 groups of 4.
 */
#include "keyslot.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

#define PASS_PARAMS_BYTES 33
#define WRAPPED_BYTES (EV_KEY_BYTES + EV_WRAP_OVERHEAD)
#define AD_MAX 128

static size_t
slot_ad(ev_vault *v, uint8_t ad[AD_MAX], int kind, const uint8_t *params,
        size_t params_len)
{
    static const char label[] = "evault keyslot v1";
    size_t n = 0;

    if (sizeof label - 1 + EV_VAULT_ID_BYTES + 1 + params_len > AD_MAX) {
        return 0; /* a slot this evault does not know; never opens */
    }
    memcpy(ad, label, sizeof label - 1);
    n += sizeof label - 1;
    memcpy(ad + n, v->vault_id, EV_VAULT_ID_BYTES);
    n += EV_VAULT_ID_BYTES;
    ad[n++] = (uint8_t)kind;
    memcpy(ad + n, params, params_len);
    return n + params_len;
}

static int
add_slot(ev_vault *v, int kind, const uint8_t *params, size_t params_len,
         const uint8_t kek[EV_KEY_BYTES])
{
    uint8_t ad[AD_MAX], wrapped[WRAPPED_BYTES];
    size_t ad_len = slot_ad(v, ad, kind, params, params_len);
    int rc;

    ev_wrap(wrapped, v->keys->mk, EV_KEY_BYTES, ad, ad_len, kek);
    rc = ev_catalog_keyslot_add(v->cat, kind, params, params_len, wrapped,
                                sizeof wrapped);
    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc, "cannot add key slot");
    }
    return EV_OK;
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
                          uint64_t ops, uint64_t mem_kib)
{
    uint8_t params[PASS_PARAMS_BYTES];
    uint8_t *kek;
    int rc;

    if (v->keys == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
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
    rc = add_slot(v, EV_SLOT_PASSPHRASE, params, sizeof params, kek);
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

static void
recovery_kek(ev_vault *v, uint8_t kek[EV_KEY_BYTES], const uint8_t *secret)
{
    uint8_t msg[18 + EV_VAULT_ID_BYTES];

    memcpy(msg, "evault recovery v1", 18);
    memcpy(msg + 18, v->vault_id, EV_VAULT_ID_BYTES);
    ev_blake2b(kek, EV_KEY_BYTES, secret, EV_RECOVERY_SECRET_BYTES, msg,
               sizeof msg);
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
ev_keyslot_add_recovery(ev_vault *v, char out[EV_RECOVERY_KEY_CHARS + 1])
{
    uint8_t *buf; /* secret || check || kek */
    char b32[40];
    const uint8_t params[1] = {1};
    size_t o = 0;
    int rc;

    if (v->keys == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
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
    recovery_kek(v, buf + EV_RECOVERY_SECRET_BYTES + 2, buf);
    rc = add_slot(v, EV_SLOT_RECOVERY, params, sizeof params,
                  buf + EV_RECOVERY_SECRET_BYTES + 2);
    ev_secure_free(buf);
    if (rc != EV_OK) {
        ev_wipe(out, EV_RECOVERY_KEY_CHARS + 1);
    }
    return rc;
}

struct unlock_ctx {
    int bad_cost; /* a slot's Argon2 cost was out of range */
    ev_vault *v;
    int kind;
    const char *pass;
    size_t pass_len;
    const uint8_t *secret; /* recovery */
    int status;
};

static int
try_slot(void *arg, int64_t id, int kind, const uint8_t *params, size_t pn,
         const uint8_t *wrapped, size_t wn)
{
    struct unlock_ctx *u = arg;
    uint8_t ad[AD_MAX];
    uint8_t *buf; /* kek || mk */
    size_t ad_len;
    int opened = 0;

    (void)id;
    if (kind != u->kind || wn != WRAPPED_BYTES) {
        return 0;
    }
    if ((kind == EV_SLOT_PASSPHRASE &&
         (pn != PASS_PARAMS_BYTES || params[0] != 1)) ||
        (kind == EV_SLOT_RECOVERY && (pn != 1 || params[0] != 1))) {
        return 0; /* a slot from a newer evault, or damaged */
    }
    buf = ev_secure_alloc(2 * EV_KEY_BYTES);
    if (buf == NULL) {
        u->status = EV_ENOMEM;
        return 1;
    }
    if (kind == EV_SLOT_PASSPHRASE) {
        uint64_t ops = ev_load64(params + 1), mem = ev_load64(params + 9);
        /* The cost is read before anything authenticates it: refuse costs
         * no evault writes, so an altered slot fails in seconds rather than
         * deriving for hours. */
        if (!ev_keyslot_cost_ok(ops, mem)) {
            u->bad_cost = 1;
            ev_secure_free(buf);
            return 0;
        }
        if (ev_argon2id(buf, u->pass, u->pass_len, params + 17, ops, mem) !=
            0) {
            ev_secure_free(buf);
            return 0;
        }
    } else {
        recovery_kek(u->v, buf, u->secret);
    }
    ad_len = slot_ad(u->v, ad, kind, params, pn);
    if (ev_unwrap(buf + EV_KEY_BYTES, wrapped, wn, ad, ad_len, buf) == 0) {
        u->status = ev_vault_set_master(u->v, buf + EV_KEY_BYTES);
        opened = 1;
    }
    ev_secure_free(buf);
    return opened;
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
        return ev_fail(v, EV_EKEY, "%s does not open this vault%s", what,
                       u->bad_cost ? " (a passphrase slot has impossible "
                                     "settings: the catalog was altered)"
                                   : "");
    }
    return u->status;
}

int
ev_keyslot_unlock_passphrase(ev_vault *v, const char *pass, size_t len)
{
    struct unlock_ctx u = {0};

    u.kind = EV_SLOT_PASSPHRASE;
    u.pass = pass;
    u.pass_len = len;
    return unlock(v, &u, "the passphrase");
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
