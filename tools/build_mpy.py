# Compiles every module of lib/ikev2 to .mpy with mpy-cross, into
# build/mpy/ikev2/ (the tree the device and `make demo` load).
#
# Native code (@micropython.viper / .native, e.g. crypto/ecnative.py) is
# machine code for one architecture: mpy-cross needs -march.  build() passes
# the architecture of the MicroPython unix binary beside this Python (the
# one the tests, the bench and the lab run) unless told another (deploy.py
# passes the board's).  Modules without native code come out the same
# whatever the -march (their .mpy header names no architecture).
import ast
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tokenize

from . import LIB, ROOT


def mpy_cross():
    exe = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    return exe if os.path.exists(exe) else shutil.which("mpy-cross")


# mpy-cross -march names, by MicroPython's architecture number (the bits
# from 10 up of sys.implementation._mpy, bits 2-7 of an .mpy's third byte)
ARCHS = (None, "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em",
         "armv7emsp", "armv7emdp", "xtensa", "xtensawin", "rv32imc", "rv64imc")
_HOST_ARCH = []


def arch_of(mpy_flags):
    # sys.implementation._mpy -> the -march name, None if no native code
    n = mpy_flags >> 10
    return ARCHS[n] if 0 < n < len(ARCHS) else None


def host_arch():
    # -> the -march of the unix port beside this Python (or on PATH), None
    # if there is none or it has no native emitter; asked once
    if not _HOST_ARCH:
        exe = os.path.join(os.path.dirname(sys.executable), "micropython")
        exe = exe if os.path.exists(exe) else shutil.which("micropython")
        arch = None
        if exe:
            try:
                r = subprocess.run([exe, "-c", "import sys;print(sys.implementation._mpy)"],
                                   capture_output=True, text=True, timeout=30)
                arch = arch_of(int(r.stdout.split()[-1]))
            except (OSError, ValueError, IndexError, subprocess.SubprocessError):
                pass
        _HOST_ARCH.append(arch)
    return _HOST_ARCH[0]


def is_native(text):
    # does this source hold native code (viper, native or inline assembler)?
    return re.search(r"^\s*@micropython\.(viper|native|asm_)", text, re.M) is not None


# portable host-side scripts compiled beside the library, so MicroPython
# runs them as .mpy (`micropython -m NAME`) instead of compiling source in
# its small heap
SCRIPTS = ("ikev2c_run.py", "ikev2c_soak.py", "ikev2c_trace.py")
# the device application (firmware/), compiled to the top of the tree as on
# the device's filesystem; main.py stays source (the device runs main.py)
FIRMWARE = ("app.py", "hw.py")


# --------------------------------------------------------------- const inlining
# The library names its protocol numbers as `C.NAME` (`from . import const
# as C`, or `from .. import const as C` in a subpackage).  On the device a
# module global costs RAM (a qstr, a dict slot, the lookups), so before
# compiling, every `C.NAME` is replaced by the integer that const.py gives
# it and the import is blanked: const.py itself is never imported by the
# compiled library.  Line numbers are kept, so tracebacks still point at the
# source.  Only the .mpy build is rewritten; the sources run unchanged.
_CONST_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)\s*=\s*const\((.+)\)\s*(#.*)?$")
_CONST_IMPORT = re.compile(r"^from (\.+) import const as C\s*(#.*)?$")


def constants(path=None):
    # NAME -> int, from const.py's `NAME = const(value)` lines
    path = path or os.path.join(LIB, "ikev2", "const.py")
    out = {}
    with open(path) as f:
        for line in f:
            m = _CONST_LINE.match(line.strip())
            if m:
                v = ast.literal_eval(m.group(2))
                if not isinstance(v, int):
                    raise ValueError("%s: %s is not an integer" % (path, m.group(1)))
                out[m.group(1)] = v
    return out


def inline_constants(text, consts, name="<module>"):
    # -> text with every C.NAME replaced by its value and the const import
    # blanked; unchanged if the module does not import const as C.
    lines = text.split("\n")
    imports = [i for i, ln in enumerate(lines) if _CONST_IMPORT.match(ln)]
    if not imports:
        return text
    toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    edits = []  # (row, col, end_col, replacement)
    for i, t in enumerate(toks):
        if t.type != tokenize.NAME or t.string != "C":
            continue
        if t.start[0] - 1 in imports:
            continue
        prev = toks[i - 1] if i else None
        if prev is not None and prev.type == tokenize.OP and prev.string == ".":
            continue  # x.C: not ours
        if (i + 2 >= len(toks) or toks[i + 1].string != "."
                or toks[i + 2].type != tokenize.NAME):
            raise ValueError("%s:%d: C used other than as C.NAME"
                             % (name, t.start[0]))
        attr = toks[i + 2]
        if attr.string not in consts:
            raise ValueError("%s:%d: C.%s is not in const.py"
                             % (name, t.start[0], attr.string))
        if attr.start[0] != t.start[0]:
            raise ValueError("%s:%d: C.NAME split over lines" % (name, t.start[0]))
        v = consts[attr.string]
        nxt = toks[i + 3].string if i + 3 < len(toks) else ""
        # (1).bit_length(), -(-1): parentheses where a bare literal differs
        lit = "(%d)" % v if v < 0 or nxt == "." else str(v)
        edits.append((t.start[0] - 1, t.start[1], attr.end[1], lit))
    for row, col, end, rep in sorted(edits, reverse=True):
        ln = lines[row]
        lines[row] = ln[:col] + rep + ln[end:]
    for i in imports:
        lines[i] = ""
    return "\n".join(lines)


def sources():
    out = []
    for d, _, files in os.walk(os.path.join(LIB, "ikev2")):
        out += [os.path.join(d, f) for f in sorted(files) if f.endswith(".py")]
    return sorted(out)


def scripts():
    return ([os.path.join(ROOT, "tools", s) for s in SCRIPTS]
            + [os.path.join(ROOT, "firmware", s) for s in FIRMWARE])


def build(dest=None, quiet=False, opt=0, srcs=None, arch="host"):
    # -> (dest, [(source, error)]) ; errors are mpy-cross's own messages.
    # opt=3 drops line numbers (smaller .mpy, as frozen on the device); the
    # lab build keeps them so that a traceback names the line.
    # arch: the -march for native code ("host": this machine's unix port);
    # with none known, modules with native code are left out (the library
    # falls back to its portable code when they do not import).
    dest = dest or os.path.join(ROOT, "build", "mpy")
    tool = mpy_cross()
    if not tool:
        raise SystemExit("mpy-cross not found: run `make mpy` (it installs .venv)")
    if arch == "host":
        arch = host_arch()
    errors = []
    skipped = []
    srcs = srcs or sources() + scripts()
    consts = constants()
    with tempfile.TemporaryDirectory() as tmp:
        for src in srcs:
            rel = os.path.relpath(src, LIB if src.startswith(LIB + os.sep) else
                                  os.path.dirname(src))
            out = os.path.join(dest, rel[:-3] + ".mpy")
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with open(src) as f:
                text = f.read()
            if not arch and is_native(text):
                skipped.append(rel)
                if os.path.exists(out):
                    os.remove(out)
                continue
            try:
                new = inline_constants(text, consts, rel)
            except ValueError as e:
                errors.append((rel, str(e)))
                continue
            if new != text:
                src = os.path.join(tmp, rel.replace(os.sep, "_"))
                with open(src, "w") as f:
                    f.write(new)
            march = ["-march=" + arch] if arch else []
            # written beside, then renamed into place: a MicroPython run
            # importing from dest meanwhile never sees a half-written file
            part = "%s.%d.part" % (out, os.getpid())
            r = subprocess.run([tool, "-O%d" % opt] + march + ["-o", part, "-s", rel, src],
                               capture_output=True, text=True)
            if r.returncode:
                errors.append((rel, (r.stderr or r.stdout).strip()))
                if os.path.exists(part):
                    os.remove(part)
            else:
                os.replace(part, out)
    if not quiet:
        size = sum(os.path.getsize(os.path.join(d, f))
                   for d, _, fs in os.walk(dest) for f in fs if f.endswith(".mpy"))
        print("mpy: %d modules -> %s (%d bytes of .mpy, native code for %s)%s"
              % (len(srcs) - len(skipped), os.path.relpath(dest, ROOT), size,
                 arch or "no architecture",
                 "" if not errors else ", %d FAILED" % len(errors)))
        for rel in skipped:
            print("  %s: left out (native code, and no -march known)" % rel)
        for rel, err in errors:
            print("  %s: %s" % (rel, err))
    return dest, errors


def inlined_tree(dest, srcs):
    # the sources with constants inlined, as .py, laid out under dest as
    # ikev2/... beside app.py and hw.py: what `make firmware` freezes
    consts = constants()
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    for src in srcs:
        lib = src.startswith(LIB + os.sep)
        rel = os.path.relpath(src, LIB if lib else os.path.dirname(src))
        out = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(src) as f:
            text = f.read()
        with open(out, "w") as f:
            f.write(inline_constants(text, consts, rel))
    return dest


def main():
    _, errors = build()
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
