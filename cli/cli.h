/*
 * cli.h - what the subcommands share: options common to all, opening and
 * unlocking the vault, messages, exit codes, output helpers.
 */
#ifndef EV_CLI_H
#define EV_CLI_H

#include "evault.h"

#include <stdio.h>

/* Exit codes (stable; listed in `evault --help`). */
enum {
    EXIT_OK = 0,
    EXIT_INTEGRITY = 1, /* the evidence is not intact */
    EXIT_USAGE = 2,
    EXIT_OPERATIONAL = 3, /* I/O, not a vault, disk full */
    EXIT_KEY = 4,         /* wrong passphrase or key */
    EXIT_BUSY = 5         /* another process is writing */
};

struct cli {
    const char *cmd;        /* the subcommand's name, for messages */
    const char *vault_dir;  /* --vault */
    const char *pass_file;  /* --passphrase-file */
    int pass_fd;            /* --passphrase-fd, or -1 */
    int json;               /* --json */
    const char *operator_;  /* --operator, for the custody log */
    const char *identity;   /* --identity: an age identity file */
    int no_env;             /* cli_passphrase ignores the environment */
};

/* Common long options, to splice into each command's getopt table. */
#define CLI_OPT_VAULT 1001
#define CLI_OPT_PASSFILE 1002
#define CLI_OPT_PASSFD 1003
#define CLI_OPT_JSON 1004
#define CLI_OPT_OPERATOR 1005
#define CLI_OPT_IDENTITY 1006
#define CLI_COMMON_OPTIONS                                                   \
    {"vault", required_argument, NULL, CLI_OPT_VAULT},                       \
        {"passphrase-file", required_argument, NULL, CLI_OPT_PASSFILE},      \
        {"passphrase-fd", required_argument, NULL, CLI_OPT_PASSFD},          \
        {"json", no_argument, NULL, CLI_OPT_JSON},                           \
        {"operator", required_argument, NULL, CLI_OPT_OPERATOR},             \
        {"identity", required_argument, NULL, CLI_OPT_IDENTITY},             \
        {"help", no_argument, NULL, 'h'}

#define CLI_COMMON_HELP                                                      \
    "      --vault DIR            the vault (default: $EVAULT_DIR, else the\n" \
    "                             current directory)\n"                      \
    "      --passphrase-file F    read the passphrase from the first line\n" \
    "                             of F (default: $EVAULT_PASSPHRASE_FILE,\n" \
    "                             else ask on the terminal)\n"               \
    "      --passphrase-fd N      read the passphrase from file descriptor N\n" \
    "      --identity FILE        open with a member's age identity file\n" \
    "                             instead (default: $EVAULT_IDENTITY_FILE,\n" \
    "                             when no passphrase option is given); for\n" \
    "                             one protected with 'age -p', the options\n" \
    "                             above give its passphrase, else the\n"     \
    "                             terminal, else $EVAULT_PASSPHRASE_FILE\n" \
    "      --operator NAME        who acts, for the custody log (default:\n" \
    "                             $EVAULT_OPERATOR, else the name set at init)\n" \
    "  -h, --help                 show this help\n"

/* Handles a common option; returns 1 if it was one, -1 on a bad value. */
int cli_common_option(struct cli *c, int opt, const char *arg);

/* Prints "evault: error: ..." and returns the exit code for status. */
int cli_error(struct cli *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with the library's detail for v. */
int cli_fail(struct cli *c, ev_vault *v, int status);
void cli_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Bad usage: one line and the usage, exit 2. */
int cli_usage_error(struct cli *c, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int cli_exit_code(int status);
/* getopt found an unknown option or a bad value: name it, exit 2. */
int cli_bad_option(struct cli *c, const char *usage, int argc, char **argv);
/* Prints a name for a terminal or a tab-separated line: control
 * characters become '?', so one record is one line. */
void cli_put_name(FILE *f, const char *s);
/* Says that n unfinished files, left by an earlier get or open that was
 * stopped, were removed from the folder of path (nothing when n is 0). */
void cli_note_swept(const char *path, unsigned n);

/* Reads the passphrase (file, fd, environment or terminal) into guarded
 * memory.  confirm: ask twice on a terminal.  Returns an exit code. */
/* Reads an age identity file into guarded memory (*out, release with
 * ev_secret_free).  One protected with a passphrase (age -p) is decrypted,
 * the passphrase asked as cli_passphrase does.  Exit code. */
int cli_read_identity(struct cli *c, const char *path, char **out,
                      size_t *len);
int cli_passphrase(struct cli *c, const char *prompt, int confirm,
                   char **pass, size_t *len);

/* Reads one secret line (a recovery key, a share): from the terminal
 * without echo when stdin is one (after prompt), else from stdin.  Its
 * length, -1 at the end of input, -2 when longer than cap - 1. */
long cli_read_secret_line(const char *prompt, char *buf, size_t cap);

/* Opens the vault named by the options (locked).  Exit code. */
int cli_open_locked(struct cli *c, ev_vault **v);
/* Opens the vault named by the options and unlocks it.  Exit code. */
int cli_open(struct cli *c, ev_vault **v);
/* The same, but a passphrase unlock is only begun (Argon2id runs on a
 * thread of its own): for `add`, whose library call reads and seals the
 * files meanwhile.  Anything else needs ev_vault_unlock_wait first. */
int cli_open_begin(struct cli *c, ev_vault **v);

/* Parses a record id ("12"); 0 on success. */
int cli_parse_id(const char *s, int64_t *id);
/* Parses a byte count; 0 on success. */
int cli_parse_u64(const char *s, uint64_t *out);

/* Progress on stderr when it is a terminal. */
void cli_progress(void *ctx, uint64_t done, uint64_t total);
void cli_progress_end(void);

/* A growing list of record ids; cli_ids_add fits ev_record_list. */
struct cli_ids {
    int64_t *v;
    size_t n;
};
int cli_ids_add(void *ctx, const ev_record *r);
/* Reads ids from argv[from..argc), or the records of a case: exit code. */
int cli_ids_from_args(struct cli *c, const char *usage, struct cli_ids *ids,
                      int argc, char **argv, int from);

/* Writes text to a new file (O_EXCL), synced.  Exit code. */
int cli_write_new_file(struct cli *c, const char *path, const char *text,
                       size_t len);

/* Output: a record as a JSON line, or as text. */
void cli_print_record_json(FILE *f, const ev_record *r);
const char *cli_state_name(int state);
void cli_format_size(char *out, size_t len, uint64_t n);
void cli_format_time(char *out, size_t len, int64_t t);

#endif
