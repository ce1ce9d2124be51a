/*
 * cmd_id.c - `evault id`: the vault's public identity, and
 * `evault contact add|ls|rm`: the partners it shares with.
 */
#include "cli.h"
#include "commands.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int cli_slurp(struct cli *c, const char *path, size_t max, char **out,
              size_t *len);

static const char id_usage[] =
    "usage: evault id [--json]\n"
    "       evault id --minisign-pub -o FILE\n"
    "       evault id --export -o FILE\n";

static const char id_help[] =
    "\n"
    "Prints the vault's public identity: its age recipient (partners encrypt\n"
    "to it), its minisign public key (it signs bundles with it) and a short\n"
    "fingerprint to compare by phone.  --export writes a contact file a\n"
    "partner adds with 'evault contact add NAME --file FILE';\n"
    "--minisign-pub writes the key in minisign's own format.\n"
    "\n"
    "Options:\n"
    "      --export               write a contact file\n"
    "      --minisign-pub         write minisign's .pub file\n"
    "  -o, --output FILE          where to write (must not exist)\n"
    "      --json                 {\"name\", \"age\", \"minisign\", "
    "\"fingerprint\"}\n" CLI_COMMON_HELP;

int
cmd_id(int argc, char **argv)
{
    static const struct option opts[] = {
        {"export", no_argument, NULL, 'e'},
        {"minisign-pub", no_argument, NULL, 'm'},
        {"output", required_argument, NULL, 'o'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct cli c = {.cmd = "id", .pass_fd = -1};
    int exp = 0, mpub = 0, opt, rc, ex;
    const char *out = NULL;
    ev_identity_info id;
    ev_vault *v;

    while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("%s%s", id_usage, id_help);
            return EXIT_OK;
        case 'e':
            exp = 1;
            break;
        case 'm':
            mpub = 1;
            break;
        case 'o':
            out = optarg;
            break;
        default:
            if (cli_common_option(&c, opt, optarg) == 1) {
                break;
            }
            return cli_bad_option(&c, id_usage, argc, argv);
        }
    }
    if (optind != argc || (exp && mpub) || ((exp || mpub) && out == NULL)) {
        return cli_usage_error(&c, id_usage,
                               "--export or --minisign-pub, each with -o");
    }
    ex = cli_open(&c, &v);
    if (ex != EXIT_OK) {
        return ex;
    }
    if (exp || mpub) {
        char buf[2048];
        rc = exp ? ev_identity_export(v, buf, sizeof buf)
                 : ev_identity_minisign_file(v, buf, sizeof buf);
        ex = rc != EV_OK ? cli_fail(&c, v, rc)
                         : cli_write_new_file(&c, out, buf, strlen(buf));
        ev_vault_free(v);
        return ex;
    }
    rc = ev_identity(v, &id);
    if (rc != EV_OK) {
        ex = cli_fail(&c, v, rc);
    } else if (c.json) {
        json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "name", id.name, "age",
                              id.age, "minisign", id.minisign, "fingerprint",
                              id.fingerprint);
        char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
        json_decref(j);
    } else {
        printf("name         %s\nage          %s\nminisign     %s\n"
               "fingerprint  %s\n",
               id.name, id.age, id.minisign, id.fingerprint);
    }
    ev_vault_free(v);
    return ex;
}

static const char ct_usage[] =
    "usage: evault contact add NAME --age age1... --minisign RW...\n"
    "       evault contact add NAME --file CONTACT-FILE\n"
    "       evault contact ls [--json]\n"
    "       evault contact rm NAME\n";

static const char ct_help[] =
    "\n"
    "Pins a partner's keys: their age recipient (bundles are encrypted to\n"
    "it) and minisign key (their bundles must be signed with it).  Compare\n"
    "the fingerprint 'contact add' prints with the one the partner reads to\n"
    "you from 'evault id', by phone or in person.\n"
    "\n"
    "Options:\n"
    "      --age age1...          the partner's age recipient\n"
    "      --minisign RW...       the partner's minisign public key\n"
    "      --file FILE            a contact file from 'evault id --export'\n"
    "      --json                 ls as JSON Lines\n" CLI_COMMON_HELP;

static int
print_contact(void *ctx, const ev_contact *ct)
{
    struct cli *c = ctx;

    if (c->json) {
        json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "name", ct->name, "age",
                              ct->age, "minisign", ct->minisign,
                              "fingerprint", ct->fingerprint);
        char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
        json_decref(j);
    } else {
        cli_put_name(stdout, ct->name);
        printf("\t%s\t%s\n", ct->fingerprint, ct->age);
    }
    return 0;
}

int
cmd_contact(int argc, char **argv)
{
    static const struct option opts[] = {
        {"age", required_argument, NULL, 'a'},
        {"minisign", required_argument, NULL, 'm'},
        {"file", required_argument, NULL, 'f'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct cli c = {.cmd = "contact", .pass_fd = -1};
    const char *age = NULL, *ms = NULL, *file = NULL, *sub;
    ev_contact ct;
    ev_vault *v;
    int opt, rc, ex;

    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("%s%s", ct_usage, ct_help);
            return EXIT_OK;
        case 'a':
            age = optarg;
            break;
        case 'm':
            ms = optarg;
            break;
        case 'f':
            file = optarg;
            break;
        default:
            if (cli_common_option(&c, opt, optarg) == 1) {
                break;
            }
            return cli_bad_option(&c, ct_usage, argc, argv);
        }
    }
    if (optind >= argc) {
        return cli_usage_error(&c, ct_usage, "add, ls or rm?");
    }
    sub = argv[optind];
    memset(&ct, 0, sizeof ct);
    if (strcmp(sub, "add") == 0) {
        if (optind + 2 != argc) {
            return cli_usage_error(&c, ct_usage, "contact add takes a NAME");
        }
        if (file != NULL) {
            char *text = NULL;
            size_t len = 0;
            if (age != NULL || ms != NULL) {
                return cli_usage_error(&c, ct_usage,
                                       "--file or --age/--minisign");
            }
            ex = cli_slurp(&c, file, 4096, &text, &len);
            if (ex != EXIT_OK) {
                return ex;
            }
            rc = ev_contact_parse(text, len, &ct);
            free(text);
            if (rc != EV_OK) {
                return cli_error(&c, EV_EINVAL,
                                 "'%s' is not an evault contact file", file);
            }
            age = ct.age;
            ms = ct.minisign;
        } else if (age == NULL || ms == NULL) {
            return cli_usage_error(&c, ct_usage,
                                   "give --age and --minisign, or --file");
        }
    } else if (strcmp(sub, "rm") == 0) {
        if (optind + 2 != argc) {
            return cli_usage_error(&c, ct_usage, "contact rm takes a NAME");
        }
    } else if (strcmp(sub, "ls") != 0 || optind + 1 != argc) {
        return cli_usage_error(&c, ct_usage, "unknown contact command '%s'",
                               sub);
    }
    ex = cli_open(&c, &v);
    if (ex != EXIT_OK) {
        return ex;
    }
    if (strcmp(sub, "add") == 0) {
        rc = ev_contact_add(v, argv[optind + 1], age, ms);
        if (rc == EV_OK) {
            ev_contact got;
            memset(&got, 0, sizeof got);
            snprintf(got.name, sizeof got.name, "%s", argv[optind + 1]);
            snprintf(got.age, sizeof got.age, "%s", age);
            snprintf(got.minisign, sizeof got.minisign, "%s", ms);
            char text[512];
            int n = snprintf(text, sizeof text,
                             "evault contact v1\nname x\nage %s\nminisign "
                             "%s\n",
                             age, ms);
            if (n > 0 && ev_contact_parse(text, (size_t)n, &got) == EV_OK) {
                printf("added '%s'; fingerprint %s (compare it with theirs)\n",
                       argv[optind + 1], got.fingerprint);
            }
        }
    } else if (strcmp(sub, "rm") == 0) {
        rc = ev_contact_remove(v, argv[optind + 1]);
    } else {
        rc = ev_contact_list(v, print_contact, &c);
    }
    if (rc != EV_OK) {
        ex = cli_fail(&c, v, rc);
    }
    ev_vault_free(v);
    return ex;
}
