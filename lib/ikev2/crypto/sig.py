# The signature functions of the mpy and pure backends (certificate
# authentication): hash() by name, ECDSA P-256 (ecdsa.py) and RSA (rsa.py).
# The backends reach them through their module __getattr__, so a PSK-only
# device never loads this module, nor interns its names.
import hashlib
from ..errors import CryptoError
from .util import hmac_sha256


def hash(name, data):
    # name: "sha1", "sha256", "sha384" or "sha512" (signature digests,
    # RFC 7427).  MicroPython's hashlib usually has sha1 and sha256 only:
    # the others raise CryptoError naming the hash instead of falling back
    # to a slow pure-Python SHA-512.
    if name not in ("sha1", "sha256", "sha384", "sha512"):
        raise CryptoError("unknown hash %r" % (name,))
    f = getattr(hashlib, name, None)
    if f is None:
        raise CryptoError("SHA-%s is not available on this runtime" % name[3:])
    return f(data).digest()


def bit_length(x):
    # int.bit_length() for x >= 0; MicroPython has no int.bit_length()
    if x <= 0:
        return 0
    s = "%x" % x
    n = (len(s) - 1) * 4
    top = int(s[0], 16)
    while top:
        n += 1
        top >>= 1
    return n


def ecdsa_sign(d, digest):
    from .ecdsa import sign

    return sign(d, digest, hmac_sha256)


def ecdsa_verify(pub, digest, r, s):
    from .ecdsa import verify

    return verify(pub, digest, r, s)


def rsa_verify(n, e, sig, digest, hash_name, pss_salt=None):
    from .rsa import verify

    return verify(n, e, sig, digest, hash_name, pss_salt)


def rsa_sign(key, digest, hash_name):
    from .rsa import sign

    return sign(key, digest, hash_name)
