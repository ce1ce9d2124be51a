/*
 * store.c - the local directory store (see store.h).
 *
 * Owns: the blobs/ and tmp/ directories and their names.
 * Never: interprets a blob's bytes, or leaves a half-written blob visible.
 */
#include "store.h"

#include "crypto.h"
#include "evault.h"
#include "os.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ev_store {
    char *dir;
    char *blobs;
    char *tmp;
};

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
    *out = s;
    return EV_OK;
}

void
ev_store_close(ev_store *s)
{
    if (s == NULL) {
        return;
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
ev_store_blob_path(ev_store *s, const uint8_t id[EV_BLOBID_BYTES], char *out,
                   size_t out_len)
{
    char hex[2 * EV_BLOBID_BYTES + 1];

    ev_hex(hex, id, EV_BLOBID_BYTES);
    snprintf(out, out_len, "%s/%.2s/%s", s->blobs, hex, hex);
}

int
ev_store_tmp_commit(ev_store *s, int fd, const char *tmpname,
                    const uint8_t id[EV_BLOBID_BYTES], char *errmsg,
                    size_t errmsg_len)
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

int
ev_store_open_blob(ev_store *s, const uint8_t id[EV_BLOBID_BYTES], int *fd,
                   uint64_t *size, char *errmsg, size_t errmsg_len)
{
    char path[PATH_MAX];
    struct stat st;
    int rc;

    ev_store_blob_path(s, id, path, sizeof path);
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

int
ev_store_remove(ev_store *s, const uint8_t id[EV_BLOBID_BYTES], char *errmsg,
                size_t errmsg_len)
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
    return EV_OK;
}

int
ev_store_list(ev_store *s,
              int (*fn)(void *ctx, const uint8_t *id, const char *path),
              void *ctx)
{
    DIR *top = opendir(s->blobs);
    struct dirent *e;
    char sub[PATH_MAX], path[PATH_MAX];
    int stop = 0;

    if (top == NULL) {
        return EV_EIO;
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
            stop = fn(ctx, NULL, sub);
            continue;
        }
        while (!stop && (f = readdir(d)) != NULL) {
            uint8_t id[EV_BLOBID_BYTES];
            if (f->d_name[0] == '.') {
                continue;
            }
            if ((size_t)snprintf(path, sizeof path, "%s/%s", sub,
                                 f->d_name) >= sizeof path) {
                continue;
            }
            if (ev_unhex(id, sizeof id, f->d_name) != EV_OK ||
                strncmp(f->d_name, e->d_name, 2) != 0) {
                stop = fn(ctx, NULL, path);
            } else {
                stop = fn(ctx, id, path);
            }
        }
        closedir(d);
    }
    closedir(top);
    return EV_OK;
}
