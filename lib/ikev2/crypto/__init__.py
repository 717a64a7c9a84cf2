# The crypto facade.  backend() returns a module with one interface:
#
#   NAME                                   "host", "mpy" or "pure"
#   aes_cbc_encrypt(key, iv, data, out=None)  no padding; len(data) % 16
#                                          == 0; with out (a writable
#                                          buffer as long, may be data
#                                          itself) the result goes there
#   aes_cbc_decrypt(key, iv, data)
#   aes_ecb(key) -> f(data)                ECB over whole blocks
#   aes_gcm_seal(key, nonce, aad, pt)      -> ct | 16-byte tag
#   aes_gcm_open(key, nonce, aad, ct_tag)  -> pt, or None if the tag fails
#   sha256(data), sha1(data)               (SHA-1: NAT detection only)
#   hmac_sha256(key, data)                 key: bytes, or from hmac_key()
#   hmac_key(key)                          the key prepared once (mpy, pure:
#                                          the padded keys), for a key that
#                                          MACs every packet
#   ct_eq(a, b)                            constant-time comparison
#   dh_public(group, priv) / dh_shared(group, priv, peer)  (see dh.py)
#   hash(name, data)                       name: "sha1", "sha256", "sha384",
#                                          "sha512"; CryptoError if unknown
#                                          or missing here (MicroPython:
#                                          usually sha1/sha256 only)
#
# Signatures (RFC 7427 / RFC 7296 AUTH); digest is the message hash.  A
# bad signature gives False; CryptoError only for a malformed key, an
# unknown or missing hash or a digest of the wrong length:
#   ecdsa_sign(d, digest) -> (r, s)        P-256, d in [1, N-1]; digests
#                                          over 256 bits are truncated
#                                          (FIPS 186-4).  mpy/pure: RFC 6979
#                                          deterministic k; host: random k
#   ecdsa_verify(pub, digest, r, s) -> bool  pub: x || y, 64 bytes
#   rsa_verify(n, e, sig, digest, hash_name, pss_salt=None) -> bool
#                                          PKCS#1 v1.5, or RSASSA-PSS with
#                                          MGF1(hash_name) and this salt
#                                          length; 1024..4096-bit moduli;
#                                          sig must be exactly k bytes
#   rsa_sign(key, digest, hash_name) -> bytes  PKCS#1 v1.5; key has int
#                                          n, e, d, p, q, dp, dq, qinv
# (ecdsa.py and rsa.py hold the portable code and its side-channel notes;
# mpy and pure import them on first use.)
#
# Backends:
#   host  CPython with the `cryptography` package (OpenSSL)
#   mpy   MicroPython: cryptolib (hardware AES on ESP32) and hashlib;
#         GCM, X25519, P-256 and MODP from the pure-Python code
#   pure  pure Python everywhere (AES too); the fallback and the reference
import sys

NAMES = ("host", "mpy", "pure")


def _load(name):
    if name == "host":
        from . import host as b
    elif name == "mpy":
        from . import mpy as b
    elif name == "pure":
        from . import pure as b
    else:
        from ..errors import ConfigError

        raise ConfigError("unknown crypto backend %r (use one of %s)"
                          % (name, ", ".join(NAMES)))
    return b


def backend(name=None):
    # None picks the best one this runtime has, falling back to pure.
    if name is not None:
        return _load(name)
    first = "mpy" if sys.implementation.name == "micropython" else "host"
    try:
        return _load(first)
    except ImportError:
        return _load("pure")


def available():
    out = []
    for n in NAMES:
        try:
            _load(n)
            out.append(n)
        except ImportError:
            pass
    return out
