# Crypto backends against published vectors (see vectors/README.md), and
# the properties the protocol relies on.  Runs on every backend.
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
