/*
 * store.h - where blobs live: a local directory, or an S3-compatible
 * object store.
 *
 * Both keep DIR/tmp/ for blobs being sealed (encrypted bytes only; never
 * read back by anyone else).  The local directory store then renames them
 * into DIR/blobs/ab/ab12...ef after an fsync, and fsyncs the directory; the
 * S3 store uploads them as PREFIX/ab12...ef (one PUT, or a multipart upload
 * reading one part at a time), checks the object's size with a HEAD, and
 * removes the temporary file.  Either way a blob is visible under its name
 * only whole, and the caller commits the record that names it after.
 *
 * The store interface is small: commit (put), a reader for ranges, head,
 * remove and list; struct ev_store_ops is what an implementation gives.
 */
#ifndef EV_STORE_H
#define EV_STORE_H

#include <stddef.h>
#include <stdint.h>

#define EV_BLOBID_BYTES 32

typedef struct ev_store ev_store;
typedef struct ev_store_reader ev_store_reader;
struct ev_s3_config;

/* Errors come back as ev_status with the failing path or object in
 * errmsg, and a likely fix (or "") in the hint buffer given to
 * ev_store_set_hint_buffer. */
int ev_store_open(ev_store **out, const char *dir, char *errmsg,
                  size_t errmsg_len);
void ev_store_close(ev_store *s);
/* Makes blobs/ and tmp/ (at vault creation). */
int ev_store_create_dirs(const char *dir, char *errmsg, size_t errmsg_len);
/* From now on blobs live in the S3 bucket cfg names (tmp/ stays local).
 * Makes no request. */
int ev_store_use_s3(ev_store *s, const struct ev_s3_config *cfg,
                    char *errmsg, size_t errmsg_len);
/* Is this the S3 store?  Its configuration, or NULL for the directory. */
const struct ev_s3_config *ev_store_s3_config(const ev_store *s);
/* Where failures write their hint (the vault handle's buffer). */
void ev_store_set_hint_buffer(ev_store *s, char *hint, size_t hint_len);
/* "DIR/blobs" or "s3://bucket/prefix at endpoint", for messages. */
void ev_store_describe(const ev_store *s, char *out, size_t out_len);

/* A new temporary file to write a blob into; name receives its path.
 * With direct set it is opened with O_DIRECT where the file system allows
 * (*direct is cleared where it does not): writes must then be multiples of
 * EV_STORE_ALIGN from aligned memory. */
#define EV_STORE_ALIGN 4096
/* The piece size when a blob is copied between stores. */
#define EV_STORE_COPY_BYTES ((size_t)4 << 20)
int ev_store_tmp_create(ev_store *s, int *fd, char *name, size_t name_len,
                        int *direct, char *errmsg, size_t errmsg_len);
/* Makes the temporary file the blob id: the fd is closed in every case,
 * and the temporary file is gone on success.  Directory: fsync, rename,
 * fsync the directory.  S3: upload, check the size, remove. */
int ev_store_tmp_commit(ev_store *s, int fd, const char *tmpname,
                        const uint8_t id[EV_BLOBID_BYTES], char *errmsg,
                        size_t errmsg_len);
/* Removes a temporary file that will not be committed (closes fd if >=0). */
void ev_store_tmp_discard(ev_store *s, int fd, const char *tmpname);
/* Removes every leftover temporary file (after a crash). */
void ev_store_tmp_sweep(ev_store *s);

/* Stores size bytes read from fd (offset 0 on) as blob id, durable when it
 * returns (for moving blobs between stores).  The fd stays open. */
int ev_store_put_fd(ev_store *s, const uint8_t id[EV_BLOBID_BYTES], int fd,
                    uint64_t size, char *errmsg, size_t errmsg_len);

/* The size of a blob; EV_ENOENT when it is missing. */
int ev_store_head(ev_store *s, const uint8_t id[EV_BLOBID_BYTES],
                  uint64_t *size, char *errmsg, size_t errmsg_len);

/* Reads a blob: its size, and ranges of it.  EV_ENOENT when missing. */
int ev_store_reader_open(ev_store *s, const uint8_t id[EV_BLOBID_BYTES],
                         ev_store_reader **out, uint64_t *size, char *errmsg,
                         size_t errmsg_len);
/* Exactly n bytes at off; an ev_status (the message in the store's errmsg
 * given at open). */
int ev_store_reader_read(ev_store_reader *r, uint8_t *buf, size_t n,
                         uint64_t off);
void ev_store_reader_close(ev_store_reader *r);

/* Removes a blob (crypto-shredding has already made it unreadable) and
 * makes that durable.  A blob that is already gone is not an error. */
int ev_store_remove(ev_store *s, const uint8_t id[EV_BLOBID_BYTES],
                    char *errmsg, size_t errmsg_len);
/* The name of a blob (path or s3:// URL), for messages and tests. */
void ev_store_blob_path(ev_store *s, const uint8_t id[EV_BLOBID_BYTES],
                        char *out, size_t out_len);

/* Calls fn for every blob present, with its size; stops early when fn
 * returns non-zero.  Names that are not blob ids are reported with id
 * NULL.  An ev_status: a listing that cannot be had is an error. */
typedef int (*ev_store_list_fn)(void *ctx, const uint8_t *id, uint64_t size,
                                const char *name);
int ev_store_list(ev_store *s, ev_store_list_fn fn, void *ctx, char *errmsg,
                  size_t errmsg_len);

/* ------------------------------------------------------------------ */
/* For the implementations (store.c, store_s3.c)                       */
/* ------------------------------------------------------------------ */

struct ev_store_ops {
    const char *kind;
    void (*free)(void *impl);
    void (*describe)(void *impl, char *out, size_t out_len);
    void (*name)(void *impl, const uint8_t *id, char *out, size_t out_len);
    /* the temporary file becomes the blob (fd closed, tmp gone) */
    int (*commit)(ev_store *s, int fd, const char *tmpname,
                  const uint8_t *id, char *errmsg, size_t errmsg_len);
    int (*put_fd)(ev_store *s, const uint8_t *id, int fd, uint64_t size,
                  char *errmsg, size_t errmsg_len);
    int (*head)(ev_store *s, const uint8_t *id, uint64_t *size,
                char *errmsg, size_t errmsg_len);
    int (*open_read)(ev_store_reader *r, char *errmsg, size_t errmsg_len);
    int (*read)(ev_store_reader *r, uint8_t *buf, size_t n, uint64_t off);
    void (*close_read)(ev_store_reader *r);
    int (*remove)(ev_store *s, const uint8_t *id, char *errmsg,
                  size_t errmsg_len);
    int (*list)(ev_store *s, ev_store_list_fn fn, void *ctx, char *errmsg,
                size_t errmsg_len);
};

struct ev_store {
    char *dir;
    char *blobs;
    char *tmp;
    const struct ev_store_ops *ops;
    void *impl;         /* the implementation's state */
    char *hint;         /* where a failure's hint goes, or NULL */
    size_t hint_len;
};

struct ev_store_reader {
    ev_store *s;
    uint8_t id[EV_BLOBID_BYTES];
    uint64_t size;
    char *errmsg;       /* the buffer given at open */
    size_t errmsg_len;
    int fd;             /* directory store */
    uint8_t *win;       /* S3: a window of the object, read ahead */
    uint64_t win_off;
    size_t win_len, win_cap;
};

/* Sets the hint of a failure (NULL: none). */
void ev_store_set_hint(ev_store *s, const char *hint);

/* The S3 implementation (store_s3.c). */
extern const struct ev_store_ops ev_store_s3_ops;
int ev_store_s3_new(void **impl, const struct ev_s3_config *cfg);

#endif
