# Runs the core tests (host_tests/core/test_*.py) under MicroPython, with
# no pytest: every test_* function of every module, and the per-backend
# ones once per backend.  Prints one line per failure and a closing line
# "micropython: N passed, M failed".  Exit status 1 on any failure.
#
#   micropython host_tests/mp_runner.py [--lib DIR] [FILTER]
# --lib DIR: import the library from DIR (e.g. build/mpy, the .mpy files)
# FILTER: run only tests whose "module.function" contains it
import os
import sys

CORE = (__file__.rsplit("/", 1)[0] if "/" in __file__ else ".") + "/core"
sys.path.insert(0, CORE)
args = sys.argv[1:]
if args[:1] == ["--lib"]:
    sys.path.insert(0, args[1])
    args = args[2:]

import harness  # noqa: E402
import ikev2  # noqa: E402


def main(args):
    only = args[0] if args else ""
    print("micropython: library from %s" % getattr(ikev2, "__file__", "?"))
    names = sorted(n[:-3] for n in os.listdir(CORE)
                   if n.startswith("test_") and n.endswith(".py"))
    passed = failed = 0
    bks = harness.backends()
    print("micropython: backends %s" % ", ".join(b.NAME for b in bks))
    for mod_name in names:
        mod = __import__(mod_name)
        for attr in sorted(dir(mod)):
            if not attr.startswith("test_") or only not in mod_name + "." + attr:
                continue
            f = getattr(mod, attr)
            runs = ([(b.NAME, (b,)) for b in bks]
                    if attr in harness.PER_BACKEND else [("", ())])
            for tag, args in runs:
                label = "%s.%s%s" % (mod_name, attr, "[" + tag + "]" if tag else "")
                try:
                    f(*args)
                    passed += 1
                except Exception as e:  # report and go on
                    failed += 1
                    print("FAIL %s: %s: %s" % (label, type(e).__name__, e))
                    sys.print_exception(e)
    print("micropython: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


sys.exit(main(args))
