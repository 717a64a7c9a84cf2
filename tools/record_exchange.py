# Records a real exchange with strongSwan for the replay tests: runs the
# client with deterministic randomness against a lab gateway, and writes
# every datagram both ways to a JSON file.  Replaying the gateway's
# datagrams to a session with the same seed reproduces our side bit for
# bit (host_tests/core/test_session_replay.py).
#
#   python -m ikev2_tools.record_exchange OUT.json [--ike P] [--esp P] [--cookies]
# (as root: it brings up its own lab)
import argparse
import json
import os
import subprocess
import sys

from . import LIB, ROOT

DEVICE_SIDE = r'''
import json, sys
sys.path.insert(0, %(lib)r)
sys.path.insert(0, %(core)r)
from harness import Rng
from ikev2.client import Client
cfg = json.loads(%(cfg)r)
log = []
c = Client(cfg, rng=Rng(%(seed)r.encode()))
real_receive = c.session.receive
def receive(data, port, now):
    log.append(["in", port, bytes(data).hex()])
    real_receive(data, port, now)
c.session.receive = receive
real_sendto = c.sock.sendto
class S:
    pass
def sendto(data, addr):
    log.append(["out", addr[1], bytes(data).hex()])
    return real_sendto(data, addr)
wrapped = S()
wrapped.sendto = sendto
wrapped.recvfrom = c.sock.recvfrom
wrapped.close = c.sock.close
c.sock = wrapped
rtt = c.ping(%(cloud)r)
c.sendto(b"recorded telemetry 1", (%(cloud)r, 5140))
got = c.recvfrom(3000)
info = c.stats()
c.close()
print(json.dumps({"log": log, "info": info, "rtt": rtt, "reply": got[0].decode() if got else None}))
'''


def main(argv=None):
    ap = argparse.ArgumentParser(prog="record_exchange")
    ap.add_argument("out")
    ap.add_argument("--ike", default="aes128-sha256-x25519")
    ap.add_argument("--esp", default="aes128-sha256")
    ap.add_argument("--gateway-ike", default=None)
    ap.add_argument("--cookies", action="store_true")
    ap.add_argument("--seed", default="replay")
    a = ap.parse_args(argv)
    sys.path.insert(0, ROOT)
    from .lab import Lab

    psk = "replay-test-psk"
    kw = {"pool": "10.99.0.0/24", "psk": psk, "cookies": a.cookies}
    if a.gateway_ike:
        kw["ike"] = a.gateway_ike
    with Lab(**kw) as lab:
        cfg = {"gateway": lab.gateway_ip, "local_id": lab.device_id,
               "remote_id": lab.gateway_id, "psk": psk, "ike": a.ike,
               "esp": a.esp,
               # recorded before IKE fragmentation was announced: the
               # replays stay bit-exact with it off
               "fragment_size": 0}
        code = DEVICE_SIDE % {"lib": LIB, "core": os.path.join(ROOT, "host_tests", "core"),
                              "cfg": json.dumps(cfg), "seed": a.seed,
                              "cloud": lab.cloud_ip}
        r = lab.run(lab.ns_device, sys.executable, "-c", code, timeout=120)
        if r.returncode:
            sys.exit("record: the device side failed:\n" + r.stderr)
        res = json.loads(r.stdout)
        ver = "strongSwan " + subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", "strongswan-charon"],
            capture_output=True, text=True).stdout.strip()
    res.update({"config": cfg, "seed": a.seed, "gateway": ver,
                "gateway_ike": kw.get("ike"), "cookies": a.cookies})
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)
    print("record: %d datagrams -> %s" % (len(res["log"]), a.out))


if __name__ == "__main__":
    main()
