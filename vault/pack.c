/*
 * pack.c - vault.pack: small sealed blobs appended one after another.
 *
 * Owns: the file's descriptor, the append buffer, and the order of the
 * writes (append, then fsync, before the catalog commits).
 * Never: writes anything but sealed blob bytes and zeros, or changes a
 * byte before the committed end except to wipe a destroyed blob.
 *
 * On disk: no header, no framing.  Each blob is exactly the blob format
 * (blob.h, with its Padme padding); where one starts and how long it is
 * lives only in its catalog row.  A destroyed blob's bytes are zeros.
 */
#include "pack.h"

#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Appends are gathered into writes of this size: 10,000 small files cost
 * a few hundred system calls, not 10,000. */
#define BUF_BYTES ((size_t)256 << 10)
#define ZERO_BYTES ((size_t)64 << 10)

struct ev_pack {
    char *path;
    int fd;        /* -1 until first needed */
    int rw;        /* fd is open for writing */
    int appending; /* between ev_pack_begin and sync or abandon */
    uint64_t pos;  /* where the next append goes */
    uint8_t *buf;  /* appended bytes not yet written ... */
    size_t buf_len;
    uint64_t buf_off; /* ... which belong here */
};

ev_pack *
ev_pack_new(const char *path)
{
    ev_pack *p = calloc(1, sizeof *p);

    if (p == NULL || (p->path = strdup(path)) == NULL) {
        free(p);
        return NULL;
    }
    p->fd = -1;
    return p;
}

void
ev_pack_free(ev_pack *p)
{
    if (p == NULL) {
        return;
    }
    if (p->fd >= 0) {
        ev_os.close(p->fd);
    }
    free(p->buf);
    free(p->path);
    free(p);
}

const char *
ev_pack_path(const ev_pack *p)
{
    return p->path;
}

/* fd is a regular file; else it is closed, with errno EINVAL. */
static int
regular(int fd)
{
    struct stat st;
    int err;

    if (ev_os.fstat(fd, &st) != 0) {
        err = errno;
    } else if (!S_ISREG(st.st_mode)) {
        err = EINVAL;
    } else {
        return fd;
    }
    ev_os.close(fd);
    errno = err;
    return -1;
}

/* Opens the file for reading (0, or -1 with errno ENOENT when missing). */
static int
open_read(ev_pack *p)
{
    if (p->fd >= 0) {
        return 0;
    }
    /* O_NONBLOCK: a FIFO put in its place must not hang every reader;
     * anything but a regular file is refused */
    p->fd =
        ev_os.open(p->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0);
    if (p->fd >= 0) {
        p->fd = regular(p->fd);
    }
    return p->fd >= 0 ? 0 : -1;
}

/* Opens it for writing, creating it when missing. */
static int
open_write(ev_pack *p)
{
    int fd;

    if (p->fd >= 0 && p->rw) {
        return 0;
    }
    fd = ev_os.open(p->path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0);
    if (fd >= 0) {
        fd = regular(fd);
    } else if (errno == ENOENT) {
        fd = ev_os.open(
            p->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        /* its name must last as long as the rows that will point in it */
        if (fd >= 0 && ev_os_fsync_parent(p->path) != 0) {
            int err = errno;
            ev_os.close(fd);
            ev_os.unlink(p->path);
            errno = err;
            return -1;
        }
    }
    if (fd < 0) {
        return -1;
    }
    if (p->fd >= 0) {
        ev_os.close(p->fd);
    }
    p->fd = fd;
    p->rw = 1;
    return 0;
}

int
ev_pack_size(ev_pack *p, uint64_t *size)
{
    struct stat st;

    *size = 0;
    if (open_read(p) != 0) {
        /* missing, or a link or not a regular file: it holds no blob */
        return errno == ENOENT || errno == EINVAL || errno == ELOOP ? 0 : -1;
    }
    if (ev_os.fstat(p->fd, &st) != 0) {
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

int
ev_pack_begin(ev_pack *p, uint64_t end)
{
    uint64_t size;

    if (open_write(p) != 0 || ev_pack_size(p, &size) != 0) {
        return -1;
    }
    if (size > end && ev_os.ftruncate(p->fd, (off_t)end) != 0) {
        return -1;
    }
    if (p->buf == NULL && (p->buf = malloc(BUF_BYTES)) == NULL) {
        errno = ENOMEM;
        return -1;
    }
    p->pos = p->buf_off = end;
    p->buf_len = 0;
    p->appending = 1;
    return 0;
}

static int
flush(ev_pack *p)
{
    if (p->buf_len == 0) {
        return 0;
    }
    if (ev_os_pwrite_full(p->fd, p->buf, p->buf_len, (off_t)p->buf_off) != 0) {
        return -1;
    }
    p->buf_off += p->buf_len;
    p->buf_len = 0;
    return 0;
}

int
ev_pack_append(ev_pack *p, const void *data, size_t n, uint64_t *off)
{
    if (!p->appending) {
        errno = EINVAL;
        return -1;
    }
    if (p->buf_len + n > BUF_BYTES && flush(p) != 0) {
        return -1;
    }
    *off = p->pos;
    if (n > BUF_BYTES) {
        if (ev_os_pwrite_full(p->fd, data, n, (off_t)p->pos) != 0) {
            return -1;
        }
        p->buf_off = p->pos + n;
    } else {
        memcpy(p->buf + p->buf_len, data, n);
        p->buf_len += n;
    }
    p->pos += n;
    return 0;
}

int
ev_pack_sync(ev_pack *p, uint64_t *end)
{
    if (!p->appending) {
        errno = EINVAL;
        return -1;
    }
    if (flush(p) != 0 || ev_os.fsync(p->fd) != 0) {
        return -1;
    }
    *end = p->pos;
    return 0;
}

int
ev_pack_move(ev_pack *p, uint64_t from, uint64_t to, size_t n, void *scratch)
{
    ssize_t r;

    if (!p->appending || to > from || from + n > p->pos) {
        errno = EINVAL;
        return -1;
    }
    if (flush(p) != 0) {
        return -1;
    }
    r = ev_os_pread_full(p->fd, scratch, n, (off_t)from);
    if (r < 0) {
        return -1;
    }
    if ((size_t)r != n) {
        errno = EIO; /* the file is shorter than what was appended */
        return -1;
    }
    return ev_os_pwrite_full(p->fd, scratch, n, (off_t)to);
}

int
ev_pack_rewind(ev_pack *p, uint64_t pos)
{
    if (!p->appending || pos > p->pos) {
        errno = EINVAL;
        return -1;
    }
    if (flush(p) != 0) {
        return -1;
    }
    p->pos = p->buf_off = pos;
    return 0;
}

void
ev_pack_stop(ev_pack *p)
{
    p->appending = 0;
}

void
ev_pack_abandon(ev_pack *p)
{
    p->appending = 0;
    p->buf_len = 0;
}

int
ev_pack_read(ev_pack *p, void *buf, size_t n, uint64_t off, size_t *got)
{
    ssize_t r;

    *got = 0;
    /* what this transaction appended is read from the file */
    if (p->appending && flush(p) != 0) {
        return -1;
    }
    if (open_read(p) != 0) {
        return errno == ENOENT || errno == EINVAL || errno == ELOOP ? 0 : -1;
    }
    if (off > (uint64_t)INT64_MAX - n) {
        return 0;
    }
    r = ev_os_pread_full(p->fd, buf, n, (off_t)off);
    if (r < 0) {
        return -1;
    }
    *got = (size_t)r;
    return 0;
}

int
ev_pack_wipe(ev_pack *p, uint64_t off, uint64_t n)
{
    static const uint8_t zeros[ZERO_BYTES];
    uint64_t size, end;

    if (ev_pack_size(p, &size) != 0) {
        return -1;
    }
    if (size == 0 || off >= size) {
        return 0;
    }
    if (open_write(p) != 0) {
        return -1;
    }
    end = n > size - off ? size : off + n;
    while (off < end) {
        size_t k = end - off < ZERO_BYTES ? (size_t)(end - off) : ZERO_BYTES;
        if (ev_os_pwrite_full(p->fd, zeros, k, (off_t)off) != 0) {
            return -1;
        }
        off += k;
    }
    return ev_os.fsync(p->fd);
}

int
ev_pack_cut(ev_pack *p, uint64_t end)
{
    uint64_t size;

    if (ev_pack_size(p, &size) != 0) {
        return -1;
    }
    if (size <= end) {
        return 0;
    }
    if (open_write(p) != 0 || ev_os.ftruncate(p->fd, (off_t)end) != 0) {
        return -1;
    }
    return ev_os.fsync(p->fd);
}
