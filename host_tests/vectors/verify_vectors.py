#!/usr/bin/env python3
"""Cross-check the published test vectors in this directory.

Recomputes every vector that can be recomputed with Python's hashlib/hmac and
the `cryptography` package (pip install cryptography), independently of the
project's own code.  Exit status 0 and a final "N passed, 0 failed" line mean
every check agreed with the published values.

    python3 host_tests/vectors/verify_vectors.py
"""
import hashlib
import hmac
import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HERE = Path(__file__).resolve().parent
passed = failed = 0


def check(label, ok):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", label)


def load(name):
    return json.loads((HERE / name).read_text())


def h(s):
    return bytes.fromhex(s)


# 1. RFC 4231 HMAC-SHA-256
d = load("rfc4231_hmac_sha256.json")
for c in d["cases"]:
    mac = hmac.new(h(c["key"]), h(c["data"]), hashlib.sha256).digest()
    mac = mac[: c.get("trunc", len(mac))]
    check("rfc4231 " + c["name"], mac == h(c["mac"]))

# 2. RFC 7748 X25519
d = load("rfc7748_x25519.json")


def x25519(k, u):
    return X25519PrivateKey.from_private_bytes(k).exchange(X25519PublicKey.from_public_bytes(u))


for n, c in enumerate(d["scalar_mult"]):
    check("rfc7748 5.2 vector %d" % (n + 1), x25519(h(c["k"]), h(c["u"])) == h(c["out"]))
k = u = bytes([9]) + bytes(31)
want = {it["iterations"]: h(it["out"]) for it in d["iterated"]}
for i in range(1, max(want) + 1):
    k, u = x25519(k, u), k
    if i in want:
        check("rfc7748 5.2 %d iterations" % i, k == want[i])
dh = d["dh"]
a = X25519PrivateKey.from_private_bytes(h(dh["alice_priv"]))
b = X25519PrivateKey.from_private_bytes(h(dh["bob_priv"]))
check("rfc7748 6.1 alice pub", a.public_key().public_bytes_raw() == h(dh["alice_pub"]))
check("rfc7748 6.1 bob pub", b.public_key().public_bytes_raw() == h(dh["bob_pub"]))
check("rfc7748 6.1 K (alice)", a.exchange(X25519PublicKey.from_public_bytes(h(dh["bob_pub"]))) == h(dh["shared"]))
check("rfc7748 6.1 K (bob)", b.exchange(X25519PublicKey.from_public_bytes(h(dh["alice_pub"]))) == h(dh["shared"]))

# 3. SP 800-38A AES-CBC
d = load("nist_aes_cbc.json")
for c in d["cases"]:
    cip = Cipher(algorithms.AES(h(c["key"])), modes.CBC(h(c["iv"])))
    if c["direction"] == "encrypt":
        e = cip.encryptor()
        check("sp800-38a " + c["name"], e.update(h(c["pt"])) + e.finalize() == h(c["ct"]))
    else:
        dec = cip.decryptor()
        check("sp800-38a " + c["name"], dec.update(h(c["ct"])) + dec.finalize() == h(c["pt"]))

# 4. AES-GCM (McGrew & Viega)
d = load("nist_aes_gcm.json")
for c in d["cases"]:
    g = AESGCM(h(c["key"]))
    aad = h(c["aad"]) if c["aad"] else None
    out = g.encrypt(h(c["iv"]), h(c["pt"]), aad)
    check("gcm %s ct" % c["name"], out[:-16] == h(c["ct"]))
    check("gcm %s tag" % c["name"], out[-16:] == h(c["tag"]))
    check("gcm %s decrypt" % c["name"], g.decrypt(h(c["iv"]), h(c["ct"]) + h(c["tag"]), aad) == h(c["pt"]))

# 5. SP 800-135 IKEv2 KDF (prf = HMAC-SHA-256)


def prf(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


def prf_plus(key, seed, nbytes):
    out, t, i = b"", b"", 1
    while len(out) < nbytes:
        t = prf(key, t + seed + bytes([i]))
        out += t
        i += 1
    return out[:nbytes]


d = load("nist_sp800_135_ikev2.json")
for grp in d["groups"]:
    assert grp["prf"] == "HMAC-SHA-256"
    for c in grp["cases"]:
        tag = "ikev2 Ni=%d COUNT=%d " % (grp["ni_length_bits"], c["count"])
        ni, nr, spii, spir = h(c["Ni"]), h(c["Nr"]), h(c["SPIi"]), h(c["SPIr"])
        gir, gir_new = h(c["gir"]), h(c["gir_new"])
        n = c["dkm_length_bits"] // 8
        skeyseed = prf(ni + nr, gir)
        check(tag + "SKEYSEED", skeyseed == h(c["SKEYSEED"]))
        dkm = prf_plus(skeyseed, ni + nr + spii + spir, n)
        check(tag + "DKM", dkm == h(c["DKM"]))
        sk_d = h(c["DKM"])[:32]
        check(tag + "DKM(Child SA)", prf_plus(sk_d, ni + nr, grp["child_sa_dkm_length_bits"] // 8) == h(c["DKM_child_sa"]))
        check(tag + "DKM(Child SA D-H)", prf_plus(sk_d, gir_new + ni + nr, grp["child_sa_dkm_length_bits"] // 8) == h(c["DKM_child_sa_dh"]))
        check(tag + "SKEYSEED(Rekey)", prf(sk_d, gir_new + ni + nr) == h(c["SKEYSEED_rekey"]))

# 6. RFC 3526 group 14
d = load("rfc3526_modp2048.json")
p = int(d["p"], 16)
check("modp2048 bit length", p.bit_length() == 2048 and len(d["p"]) == 512)
check("modp2048 top 64 bits all ones", p >> (2048 - 64) == (1 << 64) - 1)
check("modp2048 bottom 64 bits all ones", p & ((1 << 64) - 1) == (1 << 64) - 1)
check("modp2048 Fermat base 2", pow(2, p - 1, p) == 1)
check("modp2048 Fermat base 3", pow(3, p - 1, p) == 1)
check("modp2048 safe prime: q=(p-1)/2 passes Fermat base 2", pow(2, (p - 1) // 2 - 1, (p - 1) // 2) == 1)
check("modp2048 generator", d["g"] == 2)


def floor_pi_times_2_pow(bits):
    """floor(pi * 2^bits) via Machin's formula in fixed point with guard bits."""
    guard = 64
    one = 1 << (bits + guard)

    def arctan_inv(x):
        total, term, n, sign = 0, one // x, 1, 1
        x2 = x * x
        while term:
            total += sign * (term // n)
            term //= x2
            n += 2
            sign = -sign
        return total

    pi_fixed = 4 * (4 * arctan_inv(5) - arctan_inv(239))
    return pi_fixed >> guard


formula = 2**2048 - 2**1984 - 1 + 2**64 * (floor_pi_times_2_pow(1918) + 124476)
check("modp2048 equals RFC 3526 formula", formula == p)

# 7. RFC 5903 section 8.1 (P-256)
d = load("rfc5903_ecp256.json")
curve = ec.SECP256R1()
n_order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
ki = ec.derive_private_key(int(d["i"], 16), curve)
kr = ec.derive_private_key(int(d["r"], 16), curve)
pi_ = ki.public_key().public_numbers()
pr_ = kr.public_key().public_numbers()
check("rfc5903 g^i x", pi_.x == int(d["gix"], 16))
check("rfc5903 g^i y", pi_.y == int(d["giy"], 16))
check("rfc5903 g^r x", pr_.x == int(d["grx"], 16))
check("rfc5903 g^r y", pr_.y == int(d["gry"], 16))
check("rfc5903 ECDH i*g^r = girx", ki.exchange(ec.ECDH(), kr.public_key()) == h(d["girx"]))
check("rfc5903 ECDH r*g^i = girx", kr.exchange(ec.ECDH(), ki.public_key()) == h(d["girx"]))
shared_pt = ec.derive_private_key(int(d["i"], 16) * int(d["r"], 16) % n_order, curve).public_key().public_numbers()
check("rfc5903 g^ir x (via (i*r mod n)G)", shared_pt.x == int(d["girx"], 16))
check("rfc5903 g^ir y (via (i*r mod n)G)", shared_pt.y == int(d["giry"], 16))

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
