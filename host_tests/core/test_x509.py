# X.509 certificates, DER and private keys (lib/ikev2/der.py, x509.py)
# against fixtures made by host_tests/vectors/x509/make.py with the
# `cryptography` package, whose view of each certificate is recorded in
# vectors/x509/expected.json.
import hashlib

from harness import per_backend, vectors, h, raises, Rng
from ikev2 import der, x509
from ikev2.errors import CertificateError, CryptoError

_DIR = (__file__.rsplit("/", 1)[0] if "/" in __file__ else ".") + "/../vectors/x509/"
_EXP = vectors("x509/expected.json")
CERTS = _EXP["certs"]
KEYS = _EXP["keys"]
NOW = der.days_from_civil(2026, 11, 28) * 86400 + 12 * 3600  # the tests' "device time"
REFUSED_AT_PARSE = ("ec_critext", "p384_gw")
_cache = {}


def read(name):
    with open(_DIR + name, "rb") as f:
        return f.read()


def cert(label):
    if label not in _cache:
        certs = x509.load_certs(read(label + ".pem"))
        assert len(certs) == 1
        _cache[label] = certs[0]
    return _cache[label]


def msg(exc, f, *args):
    return str(raises(exc, f, *args))


def test_fields_match_cryptography():
    n = 0
    for label in sorted(CERTS):
        if label in REFUSED_AT_PARSE:
            continue
        e = CERTS[label]
        c = cert(label)
        assert c.serial == int(e["serial"], 16), label
        assert c.not_before == e["not_before"] and c.not_after == e["not_after"], label
        assert c.name() == e["subject"], (label, c.name())
        assert x509.dn_string(c.issuer) == e["issuer"], label
        assert c.subject == h(e["subject_der"]) and c.issuer == h(e["issuer_der"]), label
        assert hashlib.sha1(c.spki).digest() == h(e["spki_sha1"]), label
        assert hashlib.sha256(c.tbs).digest() == h(e["tbs_sha256"]), label
        assert c.signature == h(e["signature"]), label
        assert (c.sig_alg, c.sig_hash, c.pss_salt) == (e["sig_alg"], e["sig_hash"],
                                                        e["pss_salt"]), label
        assert c.key_type == e["key_type"] and c.key_bits == e["key_bits"], label
        if c.key_type == "rsa":
            assert c.public_key == (int(e["n"], 16), e["e"]), label
        else:
            assert c.public_key == h(e["x"] + e["y"]), label
        assert c.ca == e["ca"] and c.path_len == e["path_len"], label
        assert c.key_usage == e["key_usage"], label
        assert c.dns_names == e["dns_names"] and c.emails == e["emails"], label
        assert c.ip_addrs == [h(a) for a in e["ip_addrs"]], label
        n += 1
    assert n >= 30


def test_gateway_cert_values():
    # a few values spelled out, independently of expected.json
    c = cert("ec_gw")
    assert c.name() == "CN=gw.lab, O=Lab" and repr(c) == "<Certificate CN=gw.lab, O=Lab>"
    assert c.dns_names == ["gw.lab"] and c.ip_addrs == [bytes((192, 0, 2, 1))]
    assert c.not_before == 1735689600 and c.not_after == 2366841600  # 2025, 2045
    assert c.key_usage == x509.KU_DIGITAL_SIGNATURE and not c.ca
    root = cert("ec_root")
    assert root.not_after == der.days_from_civil(2055, 1, 1) * 86400  # GeneralizedTime
    assert root.ca and root.path_len is None
    assert root.key_usage == x509.KU_KEY_CERT_SIGN | x509.KU_CRL_SIGN
    assert cert("rsa_root").name() == "CN=RSA Root CA, O=Lab, C=CH, OU=VPN"
    assert cert("rsa_inter").path_len == 0 and cert("rsa_root").path_len == 1
    assert cert("rsa3072_gw").key_bits == 3072
    assert cert("ec_gw").der == read("ec_gw.der")


def test_load_certs_forms():
    b = read("bundle.pem")  # two roots, text around them, CRLF in the second
    certs = x509.load_certs(b)
    assert [c.name() for c in certs] == ["CN=EC Root CA, O=Lab",
                                         "CN=RSA Root CA, O=Lab, C=CH, OU=VPN"]
    assert x509.load_certs(b.decode())[1].der == cert("rsa_root").der
    d = x509.load_certs(read("ec_gw.der"))
    assert len(d) == 1 and d[0].der == cert("ec_gw").der
    assert x509.load_certs(bytearray(read("ec_gw.der")))[0].serial == cert("ec_gw").serial
    blocks = x509.pem_decode(read("dev_ec.sec1.pem") + read("ec_gw.pem"))
    assert [lbl for lbl, _ in blocks] == ["EC PRIVATE KEY", "CERTIFICATE"]
    assert blocks[1][1] == read("ec_gw.der")
    assert x509.pem_decode(b"no pem here") == []
    assert "no CERTIFICATE block" in msg(CertificateError, x509.load_certs,
                                         read("dev_ec.pkcs8.pem"))
    pem = read("ec_gw.pem")
    assert "no END line" in msg(CertificateError, x509.load_certs, pem[:-30])
    assert "bad base64 in block CERTIFICATE" in msg(
        CertificateError, x509.load_certs,
        b"-----BEGIN CERTIFICATE-----\nAAAAA\n-----END CERTIFICATE-----\n")
    assert "malformed certificate" in msg(CertificateError, x509.load_certs, b"")


def test_parse_refusals():
    m = msg(CertificateError, x509.load_certs, read("ec_critext.pem"))
    assert m == ("certificate CN=crit.lab, O=Lab has an unsupported critical"
                 " extension 1.3.6.1.4.1.55555.1"), m
    m = msg(CertificateError, x509.load_certs, read("p384_gw.pem"))
    assert m == ("certificate CN=p384.lab, O=Lab: EC curve 1.3.132.0.34 is not"
                 " supported (P-256 only)"), m
    # the same certificate as X.509 v1: drop the [0] version field
    c = cert("ec_gw")
    tbs = c.tbs
    r = der.Reader(tbs)
    t = r.sub()
    body = tbs[t.pos:]
    assert body[:5] == b"\xa0\x03\x02\x01\x02"
    tbs1 = der.encode(0x30, body[5:])
    outer = der.Reader(c.der).sub()
    outer.sub()  # tbsCertificate; the algorithm and signature follow
    v1 = der.encode(0x30, tbs1 + c.der[outer.pos:])
    m = msg(CertificateError, x509.Certificate, v1)
    assert m == "X.509 version 1 certificate is not supported (v3 required)", m


def test_dn_string():
    cn = der.encode(0x06, b"\x55\x04\x03")
    o = der.encode(0x06, b"\x55\x04\x0a")
    odd = der.encode(0x06, b"\x2b\x06\x01\x04\x01\x82\x37\x15\x14")  # 1.3.6.1.4.1.311.21.20

    def ava(oid, tag, v):
        return der.encode(0x30, oid + der.encode(tag, v))

    name = der.encode(0x30, der.encode(0x31, ava(cn, 0x0C, "Zürich".encode()))
                      + der.encode(0x31, ava(o, 0x13, b"A") + ava(odd, 0x1E, b"\x00h\x00i"))
                      + der.encode(0x31, ava(odd, 0x04, b"\x01\x02")))
    assert x509.dn_string(name) == ("CN=Zürich, O=A+1.3.6.1.4.1.311.21.20=hi,"
                                    " 1.3.6.1.4.1.311.21.20=#04020102")
    assert x509.dn_string(der.encode(0x30, b"")) == ""
    # control characters and undecodable bytes are shown as DER hex
    evil = der.encode(0x30, der.encode(0x31, ava(cn, 0x0C, b"gw\nx"))
                      + der.encode(0x31, ava(o, 0x0C, b"\xff"))
                      + der.encode(0x31, ava(o, 0x1E, b"\x00h\x00")))
    assert x509.dn_string(evil) == "CN=#0c0467770a78, O=#0c01ff, O=#1e03006800"
    assert "malformed name" in msg(CertificateError, x509.dn_string, name[:-1])


def test_der_reader():
    assert der.Reader(b"\x02\x01\x05").integer() == 5
    assert der.Reader(b"\x02\x02\x00\x80").integer() == 128
    for bad, text in ((b"\x02\x01\x80", "negative"), (b"\x02\x00", "empty"),
                      (b"\x30\x80\x00\x00", "indefinite"),
                      (b"\x30\x84\x00\x00\x00\x01\x00", "length field"),
                      (b"\x30\x82\x01", "truncated length"),
                      (b"\x30\x05\x02\x01", "exceeds"), (b"\x30", "truncated"),
                      (b"\x1f\x01\x00", "high tag"), (b"", "missing")):
        e = msg(CertificateError, der.Reader(bad, "test").integer
                if bad[:1] == b"\x02" else der.Reader(bad, "test").skip)
        assert e.startswith("malformed test: ") and text in e, (bad, e)
    assert "expected tag 0x30, found 0x02" in msg(CertificateError,
                                                  der.Reader(b"\x02\x01\x00").sub)
    r = der.Reader(b"\x30\x81\x03\x01\x01\xff\x05\x00")
    s = r.sub()
    assert s.boolean() is True and not s.more()
    r.null()
    r.done()
    assert der.Reader(b"\x06\x03\x55\x1d\x13").oid() == b"\x55\x1d\x13"
    assert der.oid_str(b"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b") == "1.2.840.113549.1.1.11"
    assert der.oid_str(b"\x88\x37\x01") == "2.999.1"
    assert der.Reader(b"\x03\x02\x05\xa0").bits() == (5, b"\xa0")
    assert "unused bits" in msg(CertificateError, der.Reader(b"\x03\x02\x05\xa0").bitstring)
    r = der.Reader(b"\x05\x00\x05\x00")
    r.null()
    assert msg(CertificateError, r.done) == "malformed DER: 2 unexpected bytes (offset 2)"
    assert der.encode_int(0) == b"\x02\x01\x00"
    assert der.encode_int(0x80) == b"\x02\x02\x00\x80"
    assert der.encode_int(0x7fff) == b"\x02\x02\x7f\xff"
    long = der.encode(0x04, bytes(300))
    assert long[:4] == b"\x04\x82\x01\x2c" and der.Reader(long).octets() == bytes(300)


def test_times():
    assert der.days_from_civil(1970, 1, 1) == 0
    assert der.days_from_civil(2000, 3, 1) == 11017
    assert der.days_from_civil(1969, 12, 31) == -1
    for days in (-800000, -1, 0, 59, 11016, 11017, 20000, 2932896):
        y, m, d = der.civil_from_days(days)
        assert der.days_from_civil(y, m, d) == days
    assert der.format_time(1614556800) == "2021-03-01"
    assert der.format_time(1614556800 + 3723, True) == "2021-03-01 01:02:03"
    assert der.parse_time(b"490101000000Z", True) == der.days_from_civil(2049, 1, 1) * 86400
    assert der.parse_time(b"500101000000Z", True) == der.days_from_civil(1950, 1, 1) * 86400
    assert der.parse_time(b"20550101000000Z", False) == 2682374400
    assert der.parse_time(b"240229235959Z", True) == 1709251199
    for bad in (b"230229000000Z", b"21000229000000Z", b"240231000000Z", b"241301000000Z",
                b"240101240000Z", b"2401010000Z", b"240101000000+0100", b"24010100000aZ",
                b"240100000000Z", b"2401010000000"):
        assert der.parse_time(bad, len(bad) == 13) is None, bad
    assert "bad time" in msg(CertificateError, der.Reader(b"\x17\x0d230229000000Z").time)
    assert "expected a UTCTime" in msg(CertificateError, der.Reader(b"\x05\x00").time)


def chain(c, leaf, inter, anchors, now=NOW):
    return x509.verify_chain(c, cert(leaf), [cert(i) for i in inter],
                             [cert(a) for a in anchors], now)


@per_backend
def test_chain_ok(backend):
    c = backend
    assert chain(c, "ec_gw", [], ["ec_root"]) == [cert("ec_gw"), cert("ec_root")]
    assert chain(c, "ec_gw", [], ["rsa_root", "other_root", "ec_root"], None)[-1] is cert("ec_root")
    p = chain(c, "ec_gw_inter", ["rsa_inter", "ec_inter"], ["rsa_root", "ec_root"])
    assert p == [cert("ec_gw_inter"), cert("ec_inter"), cert("ec_root")]
    assert chain(c, "rsa_gw", [], ["ec_root", "rsa_root"]) == [cert("rsa_gw"), cert("rsa_root")]
    p = chain(c, "rsa3072_gw", ["ec_inter", "rsa_inter"], ["rsa_root"])
    assert p == [cert("rsa3072_gw"), cert("rsa_inter"), cert("rsa_root")]
    assert len(chain(c, "rsa_gw_inter", ["rsa_inter"], ["rsa_root"])) == 3
    assert len(chain(c, "rsa_pss_gw", [], ["rsa_root"])) == 2
    # an intermediate may be the anchor itself
    assert chain(c, "ec_gw_inter", [], ["ec_inter"]) == [cert("ec_gw_inter"), cert("ec_inter")]
    # three intermediates in any order: the maximum depth of 4 CAs
    p = chain(c, "ec_gw_d3", ["ec_d2", "ec_d3", "ec_d1"], ["ec_root"])
    assert [x.name() for x in p] == ["CN=d3.lab, O=Lab", "CN=Depth 3 CA, O=Lab",
                                     "CN=Depth 2 CA, O=Lab", "CN=Depth 1 CA, O=Lab",
                                     "CN=EC Root CA, O=Lab"]
    assert len(chain(c, "dev_ec", [], ["ec_root"])) == 2
    assert len(chain(c, "dev_rsa", [], ["rsa_root"])) == 2
    # a pinned certificate: the leaf is itself an anchor
    assert chain(c, "ec_root", [], ["ec_root"]) == [cert("ec_root")]
    # validity periods are skipped with now=None
    assert len(chain(c, "ec_expired", [], ["ec_root"], None)) == 2
    assert len(chain(c, "ec_notyet", [], ["ec_root"], None)) == 2
    # a forged root with the real one's name, offered as an intermediate
    assert len(chain(c, "ec_gw", ["fake_root"], ["ec_root"])) == 2
    x509.verify_signature(c, cert("ec_root"), cert("ec_root"))


@per_backend
def test_chain_time(backend):
    c = backend
    m = msg(CertificateError, chain, c, "ec_expired", [], ["ec_root"])
    assert m == ("certificate CN=old.lab, O=Lab expired on 2021-03-01"
                 " (device time 2026-11-28)"), m
    m = msg(CertificateError, chain, c, "rsa_expired", [], ["rsa_root"])
    assert "expired on 2021-03-01" in m
    m = msg(CertificateError, chain, c, "ec_notyet", [], ["ec_root"])
    assert m == ("certificate CN=new.lab, O=Lab is not valid before 2040-01-01"
                 " (device time 2026-11-28)"), m
    # an intermediate, then an anchor, that expired before their leaf
    m = msg(CertificateError, chain, c, "ec_gw_short", ["ec_short_ca"], ["ec_root"])
    assert m == ("certificate CN=Short CA, O=Lab expired on 2026-01-01"
                 " (device time 2026-11-28)"), m
    m2 = msg(CertificateError, chain, c, "ec_gw_short", [], ["ec_short_ca"])
    assert m2 == m
    assert len(chain(c, "ec_gw_short", ["ec_short_ca"], ["ec_root"], 1767225600 - 1)) == 3
    # the boundaries are inclusive; the same day shows the time of day
    e = CERTS["ec_gw"]
    assert len(chain(c, "ec_gw", [], ["ec_root"], e["not_after"])) == 2
    assert len(chain(c, "ec_gw", [], ["ec_root"], e["not_before"])) == 2
    m = msg(CertificateError, chain, c, "ec_gw", [], ["ec_root"], e["not_after"] + 1)
    assert m.endswith("expired on 2045-01-01 00:00:00 (device time 2045-01-01 00:00:01)"), m
    # a device whose clock was never set
    m = msg(CertificateError, chain, c, "ec_gw", [], ["ec_root"], 0)
    assert m == ("certificate CN=gw.lab, O=Lab is not valid before 2025-01-01"
                 " (device time 1970-01-01); is the device clock set?"), m


@per_backend
def test_chain_refusals(backend):
    c = backend
    m = msg(CertificateError, chain, c, "other_gw", [], ["ec_root", "rsa_root"])
    assert m == ("certificate CN=gw.lab, O=Lab is not issued by a trusted CA"
                 " (issuer CN=Other CA, O=Lab)"), m
    m = msg(CertificateError, chain, c, "ec_gw_inter", [], ["ec_root"])
    assert m == ("certificate CN=gw2.lab, O=Lab is not issued by a trusted CA"
                 " (issuer CN=EC Intermediate CA, O=Lab)"), m
    m = msg(CertificateError, chain, c, "ec_gw", [], [])
    assert "not issued by a trusted CA" in m
    sig_fail = ("signature of certificate CN=gw.lab, O=Lab does not verify with the"
                " key of CN=EC Root CA, O=Lab")
    assert msg(CertificateError, chain, c, "fake_gw", [], ["ec_root"]) == sig_fail
    assert msg(CertificateError, chain, c, "fake_gw", ["fake_root"], ["ec_root"]) == sig_fail
    m = msg(CertificateError, chain, c, "ec_gw_notca", ["ec_notca"], ["ec_root"])
    assert m == ("certificate CN=Not A CA, O=Lab is not a CA (no basicConstraints cA)"
                 " and cannot issue CN=gw4.lab, O=Lab"), m
    assert msg(CertificateError, chain, c, "ec_gw_notca", [], ["ec_notca"]) == m
    m = msg(CertificateError, chain, c, "ec_gw_noku", ["ec_noku"], ["ec_root"])
    assert m == ("CA certificate CN=No KeyCertSign CA, O=Lab has no keyCertSign key"
                 " usage and cannot issue CN=gw5.lab, O=Lab"), m
    m = msg(CertificateError, chain, c, "ec_gw_pathlen", ["ec_inter2", "ec_inter"], ["ec_root"])
    assert m == ("CA certificate CN=EC Intermediate CA, O=Lab allows 0 CA certificates"
                 " below it (pathLenConstraint), the path has 1"), m
    m = msg(CertificateError, chain, c, "ec_gw_d4", ["ec_d1", "ec_d4", "ec_d3", "ec_d2"],
            ["ec_root"])
    assert m == "certificate chain of CN=d4.lab, O=Lab is longer than 4 CA certificates", m
    # a leaf may be used as an issuer only if it is a CA
    m = msg(CertificateError, x509.verify_signature, c, cert("ec_gw"), cert("rsa_root"))
    assert m == ("certificate CN=gw.lab, O=Lab is not issued by CN=RSA Root CA, O=Lab,"
                 " C=CH, OU=VPN (its issuer is CN=EC Root CA, O=Lab)"), m
    # an ECDSA signature checked against an RSA key
    liar = x509.Certificate(cert("rsa_root").der)
    liar.subject = cert("ec_gw").issuer
    m = msg(CertificateError, x509.verify_signature, c, cert("ec_gw"), liar)
    assert "is signed with sha256-ecdsa but the key of" in m and m.endswith("is rsa"), m


def _tamper(label, old, new):
    d = cert(label).der
    assert d.count(old) == 1
    return x509.Certificate(d.replace(old, new))


@per_backend
def test_tampered_signatures(backend):
    c = backend
    for label, anchor in (("ec_gw", "ec_root"), ("rsa_gw", "rsa_root"),
                          ("rsa_pss_gw", "rsa_root"), ("rsa3072_gw", "rsa_inter")):
        name = CERTS[label]["dns_names"][0].encode()
        bad = _tamper(label, b"\x82" + bytes((len(name),)) + name,
                      b"\x82" + bytes((len(name),)) + name.upper())
        assert bad.dns_names[0] == name.upper().decode()
        m = msg(CertificateError, x509.verify_chain, c, bad, [], [cert(anchor)])
        assert m.startswith("signature of certificate CN=%s, O=Lab does not verify"
                            % name.decode()), m
        # the signature itself: its last byte
        d = cert(label).der
        bad = x509.Certificate(d[:-1] + bytes((d[-1] ^ 1,)))
        assert "does not verify" in msg(CertificateError, x509.verify_signature,
                                        c, bad, cert(anchor))


@per_backend
def test_sha384_signature(backend):
    c = backend
    try:
        c.hash("sha384", b"")
    except CryptoError:  # e.g. MicroPython's hashlib: a clear refusal
        m = msg(CertificateError, chain, c, "ec_gw_sha384", [], ["ec_root"])
        assert m.startswith("cannot verify the signature of certificate CN=gw384.lab,"
                            " O=Lab by CN=EC Root CA, O=Lab: ") and "384" in m, m
        return
    assert len(chain(c, "ec_gw_sha384", [], ["ec_root"])) == 2


def test_matches_id():
    gw = cert("ec_gw")
    for t, d, want in ((2, b"gw.lab", True), (2, b"GW.Lab", True), (2, b"gw.lab.", False),
                       (2, b"x.gw.lab", False), (2, b"lab", False), (2, b"", False),
                       (1, bytes((192, 0, 2, 1)), True), (1, bytes((192, 0, 2, 2)), False),
                       (1, b"gw.lab", False), (5, bytes((192, 0, 2, 1)), False),
                       (9, gw.subject, True), (9, gw.issuer, False), (9, b"", False),
                       (3, b"gw.lab", False), (11, b"gw.lab", False), (10, gw.subject, False)):
        assert gw.matches_id(t, d) is want, (t, d)
    assert gw.matches_id(2, bytearray(b"gw.lab"))
    v6 = h("20010db8000000000000000000000001")
    assert cert("ec_gw_inter").matches_id(5, v6)
    assert not cert("ec_gw_inter").matches_id(1, v6[:4])
    dev = cert("dev_ec")  # SAN email dev1@Lab.Example
    assert dev.matches_id(3, b"dev1@lab.example") and dev.matches_id(3, b"dev1@LAB.EXAMPLE")
    assert not dev.matches_id(3, b"DEV1@lab.example")  # the local part is exact
    assert not dev.matches_id(3, b"dev1") and not dev.matches_id(3, b"@lab.example")
    assert dev.matches_id(2, b"dev1.lab") and not dev.matches_id(2, b"gw.lab")
    # the subject's emailAddress attribute is not a subjectAltName
    assert not cert("dev_rsa").matches_id(3, b"dev1@lab.example")


def test_private_keys():
    ec_pub = cert("dev_ec").public_key
    d = int(KEYS["dev_ec"]["d"], 16)
    for f in ("dev_ec.sec1.pem", "dev_ec.pkcs8.pem", "dev_ec.pkcs8.der",
              "dev_ec_nopub.sec1.der"):
        k = x509.load_private_key(read(f))
        assert k.key_type == "ecdsa" and k.d == d and k.public_key == ec_pub, f
        assert "%x" % d not in repr(k) and str(d) not in repr(k) and "ecdsa" in repr(k)
    assert x509.load_private_key(read("dev_ec.sec1.pem").decode()).d == d
    n, e = cert("dev_rsa").public_key
    want = KEYS["dev_rsa"]
    for f in ("dev_rsa.pkcs1.pem", "dev_rsa.pkcs8.pem", "dev_rsa.pkcs1.der"):
        k = x509.load_private_key(read(f))
        assert k.key_type == "rsa" and (k.n, k.e) == (n, e), f
        assert (k.d, k.p, k.q, k.dp, k.dq, k.qinv) == tuple(
            int(want[x], 16) for x in ("d", "p", "q", "dmp1", "dmq1", "iqmp")), f
        assert repr(k) == "<PrivateKey rsa 2048-bit>"
    m = msg(CertificateError, x509.load_private_key, read("dev_ec.enc.pem"))
    assert m.startswith("encrypted private keys (ENCRYPTED PRIVATE KEY) are not supported"), m
    enc_der = x509.pem_decode(read("dev_ec.enc.pem"))[0][1]
    assert "encrypted PKCS#8" in msg(CertificateError, x509.load_private_key, enc_der)
    legacy = (b"-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
              b"DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n"
              b"-----END EC PRIVATE KEY-----\n")
    assert "has headers" in msg(CertificateError, x509.load_private_key, legacy)
    m = msg(CertificateError, x509.load_private_key, read("ec_gw.pem"))
    assert m == "no private key in the PEM data (blocks: CERTIFICATE)", m
    # an RSA key whose primes do not multiply to n
    k = read("dev_rsa.pkcs1.der")
    i = k.find(n.to_bytes(256, "big")) + 255  # the last byte of n
    bad = k[:i] + bytes((k[i] ^ 0x10,)) + k[i + 1:]
    m = msg(CertificateError, x509.load_private_key, bad)
    assert m == "inconsistent RSA private key (n != p*q)", m


@per_backend
def test_private_key_signs_for_its_certificate(backend):
    c = backend
    digest = hashlib.sha256(b"AUTH octets").digest()
    k = x509.load_private_key(read("dev_ec_nopub.sec1.der"))
    r, s = c.ecdsa_sign(k.d, digest)
    assert c.ecdsa_verify(cert("dev_ec").public_key, digest, r, s)
    sig = x509.encode_ecdsa_sig(r, s)
    assert x509.decode_ecdsa_sig(sig) == (r, s)
    k = x509.load_private_key(read("dev_rsa.pkcs8.pem"))
    sig = c.rsa_sign(k, digest, "sha256")
    n, e = cert("dev_rsa").public_key
    assert c.rsa_verify(n, e, sig, digest, "sha256")


def test_ecdsa_sig_codec():
    v = KEYS["ecdsa_sig"]
    r, s = int(v["r"], 16), int(v["s"], 16)
    assert x509.decode_ecdsa_sig(h(v["der"])) == (r, s)
    assert x509.encode_ecdsa_sig(r, s) == h(v["der"])
    assert x509.encode_ecdsa_sig(0x80, 1) == h("3007020200800201 01".replace(" ", ""))
    assert x509.encode_ecdsa_sig(1 << 255, 0x7f) == (
        h("3026022100") + (1 << 255).to_bytes(32, "big") + h("02017f"))
    for bad in (h(v["der"]) + b"\x00", h(v["der"])[:-1], b"", h("3006020101020101ff"),
                h("3003020101"), h("30060201ff020101")):
        raises(CertificateError, x509.decode_ecdsa_sig, bad)
    assert "malformed ECDSA signature" in msg(CertificateError, x509.decode_ecdsa_sig, b"\x30")


# RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt, as RFC 4055
# and RFC 7427 encode it (cryptography writes these same bytes into certs)
PSS_SHA256 = h("304106092a864886f70d01010a3034a00f300d06096086480165030402010500"
               "a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120")


def test_parse_sig_alg():
    assert x509.ALG_ECDSA_SHA256 == h("300a06082a8648ce3d040302")
    assert x509.ALG_RSA_SHA256 == h("300d06092a864886f70d01010b0500")
    assert x509.parse_sig_alg(x509.ALG_ECDSA_SHA256) == ("sha256-ecdsa", "sha256", None)
    assert x509.parse_sig_alg(x509.ALG_RSA_SHA256) == ("sha256-rsa", "sha256", None)
    assert x509.parse_sig_alg(h("300b06092a864886f70d01010c")) == ("sha384-rsa", "sha384", None)
    assert x509.parse_sig_alg(h("300d06092a864886f70d0101050500")) == ("sha1-rsa", "sha1", None)
    assert x509.parse_sig_alg(h("300a06082a8648ce3d040303")) == ("sha384-ecdsa", "sha384", None)
    assert x509.parse_sig_alg(PSS_SHA256) == ("rsa-pss", "sha256", 32)
    assert PSS_SHA256 in cert("rsa_pss_gw").der
    # RFC 4055 defaults: SHA-1, MGF1-SHA-1, 20-byte salt
    assert x509.parse_sig_alg(h("300d06092a864886f70d01010a3000")) == ("rsa-pss", "sha1", 20)
    assert x509.parse_sig_alg(h("300b06092a864886f70d01010a")) == ("rsa-pss", "sha1", 20)
    # hash SHA-256 with the default MGF1-SHA-1: refused
    p = h("301e06092a864886f70d01010a3011a00f300d06096086480165030402010500")
    m = msg(CertificateError, x509.parse_sig_alg, p)
    assert m == "RSASSA-PSS with MGF1-sha1 but hash sha256 is not supported", m
    mism = PSS_SHA256.replace(h("a11c301a06092a864886f70d010108300d0609608648016503040201"),
                              h("a11c301a06092a864886f70d010108300d0609608648016503040202"))
    assert "MGF1-sha384 but hash sha256" in msg(CertificateError, x509.parse_sig_alg, mism)
    m = msg(CertificateError, x509.parse_sig_alg, h("300506032a0304"))
    assert m == "unsupported signature algorithm 1.2.3.4", m
    # ecdsa-with-SHA256 with an INTEGER parameter; trailing bytes
    raises(CertificateError, x509.parse_sig_alg, h("300d06082a8648ce3d040302020101"))
    raises(CertificateError, x509.parse_sig_alg, x509.ALG_RSA_SHA256 + b"\x00")
    for i in range(len(PSS_SHA256)):
        raises(CertificateError, x509.parse_sig_alg, PSS_SHA256[:i])


def _parse_any(data):
    # parse and use a possibly corrupt certificate: only CertificateError
    try:
        c = x509.Certificate(data)
    except CertificateError:
        return 0
    c.name()
    x509.dn_string(c.issuer)
    c.matches_id(2, b"gw.lab")
    c.matches_id(9, c.subject)
    return 1


def test_truncated_certificates():
    for label in ("ec_gw", "rsa_gw", "rsa_pss_gw"):
        d = cert(label).der
        for i in range(len(d)):
            raises(CertificateError, x509.Certificate, d[:i])
        raises(CertificateError, x509.Certificate, d + b"\x00")
    pem = read("ec_gw.pem")
    for i in range(0, len(pem), 7):
        raises(CertificateError, x509.load_certs, pem[:i])


def test_corrupted_certificates():
    rng = Rng(b"x509 flips")
    ok = 0
    for label in ("ec_gw", "rsa_gw", "ec_root", "rsa_pss_gw", "dev_ec"):
        d = cert(label).der
        for _ in range(150):
            r = rng(4)
            i = int.from_bytes(r[:2], "big") % len(d)
            x = r[2] or 1
            ok += _parse_any(d[:i] + bytes((d[i] ^ x,)) + d[i + 1:])
        for _ in range(30):  # a corrupt length byte near the start
            r = rng(2)
            i = r[0] % 40
            ok += _parse_any(d[:i] + bytes((r[1],)) + d[i + 1:])
    assert ok > 100  # most flips land in values and still parse
    for n in (0, 1, 2, 5, 64, 700):
        for k in range(5):
            _parse_any(rng(n))
            _parse_any(b"\x30\x82" + rng(n))
    # x509.load_certs on PEM garbage
    for bad in (b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
                b"-----BEGIN \xff\xfe-----\nAAAA\n-----END \xff\xfe-----\n",
                b"-----BEGIN CERTIFICATE", b"-----BEGIN CERTIFICATE-----"):
        raises(CertificateError, x509.load_certs, bad)


@per_backend
def test_corrupted_certificates_verify(backend):
    c = backend
    # corrupt certificates that still parse are refused by verify_chain
    rng = Rng(b"x509 verify flips")
    anchors = [cert("ec_root"), cert("rsa_root")]
    for label in ("ec_gw", "rsa_gw"):
        d = cert(label).der
        n = 0
        while n < 12:
            r = rng(3)
            i = int.from_bytes(r[:2], "big") % len(d)
            try:
                bad = x509.Certificate(d[:i] + bytes((d[i] ^ (r[2] or 1),)) + d[i + 1:])
            except CertificateError:
                continue
            n += 1
            raises(CertificateError, x509.verify_chain, c, bad, [], anchors, NOW)


def test_corrupted_private_keys():
    rng = Rng(b"key flips")
    for f in ("dev_ec.sec1.pem", "dev_ec.pkcs8.der", "dev_rsa.pkcs1.der",
              "dev_rsa.pkcs8.pem", "dev_ec_nopub.sec1.der"):
        d = read(f)
        if f.endswith(".pem"):
            d = x509.pem_decode(d)[0][1]
        for i in range(len(d)):
            raises(CertificateError, x509.load_private_key, d[:i])
        for _ in range(60):
            r = rng(3)
            i = int.from_bytes(r[:2], "big") % len(d)
            try:
                x509.load_private_key(d[:i] + bytes((d[i] ^ (r[2] or 1),)) + d[i + 1:])
            except CertificateError:
                pass
