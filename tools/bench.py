# `make bench`: what each primitive costs on both runtimes.
#   CPython: the host (OpenSSL) and pure backends, in this process;
#   MicroPython unix port: the mpy (cryptolib) and pure backends, loading
#   the library as .mpy.
# Each runtime also times a native SHA-256 of 1400 bytes as its baseline;
# "x base" is a figure divided by that baseline, comparable across runs on
# a noisy shared machine.  Figures are per operation.
import argparse
import json
import os
import subprocess
import sys

from . import LIB, ROOT, build_mpy


def fmt_us(us):
    return "%9.1f us" % us if us < 10000 else "%9.2f ms" % (us / 1000)


def table(title, rows):
    print("\n" + title)
    print("  %-26s %-8s %12s %10s" % ("operation", "backend", "per op", "x base"))
    for r in rows:
        if "us" not in r:
            continue
        xb = "%10.1f" % r["x_base"] if "x_base" in r else "%10s" % "1.0"
        print("  %-26s %-8s %12s %s" % (r["case"], r["backend"], fmt_us(r["us"]), xb))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="ikev2-bench", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="shorter timing budget")
    ap.add_argument("--json", metavar="FILE", help="also write all figures as JSON")
    a = ap.parse_args(argv)
    sys.path.insert(0, LIB)
    from . import bench_prims

    print("bench: CPython %s (host, pure backends)..." % sys.version.split()[0],
          flush=True)
    cp = []
    bench_prims.run(["host", "pure"], cp.append, a.quick)
    table("CPython %s" % sys.version.split()[0], cp)

    print("\nbench: MicroPython unix port (mpy, pure backends, .mpy)...", flush=True)
    dest, errors = build_mpy.build(quiet=True)
    if errors:
        sys.exit("bench: mpy-cross failed: %s" % errors)
    exe = os.path.join(os.path.dirname(sys.executable), "micropython")
    mp = []
    # the device backend runs in an ESP32-sized heap; the pure fallback's
    # AES tables need more, so it runs uncapped (see README)
    for name, heap in (("mpy", "110k"), ("pure", "8m")):
        args = [exe, "-X", "heapsize=" + heap,
                os.path.join(ROOT, "tools", "bench_prims.py"), name]
        if a.quick:
            args.append("--quick")
        p = subprocess.run(args, capture_output=True, text=True,
                           env=dict(os.environ, MICROPYPATH=dest))
        if p.returncode:
            sys.exit("bench: micropython (%s backend, heap %s) failed:\n%s%s"
                     % (name, heap, p.stderr, p.stdout))
        rows = [json.loads(ln) for ln in p.stdout.splitlines() if ln.startswith("{")]
        mp += [r for r in rows if r["case"] != "library import" or name == "mpy"]
    table("MicroPython unix port (mpy backend in a 110 KiB heap, pure in 8 MiB)", mp)
    for r in mp:
        if r["case"] == "library import":
            print("  library resident after import: %d bytes (64-bit unix port,"
                  " .mpy in RAM)" % r["bytes"])

    # the ratio that matters for the device: MicroPython vs the host, same op
    print("\nMicroPython mpy backend vs CPython host backend (same run):")
    host = dict((r["case"], r["us"]) for r in cp if r["backend"] == "host")
    for r in mp:
        if r.get("backend") == "mpy" and r["case"] in host:
            print("  %-26s %8.1fx slower" % (r["case"], r["us"] / host[r["case"]]))
    # the handshake against a real gateway: needs root and strongSwan
    from .lab import CHARON

    certs = None
    if os.geteuid() != 0 or not os.path.exists(CHARON):
        print("\nHandshake bench skipped: it needs root and strongSwan's charon "
              "(%s); run `make bench` as root after `make test` installed it" % CHARON)
    else:
        from . import bench_handshake

        bench_handshake.run(3 if a.quick else 7)
        from . import bench_certs

        print("\nbench: certificate authentication (a gateway per mode, "
              "heap bisection)...", flush=True)
        certs = bench_certs.measure(3 if a.quick else 5,
                                    log=lambda m: print(m, flush=True))
        bench_certs.report(certs)
    mem = None
    from . import bench_mem

    if os.geteuid() != 0 or not os.path.exists(CHARON):
        print("\nMemory budget: the module sizes only (the sessions need root "
              "and strongSwan)")
        dest = bench_mem.stage()[0]
        lib, total, app, groups = bench_mem.sizes_table(dest)
        for p, n in lib + app:
            print("  %-32s %6d" % (p, n))
        print("  library, PSK profile: %d bytes (budget %d)" % (total, bench_mem.BUDGET_MPY))
    else:
        print("\nbench: memory budget (sessions against strongSwan, bisecting "
              "the heap cap)...", flush=True)
        mem = bench_mem.measure(log=lambda m: print(m, flush=True))
        print()
        bench_mem.report(mem)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"cpython": cp, "micropython": mp, "memory": mem,
                       "certificates": certs}, f, indent=1)


if __name__ == "__main__":
    main()
