/*
 * seal.c - sealing records, amendments, the log listing, and proofs.
 *
 * Owns: the sealed state and what may happen to a sealed record.
 * Never: changes a sealed record's metadata or bytes; corrections are
 * appended beside it and logged.
 *
 * amendments.meta = XChaCha20-Poly1305(meta key, json of the corrected
 * fields and "reason", ad = "evault amendment v1" || id u64le ||
 * record u64le).
 */
#include "custody.h"
#include "destroy.h"
#include "json.h"
#include "rotate.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTE_CAP 4096

int
ev_vault_set_operator(ev_vault *v, const char *name)
{
    char *copy = NULL;

    if (name != NULL) {
        if (strlen(name) == 0 || strlen(name) > 256) {
            return ev_fail(v, EV_EINVAL, "an operator name is 1 to 256 "
                                         "characters");
        }
        copy = strdup(name);
        if (copy == NULL) {
            return ev_fail(v, EV_ENOMEM, "out of memory");
        }
    }
    free(v->operator_);
    v->operator_ = copy;
    return EV_OK;
}

static int
need_keys(ev_vault *v)
{
    return v->keys == NULL ? ev_fail(v, EV_ELOCKED, "vault is locked") : EV_OK;
}

int
ev_log_action(ev_vault *v, const char *action, const int64_t *ids,
              size_t nids, const char *note)
{
    int rc = need_keys(v);

    if (rc != EV_OK) {
        return rc;
    }
    rc = ev_catalog_begin(v->cat);
    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc, "cannot write the custody log");
    }
    /* An access to a record that does not exist is no access: the log
     * would carry an id that names nothing. */
    for (size_t i = 0; rc == EV_OK && i < nids; i++) {
        ev_record_row row;
        rc = ev_catalog_record_get(v->cat, ids[i], &row);
        if (rc == EV_OK) {
            ev_record_row_free(&row);
        } else if (rc == EV_ENOENT) {
            rc = ev_fail(v, EV_ENOENT, "no record %lld in this vault",
                         (long long)ids[i]);
        } else {
            rc = ev_fail_catalog(v, rc, "cannot read the catalog");
        }
    }
    if (rc == EV_OK) {
        rc = ev_custody_append(v, action, ids, nids, note, NULL);
    }
    if (rc == EV_OK) {
        rc = ev_catalog_commit(v->cat);
        if (rc != EV_OK) {
            rc = ev_fail_catalog(v, rc, "cannot commit the custody log");
        }
    }
    if (rc != EV_OK) {
        ev_catalog_rollback(v->cat);
    }
    return rc;
}

int
ev_log_list(ev_vault *v, int64_t record, ev_entry_fn fn, void *ctx)
{
    ev_custody_log log;
    int rc = need_keys(v);

    if (rc != EV_OK) {
        return rc;
    }
    rc = ev_custody_load(v, &log);
    if (rc != EV_OK) {
        return rc;
    }
    for (uint64_t i = 0; i < log.n; i++) {
        if (record > 0 && !ev_custody_names_record(log.entries[i].text,
                                                   record)) {
            continue;
        }
        if (fn(ctx, i, log.entries[i].text) != 0) {
            break;
        }
    }
    ev_custody_log_free(&log);
    return EV_OK;
}

int
ev_seal(ev_vault *v, const int64_t *ids, size_t nids, const char *note,
        size_t *nsealed)
{
    int64_t *todo = NULL;
    size_t n = 0;
    ev_custody_log log;
    char cp[NOTE_CAP];
    int rc = need_keys(v);

    *nsealed = 0;
    if (rc != EV_OK) {
        return rc;
    }
    if (nids == 0) {
        return ev_fail(v, EV_EINVAL, "no records to seal");
    }
    todo = malloc(nids * sizeof *todo);
    if (todo == NULL) {
        return ev_fail(v, EV_ENOMEM, "out of memory");
    }
    rc = ev_catalog_begin(v->cat);
    if (rc != EV_OK) {
        free(todo);
        return ev_fail_catalog(v, rc, "cannot start a transaction");
    }
    for (size_t i = 0; i < nids; i++) {
        ev_record_row row;
        rc = ev_catalog_record_get(v->cat, ids[i], &row);
        if (rc == EV_ENOENT) {
            rc = ev_fail(v, EV_ENOENT, "no record %lld in this vault",
                         (long long)ids[i]);
            goto fail;
        }
        if (rc != EV_OK) {
            rc = ev_fail_catalog(v, rc, "cannot read the catalog");
            goto fail;
        }
        ev_record_row_free(&row);
        if (row.state == EV_STATE_DESTROYED) {
            rc = ev_destroyed_fail(v, ids[i]);
            goto fail;
        }
        if (row.state == EV_STATE_SEALED) {
            continue;
        }
        rc = ev_catalog_record_set_state(v->cat, ids[i], EV_STATE_SEALED);
        if (rc != EV_OK) {
            rc = ev_fail_catalog(v, rc, "cannot seal");
            goto fail;
        }
        todo[n++] = ids[i];
    }
    if (n == 0) {
        ev_catalog_rollback(v->cat);
        free(todo);
        return EV_OK; /* all were sealed already */
    }
    rc = ev_custody_append(v, "seal", todo, n, note, NULL);
    if (rc != EV_OK) {
        goto fail;
    }
    rc = ev_custody_load(v, &log);
    if (rc != EV_OK) {
        goto fail;
    }
    rc = ev_custody_checkpoint(v, &log, cp, sizeof cp);
    ev_custody_log_free(&log);
    if (rc != EV_OK) {
        goto fail;
    }
    rc = ev_catalog_commit(v->cat);
    if (rc != EV_OK) {
        rc = ev_fail_catalog(v, rc, "cannot commit the seal");
        goto fail;
    }
    *nsealed = n;
    free(todo);
    return EV_OK;
fail:
    ev_catalog_rollback(v->cat);
    free(todo);
    return rc;
}

static void
amend_ad(uint8_t ad[35], int64_t id, int64_t record)
{
    memcpy(ad, "evault amendment v1", 19);
    ev_store64(ad + 19, (uint64_t)id);
    ev_store64(ad + 27, (uint64_t)record);
}

int
ev_amendment_rekey(const struct ev_keys *from, const struct ev_keys *to,
                   int64_t id, int64_t record, const uint8_t *in,
                   size_t in_len, uint8_t *out)
{
    uint8_t ad[35];

    if (in_len > (1 << 20)) {
        return EV_ECORRUPT;
    }
    amend_ad(ad, id, record);
    return ev_rekey_value(from->meta, to->meta, ad, sizeof ad, in, in_len,
                          out);
}

/* Non-zero when the field could not be set (out of memory). */
static int
set_opt(json_t *o, const char *k, const char *s)
{
    return s != NULL ? json_object_set_new(o, k, json_string(s)) != 0 : 0;
}

int
ev_record_amend(ev_vault *v, int64_t id, const ev_add_opts *opts,
                const char *reason)
{
    ev_record_row row;
    json_t *o;
    char *js = NULL;
    uint8_t *sealed = NULL, ad[35];
    int64_t aid = 0;
    size_t len;
    char fields[256] = "";
    int rc = need_keys(v), bad = 0;

    if (rc != EV_OK) {
        return rc;
    }
    if (reason == NULL || reason[0] == '\0' || strlen(reason) > 4096) {
        return ev_fail(v, EV_EINVAL, "an amendment needs a reason");
    }
    o = json_object();
    if (o == NULL) {
        return ev_fail(v, EV_ENOMEM, "out of memory");
    }
    bad |= set_opt(o, "name", opts->name);
    bad |= set_opt(o, "kind", opts->kind);
    bad |= set_opt(o, "case", opts->case_name);
    bad |= set_opt(o, "source", opts->source);
    bad |= set_opt(o, "note", opts->note);
    bad |= set_opt(o, "captured_at", opts->captured_at);
    bad |= set_opt(o, "location", opts->location);
    if (opts->ntags > 0) {
        json_t *t = json_array();
        for (size_t i = 0; t != NULL && i < opts->ntags; i++) {
            bad |= json_array_append_new(t, json_string(opts->tags[i])) != 0;
        }
        bad |= json_object_set_new(o, "tags", t) != 0;
    }
    if (bad) {
        json_decref(o);
        return ev_fail(v, EV_ENOMEM, "out of memory");
    }
    if (json_object_size(o) == 0) {
        json_decref(o);
        return ev_fail(v, EV_EINVAL, "nothing to amend");
    }
    {
        const char *k;
        json_t *val;
        json_object_foreach(o, k, val) {
            (void)val;
            if (strlen(fields) + strlen(k) + 2 < sizeof fields) {
                if (fields[0] != '\0') {
                    strncat(fields, ",", sizeof fields - strlen(fields) - 1);
                }
                strncat(fields, k, sizeof fields - strlen(fields) - 1);
            }
        }
    }
    bad |= json_object_set_new(o, "reason", json_string(reason)) != 0;
    js = bad ? NULL : ev_json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (js == NULL) {
        return ev_fail(v, EV_ENOMEM, "out of memory");
    }
    len = strlen(js);
    sealed = malloc(len + EV_WRAP_OVERHEAD);
    if (sealed == NULL) {
        free(js);
        return ev_fail(v, EV_ENOMEM, "out of memory");
    }
    rc = ev_catalog_begin(v->cat);
    if (rc != EV_OK) {
        rc = ev_fail_catalog(v, rc, "cannot start a transaction");
        goto cleanup;
    }
    rc = ev_catalog_record_get(v->cat, id, &row);
    if (rc != EV_OK) {
        rc = rc == EV_ENOENT ? ev_fail(v, EV_ENOENT, "no record %lld",
                                       (long long)id)
                             : ev_fail_catalog(v, rc, "cannot read");
        goto rollback;
    }
    ev_record_row_free(&row);
    if (row.state == EV_STATE_DESTROYED) {
        rc = ev_destroyed_fail(v, id);
        goto rollback;
    }
    aid = ev_catalog_amendment_next_id(v->cat);
    if (aid < 1) {
        rc = ev_fail_catalog(v, ev_catalog_status(v->cat),
                             "cannot read amendments");
        goto rollback;
    }
    amend_ad(ad, aid, id);
    ev_wrap(sealed, (const uint8_t *)js, len, ad, sizeof ad, v->keys->meta);
    rc = ev_catalog_amendment_add(v->cat, aid, id, sealed,
                                  len + EV_WRAP_OVERHEAD);
    if (rc != EV_OK) {
        rc = ev_fail_catalog(v, rc, "cannot store the amendment");
        goto rollback;
    }
    {
        char note[300];
        snprintf(note, sizeof note, "fields %s", fields);
        rc = ev_custody_append(v, "amend", &id, 1, note, NULL);
    }
    if (rc != EV_OK) {
        goto rollback;
    }
    rc = ev_catalog_commit(v->cat);
    if (rc != EV_OK) {
        rc = ev_fail_catalog(v, rc, "cannot commit the amendment");
        goto rollback;
    }
    goto cleanup;
rollback:
    ev_catalog_rollback(v->cat);
cleanup:
    ev_wipe(js, len);
    free(js);
    free(sealed);
    return rc;
}

struct amend_ctx {
    ev_vault *v;
    ev_record_fn fn;
    void *ctx;
    int rc;
};

/* A copy of a string member, or NULL when absent; *oom set when the copy
 * could not be made (a field is never dropped unnoticed). */
static char *
dup_field(json_t *o, const char *k, int *oom)
{
    json_t *s = json_object_get(o, k);
    char *c;

    if (!json_is_string(s)) {
        return NULL;
    }
    c = strdup(json_string_value(s));
    *oom |= c == NULL;
    return c;
}

static int
amend_one(void *arg, int64_t id, int64_t record, const uint8_t *p, size_t n)
{
    struct amend_ctx *a = arg;
    uint8_t ad[35];
    char *js;
    ev_record r;
    int stop, rc;

    if (n < EV_WRAP_OVERHEAD || n > (1 << 20)) {
        a->rc = ev_fail(a->v, EV_ECORRUPT, "amendment %lld damaged",
                        (long long)id);
        return 1;
    }
    js = malloc(n - EV_WRAP_OVERHEAD + 1);
    if (js == NULL) {
        a->rc = ev_fail(a->v, EV_ENOMEM, "out of memory");
        return 1;
    }
    amend_ad(ad, id, record);
    if (ev_unwrap((uint8_t *)js, p, n, ad, sizeof ad, a->v->keys->meta) !=
        0) {
        free(js);
        a->rc = ev_fail(a->v, EV_ECORRUPT,
                        "amendment %lld of record %lld fails authentication",
                        (long long)id, (long long)record);
        return 1;
    }
    rc = ev_amendment_decode(js, n - EV_WRAP_OVERHEAD, record, &r);
    ev_wipe(js, n - EV_WRAP_OVERHEAD);
    free(js);
    if (rc != EV_OK) {
        a->rc = rc == EV_ENOMEM
                    ? ev_fail(a->v, EV_ENOMEM, "out of memory")
                    : ev_fail(a->v, EV_ECORRUPT, "amendment %lld unreadable",
                              (long long)id);
        return 1;
    }
    stop = a->fn(a->ctx, &r);
    ev_record_release(&r);
    return stop != 0 ? EV_WALK_STOP : 0;
}

int
ev_amendment_decode(const char *js, size_t n, int64_t record, ev_record *out)
{
    json_t *o = json_loadb(js, n, 0, NULL), *tags;
    ev_record r;
    int oom = 0;

    if (!json_is_object(o)) {
        json_decref(o);
        return EV_ECORRUPT;
    }
    memset(&r, 0, sizeof r);
    r.id = record;
    r.name = dup_field(o, "name", &oom);
    r.kind = dup_field(o, "kind", &oom);
    r.case_name = dup_field(o, "case", &oom);
    r.source = dup_field(o, "source", &oom);
    r.note = dup_field(o, "note", &oom);
    r.captured_at = dup_field(o, "captured_at", &oom);
    r.location = dup_field(o, "location", &oom);
    r.path = dup_field(o, "reason", &oom);
    tags = json_object_get(o, "tags");
    if (json_is_array(tags) && json_array_size(tags) > 0) {
        r.tags = calloc(json_array_size(tags), sizeof *r.tags);
        oom |= r.tags == NULL;
        for (size_t i = 0; r.tags != NULL && i < json_array_size(tags); i++) {
            json_t *t = json_array_get(tags, i);
            if (json_is_string(t)) {
                if ((r.tags[r.ntags] = strdup(json_string_value(t))) ==
                    NULL) {
                    oom = 1;
                    break;
                }
                r.ntags++;
            }
        }
    }
    json_decref(o);
    if (oom) {
        ev_record_release(&r);
        return EV_ENOMEM;
    }
    *out = r;
    return EV_OK;
}

int
ev_record_amendments(ev_vault *v, int64_t id, ev_record_fn fn, void *ctx)
{
    struct amend_ctx a = {v, fn, ctx, EV_OK};
    int rc = need_keys(v);

    if (rc != EV_OK) {
        return rc;
    }
    rc = ev_catalog_amendment_each(v->cat, id, amend_one, &a);
    if (rc == 1) {
        return a.rc;
    }
    if (rc != EV_OK && rc != EV_WALK_STOP) {
        return ev_fail_catalog(v, rc, "cannot read amendments");
    }
    return EV_OK;
}

int
ev_vault_public_key(ev_vault *v, char *out, size_t out_len)
{
    ev_note_key k;
    int rc = need_keys(v);

    if (rc == EV_OK) {
        rc = ev_custody_key(v, &k);
    }
    if (rc == EV_OK && ev_note_key_format(out, out_len, &k) != 0) {
        rc = ev_fail(v, EV_EINVAL, "the buffer for the key is too small");
    }
    return rc;
}

int
ev_proof(ev_vault *v, int64_t id, char **out, size_t *out_len)
{
    ev_record r;
    ev_custody_log log;
    struct ev_custody_checkpoints cps;
    const struct ev_custody_checkpoint *use = NULL;
    ev_hash path[EV_MERKLE_MAX_PATH];
    size_t np, cap;
    char rec[32];
    uint64_t seq;
    int rc;

    *out = NULL;
    rc = ev_record_get(v, id, &r);
    if (rc != EV_OK) {
        return rc;
    }
    seq = (uint64_t)r.custody_seq;
    if (r.state != EV_STATE_SEALED) {
        ev_record_release(&r);
        return ev_fail(v, EV_ENOTSEALED,
                       "record %lld is not sealed: a proof needs a signed "
                       "checkpoint that covers it",
                       (long long)id);
    }
    ev_record_release(&r);
    rc = ev_custody_load(v, &log);
    if (rc != EV_OK) {
        return rc;
    }
    rc = ev_custody_checkpoints_load(v, &cps);
    if (rc != EV_OK) {
        ev_custody_log_free(&log);
        return rc;
    }
    snprintf(rec, sizeof rec, "%lld", (long long)id);
    {
        char got[32], action[16];
        if (seq >= log.n ||
            ev_custody_field(log.entries[seq].text, "record", got,
                             sizeof got) != 0 ||
            strcmp(got, rec) != 0 ||
            ev_custody_field(log.entries[seq].text, "action", action,
                             sizeof action) != 0 ||
            strcmp(action, "add") != 0) {
            rc = ev_fail(v, EV_ECORRUPT,
                         "the intake entry of record %lld is missing from "
                         "the custody log",
                         (long long)id);
            goto cleanup;
        }
    }
    for (size_t i = cps.n; i-- > 0;) {
        if (cps.v[i].size > seq && cps.v[i].size <= log.n) {
            use = &cps.v[i];
            break;
        }
    }
    if (use == NULL) {
        rc = ev_fail(v, EV_ENOTSEALED,
                     "no signed checkpoint covers record %lld",
                     (long long)id);
        goto cleanup;
    }
    if (ev_merkle_inclusion_proof(path, &np, log.leaves, use->size, seq) !=
        0) {
        rc = ev_fail(v, EV_ECORRUPT, "cannot build the inclusion proof");
        goto cleanup;
    }
    cap = 256 + log.entries[seq].len * 2 + np * 48 + strlen(use->note);
    *out = malloc(cap);
    if (*out == NULL) {
        rc = ev_fail(v, EV_ENOMEM, "out of memory");
        goto cleanup;
    }
    *out_len = ev_tlog_proof_format(*out, cap,
                                    (const uint8_t *)log.entries[seq].text,
                                    log.entries[seq].len, seq, path, np,
                                    use->note);
    if (*out_len == 0) {
        free(*out);
        *out = NULL;
        rc = ev_fail(v, EV_EINVAL, "proof too large");
    }
cleanup:
    ev_custody_checkpoints_free(&cps);
    ev_custody_log_free(&log);
    return rc;
}
