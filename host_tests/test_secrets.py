# Secrets stay secret (issue 9): with default settings no PSK, key or
# nonce of a session appears in what the client writes, and ikev2c warns
# about a config file with secrets that others can read.
#
# The secrets come from the other side, not from our client: a real
# strongSwan gateway (tools/lab.py) at charon log level 4 for its `ike` and
# `chd` subsystems prints the shared DH secret, SKEYSEED, SK_d, SK_ai/ar,
# SK_ei/er, SK_pi/pr, the PSK, prf(PSK, keypad), both AUTH values and the
# Child SA's four keys; the nonces Ni and Nr come from a capture of
# IKE_SA_INIT (checked against the Ni | Nr seed charon logs); our own DH
# private value from a run whose rng is wrapped (checked: its public value
# is the KE data of our IKE_SA_INIT in the capture).  Every secret is
# searched in every encoding that could appear (raw bytes, hex lower and
# upper, hex with spaces or colons, base64 and base64url at the three byte
# alignments, Python's bytes repr, decimal lists) in everything the runs
# wrote: stdout, stderr, the trace's JSON and HTML, and any file under
# build/ written meanwhile.  The search can fail: with --export-keys the
# same search finds exactly the keys that export writes, and a unit test
# plants each secret in each encoding.
import base64
import json
import os
import re
import subprocess
import sys
import time
import types

import pytest

import labutil
from labutil import ROOT

sys.path.insert(0, ROOT)
from tools import build_mpy, cli, demo  # noqa: E402
from tools import trace as trace_tool  # noqa: E402
from tools.lab import ike_summary, read_pcap  # noqa: E402

ARTIFACTS = os.path.join(ROOT, "build", "artifacts")
LOG4 = {"default": 1, "ike": 4, "chd": 4}  # charon prints its keys
PINGS = 2

# ------------------------------------------------------------ the search


def encodings(s):
    # -> [(encoding, bytes)]: the ways a secret s (bytes) could be written
    h = s.hex()
    pairs = [h[i:i + 2] for i in range(0, len(h), 2)]
    out = [("raw", s), ("hex", h.encode()), ("HEX", h.upper().encode())]
    for sep, n in ((" ", "hex-spaced"), (":", "hex-colons")):
        out.append((n, sep.join(pairs).encode()))
        out.append((n.upper(), sep.join(pairs).upper().encode()))
    for name, fn in (("base64", base64.b64encode),
                     ("base64url", base64.urlsafe_b64encode)):
        for k in range(3):  # where the secret starts in a 3-byte group
            e = fn(b"\0" * k + s)
            tail = 4 if (k + len(s)) % 3 else 0  # the group with padding
            out.append(("%s@%d" % (name, k), e[4 if k else 0:len(e) - tail]))
    out.append(("repr", repr(s)[2:-1].encode()))
    out.append(("decimal", ", ".join(str(b) for b in s).encode()))
    out.append(("decimal,", ",".join(str(b) for b in s).encode()))
    return out


def search(secrets, blobs):
    # secrets: {name: [bytes]}; blobs: [(where, bytes)]
    # -> (hits [(name, encoding, where)], number of searches)
    hits, n = [], 0
    for name, values in sorted(secrets.items()):
        for v in values:
            for enc, needle in encodings(v):
                for where, data in blobs:
                    n += 1
                    if needle in data:
                        hits.append((name, enc, where))
    return hits, n


def test_search_finds_every_encoding():
    # the control without a lab: each encoding of a planted secret is
    # found, the clean text is not, and each needle is long enough not to
    # match by chance
    rng = __import__("random").Random(9)
    noise = bytes(rng.randrange(256) for _ in range(4000))
    for size in (16, 17, 18, 20, 32, 256):
        secret = bytes(rng.randrange(256) for _ in range(size))
        assert search({"s": [secret]}, [("clean", noise)])[0] == []
        for enc, needle in encodings(secret):
            assert len(needle) >= size, (enc, size)
        # a leak written the way code would write it
        leaks = {"raw": secret, "hex": secret.hex().encode(),
                 "HEX": secret.hex().upper().encode(),
                 "hex-spaced": " ".join("%02x" % b for b in secret).encode(),
                 "HEX-COLONS": ":".join("%02X" % b for b in secret).encode(),
                 "repr": ("log: %r" % secret).encode(),
                 "decimal": json.dumps(list(secret)).encode()}
        for k in range(3):
            leaks["base64@%d" % k] = b"key=" + base64.b64encode(
                bytes(k) + secret)
            leaks["base64url@%d" % k] = base64.urlsafe_b64encode(
                b"xx"[:k] + secret + b"y")
        for enc, text in leaks.items():
            data = noise[:1000] + text + noise[1000:]
            hits, _ = search({"s": [secret]}, [("planted", data)])
            assert ("s", enc, "planted") in hits, (size, enc, hits)


# ------------------------------------------------------------ the secrets

# charon's level-4 lines "LABEL => N bytes @ 0x...", then its hex dump
LABELS = {
    "shared Diffie Hellman secret": "dh_shared", "SKEYSEED": "skeyseed",
    "Sk_d secret": "sk_d", "Sk_ai secret": "sk_ai", "Sk_ar secret": "sk_ar",
    "Sk_ei secret": "sk_ei", "Sk_er secret": "sk_er", "Sk_pi secret": "sk_pi",
    "Sk_pr secret": "sk_pr", "secret": "psk",
    "prf(secret, keypad)": "psk_keypad",
    "AUTH = prf(prf(secret, keypad), octets)": "auth",
    "encryption initiator key": "esp_ei", "encryption responder key": "esp_er",
    "integrity initiator key": "esp_ai", "integrity responder key": "esp_ar",
    "seed": "seed",  # Ni | Nr: a check of the capture's nonces
}
_HEAD = re.compile(r"\] <[^>]*> (.+?) => (\d+) bytes @ 0x")
_DUMP = re.compile(r"\] <[^>]*>\s+(\d+): ")
# what --export-keys writes (Wireshark needs them); nothing else
EXPORTED = {"sk_ei", "sk_er", "sk_ai", "sk_ar", "esp_ei", "esp_er", "esp_ai",
            "esp_ar"}


def gateway_secrets(log):
    # -> {name: [bytes, ...]} in the log's order (one per session)
    out = {}
    cur = None
    for line in log.splitlines():
        m = _HEAD.search(line)
        if m:
            cur = None
            if m.group(1) in LABELS:
                cur = [int(m.group(2)), bytearray()]
                out.setdefault(LABELS[m.group(1)], []).append(cur)
            continue
        d = _DUMP.search(line)
        if d and cur is not None:
            cur[1] += bytes.fromhex(line[d.end():d.end() + 48])
        else:
            cur = None
    for name, vals in out.items():
        for size, data in vals:
            assert len(data) == size, (name, size, data.hex())
        out[name] = [bytes(data) for _, data in vals]
    return out


def capture_init(path):
    # -> (Ni list, Nr list, our KE data list) from IKE_SA_INIT in a pcap
    ni, nr, ke = [], [], []
    for p in read_pcap(path):
        s = p["kind"] == "ike" and ike_summary(p["ike"])
        if not s or s["exchange"] != 34:
            continue
        for t, body in s["payloads"]:
            if t == 40:
                v = nr if s["response"] else ni
                if body not in v:
                    v.append(body)
            elif t == 34 and not s["response"] and body[4:] not in ke:
                ke.append(body[4:])
    return ni, nr, ke


# ------------------------------------------------------------ the runs

# Runs ikev2c's commands with the trace on (ikev2c_trace.py, as the CLI
# does) and the Client's rng wrapped: it notes the rng(32) values, our DH
# private values (dh.py; nothing else draws 32 bytes), to a side file.
# MicroPython and CPython alike:
#   secrets_driver.py SIDE.json TRACE.json CONFIG.json COMMAND ARGS...
DRIVER = """
import json
import os
import sys

import ikev2c_trace
from ikev2 import client as CL

seen = []


def rng(n):
    b = os.urandom(n)
    if n == 32:
        seen.append("".join("%02x" % x for x in b))
    return b


_init = CL.Client.__init__


def init(self, cfg, crypto=None, rng_=None, log=None, trace=None):
    _init(self, cfg, crypto, rng, log, trace)


CL.Client.__init__ = init
rc = ikev2c_trace.main(["driver"] + sys.argv[2:])
with open(sys.argv[1], "w") as f:
    f.write(json.dumps(seen))
sys.exit(rc)
"""


@pytest.fixture(scope="module")
def mpy(tmp_path_factory):
    dest = str(tmp_path_factory.mktemp("secrets-mpy"))
    dest, errors = build_mpy.build(dest, quiet=True)
    assert not errors, errors
    return dest


def _files(folder):
    # -> [(name, bytes)]: the files of a run's folder, named "run/file"
    out = []
    top = os.path.dirname(folder)
    for base, _, names in os.walk(folder):
        for n in names:
            p = os.path.join(base, n)
            with open(p, "rb") as f:
                out.append((os.path.relpath(p, top), f.read()))
    return out


def _build_files(since, skip_dirs):
    # every file under build/ written since `since` (logs, traces, ...),
    # but for the lab's own state (the gateway's level-4 log and our config
    # hold the secrets by design)
    out = []
    for base, dirs, names in os.walk(os.path.join(ROOT, "build")):
        dirs[:] = [d for d in dirs if os.path.join(base, d) not in skip_dirs]
        for n in names:
            p = os.path.join(base, n)
            try:
                st = os.stat(p)
                if st.st_mtime < since or st.st_size > 20 << 20:
                    continue
                with open(p, "rb") as f:
                    out.append((os.path.relpath(p, ROOT), f.read()))
            except OSError:  # another test's file, gone meanwhile
                pass
    return out


def _cli(lab, cfg_path, runtime, out, *extra):
    # the real ikev2c, default settings but for the trace
    os.makedirs(out)
    r = lab.run(lab.ns_device, labutil.IKEV2C, "--config", cfg_path,
                "--runtime", runtime, "--heap", "160k",
                "--trace", os.path.join(out, "s.html"), *extra,
                "ping", lab.cloud_ip, "-c", str(PINGS), timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    run = os.path.basename(out)
    return [(run + " stdout", r.stdout.encode()),
            (run + " stderr", r.stderr.encode())] + _files(out)


def _driver(lab, cfg_path, runtime, out, mpy, tmp):
    # the same commands with our DH private values noted
    os.makedirs(out)
    drv = os.path.join(tmp, "secrets_driver.py")
    with open(drv, "w") as f:
        f.write(DRIVER)
    side, tr = os.path.join(tmp, "dh-%s.json" % runtime), os.path.join(out, "s.json")
    args = [side, tr, cfg_path, "ping", lab.cloud_ip, str(PINGS)]
    if runtime == "micropython":
        exe = os.path.join(os.path.dirname(sys.executable), "micropython")
        r = lab.run(lab.ns_device, "env", "MICROPYPATH=%s:%s" % (tmp, mpy),
                    exe, "-X", "heapsize=160k", "-m", "secrets_driver", *args,
                    timeout=180)
    else:
        r = lab.run(lab.ns_device, "env", "PYTHONPATH=%s:%s" % (
            os.path.join(ROOT, "lib"), os.path.join(ROOT, "tools")),
            sys.executable, drv, *args, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    with open(os.path.join(out, "s.html"), "w") as f:  # as the CLI draws it
        f.write(trace_tool.render_html(trace_tool.load(tr)))
    with open(side) as f:
        dh = [bytes.fromhex(x) for x in json.load(f)]
    run = os.path.basename(out)
    return dh, [(run + " stdout", r.stdout.encode()),
                (run + " stderr", r.stderr.encode())] + _files(out)


def _x25519_public(priv):
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)


def _report(name, d):
    os.makedirs(ARTIFACTS, exist_ok=True)
    with open(os.path.join(ARTIFACTS, "secrets-%s.json" % name), "w") as f:
        json.dump(d, f, indent=1)
    print("secrets %s: %s" % (name, json.dumps(d)))


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_no_secret_in_logs_or_traces(runtime, mpy, tmp_path):
    # three sessions against one gateway: the CLI with default settings,
    # the driver that notes our DH private values, and the CLI with
    # --export-keys (the control)
    labutil.need_lab()
    tmp = str(tmp_path)
    t0 = time.time() - 1
    with labutil.labmod.Lab(pool="10.99.0.0/24", log_level=LOG4,
                            verbose=False) as lab:
        cfg_path = os.path.join(tmp, "client.json")  # holds the psk
        with open(os.open(cfg_path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            json.dump(labutil.device_config(lab), f)
        cap = lab.capture_session(os.path.join(tmp, "session.pcap"))
        plain = _cli(lab, cfg_path, runtime, os.path.join(tmp, "plain"))
        dh, hooked = _driver(lab, cfg_path, runtime, os.path.join(tmp, "hooked"),
                             mpy, tmp)
        exported = _cli(lab, cfg_path, runtime, os.path.join(tmp, "export"),
                        "--export-keys", os.path.join(tmp, "export", "keys"))
        cap.stop()
        gw = gateway_secrets(lab.charon_log())
        built = _build_files(t0, {lab.state_dir})
    ni, nr, ke = capture_init(cap.path)

    # the secrets, checked against each other
    for name in set(LABELS.values()) - {"auth", "psk", "psk_keypad"}:
        assert len(gw.get(name, ())) == 3, (name, gw.get(name))
    assert set(gw["psk"]) == {lab.psk.encode()}
    assert len(ni) == len(nr) == len(ke) == 3, (ni, nr, ke)
    assert gw.pop("seed") == [a + b for a, b in zip(ni, nr)]
    assert len(dh) == 1 and _x25519_public(dh[0]) == ke[1]  # the driver's
    secrets = dict(gw, ni=ni, nr=nr, dh_private=dh,
                   psk_text=[lab.psk.encode()])

    # default settings: nothing
    blobs = plain + hooked + built
    hits, n = search(secrets, blobs)
    assert hits == [], "secrets in the output: %s" % hits
    # the control: with key export the same search finds exactly the
    # exported keys, of that session only
    xhits, xn = search(secrets, exported)
    assert set(h[0] for h in xhits) == EXPORTED, xhits
    for name in EXPORTED:
        found = set(v for v in secrets[name] if search({name: [v]}, exported)[0])
        assert found == {secrets[name][2]}, name
    values = sum(len(v) for v in secrets.values())
    _report(runtime, {"secrets": sorted(secrets), "values": values,
                      "encodings": len(encodings(b"x" * 16)),
                      "outputs": len(blobs), "output_bytes": sum(
                          len(b) for _, b in blobs),
                      "run_outputs": [w for w, _ in plain + hooked],
                      "build_files": len(built), "searches": n,
                      "found": len(hits), "control_searches": xn,
                      "control_found": sorted(set(h[0] for h in xhits))})


def test_device_application_logs_no_secret(mpy, tmp_path):
    # firmware/app.py on the MicroPython unix port (as `make demo` runs it)
    # with its trace ring on and key export off; then on (the control)
    labutil.need_lab()
    tmp = str(tmp_path)
    a = types.SimpleNamespace(ike="aes128-sha256-x25519", esp="aes128-sha256",
                              count=3, interval=0.2)
    runs = []
    with labutil.labmod.Lab(pool="10.99.0.0/24", dns="198.51.100.53",
                            log_level=LOG4, verbose=False) as lab:
        cap = lab.capture_session(os.path.join(tmp, "session.pcap"))
        for export in (False, True):
            tr = os.path.join(tmp, "trace-%d.json" % export)
            cfg_path, sec_path = demo.write_device_files(lab, a, {
                "trace": 64, "trace_file": tr, "export_keys": export})
            r = demo.run_app(lab, mpy, cfg_path, sec_path, timeout=180)
            assert r.returncode == 0, r.stdout + r.stderr
            assert "app: done: 3 records, 3 acknowledged" in r.stderr, r.stderr
            with open(tr, "rb") as f:
                runs.append([("app stdout", r.stdout.encode()),
                             ("app stderr", r.stderr.encode()),
                             ("app trace", f.read())])
        cap.stop()
        gw = gateway_secrets(lab.charon_log())
    ni, nr, _ = capture_init(cap.path)
    assert gw.pop("seed") == [x + y for x, y in zip(ni, nr)] and len(ni) == 2
    secrets = dict(gw, ni=ni, nr=nr, psk_text=[lab.psk.encode()])
    hits, n = search(secrets, runs[0])
    assert hits == [], "secrets in the device's output: %s" % hits
    xhits, xn = search(secrets, runs[1])
    assert set(h[0] for h in xhits) == EXPORTED, xhits
    _report("device", {"secrets": sorted(secrets),
                       "values": sum(len(v) for v in secrets.values()),
                       "outputs": [w for w, _ in runs[0]], "searches": n,
                       "found": len(hits), "control_searches": xn,
                       "control_found": sorted(set(h[0] for h in xhits))})


# ------------------------------------------------------------ file modes

PEM = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"


def _config(tmp_path, mode, **kw):
    p = tmp_path / "device.json"
    d = {"gateway": "192.0.2.1", "local_id": "device.lab"}
    d.update(kw)
    p.write_text(json.dumps(d))
    os.chmod(p, mode)
    return str(p)


def _warnings(path, capsys):
    cli.warn_readable_secrets(path)
    return capsys.readouterr().err.splitlines()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o666])
def test_cli_warns_psk_config_readable_by_others(tmp_path, capsys, mode):
    p = _config(tmp_path, mode, psk="correct horse")
    assert _warnings(p, capsys) == [
        "ikev2c: warning: %s holds a PSK and is readable by others "
        "(mode %04o): chmod 600 %s" % (p, mode, p)]


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o700, 0o620])
def test_cli_quiet_for_private_config(tmp_path, capsys, mode):
    assert _warnings(_config(tmp_path, mode, psk="x"), capsys) == []


def test_cli_quiet_without_secrets(tmp_path, capsys):
    # a config without a PSK or key: nothing to protect; a missing or
    # broken config is the run's business
    assert _warnings(_config(tmp_path, 0o644, ca_cert="ca.pem"), capsys) == []
    assert _warnings(str(tmp_path / "missing.json"), capsys) == []
    (tmp_path / "bad.json").write_text("{")
    assert _warnings(str(tmp_path / "bad.json"), capsys) == []


def test_cli_warns_private_key_file_and_inline_key(tmp_path, capsys):
    key = tmp_path / "key.pem"
    key.write_text(PEM)
    os.chmod(key, 0o644)
    p = _config(tmp_path, 0o644, cert="cert.pem", private_key=str(key))
    # the config holds no secret itself: only the key file is named
    assert _warnings(p, capsys) == [
        "ikev2c: warning: %s holds a private key and is readable by others "
        "(mode 0644): chmod 600 %s" % (key, key)]
    os.chmod(key, 0o600)
    assert _warnings(p, capsys) == []
    p = _config(tmp_path, 0o640, psk="x", private_key=PEM)
    assert _warnings(p, capsys) == [
        "ikev2c: warning: %s holds a PSK and a private key and is readable "
        "by others (mode 0640): chmod 600 %s" % (p, p)]


def test_cli_main_warns_before_the_run(tmp_path, capsys):
    # through main(): one line, then the run (here a config error, no
    # network); none when the file is private
    p = _config(tmp_path, 0o644, psk="x", local_id=7)
    assert cli.main(["--config", p, "up"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("ikev2c: warning: %s holds a PSK" % p), err
    assert sum("warning" in ln for ln in err) == 1 and "error: config" in err[-1]
    os.chmod(p, 0o600)
    assert cli.main(["--config", p, "up"]) == 2
    assert "warning" not in capsys.readouterr().err


def test_cli_warning_runs_as_a_command(tmp_path):
    # the installed command, as a user sees it
    p = _config(tmp_path, 0o644, psk="x", local_id=7)
    r = subprocess.run([labutil.IKEV2C, "--config", p, "up"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "ikev2c: warning: %s holds a PSK and is readable by others " \
        "(mode 0644): chmod 600 %s\n" % (p, p) in r.stderr


# ------------------------------------------------------------ error messages

SECRET_NUMBER = 87654321987654321  # a PSK or password written as a number


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_config_errors_do_not_echo_secrets(tmp_path, runtime):
    # a secret of the wrong type is refused by name and type, never echoed
    # (it was: "psk: expected str, got 87654321987654321"); other keys still
    # show their value.  No network: the config is refused first.
    cases = [({"psk": SECRET_NUMBER}, "psk: expected str, got int"),
             ({"psk": "x", "local_auth": "pubkey", "cert": "c.pem",
               "private_key": [PEM]}, "private_key: expected str, got list"),
             ({"psk": "x", "retransmit_tries": "often"},
              "retransmit_tries: expected int, got 'often'")]
    for extra, want in cases:
        p = _config(tmp_path, 0o600, **extra)
        r = subprocess.run([labutil.IKEV2C, "--config", p, "--runtime",
                            runtime, "up"], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 2, r.stderr
        assert "ikev2c: error: config: %s" % want in r.stderr, r.stderr
        hits, _ = search({"number": [str(SECRET_NUMBER).encode()],
                          "pem": [PEM.encode(), PEM.encode()[28:60]]},
                         [("stderr", r.stderr.encode()),
                          ("stdout", r.stdout.encode())])
        assert hits == [], hits


def test_device_app_errors_do_not_echo_secrets(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "firmware"))
    import app

    cfg, sec = tmp_path / "config.json", tmp_path / "secrets.json"
    cfg.write_text(json.dumps({"gateway": "192.0.2.1", "local_id": "d",
                               "telemetry": "192.0.2.9:5140"}))
    sec.write_text(json.dumps({"psk": "x", "wifi_password": SECRET_NUMBER}))
    with pytest.raises(app.AppError) as e:
        app.load(str(cfg), str(sec))
    assert str(e.value) == "wifi_password: bad value int (expected a string)"
    with pytest.raises(app.AppError) as e:  # not a secret: shown
        app._value("interval", "f", "often")
    assert "'often'" in str(e.value)


def test_private_key_that_is_not_a_file_is_not_echoed():
    # a key pasted without its PEM lines (base64 or hex) is no file's name:
    # the error says so without the value (CPython's OSError would name it)
    from ikev2.config import Config
    from ikev2.errors import ConfigError

    x = os.path.join(ROOT, "host_tests", "vectors", "x509")
    d = {"gateway": "192.0.2.1", "local_id": "dev1.lab", "remote_id": "dev1.lab",
         "cert": os.path.join(x, "dev_ec.pem"),
         "ca_cert": os.path.join(x, "ec_root.pem")}
    body = "MHcCAQEEIAbcdefghijklmnopqrstuvwxyz0123456789ABCDEFoAoGCCqGSM49"
    for v in (body, body.encode().hex(), body[:30] + "\n" + body[30:]):
        with pytest.raises(ConfigError) as e:
            Config(dict(d, private_key=v))
        assert str(e.value).startswith(
            "private_key: cannot read '(its value, not shown)' ("), e.value
        assert body[8:24] not in str(e.value) and v[8:24] not in str(e.value)
    with pytest.raises(ConfigError) as e:  # a file's name is shown
        Config(dict(d, private_key="/no/such/key.pem"))
    assert "private_key: cannot read '/no/such/key.pem'" in str(e.value)
