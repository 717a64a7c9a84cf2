# The little shared by the core tests, on both runtimes: the backends to
# run, the vector files, deterministic randomness.  No pytest here: these
# tests run under pytest on CPython and under mp_runner.py on MicroPython.
import json
import sys

_HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
try:  # the runner may have put a .mpy build of the library on sys.path
    import ikev2  # noqa: F401
except ImportError:
    sys.path.insert(0, _HERE + "/../../lib")

from ikev2 import crypto  # noqa: E402

PER_BACKEND = set()


def per_backend(f):
    # Marks a test that takes one argument, the backend module, and runs
    # once per backend available on this runtime.
    PER_BACKEND.add(f.__name__)
    return f


def backends():
    return [crypto.backend(n) for n in crypto.available()]


def vectors(name):
    with open(_HERE + "/../vectors/" + name) as f:
        return json.load(f)


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


class Rng:
    # Deterministic rng(n) for tests: SHA-256 in counter mode over a seed.
    def __init__(self, seed=b"seed"):
        self.seed = seed
        self.n = 0

    def __call__(self, n):
        import hashlib

        out = b""
        while len(out) < n:
            self.n += 1
            out += hashlib.sha256(self.seed + self.n.to_bytes(4, "big")).digest()
        return out[:n]


def raises(exc, f, *args, **kw):
    # -> the exception; fails if f(*args, **kw) raises nothing or something else
    try:
        f(*args, **kw)
    except exc as e:
        return e
    raise AssertionError("%s not raised by %s" % (exc.__name__, f))
