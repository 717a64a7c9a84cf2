# `make test`: the whole suite on both runtimes.
#   1. pytest on CPython: host_tests/ (core tests on the host and pure
#      backends, property tests, cross-checks, MicroPython build checks);
#   2. the core tests again on the MicroPython unix port, importing the
#      library as compiled .mpy files (mpy and pure backends).
# Prints the count for each runtime and a closing "N passed, M failed".
# Under CI (CI=true) a skipped test counts as a failure.
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from tools import build_mpy  # noqa: E402

BUILD = os.path.join(ROOT, "build")


def run_pytest(extra):
    junit = os.path.join(BUILD, "pytest.xml")
    if os.path.exists(junit):
        os.remove(junit)
    rc = subprocess.call([sys.executable, "-m", "pytest", "-q", "-rs",
                          "--junitxml", junit] + extra, cwd=ROOT)
    if not os.path.exists(junit):
        return rc, 0, 1, 0
    s = ET.parse(junit).getroot()
    if s.tag == "testsuites":
        s = s[0]
    tests, skipped = int(s.get("tests")), int(s.get("skipped"))
    failed = int(s.get("failures")) + int(s.get("errors"))
    return rc, tests - skipped - failed, failed, skipped


def run_micropython():
    dest, errors = build_mpy.build(os.path.join(BUILD, "mpy"))
    if errors:
        return 0, len(errors)
    exe = os.path.join(os.path.dirname(sys.executable), "micropython")
    p = subprocess.run([exe, "host_tests/mp_runner.py", "--lib", dest],
                       cwd=ROOT, capture_output=True, text=True)
    sys.stdout.write(p.stdout + p.stderr)
    last = [ln for ln in p.stdout.splitlines() if ln.startswith("micropython: ")
            and ln.endswith(" failed")]
    if not last:
        return 0, 1
    words = last[-1].split()
    passed, failed = int(words[1]), int(words[3])
    if p.returncode and not failed:
        failed = 1
    return passed, failed


def main():
    os.makedirs(BUILD, exist_ok=True)
    rc, cp_pass, cp_fail, cp_skip = run_pytest(sys.argv[1:])
    mp_pass, mp_fail = run_micropython()
    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    print()
    print("cpython: %d passed, %d failed, %d skipped" % (cp_pass, cp_fail, cp_skip))
    print("micropython: %d passed, %d failed" % (mp_pass, mp_fail))
    failed = cp_fail + mp_fail + (cp_skip if ci else 0)
    if ci and cp_skip:
        print("CI: %d skipped test(s) count as failures here" % cp_skip)
    if rc not in (0, 5) and not failed:
        failed = 1  # pytest itself broke (usage error, crash)
    print("%d passed, %d failed" % (cp_pass + mp_pass, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
