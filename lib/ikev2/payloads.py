# IKEv2 payload bodies (RFC 7296 section 3, RFC 7383 section 2.5).
#
# One class per payload.  Each has TYPE (the payload type number),
# encode() -> body bytes (without the 4-byte generic header) and a
# decode(body) classmethod.  The generic header loop lives in message.py.
# Every length is checked here; anything malformed raises DecodeError.
from struct import pack, unpack_from
from .errors import DecodeError
from . import const as C


def _need(body, n, what):
    if len(body) < n:
        raise DecodeError("%s: %d bytes, need %d" % (what, len(body), n))


class Payload:
    TYPE = 0

    def __eq__(self, other):
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self.__dict__)


class _Data(Payload):
    # A payload whose body is just opaque data (Vendor ID, and the base of
    # Nonce).
    def __init__(self, data):
        self.data = bytes(data)

    def encode(self):
        return self.data

    @classmethod
    def decode(cls, body):
        return cls(body)


# ---------------------------------------------------------------- SA
#  Proposal substructure:
#  0                   1                   2                   3
#  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# | Last Substruc |   RESERVED    |         Proposal Length       |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# | Proposal Num  |  Protocol ID  |    SPI Size   |Num  Transforms|
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# ~                        SPI (variable)                         ~
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# ~                        <Transforms>                           ~
#
#  Transform substructure:
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# | Last Substruc |   RESERVED    |        Transform Length       |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |Transform Type |   RESERVED    |          Transform ID         |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# ~                      Transform Attributes                     ~
#
#  Transform attribute (AF=1: 2-byte value inline, AF=0: TLV):
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |A|       Attribute Type        |    AF=0  Attribute Length     |
# |F|                             |    AF=1  Attribute Value      |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |                   AF=0  Attribute Value                       |
# |                   AF=1  Not Transmitted                       |
class Transform:
    # attrs: list of (type, value); an int value is sent in TV form (AF=1),
    # a bytes value in TLV form.
    def __init__(self, ttype, tid, attrs=None):
        self.ttype = ttype
        self.tid = tid
        self.attrs = list(attrs) if attrs else []

    def keylen(self):
        for t, v in self.attrs:
            if t == C.ATTR_KEY_LENGTH:
                return v
        return None

    def __eq__(self, o):
        return type(self) is type(o) and self.__dict__ == o.__dict__

    def __ne__(self, o):
        return not self.__eq__(o)

    def __repr__(self):
        return "Transform(%d, %d, %r)" % (self.ttype, self.tid, self.attrs)

    def encode(self, last):
        a = bytearray()
        for t, v in self.attrs:
            if isinstance(v, int):
                if not 0 <= v <= 0xFFFF or not 0 <= t <= 0x7FFF:
                    raise ValueError("transform attribute out of range")
                a += pack(">HH", 0x8000 | t, v)
            else:
                if len(v) > 0xFFFF or not 0 <= t <= 0x7FFF:
                    raise ValueError("transform attribute out of range")
                a += pack(">HH", t, len(v))
                a += v
        return pack(">BBHBBH", 0 if last else 3, 0, 8 + len(a),
                    self.ttype, 0, self.tid) + a

    @staticmethod
    def decode(buf, off, end):
        # returns (transform, more, next_offset)
        if end - off < 8:
            raise DecodeError("SA: truncated transform")
        last, _, tlen, ttype, _, tid = unpack_from(">BBHBBH", buf, off)
        if last not in (0, 3):
            raise DecodeError("SA: bad transform substructure type %d" % last)
        if tlen < 8 or off + tlen > end:
            raise DecodeError("SA: bad transform length %d" % tlen)
        attrs = []
        p = off + 8
        tend = off + tlen
        while p < tend:
            if tend - p < 4:
                raise DecodeError("SA: truncated transform attribute")
            at, av = unpack_from(">HH", buf, p)
            p += 4
            if at & 0x8000:
                attrs.append((at & 0x7FFF, av))
            else:
                if p + av > tend:
                    raise DecodeError("SA: bad transform attribute length")
                attrs.append((at, bytes(buf[p:p + av])))
                p += av
        return Transform(ttype, tid, attrs), last == 3, tend


class Proposal:
    def __init__(self, num, protocol, transforms, spi=b""):
        self.num = num
        self.protocol = protocol
        self.spi = bytes(spi)
        self.transforms = list(transforms)

    def __eq__(self, o):
        return type(self) is type(o) and self.__dict__ == o.__dict__

    def __ne__(self, o):
        return not self.__eq__(o)

    def __repr__(self):
        return "Proposal(%d, %d, %r, %r)" % (
            self.num, self.protocol, self.transforms, self.spi)

    def get(self, ttype):
        # all transforms of one type, in order
        return [t for t in self.transforms if t.ttype == ttype]

    def encode(self, last):
        n = len(self.transforms)
        if n > 255 or len(self.spi) > 255:
            raise ValueError("proposal too large")
        t = bytearray()
        for i in range(n):
            t += self.transforms[i].encode(i == n - 1)
        plen = 8 + len(self.spi) + len(t)
        if plen > 0xFFFF:
            raise ValueError("proposal too large")
        return (pack(">BBHBBBB", 0 if last else 2, 0, plen, self.num,
                     self.protocol, len(self.spi), n) + self.spi + t)


class SA(Payload):
    TYPE = C.PT_SA

    def __init__(self, proposals):
        self.proposals = list(proposals)

    def encode(self):
        out = bytearray()
        n = len(self.proposals)
        for i in range(n):
            out += self.proposals[i].encode(i == n - 1)
        return bytes(out)

    @classmethod
    def decode(cls, body):
        props = []
        off = 0
        end = len(body)
        more = True
        while more:
            if end - off < 8:
                raise DecodeError("SA: truncated proposal")
            last, _, plen, num, proto, spisz, ntr = unpack_from(
                ">BBHBBBB", body, off)
            if last not in (0, 2):
                raise DecodeError("SA: bad proposal substructure type %d" % last)
            if plen < 8 + spisz or off + plen > end:
                raise DecodeError("SA: bad proposal length %d" % plen)
            pend = off + plen
            spi = bytes(body[off + 8:off + 8 + spisz])
            p = off + 8 + spisz
            trs = []
            tmore = ntr > 0
            while tmore:
                tr, tmore, p = Transform.decode(body, p, pend)
                trs.append(tr)
            if len(trs) != ntr:
                raise DecodeError("SA: proposal says %d transforms, has %d"
                                  % (ntr, len(trs)))
            if p != pend:
                raise DecodeError("SA: trailing bytes in proposal")
            props.append(Proposal(num, proto, trs, spi))
            off = pend
            more = last == 2
        if off != end:
            raise DecodeError("SA: trailing bytes after last proposal")
        return cls(props)


# ---------------------------------------------------------------- KE
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |   Diffie-Hellman Group Num    |           RESERVED            |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# ~                       Key Exchange Data                       ~
class KE(Payload):
    TYPE = C.PT_KE

    def __init__(self, group, data):
        self.group = group
        self.data = bytes(data)

    def encode(self):
        return pack(">HH", self.group, 0) + self.data

    @classmethod
    def decode(cls, body):
        _need(body, 4, "KE")
        return cls(unpack_from(">H", body, 0)[0], body[4:])


# ---------------------------------------------------------------- IDi / IDr
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |   ID Type     |                 RESERVED                      |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# ~                   Identification Data                         ~
class _ID(Payload):
    def __init__(self, id_type, data):
        self.id_type = id_type
        self.data = bytes(data)

    def encode(self):
        # This body (ID Type | RESERVED | data) is also what the AUTH
        # computation MACs (RFC 7296 2.15, RestOfInitIDPayload).
        return bytes((self.id_type, 0, 0, 0)) + self.data

    @classmethod
    def decode(cls, body):
        _need(body, 4, "ID")
        return cls(body[0], body[4:])


class IDi(_ID):
    TYPE = C.PT_IDI


class IDr(_ID):
    TYPE = C.PT_IDR


# ---------------------------------------------------------------- CERT / CERTREQ
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# | Cert Encoding |                                               |
# +-+-+-+-+-+-+-+-+                                               |
# ~          Certificate Data / Certification Authority           ~
class _Cert(Payload):
    def __init__(self, encoding, data):
        self.encoding = encoding
        self.data = bytes(data)

    def encode(self):
        return bytes((self.encoding,)) + self.data

    @classmethod
    def decode(cls, body):
        _need(body, 1, "CERT")
        return cls(body[0], body[1:])


class Cert(_Cert):
    TYPE = C.PT_CERT


class CertReq(_Cert):
    TYPE = C.PT_CERTREQ


# ---------------------------------------------------------------- AUTH
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# | Auth Method   |                RESERVED                       |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# ~                      Authentication Data                      ~
class Auth(Payload):
    TYPE = C.PT_AUTH

    def __init__(self, method, data):
        self.method = method
        self.data = bytes(data)

    def encode(self):
        return bytes((self.method, 0, 0, 0)) + self.data

    @classmethod
    def decode(cls, body):
        _need(body, 4, "AUTH")
        return cls(body[0], body[4:])


# ---------------------------------------------------------------- Nonce
# ~                            Nonce Data                         ~
# RFC 7296 3.9: between 16 and 256 octets.
class Nonce(_Data):
    TYPE = C.PT_NONCE

    @classmethod
    def decode(cls, body):
        if not 16 <= len(body) <= 256:
            raise DecodeError("Nonce: %d bytes, must be 16..256" % len(body))
        return cls(body)


# ---------------------------------------------------------------- Notify
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |  Protocol ID  |   SPI Size    |      Notify Message Type      |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# ~                Security Parameter Index (SPI)                 ~
# ~                       Notification Data                       ~
class Notify(Payload):
    TYPE = C.PT_NOTIFY

    def __init__(self, ntype, data=b"", protocol=0, spi=b""):
        self.ntype = ntype
        self.data = bytes(data)
        self.protocol = protocol
        self.spi = bytes(spi)

    def is_error(self):
        return self.ntype < 16384

    def encode(self):
        if len(self.spi) > 255:
            raise ValueError("Notify: SPI too long")
        return (pack(">BBH", self.protocol, len(self.spi), self.ntype)
                + self.spi + self.data)

    @classmethod
    def decode(cls, body):
        _need(body, 4, "Notify")
        proto, spisz, ntype = unpack_from(">BBH", body, 0)
        _need(body, 4 + spisz, "Notify SPI")
        return cls(ntype, body[4 + spisz:], proto, body[4:4 + spisz])


# ---------------------------------------------------------------- Delete
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# | Protocol ID   |   SPI Size    |          Num of SPIs          |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# ~               Security Parameter Index(es) (SPI)              ~
class Delete(Payload):
    TYPE = C.PT_DELETE

    def __init__(self, protocol, spis=(), spi_size=None):
        self.protocol = protocol
        self.spis = [bytes(s) for s in spis]
        if spi_size is None:
            # IKE SA deletes carry no SPI; ESP/AH SPIs are 4 octets
            spi_size = 0 if protocol == C.PROTO_IKE else 4
        self.spi_size = spi_size

    def encode(self):
        for s in self.spis:
            if len(s) != self.spi_size:
                raise ValueError("Delete: SPI of wrong size")
        if len(self.spis) > 0xFFFF or self.spi_size > 255:
            raise ValueError("Delete: too many SPIs")
        return (pack(">BBH", self.protocol, self.spi_size, len(self.spis))
                + b"".join(self.spis))

    @classmethod
    def decode(cls, body):
        _need(body, 4, "Delete")
        proto, size, n = unpack_from(">BBH", body, 0)
        if len(body) != 4 + size * n:
            raise DecodeError("Delete: %d SPIs of %d bytes in %d bytes"
                              % (n, size, len(body) - 4))
        spis = [bytes(body[4 + i * size:4 + (i + 1) * size]) for i in range(n)]
        return cls(proto, spis, size)


# ---------------------------------------------------------------- Vendor ID
# ~                        Vendor ID (VID)                        ~
class VendorID(_Data):
    TYPE = C.PT_VENDOR


# ---------------------------------------------------------------- TSi / TSr
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# | Number of TSs |                 RESERVED                      |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# ~                       <Traffic Selectors>                     ~
#
# Traffic selector:
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |   TS Type     |IP Protocol ID*|       Selector Length         |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |           Start Port*         |           End Port*           |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# ~                         Starting Address*                     ~
# ~                         Ending Address*                       ~
class TrafficSelector:
    def __init__(self, start, end, proto=0, sport=0, eport=65535,
                 ts_type=C.TS_IPV4_ADDR_RANGE):
        self.ts_type = ts_type
        self.proto = proto
        self.sport = sport
        self.eport = eport
        self.start = bytes(start)
        self.end = bytes(end)

    def __eq__(self, o):
        return type(self) is type(o) and self.__dict__ == o.__dict__

    def __ne__(self, o):
        return not self.__eq__(o)

    def __repr__(self):
        return "TS(%d, %d, %d-%d, %s-%s)" % (
            self.ts_type, self.proto, self.sport, self.eport,
            self.start.hex(), self.end.hex())

    def encode(self):
        if len(self.start) != len(self.end):
            raise ValueError("TS: start and end address differ in length")
        return (pack(">BBHHH", self.ts_type, self.proto,
                     8 + 2 * len(self.start), self.sport, self.eport)
                + self.start + self.end)


class _TS(Payload):
    def __init__(self, selectors):
        self.selectors = list(selectors)

    def encode(self):
        if len(self.selectors) > 255:
            raise ValueError("TS: too many selectors")
        out = bytearray((len(self.selectors), 0, 0, 0))
        for s in self.selectors:
            out += s.encode()
        return bytes(out)

    @classmethod
    def decode(cls, body):
        _need(body, 4, "TS")
        n = body[0]
        off = 4
        end = len(body)
        sels = []
        for _ in range(n):
            if end - off < 8:
                raise DecodeError("TS: truncated selector")
            tstype, proto, slen, sp, ep = unpack_from(">BBHHH", body, off)
            if slen < 8 or off + slen > end or slen & 1:
                raise DecodeError("TS: bad selector length %d" % slen)
            if tstype == C.TS_IPV4_ADDR_RANGE and slen != 16:
                raise DecodeError("TS: IPv4 selector length %d" % slen)
            if tstype == C.TS_IPV6_ADDR_RANGE and slen != 40:
                raise DecodeError("TS: IPv6 selector length %d" % slen)
            h = (slen - 8) // 2
            sels.append(TrafficSelector(body[off + 8:off + 8 + h],
                                        body[off + 8 + h:off + slen],
                                        proto, sp, ep, tstype))
            off += slen
        if off != end:
            raise DecodeError("TS: trailing bytes")
        return cls(sels)


class TSi(_TS):
    TYPE = C.PT_TSI


class TSr(_TS):
    TYPE = C.PT_TSR


# ---------------------------------------------------------------- CP
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |   CFG Type    |                    RESERVED                   |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# ~                   Configuration Attributes                    ~
#
# Attribute:
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |R|         Attribute Type      |            Length             |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# ~                             Value                             ~
class CP(Payload):
    TYPE = C.PT_CP

    def __init__(self, cfg_type, attrs=()):
        self.cfg_type = cfg_type
        self.attrs = [(t, bytes(v)) for t, v in attrs]

    def get(self, atype):
        return [v for t, v in self.attrs if t == atype]

    def encode(self):
        out = bytearray((self.cfg_type, 0, 0, 0))
        for t, v in self.attrs:
            if not 0 <= t <= 0x7FFF or len(v) > 0xFFFF:
                raise ValueError("CP: attribute out of range")
            out += pack(">HH", t, len(v))
            out += v
        return bytes(out)

    @classmethod
    def decode(cls, body):
        _need(body, 4, "CP")
        attrs = []
        off = 4
        end = len(body)
        while off < end:
            if end - off < 4:
                raise DecodeError("CP: truncated attribute")
            t, ln = unpack_from(">HH", body, off)
            if off + 4 + ln > end:
                raise DecodeError("CP: bad attribute length %d" % ln)
            attrs.append((t & 0x7FFF, body[off + 4:off + 4 + ln]))
            off += 4 + ln
        return cls(body[0], attrs)


# ---------------------------------------------------------------- SK
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# | Next Payload  |C|  RESERVED   |         Payload Length        |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |                     Initialization Vector                     |
# ~                    Encrypted IKE Payloads                     ~
# +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |               |             Padding (0-255 octets)            |
# +-+-+-+-+-+-+-+-+                               +-+-+-+-+-+-+-+-+
# |                                               |  Pad Length   |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# ~                    Integrity Checksum Data                    ~
#
# Undecrypted form.  inner is the payload type of the first encrypted
# payload (the SK generic header's Next Payload); body is IV..ICV.
# Cryptographic processing is in sk.py.
class Encrypted(Payload):
    TYPE = C.PT_SK

    def __init__(self, inner, body):
        self.inner = inner
        self.body = bytes(body)

    def encode(self):
        return self.body

    @classmethod
    def decode(cls, body, inner=0):
        return cls(inner, body)


# ---------------------------------------------------------------- SKF
# RFC 7383 2.5:
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# | Next Payload  |C|  RESERVED   |         Payload Length        |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |        Fragment Number        |        Total Fragments        |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |                     Initialization Vector                     |
# ~                      Encrypted content                        ~
# ~                    Integrity Checksum Data                    ~
# Next Payload is the first inner payload type in fragment 1, 0 elsewhere.
class EncryptedFragment(Payload):
    TYPE = C.PT_SKF

    def __init__(self, inner, number, total, body):
        self.inner = inner
        self.number = number
        self.total = total
        self.body = bytes(body)

    def encode(self):
        return pack(">HH", self.number, self.total) + self.body

    @classmethod
    def decode(cls, body, inner=0):
        _need(body, 4, "SKF")
        num, total = unpack_from(">HH", body, 0)
        if num < 1 or total < 1 or num > total:
            raise DecodeError("SKF: fragment %d of %d" % (num, total))
        if num != 1 and inner != 0:
            raise DecodeError("SKF: Next Payload set in fragment %d" % num)
        return cls(inner, num, total, body[4:])


# payload type -> class, for the decoder loop
CLASSES = {}
for _c in (SA, KE, IDi, IDr, Cert, CertReq, Auth, Nonce, Notify, Delete,
           VendorID, TSi, TSr, CP):
    CLASSES[_c.TYPE] = _c
