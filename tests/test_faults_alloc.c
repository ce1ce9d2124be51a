/*
 * test_faults_alloc.c - the N-th allocation fails (faultmem.h), for every
 * N, across the operations of faultops.h.
 *
 * Each operation is first run with counting only, which gives K, its
 * allocations.  Then for N = 1..K: the operation must not crash, must end
 * in EV_ENOMEM with a message (or succeed entirely, when what failed had a
 * fallback), and the vault must pass every check of fo_run.  For odd N the
 * same handle then runs the operation again and must succeed.  Under
 * AddressSanitizer, LeakSanitizer looks for leaks after every run and
 * names the allocation that failed.  Up to FULL_UPTO every N is tried,
 * beyond it every STRIDE-th (printed); EV_FAULT_FULL=1 tries every N.
 */
#include "harness.h"
#include "crypto.h"
#include "faultfs.h"
#include "faultmem.h"
#include "faultops.h"
#include "testutil.h"

#include <time.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#define FULL_UPTO 60
#define STRIDE 23
#else
#define FULL_UPTO 64
#define STRIDE 17
#endif

static void
arm_count(void *ctx)
{
    (void)ctx;
    fm_count();
}

static void
arm_fault(void *ctx)
{
    fm_arm(*(long *)ctx);
}

static void
hooks_off(void *ctx)
{
    (void)ctx;
    fm_off();
}

static long only_n;

static double
now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
leaked(const char *label, long secure_before)
{
    if (fm_secure_live() != secure_before) {
        fprintf(stderr, "%s: %ld guarded blocks (ev_secure_alloc) leaked\n",
                label, fm_secure_live() - secure_before);
        return 1;
    }
#ifdef __SANITIZE_ADDRESS__
    if (__lsan_do_recoverable_leak_check() != 0) {
        fprintf(stderr, "%s: leaked (the report above)\n", label);
        return 1;
    }
#else
    (void)label;
#endif
    return 0;
}

static void
test_op(size_t op, int full)
{
    const char *name = fo_op_name(op);
    struct fo_hooks count = {arm_count, hooks_off, NULL};
    long n;
    struct fo_hooks fault = {arm_fault, hooks_off, &n};
    struct fo_result res;
    char label[256];
    long k, tried = 0, nomem = 0, absorbed = 0, secure_before;
    long sqlite_eio = 0;
    double t0 = now();

    snprintf(label, sizeof label, "%s, counting allocations", name);
    secure_before = fm_secure_live();
    CHECK_EQ(fo_run(op, &count, &res, 0, label), 0);
    CHECK(!leaked(label, secure_before));
    CHECK_EQ(res.rc, EV_OK);
    k = fm_calls();
    CHECK(k > 0);
    for (n = only_n > 0 ? only_n : 1; n <= k;
         n += (full || n < FULL_UPTO) ? 1 : STRIDE) {
        if (only_n > 0 && n != only_n) {
            break;
        }
        tried++;
        secure_before = fm_secure_live();
        snprintf(label, sizeof label, "%s, allocation %ld of %ld failing", name,
                 n, k);
        if (fo_run(op, &fault, &res, n % 2 == 1, label) != 0) {
            CHECK(0);
            fprintf(stderr, "%s: the run gave %s: %s (failed: %s)\n", label,
                    ev_strerror(res.rc), res.errmsg, fm_what());
        }
        CHECK(!leaked(label, secure_before));
        if (!fm_fired()) {
            CHECK_EQ(res.rc, EV_OK);
            continue;
        }
        if (res.rc == EV_OK) {
            absorbed++;
            if (getenv("EV_TEST_VERBOSE") != NULL) {
                fprintf(stderr, "%s: absorbed: %s\n", label, fm_what());
            }
            continue;
        }
        if (res.rc == EV_EIO && strncmp(fm_what(), "sqlite", 6) == 0 &&
            strstr(res.errmsg, "disk I/O error") != NULL) {
            /* SQLite reports some of its own failed allocations (opening
             * the WAL in a checkpoint) as a disk I/O error: then EV_EIO is
             * the honest report; the vault's state was checked above all
             * the same (counted and printed) */
            sqlite_eio++;
            continue;
        }
        nomem++;
        if (res.rc != EV_ENOMEM || res.errmsg[0] == '\0') {
            fprintf(stderr, "%s: %s gave %s: '%s'\n", label, fm_what(),
                    ev_strerror(res.rc), res.errmsg);
        }
        CHECK_EQ(res.rc, EV_ENOMEM);
        CHECK(res.errmsg[0] != '\0');
    }
    printf("%-12s K=%-5ld N=1..%ld", name, k,
           k < FULL_UPTO || full ? k : (long)FULL_UPTO);
    if (k > FULL_UPTO && !full) {
        printf(", then every %dth to %ld", STRIDE, k);
    }
    printf(": %ld runs; EV_ENOMEM %ld, succeeded anyway %ld", tried, nomem,
           absorbed);
    if (sqlite_eio > 0) {
        printf(", EV_EIO from SQLite %ld", sqlite_eio);
    }
    printf("; %.1f s\n", now() - t0);
    fflush(stdout);
}

static int
all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0) {
            return 0;
        }
    }
    return 1;
}

/* OpenSSL without memory: sealing a chunk used to abort (ev_misuse),
 * opening one called it forged, hashing aborted.  Each crypto operation is
 * run with its allocations counted (K), then with allocation N failing for
 * N = 1..K: it gives the same bytes (libsodium did the work), or, where
 * libsodium cannot take over, an error with nothing of the chunk or digest
 * left in the output. */
static void
test_crypto_without_openssl(void)
{
    uint8_t key[EV_KEY_BYTES], nonce[EV_CHUNK_NONCE_BYTES], ad[7] = "chunkad";
    uint8_t in[3000], want[sizeof in + EV_TAG_BYTES], got[sizeof want];
    uint8_t back[sizeof in], sha_want[32], sha_got[32];
    long k, errors;
    ev_sha256 *h;
    int rc;

    t_fill_random(key, sizeof key, 1);
    t_fill_random(nonce, sizeof nonce, 2);
    t_fill_random(in, sizeof in, 3);
    ev_sha256_once(sha_want, in, sizeof in);
    /* OpenSSL sets itself up at its first use of each algorithm: done here,
     * so that K counts what every later call allocates */
    CHECK_EQ(ev_chunk_seal(want, in, sizeof in, nonce, ad, sizeof ad, key),
             0);
    CHECK_EQ(ev_chunk_open(back, want, sizeof want, nonce, ad, sizeof ad, key),
             0);

    /* sealing: the same bytes, or -1 and the output wiped */
    fm_count();
    rc = ev_chunk_seal(want, in, sizeof in, nonce, ad, sizeof ad, key);
    fm_off();
    CHECK_EQ(rc, 0);
    k = fm_calls();
    CHECK(k > 0);
    errors = 0;
    for (long n = 1; n <= k; n++) {
        memset(got, 0xee, sizeof got);
        fm_arm(n);
        rc = ev_chunk_seal(got, in, sizeof in, nonce, ad, sizeof ad, key);
        fm_off();
        CHECK(fm_fired());
        if (rc == 0) {
            CHECK(memcmp(got, want, sizeof want) == 0);
        } else {
            errors++;
            CHECK(all_zero(got, sizeof got));
        }
    }
    printf("%-12s K=%-5ld sealing a chunk: %ld errors, the rest by "
           "libsodium\n",
           "crypto", k, errors);

    /* opening: the plaintext, and a forgery still one */
    fm_count();
    rc = ev_chunk_open(back, want, sizeof want, nonce, ad, sizeof ad, key);
    fm_off();
    CHECK_EQ(rc, 0);
    k = fm_calls();
    for (long n = 1; n <= k; n++) {
        fm_arm(n);
        rc = ev_chunk_open(back, want, sizeof want, nonce, ad, sizeof ad, key);
        fm_off();
        CHECK_EQ(rc, 0);
        CHECK(memcmp(back, in, sizeof in) == 0);
        want[5] ^= 1;
        fm_arm(n);
        CHECK(ev_chunk_open(back, want, sizeof want, nonce, ad, sizeof ad,
                            key) != 0);
        fm_off();
        want[5] ^= 1;
    }

    /* one-shot SHA-256: cannot fail */
    fm_count();
    ev_sha256_once(sha_got, in, sizeof in);
    ev_sha256_two(sha_got, in, 1000, in + 1000, sizeof in - 1000);
    fm_off();
    k = fm_calls();
    for (long n = 1; n <= k; n++) {
        memset(sha_got, 0xee, sizeof sha_got);
        fm_arm(n);
        ev_sha256_once(sha_got, in, sizeof in);
        fm_off();
        CHECK(memcmp(sha_got, sha_want, 32) == 0);
        memset(sha_got, 0xee, sizeof sha_got);
        fm_arm(n);
        ev_sha256_two(sha_got, in, 1000, in + 1000, sizeof in - 1000);
        fm_off();
        CHECK(memcmp(sha_got, sha_want, 32) == 0);
    }

    /* streaming SHA-256, new to final: NULL, the digest, or -1 and no
     * made-up digest; the object is usable again after final */
    fm_count();
    h = ev_sha256_new();
    CHECK(h != NULL);
    ev_sha256_update(h, in, 1000);
    ev_sha256_update(h, in + 1000, sizeof in - 1000);
    CHECK_EQ(ev_sha256_final(h, sha_got), 0);
    fm_off();
    ev_sha256_free(h);
    k = fm_calls();
    errors = 0;
    for (long n = 1; n <= k; n++) {
        memset(sha_got, 0xee, sizeof sha_got);
        fm_arm(n);
        h = ev_sha256_new();
        if (h != NULL) {
            ev_sha256_update(h, in, 1000);
            ev_sha256_update(h, in + 1000, sizeof in - 1000);
            rc = ev_sha256_final(h, sha_got);
        }
        fm_off();
        if (h == NULL) {
            continue;
        }
        if (rc == 0) {
            CHECK(memcmp(sha_got, sha_want, 32) == 0);
        } else {
            errors++;
            CHECK(all_zero(sha_got, sizeof sha_got));
        }
        ev_sha256_update(h, in, sizeof in);
        CHECK_EQ(ev_sha256_final(h, sha_got), 0);
        CHECK(memcmp(sha_got, sha_want, 32) == 0);
        ev_sha256_free(h);
    }
    /* OpenSSL allocates nothing in an update or in making the digest (the
     * restart after it may, and falls back): the -1 of final cannot be
     * provoked by a failed allocation */
    h = ev_sha256_new();
    CHECK(h != NULL);
    fm_count();
    ev_sha256_update(h, in, sizeof in);
    fm_off();
    CHECK_EQ(fm_calls(), 0);
    CHECK_EQ(ev_sha256_final(h, sha_got), 0);
    ev_sha256_free(h);
    printf("%-12s K=%-5ld streaming SHA-256: %ld errors, the rest by "
           "libsodium\n",
           "crypto", k, errors);
    fflush(stdout);
}

int
main(int argc, char **argv)
{
    char *root;
    int full = getenv("EV_FAULT_FULL") != NULL;
    /* test_faults_x [operation [N]]: one operation, one N */
    const char *only = argc > 1 ? argv[1] : NULL;

    only_n = argc > 2 ? strtol(argv[2], NULL, 10) : 0;

    fm_install();
    ff_install(); /* nothing fails there; its syncs cost nothing */
    if (ev_init() != EV_OK) {
        return 1;
    }
    if (only == NULL || strcmp(only, "crypto") == 0) {
        test_crypto_without_openssl();
    }
    root = t_mkdtemp();
    if (fo_setup(root) != 0) {
        CHECK(0);
    } else {
        for (size_t op = 0; op < fo_nops(); op++) {
            if (only == NULL || strcmp(only, fo_op_name(op)) == 0) {
                test_op(op, full);
            }
        }
    }
    fo_teardown();
    t_rmtree(root);
    EV_TEST_END();
}
