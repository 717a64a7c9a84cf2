# A record of what the session sent and received, for the sequence
# diagram (tools/trace.py draws it as HTML and SVG) and, only when asked
# for, the keys Wireshark needs to decrypt a capture of it.
#
#   t = Trace()                  the host: keep everything
#   t = Trace(limit=32)          a device: the last 32 IKE records and the
#                                last 32 ESP packets, in two rings
#   c = Client(cfg, trace=t)     the client feeds it (session.py, client.py)
#   t.dump(f)                    JSON, for `ikev2-trace render`
#
# Recording is frugal, for a device: an IKE message is kept as its own
# encoding in clear (the library's encoder; for a message that travels in
# SK, the inner payloads as if unencrypted), and an ESP packet as 33
# packed bytes.  tracefmt.py turns the saved trace into field-level
# records with the library's own decoder: there is no second parser.
#
# Secrets never enter a record: nonces and AUTH values are zeroed (their
# length is kept), and keys are recorded only with keys=True, the opt-in
# Wireshark export, in a list of their own that the rings never drop.
#
# The saved form (dump), one JSON list per record, in order:
#   ["ike", t, dir, bytes on the wire, fragments, encrypted, hex, skipped]
#   ["esp", t, dir, spi, seq, length, [proto, src, dst, length, a, b]]
#       (the inner IPv4 packet; a, b: ICMP type and sequence, or UDP ports)
#   ["retx", t, dir, exchange, message ID, n, length]   a retransmission:
#       "out" our request again; "in" the gateway's again (we answered
#       from our cache)
#   ["drop", t, what ("ike"/"esp"), why, a, b]   why: a text, or a number
#       that tracefmt.py explains (with a and b)
#   ["ev", t, what, value]     the client's events: up (in brief, see
#       tracefmt.UP), down, error, rekeyed, ike_rekeyed, child_down
#   ["keepalive", t]           a NAT keepalive sent
# t: the session's milliseconds; dir: "out" (to the gateway) or "in".
from struct import pack, unpack
from . import const as C
from . import message as M
from .ip import ntoa

_ESP = ">IIBII4sB4s4sHHH"  # n, t, out, seq, length, spi, inner packet
_T = 0xFFFFFFFF  # times kept in 32 bits: 49 days


def _h(b):
    return bytes(b).hex()


class Trace:
    def __init__(self, limit=0, keys=False):
        self.limit = limit    # 0: keep everything; N: the last N of each
        self.keys = keys      # record keys for Wireshark (sensitive)
        self.records = []     # (n, record list): IKE, events, drops
        self.packets = []     # packed ESP records
        self.keyrecs = []     # never dropped by the rings
        self.lost = 0         # records the rings dropped
        self.meta = {}        # the driver's: addresses
        self.n = 0
        self._seen = []       # SAs whose keys are recorded

    def attach(self, client):
        # called by the Client it records
        s = client.session
        s.trace = self
        self.meta["initiator"] = ntoa(s.local[0]) if s.local else None
        self.meta["responder"] = ntoa(s.remote_ip)

    def _add(self, ring, rec):
        if self.limit and len(ring) >= self.limit:
            ring.pop(0)
            self.lost += 1
        ring.append(rec)

    def add(self, rec):
        self.n += 1
        self._add(self.records, (self.n, rec))

    # ------------------------------------------------------------ hooks
    def ike(self, s, now, msg, wire):
        # a whole IKE message: one we send (before encryption; wire: its
        # datagrams, [(bytes, port)]) or one we received (decrypted and
        # reassembled; wire: the datagram, or for fragments frag.py's
        # (count, bytes) on msg.frags)
        if self.keys:
            self.export(s, now)
        out = isinstance(wire, list)
        if out:
            size = 0
            for d, _ in wire:
                size += len(d)
            frags = len(wire) if len(wire) > 1 else 0
        else:
            frags, size = getattr(msg, "frags", None) or (0, len(wire))
        from .payloads import Auth, Nonce

        pl = []
        for p in msg.payloads:  # the secrets zeroed, their length kept
            if p.TYPE == C.PT_NONCE:
                p = Nonce(bytes(len(p.data)))
            elif p.TYPE == C.PT_AUTH:
                p = Auth(p.method, bytes(len(p.data)))
            pl.append(p)
        m = M.Message(msg.exchange, msg.spi_i, msg.spi_r, msg.mid, msg.flags,
                      pl)
        try:
            data = M.encode(m)
        except ValueError:  # never let the trace break the session
            data = b""
        self.add(["ike", now, "out" if out else "in", size, frags,
                  msg.encrypted, data, list(msg.unknown)])

    def retx(self, now, out, ex, mid, n, size):
        self.add(["retx", now, "out" if out else "in", ex, mid, n, size])

    def esp(self, s, now, out, pkt, inner, ch=None):
        # an ESP packet and its inner IPv4 packet, in 33 bytes; for one that
        # came in, inner is decap()'s result: None when dropped (ch: its
        # Child SA, if the SPI is known)
        if not out:
            if inner is None:
                if ch is None:
                    self.drop(now, "esp", 10, _h(pkt[:4]))
                else:
                    self.drop(now, "esp", 11, ch.rx_bad_icv, ch.rx_replay)
                return
            inner = inner[1]
        if self.keys:
            self.export(s, now)
        proto = a = b = 0
        src = dst = bytes(4)
        n = len(inner)
        if n >= 20 and inner[0] >> 4 == 4:
            h = (inner[0] & 15) * 4
            proto = inner[9]
            src, dst = bytes(inner[12:16]), bytes(inner[16:20])
            if n >= h + 8 and proto in (1, 17):
                a, b = unpack(">HH", inner[h:h + 4])
                if proto == 1:  # ICMP: type, sequence
                    a, b = a >> 8, unpack(">H", inner[h + 6:h + 8])[0]
        self.n += 1
        self._add(self.packets, pack(
            _ESP, self.n & _T, now & _T, 1 if out else 0,
            unpack(">I", pkt[4:8])[0], len(pkt), pkt[:4], proto, src, dst, n,
            a, b))

    def drop(self, now, what, why, a=0, b=0):
        if not isinstance(why, int):
            why = str(why)
        self.add(["drop", now, what, why, a, b])

    def event(self, now, what, v=None):
        if isinstance(v, Exception):
            v = str(v)
        elif what == "up":  # the info dict, in brief (tracefmt.UP)
            v = [v["handshake_ms"], v["ike"], v["esp"], v["virtual_ip"],
                 v["esp_spi_in"], v["esp_spi_out"]]
        self.add(["ev", now, what, v])

    def keepalive(self, now):
        self.add(["keepalive", now])

    # ------------------------------------------------------------ keys
    def export(self, s, now):
        # the keys of every SA not yet recorded (Wireshark's
        # ikev2_decryption_table and esp_sa): only with keys=True
        h = _h
        k = s.keys
        if k is not None and s.spi_r != bytes(8):
            sa = s.spi_i + s.spi_r
            if sa not in self._seen:
                self._seen.append(sa)
                su = s.ike_suite
                self.keyrecs.append({
                    "sa": "ike", "t": now, "spi_i": h(s.spi_i),
                    "spi_r": h(s.spi_r), "encr": su.encr, "keylen": su.keylen,
                    "integ": su.integ, "sk_ei": h(k.sk_ei), "sk_er": h(k.sk_er),
                    "sk_ai": h(k.sk_ai), "sk_ar": h(k.sk_ar)})
        for ch in [s.child, s.next_child] + s.old_children:
            if ch is None or ch.spi_in in self._seen:
                continue
            self._seen.append(ch.spi_in)
            su = ch.suite
            r = {"sa": "esp", "t": now, "spi_in": h(ch.spi_in),
                 "spi_out": h(ch.spi_out), "encr": su.encr,
                 "keylen": su.keylen, "integ": su.integ}
            if ch.gcm:  # Wireshark wants the salt after the key
                r["k_out"] = h(ch.k_out + ch.salt_out)
                r["k_in"] = h(ch.k_in + ch.salt_in)
            else:
                r["k_out"], r["k_in"] = h(ch.k_out), h(ch.k_in)
                r["a_out"], r["a_in"] = h(ch.a_out), h(ch.a_in)
            self.keyrecs.append(r)

    # ------------------------------------------------------------ output
    def _saved(self, rec):
        # a record in its saved form (see the top of this file)
        if isinstance(rec, tuple):
            rec = rec[1]
            if rec[0] == "ike":
                rec = rec[:6] + [_h(rec[6]), rec[7]]
            return rec
        (_, t, out, seq, size, spi, proto, src, dst, n, a,
         b) = unpack(_ESP, rec)
        ip = [proto, "%d.%d.%d.%d" % tuple(src), "%d.%d.%d.%d" % tuple(dst),
              n, a, b] if proto else None
        return ["esp", t, "out" if out else "in", _h(spi), seq, size, ip]

    def dump(self, f):
        # JSON, written record by record (a device has little room)
        import json

        f.write('{"trace": 2, "lost": %d, "limit": %d, "meta": %s'
                % (self.lost, self.limit, json.dumps(self.meta)))
        if self.keys:
            f.write(', "keys": %s' % json.dumps(self.keyrecs))
        f.write(', "records": [')
        a, b = self.records, self.packets
        i = j = 0
        sep = "\n"
        while i < len(a) or j < len(b):
            if j >= len(b) or (i < len(a) and a[i][0] < unpack(">I", b[j][:4])[0]):
                rec = a[i]
                i += 1
            else:
                rec = b[j]
                j += 1
            f.write(sep + json.dumps(self._saved(rec)))
            sep = ",\n"
        f.write("]}\n")
