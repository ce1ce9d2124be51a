/*
 * cmd_show.c - `evault show ID`: one record's details.
 */
#include "cli.h"
#include "commands.h"

#include <getopt.h>
#include <string.h>

static const char usage[] = "usage: evault show [--json] ID\n";

static const char help[] =
    "\n"
    "Shows everything recorded about one record.\n"
    "\n"
    "Options:\n"
    "      --json                 one JSON object\n"
    CLI_COMMON_HELP;

static void
line(const char *k, const char *v)
{
    if (v != NULL) {
        printf("%-12s ", k);
        cli_put_name(stdout, v);
        putchar('\n');
    }
}

static int
print_amendment(void *ctx, const ev_record *a)
{
    int *n = ctx;

    (*n)++;
    printf("amendment %d (", *n);
    cli_put_name(stdout, a->path);
    printf(")\n");
    line("  name", a->name);
    line("  kind", a->kind);
    line("  case", a->case_name);
    line("  source", a->source);
    line("  note", a->note);
    line("  captured at", a->captured_at);
    line("  location", a->location);
    for (size_t i = 0; i < a->ntags; i++) {
        line("  tag", a->tags[i]);
    }
    return 0;
}

int
cmd_show(int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    struct cli c = {.cmd = "show", .pass_fd = -1};
    ev_vault *v;
    ev_record r;
    int64_t id;
    int opt, rc, ex;

    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (opt == 'h') {
            printf("%s%s", usage, help);
            return EXIT_OK;
        }
        if (cli_common_option(&c, opt, optarg) != 1) {
            return cli_bad_option(&c, usage, argc, argv);
        }
    }
    if (optind != argc - 1 || cli_parse_id(argv[optind], &id) != 0) {
        return cli_usage_error(&c, usage, "show takes one record id");
    }
    ex = cli_open(&c, &v);
    if (ex != EXIT_OK) {
        return ex;
    }
    /* Viewing is logged before anything is shown. */
    rc = ev_log_action(v, "show", &id, 1, NULL);
    if (rc == EV_OK) {
        rc = ev_record_get(v, id, &r);
    }
    if (rc != EV_OK) {
        ex = cli_fail(&c, v, rc);
        ev_vault_free(v);
        return ex;
    }
    if (c.json) {
        cli_print_record_json(stdout, &r);
    } else {
        char buf[80], hex[65];
        snprintf(buf, sizeof buf, "%lld", (long long)r.id);
        line("id", buf);
        line("name", r.name);
        if (r.path != NULL && strcmp(r.path, r.name) != 0) {
            line("path", r.path);
        }
        line("state", cli_state_name(r.state));
        line("kind", r.kind);
        line("case", r.case_name);
        line("source", r.source);
        for (size_t i = 0; i < r.ntags; i++) {
            line("tag", r.tags[i]);
        }
        line("note", r.note);
        line("captured at", r.captured_at);
        line("location", r.location);
        ev_hex(hex, r.sha256, sizeof r.sha256);
        line("sha256", hex);
        snprintf(buf, sizeof buf, "%llu bytes", (unsigned long long)r.size);
        line("size", buf);
        cli_format_time(buf, sizeof buf, r.added_at);
        line("added at", buf);
        if (r.hash_only) {
            line("stored", "no: only the hash and size were recorded");
        }
        if (r.same_as > 0) {
            snprintf(buf, sizeof buf, "record %lld", (long long)r.same_as);
            line("same as", buf);
        }
        line("added by", r.added_by);
        snprintf(buf, sizeof buf, "entry %lld", (long long)r.custody_seq);
        line("custody", buf);
        {
            int n = 0;
            rc = ev_record_amendments(v, id, print_amendment, &n);
            if (rc != EV_OK) {
                ex = cli_fail(&c, v, rc);
            }
        }
    }

    ev_record_release(&r);
    ev_vault_free(v);
    return ex;
}
