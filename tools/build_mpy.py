# Compiles every module of lib/ikev2 to .mpy with mpy-cross, into
# build/mpy/ikev2/ (the tree the device and `make demo` load).
import os
import shutil
import subprocess
import sys

from . import LIB, ROOT


def mpy_cross():
    exe = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    return exe if os.path.exists(exe) else shutil.which("mpy-cross")


def sources():
    out = []
    for d, _, files in os.walk(os.path.join(LIB, "ikev2")):
        out += [os.path.join(d, f) for f in sorted(files) if f.endswith(".py")]
    return sorted(out)


def build(dest=None, quiet=False):
    # -> (dest, [(source, error)]) ; errors are mpy-cross's own messages
    dest = dest or os.path.join(ROOT, "build", "mpy")
    tool = mpy_cross()
    if not tool:
        raise SystemExit("mpy-cross not found: run `make mpy` (it installs .venv)")
    errors = []
    srcs = sources()
    for src in srcs:
        rel = os.path.relpath(src, LIB)
        out = os.path.join(dest, rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        r = subprocess.run([tool, "-o", out, "-s", rel, src],
                           capture_output=True, text=True)
        if r.returncode:
            errors.append((rel, (r.stderr or r.stdout).strip()))
    if not quiet:
        size = sum(os.path.getsize(os.path.join(d, f))
                   for d, _, fs in os.walk(dest) for f in fs if f.endswith(".mpy"))
        print("mpy: %d modules -> %s (%d bytes of .mpy)%s"
              % (len(srcs), os.path.relpath(dest, ROOT), size,
                 "" if not errors else ", %d FAILED" % len(errors)))
        for rel, err in errors:
            print("  %s: %s" % (rel, err))
    return dest, errors


def main():
    _, errors = build()
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
