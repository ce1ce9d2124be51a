#!/usr/bin/env python3
"""age_tty.py PASSFILE CMD [ARGS...] - runs CMD (Debian's age) on a
pseudo-terminal and types the passphrase held in PASSFILE (its first line)
at every passphrase prompt, since age reads passphrases from the
terminal only.  CMD must take its input and output as file arguments
(age -p -o OUT IN, age -d -o OUT IN).  Exits with CMD's exit status; what
CMD printed on the terminal goes to our stderr."""
import os
import pty
import sys
import time


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: age_tty.py PASSFILE CMD [ARGS...]\n")
        return 2
    with open(sys.argv[1], "rb") as f:
        passphrase = f.read().split(b"\n")[0]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[2], sys.argv[2:])
    seen = b""
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break  # the child closed the terminal
        if not chunk:
            break
        sys.stderr.buffer.write(chunk)
        seen += chunk
        if b"passphrase" in seen.lower() and seen.rstrip().endswith(b":"):
            seen = b""
            time.sleep(0.2)  # let age turn the echo off first
            os.write(fd, passphrase + b"\n")
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
