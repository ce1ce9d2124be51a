/*
 * cmd_log.c - `evault log [--record ID]`: the chain of custody.
 */
#include "cli.h"
#include "commands.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] = "usage: evault log [--record ID] [--json]\n";

static const char help[] =
    "\n"
    "Prints the custody log: every change to the vault and every access to\n"
    "a record's content or details (add, seal, amend, destroy, show, get,\n"
    "cat, proof, share, import, key changes...), in order, with its time,\n"
    "who did it and which records it touched.  Listing and searching are not\n"
    "logged.  With --record, only the entries that name that record (its\n"
    "chain of custody).\n"
    "\n"
    "Options:\n"
    "      --record ID            the chain of custody of one record\n"
    "      --json                 one JSON object per entry\n"
    CLI_COMMON_HELP;

static void
field(const char *text, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    const char *p = text;

    out[0] = '\0';
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t ll = nl != NULL ? (size_t)(nl - p) : strlen(p);
        if (ll > kl && strncmp(p, key, kl) == 0 && p[kl] == ' ') {
            size_t vl = ll - kl - 1 < cap - 1 ? ll - kl - 1 : cap - 1;
            memcpy(out, p + kl + 1, vl);
            out[vl] = '\0';
            return;
        }
        if (nl == NULL) {
            return;
        }
        p = nl + 1;
    }
}

struct log_out {
    struct cli *c;
    uint64_t n;
};

static int
print_entry(void *ctx, uint64_t seq, const char *text)
{
    struct log_out *o = ctx;
    char when[32], action[32], op[260], note[600], sha[80], records[512];
    const char *p = text;
    size_t rl = 0;

    o->n++;
    field(text, "time", when, sizeof when);
    field(text, "action", action, sizeof action);
    field(text, "operator", op, sizeof op);
    field(text, "note", note, sizeof note);
    field(text, "sha256", sha, sizeof sha);
    records[0] = '\0';
    while ((p = strstr(p, "record ")) != NULL) {
        if (p == text || p[-1] == '\n') {
            const char *e = strchr(p, '\n');
            size_t l = e != NULL ? (size_t)(e - p - 7) : strlen(p + 7);
            if (rl + l + 2 < sizeof records) {
                if (rl > 0) {
                    records[rl++] = ',';
                }
                memcpy(records + rl, p + 7, l);
                rl += l;
                records[rl] = '\0';
            }
        }
        p += 7;
    }
    if (o->c->json) {
        json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s}", "seq",
                              (json_int_t)seq, "time", when, "action", action,
                              "operator", op, "records", records, "sha256",
                              sha, "note", note);
        char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
        json_decref(j);
        return 0;
    }
    printf("%-5llu %s  %-7s", (unsigned long long)seq, when, action);
    if (records[0] != '\0') {
        printf("  record %s", records);
    }
    if (sha[0] != '\0') {
        printf("  sha256 %.16s…", sha);
    }
    if (op[0] != '\0') {
        printf("  by ");
        cli_put_name(stdout, op);
    }
    if (note[0] != '\0') {
        printf("  (");
        cli_put_name(stdout, note);
        printf(")");
    }
    printf("\n");
    return 0;
}

int
cmd_log(int argc, char **argv)
{
    static const struct option opts[] = {
        {"record", required_argument, NULL, 'r'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct cli c = {.cmd = "log", .pass_fd = -1};
    struct log_out out = {&c, 0};
    int64_t record = 0;
    ev_vault *v;
    int opt, rc, ex;

    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            printf("%s%s", usage, help);
            return EXIT_OK;
        case 'r':
            if (cli_parse_id(optarg, &record) != 0) {
                return cli_usage_error(&c, usage, "--record takes an id");
            }
            break;
        default:
            if (cli_common_option(&c, opt, optarg) == 1) {
                break;
            }
            return cli_bad_option(&c, usage, argc, argv);
        }
    }
    if (optind != argc) {
        return cli_usage_error(&c, usage, "unexpected argument '%s'",
                               argv[optind]);
    }
    ex = cli_open(&c, &v);
    if (ex != EXIT_OK) {
        return ex;
    }
    rc = ev_log_list(v, record, print_entry, &out);
    if (rc != EV_OK) {
        ex = cli_fail(&c, v, rc);
    } else if (record > 0 && out.n == 0) {
        ex = cli_error(&c, EV_ENOENT, "no custody entries name record %lld",
                       (long long)record);
    }
    ev_vault_free(v);
    return ex;
}
