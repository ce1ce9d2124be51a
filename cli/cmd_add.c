/*
 * cmd_add.c - `evault add`: files, directories, a testimony on stdin, or a
 * hash known from elsewhere.
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
    "usage: evault add [options] FILE|DIR...\n"
    "       evault add [options] -                 (a testimony on stdin)\n"
    "       evault add [options] --sha256 HEX --size N --name NAME\n"
    "       evault add [options] --from-age FILE.age\n";

static const char help[] =
    "\n"
    "Adds evidence: one record per file (directories are added recursively).\n"
    "Prints each record's id and SHA-256 once it is safely stored.  A file\n"
    "identical to one already in the vault is recorded again and its stored\n"
    "copy reused.\n"
    "\n"
    "Options:\n"
    "      --case C               the case this evidence belongs to\n"
    "      --source S             who gave it (use a pseudonym)\n"
    "      --kind K               video, photo, audio, document or testimony\n"
    "                             (default: guessed from the file name)\n"
    "      --tag T                a tag (repeat for more)\n"
    "      --note N               a free-text note\n"
    "      --captured-at TIME     when it was captured (2024-03-01 or\n"
    "                             2024-03-01T14:05:00+02:00)\n"
    "      --location L           where it was captured\n"
    "      --name NAME            the record's name (for - and --sha256)\n"
    "      --hash-only            record only SHA-256 and size; do not keep\n"
    "                             the bytes (for footage that may not be kept)\n"
    "      --sha256 HEX           record a SHA-256 known from elsewhere\n"
    "      --size N               its size in bytes (with --sha256)\n"
    "      --from-age FILE.age    add the content of an age file sent to\n"
    "                             this vault ('evault id'), decrypting as it\n"
    "                             goes: no plaintext touches the disk\n"
    "      --json                 one JSON object per record added\n"
    CLI_COMMON_HELP;

struct add_out {
    struct cli *c;
    uint64_t count;
};

static int
print_added(void *ctx, const ev_record *r)
{
    struct add_out *o = ctx;
    char hex[65];

    o->count++;
    cli_progress_end();
    if (o->c->json) {
        cli_print_record_json(stdout, r);
        return 0;
    }
    ev_hex(hex, r->sha256, sizeof r->sha256);
    printf("%lld\t%s\t", (long long)r->id, hex);
    cli_put_name(stdout, r->path != NULL ? r->path : r->name);
    if (r->same_as > 0) {
        printf("\t(same content as record %lld)", (long long)r->same_as);
    }
    printf("\n");
    return 0;
}

static int
valid_kind(const char *k)
{
    static const char *const kinds[] = {"video", "photo", "audio", "document",
                                        "testimony"};
    for (size_t i = 0; i < 5; i++) {
        if (strcmp(k, kinds[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

int
cmd_add(int argc, char **argv)
{
    static const struct option opts[] = {
        {"case", required_argument, NULL, 'c'},
        {"source", required_argument, NULL, 's'},
        {"kind", required_argument, NULL, 'k'},
        {"tag", required_argument, NULL, 't'},
        {"note", required_argument, NULL, 'n'},
        {"captured-at", required_argument, NULL, 'a'},
        {"location", required_argument, NULL, 'l'},
        {"name", required_argument, NULL, 'N'},
        {"hash-only", no_argument, NULL, 'H'},
        {"sha256", required_argument, NULL, 'S'},
        {"size", required_argument, NULL, 'Z'},
        {"from-age", required_argument, NULL, 'F'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct cli c = {.cmd = "add", .pass_fd = -1};
    ev_add_opts ao;
    const char *tags[64];
    char when[32];
    const char *sha_hex = NULL, *from_age = NULL;
    uint8_t sha[EV_SHA256_BYTES];
    uint64_t size = 0;
    int have_size = 0, opt, rc, ex;
    struct add_out out = {&c, 0};
    ev_vault *v = NULL;

    memset(&ao, 0, sizeof ao);
    ao.tags = tags;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("%s%s", usage, help);
            return EXIT_OK;
        case 'c':
            ao.case_name = optarg;
            break;
        case 's':
            ao.source = optarg;
            break;
        case 'k':
            if (!valid_kind(optarg)) {
                return cli_usage_error(&c, usage,
                                       "unknown kind '%s' (video, photo, "
                                       "audio, document or testimony)",
                                       optarg);
            }
            ao.kind = optarg;
            break;
        case 't':
            if (ao.ntags == 64) {
                return cli_usage_error(&c, usage, "at most 64 tags");
            }
            if (optarg[0] == '\0') {
                return cli_usage_error(&c, usage, "a tag cannot be empty");
            }
            tags[ao.ntags++] = optarg;
            break;
        case 'n':
            ao.note = optarg;
            break;
        case 'a':
            if (ev_parse_time(optarg, when, sizeof when) != EV_OK) {
                return cli_usage_error(&c, usage,
                                       "cannot read the time '%s' (use "
                                       "2024-03-01 or 2024-03-01T14:05:00Z)",
                                       optarg);
            }
            ao.captured_at = when;
            break;
        case 'l':
            ao.location = optarg;
            break;
        case 'N':
            ao.name = optarg;
            break;
        case 'H':
            ao.hash_only = 1;
            break;
        case 'S':
            sha_hex = optarg;
            break;
        case 'F':
            from_age = optarg;
            break;
        case 'Z':
            if (cli_parse_u64(optarg, &size) != 0) {
                return cli_usage_error(&c, usage,
                                       "--size takes a number of bytes");
            }
            have_size = 1;
            break;
        default:
            rc = cli_common_option(&c, opt, optarg);
            if (rc == 1) {
                break;
            }
            return cli_bad_option(&c, usage, argc, argv);
        }
    }
    if (from_age != NULL) {
        if (optind != argc || sha_hex != NULL || have_size || ao.hash_only) {
            return cli_usage_error(&c, usage,
                                   "--from-age takes no other input");
        }
    } else if (sha_hex != NULL) {
        if (optind != argc || !have_size || ao.name == NULL) {
            return cli_usage_error(&c, usage,
                                   "--sha256 needs --size and --name, and no "
                                   "files");
        }
        if (ev_unhex(sha, sizeof sha, sha_hex) != EV_OK) {
            return cli_usage_error(&c, usage,
                                   "--sha256 takes 64 hexadecimal digits");
        }
    } else if (have_size) {
        return cli_usage_error(&c, usage, "--size goes with --sha256");
    } else if (optind == argc) {
        return cli_usage_error(&c, usage, "nothing to add");
    }
    for (int i = optind; from_age == NULL && i < argc; i++) {
        if (strcmp(argv[i], "-") == 0 && argc - optind > 1) {
            return cli_usage_error(&c, usage,
                                   "'-' (stdin) must be the only input");
        }
    }
    if (from_age == NULL && sha_hex == NULL &&
        strcmp(argv[optind], "-") == 0) {
        if (isatty(0)) {
            fprintf(stderr, "Type or paste the testimony; end with Ctrl-D on "
                            "a line of its own.\n");
        }
        if (c.pass_fd == 0) {
            return cli_usage_error(&c, usage,
                                   "stdin cannot carry both the passphrase "
                                   "and the testimony");
        }
    }
    /* Files are read and sealed while the passphrase is being checked.
     * Not a testimony on stdin: whoever types it must hear of a mistyped
     * passphrase before, not after; the other inputs need the keys. */
    ex = from_age == NULL && sha_hex == NULL && strcmp(argv[optind], "-") != 0
             ? cli_open_begin(&c, &v)
             : cli_open(&c, &v);
    if (ex != EXIT_OK) {
        return ex;
    }
    if (from_age != NULL) {
        int fd = open(from_age, O_RDONLY | O_CLOEXEC), age_err = 0;
        char name[256];
        const char *b = strrchr(from_age, '/');
        size_t bl;
        b = b != NULL ? b + 1 : from_age;
        snprintf(name, sizeof name, "%s", b);
        bl = strlen(name);
        if (bl > 4 && strcmp(name + bl - 4, ".age") == 0) {
            name[bl - 4] = '\0';
        }
        if (ao.name == NULL) {
            ao.name = name;
        }
        if (ao.kind == NULL) {
            ao.kind = "document";
        }
        if (fd < 0) {
            ev_vault_free(v);
            return cli_error(&c, EV_ENOENT, "cannot open '%s': %s", from_age,
                             strerror(errno));
        }
        rc = ev_record_add_age(v, fd, &ao, print_added, &out, &age_err);
        close(fd);
    } else if (sha_hex != NULL) {
        rc = ev_record_add_hash(v, sha, size, &ao, print_added, &out);
    } else if (strcmp(argv[optind], "-") == 0) {
        rc = ev_record_add_fd(v, 0, &ao, print_added, &out);
    } else {
        rc = ev_record_add_paths(v, (const char *const *)argv + optind,
                                 (size_t)(argc - optind), &ao, print_added,
                                 &out);
    }
    cli_progress_end();
    fflush(stdout);
    if (rc != EV_OK) {
        ex = cli_fail(&c, v, rc);
        if (out.count > 0) {
            fprintf(stderr,
                    "note: the %llu record(s) listed above were added and "
                    "are safe\n",
                    (unsigned long long)out.count);
        }
    } else if (!c.json && isatty(2)) {
        fprintf(stderr, "%llu record(s) added.\n",
                (unsigned long long)out.count);
    }
    ev_vault_free(v);
    return ex;
}
