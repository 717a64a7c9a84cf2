# Coverage-guided fuzzing of the library (issue 9) with atheris (libFuzzer
# for Python) on CPython: the IKE message decoder, the session's receive
# path in every state, and ESP decapsulation.  The targets themselves are
# in host_tests/core/test_fuzz_corpus.py (they also replay a committed
# corpus subset on MicroPython); this file seeds, runs and checks them.
#
#   python -m tools.fuzz                      # make fuzz: 1,000,000 inputs
#                                             # per target, one at a time
#   python -m tools.fuzz --target session --runs 20000
#   python -m tools.fuzz --jobs 2             # two targets side by side
#   python -m tools.fuzz --export 150         # refresh host_tests/vectors/fuzz
#
# Seeds: every datagram of the strongSwan 5.9.8 exchanges recorded in the
# lab (host_tests/vectors/exchanges/*.json), raw and as the plaintext of
# their SK payloads / ESP packets, for every mode of every target; they
# are written to build/fuzz/<target>/seeds, the growing corpus to
# build/fuzz/<target>/corpus, crashers to build/fuzz/<target>/crashes.
#
# Pass: zero unhandled exceptions (only the library's own DecodeError may
# leave the decoder; nothing may leave Session.receive or ChildSA.decap)
# and no unbounded memory growth: at checkpoints the resident size and the
# number of live Python objects are measured, and after a warm-up (30% of
# the inputs) they may not grow past a bound (MEM_SLACK_MB, OBJ_SLACK);
# libFuzzer's -rss_limit_mb and -malloc_limit_mb are set too.  Exit status
# 1 on any crash or growth, 2 on a usage error.
import argparse
import copy
import gc
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORE = os.path.join(ROOT, "host_tests", "core")
TARGETS = ("decoder", "session", "esp")
PLANTED = "planted"  # test-only: the decoder, and an IndexError on any
# input whose first byte is 0xEE (no seed has it: the fuzzer makes one)
MAX_LEN = {"decoder": 2048, "session": 2048, "esp": 1600, PLANTED: 256}
MEM_SLACK_MB = 64
OBJ_SLACK = 20000
RSS_LIMIT_MB = 2048
MALLOC_LIMIT_MB = 512


def _paths():
    for p in (os.path.join(ROOT, "lib"), CORE):
        if p not in sys.path:
            sys.path.insert(0, p)


# ------------------------------------------------------------ the targets
def host_targets(instrument=False):
    # the shared targets, with sessions rebuilt by a deep copy of a
    # template (a copy costs ~0.1 ms, a replay of the handshake ~1 ms)
    _paths()
    if instrument:
        import atheris

        with atheris.instrument_imports(include=["ikev2"]):
            import ikev2.message, ikev2.payloads, ikev2.frag  # noqa: E401,F401
            import ikev2.session, ikev2.ikeinit, ikev2.tasks  # noqa: E401,F401
            import ikev2.rekey, ikev2.rekeyike, ikev2.rekeyown  # noqa: E401,F401
            import ikev2.esp, ikev2.ip, ikev2.packet, ikev2.sk  # noqa: E401,F401
            import ikev2.keys, ikev2.proposals, ikev2.certauth  # noqa: E401,F401
            import ikev2.rare, ikev2.errors  # noqa: E401,F401
    from ikev2 import crypto
    import test_fuzz_corpus as T

    class HostTargets(T.Targets):
        def __init__(self, backend):
            T.Targets.__init__(self, backend)
            self.tpl = {}

        def build(self, key):
            t = self.tpl.get(key)
            if t is None:
                t = self.tpl[key] = T.Targets.build(self, key)
            s, now = t
            return copy.deepcopy(s, {id(self.b): self.b, id(s.cfg): s.cfg}), now

    return T, HostTargets(crypto.backend("host"))


# ------------------------------------------------------------ seeds
def material(T, t):
    # every datagram of the recorded exchanges, with the plaintext of its
    # SK payload or ESP packet: [("ike", rec, dir, data, ex, flags, first,
    # inner, padded)], [("esp", rec, pkt, inner, padded)]
    from ikev2 import message as M
    from ikev2.session import NON_ESP_MARKER, ESTABLISHED

    ikes, esps = [], []
    for ri, name in enumerate(T.RECS + ("modp2048_cbc.json",
                                        "invalid_ke_cookie.json")):
        rec = T.vectors("exchanges/" + name)
        s, _ = T.replay(t.b, rec, "init")
        sent = list(s.out)
        s.out = []
        now = 2000
        for direction, port, hexdata in rec["log"]:
            data = bytes.fromhex(hexdata)
            if direction == "in" and port == 4500 and \
                    data[:4] != NON_ESP_MARKER:
                if s.child is not None:
                    ch = s.child
                    r = ch.decap(data)
                    if r is not None:
                        n = len(r[1])
                        pad = -(n + 2) % ch.align
                        padded = r[1] + bytes(range(1, pad + 1)) + bytes(
                            (pad, r[0]))
                        esps.append((ri % 2, data, r[1], padded))
                s.receive(data, port, now)
                continue
            d = data[4:] if data[:4] == NON_ESP_MARKER else data
            if direction == "in":
                c = s.rx
            else:
                c = s.tx
            if len(d) >= 28:
                ex, flags, first = d[18], d[19], d[16]
                inner = padded = None
                if c is not None and first == 46:
                    try:
                        m = M.decode(d)
                        sk = m.payloads[-1]
                        inner = c.open(d[:len(d) - len(sk.body)], sk.body)
                        first = sk.inner
                        pad = -(len(inner) + 1) % c.block
                        padded = inner + bytes(pad) + bytes((pad,))
                    except Exception:  # noqa: BLE001 (a seed less)
                        pass
                elif first != 46:
                    inner = d[28:]
                ikes.append((ri % 2, direction, port, d, ex, flags, first,
                             inner, padded))
            if direction == "in":
                now += 5
                s.receive(data, port, now)
                if s.state == ESTABLISHED and s.pending is None:
                    s.out = []
                    s.close(now)
        del sent
    return ikes, esps


def make_seeds(T, t, target):
    ikes, esps = material(T, t)
    out = set()
    from ikev2 import message as M

    if target in ("decoder", PLANTED):
        for r, di, port, d, ex, flags, first, inner, padded in ikes:
            for mode in range(5):
                out.add(bytes((mode | (r << 4),)) + d)
            if padded is not None:
                out.add(bytes((5, first & ~1 | r)) + padded)
                out.add(bytes((6, r | 0x00)) + padded)  # fragment 1 of 1
                out.add(bytes((6, r | 0x02 | 0x10)) + padded)  # 2 of 2
                try:
                    m = M.Message(0, bytes(8))
                    M.decode_inner(m, inner, first)
                    for p in m.payloads:
                        out.add(bytes((7, p.TYPE)) + p.encode())
                except Exception:  # noqa: BLE001
                    pass
            elif inner is not None:
                try:
                    for p in M.decode(d).payloads:
                        out.add(bytes((7, p.TYPE)) + p.encode())
                except Exception:  # noqa: BLE001
                    pass
        if target == PLANTED:
            out = set(x for x in out if x[:1] != b"\xee")
    elif target == "session":
        for st in range(8):
            for r in (0, 1):
                key = r << 3 | st
                for rr, di, port, d, ex, flags, first, inner, padded in ikes:
                    if rr != r or inner is None:
                        continue
                    if di == "in":
                        out.add(bytes((key | (0 if port == 500 else 0x10),))
                                + (d if port == 500 else bytes(4) + d))
                    b1 = (ex - 34) & 3
                    if not flags & 0x20:
                        b1 |= 4  # a request
                    if (st == 0) == (ex == 34):
                        out.add(bytes((key | 0x20, b1, first)) + inner)
                for rr, pkt, inner, padded in esps:
                    if rr == r:
                        out.add(bytes((key | 0x10,)) + pkt)
                        out.add(bytes((key | 0x30, 0, 0, 0, 0, 0)) + padded)
    else:
        for r, pkt, inner, padded in esps:
            out.add(bytes((r,)) + pkt)
            out.add(bytes((r | 2,)) + pkt[4:])
            out.add(bytes((r | 4,)) + pkt[4:8] + padded)
            out.add(bytes((r | 6,)) + inner)
    return sorted(out)


def write_seeds(target, outdir):
    T, t = host_targets()
    d = os.path.join(outdir, target, "seeds")
    os.makedirs(d, exist_ok=True)
    seeds = make_seeds(T, t, target)
    for i, s in enumerate(seeds):
        with open(os.path.join(d, "seed-%04d" % i), "wb") as f:
            f.write(s)
    return d, len(seeds)


# ------------------------------------------------------------ the child
def _rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class MemoryGrowth(AssertionError):
    pass


def child(target, runs, statfile, libfuzzer_args, argv0=None):
    # runs inside the fuzzing process: atheris.Fuzz() never returns
    import atheris

    T, t = host_targets(instrument=True)
    run = t.run
    real = "decoder" if target == PLANTED else target
    every = max(1000, min(50000, runs // 20))
    warm = max(every, int(runs * 0.3))
    st = {"target": target, "inputs": 0, "outcomes": [0, 0, 0],
          "rss_mb": [], "objects": [], "base": None, "t0": time.time(),
          "rebuilds": 0}
    n = [0]
    outcomes = st["outcomes"]

    def check():
        gc.collect()
        rss = _rss_mb()
        objs = len(gc.get_objects())
        st["inputs"] = n[0]
        st["rss_mb"].append(round(rss, 1))
        st["objects"].append(objs)
        st["rebuilds"] = t.rebuilds
        el = time.time() - st["t0"]
        sys.stderr.write("fuzz %s: %d inputs, %.0f/s, rss %.1f MB, %d "
                         "objects, outcomes %s, sessions rebuilt %d\n"
                         % (target, n[0], n[0] / max(el, 1e-9), rss, objs,
                            outcomes, t.rebuilds))
        if st["base"] is None and n[0] >= warm:
            st["base"] = (rss, objs)
        with open(statfile, "w") as f:
            json.dump(st, f)
        b = st["base"]
        if b and (rss > b[0] + MEM_SLACK_MB or objs > b[1] + OBJ_SLACK):
            raise MemoryGrowth(
                "memory keeps growing after the warm-up: rss %.1f MB -> "
                "%.1f MB, objects %d -> %d" % (b[0], rss, b[1], objs))

    def one(data):
        if target == PLANTED and data[:1] == b"\xee":
            raise IndexError("the planted crash")
        outcomes[run(real, data)] += 1
        n[0] += 1
        if n[0] % every == 0:
            check()

    atheris.Setup([argv0 or sys.argv[0]] + libfuzzer_args, one)
    atheris.Fuzz()


# ------------------------------------------------------------ the parent
def run_target(target, a, log):
    base = os.path.join(a.out, target)
    corpus = os.path.join(base, "corpus")
    crashes = os.path.join(base, "crashes")
    for d in (corpus, crashes):
        os.makedirs(d, exist_ok=True)
    seeds, nseeds = write_seeds(target, a.out)
    statfile = os.path.join(base, "stats.json")
    if os.path.exists(statfile):
        os.remove(statfile)
    before = set(os.listdir(crashes))
    lf = ["-runs=%d" % a.runs, "-max_len=%d" % MAX_LEN[target],
          "-rss_limit_mb=%d" % RSS_LIMIT_MB,
          "-malloc_limit_mb=%d" % MALLOC_LIMIT_MB,
          "-artifact_prefix=" + crashes + "/", "-print_final_stats=1",
          "-seed=%d" % a.seed, "-timeout=%d" % a.timeout]
    if a.no_corpus:
        lf.append(seeds)
    else:
        lf += [corpus, seeds]
    cmd = [sys.executable, "-m", "tools.fuzz", "--child", target,
           "--runs", str(a.runs), "--stats", statfile, "--"] + lf
    log("fuzz %s: %d seeds from the recorded strongSwan exchanges, %d "
        "inputs" % (target, nseeds, a.runs))
    t0 = time.time()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True,
                         errors="replace", env=env)
    tail = []
    final = {}
    for line in p.stdout:
        tail = (tail + [line])[-60:]
        if line.startswith("fuzz ") or a.verbose:
            log(line.rstrip())
        m = re.search(r"#(\d+)\s+DONE\s+cov: (\d+) ft: (\d+).*?exec/s: (\d+)"
                      r" rss: (\d+)Mb", line)
        if m:
            final.update(runs=int(m.group(1)), cov=int(m.group(2)),
                         ft=int(m.group(3)), execs=int(m.group(4)),
                         rss=int(m.group(5)))
        m = re.search(r"Done (\d+) runs in (\d+) second", line) or \
            re.search(r"stat::number_of_executed_units: (\d+)", line)
        if m:
            final["runs"] = int(m.group(1))
    rc = p.wait()
    dt = time.time() - t0
    st = {}
    if os.path.exists(statfile):
        with open(statfile) as f:
            st = json.load(f)
    new = sorted(set(os.listdir(crashes)) - before)
    crashed = rc != 0 or bool(new)
    res = {"target": target, "inputs": final.get("runs", st.get("inputs", 0)),
           "seconds": round(dt, 1),
           "exec_s": round(final.get("runs", 0) / dt) if dt else 0,
           "cov": final.get("cov"), "ft": final.get("ft"),
           "peak_rss_mb": max(st.get("rss_mb") or [0] + [final.get("rss", 0)]),
           "objects": (st.get("objects") or [None])[-1],
           "outcomes": st.get("outcomes"), "rebuilds": st.get("rebuilds"),
           "crashes": len(new) if new else (1 if rc else 0),
           "crash_files": [os.path.join(crashes, c) for c in new],
           "rc": rc}
    if crashed:
        log("".join(tail[-40:]).rstrip())
    return res


def summary(r):
    return ("fuzz %(target)s: %(inputs)d inputs in %(seconds).0f s "
            "(%(exec_s)d exec/s), cov %(cov)s ft %(ft)s, peak rss "
            "%(peak_rss_mb)s MB, outcomes %(outcomes)s, crashes=%(crashes)d"
            % r)


def export(a, log):
    # a minimized, merged corpus -> host_tests/vectors/fuzz/<target>.bin:
    # at most n inputs of at most 600 bytes each, spread over sizes
    n = a.export
    outdir = os.path.join(ROOT, "host_tests", "vectors", "fuzz")
    os.makedirs(outdir, exist_ok=True)
    for target in a.targets:
        base = os.path.join(a.out, target)
        seeds, _ = write_seeds(target, a.out)
        merged = os.path.join(base, "merged")
        subprocess.run(["rm", "-rf", merged], check=True)
        os.makedirs(merged)
        # libFuzzer's merge re-runs its argv[0]: a script that is this
        wrap = os.path.join(base, "child.sh")
        with open(wrap, "w") as f:
            f.write("#!/bin/sh\ncd '%s' && exec '%s' -m tools.fuzz --child %s "
                    "--runs 0 --stats /dev/null -- \"$@\"\n"
                    % (ROOT, sys.executable, target))
        os.chmod(wrap, 0o755)
        cmd = [sys.executable, "-m", "tools.fuzz", "--child", target,
               "--runs", "0", "--stats", os.devnull, "--argv0", wrap, "--",
               "-merge=1",
               "-max_len=%d" % MAX_LEN[target], merged,
               os.path.join(base, "corpus"), seeds]
        subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        def read(d):
            out = set()
            for name in os.listdir(d):
                with open(os.path.join(d, name), "rb") as f:
                    x = f.read()
                if 1 <= len(x) <= 600:
                    out.add(x)
            return out

        # the minimized corpus (each input adds coverage) first, then the
        # rest of corpus and seeds, round-robin over the first byte (the
        # mode and state), so that every mode is represented
        files = sorted(read(merged), key=lambda d: (len(d), d))
        pick = files[:n]
        rest = (read(os.path.join(base, "corpus")) | read(seeds)) - set(pick)
        by = {}
        for d in sorted(rest, key=lambda d: (len(d), d)):
            by.setdefault(d[0], []).append(d)
        while len(pick) < n and any(by.values()):
            for k in sorted(by):
                if by[k] and len(pick) < n:
                    lst = by[k]
                    pick.append(lst.pop(len(lst) // 2))
        path = os.path.join(outdir, target + ".bin")
        with open(path, "wb") as f:
            for d in pick:
                f.write(len(d).to_bytes(2, "big") + d)
        log("export %s: %d inputs (%d of the minimized corpus), %d bytes "
            "-> %s" % (target, len(pick), len(files), os.path.getsize(path),
                       path))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        i = argv.index("--")
        ap = argparse.ArgumentParser()
        ap.add_argument("--child")
        ap.add_argument("--runs", type=int)
        ap.add_argument("--stats")
        ap.add_argument("--argv0", default=sys.argv[0])
        c = ap.parse_args(argv[:i])
        return child(c.child, c.runs, c.stats, argv[i + 1:], c.argv0)
    ap = argparse.ArgumentParser(
        prog="python -m tools.fuzz",
        description="Coverage-guided fuzzing (atheris) of the IKE decoder, "
                    "the session's receive path and ESP decapsulation.")
    ap.add_argument("--target", action="append", metavar="NAME",
                    help="decoder, session, esp or all (default: all); "
                         "may be repeated")
    ap.add_argument("--runs", type=int, default=1000000,
                    help="inputs per target (default 1,000,000)")
    ap.add_argument("--jobs", type=int, default=1,
                    help="targets fuzzed at the same time (default 1)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "fuzz"),
                    help="seeds, corpus and crashes (default build/fuzz)")
    ap.add_argument("--seed", type=int, default=1,
                    help="libFuzzer's random seed (default 1)")
    ap.add_argument("--timeout", type=int, default=10,
                    help="seconds one input may take (default 10)")
    ap.add_argument("--no-corpus", action="store_true",
                    help="start from the seeds only, not build/fuzz's corpus")
    ap.add_argument("--export", type=int, metavar="N",
                    help="write N inputs per target of the merged corpus to "
                         "host_tests/vectors/fuzz instead of fuzzing")
    ap.add_argument("--json", help="write the per-target results here")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="show libFuzzer's own output")
    a = ap.parse_args(argv)
    names = a.target or ["all"]
    a.targets = []
    for n in names:
        for x in (TARGETS if n == "all" else [n]):
            if x not in TARGETS + (PLANTED,):
                ap.error("unknown target %r: choose from %s or all"
                         % (x, ", ".join(TARGETS)))
            if x not in a.targets:
                a.targets.append(x)
    if a.runs < 1:
        ap.error("--runs must be at least 1")
    if a.jobs < 1:
        ap.error("--jobs must be at least 1")
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("tools.fuzz: atheris is not installed (pip install "
              "atheris==3.0.0, or make venv)", file=sys.stderr)
        return 2

    def log(s):
        print(s, flush=True)

    if a.export:
        export(a, log)
        return 0
    t0 = time.time()
    results = []
    if a.jobs == 1:
        for target in a.targets:
            results.append(run_target(target, a, log))
            log(summary(results[-1]))
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(a.jobs) as ex:
            for r in ex.map(lambda x: run_target(x, a, log), a.targets):
                results.append(r)
                log(summary(r))
    bad = [r for r in results if r["crashes"]]
    log("fuzz: %d target(s), %d inputs, %.0f s, crashes=%d%s"
        % (len(results), sum(r["inputs"] for r in results), time.time() - t0,
           sum(r["crashes"] for r in results),
           "".join("\n  crasher: " + c for r in bad for c in r["crash_files"])))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
