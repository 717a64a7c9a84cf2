# IPv4 addresses: parsing and printing them, and CIDR ranges.  The
# packets that travel inside the tunnel (IPv4, ICMP echo, UDP) are in
# packet.py, loaded once the tunnel carries traffic; their names are
# readable from here too.


def aton(s):
    # "10.0.0.1" -> 4 bytes; ValueError when malformed
    parts = s.split(".")
    if len(parts) != 4:
        raise ValueError("not an IPv4 address: %r" % s)
    out = bytearray(4)
    for i in range(4):
        p = parts[i]
        if not p.isdigit() or len(p) > 3 or int(p) > 255:
            raise ValueError("not an IPv4 address: %r" % s)
        out[i] = int(p)
    return bytes(out)


def ntoa(b):
    return "%d.%d.%d.%d" % (b[0], b[1], b[2], b[3])


def cidr(s):
    # "10.0.0.0/8" (or a bare address) -> (first, last) as 4-byte values
    if "/" in s:
        a, n = s.split("/", 1)
        if not n.isdigit() or int(n) > 32:
            raise ValueError("bad prefix length in %r" % s)
        n = int(n)
    else:
        a, n = s, 32
    v = int.from_bytes(aton(a), "big")
    mask = (0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF
    first = v & mask
    last = first | (~mask & 0xFFFFFFFF)
    return first.to_bytes(4, "big"), last.to_bytes(4, "big")


def __getattr__(name):
    from . import packet

    return getattr(packet, name)
