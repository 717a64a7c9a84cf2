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


class Key:
    # the device's private key, its numbers copied out of x509.PrivateKey:
    # an instance of that class would keep the whole x509 module in RAM
    # (its methods hold the module's globals) for the life of the Config
    def __init__(self, k):
        for a in ("key_type", "key_bits", "public_key", "d", "n", "e", "p",
                  "q", "dp", "dq", "qinv"):
            setattr(self, a, getattr(k, a, None))

    def __repr__(self):
        return "<Key %s %s-bit>" % (self.key_type, self.key_bits)  # no secrets
