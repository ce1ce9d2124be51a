/*
 * age.c - the age v1 file format (see age.h, c2sp.org/age).
 *
 * Owns: the age header (version line, recipient stanzas, MAC), the STREAM
 * payload, the ASCII armor decoder on input and the Bech32 key encodings.
 * Never: releases plaintext whose tag has not verified, holds more than one
 * 64 KiB chunk, keeps a key outside sodium_malloc'd memory or a wiped
 * stack, calls a primitive other than through crypto.h.
 *
 * Format:
 *   age-encryption.org/v1 LF
 *   "-> X25519 " base64(share) LF base64(body) LF       1..20 stanzas
 *   "--- " base64(HMAC-SHA-256(HKDF(file key, "", "header"),
 *                              header up to and including "---")) LF
 *   nonce[16]
 *   chunks: ChaCha20-Poly1305(HKDF(file key, nonce, "payload"),
 *           counter[11] || last[1], 64 KiB of plaintext; the last shorter
 *           and marked, empty only when it is the only one)
 * base64 is unpadded and canonical; stanza bodies are wrapped at 64
 * columns and end with a shorter (maybe empty) line.
 */
#include "age.h"

#include "crypto.h"

#include <stdlib.h>
#include <string.h>

#define FILE_KEY_BYTES 16
#define WRAPPED_BYTES (FILE_KEY_BYTES + EV_TAG_BYTES) /* a stanza body */
#define CHUNK_BYTES 65536
#define SEALED_BYTES (CHUNK_BYTES + EV_TAG_BYTES)
#define PAYLOAD_NONCE_BYTES 16
#define MAX_HEADER 65536
#define COLS 64       /* base64 columns of a full line */
#define COLS_BYTES 48 /* the bytes of a full line */
#define SHARE_B64 43  /* 32 bytes */
#define SALT_B64 22   /* 16 bytes */
#define RAW_BUF 16384
#define ARMOR_WS_MAX 1024 /* whitespace allowed around the armor */

static const char version_line[] = "age-encryption.org/v1\n";
static const char x25519_info[] = "age-encryption.org/v1/X25519";
static const char scrypt_label[] = "age-encryption.org/v1/scrypt";
static const char armor_begin[] = "-----BEGIN AGE ENCRYPTED FILE-----";
static const char armor_end[] = "-----END AGE ENCRYPTED FILE-----";
static const uint8_t zero_nonce[EV_CHUNK_NONCE_BYTES];

#define SCRYPT_SALT_BYTES (sizeof scrypt_label - 1 + 16)

/* Header of one writer: version, n stanzas, MAC line, payload nonce. */
#define STANZA_CHARS (sizeof "-> X25519 " - 1 + SHARE_B64 + 1 + SHARE_B64 + 1)
#define WRITER_HEADER_CHARS                                                    \
    (sizeof version_line - 1 + EV_AGE_MAX_RECIPIENTS * STANZA_CHARS +          \
     sizeof "--- " - 1 + SHARE_B64 + 1 + PAYLOAD_NONCE_BYTES)

_Static_assert(EV_CHUNK_NONCE_BYTES == 12, "STREAM nonce is 12 bytes");
_Static_assert(EV_TAG_BYTES == 16, "Poly1305 tag");

const char *
ev_age_strerror(int err)
{
    switch ((enum ev_age_err)err) {
    case EV_AGE_OK:
        return "success";
    case EV_AGE_HEADER:
        return "not an age v1 file (malformed header)";
    case EV_AGE_STANZA:
        return "malformed recipient stanza in the age header";
    case EV_AGE_BASE64:
        return "non-canonical base64 in the age header";
    case EV_AGE_NO_IDENTITY:
        return "no identity matched: wrong key or passphrase";
    case EV_AGE_MAC:
        return "age header MAC does not verify: the header was altered";
    case EV_AGE_CHUNK:
        return "age payload chunk does not authenticate: the file was "
               "altered or cut";
    case EV_AGE_TRUNCATED:
        return "age file is truncated";
    case EV_AGE_TRAILING:
        return "trailing data after the end of the age file";
    case EV_AGE_SCRYPT_WORK:
        return "scrypt work factor too high (over 2^22)";
    case EV_AGE_IO:
        return "input/output error";
    case EV_AGE_NOMEM:
        return "out of memory";
    case EV_AGE_ARMOR:
        return "malformed age ASCII armor";
    case EV_AGE_KEY:
        return "malformed age recipient or identity";
    case EV_AGE_LAST:
        break;
    }
    return "unknown error";
}

/* ===================================================================
 * Secrets: one sodium_malloc'd block per operation.
 * =================================================================== */

struct age_secrets {
    uint8_t file_key[FILE_KEY_BYTES];
    uint8_t eph[32];    /* writer: ephemeral secret */
    uint8_t shared[32]; /* X25519 shared secret */
    uint8_t wrap_key[32];
    uint8_t mac_key[32];
    uint8_t mac[32];
};

static struct age_secrets *
secrets_new(void)
{
    struct age_secrets *s = ev_secure_alloc(sizeof *s);

    if (s != NULL) {
        memset(s, 0, sizeof *s);
    }
    return s;
}

static void
secrets_free(struct age_secrets *s)
{
    if (s != NULL) {
        ev_wipe(s, sizeof *s);
        ev_secure_free(s);
    }
}

/* The three derivations below return 0, or -1 when HKDF or HMAC failed
 * (they do not: their lengths are constant and libsodium's HMAC returns
 * 0), which the callers report as EV_AGE_NOMEM. */

/* The header MAC of hdr[0..len) under the file key. */
static int
header_mac(uint8_t mac[32], struct age_secrets *s, const char *hdr, size_t len)
{
    if (ev_hkdf_sha256(s->mac_key, sizeof s->mac_key, s->file_key,
                       FILE_KEY_BYTES, NULL, 0, "header", 6) != 0) {
        return -1;
    }
    return ev_hmac_sha256(mac, s->mac_key, sizeof s->mac_key, hdr, len);
}

static int
payload_key(uint8_t key[EV_KEY_BYTES], const uint8_t file_key[16],
            const uint8_t nonce[PAYLOAD_NONCE_BYTES])
{
    return ev_hkdf_sha256(key, EV_KEY_BYTES, file_key, FILE_KEY_BYTES, nonce,
                          PAYLOAD_NONCE_BYTES, "payload", 7);
}

/* wrap key = HKDF(shared, share || recipient, "age-encryption.org/v1/X25519")
 */
static int
x25519_wrap_key(struct age_secrets *s, const uint8_t share[32],
                const uint8_t recipient[32])
{
    uint8_t salt[64];

    memcpy(salt, share, 32);
    memcpy(salt + 32, recipient, 32);
    return ev_hkdf_sha256(s->wrap_key, sizeof s->wrap_key, s->shared,
                          sizeof s->shared, salt, sizeof salt, x25519_info,
                          sizeof x25519_info - 1);
}

/* ===================================================================
 * Writer
 * =================================================================== */

struct ev_age_writer {
    ev_age_write_fn out;
    void *ctx;
    uint8_t *key; /* payload key, sodium_malloc'd */
    uint64_t counter;
    uint8_t *plain; /* CHUNK_BYTES of pending plaintext */
    size_t plain_len;
    uint8_t *sealed; /* SEALED_BYTES */
    int err;         /* sticky */
    int finished;
};

static size_t
append(char *dst, size_t len, const void *src, size_t n)
{
    memcpy(dst + len, src, n);
    return len + n;
}

/* Appends the base64 of in (at most COLS_BYTES: one line); *bad is set
 * when it does not fit, which the callers' sizes rule out. */
static size_t
append_b64(char *dst, size_t len, const uint8_t *in, size_t n, int *bad)
{
    char b[COLS + 1];

    if (ev_base64_raw_encode(b, sizeof b, in, n) != 0) {
        *bad = 1;
        return len;
    }
    return append(dst, len, b, strlen(b));
}

int
ev_age_writer_new(ev_age_writer **wp, const uint8_t (*recipients)[32], size_t n,
                  ev_age_write_fn out, void *ctx)
{
    char hdr[WRITER_HEADER_CHARS];
    uint8_t share[32], body[WRAPPED_BYTES], nonce[PAYLOAD_NONCE_BYTES];
    struct age_secrets *s = NULL;
    ev_age_writer *w = NULL;
    size_t len = 0;
    int rc = EV_AGE_NOMEM, bad = 0;

    *wp = NULL;
    if (n == 0 || n > EV_AGE_MAX_RECIPIENTS || recipients == NULL ||
        out == NULL) {
        return EV_AGE_KEY;
    }
    w = calloc(1, sizeof *w);
    s = secrets_new();
    if (w == NULL || s == NULL) {
        goto cleanup;
    }
    w->out = out;
    w->ctx = ctx;
    w->key = ev_secure_alloc(EV_KEY_BYTES);
    w->plain = malloc(CHUNK_BYTES);
    w->sealed = malloc(SEALED_BYTES);
    if (w->key == NULL || w->plain == NULL || w->sealed == NULL) {
        goto cleanup;
    }

    ev_random(s->file_key, FILE_KEY_BYTES);
    len = append(hdr, len, version_line, sizeof version_line - 1);
    for (size_t i = 0; i < n; i++) {
        ev_random(s->eph, sizeof s->eph);
        if (ev_x25519_base(share, s->eph) != 0) {
            rc = EV_AGE_NOMEM; /* libsodium failed */
            goto cleanup;
        }
        if (ev_x25519(s->shared, s->eph, recipients[i]) != 0) {
            rc = EV_AGE_KEY; /* a low-order point is no recipient */
            goto cleanup;
        }
        if (x25519_wrap_key(s, share, recipients[i]) != 0 ||
            ev_chunk_seal(body, s->file_key, FILE_KEY_BYTES, zero_nonce, NULL,
                          0, s->wrap_key) != 0) {
            rc = EV_AGE_NOMEM; /* libsodium or libcrypto failed */
            goto cleanup;
        }
        len = append(hdr, len, "-> X25519 ", 10);
        len = append_b64(hdr, len, share, sizeof share, &bad);
        len = append(hdr, len, "\n", 1);
        /* 43 < 64 columns */
        len = append_b64(hdr, len, body, sizeof body, &bad);
        len = append(hdr, len, "\n", 1);
    }
    len = append(hdr, len, "---", 3);
    if (header_mac(s->mac, s, hdr, len) != 0) {
        rc = EV_AGE_NOMEM; /* libsodium failed */
        goto cleanup;
    }
    len = append(hdr, len, " ", 1);
    len = append_b64(hdr, len, s->mac, sizeof s->mac, &bad);
    len = append(hdr, len, "\n", 1);
    if (bad) {
        rc = EV_AGE_KEY; /* a header line over its buffer */
        goto cleanup;
    }
    ev_random(nonce, sizeof nonce);
    len = append(hdr, len, nonce, sizeof nonce);
    if (payload_key(w->key, s->file_key, nonce) != 0) {
        rc = EV_AGE_NOMEM; /* libsodium failed */
        goto cleanup;
    }

    rc = out(ctx, (const uint8_t *)hdr, len) == 0 ? EV_AGE_OK : EV_AGE_IO;
cleanup:
    secrets_free(s);
    ev_wipe(share, sizeof share);
    if (rc == EV_AGE_OK) {
        *wp = w;
    } else {
        ev_age_writer_free(w);
    }
    return rc;
}

static int
seal_chunk(ev_age_writer *w, int last)
{
    uint8_t nonce[EV_CHUNK_NONCE_BYTES];

    ev_chunk_nonce(nonce, w->counter, last);
    if (ev_chunk_seal(w->sealed, w->plain, w->plain_len, nonce, NULL, 0,
                      w->key) != 0) {
        /* libcrypto failed (w->sealed is wiped); the error sticks, so no
         * other chunk is sealed under this nonce */
        return EV_AGE_NOMEM;
    }
    w->counter++;
    if (w->out(w->ctx, w->sealed, w->plain_len + EV_TAG_BYTES) != 0) {
        return EV_AGE_IO;
    }
    w->plain_len = 0;
    return EV_AGE_OK;
}

int
ev_age_write(ev_age_writer *w, const uint8_t *p, size_t n)
{
    if (w->err != EV_AGE_OK) {
        return w->err;
    }
    if (w->finished) {
        return EV_AGE_IO;
    }
    while (n > 0) {
        size_t take;
        /* A full chunk goes out only once more data follows it: the
         * final chunk may be a full one, and must then be marked last. */
        if (w->plain_len == CHUNK_BYTES) {
            w->err = seal_chunk(w, 0);
            if (w->err != EV_AGE_OK) {
                return w->err;
            }
        }
        take = CHUNK_BYTES - w->plain_len < n ? CHUNK_BYTES - w->plain_len : n;
        memcpy(w->plain + w->plain_len, p, take);
        w->plain_len += take;
        p += take;
        n -= take;
    }
    return EV_AGE_OK;
}

int
ev_age_finish(ev_age_writer *w)
{
    if (w->err != EV_AGE_OK) {
        return w->err;
    }
    if (w->finished) {
        return EV_AGE_IO;
    }
    w->finished = 1;
    /* Empty only when nothing was written: full chunks wait for more. */
    w->err = seal_chunk(w, 1);
    return w->err;
}

void
ev_age_writer_free(ev_age_writer *w)
{
    if (w == NULL) {
        return;
    }
    if (w->key != NULL) {
        ev_wipe(w->key, EV_KEY_BYTES);
        ev_secure_free(w->key);
    }
    if (w->plain != NULL) {
        ev_wipe(w->plain, CHUNK_BYTES);
        free(w->plain);
    }
    free(w->sealed);
    free(w);
}

/* ===================================================================
 * Reader: input, with the armor decoder in front when armored
 * =================================================================== */

struct ev_age_reader {
    ev_age_read_fn in;
    void *ctx;
    uint8_t *raw; /* RAW_BUF bytes read ahead */
    size_t raw_pos, raw_len;
    int raw_eof; /* in() said end: never called again */
    int armored;
    int armor_end;   /* the END line was read */
    int armor_short; /* a short line was read: END must follow */
    size_t armor_lines;
    uint8_t line[COLS_BYTES];
    size_t line_pos, line_len;
    uint8_t *key; /* payload key, sodium_malloc'd */
    uint64_t counter;
    uint8_t *sealed; /* SEALED_BYTES */
    uint8_t *plain;  /* CHUNK_BYTES of verified plaintext */
    size_t plain_pos, plain_len;
    int done; /* the final chunk was read */
    int err;  /* sticky */
};

static int
raw_fill(ev_age_reader *r)
{
    size_t got = 0;

    r->raw_pos = 0;
    r->raw_len = 0;
    if (r->raw_eof) {
        return EV_AGE_OK;
    }
    if (r->in(r->ctx, r->raw, RAW_BUF, &got) != 0 || got > RAW_BUF) {
        return EV_AGE_IO;
    }
    r->raw_len = got;
    r->raw_eof = got == 0;
    return EV_AGE_OK;
}

/* The next input byte in *c, -1 at the end. */
static int
raw_getc(ev_age_reader *r, int *c)
{
    int rc;

    if (r->raw_pos == r->raw_len) {
        rc = raw_fill(r);
        if (rc != EV_AGE_OK) {
            return rc;
        }
        if (r->raw_len == 0) {
            *c = -1;
            return EV_AGE_OK;
        }
    }
    *c = r->raw[r->raw_pos++];
    return EV_AGE_OK;
}

static int
is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One armor line without its LF or CRLF; *eof when the input ended before
 * any byte.  Longer lines than cap are refused. */
static int
armor_getline(ev_age_reader *r, char *buf, size_t cap, size_t *len, int *eof)
{
    int c, rc;

    *len = 0;
    *eof = 0;
    for (;;) {
        rc = raw_getc(r, &c);
        if (rc != EV_AGE_OK) {
            return rc;
        }
        if (c < 0) {
            *eof = *len == 0;
            break;
        }
        if (c == '\n') {
            break;
        }
        if (*len == cap) {
            return EV_AGE_ARMOR;
        }
        buf[(*len)++] = (char)c;
    }
    if (*len > 0 && buf[*len - 1] == '\r') {
        (*len)--;
    }
    return EV_AGE_OK;
}

static int
line_is(const char *buf, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(buf, want, len) == 0;
}

/* Whitespace-only lines (1 KiB at most), then the BEGIN line. */
static int
armor_start(ev_age_reader *r)
{
    char buf[ARMOR_WS_MAX + 1];
    size_t len, ws = 0;
    int eof, rc;

    for (;;) {
        size_t i = 0;
        rc = armor_getline(r, buf, sizeof buf, &len, &eof);
        if (rc != EV_AGE_OK) {
            return rc;
        }
        if (eof) {
            return EV_AGE_ARMOR;
        }
        while (i < len && is_space((unsigned char)buf[i])) {
            i++;
        }
        if (i < len) {
            return line_is(buf, len, armor_begin) ? EV_AGE_OK : EV_AGE_ARMOR;
        }
        ws += len + 1;
        if (ws > ARMOR_WS_MAX) {
            return EV_AGE_ARMOR;
        }
    }
}

/* After END: whitespace only, less than 1 KiB of it. */
static int
armor_trailer(ev_age_reader *r)
{
    size_t ws = 0;
    int c, rc;

    for (;;) {
        rc = raw_getc(r, &c);
        if (rc != EV_AGE_OK) {
            return rc;
        }
        if (c < 0) {
            return EV_AGE_OK;
        }
        if (!is_space(c) || ++ws >= ARMOR_WS_MAX) {
            return EV_AGE_ARMOR;
        }
    }
}

/* Padded base64 characters only: ev_base64_decode (libsodium 1.0.18)
 * would take bytes over 0x7f as digits. */
static int
armor_chars_ok(const char *p, size_t len)
{
    size_t pad = 0;

    while (pad < 2 && pad < len && p[len - 1 - pad] == '=') {
        pad++;
    }
    for (size_t i = 0; i < len - pad; i++) {
        unsigned char c = (unsigned char)p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '+' || c == '/')) {
            return 0;
        }
    }
    return 1;
}

/* Decodes the next armor line into r->line, or reads END.  Strict PEM
 * (RFC 7468 figure 3): padded canonical base64, every line 64 columns but
 * the last, which is not empty; LF or CRLF. */
static int
armor_next(ev_age_reader *r)
{
    char buf[COLS + 1];
    size_t len;
    long n;
    int eof, rc;

    rc = armor_getline(r, buf, sizeof buf, &len, &eof);
    if (rc != EV_AGE_OK) {
        return rc;
    }
    if (eof) {
        return EV_AGE_ARMOR; /* no END line */
    }
    if (line_is(buf, len, armor_end)) {
        if (r->armor_lines == 0) {
            return EV_AGE_ARMOR;
        }
        r->armor_end = 1;
        return armor_trailer(r);
    }
    if (r->armor_short || len == 0 || len > COLS || len % 4 != 0 ||
        !armor_chars_ok(buf, len)) {
        return EV_AGE_ARMOR;
    }
    n = ev_base64_decode(r->line, sizeof r->line, buf, len);
    if (n <= 0) {
        return EV_AGE_ARMOR;
    }
    r->line_pos = 0;
    r->line_len = (size_t)n;
    r->armor_lines++;
    r->armor_short = len < COLS || n < COLS_BYTES;
    return EV_AGE_OK;
}

/* Up to n bytes of the age file (decoded when armored); fewer only at the
 * end. */
static int
src_read(ev_age_reader *r, uint8_t *p, size_t n, size_t *got)
{
    int rc;

    *got = 0;
    while (*got < n) {
        size_t take;
        if (!r->armored) {
            if (r->raw_pos == r->raw_len) {
                rc = raw_fill(r);
                if (rc != EV_AGE_OK) {
                    return rc;
                }
                if (r->raw_len == 0) {
                    break;
                }
            }
            take = r->raw_len - r->raw_pos;
            take = take < n - *got ? take : n - *got;
            memcpy(p + *got, r->raw + r->raw_pos, take);
            r->raw_pos += take;
        } else {
            if (r->line_pos == r->line_len) {
                if (r->armor_end) {
                    break;
                }
                rc = armor_next(r);
                if (rc != EV_AGE_OK) {
                    return rc;
                }
                continue;
            }
            take = r->line_len - r->line_pos;
            take = take < n - *got ? take : n - *got;
            memcpy(p + *got, r->line + r->line_pos, take);
            r->line_pos += take;
        }
        *got += take;
    }
    return EV_AGE_OK;
}

/* Armor is told by its first byte: a binary age file starts with 'a'. */
static int
detect_armor(ev_age_reader *r)
{
    int rc = raw_fill(r);

    if (rc != EV_AGE_OK) {
        return rc;
    }
    if (r->raw_len > 0 && (r->raw[0] == '-' || is_space(r->raw[0]))) {
        r->armored = 1;
        return armor_start(r);
    }
    return EV_AGE_OK;
}

/* ===================================================================
 * Reader: header
 * =================================================================== */

enum { ST_OTHER, ST_X25519, ST_SCRYPT };

struct stanza {
    int type;
    uint8_t arg[32]; /* X25519 share, or scrypt salt (16 bytes) */
    unsigned log_n;  /* scrypt */
    uint8_t body[WRAPPED_BYTES];
    size_t body_len; /* the whole body's length, even past 32 */
};

struct header {
    char *buf; /* the header as read, MAX_HEADER bytes */
    size_t len;
    size_t mac_len; /* bytes covered by the MAC: up to "---" */
    uint8_t mac[32];
    struct stanza st[EV_AGE_MAX_RECIPIENTS];
    size_t n;
    int in_body; /* the last stanza's body is being read */
};

/* The arguments after "-> ": at least one, each 1*VCHAR, one space
 * apart; then the checks of the types we know. */
static int
stanza_args(struct stanza *s, const char *p, size_t len)
{
    const char *a[3] = {NULL, NULL, NULL};
    size_t al[3] = {0, 0, 0}, nargs = 0, i = 0;

    for (;;) {
        size_t start = i;
        while (i < len && p[i] != ' ') {
            if (p[i] < 0x21 || p[i] > 0x7e) {
                return EV_AGE_STANZA;
            }
            i++;
        }
        if (i == start) {
            return EV_AGE_STANZA; /* empty: leading, double or final SP */
        }
        if (nargs < 3) {
            a[nargs] = p + start;
            al[nargs] = i - start;
        }
        nargs++;
        if (i == len) {
            break;
        }
        i++;
    }

    memset(s, 0, sizeof *s);
    if (al[0] == 6 && memcmp(a[0], "X25519", 6) == 0) {
        s->type = ST_X25519;
        if (nargs != 2 || al[1] != SHARE_B64) {
            return EV_AGE_STANZA;
        }
        if (ev_base64_raw_decode(s->arg, 32, a[1], al[1]) != 32) {
            return EV_AGE_BASE64;
        }
    } else if (al[0] == 6 && memcmp(a[0], "scrypt", 6) == 0) {
        s->type = ST_SCRYPT;
        if (nargs != 3 || al[1] != SALT_B64) {
            return EV_AGE_STANZA;
        }
        if (ev_base64_raw_decode(s->arg, 16, a[1], al[1]) != 16) {
            return EV_AGE_BASE64;
        }
        /* ^[1-9][0-9]*$, then the cap (age's own: 22) */
        if (a[2][0] < '1' || a[2][0] > '9') {
            return EV_AGE_STANZA;
        }
        for (i = 0; i < al[2]; i++) {
            if (a[2][i] < '0' || a[2][i] > '9') {
                return EV_AGE_STANZA;
            }
        }
        if (al[2] > 2) {
            return EV_AGE_SCRYPT_WORK;
        }
        s->log_n = (unsigned)(a[2][0] - '0');
        if (al[2] == 2) {
            s->log_n = s->log_n * 10 + (unsigned)(a[2][1] - '0');
        }
        if (s->log_n > EV_AGE_MAX_SCRYPT_LOG_N) {
            return EV_AGE_SCRYPT_WORK;
        }
    } else {
        s->type = ST_OTHER;
    }
    return EV_AGE_OK;
}

/* A body line: canonical base64, 64 columns, or fewer to end the body. */
static int
body_line(struct header *h, const char *p, size_t len)
{
    struct stanza *s = &h->st[h->n - 1];
    uint8_t tmp[COLS_BYTES];
    long n;

    if (len > COLS || (len > 0 && p[0] == '-')) {
        return EV_AGE_STANZA; /* too long, or the body had no short line */
    }
    n = ev_base64_raw_decode(tmp, sizeof tmp, p, len);
    if (n < 0) {
        return EV_AGE_BASE64;
    }
    if (s->body_len + (size_t)n <= sizeof s->body) {
        memcpy(s->body + s->body_len, tmp, (size_t)n);
    }
    s->body_len += (size_t)n;
    if (len == COLS) {
        return EV_AGE_OK;
    }
    h->in_body = 0;
    /* Known types: exactly 32 bytes before any decryption (no
     * partitioning oracle). */
    if (s->type != ST_OTHER && s->body_len != WRAPPED_BYTES) {
        return EV_AGE_STANZA;
    }
    return EV_AGE_OK;
}

/* One header line after the version line (p[0..len), LF excluded, at
 * offset off).  Sets *end on the MAC line. */
static int
header_line(struct header *h, const char *p, size_t len, size_t off, int *end)
{
    if (h->in_body) {
        return body_line(h, p, len);
    }
    if (len >= 3 && memcmp(p, "---", 3) == 0) {
        if (h->n == 0 || len != 4 + SHARE_B64 || p[3] != ' ') {
            return EV_AGE_HEADER;
        }
        if (ev_base64_raw_decode(h->mac, sizeof h->mac, p + 4, SHARE_B64) !=
            32) {
            return EV_AGE_BASE64;
        }
        h->mac_len = off + 3;
        *end = 1;
        /* An scrypt stanza must be alone (passphrase files are
         * authenticated by the passphrase alone). */
        for (size_t i = 0; i < h->n; i++) {
            if (h->st[i].type == ST_SCRYPT && h->n != 1) {
                return EV_AGE_STANZA;
            }
        }
        return EV_AGE_OK;
    }
    if (len >= 3 && memcmp(p, "-> ", 3) == 0) {
        if (h->n == EV_AGE_MAX_RECIPIENTS) {
            return EV_AGE_HEADER;
        }
        h->n++;
        h->in_body = 1;
        return stanza_args(&h->st[h->n - 1], p + 3, len - 3);
    }
    return EV_AGE_HEADER;
}

static int
read_header(ev_age_reader *r, struct header *h)
{
    size_t vlen = sizeof version_line - 1;
    int end = 0, rc;

    h->buf = malloc(MAX_HEADER);
    if (h->buf == NULL) {
        return EV_AGE_NOMEM;
    }
    /* The version line, byte by byte: anything else stops at once. */
    while (h->len < vlen) {
        uint8_t b;
        size_t got;
        rc = src_read(r, &b, 1, &got);
        if (rc != EV_AGE_OK) {
            return rc;
        }
        if (got == 0) {
            return h->len == 0 ? EV_AGE_HEADER : EV_AGE_TRUNCATED;
        }
        if (b != (uint8_t)version_line[h->len]) {
            return EV_AGE_HEADER;
        }
        h->buf[h->len++] = (char)b;
    }
    while (!end) {
        size_t start = h->len;
        for (;;) {
            uint8_t b;
            size_t got;
            rc = src_read(r, &b, 1, &got);
            if (rc != EV_AGE_OK) {
                return rc;
            }
            if (got == 0) {
                return EV_AGE_TRUNCATED;
            }
            if (h->len == MAX_HEADER) {
                return EV_AGE_HEADER;
            }
            h->buf[h->len++] = (char)b;
            if (b == '\n') {
                break;
            }
        }
        rc = header_line(h, h->buf + start, h->len - start - 1, start, &end);
        if (rc != EV_AGE_OK) {
            return rc;
        }
    }
    return EV_AGE_OK;
}

/* The file key from the first stanza an identity opens. */
static int
unwrap(const struct header *h, const ev_age_identity *ids, size_t nids,
       struct age_secrets *s)
{
    uint8_t pk[32], salt[SCRYPT_SALT_BYTES];

    for (size_t i = 0; i < nids; i++) {
        const ev_age_identity *id = &ids[i];
        if (id->kind == EV_AGE_ID_X25519 &&
            ev_x25519_base(pk, id->x25519_sk) != 0) {
            return EV_AGE_KEY; /* an identity with no public key */
        }
        for (size_t j = 0; j < h->n; j++) {
            const struct stanza *st = &h->st[j];
            if (st->type == ST_X25519 && id->kind == EV_AGE_ID_X25519) {
                if (ev_x25519(s->shared, id->x25519_sk, st->arg) != 0) {
                    return EV_AGE_STANZA; /* low-order share: give up */
                }
                if (x25519_wrap_key(s, st->arg, pk) != 0) {
                    return EV_AGE_NOMEM; /* libsodium failed */
                }
            } else if (st->type == ST_SCRYPT && id->kind == EV_AGE_ID_SCRYPT) {
                memcpy(salt, scrypt_label, sizeof scrypt_label - 1);
                memcpy(salt + sizeof scrypt_label - 1, st->arg, 16);
                if (ev_scrypt(s->wrap_key, sizeof s->wrap_key,
                              id->passphrase != NULL ? id->passphrase : "",
                              id->passphrase != NULL ? id->passphrase_len : 0,
                              salt, sizeof salt, st->log_n, 8, 1) != 0) {
                    return EV_AGE_NOMEM;
                }
            } else {
                continue;
            }
            if (ev_chunk_open(s->file_key, st->body, WRAPPED_BYTES, zero_nonce,
                              NULL, 0, s->wrap_key) == 0) {
                return EV_AGE_OK;
            }
        }
    }
    return EV_AGE_NO_IDENTITY;
}

int
ev_age_reader_new(ev_age_reader **rp, const ev_age_identity *ids, size_t n,
                  ev_age_read_fn in, void *ctx)
{
    struct header *h = NULL;
    struct age_secrets *s = NULL;
    ev_age_reader *r = NULL;
    uint8_t nonce[PAYLOAD_NONCE_BYTES];
    size_t got;
    int rc = EV_AGE_NOMEM;

    *rp = NULL;
    r = calloc(1, sizeof *r);
    h = calloc(1, sizeof *h);
    s = secrets_new();
    if (r == NULL || h == NULL || s == NULL) {
        goto cleanup;
    }
    r->in = in;
    r->ctx = ctx;
    r->raw = malloc(RAW_BUF);
    r->key = ev_secure_alloc(EV_KEY_BYTES);
    r->sealed = malloc(SEALED_BYTES);
    /* guarded: what an age file holds may be a key (a protected identity
     * file, a bundle's keys) */
    r->plain = ev_secure_alloc(CHUNK_BYTES);
    if (r->raw == NULL || r->key == NULL || r->sealed == NULL ||
        r->plain == NULL) {
        goto cleanup;
    }

    rc = detect_armor(r);
    if (rc == EV_AGE_OK) {
        rc = read_header(r, h);
    }
    if (rc == EV_AGE_OK) {
        rc = unwrap(h, ids, ids != NULL ? n : 0, s);
    }
    if (rc == EV_AGE_OK) {
        if (header_mac(s->mac, s, h->buf, h->mac_len) != 0) {
            rc = EV_AGE_NOMEM; /* libsodium failed */
        } else if (!ev_memeq(s->mac, h->mac, sizeof h->mac)) {
            rc = EV_AGE_MAC;
        }
    }
    if (rc == EV_AGE_OK) {
        rc = src_read(r, nonce, sizeof nonce, &got);
        if (rc == EV_AGE_OK && got != sizeof nonce) {
            rc = EV_AGE_TRUNCATED;
        }
    }
    if (rc == EV_AGE_OK && payload_key(r->key, s->file_key, nonce) != 0) {
        rc = EV_AGE_NOMEM; /* libsodium failed */
    }
cleanup:
    secrets_free(s);
    if (h != NULL) {
        free(h->buf);
        free(h);
    }
    if (rc == EV_AGE_OK) {
        *rp = r;
    } else {
        ev_age_reader_free(r);
    }
    return rc;
}

int
ev_age_header_scrypt(ev_age_read_fn in, void *ctx)
{
    ev_age_reader *r = calloc(1, sizeof *r);
    struct header *h = calloc(1, sizeof *h);
    int rc = EV_AGE_NOMEM;

    if (r == NULL || h == NULL) {
        goto cleanup;
    }
    r->in = in;
    r->ctx = ctx;
    r->raw = malloc(RAW_BUF);
    if (r->raw == NULL) {
        goto cleanup;
    }
    rc = detect_armor(r);
    if (rc == EV_AGE_OK) {
        rc = read_header(r, h);
    }
    if (rc == EV_AGE_OK) {
        rc = EV_AGE_NO_IDENTITY;
        for (size_t i = 0; i < h->n; i++) {
            if (h->st[i].type == ST_SCRYPT) {
                rc = EV_AGE_OK; /* then it is the only one: read_header */
            }
        }
    }
cleanup:
    if (h != NULL) {
        free(h->buf);
        free(h);
    }
    ev_age_reader_free(r);
    return rc;
}

/* ===================================================================
 * Reader: payload
 * =================================================================== */

static int
open_chunk(ev_age_reader *r, size_t len, int last)
{
    uint8_t nonce[EV_CHUNK_NONCE_BYTES];

    ev_chunk_nonce(nonce, r->counter, last);
    return ev_chunk_open(r->plain, r->sealed, len, nonce, NULL, 0, r->key);
}

/* Reads, authenticates and decrypts the next chunk into r->plain. */
static int
next_chunk(ev_age_reader *r)
{
    size_t len, extra;
    uint8_t b;
    int last, rc;

    rc = src_read(r, r->sealed, SEALED_BYTES, &len);
    if (rc != EV_AGE_OK) {
        return rc;
    }
    if (len < EV_TAG_BYTES) {
        return EV_AGE_TRUNCATED; /* no final chunk, or a cut tag */
    }
    if (len < SEALED_BYTES) {
        if (len == EV_TAG_BYTES && r->counter > 0) {
            return EV_AGE_CHUNK; /* empty final chunk after others */
        }
        last = 1;
        if (open_chunk(r, len, 1) != 0) {
            return EV_AGE_CHUNK;
        }
    } else {
        last = 0;
        if (open_chunk(r, len, 0) != 0) {
            last = 1; /* a full final chunk */
            if (open_chunk(r, len, 1) != 0) {
                return EV_AGE_CHUNK;
            }
        }
    }
    if (r->counter == UINT64_MAX) {
        ev_wipe(r->plain, len - EV_TAG_BYTES);
        return EV_AGE_CHUNK;
    }
    r->counter++;
    if (last) {
        /* Nothing may follow; checked before the last bytes go out. */
        rc = src_read(r, &b, 1, &extra);
        if (rc == EV_AGE_OK && extra != 0) {
            rc = EV_AGE_TRAILING;
        }
        if (rc != EV_AGE_OK) {
            ev_wipe(r->plain, len - EV_TAG_BYTES);
            return rc;
        }
        r->done = 1;
    }
    r->plain_pos = 0;
    r->plain_len = len - EV_TAG_BYTES;
    return EV_AGE_OK;
}

int
ev_age_read(ev_age_reader *r, uint8_t *buf, size_t cap, size_t *got)
{
    size_t take;

    *got = 0;
    if (r->err != EV_AGE_OK) {
        return r->err;
    }
    if (cap == 0) {
        return EV_AGE_IO;
    }
    while (r->plain_pos == r->plain_len) {
        if (r->done) {
            return EV_AGE_OK;
        }
        r->err = next_chunk(r);
        if (r->err != EV_AGE_OK) {
            return r->err;
        }
    }
    take = r->plain_len - r->plain_pos;
    take = take < cap ? take : cap;
    memcpy(buf, r->plain + r->plain_pos, take);
    r->plain_pos += take;
    *got = take;
    return EV_AGE_OK;
}

void
ev_age_reader_free(ev_age_reader *r)
{
    if (r == NULL) {
        return;
    }
    if (r->key != NULL) {
        ev_wipe(r->key, EV_KEY_BYTES);
        ev_secure_free(r->key);
    }
    ev_secure_free(r->plain); /* wipes */
    free(r->sealed);
    free(r->raw);
    free(r);
}

/* ===================================================================
 * Bech32 (BIP 173), constant time over the data: identities are secret.
 * =================================================================== */

static const char b32_chars[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
#define KEY_GROUPS 52 /* 256 bits in 5-bit groups, 4 zero bits of pad */
#define CHECKSUM_GROUPS 6

static uint32_t
b32_step(uint32_t chk, uint32_t v)
{
    static const uint32_t gen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa,
                                    0x3d4233dd, 0x2a1462b3};
    uint32_t top = chk >> 25;

    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; i++) {
        chk ^= (0u - ((top >> i) & 1)) & gen[i];
    }
    return chk;
}

/* The checksum state after the (lowercase) human-readable part. */
static uint32_t
b32_hrp(const char *hrp, size_t n)
{
    uint32_t chk = 1;

    for (size_t i = 0; i < n; i++) {
        chk = b32_step(chk, (uint32_t)(unsigned char)hrp[i] >> 5);
    }
    chk = b32_step(chk, 0);
    for (size_t i = 0; i < n; i++) {
        chk = b32_step(chk, (uint32_t)(unsigned char)hrp[i] & 31);
    }
    return chk;
}

/* The charset index of c (either case), or -1; no branch on c. */
static int
b32_value(unsigned char c)
{
    uint32_t lc = c | ((0u - (uint32_t)((unsigned)(c - 'A') < 26)) & 0x20);
    int v = -1;

    for (int k = 0; k < 32; k++) {
        uint32_t eq = ((lc ^ (uint32_t)(unsigned char)b32_chars[k]) - 1) >> 31;
        v ^= (int)((0u - eq) & (uint32_t)(k ^ -1));
    }
    return v;
}

static int
b32_encode(char *out, size_t cap, const char *hrp, const uint8_t key[32],
           int upper)
{
    size_t hl = strlen(hrp), o = 0;
    uint8_t g[KEY_GROUPS];
    uint32_t acc = 0, chk;
    int bits = 0;
    size_t ng = 0;

    if (cap < hl + 1 + KEY_GROUPS + CHECKSUM_GROUPS + 1) {
        return EV_AGE_KEY;
    }
    for (size_t i = 0; i < 32; i++) {
        acc = (acc << 8) | key[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            g[ng++] = (uint8_t)((acc >> bits) & 31);
        }
    }
    g[ng++] = (uint8_t)((acc << (5 - bits)) & 31);
    chk = b32_hrp(hrp, hl);
    memcpy(out, hrp, hl);
    o = hl;
    out[o++] = '1';
    for (size_t i = 0; i < KEY_GROUPS; i++) {
        chk = b32_step(chk, g[i]);
        out[o++] = b32_chars[g[i]];
    }
    for (int i = 0; i < CHECKSUM_GROUPS; i++) {
        chk = b32_step(chk, 0);
    }
    chk ^= 1;
    for (int i = 0; i < CHECKSUM_GROUPS; i++) {
        out[o++] = b32_chars[(chk >> (5 * (5 - i))) & 31];
    }
    out[o] = '\0';
    if (upper) {
        for (size_t i = 0; i < o; i++) {
            unsigned char c = (unsigned char)out[i];
            out[i] = (char)(c ^ ((0u - (uint32_t)((unsigned)(c - 'a') < 26)) &
                                 0x20));
        }
    }
    ev_wipe(g, sizeof g);
    return EV_AGE_OK;
}

/* s must be hrp (exactly, case included) "1" and 32 bytes of data. */
static int
b32_decode(uint8_t key[32], const char *s, const char *hrp)
{
    size_t hl = strlen(hrp), len = strnlen(s, 256), ng = 0;
    uint8_t g[KEY_GROUPS + CHECKSUM_GROUPS];
    char lower_hrp[32];
    uint32_t chk, acc = 0, bad = 0, has_lower = 0, has_upper = 0;
    int bits = 0, rc = EV_AGE_KEY;

    if (len != hl + 1 + KEY_GROUPS + CHECKSUM_GROUPS ||
        hl >= sizeof lower_hrp || memcmp(s, hrp, hl) != 0 || s[hl] != '1') {
        return EV_AGE_KEY;
    }
    for (size_t i = 0; i < hl; i++) {
        unsigned char c = (unsigned char)hrp[i];
        lower_hrp[i] = (char)((unsigned)(c - 'A') < 26 ? c | 0x20 : c);
        has_lower |= (unsigned)(c - 'a') < 26;
        has_upper |= (unsigned)(c - 'A') < 26;
    }
    for (size_t i = 0; i < KEY_GROUPS + CHECKSUM_GROUPS; i++) {
        unsigned char c = (unsigned char)s[hl + 1 + i];
        int v = b32_value(c);
        has_lower |= (unsigned)(c - 'a') < 26;
        has_upper |= (unsigned)(c - 'A') < 26;
        bad |= (uint32_t)v >> 31;
        g[ng++] = (uint8_t)(v & 31);
    }
    chk = b32_hrp(lower_hrp, hl);
    for (size_t i = 0; i < ng; i++) {
        chk = b32_step(chk, g[i]);
    }
    bad |= (chk ^ 1) != 0;
    bad |= has_lower & has_upper;
    /* 5-bit groups to bytes; the 4 pad bits must be zero. */
    ng = 0;
    for (size_t i = 0; i < KEY_GROUPS; i++) {
        acc = (acc << 5) | g[i];
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            key[ng++] = (uint8_t)(acc >> bits);
        }
    }
    bad |= (acc & ((1u << bits) - 1)) != 0;
    if (bad == 0) {
        rc = EV_AGE_OK;
    } else {
        ev_wipe(key, 32);
    }
    ev_wipe(g, sizeof g);
    return rc;
}

int
ev_age_recipient_encode(char *out, size_t cap, const uint8_t pk[32])
{
    return b32_encode(out, cap, "age", pk, 0);
}

int
ev_age_recipient_decode(uint8_t pk[32], const char *s)
{
    return b32_decode(pk, s, "age");
}

int
ev_age_identity_encode(char *out, size_t cap, const uint8_t sk[32])
{
    return b32_encode(out, cap, "age-secret-key-", sk, 1);
}

int
ev_age_identity_decode(uint8_t sk[32], const char *s)
{
    return b32_decode(sk, s, "AGE-SECRET-KEY-");
}

int
ev_age_identity_file_parse(uint8_t sk[32], const char *text, size_t len)
{
    char line[EV_AGE_IDENTITY_CHARS + 1];
    uint8_t k[32];
    size_t pos = 0;
    int found = 0, rc = EV_AGE_OK;

    while (pos < len && rc == EV_AGE_OK) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        size_t ll = end - pos;
        if (ll > 0 && text[pos + ll - 1] == '\r') {
            ll--;
        }
        if (ll > 0 && text[pos] != '#') {
            if (ll != EV_AGE_IDENTITY_CHARS ||
                memchr(text + pos, '\0', ll) != NULL) {
                rc = EV_AGE_KEY;
            } else {
                memcpy(line, text + pos, ll);
                line[ll] = '\0';
                rc = ev_age_identity_decode(k, line);
                if (rc == EV_AGE_OK && !found) {
                    memcpy(sk, k, 32);
                    found = 1;
                }
            }
        }
        pos = end + 1;
    }
    if (rc == EV_AGE_OK && !found) {
        rc = EV_AGE_KEY;
    }
    if (rc != EV_AGE_OK) {
        ev_wipe(sk, 32);
    }
    ev_wipe(line, sizeof line);
    ev_wipe(k, sizeof k);
    return rc;
}
