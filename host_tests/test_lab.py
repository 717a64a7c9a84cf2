# The gateway lab (tools/lab.py): strongSwan in network namespaces.
# Needs root, strongSwan's charon and swanctl, tcpdump and nft; skips with
# the reason otherwise.
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tools import lab as labmod  # noqa: E402
from tools.lab import Lab, LabError, ike_summary  # noqa: E402
from labutil import need_lab  # noqa: E402

POOL = "10.99.0.0/24"


@pytest.fixture(autouse=True)
def _need_lab():
    need_lab()


def _netns():
    return set(labmod.list_namespaces())


def _root_links():
    p = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True)
    return {ln.split(":")[1].strip() for ln in p.stdout.splitlines()}


def _root_addrs():
    p = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True)
    return {" ".join(ln.split()[1:4]) for ln in p.stdout.splitlines()}


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _assert_gone(lab, pids, ns_before):
    # the namespace list is back to what it was; namespaces of other labs
    # running at the same time (other test runs) may come and go meanwhile
    after = _netns()
    new = {n for n in after - ns_before
           if not n.startswith(labmod.PREFIX) or n.startswith(lab.name + "-")}
    assert not new, "left behind: %s" % sorted(new)
    assert not labmod.list_namespaces(lab.name + "-")
    for pid in pids:
        for _ in range(50):
            if not _alive(pid):
                break
            time.sleep(0.02)
        assert not _alive(pid), "pid %d still running" % pid


UDP_SEND = r"""
import socket, sys
src, dst, port, msg = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
s.settimeout(2)
for _ in range(3):
    s.sendto(msg.encode(), (dst, port))
    try:
        data, addr = s.recvfrom(2048)
    except socket.timeout:
        continue
    print(data.decode(), addr[0], addr[1])
    break
"""


def test_up_down_leaves_nothing_two_labs_at_once():
    ns0, links0, addrs0 = _netns(), _root_links(), _root_addrs()
    a, b = Lab(verbose=False), Lab(pool=POOL, verbose=False)
    try:
        a.up()
        b.up()
        assert a.name != b.name
        for lab in (a, b):
            names = set(labmod.list_namespaces(lab.name))
            assert names == {lab.ns_device, lab.ns_gateway, lab.ns_cloud}
            p = lab.swanctl("--stats")
            assert p.returncode == 0 and "IKE_SAs: 0 total" in p.stdout
            # the device reaches the gateway, not the cloud (no route in clear)
            assert lab.run("device", "ping", "-c1", "-W1", lab.gateway_ip).returncode == 0
            assert lab.run("device", "ping", "-c1", "-W1", lab.cloud_ip).returncode != 0
        # nothing of the labs is visible in the root namespace
        assert _root_links() == links0 and _root_addrs() == addrs0
        pids = [p.pid for lab in (a, b) for p in lab._procs.values()]
        pids += [pid for lab in (a, b)
                 for ns in (lab.ns_device, lab.ns_gateway, lab.ns_cloud)
                 for pid in labmod.namespace_pids(ns)]
        assert len(pids) >= 4   # two charons, two collectors
    finally:
        a.down()
        b.down()
    _assert_gone(a, pids, ns0)
    assert _root_links() == links0 and _root_addrs() == addrs0
    a.down()   # idempotent


def test_strongswan_initiator_tunnel_and_nothing_in_clear():
    ns0 = _netns()
    with Lab(pool=POOL, dns="198.51.100.53", verbose=False) as lab:
        dev_cap = lab.start_capture("gateway", lab.if_gw_device)
        cloud_cap = lab.start_capture("cloud", lab.if_cloud)
        lab.start_initiator()
        dt = lab.initiate()
        assert 0 < dt < 5
        (gw,) = lab.sas()
        assert gw["state"] == "ESTABLISHED"
        assert gw["dh-group"] == "CURVE_25519"
        assert gw["remote-id"] == lab.device_id and gw["local-id"] == lab.gateway_id
        assert gw["remote-port"] == "4500"
        vip = gw["vip"]
        assert vip and vip.startswith("10.99.0.")
        (child,) = gw["children"]
        assert child["state"] == "INSTALLED" and child["encap"] == "yes"
        assert child["remote-ts"] == [vip + "/32"]
        (ini,) = lab.sas("initiator")
        assert ini["local-vips"] == [vip]
        assert (ini["spi_i"], ini["spi_r"]) == (gw["spi_i"], gw["spi_r"])

        marker = "lab-probe-%d" % os.getpid()
        p = lab.run("device", sys.executable, "-c", UDP_SEND, vip, lab.cloud_ip,
                    lab.collector_port, marker)
        assert p.stdout.split() == ["ACK", marker, lab.cloud_ip,
                                    str(lab.collector_port)], p.stderr
        recs = [r for r in lab.collector_records() if r["payload"] == marker]
        assert recs and recs[0]["src"] == vip and recs[0]["encoding"] == "text"

        wire = dev_cap.packets()
        inner = cloud_cap.packets()

    # device <-> gateway: only IKE and ESP-in-UDP between the outer addresses
    assert wire
    for pk in wire:
        assert {pk["src"], pk["dst"]} == {lab.device_ip, lab.gateway_ip}, pk
        assert pk["kind"] in ("ike", "esp-udp", "nat-keepalive"), pk
        assert marker.encode() not in pk["payload"]
    esp = [pk for pk in wire if pk["kind"] == "esp-udp"]
    spis = {"%08x" % pk["spi"] for pk in esp}
    assert spis == {child["spi-in"], child["spi-out"]}
    init = [ike_summary(pk["ike"]) for pk in wire if pk["kind"] == "ike"]
    assert [m["exchange"] for m in init[:4]] == [34, 34, 35, 35]
    # cloud side: only the decrypted inner datagram and its answer
    assert inner
    for pk in inner:
        assert pk["kind"] == "udp", pk
        assert {pk["src"], pk["dst"]} == {vip, lab.cloud_ip}
    assert any(pk["payload"] == marker.encode() for pk in inner)
    assert any(pk["payload"] == b"ACK " + marker.encode() for pk in inner)
    _assert_gone(lab, [], ns0)


def test_cookies_demanded():
    ns0 = _netns()
    with Lab(pool=POOL, cookies=True, verbose=False) as lab:
        assert lab.primer_spi
        cap = lab.start_capture("gateway", lab.if_gw_device)
        lab.start_initiator()
        lab.initiate()
        assert lab.sas()[0]["state"] == "ESTABLISHED"
        msgs = [ike_summary(pk["ike"]) for pk in cap.packets() if pk["kind"] == "ike"]
        log = lab.charon_log()
    sa_init = [m for m in msgs if m["exchange"] == 34]
    requests = [m for m in sa_init if not m["response"]]
    responses = [m for m in sa_init if m["response"]]
    # request, N(COOKIE), request with the cookie first, SA response
    # (under load strongSwan's initiator may retransmit the second request)
    assert sa_init[0] is requests[0]
    assert 16390 not in [t for t, _ in requests[0]["notifies"]]
    assert sa_init[1] is responses[0]
    assert [t for t, _ in responses[0]["payloads"]] == [41]
    (ntype, cookie), = responses[0]["notifies"]
    assert ntype == 16390 and cookie
    assert len(requests) >= 2
    for m in requests[1:]:
        assert m["payloads"][0][0] == 41 and m["notifies"][0] == (16390, cookie)
    assert all(33 in [t for t, _ in m["payloads"]] for m in responses[1:])
    assert "sending COOKIE notify to %s" % lab.device_ip in log
    _assert_gone(lab, [], ns0)


def test_failures_still_clean_up():
    ns0 = _netns()
    # a failing up(): swanctl rejects the proposal; the error carries the log
    bad = Lab(ike="nonsense-proposal", verbose=False)
    with pytest.raises(LabError) as ei:
        bad.up()
    assert "swanctl --load-all failed" in str(ei.value)
    assert "charon" in str(ei.value)
    _assert_gone(bad, [], ns0)
    # a failing step inside the with block
    pids = []
    with pytest.raises(RuntimeError):
        with Lab(verbose=False) as lab:
            pids = [p.pid for p in lab._procs.values()]
            raise RuntimeError("test step failed")
    assert pids
    _assert_gone(lab, pids, ns0)
