/*
 * store.c - the store interface and its local directory implementation
 * (see store.h).
 *
 * Owns: the tmp/ directory (for every store), the blobs/ directory and its
 * names, and the dispatch to an implementation's ops.
 * Never: interprets a blob's bytes, or leaves a half-written blob visible.
 */
#include "store.h"

#include "crypto.h"
#include "evault.h"
#include "os.h"
#include "s3.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct ev_store_ops dir_ops;

static int
errno_status(int e)
{
    switch (e) {
    case ENOSPC:
    case EDQUOT:
        return EV_ENOSPC;
    case ENOENT:
        return EV_ENOENT;
    case ENOMEM:
        return EV_ENOMEM;
    default:
        return EV_EIO;
    }
}

static int
fail(int e, const char *what, const char *path, char *errmsg, size_t len)
{
    snprintf(errmsg, len, "%s '%s': %s", what, path, strerror(e));
    return errno_status(e);
}

static char *
join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);

    if (s != NULL) {
        snprintf(s, n, "%s/%s", a, b);
    }
    return s;
}

int
ev_store_create_dirs(const char *dir, char *errmsg, size_t errmsg_len)
{
    char path[PATH_MAX];
    static const char *const subs[] = {"blobs", "tmp"};

    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, subs[i]);
        if (ev_os.mkdir(path, 0700) != 0 && errno != EEXIST) {
            return fail(errno, "cannot create", path, errmsg, errmsg_len);
        }
    }
    if (ev_os_fsync_dir(dir) != 0) {
        return fail(errno, "cannot sync", dir, errmsg, errmsg_len);
    }
    return EV_OK;
}

int
ev_store_open(ev_store **out, const char *dir, char *errmsg,
              size_t errmsg_len)
{
    ev_store *s = calloc(1, sizeof *s);

    (void)errmsg;
    (void)errmsg_len;
    if (s == NULL) {
        return EV_ENOMEM;
    }
    s->dir = strdup(dir);
    s->blobs = join(dir, "blobs");
    s->tmp = join(dir, "tmp");
    if (s->dir == NULL || s->blobs == NULL || s->tmp == NULL) {
        ev_store_close(s);
        return EV_ENOMEM;
    }
    s->ops = &dir_ops;
    s->impl = s;
    *out = s;
    return EV_OK;
}

int
ev_store_use_s3(ev_store *s, const ev_s3_config *cfg, char *errmsg,
                size_t errmsg_len)
{
    void *impl;
    int rc = ev_store_s3_new(&impl, cfg);

    if (rc != EV_OK) {
        snprintf(errmsg, errmsg_len, "cannot set up the S3 store: %s",
                 ev_strerror(rc));
        return rc;
    }
    if (s->ops != &dir_ops) {
        s->ops->free(s->impl);
    }
    s->ops = &ev_store_s3_ops;
    s->impl = impl;
    return EV_OK;
}

const ev_s3_config *
ev_store_s3_config(const ev_store *s)
{
    return s->ops == &ev_store_s3_ops ? s->impl : NULL;
}

void
ev_store_set_hint_buffer(ev_store *s, char *hint, size_t hint_len)
{
    s->hint = hint;
    s->hint_len = hint_len;
}

void
ev_store_set_hint(ev_store *s, const char *hint)
{
    if (s->hint != NULL && s->hint_len > 0) {
        snprintf(s->hint, s->hint_len, "%s", hint != NULL ? hint : "");
    }
}

void
ev_store_describe(const ev_store *s, char *out, size_t out_len)
{
    s->ops->describe(s->impl, out, out_len);
}

void
ev_store_close(ev_store *s)
{
    if (s == NULL) {
        return;
    }
    if (s->ops != NULL && s->ops != &dir_ops) {
        s->ops->free(s->impl);
    }
    free(s->dir);
    free(s->blobs);
    free(s->tmp);
    free(s);
}

int
ev_store_tmp_create(ev_store *s, int *fd, char *name, size_t name_len,
                    int *direct, char *errmsg, size_t errmsg_len)
{
    uint8_t r[12];
    char hex[25];

    ev_random(r, sizeof r);
    ev_hex(hex, r, sizeof r);
    snprintf(name, name_len, "%s/%s.tmp", s->tmp, hex);
    if (*direct) {
        /* Bypassing the page cache halves the copying for large blobs;
         * tmpfs and some others refuse it: then write through the cache. */
        *fd = ev_os.open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                   O_DIRECT, 0600);
        if (*fd >= 0 || errno != EINVAL) {
            goto done;
        }
        *direct = 0;
    }
    *fd = ev_os_create_excl(name);
done:
    if (*fd < 0) {
        return fail(errno, "cannot create", name, errmsg, errmsg_len);
    }
    return EV_OK;
}

void
ev_store_tmp_discard(ev_store *s, int fd, const char *tmpname)
{
    (void)s;
    if (fd >= 0) {
        ev_os.close(fd);
    }
    ev_os.unlink(tmpname);
}

void
ev_store_tmp_sweep(ev_store *s)
{
    DIR *d = opendir(s->tmp);
    struct dirent *e;
    char path[PATH_MAX];

    if (d == NULL) {
        return;
    }
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".tmp") == 0) {
            snprintf(path, sizeof path, "%s/%s", s->tmp, e->d_name);
            ev_os.unlink(path);
        }
    }
    closedir(d);
}

/* The interface: each call clears the hint, then asks the implementation. */

void
ev_store_blob_path(ev_store *s, const uint8_t id[EV_BLOBID_BYTES], char *out,
                   size_t out_len)
{
    s->ops->name(s->impl, id, out, out_len);
}

int
ev_store_tmp_commit(ev_store *s, int fd, const char *tmpname,
                    const uint8_t id[EV_BLOBID_BYTES], char *errmsg,
                    size_t errmsg_len)
{
    ev_store_set_hint(s, NULL);
    return s->ops->commit(s, fd, tmpname, id, errmsg, errmsg_len);
}

int
ev_store_put_fd(ev_store *s, const uint8_t id[EV_BLOBID_BYTES], int fd,
                uint64_t size, char *errmsg, size_t errmsg_len)
{
    ev_store_set_hint(s, NULL);
    return s->ops->put_fd(s, id, fd, size, errmsg, errmsg_len);
}

int
ev_store_head(ev_store *s, const uint8_t id[EV_BLOBID_BYTES], uint64_t *size,
              char *errmsg, size_t errmsg_len)
{
    ev_store_set_hint(s, NULL);
    return s->ops->head(s, id, size, errmsg, errmsg_len);
}

int
ev_store_reader_open(ev_store *s, const uint8_t id[EV_BLOBID_BYTES],
                     ev_store_reader **out, uint64_t *size, char *errmsg,
                     size_t errmsg_len)
{
    ev_store_reader *r = calloc(1, sizeof *r);
    int rc;

    *out = NULL;
    ev_store_set_hint(s, NULL);
    if (r == NULL) {
        snprintf(errmsg, errmsg_len, "out of memory");
        return EV_ENOMEM;
    }
    r->s = s;
    r->fd = -1;
    r->errmsg = errmsg;
    r->errmsg_len = errmsg_len;
    memcpy(r->id, id, EV_BLOBID_BYTES);
    rc = s->ops->open_read(r, errmsg, errmsg_len);
    if (rc != EV_OK) {
        free(r);
        return rc;
    }
    *size = r->size;
    *out = r;
    return EV_OK;
}

int
ev_store_reader_read(ev_store_reader *r, uint8_t *buf, size_t n,
                     uint64_t off)
{
    if (off > r->size || n > r->size - off) {
        snprintf(r->errmsg, r->errmsg_len, "a read past the end of a blob");
        return EV_ECORRUPT;
    }
    return r->s->ops->read(r, buf, n, off);
}

void
ev_store_reader_close(ev_store_reader *r)
{
    if (r == NULL) {
        return;
    }
    r->s->ops->close_read(r);
    free(r);
}

int
ev_store_remove(ev_store *s, const uint8_t id[EV_BLOBID_BYTES], char *errmsg,
                size_t errmsg_len)
{
    ev_store_set_hint(s, NULL);
    return s->ops->remove(s, id, errmsg, errmsg_len);
}

int
ev_store_list(ev_store *s, ev_store_list_fn fn, void *ctx, char *errmsg,
              size_t errmsg_len)
{
    ev_store_set_hint(s, NULL);
    return s->ops->list(s, fn, ctx, errmsg, errmsg_len);
}

/* ------------------------------------------------------------------ */
/* The local directory                                                 */
/* ------------------------------------------------------------------ */

static void
dir_free(void *impl)
{
    (void)impl;
}

static void
dir_describe(void *impl, char *out, size_t out_len)
{
    ev_store *s = impl;

    snprintf(out, out_len, "%s", s->blobs);
}

static void
dir_name(void *impl, const uint8_t *id, char *out, size_t out_len)
{
    ev_store *s = impl;
    char hex[2 * EV_BLOBID_BYTES + 1];

    ev_hex(hex, id, EV_BLOBID_BYTES);
    snprintf(out, out_len, "%s/%.2s/%s", s->blobs, hex, hex);
}

static int
dir_commit(ev_store *s, int fd, const char *tmpname, const uint8_t *id,
           char *errmsg, size_t errmsg_len)
{
    char path[PATH_MAX], sub[PATH_MAX];
    char hex[2 * EV_BLOBID_BYTES + 1];
    int rc;

    if (ev_os.fsync(fd) != 0) {
        rc = fail(errno, "cannot sync", tmpname, errmsg, errmsg_len);
        ev_os.close(fd);
        return rc;
    }
    if (ev_os.close(fd) != 0) {
        return fail(errno, "cannot close", tmpname, errmsg, errmsg_len);
    }
    ev_hex(hex, id, EV_BLOBID_BYTES);
    snprintf(sub, sizeof sub, "%s/%.2s", s->blobs, hex);
    if (ev_os.mkdir(sub, 0700) != 0 && errno != EEXIST) {
        return fail(errno, "cannot create", sub, errmsg, errmsg_len);
    }
    /* Even when the subdirectory existed: an earlier add may have made it
     * and failed before its entry in blobs/ was synced. */
    if (ev_os_fsync_dir(s->blobs) != 0) {
        return fail(errno, "cannot sync", s->blobs, errmsg, errmsg_len);
    }
    if ((size_t)snprintf(path, sizeof path, "%s/%s", sub, hex) >=
        sizeof path) {
        return fail(ENAMETOOLONG, "cannot name", sub, errmsg, errmsg_len);
    }
    if (ev_os.rename(tmpname, path) != 0) {
        return fail(errno, "cannot rename to", path, errmsg, errmsg_len);
    }
    if (ev_os_fsync_dir(sub) != 0) {
        return fail(errno, "cannot sync", sub, errmsg, errmsg_len);
    }
    return EV_OK;
}

/* Copies fd into a temporary file, then commits it. */
static int
dir_put_fd(ev_store *s, const uint8_t *id, int fd, uint64_t size,
           char *errmsg, size_t errmsg_len)
{
    char tmp[PATH_MAX];
    uint8_t *buf = malloc(EV_STORE_COPY_BYTES);
    uint64_t off = 0;
    int out = -1, direct = 0, rc;

    if (buf == NULL) {
        snprintf(errmsg, errmsg_len, "out of memory");
        return EV_ENOMEM;
    }
    rc = ev_store_tmp_create(s, &out, tmp, sizeof tmp, &direct, errmsg,
                             errmsg_len);
    while (rc == EV_OK && off < size) {
        size_t n = size - off < EV_STORE_COPY_BYTES ? (size_t)(size - off)
                                                    : EV_STORE_COPY_BYTES;
        ssize_t got = ev_os_pread_full(fd, buf, n, (off_t)off);
        if (got != (ssize_t)n) {
            snprintf(errmsg, errmsg_len, "cannot read a blob to copy: %s",
                     got < 0 ? strerror(errno) : "shorter than expected");
            rc = EV_EIO;
        } else if (ev_os_write_full(out, buf, n) != 0) {
            rc = fail(errno, "cannot write", tmp, errmsg, errmsg_len);
        }
        off += n;
    }
    free(buf);
    if (rc == EV_OK) {
        rc = dir_commit(s, out, tmp, id, errmsg, errmsg_len);
        out = -1;
    }
    if (rc != EV_OK) {
        ev_store_tmp_discard(s, out, tmp);
    }
    return rc;
}

static int
dir_open(ev_store *s, const uint8_t *id, int *fd, uint64_t *size,
         char *errmsg, size_t errmsg_len)
{
    char path[PATH_MAX];
    struct stat st;
    int rc;

    dir_name(s, id, path, sizeof path);
    *fd = ev_os.open(path, O_RDONLY | O_NOFOLLOW, 0);
    if (*fd < 0) {
        return fail(errno, "cannot open blob", path, errmsg, errmsg_len);
    }
    if (ev_os.fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = fail(errno ? errno : EINVAL, "cannot stat blob", path, errmsg,
                  errmsg_len);
        ev_os.close(*fd);
        *fd = -1;
        return rc;
    }
    *size = (uint64_t)st.st_size;
    return EV_OK;
}

static int
dir_head(ev_store *s, const uint8_t *id, uint64_t *size, char *errmsg,
         size_t errmsg_len)
{
    int fd, rc = dir_open(s, id, &fd, size, errmsg, errmsg_len);

    if (rc == EV_OK) {
        ev_os.close(fd);
    }
    return rc;
}

static int
dir_open_read(ev_store_reader *r, char *errmsg, size_t errmsg_len)
{
    return dir_open(r->s, r->id, &r->fd, &r->size, errmsg, errmsg_len);
}

static int
dir_read(ev_store_reader *r, uint8_t *buf, size_t n, uint64_t off)
{
    char path[PATH_MAX];

    if (ev_os_pread_full(r->fd, buf, n, (off_t)off) == (ssize_t)n) {
        return EV_OK;
    }
    dir_name(r->s, r->id, path, sizeof path);
    return fail(errno ? errno : EIO, "cannot read", path, r->errmsg,
                r->errmsg_len);
}

static void
dir_close_read(ev_store_reader *r)
{
    if (r->fd >= 0) {
        ev_os.close(r->fd);
        r->fd = -1;
    }
}

static int
dir_remove(ev_store *s, const uint8_t *id, char *errmsg, size_t errmsg_len)
{
    char path[PATH_MAX], sub[PATH_MAX];
    char hex[2 * EV_BLOBID_BYTES + 1];

    ev_hex(hex, id, EV_BLOBID_BYTES);
    snprintf(sub, sizeof sub, "%s/%.2s", s->blobs, hex);
    if ((size_t)snprintf(path, sizeof path, "%s/%s", sub, hex) >=
        sizeof path) {
        return fail(ENAMETOOLONG, "cannot name", sub, errmsg, errmsg_len);
    }
    if (ev_os.unlink(path) != 0) {
        if (errno == ENOENT) {
            return EV_OK;
        }
        return fail(errno, "cannot remove", path, errmsg, errmsg_len);
    }
    if (ev_os_fsync_dir(sub) != 0) {
        return fail(errno, "cannot sync", sub, errmsg, errmsg_len);
    }
    /* Its folder too when it held only this blob: a destroy leaves no
     * trace of it (ENOTEMPTY: others live there).  Adds hold the same
     * write lock, so none can be filing a blob into it meanwhile. */
    if (rmdir(sub) == 0) {
        ev_os_fsync_dir(s->blobs); /* else an empty folder may come back */
    }
    return EV_OK;
}

static int
dir_list(ev_store *s, ev_store_list_fn fn, void *ctx, char *errmsg,
         size_t errmsg_len)
{
    DIR *top = opendir(s->blobs);
    struct dirent *e;
    char sub[PATH_MAX], path[PATH_MAX];
    int stop = 0;

    if (top == NULL) {
        return fail(errno, "cannot list", s->blobs, errmsg, errmsg_len);
    }
    while (!stop && (e = readdir(top)) != NULL) {
        DIR *d;
        struct dirent *f;
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(sub, sizeof sub, "%s/%s", s->blobs, e->d_name);
        d = opendir(sub);
        if (d == NULL) {
            stop = fn(ctx, NULL, 0, sub);
            continue;
        }
        while (!stop && (f = readdir(d)) != NULL) {
            uint8_t id[EV_BLOBID_BYTES];
            struct stat st;
            uint64_t size = 0;
            int regular;
            if (f->d_name[0] == '.') {
                continue;
            }
            if ((size_t)snprintf(path, sizeof path, "%s/%s", sub,
                                 f->d_name) >= sizeof path) {
                continue;
            }
            regular = lstat(path, &st) == 0 && S_ISREG(st.st_mode);
            if (regular) {
                size = (uint64_t)st.st_size;
            }
            if (ev_unhex(id, sizeof id, f->d_name) != EV_OK ||
                strncmp(f->d_name, e->d_name, 2) != 0 || !regular) {
                stop = fn(ctx, NULL, size, path);
            } else {
                stop = fn(ctx, id, size, path);
            }
        }
        closedir(d);
    }
    closedir(top);
    return EV_OK;
}

static const struct ev_store_ops dir_ops = {
    "directory",   dir_free,      dir_describe, dir_name,
    dir_commit,    dir_put_fd,    dir_head,     dir_open_read,
    dir_read,      dir_close_read, dir_remove,  dir_list,
};
