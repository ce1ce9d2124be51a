/*
 * cmd_get.c - `evault get ID [-o FILE]` and `evault cat ID`: the exact
 * original bytes of a record.
 */
#include "cli.h"
#include "commands.h"

#include <getopt.h>
#include <string.h>
#include <unistd.h>

static const char get_usage[] =
    "usage: evault get [-o FILE] [--force] ID\n";
static const char cat_usage[] = "usage: evault cat ID\n";

static const char get_help[] =
    "\n"
    "Writes the exact original bytes of record ID, to FILE (created only once\n"
    "every byte was authenticated; an existing file is kept unless --force)\n"
    "or to standard output.  Evidence is not written to a terminal unless it\n"
    "is a text testimony.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE          write to FILE\n"
    "      --force                replace FILE if it exists\n"
    CLI_COMMON_HELP;

static const char cat_help[] =
    "\n"
    "Writes the exact original bytes of record ID to standard output, each\n"
    "piece authenticated before it is written; on damage it stops with exit\n"
    "code 1 and the output is incomplete.  Evidence is not written to a\n"
    "terminal unless it is a text testimony.  To write a file, use\n"
    "'evault get ID -o FILE': it creates the file only once every byte is\n"
    "authenticated.\n"
    "\n"
    "Options:\n"
    CLI_COMMON_HELP;

static int
is_text(const ev_record *r)
{
    const char *dot = r->name != NULL ? strrchr(r->name, '.') : NULL;

    if (r->kind != NULL && strcmp(r->kind, "testimony") == 0) {
        return 1;
    }
    return dot != NULL && (strcmp(dot, ".txt") == 0 ||
                           strcmp(dot, ".md") == 0 || strcmp(dot, ".csv") == 0);
}

/* cli_fail, with a way out when the output is a file that exists. */
static int
fail(struct cli *c, ev_vault *v, int rc, int force)
{
    const char *msg = ev_vault_errmsg(v);
    size_t n = strlen(msg);
    int ex = cli_fail(c, v, rc);

    if (rc == EV_EEXIST && !force && n >= 14 &&
        strcmp(msg + n - 14, "already exists") == 0) {
        cli_hint("choose another name with -o, or add --force to replace it");
    }
    return ex;
}

static int
run(int argc, char **argv, int is_cat)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, 'f'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    const char *usage = is_cat ? cat_usage : get_usage;
    struct cli c = {.cmd = is_cat ? "cat" : "get", .pass_fd = -1};
    const char *out = NULL;
    int force = 0, to_file, opt, rc, ex;
    int64_t id;
    ev_vault *v;

    while ((opt = getopt_long(argc, argv, is_cat ? "h" : "ho:", opts,
                              NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("%s%s", usage, is_cat ? cat_help : get_help);
            return EXIT_OK;
        case 'o':
            if (is_cat) {
                return cli_usage_error(&c, usage, "cat writes to stdout only");
            }
            out = optarg;
            break;
        case 'f':
            force = 1;
            break;
        default:
            if (opt != CLI_OPT_JSON && cli_common_option(&c, opt, optarg) == 1) {
                break;
            }
            return cli_bad_option(&c, usage, argc, argv);
        }
    }
    if (optind != argc - 1 || cli_parse_id(argv[optind], &id) != 0) {
        return cli_usage_error(&c, usage, "%s takes one record id", c.cmd);
    }
    to_file = out != NULL && strcmp(out, "-") != 0;
    ex = cli_open(&c, &v);
    if (ex != EXIT_OK) {
        return ex;
    }
    /* An output that would be refused is refused before the access is
     * logged.  Then the custody log records the access before any byte
     * leaves. */
    rc = to_file ? ev_record_export_check(v, out, force) : EV_OK;
    if (rc == EV_OK) {
        rc = ev_log_action(v, is_cat ? "cat" : "get", &id, 1,
                           out != NULL ? "to a file" : NULL);
    }
    if (rc != EV_OK) {
        ex = fail(&c, v, rc, force);
        ev_vault_free(v);
        return ex;
    }
    if (to_file) {
        unsigned swept = 0;
        rc = ev_record_export(v, id, out, force, &swept);
        cli_note_swept(out, swept);
    } else {
        ev_record r;
        rc = ev_record_get(v, id, &r);
        if (rc == EV_OK && isatty(1) && !is_text(&r)) {
            ev_record_release(&r);
            ev_vault_free(v);
            cli_error(&c, EV_EINVAL,
                      "record %lld is not text: refusing to write it to the "
                      "terminal",
                      (long long)id);
            cli_hint("use 'evault get %lld -o FILE' or redirect the output",
                     (long long)id);
            return EXIT_USAGE;
        }
        ev_record_release(&r);
        if (rc == EV_OK) {
            rc = ev_record_read(v, id, 1);
        }
    }
    if (rc != EV_OK) {
        ex = fail(&c, v, rc, force);
        if (rc == EV_ECORRUPT && out == NULL) {
            fprintf(stderr, "evault: the output written so far is not "
                            "trustworthy: discard it\n");
        }
    }
    ev_vault_free(v);
    return ex;
}

int
cmd_get(int argc, char **argv)
{
    return run(argc, argv, 0);
}

int
cmd_cat(int argc, char **argv)
{
    return run(argc, argv, 1);
}
