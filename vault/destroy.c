/*
 * destroy.c - crypto-shredding a record, and sweeping up what interrupted
 * writers leave behind.
 *
 * Owns: the destroyed state (tombstones) and the order of a destruction.
 * Never: destroys a sealed record; reuses a record id; removes a blob file
 * that a catalog row still names; destroys without a custody entry.
 *
 * A tombstone is the record's row kept so that its id is never reused:
 * state 3 (destroyed), blob NULL, padded_size 0, meta empty.  Its custody
 * entries stay, among them its intake entry and the destroy entry:
 *
 *   action destroy / operator <name> / record <id> / note <reason>
 *
 * Order of ev_record_destroy:
 *   1. the writer lock, then one transaction: the destroy entry is
 *      appended (and the log head), the row becomes a tombstone, its blind
 *      index and amendment rows are deleted, and the blob row (wrapped data
 *      key; a format-1 blob's bytes) is deleted unless another record
 *      names the blob;
 *      COMMIT, with a rollback journal, so that vault.db alone holds no
 *      key once it is done.  secure_delete zeroes the freed bytes.
 *   2. PRAGMA wal_checkpoint(TRUNCATE): the new pages overwrite the old
 *      ones in vault.db and the WAL, which holds older page images with
 *      the key, is cut to zero bytes.
 *   3. the blob file is removed and its directory fsynced; a blob in
 *      vault.pack, whose range step 1 listed in pack_free, is overwritten
 *      with zeros and the file fsynced;
 *   4. blob files that no catalog row names are removed (a kill between 1
 *      and 3, or an add killed between its blob's rename and its commit,
 *      leaves one; without a key in the catalog it cannot be read), and
 *      so is what a killed add appended to vault.pack past its end.
 * A process killed before the commit changes nothing; after it, the record
 * is destroyed and whatever step is left is done by the next destroy or
 * ev_vault_sweep.  check notes a leftover blob file as harmless.
 */
#include "destroy.h"

#include "custody.h"
#include "os.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REASON_MAX 4096

int
ev_destroyed_fail(ev_vault *v, int64_t id)
{
    ev_custody_log log;
    char when[32] = "", op[260] = "", note[REASON_MAX + 8] = "";
    char action[32];
    int found = 0;

    if (v->keys != NULL && ev_custody_load(v, &log) == EV_OK) {
        for (uint64_t i = log.n; i-- > 0 && !found;) {
            const char *t = log.entries[i].text;
            if (ev_custody_field(t, "action", action, sizeof action) == 0 &&
                strcmp(action, "destroy") == 0 &&
                ev_custody_names_record(t, id)) {
                found = 1;
                ev_custody_field(t, "time", when, sizeof when);
                ev_custody_field(t, "operator", op, sizeof op);
                ev_custody_field(t, "note", note, sizeof note);
            }
        }
        ev_custody_log_free(&log);
    }
    if (!found) {
        return ev_fail(v, EV_EDESTROYED, "record %lld was destroyed",
                       (long long)id);
    }
    return ev_fail(v, EV_EDESTROYED,
                   "record %lld was destroyed on %s by %s (reason: %s)",
                   (long long)id, when, op, note);
}

/* ------------------------------------------------------------------ */
/* Sweeping                                                            */
/* ------------------------------------------------------------------ */

struct sweep {
    uint8_t (*ids)[EV_BLOBID_BYTES];
    size_t n, cap;
    int oom;
};

static int
collect_file(void *arg, const uint8_t *id, uint64_t size, const char *name)
{
    struct sweep *s = arg;

    (void)size;
    (void)name;
    if (id == NULL) {
        return 0; /* not a blob's name: not ours to remove */
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 256;
        uint8_t(*n)[EV_BLOBID_BYTES] = realloc(s->ids, cap * EV_BLOBID_BYTES);
        if (n == NULL) {
            s->oom = 1;
            return 1;
        }
        s->ids = n;
        s->cap = cap;
    }
    memcpy(s->ids[s->n++], id, EV_BLOBID_BYTES);
    return 0;
}

/* Removes the blob files no row names; the caller holds the writer lock,
 * so no add is between its blob's rename and its commit. */
static int
sweep_files(ev_vault *v, uint64_t *nremoved)
{
    struct sweep s = {NULL, 0, 0, 0};
    char msg[sizeof v->errmsg];
    int rc = ev_store_list(v->store, collect_file, &s, msg, sizeof msg);

    if (s.oom) {
        free(s.ids);
        return ev_fail(v, EV_ENOMEM, "out of memory");
    }
    if (rc != EV_OK) {
        char hint[sizeof v->hint];
        free(s.ids);
        snprintf(hint, sizeof hint, "%s", v->hint);
        rc = ev_fail(v, rc, "cannot list the blobs: %s", msg);
        snprintf(v->hint, sizeof v->hint, "%s", hint);
        return rc;
    }
    for (size_t i = 0; i < s.n && rc == EV_OK; i++) {
        int known = 1;
        rc = ev_catalog_blob_known(v->cat, s.ids[i], &known);
        if (rc != EV_OK) {
            rc = ev_fail_catalog(v, rc, "cannot read the catalog");
        } else if (!known) {
            rc = ev_store_remove(v->store, s.ids[i], v->errmsg,
                                 sizeof v->errmsg);
            if (rc == EV_OK) {
                (*nremoved)++;
            }
        }
    }
    free(s.ids);
    return rc;
}

/* Wipes the ranges of destroyed blobs in vault.pack and cuts off what a
 * killed add left past its end. */
static int
sweep_pack(ev_vault *v)
{
    uint64_t n;
    int rc = ev_catalog_pack_sweep(v->cat, &n);

    return rc == EV_OK ? EV_OK
                       : ev_fail_catalog(v, rc, "cannot wipe destroyed blobs "
                                                "in vault.pack");
}

static int
wal_truncate(ev_vault *v)
{
    int rc = ev_catalog_checkpoint(v->cat);

    if (rc == EV_EBUSY) {
        return ev_fail(v, rc,
                       "another process is reading the catalog, so its "
                       "write-ahead log (vault.db-wal) could not be emptied");
    }
    return rc == EV_OK ? EV_OK
                       : ev_fail_catalog(v, rc,
                                         "cannot checkpoint the "
                                         "catalog");
}

int
ev_vault_sweep(ev_vault *v, uint64_t *nremoved)
{
    int took = v->lock_fd < 0, rc, rc2;

    *nremoved = 0;
    if (v->cat == NULL) {
        return ev_fail(v, EV_EINVAL, "no vault is open");
    }
    rc = ev_vault_lock_write(v);
    if (rc != EV_OK) {
        return rc;
    }
    rc = sweep_pack(v);
    rc2 = wal_truncate(v);
    if (rc == EV_OK) {
        rc = rc2;
    }
    rc2 = sweep_files(v, nremoved);
    if (rc == EV_OK) {
        rc = rc2;
    }
    if (took) {
        ev_vault_unlock_write(v);
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Destroying                                                          */
/* ------------------------------------------------------------------ */

/* Step 1: one transaction.  The catalog's row of the record is read
 * inside it, so a seal committed meanwhile is seen.  It commits with a
 * rollback journal (ev_catalog_begin_direct): committed into the WAL
 * instead, a kill before step 2 left vault.db alone holding the key. */
static int
destroy_rows(ev_vault *v, int64_t id, const char *reason,
             ev_destroy_result *out, uint8_t blob_id[EV_BLOBID_BYTES],
             int *in_pack)
{
    ev_record_row row;
    int rc = ev_catalog_begin_direct(v->cat);

    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc, "cannot start a transaction");
    }
    rc = ev_catalog_record_get(v->cat, id, &row);
    if (rc == EV_ENOENT) {
        rc = ev_fail(v, EV_ENOENT, "no record %lld in this vault",
                     (long long)id);
        goto fail;
    }
    if (rc != EV_OK) {
        rc = ev_fail_catalog(v, rc, "cannot read the catalog");
        goto fail;
    }
    ev_record_row_free(&row);
    if (row.state == EV_STATE_SEALED) {
        rc = ev_fail(v, EV_ESEALED,
                     "record %lld is sealed: a sealed record cannot be "
                     "destroyed",
                     (long long)id);
        goto fail;
    }
    if (row.state == EV_STATE_DESTROYED) {
        ev_catalog_rollback(v->cat);
        return ev_destroyed_fail(v, id);
    }
    if (row.state != EV_STATE_ACTIVE) {
        rc = ev_fail(v, EV_ECORRUPT, "record %lld has an unknown state %d",
                     (long long)id, row.state);
        goto fail;
    }
    if (row.has_blob) {
        ev_blob_row b;
        out->had_blob = 1;
        memcpy(blob_id, row.blob_id, EV_BLOBID_BYTES);
        rc = ev_catalog_blob_user(v->cat, blob_id, id, &out->shared_with);
        if (rc == EV_OK) {
            rc = ev_catalog_blob_get(v->cat, blob_id, 0, &b);
            if (rc == EV_OK) {
                *in_pack = b.pack_off >= 0;
                ev_blob_row_free(&b);
            } else if (rc == EV_ENOENT) {
                rc = EV_OK; /* check reports the missing row */
            }
        }
        if (rc != EV_OK) {
            rc = ev_fail_catalog(v, rc, "cannot read the catalog");
            goto fail;
        }
    }
    /* The entry first: a destruction is never without its record. */
    rc = ev_custody_append(v, "destroy", &id, 1, reason, &out->custody_seq);
    if (rc != EV_OK) {
        goto fail;
    }
    rc = ev_catalog_record_wipe(v->cat, id);
    if (rc == EV_OK && out->had_blob && out->shared_with == 0) {
        rc = ev_catalog_blob_delete(v->cat, blob_id);
    }
    if (rc != EV_OK) {
        rc = ev_fail_catalog(v, rc, "cannot destroy the record");
        goto fail;
    }
    rc = ev_catalog_commit(v->cat);
    if (rc != EV_OK) {
        rc = ev_fail_catalog(v, rc, "cannot commit the destruction");
        goto fail;
    }
    out->destroyed = 1;
    return EV_OK;
fail:
    ev_catalog_rollback(v->cat);
    out->custody_seq = -1;
    return rc;
}

/* Is the blob file gone (its removal failed, the sweep may have done
 * it)? */
static int
blob_gone(ev_vault *v, const uint8_t id[EV_BLOBID_BYTES])
{
    char msg[256];
    uint64_t size;

    return ev_store_head(v->store, id, &size, msg, sizeof msg) == EV_ENOENT;
}

int
ev_record_destroy(ev_vault *v, int64_t id, const char *reason,
                  ev_destroy_result *out)
{
    uint8_t blob_id[EV_BLOBID_BYTES];
    char first[sizeof v->errmsg] = "", blob_err[sizeof v->errmsg] = "";
    char pack_err[sizeof v->errmsg] = "";
    int took, rc, after = EV_OK, in_pack = 0;

    memset(out, 0, sizeof *out);
    out->custody_seq = -1;
    if (v->keys == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
    }
    if (reason == NULL || reason[0] == '\0') {
        return ev_fail(v, EV_EINVAL, "destroying a record needs a reason");
    }
    if (strlen(reason) > REASON_MAX) {
        return ev_fail(v, EV_EINVAL, "the reason is longer than %d bytes",
                       REASON_MAX);
    }
    took = v->lock_fd < 0;
    rc = ev_vault_lock_write(v);
    if (rc != EV_OK) {
        return rc;
    }
    rc = destroy_rows(v, id, reason, out, blob_id, &in_pack);
    if (rc == EV_OK) {
        /* From here on the record is destroyed: each later step is tried
         * even when one before failed, and the first failure is kept.
         * vault.pack first: its sweep commits (pack_free emptied), and
         * the WAL is to be empty at the end. */
        int packed = sweep_pack(v);
        if (packed != EV_OK) {
            snprintf(pack_err, sizeof pack_err, "%s", v->errmsg);
        }
        after = wal_truncate(v);
        if (after != EV_OK) {
            snprintf(first, sizeof first, "%s", v->errmsg);
        }
        if (ev_catalog_unsynced(v->cat) && after == EV_OK) {
            after = EV_EIO;
            snprintf(first, sizeof first, "a crash now could undo it (%s)",
                     ev_catalog_errmsg(v->cat));
        }
        out->wal_cleared = after == EV_OK;
        if (out->had_blob && out->shared_with == 0 && in_pack) {
            out->blob_removed = packed == EV_OK;
        } else if (out->had_blob && out->shared_with == 0) {
            rc =
                ev_store_remove(v->store, blob_id, v->errmsg, sizeof v->errmsg);
            out->blob_removed = rc == EV_OK;
            snprintf(blob_err, sizeof blob_err, "%s", v->errmsg);
        }
        if (packed != EV_OK && after == EV_OK) {
            /* this record's bytes, or what an earlier destroy, killed
             * before its wipe, left in vault.pack */
            after = packed;
            snprintf(first, sizeof first,
                     "bytes in vault.pack could not be wiped (%.900s)",
                     pack_err);
        }
        rc = sweep_files(v, &out->leftovers);
        if (rc != EV_OK && after == EV_OK) {
            after = rc;
            snprintf(first, sizeof first, "%s", v->errmsg);
        }
        /* The sweep tries again a file the removal could not take. */
        if (out->had_blob && out->shared_with == 0 && !out->blob_removed &&
            !in_pack) {
            out->blob_removed = blob_gone(v, blob_id);
            if (out->blob_removed && out->leftovers > 0) {
                out->leftovers--; /* it was this record's, not a leftover */
            }
            if (!out->blob_removed && after == EV_OK) {
                after = EV_EIO;
                snprintf(first, sizeof first,
                         "its blob file could not be removed (%.900s)",
                         blob_err);
            }
        }
        rc = after;
        if (rc != EV_OK) {
            ev_fail(v, rc,
                    "record %lld was destroyed, but %s; the next destroy or "
                    "sweep finishes it",
                    (long long)id, first);
        }
    }
    if (took) {
        ev_vault_unlock_write(v);
    }
    return rc;
}
