/*
 * cmd_destroy.c - `evault destroy ID --reason R`: crypto-shred a record;
 * `evault destroy --sweep`: finish what interrupted writers left behind.
 */
#include "cli.h"
#include "commands.h"

#include <ctype.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: evault destroy ID --reason R [--yes] [--json]\n"
    "       evault destroy --sweep [--json]\n";

static const char help[] =
    "\n"
    "Destroys a record that is not sealed, for good: its data key and its\n"
    "stored bytes are deleted and overwritten in the catalog, its blob file\n"
    "is removed, its metadata and search entries are wiped.  The custody\n"
    "log keeps that the record existed (its intake entry: time, SHA-256,\n"
    "size), that it was destroyed, by whom and why.  Its id is never\n"
    "reused.  Sealed records cannot be destroyed.  When another record holds\n"
    "the same content, the content stays for that record.\n"
    "\n"
    "This cannot be undone, and it cannot reach copies of the vault or\n"
    "backups made before (see SECURITY.md).  On a terminal, destroy asks\n"
    "you to type the record id to confirm; elsewhere it needs --yes.\n"
    "\n"
    "Options:\n"
    "      --reason R             why (required; kept in the custody log)\n"
    "  -y, --yes                  do not ask for confirmation\n"
    "      --sweep                only finish earlier work: remove blob files\n"
    "                             that no record uses (left by an interrupted\n"
    "                             add or destroy), wipe destroyed blobs left\n"
    "                             in vault.pack, and empty the catalog's\n"
    "                             write-ahead log\n"
    "      --json                 the result as one JSON object\n"
    CLI_COMMON_HELP;

/* Asks on the terminal (stdin) for the record id; 1 when typed. */
static int
confirmed(int64_t id)
{
    char line[64], want[32];
    size_t n;

    snprintf(want, sizeof want, "%lld", (long long)id);
    fprintf(stderr,
            "Destroy record %s?  Its content, data key and metadata will be\n"
            "gone for good; the custody log keeps that it existed, and why.\n"
            "Type the record id to confirm: ",
            want);
    fflush(stderr);
    if (fgets(line, sizeof line, stdin) == NULL) {
        return 0;
    }
    n = strlen(line);
    while (n > 0 && isspace((unsigned char)line[n - 1])) {
        line[--n] = '\0';
    }
    return strcmp(line, want) == 0;
}

static void
print_result(struct cli *c, int64_t id, const ev_destroy_result *d)
{
    if (c->json) {
        json_t *o = json_pack(
            "{s:I,s:I,s:b,s:o,s:b,s:b,s:I}", "destroyed", (json_int_t)id,
            "custody_seq", (json_int_t)d->custody_seq, "hash_only",
            !d->had_blob, "shared_with",
            d->shared_with > 0 ? json_integer(d->shared_with) : json_null(),
            "blob_removed", d->blob_removed, "wal_cleared", d->wal_cleared,
            "leftovers_removed", (json_int_t)d->leftovers);
        char *s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)
                            : NULL;
        if (s != NULL) {
            printf("%s\n", s);
        }
        free(s);
        json_decref(o);
        return;
    }
    printf("destroyed record %lld (custody entry %lld)", (long long)id,
           (long long)d->custody_seq);
    if (!d->had_blob) {
        printf(": it held only a hash and size\n");
    } else if (d->shared_with > 0) {
        printf(": its metadata is gone, but the content stays: record %lld "
               "holds the same file\n",
               (long long)d->shared_with);
    } else {
        printf(": its data key, content and metadata are gone\n");
    }
    if (d->leftovers > 0) {
        printf("removed %llu blob file(s) left by interrupted adds or "
               "destroys\n",
               (unsigned long long)d->leftovers);
    }
}

static int
sweep(struct cli *c)
{
    uint64_t n = 0;
    ev_vault *v;
    int rc, ex = cli_open(c, &v);

    if (ex != EXIT_OK) {
        return ex;
    }
    rc = ev_vault_sweep(v, &n);
    if (rc != EV_OK) {
        ex = cli_fail(c, v, rc);
    } else if (c->json) {
        printf("{\"leftovers_removed\":%llu,\"wal_cleared\":true}\n",
               (unsigned long long)n);
    } else {
        printf("removed %llu blob file(s) that no record uses; the "
               "catalog's write-ahead log is empty\n",
               (unsigned long long)n);
    }
    ev_vault_free(v);
    return ex;
}

static int
blank(const char *s)
{
    for (; *s != '\0'; s++) {
        if (!isspace((unsigned char)*s)) {
            return 0;
        }
    }
    return 1;
}

int
cmd_destroy(int argc, char **argv)
{
    static const struct option opts[] = {
        {"reason", required_argument, NULL, 'r'},
        {"yes", no_argument, NULL, 'y'},
        {"sweep", no_argument, NULL, 'S'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct cli c = {.cmd = "destroy", .pass_fd = -1};
    const char *reason = NULL;
    int yes = 0, do_sweep = 0, opt, rc, ex;
    ev_destroy_result d;
    ev_record r;
    int64_t id;
    ev_vault *v;

    while ((opt = getopt_long(argc, argv, "hy", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("%s%s", usage, help);
            return EXIT_OK;
        case 'r':
            reason = optarg;
            break;
        case 'y':
            yes = 1;
            break;
        case 'S':
            do_sweep = 1;
            break;
        default:
            if (cli_common_option(&c, opt, optarg) == 1) {
                break;
            }
            return cli_bad_option(&c, usage, argc, argv);
        }
    }
    if (do_sweep) {
        if (optind != argc || reason != NULL) {
            return cli_usage_error(&c, usage,
                                   "--sweep takes no record id and no "
                                   "reason");
        }
        return sweep(&c);
    }
    if (optind != argc - 1 || cli_parse_id(argv[optind], &id) != 0) {
        return cli_usage_error(&c, usage, "destroy takes one record id");
    }
    if (reason == NULL || blank(reason)) {
        return cli_usage_error(&c, usage,
                               "destroy needs --reason: the custody log "
                               "keeps why a record was destroyed");
    }
    if (!yes && !isatty(0)) {
        cli_usage_error(&c, usage,
                        "destroy asks for confirmation on a terminal, and "
                        "there is none");
        cli_hint("add --yes to destroy record %lld without being asked",
                 (long long)id);
        return EXIT_USAGE;
    }
    ex = cli_open(&c, &v);
    if (ex != EXIT_OK) {
        return ex;
    }
    /* Refuse what cannot be destroyed before asking (the library checks
     * again inside its transaction).  Nothing is shown, so nothing is
     * viewed. */
    rc = ev_record_get(v, id, &r);
    if (rc == EV_OK && r.state == EV_STATE_SEALED) {
        ev_record_release(&r);
        ev_vault_free(v);
        return cli_error(&c, EV_ESEALED,
                         "record %lld is sealed: a sealed record cannot be "
                         "destroyed",
                         (long long)id);
    }
    ev_record_release(&r);
    if (rc != EV_OK) {
        ex = cli_fail(&c, v, rc);
        ev_vault_free(v);
        return ex;
    }
    if (!yes && !confirmed(id)) {
        ev_vault_free(v);
        return cli_error(&c, EV_EINVAL,
                         "the record id was not typed: nothing was "
                         "destroyed");
    }
    rc = ev_record_destroy(v, id, reason, &d);
    if (rc == EV_OK) {
        print_result(&c, id, &d);
    } else {
        if (d.destroyed && !c.json) {
            print_result(&c, id, &d);
        }
        /* After the commit the library's detail says what is left; the
         * generic hints (a writer is busy, run check) would mislead. */
        ex = d.destroyed ? cli_error(&c, rc, "%s", ev_vault_errmsg(v))
                         : cli_fail(&c, v, rc);
        if (d.destroyed) {
            cli_hint("the record stays destroyed; %s'evault destroy --sweep' "
                     "finishes the clean-up",
                     rc == EV_EBUSY ? "once the other evault command ends, "
                                    : "");
        }
    }
    ev_vault_free(v);
    return ex;
}
