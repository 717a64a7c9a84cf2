# Diffie-Hellman for IKE: group 14 (MODP-2048, RFC 3526), group 19
# (ECP-256, RFC 5903) and group 31 (Curve25519, RFC 8031).
#
# Private values come from an injectable rng(n) -> n random bytes.  Key
# exchange data and shared secrets use the IKE encodings:
#   14: g^x mod p, 256 bytes big-endian; secret likewise
#   19: x | y, 64 bytes; secret is the x coordinate, 32 bytes
#   31: 32-byte u-coordinate; secret 32 bytes, all-zero is refused
#
# dh_public/dh_shared here are the pure-Python versions (used by the mpy
# and pure backends); the host backend has its own on OpenSSL.  On
# MicroPython, X25519 and the P-256 scalar multiplication run in viper code
# (ecnative.py) when this runtime can load it (a native emitter, an .mpy
# built for this CPU); otherwise, and on CPython, x25519.py and p256.py.
from ..errors import CryptoError, ConfigError

GROUPS = (14, 19, 31)
KE_LEN = {14: 256, 19: 64, 31: 32}

# Group 14's prime and parameters are in modp.py, loaded only when group 14
# is used (its 2048-bit prime costs RAM); MODP2048_P, MODP2048_G,
# MODP_EXP_BITS and MODP_STRENGTH are also readable from here.
def __getattr__(name):
    if name.startswith("MODP"):
        from . import modp

        return getattr(modp, name)
    raise AttributeError(name)


_NATIVE = []  # [ecnative module or None], once tried


def native():
    # -> the ecnative module where this runtime runs it, else None
    if not _NATIVE:
        try:
            from . import ecnative as m
        except MemoryError:  # a full heap now: try again next time
            return None
        except Exception:  # CPython (ImportError), no native emitter
            m = None      # (SyntaxError), an .mpy for another CPU (ValueError)
        _NATIVE.append(m)
    return _NATIVE[0]


def _x25519(k, u):
    m = native()
    if m:
        return m.x25519(k, u)
    from .x25519 import x25519

    return x25519(k, u)


def _p256_mul(k, pt):
    # k * pt; pt is on the curve (decode_point or G); ValueError as p256.mul
    from . import p256

    m = native()
    if m and 1 <= k < p256.N:
        r = m.p256_mul(k, pt[0], pt[1])
        if r:  # None: an exceptional addition (see ecnative.py)
            return r
    return p256.mul(k, pt)


def check_group(group):
    if group not in KE_LEN:
        raise ConfigError("unsupported DH group %r (use 14, 19 or 31)"
                          % (group,))


def new_private(group, rng):
    check_group(group)
    if group == 31:
        return bytes(rng(32))
    if group == 19:
        from .p256 import N

        while True:  # rejection sampling: uniform in [1, N-1]
            k = bytes(rng(32))
            v = int.from_bytes(k, "big")
            if 1 <= v < N:
                return k
    from .modp import MODP_EXP_BITS

    x = bytearray(rng(MODP_EXP_BITS // 8))
    x[0] |= 0x80
    return bytes(x)


def dh_public(group, priv):
    check_group(group)
    if group == 31:
        return _x25519(priv, b"\x09" + bytes(31))
    if group == 19:
        from . import p256

        return p256.encode_point(_p256_mul(int.from_bytes(priv, "big"), p256.G))
    from .modp import MODP2048_G, MODP2048_P

    return pow(MODP2048_G, int.from_bytes(priv, "big"), MODP2048_P).to_bytes(
        256, "big")


def check_peer(group, peer):
    check_group(group)
    if len(peer) != KE_LEN[group]:
        raise CryptoError("group %d key exchange data is %d bytes, not %d"
                          % (group, len(peer), KE_LEN[group]))
    if group == 14:
        from .modp import MODP2048_P

        y = int.from_bytes(peer, "big")
        # RFC 6989: 1 < y < p-1
        if not 1 < y < MODP2048_P - 1:
            raise CryptoError("invalid MODP public value")


def dh_shared(group, priv, peer):
    check_peer(group, peer)
    if group == 31:
        s = _x25519(priv, peer)
        if s == bytes(32):
            raise CryptoError("X25519 shared secret is zero")
        return s
    if group == 19:
        from . import p256

        try:
            pt = p256.decode_point(peer)
            return p256.encode_point(
                _p256_mul(int.from_bytes(priv, "big"), pt))[:32]
        except ValueError as e:
            raise CryptoError("invalid ECP-256 public value (%s)" % e)
    from .modp import MODP2048_P

    x = int.from_bytes(priv, "big")
    return pow(int.from_bytes(peer, "big"), x, MODP2048_P).to_bytes(256, "big")


class DH:
    # One ephemeral key pair: .group, .public (the KE payload data) and
    # .shared(peer_ke_data) -> g^ir.
    def __init__(self, backend, group, rng):
        self.b = backend
        self.group = group
        self._priv = new_private(group, rng)
        self.public = backend.dh_public(group, self._priv)

    def shared(self, peer):
        try:
            return self.b.dh_shared(self.group, self._priv, bytes(peer))
        finally:
            # the native code's scratch lives from the public value to the
            # shared secret (made while the heap is clean, it is reused):
            # then its heap is given back
            if _NATIVE and _NATIVE[0]:
                _NATIVE[0].release()
