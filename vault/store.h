/*
 * store.h - where blob files live: a local directory.
 *
 *   DIR/blobs/ab/ab12...ef   one file per blob, named by its id in hex
 *   DIR/tmp/                 blobs being written; never read back
 *
 * A blob appears under its name only after its bytes were fsynced, and the
 * directory entry is fsynced after the rename.
 */
#ifndef EV_STORE_H
#define EV_STORE_H

#include <stddef.h>
#include <stdint.h>

#define EV_BLOBID_BYTES 32

typedef struct ev_store ev_store;

/* Errors come back as ev_status with the failing path in errmsg. */
int ev_store_open(ev_store **out, const char *dir, char *errmsg,
                  size_t errmsg_len);
void ev_store_close(ev_store *s);
/* Makes blobs/ and tmp/ (at vault creation). */
int ev_store_create_dirs(const char *dir, char *errmsg, size_t errmsg_len);

/* A new temporary file to write a blob into; name receives its path.
 * With direct set it is opened with O_DIRECT where the file system allows
 * (*direct is cleared where it does not): writes must then be multiples of
 * EV_STORE_ALIGN from aligned memory. */
#define EV_STORE_ALIGN 4096
int ev_store_tmp_create(ev_store *s, int *fd, char *name, size_t name_len,
                        int *direct, char *errmsg, size_t errmsg_len);
/* fsyncs fd, closes it, and renames the temporary file to the blob's name,
 * then fsyncs the directory.  The fd is closed in every case. */
int ev_store_tmp_commit(ev_store *s, int fd, const char *tmpname,
                        const uint8_t id[EV_BLOBID_BYTES], char *errmsg,
                        size_t errmsg_len);
/* Removes a temporary file that will not be committed (closes fd if >=0). */
void ev_store_tmp_discard(ev_store *s, int fd, const char *tmpname);
/* Removes every leftover temporary file (after a crash). */
void ev_store_tmp_sweep(ev_store *s);

/* Opens a blob for reading: fd and size.  EV_ENOENT when missing. */
int ev_store_open_blob(ev_store *s, const uint8_t id[EV_BLOBID_BYTES],
                       int *fd, uint64_t *size, char *errmsg,
                       size_t errmsg_len);
/* Removes a blob (crypto-shredding has already made it unreadable) and
 * fsyncs its directory.  A blob that is already gone is not an error. */
int ev_store_remove(ev_store *s, const uint8_t id[EV_BLOBID_BYTES],
                    char *errmsg, size_t errmsg_len);
/* The path of a blob (for messages and tests). */
void ev_store_blob_path(ev_store *s, const uint8_t id[EV_BLOBID_BYTES],
                        char *out, size_t out_len);

/* Calls fn for every blob file present; stops early when fn returns
 * non-zero.  Names that are not 64 hex digits are reported with id NULL. */
int ev_store_list(ev_store *s,
                  int (*fn)(void *ctx, const uint8_t *id, const char *path),
                  void *ctx);

#endif
