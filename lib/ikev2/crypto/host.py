# Host backend (CPython only): the `cryptography` package (OpenSSL) for
# AES, AES-GCM, X25519 and ECDH; hashlib/hmac (also OpenSSL) for SHA-256
# and HMAC.  Never imported on MicroPython.
import hashlib
import hmac
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from .dh import check_group, check_peer
from .modp import MODP2048_G, MODP2048_P
from ..errors import CryptoError

NAME = "host"


def _check_cbc(key, iv, data):
    if len(key) not in (16, 24, 32) or len(iv) != 16 or len(data) % 16:
        raise ValueError("AES-CBC: bad key, IV or data length")


def aes_cbc_encrypt(key, iv, data):
    _check_cbc(key, iv, data)
    e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return e.update(data) + e.finalize()


def aes_cbc_decrypt(key, iv, data):
    _check_cbc(key, iv, data)
    d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return d.update(data) + d.finalize()


def aes_ecb(key):
    e = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return e.update


def aes_gcm_seal(key, nonce, aad, pt):
    return AESGCM(key).encrypt(nonce, pt, aad)


def aes_gcm_open(key, nonce, aad, ct):
    try:
        return AESGCM(key).decrypt(nonce, ct, aad)
    except InvalidTag:
        return None


def sha256(data):
    return hashlib.sha256(data).digest()


def sha1(data):
    return hashlib.sha1(data).digest()


def hmac_sha256(key, data):
    return hmac.digest(key, data, "sha256")


def ct_eq(a, b):
    return hmac.compare_digest(a, b)


def dh_public(group, priv):
    check_group(group)
    if group == 31:
        k = x25519.X25519PrivateKey.from_private_bytes(priv)
        return k.public_key().public_bytes_raw()
    if group == 19:
        k = ec.derive_private_key(int.from_bytes(priv, "big"), ec.SECP256R1())
        n = k.public_key().public_numbers()
        return n.x.to_bytes(32, "big") + n.y.to_bytes(32, "big")
    return pow(MODP2048_G, int.from_bytes(priv, "big"), MODP2048_P).to_bytes(
        256, "big")


def dh_shared(group, priv, peer):
    check_peer(group, peer)
    try:
        if group == 31:
            k = x25519.X25519PrivateKey.from_private_bytes(priv)
            return k.exchange(x25519.X25519PublicKey.from_public_bytes(peer))
        if group == 19:
            k = ec.derive_private_key(int.from_bytes(priv, "big"),
                                      ec.SECP256R1())
            pub = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), b"\x04" + peer)
            return k.exchange(ec.ECDH(), pub)
    except ValueError as e:
        raise CryptoError("invalid group %d public value (%s)" % (group, e))
    # MODP: CPython's pow is native; OpenSSL's DH would need the same
    # numbers built into key objects for no gain.
    return pow(int.from_bytes(peer, "big"), int.from_bytes(priv, "big"),
               MODP2048_P).to_bytes(256, "big")
