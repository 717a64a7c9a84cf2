# The payloads a PSK initiator never sends, decoded when a gateway sends
# them (payloads.py loads this module then): CERT and CERTREQ (RFC 7296
# 3.6, 3.7) and Vendor ID (3.12).
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
