/*
 * testutil.h - helpers shared by the unit tests: temporary directories,
 * files, test data and vault set-up.  Header-only; each test includes it
 * after harness.h.
 */
#ifndef EV_TESTUTIL_H
#define EV_TESTUTIL_H

#include "evault.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Cheap Argon2id so that tests unlock in milliseconds. */
#define T_PASS "correct horse battery staple"
static const ev_create_opts t_cheap = {1, 8192, NULL, NULL};

/* A new temporary directory; aborts the test when none can be made. */
static inline char *
t_mkdtemp(void)
{
    char tmpl[PATH_MAX];
    const char *base = getenv("TMPDIR");
    char *d;

    snprintf(tmpl, sizeof tmpl, "%s/evault-test-XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    d = mkdtemp(tmpl);
    if (d == NULL) {
        perror("mkdtemp");
        exit(2);
    }
    return strdup(d);
}

static inline int
t_rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(path);
}

/* rm -rf dir, and frees the name. */
static inline void
t_rmtree(char *dir)
{
    if (dir != NULL) {
        nftw(dir, t_rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(dir);
    }
}

/* Joins into a static-size buffer the caller owns. */
static inline void
t_path(char *out, size_t n, const char *a, const char *b)
{
    if ((size_t)snprintf(out, n, "%s/%s", a, b) >= n) {
        fprintf(stderr, "path too long\n");
        exit(2);
    }
}

static inline int
t_write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok;

    if (f == NULL) {
        return -1;
    }
    ok = (n == 0 || fwrite(p, 1, n, f) == n);
    ok &= fclose(f) == 0;
    return ok ? 0 : -1;
}

/* Reads a whole file into a malloc'd buffer (NULL on failure). */
static inline uint8_t *
t_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *p = NULL;
    long len;

    *n = 0;
    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    p = malloc((size_t)len + 1);
    if (p != NULL && len > 0 && fread(p, 1, (size_t)len, f) != (size_t)len) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p != NULL) {
        *n = (size_t)len;
    }
    return p;
}

/* Deterministic pseudo-random bytes (xorshift64*), so failures repeat. */
static inline void
t_fill_random(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;

    for (size_t i = 0; i < n; i++) {
        if (i % 8 == 0) {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
        }
        p[i] = (uint8_t)((x * 0x2545F4914F6CDD1Dull) >> (8 * (i % 8)));
    }
}

/* Compressible text: English-like lines with a counter. */
static inline void
t_fill_text(uint8_t *p, size_t n, uint64_t seed)
{
    static const char *const words[] = {
        "witness", "statement", "the", "of", "detained", "on", "evening",
        "officer", "said", "and", "was", "taken", "to", "station", "report"};
    size_t o = 0;
    uint64_t k = seed;

    while (o < n) {
        const char *w = words[k % (sizeof words / sizeof *words)];
        size_t wl = strlen(w);
        k = k * 6364136223846793005ull + 1442695040888963407ull;
        for (size_t i = 0; i < wl && o < n; i++) {
            p[o++] = (uint8_t)w[i];
        }
        if (o < n) {
            p[o++] = (uint8_t)((k >> 60) == 0 ? '\n' : ' ');
        }
    }
}

/* Creates a vault under parent/name (cheap Argon2id); NULL on failure. */
static inline ev_vault *
t_vault_create(const char *dir, char recovery[EV_RECOVERY_KEY_CHARS + 1])
{
    ev_vault *v = NULL;
    char rec[EV_RECOVERY_KEY_CHARS + 1];
    int rc;

    if (ev_vault_new(&v) != EV_OK) {
        ev_vault_free(v);
        return NULL;
    }
    rc = ev_vault_create(v, dir, &t_cheap, T_PASS, strlen(T_PASS),
                         recovery != NULL ? recovery : rec);
    if (rc != EV_OK) {
        fprintf(stderr, "ev_vault_create: %s: %s\n", ev_strerror(rc),
                ev_vault_errmsg(v));
        ev_vault_free(v);
        return NULL;
    }
    return v;
}

/* Opens and unlocks with the test passphrase; NULL on failure. */
static inline ev_vault *
t_vault_reopen(const char *dir)
{
    ev_vault *v = NULL;
    int rc;

    if (ev_vault_new(&v) != EV_OK) {
        ev_vault_free(v);
        return NULL;
    }
    rc = ev_vault_open(v, dir);
    if (rc == EV_OK) {
        rc = ev_vault_unlock_passphrase(v, T_PASS, strlen(T_PASS));
    }
    if (rc != EV_OK) {
        fprintf(stderr, "reopen '%s': %s: %s\n", dir, ev_strerror(rc),
                ev_vault_errmsg(v));
        ev_vault_free(v);
        return NULL;
    }
    return v;
}

/* What a record callback saw. */
struct t_rec {
    int64_t id;
    int64_t same_as;
    uint64_t size;
    int hash_only;
    uint8_t sha256[EV_SHA256_BYTES];
    char name[256];
};

struct t_recs {
    struct t_rec v[256];
    size_t n;
};

static inline int
t_collect(void *ctx, const ev_record *r)
{
    struct t_recs *rs = ctx;

    if (rs->n < sizeof rs->v / sizeof *rs->v) {
        struct t_rec *t = &rs->v[rs->n++];
        t->id = r->id;
        t->same_as = r->same_as;
        t->size = r->size;
        t->hash_only = r->hash_only;
        memcpy(t->sha256, r->sha256, EV_SHA256_BYTES);
        snprintf(t->name, sizeof t->name, "%s",
                 r->name != NULL ? r->name : "");
    }
    return 0;
}

/* Reads a record into a temporary file under dir and returns its bytes
 * (malloc'd) with the status in *rc. */
static inline uint8_t *
t_read_record(ev_vault *v, int64_t id, const char *dir, size_t *n, int *rc)
{
    char path[PATH_MAX];
    uint8_t *p;
    int fd;

    *n = 0;
    t_path(path, sizeof path, dir, "readback.XXXXXX");
    fd = mkstemp(path);
    if (fd < 0) {
        *rc = -1;
        return NULL;
    }
    *rc = ev_record_read(v, id, fd);
    close(fd);
    p = t_read_file(path, n);
    unlink(path);
    return p;
}

/* The record reads back (through a file under dir) as exactly want[n];
 * else says what it got. */
static inline int
t_reads_back(const char *dir, ev_vault *v, int64_t id, const uint8_t *want,
             size_t n)
{
    size_t got_n = 0;
    int rc;
    uint8_t *got = t_read_record(v, id, dir, &got_n, &rc);
    int ok = rc == EV_OK && got != NULL && got_n == n &&
             (n == 0 || memcmp(got, want, n) == 0);

    if (!ok) {
        fprintf(stderr, "record %lld: read rc %d (%s), %zu bytes of %zu\n",
                (long long)id, rc, ev_vault_errmsg(v), got_n, n);
    }
    free(got);
    return ok;
}

#endif
