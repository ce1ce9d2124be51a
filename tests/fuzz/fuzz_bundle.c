/*
 * fuzz_bundle.c - `evault import` of a partner's bundle: the tar inside
 * the age layer (libarchive, evault's entry checks: types, names, sizes,
 * order, duplicates), the small entries, SHA256SUMS, the minisign
 * signatures, MANIFEST.json, every proof, and the second pass that adds
 * the records in one transaction.
 *
 * The target keeps a real vault (cheap Argon2, in $TMPDIR) that has pinned
 * a partner whose signing key is fuzz.h's fixed key.  Each input becomes
 * a tar, is encrypted to the vault's age recipient (approach (b) of
 * tests/fuzz/README.md: the age layer is fuzzed by fuzz_age) and imported
 * with ev_import:
 *
 *   byte 0 even: the rest is the tar itself, as the sender wrote it.
 *   byte 0 odd:  the rest is a list of entries "NAME\0CONTENT\0..." made
 *                into a tar here, signing as the partner would: an empty
 *                MANIFEST.json.minisig or SHA256SUMS.minisig gets the
 *                signature of its list, an empty SHA256SUMS the hashes of
 *                the files/ entries.  Mutations of the manifest, the
 *                proofs and the names then get past the signatures.
 *   byte 0 & 2:  legacy minisign signatures allowed.
 *
 * Seeds (EV_FUZZ_MKSEEDS) are a complete bundle of two records in both
 * forms, checked to import.  The vault is made again after every 200
 * imported records, so that it stays small and every run alike.
 */
#include "age.h"
#include "fuzz.h"
#include "minisign.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <unistd.h>

#define TAR_MAX (1 << 20)

static char base[4096], vdir[4200], bundle[4200];
static ev_vault *v;
static uint8_t rcpt[1][32];
static size_t imported;
static uint8_t *tar;

static const char partner_age[] =
    "age1vm53328z9jfzutq0q33gkj5g4lt3qcfge9meglyw0kkcestm9ghqlau7ff";

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(p);
}

static void
cleanup(void)
{
    ev_vault_free(v);
    v = NULL;
    nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
minisign_pub(char *out, size_t cap)
{
    uint8_t pk[32], sk[64], kid[EV_MINISIGN_KEYID_BYTES];

    fz_sign_key(pk, sk);
    if (ev_minisign_keyid(kid, pk) != 0 ||
        ev_minisign_pubkey_file(out, cap, pk, kid, NULL) != 0) {
        abort();
    }
}

static void
new_vault(void)
{
    static const ev_create_opts cheap = {1, 8192, NULL, NULL};
    char recovery[EV_RECOVERY_KEY_CHARS + 1], pub[EV_MINISIGN_PUBFILE_MAX];
    char line[EV_MINISIGN_PUBKEY_CHARS + 1];
    ev_identity_info id;

    if (v != NULL) {
        ev_vault_free(v);
        nftw(vdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    }
    minisign_pub(pub, sizeof pub);
    memcpy(line, strchr(pub, '\n') + 1, EV_MINISIGN_PUBKEY_CHARS);
    line[EV_MINISIGN_PUBKEY_CHARS] = '\0';
    if (ev_vault_new(&v) != EV_OK ||
        ev_vault_create(v, vdir, &cheap, "fuzz", 4, recovery) != EV_OK ||
        ev_contact_add(v, "Partner", partner_age, line) != EV_OK ||
        ev_identity(v, &id) != EV_OK ||
        ev_age_recipient_decode(rcpt[0], id.age) != 0) {
        fprintf(stderr, "fuzz_bundle: cannot make the vault: %s\n",
                v != NULL ? ev_vault_errmsg(v) : "out of memory");
        abort();
    }
    imported = 0;
}

/* --- the entry list -> tar, signing as the partner --- */

struct ent {
    const char *name, *data;
    size_t len;
    char *made; /* a signature or sums made here, freed after */
};

static const struct ent *
find(const struct ent *e, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(e[i].name, name) == 0) {
            return &e[i];
        }
    }
    return NULL;
}

static char *
sign(const struct ent *of)
{
    uint8_t pk[32], sk[64], kid[EV_MINISIGN_KEYID_BYTES];
    char *sig = malloc(EV_MINISIGN_SIG_MAX);

    fz_sign_key(pk, sk);
    if (sig == NULL || ev_minisign_keyid(kid, pk) != 0 ||
        ev_minisign_sign(
            sig, EV_MINISIGN_SIG_MAX,
            of != NULL ? (const uint8_t *)of->data : (const uint8_t *)"",
            of != NULL ? of->len : 0, sk, kid, NULL, "fuzz") != 0) {
        abort();
    }
    return sig;
}

static char *
sums(const struct ent *e, size_t n)
{
    size_t cap = 1, len = 0;
    char *s;

    for (size_t i = 0; i < n; i++) {
        cap += 67 + strlen(e[i].name);
    }
    s = malloc(cap);
    if (s == NULL) {
        abort();
    }
    s[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        uint8_t h[32];
        char hex[65];
        if (strncmp(e[i].name, "files/", 6) != 0) {
            continue;
        }
        ev_sha256_once(h, e[i].data, e[i].len);
        ev_hex(hex, h, sizeof h);
        len += (size_t)snprintf(s + len, cap - len, "%s  %s\n", hex, e[i].name);
    }
    return s;
}

/* Builds the tar in `tar`; returns its length (0: libarchive refused an
 * entry, which is no input for evault). */
static size_t
make_tar(const uint8_t *p, size_t n)
{
    struct ent e[64];
    size_t ne = 0, used = 0, off = 0;
    struct archive *a;
    int ok = 1;

    while (off < n && ne < 64) {
        const uint8_t *z = memchr(p + off, '\0', n - off), *z2;
        if (z == NULL) {
            break;
        }
        e[ne].name = (const char *)p + off;
        e[ne].data = (const char *)z + 1;
        z2 = memchr(z + 1, '\0', (size_t)(p + n - (z + 1)));
        e[ne].len =
            z2 != NULL ? (size_t)(z2 - (z + 1)) : (size_t)(p + n - (z + 1));
        e[ne].made = NULL;
        off = (size_t)((const uint8_t *)e[ne].data - p) + e[ne].len + 1;
        ne++;
    }
    for (size_t i = 0; i < ne; i++) { /* sums first: they get signed */
        if (strcmp(e[i].name, "SHA256SUMS") == 0 && e[i].len == 0) {
            e[i].made = sums(e, ne);
            e[i].data = e[i].made;
            e[i].len = strlen(e[i].made);
        }
    }
    for (size_t i = 0; i < ne; i++) {
        const char *sig = strstr(e[i].name, ".minisig");
        if (sig != NULL && sig[8] == '\0' && e[i].len == 0) {
            char of[64];
            snprintf(of, sizeof of, "%.*s", (int)(sig - e[i].name), e[i].name);
            e[i].made = sign(find(e, ne, of));
            e[i].data = e[i].made;
            e[i].len = strlen(e[i].made);
        }
    }
    a = archive_write_new();
    if (a == NULL || archive_write_set_format_pax_restricted(a) != 0 ||
        archive_write_set_bytes_in_last_block(a, 1) != 0 ||
        archive_write_open_memory(a, tar, TAR_MAX, &used) != 0) {
        abort();
    }
    for (size_t i = 0; ok && i < ne; i++) {
        struct archive_entry *ae = archive_entry_new();
        archive_entry_set_pathname(ae, e[i].name);
        archive_entry_set_size(ae, (la_int64_t)e[i].len);
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, 0644);
        ok = archive_write_header(a, ae) == ARCHIVE_OK &&
             archive_write_data(a, e[i].data, e[i].len) == (la_ssize_t)e[i].len;
        archive_entry_free(ae);
    }
    ok = archive_write_close(a) == ARCHIVE_OK && ok;
    archive_write_free(a);
    for (size_t i = 0; i < ne; i++) {
        free(e[i].made);
    }
    return ok ? used : 0;
}

/* --- encrypt, import --- */

static int
fd_write(void *ctx, const uint8_t *p, size_t n)
{
    return write(*(int *)ctx, p, n) == (ssize_t)n ? 0 : 5;
}

static int
import(const uint8_t *t, size_t n, int legacy, size_t *got)
{
    ev_age_writer *w;
    int fd = open(bundle, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (fd < 0 ||
        ev_age_writer_new(&w, (const uint8_t(*)[32])rcpt, 1, fd_write, &fd) !=
            EV_AGE_OK ||
        ev_age_write(w, t, n) != EV_AGE_OK || ev_age_finish(w) != EV_AGE_OK) {
        abort();
    }
    ev_age_writer_free(w);
    close(fd);
    *got = 0;
    return ev_import(v, bundle, legacy, NULL, NULL, got);
}

static size_t
seed_list(uint8_t *out, size_t cap)
{
    static const char *const files[][2] = {
        {"files/1/statement.txt", "what the witness said\n"},
        {"files/7/photo.jpg", "\xff\xd8\xff\xe0 not really a photo"}};
    char key[256], pub[EV_MINISIGN_PUBFILE_MAX], proof[2][EV_PROOF_MAX];
    char man[4096], hex[2][65];
    size_t len = 0;

    fz_note_key_text(key);
    minisign_pub(pub, sizeof pub);
    for (int i = 0; i < 2; i++) {
        uint8_t h[32];
        size_t fl = strlen(files[i][1]);
        ev_sha256_once(h, files[i][1], fl);
        ev_hex(hex[i], h, sizeof h);
        fz_proof(proof[i], sizeof proof[i], (uint64_t)i, 2 + (uint64_t)i, h, fl,
                 "2024-03-02T09:30:00Z");
    }
    snprintf(man, sizeof man,
             "{\"format\":\"evault bundle v1\",\"records\":["
             "{\"id\":1,\"file\":\"files/1/statement.txt\",\"sha256\":\"%s\","
             "\"size\":22,\"name\":\"statement.txt\",\"kind\":\"testimony\","
             "\"case\":\"K-17\",\"source\":\"S1\",\"note\":\"n\","
             "\"captured_at\":\"2024-03-01\",\"location\":\"x\","
             "\"tags\":[\"a\",\"b\"],"
             "\"proof\":\"proofs/1.tlog-proof\"},"
             "{\"id\":7,\"file\":\"files/7/photo.jpg\",\"sha256\":\"%s\","
             "\"size\":31,\"kind\":\"photo\","
             "\"proof\":\"proofs/7.tlog-proof\"}]}",
             hex[0], hex[1]);
#define PUT(name, text)                                                        \
    do {                                                                       \
        size_t nl_ = strlen(name) + 1, tl_ = strlen(text) + 1;                 \
        if (len + nl_ + tl_ > cap) {                                           \
            abort();                                                           \
        }                                                                      \
        memcpy(out + len, name, nl_);                                          \
        memcpy(out + len + nl_, text, tl_);                                    \
        len += nl_ + tl_;                                                      \
    } while (0)
    PUT("README.txt", "an evault bundle\n");
    PUT("vault.pub", key);
    PUT("minisign.pub", pub);
    PUT("MANIFEST.json", man);
    PUT("MANIFEST.json.minisig", "");
    PUT("SHA256SUMS", "");
    PUT("SHA256SUMS.minisig", "");
    PUT("checkpoint", strstr(proof[1], "\n\n") + 2);
    PUT("proofs/1.tlog-proof", proof[0]);
    PUT("proofs/7.tlog-proof", proof[1]);
    PUT(files[0][0], files[0][1]);
    PUT(files[1][0], files[1][1]);
#undef PUT
    return len;
}

static void
make_seeds(void)
{
    uint8_t in[65536];
    size_t n, t, got;

    in[0] = 1;
    n = 1 + seed_list(in + 1, sizeof in - 1);
    if (import(tar, make_tar(in + 1, n - 1), 0, &got) != EV_OK || got != 2) {
        fprintf(stderr, "fuzz_bundle: the seed does not import: %s\n",
                ev_vault_errmsg(v));
        abort();
    }
    fz_seed("list", in, n);
    t = make_tar(in + 1, n - 1);
    in[0] = 0;
    memcpy(in + 1, tar, t);
    fz_seed("tar", in, t + 1);
    exit(0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR");

    (void)argc;
    (void)argv;
    snprintf(base, sizeof base, "%s/evault-fuzz-bundle-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    tar = malloc(TAR_MAX);
    if (tar == NULL || mkdtemp(base) == NULL) {
        abort();
    }
    snprintf(vdir, sizeof vdir, "%s/vault", base);
    snprintf(bundle, sizeof bundle, "%s/in.age", base);
    atexit(cleanup);
    new_vault();
    if (fz_seed_dir() != NULL) {
        make_seeds();
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n, got;

    if (size < 1) {
        return 0;
    }
    if (data[0] & 1) {
        n = make_tar(data + 1, size - 1);
        if (n == 0) {
            return 0;
        }
    } else {
        n = size - 1;
        if (n > TAR_MAX) {
            return 0;
        }
        memcpy(tar, data + 1, n);
    }
    (void)import(tar, n, data[0] & 2, &got);
    imported += got;
    if (imported >= 200) {
        new_vault();
    }
    return 0;
}
