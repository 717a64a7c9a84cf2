# `make soak`: a long-lived tunnel under constant rekeying.  A strongSwan
# gateway in the lab rekeys the Child SA and the IKE SA on a short
# schedule, and so does the client (on MicroPython by default, with jitter,
# so that both sides start rekeys and sometimes collide), while telemetry
# flows through the store-and-forward buffer.  Then the collector's
# records are checked: every sequence number once, none missing.
#
#   python -m tools.soak                 # long mode: 10 minutes, a rekey
#                                        # every 10 s
#   python -m tools.soak --short         # 30 s, a rekey every 3 s (CI)
#   python -m tools.soak --runtime cpython --seconds 120
#
# Prints progress every 10 s and a report: rekeys by side, records sent,
# delivered, lost and repeated, reconnects and (MicroPython) the live heap
# once up and after every rekey, and its peak.  Exit 0 if nothing was lost
# and the heap stayed flat.
import argparse
import json
import os
import subprocess
import sys

try:
    from . import lab as labmod
except ImportError:  # python tools/soak.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from tools import lab as labmod

IKEV2C = os.path.join(os.path.dirname(sys.executable), "ikev2c")
HEAP_SLACK = 2048  # "flat": the live heap after rekeys within 2 KB of up


def modes(short):
    # -> (seconds, gateway Child SA rekey, gateway IKE SA rekey)
    return (30, 3, 5) if short else (600, 10, 20)


def run(seconds, child, ike, runtime="micropython", heap="144k", interval=500,
        progress=None):
    # -> the report (a dict); raises labmod.LabError if the lab fails
    say = progress or (lambda m: None)
    with labmod.Lab(pool="10.99.0.0/24", verbose=False,
                    rekey_time={"ike": ike, "child": child},
                    life_time=child * 3, over_time=ike,
                    extra_child={"rand_time": 0},
                    extra_conn={"rand_time": 0}) as lab:
        # ours a little later than the gateway's, with 20 % jitter: the
        # two schedules interleave, so both sides start rekeys
        cfg = {"gateway": lab.gateway_ip, "local_id": lab.device_id,
               "remote_id": lab.gateway_id, "psk": lab.psk,
               "remote_ts": ["198.51.100.0/24"], "retransmit_timeout": 1.0,
               "rekey_time": child * 1.1, "ike_rekey_time": ike * 1.1,
               "rekey_jitter": 0.2}
        path = os.path.join(lab.state_dir, "soak.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        say("lab %s up: gateway rekeys the Child SA every %d s and the IKE "
            "SA every %d s; the client on %s, %d s" % (lab.name, child, ike,
                                                        runtime, seconds))
        p = lab.popen(lab.ns_device, IKEV2C, "--config", path, "--runtime",
                      runtime, "--heap", heap, "soak",
                      "%s:%d" % (lab.cloud_ip, lab.collector_port), str(seconds),
                      "--interval", str(interval),
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        err = []
        for line in p.stderr:
            err.append(line)
            if "soak:" in line or "error" in line or "down" in line:
                say(line.rstrip())
        out = p.stdout.read()
        p.wait()
        lines = [ln for ln in out.splitlines() if ln.startswith("{")]
        if not lines:
            raise labmod.LabError("the soak client printed no report (exit %s): %s"
                                  % (p.returncode, "".join(err[-20:])))
        rep = json.loads(lines[-1])
        seqs = []
        for r in lab.collector_records():
            w = r["payload"].split()
            if w and w[0].startswith("seq="):
                seqs.append(int(w[0][4:]))
        got = set(seqs)
        rep["exit"] = p.returncode
        rep["runtime"] = runtime
        rep["delivered"] = len(got)
        rep["lost"] = len(set(range(1, rep["records"] + 1)) - got)
        rep["duplicate_copies"] = len(seqs) - len(got)
        rep["gateway_ike_sas_left"] = len(lab.sas())
        log = lab.charon_log()
        # what the gateway saw of the races: simultaneous rekeys, and the
        # rekeys answered "try later" (RFC 7296 2.8.1, 2.25)
        rep["gateway_collisions"] = log.count("collision")
        rep["gateway_temporary_failures"] = log.count("TEMPORARY_FAILURE") + \
            log.count("N(TEMP_FAIL)")
        rep["stderr_tail"] = "".join(err[-5:])
        return rep


def heap_flat(rep):
    # -> None, or why the live heap is not flat across rekeys
    h, up = rep.get("heap_after_rekeys") or [], rep.get("heap_up")
    if not h or not up:
        return None
    tail = sorted(h[len(h) // 2:])
    typical = tail[len(tail) // 2]  # the median of the second half
    if typical - up > HEAP_SLACK:
        return "live heap grew from %d B (up) to %d B (median after rekeys)" % (up, typical)
    return None


def report(rep):
    lines = [
        "soak: %d s on %s" % (rep["seconds"], rep["runtime"]),
        "  rekeys    Child SA %d by the gateway, %d by us; IKE SA %d by the "
        "gateway, %d by us" % (rep["child_rekeys_gateway"], rep["child_rekeys_ours"],
                               rep["ike_rekeys_gateway"], rep["ike_rekeys_ours"]),
        "  records   %d sent, %d delivered, %d lost, %d repeated copies "
        "(%d resent), %d dropped from the buffer" % (
            rep["records"], rep["delivered"], rep["lost"], rep["duplicate_copies"],
            rep["resent"], rep["dropped"]),
        "  tunnel    %d reconnects, %d liveness checks" % (rep["reconnects"],
                                                         rep["liveness_checks"]),
        "  gateway   %d rekey collisions, %d TEMPORARY_FAILURE in its log" % (
            rep.get("gateway_collisions", 0), rep.get("gateway_temporary_failures", 0)),
    ]
    h = rep.get("heap_after_rekeys") or []
    if rep.get("heap_up"):
        lines.append("  heap      %d B live once up; after %d rekeys %d..%d B "
                     "(last %d B); peak %d B" % (
                         rep["heap_up"], len(h), min(h) if h else 0,
                         max(h) if h else 0, h[-1] if h else 0, rep["heap_peak"]))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description="make soak: a long-lived tunnel "
                                 "under constant rekeying, against strongSwan")
    ap.add_argument("--short", action="store_true",
                    help="30 s with a rekey every 3 s (what CI runs)")
    ap.add_argument("--seconds", type=int, help="override the duration")
    ap.add_argument("--runtime", choices=("micropython", "cpython"),
                    default="micropython")
    ap.add_argument("--heap", default="144k",
                    help="MicroPython heap cap (default 144k, see README)")
    a = ap.parse_args(argv)
    why = None
    if os.geteuid() != 0:
        why = "the soak needs root (network namespaces)"
    elif not os.path.exists(labmod.CHARON):
        why = "strongSwan's charon is missing (run make test once, or tools/bootstrap.sh)"
    if why:
        sys.stderr.write("soak: error: %s\n" % why)
        return 2
    secs, child, ike = modes(a.short)
    if a.seconds:
        secs = a.seconds
    try:
        rep = run(secs, child, ike, a.runtime, a.heap,
                  progress=lambda m: print(m, flush=True))
    except labmod.LabError as e:
        sys.stderr.write("soak: error: %s\n" % e)
        return 1
    print(report(rep))
    path = os.path.join(labmod.ROOT, "build", "soak-report.json")
    with open(path, "w") as f:
        json.dump(rep, f, indent=1)
    print("soak: the whole report is in %s" % os.path.relpath(path))
    bad = []
    if rep["exit"] != 0:
        bad.append("the client exited with %d: %s" % (rep["exit"], rep["stderr_tail"]))
    if rep["lost"] or rep["dropped"]:
        bad.append("%d records lost, %d dropped" % (rep["lost"], rep["dropped"]))
    flat = heap_flat(rep)
    if flat:
        bad.append(flat)
    for b in bad:
        print("soak: FAILED: " + b)
    if not bad:
        print("soak: passed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
