/*
 * cmd_share.c - `evault share`: a sealed bundle for partners, and
 * `evault open`: decrypt any age file.
 */
#include "cli.h"
#include "commands.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_slurp(struct cli *c, const char *path, size_t max, char **out,
              size_t *len);

static const char share_usage[] =
    "usage: evault share ID...|--case C --to NAME [--to NAME]... "
    "[--redact FIELD,...] [--seal] -o OUT.age\n";

static const char share_help[] =
    "\n"
    "Writes a bundle for partners: an age file that only they (and this\n"
    "vault) can open, holding the records' original files, a manifest and\n"
    "checksums signed with the vault's minisign key, one court-ready proof\n"
    "per record, and a README.txt saying how to check it all with age,\n"
    "tar, minisign and sha256sum.  Only sealed records are shared (--seal\n"
    "seals them first).  The share is recorded in the custody log.\n"
    "\n"
    "Options:\n"
    "      --to NAME              a contact (repeat for more)\n"
    "      --case C               every record of case C (those holding\n"
    "                             only a hash are left out: no file)\n"
    "      --redact FIELDS        leave these metadata fields out of the\n"
    "                             manifest: name, kind, case, source, note,\n"
    "                             captured_at, location, tags, added_by\n"
    "      --seal                 seal unsealed records first\n"
    "  -o, --output FILE          the bundle (must not exist)\n" CLI_COMMON_HELP;

/* The records of a case that can go into a bundle: a record that holds
 * only a hash has no file to send, so it is left out, and said so. */
struct case_pick {
    struct cli_ids *ids;
    size_t hash_only;
};

static int
pick_shareable(void *ctx, const ev_record *r)
{
    struct case_pick *p = ctx;

    if (r->hash_only) {
        fprintf(stderr, "note: record %lld holds only a hash (SHA-256 and "
                        "size): not in the bundle\n",
                (long long)r->id);
        p->hash_only++;
        return 0;
    }
    return cli_ids_add(p->ids, r);
}

int
cmd_share(int argc, char **argv)
{
    static const struct option opts[] = {
        {"to", required_argument, NULL, 't'},
        {"case", required_argument, NULL, 'c'},
        {"redact", required_argument, NULL, 'r'},
        {"seal", no_argument, NULL, 's'},
        {"output", required_argument, NULL, 'o'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct cli c = {.cmd = "share", .pass_fd = -1};
    const char *to[19], *redact[16], *case_name = NULL, *out = NULL;
    char *redact_buf = NULL;
    ev_share_opts so;
    struct cli_ids ids = {NULL, 0};
    ev_vault *v;
    int opt, rc, ex;

    memset(&so, 0, sizeof so);
    so.to = to;
    so.redact = redact;
    while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("%s%s", share_usage, share_help);
            return EXIT_OK;
        case 't':
            if (so.nto == 19) {
                return cli_usage_error(&c, share_usage, "at most 19 --to");
            }
            to[so.nto++] = optarg;
            break;
        case 'c':
            case_name = optarg;
            break;
        case 'r': {
            char *save = NULL, *tok;
            free(redact_buf);
            redact_buf = strdup(optarg);
            so.nredact = 0;
            for (tok = strtok_r(redact_buf, ",", &save);
                 tok != NULL && so.nredact < 16;
                 tok = strtok_r(NULL, ",", &save)) {
                redact[so.nredact++] = tok;
            }
            break;
        }
        case 's':
            so.seal_first = 1;
            break;
        case 'o':
            out = optarg;
            break;
        default:
            if (cli_common_option(&c, opt, optarg) == 1) {
                break;
            }
            free(redact_buf);
            return cli_bad_option(&c, share_usage, argc, argv);
        }
    }
    if (out == NULL || so.nto == 0 ||
        (case_name == NULL) == (optind == argc)) {
        free(redact_buf);
        return cli_usage_error(&c, share_usage,
                               "give records (ids or --case), --to and -o");
    }
    ex = cli_ids_from_args(&c, share_usage, &ids, argc, argv, optind);
    if (ex != EXIT_OK) {
        free(redact_buf);
        free(ids.v);
        return ex;
    }
    ex = cli_open(&c, &v);
    if (ex != EXIT_OK) {
        free(redact_buf);
        free(ids.v);
        return ex;
    }
    rc = EV_OK;
    if (case_name != NULL) {
        ev_filter f = {case_name, NULL, NULL, NULL};
        struct case_pick pick = {&ids, 0};
        rc = ev_record_list(v, &f, pick_shareable, &pick);
        if (rc == EV_OK && ids.n == 0) {
            ev_vault_free(v);
            free(redact_buf);
            if (pick.hash_only > 0) {
                return cli_error(&c, EV_ENOENT,
                                 "nothing to share in case '%s': its %zu "
                                 "record(s) hold only a hash",
                                 case_name, pick.hash_only);
            }
            return cli_error(&c, EV_ENOENT, "no records in case '%s'",
                             case_name);
        }
    }
    if (rc == EV_OK) {
        rc = ev_share(v, ids.v, ids.n, &so, out);
        cli_progress_end();
    }
    if (rc != EV_OK) {
        ex = cli_fail(&c, v, rc);
        if (rc == EV_ENOTSEALED) {
            cli_hint("seal them first, or add --seal");
        }
    } else {
        fprintf(stderr, "wrote '%s': %zu record(s) for %zu contact(s)\n", out,
                ids.n, so.nto);
    }
    free(redact_buf);
    free(ids.v);
    ev_vault_free(v);
    return ex;
}

static const char open_usage[] =
    "usage: evault open FILE.age [-i IDENTITY-FILE] [--passphrase-file F] "
    "[-o OUT]\n";

static const char open_help[] =
    "\n"
    "Decrypts an age file: with this vault's identity (the default: files\n"
    "partners encrypted to 'evault id's age recipient), with an age\n"
    "identity file (AGE-SECRET-KEY-1...), or with a passphrase (age -p).\n"
    "Armored files are accepted.  With -o, the output file appears only\n"
    "once every byte was authenticated; to standard output, bytes are\n"
    "released chunk by chunk as each is authenticated.\n"
    "\n"
    "Options:\n"
    "  -i, --identity FILE        an age identity file\n"
    "      --passphrase-file F    the file's passphrase (first line of F);\n"
    "                             with -i, the passphrase of an identity\n"
    "                             file protected with 'age -p' (else asked\n"
    "                             on the terminal, else read from\n"
    "                             $EVAULT_PASSPHRASE_FILE)\n"
    "  -o, --output FILE          write here (must not exist)\n"
    "      --vault DIR            the vault whose identity to use\n"
    "  -h, --help                 show this help\n";

int
cmd_open(int argc, char **argv)
{
    static const struct option opts[] = {
        {"identity", required_argument, NULL, 'i'},
        {"passphrase-file", required_argument, NULL, 'p'},
        {"output", required_argument, NULL, 'o'},
        {"vault", required_argument, NULL, CLI_OPT_VAULT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct cli c = {.cmd = "open", .pass_fd = -1};
    const char *ident = NULL, *passfile = NULL, *out = NULL;
    ev_age_source src;
    char *idtext = NULL, *pass = NULL;
    size_t idlen = 0, plen = 0;
    ev_vault *v = NULL;
    int opt, rc, ex = EXIT_OK, in, age_err = 0;

    while ((opt = getopt_long(argc, argv, "hi:o:", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("%s%s", open_usage, open_help);
            return EXIT_OK;
        case 'i':
            ident = optarg;
            break;
        case 'p':
            passfile = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case CLI_OPT_VAULT:
            c.vault_dir = optarg;
            break;
        default:
            return cli_bad_option(&c, open_usage, argc, argv);
        }
    }
    if (optind != argc - 1) {
        return cli_usage_error(&c, open_usage, "open takes one file");
    }
    if (out == NULL && isatty(1)) {
        return cli_usage_error(&c, open_usage,
                               "refusing to write decrypted data to the "
                               "terminal; use -o FILE or redirect");
    }
    memset(&src, 0, sizeof src);
    if (ident != NULL) {
        c.pass_file = passfile; /* a protected identity file's passphrase */
        ex = cli_read_identity(&c, ident, &idtext, &idlen);
        src.identity = idtext;
        src.identity_len = idlen;
    } else if (passfile != NULL) {
        c.pass_file = passfile;
        ex = cli_passphrase(&c, "Passphrase of the file: ", 0, &pass, &plen);
        src.passphrase = pass;
        src.passphrase_len = plen;
    } else {
        ex = cli_open(&c, &v);
        src.vault = v;
    }
    if (ex != EXIT_OK) {
        goto cleanup;
    }
    in = open(argv[optind], O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        ex = cli_error(&c, EV_ENOENT, "cannot open '%s': %s", argv[optind],
                       strerror(errno));
        goto cleanup;
    }
    if (out != NULL) {
        unsigned swept = 0;
        rc = ev_age_decrypt_file(&src, in, out, &age_err, &swept);
        cli_note_swept(out, swept);
    } else {
        rc = ev_age_decrypt(&src, in, 1, &age_err);
    }
    close(in);
    if (rc == EV_EEXIST) {
        ex = cli_error(&c, EV_EEXIST, "'%s' already exists", out);
        goto cleanup;
    }
    if (rc != EV_OK) {
        ex = cli_error(&c, rc, "cannot open '%s': %s", argv[optind],
                       age_err != 0 ? ev_age_error_text(age_err)
                                    : ev_strerror(rc));
        if (out == NULL && rc == EV_ECORRUPT) {
            fprintf(stderr, "evault: the output written so far is not "
                            "trustworthy: discard it\n");
        }
    }
cleanup:
    ev_secret_free(idtext);
    if (pass != NULL) {
        ev_secret_free(pass);
    }
    ev_vault_free(v);
    return ex;
}

static const char import_usage[] =
    "usage: evault import [--allow-legacy-signatures] [--json] BUNDLE.age\n";

static const char import_help[] =
    "\n"
    "Imports a bundle a partner shared with this vault.  It is checked\n"
    "first: the age layer, the signatures against a pinned contact ('evault\n"
    "contact add'), every file's SHA-256 and every proof.  Anything wrong -\n"
    "an unknown sender, a bad signature, an altered or missing file, a cut\n"
    "bundle, an unsafe name, a link or device, an oversized entry - rejects\n"
    "the whole bundle and adds nothing.  The records are then added with\n"
    "their provenance (sender, their record ids, the bundle's SHA-256) in\n"
    "the custody log.  A bundle imported twice adds nothing.\n"
    "\n"
    "Options:\n"
    "      --allow-legacy-signatures\n"
    "                             accept minisign's old non-hashed signatures\n"
    "                             (by default only 'minisign -S -H' ones)\n"
    "      --json                 one JSON object per record added\n"
    CLI_COMMON_HELP;

static int
print_imported(void *ctx, const ev_record *r)
{
    struct cli *c = ctx;
    char hex[65];

    if (c->json) {
        cli_print_record_json(stdout, r);
        return 0;
    }
    ev_hex(hex, r->sha256, sizeof r->sha256);
    printf("%lld\t%s\t", (long long)r->id, hex);
    cli_put_name(stdout, r->name);
    printf("\n");
    return 0;
}

int
cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        {"allow-legacy-signatures", no_argument, NULL, 'L'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct cli c = {.cmd = "import", .pass_fd = -1};
    size_t n = 0;
    ev_vault *v;
    int opt, rc, ex, legacy = 0;

    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (opt == 'h') {
            printf("%s%s", import_usage, import_help);
            return EXIT_OK;
        }
        if (opt == 'L') {
            legacy = 1;
            continue;
        }
        if (cli_common_option(&c, opt, optarg) != 1) {
            return cli_bad_option(&c, import_usage, argc, argv);
        }
    }
    if (optind != argc - 1) {
        return cli_usage_error(&c, import_usage, "import takes one bundle");
    }
    ex = cli_open(&c, &v);
    if (ex != EXIT_OK) {
        return ex;
    }
    rc = ev_import(v, argv[optind], legacy, print_imported, &c, &n);
    if (rc != EV_OK) {
        ex = cli_fail(&c, v, rc);
    } else if (!c.json) {
        fprintf(stderr, "imported %zu record(s)\n", n);
    }
    ev_vault_free(v);
    return ex;
}
