# The fuzz targets of issue 9 and the replay of a committed subset of
# their corpus (vectors/fuzz/*.bin), on both runtimes.  tools/fuzz.py runs
# the same targets under atheris (coverage-guided, CPython).  Pass: only
# the library's own errors escape the decoder (DecodeError), nothing at
# all escapes Session.receive() (it drops and counts, or reports an error
# event) or ChildSA.decap() (None and a counter), and the inner IPv4
# parsers return None for what they refuse.  Any other exception
# (IndexError, struct.error, ValueError, KeyError, TypeError...) is a bug.
#
# Three targets; the first bytes of an input choose what it exercises:
#   decoder  b0 % 8: 0 decode(), 1/2 decode() with the CBC/GCM cipher of
#            a recorded IKE SA, 3/4 a Reassembler (CBC/GCM) fed the raw
#            datagram, 5 an authentic SK payload around the plaintext
#            data[2:] (its pad length byte included, first inner type
#            b1), 6 the same as SKF fragment b2 & 7 of b3 & 7 into a
#            long-lived Reassembler, 7 the payload decoder of type b1 on
#            data[2:] alone
#   session  a Session brought by a recorded strongSwan exchange into one
#            of STATES (b0 & 7), recording b0 >> 3 & 1 (CBC with IKE
#            fragmentation on, or GCM), mode b0 >> 4 & 3: 0 data[1:] raw
#            on port 500, 1 raw on 4500, 2 an IKE message whose SK
#            plaintext is data[3:] sealed with the gateway's real keys
#            (b1: exchange, request, Message ID off by one, SKF, port;
#            b2: first inner payload type), 3 an authentic ESP packet on
#            a Child SA of the session around the plaintext data[6:]
#            (b1 bit 0: sequence number data[2:6], else the next one);
#            b0 & 0x40: the datagram twice, b0 & 0x80: timeout() at the
#            next deadline after it
#   esp      ChildSA.decap() of the Child SA of a recorded exchange (b0
#            & 1: CBC+HMAC / GCM), b0 >> 1 & 3: 0 raw packet data[1:],
#            1 raw with the right SPI, 2 authentic around the plaintext
#            data[5:] (padding and next header included, sequence number
#            from data[1:5]), 3 encap(data[1:]) then decap (must
#            round-trip, and a second decap is a replay);
#            what decap() returns goes through ip.parse_ipv4 and the
#            ICMP/UDP parsers
import gc
from struct import pack
from harness import vectors, h, Rng, _HERE
from ikev2 import const as C
from ikev2 import message as M
from ikev2 import ip as IP
from ikev2.config import Config
from ikev2.errors import DecodeError, IKEError
from ikev2.esp import ChildSA
from ikev2.session import (Session, CONNECTING, ESTABLISHED, CLOSED,
                           NON_ESP_MARKER)
from ikev2.sk import Cipher

RECS = ("x25519_cbc.json", "ecp256_gcm.json")
STATES = ("init", "auth", "established", "liveness", "rekey_child",
          "rekey_ike", "closing", "closed")
TARGETS = ("decoder", "session", "esp")
_EX = (C.IKE_SA_INIT, C.IKE_AUTH, C.CREATE_CHILD_SA, C.INFORMATIONAL)


def _hdr(spi_i, spi_r, first, ex, flags, mid, length):
    return pack(">8s8sBBBBII", spi_i, spi_r, first, 0x20, ex, flags, mid,
                length)


def replay(backend, rec, upto):
    # -> (Session, now) brought into the state named upto by the recorded
    # exchange rec (as test_session_replay.py replays it)
    cfg = Config(rec["config"])
    rng = Rng(rec["seed"].encode())
    s = Session(cfg, backend, rng, IP.aton(cfg.gateway), None)
    rng(2)
    now = 1000
    s.connect(now)
    if upto != "init":
        for direction, port, data in rec["log"]:
            if direction == "out":
                continue
            now += 5
            s.receive(h(data), port, now)
            if upto == "auth" and s.rx is not None:
                break
            if s.state == ESTABLISHED and upto != "closed":
                break
            if s.state == ESTABLISHED and s.pending is None:
                s.close(now)  # our Delete meets the recorded answer
        assert s.state == (CONNECTING if upto == "auth" else
                           CLOSED if upto == "closed" else ESTABLISHED)
    now += 10
    if upto == "liveness":
        now = s.last_rx + int(s.cfg.dpd_delay * 1000)
        s.timeout(now)
    elif upto == "rekey_child":
        now = s.child_rekey_at
        s.timeout(now)
    elif upto == "rekey_ike":
        s.child_rekey_at = None
        s.ike_rekey_at = now
        s.timeout(now)
    elif upto == "closing":
        s.close(now)
    if upto in ("liveness", "rekey_child", "rekey_ike", "closing"):
        assert s.pending is not None, upto
    s.out = []
    s.events = []
    return s, now


def fingerprint(s):
    # what an input may change that makes the session another state: a
    # changed fingerprint has the target rebuild it from its template
    ch = s.child
    f = s.frag
    return (s.state, s.mid, s.peer_mid, s.spi_i, s.spi_r, s.we_init,
            None if s.pending is None else type(s.pending).__name__,
            len(s.tasks), s.cached[0] if s.cached else None,
            None if ch is None else ch.spi_in, s.next_child is None,
            len(s.old_children), len(s.retiring),
            None if s.rx is None else s.rx.key,
            f[2].have if f and f[2] is not None else -1)


def sealer(s):
    # a Cipher that protects what the gateway sends (its SK_er, SK_ar)
    rx = s.rx
    if rx.encr == C.ENCR_AES_GCM_16:
        return Cipher(s.c, rx.encr, rx.key + rx.salt)
    return Cipher(s.c, rx.encr, rx.key, C.AUTH_HMAC_SHA2_256_128, rx.ikey,
                  Rng(b"fuzz-iv"))


def raw_seal(cipher, aad, pt):
    # an authentic SK body around pt exactly as given (pt carries its
    # own padding and pad length byte; whole blocks for CBC)
    c = cipher.c
    if cipher.encr == C.ENCR_AES_GCM_16:
        iv = b"\x00\x00\x00\x00fuzz"
        return iv + c.aes_gcm_seal(cipher.key, cipher.salt + iv, aad, pt)
    iv = b"fuzz-iv-16-bytes"
    ct = c.aes_cbc_encrypt(cipher.key, iv, pt)
    return iv + ct + c.hmac_sha256(cipher.ikey, aad + iv + ct)[:16]


def aligned(pt, a, keep=1):
    # pt grown to a multiple of a by zero bytes inserted before its last
    # keep bytes (the pad length, the next header stay the fuzzer's)
    if len(pt) < keep:
        pt = bytes(keep - len(pt)) + pt
    k = -len(pt) % a
    if k:
        pt = pt[:len(pt) - keep] + bytes(k) + pt[len(pt) - keep:]
    if not pt:
        pt = bytes(a)
    return pt


def esp_seal(c, ch, seq, pt):
    # an authentic inbound ESP packet of Child SA ch around the plaintext
    # pt (padding, pad length and next header included)
    pt = aligned(pt, ch.align, 2)
    hdr = ch.spi_in + pack(">I", seq)
    if ch.gcm:
        iv = pack(">II", 0, seq)
        return hdr + iv + c.aes_gcm_seal(ch.k_in, ch.salt_in + iv, hdr, pt)
    iv = pack(">IIII", seq, 1, 2, 3)
    d = hdr + iv + c.aes_cbc_encrypt(ch.k_in, iv, pt)
    return d + c.hmac_sha256(ch.m_in, d)[:16]


def inner_ip(r):
    # what the application does with a decapsulated packet
    if r is None or r[0] != 4:
        return 0
    p = IP.parse_ipv4(r[1])
    if p is None:
        return 1
    src, dst, proto, payload = p
    if proto == IP.PROTO_ICMP:
        IP.parse_icmp_echo(payload)
    elif proto == IP.PROTO_UDP:
        IP.parse_udp(src, dst, payload)
    return 2


class Targets:
    # The three targets over the sessions of the recordings.  keep: how
    # many live sessions to hold (MicroPython: 1, rebuilt by replay).
    keep = 16

    def __init__(self, backend):
        self.b = backend
        self.recs = {}    # the recordings (MicroPython: read when used)
        self.live = {}    # key -> [session, now, fingerprint]
        self.rebuilds = 0
        self.dec = None   # the decoder's ciphers and Reassemblers
        self.esps = None  # the esp target's Child SAs

    # -------------------------------------------------------- sessions
    def build(self, key):
        # -> (session, now) for key = recording * 8 + state; the CBC
        # recording's sessions have IKE fragmentation on (SKF reachable)
        rec = self.recs.get(key >> 3)
        if rec is None:
            rec = vectors("exchanges/" + RECS[key >> 3])
            if self.keep > 1:
                self.recs[key >> 3] = rec
        s, now = replay(self.b, rec, STATES[key & 7])
        rec = None
        if key >> 3 == 0 and s.rx is not None:
            s.frag = [0, 0, None]  # as if both sides announced it
            s.cfg.fragment_size = 576
        return s, now

    def session(self, key):
        e = self.live.get(key)
        if e is None:
            if len(self.live) >= self.keep:
                self.live = {}
                gc.collect()
            self.rebuilds += 1
            s, now = self.build(key)
            e = self.live[key] = [s, now, fingerprint(s)]
        return e

    def established(self, i):
        # an established session of recording i (for its keys)
        return self.session(i * 8 + 2)[0]

    # -------------------------------------------------------- decoder
    def _dec(self):
        if self.dec is None:
            cs = [self.established(0).rx, self.established(1).rx]
            self.dec = [cs, [M.Reassembler(cs[0]), M.Reassembler(cs[1])],
                        [M.Reassembler(cs[0]), M.Reassembler(cs[1])]]
        return self.dec

    def decoder(self, data):
        # -> 0 accepted, 1 DecodeError
        if len(data) < 2:
            return 0
        cs, raws, longs = self._dec()
        mode = data[0] & 7
        b1 = data[1]
        try:
            if mode == 0:
                M.decode(data[1:])
            elif mode < 3:
                M.decode(data[1:], cs[mode - 1])
            elif mode < 5:
                raws[mode - 3].feed(data[1:])
            elif mode < 7:
                c = cs[b1 & 1]
                pt = aligned(data[2:], c.block)
                if mode == 5:
                    sealed = c.iv_len + len(pt) + c.icv_len
                    aad = _hdr(b"I" * 8, b"R" * 8, C.PT_SK, C.IKE_AUTH,
                               C.FLAG_RESPONSE, 1, 32 + sealed) + pack(
                        ">BBH", b1, 0, 4 + sealed)
                    m = M.decode(aad + raw_seal(c, aad, pt), c)
                    assert m.encrypted
                else:
                    num = 1 + ((b1 >> 1) & 7)
                    tot = 1 + ((b1 >> 4) & 7)
                    sealed = c.iv_len + len(pt) + c.icv_len
                    aad = _hdr(b"I" * 8, b"R" * 8, C.PT_SKF, C.IKE_AUTH,
                               C.FLAG_RESPONSE, 1, 36 + sealed) + pack(
                        ">BBHHH", pt[0] if num == 1 else 0, 0, 8 + sealed,
                        num, tot)
                    longs[b1 & 1].feed(aad + raw_seal(c, aad, pt))
            else:
                from ikev2.payloads import payload_class

                cls = payload_class(b1)
                if cls is not None:
                    cls.decode(bytes(data[2:]))
        except DecodeError:
            return 1
        return 0

    # -------------------------------------------------------- session
    def session_input(self, data):
        # -> 0 accepted or ignored, 1 dropped (counted), 2 error event
        if len(data) < 3:
            return 0
        b0, b1, b2 = data[0], data[1], data[2]
        key = ((b0 >> 3) & 1) * 8 + (b0 & 7)
        e = self.session(key)
        s = e[0]
        e[1] += 10
        now = e[1]
        mode = (b0 >> 4) & 3
        if mode == 0:
            dgs = [(data[1:], 500)]
        elif mode == 1:
            dgs = [(data[1:], 4500)]
        elif mode == 2:
            dgs = [self._ike(s, b1, b2, data[3:])]
        else:
            dgs = [self._esp(s, b1, data)]
        dropped = s.dropped
        for d, p in dgs:
            s.receive(d, p, now)
            if b0 & 0x40:
                s.receive(d, p, now + 1)
        if b0 & 0x80:
            t = s.deadline()
            if t is not None:
                s.timeout(t)
        out = 2 if any(k == "error" for k, v in s.events) else (
            1 if s.dropped != dropped else 0)
        for k, v in s.events:
            assert k != "error" or isinstance(v, IKEError), v
        s.out = []
        s.events = []
        # the state stays consistent
        assert 0 <= s.state <= CLOSED
        if s.state == CLOSED:
            assert s.pending is None and s.child is None and not s.tasks
        if s.state == ESTABLISHED:
            assert s.keys is not None and s.rx is not None
        if fingerprint(s) != e[2]:
            del self.live[key]
        return out

    def _ike(self, s, b1, first, pt):
        ex = _EX[b1 & 3]
        req = b1 & 4
        flags = (0 if req else C.FLAG_RESPONSE) | (
            0 if s.we_init else C.FLAG_INITIATOR)
        mid = s.peer_mid if req else s.mid
        if b1 & 8:
            mid = (mid + (1 if b1 & 16 else -1)) & 0xFFFFFFFF
        if s.rx is None:  # IKE_SA_INIT's answer: cleartext
            data = _hdr(s.spi_i, b"\x33" * 8, first, ex, flags, mid,
                        28 + len(pt)) + pt
        else:
            c = sealer(s)
            sealed = c.sealed_len(len(pt))
            if b1 & 32:  # one SKF fragment
                num = 1 + (b1 >> 6)
                aad = _hdr(s.spi_i, s.spi_r, C.PT_SKF, ex, flags, mid,
                           36 + sealed) + pack(
                    ">BBHHH", first if num == 1 else 0, 0, 8 + sealed, num,
                    1 + (first & 3) if num > 1 else 1 + (first >> 6))
            else:
                aad = _hdr(s.spi_i, s.spi_r, C.PT_SK, ex, flags, mid,
                           32 + sealed) + pack(">BBH", first, 0, 4 + sealed)
            data = aad + c.seal(aad, pt)
        if s.natt and not (b1 & 64 and b1 & 128):
            return NON_ESP_MARKER + data, s.cfg.natt_port
        return data, s.cfg.port

    def _esp(self, s, b1, data):
        chs = [o for o in [s.child, s.next_child] + s.old_children
               if o is not None]
        if not chs or len(data) < 6:
            return data[1:], 4500
        ch = chs[(b1 >> 1) % len(chs)]
        seq = int.from_bytes(data[2:6], "big") if b1 & 1 else (
            ch.top + 1) & 0xFFFFFFFF
        return esp_seal(s.c, ch, seq, data[6:]), 4500

    # -------------------------------------------------------- esp
    def _esps(self):
        if self.esps is None:
            self.esps = []
            for i in (0, 1, 0, 1):
                ch = self.established(i).child
                if ch.gcm:
                    km = (ch.k_out + ch.salt_out, b"", ch.k_in + ch.salt_in,
                          b"")
                else:
                    km = (ch.k_out, ch.a_out, ch.k_in, ch.a_in)
                self.esps.append(ChildSA(self.b, ch.suite, ch.spi_in,
                                         ch.spi_out, km, Rng(b"esp"), 64))
                # the gateway's view, for the round trip of mode 3
                km = (km[2], km[3], km[0], km[1])
                self.esps.append(ChildSA(self.b, ch.suite, ch.spi_out,
                                         ch.spi_in, km, Rng(b"gw"), 64))
        return self.esps

    def esp(self, data):
        # -> 0 dropped (counted), 1 decapsulated, 2 and a valid IPv4 packet
        if len(data) < 1:
            return 0
        chs = self._esps()
        if chs[0].top > 0x70000000 or chs[2].top > 0x70000000:
            self.esps = None  # a window near its end: new Child SAs
            chs = self._esps()
        b0 = data[0]
        ch = chs[(b0 & 1) * 2]
        mode = (b0 >> 1) & 3
        if mode == 0:
            pkt = data[1:]
        elif mode == 1:
            pkt = ch.spi_in + data[5:] if len(data) > 5 else ch.spi_in
        elif mode == 2:
            if len(data) < 5:
                return 0
            # the sequence number: near the window's top (b1 bit 7 clear:
            # top - 127 .. top + 128), or as given
            v = int.from_bytes(data[1:5], "big")
            seq = v & 0x7FFFFFFF if v >> 31 else max(0, ch.top + (v & 0xFF)
                                                    - 127)
            pkt = esp_seal(self.b, ch, seq, data[5:])
        else:  # a pair of its own: the other modes move ch's window
            ch, gw = chs[4 + (b0 & 1) * 2], chs[5 + (b0 & 1) * 2]
            pkt = gw.encap(data[1:])
            r = ch.decap(pkt)
            assert r is not None and r[0] == 4 and r[1] == data[1:], (
                "ESP round trip")
            # and the same packet again is a replay
        n = ch.rx_bad_icv + ch.rx_replay + ch.rx_malformed
        r = ch.decap(pkt)
        if r is None:
            assert ch.rx_bad_icv + ch.rx_replay + ch.rx_malformed == n + 1, \
                "an ESP drop not counted"
            return 0
        assert mode != 3, "a replayed ESP packet accepted"
        return 1 + (inner_ip(r) == 2)

    def run(self, target, data):
        if target == "decoder":
            return self.decoder(data)
        if target == "session":
            return self.session_input(data)
        return self.esp(data)


# ------------------------------------------------------------ the replay
# vectors/fuzz/<target>.bin: records of a 2-byte big-endian length and
# the input, read one at a time (MicroPython's heap holds one input).
def corpus(target):
    with open(_HERE + "/../vectors/fuzz/" + target + ".bin", "rb") as f:
        while True:
            n = f.read(2)
            if len(n) < 2:
                return
            yield f.read((n[0] << 8) | n[1])


def _replay_target(backend, target):
    import sys

    t = Targets(backend)
    if sys.implementation.name == "micropython":
        t.keep = 1  # one session at a time: its replay is the cost
    n = 0
    outcomes = [0, 0, 0]
    for data in corpus(target):
        outcomes[t.run(target, data)] += 1
        n += 1
    assert n >= 50, (target, n)
    return n, outcomes, t.rebuilds


def test_fuzz_corpus_decoder():
    from harness import backends

    n, out, _ = _replay_target(backends()[0], "decoder")
    assert out[0] and out[1], out  # some accepted, some refused


def test_fuzz_corpus_session():
    from harness import backends

    n, out, _ = _replay_target(backends()[0], "session")
    assert out[0] and out[1], out


def test_fuzz_corpus_esp():
    from harness import backends

    n, out, _ = _replay_target(backends()[0], "esp")
    assert out[0] and out[1], out
