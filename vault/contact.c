/*
 * contact.c - the vault's public identity and its pinned contacts.
 *
 * Owns: the identity's public encodings (age recipient, minisign key,
 * fingerprint), contact files, and the contacts table's contents.
 * Never: stores a contact in the clear, or accepts a key it cannot parse.
 *
 * contacts(id, data): data = XChaCha20-Poly1305(meta key, JSON {name, age,
 * minisign}, ad = "evault contact v1" || id u64le).
 * fingerprint = Crockford base32 of BLAKE2b-104("evault fingerprint v1" ||
 * X25519 pk || Ed25519 pk), first 20 symbols in groups of 4.
 */
#include "age.h"
#include "catalog.h"
#include "custody.h"
#include "json.h"
#include "minisign.h"
#include "os.h"
#include "rotate.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <unistd.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDENTITY_BYTES (EV_BOX_SK_BYTES + EV_SIGN_SK_BYTES)

/* 0, or -1 when BLAKE2b refused its lengths (it does not: they are
 * constant). */
static int
fingerprint(char out[32], const uint8_t box_pk[32], const uint8_t ed_pk[32])
{
    uint8_t buf[21 + 64], h[13];
    char b32[32];
    size_t o = 0;

    memcpy(buf, "evault fingerprint v1", 21);
    memcpy(buf + 21, box_pk, 32);
    memcpy(buf + 53, ed_pk, 32);
    if (ev_blake2b(h, sizeof h, NULL, 0, buf, sizeof buf) != 0) {
        return -1;
    }
    ev_base32_encode(b32, h, sizeof h);
    for (size_t i = 0; i < 20; i++) {
        if (i > 0 && i % 4 == 0) {
            out[o++] = '-';
        }
        out[o++] = b32[i];
    }
    out[o] = '\0';
    return 0;
}

int
ev_identity_public(ev_vault *v, uint8_t box_pk[32], uint8_t ed_pk[32])
{
    uint8_t *sk;
    int rc = ev_identity_load(v, &sk);

    if (rc != EV_OK) {
        return rc;
    }
    rc = ev_box_sk_to_pk(box_pk, sk);
    ev_sign_sk_to_pk(ed_pk, sk + EV_BOX_SK_BYTES);
    ev_secure_free(sk);
    if (rc != 0) {
        return ev_fail(v, EV_ECORRUPT,
                       "the vault's identity key gives no public key");
    }
    return EV_OK;
}

int
ev_identity(ev_vault *v, ev_identity_info *out)
{
    uint8_t box_pk[32], ed_pk[32], keyid[EV_MINISIGN_KEYID_BYTES];
    ev_note_key k;
    int rc;

    memset(out, 0, sizeof *out);
    if (v->keys == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
    }
    rc = ev_identity_public(v, box_pk, ed_pk);
    if (rc == EV_OK) {
        rc = ev_custody_key(v, &k);
    }
    if (rc != EV_OK) {
        return rc;
    }
    snprintf(out->name, sizeof out->name, "%s", k.name);
    if (ev_minisign_keyid(keyid, ed_pk) != 0 ||
        ev_age_recipient_encode(out->age, sizeof out->age, box_pk) != 0 ||
        ev_minisign_pubkey_encode(out->minisign, sizeof out->minisign, ed_pk,
                                  keyid) != 0 ||
        fingerprint(out->fingerprint, box_pk, ed_pk) != 0) {
        return ev_fail(v, EV_EINVAL, "cannot encode the vault's keys");
    }
    return EV_OK;
}

int
ev_identity_minisign_file(ev_vault *v, char *out, size_t cap)
{
    uint8_t box_pk[32], ed_pk[32], keyid[EV_MINISIGN_KEYID_BYTES];
    int rc = ev_identity_public(v, box_pk, ed_pk);

    if (rc != EV_OK) {
        return rc;
    }
    if (ev_minisign_keyid(keyid, ed_pk) != 0) {
        return ev_fail(v, EV_EINVAL, "cannot encode the vault's keys");
    }
    return ev_minisign_pubkey_file(out, cap, ed_pk, keyid,
                                   "evault vault signing key") == 0
               ? EV_OK
               : ev_fail(v, EV_EINVAL, "buffer too small");
}

int
ev_identity_export(ev_vault *v, char *out, size_t cap)
{
    ev_identity_info id;
    int rc = ev_identity(v, &id);
    int n;

    if (rc != EV_OK) {
        return rc;
    }
    n = snprintf(out, cap,
                 "evault contact v1\nname %s\nage %s\nminisign %s\n"
                 "fingerprint %s\n",
                 v->operator_ != NULL ? v->operator_ : id.name, id.age,
                 id.minisign, id.fingerprint);
    return n > 0 && (size_t)n < cap ? EV_OK : EV_EINVAL;
}

/* Checks the keys and fills the fingerprint. */
static int
contact_check(ev_contact *c)
{
    uint8_t box_pk[32], ed_pk[32], keyid[EV_MINISIGN_KEYID_BYTES];
    size_t n = strlen(c->name);

    if (n == 0 || n > 128) {
        return EV_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)c->name[i] < 0x20) {
            return EV_EINVAL;
        }
    }
    if (ev_age_recipient_decode(box_pk, c->age) != 0 ||
        ev_minisign_pubkey_decode(ed_pk, keyid, c->minisign,
                                  strlen(c->minisign)) != 0 ||
        fingerprint(c->fingerprint, box_pk, ed_pk) != 0) {
        return EV_EINVAL;
    }
    return EV_OK;
}

int
ev_contact_parse(const char *text, size_t len, ev_contact *out)
{
    const char *p = text, *end = text + len;
    int have = 0;

    memset(out, 0, sizeof *out);
    if (len > 4096 || len < 18 || memcmp(text, "evault contact v1\n", 18) != 0) {
        return EV_EINVAL;
    }
    p += 18;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        char *dst = NULL;
        size_t cap = 0, kl = 0;
        if (ll > 5 && memcmp(p, "name ", 5) == 0) {
            dst = out->name, cap = sizeof out->name, kl = 5, have |= 1;
        } else if (ll > 4 && memcmp(p, "age ", 4) == 0) {
            dst = out->age, cap = sizeof out->age, kl = 4, have |= 2;
        } else if (ll > 9 && memcmp(p, "minisign ", 9) == 0) {
            dst = out->minisign, cap = sizeof out->minisign, kl = 9,
            have |= 4;
        }
        if (dst != NULL) {
            if (ll - kl >= cap) {
                return EV_EINVAL;
            }
            memcpy(dst, p + kl, ll - kl);
            dst[ll - kl] = '\0';
        }
        p += ll + 1;
    }
    return have == 7 ? contact_check(out) : EV_EINVAL;
}

static void
contact_ad(uint8_t ad[25], int64_t id)
{
    memcpy(ad, "evault contact v1", 17);
    ev_store64(ad + 17, (uint64_t)id);
}

int
ev_contact_rekey(const struct ev_keys *from, const struct ev_keys *to,
                 int64_t id, const uint8_t *in, size_t in_len, uint8_t *out)
{
    uint8_t ad[25];

    if (in_len > 8192) {
        return EV_ECORRUPT;
    }
    contact_ad(ad, id);
    return ev_rekey_value(from->meta, to->meta, ad, sizeof ad, in, in_len,
                          out);
}

int
ev_contact_decode(const char *js, size_t n, ev_contact *c)
{
    json_t *o = json_loadb(js, n, 0, NULL);

    memset(c, 0, sizeof *c);
    if (!json_is_object(o) || !json_is_string(json_object_get(o, "name")) ||
        !json_is_string(json_object_get(o, "age")) ||
        !json_is_string(json_object_get(o, "minisign"))) {
        json_decref(o);
        return EV_ECORRUPT;
    }
    snprintf(c->name, sizeof c->name, "%s",
             json_string_value(json_object_get(o, "name")));
    snprintf(c->age, sizeof c->age, "%s",
             json_string_value(json_object_get(o, "age")));
    snprintf(c->minisign, sizeof c->minisign, "%s",
             json_string_value(json_object_get(o, "minisign")));
    json_decref(o);
    return contact_check(c) == EV_OK ? EV_OK : EV_EINVAL;
}

struct walk {
    ev_vault *v;
    int (*fn)(void *ctx, int64_t id, const ev_contact *c);
    void *ctx;
    int rc;
};

static int
walk_one(void *arg, int64_t id, int64_t unused, const uint8_t *p, size_t n)
{
    struct walk *w = arg;
    uint8_t ad[25];
    char *js;
    ev_contact c;
    int stop, rc;

    (void)unused;
    if (n < EV_WRAP_OVERHEAD || n > 8192) {
        w->rc = ev_fail(w->v, EV_ECORRUPT, "contact %lld damaged",
                        (long long)id);
        return 1;
    }
    if ((js = malloc(n - EV_WRAP_OVERHEAD + 1)) == NULL) {
        w->rc = ev_fail(w->v, EV_ENOMEM, "out of memory");
        return 1;
    }
    contact_ad(ad, id);
    if (ev_unwrap((uint8_t *)js, p, n, ad, sizeof ad, w->v->keys->meta) !=
        0) {
        free(js);
        w->rc = ev_fail(w->v, EV_ECORRUPT,
                        "contact %lld fails authentication", (long long)id);
        return 1;
    }
    rc = ev_contact_decode(js, n - EV_WRAP_OVERHEAD, &c);
    free(js);
    if (rc != EV_OK) {
        w->rc = ev_fail(w->v, EV_ECORRUPT, "contact %lld %s", (long long)id,
                        rc == EV_EINVAL ? "has bad keys" : "unreadable");
        return 1;
    }
    stop = w->fn(w->ctx, id, &c);
    return stop != 0 ? EV_WALK_STOP : 0;
}

static int
walk_contacts(ev_vault *v, int (*fn)(void *, int64_t, const ev_contact *),
              void *ctx)
{
    struct walk w = {v, fn, ctx, EV_OK};
    int rc;

    if (v->keys == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
    }
    rc = ev_catalog_contact_each(v->cat, walk_one, &w);
    if (rc == 1) {
        return w.rc;
    }
    if (rc != EV_OK && rc != EV_WALK_STOP) {
        return ev_fail_catalog(v, rc, "cannot read contacts");
    }
    return EV_OK;
}

struct find {
    const char *name;
    int64_t id;
    ev_contact c;
};

static int
find_one(void *arg, int64_t id, const ev_contact *c)
{
    struct find *f = arg;

    if (strcmp(f->name, c->name) == 0) {
        f->id = id;
        f->c = *c;
        return 1;
    }
    return 0;
}

int
ev_contact_find(ev_vault *v, const char *name, ev_contact *out)
{
    struct find f = {name, 0, {{0}, {0}, {0}, {0}}};
    int rc = walk_contacts(v, find_one, &f);

    if (rc != EV_OK) {
        return rc;
    }
    if (f.id == 0) {
        return ev_fail(v, EV_ENOENT, "no contact named '%s'", name);
    }
    *out = f.c;
    return EV_OK;
}

int
ev_contact_add(ev_vault *v, const char *name, const char *age,
               const char *minisign)
{
    ev_contact c, old;
    json_t *o;
    char *js;
    uint8_t *w, ad[25];
    int64_t id;
    size_t n;
    int rc;

    memset(&c, 0, sizeof c);
    if (strlen(name) >= sizeof c.name || strlen(age) >= sizeof c.age ||
        strlen(minisign) >= sizeof c.minisign) {
        return ev_fail(v, EV_EINVAL, "a contact field is too long");
    }
    snprintf(c.name, sizeof c.name, "%s", name);
    snprintf(c.age, sizeof c.age, "%s", age);
    snprintf(c.minisign, sizeof c.minisign, "%s", minisign);
    if (contact_check(&c) != EV_OK) {
        return ev_fail(v, EV_EINVAL,
                       "not a valid contact: the name must be 1 to 128 "
                       "characters, --age an age1... recipient and "
                       "--minisign an RW... public key");
    }
    rc = ev_contact_find(v, name, &old);
    if (rc == EV_OK) {
        return ev_fail(v, EV_EEXIST, "a contact named '%s' exists already",
                       name);
    }
    if (rc != EV_ENOENT) {
        return rc;
    }
    o = json_pack("{s:s,s:s,s:s}", "name", c.name, "age", c.age, "minisign",
                  c.minisign);
    js = o != NULL ? ev_json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (js == NULL) {
        return ev_fail(v, EV_ENOMEM, "out of memory");
    }
    n = strlen(js);
    w = malloc(n + EV_WRAP_OVERHEAD);
    if (w == NULL) {
        free(js);
        return ev_fail(v, EV_ENOMEM, "out of memory");
    }
    rc = ev_catalog_begin(v->cat);
    if (rc == EV_OK) {
        id = ev_catalog_contact_next_id(v->cat);
        rc = id < 1 ? ev_catalog_status(v->cat) : EV_OK;
        if (rc != EV_OK) {
            ev_catalog_rollback(v->cat);
        }
    }
    if (rc == EV_OK) {
        contact_ad(ad, id);
        ev_wrap(w, (const uint8_t *)js, n, ad, sizeof ad, v->keys->meta);
        rc = ev_catalog_contact_put(v->cat, id, w, n + EV_WRAP_OVERHEAD);
        if (rc == EV_OK) {
            char note[200];
            snprintf(note, sizeof note, "contact added: fingerprint %s",
                     c.fingerprint);
            rc = ev_custody_append(v, "contact", NULL, 0, note, NULL);
        }
        if (rc == EV_OK) {
            rc = ev_catalog_commit(v->cat);
        }
        if (rc != EV_OK) {
            ev_catalog_rollback(v->cat);
        }
    }
    free(js);
    free(w);
    return rc == EV_OK ? EV_OK : ev_fail_catalog(v, rc, "cannot add contact");
}

struct list_ctx {
    int (*fn)(void *ctx, const ev_contact *c);
    void *ctx;
};

static int
list_one(void *arg, int64_t id, const ev_contact *c)
{
    struct list_ctx *l = arg;

    (void)id;
    return l->fn(l->ctx, c);
}

int
ev_contact_list(ev_vault *v, int (*fn)(void *ctx, const ev_contact *c),
                void *ctx)
{
    struct list_ctx l = {fn, ctx};

    return walk_contacts(v, list_one, &l);
}

int
ev_contact_remove(ev_vault *v, const char *name)
{
    struct find f = {name, 0, {{0}, {0}, {0}, {0}}};
    int rc = walk_contacts(v, find_one, &f);

    if (rc != EV_OK) {
        return rc;
    }
    if (f.id == 0) {
        return ev_fail(v, EV_ENOENT, "no contact named '%s'", name);
    }
    rc = ev_catalog_begin(v->cat);
    if (rc == EV_OK) {
        rc = ev_catalog_contact_delete(v->cat, f.id);
        if (rc == EV_OK) {
            char note[200];
            snprintf(note, sizeof note, "contact removed: fingerprint %s",
                     f.c.fingerprint);
            rc = ev_custody_append(v, "contact", NULL, 0, note, NULL);
        }
        if (rc == EV_OK) {
            rc = ev_catalog_commit(v->cat);
        }
        if (rc != EV_OK) {
            ev_catalog_rollback(v->cat);
        }
    }
    return rc == EV_OK ? EV_OK
                       : ev_fail_catalog(v, rc, "cannot remove contact");
}

static int
fd_read(void *ctx, uint8_t *p, size_t cap, size_t *got)
{
    ssize_t n = ev_os_read_full(*(int *)ctx, p, cap);

    if (n < 0) {
        return errno != 0 ? errno : EIO;
    }
    *got = (size_t)n;
    return 0;
}

/* An identity file held in memory, read as an age file. */
struct mem_src {
    const uint8_t *p;
    size_t n, off;
};

static int
mem_read(void *ctx, uint8_t *p, size_t cap, size_t *got)
{
    struct mem_src *m = ctx;
    size_t n = m->n - m->off < cap ? m->n - m->off : cap;

    memcpy(p, m->p + m->off, n);
    m->off += n;
    *got = n;
    return 0;
}

int
ev_age_identity_kind(const char *text, size_t len, int *age_err)
{
    static const char bin[] = "age-encryption.org/v1\n";
    static const char armor[] = "-----BEGIN AGE ENCRYPTED FILE-----";
    struct mem_src m = {(const uint8_t *)text, len, 0};
    int e;

    *age_err = EV_AGE_OK;
    if ((len < sizeof bin - 1 || memcmp(text, bin, sizeof bin - 1) != 0) &&
        (len < sizeof armor - 1 ||
         memcmp(text, armor, sizeof armor - 1) != 0)) {
        return EV_IDENTITY_CLEAR;
    }
    e = ev_age_header_scrypt(mem_read, &m);
    if (e == EV_AGE_OK) {
        return EV_IDENTITY_PASSPHRASE;
    }
    if (e == EV_AGE_NO_IDENTITY) {
        return EV_IDENTITY_FOR_KEY;
    }
    *age_err = e;
    return EV_IDENTITY_DAMAGED;
}

#define IDENTITY_TEXT_MAX 65536

int
ev_age_identity_decrypt(const char *text, size_t len, const char *pass,
                        size_t pass_len, char **out, size_t *out_len,
                        int *age_err)
{
    struct mem_src m = {(const uint8_t *)text, len, 0};
    ev_age_identity *id = ev_secure_alloc(sizeof *id);
    ev_age_reader *r = NULL;
    char *buf = ev_secure_alloc(IDENTITY_TEXT_MAX);
    size_t n = 0;
    int rc = EV_OK, e;

    *out = NULL;
    *out_len = 0;
    *age_err = EV_AGE_OK;
    if (id == NULL || buf == NULL) {
        ev_secure_free(id);
        ev_secure_free(buf);
        return EV_ENOMEM;
    }
    memset(id, 0, sizeof *id);
    id->kind = EV_AGE_ID_SCRYPT;
    id->passphrase = pass;
    id->passphrase_len = pass_len;
    e = ev_age_reader_new(&r, id, 1, mem_read, &m);
    while (e == EV_AGE_OK) {
        size_t got = 0;
        if (n == IDENTITY_TEXT_MAX) {
            rc = EV_EINVAL; /* not an identity file: far too long */
            break;
        }
        e = ev_age_read(r, (uint8_t *)buf + n, IDENTITY_TEXT_MAX - n, &got);
        if (e == EV_AGE_OK && got == 0) {
            break;
        }
        n += got;
    }
    if (e != EV_AGE_OK) {
        *age_err = e;
        /* A damaged identity file is the user's input, not evidence:
         * not EV_ECORRUPT, which says the evidence is not intact. */
        rc = e == EV_AGE_NO_IDENTITY ? EV_EKEY
             : e == EV_AGE_NOMEM     ? EV_ENOMEM
                                     : EV_EINVAL;
    }
    ev_age_reader_free(r);
    ev_secure_free(id);
    if (rc != EV_OK) {
        ev_secure_free(buf);
        return rc;
    }
    *out = buf;
    *out_len = n;
    return EV_OK;
}

int
ev_age_decrypt_file(const ev_age_source *src, int in_fd, const char *path,
                    int *age_err, unsigned *swept)
{
    ev_os_out o;
    int rc;

    *age_err = EV_AGE_OK;
    if (swept != NULL) {
        *swept = 0;
    }
    if (access(path, F_OK) == 0) {
        return EV_EEXIST;
    }
    rc = ev_os_out_open(&o, path, 0);
    if (swept != NULL) {
        *swept = o.swept; /* removed even if what follows fails */
    }
    if (rc != 0) {
        return ev_errno_status(errno);
    }
    rc = ev_age_decrypt(src, in_fd, o.fd, age_err);
    if (rc != EV_OK) {
        ev_os_out_abort(&o);
        return rc;
    }
    if (ev_os_out_commit(&o, path, 0) != 0) {
        return errno == EEXIST ? EV_EEXIST : ev_errno_status(errno);
    }
    return EV_OK;
}

const char *
ev_age_error_text(int age_err)
{
    return ev_age_strerror(age_err);
}

int
ev_age_decrypt(const ev_age_source *src, int in_fd, int out_fd, int *age_err)
{
    ev_age_identity *id = ev_secure_alloc(sizeof *id);
    ev_age_reader *r = NULL;
    uint8_t *buf = NULL;
    int rc = EV_OK, e;

    *age_err = EV_AGE_OK;
    if (id == NULL) {
        return EV_ENOMEM;
    }
    memset(id, 0, sizeof *id);
    if (src->identity != NULL) {
        id->kind = EV_AGE_ID_X25519;
        if (ev_age_identity_file_parse(id->x25519_sk, src->identity,
                                       src->identity_len) != 0) {
            *age_err = EV_AGE_KEY;
            rc = EV_EINVAL;
            goto cleanup;
        }
    } else if (src->passphrase != NULL) {
        id->kind = EV_AGE_ID_SCRYPT;
        id->passphrase = src->passphrase;
        id->passphrase_len = src->passphrase_len;
    } else if (src->vault != NULL && src->vault->keys != NULL) {
        uint8_t *sk;
        rc = ev_identity_load(src->vault, &sk);
        if (rc != EV_OK) {
            goto cleanup;
        }
        id->kind = EV_AGE_ID_X25519;
        memcpy(id->x25519_sk, sk, 32);
        ev_secure_free(sk);
    } else {
        rc = EV_EINVAL;
        goto cleanup;
    }
    e = ev_age_reader_new(&r, id, 1, fd_read, &in_fd);
    if (e != EV_AGE_OK) {
        *age_err = e;
        rc = e == EV_AGE_NO_IDENTITY ? EV_EKEY
             : e == EV_AGE_IO        ? EV_EIO
             : e == EV_AGE_NOMEM     ? EV_ENOMEM
                                     : EV_ECORRUPT;
        goto cleanup;
    }
    buf = malloc(65536);
    if (buf == NULL) {
        rc = EV_ENOMEM;
        goto cleanup;
    }
    for (;;) {
        size_t got = 0;
        e = ev_age_read(r, buf, 65536, &got);
        if (e != EV_AGE_OK) {
            *age_err = e;
            rc = e == EV_AGE_IO ? EV_EIO : EV_ECORRUPT;
            break;
        }
        if (got == 0) {
            break;
        }
        if (ev_os_write_full(out_fd, buf, got) != 0) {
            rc = errno == ENOSPC ? EV_ENOSPC : EV_EIO;
            break;
        }
    }
cleanup:
    if (buf != NULL) {
        ev_wipe(buf, 65536);
        free(buf);
    }
    ev_age_reader_free(r);
    ev_secure_free(id);
    return rc;
}

/* ev_record_add_age: a thread decrypts into a pipe that the intake reads;
 * the intake asks input_ok before keeping the record. */
struct age_feed {
    ev_age_reader *r;
    int wfd;
    int err; /* ev_age_err, published before the pipe is closed */
};

static void *
age_feed_main(void *arg)
{
    struct age_feed *a = arg;
    uint8_t *buf = malloc(65536);
    int e = buf == NULL ? EV_AGE_NOMEM : EV_AGE_OK;

    while (e == EV_AGE_OK) {
        size_t got = 0;
        e = ev_age_read(a->r, buf, 65536, &got);
        if (e != EV_AGE_OK || got == 0) {
            break;
        }
        if (ev_os_write_full(a->wfd, buf, got) != 0) {
            e = EV_AGE_IO;
        }
    }
    if (buf != NULL) {
        ev_wipe(buf, 65536);
        free(buf);
    }
    __atomic_store_n(&a->err, e, __ATOMIC_SEQ_CST);
    ev_os.close(a->wfd);
    return NULL;
}

static int
age_feed_ok(void *ctx)
{
    struct age_feed *a = ctx;

    return __atomic_load_n(&a->err, __ATOMIC_SEQ_CST) == EV_AGE_OK;
}

int
ev_record_add_age(ev_vault *v, int age_fd, const ev_add_opts *opts,
                  ev_record_fn cb, void *ctx, int *age_err)
{
    ev_age_identity *id;
    struct age_feed a = {NULL, -1, EV_AGE_OK};
    ev_add_opts o;
    pthread_t th;
    uint8_t *sk;
    int p[2], rc, e;

    *age_err = EV_AGE_OK;
    if (v->keys == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
    }
    id = ev_secure_alloc(sizeof *id);
    if (id == NULL) {
        return EV_ENOMEM;
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
    e = ev_age_reader_new(&a.r, id, 1, fd_read, &age_fd);
    ev_secure_free(id);
    if (e != EV_AGE_OK) {
        *age_err = e;
        return ev_fail(v, e == EV_AGE_NO_IDENTITY ? EV_EKEY : EV_ECORRUPT,
                       "cannot open the age file: %s", ev_age_strerror(e));
    }
    if (pipe(p) != 0) {
        ev_age_reader_free(a.r);
        return ev_fail(v, EV_EIO, "pipe: %s", strerror(errno));
    }
    a.wfd = p[1];
    if (pthread_create(&th, NULL, age_feed_main, &a) != 0) {
        ev_os.close(p[0]);
        ev_os.close(p[1]);
        ev_age_reader_free(a.r);
        return EV_ENOMEM;
    }
    o = *opts;
    o.input_ok = age_feed_ok;
    o.input_ctx = &a;
    rc = ev_record_add_fd(v, p[0], &o, cb, ctx);
    /* Drain whatever the intake did not read, so the thread can end. */
    {
        uint8_t sink[4096];
        while (ev_os.read(p[0], sink, sizeof sink) > 0) {
        }
    }
    pthread_join(th, NULL);
    ev_os.close(p[0]);
    ev_age_reader_free(a.r);
    if (a.err != EV_AGE_OK) {
        *age_err = a.err;
        if (rc == EV_OK || rc == EV_ECORRUPT) {
            rc = ev_fail(v, EV_ECORRUPT,
                         "the age file fails: %s; nothing was added",
                         ev_age_strerror(a.err));
        }
    }
    return rc;
}
