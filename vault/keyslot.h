/*
 * keyslot.h - ways into the vault: each slot wraps the master key.
 *
 *   passphrase: KEK = Argon2id(passphrase, salt, ops, mem)
 *   recovery:   KEK = BLAKE2b-256(key = 20-byte recovery secret,
 *                                 "evault recovery v1" || vault id)
 *   wrapped = XChaCha20-Poly1305(KEK, MK, ad = "evault keyslot v1" ||
 *                                vault id || kind || params)
 */
#ifndef EV_KEYSLOT_H
#define EV_KEYSLOT_H

#include "internal.h"

enum ev_slot_kind {
    EV_SLOT_PASSPHRASE = 1,
    EV_SLOT_RECOVERY = 2
};

#define EV_RECOVERY_SECRET_BYTES 20

/* The Argon2id costs a passphrase slot may have: what init accepts, and
 * what unlock is willing to spend before the slot's tag can be checked. */
#define EV_ARGON2_OPS_MAX 1000
#define EV_ARGON2_MEM_KIB_MAX (4096 * 1024)
#define EV_ARGON2_WORK_MAX                                                   \
    ((uint64_t)64 * EV_ARGON2_OPS_DEFAULT * EV_ARGON2_MEM_KIB_DEFAULT)
int ev_keyslot_cost_ok(uint64_t ops, uint64_t mem_kib);

int ev_keyslot_add_passphrase(ev_vault *v, const char *pass, size_t len,
                              uint64_t ops, uint64_t mem_kib);
/* Makes a recovery secret, adds its slot, writes the printable key. */
int ev_keyslot_add_recovery(ev_vault *v,
                            char out[EV_RECOVERY_KEY_CHARS + 1]);
/* Tries every slot of the kind; installs the master key on success. */
int ev_keyslot_unlock_passphrase(ev_vault *v, const char *pass, size_t len);
int ev_keyslot_unlock_recovery(ev_vault *v, const char *key);

#endif
