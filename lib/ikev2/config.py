# The client configuration: a dict (from JSON on the host, from a file or
# frozen constants on the device) checked once, with a clear ConfigError
# naming the key for anything unknown or malformed.  The checking code is
# in configcheck.py, loaded for the check only.
from . import _forget
from . import const as C


class Config:
    def __init__(self, d):
        from .configcheck import check

        try:
            check(self, d)
        finally:
            _forget("ikev2.configcheck")

    def groups(self):
        # DH groups allowed for the IKE SA, first proposal's first first
        out = []
        for o in self.ike_offers:
            for g, _ in o.t[C.TRANS_DH]:
                if g not in out:
                    out.append(g)
        return out

