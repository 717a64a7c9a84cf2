# Generates the X.509 fixtures of host_tests/core/test_x509.py with the
# `cryptography` package (checked with 50.0.2), and records what each one
# should parse to, as cryptography sees it, in expected.json.
#
#   .venv/bin/python host_tests/vectors/x509/make.py
#
# Run once; the output is committed so the tests are deterministic (the keys
# are random, so a rerun changes every file and expected.json together).
# Validity is 2025-01-01..2045-01-01 unless a fixture is about time; the EC
# root runs to 2055 so that its notAfter is a GeneralizedTime.
import datetime
import hashlib
import ipaddress
import json
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER


def utc(y, m=1, d=1):
    return datetime.datetime(y, m, d, tzinfo=datetime.timezone.utc)


def name(cn, o="Lab", **more):
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if o:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o))
    for k, v in more.items():
        attrs.append(x509.NameAttribute(getattr(NameOID, k), v))
    return x509.Name(attrs)


def ec_key(curve=None):
    return ec.generate_private_key(curve or ec.SECP256R1())


def rsa_key(bits=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


CA_KU = x509.KeyUsage(digital_signature=False, content_commitment=False,
                      key_encipherment=False, data_encipherment=False,
                      key_agreement=False, key_cert_sign=True, crl_sign=True,
                      encipher_only=False, decipher_only=False)
LEAF_KU = x509.KeyUsage(digital_signature=True, content_commitment=False,
                        key_encipherment=False, data_encipherment=False,
                        key_agreement=False, key_cert_sign=False, crl_sign=False,
                        encipher_only=False, decipher_only=False)

OUT = {}
KEYS = {}


def make(label, subject, key, issuer_name, issuer_key, *, ca=None, path_len=None,
         ku=None, san=None, eku=False, extra=(), start=utc(2025), end=utc(2045),
         hash_alg=hashes.SHA256(), pss_salt=None, sig_alg=None):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(start).not_valid_after(end))
    if ca is not None:
        b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=path_len),
                            critical=True)
    if ku is not None:
        b = b.add_extension(ku, critical=True)
    if san:
        gn = []
        for s in san:
            if s.startswith("DNS:"):
                gn.append(x509.DNSName(s[4:]))
            elif s.startswith("IP:"):
                gn.append(x509.IPAddress(ipaddress.ip_address(s[3:])))
            elif s.startswith("email:"):
                gn.append(x509.RFC822Name(s[6:]))
        b = b.add_extension(x509.SubjectAlternativeName(gn), critical=False)
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH, x509.ObjectIdentifier("1.3.6.1.5.5.8.2.2")]),
            critical=False)
    b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                        critical=False)
    for ext, crit in extra:
        b = b.add_extension(ext, critical=crit)
    if pss_salt is not None:
        pad = padding.PSS(mgf=padding.MGF1(hash_alg), salt_length=pss_salt)
        cert = b.sign(issuer_key, hash_alg, rsa_padding=pad)
    else:
        cert = b.sign(issuer_key, hash_alg)
    with open(os.path.join(HERE, label + ".pem"), "wb") as f:
        f.write(cert.public_bytes(PEM))
    record(label, cert, sig_alg, hash_alg.name, pss_salt)
    return cert


SHORT = {"2.5.4.3": "CN", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.6": "C",
         "2.5.4.8": "ST", "2.5.4.7": "L", "1.2.840.113549.1.9.1": "emailAddress"}


def dn(n):
    return ", ".join("+".join("%s=%s" % (SHORT.get(a.oid.dotted_string, a.oid.dotted_string),
                                         a.value) for a in rdn) for rdn in n.rdns)


def record(label, cert, sig_alg, hash_name, pss_salt):
    pub = cert.public_key()
    spki = pub.public_bytes(DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    r = {
        "serial": "%x" % cert.serial_number,
        "not_before": int(cert.not_valid_before_utc.timestamp()),
        "not_after": int(cert.not_valid_after_utc.timestamp()),
        "subject": dn(cert.subject),
        "issuer": dn(cert.issuer),
        "subject_der": cert.subject.public_bytes().hex(),
        "issuer_der": cert.issuer.public_bytes().hex(),
        "spki_sha1": hashlib.sha1(spki).hexdigest(),
        "tbs_sha256": hashlib.sha256(cert.tbs_certificate_bytes).hexdigest(),
        "signature": cert.signature.hex(),
        "sig_alg": sig_alg,
        "sig_hash": hash_name,
        "pss_salt": pss_salt,
        "key_bits": pub.key_size,
        "ca": False, "path_len": None, "key_usage": None,
        "dns_names": [], "ip_addrs": [], "emails": [],
    }
    if isinstance(pub, rsa.RSAPublicKey):
        nums = pub.public_numbers()
        r.update(key_type="rsa", n="%x" % nums.n, e=nums.e)
    else:
        nums = pub.public_numbers()
        r.update(key_type="ecdsa", x="%064x" % nums.x, y="%064x" % nums.y)
    for ext in cert.extensions:
        v = ext.value
        if isinstance(v, x509.BasicConstraints):
            r["ca"], r["path_len"] = v.ca, v.path_length
        elif isinstance(v, x509.KeyUsage):
            bits = [v.digital_signature, v.content_commitment, v.key_encipherment,
                    v.data_encipherment, v.key_agreement, v.key_cert_sign, v.crl_sign]
            if v.key_agreement:
                bits += [v.encipher_only, v.decipher_only]
            r["key_usage"] = sum(1 << i for i, on in enumerate(bits) if on)
        elif isinstance(v, x509.SubjectAlternativeName):
            r["dns_names"] = v.get_values_for_type(x509.DNSName)
            r["ip_addrs"] = [a.packed.hex() for a in v.get_values_for_type(x509.IPAddress)]
            r["emails"] = v.get_values_for_type(x509.RFC822Name)
    OUT[label] = r


def write_key(label, data):
    with open(os.path.join(HERE, label), "wb") as f:
        f.write(data)


def der_tlv(tag, value):
    n = len(value)
    if n < 0x80:
        return bytes((tag, n)) + value
    if n < 0x100:
        return bytes((tag, 0x81, n)) + value
    return bytes((tag, 0x82, n >> 8, n & 0xFF)) + value


def main():
    for f in os.listdir(HERE):
        if f.endswith((".pem", ".der")):
            os.remove(os.path.join(HERE, f))
    ES, RS = "sha256-ecdsa", "sha256-rsa"
    gw_san = ["DNS:gw.lab", "IP:192.0.2.1"]

    # EC hierarchy
    ec_root_k = ec_key()
    ec_root_n = name("EC Root CA")
    ec_root = make("ec_root", ec_root_n, ec_root_k, ec_root_n, ec_root_k, ca=True,
                   ku=CA_KU, end=utc(2055), sig_alg=ES)
    ec_inter_k = ec_key()
    ec_inter_n = name("EC Intermediate CA")
    make("ec_inter", ec_inter_n, ec_inter_k, ec_root_n, ec_root_k, ca=True,
         path_len=0, ku=CA_KU, sig_alg=ES)
    make("ec_gw", name("gw.lab"), ec_key(), ec_root_n, ec_root_k, ku=LEAF_KU,
         san=gw_san, eku=True, sig_alg=ES)
    make("ec_gw_inter", name("gw2.lab"), ec_key(), ec_inter_n, ec_inter_k, ku=LEAF_KU,
         san=["DNS:gw2.lab", "IP:192.0.2.2", "IP:2001:db8::1"], sig_alg=ES)
    make("ec_gw_sha384", name("gw384.lab"), ec_key(), ec_root_n, ec_root_k,
         san=["DNS:gw384.lab"], hash_alg=hashes.SHA384(), sig_alg="sha384-ecdsa")
    # pathLenConstraint 0 on ec_inter: a CA below it may not issue
    ec_inter2_k = ec_key()
    ec_inter2_n = name("EC Sub Intermediate CA")
    make("ec_inter2", ec_inter2_n, ec_inter2_k, ec_inter_n, ec_inter_k, ca=True,
         ku=CA_KU, sig_alg=ES)
    make("ec_gw_pathlen", name("gw3.lab"), ec_key(), ec_inter2_n, ec_inter2_k,
         san=["DNS:gw3.lab"], sig_alg=ES)
    # time
    make("ec_expired", name("old.lab"), ec_key(), ec_root_n, ec_root_k,
         san=["DNS:old.lab"], start=utc(2020), end=utc(2021, 3, 1), sig_alg=ES)
    make("ec_notyet", name("new.lab"), ec_key(), ec_root_n, ec_root_k,
         san=["DNS:new.lab"], start=utc(2040), end=utc(2045), sig_alg=ES)
    # a CA that expires before the leaf it issued
    short_k = ec_key()
    short_n = name("Short CA")
    make("ec_short_ca", short_n, short_k, ec_root_n, ec_root_k, ca=True, ku=CA_KU,
         end=utc(2026), sig_alg=ES)
    make("ec_gw_short", name("short.lab"), ec_key(), short_n, short_k,
         san=["DNS:short.lab"], sig_alg=ES)
    # a different CA, with a leaf impersonating gw.lab
    other_k = ec_key()
    other_n = name("Other CA")
    make("other_root", other_n, other_k, other_n, other_k, ca=True, ku=CA_KU, sig_alg=ES)
    make("other_gw", name("gw.lab"), ec_key(), other_n, other_k, ku=LEAF_KU,
         san=gw_san, sig_alg=ES)
    # a forged root with the real root's name but another key
    fake_k = ec_key()
    make("fake_root", ec_root_n, fake_k, ec_root_n, fake_k, ca=True, ku=CA_KU, sig_alg=ES)
    make("fake_gw", name("gw.lab"), ec_key(), ec_root_n, fake_k, ku=LEAF_KU,
         san=gw_san, sig_alg=ES)
    # an issuer without basicConstraints cA, and one without keyCertSign
    notca_k = ec_key()
    notca_n = name("Not A CA")
    make("ec_notca", notca_n, notca_k, ec_root_n, ec_root_k, ku=None, sig_alg=ES)
    make("ec_gw_notca", name("gw4.lab"), ec_key(), notca_n, notca_k,
         san=["DNS:gw4.lab"], sig_alg=ES)
    noku_k = ec_key()
    noku_n = name("No KeyCertSign CA")
    make("ec_noku", noku_n, noku_k, ec_root_n, ec_root_k, ca=True, ku=LEAF_KU, sig_alg=ES)
    make("ec_gw_noku", name("gw5.lab"), ec_key(), noku_n, noku_k,
         san=["DNS:gw5.lab"], sig_alg=ES)
    # unknown critical extension; a P-384 key
    make("ec_critext", name("crit.lab"), ec_key(), ec_root_n, ec_root_k,
         san=["DNS:crit.lab"], sig_alg=ES,
         extra=[(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"),
                                            b"\x05\x00"), True)])
    make("p384_gw", name("p384.lab"), ec_key(ec.SECP384R1()), ec_root_n, ec_root_k,
         san=["DNS:p384.lab"], sig_alg=ES)
    # depth: root -> d1 -> d2 -> d3 -> d4 (no path length limits)
    prev_n, prev_k = ec_root_n, ec_root_k
    for i in range(1, 5):
        k, n = ec_key(), name("Depth %d CA" % i)
        make("ec_d%d" % i, n, k, prev_n, prev_k, ca=True, ku=CA_KU, sig_alg=ES)
        make("ec_gw_d%d" % i, name("d%d.lab" % i), ec_key(), n, k,
             san=["DNS:d%d.lab" % i], sig_alg=ES)
        prev_n, prev_k = n, k

    # RSA hierarchy
    rsa_root_k = rsa_key()
    rsa_root_n = name("RSA Root CA", COUNTRY_NAME="CH", ORGANIZATIONAL_UNIT_NAME="VPN")
    make("rsa_root", rsa_root_n, rsa_root_k, rsa_root_n, rsa_root_k, ca=True,
         path_len=1, ku=CA_KU, sig_alg=RS)
    rsa_inter_k = rsa_key()
    rsa_inter_n = name("RSA Intermediate CA")
    make("rsa_inter", rsa_inter_n, rsa_inter_k, rsa_root_n, rsa_root_k, ca=True,
         path_len=0, ku=CA_KU, sig_alg=RS)
    make("rsa_gw", name("gw.lab"), rsa_key(), rsa_root_n, rsa_root_k, ku=LEAF_KU,
         san=gw_san, eku=True, sig_alg=RS)
    make("rsa_gw_inter", name("gw2.lab"), rsa_key(), rsa_inter_n, rsa_inter_k,
         ku=LEAF_KU, san=["DNS:gw2.lab"], sig_alg=RS)
    make("rsa_pss_gw", name("pss.lab"), rsa_key(), rsa_root_n, rsa_root_k, ku=LEAF_KU,
         san=["DNS:pss.lab"], pss_salt=32, sig_alg="rsa-pss")
    make("rsa3072_gw", name("big.lab"), rsa_key(3072), rsa_inter_n, rsa_inter_k,
         ku=LEAF_KU, san=["DNS:big.lab", "IP:192.0.2.3"], sig_alg=RS)
    make("rsa_expired", name("old.lab"), rsa_key(), rsa_root_n, rsa_root_k,
         start=utc(2019), end=utc(2021, 3, 1), sig_alg=RS)

    # device certificates and their keys in every accepted format
    dev_ec_k = ec_key()
    make("dev_ec", name("dev1", EMAIL_ADDRESS="dev1@lab.example"), dev_ec_k,
         ec_root_n, ec_root_k, ku=LEAF_KU,
         san=["DNS:dev1.lab", "email:dev1@Lab.Example"], sig_alg=ES)
    dev_rsa_k = rsa_key()
    make("dev_rsa", name("dev2"), dev_rsa_k, rsa_root_n, rsa_root_k, ku=LEAF_KU,
         san=["email:dev2@lab.example"], sig_alg=RS)
    P8 = serialization.PrivateFormat.PKCS8
    TRAD = serialization.PrivateFormat.TraditionalOpenSSL
    NOENC = serialization.NoEncryption()
    write_key("dev_ec.sec1.pem", dev_ec_k.private_bytes(PEM, TRAD, NOENC))
    write_key("dev_ec.pkcs8.pem", dev_ec_k.private_bytes(PEM, P8, NOENC))
    write_key("dev_ec.pkcs8.der", dev_ec_k.private_bytes(DER, P8, NOENC))
    write_key("dev_ec.enc.pem", dev_ec_k.private_bytes(
        PEM, P8, serialization.BestAvailableEncryption(b"secret")))
    d = dev_ec_k.private_numbers().private_value
    p256 = bytes.fromhex("2a8648ce3d030107")
    nopub = der_tlv(0x30, b"\x02\x01\x01" + der_tlv(0x04, d.to_bytes(32, "big"))
                    + der_tlv(0xA0, der_tlv(0x06, p256)))
    write_key("dev_ec_nopub.sec1.der", nopub)
    write_key("dev_rsa.pkcs1.pem", dev_rsa_k.private_bytes(PEM, TRAD, NOENC))
    write_key("dev_rsa.pkcs8.pem", dev_rsa_k.private_bytes(PEM, P8, NOENC))
    write_key("dev_rsa.pkcs1.der", dev_rsa_k.private_bytes(DER, TRAD, NOENC))
    nums = dev_rsa_k.private_numbers()
    KEYS["dev_ec"] = {"d": "%x" % d}
    KEYS["dev_rsa"] = {k: "%x" % getattr(nums, k) for k in ("d", "p", "q", "dmp1", "dmq1", "iqmp")}
    msg = b"IKEv2 RFC 7427 test message"
    sig = dev_ec_k.sign(msg, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(sig)
    KEYS["ecdsa_sig"] = {"msg": msg.hex(), "der": sig.hex(), "r": "%x" % r, "s": "%x" % s}

    # a bundle: two roots with text around them, as CA files often are
    with open(os.path.join(HERE, "bundle.pem"), "wb") as f:
        f.write(b"# trusted roots\nEC Root CA\n")
        f.write(ec_root.public_bytes(PEM))
        f.write(b"\nRSA Root CA\n")
        with open(os.path.join(HERE, "rsa_root.pem"), "rb") as g:
            f.write(g.read().replace(b"\n", b"\r\n"))
    with open(os.path.join(HERE, "ec_gw.der"), "wb") as f:
        with open(os.path.join(HERE, "ec_gw.pem"), "rb") as g:
            f.write(x509.load_pem_x509_certificate(g.read()).public_bytes(DER))

    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump({"certs": OUT, "keys": KEYS}, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote %d certificates" % len(OUT))


if __name__ == "__main__":
    main()
