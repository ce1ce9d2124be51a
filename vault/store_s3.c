/*
 * store_s3.c - the S3 implementation of the store (see store.h).
 *
 * Owns: object names (PREFIX/ + the blob id in 64 hex digits), the upload
 * of a sealed temporary file followed by a HEAD that checks its size, and
 * ranged reads through a read-ahead window.
 * Never: uploads anything but sealed blob bytes, or reports a blob stored
 * before the server showed it whole.
 */
#include "crypto.h"
#include "evault.h"
#include "os.h"
#include "s3.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads are served from a window of the object fetched with one ranged
 * GET: a blob's chunks are read in order, a few per request. */
#define WINDOW_BYTES ((size_t)8 << 20)

struct s3_store {
    ev_s3_config cfg; /* first: ev_store_s3_config returns it */
    ev_s3 *client;
};

int
ev_store_s3_new(void **impl, const ev_s3_config *cfg)
{
    struct s3_store *t = calloc(1, sizeof *t);
    int rc;

    *impl = NULL;
    if (t == NULL) {
        return EV_ENOMEM;
    }
    t->cfg = *cfg;
    rc = ev_s3_new(&t->client, cfg);
    if (rc != EV_OK) {
        free(t);
        return rc;
    }
    *impl = t;
    return EV_OK;
}

static void
s3_free(void *impl)
{
    struct s3_store *t = impl;

    if (t != NULL) {
        ev_s3_free(t->client);
        free(t);
    }
}

static void
s3_describe(void *impl, char *out, size_t out_len)
{
    struct s3_store *t = impl;

    ev_s3_config_describe(&t->cfg, out, out_len);
}

static void
s3_key(struct s3_store *t, const uint8_t *id, char *out, size_t out_len)
{
    char hex[2 * EV_BLOBID_BYTES + 1];

    ev_hex(hex, id, EV_BLOBID_BYTES);
    /* the prefix is at most 200 bytes: the key always fits */
    ev_s3_key(&t->cfg, hex, out, out_len);
}

static void
s3_name(void *impl, const uint8_t *id, char *out, size_t out_len)
{
    struct s3_store *t = impl;
    char key[300];

    s3_key(t, id, key, sizeof key);
    snprintf(out, out_len, "s3://%s/%s", t->cfg.bucket, key);
}

/* Copies the client's failure into errmsg and the store's hint. */
static int
s3_fail(ev_store *s, int rc, char *errmsg, size_t errmsg_len)
{
    struct s3_store *t = s->impl;

    snprintf(errmsg, errmsg_len, "%s", ev_s3_errmsg(t->client));
    ev_store_set_hint(s, ev_s3_hint(t->client));
    return rc;
}

/* Uploads, then checks with a HEAD that the server holds all of it. */
static int
s3_put_fd(ev_store *s, const uint8_t *id, int fd, uint64_t size,
          char *errmsg, size_t errmsg_len)
{
    struct s3_store *t = s->impl;
    char key[300];
    uint64_t got;
    int rc;

    s3_key(t, id, key, sizeof key);
    rc = ev_s3_put_fd(t->client, key, fd, size);
    if (rc == EV_OK) {
        rc = ev_s3_head(t->client, key, &got);
        if (rc == EV_ENOENT) {
            rc = EV_ESTORE; /* it was just stored: not "missing" */
        }
    }
    if (rc != EV_OK) {
        return s3_fail(s, rc, errmsg, errmsg_len);
    }
    if (got != size) {
        ev_store_set_hint(s, NULL);
        snprintf(errmsg, errmsg_len,
                 "'%s' holds %llu bytes of '%s' after an upload of %llu",
                 t->cfg.endpoint, (unsigned long long)got, key,
                 (unsigned long long)size);
        return EV_ESTORE;
    }
    return EV_OK;
}

static int
s3_commit(ev_store *s, int fd, const char *tmpname, const uint8_t *id,
          char *errmsg, size_t errmsg_len)
{
    struct stat st;
    int rfd, rc;

    /* The writer's fd may be O_DIRECT and write-only: read it anew. */
    if (ev_os.close(fd) != 0) {
        snprintf(errmsg, errmsg_len, "cannot close '%s': %s", tmpname,
                 strerror(errno));
        return EV_EIO;
    }
    rfd = ev_os.open(tmpname, O_RDONLY | O_NOFOLLOW, 0);
    if (rfd < 0 || ev_os.fstat(rfd, &st) != 0) {
        snprintf(errmsg, errmsg_len, "cannot open '%s': %s", tmpname,
                 strerror(errno));
        if (rfd >= 0) {
            ev_os.close(rfd);
        }
        return EV_EIO;
    }
    rc = s3_put_fd(s, id, rfd, (uint64_t)st.st_size, errmsg, errmsg_len);
    ev_os.close(rfd);
    if (rc == EV_OK) {
        ev_os.unlink(tmpname);
    }
    return rc;
}

static int
s3_head(ev_store *s, const uint8_t *id, uint64_t *size, char *errmsg,
        size_t errmsg_len)
{
    struct s3_store *t = s->impl;
    char key[300];
    int rc;

    s3_key(t, id, key, sizeof key);
    rc = ev_s3_head(t->client, key, size);
    return rc == EV_OK ? EV_OK : s3_fail(s, rc, errmsg, errmsg_len);
}

static int
s3_open_read(ev_store_reader *r, char *errmsg, size_t errmsg_len)
{
    return s3_head(r->s, r->id, &r->size, errmsg, errmsg_len);
}

static int
s3_read(ev_store_reader *r, uint8_t *buf, size_t n, uint64_t off)
{
    struct s3_store *t = r->s->impl;
    char key[300];
    uint64_t woff;
    size_t wlen;
    int rc;

    if (r->win != NULL && off >= r->win_off &&
        off - r->win_off <= r->win_len &&
        n <= r->win_len - (size_t)(off - r->win_off)) {
        memcpy(buf, r->win + (off - r->win_off), n);
        return EV_OK;
    }
    s3_key(t, r->id, key, sizeof key);
    if (n >= WINDOW_BYTES) {
        rc = ev_s3_get_range(t->client, key, off, buf, n);
        return rc == EV_OK ? EV_OK
                           : s3_fail(r->s, rc, r->errmsg, r->errmsg_len);
    }
    if (r->win == NULL) {
        r->win = malloc(WINDOW_BYTES);
        if (r->win == NULL) {
            snprintf(r->errmsg, r->errmsg_len, "out of memory");
            return EV_ENOMEM;
        }
        r->win_cap = WINDOW_BYTES;
    }
    /* A window from off on; near the end, the object's last bytes (the
     * index and the padding are read there, after the last chunks). */
    woff = off;
    if (r->size - woff < WINDOW_BYTES) {
        woff = r->size > WINDOW_BYTES ? r->size - WINDOW_BYTES : 0;
    }
    wlen = r->size - woff < WINDOW_BYTES ? (size_t)(r->size - woff)
                                         : WINDOW_BYTES;
    r->win_len = 0;
    rc = ev_s3_get_range(t->client, key, woff, r->win, wlen);
    if (rc != EV_OK) {
        if (rc == EV_ENOENT) {
            rc = EV_ECORRUPT; /* it was there when the read began */
        }
        return s3_fail(r->s, rc, r->errmsg, r->errmsg_len);
    }
    r->win_off = woff;
    r->win_len = wlen;
    memcpy(buf, r->win + (off - woff), n);
    return EV_OK;
}

static void
s3_close_read(ev_store_reader *r)
{
    free(r->win);
    r->win = NULL;
}

static int
s3_remove(ev_store *s, const uint8_t *id, char *errmsg, size_t errmsg_len)
{
    struct s3_store *t = s->impl;
    char key[300];
    int rc;

    s3_key(t, id, key, sizeof key);
    rc = ev_s3_delete(t->client, key);
    return rc == EV_OK ? EV_OK : s3_fail(s, rc, errmsg, errmsg_len);
}

struct list_ctx {
    struct s3_store *t;
    size_t skip; /* the prefix and its '/' */
    ev_store_list_fn fn;
    void *ctx;
    int stopped;
};

static int
list_one(void *arg, const char *key, uint64_t size)
{
    struct list_ctx *l = arg;
    char name[EV_S3_KEY_MAX + 80];
    uint8_t id[EV_BLOBID_BYTES];
    const char *rest = key + l->skip;
    size_t i;

    snprintf(name, sizeof name, "s3://%s/", l->t->cfg.bucket);
    /* Control characters from the server are not printed as they are. */
    for (i = strlen(name); *key != '\0' && i + 1 < sizeof name; key++) {
        unsigned char c = (unsigned char)*key;
        name[i++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    name[i] = '\0';
    if (strlen(rest) == 2 * EV_BLOBID_BYTES &&
        strspn(rest, "0123456789abcdef") == 2 * EV_BLOBID_BYTES &&
        ev_unhex(id, sizeof id, rest) == EV_OK) {
        l->stopped = l->fn(l->ctx, id, size, name) != 0;
    } else {
        l->stopped = l->fn(l->ctx, NULL, size, name) != 0;
    }
    return l->stopped ? -1 : 0;
}

static int
s3_list(ev_store *s, ev_store_list_fn fn, void *ctx, char *errmsg,
        size_t errmsg_len)
{
    struct s3_store *t = s->impl;
    struct list_ctx l = {t, 0, fn, ctx, 0};
    char prefix[sizeof t->cfg.prefix + 1];
    int rc;

    snprintf(prefix, sizeof prefix, "%s%s", t->cfg.prefix,
             t->cfg.prefix[0] != '\0' ? "/" : "");
    l.skip = strlen(prefix);
    rc = ev_s3_list(t->client, prefix, list_one, &l);
    if (l.stopped) {
        return EV_OK;
    }
    return rc == EV_OK ? EV_OK : s3_fail(s, rc, errmsg, errmsg_len);
}

const struct ev_store_ops ev_store_s3_ops = {
    "s3",          s3_free,       s3_describe, s3_name,
    s3_commit,     s3_put_fd,     s3_head,     s3_open_read,
    s3_read,       s3_close_read, s3_remove,   s3_list,
};
