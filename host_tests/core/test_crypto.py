# Crypto backends against published vectors (see vectors/README.md), and
# the properties the protocol relies on.  Runs on every backend.
import sys

from harness import per_backend, vectors, h, Rng, raises
from ikev2.crypto import dh as DH
from ikev2.errors import CryptoError


@per_backend
def test_hmac_sha256_rfc4231(backend):
    v = vectors("rfc4231_hmac_sha256.json")
    assert len(v["cases"]) >= 7
    for c in v["cases"]:
        mac = backend.hmac_sha256(h(c["key"]), h(c["data"]))
        n = c.get("trunc", 32)
        assert mac[:n] == h(c["mac"]), c["name"]


@per_backend
def test_hmac_key_switching(backend):
    # the MicroPython HMAC caches pads of the last key: alternate keys
    v = vectors("rfc4231_hmac_sha256.json")["cases"]
    for c in v + v:
        n = c.get("trunc", 32)
        assert backend.hmac_sha256(h(c["key"]), h(c["data"]))[:n] == h(c["mac"])


@per_backend
def test_aes_cbc_nist(backend):
    v = vectors("nist_aes_cbc.json")
    assert len(v["cases"]) >= 2
    for c in v["cases"]:
        k, iv, pt, ct = h(c["key"]), h(c["iv"]), h(c["pt"]), h(c["ct"])
        assert backend.aes_cbc_encrypt(k, iv, pt) == ct, c["name"]
        assert backend.aes_cbc_decrypt(k, iv, ct) == pt, c["name"]


@per_backend
def test_aes_ecb_is_first_cbc_block_with_zero_iv(backend):
    v = vectors("nist_aes_cbc.json")["cases"][0]
    k, pt = h(v["key"]), h(v["pt"])
    ecb = backend.aes_ecb(k)
    assert ecb(pt[:16]) == backend.aes_cbc_encrypt(k, bytes(16), pt[:16])
    two = ecb(pt[:32])
    assert two[:16] == ecb(pt[:16]) and two[16:] == ecb(pt[16:32])


@per_backend
def test_aes_gcm_nist(backend):
    v = vectors("nist_aes_gcm.json")
    assert len(v["cases"]) >= 4
    for c in v["cases"]:
        k, iv, aad = h(c["key"]), h(c["iv"]), h(c["aad"])
        pt, ct, tag = h(c["pt"]), h(c["ct"]), h(c["tag"])
        assert backend.aes_gcm_seal(k, iv, aad, pt) == ct + tag, c["name"]
        assert backend.aes_gcm_open(k, iv, aad, ct + tag) == pt, c["name"]


@per_backend
def test_aes_gcm_rejects_tampering(backend):
    c = vectors("nist_aes_gcm.json")["cases"][-1]
    k, iv, aad = h(c["key"]), h(c["iv"]), h(c["aad"])
    sealed = h(c["ct"]) + h(c["tag"])
    for i in (0, len(sealed) - 1):
        bad = bytearray(sealed)
        bad[i] ^= 1
        assert backend.aes_gcm_open(k, iv, aad, bytes(bad)) is None
    assert backend.aes_gcm_open(k, iv, aad + b"x", sealed) is None
    assert backend.aes_gcm_open(k, iv, aad, sealed[:10]) is None


@per_backend
def test_x25519_rfc7748(backend):
    v = vectors("rfc7748_x25519.json")
    for c in v["scalar_mult"]:
        assert backend.dh_shared(31, h(c["k"]), h(c["u"])) == h(c["out"])
    d = v["dh"]
    assert backend.dh_public(31, h(d["alice_priv"])) == h(d["alice_pub"])
    assert backend.dh_public(31, h(d["bob_priv"])) == h(d["bob_pub"])
    assert backend.dh_shared(31, h(d["alice_priv"]), h(d["bob_pub"])) == h(d["shared"])
    assert backend.dh_shared(31, h(d["bob_priv"]), h(d["alice_pub"])) == h(d["shared"])


@per_backend
def test_x25519_rfc7748_iterated(backend):
    v = vectors("rfc7748_x25519.json")["iterated"]
    want = dict((c["iterations"], h(c["out"])) for c in v)
    k = u = bytes([9]) + bytes(31)
    for i in range(1, max(want) + 1):
        k, u = backend.dh_shared(31, k, u), k
        if i in want:
            assert k == want[i], i


@per_backend
def test_x25519_rejects_low_order_point(backend):
    # u = 0 and u = 1 give an all-zero shared secret (RFC 7748 section 6.1)
    priv = Rng(b"x")(32)
    for u in (bytes(32), b"\x01" + bytes(31)):
        raises(CryptoError, backend.dh_shared, 31, priv, u)
    raises(CryptoError, backend.dh_shared, 31, priv, bytes(31))


@per_backend
def test_ecp256_rfc5903(backend):
    v = vectors("rfc5903_ecp256.json")
    i, r = h(v["i"]), h(v["r"])
    gi = h(v["gix"]) + h(v["giy"])
    gr = h(v["grx"]) + h(v["gry"])
    assert backend.dh_public(19, i) == gi
    assert backend.dh_public(19, r) == gr
    assert backend.dh_shared(19, i, gr) == h(v["girx"])
    assert backend.dh_shared(19, r, gi) == h(v["girx"])


@per_backend
def test_ecp256_rejects_bad_points(backend):
    v = vectors("rfc5903_ecp256.json")
    i = h(v["i"])
    gr = bytearray(h(v["grx"]) + h(v["gry"]))
    gr[63] ^= 1  # off the curve
    raises(CryptoError, backend.dh_shared, 19, i, bytes(gr))
    raises(CryptoError, backend.dh_shared, 19, i, bytes(64))
    raises(CryptoError, backend.dh_shared, 19, i, b"\xff" * 64)
    raises(CryptoError, backend.dh_shared, 19, i, bytes(gr[:63]))


@per_backend
def test_modp2048_agreement_and_checks(backend):
    v = vectors("rfc3526_modp2048.json")
    assert int.from_bytes(h(v["p"]), "big") == DH.MODP2048_P
    assert v["g"] == DH.MODP2048_G
    a = DH.DH(backend, 14, Rng(b"a"))
    b = DH.DH(backend, 14, Rng(b"b"))
    assert len(a.public) == 256
    s = a.shared(b.public)
    assert s == b.shared(a.public) and len(s) == 256
    # RFC 6989 checks on the peer's value
    for y in (0, 1, DH.MODP2048_P - 1, DH.MODP2048_P):
        raises(CryptoError, a.shared, y.to_bytes(256, "big"))
    raises(CryptoError, a.shared, a.public[1:])


def test_modp_exponent_strength():
    # at least twice the group's 112-bit strength, even from a weak rng
    assert DH.MODP_EXP_BITS >= 2 * DH.MODP_STRENGTH
    for rng in (lambda n: bytes(n), Rng(b"e")):
        x = int.from_bytes(DH.new_private(14, rng), "big")
        assert x >> (DH.MODP_EXP_BITS - 1) == 1


@per_backend
def test_dh_all_groups_agree_and_rng_is_injected(backend):
    for g in DH.GROUPS:
        a = DH.DH(backend, g, Rng(b"i%d" % g))
        a2 = DH.DH(backend, g, Rng(b"i%d" % g))
        b = DH.DH(backend, g, Rng(b"r%d" % g))
        assert a.public == a2.public  # deterministic under an injected rng
        assert a.public != b.public
        assert len(a.public) == DH.KE_LEN[g]
        assert a.shared(b.public) == b.shared(a.public)


def test_backends_agree_on_dh():
    # the same private value gives the same public value everywhere
    bks = [__import__("harness").backends()][0]
    for g in DH.GROUPS:
        priv = DH.new_private(g, Rng(b"agree%d" % g))
        pubs = [b.dh_public(g, priv) for b in bks]
        for p in pubs:
            assert p == pubs[0], g


def test_unknown_group_is_a_config_error():
    from ikev2.errors import ConfigError

    raises(ConfigError, DH.new_private, 5, Rng())
    raises(ConfigError, DH.check_group, 99)


@per_backend
def test_ct_eq(backend):
    assert backend.ct_eq(b"abc", b"abc")
    assert not backend.ct_eq(b"abc", b"abd")
    assert not backend.ct_eq(b"abc", b"ab")
    assert backend.sha256(b"abc") == h(
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


# ------------------------------------------------- native X25519 and P-256
# ecnative.py (viper) is what dh.py uses on MicroPython; on CPython it does
# not import and dh.py uses x25519.py and p256.py.  These tests check it
# against the vectors and against the big-int code, on random and extreme
# inputs, op by op, and that its inner loop allocates nothing.
_MP = sys.implementation.name == "micropython"
_P25 = (1 << 255) - 19
# u-coordinates of points of small order (0, 1, the two of order 8, p - 1)
# and p, p + 1 not reduced: X25519 gives 0 for all (x25519.py agrees below)
_LOW_ORDER = (0, 1,
              325606250916557431795983626356110631294008115727848805560023387167927233504,
              39382357235489614581723060781553021112529911719440698176882885853963445705823,
              _P25 - 1, _P25, _P25 + 1)


def _native():
    m = DH.native()
    # the unix port has the native emitter and build_mpy gives ecnative.mpy
    # its -march: on MicroPython it must be there, never a silent fallback
    assert (m is not None) == _MP, "ecnative on %s: %r" % (sys.implementation.name, m)
    return m


def test_native_is_used_on_micropython_only():
    m = _native()
    if m:
        assert m.__name__.endswith("ecnative")
        assert DH._x25519(b"\x01" * 32, b"\x09" + bytes(31)) == m.x25519(
            b"\x01" * 32, b"\x09" + bytes(31))


def test_native_vectors():
    m = _native()
    if not m:
        return
    v = vectors("rfc7748_x25519.json")
    for c in v["scalar_mult"]:
        assert m.x25519(h(c["k"]), h(c["u"])) == h(c["out"])
    d = v["dh"]
    base = b"\x09" + bytes(31)
    assert m.x25519(h(d["alice_priv"]), base) == h(d["alice_pub"])
    assert m.x25519(h(d["bob_priv"]), h(d["alice_pub"])) == h(d["shared"])
    it = [c for c in v["iterated"] if c["iterations"] == 1][0]
    assert m.x25519(base, base) == h(it["out"])
    e = vectors("rfc5903_ecp256.json")
    from ikev2.crypto import p256

    for priv, x, y in (("i", "gix", "giy"), ("r", "grx", "gry")):
        k = int.from_bytes(h(e[priv]), "big")
        assert m.p256_mul(k, p256.G[0], p256.G[1]) == (
            int.from_bytes(h(e[x]), "big"), int.from_bytes(h(e[y]), "big"))
    k = int.from_bytes(h(e["i"]), "big")
    gr = (int.from_bytes(h(e["grx"]), "big"), int.from_bytes(h(e["gry"]), "big"))
    assert m.p256_mul(k, gr[0], gr[1])[0] == int.from_bytes(h(e["girx"]), "big")


def test_native_agrees_with_bigint():
    # random scalars and points, and the edges: scalars 1, 2, N-1, with
    # zero windows; u >= p and with bit 255 set (not reduced, masked)
    m = _native()
    if not m:
        return
    from ikev2.crypto import p256, x25519

    rng = Rng(b"native")
    us = [rng(32) for _ in range(6)] + [
        (_P25 + 5).to_bytes(32, "little"), b"\xff" * 32, bytes(31) + b"\x80"]
    for u in us:
        k = rng(32)
        assert m.x25519(k, u) == x25519.x25519(k, u), u
    n = p256.N
    ks = [1, 2, 3, 15, 16, 17, n - 1, n - 2, 1 << 200, 0xF << 100, (n - 1) >> 4 << 4]
    ks += [int.from_bytes(rng(32), "big") % (n - 1) + 1 for _ in range(6)]
    q = p256.mul(int.from_bytes(rng(32), "big") % (n - 1) + 1, p256.G)
    for i, k in enumerate(ks):
        pt = p256.G if i % 2 else q
        assert m.p256_mul(k, pt[0], pt[1]) == p256.mul(k, pt), k


def test_native_low_order_and_exceptional_cases():
    # low-order u: all-zero output, refused by dh.py (every backend);
    # P-256: k = 28 makes the last window's addition a doubling (16 * the
    # prefix == 14 == its digit, mod N): the native code says None and dh.py
    # falls back to p256.py, so the result is still right
    from ikev2.crypto import p256, x25519

    priv = Rng(b"low")(32)
    for u in _LOW_ORDER:
        for ub in (u.to_bytes(32, "little"), (u + (1 << 255)).to_bytes(32, "little")):
            assert x25519.x25519(priv, ub) == bytes(32)
            raises(CryptoError, DH.dh_shared, 31, priv, ub)
    m = _native()
    if m:
        for u in _LOW_ORDER:
            assert m.x25519(priv, u.to_bytes(32, "little")) == bytes(32)
        assert m.p256_mul(28, p256.G[0], p256.G[1]) is None
    pub = DH.dh_public(19, (28).to_bytes(32, "big"))
    assert pub == p256.encode_point(p256.mul(28, p256.G))


def _limbs_ok(st, s):
    # every limb of slot s below 2^13
    for i in range(20):
        if st[40 * s + 2 * i + 1] >= 0x20:
            return False
    return True


def test_native_field_ops_against_bigint():
    # each instruction of the field machine on random values and on the
    # extremes of its input range (below B = 2^257 + 2^229): the result is
    # right mod p, < B, with limbs < 2^13, and MUL leaves its accumulators
    # zeroed.  This exercises the bounds the header of ecnative.py argues.
    m = _native()
    if not m:
        return
    rng = Rng(b"fieldops")
    big = (1 << 257) + (1 << 229)
    r = 1 << 260
    for fld, p, consts in ((0, m.P25, (121665,)), (1, m.P256, (3, 4, 8))):
        rinv = pow(r, p - 2, p)
        st = m._new(p, 20, b"", m._D256 if fld else 0)
        edges = [0, 1, p - 1, p, 2 * p - 1, (1 << 256) - 1, (1 << 257) - 1,
                 big - 1, (1 << 247) - 1 + (1023 << 247), big - (1 << 200)]
        vals = edges + [int.from_bytes(rng(33), "big") % big for _ in range(40)]
        prog = bytes((0, 12, 9, 10, 1, 13, 9, 10, 2, 14, 9, 10, 3, 15, 9, 11))
        for i, a in enumerate(vals):
            for b in (vals[-1 - i], vals[(7 * i) % len(vals)]):
                c = consts[i % len(consts)]
                m._put(st, 9, a)
                m._put(st, 10, b)
                m._put(st, 11, c)
                m._run(0, st, st, prog, len(prog), 1, fld)
                got = [m._get(st, s) for s in (12, 13, 14, 15)]
                want = (a * b * rinv % p, (a + b) % p, (a - b) % p, a * c % p)
                for s, g, w in zip((12, 13, 14, 15), got, want):
                    assert g % p == w and g < big and _limbs_ok(st, s), (fld, s, a, b)
                assert st[:160] == bytes(160)


def _ladder_alloc(m, fld):
    # heap allocated by the scalar multiplication's inner loop and the
    # inversion, run under micropython.heap_lock() (any allocation raises)
    import gc
    import micropython

    if fld:
        st = m._new(m.P256, 76, bytes(range(33)), m._D256)
        p1, n1, p2 = m._WIN, 64, m._FIN256
    else:
        st = m._new(m.P25, 20, bytes(range(32)))
        p1, n1, p2 = m._LADDER, 255, m._FIN25
    for s in range(9, 20):
        m._put(st, s, s)
    run = m._run
    l1 = len(p1)
    l2 = len(p2)
    gc.collect()
    before = gc.mem_alloc()
    micropython.heap_lock()
    try:
        run(0, st, st, p1, l1, n1, fld)
        run(0, st, st, p2, l2, 1, fld)
    finally:
        micropython.heap_unlock()
    return gc.mem_alloc() - before


def test_native_ladder_allocates_nothing():
    m = _native()
    if not m:
        return
    assert _ladder_alloc(m, 0) == 0
    assert _ladder_alloc(m, 1) == 0
