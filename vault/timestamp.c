/*
 * timestamp.c - RFC 3161 trusted timestamps for checkpoints.
 *
 * Owns: building timestamp requests for a checkpoint, checking an
 * authority's reply against it, and the timestamps table's contents.
 * Never: trusts a reply whose message imprint, nonce or (when a CA is
 * given) signature does not verify; the only user of OpenSSL's TS API.
 *
 * The message imprint is SHA-256 of the checkpoint's signed note text, the
 * exact bytes a tlog proof carries, so a court can check the timestamp
 * against the proof alone.  timestamps rows: checkpoint id, the request and
 * the reply (DER), each XChaCha20-Poly1305(custody key, der, ad = "evault
 * tsq v1" or "evault tsr v1" || checkpoint id u64le).
 */
#include "custody.h"
#include "rotate.h"
#include "util.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DER_MAX 65536

static void
ts_ad(uint8_t ad[21], const char *label, int64_t id)
{
    memcpy(ad, label, 13);
    ev_store64(ad + 13, (uint64_t)id);
}

int
ev_timestamp_rekey(const struct ev_keys *from, const struct ev_keys *to,
                   int which, int64_t checkpoint, const uint8_t *in,
                   size_t in_len, uint8_t *out)
{
    uint8_t ad[21];

    if (in_len > DER_MAX + EV_WRAP_OVERHEAD) {
        return EV_ECORRUPT;
    }
    ts_ad(ad, which == 0 ? "evault tsq v1" : "evault tsr v1", checkpoint);
    return ev_rekey_value(from->custody, to->custody, ad, sizeof ad, in,
                          in_len, out);
}

static TS_REQ *
make_request(const uint8_t digest[32])
{
    TS_REQ *req = TS_REQ_new();
    TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
    X509_ALGOR *alg = X509_ALGOR_new();
    ASN1_INTEGER *nonce = ASN1_INTEGER_new();
    uint8_t nb[8];
    BIGNUM *bn = NULL;
    int ok = 0;

    if (req == NULL || mi == NULL || alg == NULL || nonce == NULL) {
        goto cleanup;
    }
    ev_random(nb, sizeof nb);
    nb[0] &= 0x7f;
    bn = BN_bin2bn(nb, sizeof nb, NULL);
    ok = bn != NULL && BN_to_ASN1_INTEGER(bn, nonce) != NULL &&
         TS_REQ_set_version(req, 1) &&
         X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) &&
         TS_MSG_IMPRINT_set_algo(mi, alg) &&
         TS_MSG_IMPRINT_set_msg(mi, (unsigned char *)digest, 32) &&
         TS_REQ_set_msg_imprint(req, mi) && TS_REQ_set_nonce(req, nonce) &&
         TS_REQ_set_cert_req(req, 1);
cleanup:
    BN_free(bn);
    ASN1_INTEGER_free(nonce);
    X509_ALGOR_free(alg);
    TS_MSG_IMPRINT_free(mi);
    if (!ok) {
        TS_REQ_free(req);
        return NULL;
    }
    return req;
}

/* The latest checkpoint: id and note. */
static int
latest_checkpoint(ev_vault *v, int64_t *id, char **note)
{
    struct ev_custody_checkpoints cps;
    int rc = ev_custody_checkpoints_load(v, &cps);

    if (rc != EV_OK) {
        return rc;
    }
    if (cps.n == 0) {
        ev_custody_checkpoints_free(&cps);
        return ev_fail(v, EV_ENOTSEALED,
                       "no checkpoint yet: seal records first");
    }
    *id = cps.v[cps.n - 1].id;
    *note = strdup(cps.v[cps.n - 1].note);
    ev_custody_checkpoints_free(&cps);
    return *note != NULL ? EV_OK : EV_ENOMEM;
}

static int
store_der(ev_vault *v, const char *label, int64_t id, const uint8_t *der,
          size_t len)
{
    uint8_t ad[21], *w = malloc(len + EV_WRAP_OVERHEAD);
    int rc;

    if (w == NULL) {
        return EV_ENOMEM;
    }
    ts_ad(ad, label, id);
    ev_wrap(w, der, len, ad, sizeof ad, v->keys->custody);
    rc = ev_catalog_timestamp_put(v->cat, id, strcmp(label, "evault tsq v1")
                                                  == 0
                                              ? 0
                                              : 1,
                                  w, len + EV_WRAP_OVERHEAD);
    free(w);
    return rc == EV_OK ? EV_OK
                       : ev_fail_catalog(v, rc, "cannot store the timestamp");
}

static int
load_der(ev_vault *v, const char *label, int64_t id, int which,
         uint8_t **der, size_t *len)
{
    ev_bytes b = {0};
    uint8_t ad[21];
    int rc = ev_catalog_timestamp_get(v->cat, id, which, &b);

    *der = NULL;
    if (rc != EV_OK) {
        return rc;
    }
    if (b.n < EV_WRAP_OVERHEAD || b.n > DER_MAX + EV_WRAP_OVERHEAD ||
        (*der = malloc(b.n)) == NULL) {
        ev_bytes_free(&b);
        return EV_ECORRUPT;
    }
    ts_ad(ad, label, id);
    if (ev_unwrap(*der, b.p, b.n, ad, sizeof ad, v->keys->custody) != 0) {
        ev_bytes_free(&b);
        free(*der);
        *der = NULL;
        return ev_fail(v, EV_ECORRUPT,
                       "the timestamp of checkpoint %lld fails "
                       "authentication",
                       (long long)id);
    }
    *len = b.n - EV_WRAP_OVERHEAD;
    ev_bytes_free(&b);
    return EV_OK;
}

int
ev_timestamp_request(ev_vault *v, uint8_t **der, size_t *der_len)
{
    int64_t id = 0;
    char *note = NULL;
    uint8_t digest[32], *p;
    TS_REQ *req;
    int n, rc;

    *der = NULL;
    if (v->keys == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
    }
    rc = latest_checkpoint(v, &id, &note);
    if (rc != EV_OK) {
        return rc;
    }
    ev_sha256_once(digest, note, strlen(note));
    free(note);
    req = make_request(digest);
    if (req == NULL || (n = i2d_TS_REQ(req, NULL)) <= 0 ||
        (*der = malloc((size_t)n)) == NULL) {
        TS_REQ_free(req);
        return ev_fail(v, EV_ENOMEM, "cannot build the timestamp request");
    }
    p = *der;
    i2d_TS_REQ(req, &p);
    TS_REQ_free(req);
    *der_len = (size_t)n;
    rc = ev_catalog_begin(v->cat);
    if (rc == EV_OK) {
        rc = store_der(v, "evault tsq v1", id, *der, *der_len);
        rc = rc == EV_OK ? ev_catalog_commit(v->cat) : rc;
    }
    if (rc != EV_OK) {
        ev_catalog_rollback(v->cat);
        free(*der);
        *der = NULL;
        return ev_fail_catalog(v, rc, "cannot store the request");
    }
    return EV_OK;
}

static int
load_ca(X509_STORE **store, const char *ca_file)
{
    *store = X509_STORE_new();
    return *store != NULL &&
           X509_STORE_load_file(*store, ca_file) == 1;
}

static void
gen_time(char out[32], TS_RESP *resp)
{
    TS_TST_INFO *info = TS_RESP_get_tst_info(resp);
    const ASN1_GENERALIZEDTIME *t =
        info != NULL ? TS_TST_INFO_get_time(info) : NULL;
    struct tm tm;

    out[0] = '\0';
    if (t != NULL && ASN1_TIME_to_tm(t, &tm) == 1) {
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
}

/* Checks a reply against an imprint (and the request's nonce when req is
 * given) and, with a CA file, the authority's signature. */
static int
check_reply(const uint8_t *tsr, size_t len, const uint8_t digest[32],
            TS_REQ *req, const char *ca_file, char when[32], char *err,
            size_t err_len)
{
    const unsigned char *p = tsr;
    TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)len);
    TS_VERIFY_CTX *ctx = NULL;
    X509_STORE *store = NULL;
    unsigned char *imp;
    int ok = 0;

    if (resp == NULL || p != tsr + len) {
        snprintf(err, err_len, "not an RFC 3161 timestamp reply");
        goto cleanup;
    }
    ctx = req != NULL ? TS_REQ_to_TS_VERIFY_CTX(req, NULL)
                      : TS_VERIFY_CTX_new();
    imp = OPENSSL_malloc(32);
    if (ctx == NULL || imp == NULL) {
        OPENSSL_free(imp);
        snprintf(err, err_len, "out of memory");
        goto cleanup;
    }
    memcpy(imp, digest, 32);
    TS_VERIFY_CTX_set_imprint(ctx, imp, 32);
    TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_IMPRINT |
                                     (req != NULL ? TS_VFY_NONCE : 0));
    if (ca_file != NULL) {
        if (!load_ca(&store, ca_file)) {
            X509_STORE_free(store);
            snprintf(err, err_len, "cannot read the TSA certificate '%s'",
                     ca_file);
            goto cleanup;
        }
        TS_VERIFY_CTX_set_store(ctx, store); /* ctx owns it now */
        TS_VERIFY_CTX_add_flags(ctx, TS_VFY_SIGNATURE | TS_VFY_SIGNER);
    }
    if (TS_RESP_verify_response(ctx, resp) != 1) {
        unsigned long e = ERR_peek_last_error();
        snprintf(err, err_len, "the timestamp does not verify: %s",
                 e != 0 ? ERR_reason_error_string(e) : "mismatch");
        ERR_clear_error();
        goto cleanup;
    }
    gen_time(when, resp);
    ok = 1;
cleanup:
    TS_VERIFY_CTX_free(ctx);
    TS_RESP_free(resp);
    return ok ? 0 : -1;
}

int
ev_timestamp_attach(ev_vault *v, const uint8_t *tsr, size_t len,
                    const char *ca_file, char when[32])
{
    int64_t id = 0;
    char *note = NULL, err[256], msg[64];
    uint8_t digest[32], *tsq = NULL;
    size_t tsq_len;
    const unsigned char *p;
    TS_REQ *req = NULL;
    int rc;

    if (v->keys == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
    }
    if (len == 0 || len > DER_MAX) {
        return ev_fail(v, EV_EINVAL, "a timestamp reply is 1 to %d bytes",
                       DER_MAX);
    }
    rc = latest_checkpoint(v, &id, &note);
    if (rc != EV_OK) {
        return rc;
    }
    ev_sha256_once(digest, note, strlen(note));
    free(note);
    rc = load_der(v, "evault tsq v1", id, 0, &tsq, &tsq_len);
    if (rc != EV_OK) {
        return rc == EV_ENOENT
                   ? ev_fail(v, EV_EINVAL,
                             "no timestamp request was made for the latest "
                             "checkpoint (use 'evault seal --tsq FILE')")
                   : rc;
    }
    p = tsq;
    req = d2i_TS_REQ(NULL, &p, (long)tsq_len);
    free(tsq);
    if (req == NULL) {
        return ev_fail(v, EV_ECORRUPT, "the stored request is unreadable");
    }
    if (check_reply(tsr, len, digest, req, ca_file, when, err, sizeof err) !=
        0) {
        TS_REQ_free(req);
        return ev_fail(v, EV_ECORRUPT, "%s", err);
    }
    TS_REQ_free(req);
    rc = ev_catalog_begin(v->cat);
    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc, "cannot start a transaction");
    }
    rc = store_der(v, "evault tsr v1", id, tsr, len);
    snprintf(msg, sizeof msg, "checkpoint %lld timestamped %s%s",
             (long long)id, when, ca_file != NULL ? "" : " (unsigned check)");
    if (rc == EV_OK) {
        rc = ev_custody_append(v, "timestamp", NULL, 0, msg, NULL);
    }
    if (rc == EV_OK) {
        rc = ev_catalog_commit(v->cat);
        if (rc != EV_OK) {
            rc = ev_fail_catalog(v, rc, "cannot commit");
        }
    }
    if (rc != EV_OK) {
        ev_catalog_rollback(v->cat);
    }
    return rc;
}

int
ev_timestamp_reply(ev_vault *v, const char *checkpoint_note, uint8_t **der,
                   size_t *len)
{
    struct ev_custody_checkpoints cps;
    int rc = ev_custody_checkpoints_load(v, &cps);

    *der = NULL;
    if (rc != EV_OK) {
        return rc;
    }
    rc = EV_ENOENT;
    for (size_t i = 0; i < cps.n; i++) {
        if (strcmp(cps.v[i].note, checkpoint_note) == 0) {
            rc = load_der(v, "evault tsr v1", cps.v[i].id, 1, der, len);
            break;
        }
    }
    ev_custody_checkpoints_free(&cps);
    return rc;
}

int
ev_timestamp_verify(const char *note, size_t note_len, const uint8_t *tsr,
                    size_t tsr_len, const char *ca_file, char when[32],
                    char *err, size_t err_len)
{
    uint8_t digest[32];

    if (tsr_len == 0 || tsr_len > DER_MAX) {
        snprintf(err, err_len, "not an RFC 3161 timestamp reply");
        return EV_EINVAL;
    }
    ev_sha256_once(digest, note, note_len);
    return check_reply(tsr, tsr_len, digest, NULL, ca_file, when, err,
                       err_len) == 0
               ? EV_OK
               : EV_ECORRUPT;
}
