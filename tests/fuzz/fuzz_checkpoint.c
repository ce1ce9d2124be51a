/*
 * fuzz_checkpoint.c - C2SP signed notes from outside: a verifier key
 * (`evault verify --key`, a bundle's vault.pub) and a signed checkpoint
 * (inside every tlog proof) opened against the fixed key of fuzz.h.
 *
 * The input is tried as a verifier key, then as a checkpoint note.  Seeds
 * (made by this target, EV_FUZZ_MKSEEDS): checkpoints with and without a
 * time, with a second signature line, and the key text, so mutations reach
 * the signature check and, for the unsigned parts, the body parser.
 */
#include "fuzz.h"

static void
make_seeds(void)
{
    static const char *const times[] = {NULL, "2024-03-01T10:00:00Z"};
    char key[256], note[EV_NOTE_MAX], name[32];
    ev_checkpoint c;
    ev_note_key k;
    uint8_t pk[32], sk[64];

    fz_sign_key(pk, sk);
    fz_note_key(&k);
    fz_note_key_text(key);
    fz_seed("key", key, strlen(key));
    for (int i = 0; i < 4; i++) {
        memset(&c, 0, sizeof c);
        snprintf(c.origin, sizeof c.origin, "%s", FZ_LOG_NAME);
        c.size = (uint64_t)i * 1000 + 1;
        memset(c.root, 0x11 * i, sizeof c.root);
        snprintf(c.time, sizeof c.time, "%s",
                 times[i % 2] != NULL ? times[i % 2] : "");
        if (ev_checkpoint_sign(note, sizeof note, &c, &k, sk) != 0) {
            abort();
        }
        if (i == 3) { /* a second signature, by another key */
            size_t n = strlen(note);
            snprintf(note + n, sizeof note - n,
                     "\xe2\x80\x94 other.example/log AAAAAAAAAAAAAAAAAAAAAAAAA"
                     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                     "AAAAAAA"
                     "AAAAAAAAAAA=\n");
        }
        snprintf(name, sizeof name, "checkpoint%d", i);
        fz_seed(name, note, strlen(note));
    }
    exit(0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (fz_seed_dir() != NULL) {
        make_seeds();
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ev_note_key k, parsed;
    ev_checkpoint c;
    const char *text = (const char *)data;

    fz_note_key(&k);
    if (ev_note_key_parse(&parsed, text, size) == 0 &&
        memchr(parsed.name, '\0', sizeof parsed.name) == NULL) {
        abort();
    }
    if (ev_checkpoint_open(&c, text, size, &k) == 0 &&
        (memchr(c.origin, '\0', sizeof c.origin) == NULL ||
         memchr(c.time, '\0', sizeof c.time) == NULL)) {
        abort();
    }
    return 0;
}
