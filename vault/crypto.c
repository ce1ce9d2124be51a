/*
 * crypto.c - wrappers around libsodium and libcrypto (see crypto.h).
 *
 * Owns: every call to a cryptographic primitive.
 * Never: invents a primitive, keeps state between calls, or prints.
 * Misuse that could reuse a nonce or leak a key aborts here, loudly.
 */
#include "crypto.h"

#include "evault.h"

#include <openssl/evp.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(EV_KEY_BYTES == crypto_kdf_KEYBYTES, "kdf key size");
_Static_assert(EV_WRAP_NONCE_BYTES ==
                   crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
               "wrap nonce size");
_Static_assert(EV_CHUNK_NONCE_BYTES ==
                   crypto_aead_chacha20poly1305_ietf_NPUBBYTES,
               "chunk nonce size");
_Static_assert(EV_SALT_BYTES == crypto_pwhash_SALTBYTES, "salt size");
_Static_assert(EV_SIGN_SK_BYTES == crypto_sign_SECRETKEYBYTES, "sign sk");
_Static_assert(EV_BOX_SK_BYTES == crypto_box_SECRETKEYBYTES, "box sk");

static const char kdf_context[crypto_kdf_CONTEXTBYTES] = {'e', 'v', 'a', 'u',
                                                          'l', 't', '0', '1'};

/* The one place that stops the process: a programming error that would
 * otherwise reuse a nonce or release unauthenticated data. */
static void
ev_misuse(void)
{
    abort();
}

int
ev_crypto_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

void *
ev_secure_alloc(size_t n)
{
    return sodium_malloc(n);
}

void
ev_secure_free(void *p)
{
    sodium_free(p);
}

void *
ev_secret_alloc(size_t n)
{
    return sodium_malloc(n);
}

void
ev_secret_free(void *p)
{
    sodium_free(p);
}

void
ev_secret_wipe(void *p, size_t n)
{
    sodium_memzero(p, n);
}

void
ev_wipe(void *p, size_t n)
{
    sodium_memzero(p, n);
}

int
ev_memeq(const void *a, const void *b, size_t n)
{
    return sodium_memcmp(a, b, n) == 0;
}

void
ev_random(void *buf, size_t n)
{
    randombytes_buf(buf, n);
}

void
ev_kdf_subkey(uint8_t out[EV_KEY_BYTES], enum ev_subkey id,
              const uint8_t mk[EV_KEY_BYTES])
{
    if (crypto_kdf_derive_from_key(out, EV_KEY_BYTES, (uint64_t)id,
                                   kdf_context, mk) != 0) {
        ev_misuse();
    }
}

void
ev_wrap(uint8_t *out, const uint8_t *in, size_t in_len, const uint8_t *ad,
        size_t ad_len, const uint8_t key[EV_KEY_BYTES])
{
    randombytes_buf(out, EV_WRAP_NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        out + EV_WRAP_NONCE_BYTES, NULL, in, in_len, ad, ad_len, NULL, out,
        key);
}

int
ev_unwrap(uint8_t *out, const uint8_t *in, size_t in_len, const uint8_t *ad,
          size_t ad_len, const uint8_t key[EV_KEY_BYTES])
{
    if (in_len < EV_WRAP_OVERHEAD) {
        return -1;
    }
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            out, NULL, NULL, in + EV_WRAP_NONCE_BYTES,
            in_len - EV_WRAP_NONCE_BYTES, ad, ad_len, in, key) != 0) {
        sodium_memzero(out, in_len - EV_WRAP_OVERHEAD);
        return -1;
    }
    return 0;
}

void
ev_chunk_nonce(uint8_t nonce[EV_CHUNK_NONCE_BYTES], uint64_t counter,
               int last)
{
    /* age's STREAM: an 11-byte big-endian counter, then the last flag. */
    memset(nonce, 0, EV_CHUNK_NONCE_BYTES);
    for (int i = 0; i < 8; i++) {
        nonce[10 - i] = (uint8_t)(counter >> (8 * i));
    }
    nonce[11] = last ? 1 : 0;
}

static int
chunk_crypt(int enc, uint8_t *out, const uint8_t *in, size_t len,
            const uint8_t nonce[EV_CHUNK_NONCE_BYTES], const uint8_t *ad,
            size_t ad_len, const uint8_t key[EV_KEY_BYTES], uint8_t *tag)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int ok = 0, n = 0;

    if (c == NULL || len > (size_t)INT32_MAX) {
        goto cleanup;
    }
    if (EVP_CipherInit_ex(c, EVP_chacha20_poly1305(), NULL, NULL, NULL,
                          enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, EV_CHUNK_NONCE_BYTES,
                            NULL) != 1 ||
        EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) != 1) {
        goto cleanup;
    }
    if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, EV_TAG_BYTES,
                                    tag) != 1) {
        goto cleanup;
    }
    if (ad_len > 0 &&
        EVP_CipherUpdate(c, NULL, &n, ad, (int)ad_len) != 1) {
        goto cleanup;
    }
    if (len > 0 && EVP_CipherUpdate(c, out, &n, in, (int)len) != 1) {
        goto cleanup;
    }
    if (EVP_CipherFinal_ex(c, out + (len > 0 ? n : 0), &n) != 1) {
        goto cleanup;
    }
    if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, EV_TAG_BYTES,
                                   tag) != 1) {
        goto cleanup;
    }
    ok = 1;
cleanup:
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

int
ev_chunk_seal(uint8_t *out, const uint8_t *in, size_t in_len,
              const uint8_t nonce[EV_CHUNK_NONCE_BYTES], const uint8_t *ad,
              size_t ad_len, const uint8_t key[EV_KEY_BYTES])
{
    if (chunk_crypt(1, out, in, in_len, nonce, ad, ad_len, key,
                    out + in_len) != 0) {
        ev_misuse(); /* sealing cannot fail but for a broken libcrypto */
    }
    return 0;
}

int
ev_chunk_open(uint8_t *out, const uint8_t *in, size_t in_len,
              const uint8_t nonce[EV_CHUNK_NONCE_BYTES], const uint8_t *ad,
              size_t ad_len, const uint8_t key[EV_KEY_BYTES])
{
    uint8_t tag[EV_TAG_BYTES];

    if (in_len < EV_TAG_BYTES) {
        return -1;
    }
    memcpy(tag, in + in_len - EV_TAG_BYTES, EV_TAG_BYTES);
    if (chunk_crypt(0, out, in, in_len - EV_TAG_BYTES, nonce, ad, ad_len, key,
                    tag) != 0) {
        sodium_memzero(out, in_len - EV_TAG_BYTES);
        return -1;
    }
    return 0;
}

void
ev_keystream(uint8_t *out, size_t n,
             const uint8_t nonce[EV_CHUNK_NONCE_BYTES], uint32_t block,
             const uint8_t key[EV_KEY_BYTES])
{
    memset(out, 0, n);
    crypto_stream_chacha20_ietf_xor_ic(out, out, n, nonce, block, key);
}

struct ev_sha256 {
    EVP_MD_CTX *md;
};

ev_sha256 *
ev_sha256_new(void)
{
    ev_sha256 *h = calloc(1, sizeof *h);

    if (h == NULL) {
        return NULL;
    }
    h->md = EVP_MD_CTX_new();
    if (h->md == NULL || EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(h->md);
        free(h);
        return NULL;
    }
    return h;
}

void
ev_sha256_update(ev_sha256 *h, const void *in, size_t n)
{
    if (n > 0 && EVP_DigestUpdate(h->md, in, n) != 1) {
        ev_misuse();
    }
}

void
ev_sha256_final(ev_sha256 *h, uint8_t out[32])
{
    unsigned int len = 0;

    if (EVP_DigestFinal_ex(h->md, out, &len) != 1 || len != 32 ||
        EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1) {
        ev_misuse();
    }
}

void
ev_sha256_free(ev_sha256 *h)
{
    if (h != NULL) {
        EVP_MD_CTX_free(h->md);
        free(h);
    }
}

void
ev_sha256_once(uint8_t out[32], const void *in, size_t n)
{
    unsigned int len = 0;

    if (EVP_Digest(in, n, out, &len, EVP_sha256(), NULL) != 1) {
        ev_misuse();
    }
}

void
ev_keyed_hash(uint8_t *out, size_t out_len, const uint8_t key[EV_KEY_BYTES],
              const void *in, size_t in_len)
{
    if (crypto_generichash(out, out_len, in, in_len, key, EV_KEY_BYTES) !=
        0) {
        ev_misuse();
    }
}

void
ev_blake2b(uint8_t *out, size_t out_len, const uint8_t *key, size_t key_len,
           const void *in, size_t in_len)
{
    if (crypto_generichash(out, out_len, in, in_len, key,
                           key != NULL ? key_len : 0) != 0) {
        ev_misuse();
    }
}

int
ev_argon2id(uint8_t out[EV_KEY_BYTES], const char *pass, size_t pass_len,
            const uint8_t salt[EV_SALT_BYTES], uint64_t ops, uint64_t mem_kib)
{
    if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > crypto_pwhash_OPSLIMIT_MAX ||
        mem_kib * 1024 < crypto_pwhash_MEMLIMIT_MIN ||
        mem_kib > (uint64_t)4 * 1024 * 1024) {
        return -1;
    }
    return crypto_pwhash(out, EV_KEY_BYTES, pass, pass_len, salt, ops,
                         (size_t)mem_kib * 1024,
                         crypto_pwhash_ALG_ARGON2ID13);
}

void
ev_sign_keypair(uint8_t pk[EV_SIGN_PK_BYTES], uint8_t sk[EV_SIGN_SK_BYTES])
{
    crypto_sign_keypair(pk, sk);
}

void
ev_box_keypair(uint8_t pk[EV_BOX_PK_BYTES], uint8_t sk[EV_BOX_SK_BYTES])
{
    crypto_box_keypair(pk, sk);
}

void
ev_sign(uint8_t sig[64], const void *msg, size_t len, const uint8_t sk[64])
{
    crypto_sign_detached(sig, NULL, msg, len, sk);
}

int
ev_sign_verify(const uint8_t sig[64], const void *msg, size_t len,
               const uint8_t pk[32])
{
    return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0 : -1;
}

void
ev_sign_sk_to_pk(uint8_t pk[32], const uint8_t sk[64])
{
    crypto_sign_ed25519_sk_to_pk(pk, sk);
}

size_t
ev_base64_len(size_t n)
{
    return sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
}

void
ev_base64_encode(char *out, size_t out_len, const uint8_t *in, size_t n)
{
    if (out_len < ev_base64_len(n)) {
        ev_misuse();
    }
    sodium_bin2base64(out, out_len, in, n, sodium_base64_VARIANT_ORIGINAL);
}

long
ev_base64_decode(uint8_t *out, size_t out_len, const char *in, size_t in_len)
{
    size_t n = 0;
    const char *end = NULL;

    if (sodium_base642bin(out, out_len, in, in_len, NULL, &n, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != in + in_len) {
        return -1;
    }
    return (long)n;
}
