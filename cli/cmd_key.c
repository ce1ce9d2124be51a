/*
 * cmd_key.c - `evault key ...`: the ways into a vault (key slots), trustee
 * shares, and the vault's verification key.
 */
#include "cli.h"
#include "commands.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: evault key ls [--json]\n"
    "       evault key passphrase [--add] [--label L] [--new-passphrase-file F]\n"
    "       evault key rm SLOT [--force]\n"
    "       evault key recovery\n"
    "       evault key member add NAME --age age1...\n"
    "       evault key member rm NAME\n"
    "       evault key shares --threshold K --shares N [--label L]\n"
    "       evault key rotate [--new-passphrase-file F]\n"
    "       evault key export-public [-o FILE]\n";

static const char help[] =
    "\n"
    "Each way into the vault is a key slot: a passphrase, the recovery key,\n"
    "a team member's age identity, or a set of trustee shares.  Every change\n"
    "is recorded in the custody log.\n"
    "\n"
    "  ls            every slot: its number, kind, label, when and by whom\n"
    "                it was added (never a secret)\n"
    "  passphrase    change the passphrase you opened the vault with; with\n"
    "                --add, add another passphrase instead\n"
    "  rm SLOT       remove a slot.  Refuses to remove the last passphrase or\n"
    "                member slot (afterwards only the recovery key or trustee\n"
    "                shares would open the vault) or the last slot of all\n"
    "                (nothing would ever open it again) unless --force\n"
    "  recovery      print a new recovery key; the old one stops working\n"
    "  member add    let a team member open the vault with their own age\n"
    "                identity (evault ls --identity FILE), no shared\n"
    "                passphrase; NAME labels them; --age takes their\n"
    "                recipient (age-keygen -y FILE prints it)\n"
    "  member rm     cut a member off\n"
    "  shares        split a new trustee secret into N shares, any K of which\n"
    "                open the vault (evault recover).  Each share is one line\n"
    "                of text with the vault id, its number, K and a checksum:\n"
    "                give one to each trustee, on paper, through separate\n"
    "                channels.  See docs/GUIDE.md for gfcombine.\n"
    "  rotate        make a new master key: every record's data key and all\n"
    "                metadata are re-wrapped (files are not re-encrypted),\n"
    "                every slot is re-made.  Prints a new recovery key (and\n"
    "                new trustee shares).  The old master key, and anyone who\n"
    "                copied it, opens nothing in the vault afterwards (a copy\n"
    "                of the old catalog still opens files stored before)\n"
    "  export-public write the vault's verification key (C2SP signed-note\n"
    "                verifier key) for courts and partners\n"
    "\n"
    "Options:\n"
    "      --add                  passphrase: add a slot, keep the old one\n"
    "      --label L              a name for the slot (shown by key ls)\n"
    "      --new-passphrase-file F  the new passphrase (first line of F);\n"
    "                             default: ask twice on the terminal\n"
    "      --argon2-passes N      the new passphrase slot's Argon2id passes\n"
    "      --argon2-memory MIB    and memory (default: those of the slot you\n"
    "                             opened with, else 36 passes, 40 MiB)\n"
    "      --force                rm: remove even the last way in\n"
    "      --age RECIPIENT        member add: the member's age1... recipient\n"
    "      --threshold K          shares: how many open the vault (2..N)\n"
    "      --shares N             shares: how many to make (K..255)\n"
    "  -o, --output FILE          export-public: write to FILE\n"
    CLI_COMMON_HELP;

enum {
    OPT_ADD = 1,
    OPT_LABEL = 2,
    OPT_NEWPASS = 4,
    OPT_FORCE = 8,
    OPT_AGE = 16,
    OPT_K = 32,
    OPT_N = 64,
    OPT_OUT = 128,
    OPT_COST = 256
};

struct key_args {
    struct cli c;
    unsigned given; /* OPT_* seen */
    const char *label, *newpass, *age, *out;
    uint64_t k, n, ops, mem;
    int add, force;
    char **pos; /* positional arguments after the subcommand */
    int npos;
};

static int
parse(struct key_args *a, int argc, char **argv, unsigned allowed)
{
    static const struct option opts[] = {
        {"add", no_argument, NULL, 'A'},
        {"label", required_argument, NULL, 'L'},
        {"new-passphrase-file", required_argument, NULL, 'P'},
        {"force", no_argument, NULL, 'f'},
        {"age", required_argument, NULL, 'a'},
        {"threshold", required_argument, NULL, 'k'},
        {"shares", required_argument, NULL, 'n'},
        {"output", required_argument, NULL, 'o'},
        {"argon2-passes", required_argument, NULL, 'p'},
        {"argon2-memory", required_argument, NULL, 'm'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    int opt;
    unsigned bit;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("%s%s", usage, help);
            return -1;
        case 'A':
            bit = OPT_ADD;
            a->add = 1;
            break;
        case 'L':
            bit = OPT_LABEL;
            a->label = optarg;
            break;
        case 'P':
            bit = OPT_NEWPASS;
            a->newpass = optarg;
            break;
        case 'f':
            bit = OPT_FORCE;
            a->force = 1;
            break;
        case 'a':
            bit = OPT_AGE;
            a->age = optarg;
            break;
        case 'k':
        case 'n':
            bit = opt == 'k' ? OPT_K : OPT_N;
            if (cli_parse_u64(optarg, opt == 'k' ? &a->k : &a->n) != 0 ||
                (opt == 'k' ? a->k : a->n) > 255) {
                return cli_usage_error(&a->c, usage, "--%s takes 1 to 255",
                                       opt == 'k' ? "threshold" : "shares");
            }
            break;
        case 'o':
            bit = OPT_OUT;
            a->out = optarg;
            break;
        case 'p':
            bit = OPT_COST;
            if (cli_parse_u64(optarg, &a->ops) != 0 || a->ops < 1 ||
                a->ops > 1000) {
                return cli_usage_error(&a->c, usage,
                                       "--argon2-passes takes 1 to 1000");
            }
            break;
        case 'm':
            bit = OPT_COST;
            if (cli_parse_u64(optarg, &a->mem) != 0 || a->mem < 1 ||
                a->mem > 4096) {
                return cli_usage_error(&a->c, usage,
                                       "--argon2-memory takes 1 to 4096 MiB");
            }
            a->mem *= 1024;
            break;
        default:
            if (cli_common_option(&a->c, opt, optarg) == 1) {
                continue;
            }
            return cli_bad_option(&a->c, usage, argc, argv);
        }
        if (!(allowed & bit)) {
            return cli_usage_error(&a->c, usage,
                                   "'%s' does not apply to key %s",
                                   argv[optind - 1], argv[0]);
        }
        a->given |= bit;
    }
    a->pos = argv + optind;
    a->npos = argc - optind;
    return EXIT_OK;
}

/* The new passphrase: --new-passphrase-file, else asked twice on the
 * terminal (never the environment's: that file opened the vault). */
static int
new_passphrase(struct key_args *a, char **pass, size_t *len)
{
    struct cli n = a->c;

    n.pass_file = a->newpass;
    n.pass_fd = -1;
    n.no_env = 1;
    return cli_passphrase(&n, "New passphrase: ", 1, pass, len);
}

static int
print_slot(void *ctx, const ev_slot_info *s)
{
    struct key_args *a = ctx;
    char when[32] = "";

    if (s->added_at > 0) {
        cli_format_time(when, sizeof when, s->added_at);
    }
    if (a->c.json) {
        json_t *o = json_object();
        char *js;
        json_object_set_new(o, "slot", json_integer(s->id));
        json_object_set_new(o, "kind", json_string(ev_slot_kind_name(s->kind)));
        json_object_set_new(o, "label", json_string(s->label));
        json_object_set_new(o, "added_at", json_string(when));
        json_object_set_new(o, "added_by", json_string(s->added_by));
        json_object_set_new(o, "current", json_boolean(s->current));
        if (s->kind == EV_SLOT_MEMBER) {
            json_object_set_new(o, "recipient", json_string(s->recipient));
        }
        if (s->kind == EV_SLOT_TRUSTEE) {
            json_object_set_new(o, "threshold", json_integer(s->threshold));
            json_object_set_new(o, "shares", json_integer(s->shares));
        }
        js = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (js != NULL) {
            puts(js);
            free(js);
        }
        return 0;
    }
    printf("%-5lld %-15s %-21s ", (long long)s->id, ev_slot_kind_name(s->kind),
           when[0] ? when : "-");
    cli_put_name(stdout, s->added_by[0] ? s->added_by : "-");
    fputs("  ", stdout);
    if (s->kind == EV_SLOT_TRUSTEE && s->threshold > 0) {
        printf("%d of %d%s", s->threshold, s->shares, s->label[0] ? ", " : "");
    }
    cli_put_name(stdout, s->label[0] || s->kind == EV_SLOT_TRUSTEE ? s->label
                                                                   : "-");
    printf("%s\n", s->current ? "  (opened this session)" : "");
    return 0;
}

static int
key_ls(struct key_args *a, ev_vault *v)
{
    if (!a->c.json) {
        printf("%-5s %-15s %-21s %s\n", "SLOT", "KIND", "ADDED",
               "BY  LABEL");
    }
    return ev_key_list(v, print_slot, a) == EV_OK ? EXIT_OK
                                                  : cli_fail(&a->c, v, 1);
}

static int
key_passphrase(struct key_args *a, ev_vault *v)
{
    char *pass = NULL;
    size_t len = 0;
    int64_t slot = 0;
    int rc, ex = new_passphrase(a, &pass, &len);

    if (ex != EXIT_OK) {
        return ex;
    }
    rc = ev_key_add_passphrase(v, pass, len, a->label, !a->add, a->ops,
                               a->mem, &slot);
    ev_secret_free(pass);
    if (rc != EV_OK) {
        return cli_fail(&a->c, v, rc);
    }
    fprintf(stderr, a->add ? "Passphrase added (slot %lld).\n"
                           : "Passphrase changed (slot %lld).\n",
            (long long)slot);
    return EXIT_OK;
}

static int
key_rm(struct key_args *a, ev_vault *v)
{
    int64_t slot;
    int rc;

    if (cli_parse_id(a->pos[0], &slot) != 0) {
        return cli_usage_error(&a->c, usage, "'%s' is not a slot number",
                               a->pos[0]);
    }
    rc = ev_key_remove(v, slot, a->force);
    if (rc != EV_OK) {
        return cli_fail(&a->c, v, rc);
    }
    fprintf(stderr, "Slot %lld removed.\n", (long long)slot);
    return EXIT_OK;
}

static void
show_recovery(const struct key_args *a, const char *key)
{
    if (a->c.json) {
        printf("{\"recovery_key\":\"%s\"}\n", key);
        return;
    }
    fprintf(stderr, "\nNew recovery key (the old one no longer opens the "
                    "vault).  Write it on paper\nand keep it away from "
                    "this computer; it is shown only this once:\n\n");
    printf("    %s\n\n", key);
}

/* The new recovery key reached the screen (or the JSON reader): the
 * vault stops warning that it may not have. */
static void
shown(ev_vault *v)
{
    if (fflush(stdout) != 0 || ev_keys_seen(v) != EV_OK) {
        fprintf(stderr, "evault: warning: could not note that the new "
                        "recovery key was shown: %s\n",
                ev_vault_errmsg(v));
    }
}

static int
key_recovery(struct key_args *a, ev_vault *v)
{
    char key[EV_RECOVERY_KEY_CHARS + 1];
    int rc = ev_key_new_recovery(v, key);

    if (rc != EV_OK) {
        return cli_fail(&a->c, v, rc);
    }
    show_recovery(a, key);
    ev_secret_wipe(key, sizeof key);
    shown(v);
    return EXIT_OK;
}

static int
key_member(struct key_args *a, ev_vault *v)
{
    const char *what = a->pos[0], *name = a->pos[1];
    int rc;

    if (strcmp(what, "add") == 0) {
        if (a->age == NULL) {
            return cli_usage_error(&a->c, usage,
                                   "member add needs --age age1...");
        }
        rc = ev_key_member_add(v, name, a->age);
        if (rc == EV_OK) {
            fprintf(stderr, "Member '%s' added: they open the vault with "
                            "'evault COMMAND --identity THEIR-KEY-FILE'.\n",
                    name);
        }
    } else {
        rc = ev_key_member_remove(v, name);
        if (rc == EV_OK) {
            fprintf(stderr, "Member '%s' removed: their identity opens "
                            "nothing now.\n", name);
            fprintf(stderr, "hint: if they may have copied the unlocked "
                            "vault's master key, run evault key rotate\n");
        }
    }
    return rc == EV_OK ? EXIT_OK : cli_fail(&a->c, v, rc);
}

static void
show_shares(const struct key_args *a, const char *lines, int k, int n)
{
    if (a->c.json) {
        json_t *arr = json_array();
        const char *p = lines;
        char *js;
        while (*p != '\0') {
            const char *e = strchr(p, '\n');
            json_array_append_new(arr, json_stringn(p, (size_t)(e - p)));
            p = e + 1;
        }
        js = json_dumps(arr, JSON_COMPACT);
        json_decref(arr);
        if (js != NULL) {
            printf("{\"threshold\":%d,\"shares\":%s}\n", k, js);
            ev_secret_wipe(js, strlen(js));
            free(js);
        }
        return;
    }
    fprintf(stderr, "\n%d trustee shares; any %d of them open the vault "
                    "(evault recover).\nGive each trustee one line, on "
                    "paper, through separate channels.\nThey are shown "
                    "only this once.\n\n", n, k);
    fputs(lines, stdout);
    fputc('\n', stdout);
}

static int
key_shares(struct key_args *a, ev_vault *v)
{
    char *lines = NULL;
    int rc;

    if (!(a->given & OPT_K) || !(a->given & OPT_N)) {
        return cli_usage_error(&a->c, usage,
                               "shares needs --threshold K and --shares N");
    }
    if (a->k < 2 || a->k > a->n) {
        return cli_usage_error(&a->c, usage,
                               "the threshold must be 2 to the number of "
                               "shares");
    }
    rc = ev_key_shares(v, (int)a->k, (int)a->n, a->label, &lines);
    if (rc != EV_OK) {
        return cli_fail(&a->c, v, rc);
    }
    show_shares(a, lines, (int)a->k, (int)a->n);
    ev_secret_free(lines);
    return EXIT_OK;
}

static int
key_rotate(struct key_args *a, ev_vault *v)
{
    char key[EV_RECOVERY_KEY_CHARS + 1];
    char *pass = NULL, *lines = NULL;
    size_t len = 0;
    int k = 0, n = 0, rc, ex = new_passphrase(a, &pass, &len);

    if (ex != EXIT_OK) {
        return ex;
    }
    rc = ev_key_rotate(v, pass, len, a->ops, a->mem, key, &lines, &k, &n);
    ev_secret_free(pass);
    if (rc != EV_OK) {
        return cli_fail(&a->c, v, rc);
    }
    fprintf(stderr, "New master key: every key slot was re-made; the new "
                    "passphrase opens the vault.\n");
    show_recovery(a, key);
    ev_secret_wipe(key, sizeof key);
    if (lines != NULL) {
        show_shares(a, lines, k, n);
        ev_secret_free(lines);
    }
    shown(v);
    return EXIT_OK;
}

static int
key_export(struct key_args *a, ev_vault *v)
{
    char key[256], line[260];
    int rc = ev_vault_public_key(v, key, sizeof key);

    if (rc != EV_OK) {
        return cli_fail(&a->c, v, rc);
    }
    snprintf(line, sizeof line, "%s\n", key);
    if (a->out != NULL) {
        return cli_write_new_file(&a->c, a->out, line, strlen(line));
    }
    fputs(line, stdout);
    return EXIT_OK;
}

static const struct {
    const char *name;
    int (*run)(struct key_args *a, ev_vault *v);
    unsigned allowed;
    int npos; /* arguments after the subcommand's name */
} subs[] = {
    {"ls", key_ls, 0, 0},
    {"passphrase", key_passphrase, OPT_ADD | OPT_LABEL | OPT_NEWPASS | OPT_COST,
     0},
    {"rm", key_rm, OPT_FORCE, 1},
    {"recovery", key_recovery, 0, 0},
    {"member", key_member, OPT_AGE, 2},
    {"shares", key_shares, OPT_K | OPT_N | OPT_LABEL, 0},
    {"rotate", key_rotate, OPT_NEWPASS | OPT_COST, 0},
    {"export-public", key_export, OPT_OUT, 0},
};

int
cmd_key(int argc, char **argv)
{
    struct key_args a;
    ev_vault *v;
    size_t i;
    int ex;

    memset(&a, 0, sizeof a);
    a.c.cmd = "key";
    a.c.pass_fd = -1;
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
                      strcmp(argv[1], "--help") == 0)) {
        printf("%s%s", usage, help);
        return EXIT_OK;
    }
    if (argc < 2) {
        return cli_usage_error(&a.c, usage, "which key command?");
    }
    for (i = 0; i < sizeof subs / sizeof *subs; i++) {
        if (strcmp(argv[1], subs[i].name) == 0) {
            break;
        }
    }
    if (i == sizeof subs / sizeof *subs) {
        return cli_usage_error(&a.c, usage, "unknown key command '%s'",
                               argv[1]);
    }
    ex = parse(&a, argc - 1, argv + 1, subs[i].allowed);
    if (ex != EXIT_OK) {
        return ex < 0 ? EXIT_OK : ex;
    }
    if (a.npos != subs[i].npos ||
        (subs[i].run == key_member && strcmp(a.pos[0], "add") != 0 &&
         strcmp(a.pos[0], "rm") != 0)) {
        return cli_usage_error(
            &a.c, usage, "%s",
            subs[i].run == key_member
                ? "key member takes 'add NAME --age age1...' or 'rm NAME'"
            : subs[i].run == key_rm
                ? "key rm takes one slot number (see 'evault key ls')"
                : "this key command takes no arguments, only options");
    }
    ex = cli_open(&a.c, &v);
    if (ex != EXIT_OK) {
        return ex;
    }
    ex = subs[i].run(&a, v);
    ev_vault_free(v);
    return ex;
}
