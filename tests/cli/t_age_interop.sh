#!/usr/bin/env bash
# t_age_interop.sh - vault/age.c against Debian's age (1.1.1), through the
# tests/age_tool helper: what evault writes (1 and 3 X25519 recipients,
# sizes around the 64 KiB chunk) age -d reads; what age writes (-r, -a, -p)
# evault reads; keys made by either side work on the other; on the
# tests/age corpus, age accepts every good_* file and refuses the fail_*
# files evault refuses (but two where evault is stricter than age 1.1.1).
# Nothing is skipped: a missing age or age_tool is a failure.
. "$(dirname "$0")/lib.sh"
SRC=${EV_TEST_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
AGE_TOOL=${AGE_TOOL:-$(dirname "$EVAULT")/tests/age_tool}
C=$SRC/age
TTY=(python3 "$SRC/cli/age_tty.py")

for tool in age age-keygen python3; do
    command -v "$tool" > /dev/null || { fail "$tool is missing (apt install age python3)"; finish; }
done
[ -x "$AGE_TOOL" ] || { fail "no age_tool at '$AGE_TOOL' (build target age_tool, see tests/CMakeLists.txt)"; finish; }

# same FILE1 FILE2 WHAT: the two files are byte-identical.
same() { if cmp -s "$1" "$2"; then ok; else fail "$3: output differs"; fi; }

# Keys: three from age-keygen, one from evault.
for k in 1 2 3; do age-keygen -o "$T/k$k" 2> /dev/null; done
R1=$(age-keygen -y "$T/k1"); R2=$(age-keygen -y "$T/k2"); R3=$(age-keygen -y "$T/k3")
"$AGE_TOOL" keygen > "$T/ev.keys" || fail "age_tool keygen"
head -n 1 "$T/ev.keys" > "$T/kev"
REV=$(sed -n 2p "$T/ev.keys")
if [ "$(age-keygen -y "$T/kev")" = "$REV" ]; then ok; else fail "age derives another recipient from evault's identity"; fi

for n in 0 1 65535 65536 65537 196608 200000; do
    head -c "$n" /dev/urandom > "$T/p"
    # evault writes, age reads
    expect_rc 0 "$AGE_TOOL" encrypt "$R1" < "$T/p"
    cp "$T/out" "$T/e1.age"
    expect_rc 0 age -d -i "$T/k1" "$T/e1.age"
    same "$T/p" "$T/out" "evault -> age, $n bytes"
    expect_rc 0 "$AGE_TOOL" encrypt "$R1" "$R2" "$R3" < "$T/p"
    cp "$T/out" "$T/e3.age"
    expect_rc 0 age -d -i "$T/k3" "$T/e3.age"
    same "$T/p" "$T/out" "evault -> age, 3 recipients, $n bytes"
    expect_rc 0 age -d -i "$T/k2" "$T/e3.age"
    same "$T/p" "$T/out" "evault -> age, 3 recipients (2nd), $n bytes"
    # age writes, evault reads: binary and armored, to evault's key too
    age -r "$R1" -o "$T/a.age" "$T/p" || fail "age -r, $n bytes"
    expect_rc 0 "$AGE_TOOL" decrypt "$T/k1" < "$T/a.age"
    same "$T/p" "$T/out" "age -> evault, $n bytes"
    age -a -r "$R2" -r "$REV" -o "$T/a.asc" "$T/p" || fail "age -a, $n bytes"
    expect_rc 0 "$AGE_TOOL" decrypt "$T/kev" < "$T/a.asc"
    same "$T/p" "$T/out" "age -a -> evault, $n bytes"
    expect_rc 1 "$AGE_TOOL" decrypt "$T/k3" < "$T/a.asc"
done

# Passphrases: age -p (on a terminal) -> evault, a few sizes.
PASS=$T/passphrase
printf 'interop passphrase \xc3\xa9\n' > "$PASS"
for n in 0 65536 100000; do
    head -c "$n" /dev/urandom > "$T/p"
    "${TTY[@]}" "$PASS" age -p -o "$T/s.age" "$T/p" 2> /dev/null || fail "age -p, $n bytes"
    expect_rc 0 "$AGE_TOOL" decrypt-pass "$PASS" < "$T/s.age"
    same "$T/p" "$T/out" "age -p -> evault, $n bytes"
done
"${TTY[@]}" "$PASS" age -a -p -o "$T/s.asc" "$T/p" 2> /dev/null || fail "age -a -p"
expect_rc 0 "$AGE_TOOL" decrypt-pass "$PASS" < "$T/s.asc"
same "$T/p" "$T/out" "age -a -p -> evault"
printf 'wrong\n' > "$T/wrong"
expect_rc 1 "$AGE_TOOL" decrypt-pass "$T/wrong" < "$T/s.asc"
grep -q EV_AGE_NO_IDENTITY "$T/err" && ok || fail "wrong passphrase: not EV_AGE_NO_IDENTITY"

# A changed byte in evault's output: both refuse.
cp "$T/e1.age" "$T/t.age"
printf 'X' | dd of="$T/t.age" bs=1 seek=300 conv=notrunc 2> /dev/null
expect_rc 1 "$AGE_TOOL" decrypt "$T/k1" < "$T/t.age"
expect_rc 1 age -d -i "$T/k1" "$T/t.age"

# The corpus: age agrees with evault on every vector.
for f in "$C"/good_*.age; do
    case $(basename "$f") in
    good_scrypt*)
        rm -f "$T/d"
        "${TTY[@]}" "$C/passphrase.txt" age -d -o "$T/d" "$f" 2> /dev/null \
            && ok || fail "age refuses $(basename "$f")"
        [ -e "$T/d" ] || : > "$T/d" # age -o makes no file for no output
        expect_rc 0 "$AGE_TOOL" decrypt-pass "$C/passphrase.txt" < "$f" ;;
    *)
        age -d -i "$C/key_a.txt" "$f" > "$T/d" 2> /dev/null \
            && ok || fail "age refuses $(basename "$f")"
        expect_rc 0 "$AGE_TOOL" decrypt "$C/key_a.txt" < "$f" ;;
    esac
    if [ "$(basename "$f")" = good_empty.age ]; then
        [ -s "$T/d" ] || [ -s "$T/out" ] && fail "good_empty.age: output not empty" || ok
    else
        same "$C/plain.txt" "$T/d" "age on $(basename "$f")"
        same "$C/plain.txt" "$T/out" "evault on $(basename "$f")"
    fi
done
for f in "$C"/fail_*.age; do
    name=$(basename "$f")
    case $name in
    fail_scrypt_work23.age | fail_scrypt_leading_zero.age)
        expect_rc 1 "$AGE_TOOL" decrypt-pass "$C/passphrase.txt" < "$f"
        "${TTY[@]}" "$C/passphrase.txt" age -d -o "$T/d" "$f" > /dev/null 2>&1 \
            && fail "age accepts $name" || ok ;;
    fail_scrypt_mixed.age | fail_too_many_stanzas.age)
        # age 1.1.1 reads these; the spec (scrypt alone) and evault's cap
        # (20 stanzas) refuse them.
        expect_rc 1 "$AGE_TOOL" decrypt "$C/key_a.txt" < "$f"
        expect_rc 0 age -d -i "$C/key_a.txt" "$f" ;;
    *)
        expect_rc 1 "$AGE_TOOL" decrypt "$C/key_a.txt" < "$f"
        expect_rc 1 age -d -i "$C/key_a.txt" "$f" ;;
    esac
done

finish
