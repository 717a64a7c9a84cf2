# The payloads a PSK initiator never sends, decoded when a gateway sends
# them (payloads.py loads this module then): CERT and CERTREQ (RFC 7296
# 3.6, 3.7) and Vendor ID (3.12); and the Config's private key (Key).
from . import const as C
from .payloads import _Data, _Fixed


# ---------------------------------------------------------------- CERT / CERTREQ
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# | Cert Encoding |                                               |
# +-+-+-+-+-+-+-+-+                                               |
# ~          Certificate Data / Certification Authority           ~
class _Cert(_Fixed):
    # Cert/CertReq(encoding, data)
    _FMT = ">B"
    _ATTR = "encoding"
    _WHAT = "CERT"


class Cert(_Cert):
    TYPE = C.PT_CERT


class CertReq(_Cert):
    TYPE = C.PT_CERTREQ


# ---------------------------------------------------------------- Vendor ID
# ~                        Vendor ID (VID)                        ~
class VendorID(_Data):
    TYPE = C.PT_VENDOR


CLASSES = {C.PT_CERT: Cert, C.PT_CERTREQ: CertReq, C.PT_VENDOR: VendorID}


class Key:
    # the device's private key, its numbers copied out of x509.PrivateKey:
    # an instance of that class would keep the whole x509 module in RAM (its
    # methods hold the module's globals) for the life of the Config; this
    # one keeps rare.py, which IKE_AUTH with certificates loads anyway
    def __init__(self, k):
        for a in ("key_type", "key_bits", "public_key", "d", "n", "e", "p",
                  "q", "dp", "dq", "qinv"):
            setattr(self, a, getattr(k, a, None))

    def __repr__(self):
        return "<Key %s %s-bit>" % (self.key_type, self.key_bits)  # no secrets
