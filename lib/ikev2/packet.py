# A minimal IPv4 layer for what travels inside the tunnel: IPv4 with
# header checksums, ICMP echo, and UDP (RFC 791, 792, 768).  Parsers
# return None for anything they do not accept (never raise): this is the
# receive path.
from struct import pack, unpack_from

PROTO_ICMP = 1
PROTO_UDP = 17
ICMP_ECHO_REPLY = 0
ICMP_ECHO_REQUEST = 8


def checksum(data, start=0):
    # RFC 1071 one's-complement sum of 16-bit words
    s = start
    n = len(data)
    for i in range(0, n - 1, 2):
        s += (data[i] << 8) | data[i + 1]
    if n & 1:
        s += data[n - 1] << 8
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident=0, ttl=64):
    hdr = bytearray(pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                         0x4000, ttl, proto, 0, src, dst))  # DF set
    c = checksum(hdr)
    hdr[10] = c >> 8
    hdr[11] = c & 0xFF
    return bytes(hdr) + payload


def parse_ipv4(pkt):
    # -> (src, dst, proto, payload) or None
    if len(pkt) < 20 or pkt[0] >> 4 != 4:
        return None
    ihl = (pkt[0] & 15) * 4
    total = (pkt[2] << 8) | pkt[3]
    if ihl < 20 or total < ihl or total > len(pkt):
        return None
    if checksum(pkt[:ihl]) != 0:
        return None
    if (pkt[6] & 0x3F) or pkt[7]:  # a fragment: not reassembled here
        return None
    return bytes(pkt[12:16]), bytes(pkt[16:20]), pkt[9], pkt[ihl:total]


def icmp_echo(ident, seq, data, reply=False):
    msg = bytearray(pack(">BBHHH", ICMP_ECHO_REPLY if reply else ICMP_ECHO_REQUEST,
                         0, 0, ident, seq) + data)
    c = checksum(msg)
    msg[2] = c >> 8
    msg[3] = c & 0xFF
    return bytes(msg)


def parse_icmp_echo(payload):
    # -> (type, ident, seq, data) or None
    if len(payload) < 8 or checksum(payload) != 0:
        return None
    t, code, _, ident, seq = unpack_from(">BBHHH", payload, 0)
    if t not in (ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST) or code:
        return None
    return t, ident, seq, payload[8:]


def _pseudo(src, dst, n):
    # the UDP pseudo-header's sum, folded into checksum()'s start value
    s = 0
    for b in (src, dst):
        s += (b[0] << 8 | b[1]) + (b[2] << 8 | b[3])
    return s + PROTO_UDP + n


def udp(src, dst, sport, dport, data):
    n = 8 + len(data)
    seg = bytearray(pack(">HHHH", sport, dport, n, 0) + data)
    c = checksum(seg, _pseudo(src, dst, n)) or 0xFFFF
    seg[6] = c >> 8
    seg[7] = c & 0xFF
    return bytes(seg)


def parse_udp(src, dst, payload):
    # -> (sport, dport, data) or None
    if len(payload) < 8:
        return None
    sport, dport, n, csum = unpack_from(">HHHH", payload, 0)
    if n < 8 or n > len(payload):
        return None
    if csum and checksum(payload[:n], _pseudo(src, dst, n)) != 0:
        return None
    return sport, dport, payload[8:n]
