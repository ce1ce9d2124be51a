/*
 * record.c - adding records and reading them back.
 *
 * Owns: the intake pipeline (read, hash, compress, seal, store, commit) and
 * the read pipeline (fetch, open, decompress, write).
 * Never: writes plaintext anywhere but the caller's fd, or makes a record
 * visible before its blob is durable.
 *
 * Intake: one thread reads each file in 1 MiB pieces and hashes them with
 * SHA-256; workers compress and seal the pieces; the same thread writes the
 * sealed chunks in order.  A blob of one chunk (content up to 1 MiB) is
 * appended to vault.pack (pack.c), so thousands of small files cost one
 * fsync per batch; a larger blob goes to a temporary file that is fsynced
 * and renamed before its record is inserted.  Records are committed in
 * batches (1000 records, 32 MiB in vault.pack or one second), and reported
 * after the commit.
 *
 * While the passphrase's Argon2id runs (ev_vault_unlock_passphrase_begin),
 * the intake already reads, hashes, compresses and seals: a data key is
 * random and a blob is sealed with it alone.  Blobs of one chunk go to
 * vault.pack ahead of their rows (ev_catalog_pack_put) and wait, with
 * their data keys in guarded memory, until the keys arrive; then each is
 * checked for an earlier copy, its data key wrapped and its record
 * inserted, in the order the files came.  A file of up to 4 MiB gets its
 * blob file early too; a larger one waits for the keys before its blob
 * file is made.  A duplicate found then is not named, and the early blobs
 * after it move down over it (ev_catalog_pack_move); a failed unlock
 * names none, and they are cut off the pack.
 */
#include "blob.h"
#include "keyslot.h"
#include "custody.h"
#include "destroy.h"
#include "internal.h"
#include "awriter.h"
#include "os.h"
#include "pipeline.h"
#include "rotate.h"
#include "util.h"

#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define BATCH_RECORDS 1000
#define BATCH_INLINE_BYTES (32u << 20)
#define BATCH_SECONDS 1.0
#define MAX_FIELD 4096
/* Records kept waiting for the keys at most (then the intake waits too),
 * and their data keys per guarded arena. */
#define EARLY_MAX 32768
#define EARLY_ARENA 512
/* ... of which with a blob file of their own (an open descriptor each),
 * of files up to this size: a larger one, or one read from a descriptor
 * (of unknown size), waits for the keys at its second chunk, as the
 * writer of its blob file would hold megabytes beside Argon2id's memory */
#define EARLY_FILES_MAX 16
#define EARLY_FILE_BYTES ((uint64_t)4 << 20)
/* Jobs in flight while the unlock runs: Argon2id holds its memory then,
 * and one core. */
#define EARLY_JOBS 2
/* ... and a job's buffers that held more than this go back to the system
 * after it, so that they do not stay resident beside Argon2id's memory */
#define EARLY_RELEASE_MIN ((size_t)64 << 10)

/* ------------------------------------------------------------------ */
/* Intake: the list of inputs                                          */
/* ------------------------------------------------------------------ */

struct input {
    char *path;    /* to open; NULL for the caller's fd */
    char *display; /* path as recorded (relative to what was given) */
    uint64_t size;
};

struct inputs {
    struct input *v;
    size_t n, cap;
    uint64_t total;
};

static void
inputs_free(struct inputs *in)
{
    for (size_t i = 0; i < in->n; i++) {
        free(in->v[i].path);
        free(in->v[i].display);
    }
    free(in->v);
}

static int
inputs_push(ev_vault *v, struct inputs *in, const char *path,
            const char *display, uint64_t size)
{
    if (in->n == in->cap) {
        size_t cap = in->cap ? 2 * in->cap : 64;
        struct input *nv = realloc(in->v, cap * sizeof *nv);
        if (nv == NULL) {
            return ev_fail(v, EV_ENOMEM, "out of memory");
        }
        in->v = nv;
        in->cap = cap;
    }
    in->v[in->n].path = path != NULL ? strdup(path) : NULL;
    in->v[in->n].display = strdup(display);
    in->v[in->n].size = size;
    if ((path != NULL && in->v[in->n].path == NULL) ||
        in->v[in->n].display == NULL) {
        free(in->v[in->n].path);
        free(in->v[in->n].display);
        return ev_fail(v, EV_ENOMEM, "out of memory");
    }
    in->n++;
    in->total += size;
    return EV_OK;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walks a directory in name order.  Symbolic links inside it are refused:
 * evidence is what the directory holds, not what its links point to. */
static int
walk(ev_vault *v, struct inputs *in, const char *path, const char *display,
     int depth)
{
    DIR *d;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = EV_OK;

    if (depth > 64) {
        return ev_fail(v, EV_EINVAL, "'%s': directories nested too deep",
                       path);
    }
    d = opendir(path);
    if (d == NULL) {
        return ev_fail(v, errno == ENOENT ? EV_ENOENT : EV_EIO,
                       "cannot open '%s': %s", path, strerror(errno));
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        if (n == cap) {
            char **nn;
            cap = cap ? 2 * cap : 32;
            nn = realloc(names, cap * sizeof *nn);
            if (nn == NULL) {
                rc = ev_fail(v, EV_ENOMEM, "out of memory");
                break;
            }
            names = nn;
        }
        names[n] = strdup(e->d_name);
        if (names[n] == NULL) {
            rc = ev_fail(v, EV_ENOMEM, "out of memory");
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == EV_OK && n > 1) {
        qsort(names, n, sizeof *names, cmp_names);
    }
    for (size_t i = 0; rc == EV_OK && i < n; i++) {
        char child[PATH_MAX], cdisp[PATH_MAX];
        struct stat st;
        if ((size_t)snprintf(child, sizeof child, "%s/%s", path, names[i]) >=
                sizeof child ||
            (size_t)snprintf(cdisp, sizeof cdisp, "%s/%s", display,
                             names[i]) >= sizeof cdisp) {
            rc = ev_fail(v, EV_EINVAL, "path too long in '%s'", path);
            break;
        }
        if (lstat(child, &st) != 0) {
            rc = ev_fail(v, EV_EIO, "cannot stat '%s': %s", child,
                         strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk(v, in, child, cdisp, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            rc = inputs_push(v, in, child, cdisp, (uint64_t)st.st_size);
        } else {
            rc = ev_fail(v, EV_EINVAL,
                         "'%s' is not a regular file or directory (a link, "
                         "device or socket); add what it points to instead",
                         child);
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
    return rc;
}

static const char *
base_name(const char *path)
{
    const char *s = strrchr(path, '/');

    return s != NULL ? s + 1 : path;
}

static int
expand(ev_vault *v, struct inputs *in, const char *const *paths, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        char disp[PATH_MAX];
        size_t len;
        int rc;
        if (stat(paths[i], &st) != 0) {
            return ev_fail(v, errno == ENOENT ? EV_ENOENT : EV_EIO,
                           "cannot add '%s': %s", paths[i], strerror(errno));
        }
        /* Strip trailing slashes for the recorded name. */
        snprintf(disp, sizeof disp, "%s", paths[i]);
        len = strlen(disp);
        while (len > 1 && disp[len - 1] == '/') {
            disp[--len] = '\0';
        }
        if (S_ISDIR(st.st_mode)) {
            const char *b = base_name(disp);
            char real[PATH_MAX];
            /* "." and ".." are recorded by the directory's own name. */
            if ((strcmp(b, ".") == 0 || strcmp(b, "..") == 0) &&
                realpath(paths[i], real) != NULL) {
                snprintf(disp, sizeof disp, "%s", real);
                b = strcmp(real, "/") == 0 ? "root" : base_name(disp);
            }
            rc = walk(v, in, paths[i], b, 0);
        } else if (S_ISREG(st.st_mode)) {
            rc = inputs_push(v, in, paths[i], base_name(disp),
                             (uint64_t)st.st_size);
        } else {
            rc = ev_fail(v, EV_EINVAL,
                         "cannot add '%s': not a regular file or directory",
                         paths[i]);
        }
        if (rc != EV_OK) {
            return rc;
        }
    }
    return EV_OK;
}

static const char *
guess_kind(const char *name)
{
    static const char *const video[] = {"mp4", "mov", "mkv", "avi", "webm",
                                        "m4v", "3gp", "wmv", "mpg", "mpeg",
                                        "ts",  NULL};
    static const char *const photo[] = {"jpg", "jpeg", "png", "heic", "heif",
                                        "gif", "tif",  "tiff", "webp", "dng",
                                        "raw", "bmp",  NULL};
    static const char *const audio[] = {"mp3", "wav", "m4a", "ogg",
                                        "opus", "flac", "aac", "amr",
                                        "wma", NULL};
    const char *dot = strrchr(name, '.');
    char ext[8];
    size_t n;

    if (dot == NULL || (n = strlen(dot + 1)) == 0 || n >= sizeof ext) {
        return "document";
    }
    for (size_t i = 0; i <= n; i++) {
        char c = dot[1 + i];
        ext[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    for (size_t i = 0; video[i] != NULL; i++) {
        if (strcmp(ext, video[i]) == 0) {
            return "video";
        }
    }
    for (size_t i = 0; photo[i] != NULL; i++) {
        if (strcmp(ext, photo[i]) == 0) {
            return "photo";
        }
    }
    for (size_t i = 0; audio[i] != NULL; i++) {
        if (strcmp(ext, audio[i]) == 0) {
            return "audio";
        }
    }
    return "document";
}

/* ------------------------------------------------------------------ */
/* Intake: the pipeline                                                */
/* ------------------------------------------------------------------ */

struct file_job {
    const struct input *input;
    int fd;           /* the source; -1 once closed */
    int own_fd;       /* close fd when done */
    struct stat st0;  /* at open, to notice changes */
    uint8_t *dek;     /* in the guarded key arena */
    ev_sha256 *sha;
    uint64_t content_len;
    uint64_t nchunks;
    uint32_t *entries;
    size_t entries_cap;
    /* the sealed blob: in memory while it has one chunk, then a file */
    uint8_t *mem;
    size_t mem_len, mem_cap;
    int out_fd;
    char tmpname[PATH_MAX];
    uint64_t stored_len;
    int hash_only;
    int eof; /* the last read was short: nothing more to read */
};

struct chunk_job {
    struct file_job *file;
    int marker;  /* 1: end of file, no work */
    uint64_t counter;
    size_t in_len;
    uint8_t *in;
    uint8_t *out;
    uint32_t entry;
    int rc;    /* of sealing: EV_ENOMEM when libcrypto failed */
    int whole; /* the whole file: hashed here too, and it finishes it */
    int used;  /* in has held plaintext: wiped at the end */
};

struct intake {
    ev_vault *v;
    const ev_add_opts *opts;
    ev_record_fn cb;
    void *cb_ctx;
    ev_pipe *pipe;      /* compress and seal, on every core */
    ev_pipe *hash_pipe; /* SHA-256, one thread, in order */
    ev_awriter *aw;     /* writes the blob file in progress */
    struct chunk_job *jobs;
    struct chunk_job **free_jobs;
    size_t nfree, njobs;
    uint8_t *key_arena; /* njobs + 1 data keys, guarded */
    int *key_free;
    size_t nkey_free;
    /* the open batch */
    int in_txn;
    ev_record *batch;
    size_t nbatch;
    uint64_t batch_inline;
    struct timespec batch_start;
    int64_t next_id;
    int64_t next_seq; /* the next custody log entry */
    ev_hash last_leaf; /* of the batch's last intake entry */
    uint64_t done_bytes, total_bytes;
    ev_blobid_keys idkeys; /* loaded at the first blob: dedup finds blobs
                              named under a retired key too */
    /* while the unlock runs: files finished before the keys are known */
    int waiting;       /* v->unlocking is pending */
    int unlock_failed; /* ... and did not open the vault */
    struct early *early;
    size_t nearly, early_cap, nearly_files;
    int early_packed;    /* some are in vault.pack, ... */
    uint64_t early_from; /* ... the first of them there */
    uint8_t *early_keys[EARLY_MAX / EARLY_ARENA]; /* guarded arenas */
};

unsigned long ev_test_early_records;

/* A file read, hashed and sealed before the keys were known. */
struct early {
    const struct input *input;
    uint8_t sha256[32];
    uint64_t content_len;
    uint64_t stored_len; /* the blob without its padding */
    uint64_t padded;     /* its length in vault.pack */
    uint64_t off;        /* where it is there */
    int hash_only;       /* no blob */
    int fd;              /* or a blob file still to commit (-1: none) */
    char *tmpname;
};

static void *
worker_state_new(void)
{
    return ev_chunk_ctx_new();
}

static void
worker_state_free(void *s)
{
    ev_chunk_ctx_free(s);
}

static void
seal_work(void *state, void *arg)
{
    struct chunk_job *j = arg;

    j->rc = EV_OK;
    if (j->whole) {
        /* nothing else of this file is in flight: no order to keep */
        ev_sha256_update(j->file->sha, j->in, j->in_len);
        if (j->file->hash_only) {
            return;
        }
    }
    j->rc = ev_blob_seal_chunk(state, j->out, &j->entry, j->in, j->in_len,
                               j->counter, j->file->dek);
}

static void
hash_work(void *state, void *arg)
{
    struct chunk_job *j = arg;

    (void)state;
    ev_sha256_update(j->file->sha, j->in, j->in_len);
}

static double
seconds_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) +
           (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static int
batch_commit(struct intake *k)
{
    ev_vault *v = k->v;
    int rc = EV_OK;

    if (k->in_txn && k->nbatch > 0) {
        rc = ev_custody_store_head(v, (uint64_t)k->next_seq, k->last_leaf);
    }
    if (k->in_txn && v->hold_txn) {
        k->in_txn = 0; /* the importer commits, or rolls back */
    } else if (k->in_txn) {
        if (rc == EV_OK) {
            rc = ev_catalog_commit(v->cat);
        } else {
            ev_catalog_rollback(v->cat);
        }
        k->in_txn = 0;
        if (rc != EV_OK) {
            ev_catalog_rollback(v->cat);
            rc = ev_fail_catalog(v, rc, "cannot commit records");
        } else {
            /* A moment without the write lock, so a reader waiting to log
             * its access (on_busy in catalog.c tries every millisecond)
             * gets in between batches instead of starving. */
            struct timespec pause = {0, 3 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }
    for (size_t i = 0; i < k->nbatch; i++) {
        if (rc == EV_OK && k->cb != NULL) {
            k->cb(k->cb_ctx, &k->batch[i]);
        }
        /* fields point into opts or the input list; only tags are ours */
        free(k->batch[i].tags);
    }
    k->nbatch = 0;
    k->batch_inline = 0;
    return rc;
}

static int
batch_begin(struct intake *k)
{
    int rc;

    if (k->in_txn) {
        return EV_OK;
    }
    rc = k->v->hold_txn ? EV_OK : ev_catalog_begin(k->v->cat);
    if (rc != EV_OK) {
        return ev_fail_catalog(k->v, rc, "cannot start a transaction");
    }
    k->in_txn = 1;
    /* A rotation by another process since this one unlocked: rows written
     * now would be under the old keys. */
    rc = ev_rotate_keys_current(k->v);
    if (rc != EV_OK) {
        return rc;
    }
    k->next_id = ev_catalog_record_next_id(k->v->cat);
    k->next_seq = ev_custody_next_seq(k->v);
    clock_gettime(CLOCK_MONOTONIC, &k->batch_start);
    if (k->next_id < 0 || k->next_seq < 0) {
        return ev_fail_catalog(k->v, ev_catalog_status(k->v->cat),
                               "cannot read the catalog");
    }
    return EV_OK;
}

/* Finds an earlier record with the same SHA-256 (0 when none). */
static int
first_same(void *ctx, const ev_record_row *r)
{
    *(int64_t *)ctx = r->id;
    return 1;
}

/* The rows of one record (called inside a savepoint). */
static int
insert_one(struct intake *k, ev_record *r, int64_t same,
           const uint8_t *blob_id, uint64_t padded,
           const uint8_t *wrapped_dek, const uint8_t *inline_data,
           size_t inline_len, int64_t packed_off)
{
    ev_vault *v = k->v;
    uint8_t *meta = NULL;
    size_t meta_len = 0;
    int rc;

    r->same_as = same;
    r->id = k->next_id++;
    r->custody_seq = k->next_seq++;
    ev_random(r->commit_salt, sizeof r->commit_salt);
    r->added_by = v->operator_ != NULL ? v->operator_ : "unnamed";
    if (wrapped_dek != NULL) {
        rc = packed_off >= 0
                 ? ev_catalog_blob_add_packed(v->cat, blob_id, wrapped_dek,
                                              EV_DEKREC_WRAPPED, padded,
                                              (uint64_t)packed_off)
                 : ev_catalog_blob_add(v->cat, blob_id, wrapped_dek,
                                       EV_DEKREC_WRAPPED, padded,
                                       inline_data, inline_len);
        if (rc != EV_OK) {
            return ev_fail_catalog(v, rc, "cannot store blob");
        }
        k->batch_inline += packed_off >= 0 ? padded : inline_len;
    }
    rc = ev_meta_seal(v, r, &meta, &meta_len);
    if (rc != EV_OK) {
        return rc;
    }
    rc = ev_catalog_record_add(v->cat, r->id, EV_STATE_ACTIVE, blob_id,
                               padded, meta, meta_len);
    free(meta);
    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc, "cannot add record");
    }
    rc = ev_meta_index(v, r);
    if (rc == EV_OK) {
        rc = ev_custody_append_intake(v, r, r->custody_seq, k->last_leaf);
    }
    if (rc != EV_OK) {
        return rc;
    }
    return EV_OK;
}

/* Inserts one record (and its blob row when new) into the open batch.
 * The blob's bytes are inline_data, or in vault.pack already at
 * packed_off (-1: not). */
static int
insert_record(struct intake *k, ev_record *r, const uint8_t *blob_id,
              uint64_t padded, const uint8_t *wrapped_dek,
              const uint8_t *inline_data, size_t inline_len,
              int64_t packed_off)
{
    ev_vault *v = k->v;
    ev_blind_term t;
    int64_t same = 0;
    int rc = batch_begin(k);

    if (rc != EV_OK) {
        return rc;
    }
    t.field = EV_BLIND_SHA256;
    rc = ev_blind_value(v, t.value, EV_BLIND_SHA256, r->sha256,
                        EV_SHA256_BYTES);
    if (rc != EV_OK) {
        return rc;
    }
    rc = ev_catalog_record_each(v->cat, &t, 1, first_same, &same);
    if (rc != EV_OK && rc != 1) {
        return ev_fail_catalog(v, rc, "cannot search the catalog");
    }
    /* One record at a time inside the batch: a record that fails halfway
     * leaves nothing behind when the batch's finished records commit. */
    rc = ev_catalog_savepoint(v->cat);
    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc, "cannot start a record");
    }
    rc = insert_one(k, r, same, blob_id, padded, wrapped_dek, inline_data,
                    inline_len, packed_off);
    ev_catalog_savepoint_end(v->cat, rc == EV_OK);
    if (rc != EV_OK) {
        k->next_id--;
        k->next_seq--;
        return rc;
    }
    k->batch[k->nbatch++] = *r;
    if (k->nbatch >= BATCH_RECORDS || k->batch_inline >= BATCH_INLINE_BYTES ||
        seconds_since(&k->batch_start) >= BATCH_SECONDS) {
        return batch_commit(k);
    }
    return EV_OK;
}

static void
fill_record(struct intake *k, ev_record *r, const char *name,
            const char *path)
{
    const ev_add_opts *o = k->opts;

    memset(r, 0, sizeof *r);
    r->name = (char *)(o->name != NULL ? o->name : name);
    r->path = (char *)path;
    r->kind = (char *)(o->kind != NULL ? o->kind : guess_kind(r->name));
    r->case_name = (char *)o->case_name;
    r->source = (char *)o->source;
    r->note = (char *)o->note;
    r->captured_at = (char *)o->captured_at;
    r->location = (char *)o->location;
    r->ntags = o->ntags;
    if (o->ntags > 0) {
        r->tags = malloc(o->ntags * sizeof *r->tags);
        if (r->tags != NULL) {
            memcpy(r->tags, o->tags, o->ntags * sizeof *r->tags);
        } else {
            r->ntags = 0;
        }
    }
    r->added_at = (int64_t)time(NULL);
    r->state = EV_STATE_ACTIVE;
}

static int
sink_fail(struct intake *k, struct file_job *f, int err)
{
    return ev_fail(k->v, ev_errno_status(err),
                   "cannot write '%s': %s", f->tmpname, strerror(err));
}

static int keys_arrive(struct intake *k);

/* Appends sealed bytes to the file's blob: memory first, a temporary file
 * once it has a second chunk. */
static int
sink_write(struct intake *k, struct file_job *f, const uint8_t *p, size_t n)
{
    ev_vault *v = k->v;

    if (f->out_fd < 0 && f->nchunks <= 1 && f->mem_len + n > f->mem_cap &&
        f->mem_len + n <= EV_BLOB_HEADER_BYTES + EV_CHUNK_SEALED_MAX +
                               ev_blob_index_bytes(1)) {
        uint8_t *m = realloc(f->mem, f->mem_len + n);
        if (m == NULL) {
            return ev_fail(v, EV_ENOMEM, "out of memory");
        }
        f->mem = m;
        f->mem_cap = f->mem_len + n;
    }
    if (f->out_fd < 0 && f->nchunks <= 1 && f->mem_len + n <= f->mem_cap) {
        memcpy(f->mem + f->mem_len, p, n);
        f->mem_len += n;
        f->stored_len += n;
        return EV_OK;
    }
    if (f->out_fd < 0) {
        int direct = 1, rc, err;
        if (k->waiting && (f->input->path == NULL ||
                           f->input->size > EARLY_FILE_BYTES)) {
            rc = keys_arrive(k);
            if (rc != EV_OK) {
                return rc;
            }
        }
        rc = ev_store_tmp_create(v->store, &f->out_fd, f->tmpname,
                                 sizeof f->tmpname, &direct, v->errmsg,
                                 sizeof v->errmsg);
        if (rc != EV_OK) {
            return rc;
        }
        k->aw = ev_awriter_new(f->out_fd, direct);
        if (k->aw == NULL) {
            return ev_fail(v, EV_ENOMEM, "out of memory");
        }
        err = ev_awriter_write(k->aw, f->mem, f->mem_len);
        f->mem_len = 0;
        if (err != 0) {
            return sink_fail(k, f, err);
        }
    }
    f->stored_len += n;
    {
        int err = ev_awriter_write(k->aw, p, n);
        if (err != 0) {
            return sink_fail(k, f, err);
        }
    }
    return EV_OK;
}

static void
file_job_free(struct intake *k, struct file_job *f)
{
    if (f == NULL) {
        return;
    }
    if (f->own_fd && f->fd >= 0) {
        ev_os.close(f->fd);
    }
    if (f->out_fd >= 0) {
        ev_awriter_free(k->aw); /* waits for its writes to the fd */
        k->aw = NULL;
        ev_store_tmp_discard(k->v->store, f->out_fd, f->tmpname);
    }
    if (f->dek != NULL) {
        ev_wipe(f->dek, EV_KEY_BYTES);
        k->key_free[k->nkey_free++] =
            (int)((f->dek - k->key_arena) / EV_KEY_BYTES);
    }
    ev_sha256_free(f->sha);
    free(f->entries);
    free(f->mem);
    free(f);
}

static struct file_job *
file_job_new(struct intake *k, const struct input *in, int fd, int own_fd)
{
    /* Room for a one-chunk blob of the expected size; grown on demand. */
    size_t expect = in->size < EV_CHUNK_BYTES ? (size_t)in->size
                                              : EV_CHUNK_BYTES;
    struct file_job *f = calloc(1, sizeof *f);

    if (f == NULL) {
        return NULL;
    }
    f->input = in;
    f->fd = fd;
    f->own_fd = own_fd;
    f->out_fd = -1;
    f->hash_only = k->opts->hash_only;
    f->sha = ev_sha256_new();
    f->mem_cap = EV_BLOB_HEADER_BYTES + expect + EV_TAG_BYTES +
                 ev_blob_index_bytes(1) + 64;
    f->mem = f->hash_only ? NULL : malloc(f->mem_cap);
    if (k->nkey_free == 0 || f->sha == NULL ||
        (f->mem == NULL && !f->hash_only)) {
        file_job_free(k, f);
        return NULL;
    }
    f->dek = k->key_arena + EV_KEY_BYTES * (size_t)k->key_free[--k->nkey_free];
    ev_random(f->dek, EV_KEY_BYTES);
    if (!f->hash_only) {
        uint8_t h[EV_BLOB_HEADER_BYTES];
        ev_blob_header(h);
        memcpy(f->mem, h, sizeof h);
        f->mem_len = f->stored_len = sizeof h;
    }
    return f;
}

/* The blob that holds content with this SHA-256: its id under the
 * current blob-id key, or under a retired one for a blob stored before a
 * key rotation (EV_OK, *row filled); else EV_ENOENT with id the new
 * blob's name under the current key. */
static int
find_blob(struct intake *k, const uint8_t sha[32],
          uint8_t id[EV_BLOBID_BYTES], ev_blob_row *row)
{
    ev_vault *v = k->v;
    int rc;

    if (k->idkeys.k == NULL) {
        rc = ev_blobid_keys_load(v, &k->idkeys);
        if (rc != EV_OK) {
            return rc;
        }
    }
    for (size_t i = k->idkeys.n; i-- > 0;) {
        /* Retired keys first, the current key last: id ends up as the
         * current key's name when nothing is found. */
        ev_blobid_of(&k->idkeys, i, id, sha);
        rc = ev_catalog_blob_get(v->cat, id, 0, row);
        if (rc != EV_ENOENT) {
            return rc == EV_OK ? EV_OK
                               : ev_fail_catalog(v, rc, "cannot search "
                                                        "blobs");
        }
    }
    return EV_ENOENT;
}

/* The record of a file's content, with the options' fields. */
static void
fill_content(struct intake *k, ev_record *r, const struct input *in,
             const uint8_t sha[32], uint64_t size, int hash_only)
{
    fill_record(k, r, base_name(in->display), in->display);
    memcpy(r->sha256, sha, sizeof r->sha256);
    r->size = size;
    r->hash_only = hash_only;
}

/* The record of a blob seen for the first time: wraps its data key, then
 * makes the blob file *fd (tmpname) the blob, or names its bytes
 * (inline_data, or in vault.pack at packed_off), and inserts the record.
 * Once the key is wrapped *fd is the commit's to close, and -1. */
static int
insert_new_blob(struct intake *k, ev_record *r, const uint8_t *blob_id,
                const uint8_t *dek, uint64_t stored_len, uint64_t padded,
                int *fd, const char *tmpname, const uint8_t *inline_data,
                size_t inline_len, int64_t packed_off)
{
    ev_vault *v = k->v;
    uint8_t wrapped[EV_DEKREC_WRAPPED];
    int rc = ev_dek_wrap(v, wrapped, blob_id, dek, stored_len, r->size);

    if (rc == EV_OK && *fd >= 0) {
        int f = *fd;
        *fd = -1;
        rc = ev_store_tmp_commit(v->store, f, tmpname, blob_id, v->errmsg,
                                 sizeof v->errmsg);
        if (rc != EV_OK) {
            ev_os.unlink(tmpname);
            return rc;
        }
    }
    if (rc != EV_OK) {
        return rc;
    }
    return insert_record(k, r, blob_id, padded, wrapped, inline_data,
                         inline_len, packed_off);
}

static uint8_t *
early_key(struct intake *k, size_t i)
{
    return k->early_keys[i / EARLY_ARENA] + EV_KEY_BYTES * (i % EARLY_ARENA);
}

/* Keeps f (finished, its blob in vault.pack at off) until the keys come. */
static int
early_keep(struct intake *k, struct file_job *f, const uint8_t sha[32],
           uint64_t padded, uint64_t off)
{
    size_t i = k->nearly;
    struct early *e;

    if (i == k->early_cap) {
        size_t cap = k->early_cap ? 2 * k->early_cap : 256;
        e = realloc(k->early, cap * sizeof *e);
        if (e == NULL) {
            return ev_fail(k->v, EV_ENOMEM, "out of memory");
        }
        k->early = e;
        k->early_cap = cap;
    }
    if (k->early_keys[i / EARLY_ARENA] == NULL &&
        (k->early_keys[i / EARLY_ARENA] =
             ev_secure_alloc(EARLY_ARENA * EV_KEY_BYTES)) == NULL) {
        return ev_fail(k->v, EV_ENOMEM, "cannot lock memory for a key");
    }
    e = &k->early[i];
    e->input = f->input;
    memcpy(e->sha256, sha, 32);
    e->content_len = f->content_len;
    e->stored_len = f->stored_len;
    e->padded = padded;
    e->off = off;
    e->hash_only = f->hash_only;
    e->fd = -1;
    e->tmpname = NULL;
    if (!f->hash_only && f->out_fd < 0 && !k->early_packed) {
        k->early_packed = 1;
        k->early_from = off;
    }
    if (f->out_fd >= 0) {
        /* the blob file, written and waiting for its name */
        int err = ev_awriter_finish(k->aw);
        ev_awriter_free(k->aw);
        k->aw = NULL;
        if (err != 0) {
            return sink_fail(k, f, err);
        }
        if ((e->tmpname = strdup(f->tmpname)) == NULL) {
            return ev_fail(k->v, EV_ENOMEM, "out of memory");
        }
        e->fd = f->out_fd;
        f->out_fd = -1;
        k->nearly_files++;
    }
    memcpy(early_key(k, i), f->dek, EV_KEY_BYTES);
    k->nearly++;
    __atomic_fetch_add(&ev_test_early_records, 1, __ATOMIC_RELAXED);
    return EV_OK;
}

/* The record of a file kept while the keys were unknown.  *w is where
 * the next early blob kept in vault.pack belongs: the early blobs of
 * duplicates are not named, and those after them close up over the gap,
 * so that re-adding files already in the vault leaves no copy of them. */
static int
early_insert(struct intake *k, struct early *e, const uint8_t *dek,
             uint64_t *w)
{
    ev_vault *v = k->v;
    ev_record r;
    ev_blob_row existing;
    uint8_t blob_id[EV_BLOBID_BYTES];
    int rc;

    fill_content(k, &r, e->input, e->sha256, e->content_len, e->hash_only);
    if (e->hash_only) {
        rc = insert_record(k, &r, NULL, 0, NULL, NULL, 0, -1);
    } else if ((rc = find_blob(k, e->sha256, blob_id, &existing)) == EV_OK) {
        /* its early blob stays unnamed in vault.pack (or its file is
         * removed by early_release): sealed under a key wiped there */
        uint64_t padded = existing.padded_size;
        ev_blob_row_free(&existing);
        rc = insert_record(k, &r, blob_id, padded, NULL, NULL, 0, -1);
    } else if (rc == EV_ENOENT && e->fd >= 0) {
        rc = insert_new_blob(k, &r, blob_id, dek, e->stored_len, e->padded,
                             &e->fd, e->tmpname, NULL, 0, -1);
    } else if (rc == EV_ENOENT) {
        rc = EV_OK;
        if (e->off != *w) {
            /* past the committed end and named by no row: a kill here
             * leaves only bytes the next writer cuts */
            uint8_t *tmp = malloc((size_t)e->padded);
            rc = tmp == NULL ? ev_fail(v, EV_ENOMEM, "out of memory")
                             : ev_catalog_pack_move(v->cat, e->off, *w,
                                                    (size_t)e->padded, tmp);
            if (rc != EV_OK && tmp != NULL) {
                rc = ev_fail_catalog(v, rc, "cannot store blob");
            }
            free(tmp);
        }
        if (rc == EV_OK) {
            int nofd = -1;
            rc = insert_new_blob(k, &r, blob_id, dek, e->stored_len,
                                 e->padded, &nofd, NULL, NULL, 0,
                                 (int64_t)*w);
            *w += e->padded;
        }
    }
    if (rc != EV_OK) {
        free(r.tags);
    }
    return rc;
}

/* Wipes and frees what files kept for the keys. */
static void
early_release(struct intake *k)
{
    for (size_t i = 0; i < k->nearly; i++) {
        if (k->early[i].fd >= 0) {
            ev_store_tmp_discard(k->v->store, k->early[i].fd,
                                 k->early[i].tmpname);
        }
        free(k->early[i].tmpname);
    }
    k->nearly_files = 0;
    for (size_t i = 0; i < EARLY_MAX / EARLY_ARENA; i++) {
        if (k->early_keys[i] != NULL) {
            ev_secure_free(k->early_keys[i]); /* wipes */
            k->early_keys[i] = NULL;
        }
    }
    free(k->early);
    k->early = NULL;
    k->nearly = k->early_cap = 0;
}

/* Waits for the unlock to end, then inserts the records of the files
 * kept meanwhile.  After a failed unlock nothing is inserted: the early
 * blobs are cut off when the write lock goes. */
static int
keys_arrive(struct intake *k)
{
    ev_vault *v = k->v;
    int rc;

    if (!k->waiting) {
        return EV_OK;
    }
    k->waiting = 0;
    rc = ev_vault_unlock_wait(v);
    if (rc != EV_OK) {
        k->unlock_failed = 1;
        early_release(k);
        return rc;
    }
    {
        uint64_t w = k->early_from;
        for (size_t i = 0; rc == EV_OK && i < k->nearly; i++) {
            rc = early_insert(k, &k->early[i], early_key(k, i), &w);
        }
        /* the next blob goes right after the last one kept */
        if (rc == EV_OK && k->early_packed &&
            (rc = ev_catalog_pack_rewind(v->cat, w)) != EV_OK) {
            rc = ev_fail_catalog(v, rc, "cannot store blob");
        }
    }
    early_release(k);
    return rc;
}

/* All chunks of f are written: seal the index, pad, store, insert. */
static int
file_finish(struct intake *k, struct file_job *f)
{
    ev_vault *v = k->v;
    ev_record r = {0};
    uint8_t sha[32], blob_id[EV_BLOBID_BYTES];
    ev_blob_row existing;
    uint8_t *index = NULL, *pad = NULL;
    size_t index_len;
    uint64_t padded;
    int rc;

    if (ev_sha256_final(f->sha, sha) != 0) {
        return ev_fail(v, EV_ENOMEM, "cannot hash '%s': libcrypto failed",
                       f->input->display);
    }
    if (k->opts->input_ok != NULL && !k->opts->input_ok(k->opts->input_ctx)) {
        return ev_fail(v, EV_ECORRUPT,
                       "the input failed authentication: nothing was added");
    }
    if (k->waiting &&
        (ev_kdf_job_done(v->unlocking) || k->nearly == EARLY_MAX ||
         (f->out_fd >= 0 && k->nearly_files == EARLY_FILES_MAX))) {
        rc = keys_arrive(k);
        if (rc != EV_OK) {
            return rc;
        }
    }
    if (f->hash_only && k->waiting) {
        return early_keep(k, f, sha, 0, 0);
    }
    if (f->hash_only) {
        fill_content(k, &r, f->input, sha, f->content_len, 1);
        rc = insert_record(k, &r, NULL, 0, NULL, NULL, 0, -1);
        goto cleanup;
    }
    /* Without the keys, whether an earlier record holds the same content
     * is asked once they come (early_insert). */
    rc = k->waiting ? EV_ENOENT : find_blob(k, sha, blob_id, &existing);
    if (rc == EV_OK) {
        /* Same content as an earlier record: reuse its blob. */
        padded = existing.padded_size;
        ev_blob_row_free(&existing);
        fill_content(k, &r, f->input, sha, f->content_len, 0);
        rc = insert_record(k, &r, blob_id, padded, NULL, NULL, 0, -1);
        goto cleanup;
    }
    if (rc != EV_ENOENT) {
        goto cleanup;
    }
    index_len = ev_blob_index_bytes(f->nchunks);
    index = malloc(index_len);
    if (index == NULL) {
        rc = ev_fail(v, EV_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = ev_blob_seal_index(index, f->content_len, f->entries, f->nchunks,
                            f->dek);
    if (rc != EV_OK) {
        rc = ev_fail(v, rc, "cannot seal the index of '%s': libcrypto failed",
                     f->input->display);
        goto cleanup;
    }
    rc = sink_write(k, f, index, index_len);
    if (rc != EV_OK) {
        goto cleanup;
    }
    padded = ev_padme(f->stored_len);
    if (padded > f->stored_len) {
        uint64_t total = padded - f->stored_len, done = 0;
        size_t piece = total < EV_CHUNK_BYTES ? (size_t)total : EV_CHUNK_BYTES;
        uint64_t unpadded = f->stored_len;
        pad = malloc(piece);
        if (pad == NULL) {
            rc = ev_fail(v, EV_ENOMEM, "out of memory");
            goto cleanup;
        }
        if (f->out_fd < 0 && f->mem_len + total > f->mem_cap) {
            uint8_t *m = realloc(f->mem, f->mem_len + (size_t)total);
            if (m == NULL) {
                rc = ev_fail(v, EV_ENOMEM, "out of memory");
                goto cleanup;
            }
            f->mem = m;
            f->mem_cap = f->mem_len + (size_t)total;
        }
        while (rc == EV_OK && done < total) {
            size_t n = total - done < piece ? (size_t)(total - done) : piece;
            if (ev_blob_padding(pad, n, done, f->dek) != 0) {
                /* Padmé pads no blob evault takes that far */
                rc = ev_fail(v, EV_EINVAL, "'%s' is too large",
                             f->input->display);
                break;
            }
            rc = sink_write(k, f, pad, n);
            done += n;
        }
        f->stored_len = unpadded; /* the index is found from this end */
        if (rc != EV_OK) {
            goto cleanup;
        }
    }
    if (k->waiting) {
        /* one chunk, in memory, goes into vault.pack; a blob file waits
         * for its name: rows and names once the keys come */
        uint64_t off = 0;
        rc = f->out_fd >= 0
                 ? EV_OK
                 : ev_catalog_pack_put(v->cat, f->mem, f->mem_len, &off);
        if (rc != EV_OK) {
            rc = ev_fail_catalog(v, rc, "cannot store blob");
        } else {
            rc = early_keep(k, f, sha, padded, off);
        }
        goto cleanup;
    }
    if (f->out_fd >= 0) {
        int err = ev_awriter_finish(k->aw);
        ev_awriter_free(k->aw);
        k->aw = NULL;
        if (err != 0) {
            rc = sink_fail(k, f, err);
            goto cleanup;
        }
    }
    fill_content(k, &r, f->input, sha, f->content_len, 0);
    {
        int in_mem = f->out_fd < 0; /* else the blob file */
        rc = insert_new_blob(k, &r, blob_id, f->dek, f->stored_len, padded,
                             &f->out_fd, f->tmpname, in_mem ? f->mem : NULL,
                             in_mem ? f->mem_len : 0, -1);
    }
cleanup:
    if (rc != EV_OK) {
        free(r.tags);
    }
    free(index);
    free(pad);
    return rc;
}

static int
intake_init(struct intake *k, ev_vault *v, const ev_add_opts *opts,
            ev_record_fn cb, void *ctx)
{
    int workers = ev_pipe_default_workers();

    memset(k, 0, sizeof *k);
    k->v = v;
    k->opts = opts;
    k->cb = cb;
    k->cb_ctx = ctx;
    k->waiting = v->unlocking != NULL;
    k->njobs = (size_t)(2 * workers + 4);
    k->jobs = calloc(k->njobs, sizeof *k->jobs);
    k->free_jobs = calloc(k->njobs, sizeof *k->free_jobs);
    k->key_free = calloc(k->njobs + 1, sizeof *k->key_free);
    k->batch = calloc(BATCH_RECORDS, sizeof *k->batch);
    k->key_arena = ev_secure_alloc((k->njobs + 1) * EV_KEY_BYTES);
    if (k->jobs == NULL || k->free_jobs == NULL || k->key_free == NULL ||
        k->batch == NULL || k->key_arena == NULL) {
        return EV_ENOMEM;
    }
    for (size_t i = 0; i <= k->njobs; i++) {
        k->key_free[k->nkey_free++] = (int)i;
    }
    for (size_t i = 0; i < k->njobs; i++) {
        k->jobs[i].in = malloc(EV_CHUNK_BYTES);
        k->jobs[i].out = malloc(EV_CHUNK_SEALED_MAX);
        if (k->jobs[i].in == NULL || k->jobs[i].out == NULL) {
            return EV_ENOMEM;
        }
        k->free_jobs[k->nfree++] = &k->jobs[i];
    }
    k->pipe = ev_pipe_new(workers, k->njobs, seal_work, worker_state_new,
                          worker_state_free);
    k->hash_pipe = ev_pipe_new(1, k->njobs, hash_work, NULL, NULL);
    return k->pipe != NULL && k->hash_pipe != NULL ? EV_OK : EV_ENOMEM;
}

static void
intake_release(struct intake *k)
{
    ev_pipe_free(k->pipe);
    ev_pipe_free(k->hash_pipe);
    ev_awriter_free(k->aw);
    if (k->jobs != NULL) {
        for (size_t i = 0; i < k->njobs; i++) {
            /* only what held plaintext: wiping the others would touch
             * megabytes of pages never written */
            if (k->jobs[i].in != NULL && k->jobs[i].used) {
                ev_wipe(k->jobs[i].in, EV_CHUNK_BYTES);
            }
            free(k->jobs[i].in);
            free(k->jobs[i].out);
        }
    }
    free(k->jobs);
    free(k->free_jobs);
    free(k->key_free);
    free(k->batch);
    if (k->key_arena != NULL) {
        ev_secure_free(k->key_arena);
    }
    ev_blobid_keys_release(&k->idkeys);
    early_release(k);
}

static int
open_input(struct intake *k, const struct input *in, int stdin_fd,
           struct file_job **out)
{
    ev_vault *v = k->v;
    int fd = stdin_fd;

    *out = NULL;
    if (stdin_fd == -2) {
        /* bytes from v->read_fn: no file to open or watch */
        *out = file_job_new(k, in, -1, 0);
        return *out != NULL ? EV_OK : ev_fail(v, EV_ENOMEM, "out of memory");
    }
    if (in->path != NULL) {
        fd = ev_os.open(in->path, O_RDONLY | O_NOCTTY, 0);
        if (fd < 0) {
            return ev_fail(v, errno == ENOENT ? EV_ENOENT : EV_EIO,
                           "cannot open '%s': %s", in->path,
                           strerror(errno));
        }
    }
    *out = file_job_new(k, in, fd, in->path != NULL);
    if (*out == NULL) {
        if (in->path != NULL) {
            ev_os.close(fd);
        }
        return ev_fail(v, EV_ENOMEM, "out of memory");
    }
    if (ev_os.fstat(fd, &(*out)->st0) != 0) {
        return ev_fail(v, EV_EIO, "cannot stat '%s': %s", in->display,
                       strerror(errno));
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return EV_OK;
}

/* Fills buf from v->read_fn until n bytes or the end. */
static ssize_t
read_cb_full(ev_vault *v, uint8_t *buf, size_t n)
{
    size_t got = 0;

    while (got < n) {
        long r = v->read_fn(v->read_ctx, buf + got, n - got);
        if (r < 0) {
            errno = EIO;
            return -1;
        }
        if (r == 0) {
            break;
        }
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* A regular file that changed size or mtime while it was read. */
static int
check_unchanged(struct intake *k, struct file_job *f)
{
    struct stat st;

    if (!S_ISREG(f->st0.st_mode)) {
        return EV_OK;
    }
    if (ev_os.fstat(f->fd, &st) != 0) {
        return ev_fail(k->v, EV_EIO, "cannot stat '%s': %s",
                       f->input->display, strerror(errno));
    }
    if (st.st_size != f->st0.st_size ||
        st.st_mtim.tv_sec != f->st0.st_mtim.tv_sec ||
        st.st_mtim.tv_nsec != f->st0.st_mtim.tv_nsec ||
        (uint64_t)st.st_size != f->content_len) {
        return ev_fail(k->v, EV_ECHANGED,
                       "'%s' changed while it was being added; add it "
                       "again once nothing writes to it",
                       f->input->path != NULL ? f->input->path
                                              : f->input->display);
    }
    return EV_OK;
}

static int
grow_entries(struct file_job *f)
{
    if (f->nchunks < f->entries_cap) {
        return EV_OK;
    }
    if (f->nchunks >= EV_BLOB_MAX_CHUNKS) {
        return EV_EINVAL;
    }
    size_t cap = f->entries_cap ? 2 * f->entries_cap : 16;
    uint32_t *e = realloc(f->entries, cap * sizeof *e);
    if (e == NULL) {
        return EV_ENOMEM;
    }
    f->entries = e;
    f->entries_cap = cap;
    return EV_OK;
}

static void
report_progress(struct intake *k, uint64_t n)
{
    k->done_bytes += n;
    if (k->v->progress != NULL) {
        k->v->progress(k->v->progress_ctx, k->done_bytes, k->total_bytes);
    }
}

/* Queues a piece of cur that was just read into j.  A file read whole in
 * one piece goes to a worker that hashes and seals it, and the job then
 * finishes the file (no end marker): small files use every core. */
static int
submit_chunk(struct intake *k, struct file_job *cur, struct chunk_job *j,
             size_t got)
{
    int rc = grow_entries(cur);

    if (rc == EV_ENOMEM) {
        return ev_fail(k->v, rc, "out of memory");
    }
    if (rc != EV_OK ||
        cur->content_len + (uint64_t)got > EV_BLOB_MAX_CONTENT) {
        return ev_fail(k->v, EV_EINVAL, "'%s' is too large",
                       cur->input->display);
    }
    j->marker = 0;
    j->in_len = got;
    j->counter = cur->nchunks++;
    j->whole = j->counter == 0 && cur->eof;
    cur->content_len += (uint64_t)got;
    if (j->whole) {
        rc = check_unchanged(k, cur);
        if (rc != EV_OK) {
            return rc;
        }
        ev_pipe_submit(k->hash_pipe, j, 0);
        ev_pipe_submit(k->pipe, j, 1);
    } else {
        ev_pipe_submit(k->hash_pipe, j, 1);
        ev_pipe_submit(k->pipe, j, !cur->hash_only);
    }
    report_progress(k, (uint64_t)got);
    return EV_OK;
}

/* Wipes the first used bytes of a buffer of cap bytes and gives its
 * whole pages back to the system (they read as zeros when touched again). */
static void
give_back(uint8_t *p, size_t used, size_t cap)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t b = ((uintptr_t)p + cap) & ~(page - 1);

    ev_wipe(p, used);
    if (b > a) {
        (void)madvise((void *)a, b - a, MADV_DONTNEED);
    }
}

/* Handles one job coming out of the pipe, in order. */
static int
collect_one(struct intake *k, int failed)
{
    struct chunk_job *j = ev_pipe_collect(k->pipe);
    struct file_job *f = j->file;

    (void)ev_pipe_collect(k->hash_pipe); /* the same job, hashed */
    int rc = EV_OK;

    if (!failed) {
        if (!j->marker && !f->hash_only && j->rc != EV_OK) {
            rc = ev_fail(k->v, j->rc, "cannot seal '%s': libcrypto failed",
                         f->input->display);
        } else if (!j->marker && !f->hash_only) {
            f->entries[j->counter] = j->entry;
            rc = sink_write(k, f, j->out, ev_entry_len(j->entry));
        }
        if (rc == EV_OK && (j->marker || j->whole)) {
            rc = file_finish(k, f);
        }
    }
    if (j->marker || j->whole) {
        file_job_free(k, f);
    }
    if (k->waiting && !j->marker && j->in_len >= EARLY_RELEASE_MIN) {
        give_back(j->in, j->in_len, EV_CHUNK_BYTES);
        give_back(j->out, 0, EV_CHUNK_SEALED_MAX);
        j->used = 0;
    }
    k->free_jobs[k->nfree++] = j;
    return rc;
}

static int
intake_run(struct intake *k, const struct inputs *ins, int stdin_fd)
{
    ev_vault *v = k->v;
    struct file_job *cur = NULL;
    size_t next = 0;
    int rc = EV_OK;

    k->total_bytes = ins->total;
    for (;;) {
        /* Feed the pipes while a job slot is free and input remains. */
        if (rc == EV_OK &&
            k->nfree > (k->waiting ? k->njobs - EARLY_JOBS : 0) &&
            (cur != NULL || next < ins->n)) {
            struct chunk_job *j;
            ssize_t got = 0;
            if (cur == NULL) {
                rc = open_input(k, &ins->v[next++], stdin_fd, &cur);
                if (rc != EV_OK) {
                    file_job_free(k, cur);
                    cur = NULL;
                    continue;
                }
            }
            j = k->free_jobs[--k->nfree];
            j->used = 1;
            j->file = cur;
            if (!cur->eof) {
                got = cur->fd >= 0
                          ? ev_os_read_full(cur->fd, j->in, EV_CHUNK_BYTES)
                          : read_cb_full(v, j->in, EV_CHUNK_BYTES);
                if (got < 0) {
                    k->free_jobs[k->nfree++] = j;
                    rc = ev_fail(v, EV_EIO, "cannot read '%s': %s",
                                 cur->input->display, strerror(errno));
                    continue;
                }
                cur->eof = (size_t)got < EV_CHUNK_BYTES;
            }
            if (got > 0 || cur->nchunks == 0) {
                rc = submit_chunk(k, cur, j, (size_t)got);
                if (rc != EV_OK) {
                    k->free_jobs[k->nfree++] = j;
                } else if (j->whole) {
                    cur = NULL; /* the job finishes it */
                }
                continue;
            }
            /* End of this file: check it did not change, then a marker
             * that finishes it once every chunk before it is written. */
            rc = check_unchanged(k, cur);
            if (rc != EV_OK) {
                k->free_jobs[k->nfree++] = j;
                continue;
            }
            j->marker = 1;
            ev_pipe_submit(k->hash_pipe, j, 0);
            ev_pipe_submit(k->pipe, j, 0);
            cur = NULL;
            continue;
        }
        /* Otherwise write out the oldest job; stop when none is left. */
        if (ev_pipe_pending(k->pipe) == 0) {
            break;
        }
        {
            int r = collect_one(k, rc != EV_OK);
            if (rc == EV_OK) {
                rc = r;
            }
        }
    }
    if (cur != NULL) {
        file_job_free(k, cur);
    }
    /* Files finished before the keys came; a failed unlock outweighs
     * whatever else went wrong, as nothing is added then. */
    if (k->waiting) {
        int r = keys_arrive(k);
        if (rc == EV_OK || k->unlock_failed) {
            rc = r;
        }
    }
    if (k->unlock_failed) {
        return rc;
    }
    /* Records finished before a failure are kept: commit them. */
    {
        int r = batch_commit(k);
        if (rc == EV_OK) {
            rc = r;
        }
    }
    return rc;
}

static int
add_inputs(ev_vault *v, const struct inputs *ins, int stdin_fd,
           const ev_add_opts *opts, ev_record_fn cb, void *ctx)
{
    struct intake k;
    int rc;

    if (v->keys == NULL && v->unlocking == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
    }
    rc = ev_vault_lock_write(v);
    if (rc != EV_OK) {
        return rc;
    }
    ev_store_tmp_sweep(v->store);
    rc = intake_init(&k, v, opts, cb, ctx);
    if (rc == EV_OK) {
        rc = intake_run(&k, ins, stdin_fd);
    } else {
        rc = ev_fail(v, rc, "out of memory");
    }
    intake_release(&k);
    if (!v->hold_txn) {
        ev_vault_unlock_write(v);
    }
    return rc;
}

static int check_opts(ev_vault *v, const ev_add_opts *o);

int
ev_record_add_reader(ev_vault *v, const ev_add_opts *opts, ev_record_fn cb,
                     void *ctx)
{
    struct inputs ins = {0};
    int rc = check_opts(v, opts);

    if (rc == EV_OK) {
        rc = inputs_push(v, &ins, NULL,
                         opts->name != NULL ? opts->name : "file", 0);
    }
    if (rc == EV_OK) {
        rc = add_inputs(v, &ins, -2, opts, cb, ctx);
    }
    inputs_free(&ins);
    return rc;
}

static int
check_opts(ev_vault *v, const ev_add_opts *o)
{
    const char *fields[] = {o->name,     o->kind,        o->case_name,
                            o->source,   o->note,        o->captured_at,
                            o->location};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        if (fields[i] != NULL && strlen(fields[i]) > MAX_FIELD) {
            return ev_fail(v, EV_EINVAL, "a field is longer than %d bytes",
                           MAX_FIELD);
        }
    }
    if (o->ntags > 64) {
        return ev_fail(v, EV_EINVAL, "more than 64 tags");
    }
    for (size_t i = 0; i < o->ntags; i++) {
        if (strlen(o->tags[i]) > 256 || o->tags[i][0] == '\0') {
            return ev_fail(v, EV_EINVAL, "a tag is empty or too long");
        }
    }
    return EV_OK;
}

int
ev_record_add_paths(ev_vault *v, const char *const *paths, size_t npaths,
                    const ev_add_opts *opts, ev_record_fn cb, void *ctx)
{
    struct inputs ins = {0};
    ev_add_opts none = {0};
    int rc;

    if (opts == NULL) {
        opts = &none;
    }
    rc = check_opts(v, opts);
    if (rc == EV_OK) {
        rc = expand(v, &ins, paths, npaths);
    }
    if (rc == EV_OK) {
        rc = add_inputs(v, &ins, -1, opts, cb, ctx);
    }
    inputs_free(&ins);
    return rc;
}

int
ev_record_add_fd(ev_vault *v, int fd, const ev_add_opts *opts,
                 ev_record_fn cb, void *ctx)
{
    struct inputs ins = {0};
    ev_add_opts o = {0};
    int rc;

    if (opts != NULL) {
        o = *opts;
    }
    if (o.kind == NULL) {
        o.kind = "testimony";
    }
    rc = check_opts(v, &o);
    if (rc == EV_OK) {
        rc = inputs_push(v, &ins, NULL,
                         o.name != NULL ? o.name : "testimony", 0);
    }
    if (rc == EV_OK) {
        rc = add_inputs(v, &ins, fd, &o, cb, ctx);
    }
    inputs_free(&ins);
    return rc;
}

int
ev_record_add_hash(ev_vault *v, const uint8_t sha256[EV_SHA256_BYTES],
                   uint64_t size, const ev_add_opts *opts, ev_record_fn cb,
                   void *ctx)
{
    struct intake k;
    ev_record r;
    int rc = ev_vault_unlock_wait(v);

    if (rc != EV_OK) {
        return rc;
    }
    if (v->keys == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
    }
    if (opts == NULL || opts->name == NULL) {
        return ev_fail(v, EV_EINVAL, "a recorded hash needs a name");
    }
    rc = check_opts(v, opts);
    if (rc != EV_OK) {
        return rc;
    }
    rc = ev_vault_lock_write(v);
    if (rc != EV_OK) {
        return rc;
    }
    memset(&k, 0, sizeof k);
    k.v = v;
    k.opts = opts;
    k.cb = cb;
    k.cb_ctx = ctx;
    k.batch = calloc(1, sizeof *k.batch);
    if (k.batch == NULL) {
        ev_vault_unlock_write(v);
        return ev_fail(v, EV_ENOMEM, "out of memory");
    }
    fill_record(&k, &r, opts->name, opts->name);
    memcpy(r.sha256, sha256, EV_SHA256_BYTES);
    r.size = size;
    r.hash_only = 1;
    rc = insert_record(&k, &r, NULL, 0, NULL, NULL, 0, -1);
    if (rc != EV_OK) {
        free(r.tags);
        ev_catalog_rollback(v->cat);
        k.in_txn = 0;
    }
    {
        int c = batch_commit(&k);
        if (rc == EV_OK) {
            rc = c;
        }
    }
    free(k.batch);
    ev_vault_unlock_write(v);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

int
ev_record_get(ev_vault *v, int64_t id, ev_record *out)
{
    ev_record_row row;
    int rc;

    memset(out, 0, sizeof *out);
    if (v->keys == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
    }
    rc = ev_catalog_record_get(v->cat, id, &row);
    if (rc == EV_ENOENT) {
        return ev_fail(v, EV_ENOENT, "no record %lld in this vault",
                       (long long)id);
    }
    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc, "cannot read the catalog");
    }
    if (row.state == EV_STATE_DESTROYED) {
        ev_record_row_free(&row);
        out->id = id;
        out->state = EV_STATE_DESTROYED;
        return ev_destroyed_fail(v, id);
    }
    rc = ev_meta_open(v, id, row.meta.p, row.meta.n, out);
    if (rc == EV_OK) {
        out->state = row.state;
    }
    ev_record_row_free(&row);
    return rc;
}

struct list_ctx {
    ev_vault *v;
    ev_record_fn cb;
    void *ctx;
    int rc;
};

static int
list_one(void *arg, const ev_record_row *row)
{
    struct list_ctx *l = arg;
    ev_record r;
    int stop;

    if (row->state == EV_STATE_DESTROYED) {
        return 0; /* a tombstone: nothing left to list */
    }
    l->rc = ev_meta_open(l->v, row->id, row->meta.p, row->meta.n, &r);
    if (l->rc != EV_OK) {
        return 1;
    }
    r.state = row->state;
    stop = l->cb(l->ctx, &r);
    ev_record_release(&r);
    return stop != 0 ? EV_WALK_STOP : 0;
}

int
ev_record_list(ev_vault *v, const ev_filter *f, ev_record_fn cb, void *ctx)
{
    ev_blind_term t[4];
    size_t n = 0;
    struct list_ctx l = {v, cb, ctx, EV_OK};
    int rc;

    if (v->keys == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
    }
    rc = EV_OK;
    if (f != NULL && f->case_name != NULL) {
        t[n].field = EV_BLIND_CASE;
        rc = ev_blind_text(v, t[n++].value, EV_BLIND_CASE, f->case_name);
    }
    if (rc == EV_OK && f != NULL && f->source != NULL) {
        t[n].field = EV_BLIND_SOURCE;
        rc = ev_blind_text(v, t[n++].value, EV_BLIND_SOURCE, f->source);
    }
    if (rc == EV_OK && f != NULL && f->tag != NULL) {
        t[n].field = EV_BLIND_TAG;
        rc = ev_blind_text(v, t[n++].value, EV_BLIND_TAG, f->tag);
    }
    if (rc == EV_OK && f != NULL && f->sha256 != NULL) {
        t[n].field = EV_BLIND_SHA256;
        rc = ev_blind_value(v, t[n++].value, EV_BLIND_SHA256, f->sha256,
                            EV_SHA256_BYTES);
    }
    if (rc != EV_OK) {
        return rc;
    }
    rc = ev_catalog_record_each(v->cat, t, n, list_one, &l);
    if (rc == 1) {
        return l.rc;
    }
    if (rc == EV_WALK_STOP) {
        return EV_OK;
    }
    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc, "cannot read the catalog");
    }
    return EV_OK;
}

/* The read pipeline: the main thread reads sealed chunks, workers open
 * them, the main thread writes (and hashes) the plaintext in order. */
struct read_job {
    ev_sha256 *h;
    uint64_t counter;
    size_t plain_len;
    uint32_t entry;
    const uint8_t *dek;
    uint8_t *in;
    uint8_t *out;
    int rc;
};

static void
open_work(void *state, void *arg)
{
    struct read_job *j = arg;

    j->rc = ev_blob_open_chunk(state, j->out, j->plain_len, j->in, j->entry,
                               j->counter, j->dek);
}

static void
hash_read_work(void *state, void *arg)
{
    struct read_job *j = arg;

    (void)state;
    ev_sha256_update(j->h, j->out, j->plain_len);
}

struct blob_src {
    ev_store_reader *r; /* stored blob, or NULL */
    const uint8_t *mem; /* inline blob */
    uint64_t size;
};

/* EV_OK, EV_ECORRUPT for a read past the end, or the store's failure
 * (its message already on the handle: a network error is not damage). */
static int
src_read(const struct blob_src *s, uint8_t *buf, size_t n, uint64_t off)
{
    if (off > s->size || n > s->size - off) {
        return EV_ECORRUPT;
    }
    if (s->r == NULL) {
        memcpy(buf, s->mem + off, n);
        return EV_OK;
    }
    return ev_store_reader_read(s->r, buf, n, off);
}

/* Compares the padding after the index with the keystream it must be. */
static int
check_padding(ev_vault *v, const struct blob_src *src, uint64_t stored_len,
              const uint8_t *dek, const char *path)
{
    uint64_t total = src->size - stored_len, done = 0;
    size_t piece = total < EV_CHUNK_BYTES ? (size_t)total : EV_CHUNK_BYTES;
    uint8_t *want, *got;
    int rc = EV_OK;

    if (total == 0) {
        return EV_OK;
    }
    if (total > EV_BLOB_PADDING_MAX) {
        return ev_fail(v, EV_ECORRUPT, "'%s': padding longer than evault makes",
                       path);
    }
    want = malloc(piece);
    got = malloc(piece);
    if (want == NULL || got == NULL) {
        free(want);
        free(got);
        return ev_fail(v, EV_ENOMEM, "out of memory");
    }
    while (done < total) {
        size_t n = total - done < piece ? (size_t)(total - done) : piece;
        if (ev_blob_padding(want, n, done, dek) != 0) {
            rc = ev_fail(v, EV_ECORRUPT,
                         "'%s': padding longer than evault makes", path);
            break;
        }
        rc = src_read(src, got, n, stored_len + done);
        if (rc != EV_OK && rc != EV_ECORRUPT) {
            break;
        }
        if (rc != EV_OK || !ev_memeq(want, got, n)) {
            rc = ev_fail(v, EV_ECORRUPT, "'%s': padding altered", path);
            break;
        }
        done += n;
    }
    free(want);
    free(got);
    return rc;
}

/* Grows a buffer kept on the handle to at least n bytes. */
static int
grow(uint8_t **buf, size_t *cap, size_t n)
{
    uint8_t *p;

    if (n <= *cap && *buf != NULL) {
        return 0;
    }
    p = realloc(*buf, n > 0 ? n : 1);
    if (p == NULL) {
        return -1;
    }
    *buf = p;
    *cap = n > 0 ? n : 1;
    return 0;
}

/* Writes plaintext to the asynchronous writer or the fd. */
static int
out_write(ev_vault *v, ev_awriter *aw, int fd, const uint8_t *p, size_t n)
{
    int err = 0;

    if (v->stream_fn != NULL) {
        err = v->stream_fn(v->stream_ctx, p, n);
    } else if (aw != NULL) {
        err = ev_awriter_write(aw, p, n);
    } else if (fd >= 0 && ev_os_write_full(fd, p, n) != 0) {
        err = errno;
    }
    if (err != 0) {
        return ev_fail(v, err == ENOSPC ? EV_ENOSPC : EV_EIO,
                       "cannot write output: %s", strerror(err));
    }
    return EV_OK;
}

int
ev_blob_read(ev_vault *v, const uint8_t id[EV_BLOBID_BYTES], int fd,
             ev_awriter *aw, uint8_t *sha256, uint64_t *content_len_out)
{
    ev_blob_row row;
    struct blob_src src = {NULL, NULL, 0};
    uint8_t *dek = NULL, header[EV_BLOB_HEADER_BYTES];
    uint8_t *index = NULL;
    uint32_t *entries = NULL;
    uint64_t stored_len, content_len, n, off, idx_content, written = 0;
    size_t index_len;
    struct read_job *jobs = NULL;
    ev_pipe *pipe = NULL, *hash_pipe = NULL;
    uint64_t opened = 0, released = 0;
    ev_sha256 *h = NULL;
    char path[PATH_MAX];
    int workers = ev_pipe_default_workers(), rc;
    size_t njobs = (size_t)(2 * workers + 2);
    uint64_t next = 0;

    rc = ev_catalog_blob_get(v->cat, id, 1, &row);
    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc == EV_ENOENT ? EV_ECORRUPT : rc,
                               "blob row missing");
    }
    if (row.inline_) {
        src.mem = row.data.p;
        src.size = row.data.n;
        if (row.pack_off >= 0) {
            snprintf(path, sizeof path, "vault.pack at %lld",
                     (long long)row.pack_off);
        } else {
            snprintf(path, sizeof path, "inline blob");
        }
    } else {
        ev_store_blob_path(v->store, id, path, sizeof path);
        rc = ev_store_reader_open(v->store, id, &src.r, &src.size, v->errmsg,
                                  sizeof v->errmsg);
        if (rc != EV_OK) {
            rc = rc == EV_ENOENT ? EV_ECORRUPT : rc;
            goto cleanup;
        }
    }
    /* Guarded memory on the handle: sodium_malloc per blob would cost
     * several system calls (and TLB shootdowns) per record read. */
    dek = v->keys->read_dek;
    rc = ev_dek_unwrap(v, dek, &stored_len, &content_len, id, row.key.p,
                       row.key.n);
    if (rc != EV_OK) {
        rc = ev_fail(v, rc, "the data key of '%s' fails authentication",
                     path);
        goto cleanup;
    }
    n = ev_blob_nchunks(content_len);
    index_len = ev_blob_index_bytes(n);
    if (content_len > EV_BLOB_MAX_CONTENT || src.size != row.padded_size ||
        stored_len > src.size ||
        stored_len < EV_BLOB_HEADER_BYTES + index_len) {
        rc = ev_fail(v, EV_ECORRUPT, "'%s' is truncated or resized", path);
        goto cleanup;
    }
    rc = src_read(&src, header, sizeof header, 0);
    if (rc != EV_OK) {
        goto cleanup;
    }
    /* The catalog's format version governs the blobs it names: a blob
     * header that differs from this version's is damage, not news. */
    if (ev_blob_header_check(header) != EV_OK) {
        rc = ev_fail(v, EV_ECORRUPT, "'%s' has a damaged header", path);
        goto cleanup;
    }
    index = malloc(index_len);
    entries = malloc(n * sizeof *entries);
    if (index == NULL || entries == NULL) {
        rc = ev_fail(v, EV_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = src_read(&src, index, index_len, stored_len - index_len);
    if (rc != EV_OK) {
        goto cleanup;
    }
    if ((rc = ev_blob_open_index(&idx_content, entries, n, index, index_len,
                                 dek)) != EV_OK ||
        idx_content != content_len) {
        /* lack of memory is no damage */
        rc = rc == EV_ENOMEM
                 ? ev_fail(v, rc, "out of memory")
                 : ev_fail(v, EV_ECORRUPT,
                           "'%s': index fails authentication", path);
        goto cleanup;
    }
    /* The chunks must exactly fill the space between header and index. */
    off = EV_BLOB_HEADER_BYTES;
    for (uint64_t i = 0; i < n; i++) {
        off += ev_entry_len(entries[i]);
    }
    if (off + index_len != stored_len) {
        rc = ev_fail(v, EV_ECORRUPT, "'%s': chunk layout damaged", path);
        goto cleanup;
    }
    if (sha256 != NULL && (h = ev_sha256_new()) == NULL) {
        rc = ev_fail(v, EV_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (n == 1) {
        /* One chunk (every inline blob): no threads and no big buffers for
         * so little; the handle keeps the buffers between records. */
        struct read_job one;
        size_t in_len = ev_entry_len(entries[0]);
        if (v->chunk_ctx == NULL &&
            (v->chunk_ctx = ev_chunk_ctx_new()) == NULL) {
            rc = ev_fail(v, EV_ENOMEM, "out of memory");
            goto cleanup;
        }
        if (grow(&v->rbuf_in, &v->rbuf_in_cap, in_len) != 0 ||
            grow(&v->rbuf_out, &v->rbuf_out_cap, (size_t)content_len) != 0) {
            rc = ev_fail(v, EV_ENOMEM, "out of memory");
            goto cleanup;
        }
        memset(&one, 0, sizeof one);
        one.dek = dek;
        one.entry = entries[0];
        one.plain_len = (size_t)content_len;
        one.in = v->rbuf_in;
        one.out = v->rbuf_out;
        rc = src_read(&src, one.in, in_len, EV_BLOB_HEADER_BYTES);
        if (rc != EV_OK) {
            goto cleanup;
        }
        open_work(v->chunk_ctx, &one);
        if (one.rc != EV_OK) {
            rc = ev_fail(v, EV_ECORRUPT, "'%s': chunk 0 fails authentication",
                         path);
            goto cleanup;
        }
        if (h != NULL) {
            ev_sha256_update(h, one.out, one.plain_len);
        }
        rc = out_write(v, aw, fd, one.out, one.plain_len);
        ev_wipe(one.out, one.plain_len);
        if (rc != EV_OK) {
            goto cleanup;
        }
        written = one.plain_len;
        goto done;
    }
    jobs = calloc(njobs, sizeof *jobs);
    if (jobs == NULL) {
        rc = ev_fail(v, EV_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < njobs; i++) {
        jobs[i].in = malloc(EV_CHUNK_SEALED_MAX);
        jobs[i].out = malloc(EV_CHUNK_BYTES);
        jobs[i].dek = dek;
        if (jobs[i].in == NULL || jobs[i].out == NULL) {
            rc = ev_fail(v, EV_ENOMEM, "out of memory");
            goto cleanup;
        }
    }
    /* Workers open chunks; this thread reads and writes in order; the hash
     * (when wanted) runs on a thread of its own, also in order.  Job slot
     * i % njobs is reused only once job i - njobs has left both pipes. */
    pipe = ev_pipe_new(workers, njobs, open_work, worker_state_new,
                       worker_state_free);
    if (h != NULL) {
        hash_pipe = ev_pipe_new(1, njobs, hash_read_work, NULL, NULL);
    }
    if (pipe == NULL || (h != NULL && hash_pipe == NULL)) {
        rc = ev_fail(v, EV_ENOMEM, "out of memory");
        goto cleanup;
    }
    off = EV_BLOB_HEADER_BYTES;
    while (rc == EV_OK && released < n) {
        struct read_job *j;
        if (next < n && next - released < njobs) {
            j = &jobs[next % njobs];
            j->h = h;
            j->counter = next;
            j->entry = entries[next];
            j->plain_len = next + 1 < n
                               ? EV_CHUNK_BYTES
                               : (size_t)(content_len - next * EV_CHUNK_BYTES);
            rc = src_read(&src, j->in, ev_entry_len(j->entry), off);
            if (rc != EV_OK) {
                break;
            }
            off += ev_entry_len(j->entry);
            ev_pipe_submit(pipe, j, 1);
            next++;
            continue;
        }
        if (opened < next) {
            j = ev_pipe_collect(pipe);
            opened++;
            if (j->rc != EV_OK) {
                rc = ev_fail(v, EV_ECORRUPT,
                             "'%s': chunk %llu fails authentication", path,
                             (unsigned long long)j->counter);
                break;
            }
            rc = out_write(v, aw, fd, j->out, j->plain_len);
            if (rc != EV_OK) {
                break;
            }
            written += j->plain_len;
            if (hash_pipe != NULL) {
                ev_pipe_submit(hash_pipe, j, 1);
            } else {
                released++;
            }
            continue;
        }
        (void)ev_pipe_collect(hash_pipe);
        released++;
    }
    /* Let the hash thread finish before its jobs are freed or read. */
    while (hash_pipe != NULL && ev_pipe_pending(hash_pipe) > 0) {
        (void)ev_pipe_collect(hash_pipe);
    }
done:
    if (rc == EV_OK && written != content_len) {
        rc = ev_fail(v, EV_ECORRUPT, "'%s': length mismatch", path);
    }
    if (rc == EV_OK && h != NULL && ev_sha256_final(h, sha256) != 0) {
        rc = ev_fail(v, EV_ENOMEM, "cannot hash '%s': libcrypto failed", path);
    }
    /* The padding too: an altered byte anywhere in a blob is damage. */
    if (rc == EV_OK) {
        rc = check_padding(v, &src, stored_len, dek, path);
    }
    if (rc == EV_OK && content_len_out != NULL) {
        *content_len_out = content_len;
    }
cleanup:
    ev_pipe_free(pipe);
    ev_pipe_free(hash_pipe);
    if (jobs != NULL) {
        for (size_t i = 0; i < njobs; i++) {
            /* slot i held plaintext only if chunk i was submitted */
            if (jobs[i].out != NULL && i < next) {
                ev_wipe(jobs[i].out, EV_CHUNK_BYTES);
            }
            free(jobs[i].in);
            free(jobs[i].out);
        }
        free(jobs);
    }
    ev_sha256_free(h);
    free(index);
    free(entries);
    if (dek != NULL) {
        ev_wipe(dek, EV_KEY_BYTES);
    }
    ev_store_reader_close(src.r);
    ev_blob_row_free(&row);
    return rc;
}

static int
read_checked(ev_vault *v, int64_t id, int fd, ev_awriter *aw)
{
    ev_record_row row;
    ev_record r;
    uint8_t sha[32];
    uint64_t len = 0;
    int rc;

    if (v->keys == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
    }
    rc = ev_catalog_record_get(v->cat, id, &row);
    if (rc == EV_ENOENT) {
        return ev_fail(v, EV_ENOENT, "no record %lld in this vault",
                       (long long)id);
    }
    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc, "cannot read the catalog");
    }
    if (row.state == EV_STATE_DESTROYED) {
        ev_record_row_free(&row);
        return ev_destroyed_fail(v, id);
    }
    rc = ev_meta_open(v, id, row.meta.p, row.meta.n, &r);
    if (rc != EV_OK) {
        ev_record_row_free(&row);
        return rc;
    }
    if (!row.has_blob) {
        rc = ev_fail(v, EV_ENOENT,
                     "record %lld holds only a hash: its bytes were never "
                     "stored",
                     (long long)id);
    } else {
        /* Every chunk, the index (which authenticates the length) and the
         * data key (bound to the blob id) are authenticated before a byte
         * is released; recomputing SHA-256 is check --read-data's job. */
        /* The record's authenticated SHA-256 names its blob: a record
         * pointed at another blob behind evault's back is caught here. */
        (void)sha;
        rc = ev_blobid_names(v, r.sha256, row.blob_id);
        if (rc == EV_ECORRUPT) {
            rc = ev_fail(v, EV_ECORRUPT,
                         "record %lld points at a blob that is not its own",
                         (long long)id);
        } else if (rc == EV_OK) {
            rc = ev_blob_read(v, row.blob_id, fd, aw, NULL, &len);
        }
        if (rc == EV_OK && len != r.size) {
            rc = ev_fail(v, EV_ECORRUPT,
                         "record %lld: content does not match its recorded "
                         "SHA-256",
                         (long long)id);
        }
    }
    ev_record_release(&r);
    ev_record_row_free(&row);
    return rc;
}

int
ev_record_stream(ev_vault *v, int64_t id,
                 int (*fn)(void *ctx, const uint8_t *p, size_t n), void *ctx)
{
    int rc;

    v->stream_fn = fn;
    v->stream_ctx = ctx;
    rc = read_checked(v, id, -1, NULL);
    v->stream_fn = NULL;
    v->stream_ctx = NULL;
    return rc;
}

int
ev_record_read(ev_vault *v, int64_t id, int fd)
{
    return read_checked(v, id, fd, NULL);
}

int
ev_record_export_check(ev_vault *v, const char *path, int overwrite)
{
    struct stat st;

    if (lstat(path, &st) != 0) {
        return EV_OK;
    }
    /* --force replaces a file, never a device, link or directory. */
    if (!S_ISREG(st.st_mode)) {
        return ev_fail(v, EV_EEXIST, "'%s' exists and is not a regular file",
                       path);
    }
    return overwrite ? EV_OK
                     : ev_fail(v, EV_EEXIST, "'%s' already exists", path);
}

int
ev_record_export(ev_vault *v, int64_t id, const char *path, int overwrite,
                 unsigned *swept)
{
    ev_os_out o;
    ev_awriter *aw;
    int rc, err;

    if (swept != NULL) {
        *swept = 0;
    }
    rc = ev_record_export_check(v, path, overwrite);
    if (rc != EV_OK) {
        return rc;
    }
    /* It appears only complete: a process killed while writing leaves no
     * part of the evidence in plaintext behind.  O_DIRECT where allowed:
     * no page-cache copy of what may be gigabytes of video. */
    rc = ev_os_out_open(&o, path, 1);
    if (swept != NULL) {
        *swept = o.swept; /* removed even if what follows fails */
    }
    if (rc != 0) {
        return ev_fail(v, ev_errno_status(errno), "cannot create '%s': %s",
                       path, strerror(errno));
    }
    aw = ev_awriter_new(o.fd, o.direct);
    if (aw == NULL) {
        rc = ev_fail(v, EV_ENOMEM, "out of memory");
    } else {
        rc = read_checked(v, id, -1, aw);
        err = ev_awriter_finish(aw);
        ev_awriter_free(aw);
        if (rc == EV_OK && err != 0) {
            rc = ev_fail(v, err == ENOSPC ? EV_ENOSPC : EV_EIO,
                         "cannot write '%s': %s", path, strerror(err));
        }
    }
    if (rc != EV_OK) {
        ev_os_out_abort(&o);
        return rc;
    }
    if (ev_os_out_commit(&o, path, overwrite) != 0) {
        return errno == EEXIST
                   ? ev_fail(v, EV_EEXIST, "'%s' already exists", path)
                   : ev_fail(v, ev_errno_status(errno),
                             "cannot write '%s': %s", path, strerror(errno));
    }
    return EV_OK;
}
