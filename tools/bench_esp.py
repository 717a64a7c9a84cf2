# The ESP data path, measured by the same code on CPython and MicroPython:
# one packet encapsulated by our Child SA and decapsulated by its peer's
# (keys and SPIs mirrored), for inner packets of 64, 512 and 1400 bytes,
# against the bare primitives for the same packet in the same run:
#   CBC (aes128-sha256): a random IV, AES-CBC encryption, HMAC-SHA-256 over
#   SPI..ciphertext, then HMAC again (the check) and AES-CBC decryption, on
#   buffers made beforehand (cryptolib and hashlib on MicroPython, the
#   cryptography package and hmac on CPython);
#   GCM (aes128gcm16, CPython only: MicroPython has no GCM primitive):
#   AESGCM seal and open.
# "of bare" is the bare primitives' time over ours: 1.0 means the protocol
# costs nothing on top of the crypto.  On MicroPython the heap allocated per
# packet is measured too (gc.mem_alloc with the collector off), and what
# stays allocated after 2000 packets (must be 0: flat).
# Run under MicroPython as a script (one JSON object per line); imported
# by bench.py on CPython.
import gc
import hashlib
import json
import os
import sys

try:
    from bench_prims import timeit
except ImportError:
    from .bench_prims import timeit

SIZES = (64, 512, 1400)
MP = sys.implementation.name == "micropython"


def _pair(c, gcm):
    from ikev2.esp import ChildSA
    from ikev2.proposals import Suite

    if gcm:
        suite = Suite(1, b"", 20, 128, 0, 0, 0, 0)
        ei, er, ai, ar = bytes(range(20)), bytes(range(1, 21)), b"", b""
    else:
        suite = Suite(1, b"", 12, 128, 12, 0, 0, 0)
        ei, er = bytes(range(16)), bytes(range(1, 17))
        ai, ar = bytes(range(32)), bytes(range(2, 34))
    a = ChildSA(c, suite, b"\x00\x00\x10\x01", b"\x00\x00\x20\x02",
                (ei, ai, er, ar), os.urandom)
    b = ChildSA(c, suite, b"\x00\x00\x20\x02", b"\x00\x00\x10\x01",
                (er, ar, ei, ai), os.urandom)
    return a, b


def _inner(n):
    # an IPv4/UDP packet of n bytes (the content does not matter to ESP)
    return bytes((0x45, 0)) + bytes(((n >> 8) & 0xFF, n & 0xFF)) + bytes(n - 4)


def _hmac_bare():
    # the cheapest HMAC-SHA-256 the runtime has, keyed once
    if not MP:
        import hmac

        return lambda key, data: hmac.digest(key, data, "sha256")
    pads = {}

    def mac(key, data):
        p = pads.get(key)
        if p is None:
            k = key + bytes(64 - len(key))
            p = pads[key] = (bytes(x ^ 0x36 for x in k), bytes(x ^ 0x5C for x in k))
        h = hashlib.sha256(p[0])
        h.update(data)
        h2 = hashlib.sha256(p[1])
        h2.update(h.digest())
        return h2.digest()
    return mac


def _bare_cbc(n):
    # the primitives of one packet each way, on buffers made beforehand
    pad = -(n + 2) % 16
    pt = bytes(n + pad + 2)
    hdr = bytes(8)
    key, akey = bytes(range(16)), bytes(range(32))
    mac = _hmac_bare()
    if MP:
        try:
            import cryptolib
        except ImportError:
            import ucryptolib as cryptolib
        aes = cryptolib.aes

        def enc(iv):
            return aes(key, 2, iv).encrypt(pt)

        def dec(iv, ct):
            return aes(key, 2, iv).decrypt(ct)
    else:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        def enc(iv):
            e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
            return e.update(pt) + e.finalize()

        def dec(iv, ct):
            d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
            return d.update(ct) + d.finalize()
    iv0 = os.urandom(16)
    body = hdr + iv0 + enc(iv0)  # what the ICV covers

    def one():
        iv = os.urandom(16)
        ct = enc(iv)
        mac(akey, body)
        mac(akey, body)
        dec(iv, ct)
    return one


def _bare_gcm(n):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key, nonce, aad = bytes(range(16)), bytes(12), bytes(8)
    pt = bytes(n + (-(n + 2) % 4) + 2)
    g = AESGCM(key)
    ct = g.encrypt(nonce, pt, aad)

    def one():
        g.encrypt(nonce, pt, aad)
        g.decrypt(nonce, ct, aad)
    return one


def _heap(a, b, inner):
    # -> (bytes allocated per packet, bytes held after 2100 packets beyond
    # what was held after the first 100)
    for _ in range(100):
        b.decap(a.encap(inner))
    gc.collect()
    held0 = gc.mem_alloc()
    gc.disable()
    try:
        m0 = gc.mem_alloc()
        for _ in range(4):
            b.decap(a.encap(inner))
        per = (gc.mem_alloc() - m0) // 4
    finally:
        gc.enable()
    for _ in range(2000):
        b.decap(a.encap(inner))
    gc.collect()
    return per, gc.mem_alloc() - held0


def run(emit, quick=False, backend=None):
    from ikev2 import crypto

    c = crypto.backend(backend)
    budget = 60000 if quick else 200000
    suites = [("aes128-sha256", False)]
    if not MP:
        suites.append(("aes128gcm16", True))
    for name, gcm in suites:
        a, b = _pair(c, gcm)
        for n in SIZES:
            inner = _inner(n)
            out = b.decap(a.encap(inner))
            if out is None or out[1] != inner:
                raise SystemExit("bench_esp: %s round trip failed" % name)
            ours = timeit(lambda: b.decap(a.encap(inner)), budget)
            bare = timeit(_bare_gcm(n) if gcm else _bare_cbc(n), budget)
            row = {"case": "ESP %s %dB" % (name, n), "suite": name, "size": n,
                   "backend": c.NAME, "us": ours, "bare_us": bare,
                   "of_bare": bare / ours,
                   "mbit_s": n * 8 / ours}
            if MP:
                row["alloc_per_packet"], row["held_after"] = _heap(a, b, inner)
            emit(row)


def main():
    quick = "--quick" in sys.argv

    def emit(d):
        print(json.dumps(d))

    run(emit, quick)


if __name__ == "__main__":
    main()
