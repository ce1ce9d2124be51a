/*
 * age.h - the age v1 file format (c2sp.org/age, age-encryption.org/v1):
 * streaming encryption to X25519 recipients, decryption with X25519
 * identities or a passphrase (scrypt stanzas), ASCII armor accepted on
 * input, and the Bech32 key encodings ("age1...", "AGE-SECRET-KEY-1...").
 *
 * Files written here decrypt with age and rage; files age writes decrypt
 * here.  Parsing is as strict as the spec: canonical unpadded base64,
 * 64-column stanza bodies ending with a shorter line, the recipient types'
 * argument checks, no data after the final chunk.  Memory stays flat
 * whatever the size: one 64 KiB chunk at a time.
 */
#ifndef EV_AGE_H
#define EV_AGE_H

#include <stddef.h>
#include <stdint.h>

/* Errors: each malformed thing has its own code (the CLI maps them to
 * messages with ev_age_strerror).  Values are pinned. */
enum ev_age_err {
    EV_AGE_OK = 0,          /* success */
    EV_AGE_HEADER = 1,      /* not an age v1 header: version line, a line
                               that is neither stanza nor MAC, no stanza,
                               more than 20 stanzas, over 64 KiB */
    EV_AGE_STANZA = 2,      /* a malformed recipient stanza: empty or
                               bad argument, body line over 64 columns or
                               not ended by a shorter line, X25519/scrypt
                               argument count or lengths, body not 32
                               bytes, low-order share, scrypt not alone */
    EV_AGE_BASE64 = 3,      /* base64 that is not canonical unpadded */
    EV_AGE_NO_IDENTITY = 4, /* no stanza opens with our identities (wrong
                               key or passphrase) */
    EV_AGE_MAC = 5,         /* the header MAC does not verify: altered */
    EV_AGE_CHUNK = 6,       /* a payload chunk fails to authenticate, or
                               is an empty final chunk after others */
    EV_AGE_TRUNCATED = 7,   /* the input ends early: inside the header,
                               before the payload nonce, inside a tag, or
                               without a final chunk */
    EV_AGE_TRAILING = 8,    /* data after a full-size final chunk (after
                               a shorter one, extra bytes make that chunk
                               fail: EV_AGE_CHUNK) */
    EV_AGE_SCRYPT_WORK = 9, /* scrypt work factor over 2^22 */
    EV_AGE_IO = 10,         /* the read or write callback failed, or a
                               call on a finished writer */
    EV_AGE_NOMEM = 11,      /* out of memory */
    EV_AGE_ARMOR = 12,      /* malformed ASCII armor */
    EV_AGE_KEY = 13,        /* a malformed recipient or identity string,
                               an identity file without a key, a
                               low-order recipient, no (or over 20)
                               recipients, an output buffer too small */
    EV_AGE_LAST             /* never used: the number of codes */
};

/* A short description of an ev_age_err; never NULL. */
const char *ev_age_strerror(int err);

/* Encoded key lengths, without the NUL. */
#define EV_AGE_RECIPIENT_CHARS 62 /* "age1" + 52 + 6 */
#define EV_AGE_IDENTITY_CHARS 74  /* "AGE-SECRET-KEY-1" + 52 + 6 */
#define EV_AGE_MAX_RECIPIENTS 20  /* also the most stanzas read */
#define EV_AGE_MAX_SCRYPT_LOG_N 22

/* Output and input callbacks: 0 or an errno.  A read callback sets *got
 * to the bytes it put in p (at most cap); *got 0 means the end. */
typedef int (*ev_age_write_fn)(void *ctx, const uint8_t *p, size_t n);
typedef int (*ev_age_read_fn)(void *ctx, uint8_t *p, size_t cap, size_t *got);

/* --- Encryption --- */

typedef struct ev_age_writer ev_age_writer;

/* A writer to n X25519 recipients (32-byte public keys, 1..20); writes
 * the header and the payload nonce at once.  On failure *w is NULL. */
int ev_age_writer_new(ev_age_writer **w, const uint8_t (*recipients)[32],
                      size_t n, ev_age_write_fn out, void *ctx);
/* Encrypts n bytes; whole 64 KiB chunks go out as soon as more data
 * follows them.  The first failure sticks. */
int ev_age_write(ev_age_writer *w, const uint8_t *p, size_t n);
/* Writes the last chunk (empty only if nothing was written).  Nothing can
 * be written after it. */
int ev_age_finish(ev_age_writer *w);
/* Wipes and frees.  NULL ok.  Without ev_age_finish the output has no
 * final chunk, and readers refuse it. */
void ev_age_writer_free(ev_age_writer *w);

/* --- Decryption --- */

typedef struct ev_age_identity {
    int kind;               /* EV_AGE_ID_X25519 or EV_AGE_ID_SCRYPT */
    uint8_t x25519_sk[32];  /* for X25519 */
    const char *passphrase; /* for scrypt */
    size_t passphrase_len;
} ev_age_identity;
enum { EV_AGE_ID_X25519 = 1, EV_AGE_ID_SCRYPT = 2 };

typedef struct ev_age_reader ev_age_reader;

/* Reads and checks the whole header (armored input is detected and
 * accepted), finds a stanza that one identity opens, verifies the header
 * MAC and reads the payload nonce.  On failure *r is NULL. */
int ev_age_reader_new(ev_age_reader **r, const ev_age_identity *ids, size_t n,
                      ev_age_read_fn in, void *ctx);
/* Whether the file's header (armored or not) is a passphrase's: EV_AGE_OK
 * when it has an scrypt stanza, EV_AGE_NO_IDENTITY when its stanzas are
 * for other recipients, else why the header is malformed.  Nothing is
 * derived or decrypted. */
int ev_age_header_scrypt(ev_age_read_fn in, void *ctx);
/* Up to cap (> 0) bytes of plaintext, only from chunks whose tag
 * verified; *got 0 at the authenticated end.  EV_AGE_TRUNCATED if the
 * stream ends without a final chunk, EV_AGE_TRAILING for data after a
 * full-size final chunk (after a shorter one, extra bytes make that chunk
 * fail: EV_AGE_CHUNK).  The first failure sticks. */
int ev_age_read(ev_age_reader *r, uint8_t *buf, size_t cap, size_t *got);
/* Wipes and frees.  NULL ok. */
void ev_age_reader_free(ev_age_reader *r);

/* --- Keys: Bech32 (BIP 173, no length limit) --- */

/* "age1..." in lowercase; cap > EV_AGE_RECIPIENT_CHARS. */
int ev_age_recipient_encode(char *out, size_t cap, const uint8_t pk[32]);
/* 0 or EV_AGE_KEY (lowercase only, as age). */
int ev_age_recipient_decode(uint8_t pk[32], const char *s);
/* "AGE-SECRET-KEY-1..." in uppercase; cap > EV_AGE_IDENTITY_CHARS. */
int ev_age_identity_encode(char *out, size_t cap, const uint8_t sk[32]);
/* 0 or EV_AGE_KEY (uppercase only, as age). */
int ev_age_identity_decode(uint8_t sk[32], const char *s);
/* An identity file as age-keygen writes it: '#' comments and blank lines
 * are skipped, every other line must be an AGE-SECRET-KEY-1 identity
 * (LF or CRLF); the first one is returned.  0 or EV_AGE_KEY. */
int ev_age_identity_file_parse(uint8_t sk[32], const char *text, size_t len);

#endif
