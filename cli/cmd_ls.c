/*
 * cmd_ls.c - `evault ls` (and `search`): list records, filtered by exact
 * case, source, tag or SHA-256 through the blind indexes.
 */
#include "cli.h"
#include "commands.h"

#include <getopt.h>
#include <string.h>

/* "%s": ls, or search, as the command was called */
static const char usage_fmt[] =
    "usage: evault %s [--case C] [--source S] [--tag T] [--sha256 HEX] "
    "[--json]\n";

static const char help[] =
    "\n"
    "Lists records, oldest first.  Filters match whole values, ignoring case\n"
    "and surrounding spaces; several filters must all match.\n"
    "\n"
    "Options:\n"
    "      --case C               records of case C\n"
    "      --source S             records from source S\n"
    "      --tag T                records tagged T\n"
    "      --sha256 HEX           records whose content has this SHA-256\n"
    "      --json                 one JSON object per line (JSON Lines)\n"
    CLI_COMMON_HELP;

struct ls_out {
    struct cli *c;
    uint64_t n;
};

static int
print_row(void *ctx, const ev_record *r)
{
    struct ls_out *o = ctx;
    char size[32], when[32];

    o->n++;
    if (o->c->json) {
        cli_print_record_json(stdout, r);
        return 0;
    }
    if (o->n == 1) {
        printf("%-6s %-9s %-9s %10s  %-20s  %s\n", "ID", "STATE", "KIND",
               "SIZE", "ADDED", "NAME");
    }
    cli_format_size(size, sizeof size, r->size);
    cli_format_time(when, sizeof when, r->added_at);
    printf("%-6lld %-9s %-9s %10s  %-20s  ", (long long)r->id,
           cli_state_name(r->state), r->kind != NULL ? r->kind : "-", size,
           when);
    cli_put_name(stdout, r->path != NULL ? r->path : r->name);
    printf("%s\n", r->hash_only ? "  (hash only)" : "");
    return 0;
}

int
cmd_ls(int argc, char **argv)
{
    static const struct option opts[] = {
        {"case", required_argument, NULL, 'c'},
        {"source", required_argument, NULL, 's'},
        {"tag", required_argument, NULL, 't'},
        {"sha256", required_argument, NULL, 'S'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    const char *name = strcmp(argv[0], "search") == 0 ? "search" : "ls";
    struct cli c = {.cmd = name, .pass_fd = -1};
    char usage[sizeof usage_fmt + 8];
    ev_filter f = {NULL, NULL, NULL, NULL};
    uint8_t sha[EV_SHA256_BYTES];
    struct ls_out out = {&c, 0};
    ev_vault *v;
    int opt, rc, ex;

    snprintf(usage, sizeof usage, usage_fmt, name);
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("%s%s", usage, help);
            return EXIT_OK;
        case 'c':
            f.case_name = optarg;
            break;
        case 's':
            f.source = optarg;
            break;
        case 't':
            f.tag = optarg;
            break;
        case 'S':
            if (ev_unhex(sha, sizeof sha, optarg) != EV_OK) {
                return cli_usage_error(&c, usage,
                                       "--sha256 takes 64 hexadecimal digits");
            }
            f.sha256 = sha;
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
    rc = ev_record_list(v, &f, print_row, &out);
    if (rc != EV_OK) {
        ex = cli_fail(&c, v, rc);
    } else if (out.n == 0 && !c.json) {
        fprintf(stderr, "no records%s\n",
                f.case_name || f.source || f.tag || f.sha256 ? " match" : "");
    }
    ev_vault_free(v);
    return ex;
}
