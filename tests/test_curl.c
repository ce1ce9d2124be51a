/*
 * test_curl.c - curl_load.c: libcurl.so.4 loads with every function s3.c
 * calls; a library that is missing, or lacks a function, is a clear error;
 * and when libcurl cannot be loaded, S3 requests and the creation of an S3
 * vault fail with that error and a hint, through the usual error path.
 *
 * The failures use a soname that does not exist (ev_curl_soname, the one
 * test hook) rather than a machine without libcurl.  This executable links
 * libcurl no more than the library does (tests/cli/t_libcurl.sh checks
 * evault itself).
 */
#include "curl_load.h"
#include "evault.h"
#include "harness.h"
#include "s3.h"
#include "testutil.h"

#include <string.h>

#define MISSING "libevault-test-no-such-curl.so.4"
#define LOAD_ERROR "cannot load " MISSING " (needed for the S3 store): "

static int
starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
show(const char *what, const char *text)
{
    fprintf(stderr, "  %s: %s\n", what, text);
}

/* The real libcurl: every function is found, and it is new enough. */
static void
test_open_libcurl(void)
{
    ev_curl fns;
    char err[512] = "";
    const curl_version_info_data *ver;

    CHECK_EQ(ev_curl_open(&fns, EV_CURL_SONAME, err, sizeof err), EV_OK);
    if (err[0] != '\0') {
        show("error", err);
    }
    CHECK(fns.global_init != NULL && fns.version_info != NULL);
    CHECK(fns.easy_init != NULL && fns.easy_setopt != NULL);
    CHECK(fns.easy_perform != NULL && fns.easy_getinfo != NULL);
    CHECK(fns.easy_reset != NULL && fns.easy_cleanup != NULL);
    CHECK(fns.easy_strerror != NULL);
    CHECK(fns.slist_append != NULL && fns.slist_free_all != NULL);
    if (fns.version_info != NULL) {
        ver = fns.version_info(CURLVERSION_NOW);
        CHECK(ver != NULL && ver->version_num >= EV_CURL_MIN_VERSION);
    }
    if (fns.easy_strerror != NULL) {
        CHECK(strcmp(fns.easy_strerror(CURLE_OK), "No error") == 0);
    }
}

/* No such library, and a library without libcurl's functions. */
static void
test_open_failures(void)
{
    ev_curl fns;
    char err[512] = "";

    CHECK_EQ(ev_curl_open(&fns, MISSING, err, sizeof err), EV_ESTORE);
    CHECK(starts_with(err, LOAD_ERROR));
    CHECK(strlen(err) > strlen(LOAD_ERROR)); /* dlerror's words follow */
    CHECK(fns.easy_init == NULL);
    show("missing library", err);

    /* libc loads, but has no curl_global_init: named in the message. */
    err[0] = '\0';
    CHECK_EQ(ev_curl_open(&fns, "libc.so.6", err, sizeof err), EV_ESTORE);
    CHECK(starts_with(err, "cannot load libc.so.6 (needed for the S3 "
                           "store): "));
    CHECK(strstr(err, "curl_global_init") != NULL);
    CHECK(fns.global_init == NULL && fns.slist_free_all == NULL);
    show("missing function", err);
}

/* From here on this process cannot load libcurl. */
static void
test_get_fails(void)
{
    static const ev_curl unset;
    const ev_curl *lib = &unset;
    char err[512] = "";

    ev_curl_soname = MISSING;
    CHECK_EQ(ev_curl_get(&lib, err, sizeof err), EV_ESTORE);
    CHECK(lib == NULL);
    CHECK(starts_with(err, LOAD_ERROR));
    /* The outcome is kept: the second caller gets the same answer. */
    err[0] = '\0';
    CHECK_EQ(ev_curl_get(&lib, err, sizeof err), EV_ESTORE);
    CHECK(starts_with(err, LOAD_ERROR));
}

/* A client is made without libcurl; its first request fails cleanly. */
static void
test_s3_request_fails(void)
{
    ev_s3_config cfg;
    ev_s3 *s = NULL;
    char err[200];
    uint64_t size = 7;
    int any = 1;

    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ(ev_s3_parse_url(&cfg, "s3://evault-test/v1", err, sizeof err),
             EV_OK);
    /* Nothing listens on the discard port; nothing is sent anyway. */
    snprintf(cfg.endpoint, sizeof cfg.endpoint, "http://127.0.0.1:9");
    cfg.path_style = 1;
    CHECK_EQ(ev_s3_config_check(&cfg, err, sizeof err), EV_OK);
    CHECK_EQ(ev_s3_new(&s, &cfg), EV_OK);
    if (s == NULL) {
        return;
    }
    CHECK_EQ(ev_s3_head(s, "x", &size), EV_ESTORE);
    CHECK(size == 7);
    CHECK(starts_with(ev_s3_errmsg(s), LOAD_ERROR));
    CHECK(strstr(ev_s3_hint(s), "libcurl4") != NULL);
    show("message", ev_s3_errmsg(s));
    show("hint", ev_s3_hint(s));
    CHECK_EQ(ev_s3_probe(s, "", &any), EV_ESTORE);
    CHECK(starts_with(ev_s3_errmsg(s), LOAD_ERROR));
    ev_s3_free(s); /* no easy handle was made */
}

/* What the CLI shows: the vault's message and hint. */
static void
test_vault_create_fails(void)
{
    char *root = t_mkdtemp(), dir[PATH_MAX], rec[EV_RECOVERY_KEY_CHARS + 1];
    ev_store_spec spec = {.url = "s3://evault-test/v1",
                          .endpoint = "http://127.0.0.1:9",
                          .path_style = 1};
    ev_create_opts opts = t_cheap;
    ev_vault *v = NULL;

    opts.store = &spec;
    t_path(dir, sizeof dir, root, "v");
    CHECK_EQ(ev_vault_new(&v), EV_OK);
    CHECK_EQ(ev_vault_create(v, dir, &opts, T_PASS, strlen(T_PASS), rec),
             EV_ESTORE);
    CHECK(strstr(ev_vault_errmsg(v), LOAD_ERROR) != NULL);
    CHECK(strstr(ev_vault_hint(v), "libcurl4") != NULL);
    show("vault message", ev_vault_errmsg(v));
    ev_vault_free(v);
    t_rmtree(root);
}

int
main(void)
{
    if (ev_init() != EV_OK) {
        return 2;
    }
    test_open_libcurl();
    test_open_failures();
    test_get_fails();
    test_s3_request_fails();
    test_vault_create_fails();
    EV_TEST_END();
}
