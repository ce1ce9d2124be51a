/*
 * test_pipeline.c - pipeline.c: jobs come back in submission order, each
 * worked exactly once (markers never), with every worker count and small
 * capacities, for thousands of jobs.  And awriter.c, the in-order writer
 * built on a one-worker pipe: every byte reaches the file, in order.
 */
#include "awriter.h"
#include "harness.h"
#include "os.h"
#include "pipeline.h"
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct job {
    uint64_t seq;
    int marker;
    atomic_int worked; /* times work() ran on it */
    uint64_t result;
    void *state;       /* the worker state it ran with */
};

static atomic_int states_made, states_freed;

static void *
state_new(void)
{
    uint64_t *s = malloc(sizeof *s);

    if (s != NULL) {
        *s = 0;
        atomic_fetch_add(&states_made, 1);
    }
    return s;
}

static void
state_free(void *s)
{
    if (s != NULL) {
        atomic_fetch_add(&states_freed, 1);
    }
    free(s);
}

/* Some real work whose amount varies from job to job, so that workers
 * finish out of order. */
static void
work(void *state, void *arg)
{
    struct job *j = arg;
    uint64_t x = j->seq * 0x9E3779B97F4A7C15ull + 1;
    unsigned rounds = (unsigned)(j->seq * 2654435761u % 400);

    for (unsigned i = 0; i < rounds; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    j->result = x ^ j->seq;
    j->state = state;
    (*(uint64_t *)state)++;
    atomic_fetch_add(&j->worked, 1);
}

static uint64_t
expected(uint64_t seq)
{
    uint64_t x = seq * 0x9E3779B97F4A7C15ull + 1;
    unsigned rounds = (unsigned)(seq * 2654435761u % 400);

    for (unsigned i = 0; i < rounds; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x ^ seq;
}

/* Submits n jobs (one in `marker_every` a marker, or runs of markers),
 * never more than capacity in flight, and collects them all. */
static int
run(int workers, size_t cap, size_t n, unsigned pattern)
{
    ev_pipe *p;
    struct job *jobs = calloc(n, sizeof *jobs);
    size_t submitted = 0, collected = 0;
    int errors = 0;

    atomic_store(&states_made, 0);
    atomic_store(&states_freed, 0);
    p = ev_pipe_new(workers, cap, work, state_new, state_free);
    if (p == NULL || jobs == NULL) {
        free(jobs);
        ev_pipe_free(p);
        return 1;
    }
    if (ev_pipe_capacity(p) != cap) {
        errors++;
    }
    for (size_t i = 0; i < n; i++) {
        jobs[i].seq = i;
        switch (pattern) {
        case 0: /* no markers */
            jobs[i].marker = 0;
            break;
        case 1: /* every third */
            jobs[i].marker = i % 3 == 2;
            break;
        case 2: /* runs of markers longer than the capacity */
            jobs[i].marker = (i / 11) % 2 == 1;
            break;
        default: /* pseudo-random */
            jobs[i].marker = ((i * 2654435761u) >> 7) % 4 == 0;
            break;
        }
    }
    while (collected < n) {
        /* submit as far as allowed, in bursts that vary */
        size_t burst = 1 + (collected * 7) % (cap + 1);
        while (submitted < n && ev_pipe_pending(p) < cap && burst-- > 0) {
            ev_pipe_submit(p, &jobs[submitted], !jobs[submitted].marker);
            submitted++;
        }
        if (ev_pipe_pending(p) != submitted - collected) {
            errors++;
        }
        {
            struct job *j = ev_pipe_collect(p);
            if (j != &jobs[collected]) {
                errors++;
            } else if (j->marker) {
                if (atomic_load(&j->worked) != 0) {
                    errors++;
                }
            } else if (atomic_load(&j->worked) != 1 ||
                       j->result != expected(j->seq) || j->state == NULL) {
                errors++;
            }
            collected++;
        }
    }
    if (ev_pipe_pending(p) != 0) {
        errors++;
    }
    ev_pipe_free(p);
    /* nothing ran twice or late; every worker had and freed its state */
    for (size_t i = 0; i < n; i++) {
        if (atomic_load(&jobs[i].worked) != (jobs[i].marker ? 0 : 1)) {
            errors++;
        }
    }
    if (atomic_load(&states_made) != atomic_load(&states_freed) ||
        atomic_load(&states_made) < 1 || atomic_load(&states_made) > workers) {
        errors++;
    }
    free(jobs);
    if (errors != 0) {
        fprintf(stderr, "pipe(workers %d, capacity %zu, pattern %u): %d "
                        "errors\n",
                workers, cap, pattern, errors);
    }
    return errors;
}

/* Only markers: nothing is ever worked and collect still returns them. */
static void
test_only_markers(void)
{
    ev_pipe *p = ev_pipe_new(2, 4, work, state_new, state_free);
    struct job jobs[100];
    int errors = 0;

    memset(jobs, 0, sizeof jobs);
    for (size_t i = 0; i < 100; i++) {
        if (ev_pipe_pending(p) == 4) {
            struct job *j = ev_pipe_collect(p);
            errors += j != &jobs[i - 4];
        }
        ev_pipe_submit(p, &jobs[i], 0);
    }
    for (size_t i = 96; i < 100; i++) {
        errors += ev_pipe_collect(p) != &jobs[i];
    }
    for (size_t i = 0; i < 100; i++) {
        errors += atomic_load(&jobs[i].worked) != 0;
    }
    /* a real job after all those markers is still worked */
    jobs[0].seq = 42;
    ev_pipe_submit(p, &jobs[0], 1);
    errors += ev_pipe_collect(p) != &jobs[0];
    errors += atomic_load(&jobs[0].worked) != 1;
    errors += jobs[0].result != expected(42);
    ev_pipe_free(p);
    CHECK_EQ(errors, 0);
}

/* A pipe freed with nothing submitted, or right after use, stops cleanly. */
static void
test_lifecycle(void)
{
    for (int w = 1; w <= 4; w++) {
        ev_pipe *p = ev_pipe_new(w, 3, work, NULL, NULL);
        CHECK(p != NULL);
        ev_pipe_free(p);
    }
    ev_pipe_free(NULL);
    CHECK(ev_pipe_default_workers() >= 1 && ev_pipe_default_workers() <= 4);
}

/* ------------------------------------------------------------------ */
/* The asynchronous writer                                             */
/* ------------------------------------------------------------------ */

/* A write that stores nothing but hashes what it is given, in order (the
 * writer has one thread, so calls do not overlap). */
static const uint8_t *aw_expect; /* what the file must hold */
static uint64_t aw_bytes;
static int aw_mismatch;
static atomic_int aw_calls, aw_fail_at, aw_fail_errno;

static ssize_t
hashing_write(int fd, const void *buf, size_t n)
{
    int call = atomic_fetch_add(&aw_calls, 1) + 1;

    (void)fd;
    if (call == atomic_load(&aw_fail_at)) {
        errno = atomic_load(&aw_fail_errno);
        return -1;
    }
    /* short writes now and then: the writer must carry on */
    if (n > 3000 && call % 3 == 0) {
        n = 3000;
    }
    if (aw_expect != NULL && memcmp(buf, aw_expect + aw_bytes, n) != 0) {
        aw_mismatch = 1;
    }
    aw_bytes += n;
    return (ssize_t)n;
}

/* Writes total bytes through a new writer in pieces of `piece` bytes;
 * 1 when every byte arrived in order. */
static int
aw_roundtrip(const uint8_t *data, size_t total, size_t piece)
{
    ev_awriter *w;
    size_t off = 0;
    int err = 0;

    aw_expect = data;
    aw_mismatch = 0;
    aw_bytes = 0;
    atomic_store(&aw_calls, 0);
    atomic_store(&aw_fail_at, 0);
    ev_os = ev_os_default;
    ev_os.write = hashing_write;
    w = ev_awriter_new(1, 0);
    if (w == NULL) {
        ev_os = ev_os_default;
        return 0;
    }
    while (off < total && err == 0) {
        size_t n = total - off < piece ? total - off : piece;
        err = ev_awriter_write(w, data + off, n);
        off += n;
    }
    if (err == 0) {
        err = ev_awriter_finish(w);
    }
    ev_awriter_free(w);
    ev_os = ev_os_default;
    if (err != 0 || aw_bytes != total || aw_mismatch) {
        fprintf(stderr,
                "awriter: %zu bytes in pieces of %zu: %llu written, "
                "error %d%s\n",
                total, piece, (unsigned long long)aw_bytes, err,
                aw_mismatch ? ", bytes out of order" : "");
        return 0;
    }
    return 1;
}

static void
test_awriter(void)
{
    size_t max = 3 * EV_AW_BUF_BYTES + 12345;
    uint8_t *data = malloc(max);
    static const size_t sizes[] = {0,
                                   1,
                                   4095,
                                   EV_AW_BUF_BYTES - 1,
                                   EV_AW_BUF_BYTES,
                                   EV_AW_BUF_BYTES + 1,
                                   2 * EV_AW_BUF_BYTES,
                                   2 * EV_AW_BUF_BYTES + 1,
                                   3 * EV_AW_BUF_BYTES,
                                   3 * EV_AW_BUF_BYTES + 12345};
    static const size_t pieces[] = {1048592, 65536 + 7, EV_AW_BUF_BYTES,
                                    3 * EV_AW_BUF_BYTES};
    int bad = 0;

    t_fill_random(data, max, 2024);
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        for (size_t p = 0; p < sizeof pieces / sizeof *pieces; p++) {
            bad += !aw_roundtrip(data, sizes[i], pieces[p]);
        }
    }
    CHECK_EQ(bad, 0);
    /* Two full buffers and a partial one (a blob or an export of 8 to 12
     * MiB), many times over: the buffers still queued when
     * ev_awriter_finish() submits the last one must all be written.  (A
     * race: one run does not show it every time, a hundred do.) */
    bad = 0;
    for (int i = 0; i < 100; i++) {
        bad += !aw_roundtrip(data, 2 * EV_AW_BUF_BYTES + 1310720, 1048592);
    }
    if (bad != 0) {
        fprintf(stderr, "awriter lost bytes in %d of 100 runs of 9.25 MiB\n",
                bad);
    }
    CHECK_EQ(bad, 0);
    /* An error sticks: returned by this and every later call. */
    {
        ev_awriter *w;
        int e1, e2, e3;
        aw_expect = NULL;
        aw_bytes = 0;
        atomic_store(&aw_calls, 0);
        atomic_store(&aw_fail_at, 2);
        atomic_store(&aw_fail_errno, ENOSPC);
        ev_os = ev_os_default;
        ev_os.write = hashing_write;
        w = ev_awriter_new(1, 0);
        CHECK(w != NULL);
        e1 = 0;
        for (int k = 0; k < 6 && e1 == 0; k++) {
            e1 = ev_awriter_write(w, data, EV_AW_BUF_BYTES);
        }
        e2 = ev_awriter_write(w, data, 10);
        e3 = ev_awriter_finish(w);
        ev_awriter_free(w);
        ev_os = ev_os_default;
        CHECK_EQ(e1, ENOSPC);
        CHECK_EQ(e2, ENOSPC);
        CHECK_EQ(e3, ENOSPC);
        /* failing at the last write shows at finish */
        aw_bytes = 0;
        atomic_store(&aw_calls, 0);
        atomic_store(&aw_fail_at, 1);
        atomic_store(&aw_fail_errno, EIO);
        ev_os.write = hashing_write;
        w = ev_awriter_new(1, 0);
        CHECK(w != NULL);
        CHECK_EQ(ev_awriter_write(w, data, 100), 0);
        CHECK_EQ(ev_awriter_finish(w), EIO);
        ev_awriter_free(w);
        ev_os = ev_os_default;
    }
    ev_awriter_free(NULL);
    free(data);
}

/* Through a real file, opened with O_DIRECT where the file system allows
 * (an unaligned tail turns it off). */
static void
test_awriter_file(void)
{
    char *dir = t_mkdtemp();
    char path[PATH_MAX];
    size_t n = 2 * EV_AW_BUF_BYTES + 777, got_n = 0;
    uint8_t *data = malloc(n), *got;
    int fd, direct, bad = 0;

    t_fill_random(data, n, 77);
    t_path(path, sizeof path, dir, "aw.out");
    for (int rep = 0; rep < 4; rep++) {
        ev_awriter *w;
        int err;
        unlink(path);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_DIRECT, 0600);
        direct = fd >= 0;
        if (fd < 0) {
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        }
        w = ev_awriter_new(fd, direct);
        err = ev_awriter_write(w, data, 5000);
        if (err == 0) {
            err = ev_awriter_write(w, data + 5000, n - 5000);
        }
        if (err == 0) {
            err = ev_awriter_finish(w);
        }
        ev_awriter_free(w);
        close(fd);
        got = t_read_file(path, &got_n);
        bad += err != 0 || got == NULL || got_n != n ||
               memcmp(got, data, n) != 0;
        free(got);
    }
    CHECK_EQ(bad, 0);
    free(data);
    t_rmtree(dir);
}

int
main(void)
{
    for (int workers = 1; workers <= 4; workers++) {
        for (size_t cap = 1; cap <= 8; cap++) {
            for (unsigned pattern = 0; pattern < 4; pattern++) {
                CHECK_EQ(run(workers, cap, 3000, pattern), 0);
            }
        }
    }
    /* a long run at the capacities record.c uses */
    CHECK_EQ(run(4, 12, 50000, 3), 0);
    CHECK_EQ(run(2, 8, 50000, 1), 0);
    test_only_markers();
    test_lifecycle();
    test_awriter();
    test_awriter_file();
    EV_TEST_END();
}
