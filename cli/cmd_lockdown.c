/*
 * cmd_lockdown.c - `evault lockdown` and `evault recover`: emergency
 * lockdown, and getting the vault back with the recovery key or trustee
 * shares.
 */
#include "cli.h"
#include "commands.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char lockdown_usage[] =
    "usage: evault lockdown [--all] [--force]\n";

static const char lockdown_help[] =
    "\n"
    "Destroys every passphrase and member key slot, in well under a second,\n"
    "after recording the lockdown in the custody log.  Afterwards no\n"
    "passphrase opens the vault: only the recovery key or the trustee\n"
    "shares do, through evault recover.  Use it before a border crossing or\n"
    "a raid; the evidence itself stays intact.\n"
    "\n"
    "Options:\n"
    "      --all                  destroy the recovery key's slot too: then\n"
    "                             only the trustee shares (evault key shares)\n"
    "                             can open the vault\n"
    "      --force                lock down even when nothing would be left to\n"
    "                             open the vault (it is then lost for good)\n"
    CLI_COMMON_HELP;

int
cmd_lockdown(int argc, char **argv)
{
    static const struct option opts[] = {
        {"all", no_argument, NULL, 'a'},
        {"force", no_argument, NULL, 'f'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct cli c = {.cmd = "lockdown", .pass_fd = -1};
    struct timespec t0, t1;
    ev_vault *v;
    int opt, all = 0, force = 0, removed = 0, rc, ex;

    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("%s%s", lockdown_usage, lockdown_help);
            return EXIT_OK;
        case 'a':
            all = 1;
            break;
        case 'f':
            force = 1;
            break;
        default:
            if (cli_common_option(&c, opt, optarg) == 1) {
                break;
            }
            return cli_bad_option(&c, lockdown_usage, argc, argv);
        }
    }
    if (optind != argc) {
        return cli_usage_error(&c, lockdown_usage, "lockdown takes no "
                                                   "arguments");
    }
    ex = cli_open(&c, &v);
    if (ex != EXIT_OK) {
        return ex;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = ev_vault_lockdown(v, all, force, &removed);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc != EV_OK) {
        ex = cli_fail(&c, v, rc);
        if (rc == EV_EBUSY) {
            cli_hint("the lockdown is recorded and the slots are gone; "
                     "close the other evault and run evault check, which "
                     "empties the catalog's log");
        }
        ev_vault_free(v);
        return ex;
    }
    ev_vault_free(v);
    if (c.json) {
        printf("{\"destroyed_slots\":%d,\"all\":%s}\n", removed,
               all ? "true" : "false");
    } else {
        fprintf(stderr,
                "Locked down: %d key slot%s destroyed in %.2f s.  No "
                "passphrase opens this vault now;\n%s open it "
                "(evault recover).\n",
                removed, removed == 1 ? "" : "s",
                (double)(t1.tv_sec - t0.tv_sec) +
                    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
                all ? "only the trustee shares"
                    : "only the recovery key or the trustee shares");
    }
    return EXIT_OK;
}

static const char recover_usage[] =
    "usage: evault recover [--secret-file F] [options]\n";

static const char recover_help[] =
    "\n"
    "Opens a vault with its recovery key or with trustee shares (after a\n"
    "lockdown, or a lost passphrase) and sets a new passphrase.  Type the\n"
    "recovery key, or the shares one per line, when asked; or pipe them on\n"
    "standard input.  The new passphrase is asked twice on the terminal, or\n"
    "read from --passphrase-file / $EVAULT_PASSPHRASE_FILE.  The custody log\n"
    "records the recovery.\n"
    "\n"
    "Options:\n"
    "      --secret-file F        the trustee secret as gfcombine rebuilt it\n"
    "                             from the shares (see docs/GUIDE.md)\n"
    "      --argon2-passes N      the new passphrase slot's Argon2id passes\n"
    "      --argon2-memory MIB    and memory (default 36 passes, 40 MiB)\n"
    "      --vault DIR            the vault (default: $EVAULT_DIR, else the\n"
    "                             current directory)\n"
    "      --passphrase-file F    the NEW passphrase (first line of F)\n"
    "      --operator NAME        who acts, for the custody log\n"
    "      --json                 print {\"slot\":...}\n"
    "  -h, --help                 show this help\n";

#define LINE_MAX_ 256
#define SHARES_MAX 255

/* Reads the recovery key or shares and unlocks v.  Exit code. */
static int
unlock_interactive(struct cli *c, ev_vault *v)
{
    char **lines = calloc(SHARES_MAX, sizeof *lines);
    size_t n = 0;
    int need = 0, tty = isatty(0), ex = EXIT_OK, rc;

    if (lines == NULL) {
        return cli_error(c, EV_ENOMEM, "out of memory");
    }
    if (tty) {
        fprintf(stderr, "Type the recovery key, or the trustee shares one "
                        "per line (nothing is shown).\n");
    }
    for (;;) {
        char prompt[64], *buf = ev_secret_alloc(LINE_MAX_);
        const char *why;
        long len;
        int x, k, total;

        if (buf == NULL) {
            ex = cli_error(c, EV_ENOMEM, "cannot lock memory for a key");
            break;
        }
        if (n == 0) {
            snprintf(prompt, sizeof prompt, "Recovery key or share: ");
        } else {
            snprintf(prompt, sizeof prompt, "Share %zu of %d: ", n + 1, need);
        }
        len = cli_read_secret_line(prompt, buf, LINE_MAX_);
        if (len < 0) {
            ev_secret_free(buf);
            if (len == -1 && n > 0) {
                /* the library names what is wrong: too few shares, or
                 * shares of different sets */
                rc = ev_vault_unlock_shares(v, (const char *const *)lines, n);
                ex = rc == EV_OK ? EXIT_OK : cli_fail(c, v, rc);
                break;
            }
            ex = cli_error(c, EV_EINVAL,
                           len == -2 ? "a line is too long for a key or "
                                       "share"
                                     : "no recovery key or share was given");
            break;
        }
        if (len == 0) {
            ev_secret_free(buf);
            continue;
        }
        /* a recovery key never holds ':'; every share does */
        if (strchr(buf, ':') != NULL) {
            if (ev_share_check(buf, &x, &k, &total, &why) != EV_OK) {
                ev_secret_free(buf);
                if (tty) {
                    fprintf(stderr, "That share is not right: %s.  Type "
                                    "it again.\n", why);
                    continue;
                }
                ex = cli_error(c, EV_EINVAL, "share %zu: %s", n + 1, why);
                break;
            }
            lines[n++] = buf;
            if (n > 1 && k != need) {
                /* shares of different sets: let the library say so */
                rc = ev_vault_unlock_shares(v, (const char *const *)lines, n);
                ex = rc == EV_OK ? EXIT_OK : cli_fail(c, v, rc);
                break;
            }
            need = k;
            if (tty) {
                fprintf(stderr, "Share %d accepted (%zu of %d).\n", x, n, k);
            }
            if (n < (size_t)need) {
                continue;
            }
            rc = ev_vault_unlock_shares(v, (const char *const *)lines, n);
        } else if (n > 0) {
            ev_secret_free(buf);
            ex = cli_error(c, EV_EINVAL, "line %zu is not a trustee share",
                           n + 1);
            break;
        } else {
            if (ev_recovery_key_check(buf) != EV_OK) {
                ev_secret_free(buf);
                if (tty) {
                    fprintf(stderr, "That recovery key is mistyped (its "
                                    "checksum does not match).  Type it "
                                    "again.\n");
                    continue;
                }
                ex = cli_error(c, EV_EKEY, "the recovery key is mistyped "
                                           "(its checksum does not match)");
                break;
            }
            rc = ev_vault_unlock_recovery(v, buf);
            ev_secret_free(buf);
        }
        if (rc != EV_OK) {
            ex = cli_fail(c, v, rc);
        }
        break;
    }
    for (size_t i = 0; i < n; i++) {
        ev_secret_free(lines[i]);
    }
    free(lines);
    return ex;
}

static int
unlock_secret_file(struct cli *c, ev_vault *v, const char *path)
{
    uint8_t *secret = ev_secret_alloc(64);
    ssize_t n;
    int fd, rc, ex = EXIT_OK;

    if (secret == NULL) {
        return cli_error(c, EV_ENOMEM, "cannot lock memory for a key");
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ev_secret_free(secret);
        return cli_error(c, EV_EIO, "cannot open '%s': %s", path,
                         strerror(errno));
    }
    n = read(fd, secret, 64);
    close(fd);
    if (n < 0) {
        ex = cli_error(c, EV_EIO, "cannot read '%s': %s", path,
                       strerror(errno));
    } else if ((rc = ev_vault_unlock_trustee_secret(v, secret, (size_t)n)) !=
               EV_OK) {
        ex = cli_fail(c, v, rc);
    }
    ev_secret_free(secret);
    return ex;
}

int
cmd_recover(int argc, char **argv)
{
    static const struct option opts[] = {
        {"secret-file", required_argument, NULL, 's'},
        {"argon2-passes", required_argument, NULL, 'p'},
        {"argon2-memory", required_argument, NULL, 'm'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct cli c = {.cmd = "recover", .pass_fd = -1};
    const char *secret_file = NULL;
    uint64_t ops = 0, mem = 0;
    char *pass = NULL;
    size_t len = 0;
    ev_vault *v;
    int opt, rc, ex;

    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("%s%s", recover_usage, recover_help);
            return EXIT_OK;
        case 's':
            secret_file = optarg;
            break;
        case 'p':
            if (cli_parse_u64(optarg, &ops) != 0 || ops < 1 || ops > 1000) {
                return cli_usage_error(&c, recover_usage,
                                       "--argon2-passes takes 1 to 1000");
            }
            break;
        case 'm':
            if (cli_parse_u64(optarg, &mem) != 0 || mem < 1 || mem > 4096) {
                return cli_usage_error(&c, recover_usage,
                                       "--argon2-memory takes 1 to 4096 MiB");
            }
            mem *= 1024;
            break;
        default:
            if (cli_common_option(&c, opt, optarg) == 1 &&
                c.identity == NULL) {
                break;
            }
            return cli_bad_option(&c, recover_usage, argc, argv);
        }
    }
    if (optind != argc) {
        return cli_usage_error(&c, recover_usage,
                               "recover takes no arguments: type the key "
                               "or shares when asked, or pipe them in");
    }
    ex = cli_open_locked(&c, &v);
    if (ex != EXIT_OK) {
        return ex;
    }
    ex = secret_file != NULL ? unlock_secret_file(&c, v, secret_file)
                             : unlock_interactive(&c, v);
    if (ex == EXIT_OK) {
        const char *op = c.operator_ != NULL ? c.operator_
                                             : getenv("EVAULT_OPERATOR");
        if (op != NULL && op[0] != '\0' &&
            (rc = ev_vault_set_operator(v, op)) != EV_OK) {
            ex = cli_fail(&c, v, rc);
        }
    }
    if (ex == EXIT_OK) {
        fprintf(stderr, "The vault opened.  Now choose its new passphrase.\n");
        ex = cli_passphrase(&c, "New passphrase: ", 1, &pass, &len);
    }
    if (ex == EXIT_OK) {
        rc = ev_vault_recover(v, pass, len, ops, mem);
        ev_secret_free(pass);
        if (rc != EV_OK) {
            ex = cli_fail(&c, v, rc);
        } else if (c.json) {
            printf("{\"recovered\":true}\n");
        } else {
            fprintf(stderr,
                    "Recovered: the new passphrase opens the vault.\n"
                    "hint: if the recovery key or shares were exposed, make "
                    "new ones (evault key recovery, evault key shares)\n");
        }
    }
    ev_vault_free(v);
    return ex;
}
