/*
 * s3.h - a small S3 client: the requests an object store of blobs needs.
 *
 * Requests are signed by libcurl (CURLOPT_AWS_SIGV4), payload hashes are
 * computed with crypto.c's SHA-256.  Everything the server sends is treated
 * as hostile: response bodies are bounded, XML is scanned within bounds,
 * status codes are checked.  Failed requests are retried with exponential
 * backoff and jitter when the failure may pass (5xx, 429, timeouts, lost
 * connections), a bounded number of times.
 *
 * The pure parts (configuration, URLs, credentials files, XML, the retry
 * policy) are exposed for the unit tests.
 */
#ifndef EV_S3_H
#define EV_S3_H

#include <stddef.h>
#include <stdint.h>

/* Above EV_S3_SINGLE_MAX bytes an object goes up in a multipart upload of
 * parts of EV_S3_PART_BYTES (more when 10000 parts would not hold it). */
#define EV_S3_PART_BYTES ((uint64_t)16 << 20)
#define EV_S3_SINGLE_MAX ((uint64_t)16 << 20)
#define EV_S3_MAX_PARTS 10000
/* Attempts per request (the first and its retries). */
#define EV_S3_ATTEMPTS 5

/* Where the objects live. */
typedef struct ev_s3_config {
    char bucket[64];    /* 3..63 of [a-z0-9.-] */
    char prefix[201];   /* "" or segments of [A-Za-z0-9._-] joined by '/' */
    char endpoint[256]; /* http(s)://host[:port], no path */
    char region[33];    /* default us-east-1 */
    int path_style;     /* 1: ENDPOINT/BUCKET/KEY; 0: BUCKET.HOST/KEY */
} ev_s3_config;

/* Fills bucket and prefix from "s3://BUCKET[/PREFIX]" (other fields
 * untouched).  EV_EINVAL with a message in err. */
int ev_s3_parse_url(ev_s3_config *cfg, const char *url, char *err,
                    size_t err_len);
/* Checks every field (and sets the default region when empty). */
int ev_s3_config_check(ev_s3_config *cfg, char *err, size_t err_len);
/* The catalog's form: "evault s3 v1\n" and key=value lines. */
int ev_s3_config_encode(const ev_s3_config *cfg, char *out, size_t cap,
                        size_t *len);
int ev_s3_config_decode(ev_s3_config *cfg, const char *in, size_t len);
/* "s3://bucket/prefix at endpoint", for messages. */
void ev_s3_config_describe(const ev_s3_config *cfg, char *out, size_t cap);

/* Credentials, kept in guarded memory (ev_secure_alloc). */
typedef struct ev_s3_creds {
    char access_key[129];
    char secret_key[129];
    char token[4097]; /* session token, or "" */
    char source[300]; /* where they came from, for messages (no secret) */
} ev_s3_creds;
/* Parses an AWS shared credentials file's text (INI) for one profile.
 * Strict: at most 64 KiB, lines of at most 4096 bytes, no key twice in a
 * section.  EV_ENOENT when the profile or its keys are missing. */
#define EV_S3_CREDS_FILE_MAX (64 << 10)
int ev_s3_creds_parse(ev_s3_creds *c, const char *text, size_t len,
                      const char *profile, char *err, size_t err_len);
/* AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), else
 * AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile AWS_PROFILE
 * or "default". */
int ev_s3_creds_load(ev_s3_creds *c, char *err, size_t err_len);

/* Percent-encodes s as SigV4 wants (unreserved characters kept; '/' kept
 * when keep_slash).  Returns 0, or -1 when out is too small. */
int ev_s3_uri_encode(char *out, size_t cap, const char *s, int keep_slash);
/* The URL of key (NULL: the bucket) with query (already encoded and
 * sorted, or NULL).  Returns 0, or -1 when out is too small. */
int ev_s3_url(const ev_s3_config *cfg, const char *key, const char *query,
              char *out, size_t cap);
/* The object key of a name under the prefix ("PREFIX/name" or "name"). */
int ev_s3_key(const ev_s3_config *cfg, const char *name, char *out,
              size_t cap);

/* ListObjectsV2: calls fn for every <Contents> (key decoded, size); sets
 * *truncated and the continuation token.  EV_ECORRUPT on malformed XML,
 * keys or sizes out of bounds, or a truncated list without a token. */
#define EV_S3_KEY_MAX 1024
#define EV_S3_TOKEN_MAX 1024
int ev_s3_parse_list(const char *xml, size_t len,
                     int (*fn)(void *ctx, const char *key, uint64_t size),
                     void *ctx, int *truncated, char *token,
                     size_t token_cap);
/* The text of the first <tag>...</tag> in xml, entities decoded; 0, or -1
 * when absent, too long or malformed. */
int ev_s3_xml_text(const char *xml, size_t len, const char *tag, char *out,
                   size_t cap);

/* The retry policy: may a failure pass if tried again?  curl_code is a
 * CURLcode (0 when the exchange completed), status the HTTP status. */
int ev_s3_retryable(int curl_code, long status);
/* Milliseconds to wait before attempt number `attempt` (1 = the first
 * retry): half of min(8 s, 250 ms * 2^(attempt-1)) plus up to as much
 * again from rnd. */
unsigned ev_s3_backoff_ms(int attempt, uint32_t rnd);

/* The client.  Errors return an ev_status (EV_ESTORE, EV_EDENIED,
 * EV_ENOENT for a missing object, EV_ENOMEM, EV_EIO for the local file)
 * with a message and, where a fix is likely, a hint.  ev_s3_new makes no
 * request and does not load libcurl: the first request does (curl_load.h),
 * and fails with EV_ESTORE when libcurl.so.4 cannot be loaded. */
typedef struct ev_s3 ev_s3;
int ev_s3_new(ev_s3 **out, const ev_s3_config *cfg);
void ev_s3_free(ev_s3 *s);
const char *ev_s3_errmsg(const ev_s3 *s);
const char *ev_s3_hint(const ev_s3 *s);
const ev_s3_config *ev_s3_config_of(const ev_s3 *s);

/* Uploads size bytes of fd (from offset 0) as key: one PUT, or multipart
 * with parts read one at a time (memory stays at one part); a failed
 * multipart upload is aborted. */
int ev_s3_put_fd(ev_s3 *s, const char *key, int fd, uint64_t size);
/* Uploads bytes from memory with one PUT. */
int ev_s3_put_mem(ev_s3 *s, const char *key, const void *p, size_t n);
/* The size of an object; EV_ENOENT when it does not exist. */
int ev_s3_head(ev_s3 *s, const char *key, uint64_t *size);
/* Exactly n bytes from offset off. */
int ev_s3_get_range(ev_s3 *s, const char *key, uint64_t off, uint8_t *buf,
                    size_t n);
/* Deletes an object (one that is gone is not an error). */
int ev_s3_delete(ev_s3 *s, const char *key);
/* Every object whose key starts with prefix (may be ""), page by page. */
int ev_s3_list(ev_s3 *s, const char *prefix,
               int (*fn)(void *ctx, const char *key, uint64_t size),
               void *ctx);
/* Checks that the bucket exists and the credentials may list it; *any is
 * set when an object lies under prefix. */
int ev_s3_probe(ev_s3 *s, const char *prefix, int *any);
/* Creates the bucket (an existing one owned by these credentials is
 * fine). */
int ev_s3_create_bucket(ev_s3 *s);

#endif
