/*
 * main.c - the evault command: a table of subcommands.
 *
 * Each subcommand lives in cli/cmd_<name>.c with its own usage text; this
 * file only finds it, and prints the overview and the exit codes.
 */
#include "cli.h"
#include "commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"init", cmd_init, "create a new vault"},
    {"add", cmd_add, "add files, directories, a testimony or a hash"},
    {"ls", cmd_ls, "list records, optionally by case, source, tag or hash"},
    {"search", cmd_ls, "the same as ls"},
    {"show", cmd_show, "show one record's details"},
    {"get", cmd_get, "write a record's original bytes to a file or stdout"},
    {"cat", cmd_cat, "write a record's original bytes to stdout"},
    {"check", cmd_check, "check the vault's integrity and its custody log"},
    {"amend", cmd_amend, "append a correction to a record's metadata"},
    {"seal", cmd_seal, "freeze records under a signed checkpoint"},
    {"destroy", cmd_destroy, "crypto-shred a record that is not sealed"},
    {"log", cmd_log, "print the chain of custody"},
    {"proof", cmd_proof, "write a court-ready proof for a sealed record"},
    {"verify", cmd_verify, "check a file against a proof, or the vault"},
    {"key", cmd_key, "passphrases, members, trustee shares, key rotation"},
    {"id", cmd_id, "the vault's public identity, to give to partners"},
    {"contact", cmd_contact, "pin, list or remove partners' keys"},
    {"share", cmd_share, "write a signed, encrypted bundle for partners"},
    {"import", cmd_import, "check and add a bundle a partner shared"},
    {"open", cmd_open, "decrypt an age file"},
    {"lockdown", cmd_lockdown, "make the vault unopenable but by recovery"},
    {"recover", cmd_recover, "open a locked-down vault and set a passphrase"},
    {"store", cmd_store, "where blobs live; move them to or from S3"},
};

static const char overview[] =
    "usage: evault <command> [options] [arguments]\n"
    "\n"
    "An encrypted, compressed evidence vault.\n"
    "\n"
    "Commands:\n";

static const char exit_codes[] =
    "\n"
    "Every command but init finds its vault from --vault DIR, else\n"
    "$EVAULT_DIR, else the current directory.  A passphrase comes from\n"
    "--passphrase-file F, --passphrase-fd N, $EVAULT_PASSPHRASE_FILE, or\n"
    "the terminal; never from the command line.  A team member opens the\n"
    "vault with an age identity instead: --identity FILE or\n"
    "$EVAULT_IDENTITY_FILE.  --operator NAME or $EVAULT_OPERATOR names who\n"
    "acts, for the custody log.  These options may also come before the\n"
    "command: 'evault --vault DIR ls'.\n"
    "\n"
    "Exit codes:\n"
    "  0  success\n"
    "  1  the evidence is not intact (a failed verification or check)\n"
    "  2  usage error\n"
    "  3  operational error (I/O, not a vault, disk full, no such record)\n"
    "  4  wrong passphrase or key\n"
    "  5  vault busy (another evault process is writing)\n"
    "\n"
    "Run 'evault help <command>' or 'evault <command> --help' for a\n"
    "command's options; 'man evault' has them all.\n";

static void
print_overview(FILE *f)
{
    fputs(overview, f);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    }
    fputs(exit_codes, f);
}

/* Keys live in this process: no core dumps, no ptrace from other users'
 * processes (PR_SET_DUMPABLE 0 also stops same-user attach). */
static void
harden(void)
{
    struct rlimit rl = {0, 0};

    setrlimit(RLIMIT_CORE, &rl);
    umask(077); /* every file evault writes is for its owner only */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* The options every command takes may also come before the command
 * ('evault --vault DIR ls'): they are moved after it, where the command's
 * own parser finds them. */
static void
hoist_common_options(int argc, char **argv)
{
    static const char *const with_value[] = {
        "--vault", "--passphrase-file", "--passphrase-fd", "--identity",
        "--operator"};
    int i = 1;

    while (i < argc && strncmp(argv[i], "--", 2) == 0) {
        int takes = -1;
        if (strcmp(argv[i], "--json") == 0) {
            takes = 0;
        }
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++) {
            size_t n = strlen(with_value[k]);
            if (strncmp(argv[i], with_value[k], n) == 0) {
                if (argv[i][n] == '=') {
                    takes = 0;
                } else if (argv[i][n] == '\0') {
                    takes = 1;
                }
            }
        }
        if (takes < 0 || i + takes >= argc) {
            break; /* not one of them, or no command after it */
        }
        i += 1 + takes;
    }
    if (i > 1 && i < argc) {
        /* argv[1..i-1] are the options, argv[i] the command: the options go
         * after everything the command takes first (a subcommand such as
         * 'key ls'), but before a '--' */
        char **tmp = malloc((size_t)argc * sizeof *tmp);
        int n = 0, dashes = i + 1;
        if (tmp == NULL) {
            return;
        }
        while (dashes < argc && strcmp(argv[dashes], "--") != 0) {
            dashes++;
        }
        tmp[n++] = argv[0];
        for (int k = i; k < dashes; k++) {
            tmp[n++] = argv[k];
        }
        for (int k = 1; k < i; k++) {
            tmp[n++] = argv[k];
        }
        for (int k = dashes; k < argc; k++) {
            tmp[n++] = argv[k];
        }
        memcpy(argv, tmp, (size_t)argc * sizeof *tmp);
        free(tmp);
    }
}

int
main(int argc, char **argv)
{
    harden();
    opterr = 0; /* the commands name a bad option themselves */
    if (argc < 2) {
        print_overview(stderr);
        return EXIT_USAGE;
    }
    hoist_common_options(argc, argv);
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        if (argc > 2 && strcmp(argv[1], "help") == 0 && argv[2][0] != '-' &&
            strcmp(argv[2], "help") != 0 && strcmp(argv[2], "version") != 0) {
            for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
                if (strcmp(argv[2], commands[i].name) == 0) {
                    char *hargv[] = {argv[2], "--help", NULL};
                    return commands[i].run(2, hargv);
                }
            }
            fprintf(stderr, "evault: error: '%s' is not an evault command\n",
                    argv[2]);
            fprintf(stderr, "hint: run 'evault --help' for the list of "
                            "commands\n");
            return EXIT_USAGE;
        }
        print_overview(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("evault 0.1.0 (vault format %d)\n", EV_FORMAT_VERSION);
        return EXIT_OK;
    }
    if (ev_init() != EV_OK) {
        fprintf(stderr, "evault: error: cannot initialise the crypto "
                        "libraries\n");
        return EXIT_OPERATIONAL;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "evault: error: '%s' is not an evault command\n",
            argv[1]);
    fprintf(stderr, "hint: run 'evault --help' for the list of commands\n");
    return EXIT_USAGE;
}
