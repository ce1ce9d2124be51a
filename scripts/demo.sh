#!/usr/bin/env bash
# scripts/demo.sh EVAULT - the main job in two minutes: create a vault in a
# temporary folder, add sample evidence, list it, read a file back, check.
set -euo pipefail
E=${1:-build/evault}
E=$(cd "$(dirname "$E")" && pwd)/$(basename "$E")
D=$(mktemp -d "${TMPDIR:-/tmp}/evault-demo.XXXXXX")
trap 'rm -rf "$D"' EXIT
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

# A demo passphrase in a file (a real user types it; it is never an argument).
printf 'demo passphrase, not for real evidence\n' > "$D/passphrase"
export EVAULT_PASSPHRASE_FILE=$D/passphrase
export EVAULT_DIR=$D/vault

mkdir -p "$D/evidence/interviews"
cat > "$D/evidence/interviews/witness-A.txt" <<'TXT'
Statement of witness A, recorded 2024-03-01.
I saw two men in plain clothes take him from the market at noon.
TXT
head -c 3000000 /dev/urandom > "$D/evidence/checkpoint.mp4"
seq 1 50000 > "$D/evidence/call-log.csv"

say "evault init $D/vault --operator 'Demo Lawyer'"
"$E" init "$D/vault" --operator "Demo Lawyer"
say "evault add evidence/ --case K-17 --source S1 --tag detention"
"$E" add "$D/evidence" --case K-17 --source S1 --tag detention
say "echo '...' | evault add - --case K-17 --source S2"
echo "Testimony of S2: my brother was called to the police three times." \
    | "$E" add - --case K-17 --source S2
say "evault ls --case K-17"
"$E" ls --case K-17
say "evault show 2"
"$E" show 2
say "evault get 2 -o checkpoint.out.mp4 && cmp checkpoint.out.mp4 evidence/checkpoint.mp4"
"$E" get 2 -o "$D/checkpoint.out.mp4"
cmp "$D/checkpoint.out.mp4" "$D/evidence/checkpoint.mp4" && echo "identical to the original"
say "evault check --read-data"
"$E" check --read-data
say "evault seal --case K-17 --note 'for the hearing'"
"$E" seal --case K-17 --note "for the hearing"
say "evault key export-public -o vault.pub && evault proof 2 -o checkpoint.tlog-proof"
"$E" key export-public -o "$D/vault.pub"
"$E" proof 2 -o "$D/checkpoint.tlog-proof"
say "evault verify checkpoint.mp4 --proof checkpoint.tlog-proof --key vault.pub   (no vault needed)"
env -u EVAULT_DIR -u EVAULT_PASSPHRASE_FILE "$E" verify "$D/checkpoint.out.mp4" \
    --proof "$D/checkpoint.tlog-proof" --key "$D/vault.pub"
say "evault log --record 2"
"$E" log --record 2
say "grep -r 'witness' vault/   (names never appear in the vault folder)"
if grep -rq 'witness' "$D/vault"; then echo "FOUND (this is a bug)"; exit 1; else echo "not found"; fi
echo
echo "demo finished: the vault in $D was removed."
