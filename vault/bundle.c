/*
 * bundle.c - sealed bundles for partners: an age file whose plaintext is a
 * tar that standard tools open and check.
 *
 * Owns: the bundle layout and the share entry of the custody log.
 * Never: puts a redacted field, a record not asked for, or an unsealed
 * record into a bundle; or writes any plaintext to disk (the tar streams
 * straight into the age writer).
 *
 *   README.txt              how to check it with age, tar, minisign, sha256sum
 *   vault.pub               the sender's checkpoint key (C2SP verifier key)
 *   minisign.pub            the sender's minisign key (minisign's format)
 *   MANIFEST.json           sender, records and their (unredacted) metadata
 *   MANIFEST.json.minisig   hashed ("ED") minisign signature
 *   SHA256SUMS              sha256sum's format, one line per file
 *   SHA256SUMS.minisig
 *   checkpoint              the vault's latest signed checkpoint (the
 *                           proofs carry the one covering each record)
 *   proofs/<id>.tlog-proof  one per record
 *   files/<id>/<name>       the records' original bytes
 */
#include "age.h"
#include "blob.h"
#include "custody.h"
#include "json.h"
#include "minisign.h"
#include "os.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char readme[] =
    "This is an evault bundle: evidence shared with you, signed by its\n"
    "sender.  Check it with standard tools (Debian: age, minisign, tar,\n"
    "coreutils):\n"
    "\n"
    "  age -d -i YOUR-IDENTITY-FILE BUNDLE.age | tar x\n"
    "  minisign -V -H -p minisign.pub -m MANIFEST.json\n"
    "  minisign -V -H -p minisign.pub -m SHA256SUMS\n"
    "  sha256sum -c SHA256SUMS\n"
    "\n"
    "Compare minisign.pub with the key the sender gave you in person or by\n"
    "phone: a bundle proves only that the holder of that key made it.\n"
    "Each file has a proof in proofs/ that a court can check against the\n"
    "sender's vault.pub:\n"
    "\n"
    "  evault verify files/ID/NAME --proof proofs/ID.tlog-proof --key vault.pub\n"
    "\n"
    "With evault, 'evault import BUNDLE.age' does all of this at once.\n";

struct out {
    int fd;
    ev_age_writer *age;
    uint64_t bytes;
    int err; /* the first errno of a write to fd */
};

static int
file_write(void *ctx, const uint8_t *p, size_t n)
{
    struct out *o = ctx;

    o->bytes += n;
    if (ev_os_write_full(o->fd, p, n) != 0) {
        if (o->err == 0) {
            o->err = errno;
        }
        return o->err;
    }
    return 0;
}

/* A write of the bundle failed somewhere below the tar and age layers:
 * say which file and why, with the status the errno stands for. */
static int
out_fail(ev_vault *v, const struct out *o, const char *tmp)
{
    return ev_fail(v, ev_errno_status(o->err), "cannot write '%s': %s", tmp,
                   strerror(o->err));
}

static la_ssize_t
tar_write(struct archive *a, void *ctx, const void *p, size_t n)
{
    struct out *o = ctx;

    (void)a;
    return ev_age_write(o->age, p, n) == EV_AGE_OK ? (la_ssize_t)n : -1;
}

static int
add_entry(struct archive *a, const char *name, int64_t size)
{
    struct archive_entry *e = archive_entry_new();
    int rc;

    if (e == NULL) {
        return -1;
    }
    archive_entry_set_pathname(e, name);
    archive_entry_set_size(e, size);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, time(NULL), 0);
    rc = archive_write_header(a, e);
    archive_entry_free(e);
    return rc == ARCHIVE_OK ? 0 : -1;
}

static int
add_text(struct archive *a, const char *name, const char *text, size_t len)
{
    if (add_entry(a, name, (int64_t)len) != 0) {
        return -1;
    }
    return archive_write_data(a, text, len) == (la_ssize_t)len ? 0 : -1;
}

struct to_tar {
    struct archive *a;
    ev_vault *v;
    uint64_t done, total;
    const struct out *o;
};

static int
data_to_tar(void *ctx, const uint8_t *p, size_t n)
{
    struct to_tar *t = ctx;

    if (archive_write_data(t->a, p, n) != (la_ssize_t)n) {
        return t->o->err != 0 ? t->o->err : EIO;
    }
    t->done += n;
    if (t->v->progress != NULL) {
        t->v->progress(t->v->progress_ctx, t->done, t->total);
    }
    return 0;
}

/* A file name safe inside the tar: the base name, no control characters,
 * no slashes, not "." or "..". */
static void
safe_name(char *out, size_t cap, const char *name)
{
    size_t o = 0;

    for (; name != NULL && *name != '\0' && o + 1 < cap; name++) {
        unsigned char c = (unsigned char)*name;
        out[o++] = c < 0x20 || c == '/' || c == '\\' || c == 0x7f ? '_'
                                                                  : (char)c;
    }
    out[o] = '\0';
    if (o == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0) {
        snprintf(out, cap, "file");
    }
}

static int
redacted(const ev_share_opts *o, const char *field)
{
    for (size_t i = 0; i < o->nredact; i++) {
        if (strcmp(o->redact[i], field) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Non-zero when the field could not be set (out of memory): a manifest
 * is never written without a field it should hold. */
static int
put_field(json_t *j, const ev_share_opts *o, const char *k, const char *v)
{
    if (v != NULL && !redacted(o, k)) {
        return json_object_set_new(j, k, json_string(v)) != 0;
    }
    return 0;
}

static const char *const fields[] = {"name",     "kind",        "case",
                                     "source",   "note",        "captured_at",
                                     "location", "tags",        "added_by",
                                     NULL};

/* A share writes its bundle as ".NAME.XXXXXXXXXXXX" (12 hex digits)
 * beside NAME, holding an flock on it until the rename.  One killed on
 * the way leaves that file behind: age ciphertext, nothing in the clear,
 * but litter.  The next share to the same NAME removes every such file
 * that no process holds locked.  A file still empty and less than a
 * minute old is left alone: its writer may not have locked it yet. */
static void
sweep_partial(const char *dir, const char *base)
{
    size_t blen = strlen(base);
    struct dirent *e;
    DIR *d = opendir(dir);

    if (d == NULL) {
        return;
    }
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        char path[PATH_MAX];
        struct stat st;
        int fd, hex = 1;

        if (strlen(n) != 1 + blen + 1 + 12 || n[0] != '.' ||
            memcmp(n + 1, base, blen) != 0 || n[1 + blen] != '.') {
            continue;
        }
        for (size_t i = 2 + blen; n[i] != '\0'; i++) {
            hex &= (n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f');
        }
        if (!hex || snprintf(path, sizeof path, "%s/%s", dir, n) >=
                        (int)sizeof path) {
            continue;
        }
        fd = ev_os.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
        if (fd < 0) {
            continue;
        }
        if (ev_os.fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            (st.st_size > 0 || time(NULL) - st.st_mtime > 60) &&
            ev_os.flock(fd, LOCK_EX | LOCK_NB) == 0) {
            ev_os.unlink(path);
        }
        ev_os.close(fd);
    }
    closedir(d);
}

int
ev_share(ev_vault *v, const int64_t *ids, size_t nids,
         const ev_share_opts *opts, const char *out_path)
{
    uint8_t(*rcpt)[32] = NULL;
    ev_identity_info me;
    char tmp[PATH_MAX], dir[PATH_MAX], name[256], path[512], hex[65];
    char note[1024];
    char *manifest = NULL, *sig = NULL, *sums = NULL, *pubfile = NULL;
    size_t sums_len = 0, sums_cap = 0, nr = 0;
    uint8_t *sk = NULL;
    uint8_t keyid[EV_MINISIGN_KEYID_BYTES], ed_pk[32], box_pk[32];
    struct archive *a = NULL;
    struct out o = {-1, NULL, 0, 0};
    json_t *man = NULL, *recs = NULL;
    ev_record *r = NULL;
    char vault_pub[256];
    int rc = EV_OK, bad = 0;

    if (v->keys == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
    }
    if (nids == 0 || opts->nto == 0 || opts->nto > EV_AGE_MAX_RECIPIENTS - 1) {
        return ev_fail(v, EV_EINVAL, "a share needs records and 1 to %d "
                                     "contacts",
                       EV_AGE_MAX_RECIPIENTS - 1);
    }
    for (size_t i = 0; i < opts->nredact; i++) {
        int known = 0;
        for (size_t k = 0; fields[k] != NULL; k++) {
            known |= strcmp(fields[k], opts->redact[i]) == 0;
        }
        if (!known) {
            return ev_fail(v, EV_EINVAL,
                           "cannot redact '%s' (fields: name, kind, case, "
                           "source, note, captured_at, location, tags, "
                           "added_by)",
                           opts->redact[i]);
        }
    }
    /* Records: all sealed (or sealed now). */
    r = calloc(nids, sizeof *r);
    rcpt = calloc(opts->nto + 1, sizeof *rcpt);
    if (r == NULL || rcpt == NULL) {
        rc = ev_fail(v, EV_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (opts->seal_first) {
        size_t n;
        rc = ev_seal(v, ids, nids, "sealed to share", &n);
        if (rc != EV_OK) {
            goto cleanup;
        }
    }
    for (nr = 0; nr < nids; nr++) {
        rc = ev_record_get(v, ids[nr], &r[nr]);
        if (rc != EV_OK) {
            goto cleanup;
        }
        if (r[nr].state != EV_STATE_SEALED) {
            rc = ev_fail(v, EV_ENOTSEALED,
                         "record %lld is not sealed: only sealed records "
                         "are shared",
                         (long long)ids[nr]);
            nr++;
            goto cleanup;
        }
        if (r[nr].hash_only) {
            rc = ev_fail(v, EV_EINVAL,
                         "record %lld holds only a hash: nothing to share",
                         (long long)ids[nr]);
            nr++;
            goto cleanup;
        }
    }
    /* Recipients: the contacts, and this vault (so the sender can open
     * what it sent). */
    note[0] = '\0';
    for (size_t i = 0; i < opts->nto; i++) {
        ev_contact c;
        rc = ev_contact_find(v, opts->to[i], &c);
        if (rc != EV_OK) {
            goto cleanup;
        }
        if (ev_age_recipient_decode(rcpt[i], c.age) != 0) {
            rc = ev_fail(v, EV_ECORRUPT, "contact '%s' has a bad key",
                         opts->to[i]);
            goto cleanup;
        }
        snprintf(note + strlen(note), sizeof note - strlen(note), "%s%s",
                 i > 0 ? ", " : "to ", c.fingerprint);
    }
    rc = ev_identity(v, &me);
    if (rc == EV_OK) {
        rc = ev_identity_public(v, box_pk, ed_pk);
    }
    if (rc == EV_OK) {
        rc = ev_vault_public_key(v, vault_pub, sizeof vault_pub);
    }
    if (rc != EV_OK) {
        goto cleanup;
    }
    memcpy(rcpt[opts->nto], box_pk, 32);
    if (ev_minisign_keyid(keyid, ed_pk) != 0) {
        rc = ev_fail(v, EV_EINVAL, "cannot encode the vault's keys");
        goto cleanup;
    }

    /* MANIFEST.json and SHA256SUMS.  bad: a member could not be set
     * (out of memory); jansson's setters fail on a NULL value too. */
    man = json_object();
    recs = json_array();
    bad |= man == NULL || recs == NULL;
    bad |= json_object_set_new(man, "format",
                               json_string("evault bundle v1")) != 0;
    bad |= json_object_set_new(
               man, "sender",
               json_pack("{s:s,s:s,s:s,s:s}", "key", vault_pub, "age",
                         me.age, "minisign", me.minisign, "fingerprint",
                         me.fingerprint)) != 0;
    {
        char when[32];
        ev_custody_time(when, (int64_t)time(NULL));
        bad |= json_object_set_new(man, "created_at", json_string(when)) !=
               0;
    }
    for (size_t i = 0; i < nids && !bad; i++) {
        json_t *j = json_object();
        int n;
        safe_name(name, sizeof name, r[i].name);
        ev_hex(hex, r[i].sha256, sizeof r[i].sha256);
        snprintf(path, sizeof path, "files/%lld/%s", (long long)r[i].id,
                 name);
        bad |= json_object_set_new(j, "id", json_integer(r[i].id)) != 0;
        bad |= json_object_set_new(j, "file", json_string(path)) != 0;
        bad |= json_object_set_new(j, "sha256", json_string(hex)) != 0;
        bad |= json_object_set_new(j, "size",
                                   json_integer((json_int_t)r[i].size)) != 0;
        bad |= put_field(j, opts, "name", r[i].name);
        bad |= put_field(j, opts, "kind", r[i].kind);
        bad |= put_field(j, opts, "case", r[i].case_name);
        bad |= put_field(j, opts, "source", r[i].source);
        bad |= put_field(j, opts, "note", r[i].note);
        bad |= put_field(j, opts, "captured_at", r[i].captured_at);
        bad |= put_field(j, opts, "location", r[i].location);
        bad |= put_field(j, opts, "added_by", r[i].added_by);
        if (!redacted(opts, "tags")) {
            json_t *tags = json_array();
            for (size_t t = 0; tags != NULL && t < r[i].ntags; t++) {
                bad |= json_array_append_new(tags,
                                             json_string(r[i].tags[t])) != 0;
            }
            bad |= json_object_set_new(j, "tags", tags) != 0;
        }
        {
            char when[32];
            ev_custody_time(when, r[i].added_at);
            bad |= json_object_set_new(j, "added_at", json_string(when)) !=
                   0;
        }
        snprintf(path, sizeof path, "proofs/%lld.tlog-proof",
                 (long long)r[i].id);
        bad |= json_object_set_new(j, "proof", json_string(path)) != 0;
        bad |= json_array_append_new(recs, j) != 0;
        /* sha256sum's format: hash, two spaces, path */
        if (sums_len + 600 > sums_cap) {
            char *ns;
            sums_cap = sums_cap ? 2 * sums_cap : 4096;
            ns = realloc(sums, sums_cap);
            if (ns == NULL) {
                rc = ev_fail(v, EV_ENOMEM, "out of memory");
                goto cleanup;
            }
            sums = ns;
        }
        n = snprintf(sums + sums_len, sums_cap - sums_len,
                     "%s  files/%lld/%s\n", hex, (long long)r[i].id, name);
        sums_len += (size_t)n;
    }
    bad |= json_object_set_new(man, "records", recs) != 0;
    recs = NULL;
    if (opts->nredact > 0) {
        json_t *red = json_array();
        for (size_t i = 0; red != NULL && i < opts->nredact; i++) {
            bad |= json_array_append_new(red,
                                         json_string(opts->redact[i])) != 0;
        }
        bad |= json_object_set_new(man, "redacted", red) != 0;
    }
    if (bad) {
        rc = ev_fail(v, EV_ENOMEM, "out of memory");
        goto cleanup;
    }
    manifest = ev_json_dumps(man, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    sig = malloc(EV_MINISIGN_SIG_MAX * 2);
    pubfile = malloc(EV_MINISIGN_PUBFILE_MAX);
    if (manifest == NULL || sig == NULL || pubfile == NULL || sums == NULL) {
        rc = ev_fail(v, EV_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = ev_identity_load(v, &sk);
    if (rc != EV_OK) {
        goto cleanup;
    }
    if (ev_minisign_pubkey_file(pubfile, EV_MINISIGN_PUBFILE_MAX, ed_pk, keyid,
                                "evault vault signing key") != 0) {
        rc = ev_fail(v, EV_EINVAL, "cannot write minisign.pub");
        goto cleanup;
    }

    /* The age file, written under a temporary name. */
    {
        const char *slash = strrchr(out_path, '/');
        uint8_t rnd[6];
        char rh[13];
        ev_random(rnd, sizeof rnd);
        ev_hex(rh, rnd, sizeof rnd);
        if (slash != NULL) {
            snprintf(tmp, sizeof tmp, "%.*s/.%s.%s", (int)(slash - out_path),
                     out_path, slash + 1, rh);
        } else {
            snprintf(tmp, sizeof tmp, ".%s.%s", out_path, rh);
        }
    }
    if (access(out_path, F_OK) == 0) {
        rc = ev_fail(v, EV_EEXIST, "'%s' already exists", out_path);
        goto cleanup;
    }
    {
        /* dir: the bundle's folder, synced after the rename below */
        const char *slash = strrchr(out_path, '/');
        if (slash == NULL) {
            snprintf(dir, sizeof dir, ".");
        } else {
            snprintf(dir, sizeof dir, "%.*s",
                     slash == out_path ? 1 : (int)(slash - out_path),
                     out_path);
        }
        sweep_partial(dir, slash != NULL ? slash + 1 : out_path);
    }
    o.fd = ev_os.open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644);
    if (o.fd < 0) {
        rc = ev_fail(v, errno == ENOSPC ? EV_ENOSPC : EV_EIO,
                     "cannot create '%s': %s", tmp, strerror(errno));
        goto cleanup;
    }
    /* Held until the bundle has its name: tells sweep_partial that this
     * file is being written. */
    (void)ev_os.flock(o.fd, LOCK_EX | LOCK_NB);
    {
        int e = ev_age_writer_new(&o.age, (const uint8_t(*)[32])rcpt,
                                  opts->nto + 1, file_write, &o);
        if (e != EV_AGE_OK) {
            rc = o.err != 0 ? out_fail(v, &o, tmp)
                 : e == EV_AGE_NOMEM
                     ? ev_fail(v, EV_ENOMEM, "out of memory")
                     : ev_fail(v, EV_EIO, "cannot start the age file: %s",
                               ev_age_strerror(e));
            goto cleanup;
        }
    }
    a = archive_write_new();
    if (a == NULL || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_open(a, &o, NULL, tar_write, NULL) != ARCHIVE_OK) {
        rc = ev_fail(v, EV_EIO, "cannot start the tar stream");
        goto cleanup;
    }
#define TRY(x)                                                               \
    do {                                                                     \
        if ((x) != 0) {                                                      \
            rc = o.err != 0 ? out_fail(v, &o, tmp)                           \
                 : ev_fail(v, EV_EIO, "cannot write the bundle: %s",         \
                           archive_error_string(a) ? archive_error_string(a) \
                                                   : "write failed");        \
            goto cleanup;                                                    \
        }                                                                    \
    } while (0)
    TRY(add_text(a, "README.txt", readme, sizeof readme - 1));
    snprintf(path, sizeof path, "%s\n", vault_pub);
    TRY(add_text(a, "vault.pub", path, strlen(path)));
    TRY(add_text(a, "minisign.pub", pubfile, strlen(pubfile)));
    TRY(add_text(a, "MANIFEST.json", manifest, strlen(manifest)));
    TRY(ev_minisign_sign(sig, EV_MINISIGN_SIG_MAX * 2,
                         (const uint8_t *)manifest, strlen(manifest),
                         sk + EV_BOX_SK_BYTES, keyid,
                         "signature from evault", "evault bundle manifest"));
    TRY(add_text(a, "MANIFEST.json.minisig", sig, strlen(sig)));
    TRY(add_text(a, "SHA256SUMS", sums, sums_len));
    TRY(ev_minisign_sign(sig, EV_MINISIGN_SIG_MAX * 2, (const uint8_t *)sums,
                         sums_len, sk + EV_BOX_SK_BYTES, keyid,
                         "signature from evault", "evault bundle checksums"));
    TRY(add_text(a, "SHA256SUMS.minisig", sig, strlen(sig)));
    ev_secure_free(sk);
    sk = NULL;
    {
        struct ev_custody_checkpoints cps;
        rc = ev_custody_checkpoints_load(v, &cps);
        if (rc != EV_OK) {
            goto cleanup;
        }
        if (cps.n > 0 && add_text(a, "checkpoint", cps.v[cps.n - 1].note,
                                  strlen(cps.v[cps.n - 1].note)) != 0) {
            ev_custody_checkpoints_free(&cps);
            TRY(-1);
        }
        ev_custody_checkpoints_free(&cps);
    }
    for (size_t i = 0; i < nids; i++) {
        char *proof = NULL;
        size_t plen = 0;
        rc = ev_proof(v, r[i].id, &proof, &plen);
        if (rc != EV_OK) {
            goto cleanup;
        }
        snprintf(path, sizeof path, "proofs/%lld.tlog-proof",
                 (long long)r[i].id);
        if (add_text(a, path, proof, plen) != 0) {
            free(proof);
            TRY(-1);
        }
        free(proof);
    }
    {
        struct to_tar tt = {a, v, 0, 0, &o};
        for (size_t i = 0; i < nids; i++) {
            tt.total += r[i].size;
        }
        for (size_t i = 0; i < nids; i++) {
            safe_name(name, sizeof name, r[i].name);
            snprintf(path, sizeof path, "files/%lld/%s", (long long)r[i].id,
                     name);
            TRY(add_entry(a, path, (int64_t)r[i].size));
            rc = ev_record_stream(v, r[i].id, data_to_tar, &tt);
            if (rc != EV_OK) {
                if (o.err != 0) {
                    rc = out_fail(v, &o, tmp);
                }
                goto cleanup;
            }
        }
    }
    TRY(archive_write_close(a) == ARCHIVE_OK ? 0 : -1);
#undef TRY
    if (ev_age_finish(o.age) != EV_AGE_OK) {
        rc = o.err != 0 ? out_fail(v, &o, tmp)
                        : ev_fail(v, EV_EIO, "cannot finish '%s'", tmp);
        goto cleanup;
    }
    if (ev_os.fsync(o.fd) != 0) {
        rc = ev_fail(v, ev_errno_status(errno), "cannot sync '%s': %s", tmp,
                     strerror(errno));
        goto cleanup;
    }
    ev_os.close(o.fd);
    o.fd = -1;
    /* The custody log: what, to whom, which fields left out.  Committed
     * before the bundle takes its name, so that a bundle never exists
     * without its entry: killed in between, or failing after, the log
     * says a little more than happened, never less. */
    {
        char full[1400];
        snprintf(full, sizeof full, "%s%s%s", note,
                 opts->nredact > 0 ? "; redacted " : "", "");
        for (size_t i = 0; i < opts->nredact; i++) {
            snprintf(full + strlen(full), sizeof full - strlen(full), "%s%s",
                     i > 0 ? "," : "", opts->redact[i]);
        }
        rc = ev_log_action(v, "share", ids, nids, full);
    }
    if (rc != EV_OK) {
        ev_os.unlink(tmp);
        goto cleanup;
    }
    if (ev_os.rename(tmp, out_path) != 0) {
        rc = ev_fail(v, ev_errno_status(errno), "cannot rename to '%s': %s",
                     out_path, strerror(errno));
        ev_os.unlink(tmp);
        goto cleanup;
    }
    /* The bundle's name is durable before share reports success; a
     * bundle whose name may not survive a crash is removed. */
    if (ev_os_fsync_dir(dir) != 0) {
        rc = ev_fail(v, ev_errno_status(errno), "cannot sync '%s': %s", dir,
                     strerror(errno));
        ev_os.unlink(out_path);
        goto cleanup;
    }
cleanup:
    if (a != NULL) {
        archive_write_free(a);
    }
    ev_age_writer_free(o.age);
    if (o.fd >= 0) {
        ev_os.close(o.fd);
        ev_os.unlink(tmp);
    }
    if (sk != NULL) {
        ev_secure_free(sk);
    }
    for (size_t i = 0; i < nr && r != NULL; i++) {
        ev_record_release(&r[i]);
    }
    free(r);
    free(rcpt);
    json_decref(recs);
    json_decref(man);
    free(manifest);
    free(sig);
    free(pubfile);
    free(sums);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Import                                                              */
/* ------------------------------------------------------------------ */

#define SMALL_MAX ((size_t)1 << 20)
#define MAX_RECORDS 100000

/* Reading a bundle: age file -> libarchive. */
struct in {
    int fd;
    ev_age_reader *age;
    uint8_t buf[65536];
    int age_err;
};

static int
in_read_fd(void *ctx, uint8_t *p, size_t cap, size_t *got)
{
    ssize_t n = ev_os_read_full(*(int *)ctx, p, cap);

    if (n < 0) {
        return errno != 0 ? errno : EIO;
    }
    *got = (size_t)n;
    return 0;
}

static la_ssize_t
tar_read(struct archive *a, void *ctx, const void **out)
{
    struct in *i = ctx;
    size_t got = 0;
    int e = ev_age_read(i->age, i->buf, sizeof i->buf, &got);

    if (e != EV_AGE_OK) {
        i->age_err = e;
        archive_set_error(a, EIO, "the bundle fails authentication: %s",
                          ev_age_strerror(e));
        return -1;
    }
    *out = i->buf;
    return (la_ssize_t)got;
}

struct small {
    char *name;
    char *data;
    size_t len;
};

/* What a verified bundle holds. */
struct bundle {
    struct small *s;
    size_t ns;
    char **file_paths;  /* in tar order */
    char (*file_sha)[65];
    uint64_t *file_size;
    char (*file_sealed)[80]; /* "their checkpoint of N entries, TIME" */
    size_t nfiles;
    ev_contact sender;
};

static void
bundle_free(struct bundle *b)
{
    for (size_t i = 0; i < b->ns; i++) {
        free(b->s[i].name);
        free(b->s[i].data);
    }
    free(b->s);
    for (size_t i = 0; i < b->nfiles; i++) {
        free(b->file_paths[i]);
    }
    free(b->file_paths);
    free(b->file_sha);
    free(b->file_size);
    free(b->file_sealed);
    memset(b, 0, sizeof *b);
}

static const struct small *
small_get(const struct bundle *b, const char *name)
{
    for (size_t i = 0; i < b->ns; i++) {
        if (strcmp(b->s[i].name, name) == 0) {
            return &b->s[i];
        }
    }
    return NULL;
}

static int
all_digits(const char *p, size_t n)
{
    if (n == 0 || n > 18) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return 0;
        }
    }
    return 1;
}

/* 1 for a small entry, 2 for files/<n>/<name>, 0 for anything else. */
static int
entry_kind(const char *p)
{
    static const char *const smalls[] = {
        "README.txt",    "vault.pub",          "minisign.pub",
        "MANIFEST.json", "MANIFEST.json.minisig", "SHA256SUMS",
        "SHA256SUMS.minisig", "checkpoint", NULL};
    const char *slash, *name;

    for (size_t i = 0; smalls[i] != NULL; i++) {
        if (strcmp(p, smalls[i]) == 0) {
            return 1;
        }
    }
    if (strncmp(p, "proofs/", 7) == 0) {
        size_t n = strlen(p + 7);
        return n > 11 && strcmp(p + 7 + n - 11, ".tlog-proof") == 0 &&
                       all_digits(p + 7, n - 11)
                   ? 1
                   : 0;
    }
    if (strncmp(p, "files/", 6) == 0) {
        slash = strchr(p + 6, '/');
        if (slash == NULL || !all_digits(p + 6, (size_t)(slash - p - 6))) {
            return 0;
        }
        name = slash + 1;
        if (name[0] == '\0' || strchr(name, '/') != NULL ||
            strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
            return 0;
        }
        for (const char *c = name; *c != '\0'; c++) {
            if ((unsigned char)*c < 0x20 || *c == '\\') {
                return 0;
            }
        }
        return 2;
    }
    return 0;
}

static int
open_bundle(ev_vault *v, const char *path, struct in *i, struct archive **a)
{
    ev_age_identity *id = ev_secure_alloc(sizeof *id);
    uint8_t *sk;
    int rc, e;

    *a = NULL;
    i->fd = -1;
    if (id == NULL) {
        return ev_fail(v, EV_ENOMEM, "cannot lock memory for keys");
    }
    memset(id, 0, sizeof *id);
    rc = ev_identity_load(v, &sk);
    if (rc != EV_OK) {
        ev_secure_free(id);
        return rc;
    }
    id->kind = EV_AGE_ID_X25519;
    memcpy(id->x25519_sk, sk, 32);
    ev_secure_free(sk);
    i->fd = ev_os.open(path, O_RDONLY, 0);
    if (i->fd < 0) {
        ev_secure_free(id);
        return ev_fail(v, errno == ENOENT ? EV_ENOENT : EV_EIO,
                       "cannot open '%s': %s", path, strerror(errno));
    }
    e = ev_age_reader_new(&i->age, id, 1, in_read_fd, &i->fd);
    ev_secure_free(id);
    if (e == EV_AGE_NOMEM || e == EV_AGE_IO) {
        return ev_fail(v, e == EV_AGE_NOMEM ? EV_ENOMEM : EV_EIO,
                       "cannot read '%s': %s", path, ev_age_strerror(e));
    }
    if (e != EV_AGE_OK) {
        return ev_fail(v, e == EV_AGE_NO_IDENTITY ? EV_EKEY : EV_ECORRUPT,
                       "'%s' is not a bundle for this vault: %s", path,
                       ev_age_strerror(e));
    }
    *a = archive_read_new();
    if (*a == NULL || archive_read_support_format_tar(*a) != ARCHIVE_OK ||
        archive_read_open(*a, i, NULL, tar_read, NULL) != ARCHIVE_OK) {
        return ev_fail(v, EV_ECORRUPT, "'%s' holds no tar: %s", path,
                       *a != NULL && archive_error_string(*a) != NULL
                           ? archive_error_string(*a)
                           : "unreadable");
    }
    return EV_OK;
}

static void
close_bundle(struct in *i, struct archive *a)
{
    if (a != NULL) {
        archive_read_free(a);
    }
    ev_age_reader_free(i->age);
    i->age = NULL;
    if (i->fd >= 0) {
        ev_os.close(i->fd);
        i->fd = -1;
    }
}

/* Checks one entry's header: a regular file, a known safe name, a size. */
static int
entry_ok(ev_vault *v, struct archive_entry *e, int *kind)
{
    const char *p = archive_entry_pathname(e);

    if (p == NULL || archive_entry_filetype(e) != AE_IFREG ||
        archive_entry_hardlink(e) != NULL ||
        archive_entry_symlink(e) != NULL) {
        return ev_fail(v, EV_ECORRUPT,
                       "the bundle holds '%s', which is not a regular file "
                       "(a link, device or directory): rejected",
                       p != NULL ? p : "?");
    }
    *kind = entry_kind(p);
    if (*kind == 0) {
        return ev_fail(v, EV_ECORRUPT,
                       "the bundle holds an entry with an unexpected or "
                       "unsafe name ('%s'): rejected",
                       p);
    }
    if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0 ||
        (*kind == 1 && (uint64_t)archive_entry_size(e) > SMALL_MAX) ||
        (uint64_t)archive_entry_size(e) > EV_BLOB_MAX_CONTENT) {
        return ev_fail(v, EV_ECORRUPT,
                       "the bundle's entry '%s' is oversized: rejected", p);
    }
    return EV_OK;
}

/* Finds path's hash in SHA256SUMS text ("hex  path\n" lines). */
static int
sums_lookup(const char *sums, size_t len, const char *path, char out[65])
{
    const char *p = sums, *end = sums + len;
    size_t pl = strlen(path);

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        if (ll == 66 + pl && p[64] == ' ' && p[65] == ' ' &&
            memcmp(p + 66, path, pl) == 0) {
            memcpy(out, p, 64);
            out[64] = '\0';
            return 0;
        }
        p += ll + 1;
    }
    return -1;
}

static size_t
sums_count(const char *sums, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        n += sums[i] == '\n';
    }
    return n;
}

struct sender_find {
    uint8_t pk[32];
    ev_contact c;
    int found;
};

static int
sender_one(void *arg, const ev_contact *c)
{
    struct sender_find *f = arg;
    uint8_t pk[32], kid[EV_MINISIGN_KEYID_BYTES];

    if (ev_minisign_pubkey_decode(pk, kid, c->minisign,
                                  strlen(c->minisign)) == 0 &&
        memcmp(pk, f->pk, 32) == 0) {
        f->c = *c;
        f->found = 1;
        return 1;
    }
    return 0;
}

/* Pass 1: read everything, store nothing, verify everything. */
static int
verify_bundle(ev_vault *v, const char *path, int allow_legacy,
              struct bundle *b, json_t **manifest_out)
{
    struct in i;
    struct archive *a = NULL;
    struct archive_entry *e;
    const struct small *man, *mansig, *sums, *sumsig, *mpub, *vpub;
    uint8_t pk[32], kid[EV_MINISIGN_KEYID_BYTES];
    struct sender_find sf;
    json_t *m = NULL, *recs;
    int rc, r = ARCHIVE_FATAL, kind;

    memset(&i, 0, sizeof i);
    *manifest_out = NULL;
    rc = open_bundle(v, path, &i, &a);
    while (rc == EV_OK && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *p = archive_entry_pathname(e);
        rc = entry_ok(v, e, &kind);
        if (rc != EV_OK) {
            break;
        }
        if (small_get(b, p) != NULL) {
            rc = ev_fail(v, EV_ECORRUPT, "'%s' appears twice: rejected", p);
            break;
        }
        for (size_t k = 0; k < b->nfiles; k++) {
            if (strcmp(b->file_paths[k], p) == 0) {
                rc = ev_fail(v, EV_ECORRUPT, "'%s' appears twice: rejected",
                             p);
            }
        }
        if (rc != EV_OK) {
            break;
        }
        if (kind == 1) {
            size_t n = (size_t)archive_entry_size(e), got = 0;
            struct small *ns = realloc(b->s, (b->ns + 1) * sizeof *ns);
            char *d = malloc(n + 1);
            if (ns == NULL || d == NULL) {
                free(d);
                if (ns != NULL) {
                    b->s = ns;
                }
                rc = ev_fail(v, EV_ENOMEM, "out of memory");
                break;
            }
            b->s = ns;
            while (got < n) {
                la_ssize_t k = archive_read_data(a, d + got, n - got);
                if (k <= 0) {
                    break;
                }
                got += (size_t)k;
            }
            if (got != n) {
                free(d);
                rc = ev_fail(v, EV_ECORRUPT,
                             "the bundle is cut short or altered (in '%s')",
                             p);
                break;
            }
            d[n] = '\0';
            b->s[b->ns].name = strdup(p);
            if (b->s[b->ns].name == NULL) {
                free(d);
                rc = ev_fail(v, EV_ENOMEM, "out of memory");
                break;
            }
            b->s[b->ns].data = d;
            b->s[b->ns].len = n;
            b->ns++;
            continue;
        }
        /* A file: the signed lists must have come first. */
        if (small_get(b, "SHA256SUMS") == NULL ||
            small_get(b, "SHA256SUMS.minisig") == NULL ||
            small_get(b, "MANIFEST.json") == NULL) {
            rc = ev_fail(v, EV_ECORRUPT,
                         "files come before the signed lists in the bundle: "
                         "rejected");
            break;
        }
        if (b->nfiles == MAX_RECORDS) {
            rc = ev_fail(v, EV_ECORRUPT, "too many files in the bundle");
            break;
        }
        {
            ev_sha256 *h = ev_sha256_new();
            uint8_t sha[32];
            uint64_t total = 0;
            char **np = realloc(b->file_paths, (b->nfiles + 1) * sizeof *np);
            char(*nsha)[65];
            uint64_t *nsz;
            if (np != NULL) {
                b->file_paths = np;
            }
            nsha = realloc(b->file_sha, (b->nfiles + 1) * sizeof *nsha);
            if (nsha != NULL) {
                b->file_sha = nsha;
            }
            nsz = realloc(b->file_size, (b->nfiles + 1) * sizeof *nsz);
            if (nsz != NULL) {
                b->file_size = nsz;
            }
            if (h == NULL || np == NULL || nsha == NULL || nsz == NULL) {
                ev_sha256_free(h);
                rc = ev_fail(v, EV_ENOMEM, "out of memory");
                break;
            }
            for (;;) {
                const void *buf;
                size_t n;
                la_int64_t off;
                r = archive_read_data_block(a, &buf, &n, &off);
                if (r == ARCHIVE_EOF) {
                    break;
                }
                if (r != ARCHIVE_OK || (uint64_t)off != total) {
                    break;
                }
                ev_sha256_update(h, buf, n);
                total += n;
            }
            if (ev_sha256_final(h, sha) != 0) {
                ev_sha256_free(h);
                rc = ev_fail(v, EV_ENOMEM, "cannot hash '%s': libcrypto failed",
                             p);
                break;
            }
            ev_sha256_free(h);
            if (r != ARCHIVE_EOF || total != (uint64_t)archive_entry_size(e)) {
                rc = ev_fail(v, EV_ECORRUPT,
                             "the bundle is cut short or altered (in '%s')",
                             p);
                break;
            }
            b->file_paths[b->nfiles] = strdup(p);
            if (b->file_paths[b->nfiles] == NULL) {
                rc = ev_fail(v, EV_ENOMEM, "out of memory");
                break;
            }
            ev_hex(b->file_sha[b->nfiles], sha, sizeof sha);
            b->file_size[b->nfiles] = total;
            b->nfiles++;
        }
    }
    if (rc == EV_OK && r != ARCHIVE_EOF) {
        rc = ev_fail(v, EV_ECORRUPT, "the bundle is cut short or altered: %s",
                     archive_error_string(a) != NULL ? archive_error_string(a)
                                                     : "bad tar");
    }
    close_bundle(&i, a);
    if (rc != EV_OK) {
        return rc;
    }
    /* The sender: a pinned contact with this minisign key. */
    man = small_get(b, "MANIFEST.json");
    mansig = small_get(b, "MANIFEST.json.minisig");
    sums = small_get(b, "SHA256SUMS");
    sumsig = small_get(b, "SHA256SUMS.minisig");
    mpub = small_get(b, "minisign.pub");
    vpub = small_get(b, "vault.pub");
    if (man == NULL || mansig == NULL || sums == NULL || sumsig == NULL ||
        mpub == NULL || vpub == NULL) {
        return ev_fail(v, EV_ECORRUPT,
                       "the bundle lacks its manifest, checksums, "
                       "signatures or keys: rejected");
    }
    if (ev_minisign_pubkey_decode(pk, kid, mpub->data, mpub->len) != 0) {
        return ev_fail(v, EV_ECORRUPT, "the bundle's minisign.pub is "
                                       "malformed: rejected");
    }
    memset(&sf, 0, sizeof sf);
    memcpy(sf.pk, pk, 32);
    rc = ev_contact_list(v, sender_one, &sf);
    if (rc != EV_OK) {
        return rc;
    }
    if (!sf.found) {
        return ev_fail(v, EV_ECORRUPT,
                       "the bundle is signed by a key that is no pinned "
                       "contact: rejected (add the sender with 'evault "
                       "contact add' after comparing fingerprints)");
    }
    b->sender = sf.c;
    if (ev_minisign_verify(mansig->data, mansig->len,
                           (const uint8_t *)man->data, man->len, pk, kid,
                           allow_legacy, NULL, 0) != 0 ||
        ev_minisign_verify(sumsig->data, sumsig->len,
                           (const uint8_t *)sums->data, sums->len, pk, kid,
                           allow_legacy, NULL, 0) != 0) {
        return ev_fail(v, EV_ECORRUPT,
                       "a signature in the bundle does not verify with "
                       "%s's key: rejected",
                       sf.c.name);
    }
    /* Every file is listed with its hash, and every listed file is there. */
    if (sums_count(sums->data, sums->len) != b->nfiles) {
        return ev_fail(v, EV_ECORRUPT,
                       "SHA256SUMS and the bundle's files differ: rejected");
    }
    for (size_t k = 0; k < b->nfiles; k++) {
        char want[65];
        if (sums_lookup(sums->data, sums->len, b->file_paths[k], want) != 0 ||
            strcmp(want, b->file_sha[k]) != 0) {
            return ev_fail(v, EV_ECORRUPT,
                           "'%s' does not match its SHA-256 in SHA256SUMS "
                           "(altered): rejected",
                           b->file_paths[k]);
        }
    }
    /* The manifest names the same files, and each proof verifies. */
    m = json_loadb(man->data, man->len, JSON_REJECT_DUPLICATES, NULL);
    recs = json_object_get(m, "records");
    if (!json_is_array(recs) || json_array_size(recs) != b->nfiles) {
        json_decref(m);
        return ev_fail(v, EV_ECORRUPT, "the manifest is malformed: rejected");
    }
    for (size_t k = 0; k < b->nfiles; k++) {
        json_t *rj = json_array_get(recs, k);
        const char *file = json_string_value(json_object_get(rj, "file"));
        const char *sha = json_string_value(json_object_get(rj, "sha256"));
        const char *proof = json_string_value(json_object_get(rj, "proof"));
        const struct small *ps = proof != NULL ? small_get(b, proof) : NULL;
        uint8_t raw[32];
        ev_verify_report rep;
        if (file == NULL || sha == NULL || strcmp(file, b->file_paths[k]) ||
            strcmp(sha, b->file_sha[k]) || ps == NULL ||
            ev_unhex(raw, sizeof raw, sha) != EV_OK) {
            json_decref(m);
            return ev_fail(v, EV_ECORRUPT,
                           "the manifest does not match the files: rejected");
        }
        if (k == 0) {
            b->file_sealed = calloc(b->nfiles, sizeof *b->file_sealed);
            if (b->file_sealed == NULL) {
                json_decref(m);
                return ev_fail(v, EV_ENOMEM, "out of memory");
            }
        }
        rc = ev_verify_proof(ps->data, ps->len, vpub->data, vpub->len, raw,
                             b->file_size[k], &rep);
        if (rc != EV_OK) {
            /* the message first: file points into the manifest */
            rc = rc == EV_ENOMEM
                     ? ev_fail(v, rc, "out of memory")
                     : ev_fail(v, EV_ECORRUPT,
                               "the proof of '%s' fails (%s): rejected", file,
                               rep.failure);
            json_decref(m);
            return rc;
        }
        snprintf(b->file_sealed[k], sizeof b->file_sealed[k],
                 "sealed in their checkpoint of %llu entries, %s",
                 (unsigned long long)rep.log_size, rep.sealed_at);
        {
            /* The checkpoint key must be the sender's signing key. */
            ev_note_key nk;
            if (ev_note_key_parse(&nk, vpub->data, vpub->len) != 0 ||
                memcmp(nk.pk, pk, 32) != 0) {
                json_decref(m);
                return ev_fail(v, EV_ECORRUPT,
                               "the bundle's vault.pub is not the sender's "
                               "key: rejected");
            }
        }
    }
    *manifest_out = m;
    return EV_OK;
}

struct pass2 {
    struct archive *a;
    int64_t *ids;
    size_t nids;
    const char *want_sha;
    int bad;
    int oom;
};

static long
entry_read(void *ctx, uint8_t *p, size_t n)
{
    struct pass2 *x = ctx;
    la_ssize_t r = archive_read_data(x->a, p, n);

    return r < 0 ? -1 : (long)r;
}

static int
imported_one(void *ctx, const ev_record *r)
{
    struct pass2 *x = ctx;
    char hex[65];
    int64_t *n = realloc(x->ids, (x->nids + 1) * sizeof *n);

    ev_hex(hex, r->sha256, sizeof r->sha256);
    if (n == NULL) {
        x->oom = 1;
        return 0;
    }
    x->ids = n;
    if (strcmp(hex, x->want_sha) != 0) {
        x->bad = 1;
        return 0;
    }
    x->ids = n;
    x->ids[x->nids++] = r->id;
    return 0;
}

static const char *
jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

int
ev_import(ev_vault *v, const char *path, int allow_legacy, ev_record_fn cb,
          void *ctx, size_t *nimported)
{
    struct bundle b;
    json_t *m = NULL;
    uint8_t bsha[32];
    uint64_t bsize;
    char bhex[65], note[1024];
    struct pass2 x;
    struct in i;
    struct archive *a = NULL;
    struct archive_entry *e;
    ev_custody_log log;
    int rc, r = ARCHIVE_FATAL, kind;
    size_t k = 0;

    *nimported = 0;
    memset(&b, 0, sizeof b);
    memset(&x, 0, sizeof x);
    memset(&i, 0, sizeof i);
    if (v->keys == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
    }
    rc = ev_sha256_file(path, bsha, &bsize);
    if (rc != EV_OK) {
        return ev_fail(v, rc, "cannot read '%s'", path);
    }
    ev_hex(bhex, bsha, sizeof bsha);
    /* Importing the same bundle twice adds nothing. */
    rc = ev_custody_load(v, &log);
    if (rc != EV_OK) {
        return rc;
    }
    for (uint64_t s = 0; s < log.n; s++) {
        if (strstr(log.entries[s].text, bhex) != NULL &&
            strstr(log.entries[s].text, "\naction import\n") != NULL) {
            ev_custody_log_free(&log);
            return ev_fail(v, EV_EEXIST,
                           "this bundle was imported already (custody entry "
                           "%llu): nothing added",
                           (unsigned long long)s);
        }
    }
    ev_custody_log_free(&log);
    rc = verify_bundle(v, path, allow_legacy, &b, &m);
    if (rc != EV_OK) {
        bundle_free(&b);
        return rc;
    }
    /* Pass 2: add every file in one transaction; all or nothing. */
    rc = ev_vault_lock_write(v);
    if (rc == EV_OK) {
        rc = ev_catalog_begin(v->cat);
        if (rc != EV_OK) {
            rc = ev_fail_catalog(v, rc, "cannot start a transaction");
        }
    }
    if (rc != EV_OK) {
        ev_vault_unlock_write(v);
        bundle_free(&b);
        json_decref(m);
        return rc;
    }
    v->hold_txn = 1;
    rc = open_bundle(v, path, &i, &a);
    x.a = a;
    while (rc == EV_OK && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        json_t *rj;
        ev_add_opts o;
        const char *tags[64];
        char n2[600];
        if (entry_ok(v, e, &kind) != EV_OK) {
            rc = EV_ECORRUPT;
            break;
        }
        if (kind != 2) {
            continue;
        }
        if (k >= b.nfiles ||
            strcmp(archive_entry_pathname(e), b.file_paths[k]) != 0) {
            rc = ev_fail(v, EV_ECORRUPT, "the bundle changed while it was "
                                         "imported: nothing added");
            break;
        }
        rj = json_array_get(json_object_get(m, "records"), k);
        memset(&o, 0, sizeof o);
        o.name = jstr(rj, "name") != NULL ? jstr(rj, "name")
                                          : strrchr(b.file_paths[k], '/') + 1;
        o.kind = jstr(rj, "kind");
        if (o.kind != NULL && strcmp(o.kind, "video") != 0 &&
            strcmp(o.kind, "photo") != 0 && strcmp(o.kind, "audio") != 0 &&
            strcmp(o.kind, "document") != 0 &&
            strcmp(o.kind, "testimony") != 0) {
            o.kind = "document";
        }
        o.case_name = jstr(rj, "case");
        o.source = jstr(rj, "source");
        o.captured_at = jstr(rj, "captured_at");
        o.location = jstr(rj, "location");
        snprintf(n2, sizeof n2, "imported from %s (fingerprint %s), their "
                 "record %lld, %s%s%s",
                 b.sender.name, b.sender.fingerprint,
                 (long long)json_integer_value(json_object_get(rj, "id")),
                 b.file_sealed[k],
                 jstr(rj, "note") != NULL ? "; note: " : "",
                 jstr(rj, "note") != NULL ? jstr(rj, "note") : "");
        o.note = n2;
        {
            json_t *t = json_object_get(rj, "tags");
            for (size_t q = 0; json_is_array(t) && q < json_array_size(t) &&
                               o.ntags < 64;
                 q++) {
                const char *s = json_string_value(json_array_get(t, q));
                if (s != NULL && s[0] != '\0' && strlen(s) <= 256) {
                    tags[o.ntags++] = s;
                }
            }
            o.tags = tags;
        }
        x.want_sha = b.file_sha[k];
        v->read_fn = entry_read;
        v->read_ctx = &x;
        rc = ev_record_add_reader(v, &o, imported_one, &x);
        v->read_fn = NULL;
        v->read_ctx = NULL;
        if (rc == EV_OK && x.oom) {
            rc = ev_fail(v, EV_ENOMEM, "out of memory");
        }
        if (rc == EV_OK && x.bad) {
            rc = ev_fail(v, EV_ECORRUPT, "the bundle changed while it was "
                                         "imported: nothing added");
        }
        k++;
    }
    if (rc == EV_OK && (r != ARCHIVE_EOF || k != b.nfiles)) {
        rc = ev_fail(v, EV_ECORRUPT, "the bundle changed while it was "
                                     "imported: nothing added");
    }
    close_bundle(&i, a);
    if (rc == EV_OK) {
        snprintf(note, sizeof note, "from %s (fingerprint %s); bundle %s",
                 b.sender.name, b.sender.fingerprint, bhex);
        rc = ev_custody_append(v, "import", x.ids, x.nids, note, NULL);
    }
    v->hold_txn = 0;
    if (rc == EV_OK) {
        rc = ev_catalog_commit(v->cat);
        if (rc != EV_OK) {
            rc = ev_fail_catalog(v, rc, "cannot commit the import");
        }
    }
    if (rc != EV_OK) {
        ev_catalog_rollback(v->cat);
    } else {
        *nimported = x.nids;
        for (size_t q = 0; cb != NULL && q < x.nids; q++) {
            ev_record rec;
            if (ev_record_get(v, x.ids[q], &rec) == EV_OK) {
                cb(ctx, &rec);
                ev_record_release(&rec);
            }
        }
    }
    ev_vault_unlock_write(v);
    free(x.ids);
    bundle_free(&b);
    json_decref(m);
    return rc;
}
