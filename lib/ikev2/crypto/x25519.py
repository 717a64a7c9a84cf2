# X25519 Diffie-Hellman function (RFC 7748), pure Python for CPython and
# MicroPython.
#
# Montgomery ladder over the 255 scalar bits with arithmetic conditional
# swaps (mask & (a ^ b)), so there is no branch on secret bits. Python big
# int arithmetic itself is not constant-time; this is as close as the
# language allows. Inversion uses Fermat (pow(z, p - 2, p)); MicroPython's
# pow(z, -1, p) must not be used (it silently returns 0).
#
# Note: the caller (IKE, RFC 8031 section 2) must reject an all-zero shared
# secret; x25519() itself returns it as RFC 7748 specifies.

_P = (1 << 255) - 19
_A24 = 121665
_MASK = (1 << 256) - 1

BASE = bytes([9]) + bytes(31)


def _decode_scalar(k):
    b = bytearray(k)
    b[0] &= 248
    b[31] &= 127
    b[31] |= 64
    return int.from_bytes(bytes(b), 'little')


def x25519(k, u):
    if len(k) != 32 or len(u) != 32:
        raise ValueError("X25519 scalar and u-coordinate must be 32 bytes")
    p = _P
    a24 = _A24
    mask_all = _MASK
    n = _decode_scalar(k)
    x1 = (int.from_bytes(bytes(u), 'little') & ((1 << 255) - 1)) % p
    x2 = 1
    z2 = 0
    x3 = x1
    z3 = 1
    swap = 0
    for t in range(254, -1, -1):
        kt = (n >> t) & 1
        swap ^= kt
        m = mask_all * swap
        d = m & (x2 ^ x3)
        x2 ^= d
        x3 ^= d
        d = m & (z2 ^ z3)
        z2 ^= d
        z3 ^= d
        swap = kt
        a = x2 + z2
        aa = a * a % p
        b = x2 - z2
        bb = b * b % p
        e = aa - bb
        c = x3 + z3
        dd = x3 - z3
        da = dd * a % p
        cb = c * b % p
        x3 = da + cb
        x3 = x3 * x3 % p
        z3 = da - cb
        z3 = x1 * (z3 * z3 % p) % p
        x2 = aa * bb % p
        z2 = e * (aa + a24 * e) % p
    m = mask_all * swap
    d = m & (x2 ^ x3)
    x2 ^= d
    d = m & (z2 ^ z3)
    z2 ^= d
    r = x2 * pow(z2, p - 2, p) % p
    return r.to_bytes(32, 'little')
