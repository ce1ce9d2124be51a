/*
 * minisign.h - minisign signatures (Ed25519), the text a court or partner
 * checks with the stock `minisign -V` tool.
 *
 *   public key:  base64("Ed" || keyid[8] || pk[32])            (56 chars)
 *   .pub file:   untrusted comment: <text>\n<public key>\n
 *   .minisig:    untrusted comment: <text>\n
 *                base64("ED" || keyid[8] || sig[64])\n         (100 chars)
 *                trusted comment: <text>\n
 *                base64(global[64])\n                          (88 chars)
 *   sig:         Ed25519(BLAKE2b-512(message))   ("ED", hashed)
 *                Ed25519(message)                ("Ed", legacy)
 *   global:      Ed25519(sig || trusted comment text)
 *
 * Only the hashed form is written; the legacy form is read on request.
 * Parsers take untrusted input: the four lines must be exactly there (LF
 * or CRLF endings, a missing final newline tolerated, nothing after),
 * base64 canonical and of the exact length, comments at most
 * EV_MINISIGN_COMMENT_MAX bytes, no NUL anywhere.  The untrusted comment
 * is not authenticated and never returned; the trusted comment is copied
 * out only after both signatures verify.  It may hold any bytes but CR,
 * LF and NUL (minisign's own default holds tabs): escape before display.
 */
#ifndef EV_MINISIGN_H
#define EV_MINISIGN_H

#include <stddef.h>
#include <stdint.h>

#define EV_MINISIGN_KEYID_BYTES 8
#define EV_MINISIGN_PK_BYTES 32
#define EV_MINISIGN_SK_BYTES 64
#define EV_MINISIGN_HASH_BYTES 64 /* BLAKE2b-512 of the message */
/* Bytes of a comment, NUL excluded (minisign allows 8192 in trusted
 * comments; evault reads and writes at most this). */
#define EV_MINISIGN_COMMENT_MAX 1024
/* The base64 public key line, NUL excluded. */
#define EV_MINISIGN_PUBKEY_CHARS 56
/* Buffer sizes (NUL included) that always suffice. */
#define EV_MINISIGN_PUBFILE_MAX                                                \
    (sizeof "untrusted comment: " - 1 + EV_MINISIGN_COMMENT_MAX + 1 +          \
     EV_MINISIGN_PUBKEY_CHARS + 1 + 1)
#define EV_MINISIGN_SIG_MAX                                                    \
    (sizeof "untrusted comment: " - 1 + EV_MINISIGN_COMMENT_MAX + 1 + 100 +    \
     1 + sizeof "trusted comment: " - 1 + EV_MINISIGN_COMMENT_MAX + 1 + 88 +   \
     1 + 1)

/* Results; values pinned. */
enum ev_minisign_err {
    EV_MS_OK = 0,        /* success */
    EV_MS_FORMAT = 1,    /* line structure, prefix, comment length or NUL */
    EV_MS_BASE64 = 2,    /* a base64 line is not canonical or not the
                            expected length */
    EV_MS_ALGORITHM = 3, /* unknown algorithm, or legacy "Ed" not allowed */
    EV_MS_KEYID = 4,     /* signed by another key */
    EV_MS_SIGNATURE = 5, /* the signature of the message fails: tampering */
    EV_MS_GLOBAL = 6,    /* the global signature fails: trusted comment
                            altered */
    EV_MS_NOMEM = 7,     /* out of memory, or the output buffer too small */
    EV_MS_LAST           /* never used */
};

/* A static message for an ev_minisign_err value. */
const char *ev_minisign_strerror(int err);

/* The public key line "RW..." (EV_MINISIGN_PUBKEY_CHARS + NUL bytes). */
int ev_minisign_pubkey_encode(char *out, size_t cap,
                              const uint8_t pk[EV_MINISIGN_PK_BYTES],
                              const uint8_t keyid[EV_MINISIGN_KEYID_BYTES]);
/* Accepts the bare base64 line (one line ending allowed after it) or
 * minisign's .pub file (untrusted comment line + key line). */
int ev_minisign_pubkey_decode(uint8_t pk[EV_MINISIGN_PK_BYTES],
                              uint8_t keyid[EV_MINISIGN_KEYID_BYTES],
                              const char *text, size_t len);
/* minisign's .pub file: "untrusted comment: <comment>\n<base64>\n".  A
 * NULL comment gives minisign's own: "minisign public key <KEYID>", the
 * keyid as a little-endian number in upper-case hex. */
int ev_minisign_pubkey_file(char *out, size_t cap,
                            const uint8_t pk[EV_MINISIGN_PK_BYTES],
                            const uint8_t keyid[EV_MINISIGN_KEYID_BYTES],
                            const char *comment);

/* Hashed ("ED") signature of msg, as minisign's .minisig file text
 * (NUL-terminated; EV_MINISIGN_SIG_MAX always suffices).  sk is an
 * Ed25519 secret key in libsodium's form (seed || pk).  Comments: at most
 * EV_MINISIGN_COMMENT_MAX bytes, no CR or LF (EV_MS_FORMAT); a NULL
 * untrusted comment gives "signature from evault secret key", a NULL
 * trusted comment an empty one. */
int ev_minisign_sign(char *out, size_t cap, const uint8_t *msg, size_t len,
                     const uint8_t sk[EV_MINISIGN_SK_BYTES],
                     const uint8_t keyid[EV_MINISIGN_KEYID_BYTES],
                     const char *untrusted_comment,
                     const char *trusted_comment);
/* The same from the message's BLAKE2b-512 (for large inputs: hash them
 * with crypto.h's ev_blake2b_stream, out_len 64). */
int ev_minisign_sign_hash(char *out, size_t cap,
                          const uint8_t blake2b512[EV_MINISIGN_HASH_BYTES],
                          const uint8_t sk[EV_MINISIGN_SK_BYTES],
                          const uint8_t keyid[EV_MINISIGN_KEYID_BYTES],
                          const char *untrusted_comment,
                          const char *trusted_comment);

/* Verifies sig (the .minisig text) over msg with pk and keyid; legacy
 * ("Ed", not hashed) signatures only when allow_legacy.  On EV_MS_OK the
 * trusted comment is copied to trusted_comment (NUL-terminated; NULL to
 * skip; EV_MINISIGN_COMMENT_MAX + 1 always suffices, less may give
 * EV_MS_NOMEM); on failure it is set to "" when tc_cap > 0.  Checks in
 * order: structure, algorithm, key id, signature, global signature. */
int ev_minisign_verify(const char *sig, size_t sig_len, const uint8_t *msg,
                       size_t msg_len, const uint8_t pk[EV_MINISIGN_PK_BYTES],
                       const uint8_t keyid[EV_MINISIGN_KEYID_BYTES],
                       int allow_legacy, char *trusted_comment, size_t tc_cap);
/* The same from the message's BLAKE2b-512.  Legacy signatures cannot be
 * checked from a hash: EV_MS_ALGORITHM. */
int ev_minisign_verify_hash(const char *sig, size_t sig_len,
                            const uint8_t blake2b512[EV_MINISIGN_HASH_BYTES],
                            const uint8_t pk[EV_MINISIGN_PK_BYTES],
                            const uint8_t keyid[EV_MINISIGN_KEYID_BYTES],
                            char *trusted_comment, size_t tc_cap);

/* A keyid for keys evault makes: the first 8 bytes of
 * BLAKE2b-256("evault minisign keyid" || pk).  0, or -1 when BLAKE2b
 * refused its lengths (it does not: they are constant). */
int ev_minisign_keyid(uint8_t keyid[EV_MINISIGN_KEYID_BYTES],
                      const uint8_t pk[EV_MINISIGN_PK_BYTES])
    __attribute__((warn_unused_result));

#endif
