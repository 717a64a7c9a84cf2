# The commands of `ikev2c`, in the MicroPython subset so that the very same
# code runs under CPython (imported by cli.py) and under the MicroPython
# unix port (run as a script by `ikev2c --runtime micropython`):
#
#   micropython ikev2c_run.py CONFIG.json up
#   micropython ikev2c_run.py CONFIG.json ping ADDR COUNT
#   micropython ikev2c_run.py CONFIG.json send HOST:PORT TEXT
#   micropython ikev2c_run.py CONFIG.json demo ADDR HOST:PORT COUNT
#   micropython ikev2c_run.py CONFIG.json soak HOST:PORT SECONDS [INTERVAL_MS]
#
# Results go to stdout as JSON lines; progress to stderr; an error is one
# line "ikev2c: error: ..." on stderr with exit status 1 (2 for a bad
# configuration or usage).
import json
import sys

try:
    import gc

    _alloc = gc.mem_alloc
except (ImportError, AttributeError):  # CPython
    _alloc = None

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2


def emit(d):
    print(json.dumps(d))


def log(msg):
    sys.stderr.write("ikev2c: %s\n" % msg)


def _hostport(s):
    host, _, port = s.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("expected HOST:PORT, got %r" % s)
    return host, int(port)


class HeapWatch:
    # the heap high-water mark, sampled after every loop step (MicroPython)
    def __init__(self, client):
        self.peak = _alloc() if _alloc else 0
        self.client = client
        step = client.step

        def watched(max_ms):
            step(max_ms)
            if _alloc:
                a = _alloc()
                if a > self.peak:
                    self.peak = a

        client.step = watched


def cmd_up(c, args):
    info = c.up()
    emit(info)
    return EXIT_OK


def cmd_ping(c, args):
    addr = args[0]
    count = int(args[1]) if len(args) > 1 else 1
    got = 0
    for i in range(count):
        rtt = c.ping(addr)
        if rtt is None:
            log("ping %s: seq %d lost" % (addr, i + 1))
        else:
            got += 1
            log("ping %s: seq %d time %d ms" % (addr, i + 1, rtt))
        emit({"ping": addr, "seq": i + 1, "rtt_ms": rtt})
        if i + 1 < count:
            c.run(1000 - (rtt or 0) if rtt is not None and rtt < 1000 else 0)
    emit({"ping": addr, "sent": count, "received": got, "drops": drops(c)})
    return EXIT_OK if got else EXIT_FAIL


DROPS = ("ike_dropped", "esp_rx_bad_icv", "esp_rx_replay", "esp_rx_malformed",
         "esp_unknown_spi", "policy_drops", "inner_dropped")


def drops(c):
    # what the client refused and counted (forged, replayed, malformed)
    d = c.stats()
    return dict((k, d.get(k, 0)) for k in DROPS)


def cmd_send(c, args):
    host, port = _hostport(args[0])
    text = " ".join(args[1:]).encode()
    if not c.sendto(text, (host, port)):
        raise RuntimeError("the datagram could not be sent")
    reply = c.recvfrom(2000)
    emit({"sent": len(text), "to": "%s:%d" % (host, port),
          "reply": reply[0].decode() if reply else None})
    return EXIT_OK


def cmd_demo(c, args):
    # a first ping brings the tunnel up; then COUNT telemetry datagrams,
    # each answered by the collector
    addr = args[0]
    host, port = _hostport(args[1])
    count = int(args[2])
    w = HeapWatch(c)
    rtts = [c.ping(addr) for _ in range(3)]
    acks = 0
    for seq in range(1, count + 1):
        rec = "seq=%d temp=%d.%d" % (seq, 20 + seq % 7, seq % 10)
        c.sendto(rec.encode(), (host, port))
        r = c.recvfrom(2000)
        if r and r[0] == b"ACK " + rec.encode():
            acks += 1
    d = c.stats()
    d.update({"pings": rtts, "telemetry_sent": count, "telemetry_acked": acks,
              "heap_peak": w.peak})
    emit(d)
    return EXIT_OK if acks == count and rtts[0] is not None else EXIT_FAIL


def cmd_soak(c, args):
    # in its own module: loaded for this command only (RAM on MicroPython)
    import ikev2c_soak

    return ikev2c_soak.cmd_soak(c, args, sys.modules[__name__])


COMMANDS = {"up": (cmd_up, 0), "ping": (cmd_ping, 1), "send": (cmd_send, 2),
            "demo": (cmd_demo, 3), "soak": (cmd_soak, 2)}


def run(cfg, cmd, args, log_progress=True, trace=None):
    # -> exit status; never lets an exception escape as a traceback.
    # trace: an ikev2.trace.Trace to record the session (ikev2c_trace.py)
    from ikev2.client import Client
    from ikev2.errors import ConfigError, IKEError

    if cmd not in COMMANDS or len(args) < COMMANDS[cmd][1]:
        log("error: usage: up | ping ADDR [COUNT] | send HOST:PORT TEXT | "
            "soak HOST:PORT SECONDS [INTERVAL_MS]")
        return EXIT_USAGE
    try:
        if isinstance(cfg, str):  # a file's name: the dict lives in this frame only
            cfg = _load(cfg)
            if cfg is None:
                return EXIT_USAGE
        c = Client(cfg, log=log if log_progress else None, trace=trace)
        cfg = None  # the Config holds what it needs: free the JSON's dict
    except ConfigError as e:
        log("error: config: %s" % e)
        return EXIT_USAGE
    except IKEError as e:
        log("error: %s" % e)
        return EXIT_FAIL
    try:
        return COMMANDS[cmd][0](c, args)
    except IKEError as e:
        log("error: %s" % e)
        return EXIT_FAIL
    except (ValueError, RuntimeError) as e:
        log("error: %s" % e)
        return EXIT_USAGE if isinstance(e, ValueError) else EXIT_FAIL
    except MemoryError:
        log("error: out of memory (the heap cap is too small for this run)")
        return EXIT_FAIL
    finally:
        c.close()


def main(argv):
    if len(argv) < 3:
        log("error: usage: ikev2c_run.py CONFIG.json up|ping|send|demo ...")
        return EXIT_USAGE
    return run(argv[1], argv[2], argv[3:])


def _load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        log("error: config %s: %s" % (path, e))
        return None


if __name__ == "__main__":
    sys.exit(main(sys.argv))
