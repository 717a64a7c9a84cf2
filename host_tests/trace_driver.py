# Runs `ikev2c` (the CLI's main, on CPython, in this process) and, at the
# end, writes the session's secrets to a side file: what the secrets test
# (test_trace_lab.py) searches the trace, the diagram and the logs for.
#
#   python trace_driver.py SECRETS.json ikev2c-arguments...
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "lib"), ROOT]

from ikev2 import client  # noqa: E402
from tools import cli  # noqa: E402

found = {}
_close = client.Client.close


def close(self, *a, **kw):
    # the session's secrets, before the close (which leaves them in place)
    s = self.session
    k = s.keys
    vals = {"psk": s.cfg.psk_bytes, "ni": s.ni, "nr": s.nr}
    if k is not None:
        for n in ("sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr"):
            vals[n] = getattr(k, n)
    ch = s.child
    if ch is not None:
        for n in ("k_in", "k_out", "a_in", "a_out", "salt_in", "salt_out"):
            vals[n] = getattr(ch, n, None)
    for n, v in vals.items():
        if v and len(v) >= 8:  # a salt of 4 bytes would match by chance
            found[n] = bytes(v).hex()
    return _close(self, *a, **kw)


client.Client.close = close
rc = cli.main(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    json.dump(found, f)
sys.exit(rc)
