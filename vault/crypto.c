/*
 * crypto.c - wrappers around libsodium and libcrypto (see crypto.h).
 *
 * Owns: every call to a cryptographic primitive.
 * Never: invents a primitive, keeps state between calls, prints, or stops
 * the process.  A call that can fail is reported to the caller (-1, with
 * the output wiped: no unauthenticated or partial bytes, no made-up
 * digest); sizes libsodium would refuse (or stop the process on) are
 * ruled out by _Static_assert or checked first; a result not looked at is
 * one libsodium returns as 0 whatever it is given.
 */
#include "crypto.h"

#include "evault.h"

#include <openssl/evp.h>
#include <pthread.h>
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
_Static_assert(EV_BOX_SEAL_OVERHEAD == crypto_box_SEALBYTES, "seal bytes");
/* libsodium's ChaCha20-Poly1305, the fallback of chunk_crypt, takes every
 * chunk size libcrypto's int counts: it cannot refuse one. */
_Static_assert(INT32_MAX <= crypto_aead_chacha20poly1305_ietf_MESSAGEBYTES_MAX,
               "chunk size");

/* The sizes given to libsodium below, which refuses only sizes outside
 * these ranges: with them, crypto_kdf_derive_from_key and
 * crypto_generichash (keyed hashes) return 0 whatever else they are
 * given, and their results need no check. */
_Static_assert(EV_KEY_BYTES >= crypto_kdf_BYTES_MIN &&
                   EV_KEY_BYTES <= crypto_kdf_BYTES_MAX,
               "subkey length");
_Static_assert(crypto_kdf_KEYBYTES <= crypto_generichash_KEYBYTES_MAX,
               "kdf key as a BLAKE2b key");
_Static_assert(16 >= crypto_generichash_BYTES_MIN &&
                   32 <= crypto_generichash_BYTES_MAX,
               "keyed hash lengths");
_Static_assert(EV_KEY_BYTES >= crypto_generichash_KEYBYTES_MIN &&
                   EV_KEY_BYTES <= crypto_generichash_KEYBYTES_MAX,
               "keyed hash key length");
_Static_assert(SIZE_MAX <= UINT64_MAX, "BLAKE2b takes any size_t input");

static const char kdf_context[crypto_kdf_CONTEXTBYTES] = {'e', 'v', 'a', 'u',
                                                          'l', 't', '0', '1'};

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
    /* 0: the subkey length is asserted above */
    (void)crypto_kdf_derive_from_key(out, EV_KEY_BYTES, (uint64_t)id,
                                     kdf_context, mk);
}

void
ev_wrap(uint8_t *out, const uint8_t *in, size_t in_len, const uint8_t *ad,
        size_t ad_len, const uint8_t key[EV_KEY_BYTES])
{
    randombytes_buf(out, EV_WRAP_NONCE_BYTES);
    /* 0 for every input: libsodium would stop the process only for an
     * in_len over SIZE_MAX - 16, which no in and out (in_len + 40 bytes)
     * both in memory can have. */
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

int
ev_rewrap(uint8_t *out, const uint8_t *in, size_t in_len, const uint8_t *ad,
          size_t ad_len, const uint8_t from[EV_KEY_BYTES],
          const uint8_t to[EV_KEY_BYTES], uint8_t *plain)
{
    if (in_len < EV_WRAP_OVERHEAD ||
        ev_unwrap(plain, in, in_len, ad, ad_len, from) != 0) {
        return -1;
    }
    ev_wrap(out, plain, in_len - EV_WRAP_OVERHEAD, ad, ad_len, to);
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

/* ChaCha20-Poly1305 of RFC 8439 by libsodium: the same bytes as OpenSSL
 * computes (OpenSSL is faster on large chunks), with no allocation.  For
 * when OpenSSL cannot get the memory for its context: sealing must not
 * fail, nor opening call an intact chunk forged, for lack of memory. */
static int
chunk_crypt_sodium(int enc, uint8_t *out, const uint8_t *in, size_t len,
                   const uint8_t nonce[EV_CHUNK_NONCE_BYTES],
                   const uint8_t *ad, size_t ad_len,
                   const uint8_t key[EV_KEY_BYTES], uint8_t *tag)
{
    if (enc) {
        return crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                   out, tag, NULL, in, len, ad, ad_len, NULL, nonce, key) == 0
                   ? 0
                   : -1;
    }
    return crypto_aead_chacha20poly1305_ietf_decrypt_detached(
               out, NULL, in, len, tag, ad, ad_len, nonce, key) == 0
               ? 0
               : -1;
}

/* OpenSSL 3 looks an algorithm up in its providers, under a lock, each
 * time a context is set up with EVP_sha256() or EVP_chacha20_poly1305();
 * fetched once, the lookup is gone from the 10,000 records of an add of
 * small files.  NULL (no provider): the legacy object, which looks up as
 * before. */
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MD *fetched_sha256;
static EVP_CIPHER *fetched_chacha;

static void
fetch_algorithms(void)
{
    fetched_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    fetched_chacha = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
}

static const EVP_MD *
sha256_md(void)
{
    pthread_once(&fetch_once, fetch_algorithms);
    return fetched_sha256 != NULL ? fetched_sha256 : EVP_sha256();
}

static const EVP_CIPHER *
chacha_cipher(void)
{
    pthread_once(&fetch_once, fetch_algorithms);
    return fetched_chacha != NULL ? fetched_chacha : EVP_chacha20_poly1305();
}

static int
chunk_crypt(int enc, uint8_t *out, const uint8_t *in, size_t len,
            const uint8_t nonce[EV_CHUNK_NONCE_BYTES], const uint8_t *ad,
            size_t ad_len, const uint8_t key[EV_KEY_BYTES], uint8_t *tag)
{
    EVP_CIPHER_CTX *c;
    int ok = 0, n = 0;

    if (len > (size_t)INT32_MAX || ad_len > (size_t)INT32_MAX) {
        return -1;
    }
    /* Making and setting up the context may allocate; nothing after.  Up
     * to here nothing is written, so libsodium can still do it all. */
    c = EVP_CIPHER_CTX_new();
    if (c == NULL ||
        EVP_CipherInit_ex(c, chacha_cipher(), NULL, NULL, NULL,
                          enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, EV_CHUNK_NONCE_BYTES,
                            NULL) != 1 ||
        EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) != 1) {
        EVP_CIPHER_CTX_free(c);
        return chunk_crypt_sodium(enc, out, in, len, nonce, ad, ad_len, key,
                                  tag);
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
    if (in_len > (size_t)INT32_MAX || ad_len > (size_t)INT32_MAX) {
        return -1; /* nothing written */
    }
    if (chunk_crypt(1, out, in, in_len, nonce, ad, ad_len, key,
                    out + in_len) != 0) {
        /* libcrypto failed after it began to write (it allocates nothing
         * there; test_faults_alloc never sees it): neither ciphertext
         * without its tag nor half a chunk leaves, and the caller gives
         * up the nonce. */
        sodium_memzero(out, in_len + EV_TAG_BYTES);
        return -1;
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

int
ev_keystream(uint8_t *out, size_t n, const uint8_t nonce[EV_CHUNK_NONCE_BYTES],
             uint64_t block, const uint8_t key[EV_KEY_BYTES])
{
    uint64_t blocks = (uint64_t)(n / 64) + (n % 64 != 0);

    /* The IETF block counter has 32 bits: libsodium stops the process
     * rather than let it wrap. */
    if (block > ((uint64_t)1 << 32) || blocks > ((uint64_t)1 << 32) - block) {
        return -1;
    }
    memset(out, 0, n);
    crypto_stream_chacha20_ietf_xor_ic(out, out, n, nonce, (uint32_t)block,
                                       key);
    return 0;
}

/* SHA-256 by OpenSSL (SHA extensions), or by libsodium when OpenSSL
 * cannot get the memory for its context (md NULL): the same digest.  The
 * bytes of a stream are gone once hashed: should OpenSSL fail in the
 * middle (it does not allocate there), nothing can take over, and final
 * reports it.  libsodium's SHA-256 functions return 0 whatever they are
 * given. */
struct ev_sha256 {
    EVP_MD_CTX *md;
    crypto_hash_sha256_state st;
    int failed; /* OpenSSL failed since the start: final returns -1 */
};

/* (Re)starts h, on OpenSSL when it can. */
static void
sha256_start(ev_sha256 *h)
{
    if (h->md != NULL && EVP_DigestInit_ex(h->md, sha256_md(), NULL) != 1) {
        EVP_MD_CTX_free(h->md);
        h->md = NULL;
    }
    if (h->md == NULL) {
        crypto_hash_sha256_init(&h->st);
    }
}

ev_sha256 *
ev_sha256_new(void)
{
    ev_sha256 *h = calloc(1, sizeof *h);

    if (h == NULL) {
        return NULL;
    }
    h->md = EVP_MD_CTX_new();
    sha256_start(h);
    return h;
}

void
ev_sha256_update(ev_sha256 *h, const void *in, size_t n)
{
    if (n == 0 || h->failed) {
        return;
    }
    if (h->md == NULL) {
        crypto_hash_sha256_update(&h->st, in, n);
    } else if (EVP_DigestUpdate(h->md, in, n) != 1) {
        h->failed = 1;
    }
}

int
ev_sha256_final(ev_sha256 *h, uint8_t out[32])
{
    unsigned int len = 0;
    int rc = 0;

    if (h->failed) {
        rc = -1;
    } else if (h->md == NULL) {
        crypto_hash_sha256_final(&h->st, out);
    } else if (EVP_DigestFinal_ex(h->md, out, &len) != 1 || len != 32) {
        rc = -1;
    }
    if (rc != 0) {
        sodium_memzero(out, 32); /* no made-up digest */
    }
    h->failed = 0;
    sha256_start(h);
    return rc;
}

void
ev_sha256_free(ev_sha256 *h)
{
    if (h != NULL) {
        EVP_MD_CTX_free(h->md);
        sodium_memzero(&h->st, sizeof h->st);
        free(h);
    }
}

void
ev_sha256_once(uint8_t out[32], const void *in, size_t n)
{
    unsigned int len = 0;

    /* EVP_Digest makes a context: without memory, libsodium's */
    if (EVP_Digest(in, n, out, &len, sha256_md(), NULL) != 1 || len != 32) {
        crypto_hash_sha256(out, in, n);
    }
}

void
ev_sha256_two(uint8_t out[32], const void *a, size_t a_len, const void *b,
              size_t b_len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    crypto_hash_sha256_state st;
    unsigned int len = 0;

    if (md != NULL && EVP_DigestInit_ex(md, sha256_md(), NULL) == 1 &&
        EVP_DigestUpdate(md, a, a_len) == 1 &&
        EVP_DigestUpdate(md, b, b_len) == 1 &&
        EVP_DigestFinal_ex(md, out, &len) == 1 && len == 32) {
        EVP_MD_CTX_free(md);
        return;
    }
    EVP_MD_CTX_free(md);
    /* Every byte is still at hand: libsodium hashes them all again. */
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, a, a_len);
    crypto_hash_sha256_update(&st, b, b_len);
    crypto_hash_sha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

void
ev_keyed_hash16(uint8_t out[16], const uint8_t key[EV_KEY_BYTES],
                const void *in, size_t in_len)
{
    /* 0: the lengths are asserted above */
    (void)crypto_generichash(out, 16, in, in_len, key, EV_KEY_BYTES);
}

void
ev_keyed_hash32(uint8_t out[32], const uint8_t key[EV_KEY_BYTES],
                const void *in, size_t in_len)
{
    /* 0: the lengths are asserted above */
    (void)crypto_generichash(out, 32, in, in_len, key, EV_KEY_BYTES);
}

int
ev_blake2b(uint8_t *out, size_t out_len, const uint8_t *key, size_t key_len,
           const void *in, size_t in_len)
{
    /* The lengths BLAKE2b has; libsodium refuses others.  Checked first,
     * so that nothing is written when one is wrong. */
    if (out_len < 1 || out_len > crypto_generichash_BYTES_MAX ||
        (key != NULL && key_len > crypto_generichash_KEYBYTES_MAX)) {
        return -1;
    }
    return crypto_generichash(out, out_len, in, in_len, key,
                              key != NULL ? key_len : 0) == 0
               ? 0
               : -1;
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

int
ev_box_sk_to_pk(uint8_t pk[EV_BOX_PK_BYTES], const uint8_t sk[EV_BOX_SK_BYTES])
{
    return ev_x25519_base(pk, sk);
}

int
ev_box_seal(uint8_t *out, const uint8_t *in, size_t in_len,
            const uint8_t pk[EV_BOX_PK_BYTES])
{
    if (in_len > crypto_box_MESSAGEBYTES_MAX ||
        in_len > SIZE_MAX - EV_BOX_SEAL_OVERHEAD) {
        return -1; /* libsodium would stop the process; nothing written */
    }
    /* crypto_box_seal fails when pk is a low-order point: the shared key
     * would be all zero.  It has written the ephemeral key by then. */
    if (crypto_box_seal(out, in, in_len, pk) != 0) {
        sodium_memzero(out, in_len + EV_BOX_SEAL_OVERHEAD);
        return -1;
    }
    return 0;
}

int
ev_box_seal_open(uint8_t *out, const uint8_t *in, size_t in_len,
                 const uint8_t pk[EV_BOX_PK_BYTES],
                 const uint8_t sk[EV_BOX_SK_BYTES])
{
    if (in_len < EV_BOX_SEAL_OVERHEAD) {
        return -1;
    }
    return crypto_box_seal_open(out, in, in_len, pk, sk) == 0 ? 0 : -1;
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

/* The longest input whose base64 text's length a size_t holds: libsodium
 * stops the process on a longer one, or on too small an output. */
#define B64_IN_MAX ((SIZE_MAX - 5) / 4 * 3)

int
ev_base64_encode(char *out, size_t out_len, const uint8_t *in, size_t n)
{
    if (n > B64_IN_MAX || out_len < ev_base64_len(n)) {
        if (out_len > 0) {
            out[0] = '\0';
        }
        return -1;
    }
    sodium_bin2base64(out, out_len, in, n, sodium_base64_VARIANT_ORIGINAL);
    return 0;
}

long
ev_base64_decode(uint8_t *out, size_t out_len, const char *in, size_t in_len)
{
    size_t n = 0;
    const char *end = NULL;

    /* libsodium 1.0.18 reads any byte >= 0x80 as '/': two texts would
     * decode alike.  Only the RFC 4648 alphabet and '=' are accepted. */
    for (size_t i = 0; i < in_len; i++) {
        char ch = in[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '+' || ch == '/' ||
              ch == '=')) {
            return -1;
        }
    }
    if (sodium_base642bin(out, out_len, in, in_len, NULL, &n, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != in + in_len) {
        return -1;
    }
    return (long)n;
}

/* BLAKE2b-512: 64 bytes, the longest libsodium makes. */
_Static_assert(crypto_generichash_BYTES_MAX == 64, "BLAKE2b-512");

struct ev_blake2b_stream {
    crypto_generichash_state st; /* libsodium wants it 64-byte aligned */
    int done; /* finished, or libsodium refused: final returns -1 */
};

ev_blake2b_stream *
ev_blake2b_stream_new(void)
{
    ev_blake2b_stream *h;

    h = aligned_alloc(_Alignof(ev_blake2b_stream), sizeof *h);
    if (h == NULL) {
        return NULL;
    }
    h->done = crypto_generichash_init(&h->st, NULL, 0, 64) != 0;
    return h;
}

void
ev_blake2b_stream_update(ev_blake2b_stream *h, const void *in, size_t n)
{
    if (n > 0 && !h->done && crypto_generichash_update(&h->st, in, n) != 0) {
        h->done = 1;
    }
}

int
ev_blake2b_stream_final(ev_blake2b_stream *h, uint8_t out[64])
{
    int rc = h->done || crypto_generichash_final(&h->st, out, 64) != 0;

    h->done = 1; /* the state is spent */
    if (rc != 0) {
        sodium_memzero(out, 64);
        return -1;
    }
    return 0;
}

void
ev_blake2b_stream_free(ev_blake2b_stream *h)
{
    if (h != NULL) {
        sodium_memzero(h, sizeof *h);
        free(h);
    }
}

/* ---- For the age format (age.c) ---- */

int
ev_hmac_sha256(uint8_t out[32], const uint8_t *key, size_t key_len,
               const void *in, size_t in_len)
{
    crypto_auth_hmacsha256_state st;
    int rc = 0;

    if (key == NULL && key_len > 0) {
        return -1; /* libsodium would stop the process */
    }
    if (crypto_auth_hmacsha256_init(&st, key, key_len) != 0 ||
        crypto_auth_hmacsha256_update(&st, in, in_len) != 0 ||
        crypto_auth_hmacsha256_final(&st, out) != 0) {
        sodium_memzero(out, crypto_auth_hmacsha256_BYTES);
        rc = -1;
    }
    sodium_memzero(&st, sizeof st);
    return rc;
}

int
ev_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *ikm, size_t ikm_len,
               const uint8_t *salt, size_t salt_len, const void *info,
               size_t info_len)
{
    static const uint8_t zero_salt[crypto_auth_hmacsha256_BYTES];
    uint8_t prk[crypto_auth_hmacsha256_BYTES];
    uint8_t t[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    size_t done = 0;
    uint8_t ctr = 0;
    int rc = 0;

    if (out_len > 255 * sizeof t) {
        return -1; /* RFC 5869's limit; nothing written */
    }
    /* Extract: PRK = HMAC(salt, IKM). */
    if (ev_hmac_sha256(prk, salt_len > 0 ? salt : zero_salt,
                       salt_len > 0 ? salt_len : sizeof zero_salt, ikm,
                       ikm_len) != 0) {
        return -1; /* prk is wiped */
    }
    /* Expand: T(i) = HMAC(PRK, T(i-1) || info || i). */
    while (done < out_len) {
        size_t take = out_len - done < sizeof t ? out_len - done : sizeof t;
        ctr++;
        if (crypto_auth_hmacsha256_init(&st, prk, sizeof prk) != 0 ||
            (ctr > 1 &&
             crypto_auth_hmacsha256_update(&st, t, sizeof t) != 0) ||
            crypto_auth_hmacsha256_update(&st, info, info_len) != 0 ||
            crypto_auth_hmacsha256_update(&st, &ctr, 1) != 0 ||
            crypto_auth_hmacsha256_final(&st, t) != 0) {
            rc = -1;
            break;
        }
        memcpy(out + done, t, take);
        done += take;
    }
    if (rc != 0) {
        sodium_memzero(out, out_len); /* no key made of part of one */
    }
    sodium_memzero(&st, sizeof st);
    sodium_memzero(prk, sizeof prk);
    sodium_memzero(t, sizeof t);
    return rc;
}

int
ev_x25519(uint8_t out[32], const uint8_t sk[32], const uint8_t pk[32])
{
    if (crypto_scalarmult(out, sk, pk) != 0) {
        sodium_memzero(out, 32);
        return -1;
    }
    return 0;
}

int
ev_x25519_base(uint8_t pk[32], const uint8_t sk[32])
{
    /* libsodium clamps sk, and no clamped scalar times the base point is
     * the identity: 1.0.18 returns 0, a later one that refused an all-zero
     * result would too.  Checked all the same. */
    if (crypto_scalarmult_base(pk, sk) != 0) {
        sodium_memzero(pk, 32);
        return -1;
    }
    return 0;
}

int
ev_scrypt(uint8_t *out, size_t out_len, const char *pass, size_t pass_len,
          const uint8_t *salt, size_t salt_len, unsigned log_n, uint32_t r,
          uint32_t p)
{
    if (log_n < 1 || log_n > 63) {
        return -1;
    }
    return crypto_pwhash_scryptsalsa208sha256_ll(
               (const uint8_t *)pass, pass_len, salt, salt_len,
               (uint64_t)1 << log_n, r, p, out, out_len) == 0
               ? 0
               : -1;
}

size_t
ev_base64_raw_len(size_t n)
{
    return sodium_base64_ENCODED_LEN(n,
                                     sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

int
ev_base64_raw_encode(char *out, size_t out_len, const uint8_t *in, size_t n)
{
    if (n > B64_IN_MAX || out_len < ev_base64_raw_len(n)) {
        if (out_len > 0) {
            out[0] = '\0';
        }
        return -1;
    }
    sodium_bin2base64(out, out_len, in, n,
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    return 0;
}

long
ev_base64_raw_decode(uint8_t *out, size_t out_len, const char *in,
                     size_t in_len)
{
    size_t n = 0;
    const char *end = NULL;

    /* libsodium 1.0.18 takes any byte over 0x7f as a base64 digit: the
     * alphabet is checked here first.  libsodium refuses nonzero trailing
     * bits and a lone final character. */
    for (size_t i = 0; i < in_len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '+' || c == '/')) {
            return -1;
        }
    }
    if (sodium_base642bin(out, out_len, in, in_len, NULL, &n, &end,
                          sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 ||
        end != in + in_len) {
        return -1;
    }
    return (long)n;
}
