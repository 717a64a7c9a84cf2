# make firmware BOARD=ESP32_GENERIC|ESP32_GENERIC_S3|ESP32_GENERIC_C3|unix
#
# Builds MicroPython with the library and the application frozen in, from
# a MicroPython tree (MPY_DIR) and, for the ESP32 boards, ESP-IDF (IDF_PATH,
# its export.sh sourced).  Neither comes with this project: when one is
# missing this stops and says how to get it.  BOARD=unix builds the unix
# port with the same frozen code (build/micropython-frozen), which
# `make bench` then uses to measure the heap of frozen code.
import glob
import os
import shutil
import subprocess
import sys

from . import ROOT, LIB, build_mpy, deploy

BOARDS_DIR = os.path.join(ROOT, "boards")
FROZEN_SRC = os.path.join(ROOT, "build", "frozen-src")
FROZEN_UNIX = os.path.join(ROOT, "build", "micropython-frozen")
# BOARD=unix32: the unix port built for 32 bits (MICROPY_FORCE_32BIT=1,
# needs gcc-multilib): objects, pointers and dict slots as small as an
# ESP32's, for the memory bench
FROZEN_UNIX32 = os.path.join(ROOT, "build", "micropython32-frozen")
UNIX = {"unix": ("x64", "unix-frozen", FROZEN_UNIX, []),
        "unix32": ("x86", "unix32-frozen", FROZEN_UNIX32,
                   ["MICROPY_FORCE_32BIT=1"])}

INSTALL_MPY = """\
a MicroPython source tree is needed (MPY_DIR):
    git clone https://github.com/micropython/micropython ~/micropython
    git -C ~/micropython checkout v1.28.0
    make -C ~/micropython/ports/esp32 submodules   # or ports/unix
    make -C ~/micropython/mpy-cross
then: make firmware BOARD=%s MPY_DIR=~/micropython"""

INSTALL_IDF = """\
ESP-IDF is needed for the ESP32 boards (idf.py not found, IDF_PATH unset):
    git clone -b v5.4.1 --recursive https://github.com/espressif/esp-idf ~/esp-idf
    ~/esp-idf/install.sh esp32,esp32s3,esp32c3
    . ~/esp-idf/export.sh
then run make firmware again in that shell (MicroPython v1.28 supports
ESP-IDF v5.2 to v5.5: see ports/esp32/README.md of your tree)"""


class FirmwareError(Exception):
    pass


def boards():
    return sorted(d for d in os.listdir(BOARDS_DIR)
                  if os.path.exists(os.path.join(BOARDS_DIR, d, "mpconfigboard.cmake")))


def frozen_sources():
    # the library (PSK profile, the certificate modules and the trace: frozen code
    # costs flash, not RAM) and the app with constants inlined: what the
    # manifest (firmware/manifest.py) freezes
    srcs = [os.path.join(LIB, "ikev2", p)
            for p in deploy.profile(certs=True, trace=True)]
    srcs += [os.path.join(ROOT, "firmware", p) for p in deploy.APP]
    return build_mpy.inlined_tree(FROZEN_SRC, srcs)


def sources_digest():
    # SHA-256 over what the manifest freezes (names and contents), written
    # beside a frozen unix binary: a bench can tell a binary that no longer
    # holds the current code
    import hashlib

    h = hashlib.sha256()
    for dirpath, dirs, files in os.walk(frozen_sources()):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            h.update(os.path.relpath(path, FROZEN_SRC).encode() + b"\0")
            with open(path, "rb") as f:
                h.update(f.read() + b"\0")
    return h.hexdigest()


def current(binary):
    # -> True if binary exists and was built from the current sources
    try:
        with open(binary + ".sources") as f:
            return f.read().strip() == sources_digest()
    except OSError:
        return False


def check(board, mpy_dir, env=None):
    # -> the command lines to run; FirmwareError says what is missing
    env = os.environ if env is None else env
    if not board:
        raise FirmwareError("no BOARD: make firmware BOARD=<one of %s>"
                            % ", ".join(boards() + sorted(UNIX)))
    if board not in UNIX and board not in boards():
        raise FirmwareError("unknown BOARD %r: one of %s"
                            % (board, ", ".join(boards() + sorted(UNIX))))
    if not mpy_dir or not os.path.exists(os.path.join(mpy_dir, "py", "mpconfig.h")):
        raise FirmwareError(("MPY_DIR %r is not a MicroPython tree; " % mpy_dir
                             if mpy_dir else "") + INSTALL_MPY % board)
    mpy_dir = os.path.abspath(mpy_dir)
    cross = ["make", "-C", os.path.join(mpy_dir, "mpy-cross")]
    manifest = os.path.join(ROOT, "firmware", "manifest.py")
    if board == "unix32" and not glob.glob("/usr/lib/gcc/*/*/32/libgcc.a"):
        raise FirmwareError("BOARD=unix32 builds for 32 bits, which needs "
                            "gcc-multilib: apt-get install gcc-multilib")
    if board in UNIX:
        arch, folder, _, extra = UNIX[board]
        build = os.path.join(ROOT, "build", folder)
        # the native (viper) modules are frozen as machine code for the
        # port's architecture
        cmd = ["make", "-C", os.path.join(mpy_dir, "ports", "unix"), "-j2",
               "VARIANT=standard", "BUILD=" + build, "FROZEN_MANIFEST=" + manifest,
               "MPY_CROSS_FLAGS=-march=" + arch,
               "MICROPY_PY_FFI=0", "MICROPY_PY_BTREE=0"] + extra
        return [cross, cmd], os.path.join(build, "micropython")
    if not env.get("IDF_PATH") or not shutil.which("idf.py", path=env.get("PATH")):
        raise FirmwareError(INSTALL_IDF)
    build = os.path.join(ROOT, "build", "firmware-" + board)
    cmd = ["make", "-C", os.path.join(mpy_dir, "ports", "esp32"),
           "BOARD_DIR=" + os.path.join(BOARDS_DIR, board), "BUILD=" + build]
    return [cross, cmd], os.path.join(build, "firmware.bin")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    board = (argv[0] if argv else "") or os.environ.get("BOARD")
    mpy_dir = (argv[1] if len(argv) > 1 else "") or os.environ.get("MPY_DIR")
    if mpy_dir:
        mpy_dir = os.path.expanduser(mpy_dir)
    try:
        cmds, out = check(board, mpy_dir)
        digest = sources_digest()
        print("firmware: frozen sources in %s" % os.path.relpath(FROZEN_SRC, ROOT))
        for i, c in enumerate(cmds, 1):
            print("firmware: [%d/%d] %s" % (i, len(cmds), " ".join(c)), flush=True)
            if subprocess.run(c).returncode:
                raise FirmwareError("the build failed at step %d (see above)" % i)
        if board in UNIX:
            shutil.copy(out, UNIX[board][2])
            out = UNIX[board][2]
            with open(out + ".sources", "w") as f:
                f.write(digest + "\n")
        print("firmware: built %s" % os.path.relpath(out, ROOT))
        if board not in UNIX:
            print("flash it:  make -C %s BOARD_DIR=%s BUILD=%s PORT=/dev/ttyUSB0 deploy"
                  % (os.path.join(os.path.abspath(mpy_dir), "ports", "esp32"),
                     os.path.join(BOARDS_DIR, board), os.path.dirname(out)))
            print("then:      make deploy PORT=PORT DEVICE=devices/<id> FROZEN=1")
        return 0
    except FirmwareError as e:
        print("firmware: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
