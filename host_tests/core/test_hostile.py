# A hostile responder (issue 9): the session against answers that are
# wrong in every way a gateway (or someone on the path) can make them, in
# IKE_SA_INIT, IKE_AUTH, a liveness check (INFORMATIONAL) and our Child SA
# rekey (CREATE_CHILD_SA).  Table-driven: one row per case.
#
# Each row: (name, stage, make, expect, options)
#   stage   "init" | "auth" | "info" | "rekey": the answer altered
#   make    f(r, genuine answer bytes, session) -> [bogus datagrams]
#   expect  None: every bogus datagram is dropped and counted, then the
#           genuine answer still completes the exchange (ESTABLISHED, the
#           right SPIs, an ESP round trip);
#           (error class, words): a fatal error naming the problem, the
#           session CLOSED with no Child SA, no timer, and a Delete sent
#           iff an IKE SA exists (RFC 7296 2.21)
#   options the session's configuration (kw of cfg())
#
# Runs on CPython (pytest) and on MicroPython (mp_runner.py).
from struct import pack

from harness import per_backend, Rng
from responder import Responder
from ikev2 import const as C
from ikev2 import message as M
from ikev2.config import Config
from ikev2.errors import ProtocolError, AuthenticationFailed, NotifyError
from ikev2.payloads import (SA, Proposal, Transform, KE, Nonce, IDr,
                            Auth, CP, TSi, TSr, TrafficSelector, Delete,
                            Encrypted)
from ikev2.session import Session, CONNECTING, ESTABLISHED, CLOSED

GW = b"\xc0\x00\x02\x01"
# what each stage's session needs: liveness checks after 30 s, a Child SA
# rekey after 100 s; no keepalives to get in the way
STAGE_CFG = {"init": {}, "auth": {}, "info": {"dpd_delay": 30},
             "rekey": {"rekey_time": 100, "rekey_jitter": 0}}
INSIDE = b"\x45" + bytes(15) + b"\xc6\x33\x64\x02" + bytes(8)  # to 198.51.100.2
COUNTS = {}  # row name -> bogus datagrams tried (for the README's table)
OUTCOME = {}  # row name -> the error, or the drop reasons (distinct)


class Drops:
    # a stand-in for trace.Trace that keeps only the drops' reasons, as
    # text (tracefmt.why); every other hook does nothing
    def __init__(self):
        self.why = []

    def drop(self, now, what, why, a=0, b=0):
        from ikev2.tracefmt import why as text

        self.why.append(text(why if isinstance(why, int) else str(why), a, b))

    def __getattr__(self, name):
        return lambda *a, **kw: None


def cfg(**kw):
    d = {"gateway": "192.0.2.1", "local_id": "device.lab", "psk": "secret",
         "remote_ts": ["198.51.100.0/24"], "keepalive": 0, "dpd_delay": 0}
    d.update(kw)
    return Config(d)


# ------------------------------------------------------------ driving
def take(s):
    (d, p), = s.out
    s.out = []
    return d, p


def deliver(s, data, port, now):
    s.receive((bytes(4) + data) if port == 4500 else data, port, now)


def ask(s, r):
    # the session's one request -> (the responder's answer, port)
    d, p = take(s)
    return r.handle(d, p), p


def run_to(backend, stage, **kw):
    # a session waiting for the stage's answer -> (s, r, answer, port, now)
    opts = dict(STAGE_CFG[stage])
    opts.update(kw)
    s = Session(cfg(**opts), backend, Rng(b"init"), GW, None)
    r = Responder(backend)
    s.connect(0)
    a, p = ask(s, r)
    if stage == "init":
        return s, r, a, p, 10
    deliver(s, a, p, 10)
    a, p = ask(s, r)
    if stage == "auth":
        return s, r, a, p, 20
    deliver(s, a, p, 20)
    assert s.state == ESTABLISHED, error_of(s)
    now = 20 + 30000 if stage == "info" else s.child_rekey_at
    s.timeout(now)
    a, p = ask(s, r)
    assert s.pending is not None
    return s, r, a, p, now + 10


def finish(s, r, stage, a, p, now):
    # the genuine answer, and whatever follows it, until the exchange (and
    # the handshake) is over
    deliver(s, a, p, now)
    if stage == "init":
        a, p = ask(s, r)
        deliver(s, a, p, now + 10)
    elif stage == "rekey":  # then we delete the old Child SA
        a, p = ask(s, r)
        deliver(s, a, p, now + 10)
    assert s.out == []


def esp_round_trip(backend, s, r, now):
    gw = r.gw_child(backend)
    assert s.send_ip(INSIDE, now)
    esp, port = s.out.pop()
    assert port == 4500 and gw.decap(esp) == (4, INSIDE)
    back = b"\x45" + b"\x01" * 27
    s.receive(gw.encap(back), 4500, now)
    assert ("ip", back) in s.events


def error_of(s):
    errs = [v for k, v in s.events if k == "error"]
    return errs[0] if errs else None


def check_up(backend, s, r, stage, now, mid):
    e = error_of(s)
    assert e is None, e
    assert s.state == ESTABLISHED and s.pending is None and s.tasks == []
    assert s.spi_r == r.spi_r and s.keys.sk_d == r.keys.sk_d
    assert s.child.spi_out == (r.rekey[3] if stage == "rekey" else r.esp_spi)
    assert s.mid == mid and s.rtx_at is None
    esp_round_trip(backend, s, r, now + 50)


def check_closed(s, r, stage, expect):
    cls, words = expect
    e = error_of(s)
    assert isinstance(e, cls), "%r, wanted %s" % (e, cls.__name__)
    assert words in str(e), "%r lacks %r" % (str(e), words)
    assert s.state == CLOSED and s.child is None and s.next_child is None
    assert s.pending is None and s.tasks == [] and s.rtx_at is None
    assert s.deadline() is None and s.old_children == []
    if stage == "init":  # no IKE SA yet: nothing to delete
        assert s.out == []
    else:  # one Delete of the IKE SA (RFC 7296 2.21.2)
        (d, p), = s.out
        m = M.decode(d[4:], r.rx)
        assert m.exchange == C.INFORMATIONAL and not m.is_response()
        assert m.find(Delete).protocol == C.PROTO_IKE
    s.out = []


def run_row(backend, row):
    name, stage, make, expect, kw = row
    s, r, genuine, port, now = run_to(backend, stage, **kw)
    mid = s.mid
    before = s.dropped
    bogus = make(r, genuine, s)
    assert bogus, name
    COUNTS[name] = len(bogus)
    s.trace = t = Drops()
    for b in bogus:
        deliver(s, b, port, now)
        if s.state == CLOSED:
            break
        assert s.out == [], name  # nothing answered to a bogus response
    s.trace = None
    if expect is None:
        assert error_of(s) is None, "%s: %r" % (name, error_of(s))
        assert s.dropped == before + len(bogus), (name, s.dropped - before)
        # each drop traced with a reason
        assert len(t.why) == len(bogus) and "" not in t.why, t.why
        seen = []
        for w in t.why:
            if w not in seen:
                seen.append(w)
        OUTCOME[name] = "dropped: " + "; ".join(seen[:3]) + (
            "; ..." if len(seen) > 3 else "")
        assert s.pending is not None and s.mid == mid, name
        assert s.state == (CONNECTING if stage in ("init", "auth") else ESTABLISHED)
        finish(s, r, stage, genuine, port, now + 1)
        check_up(backend, s, r, stage, now + 20,
                 {"init": 2, "auth": 2, "info": 3, "rekey": 4}[stage])
    else:
        check_closed(s, r, stage, expect)
        OUTCOME[name] = "%s: %s" % (type(error_of(s)).__name__, error_of(s))
        # and the genuine answer, late, changes nothing
        d = s.dropped
        deliver(s, genuine, port, now + 1)
        assert s.state == CLOSED and s.out == [] and s.dropped == d + 1
        assert [k for k, v in s.events if k == "up"] == ([] if stage in ("init", "auth")
                                                         else ["up"])


# ------------------------------------------------------------ alterations
def edit(f):
    # an alteration of the decoded answer, re-encoded (and re-encrypted with
    # the responder's keys: a gateway that means it)
    def make(r, a, s):
        m = r.open(a)
        f(m)
        return [r.seal(m)]
    return make


def sa_of(m):
    return m.find(SA)


def tr_set(ttype, tid=None, keylen=None):
    def f(m):
        for t in sa_of(m).proposals[0].transforms:
            if t.ttype == ttype:
                if tid is not None:
                    t.tid = tid
                if keylen is not None:
                    t.attrs = [(C.ATTR_KEY_LENGTH, keylen)]
    return edit(f)


def tr_add(ttype, tid, attrs=None):
    return edit(lambda m: sa_of(m).proposals[0].transforms.append(
        Transform(ttype, tid, attrs)))


def tr_drop(ttype):
    def f(m):
        p = sa_of(m).proposals[0]
        p.transforms = [t for t in p.transforms if t.ttype != ttype]
    return edit(f)


def tr_twice(ttype):
    def f(m):
        p = sa_of(m).proposals[0]
        p.transforms.append(p.get(ttype)[0])
    return edit(f)


def prop_set(**kv):
    def f(m):
        p = sa_of(m).proposals[0]
        for k in kv:
            setattr(p, k, kv[k])
    return edit(f)


def two_proposals(m):
    p = sa_of(m).proposals[0]
    sa_of(m).proposals.append(Proposal(p.num, p.protocol, p.transforms, p.spi))


def remove(cls):
    def f(m):
        m.payloads = [p for p in m.payloads if not isinstance(p, cls)]
    return edit(f)


def replace(cls, new):
    def f(m):
        for i in range(len(m.payloads)):
            if isinstance(m.payloads[i], cls):
                m.payloads[i] = new()
    return edit(f)


def hdr(**kv):
    def f(m):
        for k in kv:
            setattr(m, k, kv[k])
    return edit(f)


def flags(v):
    return hdr(flags=v)


def raw(f):
    # an alteration of the bytes
    return lambda r, a, s: [f(bytearray(a))]


def set_len(a, n):
    a[24:28] = pack(">I", n)
    return bytes(a)


def cut_everywhere(r, a, s):
    return [a[:i] for i in range(len(a))]


def cut_fixed(r, a, s):
    # cut, and the IKE header's length made to agree
    return [set_len(bytearray(a[:i]), i) for i in range(28, len(a))]


def flip_everywhere(r, a, s):
    out = []
    for i in range(len(a)):
        b = bytearray(a)
        b[i] ^= 0x01 if i != 17 else 0x10  # (the version: 2.0 -> 2.1 is fine)
        out.append(bytes(b))
    return out


def first_payload_len(delta):
    # the first payload's length field (after the IKE header) +- delta
    def f(a):
        n = (a[30] << 8 | a[31]) + delta
        a[30:32] = pack(">H", n & 0xFFFF)
        return bytes(a)
    return raw(f)


def inner(f):
    # an encrypted answer whose inner payloads are altered as bytes, then
    # sealed with the responder's keys (the ICV verifies)
    def make(r, a, s):
        m = r.open(a)
        first, body = M.encode_chain(m.payloads)
        first, body = f(m, first, bytearray(body))
        sealed = r.tx.sealed_len(len(body))
        aad = m.header(C.PT_SK, C.IKE_HEADER_LEN + 4 + sealed) + \
            pack(">BBH", first, 0, 4 + sealed)
        return [aad + r.tx.seal(aad, bytes(body))]
    return make


def inner_len(delta):
    # the first inner payload's length +- delta
    def f(m, first, b):
        n = (b[2] << 8 | b[3]) + delta
        b[2:4] = pack(">H", n & 0xFFFF)
        return first, b
    return inner(f)


def cp_raw(attr_bytes, cfg_type=C.CFG_REPLY):
    # a CP whose attributes are these raw bytes, appended to the answer
    def f(m, first, b):
        # the last payload's Next Payload -> CP
        off = 0
        ptype = first
        while True:
            nxt = b[off]
            plen = b[off + 2] << 8 | b[off + 3]
            if nxt == 0:
                break
            off += plen
        b[off] = C.PT_CP
        body = bytes((cfg_type, 0, 0, 0)) + attr_bytes
        b += pack(">BBH", 0, 0, 4 + len(body)) + body
        return ptype, b
    return inner(f)


def no_cp(m):
    m.payloads = [p for p in m.payloads if not isinstance(p, CP)]


def with_cp(cfg_type, attrs):
    def f(m):
        no_cp(m)
        m.payloads.insert(2, CP(cfg_type, attrs))
    return edit(f)


def clear(r, a, s):
    # the same payloads, not encrypted
    m = r.open(a)
    m.encrypted = False
    return [M.encode(m)]


def sk_not_last(r, a, s):
    # a cleartext Notify after the SK payload
    b = bytearray(a) + pack(">BBH", 0, 0, 8) + pack(">BBH", 0, 0, C.N_INITIAL_CONTACT)
    return [set_len(b, len(b))]


def sk_nested(r, a, s):
    m = r.open(a)
    m.payloads.append(Encrypted(C.PT_NOTIFY, bytes(48)))
    return [r.seal(m)]


def clear_before_sk(r, a, s):
    # a cleartext Notify ahead of the SK payload
    b = bytearray(a)
    note = pack(">BBH", C.PT_SK, 0, 8) + pack(">BBH", 0, 0, C.N_INITIAL_CONTACT)
    b[16] = C.PT_NOTIFY
    out = b[:28] + note + b[28:]
    return [set_len(out, len(out))]


def ts(start, end, proto=0, sport=0, eport=65535, typ=C.TS_IPV4_ADDR_RANGE):
    return TrafficSelector(start, end, proto, sport, eport, typ)


NET = (b"\xc6\x33\x64\x00", b"\xc6\x33\x64\xff")
V6 = (bytes(16), b"\xff" * 16)


def narrowed_to(attr, sel):
    # the session's request asked for sel (as if configured so: the config
    # has addresses only), the answer keeps the whole /24, any port/protocol
    def make(r, a, s):
        setattr(s.pending, attr, sel)
        return [a]
    return make


def many_dns(m):
    no_cp(m)
    m.payloads.insert(2, CP(C.CFG_REPLY, [(C.CFG_INTERNAL_IP4_ADDRESS, b"\x0a\x63\x00\x07")]
                          + [(C.CFG_INTERNAL_IP4_DNS, b"\x08\x08\x08\x08")] * 200))


def rekey_nonce_gone(m):
    m.payloads = [p for p in m.payloads if not isinstance(p, Nonce)]


P = ProtocolError
A = AuthenticationFailed
NOVIP = {"virtual_ip": False, "local_ts": ["10.99.0.7/32"]}
DROP = None

ROWS = [
    # -- a transform that was not offered, IKE_SA_INIT
    ("init: ENCR 3DES", "init", tr_set(C.TRANS_ENCR, tid=3), (P, "1:3, which we did not offer"), {}),
    ("init: AES key length 256", "init", tr_set(C.TRANS_ENCR, keylen=256), (P, "aes256, which we did not offer"), {}),
    ("init: PRF HMAC-SHA1", "init", tr_set(C.TRANS_PRF, tid=2), (P, "2:2, which we did not offer"), {}),
    ("init: INTEG HMAC-SHA1-96", "init", tr_set(C.TRANS_INTEG, tid=2), (P, "3:2, which we did not offer"), {}),
    ("init: DH modp2048", "init", tr_set(C.TRANS_DH, tid=14), (P, "modp2048, which we did not offer"), {}),
    ("init: ESN in an IKE proposal", "init", tr_add(C.TRANS_ESN, 0), (P, "noesn, which we did not offer"), {}),
    ("init: INTEG missing", "init", tr_drop(C.TRANS_INTEG), (P, "lacks transform type 3"), {}),
    ("init: ENCR twice", "init", tr_twice(C.TRANS_ENCR), (P, "two transforms of type 1"), {}),
    ("init: two proposals", "init", edit(two_proposals), (P, "2 proposals"), {}),
    ("init: proposal #2 of 1", "init", prop_set(num=2), (P, "proposal #2"), {}),
    ("init: protocol ESP", "init", prop_set(protocol=C.PROTO_ESP), (P, "protocol 3"), {}),
    ("init: IKE proposal with an SPI", "init", prop_set(spi=b"\x01" * 8), (P, "carries an SPI"), {}),
    ("init: no SA payload", "init", remove(SA), (P, "no SA payload"), {}),
    ("init: no KE payload", "init", remove(KE), (P, "lacks KE or Nonce"), {}),
    ("init: KE of another group", "init", replace(KE, lambda: KE(19, bytes(64))), (P, "DH group 19"), {}),
    ("init: KE of 31 bytes", "init", replace(KE, lambda: KE(31, bytes(31))), (P, "bad KE"), {}),
    ("init: no responder SPI", "init", hdr(spi_r=bytes(8)), (P, "without responder SPI"), {}),
    # -- a transform that was not offered, the Child SA of IKE_AUTH
    ("auth: ESP ENCR 3DES", "auth", tr_set(C.TRANS_ENCR, tid=3), (P, "1:3, which we did not offer"), {}),
    ("auth: ESP AES key length 192", "auth", tr_set(C.TRANS_ENCR, keylen=192), (P, "aes192, which we did not offer"), {}),
    ("auth: ESP INTEG HMAC-SHA1-96", "auth", tr_set(C.TRANS_INTEG, tid=2), (P, "3:2, which we did not offer"), {}),
    ("auth: ESP ESN on", "auth", tr_set(C.TRANS_ESN, tid=1), (P, "esn, which we did not offer"), {}),
    ("auth: ESP DH (PFS not offered)", "auth", tr_add(C.TRANS_DH, 31), (P, "x25519, which we did not offer"), {}),
    ("auth: ESP PRF", "auth", tr_add(C.TRANS_PRF, 5), (P, "prfsha256, which we did not offer"), {}),
    ("auth: ESP INTEG missing", "auth", tr_drop(C.TRANS_INTEG), (P, "lacks transform type 3"), {}),
    ("auth: ESP INTEG twice", "auth", tr_twice(C.TRANS_INTEG), (P, "two transforms of type 3"), {}),
    ("auth: ESP two proposals", "auth", edit(two_proposals), (P, "2 proposals"), {}),
    ("auth: ESP proposal #3", "auth", prop_set(num=3), (P, "proposal #3"), {}),
    ("auth: protocol AH", "auth", prop_set(protocol=C.PROTO_AH), (P, "protocol 2"), {}),
    ("auth: ESP SPI of 3 bytes", "auth", prop_set(spi=b"\x01\x02\x03"), (P, "SPI is 3 bytes"), {}),
    ("auth: no SA payload", "auth", remove(SA), (P, "no SA payload"), {}),
    # -- a changed SPI, an unexpected message ID, wrong flags
    ("init: changed initiator SPI", "init", hdr(spi_i=b"\x13" * 8), DROP, {}),
    ("init: message ID 1", "init", hdr(mid=1), DROP, {}),
    ("init: message ID 2^32-1", "init", hdr(mid=0xFFFFFFFF), DROP, {}),
    ("init: response flag missing", "init", flags(0), DROP, {}),
    ("init: I flag set", "init", flags(C.FLAG_RESPONSE | C.FLAG_INITIATOR), DROP, {}),
    ("init: exchange IKE_AUTH", "init", hdr(exchange=C.IKE_AUTH), DROP, {}),
    ("auth: changed responder SPI", "auth", hdr(spi_r=b"\x53" * 8), DROP, {}),
    ("auth: changed initiator SPI", "auth", hdr(spi_i=b"\x13" * 8), DROP, {}),
    ("auth: message ID higher (2)", "auth", hdr(mid=2), DROP, {}),
    ("auth: message ID lower (0)", "auth", hdr(mid=0), DROP, {}),
    ("auth: response flag missing", "auth", flags(0), DROP, {}),
    ("auth: I flag set", "auth", flags(C.FLAG_RESPONSE | C.FLAG_INITIATOR), DROP, {}),
    ("auth: exchange INFORMATIONAL", "auth", hdr(exchange=C.INFORMATIONAL), DROP, {}),
    ("info: changed responder SPI", "info", hdr(spi_r=b"\x53" * 8), DROP, {}),
    ("info: message ID higher", "info", hdr(mid=3), DROP, {}),
    ("info: message ID lower", "info", hdr(mid=1), DROP, {}),
    ("info: response flag missing", "info", flags(0), DROP, {}),
    ("info: I flag set", "info", flags(C.FLAG_RESPONSE | C.FLAG_INITIATOR), DROP, {}),
    ("info: exchange CREATE_CHILD_SA", "info", hdr(exchange=C.CREATE_CHILD_SA), DROP, {}),
    ("rekey: changed responder SPI", "rekey", hdr(spi_r=b"\x53" * 8), DROP, {}),
    ("rekey: message ID higher", "rekey", hdr(mid=3), DROP, {}),
    ("rekey: message ID lower", "rekey", hdr(mid=1), DROP, {}),
    ("rekey: response flag missing", "rekey", flags(0), DROP, {}),
    ("rekey: I flag set", "rekey", flags(C.FLAG_RESPONSE | C.FLAG_INITIATOR), DROP, {}),
    # -- a missing SK payload where one is required, SK misplaced
    ("auth: answer in clear", "auth", clear, DROP, {}),
    ("auth: SK not the last payload", "auth", sk_not_last, DROP, {}),
    ("auth: SK inside SK", "auth", sk_nested, DROP, {}),
    ("auth: cleartext payload before SK", "auth", clear_before_sk, DROP, {}),
    ("info: answer in clear", "info", clear, DROP, {}),
    ("rekey: answer in clear", "rekey", clear, DROP, {}),
    ("rekey: SK inside SK", "rekey", sk_nested, DROP, {}),
    # -- a wrong AUTH or a wrong IDr
    ("auth: AUTH value wrong", "auth", replace(Auth, lambda: Auth(C.AUTH_SHARED_KEY, bytes(32))), (A, "does not verify"), {}),
    ("auth: AUTH value empty", "auth", replace(Auth, lambda: Auth(C.AUTH_SHARED_KEY, b"")), (A, "does not verify"), {}),
    ("auth: AUTH method RSA", "auth", edit(lambda m: setattr(m.find(Auth), "method", C.AUTH_RSA_SIG)), (A, "method 1"), {}),
    ("auth: AUTH missing", "auth", remove(Auth), (P, "lacks IDr or AUTH"), {}),
    ("auth: IDr other than remote_id", "auth", replace(IDr, lambda: IDr(C.ID_FQDN, b"evil.lab")), (A, "identifies as"), {"remote_id": "gw.lab"}),
    ("auth: IDr of another type", "auth", replace(IDr, lambda: IDr(C.ID_KEY_ID, b"gw.lab")), (A, "ID type 11"), {"remote_id": "gw.lab"}),
    ("auth: IDr changed (AUTH over the old)", "auth", replace(IDr, lambda: IDr(C.ID_FQDN, b"evil.lab")), (A, "does not verify"), {}),
    ("auth: IDr missing", "auth", remove(IDr), (P, "lacks IDr or AUTH"), {}),
    # -- a TS wider than requested
    ("auth: TSr wider range", "auth", replace(TSr, lambda: TSr([ts(bytes(4), b"\xff" * 4)])), (P, "TSr: the gateway widened"), {}),
    ("auth: TSr one wider of two", "auth", replace(TSr, lambda: TSr([ts(*NET), ts(b"\xc6\x33\x65\x00", b"\xc6\x33\x65\x00")])), (P, "TSr: the gateway widened"), {}),
    ("auth: TSi wider range", "auth", replace(TSi, lambda: TSi([ts(b"\x0a\x63\x00\x00", b"\x0a\x63\x00\xff")])), (P, "TSi: the gateway widened"), NOVIP),
    ("auth: TSr wider ports", "auth", narrowed_to("tsr", [ts(NET[0], NET[1], 6, 80, 80)]), (P, "TSr: the gateway widened"), {}),
    ("auth: TSr other protocol", "auth", narrowed_to("tsr", [ts(NET[0], NET[1], 17)]), (P, "TSr: the gateway widened"), {}),
    ("auth: TSr inverted range", "auth", replace(TSr, lambda: TSr([ts(NET[1], NET[0])])), (P, "TSr: empty selector"), {}),
    ("auth: TSr inverted ports", "auth", replace(TSr, lambda: TSr([ts(NET[0], NET[1], 0, 90, 80)])), (P, "TSr: empty selector"), {}),
    ("auth: TSr IPv6 when IPv4 asked", "auth", replace(TSr, lambda: TSr([ts(V6[0], V6[1], typ=C.TS_IPV6_ADDR_RANGE)])), (P, "TSr: the gateway returned a selector of type 8"), {}),
    ("auth: TSi IPv6 besides IPv4", "auth", replace(TSi, lambda: TSi([ts(b"\x0a\x63\x00\x07", b"\x0a\x63\x00\x07"), ts(V6[0], V6[1], typ=C.TS_IPV6_ADDR_RANGE)])), (P, "TSi: the gateway returned a selector of type 8"), {}),
    ("auth: TSr empty list", "auth", replace(TSr, lambda: TSr([])), (P, "TSr: the gateway returned no selector"), {}),
    ("auth: TSi missing", "auth", remove(TSi), (P, "lacks TSi or TSr"), {}),
    # -- a malformed CP
    ("auth: CP attribute length over", "auth", cp_raw(pack(">HH", 1, 8) + b"\x0a\x63\x00\x07"), DROP, {}),
    ("auth: CP truncated attribute", "auth", cp_raw(b"\x00\x01\x00"), DROP, {}),
    ("auth: CP address of 3 bytes", "auth", with_cp(C.CFG_REPLY, [(C.CFG_INTERNAL_IP4_ADDRESS, b"\x0a\x63\x00")]), (P, "INTERNAL_IP4_ADDRESS of 3 bytes"), {}),
    ("auth: CP address of 5 bytes", "auth", with_cp(C.CFG_REPLY, [(C.CFG_INTERNAL_IP4_ADDRESS, b"\x0a\x63\x00\x07\x00")]), (P, "INTERNAL_IP4_ADDRESS of 5 bytes"), {}),
    ("auth: CP address 0.0.0.0", "auth", with_cp(C.CFG_REPLY, [(C.CFG_INTERNAL_IP4_ADDRESS, bytes(4))]), (P, "virtual IP 0.0.0.0"), {}),
    ("auth: CP address 255.255.255.255", "auth", with_cp(C.CFG_REPLY, [(C.CFG_INTERNAL_IP4_ADDRESS, b"\xff" * 4)]), (P, "virtual IP 255.255.255.255"), {}),
    ("auth: CP DNS of 2 bytes", "auth", with_cp(C.CFG_REPLY, [(C.CFG_INTERNAL_IP4_ADDRESS, b"\x0a\x63\x00\x07"), (C.CFG_INTERNAL_IP4_DNS, b"\x08\x08")]), (P, "INTERNAL_IP4_DNS of 2 bytes"), {}),
    ("auth: CP of type REQUEST", "auth", with_cp(C.CFG_REQUEST, [(C.CFG_INTERNAL_IP4_ADDRESS, b"\x0a\x63\x00\x07")]), (P, "CP of type 1"), {}),
    ("auth: CP without an address", "auth", with_cp(C.CFG_REPLY, [(C.CFG_INTERNAL_IP4_DNS, b"\x08\x08\x08\x08")]), (NotifyError, "no virtual IP"), {}),
    ("auth: CP missing", "auth", edit(no_cp), (NotifyError, "no virtual IP"), {}),
    # -- oversized or understated lengths, truncation
    ("init: IKE length +1", "init", raw(lambda a: set_len(a, len(a) + 1)), DROP, {}),
    ("init: IKE length -1", "init", raw(lambda a: set_len(a, len(a) - 1)), DROP, {}),
    ("init: IKE length 0", "init", raw(lambda a: set_len(a, 0)), DROP, {}),
    ("init: first payload length +1", "init", first_payload_len(1), DROP, {}),
    ("init: first payload length -1", "init", first_payload_len(-1), DROP, {}),
    ("init: first payload length 0", "init", raw(lambda a: bytes(a[:30] + b"\x00\x00" + a[32:])), DROP, {}),
    ("init: Nonce of 8 bytes", "init", replace(Nonce, lambda: Nonce(b"n" * 8)), DROP, {}),
    ("init: unknown critical payload", "init", raw(lambda a: bytes(a[:16]) + b"\x30" + bytes(a[17:24]) + pack(">I", len(a) + 4) + pack(">BBH", a[16], 0x80, 4) + bytes(a[28:])), DROP, {}),
    ("init: major version 3", "init", raw(lambda a: bytes(a[:17]) + b"\x30" + bytes(a[18:])), DROP, {}),
    ("init: cut at every position", "init", cut_everywhere, DROP, {}),
    ("init: cut, IKE length fixed", "init", cut_fixed, DROP, {}),
    ("auth: IKE length +1", "auth", raw(lambda a: set_len(a, len(a) + 1)), DROP, {}),
    ("auth: IKE length -1", "auth", raw(lambda a: set_len(a, len(a) - 1)), DROP, {}),
    ("auth: SK length +1", "auth", first_payload_len(1), DROP, {}),
    ("auth: SK length -1", "auth", first_payload_len(-1), DROP, {}),
    ("auth: inner payload length +1", "auth", inner_len(1), DROP, {}),
    ("auth: inner payload length -1", "auth", inner_len(-1), DROP, {}),
    ("auth: inner payload length 3", "auth", inner(lambda m, f, b: (f, b[:2] + b"\x00\x03" + b[4:])), DROP, {}),
    ("auth: cut at every position", "auth", cut_everywhere, DROP, {}),
    ("auth: cut, IKE length fixed", "auth", cut_fixed, DROP, {}),
    ("auth: a bit flipped at every byte", "auth", flip_everywhere, DROP, {}),
    ("info: cut at every position", "info", cut_everywhere, DROP, {}),
    ("info: a bit flipped at every byte", "info", flip_everywhere, DROP, {}),
    ("rekey: cut, IKE length fixed", "rekey", cut_fixed, DROP, {}),
    ("rekey: inner payload length +1", "rekey", inner_len(1), DROP, {}),
    # -- CREATE_CHILD_SA (our rekey): a transform not offered, no Nonce
    ("rekey: ESP ENCR 3DES", "rekey", tr_set(C.TRANS_ENCR, tid=3), (P, "1:3, which we did not offer"), {}),
    ("rekey: ESP two proposals", "rekey", edit(two_proposals), (P, "2 proposals"), {}),
    ("rekey: ESP ESN on", "rekey", tr_set(C.TRANS_ESN, tid=1), (P, "esn, which we did not offer"), {}),
    ("rekey: no Nonce", "rekey", edit(rekey_nonce_gone), (P, "without Nonce"), {}),
    ("rekey: no SA payload", "rekey", remove(SA), (P, "no SA payload"), {}),
    # -- duplicated and reordered answers, answers to requests never sent
    ("auth: an answer to a request never sent (mid 7)", "auth", hdr(mid=7), DROP, {}),
    ("auth: CREATE_CHILD_SA answer while IKE_AUTH waits", "auth", hdr(exchange=C.CREATE_CHILD_SA), DROP, {}),
    ("info: IKE_AUTH's answer again (reordered)", "info", lambda r, a, s: [r.auth_answer], DROP, {}),
    ("info: IKE_SA_INIT answer while established", "info", lambda r, a, s: [r.real2], DROP, {}),
    ("rekey: an old liveness answer", "rekey", lambda r, a, s: [r.seal(_as(r, a, C.INFORMATIONAL, 1, []))], DROP, {}),
]


def _as(r, a, ex, mid, payloads=None):
    m = r.open(a)
    m.exchange, m.mid = ex, mid
    if payloads is not None:
        m.payloads = payloads
    return m


@per_backend
def test_hostile_rows(backend):
    # every row of the table; one failure message names the row
    for row in ROWS:
        try:
            run_row(backend, row)
        except AssertionError as e:
            raise AssertionError("%s: %s" % (row[0], e))


@per_backend
def test_duplicated_answers_throughout(backend):
    # every answer of the gateway arrives twice: the handshake, a liveness
    # check, our rekey and its Delete; each second copy is dropped
    s = Session(cfg(dpd_delay=30, rekey_time=100, rekey_jitter=0), backend,
                Rng(b"init"), GW, None)
    r = Responder(backend)
    s.connect(0)
    now = 0
    for step in range(5):
        if step == 2:
            now = s.last_rx + 30000
            s.timeout(now)  # a liveness check
        elif step == 3:
            now = s.child_rekey_at
            s.timeout(now)  # our rekey, then its Delete (step 4)
        a, p = ask(s, r)
        deliver(s, a, p, now + 1)
        out = s.out
        s.out = []
        deliver(s, a, p, now + 2)
        assert s.out == [] and s.dropped == step + 1
        s.out = out
    assert s.out == [] and s.state == ESTABLISHED and s.mid == 5
    assert s.our_rekeys == 1 and s.liveness_checks == 1 and len(s.old_children) == 0
    esp_round_trip(backend, s, r, now + 10)
    COUNTS["every answer twice (5 exchanges)"] = 5
    OUTCOME["every answer twice (5 exchanges)"] = (
        "each second copy dropped (an unexpected response); handshake, "
        "liveness, rekey and Delete complete; ESP works")


@per_backend
def test_retransmission_and_reordered_answers(backend):
    # IKE_AUTH's request is retransmitted; the gateway answers both copies
    # (from its cache), and the answers arrive in reverse order
    s = Session(cfg(retransmit_timeout=1.0, dpd_delay=60), backend, Rng(b"init"),
                GW, None)
    r = Responder(backend)
    s.connect(0)
    a, p = ask(s, r)
    deliver(s, a, p, 10)
    req, port = take(s)
    s.timeout(s.deadline())
    again, port2 = take(s)
    assert again == req and s.tries == 1
    a1, a2 = r.handle(req, port), r.handle(again, port2)
    assert a1 == a2  # a retransmission gets the cached answer
    deliver(s, a2, port, 1500)
    assert s.state == ESTABLISHED and s.rtx_at is None and s.dropped == 0
    deliver(s, a1, port, 1600)
    assert s.state == ESTABLISHED and s.dropped == 1 and s.out == []
    # liveness: an answer to an earlier check after a new one is out
    s.timeout(s.last_rx + 60000)
    a3, p = ask(s, r)
    deliver(s, a3, p, 61600)
    s.timeout(s.deadline())
    a4, p = ask(s, r)
    assert s.mid == 3  # in flight
    deliver(s, a3, p, 121700)  # the old answer (mid 2) again
    assert s.dropped == 2 and s.pending is not None
    deliver(s, a4, p, 121800)
    assert s.pending is None and s.rtx_at is None and s.mid == 4
    esp_round_trip(backend, s, r, 121900)
    COUNTS["retransmitted IKE_AUTH, answers reversed; stale liveness answer"] = 2
    OUTCOME["retransmitted IKE_AUTH, answers reversed; stale liveness answer"] = (
        "up on the first copy to arrive, timer cleared; the other copy and "
        "the stale answer dropped; ESP works")


@per_backend
def test_answers_to_requests_never_sent(backend):
    s, r, a, p, now = run_to(backend, "info")
    deliver(s, a, p, now)
    assert s.pending is None and s.state == ESTABLISHED
    bogus = [
        # an INFORMATIONAL answer while idle, at the next and at an old mid
        r.seal(_as(r, a, C.INFORMATIONAL, 3)), r.seal(_as(r, a, C.INFORMATIONAL, 2)),
        # a CREATE_CHILD_SA answer while idle
        r.seal(_as(r, a, C.CREATE_CHILD_SA, 3)),
        # IKE_SA_INIT's answer again
        r.real2,
    ]
    for b in bogus:
        deliver(s, b, 4500, now + 5)
    assert s.dropped == 4 and s.out == [] and s.state == ESTABLISHED
    assert error_of(s) is None
    esp_round_trip(backend, s, r, now + 10)
    # before connect() and after close: nothing is accepted
    s2 = Session(cfg(), backend, Rng(b"other"), GW, None)
    s2.receive(r.real2, 500, 0)
    assert s2.dropped == 1 and s2.state == 0 and s2.out == []
    s.close(now + 20)
    d, port = take(s)
    deliver(s, r.handle(d, port), port, now + 30)
    assert s.state == CLOSED
    for b in bogus:
        deliver(s, b, 4500, now + 40)
    assert s.dropped == 8 and s.out == []
    COUNTS["answers to requests never sent"] = 9
    OUTCOME["answers to requests never sent"] = (
        "all dropped: 4 while established (tunnel unaffected), 1 before "
        "connect(), 4 after close")


@per_backend
def test_many_cp_attributes_stay_bounded(backend):
    # 200 DNS attributes: accepted, only the first few kept
    s, r, a, p, now = run_to(backend, "auth")
    deliver(s, edit(many_dns)(r, a, s)[0], p, now)
    assert s.state == ESTABLISHED and s.vip == "10.99.0.7"
    assert 1 <= len(s.dns) <= 4
    COUNTS["CP with 200 DNS attributes"] = 1
    OUTCOME["CP with 200 DNS attributes"] = "accepted; the first 4 DNS kept"


@per_backend
def test_rekey_answer_cannot_widen_the_selectors(backend):
    # our rekey's answer with TSi/TSr widened to everything: the new Child
    # SA keeps the selectors the IKE_AUTH exchange agreed (rekeyown.py does
    # not read the answer's TS), so the outbound policy stays narrow
    s, r, a, p, now = run_to(backend, "rekey")
    before = (s.ts_i, s.ts_r)
    wide = edit(lambda m: (replace_in(m, TSi([ts(bytes(4), b"\xff" * 4)])),
                           replace_in(m, TSr([ts(bytes(4), b"\xff" * 4)]))))
    finish(s, r, "rekey", wide(r, a, s)[0], p, now)
    assert s.state == ESTABLISHED and s.our_rekeys == 1
    assert (s.ts_i, s.ts_r) == before
    outside = b"\x45" + bytes(15) + b"\xcb\x00\x71\x01" + bytes(8)  # 203.0.113.1
    assert not s.send_ip(outside, now + 20) and s.policy_drops == 1
    esp_round_trip(backend, s, r, now + 30)
    COUNTS["rekey: TSi/TSr widened to 0.0.0.0/0"] = 1
    OUTCOME["rekey: TSi/TSr widened to 0.0.0.0/0"] = (
        "ignored: the Child SA keeps the IKE_AUTH selectors; 203.0.113.1 "
        "policy-dropped")


def replace_in(m, new):
    for i in range(len(m.payloads)):
        if type(m.payloads[i]) is type(new):
            m.payloads[i] = new


def report():
    # the numbers for the README: python3 host_tests/core/test_hostile.py
    from ikev2 import crypto

    b = crypto.backend(crypto.available()[0])
    for f in (test_hostile_rows, test_duplicated_answers_throughout,
              test_retransmission_and_reordered_answers,
              test_answers_to_requests_never_sent,
              test_many_cp_attributes_stay_bounded,
              test_rekey_answer_cannot_widen_the_selectors):
        f(b)
    for name in COUNTS:
        print("| %s | %d | %s |" % (name, COUNTS[name], OUTCOME.get(name, "passed")))
    print("%d cases, %d bogus datagrams" % (len(COUNTS), sum(COUNTS.values())))


if __name__ == "__main__":
    report()
