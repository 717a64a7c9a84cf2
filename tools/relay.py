# A scripted hostile peer made from a real strongSwan: a UDP relay that
# sits in front of the lab's charon and misbehaves towards the client.
#
#   python tools/relay.py --listen 192.0.2.3 --gateway 192.0.2.1 \
#       --mischief ike-dup --log relay.json
#
# Run it inside the lab's gateway namespace (lab.popen), with --listen an
# extra address on the gateway's device-facing link.  It binds LISTEN:500
# and LISTEN:4500, forwards the client's datagrams to GATEWAY's IKE and
# NAT-T ports (--gateway-ports: charon in the same namespace holds 0.0.0.0
# on its ports without SO_REUSEADDR, so the lab moves it to others, e.g.
# charon.port = 1500, port_nat_t = 14500), and charon's answers, which
# come back to LISTEN, to the client.  charon therefore sees the
# relay's address as its peer (as behind a NAT) and keeps working as
# usual; only what goes to the client is tampered with, as the mischief
# says (MISCHIEF below).  Datagrams to the client are classified as IKE
# (port 500, or 4500 with the non-ESP marker), ESP (4500, an SPI) or NAT
# keepalive (one 0xFF octet).
#
# The log (--log, JSON, rewritten when something changed and at exit):
#   {"mischief": NAME, "counts": {action: n, ...}, "events": [...the first
#    200 actions: [t, action, detail]...], "client": {port: "ip:port"}}
# Counts always include fwd-to-gateway, fwd-to-client-ike/esp/other, and
# one count per kind of tampered datagram the relay sent (or withheld).
# Prints "ready" on stdout once bound; SIGTERM or SIGINT stops it cleanly.
import argparse
import json
import os
import select
import signal
import socket
import struct
import sys
import time

PORTS = (500, 4500)
MARKER = b"\0\0\0\0"
SA_INIT, AUTH = 34, 35
F_RESPONSE = 0x20


class _Stop(Exception):
    pass


def _stop(signum, frame):
    raise _Stop()


def ike_header(msg):
    # -> (spi_i, spi_r, exchange, flags, mid, length) of an IKE message, or None
    if len(msg) < 28:
        return None
    spi_i, spi_r, _np, _v, ex, fl, mid, ln = struct.unpack_from("!8s8sBBBBII", msg)
    return spi_i, spi_r, ex, fl, mid, ln


def flip(b, pos, bit=None):
    b = bytearray(b)
    b[pos] ^= 1 << (pos % 8 if bit is None else bit)
    return bytes(b)


def put32(b, off, v):
    b = bytearray(b)
    struct.pack_into("!I", b, off, v & 0xFFFFFFFF)
    return bytes(b)


def put16(b, off, v):
    b = bytearray(b)
    struct.pack_into("!H", b, off, v & 0xFFFF)
    return bytes(b)


class Relay:
    def __init__(self, listen, gateway, mischief, log=None, ports=PORTS,
                 gateway_ports=PORTS):
        self.listen, self.gateway = listen, gateway
        # our port -> the gateway's, and back
        self.gw_port = dict(zip(ports, gateway_ports))
        self.mischief = mischief
        self.fn = MISCHIEF[mischief]
        self.log_path = log
        self.counts = {}
        self.events = []
        self.client = {}          # port -> (ip, port) of the client
        self.socks = {}
        self.t0 = time.monotonic()
        self.dirty = False
        # mischief state
        self.seen = {}            # (spi_i, mid, ex) -> how many answers seen
        self.held = {}            # (spi_i, mid, ex) -> (datagram, port) held back
        self.answers = []         # the IKE answers, in order: (msg, port, hdr)
        self.esp_seen = 0
        self.first_esp = None
        self.done_once = False
        for p in ports:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((listen, p))
            self.socks[p] = s

    # ------------------------------------------------------------ log
    def count(self, action, detail=None, n=1):
        self.counts[action] = self.counts.get(action, 0) + n
        if len(self.events) < 200:
            self.events.append([round(time.monotonic() - self.t0, 3), action, detail])
        self.dirty = True

    def write_log(self):
        if not self.log_path:
            return
        d = {"mischief": self.mischief, "counts": self.counts, "events": self.events,
             "client": dict((str(p), "%s:%d" % a) for p, a in self.client.items())}
        tmp = self.log_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(d, f, indent=1)
        os.replace(tmp, self.log_path)
        self.dirty = False

    # ------------------------------------------------------------ loop
    def serve(self):
        poll = select.poll()
        byfd = {}
        for p, s in self.socks.items():
            poll.register(s, select.POLLIN)
            byfd[s.fileno()] = p
        last = time.monotonic()
        while True:
            for fd, _ in poll.poll(200):
                p = byfd[fd]
                data, addr = self.socks[p].recvfrom(65535)
                self.datagram(data, addr, p)
            if self.dirty and time.monotonic() - last > 0.2:
                self.write_log()
                last = time.monotonic()

    def datagram(self, data, addr, port):
        if addr[0] == self.gateway:
            cl = self.client.get(port)
            if cl is None:
                self.count("no-client-yet", port)
                return
            kind, msg = self.classify(data, port)
            self.count("from-gateway-" + kind)
            for d in self.fn(self, kind, data, msg, port):
                self.to_client(d, port)
        else:
            self.client[port] = addr
            self.count("fwd-to-gateway")
            self.socks[port].sendto(data, (self.gateway, self.gw_port[port]))

    def classify(self, data, port):
        # -> (kind, the IKE message without the marker or None)
        if port == 4500:
            if data[:4] == MARKER:
                return "ike", data[4:]
            if data == b"\xff":
                return "keepalive", None
            return "esp", None
        return "ike", data

    def to_client(self, data, port):
        try:
            self.socks[port].sendto(data, self.client[port])
        except OSError as e:
            self.count("send-error", str(e))

    @staticmethod
    def frame(msg, port):
        return MARKER + msg if port == 4500 else msg


# ------------------------------------------------------------ mischief
# Each takes (relay, kind, datagram, IKE message or None, port) and returns
# the datagrams to send to the client, in order (the genuine one among
# them, or not).  IKE mischief applies to the gateway's responses only.

def m_none(r, kind, d, msg, port):
    return [d]


def _response(kind, msg):
    if kind != "ike":
        return None
    h = ike_header(msg)
    if h is None or not h[3] & F_RESPONSE:
        return None
    return h


def m_ike_dup(r, kind, d, msg, port):
    # every IKE response twice
    if _response(kind, msg) is None:
        return [d]
    r.count("ike-duplicated")
    return [d, d]


def _first_answer(r, h):
    # True the first time an answer to this request (spi_i, mid, exchange)
    # passes; the handshake's exchanges only (a Delete's answer comes once:
    # charon forgets the IKE SA after sending it)
    if h[2] not in (SA_INIT, AUTH):
        return False
    key = (h[0], h[4], h[2])
    n = r.seen.get(key, 0)
    r.seen[key] = n + 1
    return n == 0


def m_ike_reorder(r, kind, d, msg, port):
    # hold the first answer to IKE_SA_INIT and to IKE_AUTH; when the
    # client's retransmission brings charon's cached answer again, pass
    # that one and then the held one, late
    h = _response(kind, msg)
    if h is None or h[2] not in (SA_INIT, AUTH):
        return [d]
    key = (h[0], h[4], h[2])
    if _first_answer(r, h):
        r.held[key] = d
        r.count("ike-held", "ex %d mid %d" % (h[2], h[4]))
        return []
    late = r.held.pop(key, None)
    if late is None:
        return [d]
    r.count("ike-delivered-late", "ex %d mid %d" % (h[2], h[4]))
    return [d, late]


def _mangle_first(variants, action):
    # replace the first answer to each handshake request with its mangled
    # variants (the genuine one withheld: the client must retransmit, and
    # charon answers again from its cache, which passes)
    def m(r, kind, d, msg, port):
        h = _response(kind, msg)
        if h is None or not _first_answer(r, h):
            return [d]
        out = []
        for name, v in variants(msg, h):
            r.count(action, "ex %d mid %d: %s" % (h[2], h[4], name))
            out.append(r.frame(v, port))
        r.count("ike-withheld", "ex %d mid %d" % (h[2], h[4]))
        return out
    return m


def _cuts(msg, h):
    n = len(msg)
    for c in (0, 12, 27, 28, 31, n // 2, n - 17, n - 1):
        if 0 <= c < n:
            yield "cut at %d of %d" % (c, n), msg[:c]


def _lengths(msg, h):
    n = len(msg)
    for v in (n + 1, n + 4, n + 1000, n - 1, n - 4, 28, 0, 0xFFFFFFFF):
        yield "IKE length %d (true %d)" % (v, n), put32(msg, 24, v)


def _paylens(msg, h):
    # the first payload's length (generic payload header at 28)
    true = struct.unpack_from("!H", msg, 30)[0]
    for v in (0, 3, 4, true - 4, true - 1, true + 1, true + 4, 0xFFFF):
        if v != true:
            yield "first payload length %d (true %d)" % (v, true), put16(msg, 30, v)


def m_ike_spi(r, kind, d, msg, port):
    # a copy with a changed SPI ahead of every response: the responder's
    # SPI, and for IKE_SA_INIT's answer (whose responder SPI the client
    # learns from it) the initiator's SPI
    h = _response(kind, msg)
    if h is None:
        return [d]
    off = 0 if h[2] == SA_INIT else 8
    r.count("ike-spi-changed", "ex %d mid %d: %s SPI" % (
        h[2], h[4], "initiator" if off == 0 else "responder"))
    return [r.frame(flip(msg, off + 7, 0), port), d]


def m_ike_spi_init(r, kind, d, msg, port):
    # IKE_SA_INIT's answer with another responder SPI, ahead of the genuine
    # one: unauthenticated, a client may take either (RFC 7296 2.4)
    h = _response(kind, msg)
    if h is None or h[2] != SA_INIT or not _first_answer(r, h):
        return [d]
    r.count("ike-spi-changed", "IKE_SA_INIT answer: responder SPI")
    return [r.frame(flip(msg, 15, 0), port), d]


def m_ike_mid(r, kind, d, msg, port):
    # copies with unexpected message IDs (mid+1, mid-1, mid+1000) ahead of
    # every response
    h = _response(kind, msg)
    if h is None:
        return [d]
    out = []
    for delta in (1, -1, 1000):
        r.count("ike-mid-changed", "ex %d mid %d -> %d" % (h[2], h[4], (h[4] + delta) & 0xFFFFFFFF))
        out.append(r.frame(put32(msg, 20, h[4] + delta), port))
    return out + [d]


def m_ike_unsolicited(r, kind, d, msg, port):
    # responses to requests never sent: once the tunnel carries traffic
    # (the first ESP packet to the client), the recorded answers are sent
    # again, as they were and with their message ID changed to 7 and 100
    h = _response(kind, msg)
    if h is not None:
        r.answers.append((msg, port, h))
        return [d]
    if kind != "esp" or r.done_once:
        return [d]
    r.done_once = True
    out = [d]
    for m, p, hh in r.answers:
        for mid in (None, 7, 100):
            v = m if mid is None else put32(m, 20, mid)
            r.count("ike-unsolicited", "ex %d mid %d as mid %s" % (hh[2], hh[4], mid if mid is not None else hh[4]))
            if p in r.client:  # on the port it came on: the client's one socket gets all
                r.socks[p].sendto(r.frame(v, p), r.client[p])
    return out


def m_ike_flip(r, kind, d, msg, port):
    # an encrypted response with one bit flipped, ahead of the genuine one:
    # 4 copies, in the SK payload's header, its IV, its middle and its ICV
    h = _response(kind, msg)
    if h is None or h[2] == SA_INIT:
        return [d]
    n = len(msg)
    out = []
    for pos in (29, 36, n // 2, n - 1):
        r.count("ike-bit-flipped", "ex %d mid %d byte %d" % (h[2], h[4], pos))
        out.append(r.frame(flip(msg, pos), port))
    return out + [d]


# ESP: tampered copies of the gateway's real ESP packets

def m_esp_replay(r, kind, d, msg, port):
    # every ESP packet twice, and the first one again after every second
    if kind != "esp":
        return [d]
    r.esp_seen += 1
    out = [d, d]
    r.count("esp-duplicated")
    if r.first_esp is None:
        r.first_esp = d
    elif r.esp_seen % 2 == 0:
        out.append(r.first_esp)
        r.count("esp-replayed-old")
    return out


def m_esp_flip(r, kind, d, msg, port):
    # one copy per byte position with one bit flipped (bit = position % 8),
    # all ahead of the genuine packet
    if kind != "esp":
        return [d]
    out = []
    for pos in range(len(d)):
        out.append(flip(d, pos))
        where = "spi" if pos < 4 else "seq" if pos < 8 else "icv" if pos >= len(d) - 16 else "body"
        r.count("esp-flipped-" + where)
    return out + [d]


def m_esp_oracle(r, kind, d, msg, port):
    # CBC padding oracle probes: the last byte of the ciphertext block
    # before the last one (it decides the padding length byte after
    # decryption) set to each of the other 255 values
    if kind != "esp":
        return [d]
    pos = len(d) - 16 - 16 - 1
    out = []
    for v in range(256):
        if v != d[pos]:
            b = bytearray(d)
            b[pos] = v
            out.append(bytes(b))
    r.count("esp-oracle-probe", None, len(out))
    return out + [d]


def m_esp_spi(r, kind, d, msg, port):
    # a copy with an SPI the client never made, ahead of every packet
    if kind != "esp":
        return [d]
    r.count("esp-wrong-spi")
    return [put32(d, 0, struct.unpack_from("!I", d)[0] ^ 0x5A5A5A5A), d]


def m_esp_trunc(r, kind, d, msg, port):
    # copies with the ICV cut short by 1, 4, 8, 12 and 16 octets (16: no
    # ICV at all) ahead of every packet
    if kind != "esp":
        return [d]
    out = []
    for cut in (1, 4, 8, 12, 16):
        out.append(d[:-cut])
        r.count("esp-icv-truncated")
    return out + [d]


MISCHIEF = {
    "none": m_none,
    "ike-dup": m_ike_dup,
    "ike-reorder": m_ike_reorder,
    "ike-trunc": _mangle_first(_cuts, "ike-truncated"),
    "ike-length": _mangle_first(_lengths, "ike-length-changed"),
    "ike-paylen": _mangle_first(_paylens, "ike-payload-length-changed"),
    "ike-spi": m_ike_spi,
    "ike-spi-init": m_ike_spi_init,
    "ike-mid": m_ike_mid,
    "ike-unsolicited": m_ike_unsolicited,
    "ike-flip": m_ike_flip,
    "esp-replay": m_esp_replay,
    "esp-flip": m_esp_flip,
    "esp-oracle": m_esp_oracle,
    "esp-spi": m_esp_spi,
    "esp-trunc": m_esp_trunc,
}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="relay", description="a hostile UDP relay "
                                 "in front of a real IKEv2 gateway (lab only)")
    ap.add_argument("--listen", required=True, help="address to bind (ports 500, 4500)")
    ap.add_argument("--gateway", required=True, help="the real gateway's address")
    ap.add_argument("--mischief", default="none", choices=sorted(MISCHIEF))
    ap.add_argument("--gateway-ports", default="500,4500",
                    help="the gateway's IKE and NAT-T ports (default 500,4500; "
                    "another pair when charon shares the relay's namespace "
                    "and holds 0.0.0.0 on 500 and 4500)")
    ap.add_argument("--log", help="JSON log of what the relay did")
    a = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        gp = tuple(int(x) for x in a.gateway_ports.split(","))
        if len(gp) != 2:
            ap.error("--gateway-ports wants two ports, e.g. 1500,14500")
        r = Relay(a.listen, a.gateway, a.mischief, a.log, PORTS, gp)
    except OSError as e:
        sys.stderr.write("relay: error: cannot bind %s: %s\n" % (a.listen, e))
        return 1
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    try:
        r.serve()
    except _Stop:
        pass
    finally:
        r.write_log()
        for s in r.socks.values():
            s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
