# IKEv2 payload bodies (RFC 7296 section 3, RFC 7383 section 2.5).
#
# One class per payload.  Each has TYPE (the payload type number),
# encode() -> body bytes (without the 4-byte generic header) and a
# decode(body) classmethod.  The generic header loop lives in message.py.
# Every length is checked here; anything malformed raises DecodeError.
from struct import calcsize, pack, unpack_from
from .errors import DecodeError
from . import const as C


def _need(body, n, what):
    if len(body) < n:
        raise DecodeError("%s: %d bytes, need %d" % (what, len(body), n))


class Payload:
    # The base of every payload class (TYPE: its payload type number), and
    # of the substructures and message.Message too, for equality and repr
    # from the attributes (MicroPython and CPython both derive != from
    # __eq__).
    TYPE = 0

    def __eq__(self, other):
        return type(self) is type(other) and self.__dict__ == other.__dict__

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


class _Fixed(Payload):
    # A body of a fixed header holding one number, then data (KE, IDi/IDr,
    # CERT/CERTREQ, AUTH): the class gives the header's struct format
    # _FMT (the number, then reserved octets), the number's attribute name
    # _ATTR and the name _WHAT for errors.
    def __init__(self, n, data):
        setattr(self, self._ATTR, n)
        self.data = bytes(data)

    def encode(self):
        return pack(self._FMT, getattr(self, self._ATTR)) + self.data

    @classmethod
    def decode(cls, body):
        n = calcsize(cls._FMT)
        _need(body, n, cls._WHAT)
        return cls(unpack_from(cls._FMT, body, 0)[0], body[n:])


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
class Transform(Payload):
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


class Proposal(Payload):
    def __init__(self, num, protocol, transforms, spi=b""):
        self.num = num
        self.protocol = protocol
        self.spi = bytes(spi)
        self.transforms = list(transforms)

    def get(self, ttype):
        # all transforms of one type, in order
        out = []
        for t in self.transforms:
            if t.ttype == ttype:
                out.append(t)
        return out

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
class KE(_Fixed):
    # KE(group, data)
    TYPE = C.PT_KE
    _FMT = ">H2x"
    _ATTR = "group"
    _WHAT = "KE"


# ---------------------------------------------------------------- IDi / IDr
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |   ID Type     |                 RESERVED                      |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# ~                   Identification Data                         ~
class _ID(_Fixed):
    # IDi/IDr(id_type, data).  The body (ID Type | RESERVED | data) is also
    # what the AUTH computation MACs (RFC 7296 2.15, RestOfInitIDPayload).
    _FMT = ">B3x"
    _ATTR = "id_type"
    _WHAT = "ID"


class IDi(_ID):
    TYPE = C.PT_IDI


class IDr(_ID):
    TYPE = C.PT_IDR


# ---------------------------------------------------------------- AUTH
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# | Auth Method   |                RESERVED                       |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# ~                      Authentication Data                      ~
class Auth(_Fixed):
    # Auth(method, data)
    TYPE = C.PT_AUTH
    _FMT = ">B3x"
    _ATTR = "method"
    _WHAT = "AUTH"


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
        self.spis = []
        for s in spis:
            self.spis.append(bytes(s))
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
        if size == 0 and n:
            # RFC 7296 3.11: no SPI size means no SPIs (an IKE SA delete);
            # never turn a 4-byte body into 65535 empty SPIs
            raise DecodeError("Delete: %d SPIs of size 0" % n)
        if len(body) != 4 + size * n:
            raise DecodeError("Delete: %d SPIs of %d bytes in %d bytes"
                              % (n, size, len(body) - 4))
        spis = []
        for i in range(n):
            spis.append(bytes(body[4 + i * size:4 + (i + 1) * size]))
        return cls(proto, spis, size)


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
class TrafficSelector(Payload):
    def __init__(self, start, end, proto=0, sport=0, eport=65535,
                 ts_type=C.TS_IPV4_ADDR_RANGE):
        self.ts_type = ts_type
        self.proto = proto
        self.sport = sport
        self.eport = eport
        self.start = bytes(start)
        self.end = bytes(end)

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
        self.attrs = []
        for t, v in attrs:
            self.attrs.append((t, bytes(v)))

    def get(self, atype):
        out = []
        for t, v in self.attrs:
            if t == atype:
                out.append(v)
        return out

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


# payload type -> class, for the decoder loop; rare.py has the payloads a
# PSK initiator never sends (CERT, CERTREQ, Vendor ID), loaded when one
# arrives.  CLASSES, read from this module, has them all.
_CLASSES = {}
for _c in (SA, KE, IDi, IDr, Auth, Nonce, Notify, Delete, TSi, TSr, CP):
    _CLASSES[_c.TYPE] = _c
_RARE = (C.PT_CERT, C.PT_CERTREQ, C.PT_VENDOR)


def payload_class(ptype):
    # the class that decodes payload type ptype, or None if unknown
    if ptype in _RARE:
        from . import rare

        return rare.CLASSES[ptype]
    return _CLASSES.get(ptype)


def __getattr__(name):
    # the classes of rare.py and frag.py (EncryptedFragment, RFC 7383),
    # loaded on first use, and CLASSES
    if name == "EncryptedFragment":
        from .frag import EncryptedFragment

        return EncryptedFragment
    if name not in ("CLASSES", "Cert", "CertReq", "VendorID"):
        raise AttributeError(name)
    from . import rare

    if name == "CLASSES":
        d = dict(_CLASSES)
        d.update(rare.CLASSES)
        return d
    return getattr(rare, name)
