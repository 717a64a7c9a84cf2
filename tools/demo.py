# make demo: the seed scenario end to end.
#   1. the gateway lab: strongSwan (PSK, a virtual-IP pool) in a network
#      namespace, a device namespace, and a cloud host running the
#      telemetry collector;
#   2. the device client on the MicroPython unix port, loading the library
#      as .mpy with an ESP32-sized heap: a first ping brings the tunnel up
#      (IKE_SA_INIT, IKE_AUTH, the Child SA) and gets its replies, then N
#      telemetry datagrams travel inside ESP to the collector;
#   3. the collector's records are checked (count and content), a summary
#      is printed, and everything is torn down.
import argparse
import json
import os
import subprocess
import sys

from . import build_mpy

HEAP = os.environ.get("DEMO_HEAP", "110k")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="ikev2-demo")
    ap.add_argument("-n", "--count", type=int, default=20, help="telemetry datagrams")
    ap.add_argument("--ike", default="aes128-sha256-x25519")
    ap.add_argument("--esp", default="aes128-sha256")
    a = ap.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("demo: needs root (network namespaces); run as root")
    from .lab import Lab, LabError

    dest, errors = build_mpy.build(quiet=True)
    if errors:
        sys.exit("demo: mpy-cross failed: %s" % errors)
    try:
        with Lab(pool="10.99.0.0/24", dns="198.51.100.53") as lab:
            cfg = {"gateway": lab.gateway_ip, "local_id": lab.device_id,
                   "remote_id": lab.gateway_id, "psk": lab.psk, "ike": a.ike,
                   "esp": a.esp, "remote_ts": ["198.51.100.0/24"]}
            path = os.path.join(lab.state_dir, "device.json")
            with open(path, "w") as f:
                json.dump(cfg, f, indent=1)
            print("demo: device client on MicroPython (heap %s, library as .mpy)"
                  % HEAP, flush=True)
            exe = os.path.join(os.path.dirname(sys.executable), "micropython")
            r = lab.run(lab.ns_device, "env", "MICROPYPATH=" + dest, exe,
                        "-X", "heapsize=" + HEAP, "-m", "ikev2c_run", path, "demo",
                        lab.cloud_ip, "%s:%d" % (lab.cloud_ip, lab.collector_port),
                        str(a.count), timeout=300)
            sys.stderr.write(r.stderr)
            if r.returncode:
                sys.stderr.write(r.stdout)
            lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
            if r.returncode or not lines:
                sys.exit("demo: the device client failed (exit %d)" % r.returncode)
            d = lines[-1]
            recs = [x for x in lab.collector_records()
                    if x.get("payload", "").startswith("seq=")]
            want = ["seq=%d temp=%d.%d" % (i, 20 + i % 7, i % 10)
                    for i in range(1, a.count + 1)]
            got = [x["payload"] for x in recs]
            srcs = set(x["src"] for x in recs)
            ver = subprocess.run(["dpkg-query", "-W", "-f", "${Version}",
                                  "strongswan-charon"], capture_output=True,
                                 text=True).stdout.strip()
    except LabError as e:
        sys.exit("demo: the lab failed: %s" % e)
    ok = got == want and srcs == {d["virtual_ip"]}
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
    print("  telemetry          %d sent, %d acknowledged, %d recorded by the collector, %s"
          % (d["telemetry_sent"], d["telemetry_acked"], len(got),
             "content and order match" if got == want else "MISMATCH"))
    print("  packets            %d sent, %d received through ESP" % (d["packets_sent"], d["packets_received"]))
    print("  heap peak          %d bytes of a %s cap (MicroPython unix port, sampled)"
          % (d["heap_peak"], HEAP))
    print("  result             %s" % ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
