/*
 * faultops.c - the operations of the fault tests and the checks after each
 * broken run (see faultops.h).
 *
 * Owns: the fixture vault, its partner and bundle, the operations' inputs,
 * and the list of every content ever added, by name.
 * Never: injects a fault itself; the caller's hooks do, around the
 * operation only.
 */
#include "faultops.h"

#include "testutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <jansson.h>
#include <sodium.h>
#include <sys/stat.h>

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define T_PASS2 "a new passphrase for the fault tests"
/* Argon2id at its floor (8 KiB, one pass): thousands of runs unlock */
#define CHEAP_OPS 1
#define CHEAP_KIB 8

/* Unlocked with */
enum { CRED_NONE, CRED_PASS, CRED_PASS2, CRED_RECOVERY };

static char root[PATH_MAX];
static char fixture[PATH_MAX]; /* the pristine vault */
static char bundle[PATH_MAX];  /* the partner's bundle for it */
static char in_small[PATH_MAX], in_big[PATH_MAX];
static char partner[PATH_MAX]; /* the partner's vault, pristine */
static char recovery[EV_RECOVERY_KEY_CHARS + 1];
static ev_identity_info fixture_id;
/* The fixture's records, by what the operations do with them:
 *   draft.mov (blob file), photo.jpg (inline)   unsealed: destroyed
 *   empty.txt, kept-elsewhere.img (hash only)   unsealed: sealed
 *   note.txt (inline, amended), video.mp4 (blob file)   sealed: shared */
static int64_t to_seal[2], to_share[2], draft_id, photo_id, note_id;
static size_t nfixture;    /* records in the fixture */
static int64_t destroying; /* the record the operation may destroy */

/* the run in progress */
static char run_dir[PATH_MAX], run_vault[PATH_MAX], run_out[PATH_MAX],
    share_path[PATH_MAX];
static struct t_recs reported;
static int retried; /* the operation ran a second time, faults off */

/* ------------------------------------------------------------------ */
/* Contents                                                            */
/* ------------------------------------------------------------------ */

struct content {
    char name[64];
    uint8_t sha[32];
    uint8_t *data; /* NULL: a hash-only record */
    size_t n;
};
static struct content known[32];
static size_t nknown;

static void
know(const char *name, const uint8_t *data, size_t n, int hash_only)
{
    struct content *c = &known[nknown++];

    snprintf(c->name, sizeof c->name, "%s", name);
    crypto_hash_sha256(c->sha, data, n);
    c->n = n;
    if (!hash_only) {
        c->data = malloc(n + 1);
        memcpy(c->data, data, n);
    }
}

static int
make_file(const char *dir, const char *name, size_t n, uint64_t seed, int text)
{
    char path[PATH_MAX];
    uint8_t *data = malloc(n + 1);
    int rc;

    if (text) {
        t_fill_text(data, n, seed);
    } else {
        t_fill_random(data, n, seed);
    }
    t_path(path, sizeof path, dir, name);
    rc = t_write_file(path, data, n);
    know(name, data, n, 0);
    free(data);
    return rc;
}

static const struct content *
find_content(const char *name, const uint8_t sha[32])
{
    for (size_t i = 0; i < nknown; i++) {
        if (strcmp(known[i].name, name) == 0 &&
            memcmp(known[i].sha, sha, 32) == 0) {
            return &known[i];
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Directories                                                         */
/* ------------------------------------------------------------------ */

static int
copy_file(const char *from, const char *to, mode_t mode)
{
    char buf[64 * 1024];
    int in = open(from, O_RDONLY), out;
    ssize_t r;
    int rc = 0;

    if (in < 0) {
        return -1;
    }
    out = open(to, O_WRONLY | O_CREAT | O_EXCL, mode & 0777);
    if (out < 0) {
        close(in);
        return -1;
    }
    while ((r = read(in, buf, sizeof buf)) > 0) {
        if (write(out, buf, (size_t)r) != r) {
            rc = -1;
            break;
        }
    }
    if (r < 0) {
        rc = -1;
    }
    close(in);
    close(out);
    return rc;
}

/* Copies a vault's directory; files under blobs/ (links set) are
 * hard-linked. */
static int
copy_tree(const char *from, const char *to, int links)
{
    DIR *d = opendir(from);
    struct dirent *e;
    int rc = 0;

    if (d == NULL || mkdir(to, 0700) != 0) {
        if (d != NULL) {
            closedir(d);
        }
        return -1;
    }
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char a[PATH_MAX], b[PATH_MAX];
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        t_path(a, sizeof a, from, e->d_name);
        t_path(b, sizeof b, to, e->d_name);
        if (lstat(a, &st) != 0) {
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            rc = copy_tree(a, b, links || strcmp(e->d_name, "blobs") == 0);
        } else if (links) {
            /* blob files never change in place (they are written under a
             * temporary name and renamed): the copy may share them */
            rc = link(a, b);
        } else {
            rc = copy_file(a, b, st.st_mode);
        }
    }
    closedir(d);
    return rc;
}

/* Names in dir (NULL: none), space-separated into out; the count. */
static int
list_dir(const char *dir, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    out[0] = '\0';
    if (d == NULL) {
        return 0;
    }
    while ((e = readdir(d)) != NULL) {
        size_t o = strlen(out);
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        snprintf(out + o, cap - o, "%s%s", n > 0 ? " " : "", e->d_name);
        n++;
    }
    closedir(d);
    return n;
}

/* ------------------------------------------------------------------ */
/* Opening in whatever state the vault is                              */
/* ------------------------------------------------------------------ */

static ev_vault *
open_any(const char *dir, int *cred, char *why, size_t why_len)
{
    ev_vault *v = NULL;
    int rc;

    *cred = CRED_NONE;
    if (ev_vault_new(&v) != EV_OK) {
        snprintf(why, why_len, "no handle");
        ev_vault_free(v);
        return NULL;
    }
    rc = ev_vault_open(v, dir);
    if (rc != EV_OK) {
        snprintf(why, why_len, "open: %s: %s", ev_strerror(rc),
                 ev_vault_errmsg(v));
        ev_vault_free(v);
        return NULL;
    }
    rc = ev_vault_unlock_passphrase(v, T_PASS, strlen(T_PASS));
    *cred = CRED_PASS;
    if (rc == EV_EKEY) {
        rc = ev_vault_unlock_passphrase(v, T_PASS2, strlen(T_PASS2));
        *cred = CRED_PASS2;
    }
    if (rc == EV_EKEY) {
        rc = ev_vault_unlock_recovery(v, recovery);
        *cred = CRED_RECOVERY;
    }
    if (rc != EV_OK) {
        snprintf(why, why_len,
                 "unlock (passphrase, new passphrase, "
                 "recovery key): %s: %s",
                 ev_strerror(rc), ev_vault_errmsg(v));
        *cred = CRED_NONE;
        ev_vault_free(v);
        return NULL;
    }
    return v;
}

/* ------------------------------------------------------------------ */
/* What the vault holds                                                */
/* ------------------------------------------------------------------ */

struct seen {
    struct t_recs r;
    int states[256];
};

static int
seen_one(void *ctx, const ev_record *r)
{
    struct seen *s = ctx;
    size_t i = s->r.n;

    t_collect(&s->r, r);
    if (i < sizeof s->states / sizeof *s->states && s->r.n > i) {
        s->states[i] = r->state;
    }
    return 0;
}

static size_t
count_named(const struct seen *s, const char *name)
{
    size_t n = 0;

    for (size_t i = 0; i < s->r.n; i++) {
        n += strcmp(s->r.v[i].name, name) == 0;
    }
    return n;
}

static const struct t_rec *
rec_by_id(const struct seen *s, int64_t id, int *state)
{
    for (size_t i = 0; i < s->r.n; i++) {
        if (s->r.v[i].id == id) {
            *state = s->states[i];
            return &s->r.v[i];
        }
    }
    return NULL;
}

struct problems {
    int n;
    char first[512];
};
/* check's harmless notes of the last run: blob files no record uses */
static int leftover_files;
/* the operation failed after its change was committed (and said so) */
static int done_with_error;

static void
on_problem(void *ctx, const ev_problem *p)
{
    struct problems *ps = ctx;

    if (p->code == EV_OK && strstr(p->what, "no record uses") != NULL) {
        leftover_files++;
    }
    if (p->code != EV_OK) {
        if (ps->n++ == 0) {
            snprintf(ps->first, sizeof ps->first, "record %lld: %s",
                     (long long)p->record, p->what);
        }
    }
}

struct log_find {
    const char *action;
    int n;
};

static int
log_one(void *ctx, uint64_t seq, const char *text)
{
    struct log_find *f = ctx;
    char want[64];

    (void)seq;
    snprintf(want, sizeof want, "\naction %s\n", f->action);
    f->n += strstr(text, want) != NULL;
    return 0;
}

static int
log_count(ev_vault *v, const char *action)
{
    struct log_find f = {action, 0};

    return ev_log_list(v, 0, log_one, &f) == EV_OK ? f.n : -1;
}

struct slot_find {
    const char *member;
    int n;
};

static int
slot_one(void *ctx, const ev_slot_info *s)
{
    struct slot_find *f = ctx;

    f->n += s->kind == EV_SLOT_MEMBER && strcmp(s->label, f->member) == 0;
    return 0;
}

/* Compares a record's bytes, as ev_record_stream gives them, with what
 * was added. */
struct same {
    const struct content *c;
    size_t off;
    int differ;
};

static int
same_bytes(void *ctx, const uint8_t *p, size_t n)
{
    struct same *x = ctx;

    if (x->off + n > x->c->n || memcmp(x->c->data + x->off, p, n) != 0) {
        x->differ = 1;
    }
    x->off += n;
    return 0;
}

/* Every record reads back as one of the contents added under its name;
 * the fixture's records are all there.  Returns the number of faults. */
static int
verify_records(ev_vault *v, const struct seen *s, const char *label)
{
    int bad = 0;

    for (size_t i = 0; i < s->r.n; i++) {
        const struct t_rec *r = &s->r.v[i];
        const struct content *c = find_content(r->name, r->sha256);
        size_t got_n = 0;
        int rc;
        if (c == NULL || r->size != c->n) {
            fprintf(stderr,
                    "%s: record %lld '%s': no such content was "
                    "added\n",
                    label, (long long)r->id, r->name);
            bad++;
            continue;
        }
        if (c->data == NULL) {
            bad += !r->hash_only;
            continue;
        }
        {
            struct same cmp = {c, 0, 0};
            rc = ev_record_stream(v, r->id, same_bytes, &cmp);
            got_n = cmp.off;
            if (rc != EV_OK || cmp.differ || got_n != c->n) {
                fprintf(stderr,
                        "%s: record %lld '%s': read %s, %zu of %zu "
                        "bytes%s: %s\n",
                        label, (long long)r->id, r->name, ev_strerror(rc),
                        got_n, c->n, cmp.differ ? ", differing" : "",
                        ev_vault_errmsg(v));
                bad++;
            }
        }
    }
    /* every record of the fixture, by id (but one being destroyed:
     * effect_destroy looks at it) */
    for (int64_t id = 1; id <= (int64_t)nfixture; id++) {
        int st;
        if (id != destroying && rec_by_id(s, id, &st) == NULL) {
            fprintf(stderr, "%s: the fixture's record %lld is gone\n", label,
                    (long long)id);
            bad++;
        }
    }
    return bad;
}

/* ------------------------------------------------------------------ */
/* The operations                                                      */
/* ------------------------------------------------------------------ */

struct op {
    const char *name;
    int (*run)(ev_vault *v);
    /* FO_NONE / FO_DONE / FO_PARTIAL, or -1 when the state is not one
     * the operation can leave (printed) */
    int (*effect)(ev_vault *w, int cred, const struct seen *s,
                  const char *label);
    /* what finishes the operation after it failed past its commit (as
     * its documentation says); NULL: running it again */
    int (*finish)(ev_vault *v);
};

static int
add_paths(ev_vault *v, const char *path)
{
    const char *paths[1] = {path};

    return ev_record_add_paths(v, paths, 1, NULL, t_collect, &reported);
}

static int
run_add_small(ev_vault *v)
{
    return add_paths(v, in_small);
}

static int
run_add_big(ev_vault *v)
{
    return add_paths(v, in_big);
}

/* An add keeps the records it reported, and only those. */
static int
effect_add(const struct seen *s, const char *const *names, size_t n,
           const char *label)
{
    size_t present = 0, said = 0;

    for (size_t i = 0; i < n; i++) {
        size_t c = count_named(s, names[i]);
        if (c > (retried ? 2u : 1u)) {
            fprintf(stderr, "%s: '%s' was added %zu times\n", label, names[i],
                    c);
            return -1;
        }
        present += c;
        for (size_t j = 0; j < reported.n; j++) {
            said += strcmp(reported.v[j].name, names[i]) == 0;
        }
    }
    if (present != said) {
        fprintf(stderr,
                "%s: %zu records of the add are in the vault, but "
                "it reported %zu as durable\n",
                label, present, said);
        return -1;
    }
    if (retried) {
        for (size_t i = 0; i < n; i++) {
            if (count_named(s, names[i]) == 0) {
                return FO_PARTIAL;
            }
        }
        return FO_DONE;
    }
    return present == 0 ? FO_NONE : present == n ? FO_DONE : FO_PARTIAL;
}

static int
effect_add_small(ev_vault *w, int cred, const struct seen *s, const char *label)
{
    static const char *const names[] = {"a-small.txt", "b-small.bin"};

    (void)w;
    (void)cred;
    return effect_add(s, names, 2, label);
}

static int
effect_add_big(ev_vault *w, int cred, const struct seen *s, const char *label)
{
    static const char *const names[] = {"in-big.bin"};

    (void)w;
    (void)cred;
    return effect_add(s, names, 1, label);
}

static int
run_seal(ev_vault *v)
{
    size_t n = 0;

    return ev_seal(v, to_seal, 2, "sealed by the fault test", &n);
}

static int
effect_seal(ev_vault *w, int cred, const struct seen *s, const char *label)
{
    int sealed = 0, st = 0, seals = log_count(w, "seal");

    (void)cred;
    for (int i = 0; i < 2; i++) {
        if (rec_by_id(s, to_seal[i], &st) != NULL && st == EV_STATE_SEALED) {
            sealed++;
        }
    }
    /* the fixture was sealed once */
    if ((sealed == 2 && seals == 2) || (sealed == 0 && seals == 1)) {
        return sealed == 2 ? FO_DONE : FO_NONE;
    }
    fprintf(stderr, "%s: %d of 2 records sealed, %d seal entries\n", label,
            sealed, seals);
    return -1;
}

static int
run_share(ev_vault *v)
{
    static const char *const to[1] = {"Partner"};
    ev_share_opts o;

    memset(&o, 0, sizeof o);
    o.to = to;
    o.nto = 1;
    return ev_share(v, to_share, 2, &o, share_path);
}

/* What a bundle holds: its entries' names and SHA-256, and its manifest
 * without the time it was made. */
struct tarball {
    char name[32][128];
    uint8_t sha[32][32];
    size_t n;
    json_t *manifest;
};
static struct tarball ref_bundle; /* a share made with nothing failing */

static void
tarball_release(struct tarball *t)
{
    json_decref(t->manifest);
    memset(t, 0, sizeof *t);
}

/* Decrypts a bundle with the vault (it is encrypted to the sender too:
 * this authenticates every age chunk) and reads its tar.  0 on success. */
static int
read_bundle(ev_vault *w, const char *path, struct tarball *t)
{
    char tar[PATH_MAX];
    ev_age_source src;
    struct archive *a;
    struct archive_entry *e;
    int in, out, rc, age_err = 0, bad = 0;

    memset(t, 0, sizeof *t);
    memset(&src, 0, sizeof src);
    src.vault = w;
    t_path(tar, sizeof tar, run_dir, "bundle.tar");
    in = open(path, O_RDONLY);
    out = open(tar, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    rc = in >= 0 && out >= 0 ? ev_age_decrypt(&src, in, out, &age_err) : EV_EIO;
    if (in >= 0) {
        close(in);
    }
    if (out >= 0) {
        close(out);
    }
    if (rc != EV_OK) {
        unlink(tar);
        return -1;
    }
    a = archive_read_new();
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, tar, 65536) != ARCHIVE_OK) {
        archive_read_free(a);
        unlink(tar);
        return -1;
    }
    while (!bad && archive_read_next_header(a, &e) == ARCHIVE_OK && t->n < 32) {
        size_t n = (size_t)archive_entry_size(e), got = 0;
        uint8_t *d = malloc(n + 1);
        la_ssize_t r = 1;
        while (d != NULL && got < n &&
               (r = archive_read_data(a, d + got, n - got)) > 0) {
            got += (size_t)r;
        }
        bad |= d == NULL || got != n;
        if (!bad) {
            snprintf(t->name[t->n], sizeof t->name[t->n], "%s",
                     archive_entry_pathname(e));
            crypto_hash_sha256(t->sha[t->n], d, n);
            if (strcmp(t->name[t->n], "MANIFEST.json") == 0) {
                t->manifest = json_loadb((const char *)d, n, 0, NULL);
                json_object_del(t->manifest, "created_at");
                bad |= t->manifest == NULL;
            }
            t->n++;
        }
        free(d);
    }
    archive_read_free(a);
    unlink(tar);
    return bad ? -1 : 0;
}

/* The same entries as the reference, byte for byte but for the manifest's
 * time (and so its signature); the same manifest otherwise. */
static int
bundle_as_ref(const struct tarball *t, const char *label)
{
    if (t->n != ref_bundle.n || !json_equal(t->manifest, ref_bundle.manifest)) {
        fprintf(stderr,
                "%s: the bundle's manifest or entries differ from "
                "a share made with nothing failing\n",
                label);
        return -1;
    }
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->name[i], ref_bundle.name[i]) != 0 ||
            (strcmp(t->name[i], "MANIFEST.json") != 0 &&
             strcmp(t->name[i], "MANIFEST.json.minisig") != 0 &&
             memcmp(t->sha[i], ref_bundle.sha[i], 32) != 0)) {
            fprintf(stderr,
                    "%s: bundle entry '%s' differs from a share "
                    "made with nothing failing\n",
                    label, t->name[i]);
            return -1;
        }
    }
    return 0;
}

/* The partner, for whom the bundle is, imports it (signatures, proofs,
 * every SHA-256). */
static int
partner_imports(const char *path, const char *label)
{
    char dir[PATH_MAX];
    ev_vault *p;
    size_t n = 0;
    int rc;

    t_path(dir, sizeof dir, run_dir, "partner");
    if (copy_tree(partner, dir, 0) != 0 || (p = t_vault_reopen(dir)) == NULL) {
        fprintf(stderr, "%s: cannot open a copy of the partner\n", label);
        return -1;
    }
    rc = ev_import(p, path, 0, NULL, NULL, &n);
    if (rc != EV_OK || n != 2) {
        fprintf(stderr,
                "%s: the partner's import of the bundle gave %s, "
                "%zu records: %s\n",
                label, ev_strerror(rc), n, ev_vault_errmsg(p));
        rc = -1;
    }
    ev_vault_free(p);
    return rc == EV_OK ? 0 : -1;
}

static int deep_checks; /* also let the partner import a bundle */

static int
effect_share(ev_vault *w, int cred, const struct seen *s, const char *label)
{
    int there = access(share_path, F_OK) == 0, logged = log_count(w, "share");
    char names[1024];
    int n = list_dir(run_out, names, sizeof names);
    struct tarball t;

    (void)cred;
    (void)s;
    if (n != there) {
        fprintf(stderr, "%s: left beside the bundle: %s\n", label, names);
        return -1;
    }
    /* share logs before the bundle takes its name (a crash between must
     * not leave a bundle the log does not name): a failure after the
     * commit leaves one entry more than bundles, never fewer (two entries
     * and one bundle after a retry) */
    if (logged < there || logged > (retried ? 2 : 1)) {
        fprintf(stderr,
                "%s: the bundle %s, but the custody log has %d "
                "share entries\n",
                label, there ? "exists" : "does not exist", logged);
        return -1;
    }
    if (!there) {
        return FO_NONE;
    }
    if (read_bundle(w, share_path, &t) != 0) {
        fprintf(stderr, "%s: the bundle does not decrypt or untar\n", label);
        tarball_release(&t);
        return -1;
    }
    n = bundle_as_ref(&t, label);
    tarball_release(&t);
    if (n != 0 || (deep_checks && partner_imports(share_path, label) != 0)) {
        return -1;
    }
    return FO_DONE;
}

static int
run_import(ev_vault *v)
{
    size_t n = 0;

    return ev_import(v, bundle, 0, NULL, NULL, &n);
}

static int
effect_import(ev_vault *w, int cred, const struct seen *s, const char *label)
{
    size_t a = count_named(s, "p-note.txt"), b = count_named(s, "p-clip.mp4");
    int logged = log_count(w, "import");

    (void)cred;
    if (a == b && (size_t)logged == a && a <= 1) {
        return a == 1 ? FO_DONE : FO_NONE;
    }
    fprintf(stderr, "%s: import left %zu + %zu records, %d import entries\n",
            label, a, b, logged);
    return -1;
}

static int
run_rotate(ev_vault *v)
{
    char rec[EV_RECOVERY_KEY_CHARS + 1];
    char *lines = NULL;
    int k = 0, n = 0;
    int rc = ev_key_rotate(v, T_PASS2, strlen(T_PASS2), CHEAP_OPS, CHEAP_KIB,
                           rec, &lines, &k, &n);

    ev_secret_free(lines);
    return rc;
}

/* The new passphrase opens (and the old did not), or the old one does. */
static int
effect_new_pass(ev_vault *w, int cred, const struct seen *s, const char *label)
{
    (void)w;
    (void)s;
    if (cred == CRED_PASS2) {
        return FO_DONE;
    }
    if (cred == CRED_PASS) {
        return FO_NONE;
    }
    fprintf(stderr, "%s: neither passphrase opens the vault\n", label);
    return -1;
}

static int
run_lockdown(ev_vault *v)
{
    int removed = 0;

    return ev_vault_lockdown(v, 0, 0, &removed);
}

static int
effect_lockdown(ev_vault *w, int cred, const struct seen *s, const char *label)
{
    int logged = log_count(w, "lockdown");

    (void)s;
    if (cred == CRED_RECOVERY && (logged == 1 || (retried && logged == 2))) {
        return FO_DONE;
    }
    if (cred == CRED_PASS && logged == 0) {
        return FO_NONE;
    }
    fprintf(stderr, "%s: opened with credential %d, %d lockdown entries\n",
            label, cred, logged);
    return -1;
}

static int
run_passphrase(ev_vault *v)
{
    return ev_key_add_passphrase(v, T_PASS2, strlen(T_PASS2), "changed", 1,
                                 CHEAP_OPS, CHEAP_KIB, NULL);
}

static int
run_member(ev_vault *v)
{
    return ev_key_member_add(v, "bob", fixture_id.age);
}

static int
effect_member(ev_vault *w, int cred, const struct seen *s, const char *label)
{
    struct slot_find f = {"bob", 0};
    int logged = log_count(w, "member-add");

    (void)s;
    (void)cred;
    if (ev_key_list(w, slot_one, &f) != EV_OK) {
        fprintf(stderr, "%s: key list: %s\n", label, ev_vault_errmsg(w));
        return -1;
    }
    /* the fixture added alice */
    if (f.n == 0 && logged == 1) {
        return FO_NONE;
    }
    if (f.n == 1 && logged == 2) {
        return FO_DONE;
    }
    fprintf(stderr, "%s: %d member slots for bob, %d member-add entries\n",
            label, f.n, logged);
    return -1;
}

static char new_recovery[EV_RECOVERY_KEY_CHARS + 1];

static int
run_recovery(ev_vault *v)
{
    char key[EV_RECOVERY_KEY_CHARS + 1];
    int rc = ev_key_new_recovery(v, key);

    if (rc == EV_OK) {
        memcpy(new_recovery, key, sizeof key);
    }
    return rc;
}

static int
unlocks_with_recovery(const char *key)
{
    ev_vault *v = NULL;
    int rc = ev_vault_new(&v);

    if (rc == EV_OK) {
        rc = ev_vault_open(v, run_vault);
    }
    if (rc == EV_OK) {
        rc = ev_vault_unlock_recovery(v, key);
    }
    ev_vault_free(v);
    return rc;
}

/* The old recovery key still opens, or the new one (as returned) does. */
static int
effect_recovery(ev_vault *w, int cred, const struct seen *s, const char *label)
{
    int old = unlocks_with_recovery(recovery);

    (void)w;
    (void)cred;
    (void)s;
    if (old == EV_OK) {
        return FO_NONE;
    }
    if (old == EV_EKEY && new_recovery[0] != '\0' &&
        unlocks_with_recovery(new_recovery) == EV_OK) {
        return FO_DONE;
    }
    fprintf(stderr,
            "%s: the old recovery key gives %s, and the new one "
            "was %s\n",
            label, ev_strerror(old),
            new_recovery[0] != '\0' ? "refused" : "never returned");
    return -1;
}

static int
run_destroy(ev_vault *v)
{
    ev_destroy_result r;

    return ev_record_destroy(v, destroying, "consent withdrawn", &r);
}

/* What ev_record_destroy's documentation says finishes a destruction. */
static int
sweep(ev_vault *v)
{
    uint64_t n = 0;

    return ev_vault_sweep(v, &n);
}

static int
run_destroy_inline(ev_vault *v)
{
    destroying = photo_id;
    return run_destroy(v);
}

static int
run_destroy_file(ev_vault *v)
{
    destroying = draft_id;
    return run_destroy(v);
}

/* The record is a tombstone with its destroy entry, or it is whole (and
 * verify_records has read it back); after a destroy that reported success
 * no blob file is left that no record uses. */
static int
effect_destroy(ev_vault *w, int cred, const struct seen *s, const char *label)
{
    ev_record r;
    int rc = ev_record_get(w, destroying, &r), st = 0;
    int logged = log_count(w, "destroy"), listed;

    (void)cred;
    listed = rec_by_id(s, destroying, &st) != NULL;
    if (rc == EV_OK) {
        ev_record_release(&r);
    }
    if (rc == EV_EDESTROYED && !listed && logged == 1) {
        if (leftover_files > 0 && (!done_with_error || retried)) {
            fprintf(stderr, "%s: destroyed, but %d blob files are left\n",
                    label, leftover_files);
            return -1;
        }
        return FO_DONE;
    }
    if (rc == EV_OK && listed && logged == 0) {
        return FO_NONE;
    }
    fprintf(stderr,
            "%s: record %lld gives %s, %s listed, %d destroy "
            "entries\n",
            label, (long long)destroying, ev_strerror(rc),
            listed ? "is" : "not", logged);
    return -1;
}

static int
run_amend(ev_vault *v)
{
    static const char *const tags[] = {"Corrected"};
    ev_add_opts o;

    memset(&o, 0, sizeof o);
    o.case_name = "K-18";
    o.tags = tags;
    o.ntags = 1;
    return ev_record_amend(v, note_id, &o, "filed under the wrong case");
}

struct amend_find {
    int n, whole;
};

static int
amend_one(void *ctx, const ev_record *r)
{
    struct amend_find *f = ctx;

    f->n++;
    f->whole += r->case_name != NULL && strcmp(r->case_name, "K-18") == 0 &&
                r->ntags == 1 && strcmp(r->tags[0], "Corrected") == 0 &&
                r->path != NULL &&
                strcmp(r->path, "filed under the wrong case") == 0;
    return 0;
}

/* The fixture amended note.txt once; the new amendment is there with
 * every field, or not at all. */
static int
effect_amend(ev_vault *w, int cred, const struct seen *s, const char *label)
{
    struct amend_find f = {0, 0};
    int logged = log_count(w, "amend");

    (void)cred;
    (void)s;
    if (ev_record_amendments(w, note_id, amend_one, &f) != EV_OK) {
        fprintf(stderr, "%s: amendments: %s\n", label, ev_vault_errmsg(w));
        return -1;
    }
    if (f.n == 1 && logged == 1) {
        return FO_NONE;
    }
    if (f.n == 2 && f.whole == 1 && logged == 2) {
        return FO_DONE;
    }
    fprintf(stderr, "%s: %d amendments (%d whole), %d amend entries\n", label,
            f.n, f.whole, logged);
    return -1;
}

static int
run_contact(ev_vault *v)
{
    return ev_contact_add(v, "Second partner", fixture_id.age,
                          fixture_id.minisign);
}

struct contact_find {
    int n, named;
};

static int
contact_one(void *ctx, const ev_contact *c)
{
    struct contact_find *f = ctx;

    f->n++;
    f->named += strcmp(c->name, "Second partner") == 0;
    return 0;
}

/* The fixture pinned one partner: the new one is there, named, with its
 * custody entry, or neither. */
static int
effect_contact(ev_vault *w, int cred, const struct seen *s,
               const char *label)
{
    struct contact_find f = {0, 0};
    int logged = log_count(w, "contact");

    (void)cred;
    (void)s;
    if (ev_contact_list(w, contact_one, &f) != EV_OK) {
        fprintf(stderr, "%s: contacts: %s\n", label, ev_vault_errmsg(w));
        return -1;
    }
    if (f.n == 1 && logged == 1) {
        return FO_NONE;
    }
    if (f.n == 2 && f.named == 1 && logged == 2) {
        return FO_DONE;
    }
    fprintf(stderr, "%s: %d contacts (%d named), %d contact entries\n",
            label, f.n, f.named, logged);
    return -1;
}

static const struct op ops[] = {
    {"add-small", run_add_small, effect_add_small, NULL},
    {"add-big", run_add_big, effect_add_big, NULL},
    {"seal", run_seal, effect_seal, NULL},
    {"share", run_share, effect_share, NULL},
    {"import", run_import, effect_import, NULL},
    {"rotate", run_rotate, effect_new_pass, NULL},
    {"lockdown", run_lockdown, effect_lockdown, NULL},
    {"passphrase", run_passphrase, effect_new_pass, NULL},
    {"member-add", run_member, effect_member, NULL},
    {"new-recovery", run_recovery, effect_recovery, NULL},
    {"amend", run_amend, effect_amend, NULL},
    {"contact-add", run_contact, effect_contact, NULL},
    {"destroy-inline", run_destroy_inline, effect_destroy, sweep},
    {"destroy-file", run_destroy_file, effect_destroy, sweep},
};

size_t
fo_nops(void)
{
    return sizeof ops / sizeof *ops;
}

const char *
fo_op_name(size_t op)
{
    return ops[op].name;
}

/* ------------------------------------------------------------------ */
/* A run                                                               */
/* ------------------------------------------------------------------ */

int
fo_run(size_t op, const struct fo_hooks *h, struct fo_result *res, int retry,
       const char *label)
{
    ev_vault *v, *w;
    struct seen *s = NULL;
    struct problems ps = {0, ""};
    char why[1200], names[1024];
    int cred, rc, bad = 0, effect;

    memset(res, 0, sizeof *res);
    memset(&reported, 0, sizeof reported);
    memset(new_recovery, 0, sizeof new_recovery);
    retried = 0;
    destroying = 0;
    leftover_files = 0;
    t_path(run_dir, sizeof run_dir, root, "run");
    {
        char *d = strdup(run_dir);
        t_rmtree(d);
    }
    t_path(run_vault, sizeof run_vault, run_dir, "vault");
    t_path(run_out, sizeof run_out, run_dir, "out");
    t_path(share_path, sizeof share_path, run_out, "bundle.age");
    if (mkdir(run_dir, 0700) != 0 || mkdir(run_out, 0700) != 0 ||
        copy_tree(fixture, run_vault, 0) != 0) {
        fprintf(stderr, "%s: cannot copy the fixture\n", label);
        return -1;
    }
    v = t_vault_reopen(run_vault);
    if (v == NULL) {
        fprintf(stderr, "%s: the copy does not open\n", label);
        return -1;
    }

    h->arm(h->ctx);
    res->rc = ops[op].run(v);
    h->off(h->ctx);

    snprintf(res->errmsg, sizeof res->errmsg, "%s", ev_vault_errmsg(v));
    /* the messages of a failure after the commit (keys.c, destroy.c) */
    res->committed_note = strstr(res->errmsg, "is committed") != NULL ||
                          strstr(res->errmsg, "was destroyed, but") != NULL;
    done_with_error = res->committed_note;
    /* a success, with or without a fault on the way: check all of it */
    deep_checks = res->rc == EV_OK;
    if (retry && res->rc != EV_OK) {
        /* the same handle, nothing failing: it must work now */
        retried = 1;
        rc = res->committed_note && ops[op].finish != NULL ? ops[op].finish(v)
                                                           : ops[op].run(v);
        if (rc != EV_OK) {
            fprintf(stderr,
                    "%s: after '%s', the operation again on the "
                    "same handle gave %s: %s\n",
                    label, res->errmsg, ev_strerror(rc), ev_vault_errmsg(v));
            bad++;
        }
    }
    ev_vault_free(v);

    /* Nothing fails from here on. */
    w = open_any(run_vault, &cred, why, sizeof why);
    if (w == NULL) {
        fprintf(stderr, "%s: the vault does not open: %s\n", label, why);
        return -1;
    }
    rc = ev_check(w, EV_CHECK_READ_DATA, on_problem, &ps, NULL);
    if (rc != EV_OK || ps.n > 0) {
        fprintf(stderr, "%s: check: %s (%d problems; %s): %s\n", label,
                ev_strerror(rc), ps.n, ps.first, ev_vault_errmsg(w));
        bad++;
    }
    s = calloc(1, sizeof *s);
    rc = ev_record_list(w, NULL, seen_one, s);
    if (rc != EV_OK) {
        fprintf(stderr, "%s: list: %s\n", label, ev_vault_errmsg(w));
        bad++;
    } else {
        bad += verify_records(w, s, label);
    }
    effect = ops[op].effect(w, cred, s, label);
    res->effect = effect < 0 ? FO_NONE : effect;
    bad += effect < 0;
    ev_vault_free(w);
    free(s);

    t_path(why, sizeof why, run_vault, "tmp");
    if (list_dir(why, names, sizeof names) != 0) {
        fprintf(stderr, "%s: temporary files left: %s\n", label, names);
        bad++;
    }
    /* status and effect agree */
    if ((res->rc == EV_OK || retried) && effect >= 0 && effect != FO_DONE) {
        fprintf(stderr,
                "%s: reported success, but the operation did not "
                "take effect (%d)\n",
                label, effect);
        bad++;
    }
    if (res->rc != EV_OK && effect == FO_DONE && !res->committed_note &&
        !retried) {
        fprintf(stderr,
                "%s: reported failure (%s: %s), but the operation "
                "took effect\n",
                label, ev_strerror(res->rc), res->errmsg);
        bad++;
    }
    if (res->rc != EV_OK && res->committed_note && effect != FO_DONE &&
        !retried) {
        fprintf(stderr,
                "%s: says the change is committed, but it is not: "
                "%s\n",
                label, res->errmsg);
        bad++;
    }
    return bad == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* The fixture                                                         */
/* ------------------------------------------------------------------ */

static int
add_one(ev_vault *v, const char *path, const ev_add_opts *o, struct t_recs *rs)
{
    const char *paths[1] = {path};

    return ev_record_add_paths(v, paths, 1, o, t_collect, rs);
}

/* A vault whose passphrase costs next to nothing to try. */
static ev_vault *
create(const char *dir, char rec[EV_RECOVERY_KEY_CHARS + 1])
{
    static const ev_create_opts cheapest = {.argon2_ops = CHEAP_OPS,
                                            .argon2_mem_kib = CHEAP_KIB};
    char unused[EV_RECOVERY_KEY_CHARS + 1];
    ev_vault *v = NULL;

    if (ev_vault_new(&v) != EV_OK ||
        ev_vault_create(v, dir, &cheapest, T_PASS, strlen(T_PASS),
                        rec != NULL ? rec : unused) != EV_OK) {
        fprintf(stderr, "setup: create '%s': %s\n", dir, ev_vault_errmsg(v));
        ev_vault_free(v);
        return NULL;
    }
    return v;
}

/* A share with nothing failing, for effect_share to compare with. */
static int
make_reference(void)
{
    ev_vault *v;
    int rc;

    t_path(run_dir, sizeof run_dir, root, "reference");
    t_path(run_vault, sizeof run_vault, run_dir, "vault");
    t_path(run_out, sizeof run_out, run_dir, "out");
    t_path(share_path, sizeof share_path, run_out, "bundle.age");
    if (mkdir(run_dir, 0700) != 0 || mkdir(run_out, 0700) != 0 ||
        copy_tree(fixture, run_vault, 0) != 0 ||
        (v = t_vault_reopen(run_vault)) == NULL) {
        return -1;
    }
    rc = run_share(v);
    if (rc != EV_OK || read_bundle(v, share_path, &ref_bundle) != 0 ||
        partner_imports(share_path, "reference share") != 0) {
        fprintf(stderr, "setup: the reference share: %s\n", ev_vault_errmsg(v));
        rc = -1;
    }
    ev_vault_free(v);
    return rc == EV_OK ? 0 : -1;
}

int
fo_setup(const char *dir)
{
    char in[PATH_MAX], pdir[PATH_MAX], path[PATH_MAX];
    ev_vault *f = NULL, *p = NULL;
    ev_identity_info pid;
    struct t_recs rs, prs;
    ev_add_opts ho, ao;
    uint8_t sha[32];
    char *lines = NULL;
    int64_t pids[2];
    size_t ns = 0;
    int ok = 1;

    snprintf(root, sizeof root, "%s", dir);
    t_path(fixture, sizeof fixture, root, "fixture");
    t_path(pdir, sizeof pdir, root, "partner");
    snprintf(partner, sizeof partner, "%s", pdir);
    t_path(bundle, sizeof bundle, root, "from-partner.age");
    t_path(in, sizeof in, root, "fixture-in");
    memset(&rs, 0, sizeof rs);
    memset(&prs, 0, sizeof prs);

    /* the fixture's files, in name order as add walks them */
    ok &= mkdir(in, 0700) == 0;
    ok &= make_file(in, "draft.mov", MiB + 300, 10, 0) == 0;
    ok &= make_file(in, "empty.txt", 0, 1, 1) == 0;
    ok &= make_file(in, "note.txt", 3000, 2, 1) == 0;
    ok &= make_file(in, "photo.jpg", 40 * KiB, 3, 0) == 0;
    ok &= make_file(in, "video.mp4", MiB + MiB / 5 + 7, 4, 0) == 0;
    /* the partner's */
    t_path(path, sizeof path, root, "partner-in");
    ok &= mkdir(path, 0700) == 0;
    ok &= make_file(path, "p-clip.mp4", MiB + 100, 5, 0) == 0;
    ok &= make_file(path, "p-note.txt", 2000, 6, 1) == 0;
    /* the operations' inputs */
    t_path(in_small, sizeof in_small, root, "in-small");
    ok &= mkdir(in_small, 0700) == 0;
    ok &= make_file(in_small, "a-small.txt", 3000, 7, 1) == 0;
    ok &= make_file(in_small, "b-small.bin", 20 * KiB, 8, 0) == 0;
    ok &= make_file(root, "in-big.bin", MiB + MiB / 2, 9, 0) == 0;
    t_path(in_big, sizeof in_big, root, "in-big.bin");
    if (!ok) {
        fprintf(stderr, "setup: cannot write the inputs\n");
        return -1;
    }

    f = create(fixture, recovery);
    p = create(pdir, NULL);
    if (f == NULL || p == NULL) {
        ev_vault_free(f);
        ev_vault_free(p);
        return -1;
    }
    {
        /* every field, so that a bundle's manifest missing one shows */
        static const char *const tags[] = {"Torture", "K-17 evidence"};
        ev_add_opts fo;
        memset(&fo, 0, sizeof fo);
        fo.case_name = "K-17";
        fo.source = "S1";
        fo.note = "handed over at the border";
        fo.captured_at = "2024-03-01T14:05:09Z";
        fo.location = "45.81,15.98";
        fo.tags = tags;
        fo.ntags = 2;
        ok &= add_one(f, in, &fo, &rs) == EV_OK && rs.n == 5;
    }
    memset(&ho, 0, sizeof ho);
    ho.name = "kept-elsewhere.img";
    crypto_hash_sha256(sha, (const uint8_t *)"kept elsewhere", 14);
    ok &= ev_record_add_hash(f, sha, 14, &ho, t_collect, &rs) == EV_OK;
    know("kept-elsewhere.img", (const uint8_t *)"kept elsewhere", 14, 1);
    nfixture = rs.n;
    for (size_t i = 0; i < rs.n; i++) {
        const char *n = rs.v[i].name;
        int64_t id = rs.v[i].id;
        if (strcmp(n, "draft.mov") == 0) {
            draft_id = id;
        } else if (strcmp(n, "photo.jpg") == 0) {
            photo_id = id;
        } else if (strcmp(n, "empty.txt") == 0) {
            to_seal[0] = id;
        } else if (strcmp(n, "kept-elsewhere.img") == 0) {
            to_seal[1] = id;
        } else if (strcmp(n, "note.txt") == 0) {
            note_id = to_share[0] = id;
        } else if (strcmp(n, "video.mp4") == 0) {
            to_share[1] = id;
        }
    }
    ok &= ev_seal(f, to_share, 2, "fixture", &ns) == EV_OK && ns == 2;
    memset(&ao, 0, sizeof ao);
    ao.location = "corrected location";
    ok &= ev_record_amend(f, note_id, &ao, "wrong place") == EV_OK;

    ok &= ev_identity(f, &fixture_id) == EV_OK && ev_identity(p, &pid) == EV_OK;
    ok &= ev_contact_add(f, "Partner", pid.age, pid.minisign) == EV_OK;
    ok &= ev_key_member_add(f, "alice", pid.age) == EV_OK;
    ok &= ev_key_shares(f, 2, 3, "board", &lines) == EV_OK;
    ev_secret_free(lines);

    t_path(path, sizeof path, root, "partner-in");
    ok &= add_one(p, path, NULL, &prs) == EV_OK && prs.n == 2;
    pids[0] = prs.v[0].id;
    pids[1] = prs.v[1].id;
    ok &= ev_seal(p, pids, 2, "partner", &ns) == EV_OK;
    ok &=
        ev_contact_add(p, "Home", fixture_id.age, fixture_id.minisign) == EV_OK;
    {
        static const char *const to[1] = {"Home"};
        ev_share_opts so;
        memset(&so, 0, sizeof so);
        so.to = to;
        so.nto = 1;
        ok &= ev_share(p, pids, 2, &so, bundle) == EV_OK;
    }
    if (!ok) {
        fprintf(stderr, "setup: %s / %s\n", ev_vault_errmsg(f),
                ev_vault_errmsg(p));
    }
    ev_vault_free(f);
    ev_vault_free(p);
    return ok ? make_reference() : -1;
}

void
fo_teardown(void)
{
    tarball_release(&ref_bundle);
    for (size_t i = 0; i < nknown; i++) {
        free(known[i].data);
    }
    nknown = 0;
}
