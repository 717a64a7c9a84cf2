# NIST P-256 (secp256r1) scalar multiplication for IKEv2 DH group 19
# (RFC 5903), pure Python for CPython and MicroPython.
#
# Points are affine (x, y) tuples at the API; internally Jacobian
# coordinates (X, Y, Z) with x = X/Z^2, y = Y/Z^3, Z == 0 meaning the point
# at infinity. Inversion uses Fermat (pow(z, P - 2, P)); MicroPython's
# pow(z, -1, m) must not be used (it silently returns 0).
#
# Scalar multiplication: the scalar k in [1, N-1] is replaced by
# k' = k + N or k + 2N, whichever has exactly 257 bits (same point since
# N*G = O and the curve has cofactor 1). The loop then runs a fixed 256
# iterations of double-and-add-always (mixed Jacobian + affine addition)
# with an arithmetic (mask-based) conditional select, starting from the
# input point for the leading 1 bit. The exceptional cases of the
# addition formula (R == +-Q, R == O) are handled with branches but only
# occur for a negligible fraction of scalars and always give the right
# result.

P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff
N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b
G = (0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,
     0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5)

_MASK = (1 << 256) - 1


def _on_curve(x, y):
    return (y * y - (x * x * x - 3 * x + B)) % P == 0


def _double(x1, y1, z1):
    # dbl-2001-b, a = -3. Z == 0 (infinity) maps to Z == 0.
    p = P
    delta = z1 * z1 % p
    gamma = y1 * y1 % p
    beta = x1 * gamma % p
    alpha = 3 * (x1 - delta) * (x1 + delta) % p
    x3 = (alpha * alpha - 8 * beta) % p
    z3 = ((y1 + z1) * (y1 + z1) - gamma - delta) % p
    y3 = (alpha * (4 * beta - x3) - 8 * gamma * gamma) % p
    return x3, y3, z3


def _add_mixed(x1, y1, z1, x2, y2):
    # Jacobian (x1, y1, z1) + affine (x2, y2).
    p = P
    if z1 == 0:
        return x2, y2, 1
    z1z1 = z1 * z1 % p
    u2 = x2 * z1z1 % p
    s2 = y2 * z1 * z1z1 % p
    h = (u2 - x1) % p
    r = (s2 - y1) % p
    if h == 0:
        if r == 0:
            return _double(x1, y1, z1)
        return 1, 1, 0
    hh = h * h % p
    hhh = h * hh % p
    v = x1 * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    y3 = (r * (v - x3) - y1 * hhh) % p
    z3 = z1 * h % p
    return x3, y3, z3


def mul(k, point):
    if not 1 <= k < N:
        raise ValueError("scalar out of range")
    px, py = point
    if not (0 <= px < P and 0 <= py < P and _on_curve(px, py)):
        raise ValueError("point not on curve")
    # k' = k + N or k + 2N, whichever has bit 256 set (and is < 2^257)
    k1 = k + N
    k1 += N * (1 - (k1 >> 256))
    mask_all = _MASK
    p = P
    x, y, z = px, py, 1
    for i in range(255, -1, -1):
        x, y, z = _double(x, y, z)
        tx, ty, tz = _add_mixed(x, y, z, px, py)
        m = mask_all * ((k1 >> i) & 1)
        x ^= m & (x ^ tx)
        y ^= m & (y ^ ty)
        z ^= m & (z ^ tz)
    if z == 0:
        raise ValueError("result is the point at infinity")
    zi = pow(z, p - 2, p)
    zi2 = zi * zi % p
    return x * zi2 % p, y * zi2 * zi % p


def mul_base(k):
    return mul(k, G)


def decode_point(b):
    # RFC 5903 section 7: x || y, 32 bytes each, big-endian.
    if len(b) != 64:
        raise ValueError("P-256 point must be 64 bytes")
    x = int.from_bytes(bytes(b[:32]), 'big')
    y = int.from_bytes(bytes(b[32:]), 'big')
    if x >= P or y >= P:
        raise ValueError("P-256 coordinate out of range")
    if not _on_curve(x, y):
        raise ValueError("point not on P-256")
    return x, y


def encode_point(pt):
    x, y = pt
    return x.to_bytes(32, 'big') + y.to_bytes(32, 'big')
