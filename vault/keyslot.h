/*
 * keyslot.h - ways into the vault: each slot wraps the master key MK.
 *
 *   passphrase: KEK = Argon2id(passphrase, salt, ops, mem)
 *   recovery:   KEK = BLAKE2b-256(key = 20-byte recovery secret,
 *                                 "evault recovery v1" || vault id)
 *   member:     KEK random, params carry crypto_box_seal(KEK, member's
 *               X25519 public key): only the member's age identity opens it
 *   trustee:    KEK = BLAKE2b-256(key = 32-byte trustee secret,
 *                                 "evault trustee v1" || vault id); the
 *               secret exists only as k-of-n shares (shares.h)
 *   wrapped = XChaCha20-Poly1305(KEK, MK, ad = "evault keyslot v1" ||
 *                                vault id || kind || params)
 *   info = XChaCha20-Poly1305(meta key, JSON {label, added_at, added_by,
 *          recipient, k, n}, ad = "evault slot info1" || vault id || kind
 *          || params): who and what, never readable without a key
 */
#ifndef EV_KEYSLOT_H
#define EV_KEYSLOT_H

#include "internal.h"
#include "shares.h"

#define EV_RECOVERY_SECRET_BYTES 20

/* The Argon2id costs a passphrase slot may have: what init accepts, and
 * what unlock is willing to spend before the slot's tag can be checked. */
#define EV_ARGON2_OPS_MAX 1000
#define EV_ARGON2_MEM_KIB_MAX (4096 * 1024)
#define EV_ARGON2_WORK_MAX                                                   \
    ((uint64_t)64 * EV_ARGON2_OPS_DEFAULT * EV_ARGON2_MEM_KIB_DEFAULT)
int ev_keyslot_cost_ok(uint64_t ops, uint64_t mem_kib);

/* Each add wraps v->keys->mk in the caller's transaction; id (when not
 * NULL) receives the slot's number.  label may be NULL. */
int ev_keyslot_add_passphrase(ev_vault *v, const char *pass, size_t len,
                              uint64_t ops, uint64_t mem_kib,
                              const char *label, int64_t *id);
/* Makes a recovery secret, adds its slot, writes the printable key. */
int ev_keyslot_add_recovery(ev_vault *v, char out[EV_RECOVERY_KEY_CHARS + 1],
                            int64_t *id);
int ev_keyslot_add_member(ev_vault *v, const char *name,
                          const uint8_t pk[32], const char *recipient,
                          int64_t *id);
int ev_keyslot_add_trustee(ev_vault *v,
                           const uint8_t secret[EV_TRUSTEE_SECRET_BYTES],
                           int k, int n, const uint8_t set[EV_SHARE_SET_BYTES],
                           const char *label, int64_t *id);

/* Tries every slot of the kind; installs the master key on success and
 * notes the slot in v->slot_id. */
int ev_keyslot_unlock_passphrase(ev_vault *v, const char *pass, size_t len);
int ev_keyslot_unlock_recovery(ev_vault *v, const char *key);
int ev_keyslot_unlock_member(ev_vault *v, const uint8_t sk[32]);
int ev_keyslot_unlock_trustee(ev_vault *v,
                              const uint8_t secret[EV_TRUSTEE_SECRET_BYTES]);

/* The same unlock in two steps, so that work needing no key can run
 * while Argon2id does: start copies the passphrase and derives, on a
 * thread of its own, the KEK of the first passphrase slot (the one
 * unlock tries first); unlock_job waits for it, then tries the slots as
 * ev_keyslot_unlock_passphrase does, with that KEK for that slot, and
 * frees the job.  job_done is nonzero once the derivation has ended.
 * free waits and wipes (a job never unlocked). */
typedef struct ev_kdf_job ev_kdf_job;
/* For tests: called on the derivation's thread before it derives (to
 * hold the unlock back, or to be killed in the middle of the work it
 * lets run). */
extern void (*ev_kdf_test_hook)(void);
int ev_keyslot_derive_start(ev_vault *v, const char *pass, size_t len,
                            ev_kdf_job **out);
int ev_kdf_job_done(ev_kdf_job *j);
int ev_keyslot_unlock_job(ev_vault *v, ev_kdf_job *j);
void ev_kdf_job_free(ev_kdf_job *j);

/* A slot's public description (info decrypted when it opens).  EV_OK, or
 * EV_ENOMEM: never a description with its label or recipient left out
 * for lack of memory. */
int ev_keyslot_describe(ev_vault *v, const ev_slot_row *row,
                        ev_slot_info *out);
/* A slot description's JSON after decryption (NUL-terminated) into the
 * label, added_by, recipient, added_at, threshold and shares of out:
 * EV_OK, EV_ECORRUPT (not JSON) or EV_ENOMEM. */
int ev_slot_info_decode(const char *js, ev_slot_info *out);
/* A trustee slot's set id (params), for matching shares: 0 or -1. */
int ev_keyslot_trustee_set(const ev_slot_row *row,
                           uint8_t set[EV_SHARE_SET_BYTES], int *k, int *n);

#endif
