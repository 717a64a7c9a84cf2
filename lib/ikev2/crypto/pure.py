# Pure-Python backend: runs anywhere (CPython or MicroPython), with no
# native crypto but hashlib.  The reference the others are tested against,
# and the fallback where neither cryptolib nor `cryptography` exists.
from .aes import AES
from . import gcm
from .util import ct_eq, sha1, sha256, hmac_key, hmac_sha256  # noqa: F401

NAME = "pure"

_cache = [None, None]


def _aes(key):
    # the key schedule is the slow part: keep the last one
    if _cache[0] != key:
        _cache[1] = AES(key)
        _cache[0] = bytes(key)
    return _cache[1]


def aes_ecb(key):
    return _aes(key).encrypt_ecb


def aes_cbc_encrypt(key, iv, data, out=None):
    ct = _aes(key).cbc_encrypt(iv, data)
    if out is None:
        return ct
    out[:] = ct


def aes_cbc_decrypt(key, iv, data):
    return _aes(key).cbc_decrypt(iv, data)


def aes_gcm_seal(key, nonce, aad, pt):
    return gcm.seal(aes_ecb(key), nonce, aad, pt)


def aes_gcm_open(key, nonce, aad, ct):
    return gcm.open(aes_ecb(key), nonce, aad, ct)


# Diffie-Hellman from dh.py, imported on use: the session drops it after
# the handshake.
def dh_public(group, priv):
    from .dh import dh_public

    return dh_public(group, priv)


def dh_shared(group, priv, peer):
    from .dh import dh_shared

    return dh_shared(group, priv, peer)


def __getattr__(name):
    # the signature functions (hash, ecdsa_sign, ecdsa_verify, rsa_verify,
    # rsa_sign) are in sig.py, loaded on first use: a PSK-only device never
    # loads them, nor ecdsa.py and rsa.py behind them
    from . import sig

    return getattr(sig, name)
