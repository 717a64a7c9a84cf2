# `make bench`: the performance targets, measured in one run against
# baselines from the same run (these machines are shared and noisy), then
# one table of every target, also written as JSON (build/bench/bench.json,
# or --json FILE).
#
#   1. the primitives on both runtimes (CPython: host and pure backends;
#      MicroPython unix port: mpy and pure backends, the library as .mpy),
#      each against a native SHA-256 of 1400 bytes measured beside it;
#   2. Diffie-Hellman on MicroPython: the native (viper) X25519 and P-256
#      against the big-integer ladders (tools/bench_dh.py);
#   3. the ESP data path on both runtimes against the bare primitives
#      (tools/bench_esp.py);
#   4. instruction counts of the MicroPython runs under callgrind, and the
#      ESP32 projection made from them (tools/bench_callgrind.py);
#   5. as root, against strongSwan in the lab: the handshake next to
#      strongSwan's own initiator for three DH groups, certificate
#      authentication next to PSK, and the device's memory budget.
import argparse
import json
import os
import subprocess
import sys

from . import LIB, ROOT, build_mpy

HEAP = "110k"  # the MicroPython runs: an ESP32's heap


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


def micropython(script, args, heap=HEAP):
    # -> the JSON lines a tools/ script printed on the unix port
    dest, errors = build_mpy.build(quiet=True)
    if errors:
        sys.exit("bench: mpy-cross failed: %s" % errors)
    exe = os.path.join(os.path.dirname(sys.executable), "micropython")
    p = subprocess.run([exe, "-X", "heapsize=" + heap,
                        os.path.join(ROOT, "tools", script)] + args,
                       capture_output=True, text=True,
                       env=dict(os.environ, MICROPYPATH=dest))
    if p.returncode:
        sys.exit("bench: micropython %s %s (heap %s) failed:\n%s%s"
                 % (script, " ".join(args), heap, p.stderr, p.stdout))
    return [json.loads(ln) for ln in p.stdout.splitlines() if ln.startswith("{")]


def prims(quick):
    from . import bench_prims

    print("bench: primitives, CPython %s (host, pure backends)..."
          % sys.version.split()[0], flush=True)
    cp = []
    bench_prims.run(["host", "pure"], cp.append, quick)
    table("CPython %s" % sys.version.split()[0], cp)
    print("\nbench: primitives, MicroPython unix port (mpy, pure backends, "
          ".mpy)...", flush=True)
    mp = []
    # the device backend runs in an ESP32-sized heap; the pure fallback's
    # AES tables need more, so it runs uncapped (see README)
    for name, heap in (("mpy", HEAP), ("pure", "8m")):
        rows = micropython("bench_prims.py", [name] + (["--quick"] if quick else []),
                           heap)
        mp += [r for r in rows if r["case"] != "library import" or name == "mpy"]
    table("MicroPython unix port (mpy backend in a 110 KiB heap, pure in 8 MiB)", mp)
    for r in mp:
        if r["case"] == "library import":
            print("  library resident after import: %d bytes (64-bit unix port,"
                  " .mpy in RAM)" % r["bytes"])
    return cp, mp


def esp(quick):
    from . import bench_esp

    print("\nbench: ESP data path, both runtimes...", flush=True)
    rows = []
    bench_esp.run(rows.append, quick)
    rows += micropython("bench_esp.py", ["--quick"] if quick else [])
    print("\nESP encapsulation + decapsulation, one packet each way, against "
          "the bare primitives (same run)")
    print("  %-34s %-8s %10s %10s %8s %9s %10s" % (
        "case", "backend", "ours", "bare", "of bare", "Mbit/s", "alloc/pkt"))
    for r in rows:
        print("  %-34s %-8s %10s %10s %8.2f %9.1f %10s" % (
            r["case"], r["backend"], fmt_us(r["us"]), fmt_us(r["bare_us"]),
            r["of_bare"], r["mbit_s"],
            "%d B" % r["alloc_per_packet"] if "alloc_per_packet" in r else "-"))
    mp = [r for r in rows if "held_after" in r]
    if mp:
        print("  MicroPython: heap held after 2000 more packets: %s"
              % ", ".join("%d B (%d B)" % (r["held_after"], r["size"]) for r in mp))
    return rows


def dh(quick):
    from . import bench_dh

    print("\nbench: Diffie-Hellman on MicroPython, native against big "
          "integers...", flush=True)
    rows = bench_dh.run(quick)
    for r in rows:
        r["port"] = "64-bit"
    if bench_dh.unix32():
        for r in bench_dh.run(quick, bits32=True):
            r["port"] = "32-bit"
            rows.append(r)
    else:
        print("  (no 32-bit unix port: `make firmware BOARD=unix32 MPY_DIR=...` "
              "builds one, with gcc-multilib)")
    print("\nDH scalar multiplication, MicroPython unix port (same run)")
    print("  %-20s %-7s %12s %12s %9s %13s %12s" % (
        "case", "port", "big ints", "native", "speedup", "ladder alloc",
        "call alloc"))
    for r in rows:
        print("  %-20s %-7s %12s %12s %8.1fx %11d B %10d B" % (
            r["case"], r["port"], fmt_us(r["bigint_us"]), fmt_us(r["native_us"]),
            r["speedup"], r["ladder_alloc"], r["native_call_alloc"]))
    return rows


def callgrind(quick):
    from . import bench_callgrind as CG

    if not CG.available():
        print("\nInstruction counts skipped: valgrind is not installed "
              "(apt-get install valgrind)")
        return None
    print("\nbench: instruction counts of the MicroPython runs (callgrind)...",
          flush=True)
    rows = CG.measure(log=lambda m: print(m, flush=True), quick=quick)
    print("\nInstructions per run, MicroPython unix port (x86-64), and the "
          "ESP32 projection (see README)")
    print("  %-40s %14s %6s %6s %6s  %s" % ("case", "instructions", "AES %",
                                            "SHA %", "GC %", "ESP32 projection"))
    for r in rows:
        t = r["total"]
        if "size" in r:
            lo, hi = CG.projection(r, *CG.esp_hw_work(r["size"]))
        else:
            lo, hi = CG.projection(r)
        r["esp32_s"] = [lo, hi]
        print("  %-40s %14d %6.1f %6.1f %6.1f  %s" % (
            r["case"], t, 100 * r["aes"] / t, 100 * r["sha256"] / t,
            100 * r["gc"] / t, "%s to %s" % (fmt_us(lo * 1e6).strip(),
                                             fmt_us(hi * 1e6).strip())))
    return rows


def lab_benches(quick):
    from .lab import CHARON

    out = {"handshake": None, "certificates": None, "memory": None}
    if os.geteuid() != 0 or not os.path.exists(CHARON):
        print("\nThe handshake, certificate and memory benches are skipped: "
              "they need root and strongSwan's charon (%s); run `make bench` "
              "as root after `make test` installed it" % CHARON)
        return out
    from . import bench_certs, bench_handshake, bench_mem

    out["handshake"] = bench_handshake.run(3 if quick else 7,
                                           log=lambda m: print(m, flush=True))
    bench_handshake.report(out["handshake"])
    print("\nbench: certificate authentication (a gateway per mode, heap "
          "bisection)...", flush=True)
    out["certificates"] = bench_certs.measure(3 if quick else 5,
                                              log=lambda m: print(m, flush=True))
    bench_certs.report(out["certificates"])
    print("\nbench: memory budget (sessions against strongSwan, bisecting the "
          "heap cap)...", flush=True)
    out["memory"] = bench_mem.measure(log=lambda m: print(m, flush=True))
    print()
    bench_mem.report(out["memory"])
    return out


# ------------------------------------------------------------------ targets
def targets(res):
    # -> [(target, measured, goal, ok or None)], ok None: not measured
    from .bench_mem import BUDGET_MPY, BUDGET_WORKING, ESP32_HEAP

    rows = []
    hs = res.get("handshake") or []
    for r in hs:
        if r["runner"] == "strongSwan":
            continue
        goal = 0.8 if r["runner"] == "CPython" else 1.0
        rows.append(("1 handshake %s, %s vs strongSwan" % (r["group"], r["runner"]),
                     "%.2fx (%.1f / %.1f ms)" % (r["x_strongswan"], r["ms"],
                                                r["ms"] / r["x_strongswan"]),
                     "<= %.1fx" % goal, r["x_strongswan"] <= goal))
    if not hs:
        rows.append(("1 handshake vs strongSwan", "not measured (needs root)",
                     "", None))
    for r in res.get("dh") or []:
        rows.append(("2 %s native vs big ints, %s port" % (r["case"], r["port"]),
                     "%.1fx faster" % r["speedup"], ">= 5x", r["speedup"] >= 5))
        rows.append(("2 %s, %s: heap allocated in the ladder" % (r["case"], r["port"]),
                     "%d B" % r["ladder_alloc"], "0 B", r["ladder_alloc"] == 0))
    for r in res.get("esp") or []:
        if r["suite"] != "aes128-sha256":
            continue
        rows.append(("3 ESP %d B, %s, of the bare primitives' rate"
                     % (r["size"], "MicroPython" if r["backend"] == "mpy"
                        else "CPython"),
                     "%.2f" % r["of_bare"], ">= 0.60", r["of_bare"] >= 0.6))
        if "held_after" in r:
            rows.append(("3 ESP %d B, MicroPython heap growth over 2000 packets"
                         % r["size"], "%d B" % r["held_after"], "flat (0 B)",
                         r["held_after"] == 0))
    mem = res.get("memory")
    if mem:
        fz = mem.get("frozen32") or mem.get("frozen")
        ws = fz["working_set"] if fz else mem["working_set"]
        how = ("frozen, 32-bit build" if mem.get("frozen32") else
               "frozen, 64-bit" if fz else "in ROMFS, 64-bit")
        rows.append(("4 working set of a session (code %s)" % how,
                     "%.1f KiB" % (ws / 1024), "<= 16 KiB", ws <= BUDGET_WORKING))
        full = (fz or mem["rom"])["min_heap"]
        rows.append(("4 whole session's smallest heap (code %s)" % how,
                     "%.1f KiB" % (full / 1024), "<= 56 KiB", full <= ESP32_HEAP))
    for r in hs:
        if r["runner"] == "CPython":
            rows.append(("5 handshake bytes %s vs strongSwan" % r["group"],
                         "%d / %d B = %.0f%%" % (r["bytes"],
                                                  r["bytes"] / r["bytes_ratio"],
                                                  100 * r["bytes_ratio"]),
                         "<= 90%", r["bytes_ratio"] <= 0.9))
        if r["runner"] == "MicroPython" and r["group"] == "X25519":
            # an 84-byte ICMP echo: IP 20 + UDP 8 + SPI/seq 8 + IV 16 +
            # the payload padded to 16 with its 2-byte trailer + ICV 16
            least = 20 + 8 + 8 + 16 + (84 + 2 + 15) // 16 * 16 + 16
            rows.append(("5 ESP packet of an 84-byte ping (aes128-sha256)",
                         "%d B" % r["first_esp"], "%d B (the least)" % least,
                         r["first_esp"] == least))
    size = res.get("mpy_size")
    if size is not None:
        rows.append(("6 .mpy of the PSK profile, for an ESP32", "%d B" % size,
                     "<= %d B" % BUDGET_MPY, size <= BUDGET_MPY))
    return rows


def print_targets(rows):
    print("\nTargets (issue 8): one run, each against its baseline from the "
          "same run")
    w = max(len(r[0]) for r in rows)
    print("  %-*s  %-26s %-18s %s" % (w, "target", "measured", "goal", ""))
    for name, got, goal, ok in rows:
        print("  %-*s  %-26s %-18s %s" % (w, name, got, goal,
                                          "-" if ok is None else
                                          ("ok" if ok else "MISS")))
    miss = [r[0] for r in rows if r[3] is False]
    print("  %d of %d met%s" % (sum(1 for r in rows if r[3]), len(rows),
                                 "; missed: %d" % len(miss) if miss else ""))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="ikev2-bench", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="shorter timing budget")
    ap.add_argument("--json", metavar="FILE",
                    default=os.path.join(ROOT, "build", "bench", "bench.json"),
                    help="where to write the figures (default %(default)s)")
    a = ap.parse_args(argv)
    sys.path.insert(0, LIB)
    res = {}
    res["cpython"], res["micropython"] = prims(a.quick)
    res["dh"] = dh(a.quick)
    res["esp"] = esp(a.quick)
    res["callgrind"] = callgrind(a.quick)
    res.update(lab_benches(a.quick))
    from . import bench_mem

    if res["memory"]:
        res["mpy_size"] = res["memory"]["mpy"]["library"]
    else:
        res["mpy_size"] = bench_mem.device_sizes()[1]
    res["targets"] = [dict(zip(("target", "measured", "goal", "ok"), r))
                      for r in targets(res)]
    print_targets(targets(res))
    os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump(res, f, indent=1)
    print("\n  written to %s" % a.json)


if __name__ == "__main__":
    main()
