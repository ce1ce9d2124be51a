#!/usr/bin/env bash
# t_import.sh - importing bundles: a good one adds its records with their
# provenance, once; every kind of bad bundle is rejected whole and adds
# nothing.  Bad bundles are the sender's real bundle, opened, altered with
# Python's tarfile, and encrypted again with Debian's age.
. "$(dirname "$0")/lib.sh"
command -v age > /dev/null || { fail "age is missing"; finish; }
PY=/usr/bin/python3
ev() { "$EVAULT" "$@"; }

init_vault "$T/A" --operator "Lawyer A" > /dev/null 2>&1
init_vault "$T/B" --operator "NGO B" > /dev/null 2>&1
ev id --export -o "$T/a.contact" --vault "$T/A"
ev id --export -o "$T/b.contact" --vault "$T/B"
ev contact add B --file "$T/b.contact" --vault "$T/A" > /dev/null
ev contact add A --file "$T/a.contact" --vault "$T/B" > /dev/null
BR=$(ev id --json --vault "$T/B" | $PY -c 'import json,sys; print(json.load(sys.stdin)["age"])')
mkdir -p "$T/in"
echo "statement of a witness" > "$T/in/w.txt"
head -c 1500000 /dev/urandom > "$T/in/clip.mp4"
ev add "$T/in" --case K1 --vault "$T/A" > /dev/null
expect_rc 0 ev share --case K1 --to B --seal -o "$T/good.age" --vault "$T/A"
# The sender can open its own bundle: the plaintext tar to alter.
expect_rc 0 ev open "$T/good.age" -o "$T/good.tar" --vault "$T/A"

count() { ev ls --json --vault "$T/B" | wc -l; }
reject() { # reject NAME BUNDLE MESSAGE-PATTERN
    local before; before=$(count)
    ev import "$2" --vault "$T/B" > "$T/out" 2> "$T/err"
    local rc=$?
    if [ "$rc" -ne 0 ] && grep -qiE "$3" "$T/err" && [ "$(count)" -eq "$before" ]; then ok
    else fail "$1: exit $rc, $(head -2 "$T/err"), records $before -> $(count)"; fi
}
seal() { age -r "$BR" -o "$2" "$1"; } # seal TAR AGE

# alter NAME PYTHON: run PYTHON on (src, dst) tar paths, then encrypt.
alter() {
    $PY - "$T/good.tar" "$T/$1.tar" <<PYEOF
import io, sys, tarfile
src, dst = sys.argv[1], sys.argv[2]
t = tarfile.open(src)
members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]
def add(out, m, data):
    if data is not None:
        m.size = len(data)
        out.addfile(m, io.BytesIO(data))
    else:
        out.addfile(m)
def entry(name, data=b"", kind=tarfile.REGTYPE, link=""):
    m = tarfile.TarInfo(name); m.type = kind; m.linkname = link; m.size = len(data)
    return m, (data if kind == tarfile.REGTYPE else None)
$2
out = tarfile.open(dst, "w", format=tarfile.PAX_FORMAT)
for m, data in members:
    add(out, m, data)
out.close()
PYEOF
    seal "$T/$1.tar" "$T/$1.age"
}

alter flip 'members = [(m, (d[:100] + bytes([d[100] ^ 1]) + d[101:]) if m.name.endswith("clip.mp4") else d) for m, d in members]'
reject "altered file" "$T/flip.age" "does not match its SHA-256|altered"
alter absolute 'members.append(entry("/tmp/evil.txt", b"x"))'
reject "absolute path" "$T/absolute.age" "unexpected or unsafe name"
alter dotdot 'members.append(entry("files/9/../../evil", b"x"))'
reject "dot-dot path" "$T/dotdot.age" "unexpected or unsafe name"
alter symlink 'members.append(entry("files/9/link", kind=tarfile.SYMTYPE, link="/etc/passwd"))'
reject "symbolic link" "$T/symlink.age" "not a regular file"
alter device 'members.append(entry("files/9/dev", kind=tarfile.CHRTYPE))'
reject "device node" "$T/device.age" "not a regular file"
alter big 'members = [(m, (d + b"x" * (2 << 20)) if m.name == "README.txt" else d) for m, d in members]'
reject "oversized entry" "$T/big.age" "oversized"
alter unknown 'members.append(entry("run-me.sh", b"rm -rf /"))'
reject "unknown entry" "$T/unknown.age" "unexpected or unsafe name"
alter manifest 'members = [(m, d.replace(b"w.txt", b"x.txt") if m.name == "MANIFEST.json" else d) for m, d in members]'
reject "altered manifest" "$T/manifest.age" "signature"
alter order 'members = [x for x in members if x[0].name.startswith("files/")] + [x for x in members if not x[0].name.startswith("files/")]'
reject "files before the signed lists" "$T/order.age" "before the signed lists"
# The message named the file after the manifest holding its name was
# freed (a use after free, found by tests/fuzz/fuzz_bundle).
alter proof 'members = [(m, d.replace(b"\nindex ", b"\nindex 1") if m.name.startswith("proofs/") else d) for m, d in members]'
reject "a proof that fails" "$T/proof.age" "the proof of 'files/[0-9]+/(w.txt|clip.mp4)' fails"
alter dropped 'members = [x for x in members if not x[0].name.endswith("w.txt")]'
reject "a file missing" "$T/dropped.age" "differ|manifest"
head -c 1000000 "$T/good.age" > "$T/cut.age"
reject "truncated bundle" "$T/cut.age" "cut short|authentication|fails"
age -r "$(age-keygen 2> /dev/null | grep -o 'age1.*' || true)" -o "$T/other.age" "$T/good.tar" 2> /dev/null ||
    { age-keygen -o "$T/k" 2> /dev/null; age -r "$(age-keygen -y "$T/k")" -o "$T/other.age" "$T/good.tar"; }
before=$(count)
ev import "$T/other.age" --vault "$T/B" > /dev/null 2>&1; rc=$?
[ "$rc" -eq 4 ] && [ "$(count)" -eq "$before" ] && ok || fail "bundle for another vault: exit $rc"
# An unknown sender: the same good bundle once the contact is removed.
ev contact rm A --vault "$T/B" > /dev/null
reject "unknown sender" "$T/good.age" "no pinned contact"
ev contact add A --file "$T/a.contact" --vault "$T/B" > /dev/null

# The good bundle: all records, with provenance, once.
expect_rc 0 ev import "$T/good.age" --vault "$T/B"
[ "$(count)" -eq 2 ] && ok || fail "good import added $(count)"
ev get 1 -o "$T/got1" --vault "$T/B" && ev get 2 -o "$T/got2" --vault "$T/B" &&
    cat "$T/got1" "$T/got2" | sha256sum > "$T/s1" && cat "$T/in/clip.mp4" "$T/in/w.txt" | sha256sum > "$T/s2" &&
    cmp -s "$T/s1" "$T/s2" && ok || fail "imported bytes differ"
expect_rc 0 ev show 1 --json --vault "$T/B"
grep -q '"note":"imported from A (fingerprint [0-9A-Z-]*), their record' "$T/out" && ok ||
    fail "no provenance: $(cat "$T/out")"
expect_rc 0 ev log --json --vault "$T/B"
grep -q '"action":"import".*"records":"1,2".*bundle [0-9a-f]\{64\}' "$T/out" && ok || fail "import not logged"
reject "the same bundle twice" "$T/good.age" "imported already"
expect_rc 0 ev check --read-data --vault "$T/B"
finish
