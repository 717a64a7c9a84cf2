# The device side (issue 5): board definitions, the freeze manifests,
# `make firmware` without a toolchain, deploy's file list and compiled
# output, package.json for mip, provisioning, the device application, and
# a provisioned device against a real strongSwan gateway, run from the
# very tree `make deploy` copies to a board.
import json
import shutil
import os
import re
import stat
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "lib"), os.path.join(ROOT, "firmware")]
from tools import deploy, firmware, provision  # noqa: E402

import labutil  # noqa: E402

BOARDS = {"ESP32_GENERIC": "esp32", "ESP32_GENERIC_S3": "esp32s3",
          "ESP32_GENERIC_C3": "esp32c3"}
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
# files of the stock ports/esp32 (MicroPython v1.28) that board files name
PORT_FILES = {"boards/sdkconfig.base", "boards/sdkconfig.riscv",
              "boards/sdkconfig.ble", "partitions-4MiB-romfs.csv"}


# ------------------------------------------------------------------ boards
def _manifest(path, calls):
    # runs a manifest.py with the manifest functions recording their calls;
    # include() follows relative paths as MicroPython's manifestfile does
    def include(p, **kw):
        calls.append(("include", p))
        if not p.startswith("$("):
            _manifest(os.path.normpath(os.path.join(os.path.dirname(path), p)), calls)

    def rec(kind):
        return lambda *a, **kw: calls.append((kind, a, kw, os.path.dirname(path)))

    env = {"include": include, "package": rec("package"), "module": rec("module"),
           "freeze": rec("freeze"), "require": rec("require")}
    with open(path) as f:
        exec(compile(f.read(), path, "exec"), env)
    return calls


def test_board_files_for_each_target():
    assert sorted(firmware.boards()) == sorted(BOARDS)
    for board, target in BOARDS.items():
        d = os.path.join(ROOT, "boards", board)
        cmake = open(os.path.join(d, "mpconfigboard.cmake")).read()
        assert re.search(r"^set\(IDF_TARGET %s\)$" % target, cmake, re.M), board
        defaults = re.search(r"set\(SDKCONFIG_DEFAULTS\s+(.*?)\)", cmake, re.S).group(1).split()
        assert defaults[-1] == "${MICROPY_BOARD_DIR}/sdkconfig.board"
        assert set(defaults[:-1]) <= PORT_FILES
        assert ("boards/sdkconfig.riscv" in defaults) == (target == "esp32c3")
        assert "boards/sdkconfig.ble" not in defaults  # Bluetooth off
        assert "set(MICROPY_FROZEN_MANIFEST ${MICROPY_BOARD_DIR}/manifest.py)" in cmake
        h = open(os.path.join(d, "mpconfigboard.h")).read()
        assert '#define MICROPY_HW_MCU_NAME                 "%s"' % target.upper() in h
        assert re.search(r"MICROPY_PY_BLUETOOTH\s+\(0\)", h)
        sdk = {}
        for ln in open(os.path.join(d, "sdkconfig.board")):
            ln = ln.strip()
            if ln and not ln.startswith("#"):
                m = re.match(r"^(CONFIG_[A-Z0-9_]+)=(y|n|\d+|\"[^\"]*\")$", ln)
                assert m, "%s: bad sdkconfig line %r" % (board, ln)
                sdk[m.group(1)] = m.group(2)
        assert sdk["CONFIG_MBEDTLS_HARDWARE_AES"] == "y"
        assert sdk["CONFIG_BT_ENABLED"] == "n"
        assert sdk["CONFIG_PARTITION_TABLE_CUSTOM_FILENAME"].strip('"') in PORT_FILES


def test_board_manifests_freeze_the_profile_and_the_app():
    firmware.frozen_sources()
    frozen = os.path.join(ROOT, "build", "frozen-src")
    for board in BOARDS:
        calls = _manifest(os.path.join(ROOT, "boards", board, "manifest.py"), [])
        assert ("include", "$(PORT_DIR)/boards/manifest.py") in calls
        pk = [c for c in calls if c[0] == "package"]
        mods = [c for c in calls if c[0] == "module"]
        assert len(pk) == 1 and pk[0][1] == ("ikev2",)
        base = os.path.normpath(os.path.join(pk[0][3], pk[0][2]["base_path"]))
        assert base == frozen
        for p in deploy.PROFILE_PSK + deploy.EXTRA_CERT:
            src = os.path.join(base, "ikev2", p)
            assert os.path.exists(src), src
            assert "import const as C" not in open(src).read()  # inlined
        assert sorted(m[1][0] for m in mods) == sorted(deploy.APP)
        for m in mods:
            assert os.path.exists(os.path.join(os.path.normpath(
                os.path.join(m[3], m[2]["base_path"])), m[1][0]))
    # nothing frozen that a device cannot use
    assert not os.path.exists(os.path.join(frozen, "ikev2", "crypto", "host.py"))


def _make(*args, env=None):
    e = dict(os.environ, **(env or {}))
    for k in ("MPY_DIR", "IDF_PATH"):
        if not (env or {}).get(k):
            e.pop(k, None)
    return subprocess.run(["make", "-s", "-C", ROOT] + list(args), capture_output=True,
                          text=True, env=e, timeout=300)


def test_make_firmware_says_what_is_missing(tmp_path):
    r = _make("firmware", "BOARD=ESP32_GENERIC")
    assert r.returncode != 0
    assert "a MicroPython source tree is needed (MPY_DIR)" in r.stderr
    assert "git clone https://github.com/micropython/micropython" in r.stderr
    tree = tmp_path / "micropython"
    (tree / "py").mkdir(parents=True)
    (tree / "py" / "mpconfig.h").write_text("")
    r = _make("firmware", "BOARD=ESP32_GENERIC_C3", "MPY_DIR=%s" % tree,
              env={"PATH": "/usr/bin:/bin"})
    assert r.returncode != 0
    assert "ESP-IDF is needed" in r.stderr and "export.sh" in r.stderr
    r = _make("firmware", "BOARD=ESP8266")
    assert r.returncode != 0 and "unknown BOARD 'ESP8266'" in r.stderr
    assert "ESP32_GENERIC_S3" in r.stderr
    r = _make("firmware")
    assert r.returncode != 0 and "no BOARD" in r.stderr


def test_make_firmware_commands_for_a_board(tmp_path):
    tree = tmp_path / "mp"
    (tree / "py").mkdir(parents=True)
    (tree / "py" / "mpconfig.h").write_text("")
    idf = tmp_path / "bin"
    idf.mkdir()
    (idf / "idf.py").write_text("#!/bin/sh\n")
    (idf / "idf.py").chmod(0o755)
    cmds, out = firmware.check("ESP32_GENERIC_S3", str(tree),
                               {"IDF_PATH": str(tmp_path), "PATH": str(idf)})
    assert cmds[0] == ["make", "-C", str(tree / "mpy-cross")]
    assert cmds[1][:3] == ["make", "-C", str(tree / "ports" / "esp32")]
    assert "BOARD_DIR=%s" % os.path.join(ROOT, "boards", "ESP32_GENERIC_S3") in cmds[1]
    assert out.endswith("firmware.bin")


# ------------------------------------------------------------------ deploy
def test_deploy_stages_the_psk_profile_compiled():
    dest, files = deploy.stage(os.path.join(ROOT, "build", "test-device"))
    want = {"lib/ikev2/" + p[:-3] + ".mpy" for p in deploy.PROFILE_PSK}
    want |= {p[:-3] + ".mpy" for p in deploy.APP} | {"main.py"}
    assert set(files) == want
    for f in files:
        if f.endswith(".mpy"):
            with open(os.path.join(dest, f), "rb") as fh:
                head = fh.read(4)
            assert head[0] == ord("M") and head[1] == 6, f  # .mpy v6
    # every module loads on MicroPython from that tree, and nothing else is
    # needed: no const.py (inlined), no host backend
    mods = ["ikev2." + p[:-3].replace("/", ".").replace(".__init__", "")
            for p in deploy.PROFILE_PSK] + ["hw", "app"]
    code = "import sys\nfor m in %r:\n __import__(m)\nprint('ok', len(sys.modules))" % mods
    r = subprocess.run([MICROPYTHON, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, MICROPYPATH="%s:%s/lib" % (dest, dest)))
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stderr
    assert "ikev2.const" not in r.stdout


def test_deploy_steps_and_errors(tmp_path, capsys):
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "config.json").write_text("{}")
    (dev / "secrets.json").write_text("{}")
    dest, files = deploy.stage(os.path.join(ROOT, "build", "test-device"))
    st = deploy.steps(dest, files, str(dev))
    cps = [s[3] for s in st if s[:2] == ["fs", "cp"]]
    assert sorted(cps) == sorted([":" + f for f in files] + [":config.json", ":secrets.json"])
    assert st[0][0] == "exec" and "'/lib/ikev2/crypto'" in st[0][1]
    assert st[-1] == ["reset"]
    cmd = deploy.command("/dev/ttyUSB0", st)
    assert cmd[1:3] == ["connect", "/dev/ttyUSB0"] and cmd.count("+") == len(st) - 1
    frozen = deploy.steps(dest, files, str(dev), code=False)
    assert [s[3] for s in frozen if s[0] == "fs"] == [":main.py", ":config.json",
                                                     ":secrets.json"]
    rom = deploy.steps(dest, files, None, romfs=True)
    assert rom[0] == ["romfs", "--no-mpy", "deploy", dest]
    # the make target: clear errors, exit status 2
    r = _make("deploy")
    assert r.returncode != 0 and "no serial port: make deploy PORT=" in r.stderr
    r = _make("deploy", "PORT=/dev/null", "DEVICE=%s" % (tmp_path / "none"))
    assert r.returncode != 0 and "no device directory" in r.stderr
    (dev / "secrets.json").write_text("{")
    assert deploy.main(["--port", "/dev/null", "--device", str(dev), "--dry-run"]) == 2
    assert "secrets.json is not valid JSON" in capsys.readouterr().err


def test_deploy_a_certificate_device(tmp_path, capsys):
    # a config.json that uses certificates: the certificate modules are
    # staged with the PSK profile and load on MicroPython, and the files
    # the config names are copied beside it
    from tools import pki

    d = str(tmp_path / "pki")
    pki.make_ca(d)
    pki.make_gateway(d, "gw.lab")
    p = pki.make_device(d, "device1.lab")
    dev = tmp_path / "dev"
    (dev / "certs").mkdir(parents=True)
    for k, name in (("cert", "certs/cert.pem"), ("key", "certs/key.pem"),
                    ("ca", "ca.pem")):
        shutil.copy(p[k], str(dev / name))
    cfg = {"cert": "certs/cert.pem", "private_key": "certs/key.pem",
           "ca_cert": ["ca.pem"]}
    (dev / "config.json").write_text(json.dumps(cfg))
    (dev / "secrets.json").write_text("{}")
    assert deploy.uses_certs(str(dev))
    assert deploy.credential_files(str(dev)) == ["certs/cert.pem", "certs/key.pem",
                                                 "ca.pem"]
    dest, files = deploy.stage(os.path.join(ROOT, "build", "test-device"), certs=True)
    want = {"lib/ikev2/" + p[:-3] + ".mpy" for p in deploy.PROFILE_PSK + deploy.EXTRA_CERT}
    assert want <= set(files)
    mods = ["ikev2." + p[:-3].replace("/", ".") for p in deploy.EXTRA_CERT]
    code = "for m in %r:\n __import__(m)\nprint('ok')" % mods
    r = subprocess.run([MICROPYTHON, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, MICROPYPATH="%s:%s/lib" % (dest, dest)))
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stderr
    st = deploy.steps(dest, files, str(dev))
    cps = [s[3] for s in st if s[:2] == ["fs", "cp"]]
    assert {":certs/cert.pem", ":certs/key.pem", ":ca.pem", ":config.json"} <= set(cps)
    assert any(s[0] == "exec" and "'/certs'" in s[1] for s in st)
    assert deploy.main(["--port", "/dev/null", "--device", str(dev), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "certauth.mpy" in out and "certs/key.pem" in out
    # a config naming a file that is not there: refused before anything
    cfg["ca_cert"] = ["missing.pem"]
    (dev / "config.json").write_text(json.dumps(cfg))
    assert deploy.main(["--port", "/dev/null", "--device", str(dev), "--dry-run"]) == 2
    assert "ca_cert names missing.pem, which is not in" in capsys.readouterr().err


def test_romfs_image_fits_the_partition():
    dest, _ = deploy.stage(os.path.join(ROOT, "build", "test-device"))
    img = deploy.romfs_image(dest, os.path.join(ROOT, "build", "test-device.romfs"))
    with open(img, "rb") as f:
        head = f.read(4)
    assert head[:3] == b"\xd2\xcd\x31"  # ROMFS header
    assert os.path.getsize(img) <= 0x20000  # partitions-4MiB-romfs.csv


def test_package_json_for_mip_is_current():
    with open(os.path.join(ROOT, "package.json")) as f:
        pj = json.load(f)
    assert pj == deploy.package_json(), "run: python -m tools.deploy --package-json"
    for dest, src in pj["urls"]:
        assert os.path.exists(os.path.join(ROOT, src)), src
        assert not src.startswith(("http", "github:"))  # relative to package.json
    assert {"ikev2/client.py", "app.py", "hw.py"} <= {d for d, _ in pj["urls"]}


# ------------------------------------------------------------ provisioning
def _provision(tmp_path, *extra, out="dev"):
    args = ["--id", "sensor-01.example.org", "--gateway", "203.0.113.10",
            "--gateway-id", "vpn.example.org", "--telemetry", "10.1.0.5:5140",
            "--remote-ts", "10.1.0.0/24", "--out", str(tmp_path / out)] + list(extra)
    return provision.main(args)


def test_provision_writes_device_and_gateway_files(tmp_path, capsys):
    assert _provision(tmp_path, "--pool", "devices") == 0
    d = tmp_path / "dev"
    cfg = json.loads((d / "config.json").read_text())
    sec = json.loads((d / "secrets.json").read_text())
    assert set(sec) == {"psk"} and "psk" not in cfg
    assert provision.psk_strength(sec["psk"]) >= 200 and len(sec["psk"]) >= 40
    for f in ("secrets.json", "swanctl.conf"):
        assert stat.S_IMODE(os.stat(d / f).st_mode) == 0o600, f
    conf = (d / "swanctl.conf").read_text()
    assert "secret = 0x" + sec["psk"].encode().hex() in conf
    assert "id = sensor-01.example.org" in conf and "pools = devices" in conf
    assert "local_ts = 10.1.0.0/24" in conf
    # the device's own loader accepts what was written
    import app
    a, tunnel = app.load(str(d / "config.json"), str(d / "secrets.json"))
    assert a["dest"] == ("10.1.0.5", 5140) and tunnel["psk"] == sec["psk"]
    # a second device gets another PSK; an existing directory is kept
    assert _provision(tmp_path, out="dev2") == 0
    assert json.loads((tmp_path / "dev2" / "secrets.json").read_text())["psk"] != sec["psk"]
    assert _provision(tmp_path) == 2
    assert "exists" in capsys.readouterr().err
    assert json.loads((d / "secrets.json").read_text()) == sec


@pytest.mark.parametrize("extra,message", [
    (["--ike", "aes128-sha999-x25519"], "unknown algorithm 'sha999'"),
    (["--esp", "aes128-sha256-bogus"], "unknown algorithm 'bogus'"),
    (["--set", "frobnicate=1"], "unknown configuration key 'frobnicate'"),
    (["--set", "interval=0"], "interval and buffer must be positive"),
    (["--set", "retransmit_tries=x"], "retransmit_tries"),
    (["--telemetry", "10.1.0.5"], "expected HOST:PORT"),
    (["--id", ""], "local_id"),
    (["--gateway", "bad host!"], "not an address or host name"),
    (["--remote-ts", "10.1.0.0/33"], "remote_ts"),
])
def test_provision_rejects_bad_input(tmp_path, capsys, extra, message):
    assert _provision(tmp_path, *extra) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("ikev2-provision: error:"), err
    assert "Traceback" not in err
    assert not os.path.exists(tmp_path / "dev") and not os.path.exists(tmp_path / "dev.tmp")


@pytest.mark.parametrize("psk,ok", [
    ("short-psk", False),
    ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", False),
    ("password1234567890ab", False),
    ("Tr0ub4dor&3-horse-Battery-staple!", True),
])
def test_provision_checks_a_given_psk(tmp_path, capsys, psk, ok):
    (tmp_path / "psk").write_text(psk + "\n")
    rc = _provision(tmp_path, "--psk-file", str(tmp_path / "psk"))
    assert rc == (0 if ok else 2)
    if not ok:
        assert re.search(r"the PSK is too (short|weak)", capsys.readouterr().err)
    else:
        assert json.loads((tmp_path / "dev" / "secrets.json").read_text())["psk"] == psk


# ---------------------------------------------------------- the application
def _files(tmp_path, cfg, sec=None):
    c, s = tmp_path / "config.json", tmp_path / "secrets.json"
    c.write_text(json.dumps(cfg))
    if sec is not None:
        s.write_text(json.dumps(sec))
    return str(c), str(s) if sec is not None else None


GOOD = {"gateway": "192.0.2.1", "local_id": "d.lab", "telemetry": "198.51.100.2:5140"}


@pytest.mark.parametrize("cfg,sec,message", [
    ({"gateway": "192.0.2.1"}, {"psk": "x" * 32}, "missing key 'telemetry'"),
    (dict(GOOD, psk="x" * 32), {"psk": "x" * 32}, "'psk' belongs in the secrets file"),
    (GOOD, {"psk": "x" * 32, "gateway": "1.2.3.4"}, "'gateway' is not a secret"),
    (dict(GOOD, interval="often"), {"psk": "x"}, "interval: bad value 'often' (expected a number)"),
    (dict(GOOD, count=1.5), {"psk": "x"}, "count: bad value 1.5 (expected an integer)"),
    (dict(GOOD, low_power="yes"), {"psk": "x"}, "low_power: bad value 'yes'"),
    (dict(GOOD, telemetry="198.51.100.2:0"), {"psk": "x"}, "expected HOST:PORT"),
])
def test_app_refuses_bad_config(tmp_path, cfg, sec, message):
    import app
    c, s = _files(tmp_path, cfg, sec)
    with pytest.raises(app.AppError) as e:
        app.load(c, s)
    assert message in str(e.value)


def test_app_main_gives_one_line_errors(tmp_path, capsys):
    import app
    c, s = _files(tmp_path, dict(GOOD, ike="aes128-nope"), {"psk": "x" * 32})
    assert app.main(["app", c, s]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith("app: error: config: ike:")
    assert "Traceback" not in err
    (tmp_path / "broken.json").write_text("{")
    assert app.main(["app", str(tmp_path / "broken.json"), s]) == 2
    assert "is not valid JSON" in capsys.readouterr().err
    c, s = _files(tmp_path, dict(GOOD, sensor="nosuchmodule.read"), {"psk": "x" * 32})
    assert app.main(["app", c, s]) == 2
    assert "sensor: no function 'nosuchmodule.read'" in capsys.readouterr().err


def test_app_platform_layer_is_the_only_one_touching_the_hardware():
    for name in ("app.py", "main.py"):
        src = open(os.path.join(ROOT, "firmware", name)).read()
        assert not re.search(r"^\s*(import|from)\s+(machine|network|time|esp32)\b",
                             src, re.M), name
    hwsrc = open(os.path.join(ROOT, "firmware", "hw.py")).read()
    assert "import machine" in hwsrc and "import network" in hwsrc
    import hw
    h = hw.platform()
    assert isinstance(h, hw.Host) and h.network_up("x", "y", print)
    h.watchdog(0.001)
    h.sleep_ms(5)
    h.feed()
    assert h.late == 1  # a late feed is counted on the host
    assert hw._default_led("ESP32S3 module with ESP32S3") == (48, True)
    assert hw._default_led("ESP32C3 module with ESP32C3") == (8, True)
    assert hw._default_led("Generic ESP32 module with ESP32") == (2, False)


# --------------------------------------------- against strongSwan in the lab
def _provisioned_lab(tmp_path, count, auth="psk"):
    from tools.lab import Lab
    from tools import pki

    extra, creds = [], None
    if auth == "cert":  # ikev2-pki's PKI, and ikev2-provision --pki
        d = str(tmp_path / "pki")
        pki.make_ca(d)
        pki.make_gateway(d, "gw.lab")
        pki.make_device(d, "sensor-07.lab")
        extra, creds = ["--pki", d], {"private": [os.path.join(d, "gateway.key")]}
    lab = Lab(pool="10.99.0.0/24", verbose=False, creds=creds)
    out = tmp_path / "sensor"
    rc = provision.main(extra + [
        "--id", "sensor-07.lab", "--gateway", lab.gateway_ip, "--gateway-id",
        lab.gateway_id, "--telemetry", "%s:%d" % (lab.cloud_ip, lab.collector_port),
        "--remote-ts", str(lab.cloud_net), "--pool", "labpool", "--interval", "0.1",
        "--set", "count=%d" % count, "--set", "check_ping=\"%s\"" % lab.cloud_ip,
        "--set", "drain=5",
        "--out", str(out)])
    assert rc == 0
    lab.includes.append(str(out / "swanctl.conf"))
    return lab, out


@pytest.mark.parametrize("runtime", ["micropython", "cpython"])
@pytest.mark.parametrize("auth", ["psk", "cert"])
def test_provisioned_device_against_strongswan(tmp_path, runtime, auth):
    # provision, give the gateway the snippet, and run the application: on
    # MicroPython from the tree `make deploy` copies, on CPython from source;
    # in the device's directory, as on its filesystem (cert.pem, ...)
    labutil.need_lab()
    lab, out = _provisioned_lab(tmp_path, 8, auth)
    if auth == "cert":
        assert set(json.loads((out / "secrets.json").read_text())) == set()
        assert stat.S_IMODE(os.stat(out / "key.pem").st_mode) == 0o600
    with lab:
        if runtime == "micropython":
            dest, _ = deploy.stage(os.path.join(ROOT, "build", "test-device-lab"),
                                   certs=auth == "cert")
            cmd = ["env", "-C", str(out), "MICROPYPATH=%s:%s/lib" % (dest, dest),
                   MICROPYTHON, "-X", "heapsize=%s" % ("160k" if auth == "psk" else "256k"),
                   "-m", "app"]
        else:
            cmd = ["env", "-C", str(out), "PYTHONPATH=%s:%s" % (
                os.path.join(ROOT, "lib"), os.path.join(ROOT, "firmware")),
                sys.executable, os.path.join(ROOT, "firmware", "app.py")]
        r = lab.run(lab.ns_device, *cmd, str(out / "config.json"),
                    str(out / "secrets.json"), timeout=120)
        assert r.returncode == 0, r.stderr
        d = json.loads(r.stdout.strip().splitlines()[-1])
        recs = [x for x in lab.collector_records() if x.get("payload", "").startswith("seq=")]
        log = lab.charon_log()
    assert d["acked"] == 8 and d["queued"] == 0 and d["dropped"] == 0
    assert d["pings"][0] is not None and d["virtual_ip"].startswith("10.99.0.")
    assert sorted(set(int(x["payload"].split()[0][4:]) for x in recs)) == list(range(1, 9))
    assert {x["src"] for x in recs} == {d["virtual_ip"]}
    assert "status: up" in r.stderr and "done: 8 records, 8 acknowledged" in r.stderr
    # the gateway used the provisioned connection, not the lab's own
    assert re.search(r"<sensor-07-lab\|\d+> IKE_SA sensor-07-lab\[\d+\] established", log), \
        log[-2000:]
    if auth == "cert":
        assert "authentication of 'sensor-07.lab' with ECDSA_WITH_SHA256_DER successful" in log


def test_provisioned_device_with_a_wrong_psk_is_refused(tmp_path):
    labutil.need_lab()
    lab, out = _provisioned_lab(tmp_path, 1)
    sec = json.loads((out / "secrets.json").read_text())
    sec["psk"] = sec["psk"][::-1]
    (out / "secrets.json").write_text(json.dumps(sec))
    with lab:
        r = lab.run(lab.ns_device, "env", "PYTHONPATH=%s:%s" % (
            os.path.join(ROOT, "lib"), os.path.join(ROOT, "firmware")),
            sys.executable, os.path.join(ROOT, "firmware", "app.py"),
            str(out / "config.json"), str(out / "secrets.json"), timeout=120)
    assert r.returncode == 1
    assert "AUTHENTICATION_FAILED" in r.stderr and "Traceback" not in r.stderr


def test_make_demo_runs_the_device_application(tmp_path):
    labutil.need_lab()
    r = subprocess.run([sys.executable, "-m", "tools.demo", "-n", "5",
                        "--out", str(tmp_path)], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "demo: the device application (firmware/app.py) on MicroPython" in r.stdout
    assert re.search(r"telemetry\s+5 records, 5 acknowledged", r.stdout)
    assert "result             OK" in r.stdout
    # the trace, the capture and the keys, and where they are
    for name in ("session.html", "session.svg", "session.pcap",
                 "wireshark-keys"):
        assert str(tmp_path / name) in r.stdout
    for name in ("session.html", "session.svg", "session.pcap",
                 "wireshark-keys/esp_sa", "wireshark-keys/ikev2_decryption_table"):
        assert os.path.getsize(str(tmp_path / name)) > 0
    if shutil.which("tshark"):
        m = re.search(r"(\d+) of (\d+) ESP packets decrypted", r.stdout)
        assert m and m.group(1) == m.group(2) and int(m.group(1)) >= 16, r.stdout
