# Long-lived tunnels against a real strongSwan gateway (tools/lab.py):
# rekeys started by both sides, a gateway that crashes and restarts, 30 %
# loss both ways, and the short soak.  Telemetry goes through the
# store-and-forward buffer of `ikev2c soak`; the collector's records prove
# that nothing was lost.  Needs root and strongSwan; skips with the reason
# otherwise (and under CI a skip is a failure, see host_tests/run.py).
import json
import re
import subprocess
import time

import pytest

from labutil import need_lab, device_config, labmod, IKEV2C, HEAP_REKEYS
from tools import soak

POOL = "10.99.0.0/24"


@pytest.fixture(autouse=True)
def _need_lab():
    need_lab()


def _seqs(lab):
    out = []
    for r in lab.collector_records():
        w = r["payload"].split()
        if w and w[0].startswith("seq="):
            out.append(int(w[0][4:]))
    return out


def _soak(lab, cfg, runtime, seconds, interval=250, heap=HEAP_REKEYS):
    # starts `ikev2c soak` in the device namespace -> Popen
    path = "%s/soak-%s.json" % (lab.state_dir, runtime)
    with open(path, "w") as f:
        json.dump(cfg, f)
    return lab.popen(lab.ns_device, IKEV2C, "--config", path, "--runtime", runtime,
                     "--heap", heap, "soak",
                     "%s:%d" % (lab.cloud_ip, lab.collector_port), str(seconds),
                     "--interval", str(interval),
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _report(p, timeout=180):
    out, err = p.communicate(timeout=timeout)
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    assert lines, err
    return p.returncode, json.loads(lines[-1]), err


@pytest.mark.parametrize("runtime", ["micropython", "cpython"])
def test_short_soak_rekeys_from_both_sides_lose_nothing(runtime):
    # the CI mode of `make soak`: both sides rekey both SAs every few
    # seconds; every record arrives exactly once; the MicroPython heap
    # stays flat across the rekeys
    secs, child, ike = soak.modes(short=True)
    rep = soak.run(secs if runtime == "micropython" else 20, child, ike, runtime,
                   HEAP_REKEYS)
    print(soak.report(rep))
    assert rep["exit"] == 0, rep["stderr_tail"]
    assert "Traceback" not in rep["stderr_tail"]
    # which side starts each rekey is a race (jitter); both sides do
    gw = rep["child_rekeys_gateway"] + rep["ike_rekeys_gateway"]
    ours = rep["child_rekeys_ours"] + rep["ike_rekeys_ours"]
    assert gw >= 2 and ours >= 2, rep
    assert rep["child_rekeys_gateway"] + rep["child_rekeys_ours"] >= 5, rep
    assert rep["ike_rekeys_gateway"] + rep["ike_rekeys_ours"] >= 3, rep
    assert rep["records"] >= 2 * (secs if runtime == "micropython" else 20) - 2
    assert rep["lost"] == 0 and rep["duplicate_copies"] == 0 and rep["dropped"] == 0
    assert rep["reconnects"] == 0
    if runtime == "micropython":
        assert rep["heap_up"] and len(rep["heap_after_rekeys"]) >= 8
        assert soak.heap_flat(rep) is None, rep["heap_after_rekeys"]


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_gateway_restart_mid_stream(runtime):
    # charon is killed (no Delete: every SA gone) and started again; our
    # liveness check notices, the tunnel is re-established (INITIAL_CONTACT)
    # and the buffered readings are delivered, each once
    with labmod.Lab(pool=POOL, verbose=False) as lab:
        cfg = device_config(lab, dpd_delay=1.0, retransmit_timeout=0.5,
                            retransmit_base=1.5, retransmit_tries=3)
        p = _soak(lab, cfg, runtime, 12)
        time.sleep(4)
        t0 = time.time()
        lab.restart_gateway(down_for=2.0)
        rc, rep, err = _report(p)
        print("restart: %r (gateway back after %.1f s)" % (rep, time.time() - t0))
        assert rc == 0, err
        assert rep["reconnects"] >= 1 and "no response" in (rep["last_error"] or err)
        seqs = _seqs(lab)
        assert sorted(set(seqs)) == list(range(1, rep["records"] + 1)), seqs
        assert rep["dropped"] == 0 and rep["queued"] == 0
        # an IKE SA established with each charon, the old one and the new one
        assert len(re.findall(r"IKE_SA lab\[\d+\] established", lab.charon_log())) >= 2


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_handshake_and_telemetry_through_30_percent_loss(runtime):
    # nftables drops 30 % of the gateway's UDP 500/4500 both ways: the
    # handshake completes by retransmission; readings arrive, resent
    # until acknowledged (repeats are removed by sequence number)
    with labmod.Lab(pool=POOL, verbose=False) as lab:
        lab.loss(30)
        cfg = device_config(lab, retransmit_timeout=0.5, retransmit_base=1.5,
                            retransmit_tries=10)
        # (MicroPython: a roomier heap than HEAP_REKEYS: under loss up to 40
        # records wait for their ACK, scattered through the heap, and a
        # 2 KB receive buffer could find no room in one piece; memory is
        # the soak's and test_micropython's business, this test is about
        # the protocol)
        p = _soak(lab, cfg, runtime, 10, heap="192k")
        rc, rep, err = _report(p)
        st = lab.loss_stats()
        (seen_in, lost_in), (seen_out, lost_out) = st["in"], st["out"]
        print("loss %s: dropped %d of %d datagrams in (device -> gateway), %d of %d "
              "out (gateway -> device); %r" % (runtime, lost_in, seen_in, lost_out,
                                               seen_out, rep))
        assert rc == 0, err
        seqs = _seqs(lab)
        assert sorted(set(seqs)) == list(range(1, rep["records"] + 1)), seqs
        assert rep["records"] >= 30 and rep["dropped"] == 0
        # the loss was real, both ways, near 30 %, and repaired by repeats
        assert lost_in > 5 and lost_out > 5, (lost_in, lost_out)
        # near 30 %: within 4 standard deviations of the binomial (about
        # 50 datagrams each way, so a fixed 15-45 % band failed 1 run in
        # 100; this one fails 1 in 10,000 per direction by chance)
        for seen, lost in ((seen_in, lost_in), (seen_out, lost_out)):
            assert abs(lost - 0.3 * seen) <= 4 * (seen * 0.3 * 0.7) ** 0.5, st
        assert rep["resent"] > 0
