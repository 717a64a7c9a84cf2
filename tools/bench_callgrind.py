# Instruction counts of the MicroPython runs (valgrind's callgrind), where
# time is too noisy on a shared machine: the same binary, inputs and
# environment give the same count, whatever else the machine does.
#
# Each workload (tools/cg_work.py) runs twice, with N repetitions and with
# none; the difference over N is the cost of one.  Inclusive counts of the
# C functions that an ESP32 does in hardware (mbedTLS AES and the SHA-256
# block function) and of the garbage collector are split out, and feed the
# ESP32 projection (projection()): what is not a primitive is the work of
# the interpreter (and of native code), which the ESP32 runs too.
import os
import re
import subprocess
import sys
import tempfile

from . import ROOT

# C functions whose inclusive cost is reported on its own
SPLIT = (("aes", ("mbedtls_aes_crypt_cbc", "mbedtls_aes_crypt_ecb",
                  "mbedtls_aes_setkey_enc", "mbedtls_aes_setkey_dec")),
         ("sha256", ("mbedtls_internal_sha256_process",)),
         ("gc", ("gc_collect",)))
_LINE = re.compile(r"^\s*([\d,]+)\s+\([^)]*\)\s+(\S+?):(\S+?)(?:'\d+)?\s")


def available():
    from shutil import which

    return which("valgrind") is not None and which("callgrind_annotate") is not None


def count(args, heap="128k", lib=None):
    # -> {"total": Ir, "aes": Ir, "sha256": Ir, "gc": Ir} for one run of
    # cg_work.py ARGS under the unix port
    exe = os.path.join(os.path.dirname(sys.executable), "micropython")
    lib = lib or os.path.join(ROOT, "build", "mpy")
    with tempfile.TemporaryDirectory(prefix="ikev2-cg-") as d:
        out = os.path.join(d, "cg.out")
        p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file="
                            + out, exe, "-X", "heapsize=" + heap,
                            os.path.join(ROOT, "tools", "cg_work.py")] + list(args),
                           capture_output=True, text=True,
                           env=dict(os.environ, MICROPYPATH=lib))
        if p.returncode:
            raise RuntimeError("callgrind run %s failed: %s" % (args, p.stderr[-800:]))
        a = subprocess.run(["callgrind_annotate", "--inclusive=yes",
                            "--threshold=100", out],
                           capture_output=True, text=True)
    res = {"total": 0}
    for k, _ in SPLIT:
        res[k] = 0
    for ln in a.stdout.splitlines():
        if "PROGRAM TOTALS" in ln:
            res["total"] = int(ln.split()[0].replace(",", ""))
            continue
        m = _LINE.match(ln)
        if not m or "'" in ln.split()[2]:
            continue  # recursive entries ('2) would count twice
        fn = m.group(3)
        for k, names in SPLIT:
            if fn in names:
                res[k] += int(m.group(1).replace(",", ""))
    return res


def per_run(args_with_n, n, heap="128k"):
    # the cost of one repetition: (count with n - count with 0) / n
    full = count(args_with_n + [str(n)], heap)
    base = count(args_with_n + ["0"], heap)
    return dict((k, (full[k] - base[k]) / n) for k in full)


def measure(log=print, quick=False):
    rows = []
    n = 20 if quick else 100
    for size in (64, 512, 1400):
        log("  callgrind: ESP %d B, %d packets" % (size, n))
        r = per_run(["esp", str(size)], n)
        r.update({"case": "ESP aes128-sha256 %dB encap+decap" % size, "size": size})
        rows.append(r)
    for rec in ("x25519_cbc.json", "ecp256_gcm.json", "modp2048_cbc.json"):
        log("  callgrind: handshake replay %s" % rec)
        # two replays in one process, one of them AES-GCM (pure GHASH):
        # a 160 KiB heap
        r = per_run(["handshake", rec], 1 if quick else 2, heap="160k")
        r.update({"case": "handshake " + rec.split(".")[0], "recording": rec})
        rows.append(r)
    return rows


# ------------------------------------------------------------ ESP32 projection
# Assumptions, each a published figure or a stated guess (see README):
CPU_HZ = 240e6            # ESP32 / ESP32-S3 at their top clock
CYCLES_PER_INSN = (1.0, 2.0)  # Xtensa cycles per x86-64 instruction of the
# same C (the VM, the GC) and native code: a guessed band, not a measurement
AES_BYTES_PER_S = 9.09e6  # ESP32 hardware AES-CBC through esp_aes_crypt_cbc,
# 16 KiB buffers (measured by C. Lohr, published 2018)
SHA_CALL_S = 4e-6         # ESP32 hardware SHA-256: ~5 us for one block,
SHA_BLOCK_S = 1e-6        # ~6 us for two (published measurement, 2022)


def projection(row, aes_bytes=0, sha_calls=0, sha_blocks=0):
    # -> (low, high) seconds on an ESP32: the interpreter's instructions
    # (all but the primitives) at the cycle band, plus the primitives at
    # the published hardware speeds
    rest = row["total"] - row["aes"] - row["sha256"]
    hw = aes_bytes / AES_BYTES_PER_S + sha_calls * SHA_CALL_S + sha_blocks * SHA_BLOCK_S
    return tuple(rest * c / CPU_HZ + hw for c in CYCLES_PER_INSN)


def esp_hw_work(size):
    # the primitives of one packet each way, aes128-sha256: (AES bytes,
    # SHA-256 calls, SHA-256 blocks): CBC over the padded payload twice,
    # HMAC twice (2 calls each: inner over 64 + 24 + payload, outer over 96)
    payload = size + 2 + (-(size + 2) % 16)
    inner_blocks = (64 + 24 + payload + 9 + 63) // 64
    return 2 * payload, 4, 2 * (inner_blocks + 2)
