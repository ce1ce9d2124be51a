/*
 * merkle.h - RFC 9162 (RFC 6962) Merkle tree hashing and proofs.
 *
 *   leaf hash = SHA-256(0x00 || entry)
 *   node hash = SHA-256(0x01 || left || right)
 *   MTH({})   = SHA-256("")
 *
 * Inclusion and consistency proofs are generated from the full list of leaf
 * hashes and verified exactly as RFC 9162 sections 2.1.3.2 and 2.1.4.2
 * write it.  Proof paths are arrays of 32-byte hashes, at most
 * EV_MERKLE_MAX_PATH long.
 */
#ifndef EV_MERKLE_H
#define EV_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define EV_HASH_BYTES 32
#define EV_MERKLE_MAX_PATH 64

typedef uint8_t ev_hash[EV_HASH_BYTES];

void ev_merkle_leaf(ev_hash out, const void *entry, size_t len);
void ev_merkle_node(ev_hash out, const ev_hash left, const ev_hash right);

/* The root of the tree of leaves[0..n). */
void ev_merkle_root(ev_hash out, const ev_hash *leaves, uint64_t n);

/* The audit path of leaf `index` in the tree of size n.  0, or -1 when
 * index >= n. */
int ev_merkle_inclusion_proof(ev_hash *path, size_t *npath,
                              const ev_hash *leaves, uint64_t n,
                              uint64_t index);
/* 0 when the path proves leaf at index in the tree of size n with root. */
int ev_merkle_inclusion_verify(const ev_hash leaf, uint64_t index,
                               uint64_t n, const ev_hash *path, size_t npath,
                               const ev_hash root);

/* The proof that the tree of size m is a prefix of the tree of size n
 * (0 < m <= n; empty when m == n).  0, or -1 on bad sizes. */
int ev_merkle_consistency_proof(ev_hash *path, size_t *npath,
                                const ev_hash *leaves, uint64_t m,
                                uint64_t n);
/* 0 when the path proves consistency of (m, old_root) with (n, new_root). */
int ev_merkle_consistency_verify(uint64_t m, uint64_t n,
                                 const ev_hash old_root,
                                 const ev_hash new_root, const ev_hash *path,
                                 size_t npath);

#endif
