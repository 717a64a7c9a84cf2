# The handshake on the wire, against the same strongSwan gateway in one
# run: our client on CPython and on the MicroPython unix port (.mpy,
# 110 KiB heap), and strongSwan's own initiator as the baseline.  Timed
# from the capture on the device's link (first IKE_SA_INIT request to the
# IKE_AUTH response), so process start-up is not counted; bytes are the
# IP lengths of the handshake packets; ESP overhead from an 84-byte ping.
import json
import os
import statistics
import sys
import time

from .lab import Lab

IKE = "aes128-sha256-x25519"
ESP = "aes128-sha256"


def _handshake(pkts):
    # -> (seconds, bytes, packets) from the first IKE packet to the 4th
    ike = [p for p in pkts if p["kind"] == "ike"]
    if len(ike) < 4:
        return None
    hs = ike[:4]
    return hs[3]["time"] - hs[0]["time"], sum(p["length"] for p in hs), len(hs)


def _ours(lab, runtime, n):
    cfg = {"gateway": lab.gateway_ip, "local_id": lab.device_id,
           "remote_id": lab.gateway_id, "psk": lab.psk, "ike": IKE, "esp": ESP,
           "remote_ts": ["198.51.100.0/24"]}
    path = os.path.join(lab.state_dir, "bench.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    exe = os.path.join(os.path.dirname(sys.executable), "ikev2c")
    res = []
    esp = None
    for _ in range(n):
        cap = lab.start_capture(lab.ns_device, lab.if_device)
        r = lab.run(lab.ns_device, exe, "--config", path, "--runtime", runtime,
                    "ping", lab.cloud_ip, timeout=120)
        time.sleep(0.1)
        pkts = cap.packets()
        if r.returncode:
            raise RuntimeError("ikev2c failed: %s" % r.stderr.strip())
        h = _handshake(pkts)
        if h:
            res.append(h)
        e = [p["length"] for p in pkts if p["kind"] == "esp-udp"]
        if e:
            esp = e[0]
    return res, esp


def _strongswan(lab, n):
    lab.start_initiator()
    res = []
    for _ in range(n):
        cap = lab.start_capture(lab.ns_device, lab.if_device)
        lab.initiate()
        time.sleep(0.1)
        pkts = cap.packets()
        lab.terminate()
        h = _handshake(pkts)
        if h:
            res.append(h)
    return res


def run(n=5, out=print):
    rows = []
    with Lab(pool="10.99.0.0/24", ike=IKE, esp=ESP, verbose=False) as lab:
        ss = _strongswan(lab, n)
        cp, esp_cp = _ours(lab, "cpython", n)
        mp, esp_mp = _ours(lab, "micropython", n)
    base = statistics.median(t for t, _, _ in ss)
    for name, r in (("strongSwan 5.9.8 initiator", ss), ("ours, CPython", cp),
                    ("ours, MicroPython (.mpy, 110k heap)", mp)):
        t = statistics.median(x[0] for x in r)
        rows.append((name, t * 1000, r[0][1], t / base))
    out("\nHandshake on the wire (%s / %s, median of %d, same gateway, same run)"
        % (IKE, ESP, n))
    out("  %-38s %10s %10s %10s" % ("initiator", "ms", "bytes", "x strongSwan"))
    for name, ms, b, ratio in rows:
        out("  %-38s %10.1f %10d %10.2f" % (name, ms, b, ratio))
    out("  ESP: an 84-byte ICMP echo travels as a %s-byte IP packet (ESP in UDP: "
        "%s bytes of overhead)" % (esp_mp, esp_mp - 84 if esp_mp else "?"))
    return rows
