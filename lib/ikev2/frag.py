# IKE fragmentation (RFC 7383): the Encrypted Fragment (SKF) payload,
# splitting an encrypted message into fragments and reassembling them.
# Loaded on first use (message.py and payloads.py forward these names):
# the client's own messages are small enough never to need it.
from struct import pack, unpack_from
from . import const as C
from .errors import DecodeError
from .message import decode, decode_inner, encode_chain
from .payloads import Payload, _need

# Bounds on reassembly (RFC 7383 2.6 leaves them to the receiver): a
# message of at most 32 fragments and 16 KiB of decrypted content (a
# gateway's IKE_AUTH with a chain of two RSA-3072 certificates is ~4 KiB),
# collected within 30 s of its first fragment.
_MAX_FRAGMENTS = 32
_MAX_BYTES = 16384
_MAX_AGE_MS = 30000


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


def encode_fragments(msg, cipher, max_len):
    # RFC 7383: split an encrypted message into SKF fragments so that each
    # datagram (IKE message, without IP/UDP headers) is at most max_len.
    inner_first, inner = encode_chain(msg.payloads)
    overhead = C.IKE_HEADER_LEN + 8
    room = cipher.max_plain(max_len - overhead)
    if room < 1:
        raise ValueError("fragment size too small")
    n = (len(inner) + room - 1) // room or 1
    if n > _MAX_FRAGMENTS:
        raise ValueError("message needs too many fragments")
    out = []
    for i in range(n):
        chunk = inner[i * room:(i + 1) * room]
        sealed = cipher.sealed_len(len(chunk))
        total = overhead + sealed
        aad = (msg.header(C.PT_SKF, total)
               + pack(">BBHHH", inner_first if i == 0 else 0, 0, 8 + sealed,
                      i + 1, n))
        out.append(aad + cipher.seal(aad, chunk))
    return out


class Reassembler:
    # RFC 7383 2.6: collects the fragments of one message, each verified
    # (and decrypted) on arrival, and returns the whole Message once all
    # are in.  Duplicates are ignored; a fragment of a different message
    # or total, or one arriving after max_age ms, restarts collection.
    # DecodeError for a fragment that breaks a bound or does not verify.
    def __init__(self, cipher, max_bytes=_MAX_BYTES, max_age=_MAX_AGE_MS):
        self.cipher = cipher
        self.max_bytes = max_bytes
        self.max_age = max_age
        self.reset()

    def reset(self):
        self.key = None
        self.parts = None
        self.inner = 0
        self.have = 0
        self.size = 0
        self.wire = 0  # datagram bytes, for the trace (trace.py)
        self.since = 0

    def feed(self, data, now=0):
        msg = decode(data)
        if not msg.payloads or msg.payloads[-1].TYPE != C.PT_SKF:
            raise DecodeError("not an Encrypted Fragment message")
        if len(msg.payloads) != 1:
            raise DecodeError("cleartext payloads before SKF")
        f = msg.payloads[0]
        if f.total > _MAX_FRAGMENTS:
            raise DecodeError("too many fragments (%d)" % f.total)
        # AAD/ICV input: everything before the IV
        plain = self.cipher.open(data[:C.IKE_HEADER_LEN + 8], f.body)
        key = (msg.spi_i, msg.spi_r, msg.exchange, msg.flags, msg.mid, f.total)
        if key != self.key or now - self.since > self.max_age:
            self.reset()
            self.key = key
            self.parts = [None] * f.total
            self.since = now
        if self.parts[f.number - 1] is not None:
            return None
        if self.size + len(plain) > self.max_bytes:
            self.reset()
            raise DecodeError("fragmented message over %d bytes"
                              % self.max_bytes)
        self.parts[f.number - 1] = plain
        self.size += len(plain)
        self.wire += len(data)
        self.have += 1
        if f.number == 1:
            self.inner = f.inner
        if self.have < f.total:
            return None
        inner = b"".join(self.parts)
        first = self.inner
        self.done = (f.total, self.wire)  # for the trace (trace.py)
        self.reset()
        decode_inner(msg, inner, first)
        return msg


# ---------------------------------------------------------------- the session's
# s.frag = [fragments sent, fragments received, Reassembler or None] once
# both sides announced IKEV2_FRAGMENTATION_SUPPORTED (ikeinit.py).
def send(s, msg):
    # -> the request's datagrams: fragments of at most fragment_size bytes
    # as IP datagrams (IPv4 20 + UDP 8 + the non-ESP marker 4 bytes less)
    room = s.cfg.fragment_size - 28 - (4 if s.natt else 0)
    out = []
    for d in encode_fragments(msg, s.tx, room):
        out.append(s._frame(d))
    s.frag[0] += len(out)
    return out


def receive(s, msg, data, now):
    # an unencrypted message in an IKE SA: an Encrypted Fragment (RFC 7383
    # 2.6), verified on arrival; -> the whole Message once all are in, else
    # None.  Anything else unencrypted is dropped (DecodeError).
    f = s.frag
    if not (f and msg.payloads and msg.payloads[-1].TYPE == C.PT_SKF):
        raise DecodeError("unencrypted message in an IKE SA")
    if f[2] is None:
        f[2] = Reassembler(s.rx)
    f[1] += 1
    whole = f[2].feed(data, now)
    if whole is not None:
        if s.trace:
            whole.frags = f[2].done
        f[2] = None
    return whole
