/*
 * test_minisign.c - minisign.c: known answers made with Debian's minisign
 * 0.11 (tests/minisign/, found through $EV_TEST_SRC), round trips, and
 * tamper loops where every byte of the message, signature line, trusted
 * comment and global signature must fail with its own error.
 */
#include "crypto.h"
#include "harness.h"
#include "minisign.h"
#include "testutil.h"

#include <sodium.h>
#include <string.h>

/* The secret half of tests/minisign/minisign.pub (made with minisign -G -W
 * for these tests only): libsodium's seed || pk. */
static const char kat_sk_hex[] =
    "7e7d33ca11d577b6508ccd72500ee4836818a38d33421e0924ff79f4c98d87ce"
    "90f82a7b25d79d08cf364e5d38d97f62569b124c7d3735f87cd263fec7da8d02";
static const char kat_keyid_hex[] = "a8fc2beb593c00c0";
static const char kat_pk_hex[] =
    "90f82a7b25d79d08cf364e5d38d97f62569b124c7d3735f87cd263fec7da8d02";

static size_t
unhex(uint8_t *out, const char *hex)
{
    size_t n = 0;

    while (hex[0] != '\0' && hex[1] != '\0') {
        unsigned v;
        if (sscanf(hex, "%2x", &v) != 1) {
            break;
        }
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

/* Reads $EV_TEST_SRC/minisign/<name>; NULL (and a failed check) when
 * missing. */
static char *
kat_file(const char *name, size_t *n)
{
    const char *src = getenv("EV_TEST_SRC");
    char path[PATH_MAX];
    uint8_t *p;

    *n = 0;
    if (src == NULL || src[0] == '\0') {
        fprintf(stderr,
                "EV_TEST_SRC is not set: cannot find "
                "tests/minisign/%s\n",
                name);
        CHECK(src != NULL);
        return NULL;
    }
    if ((size_t)snprintf(path, sizeof path, "%s/minisign/%s", src, name) >=
        sizeof path) {
        CHECK(0);
        return NULL;
    }
    p = t_read_file(path, n);
    CHECK(p != NULL);
    if (p != NULL) {
        p[*n] = '\0'; /* t_read_file leaves room for one more byte */
    }
    return (char *)p;
}

static void
test_known_answers(void)
{
    uint8_t sk[64], pk[32], keyid[8], kpk[32], kkeyid[8], h[64];
    char out[EV_MINISIGN_SIG_MAX], tc[EV_MINISIGN_COMMENT_MAX + 1];
    char *pub, *msg, *sig, *legacy, *dflt;
    size_t pub_n, msg_n, sig_n, legacy_n, dflt_n;

    CHECK_EQ(unhex(sk, kat_sk_hex), 64);
    CHECK_EQ(unhex(kkeyid, kat_keyid_hex), 8);
    CHECK_EQ(unhex(kpk, kat_pk_hex), 32);
    ev_sign_sk_to_pk(pk, sk);
    CHECK(memcmp(pk, kpk, 32) == 0);

    pub = kat_file("minisign.pub", &pub_n);
    msg = kat_file("msg.txt", &msg_n);
    sig = kat_file("msg.txt.minisig", &sig_n);
    legacy = kat_file("msg.txt.legacy.minisig", &legacy_n);
    dflt = kat_file("msg.txt.default.minisig", &dflt_n);
    if (pub == NULL || msg == NULL || sig == NULL || legacy == NULL ||
        dflt == NULL) {
        goto cleanup;
    }

    /* the public key file, both ways */
    CHECK_EQ(ev_minisign_pubkey_decode(pk, keyid, pub, pub_n), EV_MS_OK);
    CHECK(memcmp(pk, kpk, 32) == 0);
    CHECK(memcmp(keyid, kkeyid, 8) == 0);
    CHECK_EQ(ev_minisign_pubkey_file(out, sizeof out, kpk, kkeyid, NULL),
             EV_MS_OK);
    CHECK(strcmp(out, pub) == 0);
    CHECK_EQ(ev_minisign_pubkey_encode(out, sizeof out, kpk, kkeyid), EV_MS_OK);
    CHECK(strncmp(out,
                  pub + strlen("untrusted comment: minisign public key "
                               "C0003C59EB2BFCA8\n"),
                  EV_MINISIGN_PUBKEY_CHARS) == 0);

    /* minisign's hashed signature verifies, and ours is byte-identical
     * (Ed25519 is deterministic) */
    CHECK_EQ(ev_minisign_verify(sig, sig_n, (uint8_t *)msg, msg_n, kpk, kkeyid,
                                0, tc, sizeof tc),
             EV_MS_OK);
    CHECK(strcmp(tc, "trusted") == 0);
    CHECK_EQ(ev_blake2b(h, sizeof h, NULL, 0, msg, msg_n), 0);
    CHECK_EQ(ev_minisign_verify_hash(sig, sig_n, h, kpk, kkeyid, tc, sizeof tc),
             EV_MS_OK);
    CHECK(strcmp(tc, "trusted") == 0);
    CHECK_EQ(ev_minisign_sign(out, sizeof out, (uint8_t *)msg, msg_n, sk,
                              kkeyid, "signature from minisign secret key",
                              "trusted"),
             EV_MS_OK);
    CHECK(strcmp(out, sig) == 0);
    CHECK_EQ(ev_minisign_sign_hash(out, sizeof out, h, sk, kkeyid,
                                   "signature from minisign secret key",
                                   "trusted"),
             EV_MS_OK);
    CHECK(strcmp(out, sig) == 0);

    /* minisign's default trusted comment holds tabs */
    CHECK_EQ(ev_minisign_verify(dflt, dflt_n, (uint8_t *)msg, msg_n, kpk,
                                kkeyid, 0, tc, sizeof tc),
             EV_MS_OK);
    CHECK(strncmp(tc, "timestamp:", 10) == 0);
    CHECK(strchr(tc, '\t') != NULL);

    /* legacy: refused unless asked for, never from a hash */
    CHECK_EQ(ev_minisign_verify(legacy, legacy_n, (uint8_t *)msg, msg_n, kpk,
                                kkeyid, 0, tc, sizeof tc),
             EV_MS_ALGORITHM);
    CHECK(tc[0] == '\0');
    CHECK_EQ(ev_minisign_verify(legacy, legacy_n, (uint8_t *)msg, msg_n, kpk,
                                kkeyid, 1, tc, sizeof tc),
             EV_MS_OK);
    CHECK(strcmp(tc, "trusted legacy") == 0);
    CHECK_EQ(ev_minisign_verify_hash(legacy, legacy_n, h, kpk, kkeyid, tc,
                                     sizeof tc),
             EV_MS_ALGORITHM);
    /* the legacy signature covers the raw message */
    msg[0] ^= 1;
    CHECK_EQ(ev_minisign_verify(legacy, legacy_n, (uint8_t *)msg, msg_n, kpk,
                                kkeyid, 1, tc, sizeof tc),
             EV_MS_SIGNATURE);
    CHECK_EQ(ev_minisign_verify(sig, sig_n, (uint8_t *)msg, msg_n, kpk, kkeyid,
                                1, tc, sizeof tc),
             EV_MS_SIGNATURE);
    msg[0] ^= 1;
cleanup:
    ev_wipe(sk, sizeof sk);
    free(pub);
    free(msg);
    free(sig);
    free(legacy);
    free(dflt);
}

struct key {
    uint8_t pk[32], sk[64], keyid[8];
};

static void
key_new(struct key *k)
{
    ev_sign_keypair(k->pk, k->sk);
    CHECK_EQ(ev_minisign_keyid(k->keyid, k->pk), 0);
}

static int
verify_str(const char *sig, const uint8_t *msg, size_t n, const struct key *k,
           int legacy, char *tc, size_t tc_cap)
{
    return ev_minisign_verify(sig, strlen(sig), msg, n, k->pk, k->keyid, legacy,
                              tc, tc_cap);
}

static void
test_round_trip(void)
{
    struct key k, other;
    uint8_t msg[1000], h[64], h2[64];
    char out[EV_MINISIGN_SIG_MAX], tc[EV_MINISIGN_COMMENT_MAX + 1];
    char long_tc[EV_MINISIGN_COMMENT_MAX + 2];
    ev_blake2b_stream *bs;

    key_new(&k);
    key_new(&other);
    t_fill_random(msg, sizeof msg, 1);

    CHECK_EQ(ev_minisign_sign(out, sizeof out, msg, sizeof msg, k.sk, k.keyid,
                              "hello", "file:a.mp4\tcase:42"),
             EV_MS_OK);
    CHECK(strncmp(out, "untrusted comment: hello\n", 25) == 0);
    CHECK_EQ(verify_str(out, msg, sizeof msg, &k, 0, tc, sizeof tc), EV_MS_OK);
    CHECK(strcmp(tc, "file:a.mp4\tcase:42") == 0);
    CHECK_EQ(verify_str(out, msg, sizeof msg, &k, 0, NULL, 0), EV_MS_OK);
    /* the trusted comment buffer must hold it */
    CHECK_EQ(verify_str(out, msg, sizeof msg, &k, 0, tc, 18), EV_MS_NOMEM);
    CHECK(tc[0] == '\0');
    CHECK_EQ(verify_str(out, msg, sizeof msg, &k, 0, tc, 19), EV_MS_OK);

    /* streamed hash: same signature */
    bs = ev_blake2b_stream_new();
    CHECK(bs != NULL);
    if (bs != NULL) {
        char out2[EV_MINISIGN_SIG_MAX];
        for (size_t i = 0; i < sizeof msg; i += 77) {
            size_t n = sizeof msg - i < 77 ? sizeof msg - i : 77;
            ev_blake2b_stream_update(bs, msg + i, n);
        }
        CHECK_EQ(ev_blake2b_stream_final(bs, h), 0);
        /* once only: a second final is refused, with nothing made up */
        memset(h2, 0xee, sizeof h2);
        CHECK_EQ(ev_blake2b_stream_final(bs, h2), -1);
        CHECK_EQ(h2[0], 0);
        CHECK_EQ(h2[63], 0);
        ev_blake2b_stream_update(bs, msg, 10);
        CHECK_EQ(ev_blake2b_stream_final(bs, h2), -1);
        ev_blake2b_stream_free(bs);
        CHECK_EQ(ev_minisign_sign_hash(out2, sizeof out2, h, k.sk, k.keyid,
                                       "hello", "file:a.mp4\tcase:42"),
                 EV_MS_OK);
        CHECK(strcmp(out, out2) == 0);
        CHECK_EQ(ev_minisign_verify_hash(out, strlen(out), h, k.pk, k.keyid, tc,
                                         sizeof tc),
                 EV_MS_OK);
        h[5] ^= 0x10;
        CHECK_EQ(ev_minisign_verify_hash(out, strlen(out), h, k.pk, k.keyid, tc,
                                         sizeof tc),
                 EV_MS_SIGNATURE);
    }
    ev_blake2b_stream_free(NULL);

    /* wrong key */
    CHECK_EQ(verify_str(out, msg, sizeof msg, &other, 0, tc, sizeof tc),
             EV_MS_KEYID);
    CHECK_EQ(ev_minisign_verify(out, strlen(out), msg, sizeof msg, other.pk,
                                k.keyid, 0, tc, sizeof tc),
             EV_MS_SIGNATURE);
    /* legacy allowed changes nothing for a hashed signature */
    CHECK_EQ(verify_str(out, msg, sizeof msg, &k, 1, tc, sizeof tc), EV_MS_OK);

    /* empty message, NULL comments */
    CHECK_EQ(
        ev_minisign_sign(out, sizeof out, NULL, 0, k.sk, k.keyid, NULL, NULL),
        EV_MS_OK);
    CHECK(strncmp(out,
                  "untrusted comment: signature from evault secret "
                  "key\n",
                  52) == 0);
    CHECK(strstr(out, "\ntrusted comment: \n") != NULL);
    CHECK_EQ(verify_str(out, NULL, 0, &k, 0, tc, sizeof tc), EV_MS_OK);
    CHECK(tc[0] == '\0');
    CHECK_EQ(verify_str(out, (const uint8_t *)"x", 1, &k, 0, tc, sizeof tc),
             EV_MS_SIGNATURE);

    /* non-ASCII comments travel as bytes */
    CHECK_EQ(ev_minisign_sign(out, sizeof out, msg, 10, k.sk, k.keyid,
                              "d\xc3\xa9p\xc3\xb4t", "t\xc3\xa9moin"),
             EV_MS_OK);
    CHECK_EQ(verify_str(out, msg, 10, &k, 0, tc, sizeof tc), EV_MS_OK);
    CHECK(strcmp(tc, "t\xc3\xa9moin") == 0);

    /* comment limits */
    memset(long_tc, 'c', sizeof long_tc - 1);
    long_tc[sizeof long_tc - 1] = '\0';
    CHECK_EQ(ev_minisign_sign(out, sizeof out, msg, 10, k.sk, k.keyid, NULL,
                              long_tc),
             EV_MS_FORMAT);
    CHECK_EQ(
        ev_minisign_sign(out, sizeof out, msg, 10, k.sk, k.keyid, long_tc, "t"),
        EV_MS_FORMAT);
    long_tc[EV_MINISIGN_COMMENT_MAX] = '\0';
    CHECK_EQ(ev_minisign_sign(out, sizeof out, msg, 10, k.sk, k.keyid, long_tc,
                              long_tc),
             EV_MS_OK);
    CHECK_EQ(strlen(out) + 1, EV_MINISIGN_SIG_MAX);
    CHECK_EQ(verify_str(out, msg, 10, &k, 0, tc, sizeof tc), EV_MS_OK);
    CHECK_EQ(strlen(tc), EV_MINISIGN_COMMENT_MAX);
    CHECK_EQ(ev_minisign_sign(out, sizeof out, msg, 10, k.sk, k.keyid,
                              "two\nlines", "t"),
             EV_MS_FORMAT);
    CHECK_EQ(
        ev_minisign_sign(out, sizeof out, msg, 10, k.sk, k.keyid, "u", "t\r"),
        EV_MS_FORMAT);

    /* output capacity: every short buffer refused, the exact one taken */
    {
        char ref[EV_MINISIGN_SIG_MAX], small[EV_MINISIGN_SIG_MAX];
        size_t need;
        int bad = 0;

        CHECK_EQ(
            ev_minisign_sign(ref, sizeof ref, msg, 10, k.sk, k.keyid, "u", "t"),
            EV_MS_OK);
        need = strlen(ref) + 1;
        for (size_t cap = 0; cap < need; cap++) {
            bad += ev_minisign_sign(small, cap, msg, 10, k.sk, k.keyid, "u",
                                    "t") != EV_MS_NOMEM;
        }
        CHECK_EQ(bad, 0);
        CHECK_EQ(
            ev_minisign_sign(small, need, msg, 10, k.sk, k.keyid, "u", "t"),
            EV_MS_OK);
        CHECK(strcmp(small, ref) == 0);
    }
    ev_wipe(k.sk, sizeof k.sk);
    ev_wipe(other.sk, sizeof other.sk);
}

/* Re-encodes the base64 line at line index li (0-based) of sig after
 * xoring byte i of its decoded content with x. */
static void
tamper_decoded(char *out, size_t cap, const char *sig, int li, size_t i,
               uint8_t x)
{
    const char *lines[4], *p = sig;
    size_t lens[4];
    uint8_t bin[128];
    char b64[200];
    long n;

    for (int j = 0; j < 4; j++) {
        const char *nl = strchr(p, '\n');
        lines[j] = p;
        lens[j] = (size_t)(nl - p);
        p = nl + 1;
    }
    n = ev_base64_decode(bin, sizeof bin, lines[li], lens[li]);
    if (n < 0 || i >= (size_t)n) {
        out[0] = '\0';
        return;
    }
    bin[i] ^= x;
    CHECK_EQ(ev_base64_encode(b64, sizeof b64, bin, (size_t)n), 0);
    out[0] = '\0';
    for (int j = 0; j < 4; j++) {
        size_t o = strlen(out);
        if (j == li) {
            snprintf(out + o, cap - o, "%s\n", b64);
        } else {
            snprintf(out + o, cap - o, "%.*s\n", (int)lens[j], lines[j]);
        }
    }
}

static void
test_tamper(void)
{
    struct key k;
    uint8_t msg[300];
    char sig[EV_MINISIGN_SIG_MAX], t[EV_MINISIGN_SIG_MAX + 8];
    size_t n, l1, l2, l3, uc_start, tc_start;
    int bad;

    key_new(&k);
    t_fill_text(msg, sizeof msg, 7);
    CHECK_EQ(ev_minisign_sign(sig, sizeof sig, msg, sizeof msg, k.sk, k.keyid,
                              "untrusted", "trusted comment text"),
             EV_MS_OK);
    n = strlen(sig);
    CHECK_EQ(verify_str(sig, msg, sizeof msg, &k, 0, NULL, 0), EV_MS_OK);

    /* every bit of the message */
    bad = 0;
    for (size_t i = 0; i < sizeof msg; i++) {
        for (int b = 0; b < 8; b++) {
            msg[i] ^= (uint8_t)(1u << b);
            bad += verify_str(sig, msg, sizeof msg, &k, 1, NULL, 0) !=
                   EV_MS_SIGNATURE;
            msg[i] ^= (uint8_t)(1u << b);
        }
    }
    CHECK_EQ(bad, 0);
    /* cut and extended messages */
    bad = 0;
    for (size_t cut = 0; cut < sizeof msg; cut++) {
        bad += verify_str(sig, msg, cut, &k, 0, NULL, 0) != EV_MS_SIGNATURE;
    }
    CHECK_EQ(bad, 0);

    /* every decoded byte of the signature line, each its own error */
    bad = 0;
    for (size_t i = 0; i < 74; i++) {
        for (int b = 0; b < 8; b++) {
            int want = i < 2    ? EV_MS_ALGORITHM
                       : i < 10 ? EV_MS_KEYID
                                : EV_MS_SIGNATURE;
            int rc;
            tamper_decoded(t, sizeof t, sig, 1, i, (uint8_t)(1u << b));
            rc = verify_str(t, msg, sizeof msg, &k, 0, NULL, 0);
            if (rc != want) {
                fprintf(stderr, "sig byte %zu bit %d: %d, wanted %d\n", i, b,
                        rc, want);
                bad++;
            }
            /* with legacy allowed, "ED" -> "Ed" is legal but the
             * signature does not cover the raw message */
            if (i == 1 && b == 5) {
                rc = verify_str(t, msg, sizeof msg, &k, 1, NULL, 0);
                bad += rc != EV_MS_SIGNATURE;
            }
        }
    }
    CHECK_EQ(bad, 0);

    /* every decoded byte of the global signature */
    bad = 0;
    for (size_t i = 0; i < 64; i++) {
        for (int b = 0; b < 8; b++) {
            tamper_decoded(t, sizeof t, sig, 3, i, (uint8_t)(1u << b));
            bad +=
                verify_str(t, msg, sizeof msg, &k, 0, NULL, 0) != EV_MS_GLOBAL;
        }
    }
    CHECK_EQ(bad, 0);

    /*
     * Every byte of the file replaced by every other value.  The
     * untrusted comment's text may change freely (but for line breaks);
     * a trusted comment byte gives EV_MS_GLOBAL; prefixes EV_MS_FORMAT;
     * the base64 lines any error but success.
     */
    l1 = (size_t)(strchr(sig, '\n') - sig);
    l2 = (size_t)(strchr(sig + l1 + 1, '\n') - sig);
    l3 = (size_t)(strchr(sig + l2 + 1, '\n') - sig);
    uc_start = strlen("untrusted comment: ");
    tc_start = l2 + 1 + strlen("trusted comment: ");
    bad = 0;
    for (size_t i = 0; i < n; i++) {
        for (int v = 0; v < 256; v++) {
            int rc, ok;
            if ((char)v == sig[i]) {
                continue;
            }
            memcpy(t, sig, n);
            t[i] = (char)v;
            rc = ev_minisign_verify(t, n, msg, sizeof msg, k.pk, k.keyid, 0,
                                    NULL, 0);
            if (i >= uc_start && i < l1) {
                /* CR right before LF is a CRLF line ending */
                ok = v == '\0' || v == '\n' || (v == '\r' && i + 1 != l1)
                         ? rc != EV_MS_OK
                         : rc == EV_MS_OK;
            } else if (i < uc_start || (i > l2 && i < tc_start)) {
                ok = rc == EV_MS_FORMAT;
            } else if (i >= tc_start && i < l3) {
                ok = v == '\0' || v == '\n' || (v == '\r' && i + 1 != l3)
                         ? rc != EV_MS_OK
                         : rc == EV_MS_GLOBAL;
            } else {
                ok = rc != EV_MS_OK;
            }
            if (!ok) {
                fprintf(stderr, "byte %zu = 0x%02x: %s\n", i, v,
                        ev_minisign_strerror(rc));
                bad++;
            }
        }
    }
    CHECK_EQ(bad, 0);

    /* every truncation, every inserted byte */
    bad = 0;
    for (size_t cut = 0; cut < n - 1; cut++) {
        bad += ev_minisign_verify(sig, cut, msg, sizeof msg, k.pk, k.keyid, 0,
                                  NULL, 0) == EV_MS_OK;
    }
    CHECK_EQ(bad, 0);
    /* (the final newline may be missing) */
    CHECK_EQ(ev_minisign_verify(sig, n - 1, msg, sizeof msg, k.pk, k.keyid, 0,
                                NULL, 0),
             EV_MS_OK);
    bad = 0;
    for (size_t i = 0; i <= n; i++) {
        int rc;
        memcpy(t, sig, i);
        t[i] = 'A';
        memcpy(t + i + 1, sig + i, n - i);
        rc = ev_minisign_verify(t, n + 1, msg, sizeof msg, k.pk, k.keyid, 0,
                                NULL, 0);
        bad += i >= uc_start && i <= l1 ? rc != EV_MS_OK : rc == EV_MS_OK;
    }
    CHECK_EQ(bad, 0);
    ev_wipe(k.sk, sizeof k.sk);
}

/* Replaces the first occurrence of from in s by to, into out. */
static void
subst(char *out, size_t cap, const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);

    if (p == NULL) {
        snprintf(out, cap, "%s", s);
        return;
    }
    snprintf(out, cap, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
}

static void
test_structure(void)
{
    struct key k;
    uint8_t msg[] = "structure";
    char sig[EV_MINISIGN_SIG_MAX], t[EV_MINISIGN_SIG_MAX + 2048];
    char tc[EV_MINISIGN_COMMENT_MAX + 1];
    size_t n;

    key_new(&k);
    CHECK_EQ(ev_minisign_sign(sig, sizeof sig, msg, sizeof msg, k.sk, k.keyid,
                              "u", "tc"),
             EV_MS_OK);
    n = strlen(sig);

    /* CRLF endings are read like LF */
    {
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            if (sig[i] == '\n') {
                t[o++] = '\r';
            }
            t[o++] = sig[i];
        }
        t[o] = '\0';
        CHECK_EQ(verify_str(t, msg, sizeof msg, &k, 0, tc, sizeof tc),
                 EV_MS_OK);
        CHECK(strcmp(tc, "tc") == 0);
    }
    /* a bare CR inside a line */
    subst(t, sizeof t, sig, "untrusted comment: u", "untrusted comment: \ru");
    CHECK_EQ(verify_str(t, msg, sizeof msg, &k, 0, NULL, 0), EV_MS_FORMAT);
    /* a NUL anywhere */
    memcpy(t, sig, n);
    t[n] = '\0';
    CHECK_EQ(ev_minisign_verify(t, n + 1, msg, sizeof msg, k.pk, k.keyid, 0,
                                NULL, 0),
             EV_MS_FORMAT);
    /* extra lines, missing lines, empty input */
    snprintf(t, sizeof t, "%s\n", sig);
    CHECK_EQ(verify_str(t, msg, sizeof msg, &k, 0, NULL, 0), EV_MS_FORMAT);
    snprintf(t, sizeof t, "%sextra\n", sig);
    CHECK_EQ(verify_str(t, msg, sizeof msg, &k, 0, NULL, 0), EV_MS_FORMAT);
    {
        /* cut after the trusted comment line: no global signature */
        const char *tl = strstr(sig, "\ntrusted comment: ");
        size_t cut = (size_t)(strchr(tl + 1, '\n') - sig) + 1;
        CHECK_EQ(ev_minisign_verify(sig, cut, msg, sizeof msg, k.pk, k.keyid, 0,
                                    NULL, 0),
                 EV_MS_FORMAT);
    }
    CHECK_EQ(verify_str("", msg, sizeof msg, &k, 0, NULL, 0), EV_MS_FORMAT);
    snprintf(t, sizeof t, "\n%s", sig);
    CHECK_EQ(verify_str(t, msg, sizeof msg, &k, 0, NULL, 0), EV_MS_FORMAT);
    /* spaces around a base64 line */
    subst(t, sizeof t, sig, "\nRU", "\n RU");
    CHECK_EQ(verify_str(t, msg, sizeof msg, &k, 0, NULL, 0), EV_MS_BASE64);
    /* signify's form, without the trusted lines */
    {
        const char *third = strstr(sig, "\ntrusted comment: ");
        CHECK_EQ(ev_minisign_verify(sig, (size_t)(third - sig) + 1, msg,
                                    sizeof msg, k.pk, k.keyid, 0, NULL, 0),
                 EV_MS_FORMAT);
    }
    /* an untrusted comment of 1025 bytes is refused, 1024 taken */
    {
        size_t pre = strlen("untrusted comment: ");
        for (size_t len = EV_MINISIGN_COMMENT_MAX;
             len <= EV_MINISIGN_COMMENT_MAX + 1; len++) {
            /* sig's untrusted comment "u" becomes len bytes of 'x' */
            memcpy(t, sig, pre);
            memset(t + pre, 'x', len);
            memcpy(t + pre + len, sig + pre + 1, n - pre - 1);
            CHECK_EQ(ev_minisign_verify(t, n - 1 + len, msg, sizeof msg, k.pk,
                                        k.keyid, 0, NULL, 0),
                     len <= EV_MINISIGN_COMMENT_MAX ? EV_MS_OK : EV_MS_FORMAT);
        }
    }

    /* a legacy signature we build by hand */
    {
        uint8_t bin[74], raw[64], global[64 + 2];
        char line[101], gline[89];
        bin[0] = 'E';
        bin[1] = 'd';
        memcpy(bin + 2, k.keyid, 8);
        ev_sign(bin + 10, msg, sizeof msg, k.sk);
        memcpy(global, bin + 10, 64);
        memcpy(global + 64, "lc", 2);
        ev_sign(raw, global, sizeof global, k.sk);
        CHECK_EQ(ev_base64_encode(line, sizeof line, bin, sizeof bin), 0);
        CHECK_EQ(ev_base64_encode(gline, sizeof gline, raw, sizeof raw), 0);
        snprintf(t, sizeof t,
                 "untrusted comment: legacy\n%s\ntrusted comment: lc\n%s\n",
                 line, gline);
        CHECK_EQ(verify_str(t, msg, sizeof msg, &k, 0, tc, sizeof tc),
                 EV_MS_ALGORITHM);
        CHECK_EQ(verify_str(t, msg, sizeof msg, &k, 1, tc, sizeof tc),
                 EV_MS_OK);
        CHECK(strcmp(tc, "lc") == 0);
        bin[1] = 'X';
        CHECK_EQ(ev_base64_encode(line, sizeof line, bin, sizeof bin), 0);
        snprintf(t, sizeof t,
                 "untrusted comment: legacy\n%s\ntrusted comment: lc\n%s\n",
                 line, gline);
        CHECK_EQ(verify_str(t, msg, sizeof msg, &k, 1, tc, sizeof tc),
                 EV_MS_ALGORITHM);
    }
    ev_wipe(k.sk, sizeof k.sk);
}

static void
test_pubkey(void)
{
    struct key k;
    uint8_t pk[32], keyid[8], bin[42];
    char line[EV_MINISIGN_PUBKEY_CHARS + 1], file[EV_MINISIGN_PUBFILE_MAX];
    char t[EV_MINISIGN_PUBFILE_MAX + 16];
    int bad;

    key_new(&k);
    CHECK_EQ(ev_minisign_pubkey_encode(line, sizeof line, k.pk, k.keyid),
             EV_MS_OK);
    CHECK_EQ(strlen(line), EV_MINISIGN_PUBKEY_CHARS);
    CHECK(strncmp(line, "RW", 2) == 0);
    CHECK_EQ(ev_minisign_pubkey_encode(line, sizeof line - 1, k.pk, k.keyid),
             EV_MS_NOMEM);
    CHECK_EQ(ev_minisign_pubkey_encode(line, sizeof line, k.pk, k.keyid),
             EV_MS_OK);

    /* the bare line, with LF or CRLF */
    CHECK_EQ(ev_minisign_pubkey_decode(pk, keyid, line, strlen(line)),
             EV_MS_OK);
    CHECK(memcmp(pk, k.pk, 32) == 0 && memcmp(keyid, k.keyid, 8) == 0);
    snprintf(t, sizeof t, "%s\r\n", line);
    CHECK_EQ(ev_minisign_pubkey_decode(pk, keyid, t, strlen(t)), EV_MS_OK);
    snprintf(t, sizeof t, "%s\n\n", line);
    CHECK_EQ(ev_minisign_pubkey_decode(pk, keyid, t, strlen(t)), EV_MS_FORMAT);
    snprintf(t, sizeof t, " %s", line);
    CHECK_EQ(ev_minisign_pubkey_decode(pk, keyid, t, strlen(t)), EV_MS_BASE64);
    CHECK_EQ(ev_minisign_pubkey_decode(pk, keyid, line, strlen(line) - 4),
             EV_MS_BASE64);
    CHECK_EQ(ev_minisign_pubkey_decode(pk, keyid, line, strlen(line) + 1),
             EV_MS_FORMAT); /* the NUL */
    CHECK_EQ(ev_minisign_pubkey_decode(pk, keyid, "", 0), EV_MS_FORMAT);

    /* the .pub file, with a comment or minisign's default */
    CHECK_EQ(ev_minisign_pubkey_file(file, sizeof file, k.pk, k.keyid,
                                     "evault case 7"),
             EV_MS_OK);
    snprintf(t, sizeof t, "untrusted comment: evault case 7\n%s\n", line);
    CHECK(strcmp(file, t) == 0);
    CHECK_EQ(ev_minisign_pubkey_decode(pk, keyid, file, strlen(file)),
             EV_MS_OK);
    CHECK(memcmp(pk, k.pk, 32) == 0 && memcmp(keyid, k.keyid, 8) == 0);
    CHECK_EQ(ev_minisign_pubkey_decode(pk, keyid, file, strlen(file) - 1),
             EV_MS_OK);
    CHECK_EQ(ev_minisign_pubkey_file(file, sizeof file, k.pk, k.keyid, NULL),
             EV_MS_OK);
    CHECK(strncmp(file, "untrusted comment: minisign public key ", 39) == 0);
    CHECK_EQ(strlen(file), 39 + 16 + 1 + EV_MINISIGN_PUBKEY_CHARS + 1);
    CHECK_EQ(ev_minisign_pubkey_file(file, sizeof file, k.pk, k.keyid, "a\nb"),
             EV_MS_FORMAT);
    CHECK_EQ(ev_minisign_pubkey_file(file, 20, k.pk, k.keyid, "c"),
             EV_MS_NOMEM);
    snprintf(t, sizeof t, "untrusted comment: x\n%s\nmore\n", line);
    CHECK_EQ(ev_minisign_pubkey_decode(pk, keyid, t, strlen(t)), EV_MS_FORMAT);
    snprintf(t, sizeof t, "untrusted comment: x\n");
    CHECK_EQ(ev_minisign_pubkey_decode(pk, keyid, t, strlen(t)), EV_MS_FORMAT);

    /* another algorithm */
    CHECK_EQ(ev_base64_decode(bin, sizeof bin, line, strlen(line)), 42);
    bin[1] = 'D';
    CHECK_EQ(ev_base64_encode(t, sizeof t, bin, sizeof bin), 0);
    CHECK_EQ(ev_minisign_pubkey_decode(pk, keyid, t, strlen(t)),
             EV_MS_ALGORITHM);

    /* every character changed: an error, or another key -- never the
     * same key from different text (canonical base64) */
    bad = 0;
    for (size_t i = 0; i < EV_MINISIGN_PUBKEY_CHARS; i++) {
        for (int v = 1; v < 256; v++) {
            int rc;
            if ((char)v == line[i]) {
                continue;
            }
            memcpy(t, line, sizeof line);
            t[i] = (char)v;
            rc = ev_minisign_pubkey_decode(pk, keyid, t,
                                           EV_MINISIGN_PUBKEY_CHARS);
            if (rc == EV_MS_OK && memcmp(pk, k.pk, 32) == 0 &&
                memcmp(keyid, k.keyid, 8) == 0) {
                bad++;
            }
        }
    }
    CHECK_EQ(bad, 0);
    ev_wipe(k.sk, sizeof k.sk);
}

static void
test_keyid(void)
{
    uint8_t pk[32], keyid[8], buf[21 + 32], h[32];

    t_fill_random(pk, sizeof pk, 3);
    CHECK_EQ(ev_minisign_keyid(keyid, pk), 0);
    memcpy(buf, "evault minisign keyid", 21);
    memcpy(buf + 21, pk, 32);
    crypto_generichash(h, sizeof h, buf, sizeof buf, NULL, 0);
    CHECK(memcmp(keyid, h, 8) == 0);
    pk[0] ^= 1;
    CHECK_EQ(ev_minisign_keyid(h, pk), 0);
    CHECK(memcmp(keyid, h, 8) != 0);
}

static void
test_strerror(void)
{
    for (int e = EV_MS_OK; e < EV_MS_LAST; e++) {
        const char *s = ev_minisign_strerror(e);
        CHECK(s != NULL && strcmp(s, "unknown minisign error") != 0);
        for (int f = EV_MS_OK; f < e; f++) {
            CHECK(strcmp(s, ev_minisign_strerror(f)) != 0);
        }
    }
    CHECK(strcmp(ev_minisign_strerror(EV_MS_LAST), "unknown minisign error") ==
          0);
    CHECK(strcmp(ev_minisign_strerror(-1), "unknown minisign error") == 0);
}

int
main(void)
{
    if (ev_crypto_init() != 0) {
        return 2;
    }
    test_known_answers();
    test_round_trip();
    test_tamper();
    test_structure();
    test_pubkey();
    test_keyid();
    test_strerror();
    EV_TEST_END();
}
