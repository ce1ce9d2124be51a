/*
 * vault.c - the vault handle: create, open, unlock, the writer lock.
 *
 * Owns: the vault directory's top level (vault.db, lock, blobs/, tmp/), the
 * meta table's keys, and the master key's lifetime in guarded memory.
 * Never: prints, prompts, or keeps a key outside sodium_malloc memory.
 *
 * meta keys: "magic" = "evault", "format" = "2" (ASCII), "vault_id" = 16
 * random bytes, "identity" = XChaCha20-Poly1305(identity key, X25519 sk ||
 * Ed25519 sk, ad = "evault identity v1" || vault id).
 */
#include "blob.h"
#include "custody.h"
#include "internal.h"
#include "keyslot.h"
#include "os.h"
#include "rotate.h"
#include "s3.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define CATALOG_NAME "vault.db"
#define LOCK_NAME "lock"
#define IDENTITY_BYTES (EV_BOX_SK_BYTES + EV_SIGN_SK_BYTES)

int
ev_init(void)
{
    if (ev_crypto_init() != 0) {
        return EV_ENOMEM;
    }
    OPENSSL_init_crypto(0, NULL);
    return EV_OK;
}

int
ev_fail(ev_vault *v, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(v->errmsg, sizeof v->errmsg, fmt, ap);
    va_end(ap);
    v->hint[0] = '\0';
    return code;
}

int
ev_fail_catalog(ev_vault *v, int code, const char *what)
{
    return ev_fail(v, code, "%s: %s", what, ev_catalog_errmsg(v->cat));
}

int
ev_vault_new(ev_vault **out)
{
    ev_vault *v = calloc(1, sizeof *v);

    *out = v;
    if (v == NULL) {
        return EV_ENOMEM;
    }
    v->lock_fd = -1;
    v->busy_ms = 10000;
    return ev_init();
}

static void
close_parts(ev_vault *v)
{
    ev_kdf_job_free(v->unlocking); /* waits for its thread */
    v->unlocking = NULL;
    ev_vault_unlock_write(v);
    ev_catalog_close(v->cat);
    v->cat = NULL;
    ev_store_close(v->store);
    v->store = NULL;
    v->store_loaded = 0;
    ev_chunk_ctx_free(v->chunk_ctx);
    v->chunk_ctx = NULL;
    if (v->rbuf_out != NULL) {
        ev_wipe(v->rbuf_out, v->rbuf_out_cap);
    }
    free(v->rbuf_in);
    free(v->rbuf_out);
    v->rbuf_in = v->rbuf_out = NULL;
    v->rbuf_in_cap = v->rbuf_out_cap = 0;
    if (v->keys != NULL) {
        ev_secure_free(v->keys);
        v->keys = NULL;
        v->slot_id = 0;
        v->slot_kind = 0;
    }
    free(v->dir);
    v->dir = NULL;
}

static void
free_operator(ev_vault *v)
{
    free(v->operator_);
    v->operator_ = NULL;
}

void
ev_vault_free(ev_vault *v)
{
    if (v == NULL) {
        return;
    }
    close_parts(v);
    free_operator(v);
    free(v);
}

const char *
ev_vault_errmsg(const ev_vault *v)
{
    return v != NULL ? v->errmsg : "out of memory";
}

const char *
ev_vault_hint(const ev_vault *v)
{
    return v != NULL ? v->hint : "";
}

void
ev_vault_set_progress(ev_vault *v, ev_progress_fn fn, void *ctx)
{
    v->progress = fn;
    v->progress_ctx = ctx;
}

void
ev_vault_set_busy_timeout(ev_vault *v, int ms)
{
    v->busy_ms = ms < 0 ? 0 : ms;
}

int
ev_vault_set_master(ev_vault *v, const uint8_t mk[EV_KEY_BYTES])
{
    struct ev_keys *k = v->keys;

    if (k == NULL) {
        k = ev_secure_alloc(sizeof *k);
        if (k == NULL) {
            return ev_fail(v, EV_ENOMEM, "cannot lock memory for keys");
        }
    }
    memmove(k->mk, mk, EV_KEY_BYTES);
    ev_kdf_subkey(k->meta, EV_SUBKEY_META, k->mk);
    ev_kdf_subkey(k->blind, EV_SUBKEY_BLIND, k->mk);
    ev_kdf_subkey(k->blobid, EV_SUBKEY_BLOBID, k->mk);
    ev_kdf_subkey(k->dek, EV_SUBKEY_DEK, k->mk);
    ev_kdf_subkey(k->identity, EV_SUBKEY_IDENTITY, k->mk);
    ev_kdf_subkey(k->custody, EV_SUBKEY_CUSTODY, k->mk);
    v->keys = k;
    return EV_OK;
}

static void
store_ad(ev_vault *v, uint8_t ad[15 + EV_VAULT_ID_BYTES])
{
    memcpy(ad, "evault store v1", 15);
    memcpy(ad + 15, v->vault_id, EV_VAULT_ID_BYTES);
}

int
ev_vault_store_save(ev_vault *v, const ev_s3_config *cfg)
{
    uint8_t ad[15 + EV_VAULT_ID_BYTES];
    uint8_t w[1024 + EV_WRAP_OVERHEAD];
    char text[1024];
    size_t n;
    int rc;

    if (cfg == NULL) {
        /* an empty value: the vault directory (the column is NOT NULL) */
        rc = ev_catalog_meta_put(v->cat, "store", "", 0);
        return rc == EV_OK ? EV_OK : ev_fail_catalog(v, rc, "cannot write");
    }
    if (ev_s3_config_encode(cfg, text, sizeof text, &n) != EV_OK) {
        return ev_fail(v, EV_EINVAL, "the store settings are too long");
    }
    store_ad(v, ad);
    ev_wrap(w, (const uint8_t *)text, n, ad, sizeof ad, v->keys->meta);
    rc = ev_catalog_meta_put(v->cat, "store", w, n + EV_WRAP_OVERHEAD);
    return rc == EV_OK ? EV_OK : ev_fail_catalog(v, rc, "cannot write");
}

/* Re-encrypts one value of the meta table under the new keys (what names
 * it in messages, damaged says it failed authentication); an absent value (or an empty one, when empty_is_none)
 * is left alone. */
static int
rekey_meta(ev_vault *v, const struct ev_keys *from, const struct ev_keys *to,
           const char *key, const uint8_t *ad, size_t ad_len, size_t max,
           int empty_is_none, const char *what, const char *damaged)
{
    char msg[64];
    ev_bytes b = {0};
    uint8_t *w;
    int rc = ev_catalog_meta_get(v->cat, key, &b);

    if (rc == EV_ENOENT || (rc == EV_OK && b.n == 0 && empty_is_none)) {
        ev_bytes_free(&b);
        return EV_OK;
    }
    if (rc != EV_OK) {
        snprintf(msg, sizeof msg, "cannot read %s", what);
        return ev_fail_catalog(v, rc, msg);
    }
    w = malloc(b.n > 0 ? b.n : 1);
    rc = w == NULL ? EV_ENOMEM
         : b.n <= EV_WRAP_OVERHEAD || b.n > max + EV_WRAP_OVERHEAD
             ? EV_ECORRUPT
             : ev_rekey_value(from->meta, to->meta, ad, ad_len, b.p, b.n, w);
    if (rc == EV_OK) {
        rc = ev_catalog_meta_put(v->cat, key, w, b.n);
        if (rc != EV_OK) {
            snprintf(msg, sizeof msg, "cannot write %s", what);
            rc = ev_fail_catalog(v, rc, msg);
        }
    } else if (rc == EV_ECORRUPT) {
        rc = ev_fail(v, rc, "%s", damaged);
    }
    free(w);
    ev_bytes_free(&b);
    return rc;
}

int
ev_store_settings_rekey(ev_vault *v, const struct ev_keys *from,
                        const struct ev_keys *to)
{
    uint8_t ad[15 + EV_VAULT_ID_BYTES];

    store_ad(v, ad);
    return rekey_meta(v, from, to, "store", ad, sizeof ad, 1024, 1,
                      "the store settings",
                      "the store settings fail authentication");
}

int
ev_vault_store_load(ev_vault *v, ev_s3_config *cfg, int *found)
{
    uint8_t ad[15 + EV_VAULT_ID_BYTES];
    ev_bytes b = {0};
    char text[1024];
    int rc;

    *found = 0;
    rc = ev_catalog_meta_get(v->cat, "store", &b);
    if (rc == EV_ENOENT || (rc == EV_OK && b.n == 0)) {
        ev_bytes_free(&b);
        return EV_OK;
    }
    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc, "cannot read the store settings");
    }
    store_ad(v, ad);
    if (b.n <= EV_WRAP_OVERHEAD || b.n > sizeof text + EV_WRAP_OVERHEAD ||
        ev_unwrap((uint8_t *)text, b.p, b.n, ad, sizeof ad, v->keys->meta) !=
            0 ||
        ev_s3_config_decode(cfg, text, b.n - EV_WRAP_OVERHEAD) != EV_OK) {
        ev_bytes_free(&b);
        return ev_fail(v, EV_ECORRUPT,
                       "the store settings fail authentication (altered)");
    }
    ev_bytes_free(&b);
    *found = 1;
    return EV_OK;
}

int
ev_vault_lock_write(ev_vault *v)
{
    char path[PATH_MAX];
    int waited = 0;

    if (v->lock_fd >= 0) {
        return EV_OK;
    }
    snprintf(path, sizeof path, "%s/%s", v->dir, LOCK_NAME);
    v->lock_fd = ev_os.open(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
    if (v->lock_fd < 0) {
        return ev_fail(v, errno == ENOSPC ? EV_ENOSPC : EV_EIO,
                       "cannot open '%s': %s", path, strerror(errno));
    }
    while (ev_os.flock(v->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        if (errno != EWOULDBLOCK && errno != EINTR) {
            int e = errno;
            ev_os.close(v->lock_fd);
            v->lock_fd = -1;
            return ev_fail(v, EV_EIO, "cannot lock '%s': %s", path,
                           strerror(e));
        }
        if (waited >= v->busy_ms) {
            ev_os.close(v->lock_fd);
            v->lock_fd = -1;
            return ev_fail(v, EV_EBUSY,
                           "vault '%s' is busy: another evault process is "
                           "writing to it",
                           v->dir);
        }
        nanosleep(&ts, NULL);
        waited += 50;
    }
    return EV_OK;
}

void
ev_vault_unlock_write(ev_vault *v)
{
    if (v->cat != NULL) {
        /* blobs put ahead of their rows never outlive the lock */
        ev_catalog_pack_close(v->cat);
    }
    if (v->lock_fd >= 0) {
        ev_os.flock(v->lock_fd, LOCK_UN);
        ev_os.close(v->lock_fd);
        v->lock_fd = -1;
    }
}

static int
open_catalog(ev_vault *v, int create)
{
    char path[PATH_MAX];
    int rc;

    snprintf(path, sizeof path, "%s/%s", v->dir, CATALOG_NAME);
    rc = ev_catalog_open(&v->cat, path, create, v->busy_ms);
    if (rc != EV_OK) {
        if (rc == EV_ENOENT || rc == EV_ENOTVAULT) {
            return ev_fail(v, EV_ENOTVAULT, "'%s' is not an evault vault",
                           v->dir);
        }
        return ev_fail(v, rc, "cannot open '%s': %s", path,
                       ev_catalog_errmsg(v->cat));
    }
    rc = ev_store_open(&v->store, v->dir, v->errmsg, sizeof v->errmsg);
    if (rc == EV_OK) {
        ev_store_set_hint_buffer(v->store, v->hint, sizeof v->hint);
    }
    return rc;
}

static int
make_identity(ev_vault *v)
{
    uint8_t *sk = ev_secure_alloc(IDENTITY_BYTES);
    uint8_t pk[EV_SIGN_PK_BYTES];
    uint8_t wrapped[IDENTITY_BYTES + EV_WRAP_OVERHEAD];
    uint8_t ad[18 + EV_VAULT_ID_BYTES];
    int rc;

    if (sk == NULL) {
        return ev_fail(v, EV_ENOMEM, "cannot lock memory for keys");
    }
    ev_box_keypair(pk, sk);
    ev_sign_keypair(pk, sk + EV_BOX_SK_BYTES);
    memcpy(ad, "evault identity v1", 18);
    memcpy(ad + 18, v->vault_id, EV_VAULT_ID_BYTES);
    ev_wrap(wrapped, sk, IDENTITY_BYTES, ad, sizeof ad, v->keys->identity);
    ev_secure_free(sk);
    rc = ev_catalog_meta_put(v->cat, "identity", wrapped, sizeof wrapped);
    return rc == EV_OK ? EV_OK : ev_fail_catalog(v, rc, "cannot write");
}

static void
operator_ad(ev_vault *v, uint8_t ad[18 + EV_VAULT_ID_BYTES])
{
    memcpy(ad, "evault operator v1", 18);
    memcpy(ad + 18, v->vault_id, EV_VAULT_ID_BYTES);
}

static int
store_default_operator(ev_vault *v, const char *name)
{
    uint8_t ad[18 + EV_VAULT_ID_BYTES], *w;
    size_t n = strlen(name);
    int rc;

    if (n == 0 || n > 256) {
        return ev_fail(v, EV_EINVAL, "an operator name is 1 to 256 "
                                     "characters");
    }
    w = malloc(n + EV_WRAP_OVERHEAD);
    if (w == NULL) {
        return EV_ENOMEM;
    }
    operator_ad(v, ad);
    ev_wrap(w, (const uint8_t *)name, n, ad, sizeof ad, v->keys->meta);
    rc = ev_catalog_meta_put(v->cat, "operator", w, n + EV_WRAP_OVERHEAD);
    free(w);
    return rc == EV_OK ? ev_vault_set_operator(v, name)
                       : ev_fail_catalog(v, rc, "cannot write");
}

/* After unlock: the operator named at init, unless one was set. */
static int
load_default_operator(ev_vault *v)
{
    ev_bytes b = {0};
    uint8_t ad[18 + EV_VAULT_ID_BYTES];
    char name[257];
    int rc;

    if (v->operator_ != NULL ||
        ev_catalog_meta_get(v->cat, "operator", &b) != EV_OK) {
        return EV_OK;
    }
    operator_ad(v, ad);
    if (b.n <= EV_WRAP_OVERHEAD || b.n > 256 + EV_WRAP_OVERHEAD ||
        ev_unwrap((uint8_t *)name, b.p, b.n, ad, sizeof ad, v->keys->meta) !=
            0) {
        ev_bytes_free(&b);
        return ev_fail(v, EV_ECORRUPT, "the default operator name fails "
                                       "authentication");
    }
    name[b.n - EV_WRAP_OVERHEAD] = '\0';
    ev_bytes_free(&b);
    rc = ev_vault_set_operator(v, name);
    return rc;
}

int
ev_operator_rekey(ev_vault *v, const struct ev_keys *from,
                  const struct ev_keys *to)
{
    uint8_t ad[18 + EV_VAULT_ID_BYTES];

    operator_ad(v, ad);
    return rekey_meta(v, from, to, "operator", ad, sizeof ad, 256, 0,
                      "the default operator",
                      "the default operator name fails authentication");
}

int
ev_vault_create(ev_vault *v, const char *dir, const ev_create_opts *opts,
                const char *pass, size_t pass_len,
                char recovery[EV_RECOVERY_KEY_CHARS + 1])
{
    char path[PATH_MAX];
    uint64_t ops = EV_ARGON2_OPS_DEFAULT, mem = EV_ARGON2_MEM_KIB_DEFAULT;
    uint8_t *mk;
    DIR *d;
    struct dirent *e;
    ev_s3_config s3cfg;
    int remote = 0, rc;

    close_parts(v);
    if (opts != NULL && opts->argon2_ops != 0) {
        ops = opts->argon2_ops;
    }
    if (opts != NULL && opts->argon2_mem_kib != 0) {
        mem = opts->argon2_mem_kib;
    }
    if (pass_len == 0) {
        return ev_fail(v, EV_EINVAL, "the passphrase is empty");
    }
    if (opts != NULL && opts->store != NULL) {
        rc = ev_store_spec_config(v, opts->store, &s3cfg, &remote);
        if (rc != EV_OK) {
            return rc;
        }
    }
    if (ev_os_mkdirs(dir, 0700) != 0) {
        return ev_fail(v, errno == ENOSPC ? EV_ENOSPC : EV_EIO,
                       "cannot create '%s': %s", dir, strerror(errno));
    }
    d = opendir(dir);
    if (d == NULL) {
        return ev_fail(v, EV_EIO, "cannot open '%s': %s", dir,
                       strerror(errno));
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            closedir(d);
            return ev_fail(v, EV_EEXIST,
                           ev_vault_probe(dir)
                               ? "'%s' is already a vault"
                               : "'%s' is not empty; a vault needs an "
                                 "empty or new directory",
                           dir);
        }
    }
    closedir(d);
    if (remote) {
        /* Before anything is written: the bucket must answer, and hold
         * nothing under the prefix (another vault's blobs). */
        rc = ev_store_target_check(v, &s3cfg, opts->store->create_bucket);
        if (rc != EV_OK) {
            return rc;
        }
    }
    v->dir = strdup(dir);
    if (v->dir == NULL) {
        return EV_ENOMEM;
    }
    rc = ev_vault_lock_write(v);
    if (rc != EV_OK) {
        return rc;
    }
    rc = ev_store_create_dirs(dir, v->errmsg, sizeof v->errmsg);
    if (rc != EV_OK) {
        return rc;
    }
    /* SQLite would create the catalog with the umask's mode: make it
     * 0600 first (its -wal and -shm files take the same mode). */
    snprintf(path, sizeof path, "%s/%s", dir, CATALOG_NAME);
    {
        int fd = ev_os_create_excl(path);
        if (fd < 0) {
            return ev_fail(v, errno == ENOSPC ? EV_ENOSPC : EV_EIO,
                           "cannot create '%s': %s", path, strerror(errno));
        }
        ev_os.close(fd);
    }
    rc = open_catalog(v, 1);
    if (rc != EV_OK) {
        return rc;
    }
    mk = ev_secure_alloc(EV_KEY_BYTES);
    if (mk == NULL) {
        return ev_fail(v, EV_ENOMEM, "cannot lock memory for keys");
    }
    ev_random(mk, EV_KEY_BYTES);
    rc = ev_vault_set_master(v, mk);
    ev_secure_free(mk);
    if (rc != EV_OK) {
        return rc;
    }
    ev_random(v->vault_id, sizeof v->vault_id);
    rc = ev_catalog_begin(v->cat);
    if (rc == EV_OK) {
        rc = ev_catalog_meta_put(v->cat, "magic", "evault", 6);
    }
    if (rc == EV_OK) {
        char fmt[8];
        snprintf(fmt, sizeof fmt, "%d", EV_FORMAT_VERSION);
        rc = ev_catalog_meta_put(v->cat, "format", fmt, strlen(fmt));
    }
    if (rc == EV_OK) {
        rc = ev_catalog_meta_put(v->cat, "vault_id", v->vault_id,
                                 sizeof v->vault_id);
    }
    if (rc != EV_OK) {
        ev_catalog_rollback(v->cat);
        return ev_fail_catalog(v, rc, "cannot write the catalog");
    }
    rc = make_identity(v);
    if (rc == EV_OK && remote) {
        rc = ev_vault_store_save(v, &s3cfg);
        if (rc == EV_OK) {
            rc = ev_store_use_s3(v->store, &s3cfg, v->errmsg,
                                 sizeof v->errmsg);
        }
    }
    v->store_loaded = 1;
    if (rc == EV_OK && opts != NULL && opts->operator_ != NULL) {
        rc = store_default_operator(v, opts->operator_);
    }
    if (rc == EV_OK) {
        rc = ev_keyslot_add_passphrase(v, pass, pass_len, ops, mem, NULL, NULL);
    }
    if (rc == EV_OK) {
        rc = ev_keyslot_add_recovery(v, recovery, NULL);
    }
    if (rc == EV_OK) {
        rc = ev_custody_append(v, "init", NULL, 0, NULL, NULL);
    }
    if (rc == EV_OK) {
        rc = ev_catalog_commit(v->cat);
        if (rc != EV_OK) {
            rc = ev_fail_catalog(v, rc, "cannot commit the catalog");
        }
    }
    if (rc != EV_OK) {
        ev_catalog_rollback(v->cat);
        return rc;
    }
    ev_os_fsync_dir(dir);
    ev_vault_unlock_write(v);
    return EV_OK;
}

int
ev_vault_probe(const char *dir)
{
    char path[PATH_MAX];
    struct stat st;

    snprintf(path, sizeof path, "%s/%s", dir, CATALOG_NAME);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int
ev_vault_open(ev_vault *v, const char *dir)
{
    ev_bytes b = {0};
    int rc, format;

    close_parts(v);
    if (!ev_vault_probe(dir)) {
        struct stat st;
        if (stat(dir, &st) != 0) {
            return ev_fail(v, EV_ENOTVAULT, "cannot open vault '%s': %s",
                           dir, strerror(errno));
        }
        return ev_fail(v, EV_ENOTVAULT,
                       "'%s' is not an evault vault (no vault.db)", dir);
    }
    v->dir = strdup(dir);
    if (v->dir == NULL) {
        return EV_ENOMEM;
    }
    rc = open_catalog(v, 0);
    if (rc != EV_OK) {
        return rc;
    }
    rc = ev_catalog_meta_get(v->cat, "magic", &b);
    if (rc != EV_OK || b.n != 6 || memcmp(b.p, "evault", 6) != 0) {
        ev_bytes_free(&b);
        if (rc == EV_EBUSY) {
            return ev_fail(v, EV_EBUSY, "vault '%s' is busy", dir);
        }
        return ev_fail(v, EV_ENOTVAULT, "'%s' is not an evault vault", dir);
    }
    ev_bytes_free(&b);
    rc = ev_catalog_meta_get(v->cat, "format", &b);
    if (rc != EV_OK || b.n == 0 || b.n > 6) {
        ev_bytes_free(&b);
        return ev_fail(v, EV_ECORRUPT, "'%s': format version missing", dir);
    }
    format = 0;
    for (size_t i = 0; i < b.n; i++) {
        if (b.p[i] < '0' || b.p[i] > '9') {
            format = -1;
            break;
        }
        format = format * 10 + (b.p[i] - '0');
    }
    ev_bytes_free(&b);
    if (format < 1) {
        return ev_fail(v, EV_ECORRUPT, "'%s': format version unreadable",
                       dir);
    }
    if (format > EV_FORMAT_VERSION) {
        return ev_fail(v, EV_EVERSION,
                       "vault '%s' has format %d, newer than this evault "
                       "(%d): upgrade evault",
                       dir, format, EV_FORMAT_VERSION);
    }
    rc = ev_catalog_meta_get(v->cat, "vault_id", &b);
    if (rc != EV_OK || b.n != EV_VAULT_ID_BYTES) {
        ev_bytes_free(&b);
        return ev_fail(v, EV_ECORRUPT, "'%s': vault id missing", dir);
    }
    memcpy(v->vault_id, b.p, EV_VAULT_ID_BYTES);
    ev_bytes_free(&b);
    return EV_OK;
}

int
ev_vault_after_unlock(ev_vault *v)
{
    int rc = load_default_operator(v);

    if (rc == EV_OK && !v->store_loaded && v->store != NULL) {
        ev_s3_config cfg;
        int found;
        rc = ev_vault_store_load(v, &cfg, &found);
        if (rc == EV_OK && found) {
            rc = ev_store_use_s3(v->store, &cfg, v->errmsg,
                                 sizeof v->errmsg);
        }
        v->store_loaded = rc == EV_OK;
    }
    return rc;
}

int
ev_vault_unlock_passphrase(ev_vault *v, const char *pass, size_t pass_len)
{
    if (v->cat == NULL) {
        return ev_fail(v, EV_EINVAL, "no vault is open");
    }
    int rc = ev_keyslot_unlock_passphrase(v, pass, pass_len);

    return rc == EV_OK ? ev_vault_after_unlock(v) : rc;
}

int
ev_vault_unlock_passphrase_begin(ev_vault *v, const char *pass,
                                 size_t pass_len)
{
    if (v->cat == NULL) {
        return ev_fail(v, EV_EINVAL, "no vault is open");
    }
    if (v->unlocking != NULL || v->keys != NULL) {
        return ev_fail(v, EV_EINVAL, "the vault is unlocked already");
    }
    return ev_keyslot_derive_start(v, pass, pass_len, &v->unlocking);
}

int
ev_vault_unlock_wait(ev_vault *v)
{
    ev_kdf_job *j = v->unlocking;
    int rc;

    if (j == NULL) {
        return EV_OK;
    }
    v->unlocking = NULL;
    rc = ev_keyslot_unlock_job(v, j);
    return rc == EV_OK ? ev_vault_after_unlock(v) : rc;
}

int
ev_vault_unlock_recovery(ev_vault *v, const char *key)
{
    if (v->cat == NULL) {
        return ev_fail(v, EV_EINVAL, "no vault is open");
    }
    int rc = ev_keyslot_unlock_recovery(v, key);

    return rc == EV_OK ? ev_vault_after_unlock(v) : rc;
}
