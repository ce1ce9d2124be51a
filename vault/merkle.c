/*
 * merkle.c - RFC 9162 Merkle trees (see merkle.h).
 *
 * Owns: tree hashing, proof generation and proof verification.
 * Never: allocates, or trusts a proof's length or sizes without checking.
 */
#include "merkle.h"

#include "crypto.h"

#include <string.h>

void
ev_merkle_leaf(ev_hash out, const void *entry, size_t len)
{
    static const uint8_t zero = 0x00;

    /* cannot fail: no made-up leaf for lack of memory */
    ev_sha256_two(out, &zero, 1, entry, len);
}

void
ev_merkle_node(ev_hash out, const ev_hash left, const ev_hash right)
{
    uint8_t buf[1 + 2 * EV_HASH_BYTES];

    buf[0] = 0x01;
    memcpy(buf + 1, left, EV_HASH_BYTES);
    memcpy(buf + 1 + EV_HASH_BYTES, right, EV_HASH_BYTES);
    ev_sha256_once(out, buf, sizeof buf);
}

/* The largest power of two smaller than n (n > 1). */
static uint64_t
split_point(uint64_t n)
{
    uint64_t k = 1;

    while (k << 1 < n) {
        k <<= 1;
    }
    return k;
}

void
ev_merkle_root(ev_hash out, const ev_hash *leaves, uint64_t n)
{
    ev_hash l, r;
    uint64_t k;

    if (n == 0) {
        ev_sha256_once(out, "", 0);
        return;
    }
    if (n == 1) {
        memcpy(out, leaves[0], EV_HASH_BYTES);
        return;
    }
    k = split_point(n);
    ev_merkle_root(l, leaves, k);
    ev_merkle_root(r, leaves + k, n - k);
    ev_merkle_node(out, l, r);
}

/* RFC 6962 2.1.1 PATH(m, D[n]), appended to path. */
static void
path_of(ev_hash *path, size_t *npath, const ev_hash *leaves, uint64_t n,
        uint64_t m)
{
    uint64_t k;

    if (n <= 1) {
        return;
    }
    k = split_point(n);
    if (m < k) {
        path_of(path, npath, leaves, k, m);
        ev_merkle_root(path[(*npath)++], leaves + k, n - k);
    } else {
        path_of(path, npath, leaves + k, n - k, m - k);
        ev_merkle_root(path[(*npath)++], leaves, k);
    }
}

int
ev_merkle_inclusion_proof(ev_hash *path, size_t *npath, const ev_hash *leaves,
                          uint64_t n, uint64_t index)
{
    *npath = 0;
    if (index >= n) {
        return -1;
    }
    path_of(path, npath, leaves, n, index);
    return 0;
}

int
ev_merkle_inclusion_verify(const ev_hash leaf, uint64_t index, uint64_t n,
                           const ev_hash *path, size_t npath,
                           const ev_hash root)
{
    uint64_t fn = index, sn;
    ev_hash r;

    if (index >= n || npath > EV_MERKLE_MAX_PATH) {
        return -1;
    }
    sn = n - 1;
    memcpy(r, leaf, EV_HASH_BYTES);
    for (size_t i = 0; i < npath; i++) {
        if (sn == 0) {
            return -1;
        }
        if ((fn & 1) || fn == sn) {
            ev_merkle_node(r, path[i], r);
            if (!(fn & 1)) {
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            ev_merkle_node(r, r, path[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0) {
        return -1;
    }
    return ev_memeq(r, root, EV_HASH_BYTES) ? 0 : -1;
}

/* RFC 6962 2.1.2 SUBPROOF(m, D[n], b), appended to path. */
static void
subproof(ev_hash *path, size_t *npath, const ev_hash *leaves, uint64_t m,
         uint64_t n, int whole)
{
    uint64_t k;

    if (m == n) {
        if (!whole) {
            ev_merkle_root(path[(*npath)++], leaves, n);
        }
        return;
    }
    k = split_point(n);
    if (m <= k) {
        subproof(path, npath, leaves, m, k, whole);
        ev_merkle_root(path[(*npath)++], leaves + k, n - k);
    } else {
        subproof(path, npath, leaves + k, m - k, n - k, 0);
        ev_merkle_root(path[(*npath)++], leaves, k);
    }
}

int
ev_merkle_consistency_proof(ev_hash *path, size_t *npath,
                            const ev_hash *leaves, uint64_t m, uint64_t n)
{
    *npath = 0;
    if (m == 0 || m > n) {
        return -1;
    }
    if (m < n) {
        subproof(path, npath, leaves, m, n, 1);
    }
    return 0;
}

int
ev_merkle_consistency_verify(uint64_t m, uint64_t n, const ev_hash old_root,
                             const ev_hash new_root, const ev_hash *path,
                             size_t npath)
{
    ev_hash fr, sr;
    uint64_t fn, sn;
    size_t i = 0;

    if (m == 0 || m > n || npath > EV_MERKLE_MAX_PATH) {
        return -1;
    }
    if (m == n) {
        return npath == 0 && ev_memeq(old_root, new_root, EV_HASH_BYTES)
                   ? 0
                   : -1;
    }
    /* 1. An empty proof proves nothing. */
    if (npath == 0) {
        return -1;
    }
    /* 2. If m is a power of two, the old root is the first node. */
    if ((m & (m - 1)) == 0) {
        memcpy(fr, old_root, EV_HASH_BYTES);
    } else {
        memcpy(fr, path[i++], EV_HASH_BYTES);
    }
    memcpy(sr, fr, EV_HASH_BYTES);
    /* 3, 4 */
    fn = m - 1;
    sn = n - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    /* 6 */
    for (; i < npath; i++) {
        if (sn == 0) {
            return -1;
        }
        if ((fn & 1) || fn == sn) {
            ev_merkle_node(fr, path[i], fr);
            ev_merkle_node(sr, path[i], sr);
            if (!(fn & 1)) {
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            ev_merkle_node(sr, sr, path[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    /* 7 */
    if (sn != 0) {
        return -1;
    }
    return ev_memeq(fr, old_root, EV_HASH_BYTES) &&
                   ev_memeq(sr, new_root, EV_HASH_BYTES)
               ? 0
               : -1;
}
