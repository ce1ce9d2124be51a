/*
 * os.h - every call evault makes to the file system, through one table.
 *
 * Tests replace entries of ev_os to inject faults (the N-th write fails with
 * ENOSPC, a file grows while it is read), as SQLite's os_unix.c aSyscall[]
 * does.  Nothing else in the library calls open/read/write/fsync/rename.
 */
#ifndef EV_OS_H
#define EV_OS_H

#include <dirent.h>
#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

struct ev_os {
    int (*open)(const char *path, int flags, mode_t mode);
    int (*openat)(int dirfd, const char *path, int flags, mode_t mode);
    int (*close)(int fd);
    ssize_t (*read)(int fd, void *buf, size_t n);
    ssize_t (*pread)(int fd, void *buf, size_t n, off_t off);
    ssize_t (*write)(int fd, const void *buf, size_t n);
    int (*fsync)(int fd);
    int (*fstat)(int fd, struct stat *st);
    int (*rename)(const char *from, const char *to);
    int (*unlink)(const char *path);
    int (*mkdir)(const char *path, mode_t mode);
    int (*flock)(int fd, int op);
    /* linkat(AT_FDCWD, from, AT_FDCWD, to, AT_SYMLINK_FOLLOW) */
    int (*link)(const char *from, const char *to);
    /* renameat2(..., RENAME_NOREPLACE): EEXIST when to exists */
    int (*rename_noreplace)(const char *from, const char *to);
    ssize_t (*pwrite)(int fd, const void *buf, size_t n, off_t off);
    int (*ftruncate)(int fd, off_t len);
};

/* The table in force; tests may overwrite entries and restore them. */
extern struct ev_os ev_os;
/* The real system calls, for restoring. */
extern const struct ev_os ev_os_default;

/* Reads exactly n bytes unless end of file comes first; returns the count
 * or -1 with errno set.  Retries EINTR. */
ssize_t ev_os_read_full(int fd, void *buf, size_t n);
ssize_t ev_os_pread_full(int fd, void *buf, size_t n, off_t off);
/* Writes all n bytes at off or returns -1 with errno set. */
int ev_os_pwrite_full(int fd, const void *buf, size_t n, off_t off);
/* Writes all n bytes or returns -1 with errno set. */
int ev_os_write_full(int fd, const void *buf, size_t n);
/* fsyncs the directory that holds path (or dir itself). */
int ev_os_fsync_dir(const char *dir);
/* Creates a file that must not exist yet, mode 0600, no symlink followed. */
int ev_os_create_excl(const char *path);
/* Turns O_DIRECT off on fd (for a last, unaligned write). */
int ev_os_clear_direct(int fd);
/* fsyncs the folder path is in ("." without a slash): 0 or -1. */
int ev_os_fsync_parent(const char *path);
/* A new output file that appears at its path only complete: an unnamed
 * file (O_TMPFILE) in the path's folder, so a process killed while writing
 * leaves nothing behind; where the file system has none, a hidden name
 * beside the path (".NAME.evault-<16 hex>"), removed on failure and
 * locked while it is written.  First, the hidden names in the folder that
 * no process holds are removed: a process killed while writing left
 * them, and o->swept counts them.  With want_direct,
 * O_DIRECT is tried and o->direct says whether it was set.  0, or -1 with
 * errno. */
typedef struct ev_os_out {
    int fd;
    int direct;
    int unnamed;
    unsigned swept;     /* hidden names of killed writers removed */
    char tmp[PATH_MAX]; /* the hidden name, when not unnamed */
} ev_os_out;
int ev_os_out_open(ev_os_out *o, const char *path, int want_direct);
/* fsyncs the file, gives it the name path (unless overwrite, EEXIST when
 * path exists: nothing is replaced), fsyncs the folder, and closes it.
 * On failure nothing new stays at path or under the hidden name.  0, or
 * -1 with errno. */
int ev_os_out_commit(ev_os_out *o, const char *path, int overwrite);
/* Closes and removes a file not committed. */
void ev_os_out_abort(ev_os_out *o);
/* mkdir -p: path and every missing folder above it, each new one with
 * mode and synced into its parent.  0, or -1 with errno. */
int ev_os_mkdirs(const char *path, mode_t mode);
/* mkdir -p for one or two levels below an existing directory. */
int ev_os_mkdir_if_missing(const char *path, mode_t mode);

#endif
