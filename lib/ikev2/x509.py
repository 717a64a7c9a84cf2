# X.509 certificates (RFC 5280) for verifying an IKEv2 gateway's
# certificate on a small device, and the device's own private key.
#
#   load_certs(pem_or_der) -> [Certificate]   pem_decode(data) -> [(label, der)]
#   verify_chain(c, leaf, intermediates, anchors, now=None) -> [leaf .. anchor]
#   verify_signature(c, cert, issuer)         one link, through backend c
#   load_private_key(pem_or_der) -> PrivateKey
#   parse_sig_alg(der) -> (name, hash, pss_salt); ALG_* AlgorithmIdentifiers
#   decode_ecdsa_sig(der) -> (r, s); encode_ecdsa_sig(r, s) -> der
#   dn_string(der_name) -> "CN=gw.lab, O=Lab"
#
# Every failure raises CertificateError with a one-line message.
#
# What is supported, and what is deliberately not:
# - X.509 v3 only (v1/v2 are refused, CA or not).
# - Keys: RSA (any size from 1024 bits) and EC on P-256 only; other curves
#   and algorithms are refused when the certificate is parsed.
# - Signatures: sha1/256/384/512 with RSA (PKCS#1 v1.5), RSASSA-PSS (MGF1
#   with the same hash as the message digest), ECDSA with SHA-256/384/512.
#   A hash the device lacks (ESP32 hashlib has no SHA-384/512) fails at
#   verification with a clear message.
# - Extensions processed: basicConstraints, keyUsage, subjectAltName.
#   extendedKeyUsage and certificatePolicies are accepted even when critical
#   but not enforced (equivalent to RFC 5280 policy processing with
#   any-policy and no explicit policy).  Any other critical extension
#   (nameConstraints, policyConstraints, ...) refuses the certificate.
# - No revocation (CRL/OCSP) and no name constraints.
# - Path building (verify_chain): the issuer of each certificate is looked
#   up by subject == issuer (DER bytes), among the anchors first, then the
#   intermediates in any order, backtracking if a candidate fails; the
#   first failure met is the error reported.  Every issuer, the anchor
#   included, must have basicConstraints cA, keyCertSign if keyUsage is
#   present, respect its pathLenConstraint, and (with now) be in its
#   validity period.  At most MAX_DEPTH = 4 CA certificates above the
#   leaf, the anchor included.  Anchors are trusted as they are: their own
#   signatures are not checked.
# - A leaf may itself be a CA certificate (allowed; not checked: the
#   caller checks what it needs of the leaf).  A leaf that is
#   byte-identical to an anchor is trusted directly (a pinned certificate).
# - Names are compared as DER bytes; dn_string() is for humans, in DER
#   order (as strongSwan prints them), without RFC 4514 escaping.
# - matches_id: FQDN matches a subjectAltName dNSName exactly, ignoring
#   case (no wildcards, no fallback to the subject CN); IPv4 and IPv6 match
#   iPAddress; RFC822 matches rfc822Name with an exact local part and a
#   domain in any case; DER_ASN1_DN is the subject's DER, bytewise.
try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


import binascii

from .der import (Reader, encode, oid_str, format_time,  # noqa: F401
                  ALG_ECDSA_SHA256, ALG_RSA_SHA256, encode_ecdsa_sig)
from .errors import CertificateError, CryptoError
from .crypto.sig import bit_length

_BOOL = const(0x01)
_SEQ = const(0x30)
_SET = const(0x31)
_INT = const(0x02)
_OCT = const(0x04)
_OID = const(0x06)

MAX_DEPTH = const(4)  # CA certificates above the leaf, the anchor included

# keyUsage bits as an int mask: named bit n of the BIT STRING is 1 << n
KU_DIGITAL_SIGNATURE = const(0x01)
KU_NON_REPUDIATION = const(0x02)
KU_KEY_ENCIPHERMENT = const(0x04)
KU_KEY_CERT_SIGN = const(0x20)
KU_CRL_SIGN = const(0x40)

# OIDs as raw content bytes
_PKCS1 = b"\x2a\x86\x48\x86\xf7\x0d\x01\x01"  # 1.2.840.113549.1.1.x
_RSA = _PKCS1 + b"\x01"
_MGF1 = _PKCS1 + b"\x08"
_PSS = _PKCS1 + b"\x0a"
_EC_PUB = b"\x2a\x86\x48\xce\x3d\x02\x01"  # 1.2.840.10045.2.1
_P256 = b"\x2a\x86\x48\xce\x3d\x03\x01\x07"  # 1.2.840.10045.3.1.7
_ECDSA = b"\x2a\x86\x48\xce\x3d\x04\x03"  # 1.2.840.10045.4.3.x
_SHA1 = b"\x2b\x0e\x03\x02\x1a"  # 1.3.14.3.2.26
_SHA2 = b"\x60\x86\x48\x01\x65\x03\x04\x02"  # 2.16.840.1.101.3.4.2.x
_X520 = b"\x55\x04"  # 2.5.4.x
_EMAIL = b"\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01"  # 1.2.840.113549.1.9.1
_DC = b"\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x19"  # 0.9.2342.19200300.100.1.25
_BC = b"\x55\x1d\x13"
_KU = b"\x55\x1d\x0f"
_SAN = b"\x55\x1d\x11"
_EKU = b"\x55\x1d\x25"
_POLICIES = b"\x55\x1d\x20"

# AlgorithmIdentifiers for RFC 7427 AUTH data

_P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551


def _fail(msg):
    raise CertificateError(msg)


def _bytes(data):
    if isinstance(data, str):
        return data.encode()
    return bytes(data)


def _ascii(v):
    for x in v:
        if x < 0x20 or x > 0x7E:
            _fail("non-ASCII character in a certificate name")
    return bytes(v).decode()



# --- algorithms -------------------------------------------------------------

def _hash_name(oid):
    if oid == _SHA1:
        return "sha1"
    if len(oid) == 9 and oid[:8] == _SHA2 and 1 <= oid[8] <= 3:
        return ("sha256", "sha384", "sha512")[oid[8] - 1]
    _fail("unsupported hash algorithm %s" % oid_str(oid))


def _hash_alg(r):
    # HashAlgorithm ::= AlgorithmIdentifier (parameters NULL or absent)
    a = r.sub()
    h = _hash_name(a.oid())
    if a.more():
        a.null()
    a.done()
    return h


def _sig_alg(a):
    # a: Reader over the content of an AlgorithmIdentifier
    oid = a.oid()
    n = len(oid)
    if n == 9 and oid[:8] == _PKCS1 and oid[8] in (5, 11, 12, 13):
        h = "sha1" if oid[8] == 5 else ("sha256", "sha384", "sha512")[oid[8] - 11]
        if a.more():
            a.null()
        a.done()
        return h + "-rsa", h, None
    if n == 8 and oid[:7] == _ECDSA and 2 <= oid[7] <= 4:
        h = ("sha256", "sha384", "sha512")[oid[7] - 2]
        if a.more():  # RFC 5758: absent; NULL is tolerated
            a.null()
        a.done()
        return h + "-ecdsa", h, None
    if oid == _PSS:
        # RSASSA-PSS-params (RFC 4055 3.1), every field with a default:
        # [0] hashAlgorithm sha1, [1] maskGenAlgorithm mgf1SHA1,
        # [2] saltLength 20, [3] trailerField 1
        h = mgf = "sha1"
        salt = 20
        if a.more():
            p = a.sub()
            if p.peek() == 0xA0:
                t = p.sub(0xA0)
                h = _hash_alg(t)
                t.done()
            if p.peek() == 0xA1:
                t = p.sub(0xA1)
                m = t.sub()
                if m.oid() != _MGF1:
                    _fail("RSASSA-PSS mask generation other than MGF1")
                mgf = _hash_alg(m)
                m.done()
                t.done()
            if p.peek() == 0xA2:
                t = p.sub(0xA2)
                salt = t.integer()
                t.done()
            if p.peek() == 0xA3:
                t = p.sub(0xA3)
                if t.integer() != 1:
                    _fail("RSASSA-PSS trailer field other than 1")
                t.done()
            p.done()
        a.done()
        if mgf != h:
            _fail("RSASSA-PSS with MGF1-%s but hash %s is not supported"
                  % (mgf, h))
        return "rsa-pss", h, salt
    _fail("unsupported signature algorithm %s" % oid_str(oid))


def parse_sig_alg(der_alg):
    # a DER AlgorithmIdentifier -> (name, hash name, PSS salt length or None)
    r = Reader(_bytes(der_alg), "AlgorithmIdentifier")
    a = r.sub()
    r.done()
    return _sig_alg(a)


def decode_ecdsa_sig(sig):
    # Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } -> (r, s)
    r = Reader(_bytes(sig), "ECDSA signature")
    s = r.sub()
    r.done()
    a = s.integer()
    b = s.integer()
    s.done()
    return a, b



# --- names ------------------------------------------------------------------

_ATTRS = ((3, "CN"), (5, "serialNumber"), (6, "C"), (7, "L"), (8, "ST"),
          (10, "O"), (11, "OU"))


def _attr_name(oid):
    if len(oid) == 3 and oid[:2] == _X520:
        for k, name in _ATTRS:
            if k == oid[2]:
                return name
    elif oid == _EMAIL:
        return "emailAddress"
    elif oid == _DC:
        return "DC"
    return oid_str(oid)


def _str_value(tag, v):
    # an attribute value for humans; as "#<DER hex>" (RFC 4514) when it is
    # not a string type, does not decode or holds control characters (a
    # name must not break a one-line message)
    try:
        if tag == 0x1E and not len(v) & 1:  # BMPString: UTF-16BE, no surrogates
            s = "".join(chr(v[i] << 8 | v[i + 1]) for i in range(0, len(v), 2))
        elif tag in (0x0C, 0x13, 0x16, 0x14):  # UTF8, Printable, IA5, Teletex
            s = bytes(v).decode()
        else:
            s = ""
        for ch in s:
            if ch < " " or ch == "\x7f":
                s = ""
        if s or not v:
            return s
    except Exception:  # not decodable: shown as hex below
        pass
    return "#" + binascii.hexlify(encode(tag, v)).decode()


def dn_string(der_name):
    # DER Name -> "CN=gw.lab, O=Lab" in DER order; "+" joins a multi-valued RDN
    r = Reader(_bytes(der_name), "name")
    seq = r.sub()
    r.done()
    parts = []
    while seq.more():
        rdn = seq.sub(_SET)
        avas = []
        while rdn.more():
            a = rdn.sub()
            oid = a.oid()
            tag = a.peek()
            v = a.value()
            a.done()
            avas.append(_attr_name(oid) + "=" + _str_value(tag, v))
        parts.append("+".join(avas))
    return ", ".join(parts)


# --- certificates -----------------------------------------------------------

class Certificate:
    def __init__(self, der):
        self.der = der = _bytes(der)
        self.subject = b""
        self.dns_names = []
        try:
            self._parse(der)
        except CertificateError:
            raise
        except (IndexError, ValueError, TypeError, KeyError, OverflowError) as e:
            # a safety net: the parser checks lengths and tags itself
            raise CertificateError("malformed certificate (%s)" % type(e).__name__)

    def _parse(self, der):
        top = Reader(der, "certificate")
        c = top.sub()
        top.done()
        t = c.sub()
        self._tbs = (c.start, c.pos)
        a = c.sub()
        alg = c.raw()
        self.signature = c.bitstring()
        c.done()
        # TBSCertificate
        ver = 0
        if t.peek() == 0xA0:
            v = t.sub(0xA0)
            ver = v.integer()
            v.done()
        if ver != 2:
            _fail("X.509 version %d certificate is not supported (v3 required)"
                  % (ver + 1))
        self.serial = t.integer()
        t.sub()
        if t.raw() != alg:
            _fail("malformed certificate: the two signature algorithms differ")
        self.sig_alg, self.sig_hash, self.pss_salt = _sig_alg(a)
        t.sub()
        self.issuer = t.raw()
        v = t.sub()
        self.not_before = v.time()
        self.not_after = v.time()
        v.done()
        t.sub()
        self.subject = t.raw()
        dn_string(self.issuer)  # both names must be printable for messages
        dn_string(self.subject)
        s = t.sub()
        self.spki = t.raw()
        self._public_key(s)
        while t.peek() in (0x81, 0x82):  # issuer/subjectUniqueID
            t.skip()
        self.ca = False
        self.path_len = None
        self.key_usage = None
        self.ip_addrs = []
        self.emails = []
        if t.peek() == 0xA3:
            e = t.sub(0xA3)
            self._extensions(e.sub())
            e.done()
        t.done()

    def _public_key(self, s):
        a = s.sub()
        oid = a.oid()
        if oid == _RSA or oid == _PSS:
            k = s.sub_bits()
            seq = k.sub()
            k.done()
            n = seq.integer()
            e = seq.integer()
            seq.done()
            self.key_bits = bit_length(n)
            if self.key_bits < 1024 or e < 3 or not (n & e & 1):
                _fail("certificate %s: unusable RSA public key (%d bits, e=%d)"
                      % (self.name(), self.key_bits, e))
            self.key_type = "rsa"
            self.public_key = (n, e)
        elif oid == _EC_PUB:
            curve = a.oid() if a.peek() == _OID else b""
            a.done()
            if curve != _P256:
                _fail("certificate %s: EC curve %s is not supported (P-256 only)"
                      % (self.name(), oid_str(curve) if curve else "parameters"))
            pt = s.bitstring()
            if len(pt) != 65 or pt[0] != 4:
                _fail("certificate %s: EC public key is not an uncompressed P-256 point"
                      % self.name())
            self.key_type = "ecdsa"
            self.key_bits = 256
            self.public_key = pt[1:]
        else:
            _fail("certificate %s: public key algorithm %s is not supported"
                  " (RSA and EC P-256 only)" % (self.name(), oid_str(oid)))
        s.done()

    def _extensions(self, exts):
        seen = []
        while exts.more():
            x = exts.sub()
            oid = x.oid()
            crit = x.boolean() if x.peek() == _BOOL else False
            r = x.sub(_OCT)  # extnValue: the extension's own DER
            x.done()
            if oid in seen:
                _fail("certificate %s: duplicate extension %s"
                      % (self.name(), oid_str(oid)))
            seen.append(oid)
            if oid == _BC:
                b = r.sub()
                if b.peek() == _BOOL:
                    self.ca = b.boolean()
                if b.more():
                    self.path_len = b.integer()
                b.done()
            elif oid == _KU:
                unused, v = r.bits()
                m = 0
                for i in range(len(v) * 8 - unused):
                    if v[i >> 3] & (0x80 >> (i & 7)):
                        m |= 1 << i
                self.key_usage = m
            elif oid == _SAN:
                g = r.sub()
                while g.more():
                    tag = g.peek()
                    v = g.value()
                    if tag == 0x82:
                        self.dns_names.append(_ascii(v))
                    elif tag == 0x81:
                        self.emails.append(_ascii(v))
                    elif tag == 0x87:
                        if len(v) != 4 and len(v) != 16:
                            g.fail("bad iPAddress", g.start)
                        self.ip_addrs.append(v)
            elif crit and oid != _EKU and oid != _POLICIES:
                _fail("certificate %s has an unsupported critical extension %s"
                      % (self.name(), oid_str(oid)))
            else:
                continue
            r.done()

    @property
    def tbs(self):
        return self.der[self._tbs[0]:self._tbs[1]]

    def name(self):
        s = dn_string(self.subject) if self.subject else ""
        if not s and self.dns_names:
            s = "DNS:" + self.dns_names[0]
        return s or "(empty subject)"

    def __repr__(self):
        return "<Certificate %s>" % self.name()

    def matches_id(self, id_type, data):
        # IKEv2 ID payload type and data (RFC 7296 3.5) against this
        # certificate: exact matches, no wildcards, no CN fallback.
        data = bytes(data)
        if id_type == 2:  # ID_FQDN
            d = data.lower()
            for n in self.dns_names:
                if n.encode().lower() == d:
                    return True
        elif id_type == 1 or id_type == 5:  # ID_IPV4_ADDR, ID_IPV6_ADDR
            return len(data) == (4 if id_type == 1 else 16) and data in self.ip_addrs
        elif id_type == 3:  # ID_RFC822_ADDR: exact local part, any-case domain
            i = data.rfind(b"@")
            for e in self.emails:
                e = e.encode()
                j = e.rfind(b"@")
                if i == j and e[:j] == data[:i] and e[j:].lower() == data[i:].lower():
                    return True
        elif id_type == 9:  # ID_DER_ASN1_DN
            return data == self.subject
        return False


def pem_decode(data):
    # every "-----BEGIN X-----" block -> [(label, der bytes)]
    data = _bytes(data)
    out = []
    i = 0
    while True:
        i = data.find(b"-----BEGIN ", i)
        if i < 0:
            return out
        j = data.find(b"-----", i + 11)
        if j < 0 or j - i > 80:
            _fail("malformed PEM: unterminated BEGIN line")
        label = data[i + 11:j]
        end = b"-----END " + label + b"-----"
        k = data.find(end, j + 5)
        label = _ascii(label)
        if k < 0:
            _fail("malformed PEM: block %s has no END line" % label)
        body = data[j + 5:k]
        if b":" in body:
            _fail("PEM block %s has headers (an encrypted legacy key?): not supported"
                  % label)
        try:
            out.append((label, binascii.a2b_base64(body)))
        except ValueError:  # binascii.Error is a ValueError
            _fail("malformed PEM: bad base64 in block %s" % label)
        i = k + len(end)


def load_certs(data):
    # PEM text with any number of CERTIFICATE blocks (others are skipped),
    # or one DER certificate
    data = _bytes(data)
    if b"-----BEGIN " not in data:
        return [Certificate(data)]
    certs = [Certificate(d) for label, d in pem_decode(data) if label == "CERTIFICATE"]
    if not certs:
        _fail("no CERTIFICATE block in the PEM data")
    return certs


# --- verification -----------------------------------------------------------

def verify_signature(c, cert, issuer):
    # cert's signature made with issuer's key; raises CertificateError
    if cert.issuer != issuer.subject:
        _fail("certificate %s is not issued by %s (its issuer is %s)"
              % (cert.name(), issuer.name(), dn_string(cert.issuer)))
    ec = cert.sig_alg.endswith("ecdsa")
    if ec != (issuer.key_type == "ecdsa"):
        _fail("certificate %s is signed with %s but the key of %s is %s"
              % (cert.name(), cert.sig_alg, issuer.name(), issuer.key_type))
    try:
        digest = c.hash(cert.sig_hash, cert.tbs)
        if ec:
            r, s = decode_ecdsa_sig(cert.signature)
            # FIPS 186-4 6.4: the leftmost 256 bits of a longer hash
            ok = c.ecdsa_verify(issuer.public_key, digest[:32], r, s)
        else:
            n, e = issuer.public_key
            ok = c.rsa_verify(n, e, cert.signature, digest, cert.sig_hash,
                              cert.pss_salt)
    except CertificateError:
        raise
    except (CryptoError, ValueError) as e:
        _fail("cannot verify the signature of certificate %s by %s: %s"
              % (cert.name(), issuer.name(), e))
    if not ok:
        _fail("signature of certificate %s does not verify with the key of %s"
              % (cert.name(), issuer.name()))


def _check_time(cert, now):
    if now is None:
        return
    if now > cert.not_after:
        t, what = cert.not_after, "expired on"
    elif now < cert.not_before:
        t, what = cert.not_before, "is not valid before"
    else:
        return
    full = t // 86400 == now // 86400
    msg = "certificate %s %s %s (device time %s)" % (
        cert.name(), what, format_time(t, full), format_time(now, full))
    if now < 1704067200:  # 2024-01-01
        msg += "; is the device clock set?"
    _fail(msg)


def _check_issuer(c, cert, ca, depth, now):
    # ca may issue cert, which sits at depth - 1 (the leaf is at depth 0)
    if not ca.ca:
        _fail("certificate %s is not a CA (no basicConstraints cA) and cannot"
              " issue %s" % (ca.name(), cert.name()))
    if ca.key_usage is not None and not ca.key_usage & KU_KEY_CERT_SIGN:
        _fail("CA certificate %s has no keyCertSign key usage and cannot issue %s"
              % (ca.name(), cert.name()))
    if ca.path_len is not None and depth - 1 > ca.path_len:
        _fail("CA certificate %s allows %d CA certificates below it"
              " (pathLenConstraint), the path has %d"
              % (ca.name(), ca.path_len, depth - 1))
    _check_time(ca, now)
    verify_signature(c, cert, ca)


def _build(c, leaf, cert, inter, anchors, depth, now):
    # -> [issuer, ..., anchor] above cert (at depth - 1), or raises the
    # first error met; tries anchors first, then intermediates
    err = None
    for ca in anchors:
        if ca.subject == cert.issuer:
            try:
                _check_issuer(c, cert, ca, depth, now)
                return [ca]
            except CertificateError as e:
                err = err or e
    for i, ca in enumerate(inter):
        if ca.subject == cert.issuer and ca is not cert:
            if depth >= MAX_DEPTH:
                err = err or CertificateError(
                    "certificate chain of %s is longer than %d CA certificates"
                    % (leaf.name(), MAX_DEPTH))
                continue
            try:
                _check_issuer(c, cert, ca, depth, now)
                return [ca] + _build(c, leaf, ca, inter[:i] + inter[i + 1:],
                                     anchors, depth + 1, now)
            except CertificateError as e:
                err = err or e
    if err:
        raise err
    _fail("certificate %s is not issued by a trusted CA (issuer %s)"
          % (cert.name(), dn_string(cert.issuer)))


def verify_chain(c, leaf, intermediates, anchors, now=None):
    # leaf -> intermediates (any order) -> one of the trusted anchors.
    # now: seconds since 1970 UTC, or None to skip the validity periods.
    # -> [leaf, ..., anchor]
    if now is not None:
        now = int(now)
    _check_time(leaf, now)
    for a in anchors:
        if a.der == leaf.der:
            return [leaf]
    return [leaf] + _build(c, leaf, leaf, list(intermediates), anchors, 1, now)


# --- private keys -----------------------------------------------------------

class PrivateKey:
    # key_type "ecdsa": d, public_key (64 bytes x||y);
    # key_type "rsa": n, e, d, p, q, dp, dq, qinv.  Never printed.
    def __init__(self, der):
        self.public_key = None
        try:
            self._parse(Reader(der, "private key"))
        except CertificateError:
            raise
        except (IndexError, ValueError, TypeError, KeyError, OverflowError) as e:
            raise CertificateError("malformed private key (%s)" % type(e).__name__)

    def _parse(self, r):
        seq = r.sub()
        r.done()
        if seq.peek() == _SEQ:
            _fail("encrypted PKCS#8 private keys are not supported:"
                  " store the key unencrypted")
        ver = seq.integer()
        tag = seq.peek()
        if tag == _OCT:  # SEC1 ECPrivateKey
            self._ec(seq, ver, None)
        elif tag == _INT:  # PKCS#1 RSAPrivateKey
            self._rsa(seq, ver)
        elif tag == _SEQ and ver <= 1:  # PKCS#8 PrivateKeyInfo
            a = seq.sub()
            oid = a.oid()
            k = seq.sub(_OCT)
            while seq.more():  # [0] attributes, [1] publicKey
                seq.skip()
            inner = k.sub()
            k.done()
            ver = inner.integer()
            if oid == _RSA:
                if a.more():
                    a.null()
                a.done()
                self._rsa(inner, ver)
            elif oid == _EC_PUB:
                curve = a.oid()
                a.done()
                self._ec(inner, ver, curve)
            else:
                _fail("private key algorithm %s is not supported" % oid_str(oid))
        else:
            seq.fail("not a SEC1, PKCS#1 or PKCS#8 private key")

    def _rsa(self, s, ver):
        if ver != 0:
            _fail("multi-prime RSA private keys are not supported")
        self.key_type = "rsa"
        self.n = s.integer()
        self.e = s.integer()
        self.d = s.integer()
        self.p = s.integer()
        self.q = s.integer()
        self.dp = s.integer()
        self.dq = s.integer()
        self.qinv = s.integer()
        s.done()
        if self.p * self.q != self.n:
            _fail("inconsistent RSA private key (n != p*q)")
        self.key_bits = bit_length(self.n)

    def _ec(self, s, ver, curve):
        if ver != 1:
            _fail("unsupported EC private key version %d" % ver)
        d = int.from_bytes(s.octets(), "big")
        pub = None
        if s.peek() == 0xA0:
            t = s.sub(0xA0)
            curve = t.oid()
            t.done()
        if s.peek() == 0xA1:
            t = s.sub(0xA1)
            pub = t.bitstring()
            t.done()
        s.done()
        if curve != _P256:
            _fail("EC private key on curve %s is not supported (P-256 only)"
                  % (oid_str(curve) if curve else "(unnamed)"))
        if not 0 < d < _P256_N:
            _fail("EC private key out of range")
        if pub is not None:
            if len(pub) != 65 or pub[0] != 4:
                _fail("EC private key holds a public key that is not an"
                      " uncompressed P-256 point")
            pub = pub[1:]
        else:
            from .crypto import p256

            pub = p256.encode_point(p256.mul_base(d))
        self.key_type = "ecdsa"
        self.key_bits = 256
        self.d = d
        self.public_key = pub

    def __repr__(self):
        return "<PrivateKey %s %d-bit>" % (self.key_type, self.key_bits)


def load_private_key(data):
    # PEM ("EC PRIVATE KEY", "RSA PRIVATE KEY", "PRIVATE KEY") or DER
    data = _bytes(data)
    if b"-----BEGIN " not in data:
        return PrivateKey(data)
    labels = []
    for label, d in pem_decode(data):
        if label == "ENCRYPTED PRIVATE KEY":
            _fail("encrypted private keys (ENCRYPTED PRIVATE KEY) are not"
                  " supported: store the key unencrypted")
        if label in ("EC PRIVATE KEY", "RSA PRIVATE KEY", "PRIVATE KEY"):
            return PrivateKey(d)
        labels.append(label)
    _fail("no private key in the PEM data (blocks: %s)"
          % (", ".join(labels) or "none"))
