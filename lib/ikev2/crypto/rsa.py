# RSA signatures (RFC 8017) for IKEv2 authentication: RSASSA-PKCS1-v1_5
# (IKEv2 auth method 1, and RFC 7427 digital signatures) and RSASSA-PSS
# verification (RFC 7427 with RFC 4055 parameters).  Pure Python for
# CPython and MicroPython; the mpy and pure backends import it on first
# use, so a PSK-only device never loads it.
#
#   verify(n, e, sig, digest, hash_name, pss_salt=None) -> bool
#   sign(key, digest, hash_name) -> bytes     PKCS#1 v1.5 only
#   check_public(n, e) -> modulus bits        (CryptoError if unusable)
#   hash_len(hash_name) -> digest length      (CryptoError if unknown)
#
# digest is the message hash made with hash_name ("sha1", "sha256",
# "sha384", "sha512").  PKCS#1 v1.5 needs no hashing here, so it works
# with every hash even where hashlib lacks SHA-384/512; PSS hashes (M' and
# MGF1) with hash_name and raises CryptoError where that hash is missing.
#
# Moduli of 1024 to 4096 bits are accepted; which sizes are acceptable is
# policy, decided by the caller.  A bad signature gives False; only an
# unusable key, an unknown hash or a digest of the wrong length raises.
#
# Side channels: verification uses public values only.  Signing uses
# 3-argument pow with the secret CRT exponents, which is square-and-
# multiply on big ints on both runtimes: NOT constant time, and there is
# no blinding (it would need randomness and a modular inverse mod p and
# q).  A device signs its AUTH payload once per IKE SA, which limits what
# a remote timing attacker can collect, but keep this in mind for keys
# that matter.  The result is checked with the public exponent before it
# is returned (a fault in the CRT halves would otherwise leak p, the
# Boneh-DeMillo-Lipton attack).
from .sig import bit_length, hash as _hash
from .util import ct_eq
from ..errors import CryptoError


def hash_len(name):
    if name == "sha1":
        return 20
    if name == "sha256":
        return 32
    if name == "sha384":
        return 48
    if name == "sha512":
        return 64
    raise CryptoError("unknown hash %r" % (name,))


def _digest_info(name):
    # RFC 8017 9.2 note 1: the DER DigestInfo prefix (with NULL parameters)
    if name == "sha1":
        return b"\x30\x21\x30\x09\x06\x05\x2b\x0e\x03\x02\x1a\x05\x00\x04\x14"
    # SHA-2: OID 2.16.840.1.101.3.4.2.{1,2,3}
    i = ("sha256", "sha384", "sha512").index(name)
    return bytes((0x30, 0x31 + 16 * i, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86,
                  0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 1 + i, 0x05, 0x00,
                  0x04, 32 + 16 * i))


def check_public(n, e):
    bits = bit_length(n)
    if not 1024 <= bits <= 4096:
        raise CryptoError("RSA modulus of %d bits (1024 to 4096 supported)"
                          % bits)
    if not n & 1 or not e & 1 or not 3 <= e < n:
        raise CryptoError("invalid RSA public key")
    return bits


def _check_digest(digest, name):
    if len(digest) != hash_len(name):
        raise CryptoError("a %s digest is %d bytes, not %d"
                          % (name, hash_len(name), len(digest)))


def _emsa_pkcs1(digest, name, k):
    # RFC 8017 9.2: 0x00 0x01 PS(0xff...) 0x00 DigestInfo
    t = _digest_info(name) + bytes(digest)
    if k < len(t) + 11:
        raise CryptoError("RSA modulus too short for %s" % name)
    return b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t


def _mgf1(name, seed, n):
    # RFC 8017 B.2.1
    out = bytearray()
    c = 0
    while len(out) < n:
        out.extend(_hash(name, seed + c.to_bytes(4, "big")))
        c += 1
    return bytes(out[:n])


def _pss_check(m, mhash, name, slen, embits):
    # RFC 8017 9.1.2 EMSA-PSS-VERIFY on the integer m = s^e mod n, with
    # emBits = modBits - 1.  Byte strings are XORed and tested as big ints
    # (MicroPython-friendly, no byte loops).
    hlen = len(mhash)
    emlen = (embits + 7) // 8
    if slen < 0 or emlen < hlen + slen + 2:
        return False
    if m >> embits:  # leftmost 8*emLen - emBits bits of EM must be zero
        return False
    if m & 0xff != 0xbc:
        return False
    dblen = emlen - hlen - 1
    h = ((m >> 8) & ((1 << (8 * hlen)) - 1)).to_bytes(hlen, "big")
    db = (m >> (8 * (hlen + 1))) ^ int.from_bytes(_mgf1(name, h, dblen), "big")
    db &= (1 << (embits - 8 * (hlen + 1))) - 1
    # DB = PS (zeros) || 0x01 || salt
    if db >> (8 * slen) != 1:
        return False
    salt = (db & ((1 << (8 * slen)) - 1)).to_bytes(slen, "big")
    return ct_eq(h, _hash(name, bytes(8) + bytes(mhash) + salt))


def verify(n, e, sig, digest, hash_name, pss_salt=None):
    bits = check_public(n, e)
    _check_digest(digest, hash_name)
    if pss_salt is not None:
        _hash(hash_name, b"")  # PSS needs the hash: fail the same way always
    k = (bits + 7) // 8
    if len(sig) != k:
        return False
    s = int.from_bytes(bytes(sig), "big")
    if s >= n:
        return False
    m = pow(s, e, n)
    if pss_salt is None:
        # compare the whole encoded message, in constant time
        return ct_eq(m.to_bytes(k, "big"), _emsa_pkcs1(digest, hash_name, k))
    return _pss_check(m, digest, hash_name, pss_salt, bits - 1)


def sign(key, digest, hash_name):
    # key: n, e, d, p, q, dp, dq, qinv (ints); RSASP1 with the CRT
    # (RFC 8017 5.2.1 2.b), then checked with e.
    bits = check_public(key.n, key.e)
    _check_digest(digest, hash_name)
    k = (bits + 7) // 8
    m = int.from_bytes(_emsa_pkcs1(digest, hash_name, k), "big")
    p = key.p
    q = key.q
    m1 = pow(m, key.dp, p)
    m2 = pow(m, key.dq, q)
    s = m2 + (key.qinv * (m1 - m2) % p) * q
    if s >= key.n or pow(s, key.e, key.n) != m:
        raise CryptoError("RSA signature failed its check (bad key or fault)")
    return s.to_bytes(k, "big")
