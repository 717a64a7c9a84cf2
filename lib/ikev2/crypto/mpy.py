# MicroPython backend: AES from cryptolib (mbedTLS, with the hardware AES
# engine on ESP32), SHA-256 from hashlib, HMAC on top of it; GCM, X25519,
# P-256, MODP, ECDSA and RSA in pure Python because stock firmware has no
# more.
try:
    import cryptolib
except ImportError:  # firmware before v1.21
    import ucryptolib as cryptolib
from .util import sha1, sha256, hmac_key, hmac_sha256  # noqa: F401
try:  # in viper code: the ICV check of every ESP packet
    from .ctnative import ct_eq
except Exception:  # no native emitter, or an .mpy for another CPU
    from .util import ct_eq

NAME = "mpy"
_ECB = 1
_CBC = 2


def aes_ecb(key):
    return cryptolib.aes(key, _ECB).encrypt


def aes_cbc_encrypt(key, iv, data, out=None):
    if out is None:
        return cryptolib.aes(key, _CBC, iv).encrypt(data)
    cryptolib.aes(key, _CBC, iv).encrypt(data, out)


def aes_cbc_decrypt(key, iv, data):
    return cryptolib.aes(key, _CBC, iv).decrypt(data)


# GCM is imported on first use: its tables cost heap that CBC suites
# never need.
def aes_gcm_seal(key, nonce, aad, pt):
    from . import gcm

    return gcm.seal(aes_ecb(key), nonce, aad, pt)


def aes_gcm_open(key, nonce, aad, ct):
    from . import gcm

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
