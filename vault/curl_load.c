/*
 * curl_load.c - finds libcurl at run time (see curl_load.h).
 *
 * Owns: the dlopen of libcurl, the table of its functions, its version
 * check and curl_global_init, each done once per process.
 * Never: calls libcurl beyond curl_version_info and curl_global_init,
 * closes a libcurl that loaded (its global state lives until the process
 * ends), or prints.
 */
#include "curl_load.h"

#include "evault.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

const char *ev_curl_soname = EV_CURL_SONAME;

/* Each function's name in libcurl and its member in the table. */
static const struct {
    const char *name;
    size_t offset;
} symbols[] = {
    {"curl_global_init", offsetof(ev_curl, global_init)},
    {"curl_version_info", offsetof(ev_curl, version_info)},
    {"curl_easy_init", offsetof(ev_curl, easy_init)},
    {"curl_easy_setopt", offsetof(ev_curl, easy_setopt)},
    {"curl_easy_perform", offsetof(ev_curl, easy_perform)},
    {"curl_easy_getinfo", offsetof(ev_curl, easy_getinfo)},
    {"curl_easy_reset", offsetof(ev_curl, easy_reset)},
    {"curl_easy_cleanup", offsetof(ev_curl, easy_cleanup)},
    {"curl_easy_strerror", offsetof(ev_curl, easy_strerror)},
    {"curl_slist_append", offsetof(ev_curl, slist_append)},
    {"curl_slist_free_all", offsetof(ev_curl, slist_free_all)},
};
_Static_assert(sizeof symbols / sizeof symbols[0] ==
                   sizeof(ev_curl) / sizeof(void (*)(void)),
               "every member of ev_curl has its name in symbols[]");
/* POSIX: dlsym's void * holds a function's address in the representation
 * of a function pointer, so it may be copied into one. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
               "function pointers are as wide as void *");

int
ev_curl_open(ev_curl *fns, const char *soname, char *err, size_t err_len)
{
    void *h, *p;

    memset(fns, 0, sizeof *fns);
    /* RTLD_NOW: a libcurl whose own dependencies do not resolve fails
     * here, with dlerror's words, not at its first call. */
    h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        snprintf(err, err_len, "cannot load %s (needed for the S3 store): %s",
                 soname, dlerror());
        return EV_ESTORE;
    }
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        (void)dlerror(); /* so the one below is dlsym's */
        p = dlsym(h, symbols[i].name);
        if (p == NULL) {
            const char *why = dlerror();
            snprintf(err, err_len,
                     "cannot load %s (needed for the S3 store): %s", soname,
                     why != NULL ? why : symbols[i].name);
            memset(fns, 0, sizeof *fns);
            dlclose(h);
            return EV_ESTORE;
        }
        memcpy((char *)fns + symbols[i].offset, &p, sizeof p);
    }
    return EV_OK;
}

/* The outcome of the one load, kept for every later caller. */
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static ev_curl loaded;
static int load_rc;
static char load_err[512];

static void
load(void)
{
    const curl_version_info_data *ver;
    CURLcode cc;

    load_rc = ev_curl_open(&loaded, ev_curl_soname, load_err, sizeof load_err);
    if (load_rc != EV_OK) {
        return;
    }
    ver = loaded.version_info(CURLVERSION_NOW);
    if (ver == NULL || ver->version_num < EV_CURL_MIN_VERSION) {
        snprintf(load_err, sizeof load_err,
                 "cannot use %s (needed for the S3 store): it is libcurl %s, "
                 "older than " EV_CURL_MIN_VERSION_TEXT,
                 ev_curl_soname, ver != NULL ? ver->version : "?");
        load_rc = EV_ESTORE;
        return;
    }
    cc = loaded.global_init(CURL_GLOBAL_DEFAULT);
    if (cc != CURLE_OK) {
        snprintf(load_err, sizeof load_err, "cannot set up libcurl: %s",
                 loaded.easy_strerror(cc));
        load_rc = EV_ENOMEM; /* what curl_global_init fails on */
    }
}

int
ev_curl_get(const ev_curl **out, char *err, size_t err_len)
{
    pthread_once(&load_once, load);
    if (load_rc != EV_OK) {
        *out = NULL;
        snprintf(err, err_len, "%s", load_err);
        return load_rc;
    }
    *out = &loaded;
    return EV_OK;
}
