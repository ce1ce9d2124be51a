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
 *   proofs/<id>.tlog-proof  one per record
 *   files/<id>/<name>       the records' original bytes
 */
#include "age.h"
#include "custody.h"
#include "minisign.h"
#include "os.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
};

static int
file_write(void *ctx, const uint8_t *p, size_t n)
{
    struct out *o = ctx;

    o->bytes += n;
    return ev_os_write_full(o->fd, p, n) == 0 ? 0 : errno;
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

static int
data_to_tar(void *ctx, const uint8_t *p, size_t n)
{
    struct archive *a = ctx;

    return archive_write_data(a, p, n) == (la_ssize_t)n ? 0 : EIO;
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

static void
put_field(json_t *j, const ev_share_opts *o, const char *k, const char *v)
{
    if (v != NULL && !redacted(o, k)) {
        json_object_set_new(j, k, json_string(v));
    }
}

static const char *const fields[] = {"name",     "kind",        "case",
                                     "source",   "note",        "captured_at",
                                     "location", "tags",        "added_by",
                                     NULL};

int
ev_share(ev_vault *v, const int64_t *ids, size_t nids,
         const ev_share_opts *opts, const char *out_path)
{
    uint8_t(*rcpt)[32] = NULL;
    ev_identity_info me;
    char tmp[PATH_MAX], name[256], path[512], hex[65], note[1024];
    char *manifest = NULL, *sig = NULL, *sums = NULL, *pubfile = NULL;
    size_t sums_len = 0, sums_cap = 0, nr = 0;
    uint8_t *sk = NULL;
    uint8_t keyid[EV_MINISIGN_KEYID_BYTES], ed_pk[32], box_pk[32];
    struct archive *a = NULL;
    struct out o = {-1, NULL, 0};
    json_t *man = NULL, *recs = NULL;
    ev_record *r = NULL;
    char vault_pub[256];
    int rc = EV_OK;

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
        rc = EV_ENOMEM;
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
    ev_minisign_keyid(keyid, ed_pk);

    /* MANIFEST.json and SHA256SUMS. */
    man = json_object();
    recs = json_array();
    json_object_set_new(man, "format", json_string("evault bundle v1"));
    json_object_set_new(
        man, "sender",
        json_pack("{s:s,s:s,s:s,s:s}", "key", vault_pub, "age", me.age,
                  "minisign", me.minisign, "fingerprint", me.fingerprint));
    {
        char when[32];
        ev_custody_time(when, (int64_t)time(NULL));
        json_object_set_new(man, "created_at", json_string(when));
    }
    for (size_t i = 0; i < nids; i++) {
        json_t *j = json_object(), *tags = json_array();
        int n;
        safe_name(name, sizeof name, r[i].name);
        ev_hex(hex, r[i].sha256, sizeof r[i].sha256);
        snprintf(path, sizeof path, "files/%lld/%s", (long long)r[i].id,
                 name);
        json_object_set_new(j, "id", json_integer(r[i].id));
        json_object_set_new(j, "file", json_string(path));
        json_object_set_new(j, "sha256", json_string(hex));
        json_object_set_new(j, "size", json_integer((json_int_t)r[i].size));
        put_field(j, opts, "name", r[i].name);
        put_field(j, opts, "kind", r[i].kind);
        put_field(j, opts, "case", r[i].case_name);
        put_field(j, opts, "source", r[i].source);
        put_field(j, opts, "note", r[i].note);
        put_field(j, opts, "captured_at", r[i].captured_at);
        put_field(j, opts, "location", r[i].location);
        put_field(j, opts, "added_by", r[i].added_by);
        if (!redacted(opts, "tags")) {
            for (size_t t = 0; t < r[i].ntags; t++) {
                json_array_append_new(tags, json_string(r[i].tags[t]));
            }
            json_object_set(j, "tags", tags);
        }
        json_decref(tags);
        {
            char when[32];
            ev_custody_time(when, r[i].added_at);
            json_object_set_new(j, "added_at", json_string(when));
        }
        snprintf(path, sizeof path, "proofs/%lld.tlog-proof",
                 (long long)r[i].id);
        json_object_set_new(j, "proof", json_string(path));
        json_array_append_new(recs, j);
        /* sha256sum's format: hash, two spaces, path */
        if (sums_len + 600 > sums_cap) {
            char *ns;
            sums_cap = sums_cap ? 2 * sums_cap : 4096;
            ns = realloc(sums, sums_cap);
            if (ns == NULL) {
                rc = EV_ENOMEM;
                goto cleanup;
            }
            sums = ns;
        }
        n = snprintf(sums + sums_len, sums_cap - sums_len,
                     "%s  files/%lld/%s\n", hex, (long long)r[i].id, name);
        sums_len += (size_t)n;
    }
    json_object_set_new(man, "records", recs);
    recs = NULL;
    if (opts->nredact > 0) {
        json_t *red = json_array();
        for (size_t i = 0; i < opts->nredact; i++) {
            json_array_append_new(red, json_string(opts->redact[i]));
        }
        json_object_set_new(man, "redacted", red);
    }
    manifest = json_dumps(man, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    sig = malloc(EV_MINISIGN_SIG_MAX * 2);
    pubfile = malloc(EV_MINISIGN_PUBFILE_MAX);
    if (manifest == NULL || sig == NULL || pubfile == NULL || sums == NULL) {
        rc = EV_ENOMEM;
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
    o.fd = ev_os.open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644);
    if (o.fd < 0) {
        rc = ev_fail(v, errno == ENOSPC ? EV_ENOSPC : EV_EIO,
                     "cannot create '%s': %s", tmp, strerror(errno));
        goto cleanup;
    }
    if (ev_age_writer_new(&o.age, (const uint8_t(*)[32])rcpt, opts->nto + 1,
                          file_write, &o) != EV_AGE_OK) {
        rc = ev_fail(v, EV_EIO, "cannot start the age file");
        goto cleanup;
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
            rc = ev_fail(v, EV_EIO, "cannot write the bundle: %s",           \
                         archive_error_string(a) ? archive_error_string(a)   \
                                                 : "write failed");          \
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
    for (size_t i = 0; i < nids; i++) {
        safe_name(name, sizeof name, r[i].name);
        snprintf(path, sizeof path, "files/%lld/%s", (long long)r[i].id, name);
        TRY(add_entry(a, path, (int64_t)r[i].size));
        rc = ev_record_stream(v, r[i].id, data_to_tar, a);
        if (rc != EV_OK) {
            goto cleanup;
        }
    }
    TRY(archive_write_close(a) == ARCHIVE_OK ? 0 : -1);
#undef TRY
    if (ev_age_finish(o.age) != EV_AGE_OK || ev_os.fsync(o.fd) != 0) {
        rc = ev_fail(v, EV_EIO, "cannot finish '%s': %s", tmp,
                     strerror(errno));
        goto cleanup;
    }
    ev_os.close(o.fd);
    o.fd = -1;
    if (ev_os.rename(tmp, out_path) != 0) {
        rc = ev_fail(v, EV_EIO, "cannot rename to '%s': %s", out_path,
                     strerror(errno));
        ev_os.unlink(tmp);
        goto cleanup;
    }
    /* The custody log: what, to whom, which fields left out. */
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
