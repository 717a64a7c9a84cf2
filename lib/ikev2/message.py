# IKEv2 messages: the header, the one generic-payload-header loop, and the
# Encrypted (SK) and Encrypted Fragment (SKF) wrappers.
#
# IKE header (RFC 7296 3.1):
#  0                   1                   2                   3
#  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |                       IKE SA Initiator's SPI                  |
# |                                                               |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |                       IKE SA Responder's SPI                  |
# |                                                               |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |                          Message ID                           |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |                            Length                             |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#
# Generic payload header (RFC 7296 3.2):
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# | Next Payload  |C|  RESERVED   |         Payload Length        |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
from struct import pack, unpack_from
from .errors import DecodeError, UnsupportedCriticalPayload
from .payloads import Encrypted, Payload, payload_class
from . import const as C

_HDR = ">8s8sBBBBII"


class Message(Payload):
    # payloads: the payloads in order.  When encrypted is True they travel
    # inside an SK payload (or SKF fragments); cleartext holds payloads
    # that precede the SK payload (none in practice).
    # unknown: types of non-critical payloads skipped on decode (RFC 7296
    # 2.5).
    def __init__(self, exchange, spi_i, spi_r=bytes(8), mid=0, flags=0,
                 payloads=None, encrypted=False):
        self.exchange = exchange
        self.spi_i = bytes(spi_i)
        self.spi_r = bytes(spi_r)
        self.mid = mid
        self.flags = flags
        self.payloads = list(payloads) if payloads else []
        self.encrypted = encrypted
        self.unknown = []

    def is_response(self):
        return bool(self.flags & C.FLAG_RESPONSE)

    def find(self, cls):
        for p in self.payloads:
            if isinstance(p, cls):
                return p
        return None

    def find_all(self, cls):
        out = []
        for p in self.payloads:
            if isinstance(p, cls):
                out.append(p)
        return out

    def error(self):
        # the first error Notify, or None
        for p in self.payloads:
            if p.TYPE == C.PT_NOTIFY and p.is_error():
                return p
        return None

    def notify(self, ntype):
        for p in self.payloads:
            if p.TYPE == C.PT_NOTIFY and p.ntype == ntype:
                return p
        return None

    def header(self, first, length):
        if len(self.spi_i) != 8 or len(self.spi_r) != 8:
            raise ValueError("IKE SPIs are 8 bytes")
        return pack(_HDR, self.spi_i, self.spi_r, first, C.IKE_VERSION,
                    self.exchange, self.flags, self.mid, length)


def encode_chain(payloads, last_next=0):
    # Encodes payloads with their generic headers.  The last one's Next
    # Payload is last_next.  Returns (first type, bytes).
    out = bytearray()
    n = len(payloads)
    for i in range(n):
        p = payloads[i]
        body = p.encode()
        if len(body) + 4 > 0xFFFF:
            raise ValueError("payload too large")
        if p.TYPE == C.PT_SK or p.TYPE == C.PT_SKF:
            nxt = p.inner  # first payload inside, RFC 7296 3.14
        else:
            nxt = payloads[i + 1].TYPE if i + 1 < n else last_next
        out += pack(">BBH", nxt, 0, 4 + len(body))
        out += body
    return (payloads[0].TYPE if n else last_next), bytes(out)


def encode(msg, cipher=None):
    # Cleartext messages (IKE_SA_INIT) need no cipher; encrypted ones need
    # an sk.Cipher for the sending direction.
    if not msg.encrypted:
        first, body = encode_chain(msg.payloads)
        return msg.header(first, C.IKE_HEADER_LEN + len(body)) + body
    if cipher is None:
        raise ValueError("encrypted message needs a cipher")
    inner_first, inner = encode_chain(msg.payloads)
    sealed = cipher.sealed_len(len(inner))
    total = C.IKE_HEADER_LEN + 4 + sealed
    aad = msg.header(C.PT_SK, total) + pack(">BBH", inner_first, 0, 4 + sealed)
    return aad + cipher.seal(aad, inner)


def decode_header(data):
    # -> (spi_i, spi_r, first payload, exchange, flags, mid, length)
    if len(data) < C.IKE_HEADER_LEN:
        raise DecodeError("IKE message shorter than its header")
    spi_i, spi_r, first, ver, ex, flags, mid, length = unpack_from(_HDR, data, 0)
    if ver >> 4 != 2:
        raise DecodeError("IKE major version %d" % (ver >> 4))
    if length != len(data):
        raise DecodeError("IKE length %d, datagram %d" % (length, len(data)))
    return spi_i, spi_r, first, ex, flags, mid, length


def decode_chain(data, off, end, ptype, unknown):
    # The generic payload header loop.  Returns (payloads, off) where off
    # is where an SK/SKF payload starts (it must be the last one), or end.
    out = []
    while ptype != C.PT_NONE:
        if end - off < 4:
            raise DecodeError("truncated payload header (type %d)" % ptype)
        nxt = data[off]
        crit = data[off + 1] & 0x80
        plen = (data[off + 2] << 8) | data[off + 3]
        if plen < 4 or off + plen > end:
            raise DecodeError("payload type %d: bad length %d" % (ptype, plen))
        if ptype == C.PT_SK or ptype == C.PT_SKF:
            if off + plen != end:
                raise DecodeError("Encrypted payload is not the last one")
            body = bytes(data[off + 4:end])
            if ptype == C.PT_SK:
                out.append(Encrypted.decode(body, nxt))
            else:
                try:  # frag.py is not in the PSK profile of a device
                    from .frag import EncryptedFragment
                except ImportError:
                    raise DecodeError("an SKF fragment, and IKE fragmentation "
                                      "is not in this build")
                out.append(EncryptedFragment.decode(body, nxt))
            return out, off
        cls = payload_class(ptype)
        if cls is None:
            if crit:
                raise UnsupportedCriticalPayload(ptype)
            unknown.append(ptype)
        else:
            out.append(cls.decode(bytes(data[off + 4:off + plen])))
        off += plen
        ptype = nxt
    if off != end:
        raise DecodeError("%d trailing bytes after last payload" % (end - off))
    return out, end


def decode(data, cipher=None):
    # Decodes one IKE message.  An SK payload is decrypted when a cipher
    # for the receiving direction is given (IntegrityError if its ICV does
    # not verify); otherwise it stays as an Encrypted payload.  An SKF
    # fragment is returned undecrypted as an EncryptedFragment: feed whole
    # datagrams to a Reassembler instead.
    try:
        spi_i, spi_r, first, ex, flags, mid, length = decode_header(data)
        msg = Message(ex, spi_i, spi_r, mid, flags)
        pl, off = decode_chain(data, C.IKE_HEADER_LEN, length, first,
                               msg.unknown)
    except (IndexError, ValueError, TypeError) as e:
        # safety net: the checks above should make this unreachable
        raise DecodeError("malformed IKE message (%s)" % e)
    if pl and pl[-1].TYPE == C.PT_SK and cipher is not None:
        sk = pl.pop()
        if pl:
            raise DecodeError("cleartext payloads before SK")
        decode_inner(msg, cipher.open(data[:off + 4], sk.body), sk.inner)
        return msg
    if cipher is not None and not (pl and pl[-1].TYPE == C.PT_SKF):
        # in an IKE SA all is encrypted: an SK payload whose type byte
        # was changed to an unknown one would else decode as an empty
        # cleartext message (a rare test_codec_props failure, issue 9)
        raise DecodeError("no Encrypted payload in a protected message")
    msg.payloads = pl
    return msg


def decode_inner(msg, inner, first):
    # the decrypted content of SK (or of reassembled SKF fragments) into
    # msg.payloads; an Encrypted payload may not nest (RFC 7296 3.14)
    try:
        msg.payloads, _ = decode_chain(inner, 0, len(inner), first, msg.unknown)
    except (IndexError, ValueError, TypeError) as e:
        raise DecodeError("malformed encrypted payloads (%s)" % e)
    if msg.payloads and msg.payloads[-1].TYPE in (C.PT_SK, C.PT_SKF):
        raise DecodeError("Encrypted payload inside Encrypted payload")
    msg.encrypted = True


def __getattr__(name):
    # RFC 7383 fragmentation (encode_fragments, Reassembler) lives in
    # frag.py, loaded on first use: the client never fragments.
    if name in ("encode_fragments", "Reassembler"):
        from . import frag

        return getattr(frag, name)
    raise AttributeError(name)
