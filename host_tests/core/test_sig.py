# Signature primitives for certificate authentication (RFC 7427): hash(),
# ECDSA P-256 and RSA (PKCS#1 v1.5, PSS), on every backend, against
# published vectors (RFC 6979 A.2.5) and vectors made once with OpenSSL
# (vectors/sig_rsa.json, see make_sig_vectors.py).  Runs under pytest and
# under mp_runner.py on MicroPython.
from harness import per_backend, vectors, h, raises, backends
from ikev2.crypto import p256
from ikev2.errors import CryptoError

N = p256.N


def _flip(b, i=0, bit=1):
    b = bytearray(b)
    b[i] ^= bit
    return bytes(b)


def _ec():
    v = vectors("sig_rfc6979_p256.json")
    return v, int(v["x"], 16), h(v["ux"]) + h(v["uy"])


# -- hash() -----------------------------------------------------------------

@per_backend
def test_hash_known_answers(backend):
    # FIPS 180-2 Appendix B "abc" examples
    assert backend.hash("sha256", b"abc") == h(
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    assert backend.hash("sha1", b"abc") == h(
        "a9993e364706816aba3e25717850c26c9cd0d89d")
    assert backend.hash("sha256", b"") == h(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert backend.hash("sha256", b"abc") == backend.sha256(b"abc")
    raises(CryptoError, backend.hash, "md5", b"abc")
    raises(CryptoError, backend.hash, "sha3-256", b"abc")


@per_backend
def test_hash_sha384_sha512_or_clear_error(backend):
    want = {
        "sha384": "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163"
                  "1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
        "sha512": "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    }
    for name in ("sha384", "sha512"):
        try:
            got = backend.hash(name, b"abc")
        except CryptoError as e:
            # MicroPython without it: the message names the hash
            assert backend.NAME != "host", e
            assert ("SHA-" + name[3:]) in str(e), e
            continue
        assert got == h(want[name]), name


def test_bit_length():
    # sig.bit_length stands in for int.bit_length (missing on MicroPython)
    from ikev2.crypto.sig import bit_length

    for x, n in ((0, 0), (1, 1), (15, 4), (16, 5), (255, 8), (256, 9),
                 (N, 256), ((1 << 4096) - 1, 4096), (1 << 4096, 4097)):
        assert bit_length(x) == n, x


# -- ECDSA P-256 ------------------------------------------------------------

@per_backend
def test_ecdsa_rfc6979_key(backend):
    v, x, pub = _ec()
    assert backend.dh_public(19, x.to_bytes(32, "big")) == pub


@per_backend
def test_ecdsa_sign_rfc6979(backend):
    # RFC 6979 A.2.5, SHA-256 rows: deterministic k from HMAC-SHA-256, so
    # r and s are known answers (r also fixes k: r == (k*G).x mod n).  The
    # third row (C2SP CCTV) rejects the first k candidate (>= n).
    # The host signs with OpenSSL's random k: its signatures must verify
    # on every backend instead.
    v, x, pub = _ec()
    rows = [c for c in v["cases"] if c["hmac_sha256_k"]]
    assert len(rows) == 3 and rows[2].get("rejection")
    for c in rows:
        d = h(c["digest"])
        r, s = backend.ecdsa_sign(x, d)
        if backend.NAME == "host":
            for b in backends():
                assert b.ecdsa_verify(pub, d, r, s), (b.NAME, c["msg"])
            assert (r, s) != (int(c["r"], 16), int(c["s"], 16))
        else:
            assert r == int(c["r"], 16), c["msg"]
            assert s == int(c["s"], 16), c["msg"]


@per_backend
def test_ecdsa_sign_deterministic(backend):
    v, x, pub = _ec()
    d = h(v["cases"][2]["digest"])
    one = backend.ecdsa_sign(x, d)
    two = backend.ecdsa_sign(x, d)
    assert (one == two) == (backend.NAME != "host")


@per_backend
def test_ecdsa_verify_rfc6979(backend):
    # every row, SHA-1 to SHA-512: digests of 20 to 64 bytes, truncated
    # to 256 bits (FIPS 186-4 6.4)
    v, x, pub = _ec()
    assert len(v["cases"]) == 11
    for c in v["cases"]:
        d, r, s = h(c["digest"]), int(c["r"], 16), int(c["s"], 16)
        label = c["hash"] + " " + c["msg"]
        assert backend.ecdsa_verify(pub, d, r, s) is True, label
        # the signature of the other message does not verify
        other = [o for o in v["cases"]
                 if o["hash"] == c["hash"] and o["msg"] != c["msg"]][0]
        assert backend.ecdsa_verify(pub, d, int(other["r"], 16),
                                    int(other["s"], 16)) is False, label


@per_backend
def test_ecdsa_verify_rejects(backend):
    v, x, pub = _ec()
    c = v["cases"][2]
    d, r, s = h(c["digest"]), int(c["r"], 16), int(c["s"], 16)
    assert backend.ecdsa_verify(pub, d, r, s)
    for bit in (0, 7, 255):
        assert not backend.ecdsa_verify(pub, d, r ^ (1 << bit), s), bit
        assert not backend.ecdsa_verify(pub, d, r, s ^ (1 << bit)), bit
    for i in (0, 31):
        assert not backend.ecdsa_verify(pub, _flip(d, i), r, s), i
    # a 48-byte digest uses only its first 32 bytes: changing the rest
    # changes nothing, changing the first 32 breaks it
    d48 = h(v["cases"][3]["digest"])
    r48, s48 = int(v["cases"][3]["r"], 16), int(v["cases"][3]["s"], 16)
    assert backend.ecdsa_verify(pub, _flip(d48, 40), r48, s48)
    assert not backend.ecdsa_verify(pub, _flip(d48, 31), r48, s48)
    # out of range: never raises, just False
    for rr, ss in ((0, s), (r, 0), (N, s), (r, N), (r + N, s), (r, s + N),
                   (-r, s), (r, -s)):
        assert backend.ecdsa_verify(pub, d, rr, ss) is False, (rr, ss)
    # the signature under another key
    other = backend.dh_public(19, (x + 1).to_bytes(32, "big"))
    assert backend.ecdsa_verify(other, d, r, s) is False


@per_backend
def test_ecdsa_bad_public_key_raises(backend):
    v, x, pub = _ec()
    c = v["cases"][2]
    d, r, s = h(c["digest"]), int(c["r"], 16), int(c["s"], 16)
    bad = [
        _flip(pub, 63),                      # y + 1: not on the curve
        _flip(pub, 5),                       # x changed
        pub[:63],                            # short
        pub + b"\x00",                       # long
        b"\x04" + pub[:63],                  # SEC1 prefix instead of x
        bytes(64),                           # (0, 0)
        p256.P.to_bytes(32, "big") + pub[32:],  # x out of range
    ]
    for pk in bad:
        raises(CryptoError, backend.ecdsa_verify, pk, d, r, s)


@per_backend
def test_ecdsa_sign_rejects_bad_scalar(backend):
    d = bytes(32)
    for k in (0, N, N + 1, -1):
        raises(CryptoError, backend.ecdsa_sign, k, d)


@per_backend
def test_ecdsa_cross_backend(backend):
    # a signature from this backend verifies on every backend, for digests
    # of 20, 32, 48 and 64 bytes, with scalars at the ends of the range
    others = backends()
    for x in (1, 0x1234567890abcdef, N - 1):
        pub = p256.encode_point(p256.mul_base(x))
        for n in (20, 32, 48, 64):
            d = bytes(range(7, 7 + n))
            r, s = backend.ecdsa_sign(x, d)
            assert 1 <= r < N and 1 <= s < N
            for b in others:
                assert b.ecdsa_verify(pub, d, r, s), (b.NAME, x, n)
                assert not b.ecdsa_verify(pub, _flip(d, 0), r, s), (b.NAME, x, n)


# -- RSA --------------------------------------------------------------------

class Key:
    # rsa_sign's key: an object with int attributes
    def __init__(self, kd):
        for f in ("n", "e", "d", "p", "q", "dp", "dq", "qinv"):
            setattr(self, f, int(kd[f], 16))


def _keys():
    return vectors("sig_rsa.json")["keys"]


def _ne(kd):
    return int(kd["n"], 16), int(kd["e"], 16)


def _available(backend, name):
    try:
        backend.hash(name, b"")
        return True
    except CryptoError:
        return False


@per_backend
def test_rsa_pkcs1_verify(backend):
    keys = _keys()
    assert [k["bits"] for k in keys] == [2048, 3072, 1024, 1025, 4096]
    seen = set()
    for kd in keys:
        n, e = _ne(kd)
        for c in kd["pkcs1"]:
            label = "%s %s" % (kd["name"], c["hash"])
            name, d, sig = c["hash"], h(c["digest"]), h(c["sig"])
            seen.add((kd["bits"], name))
            assert backend.rsa_verify(n, e, sig, d, name) is True, label
            assert backend.rsa_verify(n, e, sig, _flip(d, 0), name) is False, label
            assert backend.rsa_verify(n, e, sig, _flip(d, len(d) - 1), name) is False
            assert backend.rsa_verify(n, e, _flip(sig, len(sig) - 1), d, name) is False
            assert backend.rsa_verify(n, e, sig[:-1], d, name) is False, label
            assert backend.rsa_verify(n, e, b"\x00" + sig, d, name) is False, label
            assert backend.rsa_verify(n, e, sig[1:] + b"\x00", d, name) is False
            # the same signature is not a PSS one
            if _available(backend, name):
                assert backend.rsa_verify(n, e, sig, d, name, len(d)) is False
            else:
                raises(CryptoError, backend.rsa_verify, n, e, sig, d, name, len(d))
            if c.get("leading_zero"):
                # the integer fits in k - 1 bytes, but a signature is k bytes
                assert sig[0] == 0
                assert backend.rsa_verify(n, e, sig[1:], d, name) is False
                # s + n is s mod n, but not a signature (RFC 8017 5.2.2)
                s_n = (int.from_bytes(sig, "big") + n).to_bytes(len(sig), "big")
                assert backend.rsa_verify(n, e, s_n, d, name) is False
                seen.add("leading_zero")
    for want in ((2048, "sha256"), (2048, "sha1"), (2048, "sha384"),
                 (2048, "sha512"), (3072, "sha256"), (3072, "sha1"),
                 (1024, "sha256"), (4096, "sha256"), "leading_zero"):
        assert want in seen, want


@per_backend
def test_rsa_pkcs1_wrong_hash_or_key(backend):
    keys = _keys()
    n, e = _ne(keys[0])
    c = keys[0]["pkcs1"]
    sha256, sha512 = c[0], c[3]
    assert (sha256["hash"], sha512["hash"]) == ("sha256", "sha512")
    # a SHA-256 signature is not a SHA-512 one (DigestInfo differs), and a
    # digest of the wrong length is a caller error
    assert backend.rsa_verify(n, e, h(sha256["sig"]),
                              h(sha512["digest"]), "sha512") is False
    raises(CryptoError, backend.rsa_verify, n, e, h(sha256["sig"]),
           h(sha256["digest"]), "sha512")
    raises(CryptoError, backend.rsa_verify, n, e, h(sha256["sig"]),
           h(sha256["digest"]), "md5")
    # another key of the same size
    n3, e3 = _ne(keys[1])
    assert backend.rsa_verify(n3, e3, h(keys[1]["pkcs1"][0]["sig"]),
                              h(keys[1]["pkcs1"][0]["digest"]), "sha256")
    sig = h(sha256["sig"])
    assert backend.rsa_verify(n, e, sig, h(sha256["digest"]), "sha256")
    assert backend.rsa_verify(n, 3, sig, h(sha256["digest"]), "sha256") is False
    # s >= n is not a signature
    assert backend.rsa_verify(n, e, n.to_bytes(256, "big"),
                              h(sha256["digest"]), "sha256") is False
    assert backend.rsa_verify(n, e, b"\xff" * 256, h(sha256["digest"]),
                              "sha256") is False


@per_backend
def test_rsa_key_limits(backend):
    d = bytes(32)
    for n in ((1 << 1022) + 1, (1 << 4096) + 1, 3):  # 1023 and 4097 bits
        raises(CryptoError, backend.rsa_verify, n, 65537, bytes(128), d, "sha256")
    n, e = _ne(_keys()[0])
    raises(CryptoError, backend.rsa_verify, n + 1, e, bytes(256), d, "sha256")
    for bad_e in (1, 2, 65536, n, n + 2):
        raises(CryptoError, backend.rsa_verify, n, bad_e, bytes(256), d, "sha256")


@per_backend
def test_rsa_pss_verify(backend):
    count = 0
    for kd in _keys():
        n, e = _ne(kd)
        for c in kd["pss"]:
            label = "%s %s/%d" % (kd["name"], c["hash"], c["salt"])
            name, d, sig, salt = c["hash"], h(c["digest"]), h(c["sig"]), c["salt"]
            if not _available(backend, name):
                # PSS hashes with the named hash: a clear error, not False
                e_ = raises(CryptoError, backend.rsa_verify, n, e, sig, d, name, salt)
                assert ("SHA-" + name[3:]) in str(e_), e_
                continue
            count += 1
            assert backend.rsa_verify(n, e, sig, d, name, salt) is True, label
            assert backend.rsa_verify(n, e, sig, _flip(d, 0), name, salt) is False
            assert backend.rsa_verify(n, e, sig, _flip(d, len(d) - 1), name, salt) is False
            for wrong in (salt - 1, salt + 1, 0, 200, 4096):
                assert backend.rsa_verify(n, e, sig, d, name, wrong) is False, (label, wrong)
            assert backend.rsa_verify(n, e, sig[:-1], d, name, salt) is False, label
            assert backend.rsa_verify(n, e, _flip(sig, 100), d, name, salt) is False
            # a PSS signature is not a PKCS#1 v1.5 one
            assert backend.rsa_verify(n, e, sig, d, name) is False, label
    assert count >= 7  # sha256 rows at least: 2048 x3, 3072 x2, 1024, 1025


@per_backend
def test_rsa_pss_randomized_pair(backend):
    # two PSS signatures of one digest differ, and both verify
    kd = _keys()[0]
    n, e = _ne(kd)
    a, b = kd["pss"][0], kd["pss"][1]
    assert a["digest"] == b["digest"] and a["sig"] != b["sig"]
    for c in (a, b):
        assert backend.rsa_verify(n, e, h(c["sig"]), h(c["digest"]), "sha256", 32)


@per_backend
def test_rsa_sign_pkcs1(backend):
    # PKCS#1 v1.5 is deterministic: the bytes OpenSSL made, on every
    # backend (SHA-384/512 too: signing needs only the digest)
    count = 0
    for kd in _keys():
        if "d" not in kd:
            continue
        key = Key(kd)
        for c in kd["pkcs1"]:
            sig = backend.rsa_sign(key, h(c["digest"]), c["hash"])
            assert sig == h(c["sig"]), (kd["name"], c["hash"])
            count += 1
    assert count == 8


@per_backend
def test_rsa_sign_checks(backend):
    kd = _keys()[0]
    d = h(kd["pkcs1"][0]["digest"])
    key = Key(kd)
    raises(CryptoError, backend.rsa_sign, key, d[:31], "sha256")
    raises(CryptoError, backend.rsa_sign, key, d, "sha384")
    # a corrupted CRT exponent: the result fails its check with e (pure,
    # mpy); OpenSSL (host) detects the fault itself and falls back to d, so
    # its signature is the right one.  Never a wrong signature.
    for f in ("dp", "dq", "qinv"):
        bad = Key(kd)
        setattr(bad, f, getattr(bad, f) ^ 2)
        try:
            sig = backend.rsa_sign(bad, d, "sha256")
        except CryptoError:
            continue
        assert backend.NAME == "host" and sig == h(kd["pkcs1"][0]["sig"]), f
    # a corrupted d or modulus: refused on every backend
    bad = Key(kd)
    bad.d ^= 2
    bad.dp ^= 2
    bad.dq ^= 2
    raises(CryptoError, backend.rsa_sign, bad, d, "sha256")
    # the good key still signs after the failures
    assert backend.rsa_sign(key, d, "sha256") == h(kd["pkcs1"][0]["sig"])


@per_backend
def test_rsa_sign_cross_backend(backend):
    # a signature of a fresh digest verifies on every backend
    kd = _keys()[1]
    n, e = _ne(kd)
    d = backend.hash("sha256", b"cross-backend")
    sig = backend.rsa_sign(Key(kd), d, "sha256")
    for b in backends():
        assert b.rsa_verify(n, e, sig, d, "sha256"), b.NAME
        assert b.rsa_sign(Key(kd), d, "sha256") == sig, b.NAME


# -- RSA: encodings made here, signed with the raw private key ---------------
# Each is a well-formed RSA signature of a malformed encoded message: a
# verifier that skips one check of RFC 8017 accepts it.

def _raw_sign(kd, em):
    # RSASP1 with the CRT, on the integer of em (independent of the library)
    p, q = int(kd["p"], 16), int(kd["q"], 16)
    m = int.from_bytes(em, "big")
    assert m < int(kd["n"], 16)
    m1 = pow(m, int(kd["dp"], 16), p)
    m2 = pow(m, int(kd["dq"], 16), q)
    s = m2 + (int(kd["qinv"], 16) * (m1 - m2) % p) * q
    return s.to_bytes(kd["bits"] // 8, "big")


_SHA256_INFO = h("3031300d060960864801650304020105000420")


def _pkcs1_em(k, t, head=b"\x00\x01", pad=0xFF):
    return head + bytes((pad,)) * (k - len(t) - 3) + b"\x00" + t


@per_backend
def test_rsa_pkcs1_crafted(backend):
    kd = _keys()[0]
    n, e = _ne(kd)
    k = kd["bits"] // 8
    d = backend.hash("sha256", b"crafted")
    t = _SHA256_INFO + d
    good = _pkcs1_em(k, t)
    assert backend.rsa_verify(n, e, _raw_sign(kd, good), d, "sha256") is True
    bad = [
        _pkcs1_em(k, t, head=b"\x00\x02"),            # block type 2
        _pkcs1_em(k, t, pad=0xFE),                     # padding not 0xff
        good[:20] + b"\x00" + good[21:],               # a zero inside PS
        # DigestInfo without the NULL parameters
        _pkcs1_em(k, h("302f300b0609608648016503040201") + b"\x04\x20" + d),
        # DigestInfo of SHA-512's OID with a SHA-256 digest
        _pkcs1_em(k, h("3031300d060960864801650304020305000420") + d),
        # the digest followed by garbage (a short PS): Bleichenbacher 2006
        _pkcs1_em(k - 8, t) + bytes(range(8)),
    ]
    for i, em in enumerate(bad):
        assert len(em) == k
        assert backend.rsa_verify(n, e, _raw_sign(kd, em), d, "sha256") is False, i


def _mgf1(seed, n):
    import hashlib

    out = b""
    c = 0
    while len(out) < n:
        out += hashlib.sha256(seed + c.to_bytes(4, "big")).digest()
        c += 1
    return out[:n]


def _pss_em(bits, mhash, salt, ps_byte=0, sep=1, trailer=0xBC, top=0):
    # RFC 8017 9.1.1 EMSA-PSS-ENCODE with SHA-256, and knobs to break it
    import hashlib

    embits = bits - 1
    emlen = (embits + 7) // 8
    hh = hashlib.sha256(bytes(8) + mhash + salt).digest()
    ps = bytearray(emlen - len(salt) - 32 - 2)
    if ps_byte:
        ps[len(ps) // 2] = ps_byte
    db = bytes(ps) + bytes((sep,)) + salt
    masked = bytearray(a ^ b for a, b in zip(db, _mgf1(hh, len(db))))
    masked[0] &= 0xFF >> (8 * emlen - embits)
    masked[0] |= top
    return bytes(masked) + hh + bytes((trailer,))


@per_backend
def test_rsa_pss_crafted(backend):
    kd = _keys()[0]
    n, e = _ne(kd)
    d = backend.hash("sha256", b"crafted")
    # a salt for which the top-bit case below stays under n
    for i in range(64):
        salt = bytes((i,)) * 32
        em_top = _pss_em(kd["bits"], d, salt, top=0x80)
        if int.from_bytes(em_top, "big") < n:
            break
    good = _pss_em(kd["bits"], d, salt)
    assert backend.rsa_verify(n, e, _raw_sign(kd, good), d, "sha256", 32) is True
    bad = [
        _pss_em(kd["bits"], d, salt, ps_byte=1),    # PS not all zero
        _pss_em(kd["bits"], d, salt, sep=2),        # separator not 0x01
        _pss_em(kd["bits"], d, salt, trailer=0xBD),  # trailer not 0xbc
        em_top,                                     # bit emBits set
    ]
    for i, em in enumerate(bad):
        assert backend.rsa_verify(n, e, _raw_sign(kd, em), d, "sha256", 32) is False, i
