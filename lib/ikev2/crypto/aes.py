# Pure-Python AES (FIPS-197) block cipher, 128/192/256-bit keys.
#
# Runs on CPython and MicroPython. Table-based ("T-table") implementation:
# the state is four 32-bit big-endian column words and each inner round is
# 16 table lookups + XORs. Decryption uses the "equivalent inverse cipher"
# (FIPS-197 section 5.3.5) with InvMixColumns folded into the round keys.
#
# Tables are built once at first use (encryption tables on the first AES
# object, decryption tables on the first decryption), so importing this
# module costs nothing and encrypt-only users (CTR/GCM) never pay for the
# decryption tables.
#
# Note: table lookups indexed by secret data are not constant-time with
# respect to cache timing; this is a fallback for platforms without a
# native AES.

import struct

_SBOX = None
_INV_SBOX = None
_TE = None   # (Te0, Te1, Te2, Te3)
_TD = None   # (Td0, Td1, Td2, Td3)


def _xtime(a):
    a <<= 1
    if a & 0x100:
        a ^= 0x11B
    return a


def _gmul(a, b):
    r = 0
    while b:
        if b & 1:
            r ^= a
        a = _xtime(a)
        b >>= 1
    return r


def _rotr8(w):
    return ((w >> 8) | (w << 24)) & 0xFFFFFFFF


def _build_enc():
    global _SBOX, _INV_SBOX, _TE
    # log/antilog tables over GF(2^8) with generator 3
    exp = [0] * 512
    log = [0] * 256
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        x ^= _xtime(x)          # multiply by 3
    for i in range(255, 512):
        exp[i] = exp[i - 255]
    sbox = bytearray(256)
    inv = bytearray(256)
    for a in range(256):
        b = exp[255 - log[a]] if a else 0      # multiplicative inverse
        s = b
        for _ in range(4):                      # affine transform
            b = ((b << 1) | (b >> 7)) & 0xFF
            s ^= b
        s ^= 0x63
        sbox[a] = s
        inv[s] = a
    te0 = [0] * 256
    for a in range(256):
        s = sbox[a]
        s2 = _xtime(s)
        te0[a] = (s2 << 24) | (s << 16) | (s << 8) | (s2 ^ s)
    te1 = [_rotr8(w) for w in te0]
    te2 = [_rotr8(w) for w in te1]
    te3 = [_rotr8(w) for w in te2]
    _SBOX = bytes(sbox)
    _INV_SBOX = bytes(inv)
    _TE = (te0, te1, te2, te3)


def _build_dec():
    global _TD
    if _SBOX is None:
        _build_enc()
    isb = _INV_SBOX
    td0 = [0] * 256
    for a in range(256):
        s = isb[a]
        td0[a] = ((_gmul(s, 14) << 24) | (_gmul(s, 9) << 16) |
                  (_gmul(s, 13) << 8) | _gmul(s, 11))
    td1 = [_rotr8(w) for w in td0]
    td2 = [_rotr8(w) for w in td1]
    td3 = [_rotr8(w) for w in td2]
    _TD = (td0, td1, td2, td3)


class AES:
    def __init__(self, key):
        key = bytes(key)
        nk = len(key) // 4
        if len(key) not in (16, 24, 32):
            raise ValueError("AES key must be 16, 24 or 32 bytes")
        if _TE is None:
            _build_enc()
        sb = _SBOX
        nr = nk + 6
        w = list(struct.unpack('>%dI' % nk, key))
        rcon = 1
        for i in range(nk, 4 * (nr + 1)):
            t = w[i - 1]
            if i % nk == 0:
                t = ((sb[(t >> 16) & 255] << 24) | (sb[(t >> 8) & 255] << 16) |
                     (sb[t & 255] << 8) | sb[t >> 24]) ^ (rcon << 24)
                rcon = _xtime(rcon)
            elif nk > 6 and i % nk == 4:
                t = ((sb[t >> 24] << 24) | (sb[(t >> 16) & 255] << 16) |
                     (sb[(t >> 8) & 255] << 8) | sb[t & 255])
            w.append(w[i - nk] ^ t)
        self._nr = nr
        self._ek = w
        self._dk = None

    def _dec_key(self):
        # Equivalent inverse cipher key schedule: round keys in reverse
        # order, InvMixColumns applied to all but the first and last.
        if _TD is None:
            _build_dec()
        td0, td1, td2, td3 = _TD
        sb = _SBOX
        ek = self._ek
        nr = self._nr
        dk = []
        for r in range(nr, -1, -1):
            for c in range(4):
                v = ek[4 * r + c]
                if 0 < r < nr:
                    v = (td0[sb[v >> 24]] ^ td1[sb[(v >> 16) & 255]] ^
                         td2[sb[(v >> 8) & 255]] ^ td3[sb[v & 255]])
                dk.append(v)
        self._dk = dk
        return dk

    def _enc(self, s0, s1, s2, s3):
        te0, te1, te2, te3 = _TE
        sb = _SBOX
        rk = self._ek
        s0 ^= rk[0]
        s1 ^= rk[1]
        s2 ^= rk[2]
        s3 ^= rk[3]
        k = 4
        for _ in range(self._nr - 1):
            t0 = (te0[s0 >> 24] ^ te1[(s1 >> 16) & 255] ^
                  te2[(s2 >> 8) & 255] ^ te3[s3 & 255] ^ rk[k])
            t1 = (te0[s1 >> 24] ^ te1[(s2 >> 16) & 255] ^
                  te2[(s3 >> 8) & 255] ^ te3[s0 & 255] ^ rk[k + 1])
            t2 = (te0[s2 >> 24] ^ te1[(s3 >> 16) & 255] ^
                  te2[(s0 >> 8) & 255] ^ te3[s1 & 255] ^ rk[k + 2])
            s3 = (te0[s3 >> 24] ^ te1[(s0 >> 16) & 255] ^
                  te2[(s1 >> 8) & 255] ^ te3[s2 & 255] ^ rk[k + 3])
            s0 = t0
            s1 = t1
            s2 = t2
            k += 4
        return (
            ((sb[s0 >> 24] << 24) | (sb[(s1 >> 16) & 255] << 16) |
             (sb[(s2 >> 8) & 255] << 8) | sb[s3 & 255]) ^ rk[k],
            ((sb[s1 >> 24] << 24) | (sb[(s2 >> 16) & 255] << 16) |
             (sb[(s3 >> 8) & 255] << 8) | sb[s0 & 255]) ^ rk[k + 1],
            ((sb[s2 >> 24] << 24) | (sb[(s3 >> 16) & 255] << 16) |
             (sb[(s0 >> 8) & 255] << 8) | sb[s1 & 255]) ^ rk[k + 2],
            ((sb[s3 >> 24] << 24) | (sb[(s0 >> 16) & 255] << 16) |
             (sb[(s1 >> 8) & 255] << 8) | sb[s2 & 255]) ^ rk[k + 3])

    def _dec(self, s0, s1, s2, s3):
        rk = self._dk or self._dec_key()
        td0, td1, td2, td3 = _TD
        isb = _INV_SBOX
        s0 ^= rk[0]
        s1 ^= rk[1]
        s2 ^= rk[2]
        s3 ^= rk[3]
        k = 4
        for _ in range(self._nr - 1):
            t0 = (td0[s0 >> 24] ^ td1[(s3 >> 16) & 255] ^
                  td2[(s2 >> 8) & 255] ^ td3[s1 & 255] ^ rk[k])
            t1 = (td0[s1 >> 24] ^ td1[(s0 >> 16) & 255] ^
                  td2[(s3 >> 8) & 255] ^ td3[s2 & 255] ^ rk[k + 1])
            t2 = (td0[s2 >> 24] ^ td1[(s1 >> 16) & 255] ^
                  td2[(s0 >> 8) & 255] ^ td3[s3 & 255] ^ rk[k + 2])
            s3 = (td0[s3 >> 24] ^ td1[(s2 >> 16) & 255] ^
                  td2[(s1 >> 8) & 255] ^ td3[s0 & 255] ^ rk[k + 3])
            s0 = t0
            s1 = t1
            s2 = t2
            k += 4
        return (
            ((isb[s0 >> 24] << 24) | (isb[(s3 >> 16) & 255] << 16) |
             (isb[(s2 >> 8) & 255] << 8) | isb[s1 & 255]) ^ rk[k],
            ((isb[s1 >> 24] << 24) | (isb[(s0 >> 16) & 255] << 16) |
             (isb[(s3 >> 8) & 255] << 8) | isb[s2 & 255]) ^ rk[k + 1],
            ((isb[s2 >> 24] << 24) | (isb[(s1 >> 16) & 255] << 16) |
             (isb[(s0 >> 8) & 255] << 8) | isb[s3 & 255]) ^ rk[k + 2],
            ((isb[s3 >> 24] << 24) | (isb[(s2 >> 16) & 255] << 16) |
             (isb[(s1 >> 8) & 255] << 8) | isb[s0 & 255]) ^ rk[k + 3])

    def encrypt_block(self, block):
        if len(block) != 16:
            raise ValueError("block must be 16 bytes")
        return struct.pack('>4I', *self._enc(*struct.unpack('>4I', block)))

    def decrypt_block(self, block):
        if len(block) != 16:
            raise ValueError("block must be 16 bytes")
        return struct.pack('>4I', *self._dec(*struct.unpack('>4I', block)))

    def encrypt_ecb(self, data):
        n = len(data)
        if n % 16:
            raise ValueError("data length must be a multiple of 16")
        out = bytearray(n)
        enc = self._enc
        unpack_from = struct.unpack_from
        pack_into = struct.pack_into
        for i in range(0, n, 16):
            pack_into('>4I', out, i, *enc(*unpack_from('>4I', data, i)))
        return bytes(out)

    def decrypt_ecb(self, data):
        n = len(data)
        if n % 16:
            raise ValueError("data length must be a multiple of 16")
        out = bytearray(n)
        dec = self._dec
        unpack_from = struct.unpack_from
        pack_into = struct.pack_into
        for i in range(0, n, 16):
            pack_into('>4I', out, i, *dec(*unpack_from('>4I', data, i)))
        return bytes(out)

    def cbc_encrypt(self, iv, data):
        n = len(data)
        if n % 16:
            raise ValueError("data length must be a multiple of 16")
        if len(iv) != 16:
            raise ValueError("IV must be 16 bytes")
        out = bytearray(n)
        enc = self._enc
        unpack_from = struct.unpack_from
        pack_into = struct.pack_into
        c0, c1, c2, c3 = struct.unpack('>4I', iv)
        for i in range(0, n, 16):
            p0, p1, p2, p3 = unpack_from('>4I', data, i)
            c0, c1, c2, c3 = enc(p0 ^ c0, p1 ^ c1, p2 ^ c2, p3 ^ c3)
            pack_into('>4I', out, i, c0, c1, c2, c3)
        return bytes(out)

    def cbc_decrypt(self, iv, data):
        n = len(data)
        if n % 16:
            raise ValueError("data length must be a multiple of 16")
        if len(iv) != 16:
            raise ValueError("IV must be 16 bytes")
        out = bytearray(n)
        dec = self._dec
        unpack_from = struct.unpack_from
        pack_into = struct.pack_into
        v0, v1, v2, v3 = struct.unpack('>4I', iv)
        for i in range(0, n, 16):
            c0, c1, c2, c3 = unpack_from('>4I', data, i)
            p0, p1, p2, p3 = dec(c0, c1, c2, c3)
            pack_into('>4I', out, i, p0 ^ v0, p1 ^ v1, p2 ^ v2, p3 ^ v3)
            v0 = c0
            v1 = c1
            v2 = c2
            v3 = c3
        return bytes(out)
