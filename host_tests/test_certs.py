# Certificate authentication (RFC 7296 2.15, RFC 7427) and IKE
# fragmentation (RFC 7383): our client, through the real `ikev2c` CLI on
# both runtimes, against a real strongSwan gateway whose PKI and swanctl.conf
# come from ikev2-pki (tools/pki.py).  Needs root and strongSwan; skips
# with the reason otherwise (a skip fails under CI, see run.py).
import os
import re
import time

import pytest

from labutil import need_lab, device_config, ikev2c, labmod
from tools import pki

POOL = "10.99.0.0/24"
PSK = "a-device-psk-of-decent-length-0123456789"
# pure-Python RSA and X.509 on MicroPython: the handshake's peak is higher
# than a PSK one's (bench: `make bench`, "Certificate authentication")
HEAP = ["--heap", "192k"]


@pytest.fixture(autouse=True)
def _need_lab():
    need_lab()


def _pki(tmp_path, key="ecdsa", device_auth="pubkey", gw=None, dev_key=None):
    d = str(tmp_path / "pki")
    pki.make_ca(d, key=key)
    gw = dict(gw or {})
    gw.setdefault("id", "gw.lab")
    # a gateway that claims an identity its certificate does not carry
    claim = gw.pop("swanctl_id", None)
    pki.make_gateway(d, key=key, **gw)
    dev = pki.make_device(d, "device1.lab", key=dev_key or key)
    psk_file = None
    if device_auth == "psk":
        psk_file = str(tmp_path / "psk")
        with open(psk_file, "w") as f:
            f.write(PSK)
    conf = pki.write_swanctl(d, gw["id"], pool="labpool",
                             device_auth=device_auth, psk_file=psk_file,
                             remote_ts=["198.51.100.0/24"])
    if claim:  # (ikev2-pki refuses to write that, rightly)
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace("id = %s\n" % gw["id"], "id = %s\n" % claim))
    return d, dev, conf


def _lab(d, conf, **kw):
    return labmod.Lab(pool=POOL, includes=[conf], verbose=False,
                      creds={"private": [os.path.join(d, "gateway.key")]}, **kw)


def _cfg(lab, dev, **kw):
    cfg = device_config(lab, local_id="device1.lab", remote_id="gw.lab",
                        cert=dev["cert"], private_key=dev["key"], ca_cert=dev["ca"])
    del cfg["psk"]
    cfg.update(kw)
    return cfg


def _no_sas(lab, wait=3.0):
    end = time.time() + wait
    while time.time() < end:
        if not lab.sas():
            return True
        time.sleep(0.2)
    return False


def _one_error(err):
    lines = [ln for ln in err.splitlines() if "error" in ln]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


RUNTIMES = ["cpython", "micropython"]


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("key,method", [("ecdsa", "ECDSA_WITH_SHA256_DER"),
                                        ("rsa2048", "RSA_EMSA_PKCS1_SHA2_256")])
def test_certificates_both_ways(tmp_path, runtime, key, method):
    # RFC 7427 signatures (auth method 14) in both directions, CERTREQ
    d, dev, conf = _pki(tmp_path, key)
    with _lab(d, conf) as lab:
        rc, out, err = ikev2c(lab, _cfg(lab, dev), runtime, *HEAP, "ping",
                              lab.cloud_ip, "-c", "2")
        assert rc == 0, err
        assert out[-1]["received"] == 2, out
        glog = lab.charon_log()
        assert "authentication of 'device1.lab' with %s successful" % method in glog
        assert "authentication of 'gw.lab' (myself) with %s" % method in glog
        assert "CERTREQ" in glog  # we asked for the gateway's certificate
        assert _no_sas(lab)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_gateway_signs_with_rsa_pss(tmp_path, runtime):
    # strongSwan's rsa_pss = yes: its RFC 7427 AUTH is RSASSA-PSS (SHA-256,
    # MGF1, salt 32), which the device verifies
    d, dev, conf = _pki(tmp_path, "rsa2048")
    with _lab(d, conf, charon_opts={"rsa_pss": True}) as lab:
        rc, out, err = ikev2c(lab, _cfg(lab, dev), runtime, *HEAP, "up")
        assert rc == 0, err
        assert out[-1]["auth"]["peer_cert"] == "CN=gw.lab"
        glog = lab.charon_log()
        assert "authentication of 'gw.lab' (myself) with RSA_EMSA_PSS_SHA2_256" in glog, \
            glog[-3000:]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_up_reports_the_certificates(tmp_path, runtime):
    d, dev, conf = _pki(tmp_path, "ecdsa")
    with _lab(d, conf) as lab:
        rc, out, err = ikev2c(lab, _cfg(lab, dev), runtime, *HEAP, "up")
        assert rc == 0, err
        info = out[-1]
        assert info["auth"] == {"method": 14, "peer_cert": "CN=gw.lab",
                                "dates_checked": True}
        assert info["virtual_ip"].startswith("10.99.0.")


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("key,ours,theirs", [("ecdsa", "ECDSA-256", "ECDSA-256"),
                                             ("rsa2048", "RSA", "RSA")])
def test_classic_signature_methods(tmp_path, runtime, key, ours, theirs):
    # methods 1 (RSA) and 9 (ECDSA P-256): ours with local_auth classic,
    # the gateway's with RFC 7427 turned off on its side
    d, dev, conf = _pki(tmp_path, key)
    with _lab(d, conf, charon_opts={"signature_authentication": False}) as lab:
        rc, out, err = ikev2c(lab, _cfg(lab, dev, local_auth="classic"), runtime,
                              *HEAP, "up")
        assert rc == 0, err
        assert out[-1]["auth"]["method"] == (9 if key == "ecdsa" else 1)
        glog = lab.charon_log()
        assert "authentication of 'device1.lab' with %s" % (
            "ECDSA-256 signature" if key == "ecdsa" else "RSA signature") in glog, \
            glog[-3000:]
        assert "IKE_AUTH response 1 [ IDr CERT AUTH" in glog


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_psk_device_certificate_gateway(tmp_path, runtime):
    d, dev, conf = _pki(tmp_path, "ecdsa", device_auth="psk")
    with _lab(d, conf) as lab:
        cfg = _cfg(lab, dev, psk=PSK)
        del cfg["cert"], cfg["private_key"]
        rc, out, err = ikev2c(lab, cfg, runtime, *HEAP, "up")
        assert rc == 0, err
        assert out[-1]["auth"]["method"] == 2
        assert out[-1]["auth"]["peer_cert"] == "CN=gw.lab"
        glog = lab.charon_log()
        assert "authentication of 'device1.lab' with pre-shared key successful" in glog
        assert "authentication of 'gw.lab' (myself) with ECDSA_WITH_SHA256_DER" in glog


REFUSALS = [
    ("expired", {"not_before": "2020-01-01", "not_after": "2021-01-01"},
     "expired on 2021-01-01"),
    ("wrong-ca", None, "not issued by a trusted CA"),
    ("wrong-name", {"id": "other.lab", "swanctl_id": "gw.lab"},
     "is not for its identity gw.lab"),
]


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("case,gw,words", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_bad_gateway_certificate_is_refused(tmp_path, runtime, case, gw, words):
    d, dev, conf = _pki(tmp_path, "ecdsa", gw=gw)
    cfg = None
    if case == "wrong-ca":  # the device trusts another CA only
        other = str(tmp_path / "other")
        pki.make_ca(other, cn="Other CA")
        dev = dict(dev, ca=os.path.join(other, "ca.pem"))
    with _lab(d, conf) as lab:
        cfg = _cfg(lab, dev)
        rc, out, err = ikev2c(lab, cfg, runtime, *HEAP, "ping", lab.cloud_ip)
        assert rc == 1, err
        line = _one_error(err)
        assert words in line, line
        # our Delete removed the IKE SA the gateway had made for us
        assert _no_sas(lab), lab.sas()
        assert "received DELETE for IKE_SA" in lab.charon_log()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_fragmentation_both_ways(tmp_path, runtime):
    # RSA-3072 certificates make IKE_AUTH messages of ~2.5 KB; with 576
    # as the fragment size on both sides, both are fragmented (RFC 7383)
    d, dev, conf = _pki(tmp_path, "rsa3072")
    with _lab(d, conf, charon_opts={"fragment_size": 576},
              log_level={"default": 1, "enc": 2, "net": 2}) as lab:
        rc, out, err = ikev2c(lab, _cfg(lab, dev, fragment_size=576), runtime,
                              *HEAP, "up")
        assert rc == 0, err
        sent, got = out[-1]["fragments"]
        assert sent >= 4 and got >= 4, out[-1]
        glog = lab.charon_log()
        # (charon's threads may take the fragments in another order: the
        # one that completes the message is not always the last one)
        assert re.search(r"received fragment #\d+ of %d, reassembled "
                         r"fragmented IKE message" % sent, glog), glog[-3000:]
        assert "splitting IKE message" in glog and "into %d fragments" % got in glog
