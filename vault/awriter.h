/*
 * awriter.h - an asynchronous, in-order file writer for large outputs.
 *
 * Bytes are gathered in a few aligned 4 MiB buffers that one thread writes
 * in order, so the caller keeps reading and sealing while the disk writes.
 * The file may be opened with O_DIRECT (no page-cache copy): every write but
 * the last is then a whole number of aligned blocks, and O_DIRECT is turned
 * off for an unaligned tail or when the file system refuses it.
 */
#ifndef EV_AWRITER_H
#define EV_AWRITER_H

#include <stddef.h>
#include <stdint.h>

#define EV_AW_BUF_BYTES ((size_t)4 << 20)
#define EV_AW_ALIGN 4096

typedef struct ev_awriter ev_awriter;

/* NULL when out of memory.  direct: fd was opened with O_DIRECT. */
ev_awriter *ev_awriter_new(int fd, int direct);
/* Queues n bytes.  Returns 0, or the errno of an earlier failed write. */
int ev_awriter_write(ev_awriter *w, const void *p, size_t n);
/* Writes what is left and waits for every write: 0 or an errno. */
int ev_awriter_finish(ev_awriter *w);
/* Waits for the writer thread and frees (the fd stays open). NULL ok. */
void ev_awriter_free(ev_awriter *w);

#endif
