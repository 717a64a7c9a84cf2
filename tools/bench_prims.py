# Primitive costs, measured by the same code on CPython and MicroPython.
# Run under MicroPython as a script (it prints one JSON object per line);
# imported by bench.py on CPython.  A baseline - SHA-256 of 1400 bytes
# through the runtime's native hashlib - is measured in the same run so
# figures can be compared as ratios on a shared, noisy machine.
import hashlib
import json
import sys

try:
    from time import ticks_us, ticks_diff

    def now():
        return ticks_us()

    def elapsed(a, b):
        return ticks_diff(b, a)
except ImportError:  # CPython
    from time import perf_counter

    def now():
        return int(perf_counter() * 1000000)

    def elapsed(a, b):
        return b - a

PAYLOAD = bytes(range(256)) * 5 + bytes(120)  # 1400 bytes
PADDED = PAYLOAD + bytes(8)                    # ESP pads to 1408


def timeit(f, budget_us=300000, batches=5):
    # median over batches of the per-call time in microseconds
    n = 1
    while True:  # size a batch to ~budget/batches
        t0 = now()
        for _ in range(n):
            f()
        dt = elapsed(t0, now())
        if dt * batches >= budget_us or n >= 1 << 16:
            break
        n *= 2
    res = [dt / n]
    for _ in range(batches - 1):
        t0 = now()
        for _ in range(n):
            f()
        res.append(elapsed(t0, now()) / n)
    res.sort()
    return res[len(res) // 2]


def cases(b):
    from ikev2.crypto import dh as DH

    def rng(n):
        return bytes([7]) * n

    out = []
    for g, name in ((31, "X25519"), (19, "ECP-256"), (14, "MODP-2048")):
        a = DH.DH(b, g, rng)
        peer = DH.DH(b, g, lambda n: bytes([9]) * n).public
        out.append((name + " shared", lambda a=a, peer=peer: a.shared(peer)))
    key, iv, mk = bytes(16), bytes(16), bytes(32)
    out.append(("HMAC-SHA256 1400B", lambda: b.hmac_sha256(mk, PAYLOAD)))
    out.append(("AES-128-CBC enc 1400B", lambda: b.aes_cbc_encrypt(key, iv, PADDED)))
    out.append(("AES-128-GCM seal 1400B",
                lambda: b.aes_gcm_seal(key, bytes(12), b"12345678", PAYLOAD)))
    return out


def run(names, emit, quick=False):
    from ikev2 import crypto

    base = timeit(lambda: hashlib.sha256(PAYLOAD).digest())
    emit({"case": "baseline SHA-256 1400B", "backend": "native", "us": base})
    budget = 60000 if quick else 300000
    for n in names:
        b = crypto.backend(n)
        for label, f in cases(b):
            us = timeit(f, budget)
            emit({"case": label, "backend": n, "us": us, "x_base": us / base})


def import_footprint():
    # heap held by the library once imported (message, keys, SK, the
    # default backend): .mpy bytecode and the module objects, all in RAM
    # here; frozen into firmware the bytecode stays in flash instead.
    import gc

    gc.collect()
    before = gc.mem_alloc()
    from ikev2 import message, keys, sk, crypto  # noqa: F401

    crypto.backend()
    gc.collect()
    return gc.mem_alloc() - before


def main():
    quick = "--quick" in sys.argv
    names = [a for a in sys.argv[1:] if not a.startswith("--")] or ["mpy", "pure"]

    def emit(d):
        print(json.dumps(d))

    emit({"case": "library import", "backend": "", "bytes": import_footprint()})
    run(names, emit, quick)


if __name__ == "__main__":
    main()
