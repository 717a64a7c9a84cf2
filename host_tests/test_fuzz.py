# make test's short mode of make fuzz (tools/fuzz.py, issue 9): each
# target runs a bounded number of coverage-guided inputs (atheris) from
# the seeds of the recorded strongSwan exchanges, in a subprocess, and
# must run them all with zero crashes and a flat memory; a planted crash
# must be found and reported (so the harness can fail).
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytest.importorskip("atheris", reason="atheris is not installed (make venv)")
RUNS = {"decoder": 20000, "session": 10000, "esp": 20000}


def fuzz(tmp_path, *args):
    out = tmp_path / "r.json"
    p = subprocess.run([sys.executable, "-m", "tools.fuzz", "--out",
                        str(tmp_path), "--no-corpus", "--json", str(out)]
                       + list(args), cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    res = json.loads(out.read_text()) if out.exists() else None
    return p, res


@pytest.mark.parametrize("target", sorted(RUNS))
def test_short_fuzz_run(tmp_path, target):
    n = RUNS[target]
    p, res = fuzz(tmp_path, "--target", target, "--runs", str(n))
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    (r,) = res
    assert r["crashes"] == 0 and r["crash_files"] == []
    assert r["inputs"] >= n, r
    # the harness's own count (at its last checkpoint) agrees
    assert sum(r["outcomes"]) >= n - n // 10, r
    # the inputs went somewhere: refused ones and accepted ones (for esp,
    # accepted is outcome 1 or 2: a valid inner IPv4 packet or not)
    assert r["outcomes"][0] and (r["outcomes"][1] or r["outcomes"][2]), r
    assert r["cov"] and r["cov"] > 300, r
    assert r["peak_rss_mb"] < 512, r
    assert "crashes=0" in p.stdout


def test_planted_crash_is_found_and_reported(tmp_path):
    # the test-only target crashes (IndexError) on inputs starting 0xEE,
    # which no seed does: the fuzzer must make one, keep it and fail
    p, res = fuzz(tmp_path, "--target", "planted", "--runs", "200000")
    assert p.returncode == 1, p.stdout[-3000:]
    (r,) = res
    assert r["crashes"] == 1 and len(r["crash_files"]) == 1
    with open(r["crash_files"][0], "rb") as f:
        assert f.read()[:1] == b"\xee"
    assert "IndexError: the planted crash" in p.stdout
    assert "crasher: " in p.stdout and "crashes=1" in p.stdout


def test_unknown_target_is_a_clear_error(tmp_path):
    p = subprocess.run([sys.executable, "-m", "tools.fuzz", "--target",
                        "decodr", "--out", str(tmp_path)], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert "unknown target 'decodr'" in p.stderr
    assert "decoder, session, esp" in p.stderr
    assert "Traceback" not in p.stderr
