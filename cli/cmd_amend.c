/*
 * cmd_amend.c - `evault amend ID --reason R [--case C] ...`: append a
 * metadata correction.
 */
#include "cli.h"
#include "commands.h"

#include <getopt.h>
#include <string.h>

static const char usage[] =
    "usage: evault amend ID --reason R [--name N] [--kind K] [--case C]\n"
    "                    [--source S] [--note N] [--captured-at T]\n"
    "                    [--location L] [--tag T]...\n";

static const char help[] =
    "\n"
    "Appends a correction to a record's metadata.  The original stays as it\n"
    "was; 'evault show' lists every correction with its reason, and the\n"
    "custody log records it.  This is the only way to correct a sealed\n"
    "record.\n"
    "\n"
    "Options:\n"
    "      --reason R             why (required)\n"
    "      --name, --kind, --case, --source, --note, --captured-at,\n"
    "      --location, --tag      the corrected values\n"
    CLI_COMMON_HELP;

int
cmd_amend(int argc, char **argv)
{
    static const struct option opts[] = {
        {"reason", required_argument, NULL, 'r'},
        {"name", required_argument, NULL, 'N'},
        {"kind", required_argument, NULL, 'k'},
        {"case", required_argument, NULL, 'c'},
        {"source", required_argument, NULL, 's'},
        {"note", required_argument, NULL, 'n'},
        {"captured-at", required_argument, NULL, 'a'},
        {"location", required_argument, NULL, 'l'},
        {"tag", required_argument, NULL, 't'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct cli c = {.cmd = "amend", .pass_fd = -1};
    ev_add_opts ao;
    const char *tags[64], *reason = NULL;
    char when[32];
    int64_t id;
    ev_vault *v;
    int opt, rc, ex;

    memset(&ao, 0, sizeof ao);
    ao.tags = tags;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("%s%s", usage, help);
            return EXIT_OK;
        case 'r':
            reason = optarg;
            break;
        case 'N':
            ao.name = optarg;
            break;
        case 'k':
            ao.kind = optarg;
            break;
        case 'c':
            ao.case_name = optarg;
            break;
        case 's':
            ao.source = optarg;
            break;
        case 'n':
            ao.note = optarg;
            break;
        case 'a':
            if (ev_parse_time(optarg, when, sizeof when) != EV_OK) {
                return cli_usage_error(&c, usage, "cannot read the time '%s'",
                                       optarg);
            }
            ao.captured_at = when;
            break;
        case 'l':
            ao.location = optarg;
            break;
        case 't':
            if (ao.ntags == 64) {
                return cli_usage_error(&c, usage, "at most 64 tags");
            }
            tags[ao.ntags++] = optarg;
            break;
        default:
            if (cli_common_option(&c, opt, optarg) == 1) {
                break;
            }
            return cli_bad_option(&c, usage, argc, argv);
        }
    }
    if (optind != argc - 1 || cli_parse_id(argv[optind], &id) != 0) {
        return cli_usage_error(&c, usage, "amend takes one record id");
    }
    if (reason == NULL) {
        return cli_usage_error(&c, usage, "say why with --reason");
    }
    ex = cli_open(&c, &v);
    if (ex != EXIT_OK) {
        return ex;
    }
    rc = ev_record_amend(v, id, &ao, reason);
    if (rc != EV_OK) {
        ex = cli_fail(&c, v, rc);
    } else if (!c.json) {
        printf("amended record %lld (the original is kept)\n", (long long)id);
    }
    ev_vault_free(v);
    return ex;
}
