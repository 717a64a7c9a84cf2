# ikev2-pki (tools/pki.py): the test PKI's files, and certificate
# authentication with them between two real strongSwan charons in the lab
# (tools/lab.py).  The lab tests need root and strongSwan and skip with the
# reason otherwise; the rest runs anywhere (CPython, `cryptography`).
import datetime
import os
import stat
import subprocess
import sys
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tools import lab as labmod  # noqa: E402
from tools import pki  # noqa: E402
from tools.pki import PkiError, main  # noqa: E402
from labutil import need_lab  # noqa: E402

UTC = datetime.timezone.utc
PSK = "lab-device-psk-0123456789-abcdefghij"


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _cert(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def _ext(cert, cls):
    return cert.extensions.get_extension_for_class(cls).value


def _nb(c):
    return c.not_valid_before_utc


def _na(c):
    return c.not_valid_after_utc


@pytest.fixture
def ca_dir(tmp_path):
    d = str(tmp_path / "pki")
    pki.make_ca(d)
    return d


# -------------------------------------------------------------- files

@pytest.mark.parametrize("kind", ["ecdsa", "rsa2048"])
def test_ca_files_and_extensions(tmp_path, kind):
    d = str(tmp_path / "pki")
    p = pki.make_ca(d, key=kind, cn="Test CA", days=30)
    assert p == {"cert": os.path.join(d, "ca.pem"), "key": os.path.join(d, "ca.key")}
    assert _mode(p["key"]) == 0o600 and _mode(p["cert"]) == 0o644
    c = _cert(p["cert"])
    assert c.subject == c.issuer
    assert c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Test CA"
    bc = _ext(c, x509.BasicConstraints)
    assert bc.ca and bc.path_length == 0
    ku = _ext(c, x509.KeyUsage)
    assert ku.key_cert_sign and ku.crl_sign and not ku.digital_signature
    c.verify_directly_issued_by(c)
    assert isinstance(c.public_key(), ec.EllipticCurvePublicKey if kind == "ecdsa"
                      else rsa.RSAPublicKey)
    if kind == "rsa2048":
        assert c.public_key().key_size == 2048
    assert abs((_na(c) - _nb(c)) - datetime.timedelta(days=30, minutes=5)) < \
        datetime.timedelta(seconds=5)
    with open(p["key"]) as f:
        head = f.readline().strip()
    assert head == ("-----BEGIN EC PRIVATE KEY-----" if kind == "ecdsa"
                    else "-----BEGIN RSA PRIVATE KEY-----")


def test_gateway_san_eku_keyusage_signed_by_ca(ca_dir):
    p = pki.make_gateway(ca_dir, "gw.lab", ip="192.0.2.1", days=10)
    assert _mode(p["key"]) == 0o600
    c, ca = _cert(p["cert"]), _cert(os.path.join(ca_dir, "ca.pem"))
    c.verify_directly_issued_by(ca)
    san = _ext(c, x509.SubjectAlternativeName)
    assert san.get_values_for_type(x509.DNSName) == ["gw.lab"]
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["192.0.2.1"]
    assert pki.cert_ids(c) == ["gw.lab", "192.0.2.1"]
    assert list(_ext(c, x509.ExtendedKeyUsage)) == [ExtendedKeyUsageOID.SERVER_AUTH]
    ku = _ext(c, x509.KeyUsage)
    assert ku.digital_signature and not ku.key_cert_sign
    assert not _ext(c, x509.BasicConstraints).ca
    now = datetime.datetime.now(UTC)
    assert _nb(c) <= now < _na(c) <= now + datetime.timedelta(days=10)
    # an IP identity and no EKU
    p = pki.make_gateway(ca_dir, "192.0.2.1", eku=False, force=True)
    c = _cert(p["cert"])
    assert pki.cert_ids(c) == ["192.0.2.1"]
    with pytest.raises(x509.ExtensionNotFound):
        _ext(c, x509.ExtendedKeyUsage)


def test_gateway_expired_with_dates(ca_dir):
    p = pki.make_gateway(ca_dir, "gw.lab", not_before="2020-01-01",
                         not_after="2021-01-01T12:00:00Z")
    c = _cert(p["cert"])
    assert _nb(c) == datetime.datetime(2020, 1, 1, tzinfo=UTC)
    assert _na(c) == datetime.datetime(2021, 1, 1, 12, tzinfo=UTC)
    # only not_after (in the past): not_before follows from the default length
    p = pki.make_gateway(ca_dir, "gw.lab", not_after="2022-06-01", force=True)
    c = _cert(p["cert"])
    assert _na(c) == datetime.datetime(2022, 6, 1, tzinfo=UTC) and _nb(c) < _na(c)


@pytest.mark.parametrize("kind,head", [("ecdsa", "EC PRIVATE KEY"),
                                       ("rsa2048", "RSA PRIVATE KEY")])
def test_device_files(ca_dir, kind, head):
    p = pki.make_device(ca_dir, "device1.lab", key=kind)
    d = os.path.join(ca_dir, "devices", "device1.lab")
    assert p == {"cert": os.path.join(d, "cert.pem"), "key": os.path.join(d, "key.pem"),
                 "ca": os.path.join(d, "ca.pem")}
    assert _mode(p["key"]) == 0o600
    with open(p["key"]) as f:
        text = f.read()
    assert text.startswith("-----BEGIN %s-----\n" % head) and "ENCRYPTED" not in text
    with open(p["ca"], "rb") as f, open(os.path.join(ca_dir, "ca.pem"), "rb") as g:
        assert f.read() == g.read()
    c = _cert(p["cert"])
    c.verify_directly_issued_by(_cert(p["ca"]))
    assert pki.cert_ids(c) == ["device1.lab"]
    assert list(_ext(c, x509.ExtendedKeyUsage)) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    # user@domain identities become rfc822Name
    p = pki.make_device(ca_dir, "sensor@lab.example", key=kind)
    san = _ext(_cert(p["cert"]), x509.SubjectAlternativeName)
    assert san.get_values_for_type(x509.RFC822Name) == ["sensor@lab.example"]
    assert pki.find_devices(ca_dir) == ["device1.lab", "sensor@lab.example"]


def test_ca_dir_signs_with_another_ca(tmp_path, ca_dir):
    other = str(tmp_path / "other")
    pki.make_ca(other, cn="Other CA")
    p = pki.make_gateway(ca_dir, "gw.lab", ca_dir=other)
    c = _cert(p["cert"])
    c.verify_directly_issued_by(_cert(os.path.join(other, "ca.pem")))
    assert c.issuer != _cert(os.path.join(ca_dir, "ca.pem")).subject


# -------------------------------------------------------------- refusals

def test_refusals(tmp_path, ca_dir):
    with pytest.raises(PkiError, match="exists: add --force"):
        pki.make_ca(ca_dir)
    with pytest.raises(PkiError, match="no CA in"):
        pki.make_gateway(str(tmp_path / "empty"), "gw.lab")
    with pytest.raises(PkiError, match="unknown key type 'dsa'"):
        pki.make_device(ca_dir, "d.lab", key="dsa")
    with pytest.raises(PkiError, match="not after"):
        pki.make_gateway(ca_dir, "gw.lab", not_before="2021-01-01", not_after="2020-01-01")
    with pytest.raises(PkiError, match="not an ISO date"):
        pki.make_gateway(ca_dir, "gw.lab", not_after="next tuesday")
    with pytest.raises(PkiError, match="not both"):
        pki.make_gateway(ca_dir, "gw.lab", days=3, not_after="2030-01-01")
    with pytest.raises(PkiError, match="at least 1"):
        pki.make_device(ca_dir, "d.lab", days=0)
    with pytest.raises(PkiError, match="not a host name"):
        pki.make_gateway(ca_dir, "gw lab")
    with pytest.raises(PkiError, match="not a host name|cannot name"):
        pki.make_device(ca_dir, "../evil")
    with pytest.raises(PkiError, match="--ip"):
        pki.make_gateway(ca_dir, "gw.lab", ip="192.0.2.300")
    # nothing was written by the refused calls
    assert sorted(os.listdir(ca_dir)) == ["ca.key", "ca.pem"]
    pki.make_gateway(ca_dir, "gw.lab")
    pki.make_device(ca_dir, "d.lab")
    before = _cert(os.path.join(ca_dir, "gateway.pem")).serial_number
    with pytest.raises(PkiError, match="gateway.pem exists"):
        pki.make_gateway(ca_dir, "gw.lab")
    with pytest.raises(PkiError, match="cert.pem exists"):
        pki.make_device(ca_dir, "d.lab")
    assert _cert(os.path.join(ca_dir, "gateway.pem")).serial_number == before
    pki.make_gateway(ca_dir, "gw.lab", force=True)
    assert _cert(os.path.join(ca_dir, "gateway.pem")).serial_number != before


def _one_line_error(capsys, rc, *words):
    out = capsys.readouterr()
    assert rc == 2
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ikev2-pki"), out.err
    assert "Traceback" not in out.err
    for w in words:
        assert w in lines[0]
    return lines[0]


def test_main_exit_codes_and_messages(tmp_path, capsys):
    d = str(tmp_path / "pki")
    _one_line_error(capsys, main(["gateway", d, "--id", "gw.lab"]), "no CA in")
    _one_line_error(capsys, main(["ca", d, "--key", "ed448"]), "unknown key type")
    assert not os.path.exists(d)
    assert main(["ca", d, "--key", "ecdsa", "--cn", "My CA", "--days", "2"]) == 0
    out = capsys.readouterr().out
    assert os.path.join(d, "ca.pem") in out and os.path.join(d, "ca.key") in out
    _one_line_error(capsys, main(["ca", d]), "ca.pem exists", "--force")
    _one_line_error(capsys, main(["gateway", d, "--id", "gw.lab", "--not-before",
                                  "2030-01-01", "--not-after", "2029-01-01"]), "validity")
    _one_line_error(capsys, main(["gateway", d]), "--id")          # argparse, one line
    _one_line_error(capsys, main(["device", d, "--id", "d.lab", "--days", "x"]), "--days")
    assert main(["gateway", d, "--id", "gw.lab", "--ip", "192.0.2.1"]) == 0
    assert "gateway.pem" in capsys.readouterr().out
    _one_line_error(capsys, main(["swanctl", d]), "no devices")
    assert main(["device", d, "--id", "device1.lab", "--key", "rsa2048"]) == 0
    assert "key.pem" in capsys.readouterr().out
    _one_line_error(capsys, main(["swanctl", d, "--gateway-id", "other.lab"]),
                    "not for other.lab")
    _one_line_error(capsys, main(["swanctl", d, "--device-auth", "eap"]), "pubkey or psk")
    _one_line_error(capsys, main(["swanctl", d, "--device-auth", "psk"]), "--psk-file")
    short = tmp_path / "short.psk"
    short.write_text("tooshort\n")
    _one_line_error(capsys, main(["swanctl", d, "--device-auth", "psk", "--psk-file",
                                  str(short)]), "too short")
    assert main(["swanctl", d]) == 0
    assert "swanctl.conf" in capsys.readouterr().out
    _one_line_error(capsys, main(["swanctl", d]), "swanctl.conf exists")
    assert main(["swanctl", d, "--force"]) == 0
    assert main(["--help"]) == 0
    assert "ikev2-pki" in capsys.readouterr().out


def test_all_in_one(tmp_path, capsys):
    d = str(tmp_path / "pki")
    assert main(["all", d, "--gateway-id", "gw.lab", "--ip", "192.0.2.1", "--device",
                 "device1.lab", "--device", "device2.lab", "--pool", "labpool"]) == 0
    out = capsys.readouterr().out
    for f in ("ca.pem", "ca.key", "gateway.pem", "gateway.key", "swanctl.conf",
              "devices/device1.lab/key.pem", "devices/device2.lab/cert.pem"):
        assert os.path.join(d, f) in out
        assert os.path.exists(os.path.join(d, f))
    text = open(os.path.join(d, "swanctl.conf")).read()
    assert "device1-lab {" in text and "device2-lab {" in text
    assert "pools = labpool" in text
    # everything is checked before anything is replaced
    serial = _cert(os.path.join(d, "ca.pem")).serial_number
    _one_line_error(capsys, main(["all", d, "--gateway-id", "gw.lab", "--device", "x.lab"]),
                    "exists")
    assert not os.path.exists(os.path.join(d, "devices", "x.lab"))
    assert main(["all", d, "--gateway-id", "gw.lab", "--device", "x.lab", "--force"]) == 0
    assert _cert(os.path.join(d, "ca.pem")).serial_number != serial


def test_swanctl_pubkey(ca_dir):
    pki.make_gateway(ca_dir, "gw.lab", ip="192.0.2.1")
    pki.make_device(ca_dir, "device1.lab")
    path = pki.write_swanctl(ca_dir, remote_ts=["198.51.100.0/24", "10.1.0.0/16"])
    assert path == os.path.join(ca_dir, "swanctl.conf") and _mode(path) == 0o600
    text = open(path).read()
    a = os.path.abspath(ca_dir)
    body = [ln.strip() for ln in text.splitlines() if not ln.startswith("#")]
    conn = body[body.index("device1-lab {"):]
    for want in ("send_cert = always", "auth = pubkey", "id = gw.lab",
                 "certs = %s/gateway.pem" % a, "id = device1.lab",
                 "cacerts = %s/ca.pem" % a,
                 "local_ts = 198.51.100.0/24,10.1.0.0/16"):
        assert want in conn, want
    assert "auth = psk" not in body and "secrets {" not in body
    assert all(" = " in ln or ln.endswith("{") or ln == "}" for ln in body if ln)
    head = [ln for ln in text.splitlines() if ln.startswith("#")]
    assert any("swanctl --load-all" in ln for ln in head)
    assert any("/etc/swanctl/private/" in ln and "gateway.key" in ln for ln in head)


def test_swanctl_psk(tmp_path, ca_dir):
    pki.make_gateway(ca_dir, "gw.lab")
    pki.make_device(ca_dir, "device1.lab")
    f = tmp_path / "psk"
    f.write_text(PSK + "\n")
    path = pki.write_swanctl(ca_dir, device_auth="psk", psk_file=str(f))
    body = [ln.strip() for ln in open(path) if not ln.startswith("#")]
    i = body.index("remote {")
    assert body[i + 1:i + 3] == ["auth = psk", "id = device1.lab"]
    assert "cacerts" not in " ".join(body)
    assert "send_certreq = no" in body
    s = body.index("secrets {")
    assert body[s + 1] == "ike-device1-lab {"
    assert "secret = 0x" + PSK.encode().hex() in body[s:]
    assert "id-device = device1.lab" in body[s:] and "id-gateway = gw.lab" in body[s:]


def test_console_script():
    exe = os.path.join(os.path.dirname(sys.executable), "ikev2-pki")
    if not os.path.exists(exe):
        pytest.skip("ikev2-pki is not installed in this venv (tools/bootstrap.sh)")
    p = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "swanctl" in p.stdout


# -------------------------------------------------------------- the lab

@pytest.fixture
def lab_clean():
    """Needs the lab; afterwards no namespace or process of the labs the test
    made is left."""
    need_lab()
    labs = []
    yield labs
    for lab in labs:
        lab.down()
        assert not labmod.list_namespaces(lab.name + "-"), "namespaces left"
        for proc in lab._procs.values():
            assert proc.poll() is not None


def _pki(tmp_path, kind, gw_kw=None, device_auth="pubkey"):
    d = str(tmp_path / "pki")
    pki.make_ca(d, key=kind)
    pki.make_gateway(d, "gw.lab", ip=labmod.Lab.gateway_ip, key=kind, **(gw_kw or {}))
    dev = pki.make_device(d, "device1.lab", key=kind)
    psk_file = None
    if device_auth == "psk":
        psk_file = str(tmp_path / "psk")
        with open(psk_file, "w") as f:
            f.write(PSK)
    conf = pki.write_swanctl(d, "gw.lab", device_auth=device_auth, psk_file=psk_file)
    return d, dev, conf


def _cert_conf(dev):
    # the initiator's connection "lab" with the device's certificate
    return {"send_cert": "always",
            "local": {"auth": "pubkey", "certs": dev["cert"], "id": "device1.lab"},
            "remote": {"auth": "pubkey", "id": "gw.lab", "cacerts": dev["ca"]}}


def _lab(labs, d, conf, **kw):
    lab = labmod.Lab(includes=[conf], creds={"private": [os.path.join(d, "gateway.key")]},
                     verbose=False, keep_state=False, **kw)
    labs.append(lab)
    return lab.up()


@pytest.mark.parametrize("kind,method", [("ecdsa", "ECDSA_WITH_SHA256_DER"),
                                         ("rsa2048", "RSA_EMSA_PKCS1_SHA2_256")])
def test_lab_certificate_auth(tmp_path, lab_clean, kind, method):
    t0 = time.monotonic()
    d, dev, conf = _pki(tmp_path, kind)
    lab = _lab(lab_clean, d, conf)
    # the lab's own PSK connection and the included certificate one
    assert lab.conns() == ["lab", "device1-lab"]
    lab.start_initiator(conf=_cert_conf(dev), creds={"private": [dev["key"]]})
    lab.initiate()
    (ini,) = lab.sas("initiator")
    assert ini["state"] == "ESTABLISHED"
    assert ini["local-id"] == "device1.lab" and ini["remote-id"] == "gw.lab"
    assert ini["children"][0]["state"] == "INSTALLED"
    (gw,) = lab.sas()
    assert gw["name"] == "device1-lab" and gw["state"] == "ESTABLISHED"
    assert gw["local-id"] == "gw.lab" and gw["remote-id"] == "device1.lab"
    assert (ini["spi_i"], ini["spi_r"]) == (gw["spi_i"], gw["spi_r"])
    glog, ilog = lab.charon_log(), lab.charon_log("initiator")
    assert "authentication of 'device1.lab' with %s successful" % method in glog
    assert "authentication of 'gw.lab' with %s successful" % method in ilog
    assert 'received end entity cert "CN=gw.lab"' in ilog
    assert 'reached self-signed root ca' in glog and 'reached self-signed root ca' in ilog
    lab.down()
    assert time.monotonic() - t0 < 10


def test_lab_psk_and_certificate_connections_side_by_side(tmp_path, lab_clean):
    # one initiator, two connections: the lab's PSK one and the certificate
    # one (the whole swanctl.conf as text); the gateway serves both
    d, dev, conf = _pki(tmp_path, "ecdsa")
    lab = _lab(lab_clean, d, conf)
    base = {"version": 2, "proposals": lab.ike, "local_addrs": lab.device_ip,
            "remote_addrs": lab.gateway_ip, "send_certreq": False}
    psk = dict(base, local={"auth": "psk", "id": lab.device_id},
               remote={"auth": "psk", "id": lab.gateway_id},
               children={"lab": {"remote_ts": lab.local_ts, "start_action": "none"}})
    cert = dict(base, **_cert_conf(dev),
                children={"cert": {"remote_ts": lab.local_ts, "start_action": "none"}})
    text = "\n".join(labmod._conf_lines({"connections": {"lab": psk, "cert": cert},
                                         "secrets": lab._secrets()}))
    lab.start_initiator(conf=text, creds={"private": [dev["key"]]})
    assert lab.conns("initiator") == ["lab", "cert"]
    lab.initiate("lab")
    lab.initiate("cert")
    got = {s["name"]: (s["state"], s["remote-id"]) for s in lab.sas()}
    assert got == {"lab": ("ESTABLISHED", lab.device_id),
                   "device1-lab": ("ESTABLISHED", "device1.lab")}
    assert {s["remote-id"] for s in lab.sas("initiator")} == {"gw.lab"}


def test_lab_device_psk_gateway_certificate(tmp_path, lab_clean):
    d, dev, conf = _pki(tmp_path, "ecdsa", device_auth="psk")
    lab = _lab(lab_clean, d, conf)
    conn = {"version": 2, "proposals": lab.ike, "local_addrs": lab.device_ip,
            "remote_addrs": lab.gateway_ip,
            "local": {"auth": "psk", "id": "device1.lab"},
            "remote": {"auth": "pubkey", "id": "gw.lab", "cacerts": dev["ca"]},
            "children": {"lab": {"remote_ts": lab.local_ts, "start_action": "none"}}}
    secrets = {"ike-dev": {"id-dev": "device1.lab", "id-gw": "gw.lab",
                           "secret": "0x" + PSK.encode().hex()}}
    text = "\n".join(labmod._conf_lines({"connections": {"lab": conn},
                                         "secrets": secrets}))
    lab.start_initiator(conf=text)
    lab.initiate()
    (gw,) = lab.sas()
    assert gw["name"] == "device1-lab" and gw["remote-id"] == "device1.lab"
    (ini,) = lab.sas("initiator")
    assert ini["remote-id"] == "gw.lab"
    assert "authentication of 'device1.lab' with pre-shared key successful" in lab.charon_log()
    assert "authentication of 'gw.lab' with ECDSA_WITH_SHA256_DER successful" in \
        lab.charon_log("initiator")


def test_lab_expired_gateway_certificate_is_refused(tmp_path, lab_clean):
    d, dev, conf = _pki(tmp_path, "ecdsa", gw_kw={"not_before": "2020-01-01",
                                                  "not_after": "2021-01-01"})
    lab = _lab(lab_clean, d, conf)
    lab.start_initiator(conf=_cert_conf(dev), creds={"private": [dev["key"]]})
    with pytest.raises(labmod.LabError, match="initiate failed"):
        lab.initiate(timeout=5)
    assert not [s for s in lab.sas("initiator") if s["state"] == "ESTABLISHED"]
    log = lab.charon_log("initiator")
    assert ("subject certificate invalid (valid from Jan 01 00:00:00 2020 to "
            "Jan 01 00:00:00 2021)") in log, log[-2000:]


def test_lab_device_from_another_ca_is_refused(tmp_path, lab_clean):
    d, _, conf = _pki(tmp_path, "ecdsa")
    other = str(tmp_path / "other")
    pki.make_ca(other, cn="Rogue CA")
    dev = pki.make_device(d, "device1.lab", ca_dir=other, force=True)
    lab = _lab(lab_clean, d, conf)
    lab.start_initiator(conf=_cert_conf(dev), creds={"private": [dev["key"]]})
    with pytest.raises(labmod.LabError, match="AUTHENTICATION_FAILED"):
        lab.initiate(timeout=5)
    assert lab.sas() == [] or all(s["state"] != "ESTABLISHED" for s in lab.sas())
    assert "no trusted ECDSA public key found for 'device1.lab'" in lab.charon_log()


def test_lab_charon_opts_rsa_pss_and_fragments(tmp_path, lab_clean):
    # charon_opts reach the gateway's charon section: RSA-PSS signatures
    # (RFC 7427) and IKE fragmentation (RFC 7383) of its IKE_AUTH response
    d, dev, conf = _pki(tmp_path, "rsa3072")
    lab = _lab(lab_clean, d, conf, charon_opts={"fragment_size": 576, "rsa_pss": True})
    with open(os.path.join(lab.gw_dir, "strongswan.conf")) as f:
        sconf = f.read()
    assert "fragment_size = 576" in sconf and "rsa_pss = yes" in sconf
    assert "socket = unix://" in sconf      # the rest is kept
    lab.start_initiator(conf=_cert_conf(dev), creds={"private": [dev["key"]]})
    lab.initiate()
    assert lab.sas()[0]["state"] == "ESTABLISHED"
    glog = lab.charon_log()
    assert "authentication of 'gw.lab' (myself) with RSA_EMSA_PSS" in glog
    assert "generating IKE_AUTH response 1 [ EF(" in glog
    assert "splitting IKE message" in glog
