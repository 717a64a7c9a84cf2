# Hostile paths between the device and a real strongSwan gateway (issue 9,
# "Paths"): a NAT (nftables masquerade in a middle namespace) whose port
# mapping changes mid-session, a small path MTU, and an unreachable gateway
# (nothing listening, packets silently dropped, no route).  30 % loss both
# ways is test_longlived.py's test_handshake_and_telemetry_through_30_percent_loss.
# Our client runs through the real `ikev2c` CLI on both runtimes.  Needs
# root and strongSwan; skips with the reason otherwise (and under CI a skip
# is a failure, see host_tests/run.py).  Each test prints its measurements
# (pytest -s): they are the README's report table.
import json
import re
import subprocess
import time

import pytest

from labutil import need_lab, device_config, ikev2c, labmod, IKEV2C

POOL = "10.99.0.0/24"
RUNTIMES = ["cpython", "micropython"]
LOCAL_PORT = 40000   # the device's UDP port (before the NAT)


@pytest.fixture(autouse=True)
def _need_lab(request):
    if "sans_io" not in request.node.name:
        need_lab()


def _lab(**kw):
    kw.setdefault("pool", POOL)
    kw.setdefault("verbose", False)
    return labmod.Lab(**kw)


def _one_error(err):
    lines = [ln for ln in err.splitlines() if "error" in ln]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _seqs(lab):
    out = []
    for r in lab.collector_records():
        w = r["payload"].split()
        if w and w[0].startswith("seq="):
            out.append(int(w[0][4:]))
    return out


def _soak(lab, cfg, runtime, seconds, interval=250, heap="192k"):
    path = "%s/soak-%s.json" % (lab.state_dir, runtime)
    with open(path, "w") as f:
        json.dump(cfg, f)
    return lab.popen(lab.ns_device, IKEV2C, "--config", path, "--runtime", runtime,
                     "--heap", heap, "soak",
                     "%s:%d" % (lab.cloud_ip, lab.collector_port), str(seconds),
                     "--interval", str(interval),
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _report(p, timeout=150):
    out, err = p.communicate(timeout=timeout)
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    assert lines, err
    return p.returncode, json.loads(lines[-1]), err


# ------------------------------------------------------------------ NAT

@pytest.mark.parametrize("runtime", RUNTIMES)
def test_behind_a_nat(runtime):
    # the device (10.0.0.2) reaches the gateway through a masquerading NAT
    # (192.0.2.2): NAT detection (RFC 7296 2.23) tells the gateway so, IKE
    # floats to 4500, ESP travels in UDP (RFC 3948), keepalives keep the
    # NAT's mapping; ping and telemetry work
    with _lab(nat=True) as lab:
        # encap off: our NAT_DETECTION_SOURCE_IP is the real hash of our
        # address (encap on sends one that never matches, forcing UDP)
        cfg = device_config(lab, local_ip=lab.device_ip, local_port=LOCAL_PORT,
                            encap=False, keepalive=0.5)
        cap = lab.capture_session()
        rc, out, err = ikev2c(lab, cfg, runtime, "ping", lab.cloud_ip, "-c", "3")
        assert rc == 0, err
        assert out[-1]["received"] == 3, out
        text = "behind a NAT %s" % runtime
        rc, out, err = ikev2c(lab, cfg, runtime, "send",
                              "%s:%d" % (lab.cloud_ip, lab.collector_port), text)
        assert rc == 0 and out[-1]["reply"] == "ACK " + text, err
        maps = lab.nat_mappings()
        pkts = cap.packets()
        log = lab.charon_log()
    # our NAT_DETECTION_SOURCE_IP hashed 10.0.0.2:40000, the gateway saw
    # 192.0.2.2:<the NAT's port>: it detected the NAT in front of us
    assert log.count("remote host is behind NAT") == 2, log[-3000:]
    # what the gateway saw came from the NAT's outside address only
    assert {p["src"] for p in pkts if p["dst"] == lab.gateway_ip} == \
        {lab.device_public_ip}
    ours = [p for p in pkts if p["src"] == lab.device_public_ip]
    first = [p for p in ours if p["kind"] == "ike"][0]
    assert first["dport"] == 500 and first["ike"][18] == 34  # IKE_SA_INIT
    assert first["sport"] == LOCAL_PORT  # (this NAT keeps the port if it can)
    # everything after IKE_SA_INIT went to 4500: IKE_AUTH with the
    # non-ESP marker, ESP-in-UDP, keepalives
    init = [p for p in ours if p["kind"] == "ike" and p["ike"][18] == 34]
    assert len(init) == 2 and all(p["dport"] == 500 for p in init)  # two runs
    later = [p for p in ours if p not in init]
    assert all(p["dport"] == 4500 for p in later), later
    kinds = {p["kind"] for p in later}
    assert {"ike", "esp-udp", "nat-keepalive"} <= kinds, kinds
    keepalives = sum(1 for p in ours if p["kind"] == "nat-keepalive")
    print("NAT %s: %d datagrams from the NAT, %d keepalives, mappings %s"
          % (runtime, len(ours), keepalives, maps))
    assert keepalives >= 2
    recs = [r for r in lab.collector_records() if r["payload"] == text]
    assert len(recs) == 1 and recs[0]["src"].startswith("10.99.0.")


def test_no_nat_is_not_reported_as_one():
    # the control: the same client config without a NAT on the path; the
    # gateway finds our NAT_DETECTION_SOURCE_IP right
    with _lab() as lab:
        cfg = device_config(lab, local_ip=lab.device_ip, local_port=LOCAL_PORT,
                            encap=False)
        rc, out, err = ikev2c(lab, cfg, "cpython", "up")
        assert rc == 0, err
        log = lab.charon_log()
    assert "parsed IKE_SA_INIT request" in log
    assert "remote host is behind NAT" not in log, log[-3000:]


# (the rule behind the port-change recovery, without the lab: see
# core/test_session.py, test_unanswered_esp_brings_the_liveness_check_forward)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_nat_port_change_mid_session(runtime):
    # the NAT loses its mapping (conntrack flushed) and maps the device to a
    # port in 20000-20999 from then on, 5 s into a telemetry stream.  ESP
    # from the new port reaches the gateway, but its answers go to the old
    # port and die at the NAT, until an authenticated IKE message from the
    # new port makes strongSwan update the peer's port (RFC 7296 2.23):
    # our liveness check, sent once outbound ESP has gone unanswered for a
    # few seconds.  No record is lost, none reconnects.
    with _lab(nat=True, log_level={"default": 1, "ike": 2}) as lab:
        # dpd_delay: the default 60 s (an idle tunnel is not checked sooner)
        cfg = device_config(lab, local_ip=lab.device_ip, local_port=LOCAL_PORT,
                            retransmit_timeout=1.0, retransmit_tries=4)
        cap = lab.capture_session()
        p = _soak(lab, cfg, runtime, 16)
        deadline = time.time() + 60
        while not lab.sas() and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(5)
        old = lab.nat_mappings()
        t0 = time.time()
        flushed = lab.nat_rebind("20000-20999")
        rc, rep, err = _report(p)
        new = lab.nat_mappings()
        pkts = cap.packets()
        log = lab.charon_log()
    assert rc == 0, err
    assert flushed >= 1 and old and all(m[2] == LOCAL_PORT for m in old), old
    ports = {m[2] for m in new if m[1] == 4500}
    assert ports and all(20000 <= x <= 20999 for x in ports), new
    new_port = ports.pop()
    gw = [x for x in pkts if x["src"] == lab.gateway_ip and x["time"] > t0]
    dev = [x for x in pkts if x["src"] == lab.device_public_ip and x["time"] > t0]
    # the device's first datagram from the new port, its first IKE message
    # from there (the liveness check), the gateway's first ESP to it
    t_dev = min(x["time"] for x in dev if x["sport"] == new_port)
    t_ike = min(x["time"] for x in dev if x["sport"] == new_port and x["kind"] == "ike")
    t_esp = min(x["time"] for x in gw if x["dport"] == new_port
                and x["kind"] == "esp-udp")
    lost = sum(1 for x in gw if x["dport"] == LOCAL_PORT and x["kind"] == "esp-udp")
    print("NAT port change %s: %d mappings flushed, port %d -> %d; first datagram "
          "from the new port after %.2f s, liveness check after %.2f s, ESP flows "
          "again after %.2f s; %d gateway ESP packets to the old port lost; %r"
          % (runtime, flushed, LOCAL_PORT, new_port, t_dev - t0, t_ike - t0,
             t_esp - t0, lost, rep))
    # strongSwan took the new port from our liveness check (and, as
    # kernel-libipsec cannot move an SA, rekeyed the Child SA to it)
    assert "parsed INFORMATIONAL request" in log
    assert "remote endpoint changed from %s[%d] to %s[%d]" % (
        lab.device_public_ip, LOCAL_PORT, lab.device_public_ip, new_port) in log, \
        log[-3000:]
    assert rep["liveness_checks"] >= 1
    assert t_esp - t0 < 10.0, (t_esp - t0)
    seqs = _seqs(lab)
    assert sorted(set(seqs)) == list(range(1, rep["records"] + 1)), seqs
    assert rep["dropped"] == 0 and rep["queued"] == 0 and rep["reconnects"] == 0, rep
    assert rep["records"] >= 50


# ------------------------------------------------------------------ path MTU

BIG_PING = r'''
import sys, json
sys.path.insert(0, sys.argv[2])
from ikev2.client import Client
c = Client(json.loads(sys.argv[1]))
rtts = []
for size in sys.argv[4].split(","):
    rtts.append(c.ping(sys.argv[3], timeout_ms=2000, size=int(size)))
print(json.dumps({"rtts": rtts, "stats": c.stats()}))
c.close()
'''


def _run_script(lab, runtime, code, *args, tmp=None):
    # a short client script in the device namespace, on either runtime
    import os
    import sys
    from tools import build_mpy

    if runtime == "cpython":
        return lab.run(lab.ns_device, sys.executable, "-c", code, *args[:1],
                       os.path.join(labmod.ROOT, "lib"), *args[1:], timeout=120)
    dest, errors = build_mpy.build(str(tmp / "mpy"), quiet=True)
    assert not errors, errors
    exe = os.path.join(os.path.dirname(sys.executable), "micropython")
    path = str(tmp / "script.py")
    with open(path, "w") as f:
        f.write(code)
    return lab.run(lab.ns_device, exe, "-X", "heapsize=192k", path, *args[:1], dest,
                   *args[1:], timeout=120)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_small_path_mtu(runtime, tmp_path):
    # the NAT->gateway link has an MTU of 576, the device's own link 1500.
    # The PSK handshake and telemetry fit in 576.  A 1300-byte ping (a
    # 1400-byte ESP-in-UDP datagram) is IP-fragmented by the kernels (the
    # device's once the NAT's ICMP taught it the path MTU, the gateway's to
    # 576 on the way back) and gets through.  A 1400-byte ping gets to the cloud, but its
    # 1428-byte answer is split by the gateway's tunnel MTU (1400, its
    # ipsec0 device): two inner IP fragments, which the client does not
    # reassemble: dropped, counted (inner_dropped), the ping reported lost
    # after its 2 s, no hang
    sizes = "1300,1300,1300,1400,1400"
    with _lab(nat=True, path_mtu=576) as lab:
        cfg = device_config(lab)
        cap = lab.capture_session()
        rc, out, err = ikev2c(lab, cfg, runtime, "send",
                              "%s:%d" % (lab.cloud_ip, lab.collector_port), "mtu 576")
        assert rc == 0 and out[-1]["reply"] == "ACK mtu 576", err
        t0 = time.time()
        r = _run_script(lab, runtime, BIG_PING, json.dumps(cfg), lab.cloud_ip, sizes,
                        tmp=tmp_path)
        took = time.time() - t0
        pkts = cap.packets()
        clouds = lab.run("gateway", "ip", "link", "show", "ipsec0").stdout
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    res = json.loads(r.stdout.splitlines()[-1])
    rtts, st = res["rtts"], res["stats"]
    frags = [p for p in pkts if p["mf"] or p["frag_offset"]]
    ike = [p for p in pkts if p["kind"] == "ike"]
    print("path MTU 576 %s: biggest IKE datagram %d B; pings of %s bytes: %s ms; "
          "%d inner fragments dropped; %d IP fragments on the gateway's link (%d "
          "from the NAT, %d from the gateway); script %.1f s"
          % (runtime, max(p["length"] for p in ike), sizes, rtts,
             st["inner_dropped"], len(frags),
             sum(1 for p in frags if p["src"] == lab.device_public_ip),
             sum(1 for p in frags if p["src"] == lab.gateway_ip), took))
    assert "mtu 1400" in clouds, clouds
    assert all(p["length"] <= 576 for p in pkts), max(p["length"] for p in pkts)
    assert all(not p["mf"] for p in ike)  # IKE: never IP-fragmented
    # (the first one, sent with DF as the device's link allows 1500, dies
    # at the NAT, whose "fragmentation needed" teaches the device's kernel
    # the path MTU: the next ones are fragmented)
    assert rtts[1] is not None and rtts[2] is not None, rtts
    assert rtts[3:] == [None, None] and st["inner_dropped"] == 4, res
    assert any(p["src"] == lab.device_public_ip for p in frags)
    assert any(p["src"] == lab.gateway_ip for p in frags)
    assert st["esp_rx_bad_icv"] == 0 and st["state"] == "established"
    assert took < 30


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_certificates_through_a_576_path_use_ike_fragmentation(tmp_path, runtime):
    # certificates make IKE_AUTH ~1 KB both ways; the path MTU is 576; with
    # fragment_size 576 on both sides (RFC 7383) every IKE datagram fits
    # and no IP fragment crosses the path (lwIP on an ESP32 reassembles
    # none), the handshake needs no retransmission, telemetry flows
    import os
    from tools import pki

    d = str(tmp_path / "pki")
    pki.make_ca(d, key="ecdsa")
    pki.make_gateway(d, key="ecdsa", id="gw.lab")
    dev = pki.make_device(d, "device1.lab", key="ecdsa")
    conf = pki.write_swanctl(d, "gw.lab", pool="labpool", device_auth="pubkey",
                             remote_ts=["198.51.100.0/24"])
    with _lab(nat=True, path_mtu=576, includes=[conf],
              creds={"private": [os.path.join(d, "gateway.key")]},
              charon_opts={"fragment_size": 576}) as lab:
        cfg = device_config(lab, local_id="device1.lab", remote_id="gw.lab",
                            cert=dev["cert"], private_key=dev["key"],
                            ca_cert=dev["ca"], fragment_size=576)
        del cfg["psk"]
        cap = lab.capture_session()
        rc, out, err = ikev2c(lab, cfg, runtime, "--heap", "192k", "send",
                              "%s:%d" % (lab.cloud_ip, lab.collector_port), "certs 576")
        pkts = cap.packets()
    assert rc == 0 and out[-1]["reply"] == "ACK certs 576", err
    ike = [p for p in pkts if p["kind"] == "ike"]
    frags = [p for p in pkts if p["mf"] or p["frag_offset"]]
    skf = [p for p in ike if p["payload"][:4] == b"\0\0\0\0" and p["ike"][16] == 53]
    print("certificates, path MTU 576, %s: %d IKE datagrams, biggest %d B, %d of "
          "them SKF fragments (RFC 7383), %d IP fragments"
          % (runtime, len(ike), max(p["length"] for p in ike), len(skf), len(frags)))
    assert not frags and all(p["length"] <= 576 for p in pkts)
    assert sum(1 for p in skf if p["src"] == lab.device_public_ip) >= 2
    assert sum(1 for p in skf if p["src"] == lab.gateway_ip) >= 2
    assert "retransmit" not in lab.charon_log()


# ------------------------------------------------------------------ unreachable

UNREACHABLE = ["nothing-listens", "blackhole", "no-route"]


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("case", UNREACHABLE)
def test_unreachable_gateway_gives_up_with_backoff(runtime, case):
    # nothing-listens: the gateway host answers with ICMP port unreachable
    # (the client's socket is not connected, so Linux does not report it:
    # it looks like silence, and ICMP is not authenticated anyway);
    # blackhole: the gateway drops IKE silently (nftables); no-route: the
    # device has no route to the gateway, every sendto fails.  Each time:
    # the first transmission and `retransmit_tries` retransmissions, with
    # exponential backoff (RFC 7296 2.1), then one clear line and exit 1
    tries, t1, base = 3, 0.4, 2.0
    with _lab() as lab:
        kw = {}
        if case == "nothing-listens":
            kw["port"] = 5999
        elif case == "blackhole":
            lab.nft("gateway", "table inet blackhole {\n chain in { type filter hook "
                    "input priority -20; policy accept;\n  udp dport { 500, 4500 } "
                    "counter drop\n }\n}\n")
        else:
            kw["gateway"] = "203.0.113.1"   # TEST-NET-3: no route in the lab
        cfg = device_config(lab, retransmit_timeout=t1, retransmit_base=base,
                            retransmit_tries=tries, **kw)
        cap = lab.start_capture(lab.ns_device, lab.if_device, "udp or icmp")
        t0 = time.time()
        rc, out, err = ikev2c(lab, cfg, runtime, "up")
        took = time.time() - t0
        pkts = cap.packets()
        dropped = lab.run("gateway", "nft", "list", "table", "inet", "blackhole").stdout
    line = _one_error(err)
    budget = sum(t1 * base ** k for k in range(tries + 1))   # 0.4+0.8+1.6+3.2
    sent = [p for p in pkts if p["proto"] == 17 and p["src"] == lab.device_ip]
    gaps = [round(b["time"] - a["time"], 2) for a, b in zip(sent, sent[1:])]
    icmp = sum(1 for p in pkts if p["kind"] == "icmp")
    fails = err.count("ikev2c: send failed")
    print("unreachable %s %s: exit %d after %.2f s (budget %.1f s); %d IKE_SA_INIT "
          "on the wire, gaps %s s, %d ICMP errors back, %d failed sends; %s"
          % (case, runtime, rc, took, budget, len(sent), gaps, icmp, fails, line))
    assert rc == 1
    assert "no response from the gateway to IKE_SA_INIT after %d retransmissions" \
        % tries in line, line
    assert budget - 0.3 < took < budget + 8, took   # (+ the runtime's start)
    if case == "no-route":
        # nothing on the wire; every transmission failed, and the error says why
        assert not sent and fails == tries + 1, err
        assert "the last send failed" in line and "unreach" in line.lower(), line
    else:
        assert len(sent) == tries + 1 and fails == 0, (sent, err)
        for k, g in enumerate(gaps):   # 0.4, 0.8, 1.6 s
            assert abs(g - t1 * base ** k) < 0.15, gaps
        if case == "nothing-listens":
            assert icmp == tries + 1
        else:
            assert icmp == 0 and "counter packets %d" % (tries + 1) in dropped, dropped
