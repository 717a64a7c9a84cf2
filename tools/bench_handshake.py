# The handshake against the same strongSwan gateway, in one run, for each
# DH group (PSK, aes128-sha256 for IKE and ESP): our client on CPython and
# on the MicroPython unix port (.mpy, 144 KiB heap, as `ikev2c` runs it),
# and strongSwan's own initiator (a second charon in the device namespace)
# as the baseline.  The runners take turns, run after run, so that a slow
# moment of this shared machine hits all three alike.
#
# What is timed, from the capture on the device's link: from the first
# IKE_SA_INIT request to the first ESP packet the initiator sends, i.e. to
# a Child SA that carries traffic.  Our client pings as soon as it is up.
# For strongSwan, a small sender in the device namespace tries a datagram
# to the cloud every 0.2 ms; the kernel routes the first one into the
# tunnel once charon has installed the Child SA.  Process start-up is not
# counted for anyone (charon is a daemon; our client has started, loaded
# its configuration and made its DH key pair before its first request).
# The phases: request -> response (the gateway) -> IKE_AUTH request (the
# initiator: DH, keys, AUTH) -> response (the gateway) -> first ESP (the
# initiator: checks, Child SA).  Bytes: the IP lengths of the four
# handshake packets.
import json
import os
import statistics
import subprocess
import sys
import time

from .lab import Lab

GROUPS = (("X25519", "x25519"), ("ECP-256", "ecp256"), ("MODP-2048", "modp2048"))
ESP = "aes128-sha256"
POOL = "10.99.0.0/24"
RUNNERS = ("strongSwan", "CPython", "MicroPython")

SENDER = """import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    try:
        s.sendto(b"x", (%r, 9))
    except OSError:
        pass
    time.sleep(0.0002)
"""


def timeline(pkts):
    # -> (ms to the first ESP, [phase ms] * 4, handshake bytes, the first
    # ESP packet's IP length) or None
    ike = [p for p in pkts if p["kind"] == "ike"]
    if len(ike) < 4:
        return None
    t = [p["time"] for p in ike[:4]]
    esp = [p for p in pkts if p["kind"].startswith("esp") and p["time"] > t[3]]
    if not esp:
        return None
    t.append(esp[0]["time"])
    phases = [(t[i + 1] - t[i]) * 1000 for i in range(4)]
    return ((t[4] - t[0]) * 1000, phases, sum(p["length"] for p in ike[:4]),
            esp[0]["length"])


def _strongswan(lab):
    cap = lab.start_capture(lab.ns_device, lab.if_device)
    snd = lab.popen(lab.ns_device, sys.executable, "-c", SENDER % lab.cloud_ip,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.05)
        lab.initiate()
        time.sleep(0.05)
    finally:
        lab._stop_proc(snd)
    pkts = cap.packets()
    lab.terminate()
    time.sleep(0.05)
    return timeline(pkts)


def _ours(lab, runtime, cfg):
    exe = os.path.join(os.path.dirname(sys.executable), "ikev2c")
    cap = lab.start_capture(lab.ns_device, lab.if_device)
    r = lab.run(lab.ns_device, exe, "--config", cfg, "--runtime", runtime,
                "ping", lab.cloud_ip, timeout=120)
    time.sleep(0.05)
    pkts = cap.packets()
    if r.returncode:
        raise RuntimeError("ikev2c (%s) failed: %s" % (runtime, r.stderr.strip()))
    return timeline(pkts)


def _group(label, word, n, log):
    ike = "aes128-sha256-" + word
    res = dict((r, []) for r in RUNNERS)
    with Lab(pool=POOL, ike=ike, esp=ESP, verbose=False) as lab:
        cfg = os.path.join(lab.state_dir, "bench.json")
        with open(cfg, "w") as f:
            json.dump({"gateway": lab.gateway_ip, "local_id": lab.device_id,
                       "remote_id": lab.gateway_id, "psk": lab.psk, "ike": ike,
                       "esp": ESP, "remote_ts": [str(lab.cloud_net)]}, f)
        lab.start_initiator()
        for i in range(n + 1):  # the first round warms up and is dropped
            for r in RUNNERS:
                t = (_strongswan(lab) if r == "strongSwan"
                     else _ours(lab, r.lower(), cfg))
                if t is None:
                    raise RuntimeError("%s %s: no handshake and ESP packet in "
                                       "the capture" % (label, r))
                if i:
                    res[r].append(t)
            log("  %s: round %d of %d" % (label, i, n))
    rows = []
    base = statistics.median(t[0] for t in res["strongSwan"])
    base_bytes = res["strongSwan"][0][2]
    for r in RUNNERS:
        ts = res[r]
        ms = statistics.median(t[0] for t in ts)
        rows.append({"group": label, "runner": r, "ms": ms, "runs": len(ts),
                     "min_ms": min(t[0] for t in ts),
                     "phases_ms": [statistics.median(t[1][k] for t in ts)
                                   for k in range(4)],
                     "bytes": ts[0][2], "x_strongswan": ms / base,
                     "first_esp": ts[0][3],
                     "bytes_ratio": ts[0][2] / base_bytes})
    return rows


def run(n=7, log=print):
    rows = []
    for label, word in GROUPS:
        log("bench: handshake %s (PSK, aes128-sha256), %d rounds of "
            "strongSwan, CPython, MicroPython..." % (label, n))
        rows += _group(label, word, n, log)
    return rows


def report(rows, out=print):
    out("\nHandshake: first IKE_SA_INIT to the first ESP packet (PSK, "
        "aes128-sha256, median, same gateway, same run)")
    out("  %-10s %-12s %8s %8s %6s  %s" % ("group", "initiator", "ms",
                                           "x sSwan", "bytes",
                                           "phases ms: gw, initiator, gw, "
                                           "initiator"))
    for r in rows:
        out("  %-10s %-12s %8.2f %8.2f %6d  %s" % (
            r["group"], r["runner"], r["ms"], r["x_strongswan"], r["bytes"],
            " ".join("%5.2f" % p for p in r["phases_ms"])))
