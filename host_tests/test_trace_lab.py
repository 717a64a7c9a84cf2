# The trace of a real session against strongSwan (a charon in a network
# namespace), on both runtimes:
#   - tshark, given the keys our client exported, decrypts our IKE_AUTH and
#     our ESP packets from the lab's capture and finds every ICV good: an
#     independent check of the wire format and of the keys;
#   - headless Chromium opens the sequence diagram, a click on a message
#     shows its fields (a screenshot is kept in build/artifacts/);
#   - with key export off, no secret of the session appears in the trace,
#     the diagram or the client's output; with it on, the same search
#     finds them (so the search can fail).
import json
import os
import shutil
import subprocess
import sys

import pytest

import browser
import labutil
from labutil import ROOT

sys.path.insert(0, os.path.join(ROOT, "lib"))
from ikev2 import tracefmt  # noqa: E402

ARTIFACTS = os.path.join(ROOT, "build", "artifacts")
CLOUD = "198.51.100.2"
PINGS = 3


def need_tshark():
    if not shutil.which("tshark"):
        pytest.skip("tshark is missing: apt-get install tshark")


def tshark(pcap, keys, *fields):
    # -> one list of field values per frame; keys: a Wireshark config dir
    argv = ["tshark", "-r", pcap, "-n", "-T", "fields", "-E", "separator=|"]
    for f in fields:
        argv += ["-e", f]
    env = dict(os.environ, WIRESHARK_CONFIG_DIR=keys)
    r = subprocess.run(argv, capture_output=True, text=True, env=env,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return [ln.split("|") for ln in r.stdout.splitlines()]


@pytest.fixture(scope="module", params=["cpython", "micropython"])
def run(request, tmp_path_factory):
    # one lab; the client pings through the tunnel with --trace and
    # --export-keys while the lab captures the session
    labutil.need_lab()
    runtime = request.param
    out = tmp_path_factory.mktemp("trace-" + runtime)
    with labutil.labmod.Lab(pool="10.99.0.0/24", dns="198.51.100.53") as lab:
        cap = lab.capture_session(str(out / "session.pcap"))
        cfg = labutil.device_config(lab)
        html, keys = str(out / "session.html"), str(out / "keys")
        rc, res, err = labutil.ikev2c(
            lab, cfg, runtime, "--heap", "160k", "--trace", html,
            "--export-keys", keys, "ping", CLOUD, "-c", str(PINGS))
        cap.stop()
    assert rc == 0, err
    return {"runtime": runtime, "dir": str(out), "pcap": cap.path,
            "html": html, "json": str(out / "session.json"), "keys": keys,
            "stderr": err, "stdout": res}


def test_cli_writes_trace_and_keys(run):
    err = run["stderr"]
    assert "ikev2c: trace: %s (sequence diagram)" % run["html"] in err
    assert "WARNING: %s holds this session's keys" % run["keys"] in err
    for name in ("ikev2_decryption_table", "esp_sa", "preferences"):
        p = os.path.join(run["keys"], name)
        assert os.stat(p).st_mode & 0o077 == 0, "%s is readable by others" % p
    assert os.stat(run["json"]).st_mode & 0o077 == 0  # it holds the keys
    with open(run["json"]) as f:
        d = tracefmt.expand(json.load(f))
    kinds = [(r["k"], r.get("dir"), r.get("ex")) for r in d["records"]]
    assert kinds[:4] == [("ike", "out", 34), ("ike", "in", 34),
                         ("ike", "out", 35), ("ike", "in", 35)]
    esp = [r for r in d["records"] if r["k"] == "esp"]
    assert [r["dir"] for r in esp] == ["out", "in"] * PINGS
    assert ("ev", None, None) in kinds  # "up", "down"
    assert [k["sa"] for k in d["keys"]] == ["ike", "esp"]


def test_tshark_decrypts_our_session(run):
    need_tshark()
    frames = tshark(run["pcap"], run["keys"], "isakmp.exchangetype",
                    "isakmp.id.data.fqdn", "isakmp.cfg.attr.internal_ip4_address",
                    "esp.spi", "esp.icv_good", "esp.icv_bad", "icmp.type",
                    "icmp.seq")
    auth = [f for f in frames if f[0] == "35"]
    # IKE_AUTH request: IDi and IDr, decrypted; response: IDr and the CP
    assert len(auth) == 2, frames
    assert auth[0][1] == "device.lab,gw.lab" and auth[1][1] == "gw.lab"
    assert auth[1][2].startswith("10.99.0.")
    esp = [f for f in frames if f[3]]
    assert len(esp) == 2 * PINGS, frames
    # every ESP packet decrypted to an ICMP echo request or reply, with a
    # good ICV: Wireshark checked our integrity keys too
    assert all(f[4] == "1" and f[5] == "0" for f in esp), esp
    assert [f[6] for f in esp] == ["8", "0"] * PINGS
    assert [f[7] for f in esp] == [str(i) for i in range(1, PINGS + 1)
                                   for _ in (0, 1)]


def test_tshark_needs_the_keys(run, tmp_path):
    # without our keys the same capture stays opaque (the test above can
    # fail)
    need_tshark()
    frames = tshark(run["pcap"], str(tmp_path), "isakmp.id.data.fqdn",
                    "esp.spi", "icmp.type")
    assert not any(f[0] for f in frames)
    assert any(f[1] for f in frames) and not any(f[2] for f in frames)


def test_diagram_in_chromium(run):
    why = browser.missing()
    if why:
        pytest.skip(why)
    with open(run["json"]) as f:
        recs = tracefmt.expand(json.load(f))["records"]
    auth = [i for i, r in enumerate(recs) if r["k"] == "ike"
            and r["ex"] == 35 and r["dir"] == "out"][0]
    esp = [i for i, r in enumerate(recs) if r["k"] == "esp"][0]
    os.makedirs(ARTIFACTS, exist_ok=True)
    with browser.Browser() as b:
        page = b.open("file://" + run["html"])
        assert "IKEv2" in page.eval("document.title")
        assert page.eval("document.querySelectorAll('#diagram .msg').length") \
            == len(recs) - sum(r["k"] == "ev" for r in recs)
        page.click(".msg[data-idx='%d']" % auth)
        page.wait("document.getElementById('details').textContent"
                  ".indexOf('IKE_AUTH request') >= 0")
        text = page.eval("document.getElementById('details').textContent")
        for want in ("IKE_AUTH request", "device.lab", "gw.lab",
                     "AES_CBC", "HMAC_SHA2_256_128", "TS_IPV4_ADDR_RANGE",
                     "INTERNAL_IP4_ADDRESS", recs[auth]["spi_i"]):
            assert want in text, (want, text)
        shot = page.screenshot(os.path.join(
            ARTIFACTS, "trace-ike-auth-%s.png" % run["runtime"]))
        assert os.path.getsize(shot) > 10000
        page.click(".msg[data-idx='%d']" % esp)
        page.wait("document.getElementById('details').textContent"
                  ".indexOf('%s') >= 0" % recs[esp]["spi"])
        text = page.eval("document.getElementById('details').textContent")
        assert "ESP" in text and "ICMP" in text and "IKE_AUTH" not in text


def _files(folder):
    for base, _, names in os.walk(folder):
        for n in names:
            p = os.path.join(base, n)
            with open(p, "rb") as f:
                yield p, f.read()


def _secrets_run(lab, tmp, export):
    # the CLI on CPython, with the driver that notes the secrets
    out = os.path.join(tmp, "export" if export else "plain")
    os.makedirs(out)
    cfg = labutil.device_config(lab)
    cpath = os.path.join(tmp, "client-%d.json" % export)  # holds the psk
    with open(cpath, "w") as f:
        json.dump(cfg, f)
    args = ["--config", cpath, "--trace", os.path.join(out, "s.html")]
    if export:
        args += ["--export-keys", os.path.join(out, "keys")]
    sec = os.path.join(tmp, "secrets-%d.json" % export)
    r = lab.run(lab.ns_device, sys.executable,
                os.path.join(ROOT, "host_tests", "trace_driver.py"), sec,
                *(args + ["ping", CLOUD, "-c", "2"]), timeout=120)
    assert r.returncode == 0, r.stderr
    with open(sec) as f:
        secrets = json.load(f)
    secrets["psk_text"] = lab.psk.encode().hex()
    text = [("stdout", (r.stdout + r.stderr).encode())] + list(_files(out))
    found = []
    for name, v in secrets.items():
        raw = bytes.fromhex(v)
        forms = [v.encode(), v.upper().encode(), raw]
        if name == "psk_text":
            forms.append(lab.psk.encode())
        for where, data in text:
            if any(x in data for x in forms):
                found.append((name, where))
    return secrets, found


def test_no_secret_without_key_export(tmp_path):
    labutil.need_lab()
    with labutil.labmod.Lab(pool="10.99.0.0/24") as lab:
        secrets, found = _secrets_run(lab, str(tmp_path), False)
        assert {"psk", "ni", "nr", "sk_ei", "sk_er", "sk_ai", "sk_ar",
                "k_in", "k_out", "a_in", "a_out"} <= set(secrets)
        assert found == [], "secrets in the output: %s" % found
        # the same search with export on finds the keys it exported
        _, found = _secrets_run(lab, str(tmp_path), True)
    names = set(n for n, _ in found)
    assert {"sk_ei", "sk_er", "sk_ai", "sk_ar", "k_in", "k_out"} <= names
    assert not names & {"psk", "psk_text", "ni", "nr", "sk_d", "sk_pi",
                        "sk_pr"}, found
