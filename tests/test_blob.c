/*
 * test_blob.c - blob.c: sealing and opening chunks and the index, padding,
 * the header, checked against the layout in blob.h / docs/FORMAT.md.
 */
#include "blob.h"
#include "harness.h"
#include "testutil.h"
#include "util.h"

#include <sodium.h>
#include <string.h>
#include <zstd.h>

static uint8_t dek[EV_KEY_BYTES];

/* Decrypts a sealed chunk with libsodium, straight from the format. */
static int
sodium_open(uint8_t *out, const uint8_t *in, size_t len, uint64_t counter,
            int last)
{
    uint8_t header[EV_BLOB_HEADER_BYTES], nonce[12];
    unsigned long long n = 0;

    memcpy(header, "EVBLOB\x01\x14\0\0\0\0\0\0\0\0", 16);
    memset(nonce, 0, sizeof nonce);
    for (int i = 0; i < 8; i++) {
        nonce[10 - i] = (uint8_t)(counter >> (8 * i));
    }
    nonce[11] = (uint8_t)last;
    return crypto_aead_chacha20poly1305_ietf_decrypt(
        out, &n, NULL, in, len, header, sizeof header, nonce, dek);
}

static void
test_header(void)
{
    uint8_t h[EV_BLOB_HEADER_BYTES], g[EV_BLOB_HEADER_BYTES];

    ev_blob_header(h);
    CHECK(memcmp(h, "EVBLOB\x01\x14\0\0\0\0\0\0\0\0", 16) == 0);
    CHECK_EQ(ev_blob_header_check(h), EV_OK);
    /* a higher version: EV_EVERSION (2, 0x80, 0xff) */
    for (int ver = 2; ver < 256; ver += 37) {
        memcpy(g, h, sizeof g);
        g[6] = (uint8_t)ver;
        CHECK_EQ(ev_blob_header_check(g), EV_EVERSION);
    }
    g[6] = 0xff;
    CHECK_EQ(ev_blob_header_check(g), EV_EVERSION);
    /* version 0, another chunk size, reserved bytes set: EV_ECORRUPT */
    memcpy(g, h, sizeof g);
    g[6] = 0;
    CHECK_EQ(ev_blob_header_check(g), EV_ECORRUPT);
    memcpy(g, h, sizeof g);
    g[7] = 21;
    CHECK_EQ(ev_blob_header_check(g), EV_ECORRUPT);
    for (int i = 8; i < 16; i++) {
        memcpy(g, h, sizeof g);
        g[i] = 1;
        CHECK_EQ(ev_blob_header_check(g), EV_ECORRUPT);
    }
    /* bad magic, each byte, even with a newer version */
    for (int i = 0; i < 6; i++) {
        memcpy(g, h, sizeof g);
        g[i] ^= 0x20;
        CHECK_EQ(ev_blob_header_check(g), EV_ECORRUPT);
        g[6] = 9;
        CHECK_EQ(ev_blob_header_check(g), EV_ECORRUPT);
    }
    memset(g, 0, sizeof g);
    CHECK_EQ(ev_blob_header_check(g), EV_ECORRUPT);
}

static void
test_sizes(void)
{
    CHECK_EQ(ev_blob_nchunks(0), 1);
    CHECK_EQ(ev_blob_nchunks(1), 1);
    CHECK_EQ(ev_blob_nchunks(EV_CHUNK_BYTES - 1), 1);
    CHECK_EQ(ev_blob_nchunks(EV_CHUNK_BYTES), 1);
    CHECK_EQ(ev_blob_nchunks(EV_CHUNK_BYTES + 1), 2);
    CHECK_EQ(ev_blob_nchunks(3 * EV_CHUNK_BYTES + 17), 4);
    CHECK_EQ(ev_blob_nchunks(EV_BLOB_MAX_CONTENT), EV_BLOB_MAX_CHUNKS);
    CHECK_EQ(ev_blob_index_bytes(1), 16 + 4 + 16);
    CHECK_EQ(ev_blob_index_bytes(4), 16 + 16 + 16);
    CHECK_EQ(EV_CHUNK_BYTES, 1u << 20);
}

/* Seals, checks the entry and the bytes against the format, opens. */
static void
roundtrip(ev_chunk_ctx *c, const uint8_t *in, size_t len, uint64_t counter,
          int want_compressed)
{
    uint8_t *sealed = malloc(EV_CHUNK_SEALED_MAX);
    uint8_t *out = malloc(EV_CHUNK_BYTES + 1);
    uint8_t *raw = malloc(EV_CHUNK_SEALED_MAX);
    uint32_t e = 0;
    size_t el;

    CHECK_EQ(ev_blob_seal_chunk(c, sealed, &e, in, len, counter, dek), EV_OK);
    el = ev_entry_len(e);

    CHECK_EQ(ev_entry_compressed(e), want_compressed);
    if (want_compressed) {
        CHECK(el < len + EV_TAG_BYTES);
    } else {
        CHECK_EQ(el, len + EV_TAG_BYTES);
    }
    /* the body under libsodium: the piece itself, or a zstd frame of it */
    CHECK_EQ(sodium_open(raw, sealed, el, counter, 0), 0);
    if (want_compressed) {
        size_t z = ZSTD_decompress(out, EV_CHUNK_BYTES, raw,
                                   el - EV_TAG_BYTES);
        CHECK(!ZSTD_isError(z) && z == len);
        CHECK(memcmp(out, in, len) == 0);
    } else {
        CHECK(memcmp(raw, in, len) == 0);
    }
    memset(out, 0x77, len + 1);
    CHECK_EQ(ev_blob_open_chunk(c, out, len, sealed, e, counter, dek), EV_OK);
    CHECK(memcmp(out, in, len) == 0);
    CHECK_EQ(out[len], 0x77); /* wrote exactly len bytes */
    free(sealed);
    free(out);
    free(raw);
}

static void
test_chunk_roundtrip(void)
{
    ev_chunk_ctx *c = ev_chunk_ctx_new();
    uint8_t *buf = malloc(EV_CHUNK_BYTES);

    CHECK(c != NULL);
    /* compressible text: compressed, shorter */
    t_fill_text(buf, EV_CHUNK_BYTES, 1);
    roundtrip(c, buf, EV_CHUNK_BYTES, 0, 1);
    roundtrip(c, buf, 1000, 5, 1);
    roundtrip(c, buf, EV_CHUNK_BYTES - 1, 123456789, 1);
    memset(buf, 0, EV_CHUNK_BYTES);
    roundtrip(c, buf, EV_CHUNK_BYTES, 2, 1);
    /* random: raw, exactly len + 16 */
    t_fill_random(buf, EV_CHUNK_BYTES, 2);
    roundtrip(c, buf, EV_CHUNK_BYTES, 0, 0);
    roundtrip(c, buf, EV_CHUNK_BYTES - 1, 3, 0);
    roundtrip(c, buf, 1, 0, 0);
    roundtrip(c, buf, 100, 1, 0);
    roundtrip(c, buf, 0, 0, 0); /* the one empty chunk of an empty file */
    /* one byte never compresses; a few zero bytes do not either */
    memset(buf, 0, 8);
    roundtrip(c, buf, 1, 9, 0);
    roundtrip(c, buf, 8, 9, 0);
    free(buf);
    ev_chunk_ctx_free(c);
    ev_chunk_ctx_free(NULL);
}

static void
test_chunk_rejects(void)
{
    ev_chunk_ctx *c = ev_chunk_ctx_new();
    uint8_t *text = malloc(EV_CHUNK_BYTES), *rnd = malloc(EV_CHUNK_BYTES);
    uint8_t *st = malloc(EV_CHUNK_SEALED_MAX), *sr = malloc(EV_CHUNK_SEALED_MAX);
    uint8_t *out = malloc(EV_CHUNK_BYTES);
    uint8_t other[EV_KEY_BYTES];
    uint32_t et, er;
    size_t lt = 5000, lr = 300;
    int accepted = 0;

    t_fill_text(text, lt, 3);
    t_fill_random(rnd, lr, 4);
    CHECK_EQ(ev_blob_seal_chunk(c, st, &et, text, lt, 7, dek), EV_OK);
    CHECK_EQ(ev_blob_seal_chunk(c, sr, &er, rnd, lr, 7, dek), EV_OK);
    CHECK(ev_entry_compressed(et));
    CHECK(!ev_entry_compressed(er));
    CHECK_EQ(ev_blob_open_chunk(c, out, lt, st, et, 7, dek), EV_OK);
    CHECK_EQ(ev_blob_open_chunk(c, out, lr, sr, er, 7, dek), EV_OK);

    /* wrong counter (either side, and the index's nonce) */
    CHECK_EQ(ev_blob_open_chunk(c, out, lt, st, et, 6, dek), EV_ECORRUPT);
    CHECK_EQ(ev_blob_open_chunk(c, out, lt, st, et, 8, dek), EV_ECORRUPT);
    CHECK_EQ(ev_blob_open_chunk(c, out, lr, sr, er, 0, dek), EV_ECORRUPT);
    CHECK_EQ(ev_blob_open_chunk(c, out, lr, sr, er, 7 + (1ull << 40), dek),
             EV_ECORRUPT);
    CHECK(sodium_open(out, sr, ev_entry_len(er), 7, 1) != 0);
    /* wrong key */
    memcpy(other, dek, sizeof other);
    other[0] ^= 1;
    CHECK_EQ(ev_blob_open_chunk(c, out, lt, st, et, 7, other), EV_ECORRUPT);
    CHECK_EQ(ev_blob_open_chunk(c, out, lr, sr, er, 7, other), EV_ECORRUPT);
    /* wrong plaintext length */
    CHECK_EQ(ev_blob_open_chunk(c, out, lt - 1, st, et, 7, dek), EV_ECORRUPT);
    CHECK_EQ(ev_blob_open_chunk(c, out, lt + 1, st, et, 7, dek), EV_ECORRUPT);
    CHECK_EQ(ev_blob_open_chunk(c, out, lr - 1, sr, er, 7, dek), EV_ECORRUPT);
    CHECK_EQ(ev_blob_open_chunk(c, out, lr + 1, sr, er, 7, dek), EV_ECORRUPT);
    CHECK_EQ(ev_blob_open_chunk(c, out, EV_CHUNK_BYTES + 1, sr, er, 7, dek),
             EV_ECORRUPT);
    /* the entry: compression flag toggled, lengths changed */
    CHECK_EQ(ev_blob_open_chunk(c, out, lt, st, et ^ 0x80000000u, 7, dek),
             EV_ECORRUPT);
    CHECK_EQ(ev_blob_open_chunk(c, out, lr, sr, er ^ 0x80000000u, 7, dek),
             EV_ECORRUPT);
    CHECK_EQ(ev_blob_open_chunk(c, out, lt, st, et - 1, 7, dek), EV_ECORRUPT);
    CHECK_EQ(ev_blob_open_chunk(c, out, lr, sr, er - 1, 7, dek), EV_ECORRUPT);
    CHECK_EQ(ev_blob_open_chunk(c, out, lr, sr, 15, 7, dek), EV_ECORRUPT);
    CHECK_EQ(ev_blob_open_chunk(c, out, lr, sr, 0, 7, dek), EV_ECORRUPT);
    CHECK_EQ(ev_blob_open_chunk(c, out, lr, sr,
                                (uint32_t)EV_CHUNK_SEALED_MAX + 1, 7, dek),
             EV_ECORRUPT);
    /* every byte flipped, in both kinds */
    for (size_t i = 0; i < ev_entry_len(et); i++) {
        st[i] ^= 0x01;
        accepted += ev_blob_open_chunk(c, out, lt, st, et, 7, dek) == EV_OK;
        st[i] ^= 0x01;
    }
    for (size_t i = 0; i < ev_entry_len(er); i++) {
        sr[i] ^= 0x80;
        accepted += ev_blob_open_chunk(c, out, lr, sr, er, 7, dek) == EV_OK;
        sr[i] ^= 0x80;
    }
    CHECK_EQ(accepted, 0);
    /* still opens */
    CHECK_EQ(ev_blob_open_chunk(c, out, lt, st, et, 7, dek), EV_OK);
    CHECK(memcmp(out, text, lt) == 0);
    free(text);
    free(rnd);
    free(st);
    free(sr);
    free(out);
    ev_chunk_ctx_free(c);
}

static void
test_index(void)
{
    static const uint64_t ns[] = {1, 2, 4, 1000};

    for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
        uint64_t n = ns[k];
        uint64_t content = (n - 1) * EV_CHUNK_BYTES + 17;
        size_t len = ev_blob_index_bytes(n);
        uint8_t *idx = malloc(len + 4), *plain = malloc(len);
        uint32_t *e = malloc(n * sizeof *e), *back = malloc((n + 1) *
                                                            sizeof *back);
        uint64_t got = 0;
        int accepted = 0;

        for (uint64_t i = 0; i < n; i++) {
            e[i] = (uint32_t)(16 + (i * 7919) % EV_CHUNK_BYTES) |
                   (i % 3 == 0 ? 0x80000000u : 0);
        }
        CHECK_EQ(ev_blob_seal_index(idx, content, e, n, dek), EV_OK);
        /* the layout: content_len u64le || n u32le || 0 || entries */
        CHECK_EQ(sodium_open(plain, idx, len, n, 1), 0);
        CHECK_EQ(ev_load64(plain), content);
        CHECK_EQ(ev_load32(plain + 8), n);
        CHECK_EQ(ev_load32(plain + 12), 0);
        CHECK_EQ(ev_load32(plain + 16 + 4 * (n - 1)), e[n - 1]);
        /* round trip */
        CHECK_EQ(ev_blob_open_index(&got, back, n, idx, len, dek), EV_OK);
        CHECK_EQ(got, content);
        CHECK(memcmp(back, e, n * sizeof *e) == 0);
        /* wrong n: fewer, more (with the matching length, too) */
        CHECK_EQ(ev_blob_open_index(&got, back, n + 1, idx, len, dek),
                 EV_ECORRUPT);
        CHECK_EQ(ev_blob_open_index(&got, back, n + 1, idx, len + 4, dek),
                 EV_ECORRUPT);
        CHECK_EQ(ev_blob_open_index(&got, back, 0, idx, len, dek),
                 EV_ECORRUPT);
        if (n > 1) {
            CHECK_EQ(ev_blob_open_index(&got, back, n - 1, idx, len - 4, dek),
                     EV_ECORRUPT);
        }
        CHECK_EQ(ev_blob_open_index(&got, back, n, idx, len - 1, dek),
                 EV_ECORRUPT);
        /* wrong key */
        dek[5] ^= 4;
        CHECK_EQ(ev_blob_open_index(&got, back, n, idx, len, dek),
                 EV_ECORRUPT);
        dek[5] ^= 4;
        /* every byte flipped (for the small ones) */
        if (n <= 4) {
            for (size_t i = 0; i < len; i++) {
                idx[i] ^= 0x10;
                accepted +=
                    ev_blob_open_index(&got, back, n, idx, len, dek) == EV_OK;
                idx[i] ^= 0x10;
            }
            CHECK_EQ(accepted, 0);
        }
        CHECK_EQ(ev_blob_open_index(&got, back, n, idx, len, dek), EV_OK);
        free(idx);
        free(plain);
        free(e);
        free(back);
    }
    /* an index whose content length does not need n chunks, or whose
     * entries are impossible, is refused even with a good tag */
    {
        uint32_t e[2] = {100, 100}, back[2];
        uint8_t idx[64];
        uint64_t got;
        /* 10 bytes: 1 chunk */
        CHECK_EQ(ev_blob_seal_index(idx, 10, e, 2, dek), EV_OK);
        CHECK_EQ(ev_blob_open_index(&got, back, 2, idx,
                                    ev_blob_index_bytes(2), dek),
                 EV_ECORRUPT);
        CHECK_EQ(ev_blob_seal_index(idx, 2 * EV_CHUNK_BYTES + 1, e, 2, dek),
                 EV_OK);
        CHECK_EQ(ev_blob_open_index(&got, back, 2, idx,
                                    ev_blob_index_bytes(2), dek),
                 EV_ECORRUPT);
        e[1] = 15; /* shorter than a tag */
        CHECK_EQ(ev_blob_seal_index(idx, EV_CHUNK_BYTES + 1, e, 2, dek), EV_OK);
        CHECK_EQ(ev_blob_open_index(&got, back, 2, idx,
                                    ev_blob_index_bytes(2), dek),
                 EV_ECORRUPT);
        e[1] = (uint32_t)EV_CHUNK_SEALED_MAX + 1;
        CHECK_EQ(ev_blob_seal_index(idx, EV_CHUNK_BYTES + 1, e, 2, dek), EV_OK);
        CHECK_EQ(ev_blob_open_index(&got, back, 2, idx,
                                    ev_blob_index_bytes(2), dek),
                 EV_ECORRUPT);
        e[1] = 16;
        CHECK_EQ(ev_blob_seal_index(idx, EV_CHUNK_BYTES + 1, e, 2, dek), EV_OK);
        CHECK_EQ(ev_blob_open_index(&got, back, 2, idx,
                                    ev_blob_index_bytes(2), dek),
                 EV_OK);
    }
    /* a sealed chunk is not an index (the last flag), and vice versa */
    {
        ev_chunk_ctx *c = ev_chunk_ctx_new();
        uint8_t sealed[64], out[64];
        uint32_t e[1] = {0}, back[1];
        uint64_t got;
        uint8_t idx[64];
        uint32_t ent;
        /* a chunk whose plaintext looks like a valid 1-entry index */
        ev_store64(out, 5);
        ev_store32(out + 8, 1);
        ev_store32(out + 12, 0);
        ev_store32(out + 16, 21);
        CHECK_EQ(ev_blob_seal_chunk(c, sealed, &ent, out, 20, 1, dek), EV_OK);
        CHECK(!ev_entry_compressed(ent));
        CHECK_EQ(ev_blob_open_index(&got, back, 1, sealed, 36, dek),
                 EV_ECORRUPT);
        e[0] = 21;
        CHECK_EQ(ev_blob_seal_index(idx, 5, e, 1, dek), EV_OK);
        CHECK_EQ(ev_blob_open_chunk(c, out, 20, idx, 36, 1, dek),
                 EV_ECORRUPT);
        ev_chunk_ctx_free(c);
    }
}

static void
test_padding(void)
{
    static const size_t total = 5000;
    uint8_t *whole = malloc(total), *piece = malloc(total);
    uint8_t nonce[12];
    int bad = 0;

    CHECK_EQ(ev_blob_padding(whole, total, 0, dek), 0);
    /* the format: ChaCha20 keystream, nonce ff*11 || 02, from block 0 */
    memset(nonce, 0xff, 11);
    nonce[11] = 0x02;
    crypto_stream_chacha20_ietf(piece, total, nonce, dek);
    CHECK(memcmp(piece, whole, total) == 0);
    /* any split into pieces agrees with one long call */
    for (size_t off = 0; off < 300; off++) {
        for (size_t n = 0; off + n <= total && n < 200; n += 1 + n / 2) {
            memset(piece, 0x5c, n + 1);
            CHECK_EQ(ev_blob_padding(piece, n, off, dek), 0);
            bad += memcmp(piece, whole + off, n) != 0;
            bad += piece[n] != 0x5c; /* nothing past n */
        }
    }
    /* consecutive pieces of odd sizes cover it all */
    {
        size_t off = 0, n = 1;
        while (off < total) {
            size_t take = n < total - off ? n : total - off;
            CHECK_EQ(ev_blob_padding(piece + off, take, off, dek), 0);
            off += take;
            n = n * 2 + 1;
        }
        bad += memcmp(piece, whole, total) != 0;
    }
    CHECK_EQ(bad, 0);
    /* a far offset (a padding of several MiB) */
    {
        uint8_t a[100], b[100];
        uint64_t far = 3 * (uint64_t)EV_CHUNK_BYTES + 61;
        uint8_t *big = malloc((size_t)far + 100);
        CHECK_EQ(ev_blob_padding(big, (size_t)far + 100, 0, dek), 0);
        CHECK_EQ(ev_blob_padding(a, 100, far, dek), 0);
        memcpy(b, big + far, 100);
        CHECK(memcmp(a, b, 100) == 0);
        free(big);
    }
    /* up to the end of the keystream (256 GiB: 2^32 blocks), not past it
     * (libsodium stopped the process there); nothing written then */
    {
        uint64_t end = EV_BLOB_PADDING_MAX;
        uint8_t a[130], ref[130];
        uint8_t nonce2[12];
        int touched = 0;
        memset(nonce2, 0xff, 11);
        nonce2[11] = 0x02;
        CHECK_EQ(ev_blob_padding(a, 100, end - 100, dek), 0);
        /* the last two blocks, by libsodium at counter 2^32 - 2 */
        memset(ref, 0, 128);
        CHECK_EQ(crypto_stream_chacha20_ietf_xor_ic(ref, ref, 128, nonce2,
                                                    UINT32_MAX - 1, dek),
                 0);
        CHECK(memcmp(a, ref + 28, 100) == 0);
        memset(a, 0x5c, sizeof a);
        CHECK_EQ(ev_blob_padding(a, 101, end - 100, dek), -1);
        CHECK_EQ(ev_blob_padding(a, 1, end, dek), -1);
        CHECK_EQ(ev_blob_padding(a, 130, end - 64, dek), -1);
        CHECK_EQ(ev_blob_padding(a, 1, UINT64_MAX, dek), -1);
        CHECK_EQ(ev_blob_padding(a, SIZE_MAX, 64, dek), -1);
        CHECK_EQ(ev_blob_padding(a, 0, end, dek), 0);
        for (size_t i = 0; i < sizeof a; i++) {
            touched += a[i] != 0x5c;
        }
        CHECK_EQ(touched, 0);
    }
    /* another key gives other padding */
    {
        uint8_t k2[32];
        memcpy(k2, dek, 32);
        k2[31] ^= 1;
        CHECK_EQ(ev_blob_padding(piece, 64, 0, k2), 0);
        CHECK(memcmp(piece, whole, 64) != 0);
    }
    free(whole);
    free(piece);
}

int
main(void)
{
    if (ev_init() != EV_OK) {
        return 1;
    }
    randombytes_buf(dek, sizeof dek);
    test_header();
    test_sizes();
    test_chunk_roundtrip();
    test_chunk_rejects();
    test_index();
    test_padding();
    EV_TEST_END();
}
