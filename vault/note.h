/*
 * note.h - C2SP signed notes (Ed25519), tlog checkpoints and tlog proofs:
 * the text formats a court or partner verifies with public tools.
 *
 *   verifier key:  <name>+<key id, 8 hex>+<base64(0x01 || Ed25519 pk)>
 *   key id:        SHA-256(name || 0x0A || 0x01 || pk)[:4], big-endian
 *   checkpoint:    <origin>\n<size>\n<base64 root>\n[time <ISO 8601>\n]
 *   signed note:   text || \n || "— " name " " base64(key id || sig) \n
 *   tlog proof:    c2sp.org/tlog-proof@v1\n[extra <b64>\n]index <n>\n
 *                  <b64 hash>\n... \n <signed checkpoint>
 *
 * Parsers take untrusted input: every length is bounded, every field
 * checked, and nothing in a note is used before its signature verifies.
 */
#ifndef EV_NOTE_H
#define EV_NOTE_H

#include "merkle.h"

#include <stddef.h>
#include <stdint.h>

#define EV_NOTE_NAME_MAX 128
#define EV_NOTE_MAX 8192
#define EV_PROOF_MAX 65536
#define EV_EXTRA_MAX 16384

typedef struct ev_note_key {
    char name[EV_NOTE_NAME_MAX + 1];
    uint8_t id[4];
    uint8_t pk[32];
} ev_note_key;

/* Fills key from a name and public key (computing the key id). */
int ev_note_key_make(ev_note_key *k, const char *name, const uint8_t pk[32]);
/* The verifier key text; out needs 256 bytes.  0, or -1 when out_len is
 * too small (out then ""). */
int ev_note_key_format(char *out, size_t out_len, const ev_note_key *k)
    __attribute__((warn_unused_result));
/* Parses a verifier key (surrounding white space allowed).  0 or -1. */
int ev_note_key_parse(ev_note_key *k, const char *text, size_t len);

/* A checkpoint's contents. */
typedef struct ev_checkpoint {
    char origin[EV_NOTE_NAME_MAX + 1];
    uint64_t size;
    ev_hash root;
    char time[32]; /* "" when absent */
} ev_checkpoint;

/* Signs a checkpoint body with sk under k; out gets the signed note text
 * (NUL-terminated).  0 or -1. */
int ev_checkpoint_sign(char *out, size_t out_len, const ev_checkpoint *c,
                       const ev_note_key *k, const uint8_t sk[64]);
/* Verifies a signed checkpoint against k and parses it.  0 or a negative
 * code: -1 malformed, -2 no signature by k, -3 the signature fails. */
int ev_checkpoint_open(ev_checkpoint *c, const char *note, size_t len,
                       const ev_note_key *k);

/* A parsed tlog proof.  The checkpoint text points into the input. */
typedef struct ev_tlog_proof {
    uint8_t extra[EV_EXTRA_MAX];
    size_t extra_len;
    uint64_t index;
    ev_hash path[EV_MERKLE_MAX_PATH];
    size_t npath;
    const char *checkpoint;
    size_t checkpoint_len;
} ev_tlog_proof;

/* Writes a tlog proof; returns the length, or 0 if out is too small. */
size_t ev_tlog_proof_format(char *out, size_t out_len, const uint8_t *extra,
                            size_t extra_len, uint64_t index,
                            const ev_hash *path, size_t npath,
                            const char *checkpoint);
/* Parses a tlog proof (not verifying anything).  0 or -1. */
int ev_tlog_proof_parse(ev_tlog_proof *p, const char *text, size_t len);

#endif
