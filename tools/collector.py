# The lab's UDP telemetry collector, run inside the cloud namespace:
#   python tools/collector.py --port P --out FILE
# Binds 0.0.0.0:P, appends one JSON line per datagram to FILE (flushed at
# once), and answers every datagram with b"ACK " + payload[:64] so that a
# client's recvfrom can be tested.  Prints "ready <port>" on stdout once
# bound.  SIGTERM or SIGINT stops it cleanly.
import argparse
import json
import os
import signal
import socket
import sys
import time


class _Stop(Exception):
    pass


def _stop(signum, frame):
    raise _Stop()


def record(data, addr, now):
    rec = {"time": now, "src": addr[0], "sport": addr[1],
           "source": "%s:%d" % (addr[0], addr[1]), "len": len(data)}
    try:
        rec["payload"] = data.decode("utf-8")
        rec["encoding"] = "text"
    except UnicodeDecodeError:
        rec["payload"] = data.hex()
        rec["encoding"] = "hex"
    return rec


def serve(port, out, bind="0.0.0.0", ack=True):
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((bind, port))
    n = 0
    with open(out, "a", encoding="utf-8") as f:
        sys.stdout.write("ready %d\n" % sock.getsockname()[1])
        sys.stdout.flush()
        try:
            while True:
                data, addr = sock.recvfrom(65535)
                f.write(json.dumps(record(data, addr, time.time())) + "\n")
                f.flush()
                n += 1
                if ack:
                    try:
                        sock.sendto(b"ACK " + data[:64], addr)
                    except OSError as e:
                        sys.stderr.write("collector: ack to %s failed: %s\n" % (addr, e))
        except _Stop:
            pass
        finally:
            sock.close()
    return n


def main(argv=None):
    ap = argparse.ArgumentParser(description="UDP telemetry collector for the lab")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True, help="JSON-lines file to append to")
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--no-ack", action="store_true", help="do not answer datagrams")
    a = ap.parse_args(argv)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    n = serve(a.port, a.out, a.bind, not a.no_ack)
    sys.stderr.write("collector: stopped after %d datagram(s)\n" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
