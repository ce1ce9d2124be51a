/*
 * cmd_init.c - `evault init DIR`: create a vault.
 */
#include "cli.h"
#include "commands.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: evault init [options] DIR\n";

static const char help[] =
    "\n"
    "Creates a new vault in DIR (a new or empty directory; missing folders\n"
    "above it are created, for you only).  Asks for a passphrase twice,\n"
    "then prints a recovery key ONCE: write it on paper and\n"
    "keep it somewhere safe, away from this computer.  It opens the vault if\n"
    "the passphrase is lost.\n"
    "\n"
    "Options:\n"
    "      --passphrase-file F    read the passphrase from the first line of F\n"
    "      --passphrase-fd N      read the passphrase from file descriptor N\n"
    "      --argon2-passes N      passphrase hardening: Argon2id passes\n"
    "                             (default 36; raise it, never lower it, unless\n"
    "                             for tests)\n"
    "      --argon2-memory MIB    Argon2id memory in MiB (default 40)\n"
    "      --operator NAME        the name the custody log records for\n"
    "                             actions, unless a command names another\n"
    "\n"
    "Object storage (blobs in an S3-compatible bucket; the catalog stays in\n"
    "DIR; blobs are sealed before they leave):\n"
    "      --store s3://BUCKET[/PREFIX]\n"
    "                             keep the blobs in BUCKET, under PREFIX\n"
    "      --endpoint URL         the S3 endpoint, https://HOST[:PORT]\n"
    "      --region R             the bucket's region (default us-east-1)\n"
    "      --path-style           address ENDPOINT/BUCKET rather than\n"
    "                             BUCKET.HOST (Ceph, MinIO, Garage...)\n"
    "      --create-bucket        create BUCKET when it does not exist\n"
    "  Credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n"
    "  (and AWS_SESSION_TOKEN), else ~/.aws/credentials (or\n"
    "  AWS_SHARED_CREDENTIALS_FILE), profile $AWS_PROFILE or default.  They\n"
    "  are never stored in the vault.\n"
    "\n"
    "      --json                 print {\"vault\":..., \"recovery_key\":...}\n"
    "  -h, --help                 show this help\n";

/* Whether a folder above dir is missing: the topmost such folder (the
 * first init will create) into out. */
static int
topmost_missing(const char *dir, char *out, size_t cap)
{
    struct stat st;
    size_t n = strlen(dir);

    if (n >= cap) {
        return 0;
    }
    memcpy(out, dir, n + 1);
    while (n > 1 && out[n - 1] == '/') {
        out[--n] = '\0'; /* "vault/" is the vault's own folder */
    }
    for (size_t i = 1; i < n; i++) {
        if (out[i] != '/' || out[i - 1] == '/') {
            continue;
        }
        out[i] = '\0';
        if (stat(out, &st) != 0) {
            return 1;
        }
        out[i] = '/';
    }
    return 0;
}

int
cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {
        {"argon2-passes", required_argument, NULL, 'p'},
        {"argon2-memory", required_argument, NULL, 'm'},
        {"store", required_argument, NULL, 's'},
        {"endpoint", required_argument, NULL, 'e'},
        {"region", required_argument, NULL, 'r'},
        {"path-style", no_argument, NULL, 'P'},
        {"create-bucket", no_argument, NULL, 'C'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct cli c = {.cmd = "init", .pass_fd = -1};
    ev_store_spec store = {NULL, NULL, NULL, 0, 0};
    ev_create_opts co = {0, 0, NULL, NULL};
    char recovery[EV_RECOVERY_KEY_CHARS + 1];
    char created[4096];
    int missing;
    ev_vault *v = NULL;
    char *pass = NULL;
    size_t len = 0;
    uint64_t n;
    int opt, rc, ex;

    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("%s%s", usage, help);
            return EXIT_OK;
        case 'p':
            if (cli_parse_u64(optarg, &n) != 0 || n < 1 || n > 1000) {
                return cli_usage_error(&c, usage,
                                       "--argon2-passes takes 1 to 1000");
            }
            co.argon2_ops = n;
            break;
        case 'm':
            if (cli_parse_u64(optarg, &n) != 0 || n < 1 || n > 4096) {
                return cli_usage_error(&c, usage,
                                       "--argon2-memory takes 1 to 4096 MiB");
            }
            co.argon2_mem_kib = n * 1024;
            break;
        case 's':
            store.url = optarg;
            break;
        case 'e':
            store.endpoint = optarg;
            break;
        case 'r':
            store.region = optarg;
            break;
        case 'P':
            store.path_style = 1;
            break;
        case 'C':
            store.create_bucket = 1;
            break;
        default:
            rc = cli_common_option(&c, opt, optarg);
            if (rc == 1 && opt != CLI_OPT_VAULT) {
                co.operator_ = c.operator_;
                break;
            }
            return cli_bad_option(&c, usage, argc, argv);
        }
    }
    if (optind != argc - 1) {
        return cli_usage_error(&c, usage, "init takes exactly one directory");
    }
    if (store.url == NULL && (store.endpoint != NULL || store.region != NULL ||
                              store.path_style || store.create_bucket)) {
        return cli_usage_error(&c, usage, "--endpoint, --region, "
                                          "--path-style and --create-bucket "
                                          "need --store s3://BUCKET");
    }
    if (store.url != NULL) {
        if (strncmp(store.url, "s3://", 5) != 0) {
            return cli_usage_error(&c, usage, "--store takes "
                                              "s3://BUCKET[/PREFIX]");
        }
        if (store.endpoint == NULL) {
            return cli_usage_error(&c, usage, "--store s3://... needs "
                                              "--endpoint URL");
        }
        co.store = &store;
    }
    missing = topmost_missing(argv[optind], created, sizeof created);
    ex = cli_passphrase(&c, "New passphrase: ", 1, &pass, &len);
    if (ex != EXIT_OK) {
        return ex;
    }
    if (len < 8 && isatty(0)) {
        fprintf(stderr, "evault: warning: a passphrase of %zu characters is "
                        "weak; several words are better\n", len);
    }
    rc = ev_vault_new(&v);
    if (rc == EV_OK) {
        if (isatty(2)) {
            fprintf(stderr, "Creating the vault (this takes a second)...\n");
        }
        rc = ev_vault_create(v, argv[optind], &co, pass, len, recovery);
    }
    ev_secret_free(pass);
    if (rc != EV_OK) {
        ex = cli_fail(&c, v, rc);
        ev_vault_free(v);
        return ex;
    }
    if (c.json) {
        json_t *o = json_pack("{s:s,s:s}", "vault", argv[optind],
                              "recovery_key", recovery);
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        ev_secret_wipe(s, strlen(s));
        free(s);
        json_decref(o);
    } else {
        fprintf(stderr,
                "Created vault '%s'.\n\n"
                "Recovery key (shown only now; write it down and keep it\n"
                "away from this computer):\n\n",
                argv[optind]);
        printf("%s\n", recovery);
        fflush(stdout);
        fprintf(stderr, "\nNext: evault add --vault %s FILE...\n",
                argv[optind]);
    }
    if (missing) {
        /* A vault meant for an encrypted or removable drive that is not
         * mounted lands on this computer's own disk: say so. */
        fprintf(stderr, "note: the folder '");
        cli_put_name(stderr, created);
        fprintf(stderr, "' did not exist and was created; if the vault "
                        "belongs on an encrypted or external drive, check "
                        "that it is mounted\n");
    }
    ev_secret_wipe(recovery, sizeof recovery);
    ev_vault_free(v);
    return EXIT_OK;
}
