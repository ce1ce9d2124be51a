/*
 * fuzz_blob.c - the blob format reader (blob.h): the header check, the
 * index and the chunks, under a fixed data key.
 *
 * A blob on disk is someone else's file; everything past its header is
 * authenticated, so raw bytes stop at the tag.  To reach the code behind
 * the tags, this target also seals the fuzzed bytes under the fixed key
 * first (approach (b) of tests/fuzz/README.md), as a vault that was
 * written by a faulty or hostile evault would:
 *
 *   byte 0 % 4 == 0: the rest as a raw blob: header check, then the
 *                    index and the first chunk read straight from it
 *   byte 0 % 4 == 1: the rest is an index plaintext (content length,
 *                    count, entries), sealed, then opened
 *   byte 0 % 4 == 2: bytes 1-3 give plain_len (24 bits, capped at 1 MiB)
 *                    and whether the chunk is compressed; the rest is a
 *                    chunk body (a zstd frame when compressed), sealed,
 *                    then opened: zstd's decoder on any frame, with
 *                    evault's length checks around it
 *   byte 0 % 4 == 3: the rest is sealed as a chunk by the writer
 *                    (ev_blob_seal_chunk) and must open to itself
 */
#include "blob.h"
#include "fuzz.h"
#include "util.h"

#include <zstd.h>

static const uint8_t dek[EV_KEY_BYTES] = {
    0x64, 0x65, 0x6b, 0x20, 0x66, 0x6f, 0x72, 0x20, 0x66, 0x75, 0x7a,
    0x7a, 0x69, 0x6e, 0x67, 0x20, 0x6f, 0x6e, 0x6c, 0x79, 0x2c, 0x20,
    0x6e, 0x6f, 0x74, 0x20, 0x61, 0x20, 0x73, 0x65, 0x63, 0x72};

static ev_chunk_ctx *ctx;
static uint8_t *in_buf, *out_buf;

static void
seal(uint8_t *out, const uint8_t *p, size_t n, uint64_t counter, int last)
{
    uint8_t header[EV_BLOB_HEADER_BYTES], nonce[EV_CHUNK_NONCE_BYTES];

    ev_blob_header(header);
    ev_chunk_nonce(nonce, counter, last);
    if (ev_chunk_seal(out, p, n, nonce, header, sizeof header, dek) != 0) {
        abort();
    }
}

static void
make_seeds(void)
{
    static const char text[] = "blob seed: some text, some text, some text, "
                               "some text, some text, some text.\n";
    uint8_t buf[600], idx[16 + 8 + 16];
    uint32_t e, entries[2] = {1000, 2000 | 1u << 31};
    size_t z;

    /* a real one-chunk blob: header, chunk, index */
    ev_blob_header(buf + 1);
    buf[0] = 0;
    if (ev_blob_seal_chunk(ctx, buf + 1 + 16, &e, (const uint8_t *)text,
                           sizeof text - 1, 0, dek) != EV_OK ||
        ev_blob_seal_index(buf + 1 + 16 + ev_entry_len(e), sizeof text - 1,
                           &e, 1, dek) != EV_OK) {
        abort();
    }
    fz_seed("raw", buf, 1 + 16 + ev_entry_len(e) + ev_blob_index_bytes(1));
    /* an index plaintext of two chunks */
    idx[0] = 1;
    ev_store64(idx + 1, EV_CHUNK_BYTES + 5);
    ev_store32(idx + 9, 2);
    ev_store32(idx + 13, 0);
    ev_store32(idx + 17, entries[0]);
    ev_store32(idx + 21, entries[1]);
    fz_seed("index", idx, 25);
    /* a compressed chunk body: a zstd frame of text */
    z = ZSTD_compress(buf + 4, sizeof buf - 4, text, sizeof text - 1, 3);
    if (ZSTD_isError(z)) {
        abort();
    }
    buf[0] = 2;
    buf[1] = sizeof text - 1;
    buf[2] = 0;
    buf[3] = 0x80;
    fz_seed("zstd", buf, 4 + z);
    buf[0] = 3;
    memcpy(buf + 1, text, sizeof text - 1);
    fz_seed("roundtrip", buf, sizeof text);
    exit(0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ctx = ev_chunk_ctx_new();
    in_buf = malloc(EV_CHUNK_SEALED_MAX + 64);
    out_buf = malloc(EV_CHUNK_BYTES);
    if (ctx == NULL || in_buf == NULL || out_buf == NULL) {
        abort();
    }
    if (fz_seed_dir() != NULL) {
        make_seeds();
    }
    return 0;
}

static void
raw(const uint8_t *p, size_t n)
{
    uint64_t content_len, nchunks;
    uint32_t entries[64];
    size_t index_len;

    if (n < EV_BLOB_HEADER_BYTES || ev_blob_header_check(p) != EV_OK) {
        return;
    }
    /* as record.c: the index is the last index_len bytes; here the
     * content length is guessed from the size, as an attacker would */
    for (nchunks = 1; nchunks <= 64; nchunks *= 4) {
        index_len = ev_blob_index_bytes(nchunks);
        if (n < EV_BLOB_HEADER_BYTES + index_len ||
            ev_blob_open_index(&content_len, entries, nchunks,
                               p + n - index_len, index_len, dek) != EV_OK) {
            continue;
        }
        if (nchunks == 1 && content_len <= EV_CHUNK_BYTES &&
            EV_BLOB_HEADER_BYTES + ev_entry_len(entries[0]) + index_len <= n) {
            (void)ev_blob_open_chunk(ctx, out_buf, (size_t)content_len,
                                     p + EV_BLOB_HEADER_BYTES, entries[0], 0,
                                     dek);
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    switch (data[0] % 4) {
    case 0:
        raw(data + 1, size - 1);
        break;
    case 1: {
        uint64_t content_len, n;
        uint32_t *entries;
        size_t len = size - 1;
        if (len < 16 || (len - 16) % 4 != 0 || len > 16 + 4 * 4096) {
            break;
        }
        n = (len - 16) / 4;
        if (n == 0) {
            n = 1;
        }
        entries = malloc(n * sizeof *entries);
        seal(in_buf, data + 1, len, n, 1);
        if (entries != NULL &&
            ev_blob_open_index(&content_len, entries, n, in_buf,
                               len + EV_TAG_BYTES, dek) == EV_OK &&
            ev_blob_nchunks(content_len) != n) {
            abort();
        }
        free(entries);
        break;
    }
    case 2: {
        size_t plain_len, len;
        uint32_t entry;
        if (size < 4) {
            break;
        }
        plain_len = (size_t)data[1] | (size_t)data[2] << 8 |
                    (size_t)(data[3] & 0x1f) << 16;
        if (plain_len > EV_CHUNK_BYTES) {
            plain_len = EV_CHUNK_BYTES;
        }
        len = size - 4;
        seal(in_buf, data + 4, len, 7, 0);
        entry = (uint32_t)(len + EV_TAG_BYTES) | (uint32_t)(data[3] >> 7) << 31;
        (void)ev_blob_open_chunk(ctx, out_buf, plain_len, in_buf, entry, 7,
                                 dek);
        break;
    }
    case 3: {
        size_t len = size - 1;
        uint32_t entry;
        if (len > EV_CHUNK_BYTES) {
            break;
        }
        if (ev_blob_seal_chunk(ctx, in_buf, &entry, data + 1, len, 3, dek) !=
                EV_OK ||
            ev_blob_open_chunk(ctx, out_buf, len, in_buf, entry, 3, dek) !=
                EV_OK ||
            memcmp(out_buf, data + 1, len) != 0) {
            abort();
        }
        break;
    }
    }
    return 0;
}
