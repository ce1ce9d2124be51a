#!/usr/bin/env python3
"""mkman.py - writes docs/evault.1 from the built evault's own help texts.

    docs/mkman.py build/evault > docs/evault.1

The man page is generated, not written by hand, so that it says exactly
what `evault help COMMAND` says; tests/cli/t_man.sh fails when the
committed page and the binary disagree.
"""
import re
import subprocess
import sys

ENV = {
    "EVAULT_DIR": "The vault, when --vault is not given (default: the "
                  "current directory).",
    "EVAULT_PASSPHRASE_FILE": "A file whose first line is the passphrase, "
                              "when neither --passphrase-file nor "
                              "--passphrase-fd is given.  For init and "
                              "recover, the new passphrase.",
    "EVAULT_IDENTITY_FILE": "An age identity file (AGE-SECRET-KEY-1...) "
                            "that opens the vault through a member slot, "
                            "when no passphrase option is given.",
    "EVAULT_OPERATOR": "Who acts, recorded in the custody log, when "
                       "--operator is not given.",
    "AWS_ACCESS_KEY_ID": "With AWS_SECRET_ACCESS_KEY (and "
                         "AWS_SESSION_TOKEN, if any): the credentials for "
                         "a vault whose blobs are in an S3 bucket.  Never "
                         "stored in the vault.",
    "AWS_SHARED_CREDENTIALS_FILE": "The credentials file read when "
                                   "AWS_ACCESS_KEY_ID is not set (default "
                                   "~/.aws/credentials), in the section "
                                   "named by AWS_PROFILE (default: "
                                   "default).",
    "AWS_SECRET_ACCESS_KEY": "The secret half of AWS_ACCESS_KEY_ID.",
    "AWS_SESSION_TOKEN": "A temporary session's token, with "
                         "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.",
    "AWS_PROFILE": "The section of the credentials file to use (default: "
                   "default).",
}


def env_names(text):
    """Environment variables a help text names: $NAME, or AWS_ words."""
    return set(re.findall(r"\$([A-Z][A-Z0-9_]+)", text)) | \
        set(re.findall(r"\b(AWS_[A-Z_]+[A-Z])\b", text))


def run(binary, *args):
    r = subprocess.run([binary, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("mkman: %s %s failed" % (binary, " ".join(args)))
    return r.stdout


def esc(line):
    line = line.replace("\\", "\\e").replace("-", "\\-")
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line


def block(text):
    out = [".nf"]
    out += [esc(l) for l in text.rstrip("\n").split("\n")]
    out.append(".fi")
    return out


def main():
    binary = sys.argv[1]
    top = run(binary, "--help")
    # "evault 0.1.0 (vault format 1)": the version is the second word
    version = run(binary, "--version").split()[1]
    commands = []
    in_cmds = False
    for line in top.split("\n"):
        if line.startswith("Commands:"):
            in_cmds = True
            continue
        if in_cmds:
            m = re.match(r"  (\S+)\s+(.*)", line)
            if not m:
                break
            commands.append((m.group(1), m.group(2)))
    intro, _, rest = top.partition("Commands:")
    after = rest.split("\n\n", 1)[1]
    general, _, codes = after.partition("Exit codes:")
    codes = codes.split("\n\n")[0]

    out = ['.TH EVAULT 1 "" "evault %s" "User Commands"' % version,
           ".SH NAME",
           "evault \\- an encrypted, compressed evidence vault",
           ".SH SYNOPSIS",
           ".B evault",
           ".I command",
           "[options] [arguments]",
           ".SH DESCRIPTION",
           "evault keeps evidence (files, testimonies, hashes of files that "
           "may not be kept) encrypted, compressed and padded in a vault "
           "directory, with a tamper-evident chain of custody, court-ready "
           "proofs, signed and encrypted bundles for partners, and team keys "
           "with lockdown and trustee recovery.",
           ".PP"]
    out += block(general.strip())
    out.append(".SH COMMANDS")
    envs = set()
    for name, summary in commands:
        text = run(binary, "help", name)
        envs.update(env_names(text))
        out.append(".SS %s" % esc(name))
        out.append(esc(summary))
        out.append(".PP")
        out += block(text)
    envs.update(env_names(top))
    out.append(".SH ENVIRONMENT")
    for name in sorted(envs):
        out.append(".TP")
        out.append(".B %s" % esc(name))
        out.append(esc(ENV.get(name, "See the commands that name it above.")))
    out.append(".SH EXIT STATUS")
    for line in codes.strip("\n").split("\n"):
        m = re.match(r"\s*(\d+)\s+(.*)", line)
        if m:
            out += [".TP", ".B %s" % m.group(1), esc(m.group(2))]
    out += [".SH FILES",
            ".TP", ".I DIR/vault.db",
            "The catalog (SQLite, WAL mode); every sensitive field encrypted.",
            ".TP", ".I DIR/blobs/",
            "Encrypted, compressed, padded file contents, named by keyed hash.",
            ".TP", ".I DIR/tmp/, DIR/lock",
            "Blobs being written (encrypted); the writers' lock.",
            ".SH SEE ALSO",
            "age(1), minisign(1), gfcombine(1); in the source: README.md, "
            "docs/GUIDE.md, docs/COURT.md, docs/FORMAT.md, SECURITY.md."]
    sys.stdout.write("\n".join(out) + "\n")


main()
