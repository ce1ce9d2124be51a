/*
 * test_early.c - adding files while the passphrase is still being checked.
 *
 * ev_vault_unlock_passphrase_begin starts Argon2id on a thread of its own
 * and ev_record_add_paths reads, hashes and seals files meanwhile
 * (record.c).  A test hook holds the derivation back until the files a
 * test names are finished (ev_test_early_records counts them), so that
 * they certainly went early, and kills the process in the middle of that
 * work.
 *
 * Checked: every record comes out in the order given, reads back and
 * passes check, a duplicate found late reuses the earlier blob, a large
 * file waits in its blob file; a wrong passphrase adds nothing and leaves
 * vault.pack and tmp/ as they were; a kill at any point of the early work
 * leaves a vault that passes check and takes the next add; nothing but
 * an add can be done before the unlock is waited for.
 */
#include "harness.h"
#include "internal.h"
#include "keyslot.h"
#include "os.h"
#include "testutil.h"
#include "testdb.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *root;
static unsigned long hold_for;   /* files the hook waits to see finished */
static unsigned long hold_base;  /* ev_test_early_records before them */
static int kill_ms = -1;         /* >= 0: the hook kills the process then */

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void
hold(void)
{
    if (kill_ms >= 0) {
        sleep_ms(kill_ms);
        raise(SIGKILL);
    }
    /* at most 20 s: a test that expects too many files fails, not hangs */
    for (int i = 0; i < 20000 &&
                    __atomic_load_n(&ev_test_early_records, __ATOMIC_RELAXED) -
                            hold_base <
                        hold_for;
         i++) {
        sleep_ms(1);
    }
}

/* The next unlock waits until n more files are finished early. */
static void
expect_early(unsigned long n)
{
    hold_base = __atomic_load_n(&ev_test_early_records, __ATOMIC_RELAXED);
    hold_for = n;
}

/* Opens dir and begins unlocking it with pass; NULL on failure. */
static ev_vault *
open_begin(const char *dir, const char *pass)
{
    ev_vault *v = NULL;

    if (ev_vault_new(&v) != EV_OK || ev_vault_open(v, dir) != EV_OK ||
        ev_vault_unlock_passphrase_begin(v, pass, strlen(pass)) != EV_OK) {
        ev_vault_free(v);
        return NULL;
    }
    return v;
}

static long
pack_size(const char *dir)
{
    char path[PATH_MAX];
    struct stat st;

    t_path(path, sizeof path, dir, "vault.pack");
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* meta 'pack_end', -1 when absent. */
static long
pack_end(const char *dir)
{
    sqlite3 *db = t_db_open(dir);
    sqlite3_stmt *st = NULL;
    long end = -1;

    if (db != NULL &&
        sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'pack_end'",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 8) {
        const uint8_t *p = sqlite3_column_blob(st, 0);
        end = 0;
        for (int i = 7; i >= 0; i--) {
            end = end << 8 | p[i];
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return end;
}

/* Files left in DIR/tmp. */
static int
tmp_files(const char *dir)
{
    char path[PATH_MAX];
    DIR *d;
    struct dirent *e;
    int n = 0;

    t_path(path, sizeof path, dir, "tmp");
    if ((d = opendir(path)) == NULL) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        n += e->d_name[0] != '.';
    }
    closedir(d);
    return n;
}

/* Where a record's blob starts in vault.pack (-1: not there). */
static int64_t
pack_off(const char *dir, int64_t id)
{
    return t_db_int(dir,
                    "SELECT b.data FROM records r JOIN blobs b ON b.id = r.blob"
                    " WHERE r.id = ?1 AND typeof(b.data) = 'integer'",
                    id);
}

static int64_t
record_count(const char *dir)
{
    return t_db_int(dir, "SELECT count(*) FROM records", 0);
}

struct probs {
    int bad;
};

static void
on_problem(void *ctx, const ev_problem *p)
{
    if (p->code != EV_OK) {
        ((struct probs *)ctx)->bad++;
        fprintf(stderr, "  problem: record %lld: %s\n", (long long)p->record,
                p->what);
    }
}

static int
check_clean(ev_vault *v)
{
    struct probs ps = {0};
    int rc = ev_check(v, EV_CHECK_READ_DATA, on_problem, &ps, NULL);

    return rc == EV_OK && ps.bad == 0 ? 0 : -1;
}

static int
count_record(void *ctx, const ev_record *r)
{
    (void)r;
    ++*(int *)ctx;
    return 0;
}

/* The inputs: three small files, one of two chunks, and a copy of the
 * first one added before (a duplicate only the keys can tell). */
#define NFILES 5
static const size_t sizes[NFILES] = {3000, 2 * 1024 * 1024 + 5, 50000, 1,
                                     3000};
static uint8_t *data[NFILES];
static char paths[NFILES][PATH_MAX];

static void
make_inputs(void)
{
    for (int i = 0; i < NFILES; i++) {
        char name[32];
        data[i] = malloc(sizes[i]);
        if (i == 2) {
            t_fill_text(data[i], sizes[i], 40 + (uint64_t)i);
        } else {
            t_fill_random(data[i], sizes[i], 40 + (uint64_t)i);
        }
        snprintf(name, sizeof name, "in-%d.bin", i);
        t_path(paths[i], sizeof paths[i], root, name);
    }
    memcpy(data[4], data[0], sizes[0]); /* the duplicate */
    for (int i = 0; i < NFILES; i++) {
        CHECK_EQ(t_write_file(paths[i], data[i], sizes[i]), 0);
    }
}

static void
test_early_add(void)
{
    char dir[PATH_MAX];
    const char *first[1] = {paths[0]};
    const char *rest[NFILES - 1];
    struct t_recs before, rs;
    unsigned long early0;
    ev_vault *v;

    t_path(dir, sizeof dir, root, "v-early");
    v = t_vault_create(dir, NULL);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    memset(&before, 0, sizeof before);
    CHECK_EQ(ev_record_add_paths(v, first, 1, NULL, t_collect, &before),
             EV_OK);
    ev_vault_free(v);

    for (int i = 1; i < NFILES; i++) {
        rest[i - 1] = paths[i];
    }
    expect_early(NFILES - 1);
    v = open_begin(dir, T_PASS);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    early0 = ev_test_early_records;
    memset(&rs, 0, sizeof rs);
    CHECK_EQ(ev_record_add_paths(v, rest, NFILES - 1, NULL, t_collect, &rs),
             EV_OK);
    /* every file was finished while the derivation was held back */
    CHECK_EQ(ev_test_early_records - early0, (unsigned long)(NFILES - 1));
    CHECK_EQ(rs.n, (size_t)(NFILES - 1));
    for (size_t i = 0; i < rs.n; i++) {
        CHECK_EQ(rs.v[i].id, before.v[0].id + 1 + (int64_t)i); /* in order */
        CHECK_EQ(rs.v[i].size, (uint64_t)sizes[i + 1]);
        CHECK(t_reads_back(root, v, rs.v[i].id, data[i + 1], sizes[i + 1]));
    }
    /* the duplicate was found once the keys came */
    CHECK_EQ(rs.v[3].same_as, before.v[0].id);
    CHECK_EQ(rs.v[0].same_as, 0);
    CHECK_EQ(check_clean(v), 0);
    /* its early blob was last in vault.pack: cut off with the lock */
    CHECK_EQ(pack_size(dir), pack_end(dir));
    CHECK_EQ(tmp_files(dir), 0);
    ev_vault_free(v);

    /* and the vault opens as any other */
    v = t_vault_reopen(dir);
    CHECK(v != NULL);
    if (v != NULL) {
        CHECK_EQ(check_clean(v), 0);
        CHECK(t_reads_back(root, v, rs.v[1].id, data[2], sizes[2]));
        ev_vault_free(v);
    }
}

/* A duplicate before a new file: its early bytes stay below the end, no
 * row names them, and nothing is damaged. */
static void
test_early_duplicate_first(void)
{
    char dir[PATH_MAX];
    const char *one[1] = {paths[2]};
    const char *two[2] = {paths[2], paths[3]};
    struct t_recs a, b;
    long end0;
    ev_vault *v;

    t_path(dir, sizeof dir, root, "v-dup");
    v = t_vault_create(dir, NULL);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    memset(&a, 0, sizeof a);
    CHECK_EQ(ev_record_add_paths(v, one, 1, NULL, t_collect, &a), EV_OK);
    ev_vault_free(v);
    end0 = pack_end(dir);

    expect_early(2);
    v = open_begin(dir, T_PASS);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    memset(&b, 0, sizeof b);
    CHECK_EQ(ev_record_add_paths(v, two, 2, NULL, t_collect, &b), EV_OK);
    CHECK_EQ(b.n, (size_t)2);
    CHECK_EQ(b.v[0].same_as, a.v[0].id);
    CHECK(t_reads_back(root, v, b.v[0].id, data[2], sizes[2]));
    CHECK(t_reads_back(root, v, b.v[1].id, data[3], sizes[3]));
    /* the new file's blob took the place of the duplicate's early one:
     * no copy of the duplicate stays */
    CHECK_EQ(pack_off(dir, b.v[1].id), end0);
    CHECK(pack_end(dir) > end0);
    CHECK_EQ(pack_size(dir), pack_end(dir));
    CHECK_EQ(check_clean(v), 0);
    ev_vault_free(v);
}

static int (*real_fsync)(int fd);
static int fsync_fail;

static int
failing_fsync(int fd)
{
    if (fsync_fail > 0 && --fsync_fail == 0) {
        errno = EIO;
        return -1;
    }
    return real_fsync(fd);
}

/* A folder added again with one new file: every early blob but the new
 * one is a duplicate, and vault.pack grows by the new blob alone.  Two
 * identical new files in one add share one blob; a hash-only add and a
 * descriptor go early too. */
static void
test_early_readd(void)
{
    char dir[PATH_MAX];
    const char *first[3] = {paths[0], paths[2], paths[3]};
    const char *again[4] = {paths[0], paths[2], paths[3], paths[1]};
    const char *twins[2] = {paths[0], paths[4]}; /* the same bytes */
    struct t_recs a, b;
    ev_add_opts ho;
    long end0;
    ev_vault *v;

    t_path(dir, sizeof dir, root, "v-readd");
    v = t_vault_create(dir, NULL);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    memset(&a, 0, sizeof a);
    CHECK_EQ(ev_record_add_paths(v, first, 3, NULL, t_collect, &a), EV_OK);
    ev_vault_free(v);
    end0 = pack_end(dir);
    CHECK_EQ(pack_size(dir), end0);

    /* the three again, then a new file of two chunks (a blob file) */
    expect_early(4);
    v = open_begin(dir, T_PASS);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    memset(&b, 0, sizeof b);
    CHECK_EQ(ev_record_add_paths(v, again, 4, NULL, t_collect, &b), EV_OK);
    CHECK_EQ(b.n, (size_t)4);
    for (size_t i = 0; i < 3 && b.n == 4; i++) {
        CHECK_EQ(b.v[i].same_as, a.v[i].id);
    }
    CHECK_EQ(pack_size(dir), end0); /* no copy of any of them */
    CHECK_EQ(pack_end(dir), end0);
    CHECK(b.n == 4 && t_reads_back(root, v, b.v[3].id, data[1], sizes[1]));
    ev_vault_free(v);

    /* two identical files, new to the vault, both early */
    t_path(dir, sizeof dir, root, "v-twins");
    v = t_vault_create(dir, NULL);
    ev_vault_free(v);
    expect_early(2);
    v = open_begin(dir, T_PASS);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    memset(&b, 0, sizeof b);
    CHECK_EQ(ev_record_add_paths(v, twins, 2, NULL, t_collect, &b), EV_OK);
    CHECK(b.n == 2 && b.v[1].same_as == b.v[0].id);
    CHECK_EQ(t_db_int(dir, "SELECT count(*) FROM blobs", 0), 1);
    CHECK_EQ(pack_size(dir), pack_end(dir));
    CHECK(b.n == 2 && t_reads_back(root, v, b.v[1].id, data[4], sizes[4]));
    ev_vault_free(v);

    /* hash only: a record without a blob */
    memset(&ho, 0, sizeof ho);
    ho.hash_only = 1;
    expect_early(1);
    v = open_begin(dir, T_PASS);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    end0 = pack_end(dir);
    memset(&b, 0, sizeof b);
    {
        const char *one[1] = {paths[2]};
        CHECK_EQ(ev_record_add_paths(v, one, 1, &ho, t_collect, &b), EV_OK);
    }
    CHECK(b.n == 1 && b.v[0].hash_only && b.v[0].size == sizes[2]);
    CHECK_EQ(pack_size(dir), end0);
    ev_vault_free(v);

    /* from a descriptor */
    expect_early(1);
    v = open_begin(dir, T_PASS);
    CHECK(v != NULL);
    if (v != NULL) {
        ev_add_opts fo;
        int fd = open(paths[3], O_RDONLY);
        memset(&fo, 0, sizeof fo);
        fo.name = "from-fd";
        memset(&b, 0, sizeof b);
        CHECK(fd >= 0);
        CHECK_EQ(ev_record_add_fd(v, fd, &fo, t_collect, &b), EV_OK);
        close(fd);
        CHECK(b.n == 1 && t_reads_back(root, v, b.v[0].id, data[3], sizes[3]));
        CHECK_EQ(check_clean(v), 0);
        ev_vault_free(v);
    }
}

/* vault.pack's fsync fails at the commit after the keys came: nothing is
 * added, and the bytes put early are cut off before the lock goes. */
static void
test_early_sync_fails(void)
{
    char dir[PATH_MAX];
    const char *three[3] = {paths[0], paths[2], paths[3]};
    long end0;
    ev_vault *v;

    t_path(dir, sizeof dir, root, "v-fsync");
    v = t_vault_create(dir, NULL);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    {
        const char *one[1] = {paths[3]};
        CHECK_EQ(ev_record_add_paths(v, one, 1, NULL, NULL, NULL), EV_OK);
    }
    ev_vault_free(v);
    end0 = pack_end(dir);
    expect_early(3);
    v = open_begin(dir, T_PASS);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    real_fsync = ev_os.fsync;
    ev_os.fsync = failing_fsync;
    fsync_fail = 1; /* the first: vault.pack's, at the commit */
    CHECK(ev_record_add_paths(v, three, 3, NULL, NULL, NULL) != EV_OK);
    ev_os.fsync = real_fsync;
    CHECK_EQ(fsync_fail, 0);
    ev_vault_free(v);
    CHECK_EQ(record_count(dir), 1);
    CHECK_EQ(pack_end(dir), end0);
    CHECK_EQ(pack_size(dir), end0);
    v = t_vault_reopen(dir);
    CHECK(v != NULL);
    if (v != NULL) {
        CHECK_EQ(check_clean(v), 0);
        CHECK_EQ(ev_record_add_paths(v, three, 3, NULL, NULL, NULL), EV_OK);
        CHECK_EQ(check_clean(v), 0);
        ev_vault_free(v);
    }
}

/* A wrong passphrase: nothing is added, vault.pack is cut back to its
 * committed end, and no temporary blob file stays. */
static void
test_early_wrong_passphrase(void)
{
    char dir[PATH_MAX];
    const char *all[NFILES];
    unsigned long early0;
    long size0, end0;
    ev_vault *v;

    t_path(dir, sizeof dir, root, "v-wrong");
    v = t_vault_create(dir, NULL);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    {
        const char *first[1] = {paths[0]};
        CHECK_EQ(ev_record_add_paths(v, first, 1, NULL, NULL, NULL), EV_OK);
    }
    ev_vault_free(v);
    size0 = pack_size(dir);
    end0 = pack_end(dir);
    CHECK(size0 > 0);

    for (int i = 0; i < NFILES; i++) {
        all[i] = paths[i];
    }
    expect_early(NFILES);
    v = open_begin(dir, "not the passphrase");
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    early0 = ev_test_early_records;
    CHECK_EQ(ev_record_add_paths(v, all, NFILES, NULL, NULL, NULL), EV_EKEY);
    CHECK(strstr(ev_vault_errmsg(v), "passphrase") != NULL);
    CHECK(ev_test_early_records - early0 > 0); /* the early work ran */
    ev_vault_free(v);
    CHECK_EQ(record_count(dir), 1);
    CHECK_EQ(pack_size(dir), size0);
    CHECK_EQ(pack_end(dir), end0);
    CHECK_EQ(tmp_files(dir), 0);

    v = t_vault_reopen(dir);
    CHECK(v != NULL);
    if (v != NULL) {
        CHECK_EQ(check_clean(v), 0);
        ev_vault_free(v);
    }
}

/* A file larger than the early work takes (4 MiB) waits for the keys at
 * its second chunk, and every file after it is added as before. */
static void
test_early_large_waits(void)
{
    char dir[PATH_MAX], big[PATH_MAX];
    size_t nbig = 5 * 1024 * 1024 + 7;
    uint8_t *pbig = malloc(nbig);
    const char *three[3] = {paths[0], big, paths[2]};
    unsigned long early0;
    struct t_recs rs;
    ev_vault *v;

    CHECK(pbig != NULL);
    if (pbig == NULL) {
        return;
    }
    t_fill_random(pbig, nbig, 77);
    t_path(big, sizeof big, root, "big.bin");
    CHECK_EQ(t_write_file(big, pbig, nbig), 0);
    t_path(dir, sizeof dir, root, "v-large");
    v = t_vault_create(dir, NULL);
    CHECK(v != NULL);
    ev_vault_free(v);
    expect_early(1);
    v = open_begin(dir, T_PASS);
    CHECK(v != NULL);
    if (v != NULL) {
        early0 = ev_test_early_records;
        memset(&rs, 0, sizeof rs);
        CHECK_EQ(ev_record_add_paths(v, three, 3, NULL, t_collect, &rs),
                 EV_OK);
        CHECK_EQ(ev_test_early_records - early0, 1UL); /* only the first */
        CHECK_EQ(rs.n, (size_t)3);
        if (rs.n == 3) {
            CHECK(t_reads_back(root, v, rs.v[0].id, data[0], sizes[0]));
            CHECK(t_reads_back(root, v, rs.v[1].id, pbig, nbig));
            CHECK(t_reads_back(root, v, rs.v[2].id, data[2], sizes[2]));
        }
        CHECK(rs.n == 3 && rs.v[1].id == rs.v[0].id + 1 &&
              rs.v[2].id == rs.v[1].id + 1);
        CHECK_EQ(check_clean(v), 0);
        CHECK_EQ(tmp_files(dir), 0);
        ev_vault_free(v);
    }
    free(pbig);
}

/* Before the wait, the keys are not there for anything but an add. */
static void
test_wait_first(void)
{
    char dir[PATH_MAX];
    int n = 0;
    ev_vault *v;

    expect_early(0);
    t_path(dir, sizeof dir, root, "v-wait");
    v = t_vault_create(dir, NULL);
    CHECK(v != NULL);
    ev_vault_free(v);
    v = open_begin(dir, T_PASS);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    CHECK_EQ(ev_record_list(v, NULL, count_record, &n), EV_ELOCKED);
    CHECK_EQ(ev_vault_unlock_passphrase_begin(v, T_PASS, strlen(T_PASS)),
             EV_EINVAL);
    CHECK_EQ(ev_vault_unlock_wait(v), EV_OK);
    CHECK_EQ(ev_vault_unlock_wait(v), EV_OK); /* nothing pending: EV_OK */
    CHECK_EQ(ev_record_list(v, NULL, count_record, &n), EV_OK);
    ev_vault_free(v);

    /* a wrong passphrase comes out of the wait */
    v = open_begin(dir, "wrong");
    CHECK(v != NULL);
    if (v != NULL) {
        CHECK_EQ(ev_vault_unlock_wait(v), EV_EKEY);
        ev_vault_free(v);
    }
    /* freeing a handle whose unlock was never waited for */
    v = open_begin(dir, T_PASS);
    CHECK(v != NULL);
    ev_vault_free(v);
}

/* Killed at moments in the middle of the early work (the derivation
 * held back, the files being read, sealed and put in vault.pack and
 * tmp/): the vault passes check with every earlier record, and the next
 * add works and cuts what the killed one left. */
static void
test_early_killed(void)
{
    static const int at_ms[] = {0, 1, 2, 5, 10, 20, 40};
    char dir[PATH_MAX];
    const char *all[NFILES];
    const char *first[1] = {paths[0]};
    ev_vault *v;

    for (int i = 0; i < NFILES; i++) {
        all[i] = paths[i];
    }
    t_path(dir, sizeof dir, root, "v-kill");
    v = t_vault_create(dir, NULL);
    CHECK(v != NULL);
    if (v == NULL) {
        return;
    }
    CHECK_EQ(ev_record_add_paths(v, first, 1, NULL, NULL, NULL), EV_OK);
    ev_vault_free(v);
    for (size_t r = 0; r < sizeof at_ms / sizeof *at_ms; r++) {
        int64_t n0 = record_count(dir);
        int status = 0;
        pid_t pid = fork();
        if (pid == 0) {
            kill_ms = at_ms[r];
            v = open_begin(dir, T_PASS);
            if (v != NULL) {
                ev_record_add_paths(v, all, NFILES, NULL, NULL, NULL);
            }
            _exit(3); /* the kill must come first */
        }
        CHECK(pid > 0);
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        CHECK_EQ(record_count(dir), n0); /* nothing was committed */
        CHECK(pack_size(dir) >= pack_end(dir));
        v = t_vault_reopen(dir);
        CHECK(v != NULL);
        if (v == NULL) {
            return;
        }
        CHECK_EQ(check_clean(v), 0);
        CHECK(t_reads_back(root, v, 1, data[0], sizes[0]));
        ev_vault_free(v);
    }
    /* the next add, early too, takes the vault as the kills left it */
    kill_ms = -1;
    expect_early(NFILES);
    v = open_begin(dir, T_PASS);
    CHECK(v != NULL);
    if (v != NULL) {
        struct t_recs rs;
        memset(&rs, 0, sizeof rs);
        CHECK_EQ(ev_record_add_paths(v, all, NFILES, NULL, t_collect, &rs),
                 EV_OK);
        CHECK_EQ(rs.n, (size_t)NFILES);
        for (size_t i = 0; i < rs.n && i < NFILES; i++) {
            CHECK(t_reads_back(root, v, rs.v[i].id, data[i], sizes[i]));
        }
        CHECK_EQ(check_clean(v), 0);
        CHECK_EQ(pack_size(dir), pack_end(dir));
        CHECK_EQ(tmp_files(dir), 0);
        ev_vault_free(v);
    }
}

int
main(void)
{
    if (ev_init() != EV_OK) {
        return 1;
    }
    root = t_mkdtemp();
    ev_kdf_test_hook = hold;
    make_inputs();
    test_early_add();
    test_early_duplicate_first();
    test_early_wrong_passphrase();
    test_early_large_waits();
    test_early_readd();
    test_early_sync_fails();
    test_wait_first();
    test_early_killed();
    for (int i = 0; i < NFILES; i++) {
        free(data[i]);
    }
    t_rmtree(root);
    EV_TEST_END();
}
