/*
 * check.c - the whole-vault integrity check.
 *
 * Owns: deciding whether a vault is intact, and saying where it is not.
 * Never: repairs anything; a check changes no byte of the vault.
 *
 * Checks: SQLite's integrity_check; every record's metadata authenticates;
 * its blind index rows exist and no stray rows point at it; its blob row
 * exists, its data key authenticates, its blob is present at its padded
 * size; with EV_CHECK_READ_DATA every blob is decrypted and its SHA-256 and
 * size compared with the record.  Blob files that no row names are noted
 * (a crash between writing a blob and committing its record leaves one);
 * they do not make the vault damaged.
 */
#include "blob.h"
#include "internal.h"
#include "os.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct blind_row {
    int field;
    uint8_t value[16];
    int64_t record;
    int seen;
};

struct check {
    ev_vault *v;
    int flags;
    ev_problem_fn cb;
    void *ctx;
    int damaged;
    uint64_t nrecords;
    struct blind_row *blind;
    size_t nblind, capblind;
    /* blob ids referenced by records, sorted after the walk */
    uint8_t (*refs)[EV_BLOBID_BYTES];
    size_t nrefs, caprefs;
    uint8_t (*rows)[EV_BLOBID_BYTES];
    size_t nrows, caprows;
    int oom;
};

static void
problem(struct check *c, int64_t record, int code, const char *fmt, ...)
{
    char msg[1200];
    ev_problem p;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (code != EV_OK) {
        c->damaged = 1;
    }
    p.record = record;
    p.code = code;
    p.what = msg;
    if (c->cb != NULL) {
        c->cb(c->ctx, &p);
    }
}

static int
blind_cmp(const void *a, const void *b)
{
    const struct blind_row *x = a, *y = b;
    int d;

    if (x->record != y->record) {
        return x->record < y->record ? -1 : 1;
    }
    if (x->field != y->field) {
        return x->field < y->field ? -1 : 1;
    }
    d = memcmp(x->value, y->value, 16);
    return d;
}

static int
collect_blind(void *arg, int field, const uint8_t *value, int64_t record)
{
    struct check *c = arg;

    if (c->nblind == c->capblind) {
        size_t cap = c->capblind ? 2 * c->capblind : 1024;
        struct blind_row *n = realloc(c->blind, cap * sizeof *n);
        if (n == NULL) {
            c->oom = 1;
            return 1;
        }
        c->blind = n;
        c->capblind = cap;
    }
    c->blind[c->nblind].field = field;
    memcpy(c->blind[c->nblind].value, value, 16);
    c->blind[c->nblind].record = record;
    c->blind[c->nblind].seen = 0;
    c->nblind++;
    return 0;
}

static int
expect_blind(struct check *c, int64_t id, int field, const uint8_t v[16])
{
    struct blind_row key, *hit;

    key.field = field;
    memcpy(key.value, v, 16);
    key.record = id;
    hit = bsearch(&key, c->blind, c->nblind, sizeof key, blind_cmp);
    if (hit == NULL) {
        return 0;
    }
    hit->seen = 1;
    return 1;
}

static int
push_id(uint8_t (**arr)[EV_BLOBID_BYTES], size_t *n, size_t *cap,
        const uint8_t *id)
{
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 1024;
        uint8_t(*a)[EV_BLOBID_BYTES] = realloc(*arr, nc * EV_BLOBID_BYTES);
        if (a == NULL) {
            return -1;
        }
        *arr = a;
        *cap = nc;
    }
    memcpy((*arr)[(*n)++], id, EV_BLOBID_BYTES);
    return 0;
}

static int
id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, EV_BLOBID_BYTES);
}

static void
check_blind(struct check *c, const ev_record *r)
{
    ev_vault *v = c->v;
    uint8_t val[16];
    int ok = 1;

    if (r->case_name != NULL) {
        ev_blind_text(v, val, EV_BLIND_CASE, r->case_name);
        ok &= expect_blind(c, r->id, EV_BLIND_CASE, val);
    }
    if (r->source != NULL) {
        ev_blind_text(v, val, EV_BLIND_SOURCE, r->source);
        ok &= expect_blind(c, r->id, EV_BLIND_SOURCE, val);
    }
    for (size_t i = 0; i < r->ntags; i++) {
        ev_blind_text(v, val, EV_BLIND_TAG, r->tags[i]);
        ok &= expect_blind(c, r->id, EV_BLIND_TAG, val);
    }
    ev_blind_value(v, val, EV_BLIND_SHA256, r->sha256, EV_SHA256_BYTES);
    ok &= expect_blind(c, r->id, EV_BLIND_SHA256, val);
    if (!ok) {
        problem(c, r->id, EV_ECORRUPT,
                "search index entries are missing (search would miss it)");
    }
}

static void
check_blob(struct check *c, const ev_record_row *row, const ev_record *r)
{
    ev_vault *v = c->v;
    ev_blob_row b;
    uint8_t dek[EV_KEY_BYTES];
    uint64_t stored, content;
    int rc;

    rc = ev_catalog_blob_get(v->cat, row->blob_id, 0, &b);
    if (rc != EV_OK) {
        problem(c, r->id, EV_ECORRUPT, "its blob is missing from the catalog");
        return;
    }
    rc = ev_dek_unwrap(v, dek, &stored, &content, row->blob_id, b.key.p,
                       b.key.n);
    ev_wipe(dek, sizeof dek);
    if (rc != EV_OK) {
        problem(c, r->id, EV_ECORRUPT,
                "its data key fails authentication (altered)");
    } else if (content != r->size || b.padded_size != row->padded_size) {
        problem(c, r->id, EV_ECORRUPT, "its blob's sizes do not match");
    } else if (!b.inline_) {
        int fd;
        uint64_t size;
        char path[PATH_MAX];
        ev_store_blob_path(v->store, row->blob_id, path, sizeof path);
        rc = ev_store_open_blob(v->store, row->blob_id, &fd, &size, v->errmsg,
                                sizeof v->errmsg);
        if (rc != EV_OK) {
            problem(c, r->id, EV_ECORRUPT, "its blob file is missing: %s",
                    path);
        } else {
            ev_os.close(fd);
            if (size != b.padded_size) {
                problem(c, r->id, EV_ECORRUPT,
                        "its blob file has the wrong size: %s", path);
            }
        }
    }
    ev_blob_row_free(&b);
    if (rc == EV_OK && (c->flags & EV_CHECK_READ_DATA)) {
        uint8_t sha[32];
        uint64_t len = 0;
        rc = ev_blob_read(v, row->blob_id, -1, NULL, sha, &len);
        if (rc != EV_OK) {
            problem(c, r->id, rc == EV_ENOMEM ? EV_ENOMEM : EV_ECORRUPT,
                    "%s", v->errmsg);
        } else if (len != r->size || !ev_memeq(sha, r->sha256, 32)) {
            problem(c, r->id, EV_ECORRUPT,
                    "its content does not match its recorded SHA-256");
        }
    }
}

static int
check_record(void *arg, const ev_record_row *row)
{
    struct check *c = arg;
    ev_vault *v = c->v;
    ev_record r;
    int rc;

    c->nrecords++;
    if (row->state < EV_STATE_ACTIVE || row->state > EV_STATE_DESTROYED) {
        problem(c, row->id, EV_ECORRUPT, "unknown state %d", row->state);
    }
    rc = ev_meta_open(v, row->id, row->meta.p, row->meta.n, &r);
    if (rc != EV_OK) {
        problem(c, row->id, EV_ECORRUPT, "%s", v->errmsg);
        return 0;
    }
    check_blind(c, &r);
    if (row->has_blob) {
        if (r.hash_only) {
            problem(c, row->id, EV_ECORRUPT,
                    "a hash-only record points at a blob");
        }
        if (push_id(&c->refs, &c->nrefs, &c->caprefs, row->blob_id) != 0) {
            c->oom = 1;
        }
        check_blob(c, row, &r);
    } else if (!r.hash_only) {
        problem(c, row->id, EV_ECORRUPT, "its blob reference is missing");
    }
    if (v->progress != NULL) {
        v->progress(v->progress_ctx, c->nrecords, 0);
    }
    ev_record_release(&r);
    return c->oom;
}

static int
collect_row(void *arg, const uint8_t *id, int inline_, uint64_t padded)
{
    struct check *c = arg;

    (void)inline_;
    (void)padded;
    if (push_id(&c->rows, &c->nrows, &c->caprows, id) != 0) {
        c->oom = 1;
        return 1;
    }
    return 0;
}

static int
note_file(void *arg, const uint8_t *id, const char *path)
{
    struct check *c = arg;

    if (id == NULL) {
        problem(c, 0, EV_OK, "unexpected file in the blob store: %s", path);
    } else if (bsearch(id, c->rows, c->nrows, EV_BLOBID_BYTES, id_cmp) ==
               NULL) {
        problem(c, 0, EV_OK,
                "blob file that no record uses (left by an interrupted "
                "add; harmless): %s",
                path);
    }
    return 0;
}

int
ev_check(ev_vault *v, int flags, ev_problem_fn cb, void *ctx,
         uint64_t *nrecords)
{
    struct check c;
    int rc;

    if (v->keys == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
    }
    memset(&c, 0, sizeof c);
    c.v = v;
    c.flags = flags;
    c.cb = cb;
    c.ctx = ctx;
    /* One snapshot for the whole check: an add committing meanwhile must
     * not look like a record without its index entries. */
    rc = ev_catalog_begin_read(v->cat);
    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc, "cannot read the catalog");
    }
    rc = ev_catalog_integrity(v->cat);
    if (rc == EV_ECORRUPT) {
        problem(&c, 0, EV_ECORRUPT, "the catalog is damaged: %s",
                ev_catalog_errmsg(v->cat));
    } else if (rc != EV_OK) {
        ev_catalog_end_read(v->cat);
        return ev_fail_catalog(v, rc, "cannot check the catalog");
    }
    rc = ev_catalog_blind_each(v->cat, collect_blind, &c);
    if (rc == EV_OK) {
        qsort(c.blind, c.nblind, sizeof *c.blind, blind_cmp);
        rc = ev_catalog_record_each(v->cat, NULL, 0, check_record, &c);
    }
    if (rc == EV_OK) {
        for (size_t i = 0; i < c.nblind; i++) {
            if (!c.blind[i].seen) {
                problem(&c, c.blind[i].record, EV_ECORRUPT,
                        "a search index entry matches nothing in the "
                        "record (altered index)");
            }
        }
        rc = ev_catalog_blob_each(v->cat, collect_row, &c);
    }
    if (rc == EV_OK && !c.oom) {
        qsort(c.rows, c.nrows, EV_BLOBID_BYTES, id_cmp);
        qsort(c.refs, c.nrefs, EV_BLOBID_BYTES, id_cmp);
        for (size_t i = 0; i < c.nrows; i++) {
            if (bsearch(c.rows[i], c.refs, c.nrefs, EV_BLOBID_BYTES,
                        id_cmp) == NULL) {
                problem(&c, 0, EV_OK, "a blob in the catalog is unused");
            }
        }
        ev_store_list(v->store, note_file, &c);
    }
    ev_catalog_end_read(v->cat);
    free(c.blind);
    free(c.refs);
    free(c.rows);
    if (nrecords != NULL) {
        *nrecords = c.nrecords;
    }
    if (c.oom) {
        return ev_fail(v, EV_ENOMEM, "out of memory during the check");
    }
    if (rc != EV_OK && rc != 1) {
        return ev_fail_catalog(v, rc, "cannot read the catalog");
    }
    if (c.damaged) {
        return ev_fail(v, EV_ECORRUPT, "the vault is damaged");
    }
    return EV_OK;
}
