# ECDSA over NIST P-256 (FIPS 186-4 6.4) with deterministic nonces
# (RFC 6979), for IKEv2 certificate authentication (RFC 7427, RFC 4754).
# Pure Python for CPython and MicroPython; the mpy and pure backends import
# it on first use, so a PSK-only device never loads it.
#
#   sign(d, digest, hmac) -> (r, s)    d: private scalar, 1 <= d < N
#   verify(pub, digest, r, s) -> bool  pub: x || y, 64 bytes
#
# digest is the message hash.  Per FIPS 186-4 6.4 only its leftmost 256
# bits are used (bits2int of RFC 6979 2.3.2): a SHA-384 or SHA-512 digest
# is truncated, a shorter one (SHA-1) is taken as it is.
#
# The nonce k is RFC 6979 3.2 with HMAC-SHA-256 (hmac(key, data) is passed
# in: the backend's hmac_sha256), whatever hash made the digest.  With a
# SHA-256 digest this is exactly RFC 6979's ECDSA/P-256/SHA-256 and gives
# the A.2.5 vectors; with another digest it is still a deterministic,
# secret-keyed, uniformly distributed k (RFC 6979 3.6 allows the variant).
# A deterministic k needs no randomness, so a weak RNG on the device can
# never leak the key through the signatures.
#
# Side channels.  What is done:
#   - k*G is p256.mul_base: a fixed 256 iterations of double-and-add-always
#     with a mask-based select (see p256.py), so the sequence of big-int
#     operations does not depend on the bits of k.
#   - k^-1 is Fermat, pow(k, N - 2, N): the exponent is public, so the
#     square-and-multiply sequence is the same for every k (and MicroPython's
#     pow(x, -1, m) silently returns 0 and must never be used).
#   - no branch depends on d or k, but for the RFC 6979 rejection of
#     k >= N (probability about 2^-32, and it reveals nothing about the
#     accepted k) and the r == 0 / s == 0 retries (probability about 2^-256).
# What is not: Python big ints are variable-length, so the time of each
# multiplication, mask and reduction depends a little on the magnitude of
# its operands (an operand with leading zero digits is shorter; for random
# values that is about 2^-16 per operand with MicroPython's 16-bit digits),
# and p256.mul's exceptional addition cases branch (negligibly rare).  So
# this is "constant-time-ish": good against remote timing of an IKE_AUTH,
# not against local power or EM analysis of the device.  Also,
# util.hmac_sha256 keeps the padded key of its last call: after a
# signature that is the last RFC 6979 K (not k, which also needs the V
# that was dropped) until the session's next HMAC replaces it.
#
# Verification works on public values only and uses plain variable-time
# arithmetic: Shamir's trick, u1*G + u2*Q in one double-and-add pass over
# the bits of u1 and u2 with the table {G, Q, G+Q}.
from .p256 import P, N, G, decode_point, mul_base, _double, _add_mixed
from ..errors import CryptoError


def _bits2int(digest):
    # FIPS 186-4 6.4 / RFC 6979 2.3.2 for a 256-bit group order
    if len(digest) > 32:
        digest = digest[:32]
    return int.from_bytes(bytes(digest), "big")


def sign(d, digest, hmac):
    if not 1 <= d < N:
        raise CryptoError("ECDSA private key out of range")
    e = _bits2int(digest)
    # RFC 6979 3.2 b-f; int2octets(x) || bits2octets(h1)
    xh = d.to_bytes(32, "big") + (e % N).to_bytes(32, "big")
    v = b"\x01" * 32
    k = hmac(bytes(32), v + b"\x00" + xh)
    v = hmac(k, v)
    k = hmac(k, v + b"\x01" + xh)
    v = hmac(k, v)
    while True:
        # 3.2 h: qlen == hlen == 256, so T is one HMAC output
        v = hmac(k, v)
        t = int.from_bytes(v, "big")
        if 1 <= t < N:
            r = mul_base(t)[0] % N
            s = pow(t, N - 2, N) * (e + r * d) % N
            if r != 0 and s != 0:
                return r, s
        k = hmac(k, v + b"\x00")
        v = hmac(k, v)


def _add(x1, y1, z1, x2, y2, z2):
    # General Jacobian addition (add-1998-cmo-2), Z == 0 is the point at
    # infinity; P + P falls back to doubling, P + (-P) gives infinity.
    p = P
    if z1 == 0:
        return x2, y2, z2
    if z2 == 0:
        return x1, y1, z1
    z1z1 = z1 * z1 % p
    z2z2 = z2 * z2 % p
    u1 = x1 * z2z2 % p
    u2 = x2 * z1z1 % p
    s1 = y1 * z2 * z2z2 % p
    s2 = y2 * z1 * z1z1 % p
    h = (u2 - u1) % p
    r = (s2 - s1) % p
    if h == 0:
        if r == 0:
            return _double(x1, y1, z1)
        return 1, 1, 0
    hh = h * h % p
    hhh = h * hh % p
    v = u1 * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    y3 = (r * (v - x3) - s1 * hhh) % p
    z3 = z1 * z2 * h % p
    return x3, y3, z3


def _affine(x, y, z):
    # -> (x, y), or None for the point at infinity
    if z == 0:
        return None
    p = P
    zi = pow(z, p - 2, p)
    zi2 = zi * zi % p
    return x * zi2 % p, y * zi2 * zi % p


def verify(pub, digest, r, s):
    try:
        q = decode_point(pub)
    except ValueError as e:
        raise CryptoError("invalid ECDSA P-256 public key (%s)" % e)
    if not (1 <= r < N and 1 <= s < N):
        return False
    w = pow(s, N - 2, N)
    u1 = _bits2int(digest) * w % N
    u2 = r * w % N
    # table indexed by (bit of u2) * 2 + (bit of u1); G + Q is None if
    # Q == -G (then both bits set add nothing)
    tab = (None, G, q, _affine(*_add(G[0], G[1], 1, q[0], q[1], 1)))
    x, y, z = 1, 1, 0
    for i in range(255, -1, -1):
        x, y, z = _double(x, y, z)
        pt = tab[((u2 >> i) & 1) * 2 + ((u1 >> i) & 1)]
        if pt is not None:
            x, y, z = _add_mixed(x, y, z, pt[0], pt[1])
    pt = _affine(x, y, z)
    if pt is None:
        return False
    return pt[0] % N == r
