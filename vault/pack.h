/*
 * pack.h - vault.pack, the file that holds small blobs side by side.
 *
 * A blob of one chunk (content up to 1 MiB) is appended here instead of
 * getting a file of its own or a row of pages in vault.db; its blobs row
 * in the catalog names its offset, and its padded size is its length.
 * The catalog decides when bytes become part of the vault: it appends,
 * syncs, then commits the rows and the new end ("pack_end" in meta) in
 * one transaction.  Bytes past the committed end were left by a writer
 * that was killed; the next writer cuts them off.
 *
 * Only os.c's table is used for I/O.  Every call returns 0, or -1 with
 * errno set.
 */
#ifndef EV_PACK_H
#define EV_PACK_H

#include <stddef.h>
#include <stdint.h>

typedef struct ev_pack ev_pack;

/* A handle for the pack at path; no file is touched.  NULL: no memory. */
ev_pack *ev_pack_new(const char *path);
void ev_pack_free(ev_pack *p);
const char *ev_pack_path(const ev_pack *p);

/* Starts appending at end, the committed end: creates the file (mode
 * 0600, its folder synced) when it is missing, and cuts off whatever lies
 * past end. */
int ev_pack_begin(ev_pack *p, uint64_t end);
/* Appends n bytes (buffered); *off receives where they start. */
int ev_pack_append(ev_pack *p, const void *data, size_t n, uint64_t *off);
/* Writes what is buffered and fsyncs the file; *end receives the end of
 * what was appended.  Appending may go on after it. */
int ev_pack_sync(ev_pack *p, uint64_t *end);
/* While appending: copies the n bytes appended at from down to to (to <=
 * from; the ranges may overlap), through scratch (n bytes), and makes the
 * next append go to pos (<= where it would go), forgetting what lies past
 * it.  For blobs appended before their rows, when some of them are not to
 * be named after all: the ones kept close up over the gaps. */
int ev_pack_move(ev_pack *p, uint64_t from, uint64_t to, size_t n,
                 void *scratch);
int ev_pack_rewind(ev_pack *p, uint64_t pos);
/* Ends appending after a sync (the next append needs ev_pack_begin). */
void ev_pack_stop(ev_pack *p);
/* Forgets what was appended and not synced (a rolled-back transaction);
 * bytes already written stay past the committed end. */
void ev_pack_abandon(ev_pack *p);

/* Reads up to n bytes at off into buf; *got is less than n when the file
 * ends first, 0 when there is no file (or something else than a regular
 * file has its name).  Bytes appended in the current
 * transaction are readable too. */
int ev_pack_read(ev_pack *p, void *buf, size_t n, uint64_t off, size_t *got);
/* The file's size, 0 when it is missing. */
int ev_pack_size(ev_pack *p, uint64_t *size);
/* Overwrites the bytes in [off, off + n) that the file holds with zeros
 * and fsyncs it (a destroyed blob).  No file: nothing to do. */
int ev_pack_wipe(ev_pack *p, uint64_t off, uint64_t n);
/* Cuts the file back to end when it is longer, and fsyncs it (what a
 * killed writer appended).  No file: nothing to do. */
int ev_pack_cut(ev_pack *p, uint64_t end);

#endif
