# Our client, through the real `ikev2c` CLI on both runtimes, against a
# real strongSwan gateway (charon in network namespaces, tools/lab.py).
# Needs root and strongSwan; skips with the reason otherwise (and under
# CI a skip is a failure, see host_tests/run.py).
import time

import pytest

from labutil import need_lab, device_config, ikev2c, labmod, HEAP_REKEYS

Lab = labmod.Lab
POOL = "10.99.0.0/24"


@pytest.fixture(autouse=True)
def _need_lab():
    need_lab()


def _lab(**kw):
    kw.setdefault("pool", POOL)
    kw.setdefault("verbose", False)
    return Lab(**kw)


def _no_sas(lab, wait=3.0):
    # the gateway holds no IKE SA (our Delete arrived, or none was made)
    end = time.time() + wait
    while time.time() < end:
        if not lab.sas():
            return True
        time.sleep(0.2)
    return False


MATRIX = [
    ("cpython", "aes128-sha256-x25519", "aes128-sha256"),
    ("cpython", "aes256gcm16-prfsha256-ecp256", "aes256gcm16"),
    ("cpython", "aes128-sha256-modp2048", "aes128gcm16"),
    ("micropython", "aes128-sha256-x25519", "aes128-sha256"),
    ("micropython", "aes128-sha256-ecp256", "aes128-sha256"),
    ("micropython", "aes256-sha256-modp2048", "aes256-sha256"),
    ("micropython", "aes128gcm16-prfsha256-x25519", "aes128gcm16"),
]


@pytest.mark.parametrize("runtime,ike,esp", MATRIX,
                         ids=["-".join(m) for m in MATRIX])
def test_ping_and_telemetry(runtime, ike, esp):
    # MicroPython runs at the default 144k heap cap: the native DH code,
    # loaded as .mpy, keeps ~9 KB of it on this 64-bit port, and IKE_AUTH's
    # code loads while IKE_SA_INIT's answer travels; X25519 passes from
    # 124k, ECP-256 and AES-GCM (whose GHASH is pure Python) from 128k
    with _lab(ike=ike, esp=esp) as lab:
        cfg = device_config(lab, ike=ike, esp=esp)
        rc, out, err = ikev2c(lab, cfg, runtime, "ping", lab.cloud_ip, "-c", "2")
        assert rc == 0, err
        assert out[-1]["received"] == 2, out
        # a clean path: nothing refused (the counters of the hostile tests)
        assert set(out[-1]["drops"].values()) == {0}, out[-1]
        assert _no_sas(lab), "our Delete did not remove the gateway's IKE SA"
        text = "telemetry %s %s" % (runtime, ike)
        rc, out, err = ikev2c(lab, cfg, runtime, "send",
                              "%s:%d" % (lab.cloud_ip, lab.collector_port), text)
        assert rc == 0, err
        assert out[-1]["reply"] == "ACK " + text
        recs = [r for r in lab.collector_records() if r["payload"] == text]
        assert len(recs) == 1 and recs[0]["src"].startswith("10.99.0.")
        log = lab.charon_log()
        assert "selected proposal: IKE:" in log and "CHILD_SA lab{1} established" in log


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_up_reports_the_tunnel(runtime):
    with _lab(dns="198.51.100.53") as lab:
        rc, out, err = ikev2c(lab, device_config(lab), runtime, "up")
        assert rc == 0, err
        info = out[-1]
        assert info["state"] == "established" and info["natt"] is True
        assert info["virtual_ip"] == "10.99.0.1" and info["dns"] == ["198.51.100.53"]
        assert len(info["esp_spi_in"]) == 8 and info["ike"] == "aes128-sha256-prfsha256-x25519"
        # the gateway's log names the same Child SA SPIs
        assert "%s_i %s_o" % (info["esp_spi_out"], info["esp_spi_in"]) in lab.charon_log()
        assert _no_sas(lab)


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_gateway_prefers_another_group(runtime):
    # the client's first KE is x25519; the gateway only takes MODP-2048:
    # INVALID_KE_PAYLOAD, then a retry with group 14
    with _lab(ike="aes128-sha256-modp2048", log_level={"default": 1, "ike": 2, "enc": 2}) as lab:
        cfg = device_config(lab, ike="aes128-sha256-x25519-modp2048")
        rc, out, err = ikev2c(lab, cfg, runtime, "ping", lab.cloud_ip)
        assert rc == 0, err
        log = lab.charon_log()
        assert "INVALID_KE_PAYLOAD" in log or "N(INVAL_KE)" in log, log[-2000:]
        assert "MODP_2048" in log


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_gateway_demands_cookies(runtime):
    with _lab(cookies=True) as lab:
        rc, out, err = ikev2c(lab, device_config(lab), runtime, "ping", lab.cloud_ip)
        assert rc == 0, err
        assert "sending COOKIE notify" in lab.charon_log()


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_wrong_psk_is_a_clear_error_and_leaves_no_sa(runtime):
    with _lab() as lab:
        cfg = device_config(lab, psk="not-the-right-key")
        rc, out, err = ikev2c(lab, cfg, runtime, "ping", lab.cloud_ip)
        assert rc == 1
        lines = [ln for ln in err.splitlines() if "error" in ln]
        assert len(lines) == 1 and "AUTHENTICATION_FAILED" in lines[0], err
        assert "Traceback" not in err
        assert _no_sas(lab)


@pytest.mark.parametrize("psk", ["0x0123abcd", "0sQUJD", "a \"quoted\" key"])
def test_psk_is_taken_literally(psk):
    # swanctl would read "0x..." as hex and "0s..." as base64; the lab
    # hands the gateway every PSK hex-encoded, so both sides use the text
    with _lab(psk=psk) as lab:
        rc, out, err = ikev2c(lab, device_config(lab), "cpython", "up")
        assert rc == 0, err


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_narrowed_traffic_selectors(runtime):
    # we ask for the whole cloud /24 and all of IPv4 for us; the gateway
    # narrows to its /25 and to our virtual IP
    with _lab(local_ts="198.51.100.0/25") as lab:
        rc, out, err = ikev2c(lab, device_config(lab), runtime, "ping", lab.cloud_ip)
        assert rc == 0, err
        assert "TS 198.51.100.0/25 === 10.99.0.1/32" in lab.charon_log()


def test_ts_unacceptable_is_named():
    with _lab(local_ts="198.51.100.0/25") as lab:
        cfg = device_config(lab, remote_ts=["203.0.113.0/24"])
        rc, out, err = ikev2c(lab, cfg, "cpython", "up")
        assert rc == 1 and "TS_UNACCEPTABLE" in err and "Traceback" not in err
        assert _no_sas(lab)


def test_nothing_in_clear_on_the_wire():
    marker = b"secret-reading-4711"
    with _lab() as lab:
        dev = lab.start_capture(lab.ns_device, lab.if_device)
        cloud = lab.start_capture(lab.ns_cloud, lab.if_cloud)
        rc, out, err = ikev2c(lab, device_config(lab), "micropython", "send",
                              "%s:%d" % (lab.cloud_ip, lab.collector_port),
                              marker.decode())
        assert rc == 0, err
        time.sleep(0.3)
        dev_pkts, cloud_pkts = dev.packets(), cloud.packets()
    # the device's link carries IKE and ESP-in-UDP only, never the reading
    kinds = set(p["kind"] for p in dev_pkts)
    assert "esp-udp" in kinds and kinds <= {"ike", "esp-udp", "nat-keepalive"}, kinds
    assert not any(marker in p["payload"] for p in dev_pkts)
    # behind the gateway the reading arrives, decrypted, from the virtual IP
    got = [p for p in cloud_pkts if marker in p["payload"]]
    assert got and got[0]["kind"] == "udp" and got[0]["src"].startswith("10.99.0.")


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_bad_config_is_a_one_line_error(runtime, tmp_path):
    import json
    import subprocess
    from labutil import IKEV2C

    cases = [({"gateway": "192.0.2.1", "local_id": "d", "psk": "x", "colour": 1}, "colour"),
             ({"gateway": "192.0.2.1", "local_id": "d", "psk": "x", "ike": "aes128-md5-x25519"}, "md5"),
             ({"gateway": "192.0.2.1", "local_id": "d"}, "psk"),
             ({"gateway": "192.0.2.1", "local_id": "d", "psk": "x", "remote_ts": ["10.0.0.0/33"]}, "remote_ts"),
             ({"gateway": "192.0.2.1", "local_id": "d", "psk": "x", "encap": "yes"}, "encap")]
    for cfg, word in cases:
        p = tmp_path / "c.json"
        p.write_text(json.dumps(cfg))
        p.chmod(0o600)  # else a PSK in it adds ikev2c's permission warning
        r = subprocess.run([IKEV2C, "--config", str(p), "--runtime", runtime, "up"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 2, (cfg, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and word in lines[0] and "Traceback" not in r.stderr


# (a silent gateway, one that drops everything and one out of reach: see
# test_paths.py, test_unreachable_gateway_gives_up_with_backoff)


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_gateway_rekeys_the_child_sa(runtime):
    # strongSwan rekeys the Child SA every ~3 s; every ping of the 10 s
    # run must come back, across the rekeys
    with _lab(rekey_time={"child": 3}, life_time=10,
              extra_child={"rand_time": 0}) as lab:
        rc, out, err = ikev2c(lab, device_config(lab), runtime, "--heap",
                              HEAP_REKEYS, "ping", lab.cloud_ip, "-c", "10")
        assert rc == 0, err
        assert out[-1]["received"] == 10, err
        assert err.count("Child SA rekeyed by the gateway") >= 2, err
        assert "Traceback" not in err


LIVENESS = r'''
import sys, json
sys.path.insert(0, sys.argv[2])
from ikev2.client import Client
c = Client(json.loads(sys.argv[1]))
c.up()
c.run(4500)
print(json.dumps(c.stats()))
c.close()
'''


def test_liveness_checks_are_answered():
    # an idle tunnel with dpd_delay=1: empty INFORMATIONAL requests, each
    # answered by strongSwan, and the tunnel stays up
    import json
    import sys

    with _lab(log_level={"default": 1, "enc": 2}) as lab:
        cfg = device_config(lab, dpd_delay=1)
        r = lab.run(lab.ns_device, sys.executable, "-c", LIVENESS, json.dumps(cfg),
                    labmod.os.path.join(labmod.ROOT, "lib"), timeout=60)
        assert r.returncode == 0, r.stderr
        st = json.loads(r.stdout.splitlines()[-1])
        assert st["state"] == "established" and st["liveness_checks"] >= 3
        answered = [ln for ln in lab.charon_log().splitlines()
                    if "generating INFORMATIONAL response" in ln]
        assert len(answered) >= st["liveness_checks"]


TELEMETRY = r'''
import sys, json
sys.path.insert(0, sys.argv[2])
from ikev2.client import Client
from ikev2.telemetry import Telemetry
cfg = json.loads(sys.argv[1])
c = Client(cfg)
t = Telemetry(c, (sys.argv[3], int(sys.argv[4])), capacity=64, backoff_ms=500)
for i in range(1, 25):
    t.send(b"reading %d" % i)
    t.service(250)
t.service(3000)
print(json.dumps(t.stats()))
c.close()
'''


def test_gateway_delete_mid_stream_loses_no_reading():
    # swanctl --terminate on the gateway reaches the client as a Delete; it
    # reconnects and delivers the buffered readings: no loss, no duplicate
    import json
    import subprocess
    import sys

    with _lab() as lab:
        cfg = device_config(lab)
        p = lab.popen(lab.ns_device, sys.executable, "-c", TELEMETRY, json.dumps(cfg),
                      labmod.os.path.join(labmod.ROOT, "lib"), lab.cloud_ip,
                      str(lab.collector_port), stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE, text=True)
        time.sleep(2.5)
        r = lab.swanctl("--terminate", "--ike", "lab")
        assert r.returncode == 0, r.stdout + r.stderr
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        st = json.loads(out.splitlines()[-1])
        seqs = [int(x["payload"].split()[0][4:]) for x in lab.collector_records()
                if x["payload"].startswith("seq=")]
    assert st["reconnects"] >= 1 and st["dropped"] == 0 and st["queued"] == 0
    assert sorted(seqs) == list(range(1, 25)), seqs  # none lost, none twice
