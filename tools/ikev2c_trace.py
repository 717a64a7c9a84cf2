# `ikev2c --trace`: the commands of ikev2c_run.py with the session recorded
# (ikev2.trace), in a module of its own so that a run without a trace does
# not hold this code (RAM on MicroPython).  The same code runs under
# CPython (cli.py) and under the MicroPython unix port:
#
#   micropython ikev2c_trace.py TRACE.json [--keys] CONFIG.json COMMAND ...
#
# The trace is written to TRACE.json when the run ends, failed or not
# (not when the config is refused: there was no session); --keys adds the
# session keys to it, for Wireshark (sensitive).
import sys

import ikev2c_run


def run(cfg, cmd, args, path, keys=False):
    from ikev2.trace import Trace

    tr = Trace(keys=keys)
    rc = ikev2c_run.run(cfg, cmd, args, trace=tr)  # it never raises
    if tr.meta:  # else no client was made (a bad config): no trace
        try:
            with open(path, "w") as f:
                tr.dump(f)
        except OSError as e:
            ikev2c_run.log("error: cannot write the trace %s: %s" % (path, e))
    return rc


def main(argv):
    keys = len(argv) > 2 and argv[2] == "--keys"
    rest = argv[3 if keys else 2:]
    if len(argv) < 2 or len(rest) < 2:
        ikev2c_run.log("error: usage: ikev2c_trace.py TRACE.json [--keys] "
                       "CONFIG.json up|ping|send|demo ...")
        return ikev2c_run.EXIT_USAGE
    return run(rest[0], rest[1], rest[2:], argv[1], keys)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
