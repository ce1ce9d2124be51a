/*
 * fuzz_shares.c - trustee share lines as typed back in (`evault recover`,
 * `evault --share`): the evault-share1 form, hex fields, numbers, the
 * CRC-32.  Each input line is parsed; shares of the first set with
 * distinct numbers are then combined (libgfshare), as recovery does.
 */
#include "fuzz.h"
#include "shares.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES 16

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ev_tshare sh[MAX_LINES];
    uint8_t secret[EV_TRUSTEE_SECRET_BYTES];
    size_t nsh = 0, off = 0;

    while (off < size && nsh < MAX_LINES) {
        const uint8_t *nl = memchr(data + off, '\n', size - off);
        size_t ll = nl != NULL ? (size_t)(nl - (data + off)) : size - off;
        char *line = malloc(ll + 1);
        ev_tshare s;
        if (line == NULL) {
            break;
        }
        memcpy(line, data + off, ll);
        line[ll] = '\0';
        if (ev_share_parse(&s, line) == EV_SHARE_OK) {
            int dup = 0;
            if (s.x < 1 || s.x > s.n || s.k < 1 || s.k > s.n) {
                abort(); /* EV_SHARE_RANGE must have caught it */
            }
            for (size_t i = 0; i < nsh; i++) {
                dup |= sh[i].x == s.x ||
                       memcmp(sh[i].set, s.set, sizeof s.set) != 0;
            }
            if (!dup) {
                sh[nsh++] = s;
            }
        }
        free(line);
        off += ll + 1;
    }
    if (nsh > 0) {
        (void)ev_shares_combine(secret, sh, nsh);
    }
    return 0;
}
