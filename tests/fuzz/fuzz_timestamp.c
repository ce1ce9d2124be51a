/*
 * fuzz_timestamp.c - an RFC 3161 timestamp reply from outside (`evault
 * seal --attach-tsr`, `evault verify --tsr`): OpenSSL's DER parser, then
 * evault's checks: the whole input consumed, version, the message
 * imprint against a fixed checkpoint note, the time read back; then the
 * same with the signature chain to tests/fuzz/tsa-ca.pem checked.
 *
 * Seeds are replies over that note from a test authority whose CA is
 * tsa-ca.pem (made by mkseeds.sh with Debian's openssl), so mutations get
 * to the imprint and signature checks.
 */
#include "fuzz.h"

#ifndef EV_FUZZ_TSA_CA
#error "EV_FUZZ_TSA_CA: the path of tests/fuzz/tsa-ca.pem (CMake sets it)"
#endif

/* The note the seeds' replies are over (mkseeds.sh writes the same). */
static const char note[] = "evault.local/0123456789abcdef0123456789abcdef\n"
                           "4\n"
                           "1wDtgXM2QTaUceqQEM94wA4hK7t/ECYi7OdGzrhaHzQ=\n"
                           "time 2024-03-01T10:00:00Z\n";

/* With EV_FUZZ_MKSEEDS set: prints the note for mkseeds.sh and exits. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (fz_seed_dir() != NULL) {
        fputs(note, stdout);
        exit(0);
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char when[32], err[256];
    if (ev_timestamp_verify(note, sizeof note - 1, data, size,
                            size % 2 == 0 ? EV_FUZZ_TSA_CA : NULL, when, err,
                            sizeof err) == EV_OK &&
        memchr(when, '\0', sizeof when) == NULL) {
        abort();
    }
    return 0;
}
