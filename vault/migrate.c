/*
 * migrate.c - choosing where blobs live, and moving them there.
 *
 * Owns: turning a store spec (s3://BUCKET/PREFIX, endpoint, region) into
 * checked settings, the checks made before a bucket is used, and the move
 * of every stored blob from one store to another.
 * Never: switches the catalog to a store before every blob is in it and
 * read back identical, or removes an old copy before the switch committed.
 *
 * A move is resumable: blobs are copied in catalog order, each verified by
 * reading it back from the target and comparing its SHA-256 with the
 * source's; the catalog keeps naming the old store until all are, so an
 * interrupted move leaves a vault that works as before, and the next run
 * verifies what is already there instead of copying it again.
 */
#include "custody.h"
#include "internal.h"
#include "os.h"
#include "s3.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PIECE_BYTES ((size_t)4 << 20)

int
ev_store_spec_config(ev_vault *v, const ev_store_spec *spec,
                     ev_s3_config *cfg, int *remote)
{
    char err[400];

    memset(cfg, 0, sizeof *cfg);
    *remote = 0;
    if (spec->url == NULL || strcmp(spec->url, "local") == 0) {
        if (spec->endpoint != NULL || spec->region != NULL ||
            spec->path_style || spec->create_bucket) {
            return ev_fail(v, EV_EINVAL, "--endpoint, --region, "
                                         "--path-style and --create-bucket "
                                         "are for an s3:// store");
        }
        return EV_OK;
    }
    if (ev_s3_parse_url(cfg, spec->url, err, sizeof err) != EV_OK) {
        return ev_fail(v, EV_EINVAL, "%s", err);
    }
    if (spec->endpoint == NULL) {
        return ev_fail(v, EV_EINVAL, "an s3:// store needs --endpoint URL");
    }
    if (strlen(spec->endpoint) >= sizeof cfg->endpoint ||
        (spec->region != NULL && strlen(spec->region) >= sizeof cfg->region)) {
        return ev_fail(v, EV_EINVAL, "the endpoint or region is too long");
    }
    snprintf(cfg->endpoint, sizeof cfg->endpoint, "%s", spec->endpoint);
    snprintf(cfg->region, sizeof cfg->region, "%s",
             spec->region != NULL ? spec->region : "");
    cfg->path_style = spec->path_style;
    if (ev_s3_config_check(cfg, err, sizeof err) != EV_OK) {
        return ev_fail(v, EV_EINVAL, "%s", err);
    }
    *remote = 1;
    return EV_OK;
}

/* The bucket answers to these credentials; with must_be_empty, nothing
 * lies under the prefix. */
static int
target_check(ev_vault *v, const ev_s3_config *cfg, int create,
             int must_be_empty)
{
    char where[400], prefix[sizeof cfg->prefix + 1];
    ev_s3 *s3;
    int any = 0, rc;

    rc = ev_s3_new(&s3, cfg);
    if (rc != EV_OK) {
        return ev_fail(v, rc, "cannot set up an S3 client");
    }
    ev_s3_config_describe(cfg, where, sizeof where);
    snprintf(prefix, sizeof prefix, "%s%s", cfg->prefix,
             cfg->prefix[0] != '\0' ? "/" : "");
    rc = ev_s3_probe(s3, prefix, &any);
    if (rc == EV_ESTORE && create &&
        strstr(ev_s3_errmsg(s3), "does not exist") != NULL) {
        rc = ev_s3_create_bucket(s3);
        if (rc == EV_OK) {
            rc = ev_s3_probe(s3, prefix, &any);
        }
    }
    if (rc != EV_OK) {
        ev_fail(v, rc, "%s", ev_s3_errmsg(s3));
        snprintf(v->hint, sizeof v->hint, "%s", ev_s3_hint(s3));
    } else if (any && must_be_empty) {
        rc = ev_fail(v, EV_EEXIST,
                     "%s already holds objects under this prefix (another "
                     "vault's?)",
                     where);
        snprintf(v->hint, sizeof v->hint,
                 "choose an empty bucket or another prefix: "
                 "s3://%s/SOMETHING-NEW",
                 cfg->bucket);
    }
    ev_s3_free(s3);
    return rc;
}

int
ev_store_target_check(ev_vault *v, const ev_s3_config *cfg, int create)
{
    return target_check(v, cfg, create, 1);
}

int
ev_store_where(ev_vault *v, char *out, size_t out_len)
{
    if (v->keys == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
    }
    ev_store_describe(v->store, out, out_len);
    return EV_OK;
}

/* ------------------------------------------------------------------ */
/* Moving blobs                                                        */
/* ------------------------------------------------------------------ */

struct blob_ref {
    uint8_t id[EV_BLOBID_BYTES];
    uint64_t size;
};

struct refs {
    struct blob_ref *v;
    size_t n, cap;
    int oom;
};

static int
collect_stored(void *arg, const uint8_t *id, int inline_, uint64_t padded)
{
    struct refs *r = arg;

    if (inline_) {
        return 0; /* in the catalog: goes nowhere */
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        struct blob_ref *n = realloc(r->v, cap * sizeof *n);
        if (n == NULL) {
            r->oom = 1;
            return 1;
        }
        r->v = n;
        r->cap = cap;
    }
    memcpy(r->v[r->n].id, id, EV_BLOBID_BYTES);
    r->v[r->n].size = padded;
    r->n++;
    return 0;
}

/* SHA-256 of a whole blob as a store holds it. */
static int
hash_stored(ev_vault *v, ev_store *s, const struct blob_ref *b,
            uint8_t *buf, uint8_t out[32])
{
    ev_store_reader *r;
    ev_sha256 *h;
    uint64_t size, off = 0;
    int rc;

    rc = ev_store_reader_open(s, b->id, &r, &size, v->errmsg,
                              sizeof v->errmsg);
    if (rc != EV_OK) {
        return rc;
    }
    h = ev_sha256_new();
    if (h == NULL) {
        ev_store_reader_close(r);
        return ev_fail(v, EV_ENOMEM, "out of memory");
    }
    if (size != b->size) {
        rc = ev_fail(v, EV_ECORRUPT, "a blob has %llu bytes where the "
                                     "catalog says %llu",
                     (unsigned long long)size,
                     (unsigned long long)b->size);
    }
    while (rc == EV_OK && off < size) {
        size_t n = size - off < PIECE_BYTES ? (size_t)(size - off)
                                            : PIECE_BYTES;
        rc = ev_store_reader_read(r, buf, n, off);
        if (rc == EV_OK) {
            ev_sha256_update(h, buf, n);
        }
        off += n;
    }
    if (rc == EV_OK && ev_sha256_final(h, out) != 0) {
        rc = ev_fail(v, EV_ENOMEM, "cannot hash a blob: libcrypto failed");
    }
    ev_sha256_free(h);
    ev_store_reader_close(r);
    return rc;
}

/* Copies one blob from src to dst; *src_hash receives its SHA-256 as
 * read from the source. */
static int
copy_blob(ev_vault *v, ev_store *src, ev_store *dst,
          const struct blob_ref *b, uint8_t *buf, uint8_t src_hash[32],
          uint64_t *done, uint64_t total)
{
    char tmp[PATH_MAX];
    ev_store_reader *r = NULL;
    ev_sha256 *h = ev_sha256_new();
    uint64_t size, off = 0;
    int fd = -1, direct = 0, rc;

    if (h == NULL) {
        return ev_fail(v, EV_ENOMEM, "out of memory");
    }
    /* Sealed bytes go through a temporary file in DIR/tmp: the upload
     * reads its parts from there, the directory store renames it. */
    rc = ev_store_reader_open(src, b->id, &r, &size, v->errmsg,
                              sizeof v->errmsg);
    if (rc == EV_OK && size != b->size) {
        rc = ev_fail(v, EV_ECORRUPT, "a blob has %llu bytes where the "
                                     "catalog says %llu",
                     (unsigned long long)size,
                     (unsigned long long)b->size);
    }
    if (rc == EV_OK) {
        rc = ev_store_tmp_create(dst, &fd, tmp, sizeof tmp, &direct,
                                 v->errmsg, sizeof v->errmsg);
    }
    while (rc == EV_OK && off < size) {
        size_t n = size - off < PIECE_BYTES ? (size_t)(size - off)
                                            : PIECE_BYTES;
        rc = ev_store_reader_read(r, buf, n, off);
        if (rc == EV_OK) {
            ev_sha256_update(h, buf, n);
            if (ev_os_write_full(fd, buf, n) != 0) {
                rc = ev_fail(v, errno == ENOSPC ? EV_ENOSPC : EV_EIO,
                             "cannot write '%s': %s", tmp, strerror(errno));
            }
        }
        off += n;
        *done += n;
        if (rc == EV_OK && v->progress != NULL) {
            v->progress(v->progress_ctx, *done, total);
        }
    }
    ev_store_reader_close(r);
    if (rc == EV_OK && ev_sha256_final(h, src_hash) != 0) {
        rc = ev_fail(v, EV_ENOMEM, "cannot hash a blob: libcrypto failed");
    }
    if (rc == EV_OK) {
        rc = ev_store_tmp_commit(dst, fd, tmp, b->id, v->errmsg,
                                 sizeof v->errmsg);
        fd = -1;
        if (rc != EV_OK) {
            ev_os.unlink(tmp);
        }
    } else if (fd >= 0) {
        ev_store_tmp_discard(dst, fd, tmp);
    }
    ev_sha256_free(h);
    return rc;
}

int
ev_store_migrate(ev_vault *v, const ev_store_spec *to, int keep_old,
                 ev_migrate_report *report)
{
    ev_s3_config cfg;
    const ev_s3_config *cur;
    ev_store *dst = NULL, *old;
    struct refs refs = {NULL, 0, 0, 0};
    uint8_t *buf = NULL;
    char where[400];
    uint64_t done = 0, total = 0;
    int remote, rc;

    memset(report, 0, sizeof *report);
    if (v->keys == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
    }
    rc = ev_store_spec_config(v, to, &cfg, &remote);
    if (rc != EV_OK) {
        return rc;
    }
    cur = ev_store_s3_config(v->store);
    if ((cur == NULL && !remote) ||
        (cur != NULL && remote && strcmp(cur->bucket, cfg.bucket) == 0 &&
         strcmp(cur->prefix, cfg.prefix) == 0 &&
         strcmp(cur->endpoint, cfg.endpoint) == 0)) {
        ev_store_describe(v->store, where, sizeof where);
        return ev_fail(v, EV_EEXIST, "the blobs already live in %s", where);
    }
    rc = ev_vault_lock_write(v);
    if (rc != EV_OK) {
        return rc;
    }
    if (remote) {
        rc = target_check(v, &cfg, to->create_bucket, 0);
    }
    if (rc == EV_OK) {
        rc = ev_store_open(&dst, v->dir, v->errmsg, sizeof v->errmsg);
    }
    if (rc == EV_OK) {
        ev_store_set_hint_buffer(dst, v->hint, sizeof v->hint);
        if (remote) {
            rc = ev_store_use_s3(dst, &cfg, v->errmsg, sizeof v->errmsg);
        } else {
            rc = ev_store_create_dirs(v->dir, v->errmsg, sizeof v->errmsg);
        }
    }
    if (rc != EV_OK) {
        goto cleanup;
    }
    ev_store_tmp_sweep(v->store);
    rc = ev_catalog_blob_each(v->cat, collect_stored, &refs);
    buf = malloc(PIECE_BYTES);
    if (refs.oom || buf == NULL) {
        rc = ev_fail(v, EV_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (rc != EV_OK) {
        rc = ev_fail_catalog(v, rc, "cannot read the catalog");
        goto cleanup;
    }
    report->blobs = refs.n;
    for (size_t i = 0; i < refs.n; i++) {
        total += refs.v[i].size;
    }
    for (size_t i = 0; i < refs.n; i++) {
        const struct blob_ref *b = &refs.v[i];
        uint8_t want[32], got[32];
        uint64_t size;
        char name[PATH_MAX];
        int present;

        rc = ev_store_head(dst, b->id, &size, v->errmsg, sizeof v->errmsg);
        present = rc == EV_OK && size == b->size;
        if (rc != EV_OK && rc != EV_ENOENT) {
            goto cleanup;
        }
        if (present) {
            rc = hash_stored(v, v->store, b, buf, want);
        } else {
            rc = copy_blob(v, v->store, dst, b, buf, want, &done, total);
        }
        if (rc != EV_OK) {
            goto cleanup;
        }
        rc = hash_stored(v, dst, b, buf, got);
        if (rc == EV_OK && !ev_memeq(want, got, sizeof want)) {
            ev_store_blob_path(dst, b->id, name, sizeof name);
            rc = ev_fail(v, EV_ECORRUPT,
                         "'%s' differs from the original after the copy",
                         name);
        }
        if (rc != EV_OK) {
            goto cleanup;
        }
        if (present) {
            report->present++;
        } else {
            report->copied++;
            report->bytes += b->size;
        }
    }
    /* Every blob is in the target: switch the catalog to it. */
    rc = ev_catalog_begin(v->cat);
    if (rc != EV_OK) {
        rc = ev_fail_catalog(v, rc, "cannot write the catalog");
    } else {
        rc = ev_vault_store_save(v, remote ? &cfg : NULL);
        if (rc == EV_OK) {
            char note[160];
            snprintf(note, sizeof note, "%llu stored blobs moved to %s",
                     (unsigned long long)refs.n,
                     remote ? "an S3 store" : "the vault directory");
            rc = ev_custody_append(v, "store", NULL, 0, note, NULL);
        }
        if (rc == EV_OK) {
            rc = ev_catalog_commit(v->cat);
            if (rc != EV_OK) {
                rc = ev_fail_catalog(v, rc, "cannot commit the catalog");
            }
        }
        if (rc != EV_OK) {
            ev_catalog_rollback(v->cat);
            goto cleanup;
        }
    }
    if (rc != EV_OK) {
        goto cleanup;
    }
    old = v->store;
    v->store = dst;
    dst = old;
    if (!keep_old) {
        /* The old copies are sealed bytes, of no use now; a failure to
         * remove one leaves an orphan, not a problem. */
        for (size_t i = 0; i < refs.n; i++) {
            char err[512];
            if (ev_store_remove(dst, refs.v[i].id, err, sizeof err) ==
                EV_OK) {
                report->removed++;
            }
        }
    }
cleanup:
    ev_store_close(dst);
    free(refs.v);
    free(buf);
    ev_vault_unlock_write(v);
    return rc;
}
