/*
 * note.c - signed notes, checkpoints and tlog proofs (formats in note.h).
 *
 * Owns: the text encodings that leave the vault for courts and partners.
 * Never: trusts a byte of a note before its signature verifies, or reads
 * past the length it was given.
 */
#include "note.h"

#include "crypto.h"
#include "evault.h"

#include <stdio.h>
#include <string.h>

static const char dash[] = "\xe2\x80\x94 "; /* U+2014 and a space */

static void
key_id(uint8_t id[4], const char *name, const uint8_t pk[32])
{
    uint8_t buf[EV_NOTE_NAME_MAX + 2 + 32], h[32];
    size_t n = strlen(name);

    memcpy(buf, name, n);
    buf[n] = 0x0a;
    buf[n + 1] = 0x01;
    memcpy(buf + n + 2, pk, 32);
    ev_sha256_once(h, buf, n + 2 + 32);
    memcpy(id, h, 4);
}

static int
name_ok(const char *name, size_t n)
{
    if (n == 0 || n > EV_NOTE_NAME_MAX) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= 0x20 || c == '+' || c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

int
ev_note_key_make(ev_note_key *k, const char *name, const uint8_t pk[32])
{
    size_t n = strlen(name);

    if (!name_ok(name, n)) {
        return -1;
    }
    memcpy(k->name, name, n + 1);
    memcpy(k->pk, pk, 32);
    key_id(k->id, k->name, pk);
    return 0;
}

int
ev_note_key_format(char *out, size_t out_len, const ev_note_key *k)
{
    uint8_t raw[33];
    char b64[64], hex[9];
    int n;

    raw[0] = 0x01;
    memcpy(raw + 1, k->pk, 32);
    if (ev_base64_encode(b64, sizeof b64, raw, sizeof raw) != 0) {
        return -1;
    }
    ev_hex(hex, k->id, 4);
    n = snprintf(out, out_len, "%s+%s+%s", k->name, hex, b64);
    if (n < 0 || (size_t)n >= out_len) {
        if (out_len > 0) {
            out[0] = '\0'; /* no key cut short */
        }
        return -1;
    }
    return 0;
}

int
ev_note_key_parse(ev_note_key *k, const char *text, size_t len)
{
    const char *p1, *p2, *end;
    uint8_t raw[33], id[4];
    char hex[9];

    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' ' ||
                       text[len - 1] == '\r' || text[len - 1] == '\t')) {
        len--;
    }
    while (len > 0 && (*text == ' ' || *text == '\t' || *text == '\n')) {
        text++;
        len--;
    }
    end = text + len;
    p1 = memchr(text, '+', len);
    if (p1 == NULL || p1 + 10 > end || p1[9] != '+') {
        return -1;
    }
    p2 = p1 + 9;
    if (!name_ok(text, (size_t)(p1 - text))) {
        return -1;
    }
    memcpy(hex, p1 + 1, 8);
    hex[8] = '\0';
    if (ev_unhex(id, 4, hex) != EV_OK ||
        ev_base64_decode(raw, sizeof raw, p2 + 1, (size_t)(end - p2 - 1)) !=
            33 ||
        raw[0] != 0x01) {
        return -1;
    }
    memcpy(k->name, text, (size_t)(p1 - text));
    k->name[p1 - text] = '\0';
    memcpy(k->pk, raw + 1, 32);
    key_id(k->id, k->name, k->pk);
    /* The id in the text must be the one the name and key give. */
    return memcmp(k->id, id, 4) == 0 ? 0 : -1;
}

static size_t
checkpoint_body(char *out, size_t out_len, const ev_checkpoint *c)
{
    char b64[64];
    int n;

    if (ev_base64_encode(b64, sizeof b64, c->root, EV_HASH_BYTES) != 0) {
        return 0;
    }
    if (c->time[0] != '\0') {
        n = snprintf(out, out_len, "%s\n%llu\n%s\ntime %s\n", c->origin,
                     (unsigned long long)c->size, b64, c->time);
    } else {
        n = snprintf(out, out_len, "%s\n%llu\n%s\n", c->origin,
                     (unsigned long long)c->size, b64);
    }
    return n < 0 || (size_t)n >= out_len ? 0 : (size_t)n;
}

int
ev_checkpoint_sign(char *out, size_t out_len, const ev_checkpoint *c,
                   const ev_note_key *k, const uint8_t sk[64])
{
    uint8_t sig[4 + 64];
    char b64[128];
    size_t n = checkpoint_body(out, out_len, c);
    int m;

    if (n == 0) {
        return -1;
    }
    memcpy(sig, k->id, 4);
    ev_sign(sig + 4, out, n, sk);
    if (ev_base64_encode(b64, sizeof b64, sig, sizeof sig) != 0) {
        return -1;
    }
    m = snprintf(out + n, out_len - n, "\n%s%s %s\n", dash, k->name, b64);
    return m < 0 || (size_t)m >= out_len - n ? -1 : 0;
}

/* Reads a decimal without leading zeros (but "0"). */
static int
parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0 || n > 19 || (n > 1 && s[0] == '0')) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* The next line of [*p, end): start and length, without its newline.
 * -1 when no newline ends it. */
static int
next_line(const char **p, const char *end, const char **line, size_t *len)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));

    if (nl == NULL) {
        return -1;
    }
    *line = *p;
    *len = (size_t)(nl - *p);
    *p = nl + 1;
    return 0;
}

int
ev_checkpoint_open(ev_checkpoint *c, const char *note, size_t len,
                   const ev_note_key *k)
{
    const char *p, *end = note + len, *split = NULL, *line;
    size_t text_len, ll;
    int found = 0, bad = 0;

    memset(c, 0, sizeof *c);
    if (len == 0 || len > EV_NOTE_MAX || note[len - 1] != '\n') {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)note[i];
        if (ch < 0x20 && ch != '\n') {
            return -1;
        }
    }
    /* The text ends at the last blank line. */
    for (p = note; p + 1 < end; p++) {
        if (p[0] == '\n' && p[1] == '\n') {
            split = p + 1;
        }
    }
    if (split == NULL) {
        return -1;
    }
    text_len = (size_t)(split - note);
    /* Signature lines. */
    p = split + 1;
    while (p < end) {
        const char *sp;
        uint8_t sig[4 + 64 + 1];
        long n;
        if (next_line(&p, end, &line, &ll) != 0 || ll < sizeof dash ||
            memcmp(line, dash, sizeof dash - 1) != 0) {
            return -1;
        }
        line += sizeof dash - 1;
        ll -= sizeof dash - 1;
        sp = memchr(line, ' ', ll);
        if (sp == NULL) {
            return -1;
        }
        n = ev_base64_decode(sig, sizeof sig, sp + 1,
                             ll - (size_t)(sp - line) - 1);
        if (n < 4) {
            return -1;
        }
        if ((size_t)(sp - line) != strlen(k->name) ||
            memcmp(line, k->name, (size_t)(sp - line)) != 0 ||
            memcmp(sig, k->id, 4) != 0) {
            continue; /* another key's signature: ignored */
        }
        if (n != 4 + 64 || ev_sign_verify(sig + 4, note, text_len, k->pk) !=
                               0) {
            bad = 1;
        } else {
            found = 1;
        }
    }
    if (bad) {
        return -3;
    }
    if (!found) {
        return -2;
    }
    /* Only now read the signed text. */
    p = note;
    end = note + text_len;
    if (next_line(&p, end, &line, &ll) != 0 || !name_ok(line, ll)) {
        return -1;
    }
    memcpy(c->origin, line, ll);
    c->origin[ll] = '\0';
    if (next_line(&p, end, &line, &ll) != 0 ||
        parse_u64(line, ll, &c->size) != 0) {
        return -1;
    }
    if (next_line(&p, end, &line, &ll) != 0 ||
        ev_base64_decode(c->root, EV_HASH_BYTES, line, ll) != EV_HASH_BYTES) {
        return -1;
    }
    while (p < end) {
        if (next_line(&p, end, &line, &ll) != 0) {
            return -1;
        }
        if (ll > 5 && ll - 5 < sizeof c->time && memcmp(line, "time ", 5) == 0) {
            memcpy(c->time, line + 5, ll - 5);
            c->time[ll - 5] = '\0';
        } /* other extension lines are ignored, as the spec says */
    }
    return 0;
}

size_t
ev_tlog_proof_format(char *out, size_t out_len, const uint8_t *extra,
                     size_t extra_len, uint64_t index, const ev_hash *path,
                     size_t npath, const char *checkpoint)
{
    size_t n = 0;
    int m;
    char b64[EV_EXTRA_MAX / 3 * 4 + 8];

    if (extra_len > EV_EXTRA_MAX) {
        return 0;
    }
    m = snprintf(out, out_len, "c2sp.org/tlog-proof@v1\n");
    if (m < 0 || (size_t)m >= out_len) {
        return 0;
    }
    n += (size_t)m;
    if (extra != NULL) {
        if (ev_base64_encode(b64, sizeof b64, extra, extra_len) != 0) {
            return 0;
        }
        m = snprintf(out + n, out_len - n, "extra %s\n", b64);
        if (m < 0 || (size_t)m >= out_len - n) {
            return 0;
        }
        n += (size_t)m;
    }
    m = snprintf(out + n, out_len - n, "index %llu\n",
                 (unsigned long long)index);
    if (m < 0 || (size_t)m >= out_len - n) {
        return 0;
    }
    n += (size_t)m;
    for (size_t i = 0; i < npath; i++) {
        if (ev_base64_encode(b64, sizeof b64, path[i], EV_HASH_BYTES) != 0) {
            return 0;
        }
        m = snprintf(out + n, out_len - n, "%s\n", b64);
        if (m < 0 || (size_t)m >= out_len - n) {
            return 0;
        }
        n += (size_t)m;
    }
    m = snprintf(out + n, out_len - n, "\n%s", checkpoint);
    if (m < 0 || (size_t)m >= out_len - n) {
        return 0;
    }
    return n + (size_t)m;
}

int
ev_tlog_proof_parse(ev_tlog_proof *pr, const char *text, size_t len)
{
    const char *p = text, *end = text + len, *line;
    size_t ll;
    static const char magic[] = "c2sp.org/tlog-proof@v1";

    memset(pr, 0, sizeof *pr);
    if (len > EV_PROOF_MAX || memchr(text, '\0', len) != NULL) {
        return -1;
    }
    if (next_line(&p, end, &line, &ll) != 0 || ll != sizeof magic - 1 ||
        memcmp(line, magic, ll) != 0) {
        return -1;
    }
    if (next_line(&p, end, &line, &ll) != 0) {
        return -1;
    }
    if (ll > 6 && memcmp(line, "extra ", 6) == 0) {
        long n = ev_base64_decode(pr->extra, sizeof pr->extra, line + 6,
                                  ll - 6);
        if (n < 0) {
            return -1;
        }
        pr->extra_len = (size_t)n;
        if (next_line(&p, end, &line, &ll) != 0) {
            return -1;
        }
    }
    if (ll < 7 || memcmp(line, "index ", 6) != 0 ||
        parse_u64(line + 6, ll - 6, &pr->index) != 0) {
        return -1;
    }
    for (;;) {
        if (next_line(&p, end, &line, &ll) != 0) {
            return -1;
        }
        if (ll == 0) {
            break;
        }
        if (pr->npath == EV_MERKLE_MAX_PATH ||
            ev_base64_decode(pr->path[pr->npath], EV_HASH_BYTES, line, ll) !=
                EV_HASH_BYTES) {
            return -1;
        }
        pr->npath++;
    }
    pr->checkpoint = p;
    pr->checkpoint_len = (size_t)(end - p);
    return pr->checkpoint_len > 0 ? 0 : -1;
}
