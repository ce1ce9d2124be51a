/*
 * fuzz_s3.c - what an S3 endpoint or the user's files hand the S3 store:
 * ListObjectsV2 replies (ev_s3_parse_list), error replies (ev_s3_xml_text),
 * an AWS shared credentials file (ev_s3_creds_parse), "s3://" URLs
 * (ev_s3_parse_url) and the catalog's store settings after decryption
 * (ev_s3_config_decode).  A server that lies, or a man in the middle on
 * plain http, controls the replies.
 *
 * The first byte picks the parser; the rest is its input.  Whatever is
 * accepted must come back NUL-terminated and within its bounds.
 */
#include "evault.h"
#include "fuzz.h"
#include "s3.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int
on_key(void *ctx, const char *key, uint64_t size)
{
    size_t n = strlen(key);

    (void)size;
    if (n == 0 || n > EV_S3_KEY_MAX) {
        abort();
    }
    ++*(int *)ctx;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    char err[256], token[EV_S3_TOKEN_MAX + 1], text[300];
    ev_s3_config cfg;
    ev_s3_creds *c;
    int truncated = 0, keys = 0;

    if (size < 1) {
        return 0;
    }
    switch (data[0] % 5) {
    case 0:
        if (ev_s3_parse_list(in, n, on_key, &keys, &truncated, token,
                             sizeof token) == EV_OK) {
            fz_terminated(token, sizeof token);
            if (truncated && token[0] == '\0') {
                abort(); /* a truncated list must say where to go on */
            }
        }
        break;
    case 1:
        if (ev_s3_xml_text(in, n, "Code", text, sizeof text) == 0) {
            fz_terminated(text, sizeof text);
        }
        if (ev_s3_xml_text(in, n, "Message", text, 8) == 0) {
            fz_terminated(text, 8);
        }
        break;
    case 2:
        c = malloc(sizeof *c);
        if (c == NULL) {
            abort();
        }
        if (ev_s3_creds_parse(c, in, n, "evidence", err, sizeof err) ==
            EV_OK) {
            fz_terminated(c->access_key, sizeof c->access_key);
            fz_terminated(c->secret_key, sizeof c->secret_key);
            fz_terminated(c->token, sizeof c->token);
            if (c->access_key[0] == '\0' || c->secret_key[0] == '\0') {
                abort();
            }
        } else {
            fz_terminated(err, sizeof err);
        }
        free(c);
        break;
    case 3: {
        char *url = malloc(n + 1);
        if (url == NULL) {
            abort();
        }
        memcpy(url, in, n);
        url[n] = '\0';
        memset(&cfg, 0, sizeof cfg);
        if (ev_s3_parse_url(&cfg, url, err, sizeof err) == EV_OK) {
            fz_terminated(cfg.bucket, sizeof cfg.bucket);
            fz_terminated(cfg.prefix, sizeof cfg.prefix);
        }
        free(url);
        break;
    }
    default:
        if (ev_s3_config_decode(&cfg, in, n) == EV_OK) {
            char back[1024];
            size_t len;
            fz_terminated(cfg.bucket, sizeof cfg.bucket);
            fz_terminated(cfg.prefix, sizeof cfg.prefix);
            fz_terminated(cfg.endpoint, sizeof cfg.endpoint);
            fz_terminated(cfg.region, sizeof cfg.region);
            /* what decodes encodes and decodes to the same settings */
            if (ev_s3_config_encode(&cfg, back, sizeof back, &len) ==
                EV_OK) {
                ev_s3_config again;
                if (ev_s3_config_decode(&again, back, len) != EV_OK ||
                    strcmp(again.bucket, cfg.bucket) != 0 ||
                    strcmp(again.prefix, cfg.prefix) != 0 ||
                    strcmp(again.endpoint, cfg.endpoint) != 0 ||
                    strcmp(again.region, cfg.region) != 0 ||
                    !again.path_style != !cfg.path_style) {
                    abort();
                }
            }
        }
        break;
    }
    return 0;
}
