/*
 * cmd_verify.c - `evault verify FILE --proof P --key K` (no vault needed)
 * and `evault verify FILE` (inside a vault).
 */
#include "cli.h"
#include "commands.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: evault verify FILE --proof FILE.tlog-proof --key vault.pub\n"
    "                     [--tsr FILE.tsr [--tsa-ca CA.pem]] [--json]\n"
    "       evault verify FILE            (inside a vault)\n";

static const char help[] =
    "\n"
    "With --proof and --key, checks WITHOUT any vault that FILE is exactly\n"
    "the file that entered custody: its SHA-256 and size against the intake\n"
    "entry in the proof, the entry's inclusion in the signed log, and the\n"
    "checkpoint's signature by the key.  Exit 0 only when everything holds;\n"
    "exit 1 saying what failed otherwise.\n"
    "\n"
    "Without --proof, looks FILE up in the vault by its content and reports\n"
    "every record holding it, with its seal state and chain of custody.\n"
    "\n"
    "Options:\n"
    "      --proof FILE           a .tlog-proof written by 'evault proof'\n"
    "      --key FILE             the vault's key ('evault key "
    "export-public')\n"
    "      --tsr FILE             an RFC 3161 timestamp of the proof's\n"
    "                             checkpoint ('evault proof --tsr-out')\n"
    "      --tsa-ca FILE          the timestamp authority's CA (PEM)\n"
    "      --json                 the report as one JSON object\n"
    CLI_COMMON_HELP;

/* Reads a small file whole (at most max bytes). */
int cli_slurp(struct cli *c, const char *path, size_t max, char **out,
              size_t *len);

int
cli_slurp(struct cli *c, const char *path, size_t max, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char *buf;
    size_t n = 0;

    if (fd < 0) {
        return cli_error(c, errno == ENOENT ? EV_ENOENT : EV_EIO,
                         "cannot open '%s': %s", path, strerror(errno));
    }
    buf = malloc(max + 1);
    if (buf == NULL) {
        close(fd);
        return cli_error(c, EV_ENOMEM, "out of memory");
    }
    for (;;) {
        ssize_t r = read(fd, buf + n, max + 1 - n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            int e = errno;
            close(fd);
            free(buf);
            return cli_error(c, EV_EIO, "cannot read '%s': %s", path,
                             strerror(e));
        }
        if (r == 0) {
            break;
        }
        n += (size_t)r;
        if (n > max) {
            close(fd);
            free(buf);
            return cli_error(c, EV_ECORRUPT,
                             "'%s' is too large to be what it claims", path);
        }
    }
    close(fd);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return EXIT_OK;
}

static void
mark(const char *what, int ok, int reached)
{
    printf("  %s %s\n", !reached ? "[ ]" : ok ? "[ok]" : "[FAILED]", what);
}

/* The checkpoint part of a proof: after its first blank line. */
static const char *
proof_checkpoint(const char *proof)
{
    const char *p = strstr(proof, "\n\n");

    return p != NULL ? p + 2 : NULL;
}

static int
offline(struct cli *c, const char *file, const char *proof_path,
        const char *key_path, const char *tsr_path, const char *tsa_ca)
{
    char when[32] = "", terr[256] = "";
    int ts_rc = -1;
    char *proof = NULL, *key = NULL;
    size_t plen = 0, klen = 0;
    uint8_t sha[EV_SHA256_BYTES];
    uint64_t size = 0;
    ev_verify_report r;
    int ex, rc;

    ex = cli_slurp(c, key_path, 1024, &key, &klen);
    if (ex == EXIT_OK) {
        ex = cli_slurp(c, proof_path, 65536, &proof, &plen);
    }
    if (ex != EXIT_OK) {
        free(key);
        return ex;
    }
    rc = ev_sha256_file(file, sha, &size);
    if (rc != EV_OK) {
        free(key);
        free(proof);
        return cli_error(c, rc, "cannot read '%s': %s", file,
                         ev_strerror(rc));
    }
    rc = ev_verify_proof(proof, plen, key, klen, sha, size, &r);
    if (tsr_path != NULL) {
        char *tsr = NULL;
        size_t tlen = 0;
        const char *cp = proof_checkpoint(proof);
        if (cli_slurp(c, tsr_path, 65536, &tsr, &tlen) == EXIT_OK &&
            cp != NULL) {
            ts_rc = ev_timestamp_verify(cp, strlen(cp), (const uint8_t *)tsr,
                                        tlen, tsa_ca, when, terr,
                                        sizeof terr);
        } else {
            snprintf(terr, sizeof terr, "cannot read '%s'", tsr_path);
        }
        free(tsr);
        if (ts_rc != EV_OK && r.ok) {
            r.ok = 0;
            /* terr is shorter than failure: nothing is cut */
            if ((size_t)snprintf(r.failure, sizeof r.failure, "timestamp: %.200s",
                                 terr) >= sizeof r.failure) {
                r.failure[sizeof r.failure - 1] = '\0';
            }
        }
    }
    free(key);
    free(proof);
    if (c->json) {
        json_t *j = json_pack(
            "{s:b,s:s,s:s,s:I,s:s,s:I,s:s,s:s,s:I,s:I,s:b,s:b,s:b,s:b}",
            "ok", r.ok, "failure", r.failure, "file", file, "record",
            (json_int_t)r.record, "sha256", r.sha256, "size",
            (json_int_t)r.size, "entered_at", r.entered_at, "sealed_at",
            r.sealed_at, "log_index", (json_int_t)r.index, "log_size",
            (json_int_t)r.log_size, "signature_ok", r.signature_ok,
            "inclusion_ok", r.inclusion_ok, "hash_ok", r.hash_ok, "entry_ok",
            r.entry_ok);
        json_object_set_new(j, "key", json_string(r.key_name));
        json_object_set_new(j, "key_id", json_string(r.key_id));
        if (tsr_path != NULL) {
            json_object_set_new(j, "timestamp",
                                ts_rc == EV_OK ? json_string(when)
                                               : json_null());
            json_object_set_new(j, "timestamp_signature_checked",
                                json_boolean(ts_rc == EV_OK &&
                                             tsa_ca != NULL));
        }
        char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
        json_decref(j);
    } else {
        printf("File:      %s\n", file);
        if (r.entry_ok) {
            printf("Record:    %lld, entered custody %s\n",
                   (long long)r.record, r.entered_at);
            printf("SHA-256:   %s (recorded at intake)\n", r.sha256);
            printf("Size:      %llu bytes (recorded at intake)\n",
                   (unsigned long long)r.size);
        }
        if (r.signature_ok) {
            printf("Sealed:    in a checkpoint of %llu log entries signed "
                   "%s\n",
                   (unsigned long long)r.log_size,
                   r.sealed_at[0] ? r.sealed_at : "(no time given)");
        }
        printf("Key:       %s (key id %s; compare the whole key line with the "
               "one you were given)\n",
               r.key_name[0] ? r.key_name : "-", r.key_id[0] ? r.key_id : "-");
        if (tsr_path != NULL && ts_rc == EV_OK) {
            printf("Timestamp: the checkpoint existed at %s (RFC 3161; "
                   "authority's signature %s)\n",
                   when, tsa_ca != NULL ? "checked" : "NOT checked: give "
                                                      "--tsa-ca");
        }
        printf("Checks:\n");
        mark("the key and the proof are well formed", r.key_ok && r.proof_ok,
             1);
        mark("the checkpoint is signed by this key", r.signature_ok,
             r.key_ok && r.proof_ok);
        mark("the intake entry is in the signed log", r.inclusion_ok,
             r.signature_ok);
        mark("the entry records an intake", r.entry_ok, r.inclusion_ok);
        mark("the file's SHA-256 and size are the ones recorded", r.hash_ok,
             r.entry_ok);
        if (tsr_path != NULL) {
            mark("the timestamp covers this checkpoint", ts_rc == EV_OK,
                 r.proof_ok);
        }
        if (r.ok) {
            printf("VERIFIED: this file is exactly the file that entered "
                   "custody as record %lld.\n",
                   (long long)r.record);
        }
    }
    if (!r.ok) {
        fprintf(stderr, "evault: error: NOT VERIFIED: %s\n", r.failure);
        return EXIT_INTEGRITY;
    }
    (void)rc;
    return EXIT_OK;
}

struct found {
    ev_vault *v;
    int n;
};

static int
print_custody(void *ctx, uint64_t seq, const char *text)
{
    const char *a = strstr(text, "\naction ");
    const char *t = strstr(text, "\ntime ");
    (void)ctx;
    printf("    #%llu", (unsigned long long)seq);
    if (t != NULL) {
        printf(" %.20s", t + 6);
    }
    if (a != NULL) {
        const char *e = strchr(a + 8, '\n');
        printf(" %.*s", e != NULL ? (int)(e - a - 8) : 16, a + 8);
    }
    printf("\n");
    return 0;
}

static int
print_found(void *ctx, const ev_record *r)
{
    struct found *f = ctx;

    f->n++;
    printf("record %lld: ", (long long)r->id);
    cli_put_name(stdout, r->path != NULL ? r->path : r->name);
    printf(" (%s%s)\n", cli_state_name(r->state),
           r->hash_only ? ", hash only" : "");
    printf("  chain of custody:\n");
    ev_log_list(f->v, r->id, print_custody, NULL);
    return 0;
}

static int
in_vault(struct cli *c, const char *file)
{
    uint8_t sha[EV_SHA256_BYTES];
    uint64_t size = 0;
    ev_filter flt = {NULL, NULL, NULL, NULL};
    struct found f = {NULL, 0};
    char hex[65];
    ev_vault *v;
    int rc, ex;

    rc = ev_sha256_file(file, sha, &size);
    if (rc != EV_OK) {
        return cli_error(c, rc, "cannot read '%s': %s", file,
                         ev_strerror(rc));
    }
    ex = cli_open(c, &v);
    if (ex != EXIT_OK) {
        return ex;
    }
    flt.sha256 = sha;
    f.v = v;
    ev_hex(hex, sha, sizeof sha);
    printf("%s  sha256 %s\n", file, hex);
    rc = ev_record_list(v, &flt, print_found, &f);
    if (rc != EV_OK) {
        ex = cli_fail(c, v, rc);
    } else if (f.n == 0) {
        ex = cli_error(c, EV_ECORRUPT,
                       "no record in this vault holds this content");
    }
    ev_vault_free(v);
    return ex;
}

int
cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"proof", required_argument, NULL, 'p'},
        {"key", required_argument, NULL, 'k'},
        {"tsr", required_argument, NULL, 't'},
        {"tsa-ca", required_argument, NULL, 'C'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct cli c = {.cmd = "verify", .pass_fd = -1};
    const char *proof = NULL, *key = NULL, *tsr = NULL, *tsa_ca = NULL;
    int opt;

    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("%s%s", usage, help);
            return EXIT_OK;
        case 'p':
            proof = optarg;
            break;
        case 'k':
            key = optarg;
            break;
        case 't':
            tsr = optarg;
            break;
        case 'C':
            tsa_ca = optarg;
            break;
        default:
            if (cli_common_option(&c, opt, optarg) == 1) {
                break;
            }
            return cli_bad_option(&c, usage, argc, argv);
        }
    }
    if (optind != argc - 1) {
        return cli_usage_error(&c, usage, "verify takes one file");
    }
    if ((proof == NULL) != (key == NULL)) {
        return cli_usage_error(&c, usage, "--proof and --key go together");
    }
    if (proof != NULL) {
        return offline(&c, argv[optind], proof, key, tsr, tsa_ca);
    }
    return in_vault(&c, argv[optind]);
}
