/*
 * test_merkle.c - RFC 9162 trees: known answers from RFC 6962's reference
 * leaves, and every tree size up to 64, every index and every pair of sizes
 * cross-checked against a naive bottom-up construction; every altered proof
 * fails.
 */
#include "harness.h"
#include "crypto.h"
#include "merkle.h"

#include "evault.h"

#include <string.h>

static const char *const kat_leaves[] = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f"};

static const char *const kat_roots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

/* RFC 6962's published audit paths in the tree of 8 reference leaves. */
static const char *const kat_path0[] = {
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"};
static const char *const kat_path5[] = {
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"};

static void
hex32(ev_hash out, const char *hex)
{
    CHECK_EQ(ev_unhex(out, EV_HASH_BYTES, hex), EV_OK);
}

/* The naive construction: pair nodes level by level, carrying an odd last
 * node up unchanged (equal to RFC 6962's recursive definition). */
static void
naive_root(ev_hash out, const ev_hash *leaves, uint64_t n)
{
    ev_hash level[64];
    uint64_t m = n;

    if (n == 0) {
        ev_sha256_once(out, "", 0);
        return;
    }
    memcpy(level, leaves, n * EV_HASH_BYTES);
    while (m > 1) {
        uint64_t k = 0;
        for (uint64_t i = 0; i + 1 < m; i += 2) {
            ev_merkle_node(level[k++], level[i], level[i + 1]);
        }
        if (m & 1) {
            memcpy(level[k++], level[m - 1], EV_HASH_BYTES);
        }
        m = k;
    }
    memcpy(out, level[0], EV_HASH_BYTES);
}

/* The naive audit path: the sibling at each level where one exists. */
static size_t
naive_path(ev_hash *path, const ev_hash *leaves, uint64_t n, uint64_t index)
{
    ev_hash level[64];
    uint64_t m = n, at = index;
    size_t np = 0;

    memcpy(level, leaves, n * EV_HASH_BYTES);
    while (m > 1) {
        uint64_t k = 0;
        uint64_t sib = at ^ 1;
        if (sib < m) {
            memcpy(path[np++], level[sib], EV_HASH_BYTES);
        }
        for (uint64_t i = 0; i + 1 < m; i += 2) {
            ev_merkle_node(level[k++], level[i], level[i + 1]);
        }
        if (m & 1) {
            memcpy(level[k++], level[m - 1], EV_HASH_BYTES);
        }
        m = k;
        at >>= 1;
    }
    return np;
}

static void
known_answers(void)
{
    ev_hash leaves[8], root, want, path[EV_MERKLE_MAX_PATH];
    size_t np;

    for (size_t i = 0; i < 8; i++) {
        uint8_t raw[16];
        size_t len = strlen(kat_leaves[i]) / 2;
        CHECK_EQ(ev_unhex(raw, len, kat_leaves[i]), EV_OK);
        ev_merkle_leaf(leaves[i], raw, len);
    }
    for (uint64_t n = 0; n <= 8; n++) {
        ev_merkle_root(root, leaves, n);
        hex32(want, kat_roots[n]);
        CHECK(memcmp(root, want, EV_HASH_BYTES) == 0);
    }
    CHECK_EQ(ev_merkle_inclusion_proof(path, &np, leaves, 8, 0), 0);
    CHECK_EQ(np, 3);
    for (size_t i = 0; i < 3 && i < np; i++) {
        hex32(want, kat_path0[i]);
        CHECK(memcmp(path[i], want, EV_HASH_BYTES) == 0);
    }
    CHECK_EQ(ev_merkle_inclusion_proof(path, &np, leaves, 8, 5), 0);
    CHECK_EQ(np, 3);
    for (size_t i = 0; i < 3 && i < np; i++) {
        hex32(want, kat_path5[i]);
        CHECK(memcmp(path[i], want, EV_HASH_BYTES) == 0);
    }
}

static void
brute_force(void)
{
    ev_hash leaves[64], roots[65], path[EV_MERKLE_MAX_PATH];
    ev_hash npath_hashes[EV_MERKLE_MAX_PATH];
    int bad_incl = 0, bad_cons = 0, bad_tamper = 0, bad_naive = 0;
    int t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0;

    for (int i = 0; i < 64; i++) {
        uint8_t e[2] = {(uint8_t)i, (uint8_t)(i * 7)};
        ev_merkle_leaf(leaves[i], e, sizeof e);
    }
    for (uint64_t n = 0; n <= 64; n++) {
        ev_hash naive;
        ev_merkle_root(roots[n], leaves, n);
        naive_root(naive, leaves, n);
        bad_naive += memcmp(naive, roots[n], EV_HASH_BYTES) != 0;
    }
    for (uint64_t n = 1; n <= 64; n++) {
        for (uint64_t i = 0; i < n; i++) {
            size_t np, nn;
            if (ev_merkle_inclusion_proof(path, &np, leaves, n, i) != 0) {
                bad_incl++;
                continue;
            }
            nn = naive_path(npath_hashes, leaves, n, i);
            bad_naive += nn != np ||
                         memcmp(npath_hashes, path, np * EV_HASH_BYTES) != 0;
            bad_incl += ev_merkle_inclusion_verify(leaves[i], i, n, path, np,
                                                   roots[n]) != 0;
            /* Wrong index, wrong size, wrong leaf, altered or cut path. */
            if (n > 1) {
                t1 += ev_merkle_inclusion_verify(
                                  leaves[i], (i + 1) % n, n, path, np,
                                  roots[n]) == 0;
            }
            /* The proof of tree n does not prove tree n + 1 (the size
             * and root come together from a signed checkpoint). */
            if (n < 64) {
                t2 += ev_merkle_inclusion_verify(leaves[i], i, n + 1, path,
                                                 np, roots[n + 1]) == 0;
            }
            t3 += ev_merkle_inclusion_verify(leaves[(i + 1) % 64], i,
                                                     n, path, np,
                                                     roots[n]) == 0;
            for (size_t k = 0; k < np; k++) {
                path[k][k % 32] ^= 0x01;
                t4 += ev_merkle_inclusion_verify(leaves[i], i, n, path,
                                                         np, roots[n]) == 0;
                path[k][k % 32] ^= 0x01;
            }
            if (np > 0) {
                t5 += ev_merkle_inclusion_verify(leaves[i], i, n, path,
                                                         np - 1,
                                                         roots[n]) == 0;
            }
        }
    }
    for (uint64_t n = 1; n <= 64; n++) {
        for (uint64_t m = 1; m <= n; m++) {
            size_t np;
            if (ev_merkle_consistency_proof(path, &np, leaves, m, n) != 0) {
                bad_cons++;
                continue;
            }
            bad_cons += ev_merkle_consistency_verify(m, n, roots[m], roots[n],
                                                     path, np) != 0;
            for (size_t k = 0; k < np; k++) {
                path[k][0] ^= 0x80;
                c1 += ev_merkle_consistency_verify(
                                  m, n, roots[m], roots[n], path, np) == 0;
                path[k][0] ^= 0x80;
            }
            if (m < n) {
                /* a root from another size, a cut proof */
                c2 += ev_merkle_consistency_verify(
                                  m, n, roots[m - 1 > 0 ? m - 1 : n], roots[n],
                                  path, np) == 0;
                c3 += ev_merkle_consistency_verify(
                                  m, n, roots[m], roots[n - 1], path,
                                  np) == 0;
                c4 += ev_merkle_consistency_verify(
                                  m, n, roots[m], roots[n], path,
                                  np - 1) == 0;
            }
        }
    }
    CHECK_EQ(bad_naive, 0);
    CHECK_EQ(bad_incl, 0);
    CHECK_EQ(bad_cons, 0);
    bad_tamper = t1 + t2 + t3 + t4 + t5 + c1 + c2 + c3 + c4;
    CHECK_EQ(bad_tamper, 0);
    /* Sizes out of range. */
    CHECK(ev_merkle_consistency_proof(path, &(size_t){0}, leaves, 0, 5) != 0);
    CHECK(ev_merkle_consistency_proof(path, &(size_t){0}, leaves, 6, 5) != 0);
    CHECK(ev_merkle_inclusion_proof(path, &(size_t){0}, leaves, 5, 5) != 0);
    CHECK(ev_merkle_inclusion_verify(leaves[0], 5, 5, path, 0, roots[5]) != 0);
}

int
main(void)
{
    ev_init();
    known_answers();
    brute_force();
    EV_TEST_END();
}
