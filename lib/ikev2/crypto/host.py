# Host backend (CPython only): the `cryptography` package (OpenSSL) for
# AES, AES-GCM, X25519, ECDH, ECDSA and RSA; hashlib/hmac (also OpenSSL)
# for the SHA family and HMAC.  Never imported on MicroPython.
import hashlib
import hmac
import warnings
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, x25519
from cryptography.hazmat.primitives.asymmetric import rsa as _rsa, utils
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from .dh import check_group, check_peer
from .modp import MODP2048_G, MODP2048_P
from .p256 import N as _N, decode_point
from .rsa import check_public, hash_len
from ..errors import CryptoError

NAME = "host"


def _check_cbc(key, iv, data):
    if len(key) not in (16, 24, 32) or len(iv) != 16 or len(data) % 16:
        raise ValueError("AES-CBC: bad key, IV or data length")


def aes_cbc_encrypt(key, iv, data, out=None):
    _check_cbc(key, iv, data)
    e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    if out is None:
        return e.update(data) + e.finalize()
    out[:] = e.update(data)


def aes_cbc_decrypt(key, iv, data):
    _check_cbc(key, iv, data)
    d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return d.update(data) + d.finalize()


def aes_ecb(key):
    e = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return e.update


_gcm = {}  # key -> AESGCM: its key schedule costs as much as a packet


def _aesgcm(key):
    g = _gcm.get(key)
    if g is None:
        if len(_gcm) >= 8:  # the keys of a few SAs, old and new
            _gcm.clear()
        g = _gcm[bytes(key)] = AESGCM(key)
    return g


def aes_gcm_seal(key, nonce, aad, pt):
    return _aesgcm(key).encrypt(nonce, pt, aad)


def aes_gcm_open(key, nonce, aad, ct):
    try:
        return _aesgcm(key).decrypt(nonce, ct, aad)
    except InvalidTag:
        return None


def sha256(data):
    return hashlib.sha256(data).digest()


def sha1(data):
    return hashlib.sha1(data).digest()


def hash(name, data):
    if name not in _HASHES:
        raise CryptoError("unknown hash %r" % (name,))
    return hashlib.new(name, data).digest()


def hmac_sha256(key, data):
    return hmac.digest(key, data, "sha256")


def hmac_key(key):
    return bytes(key)  # OpenSSL prepares the key on each call, quickly


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
    return _modexp(MODP2048_G, priv)


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
    return _modexp(int.from_bytes(peer, "big"), priv)


def _modexp(y, priv):
    # y^x mod p for group 14, through OpenSSL's DH (0.3 ms; CPython's pow
    # takes 2.7 ms).  `cryptography` deprecates finite-field DH: without
    # it, pow.
    x = int.from_bytes(priv, "big")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from cryptography.hazmat.primitives.asymmetric import dh

            pn = dh.DHParameterNumbers(MODP2048_P, MODP2048_G)
            k = dh.DHPrivateNumbers(x, dh.DHPublicNumbers(y, pn)).private_key()
            return k.exchange(dh.DHPublicNumbers(y, pn).public_key()).rjust(
                256, b"\0")
    except (ImportError, AttributeError):
        return pow(y, x, MODP2048_P).to_bytes(256, "big")
    except ValueError as e:
        raise CryptoError("invalid group 14 public value (%s)" % e)


# Signatures.  The portable rsa.py/ecdsa.py define the semantics (see
# there); these give the same answers on OpenSSL.  ECDSA signing here uses
# OpenSSL's random k, not RFC 6979.
_HASHES = {"sha1": hashes.SHA1, "sha256": hashes.SHA256,
           "sha384": hashes.SHA384, "sha512": hashes.SHA512}
_ECDSA = ec.ECDSA(utils.Prehashed(hashes.SHA256()))


def _ec_digest(digest):
    # FIPS 186-4 6.4 keeps the leftmost 256 bits of the digest; a shorter
    # one is taken as an integer, the same as left-padded with zeros.  So
    # any digest maps to a 32-byte "SHA-256" one that OpenSSL uses as is.
    d = bytes(digest)
    if len(d) >= 32:
        return d[:32]
    return bytes(32 - len(d)) + d


def ecdsa_sign(d, digest):
    if not 1 <= d < _N:
        raise CryptoError("ECDSA private key out of range")
    key = ec.derive_private_key(d, ec.SECP256R1())
    return utils.decode_dss_signature(key.sign(_ec_digest(digest), _ECDSA))


def ecdsa_verify(pub, digest, r, s):
    try:
        decode_point(pub)  # the same checks and errors as the other backends
        key = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), b"\x04" + bytes(pub))
    except ValueError as e:
        raise CryptoError("invalid ECDSA P-256 public key (%s)" % e)
    if not (1 <= r < _N and 1 <= s < _N):
        return False
    try:
        key.verify(utils.encode_dss_signature(r, s), _ec_digest(digest),
                   _ECDSA)
    except InvalidSignature:
        return False
    return True


def _rsa_checks(n, e, digest, hash_name):
    bits = check_public(n, e)
    if len(digest) != hash_len(hash_name):
        raise CryptoError("a %s digest is %d bytes, not %d"
                          % (hash_name, hash_len(hash_name), len(digest)))
    return (bits + 7) // 8


def rsa_verify(n, e, sig, digest, hash_name, pss_salt=None):
    k = _rsa_checks(n, e, digest, hash_name)
    if len(sig) != k:
        return False
    h = _HASHES[hash_name]()
    if pss_salt is None:
        pad = padding.PKCS1v15()
    elif pss_salt < 0:
        return False  # as rsa.py; cryptography would raise ValueError
    else:
        pad = padding.PSS(mgf=padding.MGF1(h), salt_length=pss_salt)
    try:
        key = _rsa.RSAPublicNumbers(e, n).public_key()
        key.verify(bytes(sig), bytes(digest), pad, utils.Prehashed(h))
    except InvalidSignature:
        return False
    except ValueError as err:
        raise CryptoError("invalid RSA public key (%s)" % err)
    return True


_rsa_cache = [None, None]


def rsa_sign(key, digest, hash_name):
    _rsa_checks(key.n, key.e, digest, hash_name)
    nums = (key.n, key.e, key.d, key.p, key.q, key.dp, key.dq, key.qinv)
    if _rsa_cache[0] != nums:
        # OpenSSL's full key check costs ~36 ms (primality of p and q):
        # skipped, and each signature is verified with the public key
        # instead, as the portable rsa.py does (a bad key or a fault in
        # the CRT then raises instead of leaking p)
        try:
            _rsa_cache[1] = _rsa.RSAPrivateNumbers(
                key.p, key.q, key.d, key.dp, key.dq, key.qinv,
                _rsa.RSAPublicNumbers(key.e, key.n)).private_key(
                    unsafe_skip_rsa_key_validation=True)
        except ValueError as err:
            raise CryptoError("invalid RSA private key (%s)" % err)
        _rsa_cache[0] = nums
    h = _HASHES[hash_name]()
    sig = _rsa_cache[1].sign(bytes(digest), padding.PKCS1v15(),
                             utils.Prehashed(h))
    if not rsa_verify(key.n, key.e, sig, digest, hash_name):
        raise CryptoError("RSA signature check failed: the private key is "
                          "inconsistent")
    return sig


# OpenSSL sets a cipher up on its first use, which costs about 1 ms: done
# at import, not in the middle of a handshake
aes_cbc_decrypt(bytes(16), bytes(16), aes_cbc_encrypt(bytes(16), bytes(16),
                                                      bytes(16)))
hmac_sha256(bytes(32), b"")
