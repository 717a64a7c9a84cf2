#!/usr/bin/env python3
"""Make or check the signature vectors sig_*.json (host only, CPython).

    python3 host_tests/vectors/make_sig_vectors.py           # check them
    python3 host_tests/vectors/make_sig_vectors.py --write   # rewrite
    python3 host_tests/vectors/make_sig_vectors.py --new-rsa-keys

--write rewrites sig_rfc6979_p256.json (the same every time) and makes
sig_rsa.json only if it is missing; --new-rsa-keys makes new RSA keys and
signatures (the tests then follow the new file).

sig_rfc6979_p256.json: RFC 6979 Appendix A.2.5 (ECDSA, NIST P-256): the
private key x, the public key (Ux, Uy), and for the messages "sample" and
"test" with SHA-1, SHA-224, SHA-256, SHA-384 and SHA-512 the nonce k and
the signature (r, s).  Copied from libgcrypt's tests/dsa-rfc6979.c
(gpg/libgcrypt, commit 6e0a9786637d649b48aae0e611a12e12beef9b3b, "These
test vectors are from RFC 6979"); the SHA-256 "sample" row is also in
RustCrypto/elliptic-curves p256/src/ecdsa.rs (commit 77e2a927...).  Plus
one SHA-256 case whose first RFC 6979 nonce candidate is >= n and is
rejected, from C2SP CCTV (see RFC6979_REJECT).  The digests are computed
here with hashlib.  Checked with `cryptography`: the public key is x*G,
every (r, s) verifies under it, and r == (k*G).x mod n; and with a
separate HMAC-DRBG here: for the SHA-256 rows k is the first candidate,
for the CCTV case the second after a first one >= n.  Only the SHA-256
rows use HMAC-SHA-256 for k (RFC 6979 uses HMAC with the message hash),
so only they are known answers for our signer.

sig_rsa.json: RSA keys generated once by this script with `cryptography`
(OpenSSL), with PKCS#1 v1.5 signatures (deterministic: any correct signer
gives the same bytes) and RSASSA-PSS signatures (randomized: a few fixed
ones) over SHA digests of fixed messages.  Keys of 2048 and 3072 bits
carry the private parts (n, e, d, p, q, dp, dq, qinv) and a PKCS#1 v1.5
signature that starts with a zero byte; keys of 1024, 1025 (where PSS has
emLen = k - 1) and 4096 bits only the public key and a signature or two,
for the size limits.
"""
import hashlib
import hmac
import json
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

HERE = Path(__file__).resolve().parent
HASHES = {"sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
          "sha384": hashes.SHA384, "sha512": hashes.SHA512}

# RFC 6979 A.2.5, as in libgcrypt tests/dsa-rfc6979.c ("ECDSA, 256 bits
# (prime field)"): hash, message, k, r, s
RFC6979_X = "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721"
RFC6979_U = ("60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6",
             "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299")
RFC6979_CASES = [
    ("sha1", "sample",
     "882905F1227FD620FBF2ABF21244F0BA83D0DC3A9103DBBEE43A1FB858109DB4",
     "61340C88C3AAEBEB4F6D667F672CA9759A6CCAA9FA8811313039EE4A35471D32",
     "6D7F147DAC089441BB2E2FE8F7A3FA264B9C475098FDCF6E00D7C996E1B8B7EB"),
    ("sha224", "sample",
     "103F90EE9DC52E5E7FB5132B7033C63066D194321491862059967C715985D473",
     "53B2FFF5D1752B2C689DF257C04C40A587FABABB3F6FC2702F1343AF7CA9AA3F",
     "B9AFB64FDC03DC1A131C7D2386D11E349F070AA432A4ACC918BEA988BF75C74C"),
    ("sha256", "sample",
     "A6E3C57DD01ABE90086538398355DD4C3B17AA873382B0F24D6129493D8AAD60",
     "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
     "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"),
    ("sha384", "sample",
     "09F634B188CEFD98E7EC88B1AA9852D734D0BC272F7D2A47DECC6EBEB375AAD4",
     "0EAFEA039B20E9B42309FB1D89E213057CBF973DC0CFC8F129EDDDC800EF7719",
     "4861F0491E6998B9455193E34E7B0D284DDD7149A74B95B9261F13ABDE940954"),
    ("sha512", "sample",
     "5FA81C63109BADB88C1F367B47DA606DA28CAD69AA22C4FE6AD7DF73A7173AA5",
     "8496A60B5E9B47C825488827E0495B0E3FA109EC4568FD3F8D1097678EB97F00",
     "2362AB1ADBE2B8ADF9CB9EDAB740EA6049C028114F2460F96554F61FAE3302FE"),
    ("sha1", "test",
     "8C9520267C55D6B980DF741E56B4ADEE114D84FBFA2E62137954164028632A2E",
     "0CBCC86FD6ABD1D99E703E1EC50069EE5C0B4BA4B9AC60E409E8EC5910D81A89",
     "01B9D7B73DFAA60D5651EC4591A0136F87653E0FD780C3B1BC872FFDEAE479B1"),
    ("sha224", "test",
     "669F4426F2688B8BE0DB3A6BD1989BDAEFFF84B649EEB84F3DD26080F667FAA7",
     "C37EDB6F0AE79D47C3C27E962FA269BB4F441770357E114EE511F662EC34A692",
     "C820053A05791E521FCAAD6042D40AEA1D6B1A540138558F47D0719800E18F2D"),
    ("sha256", "test",
     "D16B6AE827F17175E040871A1C7EC3500192C4C92677336EC2537ACAEE0008E0",
     "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
     "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083"),
    ("sha384", "test",
     "16AEFFA357260B04B1DD199693960740066C1A8F3E8EDD79070AA914D361B3B8",
     "83910E8B48BB0C74244EBDF7F07A1C5413D61472BD941EF3920E623FBCCEBEB6",
     "8DDBEC54CF8CD5874883841D712142A56A8D0F218F5003CB0296B6B509619F2C"),
    ("sha512", "test",
     "6915D11632ACA3C40D5D51C08DAF9C555933819548784480E93499000D9F0B7F",
     "461D93F31B6540894788FD206C07CFA0CC35F46FA3C91816FFF1040AD1581A04",
     "39AF9F15DE0DB8D97E72719C74820D304CE5226E32DEDAE67519E840D1194E55"),
]

# A P-256/SHA-256 case whose first RFC 6979 candidate is >= n and is
# rejected (probability 2^-32): C2SP CCTV (Community Cryptography Test
# Vectors), rfc6979/README.md, "RFC 6979 rejection sampling vector" (read
# through a search index that did not name the repository; a vendored copy
# in another project's tests gives the same r and s).  Its README says it
# was checked against codahale/rfc6979, OpenSSL 3.2.0 and python-ecdsa.
RFC6979_REJECT = (
    "sha256", "wv[vnX",
    "2AE40DF9D9DAB61D688DE3DCB9867A98ECC70DD4D6C0F6C228B6E4E0B18B29BC",
    "EFD9073B652E76DA1B5A019C0E4A2E3FA529B035A6ABB91EF67F0ED7A1F21234",
    "3DB4706C9D9F4A4FE13BB5E08EF0FAB53A57DBAB2061C83A35FA411C68D2BA33")
P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551

RSA_SOURCE = ("Generated with the `cryptography` package (OpenSSL) by "
              "host_tests/vectors/make_sig_vectors.py --write; checked by "
              "running it without arguments.")


def digest(name, data):
    return hashlib.new(name, data).digest()


def hx(i, nbytes=None):
    if nbytes is None:
        nbytes = (i.bit_length() + 7) // 8
    return i.to_bytes(nbytes, "big").hex()


def rfc6979_candidates(x, h1, count):
    # RFC 6979 3.2 with HMAC-SHA-256 and qlen = 256: the first `count`
    # candidates T (before the range check), written independently of the
    # library for this check
    def mac(key, data):
        return hmac.new(key, data, hashlib.sha256).digest()

    xh = x.to_bytes(32, "big") + (int.from_bytes(h1[:32], "big") % P256_N).to_bytes(32, "big")
    v, k = b"\x01" * 32, bytes(32)
    k = mac(k, v + b"\x00" + xh)
    v = mac(k, v)
    k = mac(k, v + b"\x01" + xh)
    v = mac(k, v)
    out = []
    while len(out) < count:
        v = mac(k, v)
        out.append(int.from_bytes(v, "big"))
        k = mac(k, v + b"\x00")
        v = mac(k, v)
    return out


def make_rfc6979():
    cases = []
    for name, msg, k, r, s in RFC6979_CASES + [RFC6979_REJECT]:
        c = {"hash": name, "msg": msg,
             "digest": digest(name, msg.encode()).hex(),
             "k": k.lower(), "r": r.lower(), "s": s.lower(),
             "hmac_sha256_k": name == "sha256"}
        if msg == RFC6979_REJECT[1]:
            c["rejection"] = True
        cases.append(c)
    return {"source": "RFC 6979 Appendix A.2.5 (ECDSA, P-256), copied from "
                      "libgcrypt tests/dsa-rfc6979.c (gpg/libgcrypt "
                      "6e0a9786637d649b48aae0e611a12e12beef9b3b); the last "
                      "case (rejection of the first k) from C2SP CCTV "
                      "rfc6979/README.md; digests by hashlib. See "
                      "make_sig_vectors.py.",
            "x": RFC6979_X.lower(), "ux": RFC6979_U[0].lower(),
            "uy": RFC6979_U[1].lower(), "cases": cases}


def pss(h, salt):
    return padding.PSS(mgf=padding.MGF1(h), salt_length=salt)


def make_rsa_key(bits, full, pkcs1_hashes, pss_specs):
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pn = key.private_numbers()
    n = pn.public_numbers.n
    k = (bits + 7) // 8
    out = {"name": "rsa%d" % bits, "bits": bits, "n": hx(n, k),
           "e": hx(pn.public_numbers.e)}
    if full:
        half = (bits // 2 + 7) // 8
        out.update({"d": hx(pn.d, k), "p": hx(pn.p, half), "q": hx(pn.q, half),
                    "dp": hx(pn.dmp1, half), "dq": hx(pn.dmq1, half),
                    "qinv": hx(pn.iqmp, half)})
    out["pkcs1"] = []
    for i, name in enumerate(pkcs1_hashes):
        msg = "IKEv2 RFC 7427 PKCS#1 v1.5 vector %d" % i
        dg = digest(name, msg.encode())
        sig = key.sign(dg, padding.PKCS1v15(), utils.Prehashed(HASHES[name]()))
        out["pkcs1"].append({"hash": name, "msg": msg, "digest": dg.hex(),
                             "sig": sig.hex()})
    if full:
        # a signature whose first byte is zero: the integer has fewer bytes
        # than the modulus, but the signature must still be k bytes
        i = 0
        while True:
            msg = "IKEv2 RFC 7427 PKCS#1 v1.5 leading zero %d" % i
            dg = digest("sha256", msg.encode())
            sig = key.sign(dg, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
            if sig[0] == 0:
                break
            i += 1
        out["pkcs1"].append({"hash": "sha256", "msg": msg, "digest": dg.hex(),
                             "sig": sig.hex(), "leading_zero": True})
    out["pss"] = []
    for i, (name, salt, msgno) in enumerate(pss_specs):
        msg = "IKEv2 RFC 7427 RSASSA-PSS vector %d" % msgno
        dg = digest(name, msg.encode())
        h = HASHES[name]()
        sig = key.sign(dg, pss(h, salt), utils.Prehashed(h))
        out["pss"].append({"hash": name, "salt": salt, "msg": msg,
                           "digest": dg.hex(), "sig": sig.hex()})
    return out


def make_rsa():
    keys = [
        make_rsa_key(2048, True, ["sha256", "sha1", "sha384", "sha512"],
                     [("sha256", 32, 0), ("sha256", 32, 0), ("sha256", 32, 1),
                      ("sha384", 48, 0), ("sha1", 20, 0)]),
        make_rsa_key(3072, True, ["sha256", "sha1"],
                     [("sha256", 32, 0), ("sha256", 32, 1)]),
        make_rsa_key(1024, False, ["sha256"], [("sha256", 32, 0)]),
        make_rsa_key(1025, False, ["sha256"], [("sha256", 32, 0)]),
        make_rsa_key(4096, False, ["sha256"], [("sha256", 32, 0)]),
    ]
    return {"source": RSA_SOURCE, "keys": keys}


passed = failed = 0


def check(label, ok):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", label)


def check_rfc6979(v):
    curve = ec.SECP256R1()
    x = int(v["x"], 16)
    key = ec.derive_private_key(x, curve)
    pub = key.public_key()
    nums = pub.public_numbers()
    check("rfc6979 public key", (nums.x, nums.y) == (int(v["ux"], 16), int(v["uy"], 16)))
    order = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
    for c in v["cases"]:
        label = "rfc6979 %s %s" % (c["hash"], c["msg"])
        dg = bytes.fromhex(c["digest"])
        check(label + " digest", dg == digest(c["hash"], c["msg"].encode()))
        r, s, k = int(c["r"], 16), int(c["s"], 16), int(c["k"], 16)
        if c["hmac_sha256_k"]:
            t = rfc6979_candidates(x, dg, 2)
            if c.get("rejection"):
                check(label + " first k rejected", t[0] >= order and t[1] == k)
            else:
                check(label + " k is the first candidate", t[0] == k)
        kg = ec.derive_private_key(k, curve).public_key().public_numbers()
        check(label + " r == (kG).x", kg.x % order == r)
        try:
            pub.verify(utils.encode_dss_signature(r, s), c["msg"].encode(),
                       ec.ECDSA(HASHES[c["hash"]]()))
            check(label + " verifies", True)
        except InvalidSignature:
            check(label + " verifies", False)


def check_rsa(v):
    for kd in v["keys"]:
        n, e = int(kd["n"], 16), int(kd["e"], 16)
        check("%s size" % kd["name"], n.bit_length() == kd["bits"])
        pub = rsa.RSAPublicNumbers(e, n).public_key()
        priv = None
        if "d" in kd:
            g = {f: int(kd[f], 16) for f in ("d", "p", "q", "dp", "dq", "qinv")}
            check(kd["name"] + " n == pq", g["p"] * g["q"] == n)
            priv = rsa.RSAPrivateNumbers(g["p"], g["q"], g["d"], g["dp"], g["dq"],
                                         g["qinv"], rsa.RSAPublicNumbers(e, n)).private_key()
        for c in kd["pkcs1"]:
            label = "%s pkcs1 %s" % (kd["name"], c["hash"])
            dg, sig = bytes.fromhex(c["digest"]), bytes.fromhex(c["sig"])
            check(label + " digest", dg == digest(c["hash"], c["msg"].encode()))
            h = HASHES[c["hash"]]()
            try:
                pub.verify(sig, c["msg"].encode(), padding.PKCS1v15(), h)
                check(label + " verifies", True)
            except InvalidSignature:
                check(label + " verifies", False)
            if priv is not None:
                check(label + " deterministic",
                      priv.sign(dg, padding.PKCS1v15(), utils.Prehashed(h)) == sig)
        for c in kd["pss"]:
            label = "%s pss %s/%d" % (kd["name"], c["hash"], c["salt"])
            dg, sig = bytes.fromhex(c["digest"]), bytes.fromhex(c["sig"])
            check(label + " digest", dg == digest(c["hash"], c["msg"].encode()))
            h = HASHES[c["hash"]]()
            try:
                pub.verify(sig, c["msg"].encode(), pss(h, c["salt"]), h)
                check(label + " verifies", True)
            except InvalidSignature:
                check(label + " verifies", False)


def main(argv):
    out = []
    if "--write" in argv:
        out.append(("sig_rfc6979_p256.json", make_rfc6979))
    if "--new-rsa-keys" in argv or ("--write" in argv and
                                    not (HERE / "sig_rsa.json").exists()):
        out.append(("sig_rsa.json", make_rsa))
    for name, make in out:
        (HERE / name).write_text(json.dumps(make(), indent=1) + "\n")
        print("wrote", name)
    check_rfc6979(json.loads((HERE / "sig_rfc6979_p256.json").read_text()))
    check_rsa(json.loads((HERE / "sig_rsa.json").read_text()))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
