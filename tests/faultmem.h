/*
 * faultmem.h - the allocation-failure counter: the N-th allocation made
 * for the library fails.
 *
 * Counted, on one counter, in the order they happen (any thread):
 *   - malloc, calloc, realloc, strdup, posix_memalign and aligned_alloc
 *     called from the library's objects and the tests' (the test links
 *     with -Wl,--wrap=... for each; calls made inside shared libraries,
 *     zstd's or libarchive's own, are not seen);
 *   - ev_secure_alloc, the library's guarded allocations (--wrap too);
 *   - SQLite's allocations (SQLITE_CONFIG_MALLOC, before SQLite starts);
 *   - OpenSSL's (CRYPTO_set_mem_functions, before it allocates);
 *   - jansson's (json_set_alloc_funcs), but for those of its parser
 *     (json_loads, json_loadb: --wrap), which is not safe when one fails
 *     (akheron/jansson#362).
 * A failing call returns NULL (errno ENOMEM); later calls succeed.
 */
#ifndef EV_FAULTMEM_H
#define EV_FAULTMEM_H

/* Installs SQLite's and jansson's allocators.  Call first in main, before
 * anything starts SQLite. */
void fm_install(void);

void fm_count(void);
void fm_arm(long n);
void fm_off(void);
long fm_calls(void);
int fm_fired(void);
/* What failed: "malloc(1048576)", "sqlite xRealloc(4096)", ... */
const char *fm_what(void);
/* Guarded blocks (ev_secure_alloc) not freed yet: libsodium maps them
 * outside LeakSanitizer's sight, so the test compares this count before
 * and after each run. */
long fm_secure_live(void);

#endif
