/*
 * test_crypto.c - crypto.c: ChaCha20-Poly1305-IETF chunks against RFC 8439
 * and libsodium, XChaCha20-Poly1305 wrapping, SHA-256 (FIPS 180), the
 * keystream, and the STREAM nonce layout.
 */
#include "crypto.h"
#include "harness.h"
#include "testutil.h"

#include <sodium.h>
#include <string.h>

static size_t
unhex(uint8_t *out, const char *hex)
{
    size_t n = 0;

    while (hex[0] != '\0') {
        unsigned v;
        if (hex[0] == ' ' || hex[0] == ':' || hex[0] == '\n') {
            hex++;
            continue;
        }
        if (sscanf(hex, "%2x", &v) != 1) {
            break;
        }
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

/* RFC 8439, 2.8.2: the AEAD_CHACHA20_POLY1305 example. */
static const char rfc_pt[] =
    "Ladies and Gentlemen of the class of '99: If I could offer you only "
    "one tip for the future, sunscreen would be it.";
static const char rfc_key[] =
    "80 81 82 83 84 85 86 87 88 89 8a 8b 8c 8d 8e 8f"
    "90 91 92 93 94 95 96 97 98 99 9a 9b 9c 9d 9e 9f";
static const char rfc_nonce[] = "07 00 00 00 40 41 42 43 44 45 46 47";
static const char rfc_aad[] = "50 51 52 53 c0 c1 c2 c3 c4 c5 c6 c7";
static const char rfc_ct[] =
    "d3 1a 8d 34 64 8e 60 db 7b 86 af bc 53 ef 7e c2"
    "a4 ad ed 51 29 6e 08 fe a9 e2 b5 a7 36 ee 62 d6"
    "3d be a4 5e 8c a9 67 12 82 fa fb 69 da 92 72 8b"
    "1a 71 de 0a 9e 06 0b 29 05 d6 a5 b6 7e cd 3b 36"
    "92 dd bd 7f 2d 77 8b 8c 98 03 ae e3 28 09 1b 58"
    "fa b3 24 e4 fa d6 75 94 55 85 80 8b 48 31 d7 bc"
    "3f f4 de f0 8e 4b 7a 9d e5 76 d2 65 86 ce c6 4b"
    "61 16";
static const char rfc_tag[] = "1a:e1:0b:59:4f:09:e2:6a:7e:90:2e:cb:d0:60:06:91";

static void
test_chunk_rfc8439(void)
{
    uint8_t key[32], nonce[12], aad[12], ct[128], tag[16];
    uint8_t out[128 + 16], back[128];
    size_t ptlen = strlen(rfc_pt);

    CHECK_EQ(unhex(key, rfc_key), 32);
    CHECK_EQ(unhex(nonce, rfc_nonce), 12);
    CHECK_EQ(unhex(aad, rfc_aad), 12);
    CHECK_EQ(unhex(ct, rfc_ct), 114);
    CHECK_EQ(unhex(tag, rfc_tag), 16);
    CHECK_EQ(ptlen, 114);

    CHECK_EQ(ev_chunk_seal(out, (const uint8_t *)rfc_pt, ptlen, nonce, aad,
                           sizeof aad, key),
             0);
    CHECK(memcmp(out, ct, ptlen) == 0);
    CHECK(memcmp(out + ptlen, tag, 16) == 0);

    memset(back, 0, sizeof back);
    CHECK_EQ(ev_chunk_open(back, out, ptlen + 16, nonce, aad, sizeof aad, key),
             0);
    CHECK(memcmp(back, rfc_pt, ptlen) == 0);

    /* libsodium agrees on the same vector */
    {
        uint8_t s[128 + 16];
        unsigned long long slen = 0;
        crypto_aead_chacha20poly1305_ietf_encrypt(
            s, &slen, (const uint8_t *)rfc_pt, ptlen, aad, sizeof aad, NULL,
            nonce, key);
        CHECK_EQ(slen, ptlen + 16);
        CHECK(memcmp(s, out, ptlen + 16) == 0);
    }
}

/* Random lengths (0, 1, block edges, large), random AD, against libsodium
 * in both directions. */
static void
test_chunk_vs_libsodium(void)
{
    static const size_t lens[] = {0,   1,   15,   16,   17,    63,    64,
                                  65,  255, 256,  1000, 4096,  65535, 65536,
                                  100003, (1u << 20)};
    size_t maxlen = (1u << 20);
    uint8_t *pt = malloc(maxlen), *a = malloc(maxlen + 16),
            *b = malloc(maxlen + 16), *back = malloc(maxlen);
    int mismatches = 0, open_fail = 0;

    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        for (size_t adl = 0; adl <= 40; adl += 13) {
            uint8_t key[32], nonce[12], ad[40];
            unsigned long long blen = 0;
            size_t len = lens[i];
            randombytes_buf(key, sizeof key);
            randombytes_buf(nonce, sizeof nonce);
            randombytes_buf(ad, sizeof ad);
            randombytes_buf(pt, len);
            CHECK_EQ(ev_chunk_seal(a, pt, len, nonce, adl ? ad : NULL, adl,
                                   key),
                     0);
            crypto_aead_chacha20poly1305_ietf_encrypt(
                b, &blen, pt, len, adl ? ad : NULL, adl, NULL, nonce, key);
            if (blen != len + 16 || memcmp(a, b, len + 16) != 0) {
                mismatches++;
            }
            /* ours opens theirs */
            if (ev_chunk_open(back, b, len + 16, nonce, adl ? ad : NULL, adl,
                              key) != 0 ||
                memcmp(back, pt, len) != 0) {
                open_fail++;
            }
        }
    }
    CHECK_EQ(mismatches, 0);
    CHECK_EQ(open_fail, 0);
    /* sealing in place gives the same bytes */
    {
        uint8_t key[32], nonce[12];
        size_t len = 5000;
        randombytes_buf(key, sizeof key);
        randombytes_buf(nonce, sizeof nonce);
        randombytes_buf(pt, len);
        memcpy(a, pt, len);
        CHECK_EQ(ev_chunk_seal(b, pt, len, nonce, NULL, 0, key), 0);
        CHECK_EQ(ev_chunk_seal(a, a, len, nonce, NULL, 0, key), 0);
        CHECK(memcmp(a, b, len + 16) == 0);
    }
    free(pt);
    free(a);
    free(b);
    free(back);
}

/* Every single flipped bit of ciphertext, tag, nonce or AD is refused, and
 * the output is wiped. */
static void
test_chunk_open_rejects(void)
{
    uint8_t key[32], nonce[12], ad[16], pt[100], sealed[116], out[100];
    int accepted = 0, not_wiped = 0;

    randombytes_buf(key, sizeof key);
    randombytes_buf(nonce, sizeof nonce);
    randombytes_buf(ad, sizeof ad);
    randombytes_buf(pt, sizeof pt);
    CHECK_EQ(ev_chunk_seal(sealed, pt, sizeof pt, nonce, ad, sizeof ad, key),
             0);
    CHECK_EQ(ev_chunk_open(out, sealed, sizeof sealed, nonce, ad, sizeof ad,
                           key),
             0);
    CHECK(memcmp(out, pt, sizeof pt) == 0);

    for (size_t bit = 0; bit < 8 * sizeof sealed; bit++) {
        sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        memset(out, 0xee, sizeof out);
        if (ev_chunk_open(out, sealed, sizeof sealed, nonce, ad, sizeof ad,
                          key) == 0) {
            accepted++;
        } else {
            for (size_t i = 0; i < sizeof out; i++) {
                if (out[i] != 0 && out[i] != 0xee) {
                    not_wiped++;
                    break;
                }
            }
        }
        sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t bit = 0; bit < 8 * sizeof nonce; bit++) {
        nonce[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (ev_chunk_open(out, sealed, sizeof sealed, nonce, ad, sizeof ad,
                          key) == 0) {
            accepted++;
        }
        nonce[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t bit = 0; bit < 8 * sizeof ad; bit++) {
        ad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (ev_chunk_open(out, sealed, sizeof sealed, nonce, ad, sizeof ad,
                          key) == 0) {
            accepted++;
        }
        ad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t bit = 0; bit < 8 * sizeof key; bit++) {
        key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (ev_chunk_open(out, sealed, sizeof sealed, nonce, ad, sizeof ad,
                          key) == 0) {
            accepted++;
        }
        key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    CHECK_EQ(accepted, 0);
    CHECK_EQ(not_wiped, 0);
    /* AD dropped, AD extended, truncated or extended input */
    CHECK(ev_chunk_open(out, sealed, sizeof sealed, nonce, NULL, 0, key) != 0);
    CHECK(ev_chunk_open(out, sealed, sizeof sealed, nonce, ad, sizeof ad - 1,
                        key) != 0);
    CHECK(ev_chunk_open(out, sealed, sizeof sealed - 1, nonce, ad, sizeof ad,
                        key) != 0);
    CHECK(ev_chunk_open(out, sealed, 15, nonce, ad, sizeof ad, key) != 0);
    CHECK(ev_chunk_open(out, sealed, 0, nonce, ad, sizeof ad, key) != 0);
    /* still good afterwards */
    CHECK_EQ(ev_chunk_open(out, sealed, sizeof sealed, nonce, ad, sizeof ad,
                           key),
             0);
    /* an empty message has a tag that still binds the AD */
    {
        uint8_t e[16];
        CHECK_EQ(ev_chunk_seal(e, NULL, 0, nonce, ad, sizeof ad, key), 0);
        CHECK_EQ(ev_chunk_open(out, e, 16, nonce, ad, sizeof ad, key), 0);
        e[3] ^= 1;
        CHECK(ev_chunk_open(out, e, 16, nonce, ad, sizeof ad, key) != 0);
    }
}

static void
test_chunk_nonce(void)
{
    uint8_t n[12];
    static const uint8_t n0[12] = {0};
    static const uint8_t n1[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0};
    static const uint8_t nl[12] = {0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 1};

    ev_chunk_nonce(n, 0, 0);
    CHECK(memcmp(n, n0, 12) == 0);
    ev_chunk_nonce(n, 1, 0);
    CHECK(memcmp(n, n1, 12) == 0);
    ev_chunk_nonce(n, 0x0102030405060708ull, 1);
    CHECK(memcmp(n, nl, 12) == 0);
    /* the flag is the only difference between a chunk and the index */
    {
        uint8_t a[12], b[12];
        ev_chunk_nonce(a, 7, 0);
        ev_chunk_nonce(b, 7, 1);
        CHECK(memcmp(a, b, 11) == 0 && a[11] == 0 && b[11] == 1);
    }
}

static void
test_wrap(void)
{
    uint8_t key[32], in[64], wrapped[64 + EV_WRAP_OVERHEAD], out[64];
    uint8_t w2[64 + EV_WRAP_OVERHEAD];
    static const uint8_t ad[] = "evault test ad";
    int accepted = 0;

    randombytes_buf(key, sizeof key);
    randombytes_buf(in, sizeof in);
    ev_wrap(wrapped, in, sizeof in, ad, sizeof ad, key);
    CHECK_EQ(ev_unwrap(out, wrapped, sizeof wrapped, ad, sizeof ad, key), 0);
    CHECK(memcmp(out, in, sizeof in) == 0);
    /* interoperable: nonce || XChaCha20-Poly1305 ciphertext || tag */
    {
        uint8_t dec[64];
        CHECK_EQ(crypto_aead_xchacha20poly1305_ietf_decrypt(
                     dec, NULL, NULL, wrapped + 24, sizeof wrapped - 24, ad,
                     sizeof ad, wrapped, key),
                 0);
        CHECK(memcmp(dec, in, sizeof in) == 0);
    }
    /* a fresh random nonce each time */
    ev_wrap(w2, in, sizeof in, ad, sizeof ad, key);
    CHECK(memcmp(w2, wrapped, 24) != 0);
    CHECK(memcmp(w2 + 24, wrapped + 24, sizeof wrapped - 24) != 0);
    /* every flipped byte is refused, and the output wiped */
    for (size_t i = 0; i < sizeof wrapped; i++) {
        wrapped[i] ^= 0x5a;
        memset(out, 0xee, sizeof out);
        if (ev_unwrap(out, wrapped, sizeof wrapped, ad, sizeof ad, key) == 0) {
            accepted++;
        } else {
            for (size_t j = 0; j < sizeof out; j++) {
                if (out[j] != 0 && out[j] != 0xee) {
                    accepted++;
                    break;
                }
            }
        }
        wrapped[i] ^= 0x5a;
    }
    CHECK_EQ(accepted, 0);
    /* wrong AD: changed, shorter, empty; wrong key; short input */
    {
        uint8_t ad2[sizeof ad];
        memcpy(ad2, ad, sizeof ad);
        ad2[0] ^= 1;
        CHECK_EQ(ev_unwrap(out, wrapped, sizeof wrapped, ad2, sizeof ad2, key),
                 -1);
        CHECK_EQ(ev_unwrap(out, wrapped, sizeof wrapped, ad, sizeof ad - 1,
                           key),
                 -1);
        CHECK_EQ(ev_unwrap(out, wrapped, sizeof wrapped, NULL, 0, key), -1);
        key[31] ^= 0x80;
        CHECK_EQ(ev_unwrap(out, wrapped, sizeof wrapped, ad, sizeof ad, key),
                 -1);
        key[31] ^= 0x80;
        CHECK_EQ(ev_unwrap(out, wrapped, sizeof wrapped - 1, ad, sizeof ad,
                           key),
                 -1);
        CHECK_EQ(ev_unwrap(out, wrapped, EV_WRAP_OVERHEAD - 1, ad, sizeof ad,
                           key),
                 -1);
        CHECK_EQ(ev_unwrap(out, wrapped, 0, ad, sizeof ad, key), -1);
    }
    CHECK_EQ(ev_unwrap(out, wrapped, sizeof wrapped, ad, sizeof ad, key), 0);
    /* empty plaintext */
    {
        uint8_t e[EV_WRAP_OVERHEAD];
        ev_wrap(e, NULL, 0, ad, sizeof ad, key);
        CHECK_EQ(ev_unwrap(out, e, sizeof e, ad, sizeof ad, key), 0);
        e[30] ^= 1;
        CHECK_EQ(ev_unwrap(out, e, sizeof e, ad, sizeof ad, key), -1);
    }
}

/* FIPS 180-2 appendix B answers. */
static void
test_sha256(void)
{
    static const struct {
        const char *msg;
        const char *hex;
    } kat[] = {
        {"abc",
         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    uint8_t want[32], got[32];
    ev_sha256 *h = ev_sha256_new();

    CHECK(h != NULL);
    for (size_t i = 0; i < sizeof kat / sizeof *kat; i++) {
        size_t n = strlen(kat[i].msg);
        unhex(want, kat[i].hex);
        ev_sha256_once(got, kat[i].msg, n);
        CHECK(memcmp(got, want, 32) == 0);
        /* streaming, every split point, plus empty updates */
        for (size_t split = 0; split <= n; split++) {
            ev_sha256_update(h, kat[i].msg, split);
            ev_sha256_update(h, "", 0);
            ev_sha256_update(h, kat[i].msg + split, n - split);
            CHECK_EQ(ev_sha256_final(h, got), 0); /* and resets */
            CHECK(memcmp(got, want, 32) == 0);
        }
        /* one byte at a time */
        for (size_t j = 0; j < n; j++) {
            ev_sha256_update(h, kat[i].msg + j, 1);
        }
        CHECK_EQ(ev_sha256_final(h, got), 0);
        CHECK(memcmp(got, want, 32) == 0);
    }
    /* one million 'a', in odd pieces (FIPS 180-2 B.3) */
    {
        char *m = malloc(1000000);
        size_t off = 0, piece = 1;
        memset(m, 'a', 1000000);
        unhex(want,
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
        ev_sha256_once(got, m, 1000000);
        CHECK(memcmp(got, want, 32) == 0);
        while (off < 1000000) {
            size_t n = piece < 1000000 - off ? piece : 1000000 - off;
            ev_sha256_update(h, m + off, n);
            off += n;
            piece = piece * 3 + 7; /* 1, 10, 37, 118, ... */
        }
        CHECK_EQ(ev_sha256_final(h, got), 0);
        CHECK(memcmp(got, want, 32) == 0);
        free(m);
    }
    /* random data against libsodium's SHA-256 */
    {
        uint8_t buf[10000], ref[32];
        int bad = 0;
        for (size_t n = 0; n < sizeof buf; n += 997) {
            randombytes_buf(buf, n);
            crypto_hash_sha256(ref, buf, n);
            ev_sha256_once(got, buf, n);
            bad += memcmp(got, ref, 32) != 0;
            ev_sha256_update(h, buf, n / 3);
            ev_sha256_update(h, buf + n / 3, n - n / 3);
            bad += ev_sha256_final(h, got) != 0;
            bad += memcmp(got, ref, 32) != 0;
            /* a || b in one call */
            ev_sha256_two(got, buf, n / 3, buf + n / 3, n - n / 3);
            bad += memcmp(got, ref, 32) != 0;
        }
        CHECK_EQ(bad, 0);
    }
    ev_sha256_free(h);
    ev_sha256_free(NULL);
}

/* ev_keystream(block k) is bytes 64k.. of the stream from block 0, and the
 * stream is the IETF ChaCha20 keystream (RFC 8439 2.4.2's key and nonce). */
static void
test_keystream(void)
{
    uint8_t key[32], nonce[12];
    uint8_t *longs = malloc(64 * 300), part[64 * 20];
    int bad = 0;

    randombytes_buf(key, sizeof key);
    randombytes_buf(nonce, sizeof nonce);
    CHECK_EQ(ev_keystream(longs, 64 * 300, nonce, 0, key), 0);
    for (uint32_t k = 0; k < 280; k += 7) {
        for (size_t n = 1; n <= sizeof part; n = n * 2 + 3) {
            memset(part, 0x33, sizeof part);
            CHECK_EQ(ev_keystream(part, n, nonce, k, key), 0);
            bad += memcmp(part, longs + 64 * (size_t)k, n) != 0;
        }
    }
    CHECK_EQ(bad, 0);
    /* against libsodium */
    {
        uint8_t ref[64 * 3];
        crypto_stream_chacha20_ietf(ref, sizeof ref, nonce, key);
        CHECK(memcmp(ref, longs, sizeof ref) == 0);
    }
    /* RFC 8439 2.4.2: key 00..1f, nonce 00 00 00 00 00 00 00 4a 00 00 00 00,
     * counter 1: the keystream XORed with the plaintext starts 6e 2e 35 9a */
    {
        uint8_t k2[32], n2[12], ks[4];
        static const uint8_t pt[4] = {'L', 'a', 'd', 'i'};
        static const uint8_t ct[4] = {0x6e, 0x2e, 0x35, 0x9a};
        for (int i = 0; i < 32; i++) {
            k2[i] = (uint8_t)i;
        }
        memset(n2, 0, sizeof n2);
        n2[7] = 0x4a;
        CHECK_EQ(ev_keystream(ks, sizeof ks, n2, 1, k2), 0);
        for (int i = 0; i < 4; i++) {
            ks[i] ^= pt[i];
        }
        CHECK(memcmp(ks, ct, 4) == 0);
    }
    /* the last block of the keystream, and nothing past it (libsodium
     * stopped the process there): out untouched */
    {
        uint8_t last[64], ref[64], out[65];
        uint64_t end = (uint64_t)1 << 32;
        int touched = 0;
        CHECK_EQ(ev_keystream(last, 64, nonce, end - 1, key), 0);
        memset(ref, 0, sizeof ref);
        CHECK_EQ(crypto_stream_chacha20_ietf_xor_ic(ref, ref, 64, nonce,
                                                    UINT32_MAX, key),
                 0);
        CHECK(memcmp(last, ref, 64) == 0);
        memset(out, 0x33, sizeof out);
        CHECK_EQ(ev_keystream(out, 65, nonce, end - 1, key), -1);
        CHECK_EQ(ev_keystream(out, 1, nonce, end, key), -1);
        CHECK_EQ(ev_keystream(out, 1, nonce, UINT64_MAX, key), -1);
        CHECK_EQ(ev_keystream(out, SIZE_MAX, nonce, 0, key), -1);
        CHECK_EQ(ev_keystream(out, 0, nonce, end, key), 0);
        for (size_t i = 0; i < sizeof out; i++) {
            touched += out[i] != 0x33;
        }
        CHECK_EQ(touched, 0);
    }
    free(longs);
}

static void
test_memeq_and_misc(void)
{
    uint8_t a[33], b[33];

    randombytes_buf(a, sizeof a);
    memcpy(b, a, sizeof a);
    CHECK_EQ(ev_memeq(a, b, sizeof a), 1);
    for (size_t i = 0; i < sizeof a; i++) {
        b[i] ^= 1;
        CHECK_EQ(ev_memeq(a, b, sizeof a), 0);
        b[i] ^= 1;
    }
    CHECK_EQ(ev_memeq(a, b, 0), 1);
    /* subkeys differ by id and are deterministic */
    {
        uint8_t mk[32], s1[32], s2[32], s1b[32];
        randombytes_buf(mk, sizeof mk);
        ev_kdf_subkey(s1, EV_SUBKEY_META, mk);
        ev_kdf_subkey(s2, EV_SUBKEY_BLIND, mk);
        ev_kdf_subkey(s1b, EV_SUBKEY_META, mk);
        CHECK(memcmp(s1, s2, 32) != 0);
        CHECK(memcmp(s1, s1b, 32) == 0);
        CHECK(memcmp(s1, mk, 32) != 0);
        /* the same bytes as libsodium's own KDF */
        CHECK_EQ(
            crypto_kdf_derive_from_key(s2, 32, EV_SUBKEY_META, "evault01", mk),
            0);
        CHECK(memcmp(s1, s2, 32) == 0);
    }
    /* keyed BLAKE2b-128 and -256: BLAKE2b of those lengths (not one cut
     * from the other), empty input too */
    {
        uint8_t k[32], msg[100], h16[16], h32[32], r16[16], r32[32];
        randombytes_buf(k, sizeof k);
        randombytes_buf(msg, sizeof msg);
        for (size_t n = 0; n <= sizeof msg; n += 50) {
            ev_keyed_hash16(h16, k, msg, n);
            ev_keyed_hash32(h32, k, msg, n);
            CHECK_EQ(crypto_generichash(r16, 16, msg, n, k, 32), 0);
            CHECK_EQ(crypto_generichash(r32, 32, msg, n, k, 32), 0);
            CHECK(memcmp(h16, r16, 16) == 0);
            CHECK(memcmp(h32, r32, 32) == 0);
            CHECK(memcmp(h16, h32, 16) != 0);
        }
    }
    /* guarded memory */
    {
        uint8_t *p = ev_secure_alloc(64);
        CHECK(p != NULL);
        if (p != NULL) {
            memset(p, 0xab, 64);
            ev_wipe(p, 64);
            CHECK(p[0] == 0 && p[63] == 0);
            ev_secure_free(p);
        }
    }
}

/* BLAKE2b: the lengths libsodium takes give its bytes; the others are
 * refused with -1 and nothing written (they used to abort). */
static void
test_blake2b(void)
{
    uint8_t key[65], msg[85], out[65], ref[64];
    int touched = 0;

    randombytes_buf(key, sizeof key);
    randombytes_buf(msg, sizeof msg);
    for (size_t n = 1; n <= 64; n++) {
        CHECK_EQ(ev_blake2b(out, n, NULL, 0, msg, sizeof msg), 0);
        CHECK_EQ(crypto_generichash(ref, n, msg, sizeof msg, NULL, 0), 0);
        CHECK(memcmp(out, ref, n) == 0);
    }
    for (size_t k = 1; k <= 64; k += 9) {
        CHECK_EQ(ev_blake2b(out, 32, key, k, msg, sizeof msg), 0);
        CHECK_EQ(crypto_generichash(ref, 32, msg, sizeof msg, key, k), 0);
        CHECK(memcmp(out, ref, 32) == 0);
    }
    /* a NULL key is no key, whatever its length says */
    CHECK_EQ(ev_blake2b(out, 32, NULL, 20, msg, sizeof msg), 0);
    CHECK_EQ(crypto_generichash(ref, 32, msg, sizeof msg, NULL, 0), 0);
    CHECK(memcmp(out, ref, 32) == 0);
    memset(out, 0xee, sizeof out);
    CHECK_EQ(ev_blake2b(out, 0, NULL, 0, msg, sizeof msg), -1);
    CHECK_EQ(ev_blake2b(out, 65, NULL, 0, msg, sizeof msg), -1);
    CHECK_EQ(ev_blake2b(out, 32, key, 65, msg, sizeof msg), -1);
    CHECK_EQ(ev_blake2b(out, SIZE_MAX, key, SIZE_MAX, msg, sizeof msg), -1);
    for (size_t i = 0; i < sizeof out; i++) {
        touched += out[i] != 0xee;
    }
    CHECK_EQ(touched, 0);
}

/* Sealing to a low-order X25519 point is refused (it aborted), with the
 * output wiped; a real key's box opens. */
static void
test_box_seal(void)
{
    static const char *low[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    };
    uint8_t pk[32], sk[32], msg[32], box[32 + EV_BOX_SEAL_OVERHEAD], back[32];
    int touched = 0;

    randombytes_buf(msg, sizeof msg);
    ev_box_keypair(pk, sk);
    CHECK_EQ(ev_box_seal(box, msg, sizeof msg, pk), 0);
    CHECK_EQ(ev_box_seal_open(back, box, sizeof box, pk, sk), 0);
    CHECK(memcmp(back, msg, sizeof msg) == 0);
    for (size_t i = 0; i < sizeof low / sizeof *low; i++) {
        CHECK_EQ(unhex(pk, low[i]), 32);
        memset(box, 0xee, sizeof box);
        CHECK_EQ(ev_box_seal(box, msg, sizeof msg, pk), -1);
        for (size_t j = 0; j < sizeof box; j++) {
            touched += box[j] != 0;
        }
    }
    CHECK_EQ(touched, 0);
}

/* base64 into a buffer too small is refused (it aborted), leaving ""; the
 * exact size is enough.  RFC 4648's examples, padded and not. */
static void
test_base64_encode(void)
{
    static const struct {
        const char *in, *pad, *raw;
    } v[] = {{"", "", ""},
             {"f", "Zg==", "Zg"},
             {"fo", "Zm8=", "Zm8"},
             {"foo", "Zm9v", "Zm9v"},
             {"foob", "Zm9vYg==", "Zm9vYg"},
             {"fooba", "Zm9vYmE=", "Zm9vYmE"},
             {"foobar", "Zm9vYmFy", "Zm9vYmFy"}};
    char out[16];

    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        const uint8_t *in = (const uint8_t *)v[i].in;
        size_t n = strlen(v[i].in), pad = strlen(v[i].pad) + 1;
        size_t raw = strlen(v[i].raw) + 1;
        CHECK_EQ(ev_base64_len(n), pad);
        CHECK_EQ(ev_base64_raw_len(n), raw);
        CHECK_EQ(ev_base64_encode(out, pad, in, n), 0);
        CHECK(strcmp(out, v[i].pad) == 0);
        CHECK_EQ(ev_base64_raw_encode(out, raw, in, n), 0);
        CHECK(strcmp(out, v[i].raw) == 0);
        memset(out, 'x', sizeof out);
        CHECK_EQ(ev_base64_encode(out, pad - 1, in, n), -1);
        CHECK(pad - 1 == 0 || out[0] == '\0');
        memset(out, 'x', sizeof out);
        CHECK_EQ(ev_base64_raw_encode(out, raw - 1, in, n), -1);
        CHECK(raw - 1 == 0 || out[0] == '\0');
    }
    /* an input whose text's length no size_t holds */
    CHECK_EQ(ev_base64_encode(out, sizeof out, (const uint8_t *)"", SIZE_MAX),
             -1);
    CHECK_EQ(ev_base64_raw_encode(out, sizeof out, (const uint8_t *)"",
                                  SIZE_MAX / 4 * 3 + 1),
             -1);
}

int
main(void)
{
    if (ev_init() != EV_OK) {
        fprintf(stderr, "ev_init failed\n");
        return 1;
    }
    test_chunk_rfc8439();
    test_chunk_vs_libsodium();
    test_chunk_open_rejects();
    test_chunk_nonce();
    test_wrap();
    test_sha256();
    test_keystream();
    test_memeq_and_misc();
    test_blake2b();
    test_box_seal();
    test_base64_encode();
    EV_TEST_END();
}
