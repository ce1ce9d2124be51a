/*
 * fuzz_tlog_proof.c - a c2sp.org/tlog-proof@v1 file from outside (`evault
 * verify --proof`, a bundle's proofs/): the proof parser (extra, index,
 * hashes), then the whole check a court runs: the checkpoint inside,
 * its signature under the fixed key of fuzz.h, the inclusion proof, the
 * disclosed custody entry and the file's hash and size.
 *
 * Seeds (made by this target, EV_FUZZ_MKSEEDS) are valid proofs for the
 * file "fuzz" (4 bytes) in logs of 1, 2, 5 and 16 entries, so mutations
 * reach every stage; the disclosed entry is covered by the Merkle root,
 * so a mutated entry stops at the inclusion check (its parser is reached
 * from the seeds themselves).
 */
#include "fuzz.h"

static const char file[] = "fuzz";

static void
make_seeds(void)
{
    static const uint64_t n[] = {1, 2, 5, 16}, idx[] = {0, 1, 3, 9};
    uint8_t sha[32];
    char out[EV_PROOF_MAX], name[32];

    ev_sha256_once(sha, file, sizeof file - 1);
    for (int i = 0; i < 4; i++) {
        size_t len =
            fz_proof(out, sizeof out, idx[i], n[i], sha, sizeof file - 1,
                     i % 2 ? "2024-03-02T09:30:00Z" : NULL);
        snprintf(name, sizeof name, "proof%d", i);
        fz_seed(name, out, len);
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
    static ev_tlog_proof p;
    ev_verify_report r;
    char key[256];
    uint8_t sha[32];

    if (ev_tlog_proof_parse(&p, (const char *)data, size) == 0 &&
        (p.extra_len > sizeof p.extra || p.npath > EV_MERKLE_MAX_PATH ||
         p.checkpoint < (const char *)data ||
         p.checkpoint + p.checkpoint_len > (const char *)data + size)) {
        abort();
    }
    fz_note_key_text(key);
    ev_sha256_once(sha, file, sizeof file - 1);
    (void)ev_verify_proof((const char *)data, size, key, strlen(key), sha,
                          sizeof file - 1, &r);
    return 0;
}
