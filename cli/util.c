/*
 * util.c - the helpers every subcommand uses (see cli.h): messages, exit
 * codes, passphrase input, opening the vault, progress and output.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PASS_MAX 1024

int
cli_exit_code(int status)
{
    switch (status) {
    case EV_OK:
        return EXIT_OK;
    case EV_ECORRUPT:
        return EXIT_INTEGRITY;
    case EV_EINVAL:
        return EXIT_USAGE;
    case EV_EKEY:
    case EV_EDENIED:
        return EXIT_KEY;
    case EV_EBUSY:
        return EXIT_BUSY;
    default:
        return EXIT_OPERATIONAL;
    }
}

static void
json_error(int status, const char *msg)
{
    json_t *o = json_pack("{s:{s:i,s:s,s:s}}", "error", "code",
                          cli_exit_code(status), "status", ev_strerror(status),
                          "message", msg);
    char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

    if (s != NULL) {
        printf("%s\n", s);
        free(s);
    }
    json_decref(o);
}

static int verror(struct cli *c, int status, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static int
verror(struct cli *c, int status, const char *fmt, va_list ap)
{
    char msg[1400];

    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, "evault: error: %s\n", msg);
    if (c != NULL && c->json) {
        json_error(status, msg);
    }
    return cli_exit_code(status);
}

int
cli_error(struct cli *c, int status, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = verror(c, status, fmt, ap);
    va_end(ap);
    return rc;
}

void
cli_hint(const char *fmt, ...)
{
    va_list ap;

    fputs("hint: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void
cli_note_swept(const char *path, unsigned n)
{
    if (n == 0) {
        return;
    }
    fprintf(stderr, "note: removed %u unfinished file(s) that an interrupted "
                    "'evault get' or 'evault open' left beside '", n);
    cli_put_name(stderr, path);
    fprintf(stderr, "'\n");
}

int
cli_fail(struct cli *c, ev_vault *v, int status)
{
    const char *detail = ev_vault_errmsg(v);
    int rc;

    if (detail == NULL || detail[0] == '\0') {
        detail = ev_strerror(status);
    }
    rc = cli_error(c, status, "%s", detail);
    if (ev_vault_hint(v)[0] != '\0') {
        cli_hint("%s", ev_vault_hint(v));
        return rc;
    }
    switch (status) {
    case EV_EKEY:
        if (strstr(detail, "locked down") == NULL &&
            strstr(detail, "share") == NULL) {
            cli_hint(c->identity != NULL
                         ? "check that this identity was added with evault "
                           "key member add"
                         : "check the passphrase (or the recovery key) and "
                           "try again");
        }
        break;
    case EV_ENOENT:
        if (strncmp(detail, "no record ", 10) == 0) {
            cli_hint("'evault ls' lists the records and their ids");
        }
        break;
    case EV_EBUSY:
        cli_hint("another evault command is writing to this vault; try again "
                 "when it is done");
        break;
    case EV_ENOTVAULT:
        cli_hint("name the vault with --vault DIR or EVAULT_DIR, or create "
                 "one with 'evault init DIR'");
        break;
    case EV_ENOSPC:
        cli_hint("free some disk space; nothing already added was lost");
        break;
    case EV_ECORRUPT:
        cli_hint("run 'evault check --read-data' to list every damaged "
                 "record");
        break;
    default:
        break;
    }
    return rc;
}

int
cli_usage_error(struct cli *c, const char *usage, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    verror(c, EV_EINVAL, fmt, ap);
    va_end(ap);
    fputs(usage, stderr);
    return EXIT_USAGE;
}

int
cli_bad_option(struct cli *c, const char *usage, int argc, char **argv)
{
    const char *opt = optind > 0 && optind <= argc ? argv[optind - 1] : "?";

    if (optopt != 0 && optopt < 128) {
        return cli_usage_error(c, usage, "unknown option or missing value: "
                                         "'-%c'", optopt);
    }
    /* An option that took a value: name both ('--vault X', not 'X'). */
    if (optind >= 2 && optind <= argc && opt[0] != '-' &&
        strncmp(argv[optind - 2], "--", 2) == 0 &&
        strchr(argv[optind - 2], '=') == NULL) {
        return cli_usage_error(c, usage,
                               "unknown option or bad value: '%s %s'",
                               argv[optind - 2], opt);
    }
    return cli_usage_error(c, usage, "unknown option or bad value: '%s'",
                           opt);
}

void
cli_put_name(FILE *f, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, f);
    }
}

int
cli_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s < '0' || *s > '9') {
        return -1;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0') {
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

int
cli_parse_id(const char *s, int64_t *id)
{
    uint64_t v;

    if (cli_parse_u64(s, &v) != 0 || v == 0 || v > INT64_MAX) {
        return -1;
    }
    *id = (int64_t)v;
    return 0;
}

int
cli_common_option(struct cli *c, int opt, const char *arg)
{
    uint64_t fd;

    switch (opt) {
    case CLI_OPT_VAULT:
        c->vault_dir = arg;
        return 1;
    case CLI_OPT_PASSFILE:
        c->pass_file = arg;
        return 1;
    case CLI_OPT_PASSFD:
        if (cli_parse_u64(arg, &fd) != 0 || fd > 1024) {
            return -1;
        }
        c->pass_fd = (int)fd;
        return 1;
    case CLI_OPT_JSON:
        c->json = 1;
        return 1;
    case CLI_OPT_OPERATOR:
        c->operator_ = arg;
        return 1;
    case CLI_OPT_IDENTITY:
        c->identity = arg;
        return 1;
    default:
        return 0;
    }
}

/* Reads one line (without its end) from fd into buf; returns its length,
 * -1 on a read error, -2 when longer than cap - 1, -4 at the end of input.  Reads byte by byte so nothing past the line is consumed. */
static long
read_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;

    for (;;) {
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0 || ch == '\n') {
            if (r < 0) {
                return -1;
            }
            if (r == 0 && n == 0) {
                return -4; /* the end of input, not an empty line */
            }
            break;
        }
        if (n + 1 >= cap) {
            return -2;
        }
        buf[n++] = ch;
    }
    if (n > 0 && buf[n - 1] == '\r') {
        n--;
    }
    buf[n] = '\0';
    return (long)n;
}

static long
read_tty(const char *prompt, char *buf, size_t cap)
{
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    struct termios old, quiet;
    long n;

    if (fd < 0) {
        return -3;
    }
    if (tcgetattr(fd, &old) != 0) {
        close(fd);
        return -3;
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    if (write(fd, prompt, strlen(prompt)) < 0 ||
        tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
        close(fd);
        return -3;
    }
    n = read_line(fd, buf, cap);
    tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\n", 1) < 0) {
        n = -1;
    }
    close(fd);
    return n;
}

int
cli_passphrase(struct cli *c, const char *prompt, int confirm, char **pass,
               size_t *len)
{
    const char *file = c->pass_file;
    char *buf = ev_secret_alloc(PASS_MAX), *again = NULL;
    long n;

    *pass = NULL;
    if (buf == NULL) {
        return cli_error(c, EV_ENOMEM, "cannot lock memory for the passphrase");
    }
    if (file == NULL && c->pass_fd < 0 && !c->no_env) {
        file = getenv("EVAULT_PASSPHRASE_FILE");
        if (file != NULL && file[0] == '\0') {
            file = NULL;
        }
    }
    if (file != NULL) {
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            ev_secret_free(buf);
            return cli_error(c, EV_EIO, "cannot open passphrase file '%s': %s",
                             file, strerror(errno));
        }
        n = read_line(fd, buf, PASS_MAX);
        close(fd);
    } else if (c->pass_fd >= 0) {
        n = read_line(c->pass_fd, buf, PASS_MAX);
    } else {
        n = read_tty(prompt, buf, PASS_MAX);
        if (n >= 0 && confirm) {
            again = ev_secret_alloc(PASS_MAX);
            if (again == NULL ||
                read_tty("Repeat the passphrase: ", again, PASS_MAX) != n ||
                memcmp(buf, again, (size_t)n) != 0) {
                ev_secret_free(again);
                ev_secret_free(buf);
                return cli_error(c, EV_EINVAL,
                                 "the two passphrases differ; nothing was "
                                 "created");
            }
            ev_secret_free(again);
        }
    }
    if (n == -3) {
        ev_secret_free(buf);
        cli_error(c, EV_EINVAL, "a passphrase is needed and there is no "
                                "terminal to ask for it");
        cli_hint("use --passphrase-file FILE or set EVAULT_PASSPHRASE_FILE");
        return EXIT_USAGE;
    }
    if (n == -2) {
        ev_secret_free(buf);
        return cli_error(c, EV_EINVAL, "the passphrase is longer than %d bytes",
                         PASS_MAX - 1);
    }
    if (n <= 0) {
        ev_secret_free(buf);
        return cli_error(c, EV_EINVAL, "the passphrase is empty");
    }
    *pass = buf;
    *len = (size_t)n;
    return EXIT_OK;
}

static const char *
vault_dir(struct cli *c)
{
    const char *d = c->vault_dir;

    if (d == NULL) {
        d = getenv("EVAULT_DIR");
    }
    if (d == NULL || d[0] == '\0') {
        d = ".";
    }
    return d;
}

long
cli_read_secret_line(const char *prompt, char *buf, size_t cap)
{
    long n;

    n = isatty(0) ? read_tty(prompt, buf, cap) : read_line(0, buf, cap);
    return n == -2 ? -2 : n < 0 ? -1 : n;
}

int
cli_open_locked(struct cli *c, ev_vault **out)
{
    ev_vault *v = NULL;
    int rc, ex;

    *out = NULL;
    rc = ev_vault_new(&v);
    if (rc != EV_OK) {
        ev_vault_free(v);
        return cli_error(c, rc, "cannot start: %s", ev_strerror(rc));
    }
    rc = ev_vault_open(v, vault_dir(c));
    if (rc != EV_OK) {
        ex = cli_fail(c, v, rc);
        ev_vault_free(v);
        return ex;
    }
    *out = v;
    return EXIT_OK;
}

#define IDENTITY_MAX 65536

int
cli_read_identity(struct cli *c, const char *path, char **out, size_t *len)
{
    char *text = ev_secret_alloc(IDENTITY_MAX), *plain = NULL, *pass = NULL;
    size_t plen = 0, plain_len = 0;
    long n = 0;
    int fd, rc, age_err, ex, kind;

    *out = NULL;
    *len = 0;
    if (text == NULL) {
        return cli_error(c, EV_ENOMEM, "cannot lock memory for a key");
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ev_secret_free(text);
        return cli_error(c, EV_EIO, "cannot open identity file '%s': %s",
                         path, strerror(errno));
    }
    for (;;) {
        ssize_t r = read(fd, text + n, (size_t)(IDENTITY_MAX - n));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            n = r < 0 ? -1 : n;
            break;
        }
        n += r;
        if (n == IDENTITY_MAX) {
            n = -2;
            break;
        }
    }
    close(fd);
    if (n < 0) {
        ev_secret_free(text);
        return cli_error(c, EV_EINVAL, "cannot read identity file '%s': %s",
                         path, n == -2 ? "larger than 64 KiB"
                                       : strerror(errno));
    }
    kind = ev_age_identity_kind(text, (size_t)n, &age_err);
    if (kind == EV_IDENTITY_CLEAR) {
        *out = text;
        *len = (size_t)n;
        return EXIT_OK;
    }
    if (kind != EV_IDENTITY_PASSPHRASE) {
        ev_secret_free(text);
        if (kind == EV_IDENTITY_FOR_KEY) {
            cli_error(c, EV_EINVAL, "identity file '%s' is encrypted to an "
                                    "age key, not to a passphrase",
                      path);
            cli_hint("decrypt it with that key first, or protect it with "
                     "'age -p'");
            return EXIT_USAGE;
        }
        return cli_error(c, EV_EINVAL, "identity file '%s' is damaged: %s",
                         path, ev_age_error_text(age_err));
    }
    /* Protected with a passphrase (age -p): its passphrase comes from
     * --passphrase-file or -fd, else the terminal, and only then from
     * $EVAULT_PASSPHRASE_FILE (which usually holds the vault's). */
    {
        int no_env = c->no_env;
        int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (tty >= 0) {
            c->no_env = 1;
            close(tty);
        }
        ex = cli_passphrase(c, "Passphrase of the identity file: ", 0, &pass,
                            &plen);
        c->no_env = no_env;
    }
    if (ex != EXIT_OK) {
        ev_secret_free(text);
        return ex;
    }
    rc = ev_age_identity_decrypt(text, (size_t)n, pass, plen, &plain,
                                 &plain_len, &age_err);
    ev_secret_free(pass);
    ev_secret_free(text);
    if (rc == EV_EKEY) {
        return cli_error(c, rc, "wrong passphrase for identity file '%s'",
                         path);
    }
    if (rc != EV_OK) {
        return cli_error(c, rc, "cannot decrypt identity file '%s': %s", path,
                         age_err != 0 ? ev_age_error_text(age_err)
                                      : "larger than 64 KiB");
    }
    *out = plain;
    *len = plain_len;
    return EXIT_OK;
}

/* Unlocks with the age identity file named by --identity or
 * $EVAULT_IDENTITY_FILE.  Exit code. */
static int
unlock_identity(struct cli *c, ev_vault *v, const char *path)
{
    char *text;
    size_t n;
    int rc, ex = cli_read_identity(c, path, &text, &n);

    if (ex != EXIT_OK) {
        return ex;
    }
    rc = ev_vault_unlock_identity(v, text, n);
    ev_secret_free(text);
    if (rc != EV_OK) {
        if (rc == EV_EINVAL) {
            return cli_error(c, rc, "'%s': %s", path, ev_vault_errmsg(v));
        }
        return cli_fail(c, v, rc);
    }
    return EXIT_OK;
}

static int
open_vault(struct cli *c, ev_vault **out, int begin)
{
    ev_vault *v = NULL;
    const char *identity = c->identity;
    char *pass = NULL;
    size_t len = 0;
    int rc, ex;

    *out = NULL;
    ex = cli_open_locked(c, &v);
    if (ex != EXIT_OK) {
        return ex;
    }
    if (identity == NULL && c->pass_file == NULL && c->pass_fd < 0) {
        identity = getenv("EVAULT_IDENTITY_FILE");
        if (identity != NULL && identity[0] == '\0') {
            identity = NULL;
        }
    }
    if (identity != NULL) {
        ex = unlock_identity(c, v, identity);
        if (ex != EXIT_OK) {
            ev_vault_free(v);
            return ex;
        }
    } else {
        ex = cli_passphrase(c, "Passphrase: ", 0, &pass, &len);
        if (ex != EXIT_OK) {
            ev_vault_free(v);
            return ex;
        }
        rc = begin ? ev_vault_unlock_passphrase_begin(v, pass, len)
                   : ev_vault_unlock_passphrase(v, pass, len);
        ev_secret_free(pass);
        if (rc != EV_OK) {
            ex = cli_fail(c, v, rc);
            ev_vault_free(v);
            return ex;
        }
    }
    {
        const char *op = c->operator_ != NULL ? c->operator_
                                              : getenv("EVAULT_OPERATOR");
        if (op != NULL && op[0] != '\0' &&
            (rc = ev_vault_set_operator(v, op)) != EV_OK) {
            ex = cli_fail(c, v, rc);
            ev_vault_free(v);
            return ex;
        }
    }
    {
        int unseen = 0;
        if (ev_keys_unseen(v, &unseen) == EV_OK && unseen) {
            fprintf(stderr,
                    "evault: warning: the last new recovery key (from 'key "
                    "rotate' or 'key recovery') may never have been shown: "
                    "the command was stopped before it printed it, and the "
                    "old recovery key no longer opens the vault\n");
            cli_hint("run 'evault key recovery' now and write the new key "
                     "down (after a rotation, also 'evault key shares' for "
                     "each trustee set)");
        }
    }
    if (isatty(2)) {
        ev_vault_set_progress(v, cli_progress, NULL);
    }
    *out = v;
    return EXIT_OK;
}

int
cli_open(struct cli *c, ev_vault **out)
{
    return open_vault(c, out, 0);
}

int
cli_open_begin(struct cli *c, ev_vault **out)
{
    return open_vault(c, out, 1);
}

static int progress_shown;

void
cli_format_size(char *out, size_t len, uint64_t n)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double x = (double)n;
    int u = 0;

    while (x >= 1024 && u < 4) {
        x /= 1024;
        u++;
    }
    if (u == 0) {
        snprintf(out, len, "%llu B", (unsigned long long)n);
    } else {
        snprintf(out, len, "%.1f %s", x, units[u]);
    }
}

void
cli_progress(void *ctx, uint64_t done, uint64_t total)
{
    static struct timespec last;
    struct timespec now;
    char a[32], b[32];

    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (progress_shown && (now.tv_sec - last.tv_sec) * 1000 +
                                  (now.tv_nsec - last.tv_nsec) / 1000000 <
                              200) {
        return;
    }
    last = now;
    progress_shown = 1;
    if (total > 0) {
        cli_format_size(a, sizeof a, done);
        cli_format_size(b, sizeof b, total);
        fprintf(stderr, "\r%3d%%  %s of %s   ",
                (int)(done * 100 / (total ? total : 1)), a, b);
    } else {
        fprintf(stderr, "\r%llu done   ", (unsigned long long)done);
    }
}

void
cli_progress_end(void)
{
    if (progress_shown) {
        fputs("\r\033[K", stderr);
        progress_shown = 0;
    }
}

const char *
cli_state_name(int state)
{
    switch (state) {
    case EV_STATE_ACTIVE:
        return "active";
    case EV_STATE_SEALED:
        return "sealed";
    case EV_STATE_DESTROYED:
        return "destroyed";
    default:
        return "unknown";
    }
}

void
cli_format_time(char *out, size_t len, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL ||
        strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(out, len, "%lld", (long long)t);
    }
}

static void
put_str(json_t *o, const char *k, const char *s)
{
    json_object_set_new(o, k, s != NULL ? json_string(s) : json_null());
}

void
cli_print_record_json(FILE *f, const ev_record *r)
{
    json_t *o = json_object(), *tags = json_array();
    char hex[65], when[32], *s;

    json_object_set_new(o, "id", json_integer(r->id));
    put_str(o, "name", r->name);
    put_str(o, "path", r->path);
    put_str(o, "kind", r->kind);
    put_str(o, "case", r->case_name);
    put_str(o, "source", r->source);
    for (size_t i = 0; i < r->ntags; i++) {
        json_array_append_new(tags, json_string(r->tags[i]));
    }
    json_object_set_new(o, "tags", tags);
    put_str(o, "note", r->note);
    put_str(o, "captured_at", r->captured_at);
    put_str(o, "location", r->location);
    ev_hex(hex, r->sha256, sizeof r->sha256);
    json_object_set_new(o, "sha256", json_string(hex));
    json_object_set_new(o, "size", json_integer((json_int_t)r->size));
    json_object_set_new(o, "state", json_string(cli_state_name(r->state)));
    cli_format_time(when, sizeof when, r->added_at);
    json_object_set_new(o, "added_at", json_string(when));
    json_object_set_new(o, "hash_only", json_boolean(r->hash_only));
    if (r->same_as > 0) {
        json_object_set_new(o, "same_as", json_integer(r->same_as));
    } else {
        json_object_set_new(o, "same_as", json_null());
    }
    s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s != NULL) {
        fprintf(f, "%s\n", s);
        free(s);
    }
    json_decref(o);
}

int
cli_ids_add(void *ctx, const ev_record *r)
{
    struct cli_ids *ids = ctx;
    int64_t *nv = realloc(ids->v, (ids->n + 1) * sizeof *nv);

    if (nv == NULL) {
        return 1;
    }
    ids->v = nv;
    ids->v[ids->n++] = r->id;
    return 0;
}

int
cli_ids_from_args(struct cli *c, const char *usage, struct cli_ids *ids,
                  int argc, char **argv, int from)
{
    for (int i = from; i < argc; i++) {
        ev_record r;
        memset(&r, 0, sizeof r);
        if (cli_parse_id(argv[i], &r.id) != 0) {
            return cli_usage_error(c, usage, "'%s' is not a record id",
                                   argv[i]);
        }
        if (cli_ids_add(ids, &r) != 0) {
            return cli_error(c, EV_ENOMEM, "out of memory");
        }
    }
    return EXIT_OK;
}
