/*
 * test_faults_io.c - the N-th write, fsync, rename, or SQLite write, sync
 * or truncate fails, for every N, across add, seal, share, import, key
 * rotate, lockdown, passphrase change and member add (faultops.h).
 *
 * Each operation is first run with counting only, which gives K, the
 * number of faultable calls it makes (faultfs.h: the library's and
 * SQLite's on one counter).  Then for N = 1..K, once failing with EIO and
 * once with ENOSPC: the operation must end in the status the failed call
 * stands for (EV_EIO, EV_ENOSPC) with a message that names the cause, or
 * succeed entirely when the call it broke was not needed for the result
 * (a checkpoint SQLite retries later); and the vault must pass every check
 * of fo_run.  Up to FULL_UPTO every N is tried, beyond it every STRIDE-th
 * (printed); EV_FAULT_FULL=1 tries every N.
 */
#include "harness.h"
#include "faultfs.h"
#include "faultops.h"
#include "testutil.h"

#include <time.h>

#ifdef __SANITIZE_ADDRESS__
#define FULL_UPTO 60
#define STRIDE 7
#else
#define FULL_UPTO 400
#define STRIDE 5
#endif

struct plan {
    long n, len;
    int err;
};

static void
arm_count(void *ctx)
{
    (void)ctx;
    ff_count();
}

static void
arm_fault(void *ctx)
{
    struct plan *p = ctx;

    ff_arm_run(p->n, p->len, p->err);
}

static void
hooks_off(void *ctx)
{
    (void)ctx;
    ff_off();
}

/* The message names the cause: the system's words for the errno, or
 * SQLite's for its I/O error. */
static int
names_cause(const char *msg, int err)
{
    return strstr(msg, strerror(err)) != NULL ||
           strstr(msg, "disk I/O error") != NULL ||
           strstr(msg, "database or disk is full") != NULL;
}

static long only_n;

static double
now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
test_op(size_t op, int full)
{
    const char *name = fo_op_name(op);
    struct fo_hooks count = {arm_count, hooks_off, NULL};
    struct plan p;
    struct fo_hooks fault = {arm_fault, hooks_off, &p};
    struct fo_result res;
    char label[256], kinds[256];
    long k, tried = 0, failed[2] = {0, 0}, absorbed = 0;
    long dirsync[8], ndirsync = 0;
    static const int errs[2] = {EIO, ENOSPC};
    double t0 = now();

    snprintf(label, sizeof label, "%s, counting", name);
    CHECK_EQ(fo_run(op, &count, &res, 0, label), 0);
    CHECK_EQ(res.rc, EV_OK);
    if (res.rc != EV_OK) {
        fprintf(stderr, "%s: %s\n", label, res.errmsg);
    }
    k = ff_calls();
    ff_summary(kinds, sizeof kinds);
    CHECK(k > 0);
    for (long n = only_n > 0 ? only_n : 1; n <= k;
         n += (full || n < FULL_UPTO) ? 1 : STRIDE) {
        if (only_n > 0 && n != only_n) {
            break;
        }
        tried++;
        for (int e = 0; e < 2; e++) {
            p.n = n;
            p.len = 1;
            p.err = errs[e];
            snprintf(label, sizeof label,
                     "%s, call %ld of %ld failing with "
                     "%s",
                     name, n, k, strerror(errs[e]));
            /* after EIO the same handle tries again (faultops.h); after
             * ENOSPC the vault is checked as the failure left it */
            if (fo_run(op, &fault, &res, errs[e] == EIO, label) != 0) {
                CHECK(0);
                fprintf(stderr, "%s: the run gave %s: %s (failed: %s)\n", label,
                        ev_strerror(res.rc), res.errmsg, ff_what());
                continue;
            }
            if (ff_fired() && e == 0 && ndirsync < 8 &&
                strncmp(ff_what(), "sqlite xDelete's directory sync", 31) ==
                    0) {
                dirsync[ndirsync++] = n;
            }
            if (!ff_fired()) {
                /* fewer calls this time (threads): a clean run */
                CHECK_EQ(res.rc, EV_OK);
                continue;
            }
            if (res.rc == EV_OK) {
                /* the call was not needed for the result: fo_run has
                 * checked that the operation took effect entirely */
                absorbed++;
                if (getenv("EV_TEST_VERBOSE") != NULL) {
                    fprintf(stderr, "%s: absorbed: %s\n", label, ff_what());
                }
                continue;
            }
            failed[e]++;
            if (res.rc != ff_expected() || !names_cause(res.errmsg, errs[e])) {
                fprintf(stderr, "%s: %s gave %s (want %s): '%s'\n", label,
                        ff_what(), ev_strerror(res.rc),
                        ev_strerror(ff_expected()), res.errmsg);
            }
            CHECK_EQ(res.rc, ff_expected());
            CHECK(names_cause(res.errmsg, errs[e]));
        }
    }
    /* A commit through a rollback journal whose directory cannot be
     * synced, twice (SQLite's sync, then catalog.c's): committed, and
     * said to be, or a success that holds. */
    for (long i = 0; i < ndirsync; i++) {
        p.n = dirsync[i];
        p.len = 2;
        p.err = EIO;
        snprintf(label, sizeof label,
                 "%s, calls %ld and %ld failing (a journal's directory)",
                 name, p.n, p.n + 1);
        if (fo_run(op, &fault, &res, 0, label) != 0) {
            CHECK(0);
            fprintf(stderr, "%s: the run gave %s: %s\n", label,
                    ev_strerror(res.rc), res.errmsg);
        }
        CHECK(res.rc == EV_OK || res.committed_note);
        if (getenv("EV_TEST_VERBOSE") != NULL) {
            fprintf(stderr, "%s: %s: %s\n", label, ev_strerror(res.rc),
                    res.errmsg);
        }
    }
    printf("%-12s K=%-4ld (%s); N=1..%ld", name, k, kinds,
           k < FULL_UPTO || full ? k : (long)FULL_UPTO);
    if (k > FULL_UPTO && !full) {
        printf(", then every %dth to %ld", STRIDE, k);
    }
    printf(": %ld runs each with EIO and ENOSPC; failed cleanly %ld+%ld, "
           "succeeded anyway %ld; %.1f s\n",
           tried, failed[0], failed[1], absorbed, now() - t0);
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

    ff_install();
    if (ev_init() != EV_OK) {
        return 1;
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
