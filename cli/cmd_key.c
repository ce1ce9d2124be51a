/*
 * cmd_key.c - `evault key export-public -o vault.pub`.
 */
#include "cli.h"
#include "commands.h"

#include <getopt.h>
#include <string.h>

static const char usage[] =
    "usage: evault key export-public [-o FILE]\n";

static const char help[] =
    "\n"
    "Writes the vault's verification key: the public key that checks its\n"
    "signed checkpoints and proofs, as a C2SP signed-note verifier key\n"
    "(name+keyid+base64).  Give it to a court or partner once, through a\n"
    "channel you trust; it reveals nothing about the vault's contents.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE          write to FILE (default: standard output)\n"
    CLI_COMMON_HELP;

int
cmd_key(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct cli c = {"key", NULL, NULL, -1, 0, NULL};
    const char *out = NULL;
    char key[256], line[260];
    ev_vault *v;
    int opt, rc, ex;

    while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("%s%s", usage, help);
            return EXIT_OK;
        case 'o':
            out = optarg;
            break;
        default:
            if (cli_common_option(&c, opt, optarg) == 1) {
                break;
            }
            return cli_bad_option(&c, usage, argc, argv);
        }
    }
    if (optind != argc - 1 || strcmp(argv[optind], "export-public") != 0) {
        return cli_usage_error(&c, usage, "unknown key command");
    }
    ex = cli_open(&c, &v);
    if (ex != EXIT_OK) {
        return ex;
    }
    rc = ev_vault_public_key(v, key, sizeof key);
    if (rc != EV_OK) {
        ex = cli_fail(&c, v, rc);
    } else {
        snprintf(line, sizeof line, "%s\n", key);
        if (out != NULL) {
            ex = cli_write_new_file(&c, out, line, strlen(line));
        } else {
            fputs(line, stdout);
        }
    }
    ev_vault_free(v);
    return ex;
}
