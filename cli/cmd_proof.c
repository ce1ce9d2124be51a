/*
 * cmd_proof.c - `evault proof ID -o FILE.tlog-proof`: a proof a court
 * checks without the vault.
 */
#include "cli.h"
#include "commands.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: evault proof ID -o FILE.tlog-proof [--tsr-out FILE.tsr]\n";

static const char help[] =
    "\n"
    "Writes a proof that record ID entered custody with its SHA-256 and size\n"
    "and is covered by a checkpoint signed with the vault's key: a C2SP\n"
    "tlog-proof holding the record's intake entry (no names, no other\n"
    "records), its inclusion path and the checkpoint.  The record must be\n"
    "sealed.  Check it with:\n"
    "  evault verify FILE --proof FILE.tlog-proof --key vault.pub\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE          where to write the proof (must not exist)\n"
    "      --tsr-out FILE         also write the RFC 3161 timestamp of the\n"
    "                             proof's checkpoint, if one was attached\n"
    CLI_COMMON_HELP;

/* Writes text to a new file (mode 0644: a proof is meant to be shared). */
int
cli_write_new_file(struct cli *c, const char *path, const char *text,
                   size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0644);
    size_t done = 0;

    if (fd < 0) {
        return cli_error(c, errno == EEXIST ? EV_EEXIST : EV_EIO,
                         "cannot create '%s': %s", path, strerror(errno));
    }
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(path);
            return cli_error(c, EV_EIO, "cannot write '%s': %s", path,
                             strerror(e));
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(path);
        return cli_error(c, EV_EIO, "cannot write '%s': %s", path,
                         strerror(errno));
    }
    return EXIT_OK;
}

int
cmd_proof(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"tsr-out", required_argument, NULL, 'T'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct cli c = {.cmd = "proof", .pass_fd = -1};
    const char *out = NULL, *tsr_out = NULL;
    char *text = NULL;
    size_t len = 0;
    int64_t id;
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
        case 'T':
            tsr_out = optarg;
            break;
        default:
            if (cli_common_option(&c, opt, optarg) == 1) {
                break;
            }
            return cli_bad_option(&c, usage, argc, argv);
        }
    }
    if (optind != argc - 1 || cli_parse_id(argv[optind], &id) != 0) {
        return cli_usage_error(&c, usage, "proof takes one record id");
    }
    if (out == NULL) {
        return cli_usage_error(&c, usage, "name the proof file with -o");
    }
    ex = cli_open(&c, &v);
    if (ex != EXIT_OK) {
        return ex;
    }
    rc = ev_proof(v, id, &text, &len);
    if (rc != EV_OK) {
        ex = cli_fail(&c, v, rc);
        if (rc == EV_ENOTSEALED) {
            cli_hint("seal it first: evault seal %lld", (long long)id);
        }
    } else {
        uint8_t *der = NULL;
        size_t dl = 0;
        /* The timestamp first: when there is none, write nothing. */
        if (tsr_out != NULL) {
            const char *cp = strstr(text, "\n\n");
            rc = cp != NULL ? ev_timestamp_reply(v, cp + 2, &der, &dl)
                            : EV_ENOENT;
            if (rc == EV_ENOENT) {
                ex = cli_error(&c, EV_ENOENT,
                               "no timestamp was attached to this proof's "
                               "checkpoint; nothing was written");
                cli_hint("evault seal --tsq FILE, send it to a timestamp "
                         "authority, then evault seal --attach-tsr REPLY");
            } else if (rc != EV_OK) {
                ex = cli_fail(&c, v, rc);
            }
        }
        if (ex == EXIT_OK) {
            ex = cli_write_new_file(&c, out, text, len);
        }
        if (ex == EXIT_OK && tsr_out != NULL) {
            ex = cli_write_new_file(&c, tsr_out, (const char *)der, dl);
            if (ex != EXIT_OK) {
                unlink(out); /* both files, or neither */
            }
        }
        free(der);
        if (ex == EXIT_OK && (rc = ev_log_action(v, "proof", &id, 1, NULL)) !=
                                 EV_OK) {
            ex = cli_fail(&c, v, rc);
        } else if (ex == EXIT_OK) {
            if (!c.json) {
                fprintf(stderr, "wrote '%s'; the verification key is "
                                "'evault key export-public'\n", out);
            }
        }
    }
    free(text);
    ev_vault_free(v);
    return ex;
}
