/*
 * curl_load.h - libcurl, loaded at run time for the S3 store.
 *
 * evault does not link libcurl.  Linked, it would map libcurl and the
 * libraries it pulls in (TLS stacks, Kerberos, LDAP, ...) into every
 * process, costing every command memory and start-up time, though only
 * s3.c sends requests.  s3.c calls libcurl through this table instead,
 * filled once per process, on the first request, by dlopen of
 * EV_CURL_SONAME.  Types and constants still come from <curl/curl.h>: the
 * ABI of soname 4 is stable, and the -dev package is a build dependency.
 * The calls go through members of their own names (lib->easy_setopt): a
 * direct call to a curl_ function fails to link, and curl.h's type-checking
 * macros for curl_easy_setopt do not apply, so each option's argument must
 * have the type libcurl reads (long, curl_off_t, a pointer) by hand.
 */
#ifndef EV_CURL_LOAD_H
#define EV_CURL_LOAD_H

#include <curl/curl.h>
#include <stddef.h>

/* libcurl's ABI 4: Debian's libcurl4. */
#define EV_CURL_SONAME "libcurl.so.4"
/* The oldest libcurl with every option s3.c sets (CURLOPT_PROTOCOLS_STR
 * came in 7.85.0; CURLOPT_AWS_SIGV4 in 7.75.0).  An older one would
 * ignore them, so it is refused. */
#define EV_CURL_MIN_VERSION 0x075500
#define EV_CURL_MIN_VERSION_TEXT "7.85.0"

/* The libcurl functions evault calls, with libcurl's own signatures. */
typedef struct ev_curl {
    CURLcode (*global_init)(long flags);
    curl_version_info_data *(*version_info)(CURLversion stamp);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *c, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *c);
    CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
    void (*easy_reset)(CURL *c);
    void (*easy_cleanup)(CURL *c);
    const char *(*easy_strerror)(CURLcode cc);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
    void (*slist_free_all)(struct curl_slist *list);
} ev_curl;

/* The table, loaded, checked (EV_CURL_MIN_VERSION) and curl_global_init'ed
 * once per process; every later call gives the first call's outcome.
 * EV_ESTORE when libcurl cannot be loaded, lacks a function or is too old,
 * EV_ENOMEM when curl_global_init fails; err then says why ("cannot load
 * libcurl.so.4 (needed for the S3 store): ...").  Thread-safe.  libcurl
 * stays loaded until the process ends. */
int ev_curl_get(const ev_curl **out, char *err, size_t err_len);

/* One attempt at the loading of ev_curl_get, without the once, the version
 * check and curl_global_init: opens soname and fills *fns.  EV_ESTORE with
 * err when the library or a function is missing (the library is closed
 * again).  For ev_curl_get and the tests. */
int ev_curl_open(ev_curl *fns, const char *soname, char *err, size_t err_len);

/* Tests only: the soname ev_curl_get loads (EV_CURL_SONAME), read on its
 * first call. */
extern const char *ev_curl_soname;

#endif
