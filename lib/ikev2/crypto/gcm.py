# AES-GCM (NIST SP 800-38D) on top of any AES-ECB function.
#
# `ecb` is a callable taking bytes whose length is a multiple of 16 and
# returning the ECB encryption of all blocks (e.g. a bound
# cryptolib.aes(key, 1).encrypt on MicroPython, or AES(key).encrypt_ecb).
# All counter blocks of a message are encrypted with a single ecb call.
#
# GHASH: field elements are 128-bit ints in GCM bit order (bit 0 of the
# spec = most significant bit of the int), so "multiply by x" is a right
# shift with reduction by 0xE1 << 120. Multiplication by H uses Shoup's
# 4-bit method: a 16-entry table M[v] = v(x)*H built per message and a
# fixed 16-entry reduction table _R, processing the product one nibble at
# a time (Horner, highest-degree nibble first). When GHASH covers 64 or
# more blocks (~1 KB) an 8-bit (256-entry) table is used instead;
# building it costs ~256 XORs but halves the per-block work.  The table is
# 256 big ints (~16 KB of heap on 64-bit MicroPython, half that on an
# ESP32), and on MicroPython it only pays for itself on long messages:
# IKE messages (a few hundred bytes) stay with the 4-bit table.
#
# Supports any nonce length >= 1 (12 bytes is the fast path; others derive
# J0 via GHASH as per the spec) and tag lengths 4..16 bytes.

import struct

_E1 = 0xE1 << 120


def _mulx_n(v, n):
    # v * x^n with reduction (bitwise, used only for table building)
    for _ in range(n):
        if v & 1:
            v = (v >> 1) ^ _E1
        else:
            v >>= 1
    return v


# _R4[b] = b * x^4 for the 4 low bits b shifted out by Z >> 4
_R4 = [_mulx_n(b, 4) for b in range(16)]
# _R8[b] = b * x^8, stored >> 112 to keep the entries small ints
_R8 = [_mulx_n(b, 8) >> 112 for b in range(256)]

# Use the 8-bit table when hashing at least this many blocks.
_BIG = 64


def _table(h, bits):
    # t[v] = v(x) * h, where the most significant bit of v is x^0
    n = 1 << bits
    t = [0] * n
    v = h
    i = n >> 1
    while i:
        t[i] = v
        v = _mulx_n(v, 1)
        i >>= 1
    i = 2
    while i < n:
        ti = t[i]
        for j in range(1, i):
            t[i + j] = ti ^ t[j]
        i <<= 1
    return t


def _ghash_blocks(t, bits, z, data):
    # Absorb data (zero-padded to 16 bytes) into the GHASH state z.
    n = len(data)
    if not n:
        return z
    r = n % 16
    if r:
        data = bytes(data) + bytes(16 - r)
        n += 16 - r
    from_bytes = int.from_bytes
    if bits == 8:
        r8 = _R8
        for i in range(0, n, 16):
            b = (z ^ from_bytes(data[i:i + 16], 'big')).to_bytes(16, 'big')
            z = t[b[15]]
            for k in range(14, -1, -1):
                z = (z >> 8) ^ (r8[z & 255] << 112) ^ t[b[k]]
    else:
        r4 = _R4
        for i in range(0, n, 16):
            b = (z ^ from_bytes(data[i:i + 16], 'big')).to_bytes(16, 'big')
            c = b[15]
            z = t[c & 15]
            z = (z >> 4) ^ r4[z & 15] ^ t[c >> 4]
            for k in range(14, -1, -1):
                c = b[k]
                z = (z >> 4) ^ r4[z & 15] ^ t[c & 15]
                z = (z >> 4) ^ r4[z & 15] ^ t[c >> 4]
    return z


def _ghash(h, aad, ct):
    nblocks = (len(aad) + 15) // 16 + (len(ct) + 15) // 16 + 1
    bits = 8 if nblocks >= _BIG else 4
    t = _table(h, bits)
    z = _ghash_blocks(t, bits, 0, aad)
    z = _ghash_blocks(t, bits, z, ct)
    lens = struct.pack('>QQ', len(aad) * 8, len(ct) * 8)
    return _ghash_blocks(t, bits, z, lens)


def _counter_blocks(j0, first, count):
    # Blocks inc32^first(J0) .. inc32^(first+count-1)(J0), concatenated.
    buf = bytearray((bytes(j0[:12]) + bytes(4)) * count)
    c = struct.unpack('>I', j0[12:16])[0]
    pack_into = struct.pack_into
    for i in range(count):
        pack_into('>I', buf, 16 * i + 12, (c + first + i) & 0xFFFFFFFF)
    return buf


def _xor(a, b):
    n = len(a)
    if not n:
        return b''
    x = int.from_bytes(a, 'big') ^ int.from_bytes(b[:n], 'big')
    return x.to_bytes(n, 'big')


def _check(nonce, taglen):
    if not 4 <= taglen <= 16:
        raise ValueError("bad GCM tag length")
    if not len(nonce):
        raise ValueError("empty GCM nonce")


def _j0(h, nonce):
    # Pre-counter block for nonces that are not 12 bytes long.
    z = _ghash(h, b'', nonce)
    # _ghash appended len(A)=0 || len(C)=len(nonce) bits, which matches
    # SP 800-38D's 0^(s+64) || [len(IV)]_64 padding.
    return z.to_bytes(16, 'big')


def seal(ecb, nonce, aad, pt, taglen=16):
    _check(nonce, taglen)
    nb = (len(pt) + 15) // 16
    if len(nonce) == 12:
        j0 = bytes(nonce) + b'\x00\x00\x00\x01'
        # one ecb call: [0^128, J0, J0+1, ..., J0+nb]
        ks = ecb(bytes(16) + _counter_blocks(j0, 0, nb + 1))
        h = int.from_bytes(ks[0:16], 'big')
        ek0 = ks[16:32]
        ks = ks[32:]
    else:
        h = int.from_bytes(ecb(bytes(16)), 'big')
        j0 = _j0(h, nonce)
        ks = ecb(_counter_blocks(j0, 0, nb + 1))
        ek0 = ks[0:16]
        ks = ks[16:]
    ct = _xor(pt, ks)
    s = _ghash(h, aad, ct)
    tag = _xor(s.to_bytes(16, 'big'), ek0)
    return ct + tag[:taglen]


def open(ecb, nonce, aad, ct_and_tag, taglen=16):
    _check(nonce, taglen)
    n = len(ct_and_tag) - taglen
    if n < 0:
        return None
    ct = ct_and_tag[:n]
    tag = ct_and_tag[n:]
    if len(nonce) == 12:
        j0 = bytes(nonce) + b'\x00\x00\x00\x01'
        hk = ecb(bytes(16) + j0)
        h = int.from_bytes(hk[0:16], 'big')
        ek0 = hk[16:32]
    else:
        h = int.from_bytes(ecb(bytes(16)), 'big')
        j0 = _j0(h, nonce)
        ek0 = ecb(j0)
    s = _ghash(h, aad, ct)
    want = _xor(s.to_bytes(16, 'big'), ek0)
    # constant-time comparison
    d = 0
    for i in range(taglen):
        d |= want[i] ^ tag[i]
    if d:
        return None
    nb = (n + 15) // 16
    if not nb:
        return b''
    ks = ecb(_counter_blocks(j0, 1, nb))
    return _xor(ct, ks)
