/*
 * meta.c - a record's metadata as encrypted bytes, its blind indexes, and
 * the wrapped data key of a blob.
 *
 * Owns: the plaintext layout of records.meta and blobs.key.
 * Never: stores a field in the clear.
 *
 * records.meta = XChaCha20-Poly1305(meta key, json padded with spaces to a
 *                multiple of 256 bytes, ad = "evault meta v1" || id u64le)
 * blobs.key    = XChaCha20-Poly1305(DEK-wrap key, DEK || stored_len u64le ||
 *                content_len u64le, ad = "evault dek v1" || blob id)
 * blind.value  = BLAKE2b-128(blind key, field u8 || normalised value)
 */
#include "internal.h"
#include "json.h"
#include "rotate.h"
#include "util.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define META_PAD 64
#define META_MAX (1 << 20)
/* Values hashed without an allocation: every stored field (4096 bytes at
 * most, record.c's MAX_FIELD); only longer search terms need the heap. */
#define BLIND_STACK 4096

int
ev_blind_value(ev_vault *v, uint8_t out[16], int field, const void *in,
               size_t in_len)
{
    uint8_t stack[1 + BLIND_STACK], *buf = stack;

    if (in_len > BLIND_STACK) {
        buf = malloc(in_len + 1);
        if (buf == NULL) {
            /* never a made-up value: it would be stored, or find nothing */
            return ev_fail(v, EV_ENOMEM, "out of memory");
        }
    }
    buf[0] = (uint8_t)field;
    memcpy(buf + 1, in, in_len);
    ev_keyed_hash16(out, v->keys->blind, buf, in_len + 1);
    ev_wipe(buf, in_len + 1);
    if (buf != stack) {
        free(buf);
    }
    return EV_OK;
}

int
ev_blind_text(ev_vault *v, uint8_t out[16], int field, const char *s)
{
    size_t a = 0, b = strlen(s), n;
    uint8_t stack[1 + BLIND_STACK], *buf = stack;

    while (a < b && isspace((unsigned char)s[a])) {
        a++;
    }
    while (b > a && isspace((unsigned char)s[b - 1])) {
        b--;
    }
    n = b - a;
    if (n > BLIND_STACK) {
        buf = malloc(n + 1);
        if (buf == NULL) {
            return ev_fail(v, EV_ENOMEM, "out of memory");
        }
    }
    /* as ev_blind_value, of the lowercased text */
    buf[0] = (uint8_t)field;
    for (size_t i = 0; i < n; i++) {
        buf[1 + i] = (uint8_t)tolower((unsigned char)s[a + i]);
    }
    ev_keyed_hash16(out, v->keys->blind, buf, n + 1);
    ev_wipe(buf, n + 1);
    if (buf != stack) {
        free(buf);
    }
    return EV_OK;
}

int
ev_meta_index(ev_vault *v, const ev_record *r)
{
    uint8_t val[16];
    int rc = EV_OK;

    if (r->case_name != NULL) {
        if ((rc = ev_blind_text(v, val, EV_BLIND_CASE, r->case_name)) !=
            EV_OK) {
            return rc;
        }
        rc = ev_catalog_blind_add(v->cat, EV_BLIND_CASE, val, r->id);
    }
    if (rc == EV_OK && r->source != NULL) {
        if ((rc = ev_blind_text(v, val, EV_BLIND_SOURCE, r->source)) !=
            EV_OK) {
            return rc;
        }
        rc = ev_catalog_blind_add(v->cat, EV_BLIND_SOURCE, val, r->id);
    }
    for (size_t i = 0; rc == EV_OK && i < r->ntags; i++) {
        if ((rc = ev_blind_text(v, val, EV_BLIND_TAG, r->tags[i])) !=
            EV_OK) {
            return rc;
        }
        rc = ev_catalog_blind_add(v->cat, EV_BLIND_TAG, val, r->id);
    }
    if (rc == EV_OK) {
        if ((rc = ev_blind_value(v, val, EV_BLIND_SHA256, r->sha256,
                                 EV_SHA256_BYTES)) != EV_OK) {
            return rc;
        }
        rc = ev_catalog_blind_add(v->cat, EV_BLIND_SHA256, val, r->id);
    }
    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc, "cannot write blind index");
    }
    return EV_OK;
}

static void
meta_ad(uint8_t ad[22], int64_t id)
{
    memcpy(ad, "evault meta v1", 14);
    ev_store64(ad + 14, (uint64_t)id);
}

/* Sets a member; non-zero when it could not be set (out of memory).
 * jansson's setters take a NULL value and fail, so a failed json_string
 * shows here too: a field is never silently left out. */
static int
set_str(json_t *o, const char *k, const char *s)
{
    return s != NULL ? json_object_set_new(o, k, json_string(s)) != 0 : 0;
}

/* The descriptive fields, as both the stored metadata and the intake
 * commitment hold them (keys are sorted when dumped).  Non-zero when one
 * could not be set. */
static int
put_descriptive(json_t *o, const ev_record *r)
{
    json_t *tags = json_array();
    int bad = 0;

    bad |= set_str(o, "name", r->name);
    bad |= set_str(o, "path", r->path);
    bad |= set_str(o, "kind", r->kind);
    bad |= set_str(o, "case", r->case_name);
    bad |= set_str(o, "source", r->source);
    bad |= set_str(o, "note", r->note);
    bad |= set_str(o, "captured_at", r->captured_at);
    bad |= set_str(o, "location", r->location);
    bad |= set_str(o, "added_by", r->added_by);
    for (size_t i = 0; tags != NULL && i < r->ntags; i++) {
        bad |= json_array_append_new(tags, json_string(r->tags[i])) != 0;
    }
    bad |= json_object_set_new(o, "tags", tags) != 0;
    return bad;
}

int
ev_meta_seal(ev_vault *v, const ev_record *r, uint8_t **out, size_t *out_len)
{
    json_t *o = json_object();
    char hex[65], salt_hex[65], *js = NULL;
    size_t n, padded;
    uint8_t *plain = NULL, ad[22];
    int rc = EV_ENOMEM, bad = 0;

    if (o == NULL) {
        goto cleanup;
    }
    bad |= json_object_set_new(o, "v", json_integer(1)) != 0;
    bad |= put_descriptive(o, r);
    ev_hex(hex, r->sha256, sizeof r->sha256);
    bad |= json_object_set_new(o, "sha256", json_string(hex)) != 0;
    bad |= json_object_set_new(o, "size",
                               json_integer((json_int_t)r->size)) != 0;
    bad |= json_object_set_new(o, "added_at", json_integer(r->added_at)) !=
           0;
    bad |= json_object_set_new(o, "hash_only",
                               json_boolean(r->hash_only)) != 0;
    if (r->same_as > 0) {
        bad |= json_object_set_new(o, "same_as",
                                   json_integer(r->same_as)) != 0;
    }
    bad |= json_object_set_new(o, "custody_seq",
                               json_integer(r->custody_seq)) != 0;
    ev_hex(salt_hex, r->commit_salt, sizeof r->commit_salt);
    bad |= json_object_set_new(o, "commit_salt", json_string(salt_hex)) != 0;
    js = bad ? NULL : ev_json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    if (js == NULL) {
        goto cleanup;
    }
    n = strlen(js);
    if (n > META_MAX) {
        rc = ev_fail(v, EV_EINVAL, "metadata too large (%zu bytes)", n);
        goto cleanup;
    }
    padded = (n + META_PAD - 1) / META_PAD * META_PAD;
    plain = malloc(padded);
    *out = malloc(padded + EV_WRAP_OVERHEAD);
    if (plain == NULL || *out == NULL) {
        free(*out);
        *out = NULL;
        goto cleanup;
    }
    memcpy(plain, js, n);
    memset(plain + n, ' ', padded - n);
    meta_ad(ad, r->id);
    ev_wrap(*out, plain, padded, ad, sizeof ad, v->keys->meta);
    *out_len = padded + EV_WRAP_OVERHEAD;
    ev_wipe(plain, padded);
    rc = EV_OK;
cleanup:
    if (js != NULL) {
        ev_wipe(js, strlen(js));
        free(js);
    }
    free(plain);
    json_decref(o);
    return rc == EV_ENOMEM ? ev_fail(v, rc, "out of memory") : rc;
}

/* A copy of a string member (NULL when absent); *bad set for a member
 * that is no string, *oom when the copy could not be made. */
static char *
get_str(json_t *o, const char *k, int *bad, int *oom)
{
    json_t *s = json_object_get(o, k);
    char *c;

    if (s == NULL || json_is_null(s)) {
        return NULL;
    }
    if (!json_is_string(s)) {
        *bad = 1;
        return NULL;
    }
    c = strdup(json_string_value(s));
    if (c == NULL) {
        *oom = 1;
    }
    return c;
}

int
ev_meta_open(ev_vault *v, int64_t id, const uint8_t *in, size_t in_len,
             ev_record *r)
{
    uint8_t ad[22], *plain;
    size_t n;
    json_t *o, *tags, *x;
    json_error_t jerr;
    int bad = 0, oom = 0;

    memset(r, 0, sizeof *r);
    if (in_len < EV_WRAP_OVERHEAD || in_len > META_MAX + 4096) {
        return ev_fail(v, EV_ECORRUPT, "record %lld: metadata damaged",
                       (long long)id);
    }
    n = in_len - EV_WRAP_OVERHEAD;
    plain = malloc(n + 1);
    if (plain == NULL) {
        return ev_fail(v, EV_ENOMEM, "out of memory");
    }
    meta_ad(ad, id);
    if (ev_unwrap(plain, in, in_len, ad, sizeof ad, v->keys->meta) != 0) {
        free(plain);
        return ev_fail(v, EV_ECORRUPT,
                       "record %lld: metadata fails authentication "
                       "(altered or moved)",
                       (long long)id);
    }
    o = json_loadb((const char *)plain, n, JSON_REJECT_DUPLICATES, &jerr);
    ev_wipe(plain, n);
    free(plain);
    if (o == NULL || !json_is_object(o) ||
        json_integer_value(json_object_get(o, "v")) != 1) {
        json_decref(o);
        return ev_fail(v, EV_ECORRUPT, "record %lld: metadata unreadable",
                       (long long)id);
    }
    r->id = id;
    r->name = get_str(o, "name", &bad, &oom);
    r->path = get_str(o, "path", &bad, &oom);
    r->kind = get_str(o, "kind", &bad, &oom);
    r->case_name = get_str(o, "case", &bad, &oom);
    r->source = get_str(o, "source", &bad, &oom);
    r->note = get_str(o, "note", &bad, &oom);
    r->captured_at = get_str(o, "captured_at", &bad, &oom);
    r->location = get_str(o, "location", &bad, &oom);
    tags = json_object_get(o, "tags");
    if (json_is_array(tags) && json_array_size(tags) > 0) {
        r->tags = calloc(json_array_size(tags), sizeof *r->tags);
        if (r->tags == NULL) {
            oom = 1;
        }
        for (size_t i = 0; r->tags != NULL && i < json_array_size(tags);
             i++) {
            json_t *t = json_array_get(tags, i);
            if (!json_is_string(t)) {
                bad = 1;
                break;
            }
            if ((r->tags[i] = strdup(json_string_value(t))) == NULL) {
                oom = 1;
                break;
            }
            r->ntags++;
        }
    }
    x = json_object_get(o, "sha256");
    if (!json_is_string(x) ||
        ev_unhex(r->sha256, sizeof r->sha256, json_string_value(x)) !=
            EV_OK) {
        bad = 1;
    }
    x = json_object_get(o, "size");
    if (!json_is_integer(x) || json_integer_value(x) < 0) {
        bad = 1;
    } else {
        r->size = (uint64_t)json_integer_value(x);
    }
    r->added_at = json_integer_value(json_object_get(o, "added_at"));
    r->hash_only = json_is_true(json_object_get(o, "hash_only"));
    r->same_as = json_integer_value(json_object_get(o, "same_as"));
    r->added_by = get_str(o, "added_by", &bad, &oom);
    r->custody_seq = json_integer_value(json_object_get(o, "custody_seq"));
    x = json_object_get(o, "commit_salt");
    if (json_is_string(x) &&
        ev_unhex(r->commit_salt, sizeof r->commit_salt,
                 json_string_value(x)) != EV_OK) {
        bad = 1;
    }
    json_decref(o);
    if (bad || oom) {
        ev_record_release(r);
        return bad ? ev_fail(v, EV_ECORRUPT, "record %lld: metadata malformed",
                             (long long)id)
                   : ev_fail(v, EV_ENOMEM, "out of memory");
    }
    return EV_OK;
}

void
ev_record_release(ev_record *r)
{
    if (r == NULL) {
        return;
    }
    free(r->name);
    free(r->path);
    free(r->kind);
    free(r->case_name);
    free(r->source);
    free(r->note);
    free(r->captured_at);
    free(r->location);
    free(r->added_by);
    for (size_t i = 0; i < r->ntags; i++) {
        free(r->tags[i]);
    }
    free(r->tags);
    memset(r, 0, sizeof *r);
}

static void
dek_ad(uint8_t ad[13 + EV_BLOBID_BYTES], const uint8_t *id)
{
    memcpy(ad, "evault dek v1", 13);
    memcpy(ad + 13, id, EV_BLOBID_BYTES);
}

int
ev_dek_wrap(ev_vault *v, uint8_t out[EV_DEKREC_WRAPPED],
            const uint8_t id[EV_BLOBID_BYTES],
            const uint8_t dek[EV_KEY_BYTES], uint64_t stored_len,
            uint64_t content_len)
{
    /* Guarded scratch on the handle: no sodium_malloc per blob. */
    uint8_t *rec = v->keys->scratch;
    uint8_t ad[13 + EV_BLOBID_BYTES];

    _Static_assert(EV_DEKREC_BYTES <= sizeof v->keys->scratch, "scratch");
    memcpy(rec, dek, EV_KEY_BYTES);
    ev_store64(rec + EV_KEY_BYTES, stored_len);
    ev_store64(rec + EV_KEY_BYTES + 8, content_len);
    dek_ad(ad, id);
    ev_wrap(out, rec, EV_DEKREC_BYTES, ad, sizeof ad, v->keys->dek);
    ev_wipe(rec, EV_DEKREC_BYTES);
    return EV_OK;
}

int
ev_dek_unwrap(ev_vault *v, uint8_t dek[EV_KEY_BYTES], uint64_t *stored_len,
              uint64_t *content_len, const uint8_t id[EV_BLOBID_BYTES],
              const uint8_t *in, size_t in_len)
{
    uint8_t *rec;
    uint8_t ad[13 + EV_BLOBID_BYTES];
    int rc = EV_ECORRUPT;

    if (in_len != EV_DEKREC_WRAPPED) {
        return EV_ECORRUPT;
    }
    rec = v->keys->scratch;
    dek_ad(ad, id);
    if (ev_unwrap(rec, in, in_len, ad, sizeof ad, v->keys->dek) == 0) {
        memcpy(dek, rec, EV_KEY_BYTES);
        *stored_len = ev_load64(rec + EV_KEY_BYTES);
        *content_len = ev_load64(rec + EV_KEY_BYTES + 8);
        rc = EV_OK;
    }
    ev_wipe(rec, EV_DEKREC_BYTES);
    return rc;
}

int
ev_dek_rekey(const struct ev_keys *from, struct ev_keys *to,
             const uint8_t id[EV_BLOBID_BYTES], const uint8_t *in,
             size_t in_len, uint8_t *out)
{
    uint8_t ad[13 + EV_BLOBID_BYTES];
    int rc;

    if (in_len != EV_DEKREC_WRAPPED) {
        return EV_ECORRUPT;
    }
    dek_ad(ad, id);
    /* The data key passes through the new set's guarded scratch. */
    rc = ev_rewrap(out, in, in_len, ad, sizeof ad, from->dek, to->dek,
                   to->scratch) == 0
             ? EV_OK
             : EV_ECORRUPT;
    ev_wipe(to->scratch, EV_DEKREC_BYTES);
    return rc;
}

int
ev_meta_rekey(const struct ev_keys *from, const struct ev_keys *to,
              int64_t id, const uint8_t *in, size_t in_len, uint8_t *out)
{
    uint8_t ad[22];

    if (in_len < EV_WRAP_OVERHEAD || in_len > META_MAX + 4096) {
        return EV_ECORRUPT;
    }
    meta_ad(ad, id);
    return ev_rekey_value(from->meta, to->meta, ad, sizeof ad, in, in_len,
                          out);
}

int
ev_meta_commitment(uint8_t out[32], const ev_record *r)
{
    static const char label[] = "evault metadata commitment v1\n";
    json_t *o = json_object();
    char *js = NULL;
    ev_sha256 *h = ev_sha256_new();
    int rc = EV_ENOMEM;

    if (o == NULL || h == NULL || put_descriptive(o, r) != 0) {
        goto cleanup;
    }
    js = ev_json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    if (js == NULL) {
        goto cleanup;
    }
    ev_sha256_update(h, label, sizeof label - 1);
    ev_sha256_update(h, r->commit_salt, sizeof r->commit_salt);
    ev_sha256_update(h, js, strlen(js));
    rc = ev_sha256_final(h, out) == 0 ? EV_OK : EV_ENOMEM;
cleanup:
    if (js != NULL) {
        ev_wipe(js, strlen(js));
        free(js);
    }
    ev_sha256_free(h);
    json_decref(o);
    return rc;
}
