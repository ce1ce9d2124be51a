/*
 * test_age.c - age.c: the age v1 format.  Known answers for HKDF, HMAC,
 * X25519, scrypt and the spec's Bech32 key pair; round trips of every
 * chunk-boundary size to one and three recipients; the tests/age corpus
 * (good_* files made with Debian's age 1.1.1 or make_corpus.py must give
 * plain.txt, each fail_* file its own error); a tamper loop flipping every
 * byte and cutting at every length; failing callbacks.
 */
#include "age.h"
#include "crypto.h"
#include "harness.h"
#include "testutil.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>

static char corpus[PATH_MAX];

/* tests/age next to this file (CMake compiles it by absolute path), or
 * $EV_TEST_SRC/age. */
static void
find_corpus(void)
{
    const char *src = getenv("EV_TEST_SRC");
    char here[PATH_MAX];

    if (src != NULL && src[0] != '\0') {
        snprintf(corpus, sizeof corpus, "%s/age", src);
        return;
    }
    snprintf(here, sizeof here, "%s", __FILE__);
    snprintf(corpus, sizeof corpus, "%s/age", dirname(here));
}

static uint8_t *
corpus_file(const char *name, size_t *n)
{
    char path[PATH_MAX];
    uint8_t *p;

    t_path(path, sizeof path, corpus, name);
    p = t_read_file(path, n);
    if (p == NULL) {
        fprintf(stderr, "cannot read '%s'\n", path);
    }
    return p;
}

static size_t
unhex(uint8_t *out, const char *hex)
{
    size_t n = 0;
    unsigned v;

    while (hex[0] != '\0' && sscanf(hex, "%2x", &v) == 1) {
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

/* ---- memory callbacks ---- */

struct sink {
    uint8_t *p;
    size_t len, cap;
    int fail_at_call; /* 0: never; k: the k-th call fails */
    int calls;
};

static int
sink_write(void *ctx, const uint8_t *p, size_t n)
{
    struct sink *s = ctx;

    if (++s->calls == s->fail_at_call) {
        return ENOSPC;
    }
    if (s->len + n > s->cap) {
        size_t cap = (s->len + n) * 2;
        uint8_t *q = realloc(s->p, cap);
        if (q == NULL) {
            return ENOMEM;
        }
        s->p = q;
        s->cap = cap;
    }
    memcpy(s->p + s->len, p, n);
    s->len += n;
    return 0;
}

struct source {
    const uint8_t *p;
    size_t len, pos;
    size_t step;       /* most bytes per call (0: all asked) */
    size_t fail_after; /* 0: never; else fail once pos reaches it */
    int calls_after_end;
};

static int
source_read(void *ctx, uint8_t *p, size_t cap, size_t *got)
{
    struct source *s = ctx;
    size_t n = s->len - s->pos;

    if (s->fail_after != 0 && s->pos >= s->fail_after) {
        return EIO;
    }
    if (n == 0) {
        s->calls_after_end++;
    }
    if (n > cap) {
        n = cap;
    }
    if (s->step != 0 && n > s->step) {
        n = s->step;
    }
    memcpy(p, s->p + s->pos, n);
    s->pos += n;
    *got = n;
    return 0;
}

/* Decrypts a whole buffer; *out (malloc'd) holds every byte released
 * before the end or the first error. */
static int
decrypt(const uint8_t *ct, size_t len, const ev_age_identity *ids, size_t nids,
        size_t step, size_t read_cap, uint8_t **out, size_t *out_len)
{
    struct source src = {ct, len, 0, step, 0, 0};
    ev_age_reader *r = NULL;
    uint8_t *buf = malloc(read_cap);
    size_t cap = 1024, got;
    int rc;

    *out = malloc(cap);
    *out_len = 0;
    rc = ev_age_reader_new(&r, ids, nids, source_read, &src);
    if (rc == EV_AGE_OK) {
        CHECK(r != NULL);
    } else {
        CHECK(r == NULL);
    }
    while (rc == EV_AGE_OK) {
        rc = ev_age_read(r, buf, read_cap, &got);
        if (rc != EV_AGE_OK || got == 0) {
            break;
        }
        if (*out_len + got > cap) {
            cap = (*out_len + got) * 2;
            *out = realloc(*out, cap);
        }
        memcpy(*out + *out_len, buf, got);
        *out_len += got;
    }
    ev_age_reader_free(r);
    free(buf);
    return rc;
}

/* Encrypts p[0..n) to recipients, written in pieces of `piece` bytes. */
static int
encrypt(struct sink *s, const uint8_t (*rcpt)[32], size_t nr, const uint8_t *p,
        size_t n, size_t piece)
{
    ev_age_writer *w = NULL;
    int rc = ev_age_writer_new(&w, rcpt, nr, sink_write, s);

    for (size_t o = 0; rc == EV_AGE_OK && o < n; o += piece) {
        rc = ev_age_write(w, p + o, n - o < piece ? n - o : piece);
    }
    if (rc == EV_AGE_OK) {
        rc = ev_age_finish(w);
    }
    ev_age_writer_free(w);
    return rc;
}

static ev_age_identity
x25519_id(const uint8_t sk[32])
{
    ev_age_identity id;

    memset(&id, 0, sizeof id);
    id.kind = EV_AGE_ID_X25519;
    memcpy(id.x25519_sk, sk, 32);
    return id;
}

static ev_age_identity
pass_id(const char *pass)
{
    ev_age_identity id;

    memset(&id, 0, sizeof id);
    id.kind = EV_AGE_ID_SCRYPT;
    id.passphrase = pass;
    id.passphrase_len = strlen(pass);
    return id;
}

/* The identity in tests/age/<name>. */
static ev_age_identity
file_id(const char *name)
{
    uint8_t sk[32] = {0};
    size_t n;
    uint8_t *text = corpus_file(name, &n);

    CHECK(text != NULL);
    if (text != NULL) {
        CHECK_EQ(ev_age_identity_file_parse(sk, (const char *)text, n),
                 EV_AGE_OK);
        free(text);
    }
    return x25519_id(sk);
}

static char passphrase[128];

static void
load_passphrase(void)
{
    size_t n;
    uint8_t *p = corpus_file("passphrase.txt", &n);

    CHECK(p != NULL && n > 1 && n < sizeof passphrase);
    if (p != NULL && n < sizeof passphrase) {
        memcpy(passphrase, p, n);
        passphrase[n] = '\0';
        passphrase[strcspn(passphrase, "\n")] = '\0';
    }
    free(p);
}

/* ---- known answers ---- */

static void
test_kat_primitives(void)
{
    uint8_t ikm[22], salt[13], info[10], okm[42], want[64], out[64];
    uint8_t a_sk[32], b_pk[32], shared[32];

    /* RFC 5869 A.1 and A.3 */
    memset(ikm, 0x0b, sizeof ikm);
    for (int i = 0; i < 13; i++) {
        salt[i] = (uint8_t)i;
    }
    for (int i = 0; i < 10; i++) {
        info[i] = (uint8_t)(0xf0 + i);
    }
    CHECK_EQ(ev_hkdf_sha256(okm, sizeof okm, ikm, sizeof ikm, salt, sizeof salt,
                            info, sizeof info),
             0);
    unhex(want, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4"
                "c5bf34007208d5b887185865");
    CHECK(memcmp(okm, want, 42) == 0);
    CHECK_EQ(ev_hkdf_sha256(okm, sizeof okm, ikm, sizeof ikm, NULL, 0, "", 0),
             0);
    unhex(want, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c73"
                "8d2d9d201395faa4b61a96c8");
    CHECK(memcmp(okm, want, 42) == 0);

    /* RFC 5869's longest output, and one byte more: refused (it aborted),
     * with nothing written */
    {
        static uint8_t big[255 * 32 + 1];
        int touched = 0;
        memset(big, 0xee, sizeof big);
        CHECK_EQ(
            ev_hkdf_sha256(big, sizeof big, ikm, sizeof ikm, NULL, 0, "", 0),
            -1);
        for (size_t i = 0; i < sizeof big; i++) {
            touched += big[i] != 0xee;
        }
        CHECK_EQ(touched, 0);
        CHECK_EQ(ev_hkdf_sha256(big, sizeof big - 1, ikm, sizeof ikm, NULL, 0,
                                "", 0),
                 0);
        CHECK(memcmp(big, want, 42) == 0); /* the same stream from byte 0 */
        CHECK_EQ(big[sizeof big - 1], 0xee);
    }
    /* a NULL key with a length is refused, not handed to libsodium */
    CHECK_EQ(ev_hmac_sha256(out, NULL, 4, "x", 1), -1);

    /* RFC 4231 test case 2 */
    CHECK_EQ(ev_hmac_sha256(out, (const uint8_t *)"Jefe", 4,
                            "what do ya want for nothing?", 28),
             0);
    unhex(want, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec"
                "3843");
    CHECK(memcmp(out, want, 32) == 0);

    /* RFC 7748 6.1 */
    unhex(a_sk, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db9"
                "2c2a");
    unhex(b_pk, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f88"
                "2b4f");
    CHECK_EQ(ev_x25519_base(out, a_sk), 0);
    unhex(want, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b"
                "4e6a");
    CHECK(memcmp(out, want, 32) == 0);
    CHECK_EQ(ev_x25519(shared, a_sk, b_pk), 0);
    unhex(want, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e16"
                "1742");
    CHECK(memcmp(shared, want, 32) == 0);
    memset(b_pk, 0, sizeof b_pk); /* low order: the all-zero secret */
    CHECK_EQ(ev_x25519(shared, a_sk, b_pk), -1);

    /* RFC 7914 section 12, second vector */
    CHECK_EQ(ev_scrypt(out, 64, "password", 8, (const uint8_t *)"NaCl", 4, 10,
                       8, 16),
             0);
    unhex(want, "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b37"
                "31622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdf"
                "a2cc0640");
    CHECK(memcmp(out, want, 64) == 0);

    /* unpadded base64: canonical only */
    CHECK_EQ(ev_base64_raw_decode(out, 4, "AA", 2), 1);
    CHECK_EQ(ev_base64_raw_decode(out, 4, "AB", 2), -1);
    CHECK_EQ(ev_base64_raw_decode(out, 4, "AA==", 4), -1);
    CHECK_EQ(ev_base64_raw_decode(out, 4, "A", 1), -1);
    CHECK_EQ(ev_base64_raw_decode(out, 4, "A A", 3), -1);
    /* libsodium 1.0.18 alone would take a byte over 0x7f as a digit */
    for (int c = 0x80; c < 0x100; c++) {
        char s[4] = {'A', 'A', 'A', (char)c};
        CHECK_EQ(ev_base64_raw_decode(out, 4, s, 4), -1);
    }
}

/* The example key pair of c2sp.org/age. */
static const char spec_identity[] =
    "AGE-SECRET-KEY-"
    "1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
static const char spec_recipient[] =
    "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";

static void
test_keys(void)
{
    uint8_t sk[32], pk[32], pk2[32], want[32];
    char s[EV_AGE_IDENTITY_CHARS + 1], bad[EV_AGE_IDENTITY_CHARS + 1];

    CHECK_EQ(strlen(spec_identity), EV_AGE_IDENTITY_CHARS);
    CHECK_EQ(strlen(spec_recipient), EV_AGE_RECIPIENT_CHARS);
    CHECK_EQ(ev_age_identity_decode(sk, spec_identity), EV_AGE_OK);
    memset(want, 0x42, sizeof want);
    CHECK(memcmp(sk, want, 32) == 0);
    CHECK_EQ(ev_x25519_base(pk, sk), 0);
    CHECK_EQ(ev_age_recipient_encode(s, sizeof s, pk), EV_AGE_OK);
    CHECK(strcmp(s, spec_recipient) == 0);
    CHECK_EQ(ev_age_recipient_decode(pk2, spec_recipient), EV_AGE_OK);
    CHECK(memcmp(pk, pk2, 32) == 0);
    CHECK_EQ(ev_age_identity_encode(s, sizeof s, sk), EV_AGE_OK);
    CHECK(strcmp(s, spec_identity) == 0);

    /* buffers one byte short */
    CHECK_EQ(ev_age_identity_encode(s, EV_AGE_IDENTITY_CHARS, sk), EV_AGE_KEY);
    CHECK_EQ(ev_age_recipient_encode(s, EV_AGE_RECIPIENT_CHARS, pk),
             EV_AGE_KEY);

    /* every single-character change is refused */
    for (size_t i = 0; i < EV_AGE_RECIPIENT_CHARS; i++) {
        memcpy(bad, spec_recipient, sizeof spec_recipient);
        bad[i] = bad[i] == 'q' ? 'p' : 'q';
        if (i == 3) {
            bad[i] = '2'; /* the separator */
        }
        CHECK_EQ(ev_age_recipient_decode(pk2, bad), EV_AGE_KEY);
    }
    for (size_t i = 0; i < EV_AGE_IDENTITY_CHARS; i++) {
        memcpy(bad, spec_identity, sizeof spec_identity);
        bad[i] = bad[i] == 'Q' ? 'P' : 'Q';
        CHECK_EQ(ev_age_identity_decode(sk, bad), EV_AGE_KEY);
    }
    /* case: lowercase identities, uppercase recipients, mixed case */
    for (size_t i = 0; i < sizeof bad; i++) {
        bad[i] = (char)tolower((unsigned char)spec_identity[i]);
    }
    CHECK_EQ(ev_age_identity_decode(sk, bad), EV_AGE_KEY);
    for (size_t i = 0; i < sizeof spec_recipient; i++) {
        bad[i] = (char)toupper((unsigned char)spec_recipient[i]);
    }
    CHECK_EQ(ev_age_recipient_decode(pk2, bad), EV_AGE_KEY);
    memcpy(bad, spec_recipient, sizeof spec_recipient);
    bad[10] = (char)toupper((unsigned char)bad[10]);
    CHECK_EQ(ev_age_recipient_decode(pk2, bad), EV_AGE_KEY);
    /* valid checksums, but nonzero pad bits / 31 bytes / another HRP */
    CHECK_EQ(ev_age_recipient_decode(
                 pk2, "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73e"
                      "pp9g8nq"),
             EV_AGE_KEY);
    CHECK_EQ(ev_age_recipient_decode(
                 pk2, "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn7s3"
                      "pqez7"),
             EV_AGE_KEY);
    CHECK_EQ(ev_age_recipient_decode(pk2, ""), EV_AGE_KEY);
    CHECK_EQ(ev_age_identity_decode(sk, spec_recipient), EV_AGE_KEY);
    CHECK_EQ(ev_age_recipient_decode(pk2, spec_identity), EV_AGE_KEY);
}

static void
test_identity_file(void)
{
    uint8_t sk[32], want[32];
    char text[512];

    memset(want, 0x42, sizeof want);
    snprintf(text, sizeof text, "# created: now\n# public key: %s\n\n%s\n",
             spec_recipient, spec_identity);
    CHECK_EQ(ev_age_identity_file_parse(sk, text, strlen(text)), EV_AGE_OK);
    CHECK(memcmp(sk, want, 32) == 0);
    snprintf(text, sizeof text, "# comment\r\n\r\n%s\r\n", spec_identity);
    CHECK_EQ(ev_age_identity_file_parse(sk, text, strlen(text)), EV_AGE_OK);
    CHECK(memcmp(sk, want, 32) == 0);
    snprintf(text, sizeof text, "%s", spec_identity); /* no final LF */
    CHECK_EQ(ev_age_identity_file_parse(sk, text, strlen(text)), EV_AGE_OK);
    CHECK(memcmp(sk, want, 32) == 0);

    snprintf(text, sizeof text, "# only comments\n\n");
    CHECK_EQ(ev_age_identity_file_parse(sk, text, strlen(text)), EV_AGE_KEY);
    CHECK_EQ(ev_age_identity_file_parse(sk, "", 0), EV_AGE_KEY);
    snprintf(text, sizeof text, "%s\nnot a key\n", spec_identity);
    CHECK_EQ(ev_age_identity_file_parse(sk, text, strlen(text)), EV_AGE_KEY);
    snprintf(text, sizeof text, " %s\n", spec_identity);
    CHECK_EQ(ev_age_identity_file_parse(sk, text, strlen(text)), EV_AGE_KEY);
    snprintf(text, sizeof text, "%s\n", spec_recipient);
    CHECK_EQ(ev_age_identity_file_parse(sk, text, strlen(text)), EV_AGE_KEY);
    /* a NUL inside the line */
    snprintf(text, sizeof text, "%s\n", spec_identity);
    text[20] = '\0';
    CHECK_EQ(ev_age_identity_file_parse(sk, text, strlen(spec_identity) + 1),
             EV_AGE_KEY);
}

/* ---- round trips ---- */

static size_t
expected_size(size_t n, size_t nrcpt)
{
    size_t chunks = n == 0 ? 1 : (n + 65535) / 65536;
    size_t hdr = 22 + nrcpt * (10 + 43 + 1 + 43 + 1) + 4 + 43 + 1;

    return hdr + 16 + n + 16 * chunks;
}

static void
test_round_trips(void)
{
    static const size_t sizes[] = {0,     1,         65535, 65536,
                                   65537, 3 * 65536, 200000};
    static const size_t pieces[] = {1000, 65536, 7, 200000};
    static const size_t caps[] = {65536, 1, 4096, 100000};
    uint8_t sk[3][32], pk[3][32];
    uint8_t *plain = malloc(200000);

    t_fill_random(plain, 200000, 7);
    for (int i = 0; i < 3; i++) {
        ev_box_keypair(pk[i], sk[i]);
    }
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        for (size_t nr = 1; nr <= 3; nr += 2) {
            struct sink s = {0};
            size_t n = sizes[si], piece = pieces[si % 4];
            int rc = encrypt(&s, (const uint8_t(*)[32])pk, nr, plain, n,
                             n < 10 && piece > 1 ? 1 : piece);
            CHECK_EQ(rc, EV_AGE_OK);
            CHECK_EQ(s.len, expected_size(n, nr));
            for (size_t k = 0; k < nr; k++) {
                ev_age_identity id = x25519_id(sk[k]);
                uint8_t *out;
                size_t out_len;
                size_t step = k == 1 ? 1000 : 0; /* short reads too */
                rc = decrypt(s.p, s.len, &id, 1, step, caps[(si + k) % 4], &out,
                             &out_len);
                CHECK_EQ(rc, EV_AGE_OK);
                CHECK_EQ(out_len, n);
                CHECK(out_len == n && memcmp(out, plain, n) == 0);
                free(out);
            }
            /* a recipient that is not there */
            {
                uint8_t osk[32], opk[32];
                ev_age_identity id;
                uint8_t *out;
                size_t out_len;
                ev_box_keypair(opk, osk);
                id = x25519_id(osk);
                CHECK_EQ(decrypt(s.p, s.len, &id, 1, 0, 4096, &out, &out_len),
                         EV_AGE_NO_IDENTITY);
                free(out);
            }
            free(s.p);
        }
    }
    free(plain);
}

/* ---- corpus ---- */

struct good {
    const char *file;
    const char *key; /* identity file, or NULL: the passphrase */
    int empty;       /* the plaintext is empty, not plain.txt */
};

static const struct good goods[] = {
    {"good_x25519.age", "key_a.txt", 0},
    {"good_multi.age", "key_a.txt", 0},
    {"good_multi.age", "key_b.txt", 0},
    {"good_multi.age", "key_c.txt", 0},
    {"good_armor.age", "key_a.txt", 0},
    {"good_armor_crlf.age", "key_a.txt", 0},
    {"good_empty.age", "key_a.txt", 1},
    {"good_grease.age", "key_a.txt", 0},
    {"good_scrypt.age", NULL, 0},
    {"good_scrypt_armor.age", NULL, 0},
};

static void
test_corpus_good(void)
{
    size_t plain_len;
    uint8_t *plain = corpus_file("plain.txt", &plain_len);

    CHECK(plain != NULL);
    for (size_t i = 0; plain != NULL && i < sizeof goods / sizeof *goods; i++) {
        const struct good *g = &goods[i];
        ev_age_identity id =
            g->key != NULL ? file_id(g->key) : pass_id(passphrase);
        size_t len, out_len;
        uint8_t *ct = corpus_file(g->file, &len), *out = NULL;
        int rc;
        CHECK(ct != NULL);
        if (ct == NULL) {
            continue;
        }
        rc = decrypt(ct, len, &id, 1, 0, 4096, &out, &out_len);
        if (rc != EV_AGE_OK) {
            fprintf(stderr, "%s: %s\n", g->file, ev_age_strerror(rc));
        }
        CHECK_EQ(rc, EV_AGE_OK);
        CHECK_EQ(out_len, g->empty ? 0 : plain_len);
        CHECK(g->empty ||
              (out_len == plain_len && memcmp(out, plain, plain_len) == 0));
        free(out);
        free(ct);
    }
    /* several identities: the one that matches is found */
    {
        ev_age_identity ids[3];
        size_t len, out_len;
        uint8_t *ct = corpus_file("good_multi.age", &len), *out = NULL;
        ids[0] = file_id("key_other.txt");
        ids[1] = pass_id(passphrase);
        ids[2] = file_id("key_c.txt");
        CHECK_EQ(decrypt(ct, len, ids, 3, 0, 4096, &out, &out_len), EV_AGE_OK);
        CHECK(out_len == plain_len && memcmp(out, plain, plain_len) == 0);
        free(out);
        free(ct);
    }
    free(plain);
}

struct fail {
    const char *file;
    const char *key; /* identity file, NULL: the passphrase, "-": a
                        wrong passphrase */
    int want;
};

static const struct fail fails[] = {
    {"fail_version.age", "key_a.txt", EV_AGE_HEADER},
    {"fail_header_line.age", "key_a.txt", EV_AGE_HEADER},
    {"fail_too_many_stanzas.age", "key_a.txt", EV_AGE_HEADER},
    {"fail_stanza_args.age", "key_a.txt", EV_AGE_STANZA},
    {"fail_stanza_empty_arg.age", "key_a.txt", EV_AGE_STANZA},
    {"fail_stanza_body64.age", "key_a.txt", EV_AGE_STANZA},
    {"fail_stanza_body_length.age", "key_a.txt", EV_AGE_STANZA},
    {"fail_low_order.age", "key_a.txt", EV_AGE_STANZA},
    {"fail_scrypt_mixed.age", "key_a.txt", EV_AGE_STANZA},
    {"fail_scrypt_mixed.age", NULL, EV_AGE_STANZA},
    {"fail_scrypt_leading_zero.age", NULL, EV_AGE_STANZA},
    {"fail_base64.age", "key_a.txt", EV_AGE_BASE64},
    {"fail_base64_padding.age", "key_a.txt", EV_AGE_BASE64},
    {"fail_no_identity.age", "key_a.txt", EV_AGE_NO_IDENTITY},
    {"good_x25519.age", "key_other.txt", EV_AGE_NO_IDENTITY},
    {"good_x25519.age", NULL, EV_AGE_NO_IDENTITY},
    {"good_scrypt.age", "-", EV_AGE_NO_IDENTITY},
    {"good_scrypt.age", "key_a.txt", EV_AGE_NO_IDENTITY},
    {"fail_mac.age", "key_a.txt", EV_AGE_MAC},
    {"fail_payload_flip.age", "key_a.txt", EV_AGE_CHUNK},
    {"fail_truncated_mid_chunk.age", "key_a.txt", EV_AGE_CHUNK},
    {"fail_empty_last.age", "key_a.txt", EV_AGE_CHUNK},
    {"fail_truncated_header.age", "key_a.txt", EV_AGE_TRUNCATED},
    {"fail_truncated_nonce.age", "key_a.txt", EV_AGE_TRUNCATED},
    {"fail_truncated_no_chunk.age", "key_a.txt", EV_AGE_TRUNCATED},
    {"fail_truncated_in_tag.age", "key_a.txt", EV_AGE_TRUNCATED},
    {"fail_missing_final.age", "key_a.txt", EV_AGE_TRUNCATED},
    {"fail_trailing.age", "key_a.txt", EV_AGE_TRAILING},
    {"fail_scrypt_work23.age", NULL, EV_AGE_SCRYPT_WORK},
    {"fail_armor_trailing.age", "key_a.txt", EV_AGE_ARMOR},
    {"fail_armor_short_line.age", "key_a.txt", EV_AGE_ARMOR},
    {"fail_armor_no_end.age", "key_a.txt", EV_AGE_ARMOR},
};

/* make_corpus.py's rand("big", 65536): SHA-256("big/0") || ... */
static void
big_plaintext(uint8_t *out)
{
    char label[32];

    for (int i = 0; i < 65536 / 32; i++) {
        snprintf(label, sizeof label, "big/%d", i);
        ev_sha256_once(out + 32 * i, label, strlen(label));
    }
}

static void
test_corpus_fail(void)
{
    uint8_t *big = malloc(65536);

    big_plaintext(big);
    for (size_t i = 0; i < sizeof fails / sizeof *fails; i++) {
        const struct fail *f = &fails[i];
        ev_age_identity id;
        size_t len, out_len;
        uint8_t *ct = corpus_file(f->file, &len), *out = NULL;
        int rc;
        if (f->key == NULL) {
            id = pass_id(passphrase);
        } else if (strcmp(f->key, "-") == 0) {
            id = pass_id("not the passphrase");
        } else {
            id = file_id(f->key);
        }
        CHECK(ct != NULL);
        if (ct == NULL) {
            continue;
        }
        rc = decrypt(ct, len, &id, 1, 0, 65536, &out, &out_len);
        if (rc != f->want) {
            fprintf(stderr, "%s: got %d (%s), want %d (%s)\n", f->file, rc,
                    ev_age_strerror(rc), f->want, ev_age_strerror(f->want));
        }
        CHECK_EQ(rc, f->want);
        /* Whatever was released was authenticated: the full first chunk
         * of two vectors, nothing else here (fail_trailing's final chunk
         * is withheld). */
        if (strcmp(f->file, "fail_missing_final.age") == 0 ||
            strcmp(f->file, "fail_empty_last.age") == 0) {
            CHECK_EQ(out_len, 65536);
            CHECK(out_len == 65536 && memcmp(out, big, 65536) == 0);
        } else {
            CHECK_EQ(out_len, 0);
        }
        free(out);
        free(ct);
    }
    free(big);
}

/* ---- tampering ---- */

/* Flips every byte of a good file (three masks) and cuts it at every
 * length: never a crash, never success, but for the whitespace after an
 * armored file's END line (the testkit's armor_no_eol is a good file),
 * and then with the same plaintext. */
static void
tamper(const char *file)
{
    static const uint8_t masks[] = {0x01, 0x80, 0xff};
    static const char end[] = "-----END AGE ENCRYPTED FILE-----";
    ev_age_identity id = file_id("key_a.txt");
    size_t len, out_len, good_len = 0, tail, bad = 0;
    uint8_t *ct = corpus_file(file, &len), *out, *good = NULL;
    const uint8_t *e;
    int rc;

    CHECK(ct != NULL);
    if (ct == NULL) {
        return;
    }
    CHECK_EQ(decrypt(ct, len, &id, 1, 0, 4096, &good, &good_len), EV_AGE_OK);
    e = memmem(ct, len, end, sizeof end - 1);
    tail = e != NULL ? (size_t)(e - ct) + sizeof end - 1 : len;
    for (size_t i = 0; i < len; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            ct[i] ^= masks[m];
            rc = decrypt(ct, len, &id, 1, 0, 4096, &out, &out_len);
            ct[i] ^= masks[m];
            free(out);
            if (rc == EV_AGE_OK) {
                fprintf(stderr, "%s: byte %zu ^ %02x accepted\n", file, i,
                        masks[m]);
                bad++;
            }
        }
    }
    for (size_t cut = 0; cut < len; cut++) {
        rc = decrypt(ct, cut, &id, 1, 0, 4096, &out, &out_len);
        if (rc == EV_AGE_OK && cut >= tail && out_len == good_len &&
            memcmp(out, good, good_len) == 0) {
            rc = -1; /* only whitespace after END was cut */
        }
        free(out);
        if (rc == EV_AGE_OK) {
            fprintf(stderr, "%s: cut at %zu accepted\n", file, cut);
            bad++;
        }
    }
    CHECK_EQ(bad, 0);
    free(good);
    free(ct);
}

/* The same over an evault-written file of three chunks, at the chunk
 * boundaries and tags only (every byte would be 200k decryptions). */
static void
tamper_chunks(void)
{
    uint8_t sk[32], pk[32], *plain = malloc(2 * 65536 + 10), *out;
    struct sink s = {0};
    ev_age_identity id;
    size_t out_len, hdr, bad = 0;

    ev_box_keypair(pk, sk);
    id = x25519_id(sk);
    t_fill_random(plain, 2 * 65536 + 10, 3);
    CHECK_EQ(encrypt(&s, (const uint8_t(*)[32]) & pk, 1, plain, 2 * 65536 + 10,
                     65536),
             EV_AGE_OK);
    hdr = s.len - (2 * 65536 + 10 + 3 * 16 + 16);
    for (size_t c = 0; c < 3; c++) {
        size_t start = hdr + 16 + c * (65536 + 16);
        size_t end = c < 2 ? start + 65536 + 16 : s.len;
        size_t probes[] = {start, start + 1, end - 17, end - 16, end - 1};
        for (size_t k = 0; k < 5; k++) {
            s.p[probes[k]] ^= 0x20;
            if (decrypt(s.p, s.len, &id, 1, 0, 65536, &out, &out_len) ==
                    EV_AGE_OK ||
                out_len > c * 65536) {
                bad++; /* success, or a chunk at or after the flip out */
            }
            free(out);
            s.p[probes[k]] ^= 0x20;
        }
        /* cut at the end of this chunk, and inside its tag */
        if (c < 2) {
            CHECK_EQ(decrypt(s.p, end, &id, 1, 0, 65536, &out, &out_len),
                     EV_AGE_TRUNCATED);
            CHECK_EQ(out_len, (c + 1) * 65536);
            free(out);
            CHECK_EQ(decrypt(s.p, end + 5, &id, 1, 0, 65536, &out, &out_len),
                     EV_AGE_TRUNCATED);
            free(out);
        }
    }
    /* one byte more after a short final chunk: that chunk fails */
    s.p = realloc(s.p, s.len + 1);
    s.p[s.len] = 0;
    CHECK_EQ(decrypt(s.p, s.len + 1, &id, 1, 0, 65536, &out, &out_len),
             EV_AGE_CHUNK);
    CHECK_EQ(out_len, 2 * 65536);
    free(out);
    CHECK_EQ(bad, 0);
    free(s.p);
    free(plain);
}

/* ---- callbacks and misuse ---- */

static void
test_io_and_misuse(void)
{
    uint8_t sk[32], pk[2][32], buf[16];
    struct sink s = {0};
    ev_age_writer *w = NULL;
    ev_age_reader *r = NULL;
    ev_age_identity id;
    uint8_t *out;
    size_t out_len, got;
    uint8_t *plain = malloc(3 * 65536);

    t_fill_random(plain, 3 * 65536, 9);
    ev_box_keypair(pk[0], sk);
    id = x25519_id(sk);

    /* the output fails: on the header, on a chunk, on the last chunk */
    s.fail_at_call = 1;
    CHECK_EQ(ev_age_writer_new(&w, (const uint8_t(*)[32])pk, 1, sink_write, &s),
             EV_AGE_IO);
    CHECK(w == NULL);
    for (int at = 2; at <= 4; at++) {
        struct sink t = {0};
        t.fail_at_call = at;
        CHECK_EQ(
            encrypt(&t, (const uint8_t(*)[32])pk, 1, plain, 3 * 65536, 65536),
            EV_AGE_IO);
        free(t.p);
    }

    /* misuse: no recipient, too many, a low-order one; after finish */
    CHECK_EQ(ev_age_writer_new(&w, (const uint8_t(*)[32])pk, 0, sink_write, &s),
             EV_AGE_KEY);
    CHECK_EQ(ev_age_writer_new(&w, (const uint8_t(*)[32])pk,
                               EV_AGE_MAX_RECIPIENTS + 1, sink_write, &s),
             EV_AGE_KEY);
    memset(pk[1], 0, 32);
    CHECK_EQ(ev_age_writer_new(&w, (const uint8_t(*)[32])pk, 2, sink_write, &s),
             EV_AGE_KEY);
    CHECK(w == NULL);
    s.fail_at_call = 0;
    s.len = 0;
    CHECK_EQ(ev_age_writer_new(&w, (const uint8_t(*)[32])pk, 1, sink_write, &s),
             EV_AGE_OK);
    CHECK_EQ(ev_age_write(w, plain, 10), EV_AGE_OK);
    CHECK_EQ(ev_age_finish(w), EV_AGE_OK);
    CHECK_EQ(ev_age_write(w, plain, 10), EV_AGE_IO);
    CHECK_EQ(ev_age_finish(w), EV_AGE_IO);
    ev_age_writer_free(w);
    ev_age_writer_free(NULL);
    ev_age_reader_free(NULL);

    /* the input fails in the header, and in the payload */
    {
        struct source src = {s.p, s.len, 0, 16, 30, 0};
        CHECK_EQ(ev_age_reader_new(&r, &id, 1, source_read, &src), EV_AGE_IO);
        CHECK(r == NULL);
    }
    {
        struct source src = {s.p, s.len, 0, 16, s.len - 8, 0};
        CHECK_EQ(ev_age_reader_new(&r, &id, 1, source_read, &src), EV_AGE_OK);
        CHECK_EQ(ev_age_read(r, buf, sizeof buf, &got), EV_AGE_IO);
        CHECK_EQ(got, 0);
        CHECK_EQ(ev_age_read(r, buf, sizeof buf, &got), EV_AGE_IO); /* sticks */
        ev_age_reader_free(r);
    }
    /* the read callback is not called again once it said end */
    {
        struct source src = {s.p, s.len, 0, 0, 0, 0};
        CHECK_EQ(ev_age_reader_new(&r, &id, 1, source_read, &src), EV_AGE_OK);
        CHECK_EQ(ev_age_read(r, buf, 0, &got), EV_AGE_IO); /* cap 0 */
        CHECK_EQ(ev_age_read(r, buf, sizeof buf, &got), EV_AGE_OK);
        CHECK_EQ(got, 10);
        CHECK(memcmp(buf, plain, 10) == 0);
        CHECK_EQ(ev_age_read(r, buf, sizeof buf, &got), EV_AGE_OK);
        CHECK_EQ(got, 0);
        CHECK_EQ(ev_age_read(r, buf, sizeof buf, &got), EV_AGE_OK);
        CHECK_EQ(got, 0);
        CHECK_EQ(src.calls_after_end, 1);
        ev_age_reader_free(r);
    }
    /* no identity at all; empty input; not age */
    CHECK_EQ(decrypt(s.p, s.len, NULL, 0, 0, 16, &out, &out_len),
             EV_AGE_NO_IDENTITY);
    free(out);
    CHECK_EQ(decrypt(s.p, 0, &id, 1, 0, 16, &out, &out_len), EV_AGE_HEADER);
    free(out);
    CHECK_EQ(
        decrypt((const uint8_t *)"hello\n", 6, &id, 1, 0, 16, &out, &out_len),
        EV_AGE_HEADER);
    free(out);
    CHECK_EQ(decrypt((const uint8_t *)"age-encryption", 14, &id, 1, 0, 16, &out,
                     &out_len),
             EV_AGE_TRUNCATED);
    free(out);
    /* every code has its own message */
    for (int e = 0; e < EV_AGE_LAST; e++) {
        CHECK(strcmp(ev_age_strerror(e), "unknown error") != 0);
        for (int f = 0; f < e; f++) {
            CHECK(strcmp(ev_age_strerror(e), ev_age_strerror(f)) != 0);
        }
    }
    CHECK(strcmp(ev_age_strerror(EV_AGE_LAST), "unknown error") == 0);
    free(s.p);
    free(plain);
}

int
main(void)
{
    if (ev_crypto_init() != 0) {
        return 2;
    }
    find_corpus();
    load_passphrase();
    test_kat_primitives();
    test_keys();
    test_identity_file();
    test_round_trips();
    test_corpus_good();
    test_corpus_fail();
    tamper("good_x25519.age");
    tamper("good_armor.age");
    tamper("good_empty.age");
    tamper("good_grease.age");
    tamper_chunks();
    test_io_and_misuse();
    EV_TEST_END();
}
