/*
 * s3.c - a small S3 client (see s3.h).
 *
 * Owns: S3 URLs, request signing through libcurl's CURLOPT_AWS_SIGV4, the
 * retry policy, multipart uploads, ListObjectsV2 parsing, credentials.
 * libcurl is reached only through curl_load.c's table, loaded on a
 * client's first request.
 * Never: prints, signs by hand, follows redirects, keeps a server's answer
 * beyond a fixed bound, or puts a secret in a message.
 *
 * Three habits of curl 7.88 (Debian 12) shape the requests: the payload's
 * SHA-256 is always sent as x-amz-content-sha256 (curl would otherwise sign
 * the hash of an empty body); no header-removal entry ("Expect:") is ever
 * given (curl signs it but does not send it); query strings are built
 * sorted and fully encoded, with "=" after a bare name ("uploads="),
 * because curl signs the query as written.
 */
#include "s3.h"

#include "crypto.h"
#include "curl_load.h"
#include "evault.h"
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Bounds on what a server may send back. */
#define RESPONSE_MAX ((size_t)4 << 20) /* an XML answer */
#define HEADER_MAX 8192                /* one header line */
#define ETAG_MAX 128
#define LIST_PAGES_MAX 1000000
#define EMPTY_SHA256                                                       \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ------------------------------------------------------------------ */
/* Configuration                                                       */
/* ------------------------------------------------------------------ */

static int
seterr(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
seterr(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && len > 0) {
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return EV_EINVAL;
}

static int
bucket_ok(const char *b)
{
    size_t n = strlen(b);

    if (n < 3 || n > 63) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && c != '-' && c != '.') {
            return 0;
        }
        if (!alnum && (i == 0 || i == n - 1)) {
            return 0;
        }
    }
    return strstr(b, "..") == NULL;
}

static int
prefix_ok(const char *p)
{
    size_t n = strlen(p);
    const char *seg = p;

    if (n == 0) {
        return 1;
    }
    if (n > 200 || p[0] == '/' || p[n - 1] == '/') {
        return 0;
    }
    for (size_t i = 0; i <= n; i++) {
        char c = p[i];
        if (c == '/' || c == '\0') {
            size_t len = (size_t)(p + i - seg);
            if (len == 0 || (len == 1 && seg[0] == '.') ||
                (len == 2 && seg[0] == '.' && seg[1] == '.')) {
                return 0;
            }
            seg = p + i + 1;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

/* http(s)://host[:port] with a host of [A-Za-z0-9.-] or [v6], no path,
 * user, query or fragment (a trailing '/' is dropped). */
static int
endpoint_ok(char *e)
{
    size_t n = strlen(e);
    const char *h;

    if (n > 0 && e[n - 1] == '/') {
        e[--n] = '\0';
    }
    if (strncmp(e, "http://", 7) == 0) {
        h = e + 7;
    } else if (strncmp(e, "https://", 8) == 0) {
        h = e + 8;
    } else {
        return 0;
    }
    if (*h == '\0') {
        return 0;
    }
    if (*h == '[') {
        h++;
        while (*h != '\0' && *h != ']') {
            if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f') ||
                  (*h >= 'A' && *h <= 'F') || *h == ':')) {
                return 0;
            }
            h++;
        }
        if (*h++ != ']') {
            return 0;
        }
    } else {
        const char *start = h;
        while ((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
               (*h >= '0' && *h <= '9') || *h == '.' || *h == '-') {
            h++;
        }
        if (h == start) {
            return 0;
        }
    }
    if (*h == ':') {
        unsigned long port = 0;
        h++;
        if (*h == '\0') {
            return 0;
        }
        while (*h >= '0' && *h <= '9') {
            port = port * 10 + (unsigned long)(*h - '0');
            if (port > 65535) {
                return 0;
            }
            h++;
        }
        if (port == 0) {
            return 0;
        }
    }
    return *h == '\0';
}

static int
region_ok(const char *r)
{
    size_t n = strlen(r);

    if (n == 0 || n > 32) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= '0' && r[i] <= '9') ||
              r[i] == '-')) {
            return 0;
        }
    }
    return 1;
}

static int
copy_field(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap) {
        return -1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

int
ev_s3_parse_url(ev_s3_config *cfg, const char *url, char *err,
                size_t err_len)
{
    const char *b, *slash;

    if (strncmp(url, "s3://", 5) != 0) {
        return seterr(err, err_len, "'%s' is not an s3://BUCKET[/PREFIX] "
                                    "store", url);
    }
    b = url + 5;
    slash = strchr(b, '/');
    if (copy_field(cfg->bucket, sizeof cfg->bucket, b,
                   slash != NULL ? (size_t)(slash - b) : strlen(b)) != 0 ||
        !bucket_ok(cfg->bucket)) {
        return seterr(err, err_len, "'%s': a bucket name is 3 to 63 "
                                    "characters of a-z, 0-9, '.' and '-'",
                      url);
    }
    cfg->prefix[0] = '\0';
    if (slash != NULL) {
        size_t n = strlen(slash + 1);
        while (n > 0 && slash[n] == '/') {
            n--; /* "s3://b/p/" means prefix "p" */
        }
        if (copy_field(cfg->prefix, sizeof cfg->prefix, slash + 1, n) != 0 ||
            !prefix_ok(cfg->prefix)) {
            return seterr(err, err_len,
                          "'%s': a prefix is up to 200 characters of "
                          "A-Z, a-z, 0-9, '.', '_', '-' and '/'",
                          url);
        }
    }
    return EV_OK;
}

int
ev_s3_config_check(ev_s3_config *cfg, char *err, size_t err_len)
{
    if (!bucket_ok(cfg->bucket)) {
        return seterr(err, err_len, "bad bucket name '%s'", cfg->bucket);
    }
    if (!prefix_ok(cfg->prefix)) {
        return seterr(err, err_len, "bad prefix '%s'", cfg->prefix);
    }
    if (cfg->endpoint[0] == '\0') {
        return seterr(err, err_len, "an S3 store needs --endpoint URL");
    }
    if (!endpoint_ok(cfg->endpoint)) {
        return seterr(err, err_len,
                      "bad endpoint '%s': give http(s)://HOST[:PORT]",
                      cfg->endpoint);
    }
    if (cfg->region[0] == '\0') {
        snprintf(cfg->region, sizeof cfg->region, "us-east-1");
    }
    if (!region_ok(cfg->region)) {
        return seterr(err, err_len, "bad region '%s'", cfg->region);
    }
    if (!cfg->path_style && strchr(cfg->bucket, '.') != NULL &&
        strncmp(cfg->endpoint, "https://", 8) == 0) {
        return seterr(err, err_len,
                      "bucket '%s' has dots, which TLS names of "
                      "BUCKET.HOST cannot match: use --path-style",
                      cfg->bucket);
    }
    cfg->path_style = cfg->path_style ? 1 : 0;
    return EV_OK;
}

int
ev_s3_config_encode(const ev_s3_config *cfg, char *out, size_t cap,
                    size_t *len)
{
    int n = snprintf(out, cap,
                     "evault s3 v1\nbucket=%s\nprefix=%s\nendpoint=%s\n"
                     "region=%s\npath_style=%d\n",
                     cfg->bucket, cfg->prefix, cfg->endpoint, cfg->region,
                     cfg->path_style ? 1 : 0);

    if (n < 0 || (size_t)n >= cap) {
        return EV_EINVAL;
    }
    *len = (size_t)n;
    return EV_OK;
}

int
ev_s3_config_decode(ev_s3_config *cfg, const char *in, size_t len)
{
    static const char magic[] = "evault s3 v1\n";
    const char *p = in, *end = in + len;
    unsigned seen = 0;

    memset(cfg, 0, sizeof *cfg);
    if (len < sizeof magic - 1 || memcmp(in, magic, sizeof magic - 1) != 0) {
        return EV_ECORRUPT;
    }
    p += sizeof magic - 1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eq;
        size_t klen;
        char *dst = NULL;
        size_t cap = 0;
        unsigned bit = 0;
        if (nl == NULL) {
            return EV_ECORRUPT;
        }
        eq = memchr(p, '=', (size_t)(nl - p));
        if (eq == NULL || memchr(p, '\0', (size_t)(nl - p)) != NULL) {
            return EV_ECORRUPT;
        }
        klen = (size_t)(eq - p);
        if (klen == 6 && memcmp(p, "bucket", 6) == 0) {
            dst = cfg->bucket, cap = sizeof cfg->bucket, bit = 1;
        } else if (klen == 6 && memcmp(p, "prefix", 6) == 0) {
            dst = cfg->prefix, cap = sizeof cfg->prefix, bit = 2;
        } else if (klen == 8 && memcmp(p, "endpoint", 8) == 0) {
            dst = cfg->endpoint, cap = sizeof cfg->endpoint, bit = 4;
        } else if (klen == 6 && memcmp(p, "region", 6) == 0) {
            dst = cfg->region, cap = sizeof cfg->region, bit = 8;
        } else if (klen == 10 && memcmp(p, "path_style", 10) == 0) {
            bit = 16;
            if (nl - eq != 2 || (eq[1] != '0' && eq[1] != '1')) {
                return EV_ECORRUPT;
            }
            cfg->path_style = eq[1] == '1';
        } else {
            return EV_ECORRUPT;
        }
        if (seen & bit) {
            return EV_ECORRUPT;
        }
        seen |= bit;
        if (dst != NULL &&
            copy_field(dst, cap, eq + 1, (size_t)(nl - eq - 1)) != 0) {
            return EV_ECORRUPT;
        }
        p = nl + 1;
    }
    if (seen != 31) {
        return EV_ECORRUPT;
    }
    return ev_s3_config_check(cfg, NULL, 0) == EV_OK ? EV_OK : EV_ECORRUPT;
}

void
ev_s3_config_describe(const ev_s3_config *cfg, char *out, size_t cap)
{
    snprintf(out, cap, "s3://%s%s%.200s at %.100s", cfg->bucket,
             cfg->prefix[0] ? "/" : "", cfg->prefix, cfg->endpoint);
}

/* ------------------------------------------------------------------ */
/* Credentials                                                         */
/* ------------------------------------------------------------------ */

static int
cred_value_ok(const char *v, size_t n)
{
    if (n == 0) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c <= 0x20 || c >= 0x7f) {
            return 0;
        }
    }
    return 1;
}

static const char *
trim(const char *s, const char *end, const char **out_end)
{
    while (s < end && (*s == ' ' || *s == '\t')) {
        s++;
    }
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) {
        end--;
    }
    *out_end = end;
    return s;
}

int
ev_s3_creds_parse(ev_s3_creds *c, const char *text, size_t len,
                  const char *profile, char *err, size_t err_len)
{
    const char *p = text, *end = text + len;
    int in_profile = 0, found_profile = 0, lineno = 0;
    unsigned seen = 0;

    c->access_key[0] = c->secret_key[0] = c->token[0] = '\0';
    if (len > EV_S3_CREDS_FILE_MAX) {
        return seterr(err, err_len, "larger than %d KiB",
                      EV_S3_CREDS_FILE_MAX >> 10);
    }
    if (memchr(text, '\0', len) != NULL) {
        return seterr(err, err_len, "holds a NUL byte");
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl != NULL ? nl : end, *ls, *lend;
        lineno++;
        if (le - p > 4096) {
            return seterr(err, err_len, "line %d is longer than 4096 bytes",
                          lineno);
        }
        ls = trim(p, le, &lend);
        p = nl != NULL ? nl + 1 : end;
        if (ls == lend || *ls == '#' || *ls == ';') {
            continue;
        }
        if (*ls == '[') {
            const char *ns, *ne;
            if (lend[-1] != ']' || lend - ls < 3) {
                return seterr(err, err_len, "line %d: a bad section header",
                              lineno);
            }
            ns = trim(ls + 1, lend - 1, &ne);
            in_profile = (size_t)(ne - ns) == strlen(profile) &&
                         memcmp(ns, profile, (size_t)(ne - ns)) == 0;
            if (in_profile && found_profile) {
                return seterr(err, err_len, "profile [%s] appears twice",
                              profile);
            }
            found_profile |= in_profile;
            continue;
        }
        {
            const char *eq = memchr(ls, '=', (size_t)(lend - ls));
            const char *ks, *ke, *vs, *ve;
            char *dst = NULL;
            size_t cap = 0;
            unsigned bit = 0;
            if (eq == NULL) {
                return seterr(err, err_len, "line %d: expected KEY = VALUE",
                              lineno);
            }
            if (!in_profile) {
                continue;
            }
            ks = trim(ls, eq, &ke);
            vs = trim(eq + 1, lend, &ve);
            if ((size_t)(ke - ks) == 17 &&
                strncasecmp(ks, "aws_access_key_id", 17) == 0) {
                dst = c->access_key, cap = sizeof c->access_key, bit = 1;
            } else if ((size_t)(ke - ks) == 21 &&
                       strncasecmp(ks, "aws_secret_access_key", 21) == 0) {
                dst = c->secret_key, cap = sizeof c->secret_key, bit = 2;
            } else if ((size_t)(ke - ks) == 17 &&
                       strncasecmp(ks, "aws_session_token", 17) == 0) {
                dst = c->token, cap = sizeof c->token, bit = 4;
            } else {
                continue; /* region, output...: not ours */
            }
            if (seen & bit) {
                return seterr(err, err_len, "line %d: a key given twice",
                              lineno);
            }
            seen |= bit;
            if (!cred_value_ok(vs, (size_t)(ve - vs)) ||
                copy_field(dst, cap, vs, (size_t)(ve - vs)) != 0) {
                return seterr(err, err_len, "line %d: a bad or too long "
                                            "value", lineno);
            }
        }
    }
    if (!found_profile) {
        seterr(err, err_len, "no profile [%s]", profile);
        return EV_ENOENT;
    }
    if ((seen & 3) != 3) {
        seterr(err, err_len, "profile [%s] lacks aws_access_key_id or "
                             "aws_secret_access_key", profile);
        return EV_ENOENT;
    }
    return EV_OK;
}

int
ev_s3_creds_load(ev_s3_creds *c, char *err, size_t err_len)
{
    const char *ak = getenv("AWS_ACCESS_KEY_ID");
    const char *sk = getenv("AWS_SECRET_ACCESS_KEY");
    const char *tok = getenv("AWS_SESSION_TOKEN");
    const char *file = getenv("AWS_SHARED_CREDENTIALS_FILE");
    const char *profile = getenv("AWS_PROFILE");
    const char *home = getenv("HOME");
    char path[PATH_MAX], perr[200];
    char *text = NULL;
    struct stat st;
    ssize_t got;
    int fd, rc;

    memset(c, 0, sizeof *c);
    if (ak != NULL && *ak != '\0') {
        if (sk == NULL || *sk == '\0') {
            return seterr(err, err_len, "AWS_ACCESS_KEY_ID is set but "
                                        "AWS_SECRET_ACCESS_KEY is not");
        }
        if (!cred_value_ok(ak, strlen(ak)) ||
            copy_field(c->access_key, sizeof c->access_key, ak,
                       strlen(ak)) != 0 ||
            !cred_value_ok(sk, strlen(sk)) ||
            copy_field(c->secret_key, sizeof c->secret_key, sk,
                       strlen(sk)) != 0 ||
            (tok != NULL && *tok != '\0' &&
             (!cred_value_ok(tok, strlen(tok)) ||
              copy_field(c->token, sizeof c->token, tok, strlen(tok)) !=
                  0))) {
            return seterr(err, err_len,
                          "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or "
                          "AWS_SESSION_TOKEN is too long or holds spaces "
                          "or control characters");
        }
        snprintf(c->source, sizeof c->source,
                 "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
        return EV_OK;
    }
    if (profile == NULL || *profile == '\0') {
        profile = "default";
    }
    if (strlen(profile) > 64) {
        return seterr(err, err_len, "AWS_PROFILE is longer than 64 "
                                    "characters");
    }
    if (file != NULL && *file != '\0') {
        snprintf(path, sizeof path, "%s", file);
    } else if (home != NULL && *home != '\0') {
        snprintf(path, sizeof path, "%s/.aws/credentials", home);
    } else {
        return seterr(err, err_len, "no credentials: set AWS_ACCESS_KEY_ID "
                                    "and AWS_SECRET_ACCESS_KEY");
    }
    fd = ev_os.open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (fd < 0) {
        if (errno == ENOENT) {
            seterr(err, err_len, "no credentials: AWS_ACCESS_KEY_ID is "
                                 "not set and '%s' does not exist", path);
            return EV_ENOENT;
        }
        seterr(err, err_len, "cannot open '%s': %s", path, strerror(errno));
        return EV_EIO;
    }
    if (ev_os.fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size > EV_S3_CREDS_FILE_MAX) {
        ev_os.close(fd);
        return seterr(err, err_len, "'%s' is not a regular file of at most "
                                    "%d KiB", path,
                      EV_S3_CREDS_FILE_MAX >> 10);
    }
    text = ev_secure_alloc(EV_S3_CREDS_FILE_MAX + 1);
    if (text == NULL) {
        ev_os.close(fd);
        return EV_ENOMEM;
    }
    got = ev_os_read_full(fd, text, EV_S3_CREDS_FILE_MAX + 1);
    ev_os.close(fd);
    if (got < 0 || got > EV_S3_CREDS_FILE_MAX) {
        ev_secure_free(text);
        return seterr(err, err_len, "cannot read '%s'", path);
    }
    rc = ev_s3_creds_parse(c, text, (size_t)got, profile, perr, sizeof perr);
    ev_secure_free(text);
    if (rc != EV_OK) {
        seterr(err, err_len, "credentials file '%s': %s", path, perr);
        return rc;
    }
    snprintf(c->source, sizeof c->source, "%.200s, profile [%s]", path,
             profile);
    return EV_OK;
}

/* ------------------------------------------------------------------ */
/* URLs                                                                */
/* ------------------------------------------------------------------ */

int
ev_s3_uri_encode(char *out, size_t cap, const char *s, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                   (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                   c == '.' || c == '~' || (keep_slash && c == '/');
        if (o + (keep ? 1 : 3) >= cap) {
            return -1;
        }
        if (keep) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (o >= cap) {
        return -1;
    }
    out[o] = '\0';
    return 0;
}

int
ev_s3_url(const ev_s3_config *cfg, const char *key, const char *query,
          char *out, size_t cap)
{
    char ekey[3 * EV_S3_KEY_MAX + 1];
    const char *host;
    int n;

    ekey[0] = '\0';
    if (key != NULL && ev_s3_uri_encode(ekey, sizeof ekey, key, 1) != 0) {
        return -1;
    }
    if (cfg->path_style) {
        n = snprintf(out, cap, "%s/%s%s%s%s%s", cfg->endpoint, cfg->bucket,
                     key != NULL ? "/" : "", ekey, query ? "?" : "",
                     query ? query : "");
    } else {
        host = strstr(cfg->endpoint, "://");
        if (host == NULL) {
            return -1;
        }
        host += 3;
        n = snprintf(out, cap, "%.*s%s.%s/%s%s%s",
                     (int)(host - cfg->endpoint), cfg->endpoint, cfg->bucket,
                     host, ekey, query ? "?" : "", query ? query : "");
    }
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int
ev_s3_key(const ev_s3_config *cfg, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s%s%s", cfg->prefix,
                     cfg->prefix[0] != '\0' ? "/" : "", name);

    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* XML, within bounds                                                  */
/* ------------------------------------------------------------------ */

/* Finds the element <tag> (attributes allowed, <tag/> is empty) in
 * [p, end) and returns the start of its text; *text_end gets the position
 * of the matching "</tag>".  NULL when absent.  Elements of the same name
 * do not nest in the answers read here. */
static const char *
xml_find(const char *p, const char *end, const char *tag,
         const char **text_end)
{
    size_t tn = strlen(tag);

    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        const char *s, *q, *gt;
        if (lt == NULL || (size_t)(end - lt) < tn + 2) {
            return NULL;
        }
        if (memcmp(lt + 1, tag, tn) != 0 ||
            (lt[tn + 1] != '>' && lt[tn + 1] != ' ' && lt[tn + 1] != '/' &&
             lt[tn + 1] != '\t' && lt[tn + 1] != '\r' &&
             lt[tn + 1] != '\n')) {
            p = lt + 1;
            continue;
        }
        gt = memchr(lt + tn + 1, '>', (size_t)(end - lt - tn - 1));
        if (gt == NULL) {
            return NULL;
        }
        if (gt[-1] == '/') {
            *text_end = gt + 1;
            return gt + 1; /* <tag/>: empty */
        }
        s = gt + 1;
        for (q = s; q < end; q++) {
            q = memchr(q, '<', (size_t)(end - q));
            if (q == NULL || (size_t)(end - q) < tn + 3) {
                return NULL;
            }
            if (q[1] == '/' && memcmp(q + 2, tag, tn) == 0 &&
                q[tn + 2] == '>') {
                *text_end = q;
                return s;
            }
        }
        return NULL;
    }
    return NULL;
}

/* Decodes XML text with the five named entities and &#N; / &#xN; (ASCII
 * only); -1 on anything else or when out is too small. */
static int
xml_decode(char *out, size_t cap, const char *s, const char *end)
{
    size_t o = 0;

    while (s < end) {
        char c = *s;
        if (c == '<') {
            return -1; /* nested elements are not text */
        }
        if (c == '&') {
            const char *semi = memchr(s, ';', (size_t)(end - s));
            size_t n;
            if (semi == NULL || semi - s > 10) {
                return -1;
            }
            n = (size_t)(semi - s - 1);
            if (n == 3 && memcmp(s + 1, "amp", 3) == 0) {
                c = '&';
            } else if (n == 2 && memcmp(s + 1, "lt", 2) == 0) {
                c = '<';
            } else if (n == 2 && memcmp(s + 1, "gt", 2) == 0) {
                c = '>';
            } else if (n == 4 && memcmp(s + 1, "quot", 4) == 0) {
                c = '"';
            } else if (n == 4 && memcmp(s + 1, "apos", 4) == 0) {
                c = '\'';
            } else if (n >= 2 && s[1] == '#') {
                unsigned long v = 0;
                int hexa = s[2] == 'x' || s[2] == 'X';
                const char *d = s + (hexa ? 3 : 2);
                if (d >= semi) {
                    return -1;
                }
                for (; d < semi; d++) {
                    int dv;
                    if (*d >= '0' && *d <= '9') {
                        dv = *d - '0';
                    } else if (hexa && *d >= 'a' && *d <= 'f') {
                        dv = *d - 'a' + 10;
                    } else if (hexa && *d >= 'A' && *d <= 'F') {
                        dv = *d - 'A' + 10;
                    } else {
                        return -1;
                    }
                    v = v * (hexa ? 16 : 10) + (unsigned long)dv;
                    if (v > 0x7f) {
                        return -1;
                    }
                }
                if (v == 0) {
                    return -1;
                }
                c = (char)v;
            } else {
                return -1;
            }
            s = semi + 1;
        } else {
            s++;
        }
        if (c == '\0' || o + 1 >= cap) {
            return -1;
        }
        out[o++] = c;
    }
    if (o >= cap) {
        return -1;
    }
    out[o] = '\0';
    return 0;
}

int
ev_s3_xml_text(const char *xml, size_t len, const char *tag, char *out,
               size_t cap)
{
    const char *te, *t = xml_find(xml, xml + len, tag, &te);

    if (t == NULL) {
        return -1;
    }
    return xml_decode(out, cap, t, te);
}

static int
parse_u64(const char *s, const char *end, uint64_t *out)
{
    uint64_t v = 0;

    if (s == end || end - s > 19) {
        return -1;
    }
    for (; s < end; s++) {
        if (*s < '0' || *s > '9') {
            return -1;
        }
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

int
ev_s3_parse_list(const char *xml, size_t len,
                 int (*fn)(void *ctx, const char *key, uint64_t size),
                 void *ctx, int *truncated, char *token, size_t token_cap)
{
    const char *p = xml, *end = xml + len;
    const char *te, *t;
    char flag[8];

    *truncated = 0;
    token[0] = '\0';
    if (xml_find(xml, end, "ListBucketResult", &te) == NULL) {
        return EV_ECORRUPT;
    }
    end = te; /* nothing after the result element counts */
    while ((t = xml_find(p, end, "Contents", &te)) != NULL) {
        const char *ke, *se, *k = xml_find(t, te, "Key", &ke);
        const char *sz = xml_find(t, te, "Size", &se);
        char key[EV_S3_KEY_MAX + 1];
        uint64_t size;
        int stop;
        if (k == NULL || sz == NULL ||
            xml_decode(key, sizeof key, k, ke) != 0 || key[0] == '\0' ||
            parse_u64(sz, se, &size) != 0) {
            return EV_ECORRUPT; /* S3 keys are 1 to 1024 bytes */
        }
        stop = fn(ctx, key, size);
        if (stop != 0) {
            return stop;
        }
        p = te;
    }
    if (memmem(p, (size_t)(end - p), "<Contents", 9) != NULL) {
        return EV_ECORRUPT; /* an element that does not close */
    }
    if (ev_s3_xml_text(xml, (size_t)(end - xml), "IsTruncated", flag,
                       sizeof flag) == 0 &&
        strcmp(flag, "true") == 0) {
        *truncated = 1;
        if (ev_s3_xml_text(xml, (size_t)(end - xml), "NextContinuationToken",
                           token, token_cap) != 0 ||
            token[0] == '\0') {
            return EV_ECORRUPT;
        }
    }
    return EV_OK;
}

/* ------------------------------------------------------------------ */
/* Retry policy                                                        */
/* ------------------------------------------------------------------ */

int
ev_s3_retryable(int curl_code, long status)
{
    switch ((CURLcode)curl_code) {
    case CURLE_OK:
        return status >= 500 || status == 429 || status == 408;
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

unsigned
ev_s3_backoff_ms(int attempt, uint32_t rnd)
{
    unsigned cap = 250;

    for (int i = 1; i < attempt && cap < 8000; i++) {
        cap *= 2;
    }
    if (cap > 8000) {
        cap = 8000;
    }
    return cap / 2 + rnd % (cap / 2 + 1);
}

/* ------------------------------------------------------------------ */
/* The client                                                          */
/* ------------------------------------------------------------------ */

struct ev_s3 {
    ev_s3_config cfg;
    const ev_curl *lib; /* libcurl's functions, from the first request */
    CURL *curl;         /* made on the first request */
    ev_s3_creds *creds; /* guarded memory, loaded on first use */
    char sigv4[64];
    char where[400]; /* s3://bucket/prefix at endpoint */
    char errmsg[1024];
    char hint[300];
};

/* One exchange: what to send and what came back. */
struct req {
    const char *method;
    char url[4096];
    const char *what; /* "upload of 'KEY'", for messages */
    const uint8_t *body;
    size_t body_len, body_off;
    char range[64];         /* "bytes=a-b" or "" */
    const char *content_type;
    /* the answer */
    uint8_t *into;          /* caller's buffer for a ranged GET */
    size_t into_cap, into_len;
    char *resp;             /* anything else (XML), bounded */
    size_t resp_len, resp_cap;
    int overflow;
    long status;
    uint64_t content_length;
    int have_length;
    char etag[ETAG_MAX + 1];
};

int
ev_s3_new(ev_s3 **out, const ev_s3_config *cfg)
{
    ev_s3 *s = calloc(1, sizeof *s);

    *out = NULL;
    if (s == NULL) {
        return EV_ENOMEM;
    }
    s->cfg = *cfg;
    snprintf(s->sigv4, sizeof s->sigv4, "aws:amz:%s:s3", cfg->region);
    ev_s3_config_describe(cfg, s->where, sizeof s->where);
    *out = s;
    return EV_OK;
}

void
ev_s3_free(ev_s3 *s)
{
    if (s == NULL) {
        return;
    }
    if (s->curl != NULL) {
        s->lib->easy_cleanup(s->curl);
    }
    if (s->creds != NULL) {
        ev_secure_free(s->creds);
    }
    free(s);
}

const char *
ev_s3_errmsg(const ev_s3 *s)
{
    return s->errmsg;
}

const char *
ev_s3_hint(const ev_s3 *s)
{
    return s->hint;
}

const ev_s3_config *
ev_s3_config_of(const ev_s3 *s)
{
    return &s->cfg;
}

static int
fail(ev_s3 *s, int code, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(ev_s3 *s, int code, const char *hint, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
    va_end(ap);
    snprintf(s->hint, sizeof s->hint, "%s", hint != NULL ? hint : "");
    return code;
}

static int
load_creds(ev_s3 *s)
{
    char err[600];
    int rc;

    if (s->creds != NULL) {
        return EV_OK;
    }
    s->creds = ev_secure_alloc(sizeof *s->creds);
    if (s->creds == NULL) {
        return fail(s, EV_ENOMEM, NULL, "cannot lock memory for the S3 "
                                        "credentials");
    }
    rc = ev_s3_creds_load(s->creds, err, sizeof err);
    if (rc != EV_OK) {
        ev_secure_free(s->creds);
        s->creds = NULL;
        return fail(s, rc == EV_ENOMEM ? EV_ENOMEM : EV_EDENIED,
                    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
                    "write them to ~/.aws/credentials",
                    "no credentials for %s: %s", s->where, err);
    }
    return EV_OK;
}

/* libcurl is loaded, and the client's handle made, on its first request:
 * a command that never sends one (every command of a vault whose blobs
 * are local, and those of an S3 vault that only read the catalog) never
 * maps libcurl and the libraries it pulls in. */
static int
setup_curl(ev_s3 *s)
{
    char err[600];
    int rc;

    if (s->curl != NULL) {
        return EV_OK;
    }
    rc = ev_curl_get(&s->lib, err, sizeof err);
    if (rc != EV_OK) {
        return fail(s, rc,
                    rc == EV_ESTORE
                        ? "the S3 store needs libcurl " EV_CURL_MIN_VERSION_TEXT
                          " or later: install Debian's libcurl4 package "
                          "(apt-get install libcurl4)"
                        : NULL,
                    "%s", err);
    }
    s->curl = s->lib->easy_init();
    if (s->curl == NULL) {
        return fail(s, EV_ENOMEM, NULL, "out of memory (curl_easy_init)");
    }
    return EV_OK;
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct req *r = arg;
    size_t n = size * nmemb;

    if (r->into != NULL && r->status / 100 == 2) {
        if (n > r->into_cap - r->into_len) {
            r->overflow = 1;
            return 0; /* more than asked for: abort */
        }
        memcpy(r->into + r->into_len, p, n);
        r->into_len += n;
        return n;
    }
    if (n > RESPONSE_MAX - r->resp_len) {
        r->overflow = 1;
        return 0;
    }
    if (r->resp_len + n + 1 > r->resp_cap) {
        size_t cap = r->resp_cap ? r->resp_cap : 4096;
        char *q;
        while (cap < r->resp_len + n + 1) {
            cap *= 2;
        }
        q = realloc(r->resp, cap);
        if (q == NULL) {
            return 0;
        }
        r->resp = q;
        r->resp_cap = cap;
    }
    memcpy(r->resp + r->resp_len, p, n);
    r->resp_len += n;
    r->resp[r->resp_len] = '\0';
    return n;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    struct req *r = arg;
    size_t n = size * nmemb, vn;
    const char *v;

    if (n > HEADER_MAX) {
        return n; /* ignored, never kept */
    }
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* a new response (after 100 Continue): forget the last one's, and
         * note its status for on_body */
        const char *sp = memchr(p, ' ', n);
        r->have_length = 0;
        r->etag[0] = '\0';
        r->status = 0;
        if (sp != NULL && p + n - sp >= 4 && sp[1] >= '1' && sp[1] <= '5' &&
            sp[2] >= '0' && sp[2] <= '9' && sp[3] >= '0' && sp[3] <= '9') {
            r->status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 +
                        (sp[3] - '0');
        }
        return n;
    }
    if (n > 15 && strncasecmp(p, "Content-Length:", 15) == 0) {
        const char *e = p + n;
        v = p + 15;
        while (v < e && (*v == ' ' || *v == '\t')) {
            v++;
        }
        while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ')) {
            e--;
        }
        r->have_length = parse_u64(v, e, &r->content_length) == 0;
    } else if (n > 5 && strncasecmp(p, "ETag:", 5) == 0) {
        const char *e = p + n;
        v = p + 5;
        while (v < e && (*v == ' ' || *v == '\t')) {
            v++;
        }
        while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ')) {
            e--;
        }
        vn = (size_t)(e - v);
        r->etag[0] = '\0';
        if (vn > 0 && vn <= ETAG_MAX) {
            int ok = 1;
            for (size_t i = 0; i < vn; i++) {
                if (v[i] < 0x21 || v[i] > 0x7e || v[i] == '<' ||
                    v[i] == '&') {
                    ok = 0;
                }
            }
            if (ok) {
                memcpy(r->etag, v, vn);
                r->etag[vn] = '\0';
            }
        }
    }
    return n;
}

static size_t
on_read(char *p, size_t size, size_t nmemb, void *arg)
{
    struct req *r = arg;
    size_t n = size * nmemb, left = r->body_len - r->body_off;

    if (n > left) {
        n = left;
    }
    memcpy(p, r->body + r->body_off, n);
    r->body_off += n;
    return n;
}

static void
sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* One attempt.  Returns the CURLcode. */
static CURLcode
attempt(ev_s3 *s, struct req *r)
{
    const ev_curl *lib = s->lib;
    CURL *c = s->curl;
    struct curl_slist *h = NULL, *nh;
    char line[4200], hash_hex[65];
    uint8_t hash[32];
    CURLcode cc;
    int ok = 1;

    lib->easy_reset(c); /* keeps the connection */
    r->body_off = 0;
    r->into_len = 0;
    r->resp_len = 0;
    r->overflow = 0;
    r->status = 0;
    r->have_length = 0;
    r->etag[0] = '\0';
    if (r->body_len > 0) {
        ev_sha256_once(hash, r->body, r->body_len);
        ev_hex(hash_hex, hash, sizeof hash);
    } else {
        snprintf(hash_hex, sizeof hash_hex, "%s", EMPTY_SHA256);
    }
    snprintf(line, sizeof line, "x-amz-content-sha256: %s", hash_hex);
    h = lib->slist_append(h, line);
    ok &= h != NULL;
    if (ok && r->range[0] != '\0') {
        snprintf(line, sizeof line, "Range: %s", r->range);
        ok &= (nh = lib->slist_append(h, line)) != NULL;
    }
    if (ok && r->content_type != NULL) {
        snprintf(line, sizeof line, "Content-Type: %s", r->content_type);
        ok &= (nh = lib->slist_append(h, line)) != NULL;
    }
    if (ok && s->creds->token[0] != '\0') {
        snprintf(line, sizeof line, "x-amz-security-token: %s",
                 s->creds->token);
        ok &= (nh = lib->slist_append(h, line)) != NULL;
    }
    ev_wipe(line, sizeof line);
    if (!ok) {
        lib->slist_free_all(h);
        return CURLE_OUT_OF_MEMORY;
    }
    lib->easy_setopt(c, CURLOPT_URL, r->url);
    lib->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    lib->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    lib->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    lib->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    /* A transfer slower than 1 KiB/s for 30 s is stalled: try again. */
    lib->easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    lib->easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
    lib->easy_setopt(c, CURLOPT_AWS_SIGV4, s->sigv4);
    lib->easy_setopt(c, CURLOPT_USERNAME, s->creds->access_key);
    lib->easy_setopt(c, CURLOPT_PASSWORD, s->creds->secret_key);
    lib->easy_setopt(c, CURLOPT_HTTPHEADER, h);
    lib->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    lib->easy_setopt(c, CURLOPT_WRITEDATA, r);
    lib->easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    lib->easy_setopt(c, CURLOPT_HEADERDATA, r);
    if (strcmp(r->method, "HEAD") == 0) {
        lib->easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(r->method, "PUT") == 0) {
        lib->easy_setopt(c, CURLOPT_UPLOAD, 1L);
        lib->easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        lib->easy_setopt(c, CURLOPT_READDATA, r);
        lib->easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
                         (curl_off_t)r->body_len);
    } else if (strcmp(r->method, "POST") == 0) {
        lib->easy_setopt(c, CURLOPT_POST, 1L);
        lib->easy_setopt(c, CURLOPT_POSTFIELDS,
                         r->body_len > 0 ? (const char *)r->body : "");
        lib->easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)r->body_len);
    } else if (strcmp(r->method, "DELETE") == 0) {
        lib->easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
    }
    cc = lib->easy_perform(c);
    lib->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    lib->easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    lib->slist_free_all(h); /* held the session token */
    return cc;
}

/* Maps a completed exchange with an error status to a code, message and
 * hint. */
static int
fail_status(ev_s3 *s, struct req *r)
{
    char code[64] = "", msg[200] = "";
    char hint[300];

    if (r->resp != NULL) {
        if (ev_s3_xml_text(r->resp, r->resp_len, "Code", code,
                           sizeof code) != 0) {
            code[0] = '\0';
        }
        if (ev_s3_xml_text(r->resp, r->resp_len, "Message", msg,
                           sizeof msg) != 0) {
            msg[0] = '\0';
        }
        for (char *q = msg; *q != '\0'; q++) {
            if ((unsigned char)*q < 0x20) {
                *q = ' ';
            }
        }
    }
    if (strcmp(code, "NoSuchBucket") == 0 ||
        (r->status == 404 && strcmp(r->method, "HEAD") != 0 &&
         code[0] == '\0' && strstr(r->url, "list-type") != NULL)) {
        snprintf(hint, sizeof hint,
                 "check the bucket name, or create the bucket (evault init "
                 "--create-bucket makes it)");
        return fail(s, EV_ESTORE, hint,
                    "bucket '%s' does not exist at '%s' (%s)", s->cfg.bucket,
                    s->cfg.endpoint, r->what);
    }
    if (r->status == 404 &&
        (strcmp(code, "NoSuchKey") == 0 || strcmp(r->method, "HEAD") == 0 ||
         r->range[0] != '\0')) {
        return fail(s, EV_ENOENT, NULL, "%s: no such object in %s", r->what,
                    s->where);
    }
    if (r->status == 403 || r->status == 401) {
        const char *hnt;
        if (strcmp(code, "SignatureDoesNotMatch") == 0) {
            snprintf(hint, sizeof hint,
                     "check AWS_SECRET_ACCESS_KEY (credentials from %.200s)",
                     s->creds != NULL ? s->creds->source : "nowhere");
            hnt = hint;
        } else if (strcmp(code, "InvalidAccessKeyId") == 0) {
            snprintf(hint, sizeof hint,
                     "check AWS_ACCESS_KEY_ID (credentials from %.200s)",
                     s->creds != NULL ? s->creds->source : "nowhere");
            hnt = hint;
        } else if (strcmp(code, "RequestTimeTooSkewed") == 0) {
            hnt = "check this computer's clock";
        } else {
            snprintf(hint, sizeof hint,
                     "check that the credentials (from %.160s) may read and "
                     "write bucket '%s'",
                     s->creds != NULL ? s->creds->source : "nowhere",
                     s->cfg.bucket);
            hnt = hint;
        }
        return fail(s, EV_EDENIED, hnt, "'%s' refused the %s: %s%s%s (HTTP "
                                        "%ld)",
                    s->cfg.endpoint, r->what,
                    code[0] ? code : "access denied", msg[0] ? ": " : "", msg,
                    r->status);
    }
    if (r->status == 301 || r->status == 307 ||
        strcmp(code, "AuthorizationHeaderMalformed") == 0) {
        return fail(s, EV_ESTORE,
                    "check --region (and --path-style) for this bucket",
                    "'%s' redirected the %s: %s (HTTP %ld)", s->cfg.endpoint,
                    r->what, code[0] ? code : "wrong region or address",
                    r->status);
    }
    return fail(s, EV_ESTORE, NULL, "'%s' failed the %s: %s%s%s (HTTP %ld)",
                s->cfg.endpoint, r->what, code[0] ? code : "error",
                msg[0] ? ": " : "", msg, r->status);
}

/* Runs a request with retries.  ok_status: the success status (200, or
 * 206 for a range, 204 for a delete); any 2xx is accepted otherwise. */
static int
perform(ev_s3 *s, struct req *r)
{
    CURLcode cc = CURLE_OK;
    int rc;

    rc = setup_curl(s);
    if (rc == EV_OK) {
        rc = load_creds(s);
    }
    if (rc != EV_OK) {
        return rc;
    }
    for (int n = 1;; n++) {
        cc = attempt(s, r);
        if (cc == CURLE_OUT_OF_MEMORY) {
            return fail(s, EV_ENOMEM, NULL, "out of memory");
        }
        if (r->overflow) {
            return fail(s, EV_ESTORE, NULL,
                        "'%s' sent more than expected for the %s",
                        s->cfg.endpoint, r->what);
        }
        if (cc == CURLE_OK && r->status / 100 == 2) {
            return EV_OK;
        }
        if (n >= EV_S3_ATTEMPTS || !ev_s3_retryable((int)cc, r->status)) {
            break;
        }
        {
            uint32_t rnd;
            ev_random(&rnd, sizeof rnd);
            sleep_ms(ev_s3_backoff_ms(n, rnd));
        }
    }
    if (cc != CURLE_OK) {
        return fail(s, EV_ESTORE,
                    "check the endpoint and the network; the server may be "
                    "down",
                    "cannot complete the %s at '%s': %s (after %d attempts)",
                    r->what, s->cfg.endpoint, s->lib->easy_strerror(cc),
                    ev_s3_retryable((int)cc, 0) ? EV_S3_ATTEMPTS : 1);
    }
    return fail_status(s, r);
}

static void
req_release(struct req *r)
{
    free(r->resp);
    r->resp = NULL;
}

static int
req_init(ev_s3 *s, struct req *r, const char *method, const char *key,
         const char *query, const char *what)
{
    memset(r, 0, sizeof *r);
    r->method = method;
    r->what = what;
    if (ev_s3_url(&s->cfg, key, query, r->url, sizeof r->url) != 0) {
        return fail(s, EV_EINVAL, NULL, "the URL of '%s' is too long",
                    key != NULL ? key : s->cfg.bucket);
    }
    return EV_OK;
}

int
ev_s3_put_mem(ev_s3 *s, const char *key, const void *p, size_t n)
{
    struct req r;
    char what[EV_S3_KEY_MAX + 40];
    int rc;

    snprintf(what, sizeof what, "upload of '%s'", key);
    rc = req_init(s, &r, "PUT", key, NULL, what);
    if (rc == EV_OK) {
        r.body = p;
        r.body_len = n;
        rc = perform(s, &r);
    }
    req_release(&r);
    return rc;
}

static int
read_part(ev_s3 *s, int fd, uint8_t *buf, size_t n, uint64_t off,
          const char *key)
{
    ssize_t got = ev_os_pread_full(fd, buf, n, (off_t)off);

    if (got != (ssize_t)n) {
        return fail(s, EV_EIO, NULL, "cannot read the sealed file of '%s': "
                                     "%s", key,
                    got < 0 ? strerror(errno) : "shorter than expected");
    }
    return EV_OK;
}

static void
abort_upload(ev_s3 *s, const char *key, const char *upload_query)
{
    struct req r;
    char keep_msg[sizeof s->errmsg], keep_hint[sizeof s->hint];

    /* The first failure is the one to report. */
    memcpy(keep_msg, s->errmsg, sizeof keep_msg);
    memcpy(keep_hint, s->hint, sizeof keep_hint);
    if (req_init(s, &r, "DELETE", key, upload_query,
                 "abort of a multipart upload") == EV_OK) {
        (void)perform(s, &r);
    }
    req_release(&r);
    memcpy(s->errmsg, keep_msg, sizeof keep_msg);
    memcpy(s->hint, keep_hint, sizeof keep_hint);
}

static int
put_multipart(ev_s3 *s, const char *key, int fd, uint64_t size)
{
    uint64_t part = EV_S3_PART_BYTES, off;
    size_t nparts, i;
    char (*etags)[ETAG_MAX + 1] = NULL;
    char upload_id[EV_S3_KEY_MAX + 1], eid[3 * EV_S3_KEY_MAX + 1];
    char query[3 * EV_S3_KEY_MAX + 64], what[EV_S3_KEY_MAX + 60];
    char *xml = NULL;
    const char *err_end;
    uint8_t *buf = NULL;
    struct req r;
    size_t xml_cap, xml_len = 0;
    int rc;

    while ((size + part - 1) / part > EV_S3_MAX_PARTS) {
        part *= 2;
    }
    nparts = (size_t)((size + part - 1) / part);
    memset(&r, 0, sizeof r);
    snprintf(what, sizeof what, "start of the upload of '%s'", key);
    rc = req_init(s, &r, "POST", key, "uploads=", what);
    if (rc == EV_OK) {
        rc = perform(s, &r);
    }
    if (rc == EV_OK &&
        (r.resp == NULL ||
         ev_s3_xml_text(r.resp, r.resp_len, "UploadId", upload_id,
                        sizeof upload_id) != 0 ||
         upload_id[0] == '\0' ||
         ev_s3_uri_encode(eid, sizeof eid, upload_id, 0) != 0)) {
        rc = fail(s, EV_ESTORE, NULL, "'%s' gave no usable upload id for "
                                      "'%s'", s->cfg.endpoint, key);
    }
    req_release(&r);
    if (rc != EV_OK) {
        return rc;
    }
    snprintf(query, sizeof query, "uploadId=%s", eid);
    etags = calloc(nparts, sizeof *etags);
    buf = malloc((size_t)part);
    if (etags == NULL || buf == NULL) {
        rc = fail(s, EV_ENOMEM, NULL, "out of memory");
        goto cleanup;
    }
    for (i = 0, off = 0; i < nparts; i++, off += part) {
        size_t n = (size_t)(size - off < part ? size - off : part);
        char pq[sizeof query + 32];
        rc = read_part(s, fd, buf, n, off, key);
        if (rc != EV_OK) {
            goto cleanup;
        }
        /* Sorted: partNumber before uploadId. */
        snprintf(pq, sizeof pq, "partNumber=%zu&%s", i + 1, query);
        snprintf(what, sizeof what, "upload of part %zu of '%s'", i + 1,
                 key);
        rc = req_init(s, &r, "PUT", key, pq, what);
        if (rc == EV_OK) {
            r.body = buf;
            r.body_len = n;
            rc = perform(s, &r);
        }
        if (rc == EV_OK && r.etag[0] == '\0') {
            rc = fail(s, EV_ESTORE, NULL, "'%s' gave no ETag for the %s",
                      s->cfg.endpoint, what);
        }
        if (rc == EV_OK) {
            memcpy(etags[i], r.etag, sizeof etags[i]);
        }
        req_release(&r);
        if (rc != EV_OK) {
            goto cleanup;
        }
    }
    xml_cap = 128 + nparts * (ETAG_MAX + 80);
    xml = malloc(xml_cap);
    if (xml == NULL) {
        rc = fail(s, EV_ENOMEM, NULL, "out of memory");
        goto cleanup;
    }
    xml_len = (size_t)snprintf(xml, xml_cap, "<CompleteMultipartUpload>");
    for (i = 0; i < nparts; i++) {
        xml_len += (size_t)snprintf(xml + xml_len, xml_cap - xml_len,
                                    "<Part><PartNumber>%zu</PartNumber>"
                                    "<ETag>%s</ETag></Part>",
                                    i + 1, etags[i]);
    }
    xml_len += (size_t)snprintf(xml + xml_len, xml_cap - xml_len,
                                "</CompleteMultipartUpload>");
    snprintf(what, sizeof what, "completion of the upload of '%s'", key);
    rc = req_init(s, &r, "POST", key, query, what);
    if (rc == EV_OK) {
        r.body = (const uint8_t *)xml;
        r.body_len = xml_len;
        r.content_type = "application/xml";
        rc = perform(s, &r);
    }
    /* S3 may answer 200 and put the error in the body. */
    if (rc == EV_OK &&
        (r.resp == NULL ||
         xml_find(r.resp, r.resp + r.resp_len, "Error", &err_end) != NULL ||
         strstr(r.resp, "CompleteMultipartUploadResult") == NULL)) {
        r.status = 500;
        rc = fail_status(s, &r);
    }
    req_release(&r);
cleanup:
    if (rc != EV_OK) {
        abort_upload(s, key, query);
    }
    free(etags);
    free(buf);
    free(xml);
    return rc;
}

int
ev_s3_put_fd(ev_s3 *s, const char *key, int fd, uint64_t size)
{
    uint8_t *buf;
    int rc;

    if (size > EV_S3_SINGLE_MAX) {
        return put_multipart(s, key, fd, size);
    }
    buf = malloc(size > 0 ? (size_t)size : 1);
    if (buf == NULL) {
        return fail(s, EV_ENOMEM, NULL, "out of memory");
    }
    rc = read_part(s, fd, buf, (size_t)size, 0, key);
    if (rc == EV_OK) {
        rc = ev_s3_put_mem(s, key, buf, (size_t)size);
    }
    free(buf);
    return rc;
}

int
ev_s3_head(ev_s3 *s, const char *key, uint64_t *size)
{
    struct req r;
    char what[EV_S3_KEY_MAX + 40];
    int rc;

    snprintf(what, sizeof what, "look-up of '%s'", key);
    rc = req_init(s, &r, "HEAD", key, NULL, what);
    if (rc == EV_OK) {
        rc = perform(s, &r);
    }
    if (rc == EV_OK && !r.have_length) {
        rc = fail(s, EV_ESTORE, NULL, "'%s' gave no size for '%s'",
                  s->cfg.endpoint, key);
    }
    if (rc == EV_OK) {
        *size = r.content_length;
    }
    req_release(&r);
    return rc;
}

int
ev_s3_get_range(ev_s3 *s, const char *key, uint64_t off, uint8_t *buf,
                size_t n)
{
    struct req r;
    char what[EV_S3_KEY_MAX + 40];
    int rc;

    if (n == 0) {
        return EV_OK;
    }
    snprintf(what, sizeof what, "download of '%s'", key);
    rc = req_init(s, &r, "GET", key, NULL, what);
    if (rc != EV_OK) {
        return rc;
    }
    snprintf(r.range, sizeof r.range, "bytes=%" PRIu64 "-%" PRIu64, off,
             off + n - 1);
    r.into = buf;
    r.into_cap = n;
    rc = perform(s, &r);
    if (rc == EV_OK && (r.status != 206 || r.into_len != n)) {
        rc = fail(s, EV_ESTORE, NULL,
                  "'%s' answered a range of %zu bytes of '%s' with %zu "
                  "(HTTP %ld)",
                  s->cfg.endpoint, n, key, r.into_len, r.status);
    }
    req_release(&r);
    return rc;
}

int
ev_s3_delete(ev_s3 *s, const char *key)
{
    struct req r;
    char what[EV_S3_KEY_MAX + 40];
    int rc;

    snprintf(what, sizeof what, "removal of '%s'", key);
    rc = req_init(s, &r, "DELETE", key, NULL, what);
    if (rc == EV_OK) {
        rc = perform(s, &r);
    }
    req_release(&r);
    return rc == EV_ENOENT ? EV_OK : rc;
}

static int
list_page(ev_s3 *s, const char *prefix, const char *token, int max_keys,
          struct req *r)
{
    char eprefix[3 * 256 + 1], etoken[3 * EV_S3_TOKEN_MAX + 1];
    char query[sizeof eprefix + sizeof etoken + 80];
    int rc;

    if (ev_s3_uri_encode(eprefix, sizeof eprefix, prefix, 0) != 0 ||
        ev_s3_uri_encode(etoken, sizeof etoken, token, 0) != 0) {
        return fail(s, EV_EINVAL, NULL, "a list prefix or token is too "
                                        "long");
    }
    /* Sorted by name, as curl signs the query as written. */
    if (token[0] != '\0') {
        snprintf(query, sizeof query,
                 "continuation-token=%s&list-type=2&max-keys=%d&prefix=%s",
                 etoken, max_keys, eprefix);
    } else {
        snprintf(query, sizeof query, "list-type=2&max-keys=%d&prefix=%s",
                 max_keys, eprefix);
    }
    rc = req_init(s, r, "GET", NULL, query, "listing of the bucket");
    if (rc == EV_OK) {
        rc = perform(s, r);
    }
    if (rc == EV_OK && r->resp == NULL) {
        rc = fail(s, EV_ESTORE, NULL, "'%s' sent an empty listing",
                  s->cfg.endpoint);
    }
    return rc;
}

int
ev_s3_list(ev_s3 *s, const char *prefix,
           int (*fn)(void *ctx, const char *key, uint64_t size), void *ctx)
{
    char token[EV_S3_TOKEN_MAX + 1] = "", prev[EV_S3_TOKEN_MAX + 1] = "";
    int truncated = 1, rc = EV_OK;

    for (long page = 0; truncated && rc == EV_OK; page++) {
        struct req r;
        if (page >= LIST_PAGES_MAX) {
            return fail(s, EV_ESTORE, NULL, "'%s' listed more than %d pages",
                        s->cfg.endpoint, LIST_PAGES_MAX);
        }
        rc = list_page(s, prefix, token, 1000, &r);
        if (rc == EV_OK) {
            memcpy(prev, token, sizeof prev);
            rc = ev_s3_parse_list(r.resp, r.resp_len, fn, ctx, &truncated,
                                  token, sizeof token);
            if (rc == EV_ECORRUPT) {
                rc = fail(s, EV_ESTORE, NULL,
                          "'%s' sent a listing that does not parse",
                          s->cfg.endpoint);
            } else if (rc == EV_OK && truncated && strcmp(prev, token) == 0) {
                rc = fail(s, EV_ESTORE, NULL,
                          "'%s' repeated a listing's continuation token",
                          s->cfg.endpoint);
            }
        }
        req_release(&r);
    }
    return rc;
}

static int
any_key(void *ctx, const char *key, uint64_t size)
{
    (void)key;
    (void)size;
    *(int *)ctx = 1;
    return 0;
}

int
ev_s3_probe(ev_s3 *s, const char *prefix, int *any)
{
    char token[EV_S3_TOKEN_MAX + 1];
    struct req r;
    int truncated, rc;

    *any = 0;
    rc = list_page(s, prefix, "", 1, &r);
    if (rc == EV_OK &&
        ev_s3_parse_list(r.resp, r.resp_len, any_key, any, &truncated, token,
                         sizeof token) != EV_OK) {
        rc = fail(s, EV_ESTORE, NULL, "'%s' sent a listing that does not "
                                      "parse",
                  s->cfg.endpoint);
    }
    req_release(&r);
    return rc;
}

int
ev_s3_create_bucket(ev_s3 *s)
{
    struct req r;
    char body[200], code[64];
    int rc;

    rc = req_init(s, &r, "PUT", NULL, NULL, "creation of the bucket");
    if (rc != EV_OK) {
        return rc;
    }
    if (strcmp(s->cfg.region, "us-east-1") != 0) {
        int n = snprintf(body, sizeof body,
                         "<CreateBucketConfiguration><LocationConstraint>%s"
                         "</LocationConstraint></CreateBucketConfiguration>",
                         s->cfg.region);
        r.body = (const uint8_t *)body;
        r.body_len = (size_t)n;
    }
    rc = perform(s, &r);
    if (rc == EV_ESTORE && r.resp != NULL &&
        ev_s3_xml_text(r.resp, r.resp_len, "Code", code, sizeof code) == 0 &&
        strcmp(code, "BucketAlreadyOwnedByYou") == 0) {
        rc = EV_OK;
    }
    req_release(&r);
    return rc;
}
