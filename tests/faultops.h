/*
 * faultops.h - the operations the fault tests break, and what must hold
 * after each broken run.
 *
 * A fixture vault is built once: records inline and in blob files, a
 * hash-only and an empty record, a seal, an amendment, a member, trustee
 * shares, a pinned partner, and a bundle the partner made for it.  Each
 * run copies it, opens the copy, runs one operation between the caller's
 * arm() and off() hooks, closes it, and then (nothing failing any more)
 * checks: the copy opens with the credential that fits the state it is in;
 * ev_check with EV_CHECK_READ_DATA finds no problem; every record reads
 * back byte for byte; the operation took effect entirely or not at all
 * (an add may keep the records it reported); its status agrees with that;
 * and no temporary file is left behind.
 */
#ifndef EV_FAULTOPS_H
#define EV_FAULTOPS_H

#include <stddef.h>

/* What the caller does around the operation (and only around it). */
struct fo_hooks {
    void (*arm)(void *ctx);
    void (*off)(void *ctx);
    void *ctx;
};

/* What a run found. */
struct fo_result {
    int rc;             /* the operation's status */
    char errmsg[1024];  /* ev_vault_errmsg after it */
    int effect;         /* FO_NONE, FO_DONE or FO_PARTIAL */
    int committed_note; /* the message says the change is committed */
};
enum { FO_NONE = 0, FO_DONE = 1, FO_PARTIAL = 2 };

/* Builds the fixture under root (which must exist).  0 on success. */
int fo_setup(const char *root);
void fo_teardown(void);

size_t fo_nops(void);
const char *fo_op_name(size_t op);

/* One run of op on a fresh copy.  Returns 0 when every check after it
 * holds (each failure is printed, prefixed with label), else -1.  rc and
 * effect must agree: EV_OK means done; a failure means nothing was done,
 * except that an add may keep the records it reported as durable and a
 * key change may report a committed change whose log flush failed.
 * With retry, a failed operation runs again on the same handle with
 * nothing failing, before it is closed: it must succeed, and the vault
 * then holds its effect. */
int fo_run(size_t op, const struct fo_hooks *h, struct fo_result *res,
           int retry, const char *label);

#endif
