/*
 * fuzz_age.c - the age v1 reader on an attacker's file: armor, header
 * lines, stanzas, base64, the header MAC and the payload chunks.
 *
 * The reader holds the X25519 identity of tests/age/key_a.txt, so the seed
 * files made to it (tests/age/good_*.age) open and mutations of their
 * payload reach chunk authentication and the final-chunk rules.  No
 * passphrase identity: an scrypt stanza is parsed but never derived (up to
 * 2^22 work, seconds and gigabytes per input).  The read callback hands
 * the file over in pieces whose size depends on the input's length, so
 * the reader's buffering is exercised too.  The header is also read as
 * an identity file's (ev_age_header_scrypt: is it a passphrase's?).
 */
#include "age.h"
#include "fuzz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char key_a[] =
    "AGE-SECRET-KEY-"
    "1DCM9S56V088P9GNJQVVFNAZJ5PU6XVMRJL8QFJ7ZJ9Y70S5LZPDQJ6MA9F";

struct src {
    const uint8_t *p;
    size_t n, off, step;
};

static int
src_read(void *ctx, uint8_t *p, size_t cap, size_t *got)
{
    struct src *s = ctx;
    size_t k = s->n - s->off;

    if (k > cap) {
        k = cap;
    }
    if (k > s->step) {
        k = s->step;
    }
    memcpy(p, s->p + s->off, k);
    s->off += k;
    *got = k;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t steps[] = {SIZE_MAX, 1, 7, 4096};
    ev_age_identity id;
    ev_age_reader *r = NULL;
    struct src s = {data, size, 0, steps[size % 4]};
    uint8_t buf[70000];

    memset(&id, 0, sizeof id);
    id.kind = EV_AGE_ID_X25519;
    if (ev_age_identity_decode(id.x25519_sk, key_a) != 0) {
        abort();
    }
    if (ev_age_reader_new(&r, &id, 1, src_read, &s) == EV_AGE_OK) {
        size_t got, cap = size % 5 == 0 ? 100 : sizeof buf;
        while (ev_age_read(r, buf, cap, &got) == EV_AGE_OK && got > 0) {
        }
    }
    ev_age_reader_free(r);
    /* The same bytes as an identity file given to --identity: is it a
     * passphrase's (the header alone, nothing derived)? */
    {
        struct src h = {data, size, 0, steps[(size / 4) % 4]};
        int e = ev_age_header_scrypt(src_read, &h);
        if (e == EV_AGE_OK && h.off == 0) {
            abort(); /* a passphrase's header, read from no bytes */
        }
    }
    return 0;
}
