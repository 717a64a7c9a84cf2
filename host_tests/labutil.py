# Shared by the tests that drive a real strongSwan gateway in network
# namespaces (tools/lab.py): what they need, and running our client there.
import json
import os
import shutil
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from tools import lab as labmod  # noqa: E402

IKEV2C = os.path.join(os.path.dirname(sys.executable), "ikev2c")
# MicroPython heap cap for runs that rekey: the unix port keeps the .mpy
# code and its qstrs in the heap (see README, "Memory")
HEAP_REKEYS = "144k"


def missing():
    # why the lab cannot run here, or None
    if os.geteuid() != 0:
        return "the lab needs root (network namespaces, veth, tcpdump)"
    if not os.path.exists(labmod.CHARON):
        return ("strongSwan's charon (%s) is missing: apt-get install "
                "strongswan-charon" % labmod.CHARON)
    for exe, pkg in (("swanctl", "strongswan-swanctl"), ("tcpdump", "tcpdump"),
                     ("nft", "nftables"), ("ip", "iproute2")):
        if not shutil.which(exe):
            return "%s is missing: apt-get install %s" % (exe, pkg)
    return None


def need_lab():
    why = missing()
    if why:
        pytest.skip(why)


def device_config(lab, **kw):
    cfg = {"gateway": lab.gateway_ip, "local_id": lab.device_id,
           "remote_id": lab.gateway_id, "psk": lab.psk,
           "remote_ts": ["198.51.100.0/24"], "retransmit_timeout": 1.0,
           "retransmit_tries": 3}
    cfg.update(kw)
    return cfg


def ikev2c(lab, cfg, runtime, *args, timeout=120):
    # runs the real CLI in the device namespace; -> (rc, [json], stderr)
    path = os.path.join(lab.state_dir, "client-%d.json" % os.getpid())
    # 0600, as a config holding a PSK should be (else ikev2c warns)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        json.dump(cfg, f)
    os.chmod(path, 0o600)
    r = lab.run(lab.ns_device, IKEV2C, "--config", path, "--runtime", runtime,
                *args, timeout=timeout)
    out = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    return r.returncode, out, r.stderr
