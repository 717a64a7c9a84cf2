# The driver: the only module with sockets, poll and clocks.  The same code
# runs on CPython, on the MicroPython unix port and on an ESP32.
#
#   c = Client(cfg)              cfg: a config dict or config.Config
#   c.ping("198.51.100.2")       the first packet triggers the IKE SA
#   c.sendto(b"21.5C", ("198.51.100.2", 5140))
#   c.recvfrom(2000)             -> (data, (ip, port)) or None
#   c.close()                    Delete, then the socket is closed
#
# Client(cfg, trace=trace.Trace()) records the session for the sequence
# diagram (trace.py); off (None) by default.
#
# One UDP socket carries everything: IKE to port 500, then IKE with the
# non-ESP marker and ESP-in-UDP to port 4500 (RFC 3948).
import os
import socket
import select

from . import _collect_every, _tidy
from . import ip as IP
from .config import Config
from .errors import IKEError, ProtocolError
from .session import Session, CONNECTING, ESTABLISHED, CLOSED

try:
    from time import ticks_ms, ticks_diff
    _TICK_MS = 1  # milliseconds per tick
except ImportError:  # CPython: float seconds, no wrap-around
    from operator import sub as ticks_diff
    from time import monotonic as ticks_ms
    _TICK_MS = 1000

_INNER_PORT = 49152  # our UDP source port inside the tunnel
_MAX_QUEUED = 8      # packets held while the tunnel comes up


def _addr_port(addr):
    # recvfrom's address: a tuple on CPython and ESP32, raw sockaddr bytes
    # on the unix port
    if isinstance(addr, tuple):
        return addr[1]
    return (addr[2] << 8) | addr[3]


def _oserr(e):
    # an OSError as text: MicroPython's str() is the bare number (the
    # names are Linux's, as on the unix port)
    s = str(e)
    if s.isdigit():
        s = "[Errno %s] %s" % (s, {"101": "network is unreachable",
                                   "113": "no route to host",
                                   "111": "connection refused"}.get(s, "OS error"))
    return s


def _addr_ip(addr):
    if isinstance(addr, tuple):
        return IP.aton(addr[0])
    return bytes(addr[4:8])


class Client:
    trace = None  # see trace.py; a class default: no slot when off
    send_error = None  # the last sendto's error (text), until one succeeds
    inner_dropped = 0  # inner packets refused: malformed, or IP fragments
    # (not reassembled: the gateway's tunnel MTU splits a big answer)

    def __init__(self, cfg, crypto=None, rng=None, log=None, trace=None):
        from . import crypto as CR

        # MicroPython: the heap is small, and recvfrom needs 2 KB of it in
        # one piece: start from a clean heap (the imports left garbage), so
        # that the objects that live long stay low in it, and keep garbage
        # from spreading (see ikev2._collect_every)
        _tidy()
        _collect_every(8192)
        self.cfg = cfg if isinstance(cfg, Config) else Config(cfg)
        self.c = crypto or CR.backend()
        self.rng = rng or os.urandom
        self.log = log
        self._ticks = ticks_ms()
        self._ms = 0
        try:
            a500 = socket.getaddrinfo(self.cfg.gateway, self.cfg.port)[0][-1]
            a4500 = socket.getaddrinfo(self.cfg.gateway, self.cfg.natt_port)[0][-1]
        except OSError as e:
            raise ProtocolError("cannot resolve gateway %r: %s"
                                % (self.cfg.gateway, e))
        self.addrs = {self.cfg.port: a500, self.cfg.natt_port: a4500}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind(socket.getaddrinfo(self.cfg.local_ip or "0.0.0.0",
                                              self.cfg.local_port)[0][-1])
        except OSError as e:
            self.sock.close()
            raise ProtocolError("cannot bind UDP port %d: %s"
                                % (self.cfg.local_port, e))
        _tidy()
        self.poll = select.poll()
        self.poll.register(self.sock, select.POLLIN)
        # our address and port for NAT detection, when we can know them
        cfg = self.cfg
        try:
            host, port = self.sock.getsockname()  # CPython only
            local = IP.aton(cfg.local_ip or host), port
            if local[0] == bytes(4):
                local = None
        except (AttributeError, ValueError, OSError):
            local = None
            if cfg.local_ip and cfg.local_port:
                local = IP.aton(cfg.local_ip), cfg.local_port
        self.session = Session(cfg, self.c, self.rng, _addr_ip(a500), local)
        if trace is not None:
            self.trace = trace
            trace.attach(self)
        self.queued = []
        self.rxq = []
        self.pongs = {}
        self.icmp_seq = 0
        self.ident = self.rng(2)[0] << 8 | 1
        self.down_reason = None
        self.sent_packets = self.recv_packets = 0
        # MicroPython: recvfrom needs 2 KB in one piece, and a fragmented
        # heap may have the room but not in one piece (many small records
        # held across garbage, as under loss).  This block, made while the
        # heap is clean, is given back when that happens (_recv).
        self._reserve = bytearray(2048)

    def _now(self):
        # milliseconds since creation, monotonic, safe across ticks_ms wrap
        t = ticks_ms()
        self._ms += ticks_diff(t, self._ticks) * _TICK_MS
        self._ticks = t
        return int(self._ms)

    def _say(self, msg):
        if self.log:
            self.log(msg)

    # ------------------------------------------------------------ loop
    def _flush(self):
        s = self.session
        for data, port in s.out:
            try:
                self.sock.sendto(data, self.addrs[port])
                self.send_error = None
            except OSError as e:  # no route, no interface: as if lost
                self.send_error = _oserr(e)
                self._say("send failed: %s" % self.send_error)
        s.out = []

    def step(self, max_ms):
        # one turn of the loop: send, wait for a datagram or a deadline
        s = self.session
        self._flush()
        if s.state == CONNECTING:
            s.prepare()  # the next step's code, while the gateway answers
        now = self._now()
        wait = max_ms
        d = s.deadline()
        if d is not None:
            wait = max(0, min(wait, d - now))
        for _ in self.poll.poll(wait):
            if s.state != ESTABLISHED:
                # an IKE response whose processing keeps state (keys, the
                # Child SA): a handful per tunnel, not per ESP packet
                _tidy()
            try:
                data, addr = self._recv()
            except OSError:
                continue
            s.receive(data, _addr_port(addr), self._now())
            data = None
            if self._reserve is None:
                try:  # reserve a block again for the next time
                    self._reserve = bytearray(2048)
                except MemoryError:
                    pass
        now = self._now()
        d = s.deadline()
        if d is not None and now >= d:
            s.timeout(now)
        self._flush()
        self._events()

    def _recv(self):
        try:
            return self.sock.recvfrom(2048)
        except MemoryError:
            if self._reserve is None:
                raise
            self._reserve = None  # its block is free after this collection
            _tidy()
            return self.sock.recvfrom(2048)

    def _events(self):
        s = self.session
        evs = s.events
        s.events = []
        err = None
        for kind, v in evs:
            if kind != "ip" and self.trace is not None:
                self.trace.event(self._now(), kind, v)
            if kind == "ip":
                self._inner(v)
            elif kind == "up":
                _tidy()
                self._say("tunnel up: virtual IP %s, ESP SPIs in %s out %s, "
                          "%d ms" % (v["virtual_ip"], v["esp_spi_in"],
                                     v["esp_spi_out"], v["handshake_ms"]))
                q = self.queued
                self.queued = []
                for build in q:
                    self._send_ip(build())
            elif kind == "down":
                self.down_reason = v
                self._say("tunnel down: %s" % v)
            elif kind == "error":
                err = v
            elif kind == "rekeyed":
                self._say("Child SA rekeyed by %s: new inbound SPI %s"
                          % ("us" if v[1] else "the gateway", v[0]))
            elif kind == "ike_rekeyed":
                self._say("IKE SA rekeyed by %s: new SPIs %s"
                          % ("us" if v[1] else "the gateway", v[0]))
            elif kind == "child_down":
                self._say("Child SA down: %s" % v)
        if err is not None:
            if self.send_error is not None and type(err) is ProtocolError:
                # "no response" because nothing could be sent: say why
                err = ProtocolError("%s; the last send failed: %s"
                                    % (err, self.send_error))
            raise err

    def _inner(self, pkt):
        from . import packet as P  # loaded once the tunnel carries traffic

        r = P.parse_ipv4(pkt)
        if r is None:
            self.inner_dropped += 1
            return
        src, dst, proto, payload = r
        if dst != self.inner_ip():
            return  # not for us: inbound policy check
        self.recv_packets += 1
        if proto == P.PROTO_ICMP:
            e = P.parse_icmp_echo(payload)
            if e and e[0] == P.ICMP_ECHO_REPLY and e[1] == self.ident:
                self.pongs[e[2]] = self._now()
        elif proto == P.PROTO_UDP:
            u = P.parse_udp(src, dst, payload)
            if u and u[1] == _INNER_PORT and len(self.rxq) < 32:
                self.rxq.append((u[2], (IP.ntoa(src), u[0])))

    def inner_ip(self):
        s = self.session
        if s.vip:
            return IP.aton(s.vip)
        if self.cfg.local_ip:
            return IP.aton(self.cfg.local_ip)
        return bytes(4)

    # ------------------------------------------------------------ API
    def is_up(self):
        return self.session.state == ESTABLISHED and self.session.child is not None

    def up(self, timeout_ms=30000):
        s = self.session
        if self.is_up():
            return s.info()
        if s.state == CLOSED:
            raise ProtocolError("the tunnel is closed: %s" % self.down_reason)
        if s.state == 0:
            self._say("connecting to %s" % self.cfg.gateway)
            s.connect(self._now())
        end = self._now() + timeout_ms
        while not self.is_up():
            if s.state == CLOSED:
                raise ProtocolError("tunnel down: %s" % self.down_reason)
            left = end - self._now()
            if left <= 0:
                raise ProtocolError("no tunnel after %d ms" % timeout_ms)
            self.step(min(left, 1000))
        return s.info()

    def reconnect(self):
        # a new IKE SA (new SPIs, INITIAL_CONTACT) once the old one is gone:
        # deleted by the gateway, or the gateway declared dead
        old = self.session
        self.session = Session(self.cfg, self.c, self.rng, old.remote_ip,
                               old.local)
        self.session.trace = self.trace
        self.down_reason = None
        self._say("reconnecting to %s" % self.cfg.gateway)
        self.session.connect(self._now())

    def _send_ip(self, pkt):
        if self.session.send_ip(pkt, self._now()):
            self.sent_packets += 1
            self._flush()
            return True
        return False

    def send_ip(self, pkt):
        # an inner IPv4 packet; the first one that matches the policy
        # brings the tunnel up
        return self._send_or_queue(lambda: pkt)

    def _send_or_queue(self, build):
        # build() makes the packet when it can be sent: a packet queued
        # while the tunnel comes up gets the virtual IP as its source
        if self.is_up():
            return self._send_ip(build())
        if len(self.queued) >= _MAX_QUEUED:
            return False
        self.queued.append(build)
        if self.session.state == 0:
            self.session.connect(self._now())
        return True

    def ping(self, addr, timeout_ms=3000, size=56):
        # one ICMP echo through the tunnel: round-trip ms, or None if lost.
        # The first one also waits for the tunnel it triggers.
        self.icmp_seq = (self.icmp_seq + 1) & 0xFFFF
        seq = self.icmp_seq
        t0 = self._now()
        if not self.is_up():
            self._send_or_queue(lambda: self._icmp(addr, seq, size))
            self.up(timeout_ms + 30000)
        elif not self._send_ip(self._icmp(addr, seq, size)):
            return None
        end = self._now() + timeout_ms
        while seq not in self.pongs and self._now() < end:
            self.step(min(100, max(0, end - self._now())))
        t1 = self.pongs.pop(seq, None)
        return None if t1 is None else t1 - t0

    def _icmp(self, addr, seq, size):
        from . import packet as P

        src = self.inner_ip()
        data = bytearray(size)
        for i in range(size):
            data[i] = i & 0xFF
        return P.ipv4(src, IP.aton(addr), P.PROTO_ICMP,
                      P.icmp_echo(self.ident, seq, data), seq)

    def sendto(self, data, addr):
        # one UDP datagram through the tunnel to addr = (ip, port)
        if not self.is_up():
            self.up()
        from . import packet as P

        src, dst = self.inner_ip(), IP.aton(addr[0])
        pkt = P.ipv4(src, dst, P.PROTO_UDP,
                     P.udp(src, dst, _INNER_PORT, addr[1], data))
        return self._send_ip(pkt)

    def recvfrom(self, timeout_ms=1000):
        end = self._now() + timeout_ms
        while not self.rxq:
            left = end - self._now()
            if left <= 0:
                return None
            self.step(min(left, 100))
        return self.rxq.pop(0)

    def run(self, ms):
        # keep the tunnel serviced (keepalives, gateway requests) for ms
        end = self._now() + ms
        while self._now() < end:
            self.step(min(200, max(0, end - self._now())))

    def stats(self):
        s = self.session
        d = s.info()
        ch = s.child
        d["packets_sent"] = self.sent_packets
        d["packets_received"] = self.recv_packets
        if ch:
            d["esp_rx_bad_icv"] = ch.rx_bad_icv
            d["esp_rx_replay"] = ch.rx_replay
        d["ike_dropped"] = s.dropped
        d["policy_drops"] = s.policy_drops
        d["inner_dropped"] = self.inner_dropped
        return d

    def close(self, timeout_ms=3000):
        s = self.session
        try:
            if s.state == ESTABLISHED:
                s.close(self._now())
                end = self._now() + timeout_ms
                while s.state != CLOSED and self._now() < end:
                    self.step(100)
        except (IKEError, MemoryError) as e:
            # the Delete is out; only its answer is not waited for
            self._say("close: %s" % e)
        finally:
            self.sock.close()
