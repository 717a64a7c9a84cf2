# X25519 (RFC 7748) and P-256 (RFC 5903) scalar multiplication in
# MicroPython's viper code: a small "field machine".  dh.py uses it on
# MicroPython where it imports (a port with a native emitter, an .mpy
# built for this CPU, little-endian); x25519.py and p256.py, the portable
# big-int versions, stay the fallback and the reference.
#
# Representation.  "32-bit limbs", as read here: every intermediate fits a
# 32-bit machine word, memory holds 32-bit words (accumulators) and
# 16-bit words (limbs), and the unit of multiplication is chosen for
# speed: a field element is 20 limbs of 13 bits (radix 2^13, 260 bits),
# each in a 16-bit word (ptr16) and always 0 <= limb < 2^13 in memory.
# Two limbs multiply to < 2^26, so the <= 20 products that meet in a
# column add up in one 32-bit word (ptr32) to at most 20 * (2^13-1)^2 =
# 1,341,849,620 < 2^31 with no splitting.  (16-bit digits with 16x16-bit
# products must split every product in halves before adding it; on the
# unix port that made the multiplication 1.6x slower.)
#
# Why no intermediate reaches 2^31 (so 32-bit wrap-around never happens,
# signed or unsigned: the same results from 32-bit viper ints, which wrap,
# as on an ESP32, and 64-bit ones, which do not, as on the unix port).
# Every slot holds a value < B = 2^257 + 2^229 with limbs < 2^13, and:
#   - MUL: an accumulator gets <= 20 products (<= 1,341,849,620) and, in
#     the reduction, at most one each of m<<5, m<<10, 2^16 - m<<3, m<<9
#     (m < 2^13; < 2^23.6 together): <= 1.3545e9.  A round adds the carry
#     (< 2^18) and a limb < 2^13: v < 1.36e9 < 2^31.  The result is
#     (a b + E + M p) / 2^260 < 2^254 + 2^225 + p < B (E: see P-256 below).
#   - ADD, SUB, MULS: |v| < 2^18 per limb (|a + b| < 2^14, |p_j f| < 2^17);
#     MULS by a24 = 121665: v < 8191 * 121665 + carry < 1.0e9, and its
#     second pass < 2^13 + 38 * 2^18.
#   - CSW, SEL, PUT: masks (0 or -1) on words of two limbs (< 2^29).
# Memory only ever holds non-negative values (a negative 32-bit word would
# read back differently on a 32- and a 64-bit port); negative values (the
# 25519 rounds' v - 19m, SUB's carries) live in registers, where ">>" is
# an arithmetic shift on every port.  The host tests check all of this on
# a 32-bit unix port too (tools/bench_dh.py --check32), where an overflow
# shows.
#
# MUL is Montgomery's (R = 2^260), a round per limb, fused with the rows:
# after row i of a * b, accumulator i is complete; m makes it divisible by
# 2^13 and the carry moves on.  Accumulators are left zeroed.
#   P-256: p = 2^256 - 2^224 + 2^192 + 2^96 - 1 = -1 mod 2^13, so m = v mod
#   2^13 and m p is -m in the register plus shifted adds at limbs 7 (2^96
#   = bit 5 of limb 7), 14 (2^192), 17 (-2^224: 2^16 - m<<3 there, never
#   negative) and 19 (2^256).  E, the sum of those 2^16, is made a multiple
#   of p by adding D = -E mod p into the rounds' limbs 0..19 (slot 4).
#   25519: p = 2^255 - 19; m = v * 19^-1 mod 2^13 (19^-1 = 2587), m p is
#   m<<8 at limb 19 and -19m in the register.
# ADD (a + b), SUB (a - b) and MULS (a times a small integer in a slot)
# add (8 - h) p in the same pass (p here: p for P-256, 2p for 25519), h
# the bits from 2^256 up as the top limbs predict them: h is at most 1
# short (the carry into limb 19 is -1..16 < 2^9), so the result is
# (value mod 2^256) + (0 or 1) 2^256 + h (2^256 mod p), in [0, B).  MULS
# by a24 (X25519) is too large to predict: a second pass adds h * 38.
# Values are not fully reduced: Python takes the result mod p once.
#
# The machine runs a program (4 bytes an instruction: op | repeat << 3,
# d, a, b; operands are 40-byte slots) once per digit of the scalar, top
# digit first: bits for X25519, 4-bit windows for P-256.  Secret digits
# only choose masks: CSW/CSWX swap slots, SEL/PUT copy table entries,
# every entry visited; no branch and no address depends on them.  The
# inversions are addition chains with public exponents.
#
# X25519: the RFC 7748 ladder, 255 bits, one conditional swap a bit.
# P-256: Jacobian coordinates, k + N or k + 2N (257 bits, top bit set, as
# p256.py), a table of 1P..15P, then 64 windows of 4 doublings and one
# addition, kept when the digit is not 0.  The exceptional additions
# (R = +-T, about 2^-245 for a random scalar; k = 28 is one) make Z = 0,
# which stays 0: p256_mul() then returns None and dh.py uses p256.py, so
# the result is always exact.
#
# Allocation: one scratch buffer per scalar multiplication; _run itself
# allocates nothing (tested under micropython.heap_lock()).
import micropython
from micropython import const
import sys

if sys.byteorder != "little":  # limbs are read two at a time as words
    raise ImportError("ecnative: big-endian CPU")

_MUL = const(0)
_ADD = const(1)
_SUB = const(2)
_MULS = const(3)
_CSW = const(4)
_CSWX = const(5)
_SEL = const(6)
_PUT = const(7)


@micropython.viper
def _run(ai: int, q: ptr32, st: ptr16, prog: ptr8, plen: int, nbits: int, fld: int):
    # Runs prog once per digit of the scalar (slot 8), top digit first:
    # nbits digits of 1 bit (fld 0: 2^255 - 19) or 4 bits (fld 1: P-256).
    # ai and q are the first locals, so viper keeps them in registers for
    # the unrolled rows; callers pass 0 and any buffer.
    t = ptr32(st)
    kb = ptr8(int(st) + 320)
    dd = ptr16(int(st) + 160)
    wb = 1 + 3 * fld
    last = 0
    while nbits > 0:
        nbits -= 1
        j = nbits * wb
        dg = (kb[j >> 3] >> (j & 7)) & ((1 << wb) - 1)
        sw = dg ^ last
        last = dg
        pc = 0
        while pc < plen:
            op = prog[pc]
            n = prog[pc + 1]
            d = int(st) + n * 40
            a = int(st) + prog[pc + 2] * 40
            b = int(st) + prog[pc + 3] * 40
            pc += 4
            rep = op >> 3
            op &= 7
            if op >= 6:
                # SEL d a b: d..d+2 = entry dg (1..b) of the table of
                # 3-slot entries at a; PUT d a b: that entry = d..d+2; by
                # masks, nothing changes if dg is 0
                g = prog[pc - 1]
                j = 1
                while j <= g:
                    m = ((dg ^ j) - 1) >> 8
                    q = ptr32(d)
                    p2 = ptr32(a)
                    if op == 7:
                        q = ptr32(a)
                        p2 = ptr32(d)
                    i = 6
                    while i > 0:
                        i -= 1
                        q[0] = q[0] ^ (m & (q[0] ^ p2[0]))
                        q[1] = q[1] ^ (m & (q[1] ^ p2[1]))
                        q[2] = q[2] ^ (m & (q[2] ^ p2[2]))
                        q[3] = q[3] ^ (m & (q[3] ^ p2[3]))
                        q[4] = q[4] ^ (m & (q[4] ^ p2[4]))
                        q = ptr32(int(q) + 20)
                        p2 = ptr32(int(p2) + 20)
                    a += 120
                    j += 1
                continue
            if op >= 4:
                # CSW n a b: swap n slots at a and b if the digit is not 0;
                # CSWX: if the bit differs from the last one (the ladder);
                # 32-bit words of two limbs
                if op == 4:
                    m = (0 - dg) >> 8
                else:
                    m = 0 - sw
                q = ptr32(a)
                p2 = ptr32(b)
                n = n * 10
                i = 0
                while i < n:
                    x = q[i]
                    z = m & (x ^ p2[i])
                    q[i] = x ^ z
                    p2[i] = p2[i] ^ z
                    i += 1
                continue
            while rep >= 0:
                rep -= 1
                if op == 0:  # MUL: d = a * b / R mod p
                    bb = ptr16(b)
                    pa = ptr16(a)
                    q = ptr32(int(t) - 4)
                    c = 0
                    i = 0
                    while i < 20:
                        ai = pa[i]
                        q = ptr32(int(q) + 4)
                        q[0] = bb[0] * ai + q[0]
                        q[1] = bb[1] * ai + q[1]
                        q[2] = bb[2] * ai + q[2]
                        q[3] = bb[3] * ai + q[3]
                        q[4] = bb[4] * ai + q[4]
                        q[5] = bb[5] * ai + q[5]
                        q[6] = bb[6] * ai + q[6]
                        q[7] = bb[7] * ai + q[7]
                        q[8] = bb[8] * ai + q[8]
                        q[9] = bb[9] * ai + q[9]
                        q[10] = bb[10] * ai + q[10]
                        q[11] = bb[11] * ai + q[11]
                        q[12] = bb[12] * ai + q[12]
                        q[13] = bb[13] * ai + q[13]
                        q[14] = bb[14] * ai + q[14]
                        q[15] = bb[15] * ai + q[15]
                        q[16] = bb[16] * ai + q[16]
                        q[17] = bb[17] * ai + q[17]
                        q[18] = bb[18] * ai + q[18]
                        q[19] = bb[19] * ai + q[19]
                        # Montgomery round: T[i] is complete (ai is m here)
                        v = q[0] + c
                        q[0] = 0
                        if fld:
                            v += dd[i]
                            ai = v & 0x1FFF
                            q[7] = (ai << 5) + q[7]
                            q[14] = (ai << 10) + q[14]
                            q[17] = q[17] + 65536 - (ai << 3)
                            q[19] = (ai << 9) + q[19]
                            c = (v - ai) >> 13
                        else:
                            ai = ((v & 0x1FFF) * 2587) & 0x1FFF
                            q[19] = (ai << 8) + q[19]
                            c = (v - 19 * ai) >> 13
                        i += 1
                    pd = ptr16(d)
                    q = ptr32(int(t) + 80)
                    ai = c
                    i = 0
                    while i < 4:
                        v = q[0] + ai
                        q[0] = 0
                        pd[0] = v & 0x1FFF
                        ai = v >> 13
                        v = q[1] + ai
                        q[1] = 0
                        pd[1] = v & 0x1FFF
                        ai = v >> 13
                        v = q[2] + ai
                        q[2] = 0
                        pd[2] = v & 0x1FFF
                        ai = v >> 13
                        v = q[3] + ai
                        q[3] = 0
                        pd[3] = v & 0x1FFF
                        ai = v >> 13
                        v = q[4] + ai
                        q[4] = 0
                        pd[4] = v & 0x1FFF
                        ai = v >> 13
                        q = ptr32(int(q) + 20)
                        pd = ptr16(int(pd) + 10)
                        i += 1
                    continue
                # ADD: a + b, SUB: a - b, MULS: a times the integer in slot
                # b; plus (8 - h) p with h the bits from 2^256 up as the
                # top limbs predict them (see the header): a result in
                # [0, B).  The MULS by a24 (fld 0) is too large to
                # predict: a second pass adds h (2^256 mod p), h exact.
                pa = ptr16(a)
                pb = ptr16(b)
                pp = ptr16(int(st) + 200)
                ma = 1
                sg = 1
                if op == 3:
                    ma = pb[0] + (pb[1] << 13)
                    sg = 0
                elif op == 2:
                    sg = -1
                f = 4 + 4 * fld  # slot 5 holds p (fld 1) or 2p (fld 0)
                ps = 0
                if op == 3 and fld == 0:
                    f = 0
                    ps = 1
                else:
                    f -= (pa[19] * ma + pb[19] * sg + pp[19] * f - 1) >> 9
                while True:
                    pd = ptr16(d)
                    ai = 0
                    i = 0
                    while i < 4:
                        v = pa[0] * ma + pb[0] * sg + pp[0] * f + ai
                        pd[0] = v & 0x1FFF
                        ai = v >> 13
                        v = pa[1] * ma + pb[1] * sg + pp[1] * f + ai
                        pd[1] = v & 0x1FFF
                        ai = v >> 13
                        v = pa[2] * ma + pb[2] * sg + pp[2] * f + ai
                        pd[2] = v & 0x1FFF
                        ai = v >> 13
                        v = pa[3] * ma + pb[3] * sg + pp[3] * f + ai
                        pd[3] = v & 0x1FFF
                        ai = v >> 13
                        v = pa[4] * ma + pb[4] * sg + pp[4] * f + ai
                        pd[4] = v & 0x1FFF
                        ai = v >> 13
                        pa = ptr16(int(pa) + 10)
                        pb = ptr16(int(pb) + 10)
                        pp = ptr16(int(pp) + 10)
                        pd = ptr16(int(pd) + 10)
                        i += 1
                    if ps != 1:
                        break
                    ps = 2
                    pd = ptr16(d)
                    f = (pd[19] >> 9) + (ai << 4)
                    pd[19] = pd[19] & 0x1FF
                    pa = pd
                    pb = pd
                    ma = 1
                    sg = 0
                    pp = ptr16(int(st) + 240)


@micropython.viper
def _cvt(st: ptr16, buf: ptr8, s: int):
    # s > 0: 35 little-endian bytes -> the 20 limbs of slot s; s < 0: the
    # limbs of slot -s -> 35 bytes (buf zeroed first)
    if s > 0:
        o = s * 20
        i = 0
        while i < 20:
            j = (i * 13) >> 3
            v = buf[j] | (buf[j + 1] << 8) | (buf[j + 2] << 16)
            st[o + i] = (v >> ((i * 13) & 7)) & 0x1FFF
            i += 1
    else:
        o = -s * 20
        i = 0
        while i < 20:
            j = (i * 13) >> 3
            v = st[o + i] << ((i * 13) & 7)
            buf[j] = buf[j] | v
            buf[j + 1] = buf[j + 1] | (v >> 8)
            buf[j + 2] = buf[j + 2] | (v >> 16)
            i += 1


def _put(st, s, x):
    # x (0 <= x < 2^260) into slot s
    _cvt(st, x.to_bytes(35, "little"), s)


def _get(st, s):
    b = bytearray(35)
    _cvt(st, b, -s)
    return int.from_bytes(b, "little")


def _chain(c):
    # the MUL instructions of an addition chain: 4-byte steps d, s, n, m
    # meaning d = s^(2^n) * m (m 0: none); d != m if n > 0
    out = bytearray()
    for i in range(0, len(c), 4):
        d, s, n, m = c[i], c[i + 1], c[i + 2], c[i + 3]
        if n:
            out += bytes((_MUL, d, s, s))
            n -= 1
            while n:
                r = min(n, 32)
                out += bytes((_MUL | (r - 1) << 3, d, d, d))
                n -= r
            s = d
        if m:
            out += bytes((_MUL, d, s, m))
    return bytes(out)


def _wipe(st):
    _zero(st, len(st) >> 2)


def release():
    # give the scratch back (it is all zero): dh.DH does once its shared
    # secret is made; the next multiplication makes a new one
    _ST[0] = None


def _run1(st, prog, fld, n=1):
    _run(0, st, st, prog, len(prog), n, fld)


@micropython.viper
def _zero(st: ptr32, n: int):
    i = 0
    while i < n:
        st[i] = 0
        i += 1


_ST = [None]  # the scratch, made once and reused: a fresh 3 KB block
# for each multiplication is what a fragmented heap fails to give


def _new(p, slots, k, d=0):
    # the scratch of one scalar multiplication, all zero: slots 0-3 the
    # accumulators (40 u32), 4 the P-256 rounds' constant (d), 5 p or 2p
    # (whichever is below 2^256 and above 2^255: ADD, SUB, MULS), 6 2^256
    # mod p, 7 zero, 8 the scalar (little-endian bytes), 9.. the program's
    # own.  _wipe() zeroes it after use (it holds the scalar).
    st = _ST[0]
    if st is None or len(st) < slots * 40:
        _ST[0] = None
        st = _ST[0] = bytearray(slots * 40)
    else:
        _wipe(st)  # in case a run was cut short
    _put(st, 4, d)
    _put(st, 5, p if p >> 255 else 2 * p)
    _put(st, 6, (1 << 256) % p)
    st[320:320 + len(k)] = k
    return st


# ------------------------------------------------------------------ X25519
P25 = (1 << 255) - 19
# slots: 9 x1, 10 x2, 11 z2, 12 x3, 13 z3, 14-17 temporaries, 18 a24 (as
# an integer), 19 1 (as an integer, to leave the Montgomery domain)
_LADDER = (
    b"\x05\x02\x0a\x0c"  # CSWX  2 10 12  swap (x2, z2), (x3, z3) if k_t != k_t+1
    b"\x01\x0e\x0a\x0b"  # ADD  14 10 11  A = x2 + z2
    b"\x02\x0f\x0a\x0b"  # SUB  15 10 11  B = x2 - z2
    b"\x01\x10\x0c\x0d"  # ADD  16 12 13  C = x3 + z3
    b"\x02\x11\x0c\x0d"  # SUB  17 12 13  D = x3 - z3
    b"\x00\x11\x11\x0e"  # MUL  17 17 14  DA
    b"\x00\x10\x10\x0f"  # MUL  16 16 15  CB
    b"\x00\x0e\x0e\x0e"  # MUL  14 14 14  AA
    b"\x00\x0f\x0f\x0f"  # MUL  15 15 15  BB
    b"\x01\x0c\x11\x10"  # ADD  12 17 16
    b"\x00\x0c\x0c\x0c"  # MUL  12 12 12  x3 = (DA + CB)^2
    b"\x02\x0d\x11\x10"  # SUB  13 17 16
    b"\x00\x0d\x0d\x0d"  # MUL  13 13 13
    b"\x00\x0d\x0d\x09"  # MUL  13 13  9  z3 = x1 * (DA - CB)^2
    b"\x00\x0a\x0e\x0f"  # MUL  10 14 15  x2 = AA * BB
    b"\x02\x10\x0e\x0f"  # SUB  16 14 15  E = AA - BB
    b"\x03\x11\x10\x12"  # MULS 17 16 18  a24 * E
    b"\x01\x11\x11\x0e"  # ADD  17 17 14
    b"\x00\x0b\x10\x11")  # MUL  11 16 17  z2 = E * (AA + a24 * E)
# (the ladder's final swap is by k_0, which clamping makes 0)
# z2^(p-2) (254 squarings, 11 multiplications; temporaries 14-17), times
# x2, then out of the Montgomery domain: result in slot 15
_FIN25 = _chain(
    b"\x0e\x0b\x01\x00"  # 14 = z^2
    b"\x0f\x0e\x02\x0b"  # 15 = z^9
    b"\x0e\x0e\x00\x0f"  # 14 = z^11
    b"\x10\x0e\x01\x0f"  # 16 = z^(2^5 - 1)
    b"\x0f\x10\x05\x10"  # 15 = z^(2^10 - 1)
    b"\x10\x0f\x0a\x0f"  # 16 = z^(2^20 - 1)
    b"\x11\x10\x14\x10"  # 17 = z^(2^40 - 1)
    b"\x10\x11\x0a\x0f"  # 16 = z^(2^50 - 1)
    b"\x11\x10\x32\x10"  # 17 = z^(2^100 - 1)
    b"\x0f\x11\x64\x11"  # 15 = z^(2^200 - 1)
    b"\x0f\x0f\x32\x10"  # 15 = z^(2^250 - 1)
    b"\x0f\x0f\x05\x0e"  # 15 = z^(2^255 - 21) = 1/z
    b"\x0f\x0f\x00\x0a"  # 15 = x2 / z2
    b"\x0f\x0f\x00\x13")  # out of the Montgomery domain
_R25 = (1 << 260) % P25


def x25519(k, u):
    # RFC 7748 X25519(k, u); the same contract as x25519.x25519
    if len(k) != 32 or len(u) != 32:
        raise ValueError("X25519 scalar and u-coordinate must be 32 bytes")
    p = P25
    k = bytearray(k)
    k[0] &= 248
    k[31] = (k[31] & 127) | 64
    st = _new(p, 20, k)
    try:
        x1 = (int.from_bytes(bytes(u), "little") & ((1 << 255) - 1)) * _R25 % p
        for s, v in ((9, x1), (12, x1), (10, _R25), (13, _R25), (18, 121665),
                     (19, 1)):
            _put(st, s, v)
        _run1(st, _LADDER, 0, 255)
        _run1(st, _FIN25, 0)
        return (_get(st, 15) % p).to_bytes(32, "little")
    finally:
        _wipe(st)


# ------------------------------------------------------------------- P-256
P256 = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
N256 = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
# slots: 9-11 R = (X, Y, Z), 12-14 T, 15-16 P = (x, y), 17-23 temporaries,
# 24 1 (as an integer), 25-27 the integers 3, 4, 8, 28-30 R + T, 31-75 the
# table of 1P..15P (Jacobian, 3 slots each)
_DBL = (  # R = 2R (dbl-2001-b, a = -3)
    b"\x00\x11\x0b\x0b"  # MUL  17 11 11  delta = Z^2
    b"\x00\x12\x0a\x0a"  # MUL  18 10 10  gamma = Y^2
    b"\x00\x13\x09\x12"  # MUL  19  9 18  beta = X gamma
    b"\x02\x14\x09\x11"  # SUB  20  9 17
    b"\x01\x15\x09\x11"  # ADD  21  9 17
    b"\x00\x14\x14\x15"  # MUL  20 20 21
    b"\x03\x16\x14\x19"  # MULS 22 20 25  alpha = 3 (X - delta)(X + delta)
    b"\x03\x13\x13\x1a"  # MULS 19 19 26  4 beta
    b"\x00\x09\x16\x16"  # MUL   9 22 22
    b"\x02\x09\x09\x13"  # SUB   9  9 19
    b"\x02\x09\x09\x13"  # SUB   9  9 19  X3 = alpha^2 - 8 beta
    b"\x01\x14\x0a\x0b"  # ADD  20 10 11
    b"\x00\x14\x14\x14"  # MUL  20 20 20
    b"\x02\x14\x14\x12"  # SUB  20 20 18
    b"\x02\x0b\x14\x11"  # SUB  11 20 17  Z3 = (Y + Z)^2 - gamma - delta
    b"\x02\x15\x13\x09"  # SUB  21 19  9
    b"\x00\x15\x16\x15"  # MUL  21 22 21
    b"\x00\x12\x12\x12"  # MUL  18 18 18
    b"\x03\x12\x12\x1b"  # MULS 18 18 27
    b"\x02\x0a\x15\x12")  # SUB  10 21 18  Y3 = alpha (4 beta - X3) - 8 gamma^2
_MADD = (  # T = R + P, P affine (the formulas of p256._add_mixed)
    b"\x00\x14\x0b\x0b"  # MUL  20 11 11  z1z1
    b"\x00\x15\x0f\x14"  # MUL  21 15 20  u2 = x2 z1z1
    b"\x00\x14\x14\x0b"  # MUL  20 20 11
    b"\x00\x14\x14\x10"  # MUL  20 20 16  s2 = y2 z1^3
    b"\x02\x15\x15\x09"  # SUB  21 21  9  h = u2 - X
    b"\x02\x14\x14\x0a"  # SUB  20 20 10  r = s2 - Y
    b"\x00\x0e\x0b\x15"  # MUL  14 11 21  Z3 = Z h
    b"\x00\x11\x15\x15"  # MUL  17 21 21  hh
    b"\x00\x12\x15\x11"  # MUL  18 21 17  hhh
    b"\x00\x13\x09\x11"  # MUL  19  9 17  v = X hh
    b"\x00\x0c\x14\x14"  # MUL  12 20 20
    b"\x02\x0c\x0c\x12"  # SUB  12 12 18
    b"\x02\x0c\x0c\x13"  # SUB  12 12 19
    b"\x02\x0c\x0c\x13"  # SUB  12 12 19  X3 = r^2 - hhh - 2v
    b"\x02\x13\x13\x0c"  # SUB  19 19 12
    b"\x00\x13\x14\x13"  # MUL  19 20 19
    b"\x00\x12\x0a\x12"  # MUL  18 10 18
    b"\x02\x0d\x13\x12")  # SUB  13 19 18  Y3 = r (v - X3) - Y hhh
# one 4-bit window: R = 16R, then R + (table entry of the digit), kept if
# the digit is not 0 (add-2007-bl for the Jacobian addition)
_WIN = _DBL * 4 + (
    b"\x06\x0c\x1f\x0f"  # SEL  12 31 15  T = the table's entry of the digit
    b"\x00\x11\x0b\x0b"  # MUL  17 11 11  Z1Z1
    b"\x00\x12\x0e\x0e"  # MUL  18 14 14  Z2Z2
    b"\x00\x13\x09\x12"  # MUL  19  9 18  U1 = X1 Z2Z2
    b"\x00\x14\x0c\x11"  # MUL  20 12 17  U2 = X2 Z1Z1
    b"\x00\x15\x0a\x0e"  # MUL  21 10 14
    b"\x00\x15\x15\x12"  # MUL  21 21 18  S1 = Y1 Z2 Z2Z2
    b"\x00\x16\x0d\x0b"  # MUL  22 13 11
    b"\x00\x16\x16\x11"  # MUL  22 22 17  S2 = Y2 Z1 Z1Z1
    b"\x02\x14\x14\x13"  # SUB  20 20 19  H = U2 - U1
    b"\x02\x16\x16\x15"  # SUB  22 22 21
    b"\x01\x16\x16\x16"  # ADD  22 22 22  r = 2 (S2 - S1)
    b"\x01\x1e\x0b\x0e"  # ADD  30 11 14
    b"\x00\x1e\x1e\x1e"  # MUL  30 30 30
    b"\x02\x1e\x1e\x11"  # SUB  30 30 17
    b"\x02\x1e\x1e\x12"  # SUB  30 30 18
    b"\x00\x1e\x1e\x14"  # MUL  30 30 20  Z3 = ((Z1 + Z2)^2 - Z1Z1 - Z2Z2) H
    b"\x01\x11\x14\x14"  # ADD  17 20 20
    b"\x00\x11\x11\x11"  # MUL  17 17 17  I = (2H)^2
    b"\x00\x12\x14\x11"  # MUL  18 20 17  J = H I
    b"\x00\x13\x13\x11"  # MUL  19 19 17  V = U1 I
    b"\x00\x1c\x16\x16"  # MUL  28 22 22
    b"\x02\x1c\x1c\x12"  # SUB  28 28 18
    b"\x02\x1c\x1c\x13"  # SUB  28 28 19
    b"\x02\x1c\x1c\x13"  # SUB  28 28 19  X3 = r^2 - J - 2V
    b"\x02\x13\x13\x1c"  # SUB  19 19 28
    b"\x00\x13\x16\x13"  # MUL  19 22 19
    b"\x00\x15\x15\x12"  # MUL  21 21 18
    b"\x01\x15\x15\x15"  # ADD  21 21 21
    b"\x02\x1d\x13\x15"  # SUB  29 19 21  Y3 = r (V - X3) - 2 S1 J
    b"\x04\x03\x09\x1c")  # CSW   3  9 28  R = R + T if the digit is not 0
# Z^(p-2) (255 squarings, 12 multiplications; temporaries 17-20), then
# x = X / Z^2, y = Y / Z^3, out of the Montgomery domain: in slots 21, 22
_FIN256 = _chain(
    b"\x11\x0b\x01\x0b"  # 17 = z^(2^2 - 1)
    b"\x12\x11\x01\x0b"  # 18 = z^(2^3 - 1)
    b"\x13\x12\x03\x12"  # 19 = z^(2^6 - 1)
    b"\x14\x13\x06\x13"  # 20 = z^(2^12 - 1)
    b"\x14\x14\x03\x12"  # 20 = z^(2^15 - 1)
    b"\x13\x14\x0f\x14"  # 19 = z^(2^30 - 1)
    b"\x12\x13\x02\x11"  # 18 = z^(2^32 - 1)
    b"\x11\x12\x20\x0b"  # 17 = z^(2^64 - 2^32 + 1)
    b"\x11\x11\x60\x00"  # 17 = z^(2^160 - 2^128 + 2^96)
    b"\x11\x11\x20\x12"  # ... then 32 ones
    b"\x11\x11\x20\x12"  # ... 32 more
    b"\x11\x11\x1e\x13"  # ... 30 more
    b"\x11\x11\x02\x0b"  # 17 = z^(p - 2) = 1/z
    b"\x12\x11\x01\x00"  # 18 = 1/z^2
    b"\x15\x09\x00\x12"  # 21 = X / z^2
    b"\x12\x12\x00\x11"  # 18 = 1/z^3
    b"\x16\x0a\x00\x12"  # 22 = Y / z^3
    b"\x15\x15\x00\x18"  # x, out of the Montgomery domain
    b"\x16\x16\x00\x18")  # y, likewise
_R256 = (1 << 260) % P256
# the P-256 rounds add 2^16 - (m<<3) at limbs 17..36 (never negative);
# this, added in limbs 0..19, makes all those 2^16 a multiple of p
_D256 = -sum(1 << (16 + 13 * i) for i in range(17, 37)) % P256


def _copy(d, s):
    # d..d+2 = s..s+2 (ADD with slot 7, zero)
    return bytes((_ADD, d, s, 7, _ADD, d + 1, s + 1, 7, _ADD, d + 2, s + 2, 7))


# the table: 2P by doubling, then 3P..15P by adding P, each put into its
# entry by PUT, with the digits 3..15 in the scalar's place
_TAB2 = _DBL + _copy(34, 9)
_TABN = _MADD + _copy(9, 12) + bytes((_PUT, 12, 31, 15))
_COUNT = sum((15 - n) << (4 * n) for n in range(13)).to_bytes(7, "little")


def p256_mul(k, x, y):
    # k * (x, y) on P-256, for 1 <= k < N and a point on the curve (the
    # caller checks both) -> (x, y), or None in the exceptional case (see
    # the header): then use p256.mul
    p = P256
    k += N256
    k += N256 * (1 - (k >> 256))   # 257 bits, top bit set
    st = _new(p, 76, _COUNT, _D256)
    try:
        x = x * _R256 % p
        y = y * _R256 % p
        for s in (9, 15, 31):
            _put(st, s, x)
            _put(st, s + 1, y)
        _put(st, 11, _R256)
        _put(st, 33, _R256)
        _put(st, 24, 1)
        _put(st, 25, 3)
        _put(st, 26, 4)
        _put(st, 27, 8)
        _run1(st, _TAB2, 1)
        _run1(st, _TABN, 1, 13)
        # R = P (the top bit, 256), then the 64 windows of bits 255..0
        st[320:353] = k.to_bytes(33, "little")
        _put(st, 9, x)
        _put(st, 10, y)
        _put(st, 11, _R256)
        _run1(st, _WIN, 1, 64)
        if _get(st, 11) % p == 0:
            return None
        _run1(st, _FIN256, 1)
        return _get(st, 21) % p, _get(st, 22) % p
    finally:
        _wipe(st)
