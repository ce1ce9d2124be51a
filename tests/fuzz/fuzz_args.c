/*
 * fuzz_args.c - command-line and typed-in values: times (`--captured-at`,
 * ev_parse_time), sizes and ids (cli_parse_u64 and cli_parse_id from
 * cli/util.c, compiled in), hex (`--sha256`, ev_unhex) and Crockford
 * base32 (a recovery key as typed, ev_base32_decode).
 *
 * Checks beyond "no crash": a normalised time parses again to itself, an
 * id is 1..INT64_MAX, decoded hex and base32 stay within their buffers,
 * and a parsed number prints back as the input's digits (no sign, space or
 * wrap-around accepted).
 */
#include "cli.h"
#include "evault.h"
#include "fuzz.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long ev_base32_decode(uint8_t *out, size_t out_len, const char *in);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), t[32], t2[32], back[32];
    uint8_t buf[64];
    uint64_t u;
    int64_t id;
    long n;

    if (s == NULL) {
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';
    if (ev_parse_time(s, t, sizeof t) == EV_OK) {
        if (ev_parse_time(t, t2, sizeof t2) != EV_OK || strcmp(t, t2) != 0) {
            abort();
        }
    }
    if (cli_parse_u64(s, &u) == 0) {
        const char *d = s;
        while (*d == '0' && d[1] != '\0') {
            d++;
        }
        snprintf(back, sizeof back, "%" PRIu64, u);
        if (strcmp(back, d) != 0) {
            abort();
        }
    }
    if (cli_parse_id(s, &id) == 0 && id < 1) {
        abort();
    }
    (void)ev_unhex(buf, 32, s);
    n = ev_base32_decode(buf, 32, s);
    if (n > 32) {
        abort();
    }
    free(s);
    return 0;
}
