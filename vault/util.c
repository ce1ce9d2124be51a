/*
 * util.c - pure helpers (see util.h), and the public hex and time parsers.
 *
 * Owns: text encodings of bytes and times.
 * Never: allocates, performs I/O, or touches secrets beyond its arguments.
 */
#include "util.h"

#include "evault.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

uint64_t
ev_padme(uint64_t len)
{
    uint64_t e, s, mask;

    if (len < 2) {
        return len;
    }
    e = 63 - (uint64_t)__builtin_clzll(len);  /* floor(log2 len) */
    s = 64 - (uint64_t)__builtin_clzll(e);    /* floor(log2 e) + 1 */
    mask = (e > s) ? ((uint64_t)1 << (e - s)) - 1 : 0;
    return (len + mask) & ~mask;
}

static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void
ev_base32_encode(char *out, const uint8_t *in, size_t in_len)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;

    for (size_t i = 0; i < in_len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0) {
        out[o++] = b32[(acc << (5 - bits)) & 31];
    }
    out[o] = '\0';
}

static int
b32_value(char c)
{
    if (c >= 'a' && c <= 'z') {
        c = (char)(c - 'a' + 'A');
    }
    if (c == 'I' || c == 'L') {
        c = '1';
    } else if (c == 'O') {
        c = '0';
    }
    for (int i = 0; i < 32; i++) {
        if (b32[i] == c) {
            return i;
        }
    }
    return -1;
}

long
ev_base32_decode(uint8_t *out, size_t out_len, const char *in)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;

    for (; *in != '\0'; in++) {
        int v;
        if (*in == '-' || *in == ' ' || *in == '\t') {
            continue;
        }
        v = b32_value(*in);
        if (v < 0) {
            return -1;
        }
        acc = (acc << 5) | (uint32_t)v;
        bits += 5;
        if (bits >= 8) {
            if (o >= out_len) {
                return -1;
            }
            out[o++] = (uint8_t)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    /* Leftover bits must be zero padding, fewer than one symbol. */
    if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0) {
        return -1;
    }
    return (long)o;
}

void
ev_hex(char *out, const uint8_t *in, size_t in_len)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < in_len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * in_len] = '\0';
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int
ev_unhex(uint8_t *out, size_t out_len, const char *in)
{
    if (strlen(in) != 2 * out_len) {
        return EV_EINVAL;
    }
    for (size_t i = 0; i < out_len; i++) {
        int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return EV_EINVAL;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return EV_OK;
}

static int
digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9') {
            return -1;
        }
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int
days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : d[m - 1];
}

int
ev_parse_time(const char *in, char *out, size_t out_len)
{
    const char *p = in;
    int y, mo, d, h = 0, mi = 0, s = 0, off = 0;
    struct tm tm;
    time_t t;

    if (in == NULL || out_len < 21) {
        return EV_EINVAL;
    }
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
        *p++ != '-' || digits(&p, 2, &d)) {
        return EV_EINVAL;
    }
    if (y < 1900 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
        d > days_in_month(y, mo)) {
        return EV_EINVAL;
    }
    if (*p == '\0') {
        snprintf(out, out_len, "%04d-%02d-%02d", y, mo, d);
        return EV_OK;
    }
    if ((*p != 'T' && *p != ' ') || (p++, digits(&p, 2, &h)) ||
        *p++ != ':' || digits(&p, 2, &mi)) {
        return EV_EINVAL;
    }
    if (*p == ':') {
        p++;
        if (digits(&p, 2, &s)) {
            return EV_EINVAL;
        }
    }
    if (h > 23 || mi > 59 || s > 60) {
        return EV_EINVAL;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (digits(&p, 2, &oh) || (*p == ':' && (p++, 0)) ||
            digits(&p, 2, &om) || oh > 14 || om > 59) {
            return EV_EINVAL;
        }
        off = sign * (oh * 3600 + om * 60);
    }
    if (*p != '\0') {
        return EV_EINVAL;
    }
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    t = timegm(&tm) - off;
    if (gmtime_r(&t, &tm) == NULL) {
        return EV_EINVAL;
    }
    snprintf(out, out_len, "%04d-%02d-%02dT%02d:%02d:%02dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
    return EV_OK;
}

int
ev_errno_status(int e)
{
    return e == ENOSPC || e == EDQUOT ? EV_ENOSPC : EV_EIO;
}
