# Certificate authentication for IKE_AUTH (RFC 7296 2.15, RFC 7427):
# loading the device's credentials when a Config is made, signing our
# AUTH, and verifying the gateway's certificate chain and AUTH signature.
# Loaded only by the configuration check and by IKE_AUTH: a PSK device
# never imports it, and the session drops it with the handshake.
#
# Methods: 14 (Digital Signature, RFC 7427) when the gateway announced
# SIGNATURE_HASH_ALGORITHMS with SHA2-256, else the classic ones: 9
# (ECDSA with SHA-256 on P-256, r | s) and 1 (RSA PKCS#1 v1.5; SHA-1, as
# RFC 7296 implementations use it).  The gateway may use any of the three.
#
# Validity dates (validity_check):
#   auto    checked when the device knows the time (a clock after
#           2025-01-01: set by NTP or an RTC), else skipped: a device whose
#           clock is unset after a cold boot can still connect, and the
#           chain, the name and the signature are checked regardless;
#   always  the clock must be set, or the gateway is refused;
#   never   dates are not checked.
# x509.py (and der.py) are imported where needed, not here: signing our
# AUTH needs neither, and the handshake's peak heap is lower without them.
from . import const as C
from .errors import (AuthenticationFailed, CertificateError, ConfigError,
                     CryptoError)
from .rare import Cert, CertReq

CLOCK_SET_AFTER = 1735689600  # 2025-01-01T00:00:00Z
_HASH_IDS = {"sha256": 2, "sha384": 3, "sha512": 4}  # RFC 7427 4


# ---------------------------------------------------------------- config
def _read(cfg, key, value):
    # a PEM text in the configuration itself, or a file's name
    if "-----BEGIN" in value:
        return value.encode()
    try:
        with open(value, "rb") as f:
            return f.read()
    except OSError as e:
        if key == "private_key" and ("." not in value or "\n" in value):
            # not a file's name: maybe the key itself (base64 or hex
            # without PEM lines): never echoed (CPython's OSError names it)
            value = "(its value, not shown)"
            e = getattr(e, "strerror", None) or e.args[0]
        raise ConfigError("%s: cannot read %r (%s)" % (key, value, e))


def _choice(cfg, key, words):
    v = getattr(cfg, key)
    if v not in words.split():
        raise ConfigError("%s: %r is not one of %s" % (key, v, words))
    return v


def check(cfg):
    # the Config check (configcheck.py) of a configuration that uses
    # certificates on either side: how each side authenticates ("psk", or
    # "pubkey": a certificate and its key, RFC 7427 signatures when the
    # gateway supports them, else the classic methods 1 and 9; "classic"
    # for the classic ones only), then the credentials
    la = _choice(cfg, "local_auth", "auto psk pubkey classic")
    if la == "auto":
        la = "pubkey" if cfg.cert else "psk"
    ra = _choice(cfg, "remote_auth", "auto psk pubkey")
    if ra == "auto":
        ra = "pubkey" if cfg.ca_cert else "psk"
    cfg.local_auth, cfg.remote_auth = la, ra
    _choice(cfg, "validity_check", "auto always never")
    cfg.psk_bytes = None
    if "psk" in (la, ra):
        if not cfg.psk:
            raise ConfigError("psk: empty pre-shared key (needed for %s "
                              "authentication)" % ("our" if la == "psk"
                                                   else "the gateway's"))
        cfg.psk_bytes = cfg.psk.encode()
    cfg.key = None
    cfg.ca_ders = []
    cfg.cert_ders = []
    cfg.certreq = b""
    check_credentials(cfg)


def check_credentials(cfg):
    # Config check (configcheck.py): read and parse cert, private_key and
    # ca_cert, so that a bad file is a ConfigError naming the key, not an
    # error in the middle of a handshake.  Keeps DER, the key numbers and
    # the CERTREQ data (SHA-1 of each CA's SubjectPublicKeyInfo, RFC 7296
    # 3.7).
    from . import x509
    import hashlib

    la, ra = cfg.local_auth, cfg.remote_auth
    if la != "psk":
        for k in ("cert", "private_key"):
            if not getattr(cfg, k):
                raise ConfigError("%s: required with local_auth %r (a PEM "
                                  "file's name or its text)" % (k, la))
    if ra == "pubkey":
        if not cfg.ca_cert:
            raise ConfigError("ca_cert: required to verify the gateway's "
                              "certificate (remote_auth pubkey)")
        if not cfg.remote_id:
            raise ConfigError("remote_id: required with remote_auth pubkey: "
                              "the gateway's certificate must carry it")
    key = "cert"
    try:
        if cfg.cert:
            certs = x509.load_certs(_read(cfg, "cert", cfg.cert))
            if not certs:
                raise CertificateError("no certificate in it")
            cfg.cert_ders = [c.der for c in certs]
            mine = certs[0]
            certs = None
            key = "private_key"
            if cfg.private_key:
                k = x509.load_private_key(_read(cfg, key, cfg.private_key))
                pub = (k.n, k.e) if k.key_type == "rsa" else k.public_key
                if k.key_type != mine.key_type or pub != mine.public_key:
                    raise CertificateError("it does not belong to the "
                                           "certificate %s" % mine.name())
                from .rare import Key

                cfg.key = Key(k)
                k = None
            if not mine.matches_id(cfg.idi[0], cfg.idi[1]):
                raise ConfigError(
                    "local_id: %r is not in the certificate %s (%s)"
                    % (cfg.local_id, mine.name(), names(mine)))
        key = "ca_cert"
        for f in cfg.ca_cert:
            got = x509.load_certs(_read(cfg, key, f))
            if not got:
                raise CertificateError("no certificate in %r" % f)
            for c in got:
                cfg.ca_ders.append(c.der)
                cfg.certreq += hashlib.sha1(c.spki).digest()
    except CertificateError as e:
        raise ConfigError("%s: %s" % (key, e))


def names(cert):
    # the identities a certificate carries, for messages
    out = []
    for n in cert.dns_names:
        out.append(n)
    for a in cert.ip_addrs:
        if len(a) == 4:
            out.append("%d.%d.%d.%d" % tuple(a))
    for e in cert.emails:
        out.append(e)
    if not out:
        return "no subjectAltName"
    return "subjectAltName " + ", ".join(out)


def device_time():
    # seconds since 1970 (UTC), or None while the clock is unset
    import time

    t = time.time()
    if time.gmtime(0)[0] == 2000:  # MicroPython ports with a 2000 epoch
        t += 946684800
    return int(t) if t >= CLOCK_SET_AFTER else None


# ---------------------------------------------------------------- IKE_SA_INIT
def hashes(c):
    # SIGNATURE_HASH_ALGORITHMS (RFC 7427 4): SHA2-256 (2) always, SHA2-384
    # (3) and SHA2-512 (4) where the runtime has them (MicroPython's
    # hashlib usually does not)
    out = b"\x00\x02"
    for name in ("sha384", "sha512"):
        try:
            c.hash(name, b"")
            out += bytes((0, _HASH_IDS[name]))
        except CryptoError:
            pass
    return out


def _rfc7427(s):
    # the gateway announced SHA2-256 for RFC 7427 signatures
    d = s.peer_hashes
    for i in range(0, len(d) - 1, 2):
        if d[i] == 0 and d[i + 1] == 2:
            return True
    return False


# ---------------------------------------------------------------- our AUTH
def octets(c, real, nonce, sk_p, id_body):
    # RFC 7296 2.15: RealMessage | Nonce | prf(SK_p, RestOfIDPayload)
    return real + nonce + c.hmac_sha256(sk_p, id_body)


def build(s, idi, pl):
    # IKE_AUTH request (tasks.py): appends CERT (ours and any
    # intermediates) and CERTREQ (the SHA-1 hashes of our CAs' public keys,
    # RFC 7296 3.7) to pl; -> our Auth payload, signed or with the PSK
    from .payloads import Auth

    cfg = s.cfg
    if cfg.local_auth != "psk":
        for d in cfg.cert_ders:
            pl.append(Cert(C.CERT_X509_SIG, d))
    if cfg.remote_auth == "pubkey" and cfg.send_certreq:
        pl.append(CertReq(C.CERT_X509_SIG, cfg.certreq))
    if cfg.local_auth == "psk":
        from .keys import psk_auth

        return Auth(C.AUTH_SHARED_KEY, psk_auth(s.c, cfg.psk_bytes, s.real1, s.nr,
                                                s.keys.sk_pi, idi.encode()))
    m, data = sign(s, octets(s.c, s.real1, s.nr, s.keys.sk_pi, idi.encode()))
    return Auth(m, data)


def process(s, msg, idr, auth):
    # IKE_AUTH response (tasks.py): the gateway's certificate and signature
    verify(s, msg, idr, auth, octets(s.c, s.real2, s.ni, s.keys.sk_pr,
                                     idr.encode()))


def sign(s, data):
    # -> (method, AUTH data) over the signed octets `data`
    c = s.c
    k = s.cfg.key
    rfc7427 = s.cfg.local_auth == "pubkey" and _rfc7427(s)
    if k.key_type == "ecdsa":
        r, sig = c.ecdsa_sign(k.d, c.hash("sha256", data))
        if not rfc7427:
            return C.AUTH_ECDSA_256, r.to_bytes(32, "big") + sig.to_bytes(32, "big")
        from .der import ALG_ECDSA_SHA256, encode_ecdsa_sig

        sig = encode_ecdsa_sig(r, sig)
        alg = ALG_ECDSA_SHA256
    else:
        if not rfc7427:
            return C.AUTH_RSA_SIG, c.rsa_sign(k, c.hash("sha1", data), "sha1")
        sig = c.rsa_sign(k, c.hash("sha256", data), "sha256")
        from .der import ALG_RSA_SHA256

        alg = ALG_RSA_SHA256
    return C.AUTH_DIGITAL_SIGNATURE, bytes((len(alg),)) + alg + sig


# ---------------------------------------------------------------- the gateway
def verify(s, msg, idr, auth, data):
    # The gateway's certificate chain, identity and AUTH signature over
    # `data`; raises CertificateError / AuthenticationFailed.
    from . import x509

    cfg = s.cfg
    c = s.c
    if auth.method not in (C.AUTH_RSA_SIG, C.AUTH_ECDSA_256,
                           C.AUTH_DIGITAL_SIGNATURE):
        raise AuthenticationFailed(
            "the gateway authenticates with method %d, not with a "
            "certificate (remote_auth is pubkey)" % auth.method)
    ders = []
    for p in msg.find_all(Cert):
        if p.encoding == C.CERT_X509_SIG:
            ders.append(p.data)
    if not ders:
        raise AuthenticationFailed("the gateway sent no certificate (send_cert "
                                   "= always on the gateway, or keep "
                                   "send_certreq on)")
    leaf = x509.Certificate(ders[0])
    inter = []
    for d in ders[1:]:
        inter.append(x509.Certificate(d))
    ders = None
    anchors = []
    for d in cfg.ca_ders:
        anchors.append(x509.Certificate(d))
    now = None
    if cfg.validity_check != "never":
        wall = getattr(s, "wall", None)  # a driver's clock, see session.py
        now = wall() if wall is not None else device_time()
        if now is None:
            if cfg.validity_check == "always":
                raise CertificateError(
                    "the device clock is not set, so the gateway "
                    "certificate's dates cannot be checked (validity_check "
                    "always): set the time first (NTP)")
            s.auth["dates_checked"] = False
    x509.verify_chain(c, leaf, inter, anchors, now)
    inter = anchors = None
    if not leaf.matches_id(idr.id_type, idr.data):
        raise CertificateError(
            "the gateway's certificate %s is not for its identity %s (%s)"
            % (leaf.name(), cfg.remote_id, names(leaf)))
    _check_sig(c, leaf, auth, data)
    s.auth["peer_cert"] = leaf.name()
    if now is not None:
        s.auth["dates_checked"] = True


def _check_sig(c, leaf, auth, data):
    from . import x509

    m = auth.method
    sig = auth.data
    salt = None
    if m == C.AUTH_DIGITAL_SIGNATURE:
        n = sig[0] if sig else 0
        if len(sig) < 1 + n:
            raise AuthenticationFailed("malformed RFC 7427 AUTH payload")
        name, hname, salt = x509.parse_sig_alg(sig[1:1 + n])
        if hname not in _HASH_IDS:
            raise AuthenticationFailed("the gateway signs with %s, which we "
                                       "did not offer" % hname)
        sig = sig[1 + n:]
        kind = "ecdsa" if name.endswith("ecdsa") else "rsa"
    elif m == C.AUTH_ECDSA_256:
        kind, hname = "ecdsa", "sha256"
    else:
        kind, hname = "rsa", "sha1"
    if kind != leaf.key_type:
        raise AuthenticationFailed("the gateway signs with %s but its "
                                   "certificate holds an %s key"
                                   % (kind, leaf.key_type))
    h = c.hash(hname, data)
    if kind == "ecdsa":
        if m == C.AUTH_ECDSA_256:
            if len(sig) != 64:
                raise AuthenticationFailed("ECDSA AUTH of %d bytes" % len(sig))
            r, sv = (int.from_bytes(sig[:32], "big"),
                     int.from_bytes(sig[32:], "big"))
        else:
            try:
                r, sv = x509.decode_ecdsa_sig(sig)
            except CertificateError:
                raise AuthenticationFailed("malformed ECDSA signature in AUTH")
        ok = c.ecdsa_verify(leaf.public_key, h, r, sv)
    else:
        n, e = leaf.public_key
        ok = c.rsa_verify(n, e, sig, h, hname, salt)
    if not ok:
        raise AuthenticationFailed("the gateway's AUTH signature does not "
                                   "verify with the key of its certificate %s"
                                   % leaf.name())
