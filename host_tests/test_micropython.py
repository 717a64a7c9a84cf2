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
    assert len(list(tmp_path.rglob("*.mpy"))) == len(build_mpy.sources())


@pytest.mark.parametrize("form", ["source", "mpy"])
def test_every_module_imports_under_micropython(form, tmp_path):
    path = build_mpy.LIB
    if form == "mpy":
        path, errors = build_mpy.build(str(tmp_path), quiet=True)
        assert errors == []
    mods = [m for m in modules() if m != "ikev2.crypto.host"]  # CPython only
    code = ("import sys\n"
            "for m in %r:\n"
            "    __import__(m)\n"
            "    print('ok', m, sys.modules[m].__file__)\n"
            "from ikev2 import crypto\n"
            "print('backend', crypto.backend().NAME)\n" % (mods,))
    # compiling source on the device needs far more RAM than loading .mpy:
    # only the .mpy form must fit an ESP32 heap
    r = run_mp(code, path, heap="110k" if form == "mpy" else "2m")
    assert r.returncode == 0, r.stderr + r.stdout
    ok = [line.split()[1] for line in r.stdout.splitlines() if line.startswith("ok ")]
    assert ok == mods
    suffix = ".mpy" if form == "mpy" else ".py"
    assert all(line.endswith(suffix) for line in r.stdout.splitlines()
               if line.startswith("ok "))
    assert "backend mpy" in r.stdout


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
