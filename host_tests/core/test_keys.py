# Key derivation (RFC 7296 2.13-2.18) against the NIST SP 800-135 IKEv2
# KDF vectors, and the PSK AUTH computation.
from harness import per_backend, vectors, h, raises
from ikev2 import keys
from ikev2.errors import CryptoError


@per_backend
def test_ikev2_kdf_sp800_135(backend):
    v = vectors("nist_sp800_135_ikev2.json")
    n = 0
    for g in v["groups"]:
        assert g["prf"] == "HMAC-SHA-256"
        for c in g["cases"]:
            ni, nr, gir, gir_new = h(c["Ni"]), h(c["Nr"]), h(c["gir"]), h(c["gir_new"])
            spi_i, spi_r = h(c["SPIi"]), h(c["SPIr"])
            seed = keys.skeyseed(backend, ni, nr, gir)
            assert seed == h(c["SKEYSEED"]), c["count"]
            want = h(c["DKM"])
            dkm = keys.prf_plus(backend, seed, ni + nr + spi_i + spi_r, len(want))
            assert dkm == want, c["count"]
            sk_d = dkm[:keys.PRF_LEN]
            want = h(c["DKM_child_sa"])
            assert keys.prf_plus(backend, sk_d, ni + nr, len(want)) == want
            # child_keymat is prf+(SK_d, [g^ir |] Ni | Nr) split in four
            ei, ai, er, ar = keys.child_keymat(backend, sk_d, ni, nr, 16, 32)
            assert ei + ai + er + ar == want[:96]
            want = h(c["DKM_child_sa_dh"])
            ei, ai, er, ar = keys.child_keymat(backend, sk_d, ni, nr, 16, 32, gir_new)
            assert ei + ai + er + ar == want[:96]
            assert keys.rekey_skeyseed(backend, sk_d, gir_new, ni, nr) == h(c["SKEYSEED_rekey"])
            n += 1
    assert n >= 20


@per_backend
def test_ike_keys_split_matches_prf_plus(backend):
    ni, nr, gir = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32
    si, sr = b"\x04" * 8, b"\x05" * 8
    seed = keys.skeyseed(backend, ni, nr, gir)
    # AES-CBC-128 + HMAC-SHA2-256-128: 3*32 + 2*32 + 2*16 bytes
    k = keys.IKEKeys(backend, seed, ni, nr, si, sr, 16, 32)
    km = keys.prf_plus(backend, seed, ni + nr + si + sr, 192)
    assert k.sk_d == km[:32] and k.sk_ai == km[32:64] and k.sk_ar == km[64:96]
    assert k.sk_ei == km[96:112] and k.sk_er == km[112:128]
    assert k.sk_pi == km[128:160] and k.sk_pr == km[160:192]
    assert "<secret>" in repr(k)
    # AES-GCM-256: 32-byte key + 4-byte salt, no integrity keys
    g = keys.IKEKeys(backend, seed, ni, nr, si, sr, 36, 0)
    assert g.sk_ai == b"" and len(g.sk_ei) == 36 and g.sk_ei == km[32:68]


@per_backend
def test_child_keymat_order(backend):
    sk_d, ni, nr = b"d" * 32, b"i" * 16, b"r" * 16
    ei, ai, er, ar = keys.child_keymat(backend, sk_d, ni, nr, 16, 32)
    km = keys.prf_plus(backend, sk_d, ni + nr, 96)
    assert (ei, ai, er, ar) == (km[:16], km[16:48], km[48:64], km[64:96])
    gir = b"g" * 32
    ei2, ai2, er2, ar2 = keys.child_keymat(backend, sk_d, ni, nr, 20, 0, gir)
    km = keys.prf_plus(backend, sk_d, gir + ni + nr, 40)
    assert (ei2, ai2, er2, ar2) == (km[:20], b"", km[20:40], b"")


@per_backend
def test_prf_plus_definition(backend):
    k, s = b"key", b"seed"
    t1 = backend.hmac_sha256(k, s + b"\x01")
    t2 = backend.hmac_sha256(k, t1 + s + b"\x02")
    assert keys.prf_plus(backend, k, s, 40) == (t1 + t2)[:40]
    raises(CryptoError, keys.prf_plus, backend, k, s, 255 * 32 + 1)


@per_backend
def test_psk_auth(backend):
    msg, nonce, skp = b"M" * 300, b"N" * 32, b"P" * 32
    idb = bytes((2, 0, 0, 0)) + b"device.example"
    inner = backend.hmac_sha256(skp, idb)
    want = backend.hmac_sha256(backend.hmac_sha256(b"secret", b"Key Pad for IKEv2"),
                               msg + nonce + inner)
    assert keys.psk_auth(backend, b"secret", msg, nonce, skp, idb) == want
    assert keys.psk_auth(backend, b"secret2", msg, nonce, skp, idb) != want
    raises(CryptoError, keys.psk_auth, backend, b"", msg, nonce, skp, idb)


def test_key_lengths():
    from ikev2 import const as C

    assert keys.encr_key_len(C.ENCR_AES_CBC, 128) == 16
    assert keys.encr_key_len(C.ENCR_AES_GCM_16, 256) == 36
    assert keys.integ_key_len(C.AUTH_HMAC_SHA2_256_128) == 32
    assert keys.integ_key_len(C.AUTH_NONE) == 0
    raises(CryptoError, keys.integ_key_len, 2)
