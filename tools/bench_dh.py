# Diffie-Hellman scalar multiplication on the MicroPython unix port: the
# native (viper) X25519 and P-256 of lib/ikev2/crypto/ecnative.py against
# the big-integer ladders of x25519.py and p256.py, measured in the same
# run (the machine is shared and noisy: the ratio is the figure to read).
#
#   python -m tools.bench_dh [--quick] [--callgrind] [--check32]
#
# run(quick) -> rows, one per curve:
#   {"case": "X25519 scalar mult", "bigint_us": ..., "native_us": ...,
#    "speedup": ..., "ladder_alloc": 0, "native_call_alloc": ...,
#    "bigint_call_alloc": ...}
# ladder_alloc: heap allocated by the native inner loop (the ladder or
# the windows, and the inversion), measured with gc.mem_alloc() around it;
# *_call_alloc: bytes allocated in all by one whole call
# (micropython.mem_total(): the scratch buffer, the conversions; for the
# big ints every intermediate).
#
# callgrind() -> instruction counts (valgrind) of one scalar multiplication
# each way, minus a run of the same script that does everything but the
# multiplication: exact where time is noisy, and the input of ESP32
# projections.
#
# check32() runs the core crypto tests on a 32-bit unix port (where viper
# ints are 32 bits and wrap, as on an ESP32) if one was built
# (build/micropython32-frozen, `make firmware BOARD=unix32`): the proof that
# no intermediate of the native code needs more than 32 bits.
#
# This file is also the script that runs under MicroPython (it prints one
# JSON object per line): `micropython tools/bench_dh.py time|one|none ...`.
import sys

_CASES = ("x25519", "p256")
_K = bytes(range(101, 133))  # a fixed scalar (clamped for X25519)
_U = bytes(range(7, 39))


def _work(curve, native):
    # -> f() doing one scalar multiplication (MicroPython side)
    if curve == "x25519":
        if native:
            from ikev2.crypto.ecnative import x25519
        else:
            from ikev2.crypto.x25519 import x25519
        return lambda: x25519(_K, _U)
    from ikev2.crypto import p256

    k = int.from_bytes(_K, "big") % p256.N
    if native:
        from ikev2.crypto.ecnative import p256_mul

        return lambda: p256_mul(k, p256.G[0], p256.G[1])
    return lambda: p256.mul(k, p256.G)


def _ladder_alloc(curve):
    # heap allocated by the native inner loop and the inversion
    import gc
    from ikev2.crypto import ecnative as m

    if curve == "p256":
        st = m._new(m.P256, 76, bytes(range(33)), m._D256)
        p1, n1, p2, fld = m._WIN, 64, m._FIN256, 1
    else:
        st = m._new(m.P25, 20, bytes(range(32)))
        p1, n1, p2, fld = m._LADDER, 255, m._FIN25, 0
    for s in range(9, 20):
        m._put(st, s, s)
    run = m._run
    l1 = len(p1)
    l2 = len(p2)
    gc.collect()
    before = gc.mem_alloc()
    run(0, st, st, p1, l1, n1, fld)
    run(0, st, st, p2, l2, 1, fld)
    return gc.mem_alloc() - before


def _call_alloc(f):
    import micropython

    f()
    a = micropython.mem_total()
    f()
    return micropython.mem_total() - a


def _time(f, budget_us):
    # median over 5 batches of the per-call time in microseconds
    from time import ticks_us, ticks_diff

    n = 1
    while True:
        t0 = ticks_us()
        for _ in range(n):
            f()
        dt = ticks_diff(ticks_us(), t0)
        if dt * 5 >= budget_us or n >= 256:
            break
        n *= 2
    res = [dt / n]
    for _ in range(4):
        t0 = ticks_us()
        for _ in range(n):
            f()
        res.append(ticks_diff(ticks_us(), t0) / n)
    res.sort()
    return res[2]


def mp_main(argv):
    # MicroPython side.  time [--quick]: one JSON row per curve;
    # one CURVE native|bigint: a single multiplication; none CURVE
    # native|bigint: the same set-up without it (callgrind's baseline)
    import json

    mode = argv[0]
    if mode == "time":
        budget = 100000 if "--quick" in argv else 500000
        for c in _CASES:
            nat, big = _work(c, True), _work(c, False)
            if nat() != big():
                raise SystemExit("native and big-int results differ: %s" % c)
            tn = _time(nat, budget)
            tb = _time(big, budget)
            print(json.dumps({
                "case": ("X25519" if c == "x25519" else "P-256") + " scalar mult",
                "bigint_us": tb, "native_us": tn, "speedup": tb / tn,
                "ladder_alloc": _ladder_alloc(c),
                "native_call_alloc": _call_alloc(nat),
                "bigint_call_alloc": _call_alloc(big)}))
        return
    f = _work(argv[1], argv[2] == "native")
    if mode == "one":
        f()


# ------------------------------------------------------------ host side
def _micropython():
    import os

    return os.path.join(os.path.dirname(sys.executable), "micropython")


def _lib(arch="host"):
    import os

    from . import ROOT, build_mpy

    dest = None if arch == "host" else os.path.join(ROOT, "build", "mpy-" + arch)
    dest, errors = build_mpy.build(dest, quiet=True, arch=arch)
    if errors:
        raise SystemExit("bench_dh: mpy-cross failed: %s" % errors)
    return dest


def unix32():
    # the 32-bit unix port (`make firmware BOARD=unix32`), or None
    import os

    from . import ROOT

    exe = os.path.join(ROOT, "build", "micropython32-frozen")
    return exe if os.path.exists(exe) else None


def run(quick=False, heap="110k", bits32=False):
    # -> [row] (see the header), measured on the unix port in an ESP32-sized
    # heap, the library as .mpy; bits32: on the 32-bit unix port (its
    # big integers use 16-bit digits, as an ESP32's do), the .mpy built
    # for x86
    import json
    import os
    import subprocess

    exe = unix32() if bits32 else _micropython()
    lib = _lib("x86" if bits32 else "host")
    args = [exe, "-X", "heapsize=" + heap, os.path.abspath(__file__), "time"]
    if quick:
        args.append("--quick")
    p = subprocess.run(args, capture_output=True, text=True,
                       env=dict(os.environ, MICROPYPATH=lib))
    if p.returncode:
        raise SystemExit("bench_dh: micropython failed:\n%s%s" % (p.stderr, p.stdout))
    return [json.loads(ln) for ln in p.stdout.splitlines() if ln.startswith("{")]


def _ir(args, lib, heap):
    # total instructions (Ir) of one run of this script under callgrind
    import os
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ikev2-dh-cg-") as d:
        out = os.path.join(d, "cg.out")
        p = subprocess.run(["valgrind", "--tool=callgrind",
                            "--callgrind-out-file=" + out, _micropython(),
                            "-X", "heapsize=" + heap, os.path.abspath(__file__)] + args,
                           capture_output=True, text=True,
                           env=dict(os.environ, MICROPYPATH=lib))
        if p.returncode:
            raise RuntimeError("callgrind %s failed: %s" % (args, p.stderr[-600:]))
        with open(out) as f:
            for ln in f:
                if ln.startswith(("summary:", "totals:")):
                    return int(ln.split()[1])
    raise RuntimeError("callgrind %s: no summary line" % args)


def callgrind(heap="110k"):
    # -> [{"case", "bigint_ir", "native_ir", "ratio"}] or None without
    # valgrind: instructions of one scalar multiplication (the same script
    # without it subtracted)
    import shutil

    if not shutil.which("valgrind"):
        return None
    lib = _lib()
    rows = []
    for c in _CASES:
        r = {"case": ("X25519" if c == "x25519" else "P-256") + " scalar mult"}
        for kind in ("bigint", "native"):
            one = _ir(["one", c, kind], lib, heap)
            none = _ir(["none", c, kind], lib, heap)
            r[kind + "_ir"] = one - none
        r["ratio"] = r["bigint_ir"] / r["native_ir"]
        rows.append(r)
    return rows


def check32():
    # -> (passed, failed) of the core crypto tests on the 32-bit unix port,
    # or None if it was not built
    import os
    import subprocess
    import tempfile

    from . import ROOT, build_mpy

    exe = os.path.join(ROOT, "build", "micropython32-frozen")
    if not os.path.exists(exe):
        return None
    with tempfile.TemporaryDirectory(prefix="ikev2-mpy32-") as d:
        _, errors = build_mpy.build(d, quiet=True, arch="x86")
        if errors:
            raise SystemExit("bench_dh: mpy-cross -march=x86 failed: %s" % errors)
        p = subprocess.run([exe, "host_tests/mp_runner.py", "--lib", d, "test_crypto"],
                           cwd=ROOT, capture_output=True, text=True)
    last = [ln for ln in p.stdout.splitlines() if ln.startswith("micropython: ")
            and ln.endswith(" failed")]
    if not last:
        return 0, 1
    w = last[-1].split()
    return int(w[1]), int(w[3])


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(prog="bench_dh", description="native against "
                                 "big-integer DH on the MicroPython unix port")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--callgrind", action="store_true",
                    help="also count instructions with valgrind")
    ap.add_argument("--check32", action="store_true",
                    help="also run the crypto tests on the 32-bit unix port")
    a = ap.parse_args(argv)
    print("%-22s %12s %12s %8s %13s %13s %13s" % (
        "case", "big ints us", "native us", "speedup", "ladder alloc",
        "native call", "big-int call"))
    for r in run(a.quick):
        print("%-22s %12.0f %12.0f %7.1fx %11d B %11d B %11d B" % (
            r["case"], r["bigint_us"], r["native_us"], r["speedup"],
            r["ladder_alloc"], r["native_call_alloc"], r["bigint_call_alloc"]))
    if a.callgrind:
        rows = callgrind()
        if rows is None:
            print("callgrind: valgrind is not installed")
        for r in rows or ():
            print("%-22s %12d %12d instructions (x86-64), %.1fx" % (
                r["case"], r["bigint_ir"], r["native_ir"], r["ratio"]))
    if a.check32:
        res = check32()
        print("32-bit unix port: %s" % ("not built (make firmware BOARD=unix32)"
                                        if res is None else
                                        "%d passed, %d failed" % res))


if __name__ == "__main__":
    if sys.implementation.name == "micropython":
        mp_main(sys.argv[1:])
    else:
        main()
