/*
 * destroy.h - crypto-shredding records (destroy.c).  Internal to the
 * library; the public calls are ev_record_destroy and ev_vault_sweep.
 */
#ifndef EV_DESTROY_H
#define EV_DESTROY_H

#include "internal.h"

/* Sets the handle's detail for a destroyed record -- when, by whom and why,
 * from its destroy entry in the custody log -- and returns EV_EDESTROYED. */
int ev_destroyed_fail(ev_vault *v, int64_t id);

#endif
