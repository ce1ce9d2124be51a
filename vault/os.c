/*
 * os.c - the file-system call table (see os.h) and small helpers on it.
 *
 * Owns: every open/read/write/fsync/rename/unlink the library makes.
 * Never: decides policy; it only forwards calls and retries EINTR.
 */
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
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

const struct ev_os ev_os_default = {
    sys_open, sys_openat, close, read, pread, write,
    fsync, fstat, rename, unlink, mkdir, flock,
};

struct ev_os ev_os = {
    sys_open, sys_openat, close, read, pread, write,
    fsync, fstat, rename, unlink, mkdir, flock,
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

int
ev_os_write_full(int fd, const void *buf, size_t n)
{
    size_t done = 0;

    while (done < n) {
        ssize_t r = ev_os.write(fd, (const char *)buf + done, n - done);
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

/* fsyncs the directory holding path's last component: 0 or -1. */
static int
sync_parent(char *path)
{
    char *slash = strrchr(path, '/');
    int rc;

    if (slash == NULL) {
        return ev_os_fsync_dir(".");
    }
    if (slash == path) {
        return ev_os_fsync_dir("/");
    }
    *slash = '\0';
    rc = ev_os_fsync_dir(path);
    *slash = '/';
    return rc;
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
            if (sync_parent(buf) != 0) {
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

int
ev_os_tmpfile(const char *path, int *direct)
{
    char dir[PATH_MAX];
    int fd;

    if (folder_of(path, dir, sizeof dir) != 0) {
        return -1;
    }
    /* linking it later goes through /proc/self/fd */
    if (access("/proc/self/fd", X_OK) != 0) {
        errno = EOPNOTSUPP;
        return -1;
    }
    if (direct == NULL) {
        return ev_os.open(dir, O_TMPFILE | O_WRONLY, 0600);
    }
    fd = ev_os.open(dir, O_TMPFILE | O_WRONLY | O_DIRECT, 0600);
    *direct = fd >= 0;
    if (fd < 0 && errno == EINVAL) {
        fd = ev_os.open(dir, O_TMPFILE | O_WRONLY, 0600);
    }
    return fd;
}

int
ev_os_tmpfile_link(int fd, const char *path, int overwrite)
{
    char proc[64], dir[PATH_MAX], tmp[PATH_MAX];
    int rc;

    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (folder_of(path, dir, sizeof dir) != 0) {
        return -1;
    }
    if (!overwrite) {
        /* EEXIST when path exists: nothing is replaced, and no race */
        rc = linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
    } else {
        /* a complete file under a passing name, then over path */
        if ((size_t)snprintf(tmp, sizeof tmp, "%s.evault-%d-%ld", path,
                             (int)getpid(), (long)fd) >= sizeof tmp) {
            errno = ENAMETOOLONG;
            return -1;
        }
        rc = linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW);
        if (rc == 0 && ev_os.rename(tmp, path) != 0) {
            int saved = errno;
            ev_os.unlink(tmp);
            errno = saved;
            rc = -1;
        }
    }
    if (rc == 0 && ev_os_fsync_dir(dir) != 0) {
        /* the name might not survive a power cut: take back a new one
         * (a replaced file cannot be given back) */
        int saved = errno;
        if (!overwrite) {
            ev_os.unlink(path);
        }
        errno = saved;
        rc = -1;
    }
    return rc;
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
