/*
 * keys.c - managing the ways into a vault: key slots, trustee shares,
 * lockdown and recovery (slot formats in keyslot.h).
 *
 * Owns: the rules for which slots may go, and the custody entries of key
 * changes.
 * Never: leaves a removed slot's bytes in the catalog's write-ahead log
 * when it can help it: every removal ends with a truncating checkpoint.
 */
#include "keyslot.h"

#include "age.h"
#include "custody.h"
#include "rotate.h"
#include "shares.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
need_keys(ev_vault *v)
{
    return v->keys == NULL ? ev_fail(v, EV_ELOCKED, "vault is locked") : EV_OK;
}

const char *
ev_slot_kind_name(int kind)
{
    switch (kind) {
    case EV_SLOT_PASSPHRASE:
        return "passphrase";
    case EV_SLOT_RECOVERY:
        return "recovery key";
    case EV_SLOT_MEMBER:
        return "member";
    case EV_SLOT_TRUSTEE:
        return "trustee shares";
    default:
        return "unknown";
    }
}

/* The Argon2id cost for a new passphrase slot: what the caller asked, else
 * that of the passphrase slot that opened the handle, else the default. */
static void
slot_cost(const ev_vault *v, uint64_t *ops, uint64_t *mem_kib)
{
    int inherit = v->slot_kind == EV_SLOT_PASSPHRASE;

    if (*ops == 0) {
        *ops = inherit ? v->slot_ops : EV_ARGON2_OPS_DEFAULT;
    }
    if (*mem_kib == 0) {
        *mem_kib = inherit ? v->slot_mem : EV_ARGON2_MEM_KIB_DEFAULT;
    }
}

/* Key changes commit with the old pages nowhere in vault.db: a kill after
 * the commit must not leave a removed way in behind (catalog.c). */
static int
begin(ev_vault *v)
{
    int rc = ev_catalog_begin_direct(v->cat);

    return rc == EV_OK ? EV_OK
                       : ev_fail_catalog(v, rc, "cannot change the key slots");
}

/* Empties the WAL so a removed slot's old page survives nowhere in the
 * vault directory (after a commit). */
static int
flush_log(ev_vault *v)
{
    int unsynced = ev_catalog_unsynced(v->cat);
    int f = ev_catalog_checkpoint(v->cat);

    if (unsynced) {
        return ev_fail(v, EV_EIO,
                       "the key change is committed, but a crash now could "
                       "undo it: %s",
                       ev_catalog_errmsg(v->cat));
    }
    if (f != EV_OK) {
        return ev_fail_catalog(v, f,
                               "the key change is committed, but the "
                               "catalog's log still holds the old slot");
    }
    return EV_OK;
}

/* Commits (or rolls back when rc is an error), then flushes the log. */
static int
finish(ev_vault *v, int rc, int flush)
{
    if (rc == EV_OK) {
        rc = ev_catalog_commit(v->cat);
        if (rc != EV_OK) {
            rc = ev_fail_catalog(v, rc, "cannot commit the key change");
        }
    }
    if (rc != EV_OK) {
        ev_catalog_rollback(v->cat);
        return rc;
    }
    return flush ? flush_log(v) : EV_OK;
}

/* --- Reading the slots --- */

struct slots {
    ev_vault *v;
    ev_slot_info *s;
    size_t n, cap;
    int status;
};

static int
collect(void *arg, const ev_slot_row *row)
{
    struct slots *l = arg;

    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        ev_slot_info *p = realloc(l->s, cap * sizeof *p);
        if (p == NULL) {
            l->status = EV_ENOMEM;
            return 1;
        }
        l->s = p;
        l->cap = cap;
    }
    if (ev_keyslot_describe(l->v, row, &l->s[l->n++]) != EV_OK) {
        l->status = EV_ENOMEM;
        return 1;
    }
    return 0;
}

static int
load_slots(ev_vault *v, struct slots *l)
{
    int rc;

    memset(l, 0, sizeof *l);
    l->v = v;
    rc = ev_catalog_keyslot_each(v->cat, collect, l);
    if (rc == 1 || l->status != EV_OK) {
        free(l->s);
        return ev_fail(v, EV_ENOMEM, "out of memory");
    }
    if (rc != EV_OK) {
        free(l->s);
        return ev_fail_catalog(v, rc, "cannot read key slots");
    }
    return EV_OK;
}

static int
count_kinds(const struct slots *l, int kind1, int kind2)
{
    int n = 0;

    for (size_t i = 0; i < l->n; i++) {
        n += l->s[i].kind == kind1 || l->s[i].kind == kind2;
    }
    return n;
}

int
ev_key_list(ev_vault *v, ev_slot_fn fn, void *ctx)
{
    struct slots l;
    int rc = need_keys(v);

    if (rc != EV_OK || (rc = load_slots(v, &l)) != EV_OK) {
        return rc;
    }
    for (size_t i = 0; i < l.n; i++) {
        if (fn(ctx, &l.s[i]) != 0) {
            break;
        }
    }
    free(l.s);
    return EV_OK;
}

/* --- Changing them --- */

static int
log_key(ev_vault *v, const char *action, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
log_key(ev_vault *v, const char *action, const char *fmt, ...)
{
    char note[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(note, sizeof note, fmt, ap);
    va_end(ap);
    return ev_custody_append(v, action, NULL, 0, note, NULL);
}

int
ev_key_add_passphrase(ev_vault *v, const char *pass, size_t len,
                      const char *label, int replace, uint64_t ops,
                      uint64_t mem_kib, int64_t *slot)
{
    int64_t id = 0, old = v->slot_id;
    int rc = need_keys(v);

    if (rc != EV_OK) {
        return rc;
    }
    slot_cost(v, &ops, &mem_kib);
    replace = replace && v->slot_kind == EV_SLOT_PASSPHRASE;
    if ((rc = begin(v)) != EV_OK) {
        return rc;
    }
    rc = ev_keyslot_add_passphrase(v, pass, len, ops, mem_kib, label, &id);
    if (rc == EV_OK && replace) {
        rc = ev_catalog_keyslot_delete(v->cat, old);
        if (rc != EV_OK) {
            rc = ev_fail_catalog(v, rc, "cannot remove the old slot");
        }
    }
    if (rc == EV_OK) {
        rc = replace ? log_key(v, "key-passphrase",
                               "passphrase slot %lld replaces slot %lld",
                               (long long)id, (long long)old)
                     : log_key(v, "key-passphrase",
                               "passphrase slot %lld added", (long long)id);
    }
    rc = finish(v, rc, 0);
    if (rc != EV_OK) {
        return rc;
    }
    /* Committed: the handle now stands on the new slot, even if the
     * flush below fails (a later change must not look for the old). */
    v->slot_id = replace ? id : v->slot_id;
    if (slot != NULL) {
        *slot = id;
    }
    return replace ? flush_log(v) : EV_OK;
}

int
ev_key_remove(ev_vault *v, int64_t slot, int force)
{
    struct slots l;
    const ev_slot_info *s = NULL;
    int rc = need_keys(v), everyday;

    if (rc != EV_OK || (rc = load_slots(v, &l)) != EV_OK) {
        return rc;
    }
    for (size_t i = 0; i < l.n; i++) {
        if (l.s[i].id == slot) {
            s = &l.s[i];
        }
    }
    everyday = count_kinds(&l, EV_SLOT_PASSPHRASE, EV_SLOT_MEMBER);
    if (s == NULL) {
        rc = ev_fail(v, EV_ENOENT, "there is no key slot %lld (see evault "
                                   "key ls)", (long long)slot);
    } else if (!force && l.n == 1) {
        rc = ev_fail(v, EV_EINVAL,
                     "slot %lld is the last way into this vault: without "
                     "it nothing can ever open the vault again; --force "
                     "removes it anyway",
                     (long long)slot);
    } else if (!force && everyday == 1 &&
               (s->kind == EV_SLOT_PASSPHRASE || s->kind == EV_SLOT_MEMBER)) {
        rc = ev_fail(v, EV_EINVAL,
                     "slot %lld is the last passphrase or member key: "
                     "afterwards only the recovery key or trustee shares "
                     "open the vault (evault lockdown does that on "
                     "purpose); --force removes it anyway",
                     (long long)slot);
    }
    if (rc == EV_OK && (rc = begin(v)) == EV_OK) {
        rc = log_key(v, "key-remove", "slot %lld (%s%s%s) removed",
                     (long long)slot, ev_slot_kind_name(s->kind),
                     s->label[0] ? ": " : "", s->label);
        if (rc == EV_OK && (rc = ev_catalog_keyslot_delete(v->cat, slot)) !=
                               EV_OK) {
            rc = ev_fail_catalog(v, rc, "cannot remove the slot");
        }
        rc = finish(v, rc, 1);
    }
    free(l.s);
    return rc;
}

/* --- A new recovery key not yet shown --- */

/* In the transaction that makes a new recovery key: until the caller says
 * it was shown (ev_keys_seen), every unlock can warn that the only
 * recovery key may never have reached a human (a process killed between
 * the commit and the printing). */
static int
mark_unseen(ev_vault *v)
{
    int rc = ev_catalog_meta_put(v->cat, "keys_unseen", "1", 1);

    return rc == EV_OK ? EV_OK
                       : ev_fail_catalog(v, rc, "cannot change the key slots");
}

int
ev_keys_unseen(ev_vault *v, int *unseen)
{
    ev_bytes b = {NULL, 0};
    int rc;

    *unseen = 0;
    if (v->cat == NULL) {
        return ev_fail(v, EV_EINVAL, "no vault is open");
    }
    rc = ev_catalog_meta_get(v->cat, "keys_unseen", &b);
    ev_bytes_free(&b);
    if (rc == EV_OK) {
        *unseen = 1;
        return EV_OK;
    }
    return rc == EV_ENOENT ? EV_OK
                           : ev_fail_catalog(v, rc, "cannot read the catalog");
}

int
ev_keys_seen(ev_vault *v)
{
    int rc = need_keys(v);

    if (rc != EV_OK || (rc = begin(v)) != EV_OK) {
        return rc;
    }
    rc = ev_catalog_meta_delete(v->cat, "keys_unseen");
    if (rc != EV_OK) {
        rc = ev_fail_catalog(v, rc, "cannot change the key slots");
    }
    return finish(v, rc, 0);
}

int
ev_key_new_recovery(ev_vault *v, char recovery[EV_RECOVERY_KEY_CHARS + 1])
{
    struct slots l;
    int64_t id = 0;
    int rc = need_keys(v);

    if (rc != EV_OK || (rc = load_slots(v, &l)) != EV_OK) {
        return rc;
    }
    if ((rc = begin(v)) == EV_OK) {
        for (size_t i = 0; i < l.n && rc == EV_OK; i++) {
            if (l.s[i].kind == EV_SLOT_RECOVERY &&
                (rc = ev_catalog_keyslot_delete(v->cat, l.s[i].id)) !=
                    EV_OK) {
                rc = ev_fail_catalog(v, rc, "cannot remove the old slot");
            }
        }
        if (rc == EV_OK) {
            rc = ev_keyslot_add_recovery(v, recovery, &id);
        }
        if (rc == EV_OK) {
            rc = mark_unseen(v);
        }
        if (rc == EV_OK) {
            rc = log_key(v, "key-recovery",
                         "recovery key slot %lld replaces %d older",
                         (long long)id,
                         count_kinds(&l, EV_SLOT_RECOVERY, EV_SLOT_RECOVERY));
        }
        rc = finish(v, rc, 0);
        if (rc != EV_OK) {
            ev_wipe(recovery, EV_RECOVERY_KEY_CHARS + 1);
        } else {
            /* Committed: the new key is now the only recovery key, and
             * the caller must show it, so a failed flush (the old slot
             * stays in the log until the next checkpoint) is no failure
             * (as after a rotation). */
            (void)flush_log(v);
        }
    }
    free(l.s);
    return rc;
}

static const ev_slot_info *
find_member(const struct slots *l, const char *name, size_t from)
{
    for (size_t i = from; i < l->n; i++) {
        if (l->s[i].kind == EV_SLOT_MEMBER &&
            strcmp(l->s[i].label, name) == 0) {
            return &l->s[i];
        }
    }
    return NULL;
}

int
ev_key_member_add(ev_vault *v, const char *name, const char *recipient)
{
    struct slots l;
    uint8_t pk[32];
    int rc = need_keys(v);

    if (rc != EV_OK) {
        return rc;
    }
    if (ev_age_recipient_decode(pk, recipient) != 0) {
        return ev_fail(v, EV_EINVAL,
                       "'%s' is not an age recipient (age1..., as "
                       "age-keygen -y prints it)",
                       recipient);
    }
    if ((rc = load_slots(v, &l)) != EV_OK) {
        return rc;
    }
    if (find_member(&l, name, 0) != NULL) {
        free(l.s);
        return ev_fail(v, EV_EEXIST, "there is already a member named '%s'",
                       name);
    }
    free(l.s);
    if ((rc = begin(v)) != EV_OK) {
        return rc;
    }
    rc = ev_keyslot_add_member(v, name, pk, recipient, NULL);
    if (rc == EV_OK) {
        rc = log_key(v, "member-add", "member %s (%s)", name, recipient);
    }
    return finish(v, rc, 0);
}

int
ev_key_member_remove(ev_vault *v, const char *name)
{
    struct slots l;
    const ev_slot_info *m;
    int rc = need_keys(v), gone = 0;

    if (rc != EV_OK || (rc = load_slots(v, &l)) != EV_OK) {
        return rc;
    }
    m = find_member(&l, name, 0);
    if (m == NULL) {
        rc = ev_fail(v, EV_ENOENT, "there is no member named '%s' (see "
                                   "evault key ls)", name);
    } else {
        for (size_t i = 0; i < l.n; i++) {
            gone += l.s[i].kind == EV_SLOT_MEMBER &&
                    strcmp(l.s[i].label, name) == 0;
        }
        if (gone == count_kinds(&l, EV_SLOT_PASSPHRASE, EV_SLOT_MEMBER)) {
            rc = ev_fail(v, EV_EINVAL,
                         "member '%s' holds the last everyday way in: add "
                         "a passphrase first (evault key passphrase "
                         "--add), or use evault key rm --force",
                         name);
        }
    }
    if (rc == EV_OK && (rc = begin(v)) == EV_OK) {
        for (size_t i = 0; i < l.n && rc == EV_OK; i++) {
            if (l.s[i].kind == EV_SLOT_MEMBER &&
                strcmp(l.s[i].label, name) == 0 &&
                (rc = ev_catalog_keyslot_delete(v->cat, l.s[i].id)) !=
                    EV_OK) {
                rc = ev_fail_catalog(v, rc, "cannot remove the slot");
            }
        }
        if (rc == EV_OK) {
            rc = log_key(v, "member-remove", "member %s", name);
        }
        rc = finish(v, rc, 1);
    }
    free(l.s);
    return rc;
}

int
ev_key_shares(ev_vault *v, int k, int n, const char *label, char **lines)
{
    char(*tmp)[EV_SHARE_LINE_MAX] = NULL;
    uint8_t *secret = NULL, set[EV_SHARE_SET_BYTES];
    char *out = NULL;
    int rc = need_keys(v);

    *lines = NULL;
    if (rc != EV_OK) {
        return rc;
    }
    if (k < 2 || k > n || n > EV_SHARES_MAX) {
        return ev_fail(v, EV_EINVAL,
                       "shares need 2 <= threshold <= shares <= %d",
                       EV_SHARES_MAX);
    }
    secret = ev_secure_alloc(EV_TRUSTEE_SECRET_BYTES);
    tmp = ev_secure_alloc((size_t)n * sizeof *tmp);
    out = ev_secure_alloc((size_t)n * EV_SHARE_LINE_MAX + 1);
    if (secret == NULL || tmp == NULL || out == NULL) {
        rc = ev_fail(v, EV_ENOMEM, "cannot lock memory for the shares");
        goto done;
    }
    ev_random(secret, EV_TRUSTEE_SECRET_BYTES);
    ev_random(set, sizeof set);
    if (ev_shares_split(tmp, secret, k, n, v->vault_id, set) != 0) {
        rc = ev_fail(v, EV_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = begin(v)) != EV_OK) {
        goto done;
    }
    rc = ev_keyslot_add_trustee(v, secret, k, n, set, label, NULL);
    if (rc == EV_OK) {
        rc = log_key(v, "key-shares", "%d of %d trustee shares%s%s", k, n,
                     label ? ": " : "", label ? label : "");
    }
    rc = finish(v, rc, 0);
    if (rc == EV_OK) {
        size_t o = 0;
        for (int i = 0; i < n; i++) {
            size_t len = strlen(tmp[i]);
            memcpy(out + o, tmp[i], len);
            o += len;
            out[o++] = '\n';
        }
        out[o] = '\0';
        *lines = out;
        out = NULL;
    }
done:
    ev_secure_free(secret);
    ev_secure_free(tmp);
    ev_secure_free(out);
    return rc;
}

/* --- Unlocking without a passphrase --- */

int
ev_vault_unlock_identity(ev_vault *v, const char *text, size_t len)
{
    uint8_t *sk;
    int rc;

    if (v->cat == NULL) {
        return ev_fail(v, EV_EINVAL, "no vault is open");
    }
    sk = ev_secure_alloc(32);
    if (sk == NULL) {
        return ev_fail(v, EV_ENOMEM, "cannot lock memory for a key");
    }
    if (ev_age_identity_file_parse(sk, text, len) != 0) {
        ev_secure_free(sk);
        return ev_fail(v, EV_EINVAL,
                       "not an age identity file (AGE-SECRET-KEY-1..., as "
                       "age-keygen writes it)");
    }
    rc = ev_keyslot_unlock_member(v, sk);
    ev_secure_free(sk);
    return rc == EV_OK ? ev_vault_after_unlock(v) : rc;
}

int
ev_share_check(const char *line, int *x, int *k, int *n, const char **why)
{
    ev_tshare s;
    int rc = ev_share_parse(&s, line);

    *why = rc == EV_SHARE_OK         ? ""
           : rc == EV_SHARE_CHECKSUM ? "a character is wrong (the share's "
                                       "checksum does not match)"
           : rc == EV_SHARE_RANGE    ? "its numbers are impossible"
                                     : "not a trustee share (evault-share1:...)";
    if (rc != EV_SHARE_OK) {
        return EV_EINVAL;
    }
    *x = s.x;
    *k = s.k;
    *n = s.n;
    ev_wipe(&s, sizeof s);
    return EV_OK;
}

struct find_set {
    const uint8_t *set;
    int found, k;
};

static int
match_set(void *arg, const ev_slot_row *row)
{
    struct find_set *f = arg;
    uint8_t set[EV_SHARE_SET_BYTES];
    int k, n;

    if (ev_keyslot_trustee_set(row, set, &k, &n) == 0 &&
        memcmp(set, f->set, sizeof set) == 0) {
        f->found = 1;
        f->k = k;
    }
    return 0;
}

int
ev_vault_unlock_shares(ev_vault *v, const char *const *lines, size_t n)
{
    ev_tshare *s;
    uint8_t *secret;
    struct find_set f = {0};
    int rc = EV_OK;

    if (v->cat == NULL) {
        return ev_fail(v, EV_EINVAL, "no vault is open");
    }
    if (n == 0 || n > EV_SHARES_MAX) {
        return ev_fail(v, EV_EINVAL, "give 1 to %d shares", EV_SHARES_MAX);
    }
    s = ev_secure_alloc(n * sizeof *s);
    secret = ev_secure_alloc(EV_TRUSTEE_SECRET_BYTES);
    if (s == NULL || secret == NULL) {
        ev_secure_free(s);
        ev_secure_free(secret);
        return ev_fail(v, EV_ENOMEM, "cannot lock memory for the shares");
    }
    for (size_t i = 0; i < n && rc == EV_OK; i++) {
        int x, k, total;
        const char *why;
        if (ev_share_check(lines[i], &x, &k, &total, &why) != EV_OK) {
            rc = ev_fail(v, EV_EINVAL, "share %zu: %s", i + 1, why);
            break;
        }
        ev_share_parse(&s[i], lines[i]);
        if (!ev_memeq(s[i].vault_id, v->vault_id, EV_VAULT_ID_BYTES)) {
            rc = ev_fail(v, EV_EKEY, "share %zu belongs to another vault",
                         i + 1);
        } else if (i > 0 && memcmp(s[i].set, s[0].set, EV_SHARE_SET_BYTES)) {
            rc = ev_fail(v, EV_EKEY,
                         "share %zu is from another set of shares than "
                         "share 1",
                         i + 1);
        }
        for (size_t j = 0; j < i && rc == EV_OK; j++) {
            if (s[j].x == s[i].x) {
                rc = ev_fail(v, EV_EINVAL,
                             "shares %zu and %zu are the same share "
                             "(number %d)",
                             j + 1, i + 1, s[i].x);
            }
        }
    }
    if (rc == EV_OK) {
        f.set = s[0].set;
        rc = ev_catalog_keyslot_each(v->cat, match_set, &f);
        if (rc != EV_OK) {
            rc = ev_fail_catalog(v, rc, "cannot read key slots");
        } else if (!f.found) {
            rc = ev_fail(v, EV_EKEY,
                         "these shares are of a set this vault no longer "
                         "has (it was replaced or removed)");
        } else if (n < (size_t)f.k) {
            rc = ev_fail(v, EV_EKEY,
                         "only %zu of the %d shares needed were given", n,
                         f.k);
        }
    }
    if (rc == EV_OK) {
        if (ev_shares_combine(secret, s, n) != 0) {
            rc = ev_fail(v, EV_ENOMEM, "out of memory");
        } else {
            rc = ev_keyslot_unlock_trustee(v, secret);
            if (rc == EV_OK) {
                rc = ev_vault_after_unlock(v);
            }
        }
    }
    ev_secure_free(s);
    ev_secure_free(secret);
    return rc;
}

int
ev_vault_unlock_trustee_secret(ev_vault *v, const uint8_t *secret,
                               size_t len)
{
    int rc;

    if (v->cat == NULL) {
        return ev_fail(v, EV_EINVAL, "no vault is open");
    }
    if (len != EV_TRUSTEE_SECRET_BYTES) {
        return ev_fail(v, EV_EINVAL,
                       "a trustee secret is %d bytes (gfcombine's output), "
                       "not %zu",
                       EV_TRUSTEE_SECRET_BYTES, len);
    }
    rc = ev_keyslot_unlock_trustee(v, secret);
    return rc == EV_OK ? ev_vault_after_unlock(v) : rc;
}

/* --- Lockdown and recovery --- */

int
ev_vault_lockdown(ev_vault *v, int all, int force, int *removed)
{
    struct slots l;
    int rc = need_keys(v), left, gone = 0;

    *removed = 0;
    if (rc != EV_OK || (rc = load_slots(v, &l)) != EV_OK) {
        return rc;
    }
    left = count_kinds(&l, EV_SLOT_TRUSTEE, all ? 0 : EV_SLOT_RECOVERY);
    if (left == 0 && !force) {
        free(l.s);
        return ev_fail(v, EV_EINVAL,
                       all ? "this vault has no trustee shares: after "
                             "lockdown --all nothing could ever open it "
                             "again; make shares first (evault key shares) "
                             "or use --force"
                           : "this vault has no recovery key or trustee "
                             "shares: after lockdown nothing could ever "
                             "open it again; use --force to lock it down "
                             "for good");
    }
    /* The entry and the removal commit together: the log never says a
     * lockdown happened that did not, nor misses one that did. */
    if ((rc = begin(v)) == EV_OK) {
        for (size_t i = 0; i < l.n; i++) {
            int k = l.s[i].kind;
            gone += k == EV_SLOT_PASSPHRASE || k == EV_SLOT_MEMBER ||
                    (all && k == EV_SLOT_RECOVERY) || k < 0;
        }
        rc = log_key(v, "lockdown", "%d key slots destroyed%s", gone,
                     all ? ", the recovery key's too" : "");
        for (size_t i = 0; i < l.n && rc == EV_OK; i++) {
            int k = l.s[i].kind;
            if ((k == EV_SLOT_PASSPHRASE || k == EV_SLOT_MEMBER ||
                 (all && k == EV_SLOT_RECOVERY) || k < 0) &&
                (rc = ev_catalog_keyslot_delete(v->cat, l.s[i].id)) !=
                    EV_OK) {
                rc = ev_fail_catalog(v, rc, "cannot destroy a key slot");
            }
        }
        rc = finish(v, rc, 1);
    }
    free(l.s);
    if (rc == EV_OK) {
        *removed = gone;
    }
    return rc;
}

int
ev_vault_recover(ev_vault *v, const char *pass, size_t len, uint64_t ops,
                 uint64_t mem_kib)
{
    int64_t id = 0;
    int rc = need_keys(v), how = v->slot_kind;

    if (rc != EV_OK) {
        return rc;
    }
    if (how != EV_SLOT_RECOVERY && how != EV_SLOT_TRUSTEE) {
        return ev_fail(v, EV_EINVAL, "recovery needs the vault opened with "
                                     "the recovery key or trustee shares");
    }
    if ((rc = begin(v)) != EV_OK) {
        return rc;
    }
    rc = ev_keyslot_add_passphrase(v, pass, len,
                                   ops ? ops : EV_ARGON2_OPS_DEFAULT,
                                   mem_kib ? mem_kib
                                           : EV_ARGON2_MEM_KIB_DEFAULT,
                                   NULL, &id);
    if (rc == EV_OK) {
        rc = log_key(v, "recover", "opened with %s; passphrase slot %lld",
                     how == EV_SLOT_RECOVERY ? "the recovery key"
                                             : "trustee shares",
                     (long long)id);
    }
    return finish(v, rc, 0);
}

/* --- Rotation --- */

/* Re-makes one trustee set under the installed (new) master key and
 * appends its lines to out at *o. */
static int
remake_trustee(ev_vault *v, const ev_slot_info *s, char *out, size_t *o)
{
    char(*tmp)[EV_SHARE_LINE_MAX] = NULL;
    uint8_t *secret = ev_secure_alloc(EV_TRUSTEE_SECRET_BYTES);
    uint8_t set[EV_SHARE_SET_BYTES];
    int rc = EV_OK;

    tmp = ev_secure_alloc((size_t)s->shares * sizeof *tmp);
    if (secret == NULL || tmp == NULL) {
        rc = ev_fail(v, EV_ENOMEM, "cannot lock memory for the shares");
        goto done;
    }
    ev_random(secret, EV_TRUSTEE_SECRET_BYTES);
    ev_random(set, sizeof set);
    if (ev_shares_split(tmp, secret, s->threshold, s->shares, v->vault_id,
                        set) != 0) {
        rc = ev_fail(v, EV_ENOMEM, "out of memory");
        goto done;
    }
    rc = ev_keyslot_add_trustee(v, secret, s->threshold, s->shares, set,
                                s->label[0] ? s->label : NULL, NULL);
    for (int i = 0; rc == EV_OK && i < s->shares; i++) {
        size_t len = strlen(tmp[i]);
        memcpy(out + *o, tmp[i], len);
        *o += len;
        out[(*o)++] = '\n';
    }
    out[*o] = '\0';
done:
    ev_secure_free(secret);
    ev_secure_free(tmp);
    return rc;
}

int
ev_key_rotate(ev_vault *v, const char *pass, size_t len, uint64_t ops,
              uint64_t mem_kib, char recovery[EV_RECOVERY_KEY_CHARS + 1],
              char **lines, int *k, int *n)
{
    struct slots l;
    uint8_t *old_mk = NULL, *new_mk = NULL;
    char *out = NULL;
    size_t o = 0, total = 0;
    int64_t id = 0;
    int rc = need_keys(v), remade = 0, rewrapped = 0;

    *lines = NULL;
    *k = *n = 0;
    if (rc != EV_OK || (rc = load_slots(v, &l)) != EV_OK) {
        return rc;
    }
    slot_cost(v, &ops, &mem_kib);
    for (size_t i = 0; i < l.n; i++) {
        if (l.s[i].kind == EV_SLOT_TRUSTEE && l.s[i].shares > 0) {
            total += (size_t)l.s[i].shares;
        }
    }
    old_mk = ev_secure_alloc(EV_KEY_BYTES);
    new_mk = ev_secure_alloc(EV_KEY_BYTES);
    out = ev_secure_alloc(total * EV_SHARE_LINE_MAX + 1);
    if (old_mk == NULL || new_mk == NULL || out == NULL) {
        rc = ev_fail(v, EV_ENOMEM, "cannot lock memory for keys");
        goto done;
    }
    out[0] = '\0';
    memcpy(old_mk, v->keys->mk, EV_KEY_BYTES);
    ev_random(new_mk, EV_KEY_BYTES);
    if ((rc = ev_vault_lock_write(v)) != EV_OK) {
        goto done;
    }
    if ((rc = begin(v)) != EV_OK) {
        ev_vault_unlock_write(v);
        goto done;
    }
    /* One transaction: killed at any moment, the vault is either all old
     * (old slots, old keys) or all new. */
    rc = ev_rotate_rewrap(v, new_mk);
    rewrapped = rc == EV_OK;
    for (size_t i = 0; i < l.n && rc == EV_OK; i++) {
        if ((rc = ev_catalog_keyslot_delete(v->cat, l.s[i].id)) != EV_OK) {
            rc = ev_fail_catalog(v, rc, "cannot remove an old slot");
        }
    }
    if (rc == EV_OK) {
        rc = ev_keyslot_add_passphrase(v, pass, len, ops, mem_kib, NULL, &id);
        remade++;
    }
    if (rc == EV_OK) {
        rc = ev_keyslot_add_recovery(v, recovery, NULL);
        remade++;
    }
    for (size_t i = 0; i < l.n && rc == EV_OK; i++) {
        const ev_slot_info *s = &l.s[i];
        uint8_t pk[32];
        if (s->kind == EV_SLOT_MEMBER) {
            if (ev_age_recipient_decode(pk, s->recipient) != 0) {
                rc = ev_fail(v, EV_ECORRUPT,
                             "member slot %lld has no readable recipient",
                             (long long)s->id);
                break;
            }
            rc = ev_keyslot_add_member(v, s->label, pk, s->recipient, NULL);
            remade++;
        } else if (s->kind == EV_SLOT_TRUSTEE && s->shares > 0) {
            rc = remake_trustee(v, s, out, &o);
            if (*k == 0) {
                *k = s->threshold;
                *n = s->shares;
            }
            remade++;
        }
    }
    if (rc == EV_OK) {
        rc = mark_unseen(v);
    }
    if (rc == EV_OK) {
        rc = log_key(v, "key-rotate",
                     "new master key; %d key slots re-made, %zu retired",
                     remade, l.n);
    }
    if (rc == EV_OK && (rc = ev_catalog_commit(v->cat)) != EV_OK) {
        rc = ev_fail_catalog(v, rc, "cannot commit the new master key");
    }
    if (rc != EV_OK) {
        ev_catalog_rollback(v->cat);
        if (rewrapped) {
            ev_vault_set_master(v, old_mk); /* the catalog is the old one */
        }
        ev_wipe(recovery, EV_RECOVERY_KEY_CHARS + 1);
        ev_vault_unlock_write(v);
        goto done;
    }
    ev_vault_unlock_write(v);
    v->slot_id = id;
    v->slot_kind = EV_SLOT_PASSPHRASE;
    v->slot_ops = ops;
    v->slot_mem = mem_kib;
    if (total > 0) {
        *lines = out;
        out = NULL;
    }
    if ((rc = ev_catalog_checkpoint(v->cat)) != EV_OK) {
        /* The rotation happened: the caller must still show the new
         * recovery key and shares, so this is not reported as failure. */
        rc = EV_OK;
    }
done:
    free(l.s);
    ev_secure_free(old_mk);
    ev_secure_free(new_mk);
    ev_secure_free(out);
    return rc;
}
