# Certificate authentication next to PSK (part of `make bench`; needs root
# and strongSwan): for each way of authenticating, the same strongSwan
# gateway, our client's `ikev2c up` on CPython and on the MicroPython unix
# port (.mpy files), and
#   - the handshake time (the session's own: IKE_SA_INIT request out to the
#     IKE_AUTH response verified; median of n), with its ratio to PSK's,
#   - the IKE bytes of the handshake, both ways,
#   - the smallest MicroPython heap cap in which the handshake completes
#     (bisection in 2 KiB steps: the peak heap), with its ratio to PSK's:
#     with the code loaded from .mpy files into the heap, and with it
#     frozen into the binary as on a device (when `make firmware
#     BOARD=unix` has built one).
# Both sides use the same kind of key (the device's and the gateway's),
# signatures are RFC 7427 (SHA-256).  The unix port is a 64-bit build, so
# heap figures are upper bounds for an ESP32.
import json
import os
import statistics
import sys
import tempfile

from . import ROOT, build_mpy, pki
from .lab import Lab

MODES = (("psk", None), ("ECDSA P-256", "ecdsa"), ("RSA 2048", "rsa2048"),
         ("RSA 3072", "rsa3072"))


def _k(n):
    return "%.0f KiB" % (n / 1024)


class _Mode:
    def __init__(self, name, key, tmp):
        self.name, self.key = name, key
        self.lab_kw = {"pool": "10.99.0.0/24", "verbose": False}
        self.cfg = {}
        if key:
            d = os.path.join(tmp, key)
            pki.make_ca(d, key=key)
            pki.make_gateway(d, "gw.lab", key=key)
            dev = pki.make_device(d, "device1.lab", key=key)
            conf = pki.write_swanctl(d, "gw.lab", pool="labpool",
                                     remote_ts=["198.51.100.0/24"])
            self.lab_kw.update(includes=[conf],
                               creds={"private": [os.path.join(d, "gateway.key")]})
            self.cfg = {"local_id": "device1.lab", "cert": dev["cert"],
                        "private_key": dev["key"], "ca_cert": dev["ca"]}


def _up(lab, path, runtime, heap=None):
    if runtime == "frozen":  # the library frozen in, ikev2c_run.mpy a file
        from .bench_mem import frozen_binary

        args = ["env", "MICROPYPATH=.frozen:" + os.path.join(ROOT, "build", "mpy"),
                frozen_binary(), "-X", "heapsize=%s" % heap, "-m", "ikev2c_run",
                path]
    else:
        exe = os.path.join(os.path.dirname(sys.executable), "ikev2c")
        args = [exe, "--config", path, "--runtime", runtime]
        if heap:
            args += ["--heap", str(heap)]
    r = lab.run(lab.ns_device, *args, "up", timeout=120)
    out = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    return (out[-1] if r.returncode == 0 and out else None), r.stderr


def _smallest(lab, path, runtime="micropython", lo=16 * 1024, hi=384 * 1024,
              step=2048):
    # the smallest heap cap (bytes) in which `ikev2c up` succeeds
    if _up(lab, path, runtime, hi)[0] is None:
        return None
    lo, hi = lo // step, hi // step
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _up(lab, path, runtime, mid * step)[0] is not None:
            hi = mid
        else:
            lo = mid
    return hi * step


def measure(n=5, log=print):
    from .bench_mem import frozen_binary

    build_mpy.build(quiet=True)
    frozen = frozen_binary()
    if not frozen:
        log("  (no frozen unix port: `make firmware BOARD=unix MPY_DIR=...` "
            "adds the heap with the code frozen in)")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-certs-") as tmp:
        for name, key in MODES:
            m = _Mode(name, key, tmp)
            log("  %s: a gateway, %d handshakes per runtime, then the heap "
                "bisection" % (name, n))
            with Lab(**m.lab_kw) as lab:
                cfg = {"gateway": lab.gateway_ip, "local_id": lab.device_id,
                       "remote_id": lab.gateway_id, "psk": lab.psk,
                       "remote_ts": ["198.51.100.0/24"]}
                cfg.update(m.cfg)
                if key:
                    del cfg["psk"]
                path = os.path.join(lab.state_dir, "bench-certs.json")
                with open(path, "w") as f:
                    json.dump(cfg, f)
                row = {"mode": name}
                for rt in ("cpython", "micropython"):
                    ts, nbytes = [], None
                    for _ in range(n):
                        info, err = _up(lab, path, rt, "384k" if rt == "micropython"
                                        else None)
                        if info is None:
                            raise SystemExit("bench: %s on %s failed: %s"
                                             % (name, rt, err.strip()[-300:]))
                        ts.append(info["handshake_ms"])
                        nbytes = info["ike_bytes"]
                    row[rt] = statistics.median(ts)
                    row["bytes"] = nbytes
                row["heap"] = _smallest(lab, path)
                row["heap_frozen"] = (_smallest(lab, path, "frozen")
                                      if frozen else None)
            rows.append(row)
    return rows


def report(rows, out=print):
    base = rows[0]
    out("\nCertificate authentication vs PSK (our client against strongSwan; "
        "median handshake, ms; ratio to PSK in the same run)")
    out("  %-12s %14s %16s %10s %20s %20s" % (
        "auth", "CPython", "MicroPython", "IKE bytes", "smallest heap, .mpy",
        "smallest heap, frozen"))

    def heap(r, k):
        if not (r.get(k) and base.get(k)):
            return "-"
        return "%s (%.2fx)" % (_k(r[k]), r[k] / base[k])

    for r in rows:
        out("  %-12s %6.0f (%4.1fx) %7.0f (%5.1fx) %10d %20s %20s"
            % (r["mode"], r["cpython"], r["cpython"] / max(base["cpython"], 1),
               r["micropython"], r["micropython"] / max(base["micropython"], 1),
               r["bytes"], heap(r, "heap"), heap(r, "heap_frozen")))
    out("  (MicroPython: the unix port, 64-bit: an ESP32's objects are half the "
        "size, and its handshake slower)")


def main(argv=None):
    n = int((argv or sys.argv[1:] or ["5"])[0])
    rows = measure(n, log=lambda m: print(m, flush=True))
    report(rows)
    os.makedirs(os.path.join(ROOT, "build"), exist_ok=True)
    with open(os.path.join(ROOT, "build", "bench-certs.json"), "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
