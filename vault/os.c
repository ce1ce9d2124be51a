/*
 * os.c - the file-system call table (see os.h) and small helpers on it.
 *
 * Owns: every open/read/write/fsync/rename/unlink the library makes.
 * Never: decides policy; it only forwards calls and retries EINTR.
 */
#include "os.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int
sys_open(const char *path, int flags, mode_t mode)
{
    return open(path, flags | O_CLOEXEC, mode);
}

static int
sys_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    return openat(dirfd, path, flags | O_CLOEXEC, mode);
}

static int
sys_link(const char *from, const char *to)
{
    return linkat(AT_FDCWD, from, AT_FDCWD, to, AT_SYMLINK_FOLLOW);
}

static int
sys_rename_noreplace(const char *from, const char *to)
{
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
}

const struct ev_os ev_os_default = {
    sys_open, sys_openat, close, read,     pread,
    write,    fsync,      fstat, rename,   unlink,
    mkdir,    flock,      sys_link, sys_rename_noreplace,
    pwrite,   ftruncate,
};

struct ev_os ev_os = {
    sys_open, sys_openat, close, read,     pread,
    write,    fsync,      fstat, rename,   unlink,
    mkdir,    flock,      sys_link, sys_rename_noreplace,
    pwrite,   ftruncate,
};

ssize_t
ev_os_read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = ev_os.read(fd, (char *)buf + got, n - got);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        if (r == 0) {
            break;
        }
        got += (size_t)r;
    }
    return (ssize_t)got;
}

ssize_t
ev_os_pread_full(int fd, void *buf, size_t n, off_t off)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = ev_os.pread(fd, (char *)buf + got, n - got,
                                off + (off_t)got);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        if (r == 0) {
            break;
        }
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* write (off < 0) or pwrite at off, until all n bytes are written. */
static int
write_all(int fd, const void *buf, size_t n, off_t off)
{
    size_t done = 0;

    while (done < n) {
        const char *p = (const char *)buf + done;
        ssize_t r = off < 0 ? ev_os.write(fd, p, n - done)
                            : ev_os.pwrite(fd, p, n - done, off + (off_t)done);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        if (r == 0) {
            errno = ENOSPC;
            return -1;
        }
        done += (size_t)r;
    }
    return 0;
}

int
ev_os_write_full(int fd, const void *buf, size_t n)
{
    return write_all(fd, buf, n, -1);
}

int
ev_os_pwrite_full(int fd, const void *buf, size_t n, off_t off)
{
    if (off < 0) {
        errno = EINVAL;
        return -1;
    }
    return write_all(fd, buf, n, off);
}

int
ev_os_fsync_dir(const char *dir)
{
    int fd = ev_os.open(dir, O_RDONLY | O_DIRECTORY, 0);
    int rc, saved;

    if (fd < 0) {
        return -1;
    }
    rc = ev_os.fsync(fd);
    saved = errno;
    ev_os.close(fd);
    errno = saved;
    return rc;
}

int
ev_os_create_excl(const char *path)
{
    return ev_os.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
}

int
ev_os_mkdir_if_missing(const char *path, mode_t mode)
{
    if (ev_os.mkdir(path, mode) == 0 || errno == EEXIST) {
        return 0;
    }
    return -1;
}

int
ev_os_mkdirs(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof buf) {
        errno = n == 0 ? ENOENT : ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (i < n && buf[i] != '/') {
            continue;
        }
        if (i < n) {
            buf[i] = '\0';
        }
        if (ev_os.mkdir(buf, mode) == 0) {
            if (ev_os_fsync_parent(buf) != 0) {
                return -1; /* the new entry might not survive a power cut */
            }
        } else if (errno != EEXIST) {
            return -1;
        }
        if (i < n) {
            buf[i] = '/';
        }
    }
    return 0;
}

/* The folder of path, into dir: "." when path has no slash. */
static int
folder_of(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);

    if (n >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(dir, slash == NULL ? "." : path, n);
    dir[n] = '\0';
    return 0;
}

int
ev_os_fsync_parent(const char *path)
{
    char dir[PATH_MAX];

    return folder_of(path, dir, sizeof dir) == 0 ? ev_os_fsync_dir(dir) : -1;
}

/* Opens o->fd as an unnamed file (O_TMPFILE) in dir: 0, or -1 with
 * errno. */
static int
out_unnamed(ev_os_out *o, const char *dir, int want_direct)
{
    /* naming it later goes through /proc/self/fd */
    if (access("/proc/self/fd", X_OK) != 0) {
        errno = EOPNOTSUPP;
        return -1;
    }
    o->fd = want_direct ? ev_os.open(dir, O_TMPFILE | O_WRONLY | O_DIRECT,
                                     0600)
                        : -1;
    o->direct = o->fd >= 0;
    if (o->fd < 0 && (!want_direct || errno == EINVAL)) {
        o->fd = ev_os.open(dir, O_TMPFILE | O_WRONLY, 0600);
    }
    if (o->fd >= 0) {
        /* held, so that the passing name commit may give it is never
         * taken for a killed writer's */
        (void)ev_os.flock(o->fd, LOCK_EX | LOCK_NB);
    }
    return o->fd >= 0 ? 0 : -1;
}

/* ".NAME.evault-" and 16 lowercase hex digits: a hidden output name. */
static int
is_hidden_out(const char *name)
{
    size_t n = strlen(name);

    /* at least one character of NAME */
    if (name[0] != '.' || n < 2 + 8 + 16 ||
        memcmp(name + n - 16 - 8, ".evault-", 8) != 0) {
        return 0;
    }
    for (size_t i = n - 16; i < n; i++) {
        if (!((name[i] >= '0' && name[i] <= '9') ||
              (name[i] >= 'a' && name[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

/* Removes the hidden outputs in dir that no process holds: what a killed
 * export left behind, part of a plaintext file.  A writer holds a lock on
 * its own from creation to commit.  keep, the name being written to, is
 * never removed: it may be a file of that form to replace.  Returns how
 * many were removed. */
static unsigned
sweep_hidden(const char *dir, const char *keep)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    unsigned n = 0;

    if (d == NULL) {
        return 0;
    }
    while ((e = readdir(d)) != NULL) {
        struct stat st, again;
        int fd;
        /* never open anything but a regular file (a device could act) */
        if (!is_hidden_out(e->d_name) || strcmp(e->d_name, keep) == 0 ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode)) {
            continue;
        }
        /* for writing where allowed: on NFS an exclusive flock is a
         * byte-range lock, which needs it */
        fd = ev_os.openat(dirfd(d), e->d_name,
                          O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0);
        if (fd < 0 && (errno == EACCES || errno == EROFS)) {
            fd = ev_os.openat(dirfd(d), e->d_name,
                              O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY,
                              0);
        }
        if (fd < 0) {
            continue;
        }
        /* only a regular file no one holds, still under this name */
        if (ev_os.fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            ev_os.flock(fd, LOCK_EX | LOCK_NB) == 0 &&
            fstatat(dirfd(d), e->d_name, &again, AT_SYMLINK_NOFOLLOW) == 0 &&
            again.st_dev == st.st_dev && again.st_ino == st.st_ino &&
            unlinkat(dirfd(d), e->d_name, 0) == 0) {
            n++;
        }
        ev_os.close(fd);
    }
    closedir(d);
    if (n > 0) {
        ev_os_fsync_dir(dir);
    }
    return n;
}

/* The last component of path. */
static const char *
slash_base(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash != NULL ? slash + 1 : path;
}

/* A new hidden name beside path, ".NAME.evault-<16 hex>": 0, or -1. */
static int
hidden_name(char *out, size_t cap, const char *path)
{
    const char *base = slash_base(path);
    uint8_t r[8];
    char hex[17];

    randombytes_buf(r, sizeof r);
    sodium_bin2hex(hex, sizeof hex, r, sizeof r);
    if ((size_t)snprintf(out, cap, "%.*s.%s.evault-%s", (int)(base - path),
                         path, base, hex) >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* Creates the hidden name beside path, locked against sweep_hidden:
 * 0, or -1 with errno. */
static int
out_hidden(ev_os_out *o, const char *path, int want_direct)
{
    struct stat st, named;

    if (hidden_name(o->tmp, sizeof o->tmp, path) != 0) {
        return -1;
    }
    o->fd = want_direct ? ev_os.open(o->tmp,
                                     O_WRONLY | O_CREAT | O_EXCL |
                                         O_NOFOLLOW | O_DIRECT,
                                     0600)
                        : -1;
    o->direct = o->fd >= 0;
    if (o->fd < 0 && (!want_direct || errno == EINVAL)) {
        o->fd = ev_os_create_excl(o->tmp);
    }
    if (o->fd < 0) {
        o->tmp[0] = '\0';
        return -1;
    }
    /* Locked, and still ours: another process's sweep may have locked and
     * removed it between its creation and the lock.  (Where the file
     * system has no locks, no sweep can lock it either, and it is left.) */
    if ((ev_os.flock(o->fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) ||
        ev_os.fstat(o->fd, &st) != 0 || lstat(o->tmp, &named) != 0 ||
        named.st_dev != st.st_dev || named.st_ino != st.st_ino) {
        ev_os.close(o->fd);
        o->fd = -1;
        o->tmp[0] = '\0';
        errno = EAGAIN;
        return -1;
    }
    return 0;
}

int
ev_os_out_open(ev_os_out *o, const char *path, int want_direct)
{
    char dir[PATH_MAX];

    memset(o, 0, sizeof *o);
    o->fd = -1;
    o->unnamed = 1;
    /* first, what earlier killed exports left in this folder */
    if (folder_of(path, dir, sizeof dir) != 0) {
        return -1;
    }
    o->swept = sweep_hidden(dir, slash_base(path));
    if (out_unnamed(o, dir, want_direct) == 0) {
        return 0;
    }
    if (errno == ENOSPC || errno == EDQUOT) {
        return -1;
    }
    /* no unnamed files here: a hidden name beside path */
    o->unnamed = 0;
    for (int tries = 0; tries < 3; tries++) {
        if (out_hidden(o, path, want_direct) == 0) {
            return 0;
        }
        if (errno != EAGAIN) {
            return -1;
        }
    }
    return -1;
}

/* Gives the hidden file the name path unless path exists (EEXIST): 0, or
 * -1 with errno. */
static int
commit_hidden(ev_os_out *o, const char *path)
{
    int rc = ev_os.rename_noreplace(o->tmp, path);

    if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
        /* no RENAME_NOREPLACE here: a second name, then the hidden one
         * goes with ev_os_out_abort */
        rc = ev_os.link(o->tmp, path);
        if (rc != 0 && (errno == EPERM || errno == EOPNOTSUPP)) {
            /* and no links (FAT): look, then rename, which could replace
             * a file made in between */
            struct stat st;
            if (lstat(path, &st) == 0) {
                errno = EEXIST;
                return -1;
            }
            if (errno != ENOENT) {
                return -1;
            }
            rc = ev_os.rename(o->tmp, path);
            if (rc == 0) {
                o->tmp[0] = '\0';
            }
        }
        return rc;
    }
    if (rc == 0) {
        o->tmp[0] = '\0'; /* gone with the rename */
    }
    return rc;
}

int
ev_os_out_commit(ev_os_out *o, const char *path, int overwrite)
{
    char proc[64], tmp[PATH_MAX];
    const char *from = o->tmp;
    int rc = ev_os.fsync(o->fd);

    if (rc == 0 && o->unnamed) {
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", o->fd);
        from = proc;
    }
    if (rc == 0 && !overwrite && o->unnamed) {
        /* EEXIST when path exists: nothing is replaced, and no race */
        rc = ev_os.link(from, path);
    } else if (rc == 0 && !overwrite) {
        rc = commit_hidden(o, path);
    } else if (rc == 0 && o->unnamed) {
        /* a complete file under a passing hidden name, then over path:
         * held by the lock on o->fd meanwhile, swept if killed */
        if (hidden_name(tmp, sizeof tmp, path) != 0) {
            rc = -1;
        } else {
            rc = ev_os.link(proc, tmp);
            if (rc == 0 && ev_os.rename(tmp, path) != 0) {
                int saved = errno;
                ev_os.unlink(tmp);
                errno = saved;
                rc = -1;
            }
        }
    } else if (rc == 0) {
        rc = ev_os.rename(o->tmp, path);
        if (rc == 0) {
            o->tmp[0] = '\0'; /* gone with the rename */
        }
    }
    if (rc == 0 && ev_os_fsync_parent(path) != 0) {
        /* the name might not survive a power cut: take back a new one
         * (a replaced file cannot be given back) */
        int saved = errno;
        if (!overwrite) {
            ev_os.unlink(path);
        }
        errno = saved;
        rc = -1;
    }
    {
        int saved = errno;
        ev_os_out_abort(o);
        errno = saved;
    }
    return rc;
}

void
ev_os_out_abort(ev_os_out *o)
{
    if (o->fd >= 0) {
        ev_os.close(o->fd); /* an unnamed file is gone with it */
    }
    o->fd = -1;
    if (!o->unnamed && o->tmp[0] != '\0') {
        ev_os.unlink(o->tmp);
        o->tmp[0] = '\0';
    }
}

int
ev_os_clear_direct(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0) {
        return -1;
    }
    return fcntl(fd, F_SETFL, fl & ~O_DIRECT);
}
