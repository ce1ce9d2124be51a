/*
 * shares.c - trustee shares (format in shares.h).
 *
 * Owns: the share line format and the calls into libgfshare.
 * Never: lets libgfshare use its own random source (random(3), not a
 * CSPRNG): every split draws from libsodium's randombytes.
 */
#include "shares.h"

#include "crypto.h"
#include "evault.h"

#include <ctype.h>
#include <libgfshare.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "evault-share1:"

static void
fill_rand(unsigned char *buf, unsigned int n)
{
    ev_random(buf, n);
}

static uint32_t
crc32_ieee(const char *s, size_t n)
{
    uint32_t crc = 0xffffffffu;

    for (size_t i = 0; i < n; i++) {
        crc ^= (uint8_t)s[i];
        for (int b = 0; b < 8; b++) {
            crc = crc & 1 ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
        }
    }
    return ~crc;
}

static void
format_line(char out[EV_SHARE_LINE_MAX], const uint8_t *vault_id,
            const uint8_t *set, int x, int k, int n, const uint8_t *y)
{
    char vid[2 * EV_SHARE_VAULT_BYTES + 1], sid[2 * EV_SHARE_SET_BYTES + 1];
    char data[2 * EV_TRUSTEE_SECRET_BYTES + 1];
    int len;

    ev_hex(vid, vault_id, EV_SHARE_VAULT_BYTES);
    ev_hex(sid, set, EV_SHARE_SET_BYTES);
    ev_hex(data, y, EV_TRUSTEE_SECRET_BYTES);
    len = snprintf(out, EV_SHARE_LINE_MAX, PREFIX "%s:%s:share-%d:%d-of-%d:%s",
                   vid, sid, x, k, n, data);
    snprintf(out + len, (size_t)(EV_SHARE_LINE_MAX - len), ":%08x",
             (unsigned)crc32_ieee(out, (size_t)len));
    ev_wipe(data, sizeof data);
}

int
ev_shares_split(char (*lines)[EV_SHARE_LINE_MAX],
                const uint8_t secret[EV_TRUSTEE_SECRET_BYTES], int k, int n,
                const uint8_t vault_id[EV_SHARE_VAULT_BYTES],
                const uint8_t set[EV_SHARE_SET_BYTES])
{
    unsigned char xs[EV_SHARES_MAX];
    uint8_t *buf;
    gfshare_ctx *g;

    if (k < 2 || k > n || n > EV_SHARES_MAX) {
        return -1;
    }
    buf = ev_secure_alloc(2 * EV_TRUSTEE_SECRET_BYTES);
    if (buf == NULL) {
        return -1;
    }
    for (int i = 0; i < n; i++) {
        xs[i] = (unsigned char)(i + 1);
    }
    gfshare_fill_rand = fill_rand;
    g = gfshare_ctx_init_enc(xs, (unsigned)n, (unsigned char)k,
                             EV_TRUSTEE_SECRET_BYTES);
    if (g == NULL) {
        ev_secure_free(buf);
        return -1;
    }
    /* libgfshare copies the secret into its own (malloc'd) context and
     * wipes it in gfshare_ctx_free; keep that window short. */
    memcpy(buf, secret, EV_TRUSTEE_SECRET_BYTES);
    gfshare_ctx_enc_setsecret(g, buf);
    for (int i = 0; i < n; i++) {
        gfshare_ctx_enc_getshare(g, (unsigned char)i,
                                 buf + EV_TRUSTEE_SECRET_BYTES);
        format_line(lines[i], vault_id, set, i + 1, k, n,
                    buf + EV_TRUSTEE_SECRET_BYTES);
    }
    gfshare_ctx_free(g);
    ev_secure_free(buf);
    return 0;
}

/* Reads exactly n lowercase hex digits ending at a ':' or the end. */
static int
take_hex(uint8_t *out, size_t out_len, const char **p)
{
    char buf[2 * EV_TRUSTEE_SECRET_BYTES + 1];
    size_t n = 2 * out_len;
    int rc;

    if (n >= sizeof buf || strlen(*p) < n || ((*p)[n] != ':' &&
                                              (*p)[n] != '\0')) {
        return -1;
    }
    memcpy(buf, *p, n);
    buf[n] = '\0';
    rc = ev_unhex(out, out_len, buf) == EV_OK ? 0 : -1;
    ev_wipe(buf, sizeof buf);
    *p += n;
    return rc;
}

static int
take_int(int *out, const char **p, int max)
{
    long v = 0;
    int digits = 0;

    while (isdigit((unsigned char)**p) && digits < 4) {
        v = v * 10 + (**p - '0');
        (*p)++;
        digits++;
    }
    if (digits == 0 || digits > 3 || v > max) {
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int
take_lit(const char **p, const char *lit)
{
    size_t n = strlen(lit);

    if (strncmp(*p, lit, n) != 0) {
        return -1;
    }
    *p += n;
    return 0;
}

int
ev_share_parse(ev_tshare *s, const char *line)
{
    char buf[EV_SHARE_LINE_MAX + 1];
    const char *p;
    size_t n = 0, start = 0, end = strlen(line);
    uint32_t check;
    uint8_t cb[4];
    int rc = EV_SHARE_FORM;

    memset(s, 0, sizeof *s);
    while (start < end && isspace((unsigned char)line[start])) {
        start++;
    }
    while (end > start && isspace((unsigned char)line[end - 1])) {
        end--;
    }
    if (end - start > EV_SHARE_LINE_MAX - 1) {
        return EV_SHARE_FORM;
    }
    for (size_t i = start; i < end; i++) {
        buf[n++] = (char)tolower((unsigned char)line[i]);
    }
    buf[n] = '\0';
    if (n < 9 || buf[n - 9] != ':') {
        goto out;
    }
    p = buf + n - 8;
    if (take_hex(cb, sizeof cb, &p) != 0) {
        goto out;
    }
    check = (uint32_t)cb[0] << 24 | (uint32_t)cb[1] << 16 |
            (uint32_t)cb[2] << 8 | cb[3];
    p = buf;
    if (take_lit(&p, PREFIX) != 0 ||
        take_hex(s->vault_id, sizeof s->vault_id, &p) != 0 ||
        take_lit(&p, ":") != 0 || take_hex(s->set, sizeof s->set, &p) != 0 ||
        take_lit(&p, ":share-") != 0 || take_int(&s->x, &p, 999) != 0 ||
        take_lit(&p, ":") != 0 || take_int(&s->k, &p, 999) != 0 ||
        take_lit(&p, "-of-") != 0 || take_int(&s->n, &p, 999) != 0 ||
        take_lit(&p, ":") != 0 || take_hex(s->y, sizeof s->y, &p) != 0 ||
        p != buf + n - 9) {
        goto out;
    }
    if (crc32_ieee(buf, n - 9) != check) {
        rc = EV_SHARE_CHECKSUM;
        goto out;
    }
    if (s->k < 2 || s->k > s->n || s->n > EV_SHARES_MAX || s->x < 1 ||
        s->x > s->n) {
        rc = EV_SHARE_RANGE;
        goto out;
    }
    rc = EV_SHARE_OK;
out:
    ev_wipe(buf, sizeof buf);
    if (rc != EV_SHARE_OK) {
        ev_wipe(s, sizeof *s);
    }
    return rc;
}

int
ev_shares_combine(uint8_t secret[EV_TRUSTEE_SECRET_BYTES],
                  const ev_tshare *shares, size_t count)
{
    unsigned char xs[EV_SHARES_MAX];
    uint8_t *y;
    gfshare_ctx *g;

    if (count == 0 || count > EV_SHARES_MAX) {
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        xs[i] = (unsigned char)shares[i].x;
    }
    /* gfshare_ctx_free overwrites the context with random bytes: the
     * source must be set for decoding too (its default is NULL). */
    gfshare_fill_rand = fill_rand;
    g = gfshare_ctx_init_dec(xs, (unsigned)count, EV_TRUSTEE_SECRET_BYTES);
    y = ev_secure_alloc(EV_TRUSTEE_SECRET_BYTES);
    if (g == NULL || y == NULL) {
        if (g != NULL) {
            gfshare_ctx_free(g);
        }
        ev_secure_free(y);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        memcpy(y, shares[i].y, EV_TRUSTEE_SECRET_BYTES);
        gfshare_ctx_dec_giveshare(g, (unsigned char)i, y);
    }
    gfshare_ctx_dec_extract(g, secret);
    gfshare_ctx_free(g);
    ev_secure_free(y);
    return 0;
}
