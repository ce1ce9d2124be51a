/*
 * verify.c - checking a file against a tlog proof and a verifier key, with
 * no vault: what a court or opposing counsel runs.
 *
 * Owns: the order of checks and the words of each failure.
 * Never: trusts the proof's extra data before the inclusion proof ties it
 * to a checkpoint signed by the given key.
 */
#include "crypto.h"
#include "evault.h"
#include "note.h"
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
fail(ev_verify_report *r, const char *what)
{
    if (r->failure[0] == '\0') {
        snprintf(r->failure, sizeof r->failure, "%s", what);
    }
    r->ok = 0;
    return EV_ECORRUPT;
}

/* Reads "key value" from entry text (no newline in value). */
static int
field(const char *text, size_t len, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        if (ll > kl && memcmp(p, key, kl) == 0 && p[kl] == ' ') {
            if (ll - kl - 1 >= cap) {
                return -1;
            }
            memcpy(out, p + kl + 1, ll - kl - 1);
            out[ll - kl - 1] = '\0';
            return 0;
        }
        if (nl == NULL) {
            break;
        }
        p = nl + 1;
    }
    return -1;
}

static int
parse_dec(const char *s, uint64_t *v)
{
    char *end;

    if (*s < '0' || *s > '9') {
        return -1;
    }
    errno = 0;
    *v = strtoull(s, &end, 10);
    return errno != 0 || *end != '\0' ? -1 : 0;
}

int
ev_verify_proof(const char *proof, size_t proof_len, const char *key,
                size_t key_len, const uint8_t sha256[EV_SHA256_BYTES],
                uint64_t size, ev_verify_report *r)
{
    ev_note_key k;
    ev_tlog_proof *p;
    ev_checkpoint c;
    ev_hash leaf;
    char buf[80], hex[65];
    uint64_t n;
    int rc;

    memset(r, 0, sizeof *r);
    if (ev_note_key_parse(&k, key, key_len) != 0) {
        fail(r, "the key file is not an evault verification key "
                "(name+keyid+base64)");
        return EV_EINVAL;
    }
    r->key_ok = 1;
    snprintf(r->key_name, sizeof r->key_name, "%s", k.name);
    ev_hex(r->key_id, k.id, sizeof k.id);
    p = malloc(sizeof *p);
    if (p == NULL) {
        return EV_ENOMEM;
    }
    if (ev_tlog_proof_parse(p, proof, proof_len) != 0) {
        free(p);
        fail(r, "the proof file is not a c2sp.org/tlog-proof@v1 proof");
        return EV_EINVAL;
    }
    r->proof_ok = 1;
    r->index = p->index;
    rc = ev_checkpoint_open(&c, p->checkpoint, p->checkpoint_len, &k);
    if (rc == -2) {
        rc = fail(r, "the checkpoint is not signed by this key");
        goto cleanup;
    }
    if (rc != 0) {
        rc = fail(r, rc == -3 ? "the checkpoint's signature is invalid "
                                "(forged or altered)"
                              : "the checkpoint is malformed");
        goto cleanup;
    }
    r->signature_ok = 1;
    r->log_size = c.size;
    snprintf(r->sealed_at, sizeof r->sealed_at, "%s", c.time);
    if (strcmp(c.origin, k.name) != 0) {
        rc = fail(r, "the checkpoint is for another log than this key's");
        goto cleanup;
    }
    ev_merkle_leaf(leaf, p->extra, p->extra_len);
    if (p->extra_len == 0 ||
        ev_merkle_inclusion_verify(leaf, p->index, c.size, p->path,
                                   p->npath, c.root) != 0) {
        rc = fail(r, "the entry is not in the signed log (inclusion proof "
                     "fails: the proof was altered)");
        goto cleanup;
    }
    r->inclusion_ok = 1;
    /* Only now is the entry trusted: it is in a tree the key signed. */
    {
        const char *t = (const char *)p->extra;
        size_t tl = p->extra_len;
        static const char head[] = "evault custody v1\n";
        if (tl < sizeof head - 1 || memcmp(t, head, sizeof head - 1) != 0 ||
            field(t, tl, "action", buf, sizeof buf) != 0 ||
            strcmp(buf, "add") != 0 ||
            field(t, tl, "seq", buf, sizeof buf) != 0 ||
            parse_dec(buf, &n) != 0 || n != p->index ||
            field(t, tl, "record", buf, sizeof buf) != 0 ||
            parse_dec(buf, &n) != 0 ||
            field(t, tl, "sha256", r->sha256, sizeof r->sha256) != 0 ||
            strlen(r->sha256) != 64 ||
            field(t, tl, "size", buf, sizeof buf) != 0 ||
            parse_dec(buf, &r->size) != 0 ||
            field(t, tl, "time", r->entered_at, sizeof r->entered_at) != 0) {
            rc = fail(r, "the disclosed entry is not an evault intake entry");
            goto cleanup;
        }
        r->record = (int64_t)n;
        field(t, tl, "commitment", r->commitment, sizeof r->commitment);
    }
    r->entry_ok = 1;
    ev_hex(hex, sha256, EV_SHA256_BYTES);
    if (strcmp(hex, r->sha256) != 0) {
        rc = fail(r, "the file's SHA-256 differs from the one recorded at "
                     "intake: this is not the file that was collected");
        goto cleanup;
    }
    if (size != r->size) {
        rc = fail(r, "the file's size differs from the one recorded at "
                     "intake");
        goto cleanup;
    }
    r->hash_ok = 1;
    r->ok = 1;
    rc = EV_OK;
cleanup:
    free(p);
    return rc;
}

int
ev_sha256_file(const char *path, uint8_t sha256[EV_SHA256_BYTES],
               uint64_t *size)
{
    int fd = ev_os.open(path, O_RDONLY, 0);
    ev_sha256 *h;
    uint8_t *buf;
    ssize_t got;
    int rc = EV_OK;

    if (fd < 0) {
        return errno == ENOENT ? EV_ENOENT : EV_EIO;
    }
    h = ev_sha256_new();
    buf = malloc((size_t)1 << 20);
    if (h == NULL || buf == NULL) {
        rc = EV_ENOMEM;
        goto cleanup;
    }
    *size = 0;
    while ((got = ev_os_read_full(fd, buf, (size_t)1 << 20)) > 0) {
        ev_sha256_update(h, buf, (size_t)got);
        *size += (uint64_t)got;
        if ((size_t)got < ((size_t)1 << 20)) {
            break;
        }
    }
    if (got < 0) {
        rc = EV_EIO;
    } else if (ev_sha256_final(h, sha256) != 0) {
        rc = EV_ENOMEM; /* libcrypto failed */
    }
cleanup:
    free(buf);
    ev_sha256_free(h);
    ev_os.close(fd);
    return rc;
}
