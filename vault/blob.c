/*
 * blob.c - sealing and opening the pieces of a blob (format in blob.h).
 *
 * Owns: the byte layout of header, chunks and index.
 * Never: does I/O (the caller reads and writes), or releases a byte of
 * plaintext whose tag did not verify.
 */
#include "blob.h"

#include "evault.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

static const uint8_t magic[6] = {'E', 'V', 'B', 'L', 'O', 'B'};

struct ev_chunk_ctx {
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
    uint8_t *scratch; /* ZSTD_compressBound(EV_CHUNK_BYTES) bytes */
    size_t scratch_len;
};

void
ev_blob_header(uint8_t h[EV_BLOB_HEADER_BYTES])
{
    memset(h, 0, EV_BLOB_HEADER_BYTES);
    memcpy(h, magic, sizeof magic);
    h[6] = EV_BLOB_VERSION;
    h[7] = EV_CHUNK_LOG2;
}

int
ev_blob_header_check(const uint8_t h[EV_BLOB_HEADER_BYTES])
{
    static const uint8_t zero[8];

    if (memcmp(h, magic, sizeof magic) != 0) {
        return EV_ECORRUPT;
    }
    if (h[6] > EV_BLOB_VERSION) {
        return EV_EVERSION;
    }
    if (h[6] != EV_BLOB_VERSION || h[7] != EV_CHUNK_LOG2 ||
        memcmp(h + 8, zero, sizeof zero) != 0) {
        return EV_ECORRUPT;
    }
    return EV_OK;
}

uint64_t
ev_blob_nchunks(uint64_t content_len)
{
    if (content_len == 0) {
        return 1;
    }
    return (content_len + EV_CHUNK_BYTES - 1) >> EV_CHUNK_LOG2;
}

size_t
ev_blob_index_bytes(uint64_t nchunks)
{
    return 16 + 4 * (size_t)nchunks + EV_TAG_BYTES;
}

ev_chunk_ctx *
ev_chunk_ctx_new(void)
{
    ev_chunk_ctx *c = calloc(1, sizeof *c);

    if (c == NULL) {
        return NULL;
    }
    c->cctx = ZSTD_createCCtx();
    c->dctx = ZSTD_createDCtx();
    c->scratch_len = ZSTD_compressBound(EV_CHUNK_BYTES);
    c->scratch = malloc(c->scratch_len);
    if (c->cctx == NULL || c->dctx == NULL || c->scratch == NULL ||
        ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_compressionLevel,
                                            EV_ZSTD_LEVEL)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_hashLog,
                                            EV_ZSTD_HASH_LOG)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_chainLog,
                                            EV_ZSTD_CHAIN_LOG)) ||
        ZSTD_isError(
            ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_checksumFlag, 0)) ||
        ZSTD_isError(ZSTD_DCtx_setParameter(c->dctx, ZSTD_d_windowLogMax,
                                            EV_CHUNK_LOG2 + 1))) {
        ev_chunk_ctx_free(c);
        return NULL;
    }
    return c;
}

void
ev_chunk_ctx_free(ev_chunk_ctx *c)
{
    if (c == NULL) {
        return;
    }
    ZSTD_freeCCtx(c->cctx);
    ZSTD_freeDCtx(c->dctx);
    if (c->scratch != NULL) {
        ev_wipe(c->scratch, c->scratch_len);
    }
    free(c->scratch);
    free(c);
}

int
ev_blob_seal_chunk(ev_chunk_ctx *c, uint8_t *out, uint32_t *entry,
                   const uint8_t *in, size_t in_len, uint64_t counter,
                   const uint8_t dek[EV_KEY_BYTES])
{
    uint8_t header[EV_BLOB_HEADER_BYTES];
    uint8_t nonce[EV_CHUNK_NONCE_BYTES];
    const uint8_t *body = in;
    size_t body_len = in_len;
    uint32_t compressed = 0;
    int rc;

    ev_blob_header(header);
    ev_chunk_nonce(nonce, counter, 0);
    if (in_len > 0) {
        size_t z = ZSTD_compress2(c->cctx, c->scratch, c->scratch_len, in,
                                  in_len);
        if (!ZSTD_isError(z) && z < in_len) {
            body = c->scratch;
            body_len = z;
            compressed = 1;
        }
    }
    rc = ev_chunk_seal(out, body, body_len, nonce, header, sizeof header, dek);
    if (compressed) {
        ev_wipe(c->scratch, body_len);
    }
    if (rc != 0) {
        return EV_ENOMEM; /* libcrypto failed; out is wiped */
    }
    *entry = (uint32_t)(body_len + EV_TAG_BYTES) | compressed << 31;
    return EV_OK;
}

int
ev_blob_open_chunk(ev_chunk_ctx *c, uint8_t *out, size_t plain_len,
                   const uint8_t *in, uint32_t entry, uint64_t counter,
                   const uint8_t dek[EV_KEY_BYTES])
{
    uint8_t header[EV_BLOB_HEADER_BYTES];
    uint8_t nonce[EV_CHUNK_NONCE_BYTES];
    size_t len = ev_entry_len(entry);
    size_t z;

    if (len < EV_TAG_BYTES || len > EV_CHUNK_SEALED_MAX ||
        plain_len > EV_CHUNK_BYTES) {
        return EV_ECORRUPT;
    }
    ev_blob_header(header);
    ev_chunk_nonce(nonce, counter, 0);
    if (!ev_entry_compressed(entry)) {
        if (len - EV_TAG_BYTES != plain_len ||
            ev_chunk_open(out, in, len, nonce, header, sizeof header, dek) !=
                0) {
            return EV_ECORRUPT;
        }
        return EV_OK;
    }
    if (ev_chunk_open(c->scratch, in, len, nonce, header, sizeof header,
                      dek) != 0) {
        return EV_ECORRUPT;
    }
    /* Authenticated, so written by this vault; still check every length. */
    z = ZSTD_decompressDCtx(c->dctx, out, plain_len, c->scratch,
                            len - EV_TAG_BYTES);
    ev_wipe(c->scratch, len - EV_TAG_BYTES);
    if (ZSTD_isError(z) || z != plain_len) {
        ev_wipe(out, plain_len);
        return EV_ECORRUPT;
    }
    return EV_OK;
}

int
ev_blob_seal_index(uint8_t *out, uint64_t content_len, const uint32_t *entries,
                   uint64_t n, const uint8_t dek[EV_KEY_BYTES])
{
    uint8_t header[EV_BLOB_HEADER_BYTES];
    uint8_t nonce[EV_CHUNK_NONCE_BYTES];
    size_t plain_len = ev_blob_index_bytes(n) - EV_TAG_BYTES;

    /* The plaintext is built in out, then sealed in place. */
    ev_store64(out, content_len);
    ev_store32(out + 8, (uint32_t)n);
    ev_store32(out + 12, 0);
    for (uint64_t i = 0; i < n; i++) {
        ev_store32(out + 16 + 4 * i, entries[i]);
    }
    ev_blob_header(header);
    ev_chunk_nonce(nonce, n, 1);
    if (ev_chunk_seal(out, out, plain_len, nonce, header, sizeof header,
                      dek) != 0) {
        return EV_ENOMEM; /* libcrypto failed; out is wiped */
    }
    return EV_OK;
}

int
ev_blob_open_index(uint64_t *content_len, uint32_t *entries, uint64_t n,
                   const uint8_t *in, size_t in_len,
                   const uint8_t dek[EV_KEY_BYTES])
{
    uint8_t header[EV_BLOB_HEADER_BYTES];
    uint8_t nonce[EV_CHUNK_NONCE_BYTES];
    uint8_t *plain;
    int rc = EV_ECORRUPT;

    if (n == 0 || n > EV_BLOB_MAX_CHUNKS || in_len != ev_blob_index_bytes(n)) {
        return EV_ECORRUPT;
    }
    plain = malloc(in_len);
    if (plain == NULL) {
        return EV_ENOMEM;
    }
    ev_blob_header(header);
    ev_chunk_nonce(nonce, n, 1);
    if (ev_chunk_open(plain, in, in_len, nonce, header, sizeof header, dek) !=
        0) {
        goto cleanup;
    }
    if (ev_load32(plain + 8) != n || ev_load32(plain + 12) != 0 ||
        ev_blob_nchunks(ev_load64(plain)) != n) {
        goto cleanup;
    }
    *content_len = ev_load64(plain);
    for (uint64_t i = 0; i < n; i++) {
        entries[i] = ev_load32(plain + 16 + 4 * i);
        if (ev_entry_len(entries[i]) < EV_TAG_BYTES ||
            ev_entry_len(entries[i]) > EV_CHUNK_SEALED_MAX) {
            goto cleanup;
        }
    }
    rc = EV_OK;
cleanup:
    free(plain);
    return rc;
}

int
ev_blob_padding(uint8_t *out, size_t n, uint64_t off,
                const uint8_t dek[EV_KEY_BYTES])
{
    uint8_t nonce[EV_CHUNK_NONCE_BYTES];
    uint8_t block[64];
    size_t head = (size_t)(off % 64);

    if (off > EV_BLOB_PADDING_MAX || n > EV_BLOB_PADDING_MAX - off) {
        return -1; /* nothing written */
    }
    memset(nonce, 0xff, sizeof nonce);
    nonce[11] = 0x02;
    if (head != 0) {
        size_t take = 64 - head < n ? 64 - head : n;
        if (ev_keystream(block, sizeof block, nonce, off / 64, dek) != 0) {
            return -1; /* ruled out above */
        }
        memcpy(out, block + head, take);
        out += take;
        n -= take;
        off += take;
    }
    if (n > 0 && ev_keystream(out, n, nonce, off / 64, dek) != 0) {
        return -1; /* ruled out above */
    }
    return 0;
}
