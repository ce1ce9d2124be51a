/*
 * test_s3.c - s3.c's parts that need no server: store URLs and settings,
 * object URLs and encoding, ListObjectsV2 and error XML (good and hostile),
 * credentials files, the retry policy.  The requests themselves are tested
 * against Ceph by tests/s3/ and the s3.* CLI runs.
 */
#include "crypto.h"
#include "evault.h"
#include "harness.h"
#include "s3.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

static ev_s3_config
cfg_of(const char *url, const char *endpoint, int path_style)
{
    ev_s3_config c;
    char err[200];

    memset(&c, 0, sizeof c);
    CHECK_EQ(ev_s3_parse_url(&c, url, err, sizeof err), EV_OK);
    snprintf(c.endpoint, sizeof c.endpoint, "%s", endpoint);
    c.path_style = path_style;
    CHECK_EQ(ev_s3_config_check(&c, err, sizeof err), EV_OK);
    return c;
}

static void
test_parse_url(void)
{
    static const char *const good[] = {
        "s3://abc", "s3://my-bucket/vault", "s3://a.b.c/x/y/z",
        "s3://b12/p_q-r.s", "s3://bucket/trailing/",
    };
    static const char *const bad[] = {
        "", "s3:/x", "http://bucket", "s3://", "s3://ab", "s3://Upper",
        "s3://under_score", "s3://-dash", "s3://dash-", "s3://a..b",
        "s3://bucket//x", "s3://bucket/../x", "s3://bucket/./x",
        "s3://bucket/a b", "s3://bucket/a%2f", "s3://bucket/caf\xc3\xa9",
        "s3://bucket/a?b", "s3://bucket/a#b",
        "s3://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    ev_s3_config c;
    char err[200];

    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        memset(&c, 0, sizeof c);
        CHECK_EQ(ev_s3_parse_url(&c, good[i], err, sizeof err), EV_OK);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(&c, 0, sizeof c);
        err[0] = '\0';
        if (ev_s3_parse_url(&c, bad[i], err, sizeof err) != EV_EINVAL) {
            fprintf(stderr, "accepted: %s\n", bad[i]);
            CHECK(0);
        } else {
            CHECK(err[0] != '\0');
        }
    }
    memset(&c, 0, sizeof c);
    CHECK_EQ(ev_s3_parse_url(&c, "s3://bucket/a/b/", err, sizeof err), EV_OK);
    CHECK(strcmp(c.bucket, "bucket") == 0);
    CHECK(strcmp(c.prefix, "a/b") == 0);
}

static void
test_config(void)
{
    static const char *const good_ep[] = {
        "http://127.0.0.1:7480", "https://s3.example.org",
        "https://s3.example.org/", "http://[::1]:9000", "http://minio:9000",
    };
    static const char *const bad_ep[] = {
        "", "127.0.0.1:7480", "ftp://host", "http://", "http://host/path",
        "http://user@host", "http://host:0", "http://host:65536",
        "http://host:", "http://host?x", "https://ho st", "http://[::1",
        "http://host:80x",
    };
    ev_s3_config c, d;
    char err[200], text[1024];
    size_t n;

    for (size_t i = 0; i < sizeof good_ep / sizeof *good_ep; i++) {
        memset(&c, 0, sizeof c);
        snprintf(c.bucket, sizeof c.bucket, "bucket");
        snprintf(c.endpoint, sizeof c.endpoint, "%s", good_ep[i]);
        CHECK_EQ(ev_s3_config_check(&c, err, sizeof err), EV_OK);
        CHECK(strcmp(c.region, "us-east-1") == 0);
        CHECK(c.endpoint[strlen(c.endpoint) - 1] != '/');
    }
    for (size_t i = 0; i < sizeof bad_ep / sizeof *bad_ep; i++) {
        memset(&c, 0, sizeof c);
        snprintf(c.bucket, sizeof c.bucket, "bucket");
        snprintf(c.endpoint, sizeof c.endpoint, "%s", bad_ep[i]);
        if (ev_s3_config_check(&c, err, sizeof err) != EV_EINVAL) {
            fprintf(stderr, "accepted endpoint: %s\n", bad_ep[i]);
            CHECK(0);
        }
    }
    memset(&c, 0, sizeof c);
    snprintf(c.bucket, sizeof c.bucket, "bucket");
    snprintf(c.endpoint, sizeof c.endpoint, "https://h");
    snprintf(c.region, sizeof c.region, "EU West");
    CHECK_EQ(ev_s3_config_check(&c, err, sizeof err), EV_EINVAL);
    /* dotted bucket, TLS, virtual-hosted: the certificate cannot match */
    memset(&c, 0, sizeof c);
    snprintf(c.bucket, sizeof c.bucket, "a.b.c");
    snprintf(c.endpoint, sizeof c.endpoint, "https://h");
    CHECK_EQ(ev_s3_config_check(&c, err, sizeof err), EV_EINVAL);

    /* the catalog's form round-trips; anything off is refused */
    c = cfg_of("s3://evidence/ngo/vault1", "https://s3.example.org:8443", 1);
    snprintf(c.region, sizeof c.region, "eu-central-1");
    CHECK_EQ(ev_s3_config_encode(&c, text, sizeof text, &n), EV_OK);
    CHECK_EQ(ev_s3_config_decode(&d, text, n), EV_OK);
    CHECK(memcmp(&c, &d, sizeof c) == 0);
    CHECK_EQ(ev_s3_config_decode(&d, text, n - 1), EV_ECORRUPT);
    {
        static const char *const bad[] = {
            "evault s3 v2\nbucket=b12\nprefix=\nendpoint=http://h\n"
            "region=r\npath_style=1\n",
            "evault s3 v1\nbucket=b12\nprefix=\nendpoint=http://h\n"
            "region=r\n",
            "evault s3 v1\nbucket=b12\nbucket=b12\nprefix=\n"
            "endpoint=http://h\nregion=r\npath_style=1\n",
            "evault s3 v1\nbucket=b12\nprefix=\nendpoint=http://h\n"
            "region=r\npath_style=2\n",
            "evault s3 v1\nbucket=b12\nprefix=\nendpoint=http://h\n"
            "region=r\npath_style=1\nextra=1\n",
            "evault s3 v1\nbucket=B\nprefix=\nendpoint=http://h\n"
            "region=r\npath_style=1\n",
            "evault s3 v1\nbucket=b12\nprefix=../x\nendpoint=http://h\n"
            "region=r\npath_style=1\n",
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
            CHECK_EQ(ev_s3_config_decode(&d, bad[i], strlen(bad[i])),
                     EV_ECORRUPT);
        }
    }
}

static void
test_urls(void)
{
    ev_s3_config c;
    char out[512], key[300];

    CHECK_EQ(ev_s3_uri_encode(out, sizeof out, "aZ09-_.~/ +%&=?\xc3\xa9", 0),
             0);
    CHECK(strcmp(out, "aZ09-_.~%2F%20%2B%25%26%3D%3F%C3%A9") == 0);
    CHECK_EQ(ev_s3_uri_encode(out, sizeof out, "a/b", 1), 0);
    CHECK(strcmp(out, "a/b") == 0);
    CHECK_EQ(ev_s3_uri_encode(out, 4, "abc", 0), 0);
    CHECK_EQ(ev_s3_uri_encode(out, 3, "abc", 0), -1);
    CHECK_EQ(ev_s3_uri_encode(out, 4, "a b", 0), -1);

    c = cfg_of("s3://bucket/p/q", "http://127.0.0.1:7480", 1);
    CHECK_EQ(ev_s3_key(&c, "ab12", key, sizeof key), 0);
    CHECK(strcmp(key, "p/q/ab12") == 0);
    CHECK_EQ(ev_s3_url(&c, key, NULL, out, sizeof out), 0);
    CHECK(strcmp(out, "http://127.0.0.1:7480/bucket/p/q/ab12") == 0);
    CHECK_EQ(ev_s3_url(&c, key, "partNumber=1&uploadId=x%2By", out,
                       sizeof out),
             0);
    CHECK(strcmp(out, "http://127.0.0.1:7480/bucket/p/q/ab12?partNumber=1&"
                      "uploadId=x%2By") == 0);
    CHECK_EQ(ev_s3_url(&c, NULL, "list-type=2", out, sizeof out), 0);
    CHECK(strcmp(out, "http://127.0.0.1:7480/bucket?list-type=2") == 0);
    CHECK_EQ(ev_s3_url(&c, key, NULL, out, 20), -1);

    c = cfg_of("s3://bucket", "https://s3.example.org", 0);
    CHECK_EQ(ev_s3_key(&c, "ab12", key, sizeof key), 0);
    CHECK(strcmp(key, "ab12") == 0);
    CHECK_EQ(ev_s3_url(&c, key, NULL, out, sizeof out), 0);
    CHECK(strcmp(out, "https://bucket.s3.example.org/ab12") == 0);
    CHECK_EQ(ev_s3_url(&c, NULL, "uploads=", out, sizeof out), 0);
    CHECK(strcmp(out, "https://bucket.s3.example.org/?uploads=") == 0);
}

/* ------------------------------------------------------------------ */
/* ListObjectsV2                                                       */
/* ------------------------------------------------------------------ */

struct seen {
    char keys[8][EV_S3_KEY_MAX + 1];
    uint64_t sizes[8];
    int n;
};

static int
note_key(void *ctx, const char *key, uint64_t size)
{
    struct seen *s = ctx;

    if (s->n < 8) {
        snprintf(s->keys[s->n], sizeof s->keys[s->n], "%s", key);
        s->sizes[s->n] = size;
    }
    s->n++;
    return 0;
}

static int
parse(const char *xml, struct seen *s, int *truncated, char *token)
{
    memset(s, 0, sizeof *s);
    return ev_s3_parse_list(xml, strlen(xml), note_key, s, truncated, token,
                            EV_S3_TOKEN_MAX + 1);
}

static void
test_list_good(void)
{
    char token[EV_S3_TOKEN_MAX + 1];
    struct seen s;
    int tr;
    const char *xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount>"
        "<MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>"
        "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
        "</NextContinuationToken>"
        "<Contents><Key>p/0a1b</Key><LastModified>2024-01-01T00:00:00Z"
        "</LastModified><ETag>&quot;abc&quot;</ETag><Size>123</Size>"
        "<StorageClass>STANDARD</StorageClass></Contents>"
        "<Contents>\n  <Key>p/a&amp;b&lt;c&gt;&#65;&#x42;</Key>\n"
        "  <Size>0</Size>\n</Contents>"
        "</ListBucketResult>";

    CHECK_EQ(parse(xml, &s, &tr, token), EV_OK);
    CHECK_EQ(s.n, 2);
    CHECK(strcmp(s.keys[0], "p/0a1b") == 0);
    CHECK_EQ(s.sizes[0], 123);
    CHECK(strcmp(s.keys[1], "p/a&b<c>AB") == 0);
    CHECK_EQ(s.sizes[1], 0);
    CHECK_EQ(tr, 1);
    CHECK(strcmp(token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=") == 0);

    CHECK_EQ(parse("<ListBucketResult><IsTruncated>false</IsTruncated>"
                   "</ListBucketResult>",
                   &s, &tr, token),
             EV_OK);
    CHECK_EQ(s.n, 0);
    CHECK_EQ(tr, 0);
    /* an empty listing with <Prefix/> */
    CHECK_EQ(parse("<ListBucketResult><Prefix/><KeyCount>0</KeyCount>"
                   "</ListBucketResult>",
                   &s, &tr, token),
             EV_OK);
    CHECK_EQ(s.n, 0);
}

static void
test_list_hostile(void)
{
    static const char *const bad[] = {
        "",
        "<Error><Code>AccessDenied</Code></Error>",
        "<ListBucketResult>",
        "<ListBucketResult><Contents><Key>k</Key></Contents>"
        "</ListBucketResult>", /* no size */
        "<ListBucketResult><Contents><Size>1</Size></Contents>"
        "</ListBucketResult>", /* no key */
        "<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents>"
        "</ListBucketResult>",
        "<ListBucketResult><Contents><Key>k</Key><Size>1e9</Size>"
        "</Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>k</Key>"
        "<Size>99999999999999999999</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>k</Key><Size></Size></Contents>"
        "</ListBucketResult>",
        "<ListBucketResult><Contents><Key>a&bogus;b</Key><Size>1</Size>"
        "</Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a&#0;b</Key><Size>1</Size>"
        "</Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a&#x100;b</Key><Size>1</Size>"
        "</Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a&#xZZ;b</Key><Size>1</Size>"
        "</Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a&amp</Key><Size>1</Size>"
        "</Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key><b>x</b></Key><Size>1</Size>"
        "</Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>k</Key><Size>1</Size>"
        "</ListBucketResult>", /* unclosed Contents */
        "<ListBucketResult><IsTruncated>true</IsTruncated>"
        "</ListBucketResult>", /* truncated without a token */
        "<ListBucketResult><IsTruncated>true</IsTruncated>"
        "<NextContinuationToken></NextContinuationToken>"
        "</ListBucketResult>",
        /* an empty key (found by fuzz_s3): <Key/> and <Key></Key> */
        "<ListBucketResult><Contents><Key/>p/x</Key><Size>1</Size>"
        "</Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key></Key><Size>1</Size>"
        "</Contents></ListBucketResult>",
    };
    char token[EV_S3_TOKEN_MAX + 1], *big;
    struct seen s;
    int tr;

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (parse(bad[i], &s, &tr, token) != EV_ECORRUPT) {
            fprintf(stderr, "accepted list %zu: %s\n", i, bad[i]);
            CHECK(0);
        }
    }
    /* a key longer than any evault writes, and a token longer than kept */
    big = malloc(8000);
    {
        int n = snprintf(big, 8000, "<ListBucketResult><Contents><Key>");
        memset(big + n, 'k', EV_S3_KEY_MAX + 1);
        n += EV_S3_KEY_MAX + 1;
        snprintf(big + n, 8000 - (size_t)n,
                 "</Key><Size>1</Size></Contents></ListBucketResult>");
        CHECK_EQ(parse(big, &s, &tr, token), EV_ECORRUPT);
        n = snprintf(big, 8000, "<ListBucketResult><IsTruncated>true"
                                "</IsTruncated><NextContinuationToken>");
        memset(big + n, 't', EV_S3_TOKEN_MAX + 1);
        n += EV_S3_TOKEN_MAX + 1;
        snprintf(big + n, 8000 - (size_t)n,
                 "</NextContinuationToken></ListBucketResult>");
        CHECK_EQ(parse(big, &s, &tr, token), EV_ECORRUPT);
    }
    /* nothing after the result element counts */
    CHECK_EQ(parse("<ListBucketResult></ListBucketResult><Contents><Key>k"
                   "</Key><Size>1</Size></Contents>",
                   &s, &tr, token),
             EV_OK);
    CHECK_EQ(s.n, 0);
    /* every cut of a good listing fails or yields a prefix of its keys */
    {
        const char *good =
            "<ListBucketResult><Contents><Key>p/one</Key><Size>1</Size>"
            "</Contents><Contents><Key>p/two</Key><Size>2</Size></Contents>"
            "<IsTruncated>false</IsTruncated></ListBucketResult>";
        size_t n = strlen(good);
        int ok = 1;
        for (size_t cut = 0; cut < n; cut++) {
            memcpy(big, good, cut);
            big[cut] = '\0';
            if (parse(big, &s, &tr, token) == EV_OK && s.n > 0 &&
                strcmp(s.keys[0], "p/one") != 0) {
                ok = 0;
            }
        }
        CHECK(ok);
    }
    free(big);
}

static void
test_xml_text(void)
{
    const char *err = "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket"
                      "</Code><Message>The bucket &apos;b&apos; is gone"
                      "</Message><BucketName>b</BucketName></Error>";
    char out[64];

    CHECK_EQ(ev_s3_xml_text(err, strlen(err), "Code", out, sizeof out), 0);
    CHECK(strcmp(out, "NoSuchBucket") == 0);
    CHECK_EQ(ev_s3_xml_text(err, strlen(err), "Message", out, sizeof out),
             0);
    CHECK(strcmp(out, "The bucket 'b' is gone") == 0);
    CHECK_EQ(ev_s3_xml_text(err, strlen(err), "Message", out, 5), -1);
    CHECK_EQ(ev_s3_xml_text(err, strlen(err), "Resource", out, sizeof out),
             -1);
    CHECK_EQ(ev_s3_xml_text(err, 20, "Code", out, sizeof out), -1);
    /* <CodeX> is not <Code> */
    CHECK_EQ(ev_s3_xml_text("<CodeX>a</CodeX>", 16, "Code", out, sizeof out),
             -1);
    CHECK_EQ(ev_s3_xml_text("<Code a=\"1\">b</Code>", 20, "Code", out,
                            sizeof out),
             0);
    CHECK(strcmp(out, "b") == 0);
}

/* ------------------------------------------------------------------ */
/* Credentials files                                                   */
/* ------------------------------------------------------------------ */

static void
test_creds(void)
{
    ev_s3_creds *c = ev_secure_alloc(sizeof *c);
    char err[200];
    const char *good =
        "# comment\n"
        "; another\n"
        "[default]\n"
        "aws_access_key_id = AKDEFAULT\n"
        "aws_secret_access_key=secretdefault\n"
        "\n"
        "[ ngo ]\r\n"
        "region = eu-west-1\r\n"
        "AWS_ACCESS_KEY_ID =  AKNGO  \r\n"
        "aws_secret_access_key\t=\tsecret/ngo+x=\r\n"
        "aws_session_token = tok123\r\n";

    CHECK(c != NULL);
    CHECK_EQ(ev_s3_creds_parse(c, good, strlen(good), "default", err,
                               sizeof err),
             EV_OK);
    CHECK(strcmp(c->access_key, "AKDEFAULT") == 0);
    CHECK(strcmp(c->secret_key, "secretdefault") == 0);
    CHECK(c->token[0] == '\0');
    CHECK_EQ(ev_s3_creds_parse(c, good, strlen(good), "ngo", err, sizeof err),
             EV_OK);
    CHECK(strcmp(c->access_key, "AKNGO") == 0);
    CHECK(strcmp(c->secret_key, "secret/ngo+x=") == 0);
    CHECK(strcmp(c->token, "tok123") == 0);
    CHECK_EQ(ev_s3_creds_parse(c, good, strlen(good), "other", err,
                               sizeof err),
             EV_ENOENT);
    CHECK(strstr(err, "no profile [other]") != NULL);
    {
        static const struct {
            const char *text;
            int want;
        } bad[] = {
            {"[default]\naws_access_key_id = A\n", EV_ENOENT},
            {"[default]\naws_secret_access_key = S\n", EV_ENOENT},
            {"[default]\naws_access_key_id = A\naws_access_key_id = B\n"
             "aws_secret_access_key = S\n",
             EV_EINVAL},
            {"[default]\naws_access_key_id = A B\n"
             "aws_secret_access_key = S\n",
             EV_EINVAL},
            {"[default]\naws_access_key_id =\naws_secret_access_key = S\n",
             EV_EINVAL},
            {"[default]\njunk line\n", EV_EINVAL},
            {"[default\naws_access_key_id = A\n", EV_EINVAL},
            {"[default]\naws_access_key_id = A\naws_secret_access_key = S\n"
             "[default]\n",
             EV_EINVAL},
            {"[default]\naws_access_key_id = A\x01\n"
             "aws_secret_access_key = S\n",
             EV_EINVAL},
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
            int rc = ev_s3_creds_parse(c, bad[i].text, strlen(bad[i].text),
                                       "default", err, sizeof err);
            if (rc != bad[i].want) {
                fprintf(stderr, "creds case %zu: %d, wanted %d\n", i, rc,
                        bad[i].want);
                CHECK(0);
            }
        }
    }
    /* a NUL, an over-long line, an over-long value, an over-size file */
    {
        char *big = malloc(EV_S3_CREDS_FILE_MAX + 2);
        const char nul[] = "[default]\naws_access_key_id = A\0B\n";
        size_t n;
        CHECK_EQ(ev_s3_creds_parse(c, nul, sizeof nul - 1, "default", err,
                                   sizeof err),
                 EV_EINVAL);
        n = (size_t)snprintf(big, 64, "[default]\n# ");
        memset(big + n, 'x', 5000);
        big[n + 5000] = '\n';
        CHECK_EQ(ev_s3_creds_parse(c, big, n + 5001, "default", err,
                                   sizeof err),
                 EV_EINVAL);
        n = (size_t)snprintf(big, 64, "[default]\naws_access_key_id = ");
        memset(big + n, 'A', 200);
        n += 200;
        n += (size_t)snprintf(big + n, 64, "\naws_secret_access_key = S\n");
        CHECK_EQ(ev_s3_creds_parse(c, big, n, "default", err, sizeof err),
                 EV_EINVAL);
        memset(big, '#', EV_S3_CREDS_FILE_MAX + 1);
        CHECK_EQ(ev_s3_creds_parse(c, big, EV_S3_CREDS_FILE_MAX + 1,
                                   "default", err, sizeof err),
                 EV_EINVAL);
        free(big);
    }
    ev_secure_free(c);
}

/* ------------------------------------------------------------------ */
/* Retry policy                                                        */
/* ------------------------------------------------------------------ */

static void
test_retry(void)
{
    CHECK(ev_s3_retryable(CURLE_OK, 500));
    CHECK(ev_s3_retryable(CURLE_OK, 503));
    CHECK(ev_s3_retryable(CURLE_OK, 429));
    CHECK(!ev_s3_retryable(CURLE_OK, 200));
    CHECK(!ev_s3_retryable(CURLE_OK, 403));
    CHECK(!ev_s3_retryable(CURLE_OK, 404));
    CHECK(!ev_s3_retryable(CURLE_OK, 400));
    CHECK(ev_s3_retryable(CURLE_COULDNT_CONNECT, 0));
    CHECK(ev_s3_retryable(CURLE_OPERATION_TIMEDOUT, 0));
    CHECK(ev_s3_retryable(CURLE_RECV_ERROR, 0));
    CHECK(ev_s3_retryable(CURLE_SEND_ERROR, 0));
    CHECK(ev_s3_retryable(CURLE_GOT_NOTHING, 0));
    CHECK(!ev_s3_retryable(CURLE_URL_MALFORMAT, 0));
    CHECK(!ev_s3_retryable(CURLE_WRITE_ERROR, 0));
    CHECK(!ev_s3_retryable(CURLE_PEER_FAILED_VERIFICATION, 0));
    /* exponential with jitter in [cap/2, cap], cap at 8 s */
    {
        static const unsigned caps[] = {250, 500, 1000, 2000, 4000, 8000,
                                        8000, 8000};
        int ok = 1;
        for (int a = 1; a <= 8; a++) {
            unsigned cap = caps[a - 1];
            unsigned lo = ev_s3_backoff_ms(a, 0);
            unsigned hi = ev_s3_backoff_ms(a, cap / 2);
            if (lo != cap / 2 || hi != cap) {
                ok = 0;
            }
            for (uint32_t r = 0; r < 5000; r += 7) {
                unsigned d = ev_s3_backoff_ms(a, r * 2654435761u);
                if (d < cap / 2 || d > cap) {
                    ok = 0;
                }
            }
        }
        CHECK(ok);
        CHECK(ev_s3_backoff_ms(1000, 0xffffffffu) <= 8000);
    }
    /* the worst total wait of one request stays bounded */
    {
        unsigned total = 0;
        for (int a = 1; a < EV_S3_ATTEMPTS; a++) {
            total += ev_s3_backoff_ms(a, 0xffffffffu);
        }
        CHECK(total <= 16000);
    }
}

int
main(void)
{
    if (ev_init() != EV_OK) {
        return 1;
    }
    test_parse_url();
    test_config();
    test_urls();
    test_list_good();
    test_list_hostile();
    test_xml_text();
    test_creds();
    test_retry();
    EV_TEST_END();
}
