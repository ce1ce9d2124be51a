/*
 * test_regress.c - regression tests for library bugs found in review, one
 * block per bug, each naming what went wrong.
 */
#include "crypto.h"
#include "harness.h"

#include "evault.h"

#include <string.h>

/* libsodium 1.0.18 decodes any byte >= 0x80 as '/': "AA/A" and "AA\xafA"
 * decoded alike, so an altered proof, checkpoint or signature line could
 * pass.  ev_base64_decode must refuse bytes outside the alphabet. */
static void
base64_alphabet(void)
{
    uint8_t out[8];
    char s[] = "AAAA";

    CHECK_EQ(ev_base64_decode(out, sizeof out, "AA/A", 4), 3);
    for (int b = 0x80; b <= 0xff; b++) {
        s[2] = (char)b;
        CHECK(ev_base64_decode(out, sizeof out, s, 4) < 0);
    }
    s[2] = ' ';
    CHECK(ev_base64_decode(out, sizeof out, s, 4) < 0);
    s[2] = '\0';
    CHECK(ev_base64_decode(out, sizeof out, s, 4) < 0);
}

int
main(void)
{
    CHECK_EQ(ev_init(), EV_OK);
    base64_alphabet();
    EV_TEST_END();
}
