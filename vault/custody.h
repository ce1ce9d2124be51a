/*
 * custody.h - the custody log and its checkpoints (see custody.c for the
 * entry format).  Internal to the library.
 */
#ifndef EV_CUSTODY_H
#define EV_CUSTODY_H

#include "internal.h"
#include "merkle.h"
#include "note.h"

typedef struct ev_custody_entry {
    char *text; /* NUL-terminated entry bytes */
    size_t len;
} ev_custody_entry;

typedef struct ev_custody_log {
    ev_custody_entry *entries;
    ev_hash *leaves;
    uint64_t n;
} ev_custody_log;

struct ev_custody_checkpoint {
    int64_t id;
    uint64_t size;
    char *note; /* the signed note text */
};

struct ev_custody_checkpoints {
    struct ev_custody_checkpoint *v;
    size_t n;
};

/* ISO 8601 UTC of a time in seconds. */
void ev_custody_time(char out[32], int64_t t);

/* Appends an entry in the caller's transaction. */
int ev_custody_append(ev_vault *v, const char *action, const int64_t *records,
                      size_t nrecords, const char *note, int64_t *seq);
/* The next entry's index (the log's size). */
int64_t ev_custody_next_seq(ev_vault *v);
/* Appends the intake entry of r as entry seq (r->custody_seq), without
 * updating the head: the caller does, once per batch, with ev_custody_
 * store_head(v, seq + 1, leaf) before it commits. */
int ev_custody_append_intake(ev_vault *v, const ev_record *r, int64_t seq,
                             ev_hash leaf);
int ev_custody_store_head(ev_vault *v, uint64_t size, const ev_hash last);

/* The authenticated head: the log's size and its last leaf hash. */
int ev_custody_head(ev_vault *v, uint64_t *size, ev_hash last);
/* Decrypts every entry and computes the leaf hashes. */
int ev_custody_load(ev_vault *v, ev_custody_log *log);
void ev_custody_log_free(ev_custody_log *log);
int ev_custody_field(const char *text, const char *key, char *out,
                     size_t cap);
int ev_custody_names_record(const char *text, int64_t id);

/* The identity secrets (X25519 sk[32] || Ed25519 sk[64]) in guarded
 * memory; free with ev_secure_free. */
int ev_identity_load(ev_vault *v, uint8_t **out);
/* Their public halves. */
int ev_identity_public(ev_vault *v, uint8_t box_pk[32], uint8_t ed_pk[32]);
/* A pinned contact by name (EV_ENOENT when none). */
int ev_contact_find(ev_vault *v, const char *name, ev_contact *out);

/* The vault's checkpoint signing key (public part and name). */
int ev_custody_key(ev_vault *v, ev_note_key *k);
/* Signs and stores a checkpoint of the whole log; note gets its text. */
int ev_custody_checkpoint(ev_vault *v, const ev_custody_log *log, char *note,
                          size_t note_cap);
int ev_custody_checkpoints_load(ev_vault *v,
                                struct ev_custody_checkpoints *c);
void ev_custody_checkpoints_free(struct ev_custody_checkpoints *c);

/* The custody part of ev_check: problems go to report(ctx, record, what). */
int ev_custody_check(ev_vault *v,
                     void (*report)(void *ctx, int64_t record,
                                    const char *what),
                     void *ctx);

#endif
