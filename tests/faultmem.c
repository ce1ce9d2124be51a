/*
 * faultmem.c - the allocation-failure counter (see faultmem.h).
 *
 * Owns: the __wrap_ functions the linker routes the library's allocation
 * calls to, and SQLite's and jansson's allocator hooks.
 * Never: changes an allocation that is not the one that fails.
 */
#include "faultmem.h"

#include <errno.h>
#include <execinfo.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_long calls;
static atomic_long secure_live; /* guarded blocks not yet freed */
/* inside jansson's parser: its allocations neither count nor fail */
static _Thread_local int in_parser;
static atomic_int counting;
static long fail_at;
static atomic_int fired;
static char fired_what[128];

void
fm_count(void)
{
    fm_arm(0);
}

void
fm_arm(long n)
{
    atomic_store(&counting, 0);
    atomic_store(&calls, 0);
    atomic_store(&fired, 0);
    fail_at = n;
    fired_what[0] = '\0';
    atomic_store(&counting, 1);
}

void
fm_off(void)
{
    atomic_store(&counting, 0);
}

long
fm_calls(void)
{
    return atomic_load(&calls);
}

int
fm_fired(void)
{
    return atomic_load(&fired);
}

const char *
fm_what(void)
{
    return fired_what;
}

/* Counts an allocation; 1 when this one must fail. */
static int
hit(const char *what, size_t n)
{
    long c;

    if (!atomic_load(&counting) || in_parser) {
        return 0;
    }
    c = atomic_fetch_add(&calls, 1) + 1;
    if (c != fail_at) {
        return 0;
    }
    snprintf(fired_what, sizeof fired_what, "%s(%zu), allocation %ld", what, n,
             c);
    atomic_store(&fired, 1);
    if (getenv("EV_FAULT_TRACE") != NULL) {
        /* where the failing call came from (link with -rdynamic or read
         * the addresses with addr2line) */
        void *bt[32];
        fprintf(stderr, "faulting %s:\n", fired_what);
        backtrace_symbols_fd(bt, backtrace(bt, 32), 2);
    }
    errno = ENOMEM;
    return 1;
}

/* ------------------------------------------------------------------ */
/* The linker's wrappers (-Wl,--wrap=malloc,...)                        */
/* ------------------------------------------------------------------ */

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
int __real_posix_memalign(void **p, size_t align, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
void *__real_ev_secure_alloc(size_t n);
void __real_ev_secure_free(void *p);
void __real_ev_secret_free(void *p);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
int __wrap_posix_memalign(void **p, size_t align, size_t n);
void *__wrap_aligned_alloc(size_t align, size_t n);
void *__wrap_ev_secure_alloc(size_t n);
void __wrap_ev_secure_free(void *p);
void __wrap_ev_secret_free(void *p);

void *
__wrap_malloc(size_t n)
{
    return hit("malloc", n) ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t k, size_t n)
{
    return hit("calloc", k * n) ? NULL : __real_calloc(k, n);
}

void *
__wrap_realloc(void *p, size_t n)
{
    return hit("realloc", n) ? NULL : __real_realloc(p, n);
}

char *
__wrap_strdup(const char *s)
{
    return hit("strdup", strlen(s) + 1) ? NULL : __real_strdup(s);
}

int
__wrap_posix_memalign(void **p, size_t align, size_t n)
{
    return hit("posix_memalign", n) ? ENOMEM
                                    : __real_posix_memalign(p, align, n);
}

void *
__wrap_aligned_alloc(size_t align, size_t n)
{
    return hit("aligned_alloc", n) ? NULL : __real_aligned_alloc(align, n);
}

/* Guarded memory is mmap'd by libsodium, out of LeakSanitizer's sight:
 * it is counted instead (ev_secret_free releases what the library hands
 * a caller, the lines of trustee shares). */
void *
__wrap_ev_secure_alloc(size_t n)
{
    void *p = hit("ev_secure_alloc", n) ? NULL : __real_ev_secure_alloc(n);

    if (p != NULL) {
        atomic_fetch_add(&secure_live, 1);
    }
    return p;
}

void
__wrap_ev_secure_free(void *p)
{
    if (p != NULL) {
        atomic_fetch_sub(&secure_live, 1);
    }
    __real_ev_secure_free(p);
}

void
__wrap_ev_secret_free(void *p)
{
    if (p != NULL) {
        atomic_fetch_sub(&secure_live, 1);
    }
    __real_ev_secret_free(p);
}

long
fm_secure_live(void)
{
    return atomic_load(&secure_live);
}

/* ------------------------------------------------------------------ */
/* SQLite and jansson                                                  */
/* ------------------------------------------------------------------ */

static sqlite3_mem_methods sql_real;

static void *
sql_malloc(int n)
{
    return hit("sqlite xMalloc", (size_t)n) ? NULL : sql_real.xMalloc(n);
}

static void *
sql_realloc(void *p, int n)
{
    return hit("sqlite xRealloc", (size_t)n) ? NULL : sql_real.xRealloc(p, n);
}

static void *
json_alloc(size_t n)
{
    return hit("jansson malloc", n) ? NULL : __real_malloc(n);
}

static void
json_release(void *p)
{
    free(p);
}

/* jansson 2.14's parser ignores a failed allocation while it saves a
 * token (lex_save, akheron/jansson#362): it then asserts, or copies a
 * string past its buffer.  Found here; until jansson is fixed, the
 * allocations of json_loads and json_loadb are left alone. */
json_t *__real_json_loads(const char *in, size_t flags, json_error_t *e);
json_t *__real_json_loadb(const char *in, size_t n, size_t flags,
                          json_error_t *e);
json_t *__wrap_json_loads(const char *in, size_t flags, json_error_t *e);
json_t *__wrap_json_loadb(const char *in, size_t n, size_t flags,
                          json_error_t *e);

json_t *
__wrap_json_loads(const char *in, size_t flags, json_error_t *e)
{
    json_t *j;

    in_parser++;
    j = __real_json_loads(in, flags, e);
    in_parser--;
    return j;
}

json_t *
__wrap_json_loadb(const char *in, size_t n, size_t flags, json_error_t *e)
{
    json_t *j;

    in_parser++;
    j = __real_json_loadb(in, n, flags, e);
    in_parser--;
    return j;
}

static void *
ossl_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return hit("openssl malloc", n) ? NULL : __real_malloc(n);
}

static void *
ossl_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return hit("openssl realloc", n) ? NULL : __real_realloc(p, n);
}

static void
ossl_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    free(p);
}

void
fm_install(void)
{
    sqlite3_mem_methods m;

    if (!CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free)) {
        fprintf(stderr, "faultmem: OpenSSL has allocated already\n");
        exit(2);
    }

    if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &sql_real) != SQLITE_OK) {
        fprintf(stderr, "faultmem: SQLite's allocator is out of reach\n");
        exit(2);
    }
    m = sql_real;
    m.xMalloc = sql_malloc;
    m.xRealloc = sql_realloc;
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &m) != SQLITE_OK) {
        fprintf(stderr, "faultmem: SQLite has started already\n");
        exit(2);
    }
    json_set_alloc_funcs(json_alloc, json_release);
}
