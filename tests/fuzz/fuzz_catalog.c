/*
 * fuzz_catalog.c - the catalog's encrypted fields that fuzz_meta does not
 * cover, as evault reads them after decryption: a contact row
 * (ev_contact_decode: JSON, then the age and minisign keys it names), a
 * key slot's description (ev_slot_info_decode), an amendment
 * (ev_amendment_decode) and a custody entry's text (ev_custody_field,
 * ev_custody_names_record, as check and verify read it).
 *
 * They sit behind the vault's keys (approach (a) of tests/fuzz/README.md:
 * the plaintext is fuzzed directly); what reaches them is what a writer
 * bug, or someone holding the keys, could store.  The first byte picks
 * the field; the rest is its plaintext.
 */
#include "custody.h"
#include "evault.h"
#include "fuzz.h"
#include "internal.h"
#include "keyslot.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {"action", "seq",        "record",
                                       "sha256", "size",       "commitment",
                                       "time",   "fingerprint", NULL};
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    char *text;

    if (size < 1) {
        return 0;
    }
    /* the readers get a NUL-terminated copy, as after ev_unwrap */
    text = malloc(n + 1);
    if (text == NULL) {
        abort();
    }
    memcpy(text, in, n);
    text[n] = '\0';
    switch (data[0] % 4) {
    case 0: {
        ev_contact c;
        if (ev_contact_decode(text, n, &c) == EV_OK) {
            fz_terminated(c.name, sizeof c.name);
            fz_terminated(c.age, sizeof c.age);
            fz_terminated(c.minisign, sizeof c.minisign);
        }
        break;
    }
    case 1: {
        ev_slot_info s;
        memset(&s, 0, sizeof s);
        if (ev_slot_info_decode(text, &s) == EV_OK) {
            fz_terminated(s.label, sizeof s.label);
            fz_terminated(s.added_by, sizeof s.added_by);
            fz_terminated(s.recipient, sizeof s.recipient);
            if (s.threshold < 0 || s.threshold > 255 || s.shares < 0 ||
                s.shares > 255) {
                abort();
            }
        }
        break;
    }
    case 2: {
        ev_record r;
        if (ev_amendment_decode(text, n, 42, &r) == EV_OK) {
            if (r.id != 42 || (r.ntags > 0 && r.tags == NULL)) {
                abort();
            }
            for (size_t i = 0; i < r.ntags; i++) {
                if (r.tags[i] == NULL) {
                    abort();
                }
                (void)strlen(r.tags[i]);
            }
            ev_record_release(&r);
        }
        break;
    }
    default: {
        char small[8], big[200];
        for (size_t i = 0; keys[i] != NULL; i++) {
            if (ev_custody_field(text, keys[i], small, sizeof small) == 0) {
                fz_terminated(small, sizeof small);
            }
            if (ev_custody_field(text, keys[i], big, sizeof big) == 0) {
                fz_terminated(big, sizeof big);
            }
        }
        for (int64_t id = 0; id < 4; id++) {
            (void)ev_custody_names_record(text, id);
        }
        (void)ev_custody_names_record(text, INT64_MAX);
        (void)ev_custody_names_record(text, INT64_MIN);
        break;
    }
    }
    free(text);
    return 0;
}
