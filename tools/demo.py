# make demo: the seed scenario end to end.
#   1. the gateway lab: strongSwan (PSK, a virtual-IP pool) in a network
#      namespace, a device namespace, and a cloud host running the
#      telemetry collector;
#   2. the device application (firmware/app.py) on the MicroPython unix port, loading the library
#      as .mpy with an ESP32-sized heap: a first ping brings the tunnel up
#      (IKE_SA_INIT, IKE_AUTH, the Child SA) and gets its replies, then N
#      telemetry datagrams travel inside ESP to the collector;
#   3. the collector's records are checked (count and content), a summary
#      is printed, and everything is torn down.
# The device records its session (a trace ring, with key export on: this is
# a lab) and the lab captures it: build/demo/ then holds the sequence
# diagram (session.html, session.svg), the capture (session.pcap) and
# Wireshark's key files (wireshark-keys/), which tshark checks.
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

from . import build_mpy, trace, wskeys

HEAP = os.environ.get("DEMO_HEAP", "160k")
OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                   "build", "demo")
TRACE_RING = 256  # records the device keeps (IKE and ESP, each)


RECORD = re.compile(r"^seq=\d+ (temp=-?\d+\.\d )?mem=\d+$")


def write_device_files(lab, a, extra=None):
    # config.json and secrets.json as provisioning writes them for a device
    cfg = {"gateway": lab.gateway_ip, "local_id": lab.device_id,
           "remote_id": lab.gateway_id, "ike": a.ike, "esp": a.esp,
           "remote_ts": ["198.51.100.0/24"],
           "telemetry": "%s:%d" % (lab.cloud_ip, lab.collector_port),
           "check_ping": lab.cloud_ip, "count": a.count, "interval": a.interval}
    cfg.update(extra or {})
    cfg_path = os.path.join(lab.state_dir, "config.json")
    sec_path = os.path.join(lab.state_dir, "secrets.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=1)
    with open(os.open(sec_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        json.dump({"psk": lab.psk}, f)
    return cfg_path, sec_path


def run_app(lab, dest, cfg_path, sec_path, heap=HEAP, timeout=300):
    exe = os.path.join(os.path.dirname(sys.executable), "micropython")
    return lab.run(lab.ns_device, "env", "MICROPYPATH=" + dest, exe,
                   "-X", "heapsize=" + heap, "-m", "app", cfg_path, sec_path,
                   timeout=timeout)


def outputs(folder):
    # the demo's files; the trace file will hold keys: private from the start
    os.makedirs(folder, exist_ok=True)
    f = {"json": "session.json", "html": "session.html", "svg": "session.svg",
         "pcap": "session.pcap", "keys": "wireshark-keys"}
    f = dict((k, os.path.join(os.path.abspath(folder), v)) for k, v in f.items())
    os.close(os.open(f["json"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    os.chmod(f["json"], 0o600)
    return f


def trace_outputs(f):
    # the diagram and the key files from the device's trace, and what
    # tshark makes of the capture with those keys
    try:
        data = trace.load(f["json"])
    except trace.TraceError as e:
        sys.exit("demo: the device's trace: %s" % e)
    with open(f["html"], "w") as out:
        out.write(trace.render_html(data, title="make demo: the device's session"))
    with open(f["svg"], "w") as out:
        out.write(trace.render_svg(data))
    wskeys.write(data, f["keys"])
    return {"records": len(data["records"]), "tshark": check_capture(f)}


def check_capture(f):
    # tshark decrypts the ESP packets of the capture with the device's keys
    if not shutil.which("tshark"):
        return "not installed (apt-get install tshark): not checked"
    r = subprocess.run(["tshark", "-r", f["pcap"], "-n", "-T", "fields",
                        "-e", "esp.icv_good", "-e", "ip.proto",
                        "-e", "isakmp.id.data.fqdn"],
                       capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, WIRESHARK_CONFIG_DIR=f["keys"]))
    if r.returncode:
        return "failed: %s" % r.stderr.strip()[-200:]
    rows = [ln.split("\t") for ln in r.stdout.splitlines()]
    esp = [x for x in rows if x[0]]
    good = [x for x in esp if x[0] == "1" and "," in x[1]]  # ESP, then inner
    ids = [x for x in rows if x[2]]
    return ("with the exported keys: %d of %d ESP packets decrypted with a "
            "good ICV, %d IKE messages show their IDs"
            % (len(good), len(esp), len(ids)))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="ikev2-demo")
    ap.add_argument("-n", "--count", type=int, default=20, help="telemetry datagrams")
    ap.add_argument("--ike", default="aes128-sha256-x25519")
    ap.add_argument("--esp", default="aes128-sha256")
    ap.add_argument("--interval", type=float, default=0.2,
                    help="seconds between readings")
    ap.add_argument("--out", default=OUT,
                    help="where the trace, the capture and the keys go "
                    "(default build/demo)")
    a = ap.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("demo: needs root (network namespaces); run as root")
    from .lab import Lab, LabError

    dest, errors = build_mpy.build(quiet=True)
    if errors:
        sys.exit("demo: mpy-cross failed: %s" % errors)
    try:
        with Lab(pool="10.99.0.0/24", dns="198.51.100.53") as lab:
            files = outputs(a.out)
            cfg_path, sec_path = write_device_files(lab, a, {
                "trace": TRACE_RING, "trace_file": files["json"],
                "export_keys": True})
            print("demo: the device application (firmware/app.py) on MicroPython,"
                  " heap %s, library as .mpy" % HEAP, flush=True)
            cap = lab.capture_session(files["pcap"])
            r = run_app(lab, dest, cfg_path, sec_path)
            cap.stop()
            sys.stderr.write(r.stderr)
            if r.returncode:
                sys.stderr.write(r.stdout)
            lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
            if r.returncode or not lines:
                sys.exit("demo: the device application failed (exit %d)" % r.returncode)
            d = lines[-1]
            recs = [x for x in lab.collector_records()
                    if x.get("payload", "").startswith("seq=")]
            got = [x["payload"] for x in recs]
            seqs = [int(p.split()[0][4:]) for p in got]
            srcs = set(x["src"] for x in recs)
            ver = subprocess.run(["dpkg-query", "-W", "-f", "${Version}",
                                  "strongswan-charon"], capture_output=True,
                                 text=True).stdout.strip()
    except LabError as e:
        sys.exit("demo: the lab failed: %s" % e)
    seen = trace_outputs(files)
    # at least once delivery: every record arrived, a repeat (a lost ACK)
    # is allowed and removed by sequence number
    complete = sorted(set(seqs)) == list(range(1, a.count + 1))
    well_formed = all(RECORD.match(p) for p in got)
    ok = complete and well_formed and srcs == {d["virtual_ip"]}
    print()
    print("demo summary")
    print("  gateway            strongSwan %s, charon with kernel-libipsec, PSK" % ver)
    print("  IKE SA             %s  SPIs %s / %s" % (d["ike"], d["ike_spi_i"], d["ike_spi_r"]))
    print("  Child SA           %s  SPIs in %s / out %s" % (d["esp"], d["esp_spi_in"], d["esp_spi_out"]))
    print("  handshake          %d ms (IKE_SA_INIT + IKE_AUTH, %d IKE bytes)"
          % (d["handshake_ms"], d["ike_bytes"]))
    print("  virtual IP         %s" % d["virtual_ip"])
    print("  pings              %s ms (the first one triggered the tunnel)"
          % ", ".join("lost" if p is None else str(p) for p in d["pings"]))
    print("  telemetry          %d records, %d acknowledged, %d received by the "
          "collector (%d repeats), %s"
          % (d["records"], d["acked"], len(got), len(got) - len(set(seqs)),
             "all present" if complete and well_formed else "MISSING OR MALFORMED"))
    print("  first record       %s" % (got[0] if got else "-"))
    print("  packets            %d sent, %d received through ESP" % (d["packets_sent"], d["packets_received"]))
    print("  heap peak          %d bytes of a %s cap (MicroPython unix port, "
          "sampled; the trace ring on)" % (d["heap_peak"], HEAP))
    print("  trace              %s records: %s" % (seen["records"], files["html"]))
    print("                     %s (for the README)" % files["svg"])
    print("  capture            %s" % files["pcap"])
    print("  Wireshark keys     %s  (WIRESHARK_CONFIG_DIR=... tshark -r "
          "session.pcap)" % files["keys"])
    print("  tshark             %s" % seen["tshark"])
    print("  " + wskeys.WARNING % files["keys"])
    print("  result             %s" % ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
