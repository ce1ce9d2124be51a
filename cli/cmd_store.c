/*
 * cmd_store.c - `evault store show` and `evault store migrate TARGET`:
 * where the blobs live, and moving them between the vault directory and an
 * S3-compatible bucket.
 */
#include "cli.h"
#include "commands.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: evault store show\n"
    "       evault store migrate s3://BUCKET[/PREFIX] --endpoint URL "
    "[options]\n"
    "       evault store migrate local [--keep-old]\n";

static const char help[] =
    "\n"
    "show: prints where the vault's blobs live (the catalog always stays in\n"
    "the vault directory; files of up to 1 MiB are kept inside it too).\n"
    "\n"
    "migrate: moves every stored blob to an S3-compatible bucket, or back to\n"
    "the vault directory ('local').  Each blob is copied, read back and\n"
    "compared with the original; only when all are does the vault switch to\n"
    "the new store, and then the old copies are removed (unless --keep-old).\n"
    "Interrupted, it can simply be run again: blobs already copied are\n"
    "verified, not sent again.  Other commands wait while it runs.\n"
    "\n"
    "Options:\n"
    "      --endpoint URL         the S3 endpoint, https://HOST[:PORT]\n"
    "      --region R             the bucket's region (default us-east-1)\n"
    "      --path-style           address ENDPOINT/BUCKET rather than\n"
    "                             BUCKET.HOST (Ceph, MinIO, Garage...)\n"
    "      --create-bucket        create BUCKET when it does not exist\n"
    "      --keep-old             keep the old copies after the switch\n"
    "      --json                 print the result as JSON\n"
    "  Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and\n"
    "  AWS_SESSION_TOKEN), else ~/.aws/credentials (or\n"
    "  AWS_SHARED_CREDENTIALS_FILE), profile $AWS_PROFILE or default.\n"
    CLI_COMMON_HELP;

static int
store_show(struct cli *c, ev_vault *v)
{
    char where[600];
    int rc = ev_store_where(v, where, sizeof where);

    if (rc != EV_OK) {
        return cli_fail(c, v, rc);
    }
    if (c->json) {
        json_t *o = json_pack("{s:s}", "store", where);
        char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
        if (s != NULL) {
            printf("%s\n", s);
        }
        free(s);
        json_decref(o);
    } else {
        printf("%s\n", where);
    }
    return EXIT_OK;
}

static int
store_migrate(struct cli *c, ev_vault *v, const ev_store_spec *to,
              int keep_old)
{
    ev_migrate_report r;
    char where[600];
    int rc;

    ev_vault_set_progress(v, cli_progress, NULL);
    rc = ev_store_migrate(v, to, keep_old, &r);
    cli_progress_end();
    if (rc != EV_OK) {
        return cli_fail(c, v, rc);
    }
    if (ev_store_where(v, where, sizeof where) != EV_OK) {
        where[0] = '\0';
    }
    if (c->json) {
        json_t *o = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I}", "store", where,
                              "blobs", (json_int_t)r.blobs, "copied",
                              (json_int_t)r.copied, "already_there",
                              (json_int_t)r.present, "removed",
                              (json_int_t)r.removed, "bytes",
                              (json_int_t)r.bytes);
        char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
        if (s != NULL) {
            printf("%s\n", s);
        }
        free(s);
        json_decref(o);
    } else {
        char size[32];
        cli_format_size(size, sizeof size, r.bytes);
        printf("ok: %llu blob(s) now in %s: %llu copied (%s), %llu already "
               "there; every one read back and compared\n",
               (unsigned long long)r.blobs, where,
               (unsigned long long)r.copied, size,
               (unsigned long long)r.present);
        if (!keep_old) {
            printf("%llu old cop%s removed\n", (unsigned long long)r.removed,
                   r.removed == 1 ? "y" : "ies");
        }
    }
    if (!keep_old && r.removed < r.blobs) {
        fprintf(stderr, "evault: warning: %llu old cop%s could not be "
                        "removed; 'evault check' lists none of them, they "
                        "hold only sealed bytes\n",
                (unsigned long long)(r.blobs - r.removed),
                r.blobs - r.removed == 1 ? "y" : "ies");
    }
    return EXIT_OK;
}

int
cmd_store(int argc, char **argv)
{
    static const struct option opts[] = {
        {"endpoint", required_argument, NULL, 'e'},
        {"region", required_argument, NULL, 'r'},
        {"path-style", no_argument, NULL, 'P'},
        {"create-bucket", no_argument, NULL, 'C'},
        {"keep-old", no_argument, NULL, 'k'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct cli c = {.cmd = "store", .pass_fd = -1};
    ev_store_spec to = {NULL, NULL, NULL, 0, 0};
    int keep_old = 0, opt, ex, migrate;
    ev_vault *v;

    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("%s%s", usage, help);
            return EXIT_OK;
        case 'e':
            to.endpoint = optarg;
            break;
        case 'r':
            to.region = optarg;
            break;
        case 'P':
            to.path_style = 1;
            break;
        case 'C':
            to.create_bucket = 1;
            break;
        case 'k':
            keep_old = 1;
            break;
        default:
            if (cli_common_option(&c, opt, optarg) == 1) {
                break;
            }
            return cli_bad_option(&c, usage, argc, argv);
        }
    }
    if (optind >= argc) {
        return cli_usage_error(&c, usage, "store needs 'show' or 'migrate'");
    }
    migrate = strcmp(argv[optind], "migrate") == 0;
    if (!migrate && strcmp(argv[optind], "show") != 0) {
        return cli_usage_error(&c, usage, "unknown store command '%s'",
                               argv[optind]);
    }
    if (!migrate && (optind + 1 != argc || to.endpoint != NULL ||
                     to.region != NULL || to.path_style ||
                     to.create_bucket || keep_old)) {
        return cli_usage_error(&c, usage, "store show takes no arguments");
    }
    if (migrate) {
        if (optind + 2 != argc) {
            return cli_usage_error(&c, usage, "store migrate takes one "
                                              "target: s3://BUCKET[/PREFIX] "
                                              "or local");
        }
        to.url = argv[optind + 1];
        if (strcmp(to.url, "local") != 0 && strncmp(to.url, "s3://", 5) != 0) {
            return cli_usage_error(&c, usage, "'%s' is neither "
                                              "s3://BUCKET[/PREFIX] nor local",
                                   to.url);
        }
        if (strcmp(to.url, "local") == 0 &&
            (to.endpoint != NULL || to.region != NULL || to.path_style ||
             to.create_bucket)) {
            return cli_usage_error(&c, usage, "--endpoint, --region, "
                                              "--path-style and "
                                              "--create-bucket are for an "
                                              "s3:// target");
        }
        if (strcmp(to.url, "local") != 0 && to.endpoint == NULL) {
            return cli_usage_error(&c, usage, "an s3:// target needs "
                                              "--endpoint URL");
        }
    }
    ex = cli_open(&c, &v);
    if (ex != EXIT_OK) {
        return ex;
    }
    ex = migrate ? store_migrate(&c, v, &to, keep_old) : store_show(&c, v);
    ev_vault_free(v);
    return ex;
}
