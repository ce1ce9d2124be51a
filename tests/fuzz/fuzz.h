/*
 * fuzz.h - what the fuzz targets share: fixed test keys (never secrets)
 * and the seed inputs made with them.
 *
 * Seeds that must carry valid signatures (checkpoints, proofs, bundles)
 * are made by the targets themselves, so they always match the keys
 * compiled in: run a target with EV_FUZZ_MKSEEDS=DIR and it writes its
 * made seeds to DIR and exits (tests/fuzz/mkseeds.sh does every target).
 */
#ifndef EV_FUZZ_H
#define EV_FUZZ_H

#include "crypto.h"
#include "evault.h"
#include "merkle.h"
#include "note.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libsodium before anything (as ev_vault_new does): sodium_malloc aborts
 * without it. */
__attribute__((constructor)) static void
fz_sodium_init(void)
{
    if (sodium_init() < 0) {
        abort();
    }
}

/* Stops the run when a string a parser filled is not NUL-terminated
 * within its buffer of cap bytes. */
static inline void
fz_terminated(const char *s, size_t cap)
{
    if (memchr(s, '\0', cap) == NULL) {
        abort();
    }
}

/* The signer of made checkpoints, proofs and bundles: Ed25519 from a fixed
 * seed, its note key named like a vault's. */
#define FZ_LOG_NAME "evault.local/0123456789abcdef0123456789abcdef"

static inline void
fz_sign_key(uint8_t pk[32], uint8_t sk[64])
{
    uint8_t seed[32];

    memset(seed, 0x5a, sizeof seed);
    if (sodium_init() < 0 || crypto_sign_seed_keypair(pk, sk, seed) != 0) {
        abort();
    }
}

static inline void
fz_note_key(ev_note_key *k)
{
    uint8_t pk[32], sk[64];

    fz_sign_key(pk, sk);
    if (ev_note_key_make(k, FZ_LOG_NAME, pk) != 0) {
        abort();
    }
}

/* The verifier key text ("name+id+base64"). */
static inline void
fz_note_key_text(char out[256])
{
    ev_note_key k;

    fz_note_key(&k);
    if (ev_note_key_format(out, 256, &k) != 0) {
        abort();
    }
}

/* Non-zero when seeds are wanted; then fz_seed writes them. */
static inline const char *
fz_seed_dir(void)
{
    const char *d = getenv("EV_FUZZ_MKSEEDS");
    return d != NULL && d[0] != '\0' ? d : NULL;
}

static inline void
fz_seed(const char *name, const void *p, size_t n)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", fz_seed_dir(), name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

/* The custody entry of an intake, as evault writes it: what a proof
 * discloses. */
static inline size_t
fz_entry(char *out, size_t cap, uint64_t seq, const uint8_t sha256[32],
         uint64_t size)
{
    char hex[65];
    int n;

    ev_hex(hex, sha256, 32);
    n = snprintf(out, cap,
                 "evault custody v1\nseq %llu\ntime 2024-03-01T10:00:00Z\n"
                 "action add\nrecord %llu\nsha256 %s\nsize %llu\n"
                 "commitment %s\n",
                 (unsigned long long)seq, (unsigned long long)seq + 1, hex,
                 (unsigned long long)size, hex);
    if (n < 0 || (size_t)n >= cap) {
        abort();
    }
    return (size_t)n;
}

/* A tlog proof that file (sha256, size) is entry `index` of a log of n
 * entries (the others filler), signed with fz_sign_key; returns its
 * length.  time may be NULL. */
static inline size_t
fz_proof(char *out, size_t cap, uint64_t index, uint64_t n,
         const uint8_t sha256[32], uint64_t size, const char *time)
{
    ev_hash leaves[16], path[EV_MERKLE_MAX_PATH];
    char entry[512], note[EV_NOTE_MAX];
    size_t npath, elen = 0, len;
    ev_checkpoint c;
    ev_note_key k;
    uint8_t pk[32], sk[64];

    if (n > 16 || index >= n) {
        abort();
    }
    for (uint64_t i = 0; i < n; i++) {
        char e[512];
        size_t el = fz_entry(e, sizeof e, i, sha256, size + (i != index));
        ev_merkle_leaf(leaves[i], e, el);
        if (i == index) {
            memcpy(entry, e, el);
            elen = el;
        }
    }
    fz_sign_key(pk, sk);
    fz_note_key(&k);
    memset(&c, 0, sizeof c);
    snprintf(c.origin, sizeof c.origin, "%s", FZ_LOG_NAME);
    c.size = n;
    ev_merkle_root(c.root, leaves, n);
    snprintf(c.time, sizeof c.time, "%s", time != NULL ? time : "");
    if (ev_merkle_inclusion_proof(path, &npath, leaves, n, index) != 0 ||
        ev_checkpoint_sign(note, sizeof note, &c, &k, sk) != 0) {
        abort();
    }
    len = ev_tlog_proof_format(out, cap, (const uint8_t *)entry, elen, index,
                               (const ev_hash *)path, npath, note);
    sodium_memzero(sk, sizeof sk);
    if (len == 0) {
        abort();
    }
    return len;
}

#endif
