# The sans-IO IKE SA of an initiator.  It never touches sockets, clocks or
# randomness of its own: the driver (client.py) feeds it datagrams and the
# time in milliseconds, and takes from it
#   .out     datagrams to send: (bytes, destination port 500 or 4500)
#   .events  (kind, value): "up" (info dict), "ip" (inner IPv4 packet),
#            "down" (reason), "error" (an IKEError), "child_down"
#   deadline()  when timeout() must be called next (ms) or None.
#
# Exchanges are tasks (ikeinit.py, tasks.py), one request in flight at a
# time (window of 1, RFC 7296 2.3).  Every state change happens in this
# file.
from . import _collect_every, _forget, _tidy
from . import const as C
from . import message as M
from .errors import IKEError, DecodeError, ProtocolError
from .payloads import Notify, Delete

IDLE = 0
CONNECTING = 1
ESTABLISHED = 2
CLOSING = 3
CLOSED = 4
STATE_NAMES = ("idle", "connecting", "established", "closing", "closed")

_HOST = __import__("sys").implementation.name != "micropython"
NON_ESP_MARKER = b"\x00\x00\x00\x00"
KEEPALIVE = b"\xff"


# modules only the handshake needs: IKE_SA_INIT's (ikeinit.py and the DH
# code), dropped once it is over, then IKE_AUTH's (tasks.py)
# (not the native DH code, crypto/ecnative.py: the machine code of an
# imported .mpy takes executable memory that is never freed, on an ESP32
# as on the unix port, so it is imported once and kept)
INIT_MODULES = ("ikev2.ikeinit", "ikev2.crypto.dh", "ikev2.crypto.x25519",
                "ikev2.crypto.p256", "ikev2.crypto.modp")
# (certificates: certauth.py's modules, named in one long string: a short
# string constant is interned, and a PSK device need not hold these names)
_HANDSHAKE = INIT_MODULES + ("ikev2.tasks",) + tuple(
    "ikev2.certauth ikev2.x509 ikev2.der ikev2.crypto.ecdsa ikev2.crypto.rsa "
    "ikev2.crypto.sig ikev2.frag".split())
# and what a rekey loads (rekey.py, the DH code), dropped after each one:
# a tunnel rekeys every hour or so, and reloading costs milliseconds
REKEY_MODULES = ("ikev2.rekey", "ikev2.rekeyike", "ikev2.rekeyown") + INIT_MODULES[1:]


def _ike_auth(s):
    # IKE_AUTH's task, made once IKE_SA_INIT is over: its module is loaded
    # only after IKE_SA_INIT's is dropped, and into the room it left
    _tidy()
    from .tasks import IkeAuth

    return IkeAuth(s)


def new_spi(rng, n):
    # a random SPI, never zero (and never a reserved ESP value < 256)
    while True:
        s = bytes(rng(n))
        if int.from_bytes(s, "big") >= 256:
            return s


class Session:
    # a trace.Trace when recording is on (Trace.attach); a class default,
    # so that a session without one has no slot for it
    trace = None
    # ESP datagrams whose SPI is no Child SA of ours (nothing decrypted);
    # the Child SAs count their own drops (bad ICV, replay, malformed)
    esp_unknown_spi = 0

    def __init__(self, cfg, crypto, rng, remote_ip, local=None):
        # remote_ip: the gateway's IPv4 address (4 bytes); local: our
        # (IPv4 bytes, port) when the driver knows it, else None (the NAT
        # detection then reports a NAT, which only forces UDP encapsulation)
        self.cfg = cfg
        self.c = crypto
        self.rng = rng
        self.remote_ip = bytes(remote_ip)
        self.local = local
        self.state = IDLE
        self.out = []
        self.events = []
        self.spi_i = new_spi(rng, 8)
        self.spi_r = bytes(8)
        self.natt = False
        self.mid = 0            # our next request's message ID
        self.peer_mid = 0       # the next request ID we expect from the peer
        self.cached = None      # (mid, [datagrams]) our last response
        self.tasks = []
        self.pending = None     # the task whose request is in flight
        self.req = None         # its datagrams
        self.tries = 0
        self.sent_at = self.rtx_at = None
        self.tx = self.rx = None  # sk.Cipher per direction
        self.keys = self.ike_suite = None
        self.ni = self.nr = None  # the nonces
        self.real1 = self.real2 = None  # the IKE_SA_INIT messages, for AUTH
        self.child = None
        self.vip = None
        self.dns = []
        self.ts_i = self.ts_r = None
        self.last_tx = 0
        self.started = None
        self.up_ms = None
        self.dropped = 0        # IKE datagrams ignored (bad SPI, ICV, ...)
        self.policy_drops = 0   # outbound packets outside the TSr
        self.old_children = []  # rekeyed Child SAs, inbound until deleted
        self.next_child = None  # made by the gateway's rekey: inbound now,
        # outbound once it carries traffic or the old one is deleted
        self.rekeys = 0         # Child SA rekeys answered
        self.our_rekeys = 0     # Child SA rekeys we started
        self.ike_rekeys = 0     # IKE SA rekeys, either side
        self.our_ike_rekeys = 0  # of which we started
        self.we_init = True     # we are the original initiator of this IKE
        # SA (after the gateway rekeys it, the gateway is: RFC 7296 2.18)
        self.retiring = []      # rekeyed IKE SAs, until deleted (rekey.py)
        self.child_rekey_at = self.child_expire_at = self.ike_rekey_at = None
        self.last_rx = 0        # when the gateway was last heard (ms)
        self.liveness_checks = 0
        self.unanswered = 0     # our first ESP packet since last_rx (ms)
        self.bytes_ike = 0      # IKE bytes sent and received
        self.frag = None        # IKE fragmentation (frag.py), once both
        # sides support it: [fragments sent, received, Reassembler or None]
        self.peer_hashes = b""  # SIGNATURE_HASH_ALGORITHMS data (RFC 7427)
        self.auth = None        # {"method": our AUTH method, and with a
        # certificate "peer_cert", "dates_checked"} (tasks.py, certauth.py)
        # (a driver may set .wall: () -> seconds since 1970 or None for an
        # unset clock, for certificate dates; else certauth.device_time())
        # (every attribute is made here: MicroPython then sizes the
        # instance's table once, while the heap is clean)

    # ------------------------------------------------------------ API
    def connect(self, now):
        if self.state != IDLE:
            raise ProtocolError("connect() on a %s session"
                                % STATE_NAMES[self.state])
        _tidy()
        _collect_every(-1)  # not for the DH arithmetic: it keeps nothing
        from .ikeinit import IkeInit

        if _HOST:
            # CPython keeps every module: IKE_AUTH's code and the ESP code
            # are loaded now, before the first request, not while the
            # gateway waits (MicroPython loads them one phase at a time)
            from . import esp, tasks  # noqa: F401
        self.state = CONNECTING
        self.started = now
        self.tasks = [IkeInit(self), _ike_auth]
        self._next(now)

    def close(self, now, reason="closed by us"):
        # graceful close: Delete for the IKE SA (and with it the Child SA)
        if self.state == ESTABLISHED:
            self.state = CLOSING
            self.tasks = [DeleteIke(self, reason)]
            if self.pending is None:
                self._next(now)
        elif self.state != CLOSING:
            self._closed("closed")

    def prepare(self):
        # the driver calls this while it waits for the gateway's answer:
        # the request in flight may load the code that its response needs
        # (IKE_AUTH's task, the ESP code), in time the round trip costs
        # anyway instead of after the response
        p = getattr(self.pending, "prepare", None)
        if p is not None and self.state == CONNECTING:
            p()

    def send_ip(self, pkt, now):
        # an inner IPv4 packet for the tunnel; False if there is no Child SA
        if self.child is None or self.state != ESTABLISHED:
            return False
        if not self._outbound_ok(pkt):
            self.policy_drops += 1
            return False
        esp = self.child.encap(pkt)
        if esp is None:
            return False
        if self.trace:
            self.trace.esp(self, now, True, esp, pkt)
        self._emit(esp, self.cfg.natt_port, now)
        if self.unanswered <= self.last_rx:
            self.unanswered = now
        self._volume(self.child, now)
        return True

    def _outbound_ok(self, pkt):
        # RFC 4301 outbound policy: the destination must be inside the
        # (possibly narrowed) TSr the gateway agreed to
        if len(pkt) < 20:
            return False
        dst = pkt[16:20]
        for ts in self.ts_r or ():
            if ts.ts_type == C.TS_IPV4_ADDR_RANGE and ts.start <= dst <= ts.end:
                return True
        return False

    def receive(self, data, port, now):
        if port == self.cfg.natt_port:
            if data[:4] == NON_ESP_MARKER:
                data = data[4:]
            elif data == KEEPALIVE:
                return
            else:  # ESP, on the current Child SA or one being replaced
                ch = None
                for o in [self.child, self.next_child] + self.old_children:
                    if o is not None and o.spi_in == data[:4]:
                        ch = o
                        break
                if ch is None:
                    self.esp_unknown_spi += 1
                    r = None
                else:
                    r = ch.decap(data)
                if self.trace:
                    self.trace.esp(self, now, False, data, r, ch)
                if r is not None:
                    self.last_rx = now
                    if ch is self.next_child:
                        self.promote()
                    self._volume(ch, now)
                if r is not None and r[0] == 4:
                    self.events.append(("ip", r[1]))
                return
        try:
            self._ike(data, now)
        except IKEError as e:
            self._fail(e, now)

    def deadline(self):
        d = self.rtx_at
        if self.natt and self.cfg.keepalive and self.state == ESTABLISHED:
            k = self.last_tx + int(self.cfg.keepalive * 1000)
            d = k if d is None or k < d else d
        if self._idle():
            k = self._dpd_at()
            d = k if d is None or k < d else d
        if self.state == ESTABLISHED:
            ks = [self.child_expire_at]
            if self.pending is None and not self.tasks:  # else: when free
                ks += [self.child_rekey_at, self.ike_rekey_at]
            for k in ks:
                if k is not None and (d is None or k < d):
                    d = k
        for o in self.retiring:
            if o.rtx_at is not None and (d is None or o.rtx_at < d):
                d = o.rtx_at
        return d

    def _idle(self):
        # established, liveness checks on, and no exchange of ours running
        return (self.state == ESTABLISHED and self.cfg.dpd_delay > 0
                and self.pending is None and not self.tasks)

    def _dpd_at(self):
        # our liveness check is due dpd_delay after we last heard the
        # gateway, or sooner when we have been sending ESP since without a
        # word back (RFC 7296 2.4: outgoing traffic alone must have the
        # peer's liveness confirmed): a NAT that changed our port, a
        # gateway that lost us.  Its answer, from the new port, also makes
        # the gateway update our address (RFC 7296 2.23).
        k = self.last_rx + int(self.cfg.dpd_delay * 1000)
        if self.unanswered > self.last_rx and self.cfg.dpd_unanswered:
            u = self.unanswered + int(self.cfg.dpd_unanswered * 1000)
            if u < k:
                k = u
        return k

    def timeout(self, now):
        if self.rtx_at is not None and now >= self.rtx_at:
            if self.tries >= self.cfg.retransmit_tries:
                waited = (now - self.sent_at) // 1000
                self._fail(ProtocolError(
                    "no response from the gateway to %s after %d "
                    "retransmissions (%d s)" % (self.pending.NAME, self.tries,
                                                waited)), now)
                return
            self.tries += 1
            self._transmit(now)
        for o in list(self.retiring):
            o.timeout(self, now)
        if self.state == ESTABLISHED and self._lifetimes(now):
            return
        if self._idle() and now >= self._dpd_at():
            # our liveness check (RFC 7296 1.4): an empty INFORMATIONAL
            # request; if its retransmissions run out, the gateway is
            # declared dead (the "no response" failure above)
            self.liveness_checks += 1
            self.tasks.append(Liveness(self))
            self._next(now)
        if (self.natt and self.cfg.keepalive and self.state == ESTABLISHED
                and now - self.last_tx >= int(self.cfg.keepalive * 1000)):
            # RFC 3948 4: NAT keepalive, a single 0xFF octet
            self._emit(KEEPALIVE, self.cfg.natt_port, now)
            if self.trace:
                self.trace.keepalive(now)

    def _lifetimes(self, now):
        # our own rekeys (rekey.py) when a soft lifetime or a volume limit
        # is reached; True if the session failed on a hard lifetime
        if self.child_expire_at is not None and now >= self.child_expire_at:
            self._fail(ProtocolError("the Child SA reached its hard lifetime "
                                     "(life_time) without a rekey"), now)
            return True
        if self.pending is not None or self.tasks:
            return False
        if (self.child is not None and self.child_rekey_at is not None
                and now >= self.child_rekey_at):
            from .rekeyown import RekeyChild

            self.promote()
            self.child_rekey_at = None
            self.tasks.append(RekeyChild(self, self.child))
        elif self.ike_rekey_at is not None and now >= self.ike_rekey_at:
            from .rekeyike import RekeyIke

            self.ike_rekey_at = None
            self.tasks.append(RekeyIke(self))
        self._next(now)
        return False

    def soft(self, secs, now):
        # when a soft lifetime of secs runs out: up to rekey_jitter earlier,
        # at random, so that many devices (and the gateway) do not rekey
        # in step; None if secs is 0 (off)
        if not secs:
            return None
        j = self.cfg.rekey_jitter * self.rng(1)[0] / 255
        return now + int(secs * (1 - j) * 1000)

    def child_timers(self, now):
        cfg = self.cfg
        self.child_rekey_at = self.soft(cfg.rekey_time, now)
        life = cfg.life_time or cfg.rekey_time * 1.1
        self.child_expire_at = now + int(life * 1000) if life else None

    def _volume(self, ch, now):
        # byte and packet limits, and a sequence number near its end
        # (RFC 4303 3.3.3): rekey the Child SA now
        cfg = self.cfg
        if ch is self.child and not ch.rekeying and (
                (cfg.rekey_bytes and ch.tx_bytes + ch.rx_bytes >= cfg.rekey_bytes)
                or (cfg.rekey_packets and
                    ch.tx_packets + ch.rx_packets >= cfg.rekey_packets)
                or ch.seq >= 0xFFFF0000):
            ch.rekeying = True
            self.child_rekey_at = now

    def info(self):
        ch = self.child
        return {
            "state": STATE_NAMES[self.state],
            "ike_spi_i": self.spi_i.hex(), "ike_spi_r": self.spi_r.hex(),
            "ike": self.ike_suite.name() if self.keys else None,
            "esp": ch.suite.name() if ch else None,
            "esp_spi_in": ch.spi_in.hex() if ch else None,
            "esp_spi_out": ch.spi_out.hex() if ch else None,
            "esp_unknown_spi": self.esp_unknown_spi,
            "esp_rx_malformed": ch.rx_malformed if ch else 0,
            "virtual_ip": self.vip, "dns": self.dns, "natt": self.natt,
            "handshake_ms": self.up_ms, "ike_bytes": self.bytes_ike,
            "child_rekeys": self.rekeys + self.our_rekeys,
            "child_rekeys_ours": self.our_rekeys, "ike_rekeys": self.ike_rekeys,
            "ike_rekeys_ours": self.our_ike_rekeys,
            "liveness_checks": self.liveness_checks,
            "auth": self.auth,
            "fragments": self.frag[:2] if self.frag else None,
        }

    # ------------------------------------------------------------ internals
    def _drop(self, now, why, a=0, b=0):
        # an IKE datagram ignored: counted, and traced with the reason (an
        # exception, or a number that tracefmt.py explains with a and b)
        self.dropped += 1
        if self.trace:
            self.trace.drop(now, "ike", why, a, b)

    def _emit(self, data, port, now):
        self.out.append((data, port))
        self.last_tx = now

    def _frame(self, data):
        # IKE on port 4500 carries the non-ESP marker (RFC 3948 2.2)
        if self.natt:
            return NON_ESP_MARKER + data, self.cfg.natt_port
        return data, self.cfg.port

    def _next(self, now):
        # start the next queued task: build, encode and send its request
        while self.tasks and self.pending is None:
            t = self.tasks.pop(0)
            if callable(t):  # made when due, see _ike_auth
                t = t(self)
            self._send_request(t, now)

    def _send_request(self, task, now):
        msg = M.Message(task.EXCHANGE, self.spi_i, self.spi_r, self.mid,
                        self.iflag(), task.build(), task.EXCHANGE != C.IKE_SA_INIT)
        data = M.encode(msg, self.tx if msg.encrypted else None)
        self.pending = task
        self.req = [self._frame(data)]
        if self.frag and msg.encrypted and \
                len(data) > self.cfg.fragment_size - 28 - 4 * self.natt:
            from . import frag  # RFC 7383: too big for one datagram

            self.req = frag.send(self, msg)
        if self.trace:
            self.trace.ike(self, now, msg, self.req)
        self.tries = 0
        self.sent_at = now
        self._transmit(now)

    def _transmit(self, now):
        # first transmission and bit-identical retransmissions with
        # exponential backoff (RFC 7296 2.1)
        if self.tries and self.trace:
            self.trace.retx(now, True, self.pending.EXCHANGE, self.mid,
                            self.tries, len(self.req[0][0]))
        for d, p in self.req:
            self._emit(d, p, now)
            self.bytes_ike += len(d)
        t = self.cfg.retransmit_timeout * (self.cfg.retransmit_base ** self.tries)
        self.rtx_at = now + int(t * 1000)

    def iflag(self):
        # the I flag: set on all we send while we are the IKE SA's original
        # initiator, responses included (RFC 7296 3.1)
        return C.FLAG_INITIATOR if self.we_init else 0

    def resend(self, task, now):
        # a task restarts its exchange (COOKIE, INVALID_KE_PAYLOAD)
        self.pending = None
        self._send_request(task, now)

    def _ike(self, data, now):
        try:
            hdr = M.decode_header(data)
        except DecodeError as e:
            self._drop(now, e)
            return
        spi_i, spi_r, _, ex, flags, mid, _ = hdr
        # (the responder SPI is learnt from IKE_SA_INIT's answer: before
        # the keys exist, any; after, only the one learnt, IKE_AUTH's too)
        if (spi_i != self.spi_i or (spi_r != self.spi_r and (
                self.state != CONNECTING or self.keys is not None))
                or bool(flags & C.FLAG_INITIATOR) == self.we_init):
            for o in self.retiring:  # an IKE SA replaced by a rekey
                if o.spi_i == spi_i and o.spi_r == spi_r:
                    o.receive(self, data, ex, flags, mid, now)
                    return
            self._drop(now, 1)
            return
        self.bytes_ike += len(data)
        if flags & C.FLAG_RESPONSE:
            self._response(data, spi_r, ex, mid, now)
        else:
            self._request(data, ex, mid, now)

    def _response(self, data, spi_r, ex, mid, now):
        t = self.pending
        if t is None or mid != self.mid or ex != t.EXCHANGE:
            self._drop(now, 2, ex, mid)
            return
        if ex == C.IKE_SA_INIT:
            try:
                msg = M.decode(data)
            except DecodeError as e:
                self._drop(now, e)
                return
        else:
            try:
                msg = M.decode(data, self.rx)
                if not msg.encrypted:  # SKF fragments, see frag.py
                    from . import frag

                    msg = frag.receive(self, msg, data, now)
            except DecodeError as e:  # forged, corrupted: keep waiting
                self._drop(now, e)
                return
            if msg is None:  # a fragment, or not encrypted
                return
        if self.trace:
            self.trace.ike(self, now, msg, data)
        if ex == C.IKE_SA_INIT and spi_r != bytes(8):
            self.spi_r = spi_r
        self.last_rx = now
        # the task may call resend() (a new request, same message ID)
        sa = self.spi_i
        done = t.process(msg, data, now)
        kind = getattr(t, "KIND", None)  # a rekey's exchange (rekey.py)
        msg = t = None  # garbage before the next request is built
        if not done:
            return
        if kind:
            _forget(*REKEY_MODULES)
        self.pending = None
        self.req = None
        self.rtx_at = None
        if sa is self.spi_i:  # (an IKE SA rekey starts the new SA at 0)
            self.mid += 1
        self._next(now)

    def _request(self, data, ex, mid, now):
        # requests from the gateway: answer each exactly once; a
        # retransmission gets the cached response (RFC 7296 2.2)
        if self.rx is None:
            self._drop(now, 3)
            return
        if self.cached and mid == self.cached[0]:
            if self.trace:
                self.trace.retx(now, False, ex, mid, 0, len(data))
            for d, p in self.cached[1]:
                self._emit(d, p, now)
            return
        if mid != self.peer_mid:
            self._drop(now, 4, mid, self.peer_mid)
            return
        try:
            msg = M.decode(data, self.rx)
            if not msg.encrypted:  # SKF fragments, see frag.py
                from . import frag

                msg = frag.receive(self, msg, data, now)
        except DecodeError as e:
            self._drop(now, e)
            return
        if msg is None:
            return
        if self.trace:
            self.trace.ike(self, now, msg, data)
        self.last_rx = now
        reply = []
        gone = after = None
        if ex == C.INFORMATIONAL:
            reply, gone = self.deletes(msg)
            if gone:
                gone = "the gateway deleted the IKE SA"
        elif ex == C.CREATE_CHILD_SA:
            # the gateway rekeys a Child SA or the IKE SA (rekey.py); new
            # Child SAs are refused with NO_ADDITIONAL_SAS.  An IKE SA
            # rekey takes effect once its response is out (after()).
            from .rekey import answer

            reply, after = answer(self, msg, now)
            answer = None
            _forget(*REKEY_MODULES)
        else:
            reply.append(Notify(C.N_INVALID_SYNTAX))
        rmsg = M.Message(ex, self.spi_i, self.spi_r, mid,
                         C.FLAG_RESPONSE | self.iflag(),
                         [] if gone else reply, True)
        out = [self._frame(M.encode(rmsg, self.tx))]
        if self.trace:
            self.trace.ike(self, now, rmsg, out)
        self.cached = (mid, out)
        self.peer_mid = mid + 1
        for d, p in out:
            self._emit(d, p, now)
            self.bytes_ike += len(d)
        if after:
            after()
        if gone:
            self._closed(gone)
        elif self.child is None and self.state == ESTABLISHED:
            # the gateway deleted our only Child SA (its hard lifetime, an
            # operator): an IKE SA without one carries nothing, so close
            # it; the driver re-establishes the tunnel
            self.close(now, "the gateway deleted the Child SA")

    def deletes(self, msg):
        # the Delete payloads of an INFORMATIONAL request -> (the response's
        # payloads, whether the IKE SA itself is deleted)
        reply = []
        gone = False
        for d in msg.find_all(Delete):
            if d.protocol == C.PROTO_IKE:
                gone = True
            elif d.protocol == C.PROTO_ESP:
                ours = []
                for spi in d.spis:
                    ch = self.child_by_out(spi)
                    if ch is not None:
                        ours.append(ch.spi_in)
                        self._drop_child(ch)
                if ours:  # RFC 7296 1.4.1: answer with our inbound SPIs
                    reply.append(Delete(C.PROTO_ESP, ours))
        return reply, gone

    def child_by_out(self, spi):
        # the Child SA (current or being replaced) whose outbound SPI is spi
        for ch in [self.child, self.next_child] + self.old_children:
            if ch is not None and ch.spi_out == spi:
                return ch
        return None

    def retire(self, ch):
        # an old Child SA decrypts until it is deleted (RFC 7296 2.8)
        if ch is not None and ch not in self.old_children:
            self.old_children.append(ch)
        if len(self.old_children) > 3:  # a gateway that never deletes
            self.old_children.pop(0)

    def promote(self):
        # the gateway's new Child SA takes the outbound traffic
        if self.next_child is not None:
            self.retire(self.child)
            self.child = self.next_child
            self.next_child = None

    def rekeyed(self, old, new, now, ours=False):
        # After our rekey the new Child SA takes the outbound traffic at
        # once: the gateway installed it before it answered.  After the
        # gateway's, we answer and it installs the SA on our answer: so we
        # keep sending on the old one until the new one carries traffic or
        # the gateway deletes the old one (as strongSwan does as responder),
        # else our first packets could beat our answer and be dropped.
        if old is self.child:
            if ours:
                self.child = new
                self.retire(old)
            else:
                self.promote()
                self.next_child = new
            self.child_timers(now)
        else:
            self.retire(old)
        if ours:
            self.our_rekeys += 1
        else:
            self.rekeys += 1
        self.events.append(("rekeyed", (new.spi_in.hex(), ours)))

    def _drop_child(self, ch):
        if ch is self.child and self.next_child is not None:
            self.promote()  # the gateway deleted the SA its rekey replaced
        if ch is self.child:
            self.child = None
            self.events.append(("child_down", "deleted by the gateway"))
        elif ch is self.next_child:
            self.next_child = None
        if ch in self.old_children:
            self.old_children.remove(ch)

    def established(self, child, now):
        # called by IkeAuth once the IKE SA and the first Child SA are up
        self.child = child
        self.state = ESTABLISHED
        self.up_ms = now - self.started
        self.last_rx = now
        self.child_timers(now)
        self.ike_rekey_at = self.soft(self.cfg.ike_rekey_time, now)
        self.events.append(("up", self.info()))
        _forget(*_HANDSHAKE)
        _collect_every(8192)

    def _closed(self, reason):
        self.state = CLOSED
        self.child = self.next_child = None
        self.old_children = []
        self.retiring = []
        self.tasks = []
        self.pending = None
        self.rtx_at = None
        self.events.append(("down", reason))
        _forget(*_HANDSHAKE)
        _collect_every(8192)

    def _fail(self, err, now):
        # a fatal error: tell the gateway if an IKE SA exists (one Delete,
        # not retransmitted), then close and report
        if self.tx is not None and self.state not in (CLOSED, CLOSING) and \
                not getattr(err, "peer_deleted", False):
            msg = M.Message(C.INFORMATIONAL, self.spi_i, self.spi_r,
                            self.mid if self.pending is None else self.mid + 1,
                            self.iflag(), [Delete(C.PROTO_IKE)], True)
            d, p = self._frame(M.encode(msg, self.tx))
            if self.trace:
                self.trace.ike(self, now, msg, [(d, p)])
            self._emit(d, p, now)
        self._closed(str(err))
        self.events.append(("error", err))


class Liveness:
    # An empty INFORMATIONAL request: any authenticated answer proves the
    # gateway alive (last_rx is updated on receipt).
    NAME = "INFORMATIONAL (liveness check)"
    EXCHANGE = C.INFORMATIONAL

    def __init__(self, s):
        self.s = s

    def build(self):
        return []

    def process(self, msg, raw, now):
        return True


class DeleteIke:
    # The INFORMATIONAL exchange of a graceful close, as a task (tasks.py).
    NAME = "INFORMATIONAL (Delete)"
    EXCHANGE = C.INFORMATIONAL

    def __init__(self, s, reason):
        self.s = s
        self.reason = reason

    def build(self):
        return [Delete(C.PROTO_IKE)]

    def process(self, msg, raw, now):
        self.s._closed(self.reason)
        return True
