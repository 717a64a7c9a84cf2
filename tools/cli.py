# ikev2c: the host command line client.
#
#   ikev2c --config FILE.json [--runtime cpython|micropython] up
#   ikev2c --config FILE.json ping ADDR [-c N]
#   ikev2c --config FILE.json send HOST:PORT TEXT
#
# --runtime micropython runs the very same library, as .mpy, under the
# MicroPython unix port with an ESP32-sized heap.  Exit 0 on success; on
# failure a one-line error and a non-zero status (1: the tunnel or the
# peer failed, 2: bad configuration or usage).
import argparse
import json
import os
import subprocess
import sys

from . import LIB, build_mpy



def parser():
    ap = argparse.ArgumentParser(prog="ikev2c", description="IKEv2 client: "
                                 "bring up a tunnel, ping or send through it.")
    ap.add_argument("--config", required=True, metavar="FILE.json",
                    help="client configuration (see README)")
    ap.add_argument("--runtime", choices=("cpython", "micropython"),
                    default="cpython", help="which runtime runs the library")
    ap.add_argument("--heap", default="110k",
                    help="MicroPython heap cap (default 110k, an ESP32's)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("up", help="bring the tunnel up, print its details, close it")
    p = sub.add_parser("ping", help="ICMP echo through the tunnel")
    p.add_argument("addr")
    p.add_argument("-c", "--count", type=int, default=1)
    s = sub.add_parser("send", help="one UDP datagram through the tunnel")
    s.add_argument("hostport", metavar="HOST:PORT")
    s.add_argument("text", nargs="+")
    k = sub.add_parser("soak", help="store-and-forward telemetry for a while, "
                       "with a report of rekeys, records and heap")
    k.add_argument("hostport", metavar="HOST:PORT")
    k.add_argument("seconds", type=int)
    k.add_argument("--interval", type=int, default=500,
                   help="milliseconds between readings (default 500)")
    return ap


def argv_for(a):
    if a.cmd == "ping":
        if a.count < 1:
            raise SystemExit("ikev2c: error: -c must be at least 1")
        return ["ping", a.addr, str(a.count)]
    if a.cmd == "send":
        return ["send", a.hostport] + a.text
    if a.cmd == "soak":
        if a.seconds < 1 or a.interval < 10:
            raise SystemExit("ikev2c: error: soak needs SECONDS >= 1 and "
                             "--interval >= 10")
        return ["soak", a.hostport, str(a.seconds), str(a.interval)]
    return [a.cmd]


def run_micropython(config, args, heap):
    dest, errors = build_mpy.build(quiet=True)
    if errors:
        sys.exit("ikev2c: error: mpy-cross failed: %s" % errors[0][1])
    exe = os.path.join(os.path.dirname(sys.executable), "micropython")
    env = dict(os.environ, MICROPYPATH=dest)
    return subprocess.call([exe, "-X", "heapsize=" + heap, "-m", "ikev2c_run",
                            config] + args, env=env)


def main(argv=None):
    a = parser().parse_args(argv)
    args = argv_for(a)
    if a.runtime == "micropython":
        return run_micropython(a.config, args, a.heap)
    sys.path.insert(0, LIB)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # ikev2c_soak
    from . import ikev2c_run

    try:
        with open(a.config) as f:
            cfg = json.load(f)
    except (OSError, ValueError) as e:
        sys.stderr.write("ikev2c: error: config %s: %s\n" % (a.config, e))
        return 2
    return ikev2c_run.run(cfg, args[0], args[1:])


if __name__ == "__main__":
    sys.exit(main())
