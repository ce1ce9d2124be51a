/*
 * cmd_check.c - `evault check [--read-data]`: the vault's integrity.
 */
#include "cli.h"
#include "commands.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] = "usage: evault check [--read-data] [--json]\n";

static const char help[] =
    "\n"
    "Checks that the catalog is consistent: every record's metadata\n"
    "authenticates, its search entries and its stored blob are present.  With\n"
    "--read-data every blob is also decrypted and its SHA-256 compared with\n"
    "the record's.  Damage is reported per record; exit code 1 when anything\n"
    "is damaged.\n"
    "\n"
    "Options:\n"
    "      --read-data            decrypt and hash every stored file\n"
    "      --json                 problems as JSON Lines, then a summary\n"
    CLI_COMMON_HELP;

struct check_out {
    struct cli *c;
    uint64_t damaged, notes;
};

static void
print_problem(void *ctx, const ev_problem *p)
{
    struct check_out *o = ctx;

    cli_progress_end();
    if (p->code == EV_OK) {
        o->notes++;
    } else {
        o->damaged++;
    }
    if (o->c->json) {
        json_t *j = json_pack("{s:I,s:s,s:s}", "record", (json_int_t)p->record,
                              "severity", p->code == EV_OK ? "note" : "damage",
                              "message", p->what);
        char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
        json_decref(j);
    } else if (p->record > 0) {
        printf("%s: record %lld: %s\n", p->code == EV_OK ? "note" : "DAMAGED",
               (long long)p->record, p->what);
    } else {
        printf("%s: %s\n", p->code == EV_OK ? "note" : "DAMAGED", p->what);
    }
}

int
cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"read-data", no_argument, NULL, 'r'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct cli c = {.cmd = "check", .pass_fd = -1};
    struct check_out out = {&c, 0, 0};
    int flags = 0, opt, rc, ex;
    ev_check_counts n = {0, 0};
    char destroyed[64] = "";
    ev_vault *v;

    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("%s%s", usage, help);
            return EXIT_OK;
        case 'r':
            flags |= EV_CHECK_READ_DATA;
            break;
        default:
            if (cli_common_option(&c, opt, optarg) == 1) {
                break;
            }
            return cli_bad_option(&c, usage, argc, argv);
        }
    }
    if (optind != argc) {
        return cli_usage_error(&c, usage, "unexpected argument '%s'",
                               argv[optind]);
    }
    ex = cli_open(&c, &v);
    if (ex != EXIT_OK) {
        return ex;
    }
    rc = ev_check(v, flags, print_problem, &out, &n);
    cli_progress_end();
    if (rc != EV_OK && rc != EV_ECORRUPT) {
        ex = cli_fail(&c, v, rc);
        ev_vault_free(v);
        return ex;
    }
    ev_log_action(v, "check", NULL, 0,
                  rc == EV_OK ? (flags & EV_CHECK_READ_DATA ? "intact, data read"
                                                            : "intact")
                              : "damage found");
    if (n.destroyed > 0) {
        snprintf(destroyed, sizeof destroyed, " (and %llu destroyed)",
                 (unsigned long long)n.destroyed);
    }
    if (c.json) {
        json_t *j = json_pack("{s:s,s:I,s:I,s:I,s:b}", "result",
                              rc == EV_OK ? "ok" : "damaged", "records",
                              (json_int_t)n.records, "destroyed",
                              (json_int_t)n.destroyed, "damaged",
                              (json_int_t)out.damaged, "read_data",
                              (flags & EV_CHECK_READ_DATA) != 0);
        char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
        json_decref(j);
    } else if (rc == EV_OK) {
        printf("ok: %llu record(s) checked%s%s, no damage found\n",
               (unsigned long long)n.records, destroyed,
               flags & EV_CHECK_READ_DATA ? " and every stored file read"
                                          : "");
    } else {
        fprintf(stderr, "evault: error: the vault is damaged: %llu problem(s) "
                        "found in %llu record(s) checked%s\n",
                (unsigned long long)out.damaged,
                (unsigned long long)n.records, destroyed);
    }
    ev_vault_free(v);
    return rc == EV_OK ? EXIT_OK : EXIT_INTEGRITY;
}
