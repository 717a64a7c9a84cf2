# ikev2c: the host command line client.
#
#   ikev2c --config FILE.json [--runtime cpython|micropython] up
#   ikev2c --config FILE.json ping ADDR [-c N]
#   ikev2c --config FILE.json send HOST:PORT TEXT
#
# --runtime micropython runs the very same library, as .mpy, under the
# MicroPython unix port with an ESP32-sized heap.
#
# --trace FILE.html records the session (ikev2.trace) and draws it as a
# sequence diagram; the trace itself goes to FILE.json (`ikev2-trace
# render` draws it again).  --export-keys DIR writes Wireshark's
# decryption tables for the session into DIR (sensitive: opt-in, 0600).  Exit 0 on success; on
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
    ap.add_argument("--heap", default="144k",
                    help="MicroPython heap cap (default 144k: the client with "
                         "its code as .mpy in the heap of this 64-bit port, "
                         "rekeys included)")
    ap.add_argument("--trace", metavar="FILE.html",
                    help="record the session: a sequence diagram in "
                    "FILE.html, the trace in FILE.json")
    ap.add_argument("--export-keys", metavar="DIR",
                    help="write Wireshark's decryption tables for this "
                    "session into DIR (SENSITIVE: they decrypt the tunnel)")
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


def run_micropython(config, args, heap, opts=()):
    dest, errors = build_mpy.build(quiet=True)
    if errors:
        sys.exit("ikev2c: error: mpy-cross failed: %s" % errors[0][1])
    exe = os.path.join(os.path.dirname(sys.executable), "micropython")
    env = dict(os.environ, MICROPYPATH=dest)
    mod = "ikev2c_trace" if opts else "ikev2c_run"
    return subprocess.call([exe, "-X", "heapsize=" + heap, "-m", mod]
                           + list(opts) + [config] + args, env=env)


def trace_paths(a):
    # -> (the trace's JSON file or None, the HTML file or None)
    if a.trace:
        stem, ext = os.path.splitext(a.trace)
        if ext.lower() not in (".html", ".htm"):
            raise SystemExit("ikev2c: error: --trace wants FILE.html, got %r"
                             % a.trace)
        return stem + ".json", a.trace
    if a.export_keys:
        return os.path.join(a.export_keys, "trace.json"), None
    return None, None


def start_trace(a, path):
    # the trace file exists before the run: private when it will hold keys
    d = os.path.dirname(os.path.abspath(path))
    try:
        if a.export_keys:
            os.makedirs(a.export_keys, mode=0o700, exist_ok=True)
        os.makedirs(d, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                     0o600 if a.export_keys else 0o644)
        if a.export_keys:
            os.fchmod(fd, 0o600)
        os.close(fd)
    except OSError as e:
        raise SystemExit("ikev2c: error: cannot write %s: %s" % (path, e))


def finish_trace(a, path, html):
    # the diagram and the key files from the recorded trace
    from . import trace, wskeys

    if os.path.exists(path) and os.path.getsize(path) == 0:
        os.remove(path)  # the run ended before a session existed
        sys.stderr.write("ikev2c: no trace: the run ended before the "
                         "session started\n")
        return False
    try:
        data = trace.load(path)
        if html:
            with open(html, "w") as f:
                f.write(trace.render_html(data))
            sys.stderr.write("ikev2c: trace: %s (sequence diagram), %s\n"
                             % (html, path))
        if a.export_keys:
            files = wskeys.write(data, a.export_keys)
            sys.stderr.write("ikev2c: Wireshark keys: %s\n" % ", ".join(files))
            sys.stderr.write("ikev2c: " + wskeys.WARNING % a.export_keys + "\n")
    except (OSError, trace.TraceError, wskeys.KeyExportError) as e:
        sys.stderr.write("ikev2c: error: trace: %s\n" % e)
        return False
    return True


def secret_files(path):
    # -> [(file, what)]: the files that hold the secrets of the config at
    # path: the config itself (a psk, or a private key's PEM text in it)
    # and a private key file it names.  A config that cannot be read is
    # reported by the run, not here.
    try:
        with open(path) as f:
            cfg = json.load(f)
    except (OSError, ValueError):
        return []
    if not isinstance(cfg, dict):
        return []
    here = ["a PSK"] if cfg.get("psk") else []
    out = []
    key = cfg.get("private_key")
    if isinstance(key, str) and key:
        if "-----BEGIN" in key:
            here.append("a private key")
        else:
            out.append((key, "a private key"))
    if here:
        out.insert(0, (path, " and ".join(here)))
    return out


def warn_readable_secrets(path, err=None):
    # one line on stderr per secret-holding file that group or others can
    # read; -> the number of warnings
    err = err or sys.stderr
    n = 0
    for name, what in secret_files(path):
        try:
            mode = os.stat(name).st_mode & 0o777
        except OSError:
            continue  # a missing key file: the config check says so
        if mode & 0o044:
            err.write("ikev2c: warning: %s holds %s and is readable by "
                      "others (mode %04o): chmod 600 %s\n"
                      % (name, what, mode, name))
            n += 1
    return n


def main(argv=None):
    a = parser().parse_args(argv)
    args = argv_for(a)
    if os.name == "posix":
        warn_readable_secrets(a.config)
    path, html = trace_paths(a)
    if path:
        start_trace(a, path)
    rc = run(a, args, path)
    if path and not finish_trace(a, path, html) and rc == 0:
        rc = 1
    return rc


def run(a, args, trace_path):
    if a.runtime == "micropython":
        opts = []
        if trace_path:
            opts = [trace_path] + (["--keys"] if a.export_keys else [])
        return run_micropython(a.config, args, a.heap, opts)
    sys.path.insert(0, LIB)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # ikev2c_soak
    from . import ikev2c_run

    try:
        with open(a.config) as f:
            cfg = json.load(f)
    except (OSError, ValueError) as e:
        sys.stderr.write("ikev2c: error: config %s: %s\n" % (a.config, e))
        return 2
    if trace_path:
        from . import ikev2c_trace

        return ikev2c_trace.run(cfg, args[0], args[1:], trace_path,
                                bool(a.export_keys))
    return ikev2c_run.run(cfg, args[0], args[1:])


if __name__ == "__main__":
    sys.exit(main())
