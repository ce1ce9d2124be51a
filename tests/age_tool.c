/*
 * age_tool.c - a tiny front end to age.c for the interop test
 * (tests/cli/t_age_interop.sh), so that Debian's age can read what evault
 * writes and evault can read what age writes, with no CLI in between.
 *
 *   age_tool encrypt RECIPIENT...        < plain > file.age
 *   age_tool decrypt IDENTITY_FILE       < file.age > plain
 *   age_tool decrypt-pass PASSFILE       < file.age > plain
 *   age_tool keygen                      (identity, then recipient, on stdout)
 *
 * Exit 0 on success; 1 and "age_tool: error: <ev_age_strerror>" on stderr,
 * with the code's name, on failure; 2 on bad usage.
 */
#include "age.h"
#include "crypto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const names[EV_AGE_LAST] = {
    "EV_AGE_OK",          "EV_AGE_HEADER",      "EV_AGE_STANZA",
    "EV_AGE_BASE64",      "EV_AGE_NO_IDENTITY", "EV_AGE_MAC",
    "EV_AGE_CHUNK",       "EV_AGE_TRUNCATED",   "EV_AGE_TRAILING",
    "EV_AGE_SCRYPT_WORK", "EV_AGE_IO",          "EV_AGE_NOMEM",
    "EV_AGE_ARMOR",       "EV_AGE_KEY"};

_Static_assert(EV_AGE_LAST == 14, "a name for every code");

static int
fd_write(void *ctx, const uint8_t *p, size_t n)
{
    int fd = *(int *)ctx;

    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int
fd_read(void *ctx, uint8_t *p, size_t cap, size_t *got)
{
    int fd = *(int *)ctx;
    ssize_t r;

    do {
        r = read(fd, p, cap);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        return errno;
    }
    *got = (size_t)r;
    return 0;
}

static int
fail(int rc)
{
    fprintf(stderr, "age_tool: error: %s (%s)\n", ev_age_strerror(rc),
            rc >= 0 && rc < EV_AGE_LAST ? names[rc] : "?");
    return 1;
}

/* A small secret file (identity, passphrase) into guarded memory. */
static char *
read_secret_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 65536;
    char *p;

    *len = 0;
    if (f == NULL) {
        fprintf(stderr, "age_tool: error: cannot open '%s': %s\n", path,
                strerror(errno));
        return NULL;
    }
    p = ev_secure_alloc(cap);
    if (p != NULL) {
        *len = fread(p, 1, cap - 1, f);
        p[*len] = '\0';
    }
    fclose(f);
    return p;
}

static int
cmd_encrypt(int argc, char **argv)
{
    uint8_t(*rcpt)[32] = calloc((size_t)argc, 32);
    static uint8_t buf[1 << 16];
    ev_age_writer *w = NULL;
    int out = 1, in = 0, rc = EV_AGE_NOMEM;
    size_t got = 0;

    if (rcpt == NULL) {
        return fail(rc);
    }
    for (int i = 0; i < argc; i++) {
        rc = ev_age_recipient_decode(rcpt[i], argv[i]);
        if (rc != EV_AGE_OK) {
            goto cleanup;
        }
    }
    rc = ev_age_writer_new(&w, (const uint8_t(*)[32])rcpt, (size_t)argc,
                           fd_write, &out);
    while (rc == EV_AGE_OK) {
        if (fd_read(&in, buf, sizeof buf, &got) != 0) {
            rc = EV_AGE_IO;
            break;
        }
        if (got == 0) {
            rc = ev_age_finish(w);
            break;
        }
        rc = ev_age_write(w, buf, got);
    }
cleanup:
    ev_age_writer_free(w);
    free(rcpt);
    return rc == EV_AGE_OK ? 0 : fail(rc);
}

static int
decrypt(const ev_age_identity *id)
{
    static uint8_t buf[1 << 16];
    ev_age_reader *r = NULL;
    int in = 0, out = 1, rc;
    size_t got = 0;

    rc = ev_age_reader_new(&r, id, 1, fd_read, &in);
    while (rc == EV_AGE_OK) {
        rc = ev_age_read(r, buf, sizeof buf, &got);
        if (rc != EV_AGE_OK || got == 0) {
            break;
        }
        if (fd_write(&out, buf, got) != 0) {
            rc = EV_AGE_IO;
        }
    }
    ev_age_reader_free(r);
    return rc == EV_AGE_OK ? 0 : fail(rc);
}

static int
cmd_decrypt(const char *path)
{
    ev_age_identity *id = ev_secure_alloc(sizeof *id);
    size_t len;
    char *text = read_secret_file(path, &len);
    int rc = 1;

    if (id != NULL && text != NULL) {
        memset(id, 0, sizeof *id);
        id->kind = EV_AGE_ID_X25519;
        rc = ev_age_identity_file_parse(id->x25519_sk, text, len);
        rc = rc == EV_AGE_OK ? decrypt(id) : fail(rc);
    }
    if (id != NULL) {
        ev_wipe(id, sizeof *id);
        ev_secure_free(id);
    }
    if (text != NULL) {
        ev_wipe(text, 65536);
        ev_secure_free(text);
    }
    return rc;
}

static int
cmd_decrypt_pass(const char *path)
{
    ev_age_identity id;
    size_t len;
    char *pass = read_secret_file(path, &len);
    int rc;

    if (pass == NULL) {
        return 1;
    }
    /* the first line; a final LF or CRLF is not part of it */
    len = strcspn(pass, "\r\n");
    memset(&id, 0, sizeof id);
    id.kind = EV_AGE_ID_SCRYPT;
    id.passphrase = pass;
    id.passphrase_len = len;
    rc = decrypt(&id);
    ev_wipe(pass, 65536);
    ev_secure_free(pass);
    return rc;
}

static int
cmd_keygen(void)
{
    uint8_t *sk = ev_secure_alloc(32), pk[32];
    char *id = ev_secure_alloc(EV_AGE_IDENTITY_CHARS + 1);
    char rc_text[EV_AGE_RECIPIENT_CHARS + 1];
    int rc = EV_AGE_NOMEM;

    if (sk != NULL && id != NULL) {
        ev_box_keypair(pk, sk);
        rc = ev_age_identity_encode(id, EV_AGE_IDENTITY_CHARS + 1, sk);
        if (rc == EV_AGE_OK) {
            rc = ev_age_recipient_encode(rc_text, sizeof rc_text, pk);
        }
        if (rc == EV_AGE_OK) {
            printf("%s\n%s\n", id, rc_text);
        }
    }
    if (sk != NULL) {
        ev_wipe(sk, 32);
        ev_secure_free(sk);
    }
    if (id != NULL) {
        ev_wipe(id, EV_AGE_IDENTITY_CHARS + 1);
        ev_secure_free(id);
    }
    return rc == EV_AGE_OK ? 0 : fail(rc);
}

int
main(int argc, char **argv)
{
    if (ev_crypto_init() != 0) {
        return 1;
    }
    if (argc >= 3 && strcmp(argv[1], "encrypt") == 0) {
        return cmd_encrypt(argc - 2, argv + 2);
    }
    if (argc == 3 && strcmp(argv[1], "decrypt") == 0) {
        return cmd_decrypt(argv[2]);
    }
    if (argc == 3 && strcmp(argv[1], "decrypt-pass") == 0) {
        return cmd_decrypt_pass(argv[2]);
    }
    if (argc == 2 && strcmp(argv[1], "keygen") == 0) {
        return cmd_keygen();
    }
    fprintf(stderr, "usage: age_tool encrypt RECIPIENT... < in > out\n"
                    "       age_tool decrypt IDENTITY_FILE < in > out\n"
                    "       age_tool decrypt-pass PASSFILE < in > out\n"
                    "       age_tool keygen\n");
    return 2;
}
