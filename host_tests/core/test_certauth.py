# certauth.py, the certificate side of IKE_AUTH, without a gateway: our
# signature made and checked by the same code the gateway's goes through
# (the round trip), the method chosen (RFC 7427 or classic), every refusal
# with its message, the validity-date policy with a clock that is unset,
# and the configuration errors.  Runs on every backend; the real thing
# against strongSwan is host_tests/test_certs.py.
from harness import per_backend, raises, _HERE
from ikev2 import const as C
from ikev2 import certauth
from ikev2.config import Config
from ikev2.errors import ConfigError, CertificateError, AuthenticationFailed
from ikev2.message import Message
from ikev2.payloads import IDr, Auth
from ikev2.rare import Cert

X = _HERE + "/../vectors/x509/"
DATA = b"RealMessage2 | Ni | prf(SK_pr, IDr')" * 3
Y2050 = 2524608000  # 2050-01-01


def _cfg(kind="ec", **kw):
    # dev_ec (SAN dev1.lab, EC root) or dev_rsa (SAN dev2@lab.example, RSA
    # root): the test signs as that device and checks as its peer
    ident = "dev1.lab" if kind == "ec" else "dev2@lab.example"
    d = {"gateway": "192.0.2.1", "local_id": ident, "remote_id": ident,
         "cert": X + "dev_%s.pem" % kind,
         "private_key": X + ("dev_ec.sec1.pem" if kind == "ec" else "dev_rsa.pkcs1.pem"),
         "ca_cert": X + ("ec_root.pem" if kind == "ec" else "rsa_root.pem")}
    d.update(kw)
    return Config(d)


class _S:
    # the little of a Session that certauth uses
    def __init__(self, backend, cfg, hashes=(2,), wall=None):
        self.c = backend
        self.cfg = cfg
        self.peer_hashes = b""
        for i in hashes:  # SIGNATURE_HASH_ALGORITHMS data
            self.peer_hashes += bytes((0, i))
        self.wall = wall
        self.auth = {}


def _round_trip(s, data=DATA, verify_data=DATA, idr=None, certs=None):
    method, auth = certauth.sign(s, data)
    msg = Message(C.IKE_AUTH, bytes(8), bytes(8), 1, C.FLAG_RESPONSE, [])
    for d in (s.cfg.cert_ders if certs is None else certs):
        msg.payloads.append(Cert(C.CERT_X509_SIG, d))
    if idr is None:
        idr = IDr(s.cfg.idr[0], s.cfg.idr[1])
    certauth.verify(s, msg, idr, Auth(method, auth), verify_data)
    return method


def _now():
    return 1798761600  # 2027-01-01


@per_backend
def test_signature_round_trip_and_methods(backend):
    for kind, classic in (("ec", C.AUTH_ECDSA_256), ("rsa", C.AUTH_RSA_SIG)):
        cfg = _cfg(kind)
        s = _S(backend, cfg, wall=_now)
        # the gateway announced SHA2-256: RFC 7427
        assert _round_trip(s) == C.AUTH_DIGITAL_SIGNATURE
        assert s.auth["peer_cert"] == ("CN=dev1, O=Lab, emailAddress=dev1@lab.example"
                                       if kind == "ec" else "CN=dev2, O=Lab")
        assert s.auth["dates_checked"] is True
        # it did not: the classic method of the key
        assert _round_trip(_S(backend, cfg, hashes=(), wall=_now)) == classic
        # local_auth classic: classic even when 7427 is possible
        s = _S(backend, _cfg(kind, local_auth="classic"), wall=_now)
        assert _round_trip(s) == classic
        # a signature over other octets does not verify
        e = raises(AuthenticationFailed, _round_trip, _S(backend, cfg, wall=_now),
                   DATA, DATA + b"x")
        assert "does not verify with the key of its certificate" in str(e)


@per_backend
def test_certificate_refusals(backend):
    cfg = _cfg()
    s = _S(backend, cfg, wall=_now)
    e = raises(CertificateError, _round_trip, s, idr=IDr(C.ID_FQDN, b"gw.lab"))
    assert "is not for its identity dev1.lab (subjectAltName dev1.lab, " in str(e)
    e = raises(AuthenticationFailed, _round_trip, s, certs=[])
    assert "sent no certificate" in str(e)
    # a CA the device does not trust
    s = _S(backend, _cfg(ca_cert=X + "rsa_root.pem"), wall=_now)
    e = raises(CertificateError, _round_trip, s)
    assert "not issued by a trusted CA" in str(e)
    # the gateway signs with a method its certificate's key cannot make
    msg = Message(C.IKE_AUTH, bytes(8), bytes(8), 1, C.FLAG_RESPONSE,
                  [Cert(C.CERT_X509_SIG, cfg.cert_ders[0])])
    s = _S(backend, cfg, wall=_now)
    e = raises(AuthenticationFailed, certauth.verify, s, msg, IDr(C.ID_FQDN, b"dev1.lab"),
               Auth(C.AUTH_RSA_SIG, bytes(256)), DATA)
    assert "signs with rsa but its certificate holds an ecdsa key" in str(e)
    e = raises(AuthenticationFailed, certauth.verify, s, msg, IDr(C.ID_FQDN, b"dev1.lab"),
               Auth(C.AUTH_SHARED_KEY, bytes(32)), DATA)
    assert "method 2, not with a certificate" in str(e)


@per_backend
def test_validity_policy(backend):
    # auto: checked when the clock is set; skipped (and said) when it is not
    s = _S(backend, _cfg(), wall=lambda: None)
    _round_trip(s)
    assert s.auth["dates_checked"] is False
    e = raises(CertificateError, _round_trip, _S(backend, _cfg(), wall=lambda: Y2050))
    assert "expired on 2045-01-01 (device time 2050-01-01)" in str(e)
    # always: an unset clock refuses
    s = _S(backend, _cfg(validity_check="always"), wall=lambda: None)
    e = raises(CertificateError, _round_trip, s)
    assert "the device clock is not set" in str(e)
    # never: the dates are not looked at
    s = _S(backend, _cfg(validity_check="never"), wall=lambda: Y2050)
    _round_trip(s)
    assert "dates_checked" not in s.auth
    # the gateway announced SHA2-384 only: classic (we sign with SHA-256)
    assert _round_trip(_S(backend, _cfg(), hashes=(3,), wall=_now)) == C.AUTH_ECDSA_256


def test_device_time_is_unset_before_2025():
    t = certauth.device_time()
    assert t is None or t >= certauth.CLOCK_SET_AFTER


def test_configuration_errors():
    e = raises(ConfigError, _cfg, private_key="")
    assert "private_key: required with local_auth 'pubkey'" in str(e)
    e = raises(ConfigError, _cfg, private_key=X + "dev_rsa.pkcs1.pem")
    assert "private_key: it does not belong to the certificate CN=dev1" in str(e)
    e = raises(ConfigError, _cfg, local_id="other.lab")
    assert "local_id: 'other.lab' is not in the certificate" in str(e)
    e = raises(ConfigError, _cfg, remote_id="")
    assert "remote_id: required with remote_auth pubkey" in str(e)
    e = raises(ConfigError, _cfg, cert=X + "no-such.pem")
    assert "cert: cannot read" in str(e)
    e = raises(ConfigError, _cfg, ca_cert=X + "dev_ec.sec1.pem")
    assert str(e).startswith("ca_cert: ")
    e = raises(ConfigError, _cfg, validity_check="sometimes")
    assert "validity_check: 'sometimes' is not one of auto always never" in str(e)
    e = raises(ConfigError, _cfg, local_auth="rsa")
    assert "local_auth: 'rsa' is not one of" in str(e)
    e = raises(ConfigError, _cfg, fragment_size=100)
    assert "fragment_size" in str(e)
    # PSK on our side, certificate on the gateway's: no psk is an error
    e = raises(ConfigError, _cfg, cert="", private_key="")
    assert "psk: empty pre-shared key (needed for our authentication)" in str(e)
    cfg = _cfg(cert="", private_key="", psk="x" * 20)
    assert (cfg.local_auth, cfg.remote_auth) == ("psk", "pubkey")
    # PEM text instead of a file name, and several CAs in a list
    with open(X + "ec_root.pem") as f:
        pem = f.read()
    cfg = _cfg(ca_cert=[pem, X + "rsa_root.pem"])
    assert len(cfg.ca_ders) == 2 and len(cfg.certreq) == 40
    assert "secret" not in repr(cfg.key) and str(cfg.key.d) not in repr(cfg.key)
