# The bench's own machinery (`make bench`), checked quickly: its workloads
# run and do what they claim on both runtimes, the instruction counter
# parses callgrind, and the targets table gives the right verdicts.  No
# figure is asserted here: speed belongs to the bench, not to the tests.
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from tools import bench, bench_callgrind, bench_esp, build_mpy  # noqa: E402

MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")


def _mp(args, heap="128k"):
    dest, errors = build_mpy.build(quiet=True)
    assert not errors, errors
    p = subprocess.run([MICROPYTHON, "-X", "heapsize=" + heap] + args, cwd=ROOT,
                       capture_output=True, text=True,
                       env=dict(os.environ, MICROPYPATH=dest))
    return p


def test_esp_bench_round_trips_on_cpython():
    rows = []
    bench_esp.run(rows.append, quick=True)
    assert [(r["suite"], r["size"]) for r in rows] == [
        (s, n) for s in ("aes128-sha256", "aes128gcm16") for n in bench_esp.SIZES]
    for r in rows:
        assert r["us"] > 0 and r["bare_us"] > 0 and r["backend"] == "host"


def test_esp_bench_on_micropython_keeps_the_heap_flat():
    p = _mp(["tools/bench_esp.py", "--quick"])
    assert p.returncode == 0, p.stderr
    rows = [json.loads(ln) for ln in p.stdout.splitlines() if ln.startswith("{")]
    assert [r["size"] for r in rows] == list(bench_esp.SIZES)
    for r in rows:
        assert r["backend"] == "mpy"
        # 2000 more packets leave nothing behind (the ESP hot path keeps
        # no per-packet state), and each allocates a bounded amount
        assert r["held_after"] <= 64, r
        assert 0 < r["alloc_per_packet"] < 8 * r["size"] + 4096, r


@pytest.mark.parametrize("rec", ["x25519_cbc.json", "modp2048_cbc.json"])
def test_handshake_replay_workload_establishes(rec):
    p = _mp(["tools/cg_work.py", "handshake", rec, "1"], heap="160k")
    assert p.returncode == 0, p.stdout + p.stderr


def test_callgrind_counts_one_packet():
    if not bench_callgrind.available():
        pytest.skip("valgrind is not installed (bootstrap installs it: "
                    "apt-get install valgrind)")
    build_mpy.build(quiet=True)
    r = bench_callgrind.per_run(["esp", "512"], 5)
    # an ESP packet each way costs instructions, part of them in mbedTLS's
    # AES and SHA-256 (what an ESP32 does in hardware)
    assert r["total"] > 10000
    assert 0 < r["aes"] < r["total"] and 0 < r["sha256"] < r["total"]
    lo, hi = bench_callgrind.projection(r, *bench_callgrind.esp_hw_work(512))
    assert 0 < lo < hi


def test_targets_table_verdicts():
    res = {
        "handshake": [
            {"group": "X25519", "runner": "strongSwan", "ms": 4.0,
             "x_strongswan": 1.0, "bytes": 1168, "bytes_ratio": 1.0, "first_esp": 170},
            {"group": "X25519", "runner": "CPython", "ms": 2.0,
             "x_strongswan": 0.5, "bytes": 1032, "bytes_ratio": 1032 / 1168,
             "first_esp": 164},
            {"group": "X25519", "runner": "MicroPython", "ms": 5.0,
             "x_strongswan": 1.25, "bytes": 1032, "bytes_ratio": 1032 / 1168,
             "first_esp": 164}],
        "dh": [{"case": "X25519 scalar mult", "port": "64-bit", "speedup": 4.3,
                "ladder_alloc": 0}],
        "esp": [{"suite": "aes128-sha256", "size": 64, "backend": "mpy",
                 "of_bare": 0.7, "held_after": 0}],
        "memory": None, "mpy_size": 60000}
    got = dict((r[0], r[3]) for r in bench.targets(res))
    assert got["1 handshake X25519, CPython vs strongSwan"] is True
    assert got["1 handshake X25519, MicroPython vs strongSwan"] is False
    assert got["2 X25519 scalar mult native vs big ints, 64-bit port"] is False
    assert got["2 X25519 scalar mult, 64-bit: heap allocated in the ladder"] is True
    assert got["3 ESP 64 B, MicroPython, of the bare primitives' rate"] is True
    assert got["5 handshake bytes X25519 vs strongSwan"] is True
    assert got["5 ESP packet of an 84-byte ping (aes128-sha256)"] is True
    assert got["6 .mpy of the PSK profile, for an ESP32"] is False


def test_valgrind_is_there_when_bootstrap_ran():
    # bootstrap.sh installs valgrind with the lab's packages (as root)
    if os.geteuid() != 0:
        pytest.skip("not root: bootstrap could not apt-get install valgrind")
    assert shutil.which("valgrind") and shutil.which("callgrind_annotate")
