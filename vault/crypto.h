/*
 * crypto.h - the only door to libsodium's and libcrypto's primitives.
 *
 * Small secrets (keys, wrapped keys) use libsodium: crypto_kdf for subkeys,
 * XChaCha20-Poly1305 to wrap, BLAKE2b for keyed hashes, Argon2id for
 * passphrases.  Bulk data uses OpenSSL's ChaCha20-Poly1305-IETF (the same
 * algorithm as libsodium's, measured faster here) and SHA-256 (which uses
 * the CPU's SHA instructions).
 */
#ifndef EV_CRYPTO_H
#define EV_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define EV_KEY_BYTES 32
#define EV_TAG_BYTES 16
#define EV_WRAP_NONCE_BYTES 24
/* ev_wrap output = nonce || ciphertext || tag */
#define EV_WRAP_OVERHEAD (EV_WRAP_NONCE_BYTES + EV_TAG_BYTES)
#define EV_CHUNK_NONCE_BYTES 12
#define EV_SALT_BYTES 16

/* Nothing here stops the process: a function that can fail returns it,
 * marked EV_MUST_CHECK, and every caller looks (-Werror makes a forgotten
 * result a build failure). */
#define EV_MUST_CHECK __attribute__((warn_unused_result))

/* Subkey ids for ev_kdf_subkey(); pinned: changing one breaks vaults. */
enum ev_subkey {
    EV_SUBKEY_META = 1,     /* record metadata encryption */
    EV_SUBKEY_BLIND = 2,    /* blind indexes */
    EV_SUBKEY_BLOBID = 3,   /* blob ids from SHA-256 */
    EV_SUBKEY_DEK = 4,      /* wrapping of per-blob data keys */
    EV_SUBKEY_IDENTITY = 5, /* wrapping of identity secret keys */
    EV_SUBKEY_CUSTODY = 6   /* custody log entries */
};

int ev_crypto_init(void) EV_MUST_CHECK;

/* Guarded memory (sodium_malloc): for keys and passphrases only. */
void *ev_secure_alloc(size_t n);
void ev_secure_free(void *p);
void ev_wipe(void *p, size_t n);
/* Constant-time equality of secret-derived bytes: 1 equal, 0 not. */
int ev_memeq(const void *a, const void *b, size_t n) EV_MUST_CHECK;

void ev_random(void *buf, size_t n);

void ev_kdf_subkey(uint8_t out[EV_KEY_BYTES], enum ev_subkey id,
                   const uint8_t mk[EV_KEY_BYTES]);

/* XChaCha20-Poly1305 with a random nonce; out holds in_len +
 * EV_WRAP_OVERHEAD bytes. */
void ev_wrap(uint8_t *out, const uint8_t *in, size_t in_len,
             const uint8_t *ad, size_t ad_len,
             const uint8_t key[EV_KEY_BYTES]);
/* Returns 0, or -1 when the tag does not verify (out is wiped). */
int ev_unwrap(uint8_t *out, const uint8_t *in, size_t in_len, const uint8_t *ad,
              size_t ad_len, const uint8_t key[EV_KEY_BYTES]) EV_MUST_CHECK;

/* Re-encrypts an ev_wrap value made under `from` to `to`, with the same
 * ad and a fresh nonce (key rotation); out holds in_len bytes.  The
 * plaintext passes through plain (in_len - EV_WRAP_OVERHEAD bytes), which
 * the caller wipes.  0, or -1 when in does not open under `from`. */
int ev_rewrap(uint8_t *out, const uint8_t *in, size_t in_len, const uint8_t *ad,
              size_t ad_len, const uint8_t from[EV_KEY_BYTES],
              const uint8_t to[EV_KEY_BYTES], uint8_t *plain) EV_MUST_CHECK;

/* ChaCha20-Poly1305-IETF for blob chunks; out holds in_len + 16 bytes.
 * The nonce is the STREAM nonce built by ev_chunk_nonce().  in_len and
 * ad_len are at most 2^31 - 1 (libcrypto counts in int). */
void ev_chunk_nonce(uint8_t nonce[EV_CHUNK_NONCE_BYTES], uint64_t counter,
                    int last);
/* 0, or -1 when in_len or ad_len is too large (nothing written) or
 * libcrypto failed once it had begun (out wiped, in too when sealing in
 * place: no ciphertext without its tag leaves).  A failed seal ends the
 * stream: no other bytes may be sealed under that nonce. */
int ev_chunk_seal(uint8_t *out, const uint8_t *in, size_t in_len,
                  const uint8_t nonce[EV_CHUNK_NONCE_BYTES], const uint8_t *ad,
                  size_t ad_len, const uint8_t key[EV_KEY_BYTES]) EV_MUST_CHECK;
/* in_len includes the tag.  Returns 0, or -1 on a bad tag (out wiped). */
int ev_chunk_open(uint8_t *out, const uint8_t *in, size_t in_len,
                  const uint8_t nonce[EV_CHUNK_NONCE_BYTES], const uint8_t *ad,
                  size_t ad_len, const uint8_t key[EV_KEY_BYTES]) EV_MUST_CHECK;

/* n bytes of ChaCha20 keystream (IETF) starting at 64-byte block
 * `block`.  0, or -1 when they pass the end of the keystream, 2^32 blocks
 * (256 GiB), where the counter would wrap (out untouched). */
int ev_keystream(uint8_t *out, size_t n,
                 const uint8_t nonce[EV_CHUNK_NONCE_BYTES], uint64_t block,
                 const uint8_t key[EV_KEY_BYTES]) EV_MUST_CHECK;

/* Streaming SHA-256.  new: NULL when memory is short.  final: 0, or -1
 * when libcrypto failed in an update or in final (out wiped: no digest
 * is made up); either way h starts over. */
typedef struct ev_sha256 ev_sha256;
ev_sha256 *ev_sha256_new(void);
void ev_sha256_update(ev_sha256 *h, const void *in, size_t n);
int ev_sha256_final(ev_sha256 *h, uint8_t out[32]) EV_MUST_CHECK;
void ev_sha256_free(ev_sha256 *h);
/* One-shot SHA-256 of in, and of a || b: these cannot fail (libsodium
 * hashes the same bytes when libcrypto cannot get memory). */
void ev_sha256_once(uint8_t out[32], const void *in, size_t n);
void ev_sha256_two(uint8_t out[32], const void *a, size_t a_len, const void *b,
                   size_t b_len);

/* Keyed BLAKE2b of 16 bytes (blind indexes) or 32 (blob ids, the key
 * check).  The lengths are fixed, and asserted to be ones libsodium
 * accepts: these cannot fail. */
void ev_keyed_hash16(uint8_t out[16], const uint8_t key[EV_KEY_BYTES],
                     const void *in, size_t in_len);
void ev_keyed_hash32(uint8_t out[32], const uint8_t key[EV_KEY_BYTES],
                     const void *in, size_t in_len);

/* BLAKE2b of out_len bytes (1..64) with a key of key_len bytes (at most
 * 64), or unkeyed (key NULL).  0, or -1 when a length is out of those
 * ranges (nothing written). */
int ev_blake2b(uint8_t *out, size_t out_len, const uint8_t *key, size_t key_len,
               const void *in, size_t in_len) EV_MUST_CHECK;

/* Argon2id.  Returns 0, or -1 when memory could not be had. */
int ev_argon2id(uint8_t out[EV_KEY_BYTES], const char *pass, size_t pass_len,
                const uint8_t salt[EV_SALT_BYTES], uint64_t ops,
                uint64_t mem_kib) EV_MUST_CHECK;

/* Ed25519 detached signatures. */
void ev_sign(uint8_t sig[64], const void *msg, size_t len,
             const uint8_t sk[64]);
/* 0 when sig is pk's signature of msg. */
int ev_sign_verify(const uint8_t sig[64], const void *msg, size_t len,
                   const uint8_t pk[32]) EV_MUST_CHECK;
/* The public key of an Ed25519 secret key. */
void ev_sign_sk_to_pk(uint8_t pk[32], const uint8_t sk[64]);

/* Standard base64 (RFC 4648 section 4, with padding).  encode: out needs
 * ev_base64_len(n) bytes, NUL included; 0, or -1 when out_len is smaller
 * (out then "").  decode: the byte count, or -1 on bad input or when
 * out_len is too small; trailing input is refused. */
size_t ev_base64_len(size_t n);
int ev_base64_encode(char *out, size_t out_len, const uint8_t *in,
                     size_t n) EV_MUST_CHECK;
long ev_base64_decode(uint8_t *out, size_t out_len, const char *in,
                      size_t in_len) EV_MUST_CHECK;

/* Ed25519 and X25519 key pairs for the vault identity. */
#define EV_SIGN_PK_BYTES 32
#define EV_SIGN_SK_BYTES 64
#define EV_BOX_PK_BYTES 32
#define EV_BOX_SK_BYTES 32
void ev_sign_keypair(uint8_t pk[EV_SIGN_PK_BYTES],
                     uint8_t sk[EV_SIGN_SK_BYTES]);
void ev_box_keypair(uint8_t pk[EV_BOX_PK_BYTES], uint8_t sk[EV_BOX_SK_BYTES]);
/* 0, or -1 when libsodium refused (pk wiped): see ev_x25519_base. */
int ev_box_sk_to_pk(uint8_t pk[EV_BOX_PK_BYTES],
                    const uint8_t sk[EV_BOX_SK_BYTES]) EV_MUST_CHECK;

/* Anonymous public-key encryption (crypto_box_seal: an ephemeral X25519
 * key, XSalsa20-Poly1305): out gets in_len + EV_BOX_SEAL_OVERHEAD bytes.
 * seal: 0, or -1 when pk is no usable key (a low-order point: the shared
 * key would be all zero; out wiped).  open: 0, or -1 when the box is not
 * for this key or was altered. */
#define EV_BOX_SEAL_OVERHEAD 48
int ev_box_seal(uint8_t *out, const uint8_t *in, size_t in_len,
                const uint8_t pk[EV_BOX_PK_BYTES]) EV_MUST_CHECK;
int ev_box_seal_open(uint8_t *out, const uint8_t *in, size_t in_len,
                     const uint8_t pk[EV_BOX_PK_BYTES],
                     const uint8_t sk[EV_BOX_SK_BYTES]) EV_MUST_CHECK;

/* Streaming unkeyed BLAKE2b-512 (minisign hashes whole files with it).
 * new: NULL when memory is short.  final, once: 0, or -1 when libsodium
 * refused (out wiped); a second final, or one after it, gives -1. */
typedef struct ev_blake2b_stream ev_blake2b_stream;
ev_blake2b_stream *ev_blake2b_stream_new(void);
void ev_blake2b_stream_update(ev_blake2b_stream *h, const void *in,
                              size_t n);
int ev_blake2b_stream_final(ev_blake2b_stream *h,
                            uint8_t out[64]) EV_MUST_CHECK;
void ev_blake2b_stream_free(ev_blake2b_stream *h);

/* ---- For the age format (age.c) ---- */

/* HMAC-SHA-256 (RFC 2104) under a key of any length.  0, or -1 when
 * libsodium failed (it does not: it returns 0 for every input) or key is
 * NULL with a length (out wiped). */
int ev_hmac_sha256(uint8_t out[32], const uint8_t *key, size_t key_len,
                   const void *in, size_t in_len) EV_MUST_CHECK;
/* HKDF-SHA-256 (RFC 5869) built on ev_hmac_sha256: Extract with salt
 * (salt_len 0: 32 zero bytes), then Expand with info into out_len bytes.
 * 0, or -1 when out_len is over 255 * 32 (nothing written) or HMAC
 * failed (out wiped). */
int ev_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *ikm,
                   size_t ikm_len, const uint8_t *salt, size_t salt_len,
                   const void *info, size_t info_len) EV_MUST_CHECK;
/* X25519 (RFC 7748).  ev_x25519: 0, or -1 when the shared secret is all
 * zero (pk is a low-order point; out is wiped).  ev_x25519_base: the
 * public key of sk; 0, or -1 when libsodium refused (pk wiped), which no
 * secret key makes it do. */
int ev_x25519(uint8_t out[32], const uint8_t sk[32],
              const uint8_t pk[32]) EV_MUST_CHECK;
int ev_x25519_base(uint8_t pk[32], const uint8_t sk[32]) EV_MUST_CHECK;
/* scrypt (RFC 7914) with N = 2^log_n.  0, or -1 when the parameters are
 * out of range or memory could not be had. */
int ev_scrypt(uint8_t *out, size_t out_len, const char *pass, size_t pass_len,
              const uint8_t *salt, size_t salt_len, unsigned log_n, uint32_t r,
              uint32_t p) EV_MUST_CHECK;
/* Standard base64 without '=' padding (RFC 4648 section 4, as age uses).
 * encode: out needs ev_base64_raw_len(n) bytes, NUL included; 0, or -1
 * when out_len is smaller (out then "").  decode: the byte count, or -1
 * on bad or non-canonical input (padding, nonzero trailing bits) or when
 * out_len is too small. */
size_t ev_base64_raw_len(size_t n);
int ev_base64_raw_encode(char *out, size_t out_len, const uint8_t *in,
                         size_t n) EV_MUST_CHECK;
long ev_base64_raw_decode(uint8_t *out, size_t out_len, const char *in,
                          size_t in_len) EV_MUST_CHECK;

#endif
