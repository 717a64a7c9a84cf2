# MicroPython backend: AES from cryptolib (mbedTLS, with the hardware AES
# engine on ESP32), SHA-256 from hashlib, HMAC on top of it; GCM, X25519,
# P-256 and MODP in pure Python because stock firmware has no more.
try:
    import cryptolib
except ImportError:  # firmware before v1.21
    import ucryptolib as cryptolib
from . import gcm
from .util import ct_eq, sha256, hmac_sha256  # noqa: F401 (interface)
from .dh import dh_public, dh_shared  # noqa: F401 (interface)

NAME = "mpy"
_ECB = 1
_CBC = 2


def aes_ecb(key):
    return cryptolib.aes(key, _ECB).encrypt


def aes_cbc_encrypt(key, iv, data):
    return cryptolib.aes(key, _CBC, iv).encrypt(data)


def aes_cbc_decrypt(key, iv, data):
    return cryptolib.aes(key, _CBC, iv).decrypt(data)


def aes_gcm_seal(key, nonce, aad, pt):
    return gcm.seal(aes_ecb(key), nonce, aad, pt)


def aes_gcm_open(key, nonce, aad, ct):
    return gcm.open(aes_ecb(key), nonce, aad, ct)
