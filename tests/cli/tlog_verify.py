#!/usr/bin/python3
"""tlog_verify.py FILE PROOF KEY - an independent check of what evault's
proofs claim, written from the C2SP signed-note, tlog-checkpoint and
tlog-proof specifications and RFC 9162 alone (Python's hashlib and the
cryptography package's Ed25519), sharing no code with evault.

Exit 0 and print "OK" when the checkpoint is signed by KEY, the disclosed
entry is included in it, and FILE's SHA-256 and size are the entry's.
Exit 1 with a reason otherwise."""
import base64
import hashlib
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    path, proof_path, key_path = sys.argv[1:4]
    key = open(key_path).read().strip()
    name, keyid_hex, key_b64 = key.split("+", 2)
    raw = base64.b64decode(key_b64, validate=True)
    if len(raw) != 33 or raw[0] != 1:
        fail("not an Ed25519 verifier key")
    pub = raw[1:]
    keyid = hashlib.sha256(name.encode() + b"\n" + b"\x01" + pub).digest()[:4]
    if keyid.hex() != keyid_hex:
        fail("key id does not match the key")

    text = open(proof_path, "rb").read().decode()
    lines = text.split("\n")
    if lines[0] != "c2sp.org/tlog-proof@v1":
        fail("not a tlog proof")
    i = 1
    extra = b""
    if lines[i].startswith("extra "):
        extra = base64.b64decode(lines[i][6:], validate=True)
        i += 1
    if not lines[i].startswith("index "):
        fail("no index line")
    index = int(lines[i][6:])
    i += 1
    path_hashes = []
    while lines[i] != "":
        path_hashes.append(base64.b64decode(lines[i], validate=True))
        i += 1
    note = "\n".join(lines[i + 1:])

    # signed note: text, blank line, signature lines
    sep = note.rfind("\n\n")
    body, sigs = note[: sep + 1], note[sep + 2:]
    verified = False
    for line in sigs.strip("\n").split("\n"):
        if not line.startswith("\u2014 "):
            fail("bad signature line")
        signer, sig_b64 = line[2:].split(" ")
        sig = base64.b64decode(sig_b64, validate=True)
        if signer == name and sig[:4] == keyid:
            Ed25519PublicKey.from_public_bytes(pub).verify(sig[4:], body.encode())
            verified = True
    if not verified:
        fail("no signature by the key")
    origin, size, root_b64 = body.split("\n")[:3]
    size = int(size)
    root = base64.b64decode(root_b64, validate=True)
    if origin != name:
        fail("checkpoint origin is not the key's name")

    # RFC 9162 2.1.3.2
    h = hashlib.sha256(b"\x00" + extra).digest()
    fn, sn = index, size - 1
    if index >= size:
        fail("index beyond the tree")
    for p in path_hashes:
        if sn == 0:
            fail("path too long")
        if fn % 2 == 1 or fn == sn:
            h = hashlib.sha256(b"\x01" + p + h).digest()
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            h = hashlib.sha256(b"\x01" + h + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0 or h != root:
        fail("inclusion proof does not lead to the signed root")

    fields = dict(l.split(" ", 1) for l in extra.decode().strip().split("\n")[1:])
    data = open(path, "rb").read()
    if fields["sha256"] != hashlib.sha256(data).hexdigest():
        fail("file SHA-256 differs from the entry's")
    if int(fields["size"]) != len(data):
        fail("file size differs from the entry's")
    print("OK record %s entered %s" % (fields["record"], fields["time"]))


if __name__ == "__main__":
    try:
        main()
    except (ValueError, IndexError, KeyError) as e:
        fail("malformed input: %s" % e)
    except Exception as e:  # cryptography's InvalidSignature
        fail("%s: %s" % (type(e).__name__, e))
