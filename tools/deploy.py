# Puts the device application on a board, and defines what goes there.
#
#   make deploy PORT=/dev/ttyUSB0 [DEVICE=devices/sensor-01]
#   python -m tools.deploy --port /dev/ttyUSB0 --device DIR [--dry-run] [--romfs]
#
# The PSK profile of the library (the modules a PSK device with any of the
# supported proposals can load) and the application are compiled with
# mpy-cross (-O3, constants inlined) into build/device/, laid out as on the
# device's filesystem:
#
#   /main.py  /app.mpy  /hw.mpy  /lib/ikev2/...mpy  /config.json  /secrets.json
#
# and copied with mpremote.  Native code (crypto/ecnative.py, viper) is
# compiled for the board's CPU: --arch, or --board (a directory of boards/),
# or else the board on --port is asked (sys.implementation._mpy); a dry
# run with neither assumes an ESP32 (xtensawin).  A module built for
# another CPU does not import, and the library then uses its portable
# code.  --romfs puts the code into the board's ROMFS partition instead
# (`mpremote romfs deploy`, MicroPython 1.25 and later, a partition table
# with a romfs partition): the bytecode then runs in place from flash, as
# frozen code does, instead of being loaded into the heap.  config.json
# and secrets.json come from `ikev2-provision` (DEVICE).
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

from . import ROOT, LIB, build_mpy

# The PSK profile, relative to lib/ikev2.  Left out: crypto/host.py (CPython
# only), crypto/pure.py, aes.py and gcm.py (pure-Python AES and GCM for a
# port without cryptolib: an ESP32 has it, and GCM is slow there; add them
# with --with-gcm), the certificate modules (EXTRA_CERT, added when the
# device's config.json uses certificates, or with --with-certs), const.py
# (inlined at build time).
PROFILE_PSK = (
    "__init__.py", "errors.py", "config.py", "configcheck.py", "ip.py",
    "payloads.py", "rare.py", "message.py", "sk.py", "keys.py", "proposals.py",
    "ikeinit.py", "tasks.py", "session.py", "esp.py", "packet.py", "client.py",
    "telemetry.py", "rekey.py", "rekeyown.py", "rekeyike.py",
    "crypto/__init__.py", "crypto/util.py", "crypto/mpy.py", "crypto/dh.py",
    "crypto/x25519.py", "crypto/p256.py", "crypto/modp.py", "crypto/ecnative.py",
    "crypto/ctnative.py")
EXTRA_GCM = ("crypto/gcm.py", "crypto/aes.py", "crypto/pure.py")
# certificate authentication (RFC 7427) and IKE fragmentation (RFC 7383)
EXTRA_CERT = ("certauth.py", "x509.py", "der.py", "frag.py", "crypto/sig.py",
              "crypto/ecdsa.py", "crypto/rsa.py")
# the session's trace (ikev2.trace), added when the app's config.json turns
# it on ("trace" above 0), or with --with-trace
EXTRA_TRACE = ("trace.py",)
# the config keys that name a credential file on the device
CRED_KEYS = ("cert", "private_key", "ca_cert")
APP = ("app.py", "hw.py")  # firmware/, compiled; main.py stays source
DEVICE_FILES = ("config.json", "secrets.json")


class DeployError(Exception):
    pass


def profile(gcm=False, certs=False, trace=False):
    return (PROFILE_PSK + (EXTRA_GCM if gcm else ()) + (EXTRA_CERT if certs else ())
            + (EXTRA_TRACE if trace else ()))


def stage(dest=None, gcm=False, quiet=True, certs=False, trace=False,
          arch="host"):
    # -> (dest, [device path]) : the compiled tree, as on the device.
    # arch: the -march of its native code; "host" (this machine's unix port,
    # where the tests and the lab run the tree) unless main() passes the
    # board's
    dest = dest or os.path.join(ROOT, "build", "device")
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    libsrc = [os.path.join(LIB, "ikev2", p) for p in profile(gcm, certs, trace)]
    appsrc = [os.path.join(ROOT, "firmware", p) for p in APP]
    _, errors = build_mpy.build(os.path.join(dest, "lib"), quiet=True, opt=3,
                                srcs=libsrc, arch=arch)
    _, errors2 = build_mpy.build(dest, quiet=True, opt=3, srcs=appsrc, arch=arch)
    if errors or errors2:
        raise DeployError("mpy-cross failed: %s" % (errors + errors2))
    shutil.copy(os.path.join(ROOT, "firmware", "main.py"), dest)
    files = sorted(os.path.relpath(os.path.join(d, f), dest).replace(os.sep, "/")
                   for d, _, fs in os.walk(dest) for f in fs)
    if not quiet:
        print("deploy: staged %d files, %d bytes of .mpy, in %s"
              % (len(files), sizes(dest)[1], os.path.relpath(dest, ROOT)))
    return dest, files


def sizes(dest, under=""):
    # -> ([(path, bytes)], total bytes) of the .mpy files under dest/under
    out = []
    for d, _, fs in os.walk(os.path.join(dest, under)):
        for f in fs:
            if f.endswith(".mpy"):
                p = os.path.join(d, f)
                out.append((os.path.relpath(p, dest).replace(os.sep, "/"),
                            os.path.getsize(p)))
    out.sort()
    return out, sum(s for _, s in out)


def mpremote():
    exe = os.path.join(os.path.dirname(sys.executable), "mpremote")
    return exe if os.path.exists(exe) else (shutil.which("mpremote") or "mpremote")


def board_arch(board):
    # a directory of boards/ -> the -march of its CPU, from IDF_TARGET in
    # its mpconfigboard.cmake (Xtensa: esp32, -s2, -s3; the rest RISC-V)
    path = os.path.join(ROOT, "boards", board, "mpconfigboard.cmake")
    if not os.path.exists(path):
        raise DeployError("no board %s in boards/ (one of %s)" % (board, ", ".join(
            sorted(d for d in os.listdir(os.path.join(ROOT, "boards"))))))
    with open(path) as f:
        m = re.search(r"set\(IDF_TARGET\s+(\w+)\)", f.read())
    target = m.group(1) if m else "esp32"
    return "xtensawin" if target in ("esp32", "esp32s2", "esp32s3") else "rv32imc"


def ask_arch(port):
    # the -march of the board on port, from its sys.implementation._mpy
    try:
        r = subprocess.run([mpremote(), "connect", port, "exec",
                            "import sys;print(sys.implementation._mpy)"],
                           capture_output=True, text=True, timeout=60)
        flags = int(r.stdout.split()[-1])
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        raise DeployError("could not ask the board on %s for its CPU: is it "
                          "there? (or say --arch xtensawin|rv32imc, or --board)" % port)
    return build_mpy.arch_of(flags)


def romfs_image(dest, out):
    # the staged code as a ROMFS image (config files stay on the filesystem)
    tree = out + ".tree"
    if os.path.isdir(tree):
        shutil.rmtree(tree)
    shutil.copytree(dest, tree, ignore=shutil.ignore_patterns(*DEVICE_FILES))
    r = subprocess.run([mpremote(), "romfs", "--no-mpy", "-o", out, "build", tree],
                       capture_output=True, text=True)
    shutil.rmtree(tree)
    if r.returncode or not os.path.exists(out):
        raise DeployError("mpremote romfs build failed: %s" % (r.stderr or r.stdout))
    return out


def credential_files(device_dir):
    # the files config.json names in cert, private_key and ca_cert (PEM
    # text inline needs no file), relative to the device directory and
    # copied to the same name on the board
    with open(os.path.join(device_dir, "config.json")) as f:
        cfg = json.load(f)
    out = []
    for k in CRED_KEYS:
        v = cfg.get(k) or []
        for name in ([v] if isinstance(v, str) else v):
            if not isinstance(name, str) or "-----BEGIN" in name:
                continue
            if name.startswith("/") or ".." in name.split("/"):
                raise DeployError("%s: %r must be a file name relative to the "
                                  "device directory" % (k, name))
            if not os.path.isfile(os.path.join(device_dir, name)):
                raise DeployError("%s names %s, which is not in %s"
                                  % (k, name, device_dir))
            out.append(name)
    return out


def _config(device_dir):
    with open(os.path.join(device_dir, "config.json")) as f:
        return json.load(f)


def uses_trace(device_dir):
    t = _config(device_dir).get("trace", 0)
    return isinstance(t, int) and t > 0


def uses_certs(device_dir):
    cfg = _config(device_dir)
    return bool(cfg.get("cert") or cfg.get("ca_cert")
                or cfg.get("local_auth", "psk") not in ("psk", "auto")
                or cfg.get("remote_auth", "psk") not in ("psk", "auto"))


def steps(dest, files, device_dir=None, romfs=False, code=True):
    # -> the mpremote steps, in order, each an argument list; main() chains
    # them into one mpremote call (one connection, one soft reset).
    # code=False: the code is frozen into the firmware (make firmware), only
    # main.py and the device's files are copied.
    out = []
    if not code:
        files = ["main.py"]
    code = [f for f in files if f not in DEVICE_FILES]
    if romfs:
        out.append(["romfs", "--no-mpy", "deploy", dest])
        # copies on the filesystem would shadow the ROMFS ones
        code = ["main.py"]
    dirs = sorted(set(os.path.dirname(f) for f in code if "/" in f))
    if dirs:
        out.append(["exec", "import os\nfor d in %r:\n try: os.mkdir(d)\n"
                    " except OSError: pass" % (["/" + d for d in _parents(dirs)],)])
    for f in code:
        out.append(["fs", "cp", os.path.join(dest, f), ":" + f])
    if device_dir:
        creds = credential_files(device_dir)
        dirs = sorted(set(os.path.dirname(f) for f in creds if "/" in f))
        if dirs:
            out.append(["exec", "import os\nfor d in %r:\n try: os.mkdir(d)\n"
                        " except OSError: pass" % (["/" + d for d in _parents(dirs)],)])
        for f in DEVICE_FILES + tuple(creds):
            out.append(["fs", "cp", os.path.join(device_dir, f), ":" + f])
    out.append(["reset"])
    return out


def command(port, st):
    cmd = [mpremote(), "connect", port]
    for i, s in enumerate(st):
        cmd += (["+"] if i else []) + s
    return cmd


def _parents(dirs):
    out = []
    for d in dirs:
        parts = d.split("/")
        for i in range(1, len(parts) + 1):
            p = "/".join(parts[:i])
            if p not in out:
                out.append(p)
    return out


def check_device_dir(device_dir):
    if not os.path.isdir(device_dir):
        raise DeployError("no device directory %s (make one with ikev2-provision)"
                          % device_dir)
    for f in DEVICE_FILES:
        p = os.path.join(device_dir, f)
        if not os.path.exists(p):
            raise DeployError("%s is missing (ikev2-provision writes it)" % p)
        try:
            with open(p) as fh:
                json.load(fh)
        except ValueError as e:
            raise DeployError("%s is not valid JSON: %s" % (p, e))
    credential_files(device_dir)


def package_json():
    # the mip manifest: `mip install github:OWNER/REPO` puts the library and
    # the application into /lib (sources; the device compiles them)
    urls = [["ikev2/" + p, "lib/ikev2/" + p]
            for p in profile(gcm=True, certs=True, trace=True)]
    urls += [[p, "firmware/" + p] for p in APP]
    from ikev2 import VERSION

    return {"urls": urls, "deps": [], "version": VERSION}


def write_package_json():
    path = os.path.join(ROOT, "package.json")
    with open(path, "w") as f:
        json.dump(package_json(), f, indent=1)
        f.write("\n")
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(prog="ikev2-deploy",
                                 description="compile and copy the device "
                                 "application to a board with mpremote")
    ap.add_argument("--port", help="the board's serial port, e.g. /dev/ttyUSB0")
    ap.add_argument("--device", help="the directory ikev2-provision wrote "
                    "(config.json, secrets.json)")
    ap.add_argument("--romfs", action="store_true", help="put the code in the "
                    "board's ROMFS partition (runs in place from flash)")
    ap.add_argument("--frozen", action="store_true", help="the code is frozen "
                    "into the board's firmware (make firmware): copy main.py "
                    "and the device's files only")
    ap.add_argument("--with-gcm", action="store_true",
                    help="add pure-Python AES-GCM (slow on an ESP32)")
    ap.add_argument("--with-certs", action="store_true",
                    help="add certificate authentication and IKE fragmentation "
                    "(automatic when the device's config.json uses certificates)")
    ap.add_argument("--with-trace", action="store_true",
                    help="add the session trace (automatic when the device's "
                    "config.json sets \"trace\")")
    ap.add_argument("--arch", choices=[a for a in build_mpy.ARCHS if a],
                    help="the board's CPU for native code (ESP32, -S3: "
                    "xtensawin; -C3: rv32imc); default: --board's, or ask "
                    "the board")
    ap.add_argument("--board", help="a board of boards/ (ESP32_GENERIC, ...): "
                    "its CPU for native code")
    ap.add_argument("--dry-run", action="store_true",
                    help="stage and print the mpremote commands only")
    ap.add_argument("--package-json", action="store_true",
                    help="rewrite package.json (for mip) and stop")
    a = ap.parse_args(argv)
    try:
        if a.package_json:
            print("deploy: wrote %s" % write_package_json())
            return 0
        if not a.port:
            raise DeployError("no serial port: make deploy PORT=/dev/ttyUSB0 "
                              "(list them with `mpremote connect list`)")
        if a.device:
            check_device_dir(a.device)
        else:
            print("deploy: no DEVICE directory: the code only, the board "
                  "keeps its config.json and secrets.json")
        certs = a.with_certs or bool(a.device and uses_certs(a.device))
        trace = a.with_trace or bool(a.device and uses_trace(a.device))
        arch = a.arch or (board_arch(a.board) if a.board else None)
        if not arch and not a.frozen:
            if a.dry_run:
                arch = "xtensawin"
                print("deploy: dry run: native code for an ESP32 (xtensawin; "
                      "--arch or --board for another)")
            else:
                arch = ask_arch(a.port)
                print("deploy: the board's CPU: %s" % (arch or "no native code"))
        dest, files = stage(gcm=a.with_gcm, quiet=False, certs=certs,
                            trace=trace, arch=arch)
        st = steps(dest, files, a.device, a.romfs, code=not a.frozen)
        for i, s in enumerate(st, 1):
            print("deploy: step %d/%d: %s" % (i, len(st), " ".join(
                x if "\n" not in x else "<make directories>" for x in s)))
        if not a.dry_run:
            sys.stdout.flush()
            r = subprocess.run(command(a.port, st))
            if r.returncode:
                raise DeployError("mpremote failed (exit %d): is the board on "
                                  "%s, and no other program using the port?"
                                  % (r.returncode, a.port))
        print("deploy: %s" % ("done (dry run: nothing copied)" if a.dry_run
                              else "done; the board restarts into main.py"))
        return 0
    except DeployError as e:
        print("deploy: error: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
