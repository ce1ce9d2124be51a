/*
 * test_util.c - util.c: Padmé, Crockford base32, hex, ISO 8601 times.
 */
#include "harness.h"
#include "testutil.h"
#include "util.h"

#include <string.h>

/* ------------------------------------------------------------------ */
/* Padmé                                                               */
/* ------------------------------------------------------------------ */

static void
test_padme_known(void)
{
    static const struct {
        uint64_t len, padded;
    } kat[] = {
        {0, 0},
        {1, 1},
        {2, 2},
        {3, 3},
        {4, 4},
        {5, 5},
        {6, 6},
        {7, 7},
        {8, 8},   /* E=3, S=2: multiple of 2 */
        {9, 10},  /* 11.1 % */
        {10, 10},
        {11, 12},
        {15, 16},
        {17, 18}, /* E=4, S=3: multiple of 2 */
        {100, 104},  /* E=6, S=3: multiple of 8 */
        {129, 144},  /* E=7, S=3: multiple of 16; 11.6 %, the worst */
        {255, 256},
        {256, 256},
        {257, 272},  /* E=8, S=4: multiple of 16 */
        {1000, 1024}, /* E=9, S=4: multiple of 32 */
        {1025, 1088}, /* E=10, S=4: multiple of 64 */
        {(1u << 20), (1u << 20)},
        {(1u << 20) + 1, (1u << 20) + 32768}, /* E=20, S=5 */
        {(1u << 20) + 68, (1u << 20) + 32768},
        {(1u << 20) + 32768, (1u << 20) + 32768},
        {(1u << 20) + 32769, (1u << 20) + 65536},
        {(uint64_t)1 << 30, (uint64_t)1 << 30},
        {((uint64_t)1 << 30) + 1, ((uint64_t)1 << 30) + ((uint64_t)1 << 25)},
        {((uint64_t)1 << 32) - 1, (uint64_t)1 << 32}, /* E=31, S=5 */
        {((uint64_t)1 << 40) + 12345,
         ((uint64_t)1 << 40) + ((uint64_t)1 << 34)}, /* E=40, S=6 */
    };

    for (size_t i = 0; i < sizeof kat / sizeof *kat; i++) {
        uint64_t got = ev_padme(kat[i].len);
        if (got != kat[i].padded) {
            fprintf(stderr, "padme(%llu) = %llu, want %llu\n",
                    (unsigned long long)kat[i].len, (unsigned long long)got,
                    (unsigned long long)kat[i].padded);
        }
        CHECK_EQ(got, kat[i].padded);
    }
}

static unsigned
floor_log2(uint64_t x)
{
    unsigned e = 0;

    while (x >>= 1) {
        e++;
    }
    return e;
}

/* The properties that make Padmé useful: never shorter, little overhead,
 * few distinct outputs (low bits zero), idempotent and monotonic. */
static void
padme_property(uint64_t len, uint64_t *prev_len, uint64_t *prev_pad,
               int *bad)
{
    uint64_t p = ev_padme(len);
    unsigned e, s;

    if (p < len) {
        (*bad)++;
        return;
    }
    if (len >= 2) {
        e = floor_log2(len);
        s = floor_log2(e) + 1;
        /* overhead < 2^(E-S) <= len / (E + 1): about len / log2(len),
         * and never more than 12 % (the worst case is 129 -> 144, 11.6 %;
         * docs/FORMAT.md's "at most 11.1 %" holds only below 129) */
        if ((p - len) * (uint64_t)(e + 1) > len || (p - len) * 25 > len * 3) {
            (*bad)++;
        }
        /* at most S significant bits below the top: a multiple of 2^(E-S) */
        if (e > s && (p & ((((uint64_t)1) << (e - s)) - 1)) != 0) {
            (*bad)++;
        }
    }
    if (ev_padme(p) != p) {
        (*bad)++;
    }
    if (*prev_len <= len && ev_padme(*prev_len) != *prev_pad) {
        (*bad)++;
    }
    if (*prev_len <= len && *prev_pad > p) {
        (*bad)++;
    }
    *prev_len = len;
    *prev_pad = p;
}

static void
test_padme_properties(void)
{
    uint64_t pl = 0, pp = 0;
    int bad = 0;
    uint64_t x = 88172645463325252ull;

    for (uint64_t len = 0; len < 200000; len++) {
        padme_property(len, &pl, &pp, &bad);
    }
    CHECK_EQ(bad, 0);
    /* Around every power of two up to 2^62. */
    bad = 0;
    for (unsigned b = 2; b < 63; b++) {
        uint64_t base = (uint64_t)1 << b;
        pl = base - 3;
        pp = ev_padme(pl);
        for (uint64_t d = 0; d < 7; d++) {
            padme_property(base - 3 + d, &pl, &pp, &bad);
        }
    }
    CHECK_EQ(bad, 0);
    /* Random lengths of every magnitude. */
    bad = 0;
    for (int i = 0; i < 100000; i++) {
        uint64_t len;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        len = x >> (2 + x % 61); /* below 2^62: no overflow */
        pl = len;
        pp = ev_padme(len);
        padme_property(len, &pl, &pp, &bad);
    }
    CHECK_EQ(bad, 0);
    /* The padded sizes of 1..1 MiB take few distinct values. */
    {
        uint64_t distinct = 0, last = 0;
        for (uint64_t len = (1u << 19); len <= (1u << 20); len++) {
            uint64_t p = ev_padme(len);
            if (p != last) {
                distinct++;
                last = p;
            }
        }
        CHECK(distinct <= 33);
    }
}

/* ------------------------------------------------------------------ */
/* Crockford base32                                                    */
/* ------------------------------------------------------------------ */

static void
test_base32_known(void)
{
    static const struct {
        const char *in;
        const char *out;
    } kat[] = {
        {"", ""},
        {"f", "CR"},
        {"fo", "CSQG"},
        {"foo", "CSQPY"},
        {"foob", "CSQPYRG"},
        {"fooba", "CSQPYRK1"},
        {"foobar", "CSQPYRK1E8"},
    };
    char out[64];
    uint8_t back[64];

    for (size_t i = 0; i < sizeof kat / sizeof *kat; i++) {
        size_t n = strlen(kat[i].in);
        ev_base32_encode(out, (const uint8_t *)kat[i].in, n);
        CHECK(strcmp(out, kat[i].out) == 0);
        CHECK_EQ(ev_base32_decode(back, sizeof back, kat[i].out), (long)n);
        CHECK(memcmp(back, kat[i].in, n) == 0);
    }
    {
        uint8_t z[5] = {0}, f[5] = {0xff, 0xff, 0xff, 0xff, 0xff};
        ev_base32_encode(out, z, 5);
        CHECK(strcmp(out, "00000000") == 0);
        ev_base32_encode(out, f, 5);
        CHECK(strcmp(out, "ZZZZZZZZ") == 0);
    }
}

static void
test_base32_roundtrip(void)
{
    for (size_t len = 0; len <= 40; len++) {
        for (uint64_t seed = 0; seed < 20; seed++) {
            uint8_t in[40], back[48];
            char enc[80];
            long n;
            t_fill_random(in, len, seed * 100 + len);
            if (seed == 0) {
                memset(in, 0, len);
            } else if (seed == 1) {
                memset(in, 0xff, len);
            }
            ev_base32_encode(enc, in, len);
            CHECK_EQ(strlen(enc), (len * 8 + 4) / 5);
            for (const char *p = enc; *p; p++) {
                if (strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", *p) == NULL) {
                    CHECK(0);
                }
            }
            memset(back, 0xaa, sizeof back);
            n = ev_base32_decode(back, sizeof back, enc);
            CHECK_EQ(n, (long)len);
            CHECK(memcmp(back, in, len) == 0);
            /* exactly enough room works; one byte less does not */
            n = ev_base32_decode(back, len, enc);
            CHECK_EQ(n, (long)len);
            if (len > 0) {
                CHECK_EQ(ev_base32_decode(back, len - 1, enc), -1);
            }
        }
    }
}

static void
test_base32_folding(void)
{
    static const uint8_t want[] = {0x08, 0x42, 0x10, 0x84, 0x21}; /* 11111111 */
    uint8_t out[16];
    char enc[32], folded[64];
    uint8_t in[10];
    long n;

    /* "11111111" is 0x08 0x42 0x10 0x84 0x21; I, i, L, l are 1 */
    CHECK_EQ(ev_base32_decode(out, sizeof out, "11111111"), 5);
    CHECK(memcmp(out, want, 5) == 0);
    CHECK_EQ(ev_base32_decode(out, sizeof out, "IiLl1IlL"), 5);
    CHECK(memcmp(out, want, 5) == 0);
    /* O and o are 0 */
    CHECK_EQ(ev_base32_decode(out, sizeof out, "OoO0oO00"), 5);
    CHECK(out[0] == 0 && out[1] == 0 && out[2] == 0 && out[3] == 0 &&
          out[4] == 0);
    /* lower case, dashes and spaces */
    t_fill_random(in, sizeof in, 7);
    ev_base32_encode(enc, in, sizeof in);
    n = 0;
    for (size_t i = 0; enc[i]; i++) {
        if (i % 4 == 0 && i > 0) {
            folded[n++] = (i % 8 == 0) ? ' ' : '-';
        }
        folded[n++] = (char)((i % 3 == 0 && enc[i] >= 'A' && enc[i] <= 'Z')
                                 ? enc[i] - 'A' + 'a'
                                 : enc[i]);
    }
    folded[n++] = '-';
    folded[n] = '\0';
    memset(out, 0, sizeof out);
    CHECK_EQ(ev_base32_decode(out, sizeof out, folded), (long)sizeof in);
    CHECK(memcmp(out, in, sizeof in) == 0);
    CHECK_EQ(ev_base32_decode(out, sizeof out, "--- -"), 0);
}

static void
test_base32_rejects(void)
{
    uint8_t out[32];
    /* characters outside the alphabet, including U */
    static const char *const bad_chars[] = {
        "CSQPYRK1E8U", "CSQPYRK1E*", "CSQPYRK1E=", "CSQP_RK1", "CSQP.RK1",
        "CSQP\nRK1",   "CSQPu RK1",  "CSQ\xc3\xa9", "+", "@",
    };
    /* lengths no encoding produces (a lone symbol, 3 or 6 symbols) */
    static const char *const bad_lengths[] = {"C", "CSQ", "CSQPYR",
                                              "CSQPYRK1E"};

    for (size_t i = 0; i < sizeof bad_chars / sizeof *bad_chars; i++) {
        CHECK_EQ(ev_base32_decode(out, sizeof out, bad_chars[i]), -1);
    }
    for (size_t i = 0; i < sizeof bad_lengths / sizeof *bad_lengths; i++) {
        CHECK_EQ(ev_base32_decode(out, sizeof out, bad_lengths[i]), -1);
    }
    /* non-zero trailing bits: "CR" is 'f'; "CS" .. "CZ" set padding bits */
    CHECK_EQ(ev_base32_decode(out, sizeof out, "CR"), 1);
    CHECK_EQ(ev_base32_decode(out, sizeof out, "CS"), -1);
    CHECK_EQ(ev_base32_decode(out, sizeof out, "CZ"), -1);
    /* "CSQG" is "fo": its last symbol carries 1 padding bit */
    CHECK_EQ(ev_base32_decode(out, sizeof out, "CSQG"), 2);
    CHECK_EQ(ev_base32_decode(out, sizeof out, "CSQH"), -1);
    /* every last symbol of an encoding of 1..5 bytes: only the one with
     * zero padding decodes */
    for (size_t len = 1; len <= 5; len++) {
        uint8_t in[8];
        char enc[16];
        size_t el;
        int accepted = 0;
        t_fill_random(in, len, 99 + len);
        ev_base32_encode(enc, in, len);
        el = strlen(enc);
        for (const char *c = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; *c; c++) {
            enc[el - 1] = *c;
            if (ev_base32_decode(out, sizeof out, enc) >= 0) {
                accepted++;
            }
        }
        /* 8*len bits in ceil(8*len/5) symbols leave p padding bits: 32 >> p
         * of the 32 last symbols are valid */
        CHECK_EQ(accepted, 32 >> ((5 - (8 * len) % 5) % 5));
    }
}

/* ------------------------------------------------------------------ */
/* Hex                                                                 */
/* ------------------------------------------------------------------ */

static void
test_hex(void)
{
    uint8_t in[64], back[64];
    char hex[129];
    static const uint8_t abc[] = {0x00, 0x01, 0xab, 0xcd, 0xef, 0xff};

    ev_hex(hex, abc, sizeof abc);
    CHECK(strcmp(hex, "0001abcdefff") == 0);
    ev_hex(hex, abc, 0);
    CHECK(strcmp(hex, "") == 0);
    for (size_t len = 0; len <= 64; len++) {
        t_fill_random(in, len, len);
        ev_hex(hex, in, len);
        CHECK_EQ(strlen(hex), 2 * len);
        memset(back, 0, sizeof back);
        CHECK_EQ(ev_unhex(back, len, hex), EV_OK);
        CHECK(memcmp(back, in, len) == 0);
    }
    /* upper case accepted */
    CHECK_EQ(ev_unhex(back, 6, "0001ABCDEFFF"), EV_OK);
    CHECK(memcmp(back, abc, 6) == 0);
    CHECK_EQ(ev_unhex(back, 6, "0001AbCdEfFf"), EV_OK);
    CHECK(memcmp(back, abc, 6) == 0);
    /* rejects: wrong length, odd length, bad digits, spaces, prefix */
    CHECK_EQ(ev_unhex(back, 6, "0001abcdef"), EV_EINVAL);
    CHECK_EQ(ev_unhex(back, 6, "0001abcdefff00"), EV_EINVAL);
    CHECK_EQ(ev_unhex(back, 6, "0001abcdefff0"), EV_EINVAL);
    CHECK_EQ(ev_unhex(back, 6, "0001abcdefgg"), EV_EINVAL);
    CHECK_EQ(ev_unhex(back, 6, "0001abcd efff"), EV_EINVAL);
    CHECK_EQ(ev_unhex(back, 6, "0x01abcdefff"), EV_EINVAL);
    CHECK_EQ(ev_unhex(back, 6, "-001abcdefff"), EV_EINVAL);
    CHECK_EQ(ev_unhex(back, 1, ""), EV_EINVAL);
    CHECK_EQ(ev_unhex(back, 0, ""), EV_OK);
    /* every single non-hex character at every position */
    {
        int bad = 0;
        for (int c = 1; c < 256; c++) {
            char s[13] = "0001abcdefff";
            if (strchr("0123456789abcdefABCDEF", c) != NULL) {
                continue;
            }
            for (int pos = 0; pos < 12; pos++) {
                s[pos] = (char)c;
                if (ev_unhex(back, 6, s) != EV_EINVAL) {
                    bad++;
                }
                memcpy(s, "0001abcdefff", 12);
            }
        }
        CHECK_EQ(bad, 0);
    }
}

/* ------------------------------------------------------------------ */
/* ISO 8601                                                            */
/* ------------------------------------------------------------------ */

static void
test_time_good(void)
{
    static const struct {
        const char *in, *out;
    } good[] = {
        {"2024-03-01", "2024-03-01"},
        {"2024-03-01T14:05", "2024-03-01T14:05:00Z"},
        {"2024-03-01T14:05:09Z", "2024-03-01T14:05:09Z"},
        {"2024-03-01 14:05:09+02:00", "2024-03-01T12:05:09Z"},
        {"2024-03-01 14:05:09+0200", "2024-03-01T12:05:09Z"},
        {"2024-03-01T14:05:09-05:30", "2024-03-01T19:35:09Z"},
        {"2024-03-01T01:00:00+02:00", "2024-02-29T23:00:00Z"},
        {"2024-12-31T23:30:00-01:00", "2025-01-01T00:30:00Z"},
        {"2024-02-29", "2024-02-29"},
        {"2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"},
        {"2000-02-29", "2000-02-29"},
        {"1999-12-31T23:59:59Z", "1999-12-31T23:59:59Z"},
        {"2024-01-31", "2024-01-31"},
        {"2024-04-30", "2024-04-30"},
    };
    char out[64];

    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        int rc;
        memset(out, 'x', sizeof out);
        rc = ev_parse_time(good[i].in, out, sizeof out);
        if (rc != EV_OK || strcmp(out, good[i].out) != 0) {
            fprintf(stderr, "parse_time('%s') = %d '%s', want '%s'\n",
                    good[i].in, rc, rc == EV_OK ? out : "", good[i].out);
        }
        CHECK_EQ(rc, EV_OK);
        CHECK(strcmp(out, good[i].out) == 0);
    }
    /* the output buffer must hold the full form */
    CHECK_EQ(ev_parse_time("2024-03-01T14:05:09Z", out, 21), EV_OK);
    CHECK(strcmp(out, "2024-03-01T14:05:09Z") == 0);
    CHECK_EQ(ev_parse_time("2024-03-01T14:05:09Z", out, 20), EV_EINVAL);
}

static void
test_time_fail(void)
{
    static const char *const bad[] = {
        "",
        "2023-02-29",          /* not a leap year */
        "1900-02-29",          /* not a leap year either */
        "2024-02-30",
        "2024-04-31",
        "2024-13-01",
        "2024-00-10",
        "2024-01-00",
        "2024-01-32",
        "2024-3-1",
        "2024-03-1",
        "24-03-01",
        "2024/03/01",
        "20240301",
        "2024-03-01x",
        "2024-03-01T",
        "2024-03-01T14",
        "2024-03-01T14:",
        "2024-03-01T14:5",
        "2024-03-01T24:00",
        "2024-03-01T24:00:00Z",
        "2024-03-01T23:60",
        "2024-03-01T14:05:09Zjunk",
        "2024-03-01T14:05:09+02:00 ",
        "2024-03-01T14:05:09 ",
        " 2024-03-01",
        "2024-03-01T14:05:09+2",
        "2024-03-01T14:05:09+02:",
        "2024-03-01T14:05:09+15:00",
        "2024-03-01T14:05:09+02:60",
        "2024-03-01T14:05:9",
        "2024-03-01T14:05:61",
        "2024-03-01X14:05:09",
        "abcd-ef-gh",
        "0000-01-01",
        "-2024-03-01",
    };
    char out[64];

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = ev_parse_time(bad[i], out, sizeof out);
        if (rc != EV_EINVAL) {
            fprintf(stderr, "parse_time('%s') accepted as '%s'\n", bad[i],
                    out);
        }
        CHECK_EQ(rc, EV_EINVAL);
    }
    CHECK_EQ(ev_parse_time(NULL, out, sizeof out), EV_EINVAL);
}

int
main(void)
{
    test_padme_known();
    test_padme_properties();
    test_base32_known();
    test_base32_roundtrip();
    test_base32_folding();
    test_base32_rejects();
    test_hex();
    test_time_good();
    test_time_fail();
    EV_TEST_END();
}
