/*
 * fuzz_meta.c - a record's metadata after decryption (ev_meta_open): the
 * JSON of records.meta (jansson, duplicates rejected) and evault's reading
 * of it: strings, tags, the hex SHA-256 and salt, sizes and numbers.
 *
 * The catalog's fields are encrypted under a key derived from the master
 * key, so a stranger's bytes stop at the tag.  This target holds a vault
 * handle with a fixed master key (no catalog) and encrypts the fuzzed
 * JSON under the meta key and the record's associated data first
 * (approach (b) of tests/fuzz/README.md): it reaches what a stolen-key
 * forgery or a bug in a writer would.  Seeds (EV_FUZZ_MKSEEDS) are the
 * plaintexts of records sealed by ev_meta_seal, decrypted here, which
 * also checks that this target's associated data matches meta.c's.
 */
#include "fuzz.h"
#include "internal.h"
#include "util.h"

#define RECORD_ID 42

static ev_vault *v;

static void
wrap(uint8_t **out, size_t *out_len, const uint8_t *p, size_t n)
{
    uint8_t ad[22];

    memcpy(ad, "evault meta v1", 14); /* meta.c's meta_ad */
    ev_store64(ad + 14, (uint64_t)RECORD_ID);
    *out_len = n + EV_WRAP_OVERHEAD;
    *out = malloc(*out_len);
    if (*out == NULL) {
        abort();
    }
    ev_wrap(*out, p, n, ad, sizeof ad, v->keys->meta);
}

static void
make_seeds(void)
{
    static const char *const tags[] = {"detention", "k-17", ""};
    ev_record r, back;
    uint8_t *sealed, ad[22], *plain;
    size_t sealed_len;
    char name[32];

    for (int i = 0; i < 3; i++) {
        memset(&r, 0, sizeof r);
        r.id = RECORD_ID;
        r.name = "interview.m4a";
        r.path = i == 1 ? "cases/k17/interview.m4a" : NULL;
        r.kind = "audio";
        r.case_name = i != 2 ? "K-17" : NULL;
        r.source = "S1";
        r.note = i == 2 ? "a \"quoted\" note\nwith \\ and \u00e9" : NULL;
        r.captured_at = "2024-03-01T14:05:09Z";
        r.location = i == 0 ? "48.85,2.35" : NULL;
        r.tags = (char **)tags;
        r.ntags = (size_t)i;
        memset(r.sha256, 0xab, sizeof r.sha256);
        r.size = (uint64_t)i * 123456789;
        r.added_at = 1700000000;
        r.hash_only = i == 1;
        r.same_as = i == 2 ? 7 : 0;
        r.added_by = "Amira";
        r.custody_seq = 3;
        memset(r.commit_salt, 0x5c, sizeof r.commit_salt);
        if (ev_meta_seal(v, &r, &sealed, &sealed_len) != EV_OK ||
            ev_meta_open(v, RECORD_ID, sealed, sealed_len, &back) != EV_OK) {
            abort();
        }
        ev_record_release(&back);
        plain = malloc(sealed_len);
        memcpy(ad, "evault meta v1", 14);
        ev_store64(ad + 14, (uint64_t)RECORD_ID);
        if (plain == NULL || ev_unwrap(plain, sealed, sealed_len, ad, sizeof ad,
                                       v->keys->meta) != 0) {
            abort(); /* meta_ad changed: update wrap() above */
        }
        snprintf(name, sizeof name, "meta%d.json", i);
        fz_seed(name, plain, sealed_len - EV_WRAP_OVERHEAD);
        free(plain);
        free(sealed);
    }
    exit(0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    uint8_t mk[EV_KEY_BYTES];

    (void)argc;
    (void)argv;
    memset(mk, 0x4d, sizeof mk);
    if (ev_vault_new(&v) != EV_OK || ev_vault_set_master(v, mk) != EV_OK) {
        abort();
    }
    if (fz_seed_dir() != NULL) {
        make_seeds();
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *sealed;
    size_t sealed_len;
    ev_record r;

    wrap(&sealed, &sealed_len, data, size);
    if (ev_meta_open(v, RECORD_ID, sealed, sealed_len, &r) == EV_OK) {
        for (size_t i = 0; i < r.ntags; i++) {
            if (r.tags[i] == NULL) {
                abort();
            }
        }
        ev_record_release(&r);
    }
    free(sealed);
    return 0;
}
