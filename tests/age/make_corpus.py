#!/usr/bin/env python3
"""make_corpus.py - writes the hand-built age vectors of tests/age/
(good_grease.age and every fail_*.age but fail_no_identity.age, which
Debian's age made) with a second, independent implementation of the format
in Python ('cryptography' package), so that evault's parser is checked
against more than itself.  Deterministic: the randomness is SHA-256 of a
label, so running it again rewrites the same bytes.

Run from anywhere:  python3 tests/age/make_corpus.py
The Debian-made files (good_x25519.age, good_multi.age, good_armor.age,
good_empty.age, good_scrypt*.age, fail_no_identity.age) and the key files
are described in README; this script does not touch them.
"""
import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey)
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.serialization import (
    Encoding, PublicFormat)

HERE = os.path.dirname(os.path.abspath(__file__))
CHUNK = 65536
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def rand(label, n):
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%s/%d" % (label.encode(), i)).digest()
        i += 1
    return out[:n]


def b64(b):
    return base64.b64encode(b).rstrip(b"=").decode()


def hkdf(ikm, salt, info):
    prk = hmac.new(salt if salt else bytes(32), ikm, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def aead(key, pt, nonce=bytes(12)):
    return ChaCha20Poly1305(key).encrypt(nonce, pt, None)


# --- Bech32, only to read key_a.txt ---
CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def bech32_data(s):
    s = s.lower()
    pos = s.rindex("1")
    vals = [CHARSET.index(c) for c in s[pos + 1:-6]]
    acc, bits, out = 0, 0, bytearray()
    for v in vals:
        acc = (acc << 5) | v
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    return bytes(out)


def identity(name):
    with open(os.path.join(HERE, name)) as f:
        for line in f:
            if line.startswith("AGE-SECRET-KEY-1"):
                return bech32_data(line.strip())
    raise SystemExit("no key in " + name)


def public(sk):
    return X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)


# --- Header ---
def stanza(args, body, final_line=True):
    text = "-> " + " ".join(args) + "\n"
    enc = b64(body)
    for i in range(0, len(enc), 64):
        text += enc[i:i + 64] + "\n"
    if final_line and len(enc) % 64 == 0:
        text += "\n"  # a full last line needs an empty one after it
    return text


def x25519_stanza(file_key, recipient, label):
    eph = X25519PrivateKey.from_private_bytes(rand(label, 32))
    share = eph.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    shared = eph.exchange(X25519PublicKey.from_public_bytes(recipient))
    key = hkdf(shared, share + recipient, b"age-encryption.org/v1/X25519")
    return ["X25519", b64(share)], aead(key, file_key)


def scrypt_stanza(file_key, passphrase, label, log_n):
    salt = rand(label, 16)
    if log_n <= 16:
        key = Scrypt(salt=b"age-encryption.org/v1/scrypt" + salt, length=32,
                     n=1 << log_n, r=8, p=1).derive(passphrase)
        body = aead(key, file_key)
    else:
        body = rand(label + "/body", 32)  # never opened: refused first
    return ["scrypt", b64(salt), str(log_n)], body


def header(stanzas_text, file_key, mac_key_from=None, version="v1"):
    text = "age-encryption.org/" + version + "\n" + stanzas_text + "---"
    mk = hkdf(mac_key_from or file_key, b"", b"header")
    mac = hmac.new(mk, text.encode(), hashlib.sha256).digest()
    return (text + " " + b64(mac) + "\n").encode()


# --- Payload ---
def payload(file_key, nonce, plain, marks=None, extra_empty_last=False):
    """marks: the 'last' flag of each chunk; default: only the final one."""
    key = hkdf(file_key, nonce, b"payload")
    chunks = [plain[i:i + CHUNK] for i in range(0, len(plain), CHUNK)] or [b""]
    if extra_empty_last:
        chunks.append(b"")
    if marks is None:
        marks = [0] * (len(chunks) - 1) + [1]
    out = nonce
    for i, (c, last) in enumerate(zip(chunks, marks)):
        n = i.to_bytes(11, "big") + bytes([last])
        out += aead(key, c, n)
    return out


def armor(data, cols=64):
    enc = base64.b64encode(data).decode()
    lines = [enc[i:i + cols] for i in range(0, len(enc), cols)]
    return ("-----BEGIN AGE ENCRYPTED FILE-----\n" + "\n".join(lines) +
            "\n-----END AGE ENCRYPTED FILE-----\n").encode()


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def main():
    sk_a = identity("key_a.txt")
    pk_a = public(sk_a)
    with open(os.path.join(HERE, "passphrase.txt"), "rb") as f:
        passphrase = f.read().split(b"\n")[0]
    with open(os.path.join(HERE, "plain.txt"), "rb") as f:
        plain = f.read()
    fk = rand("file key", 16)
    nonce = rand("nonce", 16)
    args, body = x25519_stanza(fk, pk_a, "eph a")
    st_a = stanza(args, body)
    good_hdr = header(st_a, fk)
    good = good_hdr + payload(fk, nonce, plain)
    big = rand("big", CHUNK)  # exactly one full chunk

    # Good: an unknown stanza (body of exactly 64 columns, then the empty
    # final line) before ours must be skipped.
    grease = stanza(["grease-0R*x", "a", "{~}"], rand("grease", 48))
    write("good_grease.age", header(grease + st_a, fk) + payload(fk, nonce, plain))

    # Header failures.
    write("fail_version.age", header(st_a, fk, version="v2") +
          payload(fk, nonce, plain))
    write("fail_header_line.age",
          header(st_a + "garbage line\n", fk) + payload(fk, nonce, plain))
    write("fail_too_many_stanzas.age",
          header(stanza(["other"], b"x") * 20 + st_a, fk) +
          payload(fk, nonce, plain))
    write("fail_stanza_args.age",
          header(stanza(args + ["extra"], body), fk) +
          payload(fk, nonce, plain))
    write("fail_stanza_empty_arg.age",
          header(stanza([args[0], "", args[1]], body), fk) +
          payload(fk, nonce, plain))
    write("fail_stanza_body64.age",
          header(stanza(["grease"], rand("g64", 48), final_line=False) + st_a,
                 fk) + payload(fk, nonce, plain))
    write("fail_stanza_body_length.age",
          header(stanza(args, body + b"\x00"), fk) + payload(fk, nonce, plain))
    write("fail_low_order.age",
          header(stanza(["X25519", b64(bytes(32))], body), fk) +
          payload(fk, nonce, plain))
    share = args[1]
    bad = share[:-1] + B64[B64.index(share[-1]) | 1]  # nonzero spare bits
    write("fail_base64.age",
          header(stanza(["X25519", bad], body), fk) + payload(fk, nonce, plain))
    write("fail_base64_padding.age",
          header(st_a.replace(b64(body), b64(body) + "="), fk) +
          payload(fk, nonce, plain))
    sargs, sbody = scrypt_stanza(fk, passphrase, "salt 23", 23)
    write("fail_scrypt_work23.age",
          header(stanza(sargs, sbody), fk) + payload(fk, nonce, plain))
    sargs, sbody = scrypt_stanza(fk, passphrase, "salt 10", 10)
    write("fail_scrypt_leading_zero.age",
          header(stanza(sargs[:2] + ["010"], sbody), fk) +
          payload(fk, nonce, plain))
    write("fail_scrypt_mixed.age",
          header(stanza(sargs, sbody) + st_a, fk) + payload(fk, nonce, plain))

    # MAC failure: a well-formed MAC under another key.
    write("fail_mac.age", header(st_a, fk, mac_key_from=rand("other", 16)) +
          payload(fk, nonce, plain))

    # Payload failures.
    flipped = bytearray(good)
    flipped[len(good_hdr) + 16 + 5] ^= 0x01
    write("fail_payload_flip.age", bytes(flipped))
    write("fail_truncated_header.age", good_hdr)
    write("fail_truncated_nonce.age", good_hdr + nonce[:10])
    write("fail_truncated_no_chunk.age", good_hdr + nonce)
    write("fail_truncated_mid_chunk.age", good[:len(good_hdr) + 16 + 40])
    write("fail_truncated_in_tag.age", good_hdr + nonce + good[-10:])
    write("fail_missing_final.age", good_hdr + payload(fk, nonce, big, [0]))
    write("fail_trailing.age", good_hdr + payload(fk, nonce, big) + b"\n")
    write("fail_empty_last.age",
          good_hdr + payload(fk, nonce, big, extra_empty_last=True))

    # Armor failures (the armored content itself is good).
    write("fail_armor_trailing.age", armor(good) + b"garbage\n")
    write("fail_armor_short_line.age", armor(good, cols=60))
    write("fail_armor_no_end.age",
          armor(good).replace(b"-----END AGE ENCRYPTED FILE-----\n", b""))
    write("good_armor_crlf.age", armor(good).replace(b"\n", b"\r\n"))


if __name__ == "__main__":
    main()
