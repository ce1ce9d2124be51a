/*
 * check.c - the whole-vault integrity check.
 *
 * Owns: deciding whether a vault is intact, and saying where it is not.
 * Never: repairs anything; a check changes no byte of the vault.
 *
 * Checks: SQLite's integrity_check; every record's metadata authenticates;
 * its blind index rows exist and no stray rows point at it; its SHA-256
 * names its blob (under the current or a retired blob-id key); its blob row
 * exists, its data key authenticates, its blob is present at its padded
 * size; with EV_CHECK_READ_DATA every blob is decrypted and its SHA-256 and
 * size compared with the record.  Blob files that no row names are noted
 * (a crash between writing a blob and committing its record, or between a
 * destroy's commit and the file's removal, leaves one); they do not make
 * the vault damaged.  A destroyed record (a tombstone: no metadata, no
 * blob) needs its intake entry and a destroy entry in the custody log, and
 * no destroy entry may name a record the catalog still holds.
 */
#include "blob.h"
#include "custody.h"
#include "internal.h"
#include "os.h"
#include "rotate.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct blind_row {
    int field;
    uint8_t value[16];
    int64_t record;
    int seen;
};

struct check {
    ev_vault *v;
    int flags;
    ev_problem_fn cb;
    void *ctx;
    int damaged;
    uint64_t nrecords;   /* catalog rows, tombstones included */
    uint64_t ntombstones;
    struct blind_row *blind;
    size_t nblind, capblind;
    /* blob ids referenced by records, sorted after the walk */
    uint8_t (*refs)[EV_BLOBID_BYTES];
    size_t nrefs, caprefs;
    uint8_t (*rows)[EV_BLOBID_BYTES];
    size_t nrows, caprows;
    int oom;
    /* the custody log, loaded once */
    ev_custody_log log;
    int log_ok;
    int64_t *sealed; /* records named by seal entries, sorted */
    size_t nsealed;
    uint64_t nintake; /* intake entries seen in the log */
    uint64_t nmatched; /* records whose intake entry checked out */
    int64_t last_seal; /* index of the last seal entry, or -1 */
    int64_t *amended;  /* records named by amend entries, one per entry */
    size_t namended;
    int64_t *amends;   /* records of the rows in the amendments table */
    size_t namends;
    ev_blobid_keys idkeys; /* the current and retired blob-id keys */
    int64_t *added;    /* records named by intake entries, sorted */
    size_t nadded;
    int64_t *destroyed; /* records named by destroy entries, sorted, unique */
    size_t ndestroyed;
    uint8_t *destroyed_seen; /* per destroyed id: the catalog has its row */
    /* the blobs the store holds (listed once, sorted by id) */
    struct listed *listed;
    size_t nlisted, caplisted;
    int list_rc;       /* EV_OK, or why the store could not be listed */
    char list_msg[1024], list_hint[300];
    int store_rc;      /* the first failure to read the store (not damage) */
    char store_msg[1024], store_hint[300];
};

struct listed {
    uint8_t id[EV_BLOBID_BYTES];
    uint64_t size;
};

static void problem(struct check *c, int64_t record, int code,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
problem(struct check *c, int64_t record, int code, const char *fmt, ...)
{
    char msg[1200];
    ev_problem p;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (code == EV_ENOMEM) {
        c->oom = 1; /* no finding: the check could not be finished */
    } else if (code != EV_OK) {
        c->damaged = 1;
    }
    p.record = record;
    p.code = code;
    p.what = msg;
    if (c->cb != NULL) {
        c->cb(c->ctx, &p);
    }
}

static int
blind_cmp(const void *a, const void *b)
{
    const struct blind_row *x = a, *y = b;
    int d;

    if (x->record != y->record) {
        return x->record < y->record ? -1 : 1;
    }
    if (x->field != y->field) {
        return x->field < y->field ? -1 : 1;
    }
    d = memcmp(x->value, y->value, 16);
    return d;
}

static int
collect_blind(void *arg, int field, const uint8_t *value, int64_t record)
{
    struct check *c = arg;

    if (c->nblind == c->capblind) {
        size_t cap = c->capblind ? 2 * c->capblind : 1024;
        struct blind_row *n = realloc(c->blind, cap * sizeof *n);
        if (n == NULL) {
            c->oom = 1;
            return 1;
        }
        c->blind = n;
        c->capblind = cap;
    }
    c->blind[c->nblind].field = field;
    memcpy(c->blind[c->nblind].value, value, 16);
    c->blind[c->nblind].record = record;
    c->blind[c->nblind].seen = 0;
    c->nblind++;
    return 0;
}

static int
expect_blind(struct check *c, int64_t id, int field, const uint8_t v[16])
{
    struct blind_row key, *hit;

    key.field = field;
    memcpy(key.value, v, 16);
    key.record = id;
    hit = c->nblind > 0 ? bsearch(&key, c->blind, c->nblind, sizeof key,
                                  blind_cmp)
                        : NULL;
    if (hit == NULL) {
        return 0;
    }
    hit->seen = 1;
    return 1;
}

static int
push_id(uint8_t (**arr)[EV_BLOBID_BYTES], size_t *n, size_t *cap,
        const uint8_t *id)
{
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 1024;
        uint8_t(*a)[EV_BLOBID_BYTES] = realloc(*arr, nc * EV_BLOBID_BYTES);
        if (a == NULL) {
            return -1;
        }
        *arr = a;
        *cap = nc;
    }
    memcpy((*arr)[(*n)++], id, EV_BLOBID_BYTES);
    return 0;
}

static int
id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, EV_BLOBID_BYTES);
}

static void
check_blind(struct check *c, const ev_record *r)
{
    ev_vault *v = c->v;
    uint8_t val[16];
    int ok = 1;

    /* a value that cannot be computed is no finding: the check fails
     * with EV_ENOMEM instead */
    if (r->case_name != NULL) {
        if (ev_blind_text(v, val, EV_BLIND_CASE, r->case_name) != EV_OK) {
            c->oom = 1;
            return;
        }
        ok &= expect_blind(c, r->id, EV_BLIND_CASE, val);
    }
    if (r->source != NULL) {
        if (ev_blind_text(v, val, EV_BLIND_SOURCE, r->source) != EV_OK) {
            c->oom = 1;
            return;
        }
        ok &= expect_blind(c, r->id, EV_BLIND_SOURCE, val);
    }
    for (size_t i = 0; i < r->ntags; i++) {
        if (ev_blind_text(v, val, EV_BLIND_TAG, r->tags[i]) != EV_OK) {
            c->oom = 1;
            return;
        }
        ok &= expect_blind(c, r->id, EV_BLIND_TAG, val);
    }
    if (ev_blind_value(v, val, EV_BLIND_SHA256, r->sha256,
                       EV_SHA256_BYTES) != EV_OK) {
        c->oom = 1;
        return;
    }
    ok &= expect_blind(c, r->id, EV_BLIND_SHA256, val);
    if (!ok) {
        problem(c, r->id, EV_ECORRUPT,
                "search index entries are missing (search would miss it)");
    }
}

static void
check_blob(struct check *c, const ev_record_row *row, const ev_record *r)
{
    ev_vault *v = c->v;
    ev_blob_row b;
    uint8_t dek[EV_KEY_BYTES];
    uint64_t stored, content;
    int rc;

    /* Its SHA-256 names its blob under the current blob-id key, or under
     * a retired one for a blob stored before a key rotation. */
    if (ev_blobid_which(&c->idkeys, r->sha256, row->blob_id) < 0) {
        problem(c, r->id, EV_ECORRUPT,
                "it points at a blob that is not its own");
        return;
    }
    rc = ev_catalog_blob_get(v->cat, row->blob_id, 0, &b);
    if (rc != EV_OK) {
        problem(c, r->id, EV_ECORRUPT, "its blob is missing from the catalog");
        return;
    }
    rc = ev_dek_unwrap(v, dek, &stored, &content, row->blob_id, b.key.p,
                       b.key.n);
    ev_wipe(dek, sizeof dek);
    if (rc != EV_OK) {
        problem(c, r->id, EV_ECORRUPT,
                "its data key fails authentication (altered)");
    } else if (content != r->size || b.padded_size != row->padded_size) {
        problem(c, r->id, EV_ECORRUPT, "its blob's sizes do not match");
    } else if (b.pack_off >= 0 && b.data_len != b.padded_size) {
        problem(c, r->id, EV_ECORRUPT,
                "its blob is missing from vault.pack (%llu of %llu bytes "
                "there)",
                (unsigned long long)b.data_len,
                (unsigned long long)b.padded_size);
    } else if (b.inline_ && b.data_len != b.padded_size) {
        problem(c, r->id, EV_ECORRUPT,
                "its blob in the catalog has the wrong size");
    } else if (!b.inline_ && c->list_rc == EV_OK) {
        const struct listed *l = c->nlisted == 0 ? NULL
                                 : bsearch(row->blob_id, c->listed,
                                           c->nlisted, sizeof *c->listed,
                                           id_cmp);
        char path[PATH_MAX];
        ev_store_blob_path(v->store, row->blob_id, path, sizeof path);
        if (l == NULL) {
            problem(c, r->id, EV_ECORRUPT, "its blob is missing: %s", path);
            rc = EV_ENOENT;
        } else if (l->size != b.padded_size) {
            problem(c, r->id, EV_ECORRUPT,
                    "its blob has the wrong size: %s", path);
        }
    }
    ev_blob_row_free(&b);
    if (rc == EV_OK && (c->flags & EV_CHECK_READ_DATA) &&
        c->store_rc == EV_OK) {
        uint8_t sha[32];
        uint64_t len = 0;
        rc = ev_blob_read(v, row->blob_id, -1, NULL, sha, &len);
        if (rc == EV_ESTORE || rc == EV_EDENIED || rc == EV_EIO ||
            rc == EV_ENOMEM) {
            /* The store failed, not the evidence: stop reading data and
             * say so once, at the end. */
            c->store_rc = rc;
            snprintf(c->store_msg, sizeof c->store_msg, "%s", v->errmsg);
            snprintf(c->store_hint, sizeof c->store_hint, "%s", v->hint);
        } else if (rc != EV_OK) {
            problem(c, r->id, EV_ECORRUPT, "%s", v->errmsg);
        } else if (len != r->size || !ev_memeq(sha, r->sha256, 32)) {
            problem(c, r->id, EV_ECORRUPT,
                    "its content does not match its recorded SHA-256");
        }
    }
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/* Index of id in a sorted list, or -1. */
static long
find_id(const int64_t *list, size_t n, int64_t id)
{
    const int64_t *p = n > 0 ? bsearch(&id, list, n, sizeof *list, cmp_i64)
                             : NULL;

    return p != NULL ? (long)(p - list) : -1;
}

static int
push_i64(struct check *c, int64_t **list, size_t *n, int64_t id)
{
    int64_t *nl = realloc(*list, (*n + 1) * sizeof *nl);

    if (nl == NULL) {
        c->oom = 1;
        return -1;
    }
    *list = nl;
    nl[(*n)++] = id;
    return 0;
}

/* Marks a destroyed record's row as present; returns whether a destroy
 * entry names the record. */
static int
destroyed_in_log(struct check *c, int64_t id)
{
    long i = find_id(c->destroyed, c->ndestroyed, id);

    if (i < 0) {
        return 0;
    }
    c->destroyed_seen[i] = 1;
    return 1;
}

/* A tombstone: nothing left of the record, and the log says why. */
static void
check_tombstone(struct check *c, const ev_record_row *row)
{
    int64_t id = row->id;

    if (row->meta.n != 0 || row->has_blob || row->padded_size != 0) {
        problem(c, id, EV_ECORRUPT,
                "marked destroyed, but its row still holds metadata or a "
                "blob reference");
    }
    if (!c->log_ok) {
        return;
    }
    if (!destroyed_in_log(c, id)) {
        problem(c, id, EV_ECORRUPT,
                "marked destroyed, but no destroy entry in the custody log "
                "names it (destroyed behind evault's back)");
    }
    if (find_id(c->sealed, c->nsealed, id) >= 0) {
        problem(c, id, EV_ECORRUPT,
                "destroyed, but the custody log says it was sealed, and a "
                "sealed record cannot be destroyed");
    }
    if (find_id(c->added, c->nadded, id) < 0) {
        problem(c, id, EV_ECORRUPT,
                "its intake entry is missing from the custody log");
    } else {
        c->nmatched++;
    }
}

/* The record's intake entry says what the record says, and its sealed
 * state agrees with the seal entries. */
static void
check_record_custody(struct check *c, const ev_record_row *row,
                     const ev_record *r)
{
    char buf[80], hex[65];
    const char *t;
    uint8_t commit[32];
    int sealed_in_log;

    if (!c->log_ok) {
        return;
    }
    sealed_in_log = c->nsealed > 0 &&
                    bsearch(&r->id, c->sealed, c->nsealed, sizeof *c->sealed,
                            cmp_i64) != NULL;
    if (sealed_in_log && row->state != EV_STATE_SEALED) {
        problem(c, r->id, EV_ECORRUPT,
                "the custody log says it was sealed, but the catalog says "
                "it is not (unsealed behind evault's back)");
    } else if (!sealed_in_log && row->state == EV_STATE_SEALED) {
        problem(c, r->id, EV_ECORRUPT,
                "marked sealed, but no seal entry in the custody log");
    }
    if (destroyed_in_log(c, r->id)) {
        problem(c, r->id, EV_ECORRUPT,
                "the custody log says it was destroyed, but the catalog "
                "still holds it (restored behind evault's back)");
    }
    if (r->custody_seq < 0 || (uint64_t)r->custody_seq >= c->log.n) {
        problem(c, r->id, EV_ECORRUPT,
                "its intake entry is missing from the custody log");
        return;
    }
    t = c->log.entries[r->custody_seq].text;
    ev_hex(hex, r->sha256, sizeof r->sha256);
    if (ev_custody_field(t, "action", buf, sizeof buf) != 0 ||
        strcmp(buf, "add") != 0 || !ev_custody_names_record(t, r->id) ||
        ev_custody_field(t, "sha256", buf, sizeof buf) != 0 ||
        strcmp(buf, hex) != 0) {
        problem(c, r->id, EV_ECORRUPT,
                "its intake entry in the custody log does not match it");
        return;
    }
    snprintf(hex, sizeof hex, "%llu", (unsigned long long)r->size);
    if (ev_custody_field(t, "size", buf, sizeof buf) != 0 ||
        strcmp(buf, hex) != 0) {
        problem(c, r->id, EV_ECORRUPT,
                "its size differs from its intake entry");
        return;
    }
    if (ev_meta_commitment(commit, r) != EV_OK) {
        c->oom = 1;
        return;
    }
    {
        ev_hex(hex, commit, sizeof commit);
        if (ev_custody_field(t, "commitment", buf, sizeof buf) != 0 ||
            strcmp(buf, hex) != 0) {
            problem(c, r->id, EV_ECORRUPT,
                    "its metadata differs from what its intake entry "
                    "committed to");
            return;
        }
    }
    c->nmatched++;
}

/* The log and its checkpoints: every entry authenticates and the indexes
 * have no gap; every checkpoint is signed by the vault's key, its root is
 * the root of the log's first `size` entries, and each checkpoint is
 * consistent with the one before (RFC 9162 consistency proofs). */
static void
check_log(struct check *c)
{
    ev_vault *v = c->v;
    struct ev_custody_checkpoints cps;
    ev_note_key k;
    ev_hash path[EV_MERKLE_MAX_PATH];
    uint64_t prev_size = 0;
    ev_hash prev_root;
    int rc;

    rc = ev_custody_load(v, &c->log);
    if (rc != EV_OK) {
        problem(c, 0, rc == EV_ENOMEM ? EV_ENOMEM : EV_ECORRUPT, "%s",
                v->errmsg);
        return;
    }
    c->log_ok = 1;
    for (uint64_t i = 0; i < c->log.n; i++) {
        const char *t = c->log.entries[i].text;
        char action[32], num[32];
        if (ev_custody_field(t, "action", action, sizeof action) != 0 ||
            ev_custody_field(t, "seq", num, sizeof num) != 0 ||
            (uint64_t)strtoull(num, NULL, 10) != i) {
            problem(c, 0, EV_ECORRUPT, "custody entry %llu is malformed",
                    (unsigned long long)i);
            continue;
        }
        if (strcmp(action, "add") == 0) {
            char rec[32];
            c->nintake++;
            if (ev_custody_field(t, "record", rec, sizeof rec) == 0) {
                push_i64(c, &c->added, &c->nadded, strtoll(rec, NULL, 10));
            }
        }
        if (strcmp(action, "destroy") == 0) {
            const char *p = t;
            while ((p = strstr(p, "\nrecord ")) != NULL) {
                p += 8;
                push_i64(c, &c->destroyed, &c->ndestroyed,
                         strtoll(p, NULL, 10));
            }
        }
        if (strcmp(action, "amend") == 0) {
            const char *p = strstr(t, "\nrecord ");
            int64_t *na = realloc(c->amended, (c->namended + 1) * sizeof *na);
            if (na == NULL || p == NULL) {
                c->oom |= na == NULL;
                if (na != NULL) {
                    c->amended = na;
                }
            } else {
                c->amended = na;
                c->amended[c->namended++] = strtoll(p + 8, NULL, 10);
            }
        }
        if (strcmp(action, "seal") == 0) {
            const char *p = t;
            c->last_seal = (int64_t)i;
            while ((p = strstr(p, "\nrecord ")) != NULL) {
                int64_t *ns;
                p += 8;
                ns = realloc(c->sealed, (c->nsealed + 1) * sizeof *ns);
                if (ns == NULL) {
                    c->oom = 1;
                    break;
                }
                c->sealed = ns;
                c->sealed[c->nsealed++] = strtoll(p, NULL, 10);
            }
        }
    }
    /* The head says how long the log is and how it ends. */
    {
        uint64_t hs;
        ev_hash last;
        int hrc = ev_custody_head(v, &hs, last);
        if (hrc == EV_ENOMEM) {
            c->oom = 1;
        } else if (hrc != EV_OK) {
            problem(c, 0, EV_ECORRUPT,
                    "the custody log's head is missing or fails "
                    "authentication");
        } else if (hs != c->log.n ||
                   (hs > 0 && !ev_memeq(last, c->log.leaves[hs - 1],
                                        EV_HASH_BYTES))) {
            problem(c, 0, EV_ECORRUPT,
                    "the custody log has %llu entries but its head says "
                    "%llu: entries were removed or replaced at its end",
                    (unsigned long long)c->log.n, (unsigned long long)hs);
        }
    }
    if (c->nsealed > 1) {
        qsort(c->sealed, c->nsealed, sizeof *c->sealed, cmp_i64);
    }
    if (c->nadded > 1) {
        qsort(c->added, c->nadded, sizeof *c->added, cmp_i64);
    }
    if (c->ndestroyed > 1) {
        size_t u = 1;
        qsort(c->destroyed, c->ndestroyed, sizeof *c->destroyed, cmp_i64);
        for (size_t i = 1; i < c->ndestroyed; i++) {
            if (c->destroyed[i] != c->destroyed[u - 1]) {
                c->destroyed[u++] = c->destroyed[i];
            }
        }
        c->ndestroyed = u;
    }
    c->destroyed_seen = calloc(c->ndestroyed + 1, 1);
    if (c->destroyed_seen == NULL) {
        c->oom = 1;
        c->ndestroyed = 0;
    }
    rc = ev_custody_key(v, &k);
    if (rc != EV_OK) {
        problem(c, 0, EV_ECORRUPT, "%s", v->errmsg);
        return;
    }
    rc = ev_custody_checkpoints_load(v, &cps);
    if (rc != EV_OK) {
        problem(c, 0, rc == EV_ENOMEM ? EV_ENOMEM : EV_ECORRUPT, "%s",
                v->errmsg);
        return;
    }
    for (size_t i = 0; i < cps.n; i++) {
        ev_checkpoint cp;
        ev_hash root;
        size_t np;
        int64_t id = cps.v[i].id;
        if (ev_checkpoint_open(&cp, cps.v[i].note, strlen(cps.v[i].note),
                               &k) != 0) {
            problem(c, 0, EV_ECORRUPT,
                    "checkpoint %lld is not validly signed by this vault's "
                    "key",
                    (long long)id);
            continue;
        }
        if (cp.size != cps.v[i].size || cp.size > c->log.n) {
            problem(c, 0, EV_ECORRUPT,
                    "checkpoint %lld covers %llu entries but the log has "
                    "%llu (the log was truncated)",
                    (long long)id, (unsigned long long)cp.size,
                    (unsigned long long)c->log.n);
            continue;
        }
        ev_merkle_root(root, c->log.leaves, cp.size);
        if (!ev_memeq(root, cp.root, EV_HASH_BYTES)) {
            problem(c, 0, EV_ECORRUPT,
                    "checkpoint %lld does not match the log: entries before "
                    "it were rewritten",
                    (long long)id);
            continue;
        }
        if (prev_size > 0) {
            if (cp.size < prev_size ||
                ev_merkle_consistency_proof(path, &np, c->log.leaves,
                                            prev_size, cp.size) != 0 ||
                ev_merkle_consistency_verify(prev_size, cp.size, prev_root,
                                             cp.root, path, np) != 0) {
                problem(c, 0, EV_ECORRUPT,
                        "checkpoint %lld is not consistent with the one "
                        "before it",
                        (long long)id);
            }
        }
        prev_size = cp.size;
        memcpy(prev_root, cp.root, EV_HASH_BYTES);
    }
    /* Every seal signs a checkpoint in the same transaction. */
    if (c->last_seal >= 0 && prev_size <= (uint64_t)c->last_seal) {
        problem(c, 0, EV_ECORRUPT,
                "no signed checkpoint covers the seal in custody entry "
                "%lld (checkpoints were deleted)",
                (long long)c->last_seal);
    }
    ev_custody_checkpoints_free(&cps);
}

static int
count_amendment(void *arg, const ev_record *a)
{
    struct check *c = arg;
    int64_t *na = realloc(c->amends, (c->namends + 1) * sizeof *na);

    if (na == NULL) {
        c->oom = 1;
        return 1;
    }
    c->amends = na;
    c->amends[c->namends++] = a->id;
    return 0;
}

/* Every amendment row authenticates, and the rows match the log's amend
 * entries one for one (none deleted or added behind evault's back). */
static void
check_amendments(struct check *c)
{
    int rc;

    if (!c->log_ok) {
        return;
    }
    rc = ev_record_amendments(c->v, 0, count_amendment, c);
    if (rc != EV_OK) {
        problem(c, 0, rc == EV_ENOMEM ? EV_ENOMEM : EV_ECORRUPT, "%s",
                c->v->errmsg);
        return;
    }
    if (c->namends > 1) {
        qsort(c->amends, c->namends, sizeof *c->amends, cmp_i64);
    }
    /* Destroying a record deletes its amendments; its amend entries
     * stay in the log. */
    {
        size_t k = 0;
        for (size_t i = 0; i < c->namended; i++) {
            if (find_id(c->destroyed, c->ndestroyed, c->amended[i]) < 0) {
                c->amended[k++] = c->amended[i];
            }
        }
        c->namended = k;
    }
    if (c->namended > 1) {
        qsort(c->amended, c->namended, sizeof *c->amended, cmp_i64);
    }
    if (c->namends != c->namended ||
        (c->namends > 0 &&
         memcmp(c->amends, c->amended, c->namends * sizeof *c->amends) !=
             0)) {
        problem(c, 0, EV_ECORRUPT,
                "the amendments (%zu) do not match the custody log's amend "
                "entries (%zu): corrections were deleted or added",
                c->namends, c->namended);
    }
}

static int
check_record(void *arg, const ev_record_row *row)
{
    struct check *c = arg;
    ev_vault *v = c->v;
    ev_record r;
    int rc;

    c->nrecords++;
    if (row->state < EV_STATE_ACTIVE || row->state > EV_STATE_DESTROYED) {
        problem(c, row->id, EV_ECORRUPT, "unknown state %d", row->state);
    }
    if (row->state == EV_STATE_DESTROYED) {
        c->ntombstones++;
        check_tombstone(c, row);
        return c->oom;
    }
    rc = ev_meta_open(v, row->id, row->meta.p, row->meta.n, &r);
    if (rc != EV_OK) {
        if (c->log_ok && destroyed_in_log(c, row->id)) {
            problem(c, row->id, EV_ECORRUPT,
                    "the custody log says it was destroyed, but the catalog "
                    "says it is not (its state was changed behind evault's "
                    "back)");
        } else {
            problem(c, row->id, EV_ECORRUPT, "%s", v->errmsg);
        }
        return 0;
    }
    check_blind(c, &r);
    check_record_custody(c, row, &r);
    if (row->has_blob) {
        if (r.hash_only) {
            problem(c, row->id, EV_ECORRUPT,
                    "a hash-only record points at a blob");
        }
        if (push_id(&c->refs, &c->nrefs, &c->caprefs, row->blob_id) != 0) {
            c->oom = 1;
        }
        check_blob(c, row, &r);
    } else if (!r.hash_only) {
        problem(c, row->id, EV_ECORRUPT, "its blob reference is missing");
    }
    if (v->progress != NULL) {
        v->progress(v->progress_ctx, c->nrecords, 0);
    }
    ev_record_release(&r);
    return c->oom;
}

static int
collect_row(void *arg, const uint8_t *id, int inline_, uint64_t padded)
{
    struct check *c = arg;

    (void)inline_;
    (void)padded;
    if (push_id(&c->rows, &c->nrows, &c->caprows, id) != 0) {
        c->oom = 1;
        return 1;
    }
    return 0;
}

static int
listed_cmp(const void *a, const void *b)
{
    return memcmp(a, b, EV_BLOBID_BYTES);
}

/* One blob (or stray name) the store holds. */
static int
note_listed(void *arg, const uint8_t *id, uint64_t size, const char *name)
{
    struct check *c = arg;

    if (id == NULL) {
        problem(c, 0, EV_OK, "unexpected file in the blob store: %s", name);
        return 0;
    }
    if (c->nlisted == c->caplisted) {
        size_t cap = c->caplisted ? 2 * c->caplisted : 256;
        struct listed *n = realloc(c->listed, cap * sizeof *n);
        if (n == NULL) {
            c->oom = 1;
            return 1;
        }
        c->listed = n;
        c->caplisted = cap;
    }
    memcpy(c->listed[c->nlisted].id, id, EV_BLOBID_BYTES);
    c->listed[c->nlisted].size = size;
    c->nlisted++;
    return 0;
}

static void
list_store(struct check *c)
{
    ev_vault *v = c->v;

    c->list_rc = ev_store_list(v->store, note_listed, c, c->list_msg,
                               sizeof c->list_msg);
    if (c->list_rc != EV_OK) {
        snprintf(c->list_hint, sizeof c->list_hint, "%s", v->hint);
        return;
    }
    if (c->nlisted > 1) {
        qsort(c->listed, c->nlisted, sizeof *c->listed, listed_cmp);
    }
}

/* Blobs in the store that no catalog row names. */
static void
note_orphans(struct check *c)
{
    char path[PATH_MAX];

    for (size_t i = 0; i < c->nlisted; i++) {
        if (c->nrows == 0 || bsearch(c->listed[i].id, c->rows, c->nrows,
                                     EV_BLOBID_BYTES, id_cmp) == NULL) {
            ev_store_blob_path(c->v->store, c->listed[i].id, path,
                               sizeof path);
            problem(c, 0, EV_OK,
                    "blob file that no record uses (left by an interrupted "
                    "add or destroy; harmless, its key is not kept; the next "
                    "destroy or sweep removes it): %s",
                    path);
        }
    }
}

int
ev_check(ev_vault *v, int flags, ev_problem_fn cb, void *ctx,
         ev_check_counts *counts)
{
    struct check c;
    int rc;

    if (v->keys == NULL) {
        return ev_fail(v, EV_ELOCKED, "vault is locked");
    }
    memset(&c, 0, sizeof c);
    c.last_seal = -1;
    c.v = v;
    c.flags = flags;
    c.cb = cb;
    c.ctx = ctx;
    /* One snapshot for the whole check: an add committing meanwhile must
     * not look like a record without its index entries. */
    rc = ev_catalog_begin_read(v->cat);
    if (rc != EV_OK) {
        return ev_fail_catalog(v, rc, "cannot read the catalog");
    }
    rc = ev_catalog_integrity(v->cat);
    if (rc == EV_ECORRUPT) {
        problem(&c, 0, EV_ECORRUPT, "the catalog is damaged: %s",
                ev_catalog_errmsg(v->cat));
    } else if (rc != EV_OK) {
        ev_catalog_end_read(v->cat);
        return ev_fail_catalog(v, rc, "cannot check the catalog");
    }
    if (ev_rotate_keys_current(v) != EV_OK) {
        problem(&c, 0, EV_ECORRUPT, "%s", v->errmsg);
    }
    rc = ev_blobid_keys_load(v, &c.idkeys);
    if (rc == EV_ECORRUPT || rc == EV_EKEY) {
        if (rc == EV_ECORRUPT) { /* EV_EKEY was reported just above */
            problem(&c, 0, EV_ECORRUPT, "%s", v->errmsg);
        }
        /* records named under a retired key will be reported too */
        c.idkeys.k = ev_secure_alloc(EV_KEY_BYTES);
        if (c.idkeys.k != NULL) {
            memcpy(c.idkeys.k, v->keys->blobid, EV_KEY_BYTES);
            c.idkeys.n = 1;
        }
    } else if (rc != EV_OK) {
        ev_catalog_end_read(v->cat);
        return rc;
    }
    if (c.idkeys.k == NULL) {
        ev_catalog_end_read(v->cat);
        return ev_fail(v, EV_ENOMEM, "cannot lock memory for keys");
    }
    list_store(&c);
    check_log(&c);
    check_amendments(&c);
    rc = ev_catalog_blind_each(v->cat, collect_blind, &c);
    if (rc == EV_OK) {
        if (c.nblind > 1) {
            qsort(c.blind, c.nblind, sizeof *c.blind, blind_cmp);
        }
        rc = ev_catalog_record_each(v->cat, NULL, 0, check_record, &c);
    }
    if (rc == EV_OK && c.log_ok && c.nintake != c.nmatched &&
        c.nintake != c.nrecords) {
        problem(&c, 0, EV_ECORRUPT,
                "the custody log records %llu intakes but %llu records "
                "match one (records deleted or added behind evault's back)",
                (unsigned long long)c.nintake,
                (unsigned long long)c.nmatched);
    }
    for (size_t i = 0; rc == EV_OK && i < c.ndestroyed; i++) {
        if (!c.destroyed_seen[i]) {
            problem(&c, c.destroyed[i], EV_ECORRUPT,
                    "the custody log says it was destroyed, but its row is "
                    "missing from the catalog (deleted behind evault's "
                    "back)");
        }
    }
    if (rc == EV_OK) {
        for (size_t i = 0; i < c.nblind; i++) {
            if (!c.blind[i].seen) {
                problem(&c, c.blind[i].record, EV_ECORRUPT,
                        "a search index entry matches nothing in the "
                        "record (altered index)");
            }
        }
        rc = ev_catalog_blob_each(v->cat, collect_row, &c);
    }
    if (rc == EV_OK && !c.oom) {
        if (c.nrows > 1) {
            qsort(c.rows, c.nrows, EV_BLOBID_BYTES, id_cmp);
        }
        if (c.nrefs > 1) {
            qsort(c.refs, c.nrefs, EV_BLOBID_BYTES, id_cmp);
        }
        for (size_t i = 0; i < c.nrows; i++) {
            if (c.nrefs == 0 || bsearch(c.rows[i], c.refs, c.nrefs,
                                        EV_BLOBID_BYTES, id_cmp) == NULL) {
                problem(&c, 0, EV_OK, "a blob in the catalog is unused");
            }
        }
        note_orphans(&c);
    }
    ev_catalog_end_read(v->cat);
    free(c.listed);
    free(c.blind);
    free(c.refs);
    free(c.rows);
    free(c.sealed);
    free(c.amended);
    free(c.amends);
    ev_blobid_keys_release(&c.idkeys);
    free(c.added);
    free(c.destroyed);
    free(c.destroyed_seen);
    ev_custody_log_free(&c.log);
    if (counts != NULL) {
        counts->records = c.nrecords - c.ntombstones;
        counts->destroyed = c.ntombstones;
    }
    if (c.oom) {
        return ev_fail(v, EV_ENOMEM, "out of memory during the check");
    }
    if (rc != EV_OK && rc != 1) {
        return ev_fail_catalog(v, rc, "cannot read the catalog");
    }
    if (c.damaged) {
        return ev_fail(v, EV_ECORRUPT, "the vault is damaged");
    }
    /* The evidence that could be checked is intact, but not all of it
     * could be: the store failed. */
    if (c.list_rc != EV_OK) {
        rc = ev_fail(v, c.list_rc, "cannot list the blobs: %s", c.list_msg);
        snprintf(v->hint, sizeof v->hint, "%s", c.list_hint);
        return rc;
    }
    if (c.store_rc != EV_OK) {
        rc = ev_fail(v, c.store_rc, "cannot read every blob: %s",
                     c.store_msg);
        snprintf(v->hint, sizeof v->hint, "%s", c.store_hint);
        return rc;
    }
    return EV_OK;
}
