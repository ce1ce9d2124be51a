/*
 * minisign_tool.c - a test driver for minisign.c, so that shell tests can
 * put evault's minisign code face to face with the minisign binary.
 *
 *   minisign_tool sign SK_HEX KEYID_HEX TRUSTED_COMMENT < msg > msg.minisig
 *   minisign_tool verify PUBFILE SIGFILE [--allow-legacy] < msg
 *   minisign_tool pubkey SK_HEX KEYID_HEX > minisign.pub
 *
 * SK_HEX is a 64-byte Ed25519 secret key (libsodium's seed || pk) in hex.
 * sign and verify hash stdin as a stream (BLAKE2b-512); verify with
 * --allow-legacy reads all of stdin and also accepts legacy signatures.
 * verify prints the trusted comment.  Exit: 0 ok, 1 failure, 2 usage.
 * For tests only: the secret key on the command line is visible to ps.
 */
#include "crypto.h"
#include "minisign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_MAX 65536
#define MSG_MAX ((size_t)1 << 30) /* for --allow-legacy, like minisign */

static int
usage(void)
{
    fputs("usage: minisign_tool sign SK_HEX KEYID_HEX TRUSTED_COMMENT "
          "< msg > msg.minisig\n"
          "       minisign_tool verify PUBFILE SIGFILE [--allow-legacy] "
          "< msg\n"
          "       minisign_tool pubkey SK_HEX KEYID_HEX > minisign.pub\n",
          stderr);
    return 2;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Exactly n bytes of hex; 0 or -1. */
static int
unhex(uint8_t *out, size_t n, const char *hex)
{
    if (strlen(hex) != 2 * n) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return -1;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* A small text file, whole; NULL on error or when too large. */
static char *
read_text(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *p = malloc(TEXT_MAX + 1);

    *n = 0;
    if (f == NULL || p == NULL) {
        fprintf(stderr, "minisign_tool: error: cannot read '%s'\n", path);
        if (f != NULL) {
            fclose(f);
        }
        free(p);
        return NULL;
    }
    *n = fread(p, 1, TEXT_MAX + 1, f);
    if (ferror(f) || *n > TEXT_MAX) {
        fprintf(stderr, "minisign_tool: error: cannot read '%s'\n", path);
        fclose(f);
        free(p);
        return NULL;
    }
    fclose(f);
    return p;
}

/* BLAKE2b-512 of stdin; 0 or -1. */
static int
hash_stdin(uint8_t h[EV_MINISIGN_HASH_BYTES])
{
    ev_blake2b_stream *bs = ev_blake2b_stream_new();
    int rc;
    static uint8_t buf[65536];
    size_t n;

    if (bs == NULL) {
        return -1;
    }
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
        ev_blake2b_stream_update(bs, buf, n);
    }
    if (ferror(stdin)) {
        ev_blake2b_stream_free(bs);
        return -1;
    }
    rc = ev_blake2b_stream_final(bs, h);
    ev_blake2b_stream_free(bs);
    return rc;
}

/* All of stdin (up to MSG_MAX) in a malloc'd buffer; NULL on error. */
static uint8_t *
read_stdin(size_t *len)
{
    size_t cap = 65536, n = 0, r;
    uint8_t *p = malloc(cap), *q;

    while (p != NULL && (r = fread(p + n, 1, cap - n, stdin)) > 0) {
        n += r;
        if (n == cap) {
            if (cap >= MSG_MAX || (q = realloc(p, cap * 2)) == NULL) {
                free(p);
                return NULL;
            }
            p = q;
            cap *= 2;
        }
    }
    if (p != NULL && ferror(stdin)) {
        free(p);
        return NULL;
    }
    *len = n;
    return p;
}

static int
keys(uint8_t sk[EV_MINISIGN_SK_BYTES], uint8_t pk[EV_MINISIGN_PK_BYTES],
     uint8_t keyid[EV_MINISIGN_KEYID_BYTES], const char *sk_hex,
     const char *keyid_hex)
{
    if (unhex(sk, EV_MINISIGN_SK_BYTES, sk_hex) != 0 ||
        unhex(keyid, EV_MINISIGN_KEYID_BYTES, keyid_hex) != 0) {
        fputs("minisign_tool: error: SK_HEX needs 128 hex digits, "
              "KEYID_HEX 16\n",
              stderr);
        return -1;
    }
    ev_sign_sk_to_pk(pk, sk);
    return 0;
}

static int
cmd_sign(int argc, char **argv)
{
    uint8_t sk[EV_MINISIGN_SK_BYTES], pk[EV_MINISIGN_PK_BYTES];
    uint8_t keyid[EV_MINISIGN_KEYID_BYTES], h[EV_MINISIGN_HASH_BYTES];
    char out[EV_MINISIGN_SIG_MAX];
    int rc = 1;

    if (argc != 5) {
        return usage();
    }
    if (keys(sk, pk, keyid, argv[2], argv[3]) != 0) {
        rc = 2;
        goto cleanup;
    }
    if (hash_stdin(h) != 0) {
        fputs("minisign_tool: error: cannot read the message\n", stderr);
        goto cleanup;
    }
    rc = ev_minisign_sign_hash(out, sizeof out, h, sk, keyid, NULL, argv[4]);
    if (rc != EV_MS_OK) {
        fprintf(stderr, "minisign_tool: error: %s\n", ev_minisign_strerror(rc));
        rc = 1;
        goto cleanup;
    }
    rc = fputs(out, stdout) < 0 || fflush(stdout) != 0 ? 1 : 0;
cleanup:
    ev_wipe(sk, sizeof sk);
    return rc;
}

static int
cmd_pubkey(int argc, char **argv)
{
    uint8_t sk[EV_MINISIGN_SK_BYTES], pk[EV_MINISIGN_PK_BYTES];
    uint8_t keyid[EV_MINISIGN_KEYID_BYTES];
    char out[EV_MINISIGN_PUBFILE_MAX];
    int rc = 1;

    if (argc != 4) {
        return usage();
    }
    if (keys(sk, pk, keyid, argv[2], argv[3]) != 0) {
        rc = 2;
        goto cleanup;
    }
    rc = ev_minisign_pubkey_file(out, sizeof out, pk, keyid, NULL);
    if (rc != EV_MS_OK) {
        fprintf(stderr, "minisign_tool: error: %s\n", ev_minisign_strerror(rc));
        rc = 1;
        goto cleanup;
    }
    rc = fputs(out, stdout) < 0 || fflush(stdout) != 0 ? 1 : 0;
cleanup:
    ev_wipe(sk, sizeof sk);
    return rc;
}

static int
cmd_verify(int argc, char **argv)
{
    uint8_t pk[EV_MINISIGN_PK_BYTES], keyid[EV_MINISIGN_KEYID_BYTES];
    uint8_t h[EV_MINISIGN_HASH_BYTES], *msg = NULL;
    char tc[EV_MINISIGN_COMMENT_MAX + 1];
    char *pub = NULL, *sig = NULL;
    size_t pub_n, sig_n, msg_n = 0;
    int legacy, rc = 1;

    if (argc != 4 && !(argc == 5 && strcmp(argv[4], "--allow-legacy") == 0)) {
        return usage();
    }
    legacy = argc == 5;
    pub = read_text(argv[2], &pub_n);
    sig = read_text(argv[3], &sig_n);
    if (pub == NULL || sig == NULL) {
        goto cleanup;
    }
    rc = ev_minisign_pubkey_decode(pk, keyid, pub, pub_n);
    if (rc != EV_MS_OK) {
        fprintf(stderr, "minisign_tool: error: '%s': %s\n", argv[2],
                ev_minisign_strerror(rc));
        rc = 1;
        goto cleanup;
    }
    if (legacy) {
        msg = read_stdin(&msg_n);
        if (msg == NULL) {
            fputs("minisign_tool: error: cannot read the message\n", stderr);
            rc = 1;
            goto cleanup;
        }
        rc = ev_minisign_verify(sig, sig_n, msg, msg_n, pk, keyid, 1, tc,
                                sizeof tc);
    } else {
        if (hash_stdin(h) != 0) {
            fputs("minisign_tool: error: cannot read the message\n", stderr);
            rc = 1;
            goto cleanup;
        }
        rc = ev_minisign_verify_hash(sig, sig_n, h, pk, keyid, tc, sizeof tc);
    }
    if (rc != EV_MS_OK) {
        fprintf(stderr, "minisign_tool: error: '%s': %s\n", argv[3],
                ev_minisign_strerror(rc));
        rc = 1;
        goto cleanup;
    }
    printf("%s\n", tc);
    rc = fflush(stdout) != 0 ? 1 : 0;
cleanup:
    free(pub);
    free(sig);
    free(msg);
    return rc;
}

int
main(int argc, char **argv)
{
    if (ev_crypto_init() != 0) {
        fputs("minisign_tool: error: cannot initialise libsodium\n", stderr);
        return 1;
    }
    if (argc >= 2 && strcmp(argv[1], "sign") == 0) {
        return cmd_sign(argc, argv);
    }
    if (argc >= 2 && strcmp(argv[1], "verify") == 0) {
        return cmd_verify(argc, argv);
    }
    if (argc >= 2 && strcmp(argv[1], "pubkey") == 0) {
        return cmd_pubkey(argc, argv);
    }
    return usage();
}
