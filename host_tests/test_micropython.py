# The library is MicroPython's: every module compiles with mpy-cross and
# imports under the real MicroPython unix port, from source and as .mpy
# (the .mpy form within an ESP32-sized heap).
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from tools import build_mpy  # noqa: E402

MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")


def modules():
    out = []
    for src in build_mpy.sources():
        rel = os.path.relpath(src, build_mpy.LIB)[:-3].replace(os.sep, ".")
        out.append(rel[:-9] if rel.endswith(".__init__") else rel)
    return out


def run_mp(code, path, heap="110k"):
    if not os.path.exists(MICROPYTHON):
        pytest.fail("the micropython command is missing from the venv: run make test")
    return subprocess.run([MICROPYTHON, "-X", "heapsize=" + heap, "-c", code],
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, MICROPYPATH=path))


def test_every_module_compiles(tmp_path):
    _, errors = build_mpy.build(str(tmp_path), quiet=True)
    assert errors == []
    assert (len(list(tmp_path.rglob("*.mpy")))
            == len(build_mpy.sources()) + len(build_mpy.scripts()))


def _import_all(mods, path, heap):
    code = ("import sys\n"
            "for m in %r:\n"
            "    __import__(m)\n"
            "    print('ok', m, sys.modules[m].__file__)\n"
            "from ikev2 import crypto\n"
            "print('backend', crypto.backend().NAME)\n" % (mods,))
    r = run_mp(code, path, heap=heap)
    assert r.returncode == 0, r.stderr + r.stdout
    return [line.split() for line in r.stdout.splitlines() if line.startswith("ok ")], r.stdout


def test_every_module_imports_from_source():
    # compiling source on the device needs far more RAM than loading .mpy
    mods = [m for m in modules() if m != "ikev2.crypto.host"]  # CPython only
    ok, out = _import_all(mods, build_mpy.LIB, "2m")
    assert [o[1] for o in ok] == mods and all(o[2].endswith(".py") for o in ok)
    assert "backend mpy" in out


def test_every_module_imports_as_mpy_in_an_esp32_heap(tmp_path):
    # each module (with what it imports) on its own, in a 110 KiB heap
    path, errors = build_mpy.build(str(tmp_path), quiet=True)
    assert errors == []
    for m in modules():
        if m == "ikev2.crypto.host":
            continue
        ok, out = _import_all([m], path, "110k")
        assert ok and ok[0][1] == m and ok[0][2].endswith(".mpy"), m


def test_host_backend_is_not_importable_on_micropython():
    r = run_mp("import ikev2.crypto.host", build_mpy.LIB)
    assert r.returncode != 0 and "ImportError" in r.stderr + r.stdout


def test_vector_files_verify_independently():
    # vectors/verify_vectors.py recomputes every vector with hashlib/hmac
    # and `cryptography`, independently of lib/ikev2.
    r = subprocess.run([sys.executable,
                        os.path.join(ROOT, "host_tests", "vectors", "verify_vectors.py")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1].endswith(" 0 failed")
    # the signature vectors (RFC 6979, RSA), checked with `cryptography`
    r = subprocess.run([sys.executable,
                        os.path.join(ROOT, "host_tests", "vectors", "make_sig_vectors.py")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1].endswith(" 0 failed")


def test_rekeys_leave_the_heap_flat(tmp_path):
    # 60 rekeys of each kind (the gateway's and ours, Child SA and IKE SA)
    # in-process on MicroPython against a scripted gateway: the live heap
    # after 50 of them is where it was after the first 10 (a leak of a few
    # bytes per rekey would show; 64 B is one list growing once)
    dest, errors = build_mpy.build(str(tmp_path), quiet=True)
    assert errors == []
    if not os.path.exists(MICROPYTHON):
        pytest.fail("the micropython command is missing from the venv: run make test")
    p = subprocess.run([MICROPYTHON, "-X", "heapsize=400k",
                        os.path.join("host_tests", "mp_rekey_heap.py"), dest, "60"],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert p.returncode == 0, p.stdout + p.stderr
    phases = {}
    for line in p.stdout.splitlines():
        w = line.split()
        if w and w[0] == "phase":
            phases[w[1]] = int(w[3]) - int(w[2])
    assert sorted(phases) == ["gateway-child", "gateway-ike", "our-child", "our-ike"], p.stdout
    for name, grew in phases.items():
        assert grew <= 128, "%s: the heap grew %d bytes over 50 rekeys" % (name, grew)
