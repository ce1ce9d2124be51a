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
    "usage: evault seal [--note N] ID...\n"
    "       evault seal [--note N] --case C\n";

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
    "      --operator NAME        who is sealing (default: $EVAULT_OPERATOR)\n"
    CLI_COMMON_HELP;

struct ids {
    int64_t *v;
    size_t n;
};

static int
collect(void *ctx, const ev_record *r)
{
    struct ids *ids = ctx;
    int64_t *nv = realloc(ids->v, (ids->n + 1) * sizeof *nv);

    if (nv == NULL) {
        return 1;
    }
    ids->v = nv;
    ids->v[ids->n++] = r->id;
    return 0;
}

int
cmd_seal(int argc, char **argv)
{
    static const struct option opts[] = {
        {"case", required_argument, NULL, 'c'},
        {"note", required_argument, NULL, 'n'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct cli c = {"seal", NULL, NULL, -1, 0, NULL};
    const char *case_name = NULL, *note = NULL;
    struct ids ids = {NULL, 0};
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
        default:
            if (cli_common_option(&c, opt, optarg) == 1) {
                break;
            }
            return cli_bad_option(&c, usage, argc, argv);
        }
    }
    if ((case_name == NULL) == (optind == argc)) {
        return cli_usage_error(&c, usage,
                               "give record ids or --case, not both");
    }
    for (int i = optind; i < argc; i++) {
        int64_t id;
        if (cli_parse_id(argv[i], &id) != 0) {
            free(ids.v);
            return cli_usage_error(&c, usage, "'%s' is not a record id",
                                   argv[i]);
        }
        collect(&ids, &(ev_record){.id = id});
    }
    ex = cli_open(&c, &v);
    if (ex != EXIT_OK) {
        free(ids.v);
        return ex;
    }
    if (case_name != NULL) {
        ev_filter f = {case_name, NULL, NULL, NULL};
        rc = ev_record_list(v, &f, collect, &ids);
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
    if (rc != EV_OK) {
        ex = cli_fail(&c, v, rc);
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
