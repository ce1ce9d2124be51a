/*
 * fuzz_minisign.c - minisign text from outside: public keys (bare line or
 * .pub file: contact files, a bundle's minisign.pub) and .minisig files
 * (a bundle's MANIFEST.json.minisig and SHA256SUMS.minisig).
 *
 * The input is tried as a public key, then as a signature of
 * tests/minisign/msg.txt under tests/minisign/minisign.pub (hashed and,
 * for odd lengths, legacy), and through the hash-only entry point.  The
 * seeds are that key and the three signatures of tests/minisign, so
 * mutations get past the structure checks to the signature checks; the
 * trusted comment is copied out (into a large and a too-small buffer)
 * only after both verify.
 */
#include "fuzz.h"
#include "minisign.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char pub[] =
    "untrusted comment: minisign public key C0003C59EB2BFCA8\n"
    "RWSo/CvrWTwAwJD4Knsl150IzzZOXTjZf2JWmxJMfTc1+HzSY/7H2o0C\n";
static const char msg[] = "evault minisign known-answer message\n"
                          "second line\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t pk[EV_MINISIGN_PK_BYTES], kid[EV_MINISIGN_KEYID_BYTES];
    uint8_t fpk[EV_MINISIGN_PK_BYTES], fkid[EV_MINISIGN_KEYID_BYTES];
    uint8_t h[EV_MINISIGN_HASH_BYTES];
    char tc[EV_MINISIGN_COMMENT_MAX + 1], small[4];
    const char *text = (const char *)data;
    int rc;

    if (ev_minisign_pubkey_decode(pk, kid, pub, sizeof pub - 1) != 0) {
        abort();
    }
    (void)ev_minisign_pubkey_decode(fpk, fkid, text, size);
    rc = ev_minisign_verify(text, size, (const uint8_t *)msg, sizeof msg - 1,
                            pk, kid, (int)(size & 1), tc, sizeof tc);
    if (rc == EV_MS_OK && strlen(tc) > EV_MINISIGN_COMMENT_MAX) {
        abort();
    }
    (void)ev_minisign_verify(text, size, (const uint8_t *)msg, sizeof msg - 1,
                             pk, kid, 1, small, sizeof small);
    crypto_generichash(h, sizeof h, (const uint8_t *)msg, sizeof msg - 1, NULL,
                       0);
    (void)ev_minisign_verify_hash(text, size, h, pk, kid, tc, sizeof tc);
    return 0;
}
