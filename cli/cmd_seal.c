/*
 * cmd_seal.c - `evault seal ID...|--case C`: freeze records under a signed
 * checkpoint.
 */
#include "cli.h"
#include "commands.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: evault seal [--note N] [--tsq FILE] ID...\n"
    "       evault seal [--note N] [--tsq FILE] --case C\n"
    "       evault seal --attach-tsr FILE [--tsa-ca CA.pem]\n";

static const char help[] =
    "\n"
    "Seals records: from now on they cannot be changed or destroyed by any\n"
    "command (corrections are appended with 'evault amend' and shown beside\n"
    "the original), and a checkpoint of the custody log that covers them is\n"
    "signed with the vault's key.  'evault proof ID' then writes a proof a\n"
    "court can check without the vault.\n"
    "\n"
    "Options:\n"
    "      --case C               seal every record of case C\n"
    "      --note N               why, or under which instruction\n"
    "      --tsq FILE             also write an RFC 3161 timestamp request\n"
    "                             for the new checkpoint, to send to a\n"
    "                             timestamp authority (e.g. 'openssl ts' or\n"
    "                             curl to its URL)\n"
    "      --attach-tsr FILE      keep the authority's reply, after checking\n"
    "                             it against the request\n"
    "      --tsa-ca FILE          the authority's CA certificate(s), PEM: also\n"
    "                             check the reply's signature\n"
    CLI_COMMON_HELP;

int cli_slurp(struct cli *c, const char *path, size_t max, char **out,
              size_t *len);

static int
attach(struct cli *c, const char *tsr_path, const char *ca)
{
    char *tsr = NULL, when[32] = "";
    size_t len = 0;
    ev_vault *v;
    int ex = cli_slurp(c, tsr_path, 65536, &tsr, &len), rc;

    if (ex != EXIT_OK) {
        return ex;
    }
    ex = cli_open(c, &v);
    if (ex != EXIT_OK) {
        free(tsr);
        return ex;
    }
    rc = ev_timestamp_attach(v, (const uint8_t *)tsr, len, ca, when);
    if (rc != EV_OK) {
        ex = cli_fail(c, v, rc);
    } else {
        printf("timestamp kept: the authority dates the latest checkpoint "
               "%s%s\n",
               when, ca != NULL ? " (signature checked)"
                                : " (signature not checked: no --tsa-ca)");
    }
    free(tsr);
    ev_vault_free(v);
    return ex;
}

int
cmd_seal(int argc, char **argv)
{
    static const struct option opts[] = {
        {"case", required_argument, NULL, 'c'},
        {"note", required_argument, NULL, 'n'},
        {"tsq", required_argument, NULL, 'q'},
        {"attach-tsr", required_argument, NULL, 'r'},
        {"tsa-ca", required_argument, NULL, 'C'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct cli c = {.cmd = "seal", .pass_fd = -1};
    const char *case_name = NULL, *note = NULL, *tsq = NULL, *tsr = NULL;
    const char *tsa_ca = NULL;
    struct cli_ids ids = {NULL, 0};
    size_t nsealed = 0;
    ev_vault *v;
    int opt, rc, ex;

    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("%s%s", usage, help);
            return EXIT_OK;
        case 'c':
            case_name = optarg;
            break;
        case 'n':
            note = optarg;
            break;
        case 'q':
            tsq = optarg;
            break;
        case 'r':
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
    if (tsr != NULL) {
        if (case_name != NULL || optind != argc || tsq != NULL) {
            return cli_usage_error(&c, usage,
                                   "--attach-tsr goes alone (with --tsa-ca)");
        }
        return attach(&c, tsr, tsa_ca);
    }
    if (case_name == NULL && optind == argc) {
        return cli_usage_error(&c, usage,
                               "name the records to seal: their ids, or "
                               "--case C");
    }
    if (case_name != NULL && optind != argc) {
        return cli_usage_error(&c, usage,
                               "give record ids or --case, not both");
    }
    ex = cli_ids_from_args(&c, usage, &ids, argc, argv, optind);
    if (ex != EXIT_OK) {
        free(ids.v);
        return ex;
    }
    ex = cli_open(&c, &v);
    if (ex != EXIT_OK) {
        free(ids.v);
        return ex;
    }
    if (case_name != NULL) {
        ev_filter f = {case_name, NULL, NULL, NULL};
        rc = ev_record_list(v, &f, cli_ids_add, &ids);
        if (rc == EV_OK && ids.n == 0) {
            ev_vault_free(v);
            return cli_error(&c, EV_ENOENT, "no records in case '%s'",
                             case_name);
        }
    } else {
        rc = EV_OK;
    }
    if (rc == EV_OK) {
        rc = ev_seal(v, ids.v, ids.n, note, &nsealed);
    }
    if (rc == EV_OK && tsq != NULL) {
        uint8_t *der = NULL;
        size_t len = 0;
        rc = ev_timestamp_request(v, &der, &len);
        if (rc == EV_OK) {
            ex = cli_write_new_file(&c, tsq, (const char *)der, len);
            if (ex == EXIT_OK && !c.json) {
                fprintf(stderr, "wrote the timestamp request '%s'\n", tsq);
            }
        }
        free(der);
    }
    if (rc != EV_OK) {
        ex = cli_fail(&c, v, rc);
    } else if (ex != EXIT_OK) {
        /* the seal holds; the request file could not be written */
    } else if (c.json) {
        printf("{\"sealed\":%zu,\"requested\":%zu}\n", nsealed, ids.n);
    } else {
        printf("sealed %zu record(s)%s; a checkpoint signed by the vault's "
               "key covers them\n",
               nsealed,
               nsealed < ids.n ? " (the others were sealed already)" : "");
    }
    free(ids.v);
    ev_vault_free(v);
    return ex;
}
