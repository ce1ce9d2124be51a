/*
 * shares.h - trustee shares: a secret split k-of-n (libgfshare), each
 * share a line of text that carries its own checksum.
 *
 *   evault-share1:VAULT:SET:share-X:K-of-N:DATA:CHECK
 *
 * VAULT is the vault id (32 hex digits), SET names one split (8 hex
 * digits; a vault may have several), X the share's number (its x
 * coordinate in GF(2^8)), DATA the share itself (64 hex digits, exactly
 * the bytes gfsplit would write to FILE.00X), CHECK the CRC-32 (IEEE) of
 * everything before the last ':' in lowercase, as 8 hex digits.  A CRC
 * catches every single mistyped character and every swap of two
 * neighbours, for sure rather than with high probability.
 */
#ifndef EV_SHARES_H
#define EV_SHARES_H

#include <stddef.h>
#include <stdint.h>

#define EV_TRUSTEE_SECRET_BYTES 32
#define EV_SHARE_SET_BYTES 4
#define EV_SHARE_VAULT_BYTES 16
#define EV_SHARE_LINE_MAX 192
#define EV_SHARES_MAX 255

typedef struct ev_tshare {
    uint8_t vault_id[EV_SHARE_VAULT_BYTES];
    uint8_t set[EV_SHARE_SET_BYTES];
    int x, k, n;
    uint8_t y[EV_TRUSTEE_SECRET_BYTES];
} ev_tshare;

/* Why a line is not a share. */
enum ev_share_err {
    EV_SHARE_OK = 0,
    EV_SHARE_FORM = 1,     /* not of the form above */
    EV_SHARE_CHECKSUM = 2, /* the form is right but a character is wrong */
    EV_SHARE_RANGE = 3     /* numbers out of range (X > N, K > N, ...) */
};

/* Splits secret into n shares numbered 1..n, any k of which rebuild it;
 * lines[i] receives share i + 1.  2 <= k <= n <= 255.  Returns 0, or -1
 * when out of memory. */
int ev_shares_split(char (*lines)[EV_SHARE_LINE_MAX],
                    const uint8_t secret[EV_TRUSTEE_SECRET_BYTES], int k,
                    int n, const uint8_t vault_id[EV_SHARE_VAULT_BYTES],
                    const uint8_t set[EV_SHARE_SET_BYTES]);

/* Parses one line (surrounding white space and upper-case hex are
 * accepted).  Returns an ev_share_err. */
int ev_share_parse(ev_tshare *s, const char *line);

/* Rebuilds the secret from count shares of one set with distinct x
 * (the caller checks that).  Fewer than k shares give a wrong secret,
 * which the slot's tag then rejects.  0, or -1 when out of memory. */
int ev_shares_combine(uint8_t secret[EV_TRUSTEE_SECRET_BYTES],
                      const ev_tshare *shares, size_t count);

#endif
