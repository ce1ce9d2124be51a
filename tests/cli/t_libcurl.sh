#!/usr/bin/env bash
# t_libcurl.sh - evault does not link libcurl: vault/curl_load.c loads it
# when the S3 store sends its first request (CMakeLists.txt says why).
# Fails when the binary needs libcurl (its ELF NEEDED entries, or through
# another library), when a command that sends no S3 request maps it, or,
# with the S3 store, when a command that does cannot load it.
. "$(dirname "$0")/lib.sh"

# traced CODE CMD...: expect_rc with the dynamic loader's trace of every
# object it opens, dlopen included, in $T/ld.PID.
traced() {
    rm -f "$T"/ld.*
    LD_DEBUG=files LD_DEBUG_OUTPUT="$T/ld" expect_rc "$@"
}
# mapped: did the traced command open libcurl?
mapped() { cat "$T"/ld.* 2> /dev/null | grep -q 'file=libcurl'; }

if readelf -d "$EVAULT" | grep NEEDED | grep -q libcurl; then
    fail "evault links libcurl: $(readelf -d "$EVAULT" | grep NEEDED | grep libcurl)"
else ok; fi
if ldd "$EVAULT" | grep -q libcurl; then
    fail "evault gets libcurl at start-up: $(ldd "$EVAULT" | grep libcurl)"
else ok; fi

traced 0 "$EVAULT" --help
mapped && fail "evault --help mapped libcurl" || ok

V=$T/v
new_vault "$V"
export EVAULT_DIR=$V
# Over 1 MiB: smaller files stay in vault.pack, even on S3.
head -c 1500000 /dev/urandom > "$T/a.txt"
traced 0 "$EVAULT" add "$T/a.txt"
id=$(sed -n 's/^\([0-9][0-9]*\).*/\1/p' "$T/out" | head -n 1)
if [ "$EV_STORE" = s3 ]; then
    # The upload goes through the libcurl loaded now.
    mapped && ok || fail "add to an S3 vault did not load libcurl"
    traced 0 "$EVAULT" get "$id" -o "$T/a.out"
    mapped && ok || fail "get from an S3 vault did not load libcurl"
    # ls reads only the catalog: no request, so no libcurl.
    traced 0 "$EVAULT" ls
    mapped && fail "ls on an S3 vault mapped libcurl" || ok
else
    mapped && fail "add to a local vault mapped libcurl" || ok
    for cmd in "ls" "show $id" "get $id -o $T/a.out" "check --read-data" \
               "verify $T/a.txt"; do
        # shellcheck disable=SC2086 # the words of cmd are its arguments
        traced 0 "$EVAULT" $cmd
        mapped && fail "evault $cmd on a local vault mapped libcurl" || ok
    done
fi
cmp -s "$T/a.out" "$T/a.txt" && ok || fail "get: bytes differ"
finish
