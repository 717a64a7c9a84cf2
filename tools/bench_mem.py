# The memory budget of the device (part of `make bench`; needs root for the
# gateway lab):
#
#   1. .mpy sizes, per module, of what `make deploy` puts on a device (-O3,
#      constants inlined): the PSK profile of the library, and the app;
#   2. a full session of the device application (firmware/app.py) on the
#      MicroPython unix port against strongSwan: the handshake, 100
#      telemetry datagrams, each acknowledged, and one Child SA rekey of
#      ours (rekey_packets) in the middle;
#      - the heap taken by the imported code, read from the filesystem into
#        the heap (as after `make deploy`), and executed in place from a
#        ROMFS image (as frozen, or `make deploy ROMFS=1`);
#      - the working set: what the session needs beyond the loaded code,
#        from the smallest heap cap under which it completes with every
#        module loaded beforehand and kept;
#      - the smallest heap in which the whole session completes as on the
#        device (phase modules loaded and dropped by the library), both
#        ways, and the verdict on the ESP32's initial 56 KiB.
# With `make firmware BOARD=unix32` (a 32-bit unix port with the code frozen
# in), the same is measured with objects, pointers and dict slots the size
# they have on an ESP32: the closest this machine gets to the device.
# The caps are found by bisection (2 KiB steps): a run passes when every
# record is acknowledged and the rekey happened.  Note the unix port is a
# 64-bit build: its objects and pointers are larger than an ESP32's, so the
# heap figures here are an upper bound for the device.
import json
import os
import sys
import time

from . import ROOT, build_mpy, deploy

BUDGET_MPY = 48 * 1024
BUDGET_WORKING = 16 * 1024
ESP32_HEAP = 56 * 1024
COUNT = 100


def _k(n):
    return "%.1f KiB" % (n / 1024)


def stage():
    dest, files = deploy.stage(os.path.join(ROOT, "build", "bench-mem", "device"))
    launcher = os.path.join(ROOT, "build", "bench-mem", "launcher")
    _, err = build_mpy.build(launcher, quiet=True, opt=3,
                             srcs=[os.path.join(ROOT, "tools", "memrun.py")])
    if err:
        raise SystemExit("bench: mpy-cross failed: %s" % err)
    image = deploy.romfs_image(dest, os.path.join(ROOT, "build", "bench-mem",
                                                  "device.romfs"))
    return dest, launcher, image


DEVICE_ARCH = "xtensawin"  # the ESP32 and ESP32-S3 (the C3's rv32imc is
# about as compact)


def device_sizes():
    # the .mpy sizes as `make deploy` makes them for an ESP32: the native
    # code compiled for Xtensa, not for this machine
    dest = deploy.stage(os.path.join(ROOT, "build", "bench-mem", "esp32"),
                        arch=DEVICE_ARCH)[0]
    return sizes_table(dest)


def sizes_table(dest):
    lib, lib_total = deploy.sizes(dest, "lib")
    app = [(p, s) for p, s in deploy.sizes(dest)[0] if not p.startswith("lib/")]
    # what a device that only uses X25519 could leave out (the native
    # code stays: it holds both curves)
    groups = [(p, s) for p, s in lib if p.endswith(("p256.mpy", "modp.mpy"))]
    return lib, lib_total, app, groups


class Runner:
    def __init__(self, lab, dest, launcher, image, log):
        self.lab, self.dest, self.launcher, self.image = lab, dest, launcher, image
        self.frozen = {}  # mode -> the frozen binary, resolved once
        self.log = log
        self.runs = 0
        d = os.path.join(lab.state_dir, "bench-mem")
        os.makedirs(d, exist_ok=True)
        self.cfg = os.path.join(d, "config.json")
        self.sec = os.path.join(d, "secrets.json")
        with open(self.cfg, "w") as f:
            json.dump({"gateway": lab.gateway_ip, "local_id": lab.device_id,
                       "remote_id": lab.gateway_id,
                       "remote_ts": [str(lab.cloud_net)],
                       "telemetry": "%s:%d" % (lab.cloud_ip, lab.collector_port),
                       "check_ping": lab.cloud_ip, "count": COUNT,
                       "interval": 0.02, "rekey_packets": 120, "drain": 20}, f)
        with open(self.sec, "w") as f:
            json.dump({"psk": lab.psk}, f)

    def run(self, mode, preload, heap):
        # -> (passed, memrun's line, the app's summary, stderr tail)
        self.runs += 1
        exe = os.path.join(os.path.dirname(sys.executable), "micropython")
        path = ":".join([self.launcher] + ([self.dest, os.path.join(self.dest, "lib")]
                                           if mode == "fs" else []))
        if mode in ("frozen", "frozen32"):
            exe, path = self.frozen[mode], ".frozen:" + self.launcher
        r = self.lab.run(self.lab.ns_device, "env", "MICROPYPATH=" + path, exe,
                         "-X", "heapsize=%d" % heap, "-m", "memrun", mode,
                         self.image if mode == "rom" else "-", "1" if preload else "0",
                         self.cfg, self.sec, timeout=180)
        lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
        info = lines[0] if lines else None
        summ = lines[1] if len(lines) > 1 else None
        ok = (r.returncode == 0 and summ is not None and summ["acked"] == COUNT
              and summ["child_rekeys_ours"] >= 1)
        return ok, info, summ, r.stderr.strip().splitlines()[-1:] if r.stderr else []

    def smallest(self, mode, preload, lo, hi, step=2048):
        # the smallest heapsize (bytes) that passes, by bisection in steps
        ok, info, summ, _ = self.run(mode, preload, hi)
        if not ok:
            return None, None, None
        best = (hi, info, summ)
        lo, hi = lo // step, hi // step
        while hi - lo > 1:
            mid = (lo + hi) // 2
            ok, info, summ, _ = self.run(mode, preload, mid * step)
            self.log("    %s%s heap %s: %s" % (mode, " preloaded" if preload else "",
                                              _k(mid * step), "ok" if ok else "fails"))
            if ok:
                hi, best = mid, (mid * step, info, summ)
            else:
                lo = mid
        return best


def frozen_binary(bits32=False, log=None):
    # the unix port with the current code frozen in, if `make firmware
    # BOARD=unix` (BOARD=unix32: the 32-bit build) made one; or
    # MPY_FROZEN / MPY_FROZEN32 = path, taken as is
    from . import firmware

    p = os.environ.get("MPY_FROZEN32" if bits32 else "MPY_FROZEN")
    if p:
        return p if os.path.exists(p) else None
    p = firmware.FROZEN_UNIX32 if bits32 else firmware.FROZEN_UNIX
    if not os.path.exists(p):
        return None
    if not firmware.current(p):
        if log:
            log("  %s holds older code than lib/: not measured (make firmware "
                "BOARD=%s MPY_DIR=...)" % (os.path.relpath(p, ROOT),
                                           "unix32" if bits32 else "unix"))
        return None
    return p


def measure(log=print):
    from .lab import Lab

    dest, launcher, image = stage()
    lib, lib_total, app, groups = device_sizes()
    out = {"mpy": {"modules": dict(lib + app), "library": lib_total,
                   "library_x25519_only": lib_total - sum(s for _, s in groups),
                   "app": sum(s for _, s in app), "budget": BUDGET_MPY},
           "image_bytes": os.path.getsize(image)}
    t0 = time.time()
    with Lab(pool="10.99.0.0/24", verbose=False) as lab:
        r = Runner(lab, dest, launcher, image, log)
        log("  session: handshake, %d acknowledged datagrams, one Child SA rekey"
            % COUNT)
        # code in the heap, each way (a generous cap, everything preloaded)
        r.frozen = {"frozen": frozen_binary(log=log),
                    "frozen32": frozen_binary(True, log)}
        modes = ("fs", "rom") + tuple(m for m in ("frozen", "frozen32")
                                      if r.frozen[m])
        for mode in modes:
            ok, info, summ, err = r.run(mode, True, 256 * 1024)
            if not ok:
                raise SystemExit("bench: the session failed (%s, 256 KiB): %s"
                                 % (mode, err))
            out[mode] = {"code": info["code"], "image": info["image"],
                         "handshake_ms": summ["handshake_ms"]}
        img = out["rom"]["image"]
        # the working set: code preloaded from ROMFS, the smallest cap
        cap, info, summ = r.smallest("rom", True, img + 8192, img + 160 * 1024)
        out["rom"]["preloaded_min_heap"] = info["heap"]
        out["working_set"] = info["heap"] - info["base"]
        for mode in ("frozen", "frozen32"):
            if mode in modes:
                cap, info, summ = r.smallest(mode, True, 8192, 160 * 1024)
                out[mode]["working_set"] = info["heap"] - info["base"]
        # as on the device: the library loads and drops its phase modules
        for mode in modes:
            base = img if mode == "rom" else 0
            cap, info, summ = r.smallest(mode, False, base + 8192, base + 256 * 1024)
            out[mode]["min_heap"] = info["heap"] - base
            out[mode]["min_heapsize_arg"] = cap
        out["runs"] = r.runs
    out["seconds"] = round(time.time() - t0, 1)
    return out


def report(out, print=print):
    m = out["mpy"]
    print("Memory budget (MicroPython unix port, 64-bit: an upper bound for the ESP32)")
    print("  .mpy, -O3, as deployed to an ESP32 (native code for %s):" % DEVICE_ARCH)
    for p, s in sorted(m["modules"].items(), key=lambda x: -x[1]):
        print("    %-32s %6d" % (p, s))
    ok = m["library"] <= m["budget"]
    print("  %-34s %6d  %s of the %s budget (%.2fx)  %s"
          % ("library, PSK profile (3 DH groups)", m["library"], _k(m["library"]),
             _k(m["budget"]), m["library"] / m["budget"], "OK" if ok else "OVER"))
    print("  %-34s %6d  %.2fx  %s" % ("library, X25519 only", m["library_x25519_only"],
                                       m["library_x25519_only"] / m["budget"],
                                       "OK" if m["library_x25519_only"] <= m["budget"] else "OVER"))
    print("  %-34s %6d" % ("device app (app, hw)", m["app"]))
    fs, rom = out["fs"], out["rom"]
    fz, fz32 = out.get("frozen"), out.get("frozen32")
    print("  code in the heap, all modules loaded: %s read from files, %s run in "
          "place from ROMFS (image %s, in flash on a device), %s%s"
          % (_k(fs["code"]), _k(rom["code"]), _k(rom["image"]),
             "%s frozen" % _k(fz["code"]) if fz else
             "frozen not measured (make firmware BOARD=unix MPY_DIR=...)",
             ", %s frozen in the 32-bit build" % _k(fz32["code"]) if fz32 else ""))
    for ws, how in ((out["working_set"], "code in ROMFS"),
                    (fz and fz["working_set"], "code frozen"),
                    (fz32 and fz32["working_set"], "code frozen, 32-bit build")):
        if ws is None:
            continue
        print("  working set of the session, %s: %s (budget %s, %.2fx)  %s"
              % (how, _k(ws), _k(BUDGET_WORKING), ws / BUDGET_WORKING,
                 "OK" if ws <= BUDGET_WORKING else "OVER"))
    for mode, what in (("frozen32", "code frozen, 32-bit build"),
                       ("frozen", "code frozen"), ("rom", "code in ROMFS"),
                       ("fs", "code read into the heap")):
        if mode not in out:
            continue
        h = out[mode]["min_heap"]
        print("  smallest heap for the whole session, %s: %s (ESP32 initial heap "
              "%s: %s)" % (what, _k(h), _k(ESP32_HEAP),
                           "fits" if h <= ESP32_HEAP else "does not fit, %.2fx" % (h / ESP32_HEAP)))
    print("  (%d sessions against strongSwan, %.0f s)" % (out["runs"], out["seconds"]))


def main():
    if os.geteuid() != 0:
        sys.exit("bench-mem: needs root (the gateway lab)")
    out = measure()
    report(out)
    path = os.path.join(ROOT, "build", "bench-mem.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print("  written to %s" % os.path.relpath(path, ROOT))


if __name__ == "__main__":
    main()
