/*
 * minisign.c - minisign public keys and signatures (format in minisign.h).
 *
 * Owns: the minisign text encodings, their strict parsing, and the order
 * of checks (algorithm, key id, signature, global signature).
 * Never: trusts the trusted comment before the global signature verifies,
 * returns the untrusted comment, reads past the length it was given, or
 * writes a legacy ("Ed") signature.
 */
#include "minisign.h"

#include "crypto.h"

#include <stdio.h>
#include <string.h>

#define ALG_BYTES 2
#define SIG_BYTES 64
#define PUBKEY_BIN (ALG_BYTES + EV_MINISIGN_KEYID_BYTES + EV_MINISIGN_PK_BYTES)
#define SIGLINE_BIN (ALG_BYTES + EV_MINISIGN_KEYID_BYTES + SIG_BYTES)
#define SIGLINE_CHARS 100
#define GLOBAL_CHARS 88

_Static_assert(PUBKEY_BIN == 42, "public key layout");
_Static_assert(SIGLINE_BIN == 74, "signature layout");
_Static_assert(EV_MINISIGN_PUBKEY_CHARS == (PUBKEY_BIN + 2) / 3 * 4,
               "public key line length");
_Static_assert(SIGLINE_CHARS == (SIGLINE_BIN + 2) / 3 * 4,
               "signature line length");
_Static_assert(GLOBAL_CHARS == (SIG_BYTES + 2) / 3 * 4,
               "global signature line length");

static const char untrusted_prefix[] = "untrusted comment: ";
static const char trusted_prefix[] = "trusted comment: ";
static const char alg_pubkey[ALG_BYTES] = {'E', 'd'};
static const char alg_legacy[ALG_BYTES] = {'E', 'd'};
static const char alg_hashed[ALG_BYTES] = {'E', 'D'};
static const char keyid_context[] = "evault minisign keyid";
static const char default_sig_comment[] = "signature from evault secret key";

#define PREFIX_LEN(p) (sizeof(p) - 1)
/* Input caps: the largest file we write, plus a CR on every line. */
#define PUBFILE_IN_MAX (EV_MINISIGN_PUBFILE_MAX + 2)
#define SIG_IN_MAX (EV_MINISIGN_SIG_MAX + 4)

const char *
ev_minisign_strerror(int err)
{
    switch ((enum ev_minisign_err)err) {
    case EV_MS_OK:
        return "success";
    case EV_MS_FORMAT:
        return "malformed minisign text";
    case EV_MS_BASE64:
        return "bad base64 in minisign text";
    case EV_MS_ALGORITHM:
        return "unsupported or refused minisign signature algorithm";
    case EV_MS_KEYID:
        return "signed by another key";
    case EV_MS_SIGNATURE:
        return "signature verification failed";
    case EV_MS_GLOBAL:
        return "trusted comment signature verification failed";
    case EV_MS_NOMEM:
        return "out of memory or buffer too small";
    case EV_MS_LAST:
        break;
    }
    return "unknown minisign error";
}

/* A comment we are asked to write: bounded, one line. */
static int
comment_ok(const char *c, size_t *n)
{
    *n = strlen(c);
    return *n <= EV_MINISIGN_COMMENT_MAX && memchr(c, '\n', *n) == NULL &&
           memchr(c, '\r', *n) == NULL;
}

/*
 * Line reader over untrusted text.  A line ends at LF, or CRLF; the last
 * line may end at the end of the text.  A CR anywhere else is refused.
 * Returns 1 with the line in *line and *n, 0 at the end of the text, -1 on a
 * stray CR.
 */
struct reader {
    const char *p;
    size_t len, pos;
};

static int
next_line(struct reader *r, const char **line, size_t *n)
{
    const char *start = r->p + r->pos, *nl, *cr;
    size_t left = r->len - r->pos, body;

    if (left == 0) {
        return 0;
    }
    nl = memchr(start, '\n', left);
    body = nl != NULL ? (size_t)(nl - start) : left;
    r->pos += nl != NULL ? body + 1 : body;
    if (nl != NULL && body > 0 && start[body - 1] == '\r') {
        body--;
    }
    cr = memchr(start, '\r', body);
    if (cr != NULL) {
        return -1;
    }
    *line = start;
    *n = body;
    return 1;
}

/* Reads "<prefix><comment>" as a whole line; the comment goes to *c. */
static int
comment_line(struct reader *r, const char *prefix, size_t plen, const char **c,
             size_t *cn)
{
    const char *line;
    size_t n;

    if (next_line(r, &line, &n) != 1 || n < plen ||
        memcmp(line, prefix, plen) != 0 || n - plen > EV_MINISIGN_COMMENT_MAX) {
        return EV_MS_FORMAT;
    }
    *c = line + plen;
    *cn = n - plen;
    return EV_MS_OK;
}

/* Only RFC 4648's alphabet: libsodium 1.0.18 reads any byte >= 0x80 as
 * '/', which would let two texts carry one signature. */
static int
base64_chars_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=')) {
            return 0;
        }
    }
    return 1;
}

/* Reads a base64 line that must decode to exactly want bytes. */
static int
base64_line(struct reader *r, uint8_t *out, size_t want)
{
    const char *line;
    size_t n;

    if (next_line(r, &line, &n) != 1) {
        return EV_MS_FORMAT;
    }
    if (n != ev_base64_len(want) - 1 || !base64_chars_ok(line, n) ||
        ev_base64_decode(out, want, line, n) != (long)want) {
        return EV_MS_BASE64;
    }
    return EV_MS_OK;
}

int
ev_minisign_pubkey_encode(char *out, size_t cap,
                          const uint8_t pk[EV_MINISIGN_PK_BYTES],
                          const uint8_t keyid[EV_MINISIGN_KEYID_BYTES])
{
    uint8_t bin[PUBKEY_BIN];

    if (cap < EV_MINISIGN_PUBKEY_CHARS + 1) {
        return EV_MS_NOMEM;
    }
    memcpy(bin, alg_pubkey, ALG_BYTES);
    memcpy(bin + ALG_BYTES, keyid, EV_MINISIGN_KEYID_BYTES);
    memcpy(bin + ALG_BYTES + EV_MINISIGN_KEYID_BYTES, pk, EV_MINISIGN_PK_BYTES);
    if (ev_base64_encode(out, cap, bin, sizeof bin) != 0) {
        return EV_MS_NOMEM;
    }
    return EV_MS_OK;
}

int
ev_minisign_pubkey_decode(uint8_t pk[EV_MINISIGN_PK_BYTES],
                          uint8_t keyid[EV_MINISIGN_KEYID_BYTES],
                          const char *text, size_t len)
{
    struct reader r = {text, len, 0};
    uint8_t bin[PUBKEY_BIN];
    const char *c, *extra;
    size_t cn, en;
    int rc;

    if (len > PUBFILE_IN_MAX || memchr(text, '\0', len) != NULL) {
        return EV_MS_FORMAT;
    }
    if (len >= PREFIX_LEN(untrusted_prefix) &&
        memcmp(text, untrusted_prefix, PREFIX_LEN(untrusted_prefix)) == 0) {
        rc = comment_line(&r, untrusted_prefix, PREFIX_LEN(untrusted_prefix),
                          &c, &cn);
        if (rc != EV_MS_OK) {
            return rc;
        }
    }
    rc = base64_line(&r, bin, sizeof bin);
    if (rc != EV_MS_OK) {
        return rc;
    }
    if (next_line(&r, &extra, &en) != 0) {
        return EV_MS_FORMAT;
    }
    if (memcmp(bin, alg_pubkey, ALG_BYTES) != 0) {
        return EV_MS_ALGORITHM;
    }
    memcpy(keyid, bin + ALG_BYTES, EV_MINISIGN_KEYID_BYTES);
    memcpy(pk, bin + ALG_BYTES + EV_MINISIGN_KEYID_BYTES, EV_MINISIGN_PK_BYTES);
    return EV_MS_OK;
}

int
ev_minisign_pubkey_file(char *out, size_t cap,
                        const uint8_t pk[EV_MINISIGN_PK_BYTES],
                        const uint8_t keyid[EV_MINISIGN_KEYID_BYTES],
                        const char *comment)
{
    char key[EV_MINISIGN_PUBKEY_CHARS + 1];
    static const char hex[] = "0123456789ABCDEF";
    static const char dflt_prefix[] = "minisign public key ";
    char dflt[sizeof dflt_prefix + 2 * EV_MINISIGN_KEYID_BYTES];
    size_t cn;
    int n;

    if (comment == NULL) {
        /* minisign prints the keyid as a little-endian 64-bit number */
        memcpy(dflt, dflt_prefix, PREFIX_LEN(dflt_prefix));
        for (int i = 0; i < EV_MINISIGN_KEYID_BYTES; i++) {
            uint8_t b = keyid[EV_MINISIGN_KEYID_BYTES - 1 - i];
            char *d = dflt + PREFIX_LEN(dflt_prefix) + 2 * i;
            d[0] = hex[b >> 4];
            d[1] = hex[b & 15];
        }
        dflt[sizeof dflt - 1] = '\0';
        comment = dflt;
    }
    if (!comment_ok(comment, &cn)) {
        return EV_MS_FORMAT;
    }
    if (ev_minisign_pubkey_encode(key, sizeof key, pk, keyid) != EV_MS_OK) {
        return EV_MS_NOMEM;
    }
    n = snprintf(out, cap, "%s%s\n%s\n", untrusted_prefix, comment, key);
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0) {
            out[0] = '\0';
        }
        return EV_MS_NOMEM;
    }
    return EV_MS_OK;
}

int
ev_minisign_sign_hash(char *out, size_t cap,
                      const uint8_t blake2b512[EV_MINISIGN_HASH_BYTES],
                      const uint8_t sk[EV_MINISIGN_SK_BYTES],
                      const uint8_t keyid[EV_MINISIGN_KEYID_BYTES],
                      const char *untrusted_comment,
                      const char *trusted_comment)
{
    uint8_t bin[SIGLINE_BIN], global[SIG_BYTES];
    uint8_t signed_tc[SIG_BYTES + EV_MINISIGN_COMMENT_MAX];
    char sig_b64[SIGLINE_CHARS + 1], global_b64[GLOBAL_CHARS + 1];
    uint8_t *sig = bin + ALG_BYTES + EV_MINISIGN_KEYID_BYTES;
    size_t un, tn;
    int n;

    if (cap > 0) {
        out[0] = '\0';
    }
    if (untrusted_comment == NULL) {
        untrusted_comment = default_sig_comment;
    }
    if (trusted_comment == NULL) {
        trusted_comment = "";
    }
    if (!comment_ok(untrusted_comment, &un) ||
        !comment_ok(trusted_comment, &tn)) {
        return EV_MS_FORMAT;
    }
    memcpy(bin, alg_hashed, ALG_BYTES);
    memcpy(bin + ALG_BYTES, keyid, EV_MINISIGN_KEYID_BYTES);
    ev_sign(sig, blake2b512, EV_MINISIGN_HASH_BYTES, sk);
    memcpy(signed_tc, sig, SIG_BYTES);
    memcpy(signed_tc + SIG_BYTES, trusted_comment, tn);
    ev_sign(global, signed_tc, SIG_BYTES + tn, sk);
    if (ev_base64_encode(sig_b64, sizeof sig_b64, bin, sizeof bin) != 0 ||
        ev_base64_encode(global_b64, sizeof global_b64, global,
                         sizeof global) != 0) {
        return EV_MS_NOMEM;
    }
    n = snprintf(out, cap, "%s%s\n%s\n%s%s\n%s\n", untrusted_prefix,
                 untrusted_comment, sig_b64, trusted_prefix, trusted_comment,
                 global_b64);
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0) {
            out[0] = '\0';
        }
        return EV_MS_NOMEM;
    }
    return EV_MS_OK;
}

int
ev_minisign_sign(char *out, size_t cap, const uint8_t *msg, size_t len,
                 const uint8_t sk[EV_MINISIGN_SK_BYTES],
                 const uint8_t keyid[EV_MINISIGN_KEYID_BYTES],
                 const char *untrusted_comment, const char *trusted_comment)
{
    uint8_t h[EV_MINISIGN_HASH_BYTES];

    if (cap > 0) {
        out[0] = '\0';
    }
    if (ev_blake2b(h, sizeof h, NULL, 0, msg, len) != 0) {
        return EV_MS_NOMEM; /* libsodium failed */
    }
    return ev_minisign_sign_hash(out, cap, h, sk, keyid, untrusted_comment,
                                 trusted_comment);
}

/* A parsed .minisig; tc points into the input. */
struct parsed_sig {
    uint8_t bin[SIGLINE_BIN]; /* alg || keyid || sig */
    uint8_t global[SIG_BYTES];
    const char *tc;
    size_t tc_len;
};

static int
parse_sig(struct parsed_sig *s, const char *text, size_t len)
{
    struct reader r = {text, len, 0};
    const char *uc, *extra;
    size_t un, en;
    int rc;

    if (len > SIG_IN_MAX || memchr(text, '\0', len) != NULL) {
        return EV_MS_FORMAT;
    }
    rc = comment_line(&r, untrusted_prefix, PREFIX_LEN(untrusted_prefix), &uc,
                      &un);
    if (rc == EV_MS_OK) {
        rc = base64_line(&r, s->bin, sizeof s->bin);
    }
    if (rc == EV_MS_OK) {
        rc = comment_line(&r, trusted_prefix, PREFIX_LEN(trusted_prefix),
                          &s->tc, &s->tc_len);
    }
    if (rc == EV_MS_OK) {
        rc = base64_line(&r, s->global, sizeof s->global);
    }
    if (rc == EV_MS_OK && next_line(&r, &extra, &en) != 0) {
        rc = EV_MS_FORMAT;
    }
    return rc;
}

/* Everything after the message check: the global signature, then the
 * trusted comment out. */
static int
check_global(const struct parsed_sig *s, const uint8_t pk[EV_MINISIGN_PK_BYTES],
             char *tc, size_t tc_cap)
{
    uint8_t signed_tc[SIG_BYTES + EV_MINISIGN_COMMENT_MAX];

    memcpy(signed_tc, s->bin + ALG_BYTES + EV_MINISIGN_KEYID_BYTES, SIG_BYTES);
    memcpy(signed_tc + SIG_BYTES, s->tc, s->tc_len);
    if (ev_sign_verify(s->global, signed_tc, SIG_BYTES + s->tc_len, pk) != 0) {
        return EV_MS_GLOBAL;
    }
    if (tc != NULL) {
        if (tc_cap < s->tc_len + 1) {
            return EV_MS_NOMEM;
        }
        memcpy(tc, s->tc, s->tc_len);
        tc[s->tc_len] = '\0';
    }
    return EV_MS_OK;
}

/* Parses, then checks algorithm and key id; *hashed tells the form. */
static int
open_sig(struct parsed_sig *s, int *hashed, const char *sig, size_t sig_len,
         const uint8_t keyid[EV_MINISIGN_KEYID_BYTES], int allow_legacy)
{
    int rc = parse_sig(s, sig, sig_len);

    if (rc != EV_MS_OK) {
        return rc;
    }
    if (memcmp(s->bin, alg_hashed, ALG_BYTES) == 0) {
        *hashed = 1;
    } else if (allow_legacy && memcmp(s->bin, alg_legacy, ALG_BYTES) == 0) {
        *hashed = 0;
    } else {
        return EV_MS_ALGORITHM;
    }
    if (memcmp(s->bin + ALG_BYTES, keyid, EV_MINISIGN_KEYID_BYTES) != 0) {
        return EV_MS_KEYID;
    }
    return EV_MS_OK;
}

int
ev_minisign_verify(const char *sig, size_t sig_len, const uint8_t *msg,
                   size_t msg_len, const uint8_t pk[EV_MINISIGN_PK_BYTES],
                   const uint8_t keyid[EV_MINISIGN_KEYID_BYTES],
                   int allow_legacy, char *trusted_comment, size_t tc_cap)
{
    struct parsed_sig s;
    uint8_t h[EV_MINISIGN_HASH_BYTES];
    const uint8_t *sig64 = s.bin + ALG_BYTES + EV_MINISIGN_KEYID_BYTES;
    int hashed = 0, rc;

    if (trusted_comment != NULL && tc_cap > 0) {
        trusted_comment[0] = '\0';
    }
    rc = open_sig(&s, &hashed, sig, sig_len, keyid, allow_legacy);
    if (rc != EV_MS_OK) {
        return rc;
    }
    if (hashed) {
        if (ev_blake2b(h, sizeof h, NULL, 0, msg, msg_len) != 0) {
            return EV_MS_NOMEM; /* libsodium failed */
        }
        rc = ev_sign_verify(sig64, h, sizeof h, pk);
    } else {
        rc = ev_sign_verify(sig64, msg, msg_len, pk);
    }
    if (rc != 0) {
        return EV_MS_SIGNATURE;
    }
    return check_global(&s, pk, trusted_comment, tc_cap);
}

int
ev_minisign_verify_hash(const char *sig, size_t sig_len,
                        const uint8_t blake2b512[EV_MINISIGN_HASH_BYTES],
                        const uint8_t pk[EV_MINISIGN_PK_BYTES],
                        const uint8_t keyid[EV_MINISIGN_KEYID_BYTES],
                        char *trusted_comment, size_t tc_cap)
{
    struct parsed_sig s;
    int hashed = 0, rc;

    if (trusted_comment != NULL && tc_cap > 0) {
        trusted_comment[0] = '\0';
    }
    rc = open_sig(&s, &hashed, sig, sig_len, keyid, 0);
    if (rc != EV_MS_OK) {
        return rc;
    }
    if (ev_sign_verify(s.bin + ALG_BYTES + EV_MINISIGN_KEYID_BYTES, blake2b512,
                       EV_MINISIGN_HASH_BYTES, pk) != 0) {
        return EV_MS_SIGNATURE;
    }
    return check_global(&s, pk, trusted_comment, tc_cap);
}

int
ev_minisign_keyid(uint8_t keyid[EV_MINISIGN_KEYID_BYTES],
                  const uint8_t pk[EV_MINISIGN_PK_BYTES])
{
    uint8_t buf[sizeof keyid_context - 1 + EV_MINISIGN_PK_BYTES], h[32];

    memcpy(buf, keyid_context, sizeof keyid_context - 1);
    memcpy(buf + sizeof keyid_context - 1, pk, EV_MINISIGN_PK_BYTES);
    if (ev_blake2b(h, sizeof h, NULL, 0, buf, sizeof buf) != 0) {
        return -1;
    }
    memcpy(keyid, h, EV_MINISIGN_KEYID_BYTES);
    return 0;
}
