# The sans-IO session against a scripted responder: every path of
# IKE_SA_INIT and IKE_AUTH, retransmission, NAT-T framing, and answers to
# the gateway's requests.  Deterministic: seeded randomness, fake time.
from harness import per_backend, Rng
from responder import Responder
from ikev2 import const as C
from ikev2 import message as M
from ikev2.config import Config
from ikev2.errors import NotifyError, AuthenticationFailed, ProtocolError
from ikev2.payloads import Notify, Delete, SA
from ikev2.session import Session, ESTABLISHED, CLOSED, CLOSING

GW = b"\xc0\x00\x02\x01"


def cfg(**kw):
    d = {"gateway": "192.0.2.1", "local_id": "device.lab", "psk": "secret",
         "remote_ts": ["198.51.100.0/24"]}
    d.update(kw)
    return Config(d)


def pump(s, r, now=0, limit=20):
    # exchange datagrams between session and responder until quiet
    for _ in range(limit):
        if not s.out:
            return
        out = s.out
        s.out = []
        for data, port in out:
            if data == b"\xff":
                continue
            if port == 4500 and data[:4] != bytes(4):
                continue  # ESP
            reply = r.handle(data, port)
            if reply is not None:
                s.receive((bytes(4) + reply) if port == 4500 else reply, port, now)


def connect(backend, responder=None, **kw):
    s = Session(cfg(**kw), backend, Rng(b"init"), GW, None)
    r = responder or Responder(backend)
    s.connect(0)
    pump(s, r)
    return s, r


def error_of(s):
    errs = [v for k, v in s.events if k == "error"]
    return errs[0] if errs else None


@per_backend
def test_happy_path_and_narrowed_ts(backend):
    for ike, esp in (("aes128-sha256-x25519", "aes128-sha256"),
                     ("aes256gcm16-prfsha256-ecp256", "aes256gcm16"),
                     ("aes128-sha256-modp2048", "aes128gcm16")):
        s, r = connect(backend, ike=ike, esp=esp)
        assert error_of(s) is None, error_of(s)
        assert s.state == ESTABLISHED and s.natt
        assert s.vip == "10.99.0.7" and s.dns == ["8.8.8.8"]
        # TSi narrowed to the virtual IP, TSr to the /24 we asked for
        assert s.ts_i[0].start == s.ts_i[0].end == r.vip
        assert s.child.spi_out == r.esp_spi
        ups = [v for k, v in s.events if k == "up"]
        assert ups and ups[0]["virtual_ip"] == "10.99.0.7"
        # IKE_SA_INIT went to 500; IKE_AUTH to 4500 with the marker
        init, auth = r.seen
        assert init.exchange == C.IKE_SA_INIT and auth.exchange == C.IKE_AUTH
        assert auth.notify(C.N_INITIAL_CONTACT) is not None


@per_backend
def test_cookie_retry_puts_cookie_first(backend):
    r = Responder(backend)
    r.cookie = b"\xc0" * 20
    s, r = connect(backend, r)
    assert s.state == ESTABLISHED
    first, second = r.seen[0], r.seen[1]
    assert second.payloads[0].TYPE == C.PT_NOTIFY
    assert second.payloads[0].ntype == C.N_COOKIE
    assert second.payloads[0].data == r.cookie
    assert [p.TYPE for p in second.payloads[1:]] == [p.TYPE for p in first.payloads]
    from ikev2.payloads import KE, Nonce

    assert second.find(KE) == first.find(KE) and second.find(Nonce) == first.find(Nonce)
    assert second.spi_i == first.spi_i and second.mid == 0


@per_backend
def test_invalid_ke_retries_with_allowed_group(backend):
    r = Responder(backend)
    r.want_group = 19
    s, r = connect(backend, r, ike="aes128-sha256-x25519-ecp256")
    assert s.state == ESTABLISHED
    from ikev2.payloads import KE

    assert [m.find(KE).group for m in r.seen[:2]] == [31, 19]


@per_backend
def test_invalid_ke_for_a_group_we_do_not_allow(backend):
    r = Responder(backend)
    r.want_group = 14
    s, r = connect(backend, r, ike="aes128-sha256-x25519")
    e = error_of(s)
    assert isinstance(e, NotifyError) and e.notify == C.N_INVALID_KE_PAYLOAD
    assert "group 14" in str(e) and s.state == CLOSED


@per_backend
def test_no_proposal_chosen_is_clear(backend):
    r = Responder(backend)
    r.init_error = C.N_NO_PROPOSAL_CHOSEN
    s, r = connect(backend, r)
    e = error_of(s)
    assert isinstance(e, NotifyError) and e.notify == C.N_NO_PROPOSAL_CHOSEN
    assert "NO_PROPOSAL_CHOSEN" in str(e) and "aes128-sha256-x25519" in str(e)
    assert s.out == []  # nothing to delete: no IKE SA


@per_backend
def test_unoffered_choice_is_rejected(backend):
    def swap_dh(sa):
        for t in sa.proposals[0].transforms:
            if t.ttype == C.TRANS_DH:
                t.tid = C.DH_MODP2048

    def add_two(sa):
        sa.proposals[0].transforms.append(sa.proposals[0].transforms[0])

    for tamper in (swap_dh, add_two):
        r = Responder(backend)
        r.tamper = tamper
        s, r = connect(backend, r)
        assert isinstance(error_of(s), ProtocolError), tamper
        assert s.state == CLOSED


@per_backend
def test_authentication_failed_from_gateway(backend):
    s, r = connect(backend, Responder(backend, psk=b"other"))
    e = error_of(s)
    assert isinstance(e, AuthenticationFailed)
    assert "AUTHENTICATION_FAILED" in str(e) and "psk" in str(e)
    assert not deleted(r)  # the responder keeps no SA: no Delete


@per_backend
def test_bad_gateway_auth_is_refused_and_deleted(backend):
    r = Responder(backend)
    r.bad_auth = True
    s, r = connect(backend, r)
    assert isinstance(error_of(s), AuthenticationFailed)
    # one INFORMATIONAL Delete for the half-made IKE SA
    assert deleted(r)


def deleted(r):
    d = r.seen[-1]
    return (d.exchange == C.INFORMATIONAL and d.find(Delete) is not None
            and d.find(Delete).protocol == C.PROTO_IKE)


@per_backend
def test_child_errors_are_named(backend):
    for n, word in ((C.N_TS_UNACCEPTABLE, "TS_UNACCEPTABLE"),
                    (C.N_INTERNAL_ADDRESS_FAILURE, "INTERNAL_ADDRESS_FAILURE"),
                    (C.N_NO_PROPOSAL_CHOSEN, "esp proposals")):
        r = Responder(backend)
        r.child_error = n
        s, r = connect(backend, r)
        e = error_of(s)
        assert isinstance(e, NotifyError) and e.notify == n and word in str(e)
        assert deleted(r)  # the IKE SA is deleted


@per_backend
def test_widened_ts_is_rejected(backend):
    from ikev2.payloads import TrafficSelector

    r = Responder(backend)
    r.tsr = [TrafficSelector(bytes(4), b"\xff" * 4)]
    s, r = connect(backend, r)
    assert isinstance(error_of(s), ProtocolError) and "widened" in str(error_of(s))


@per_backend
def test_missing_virtual_ip(backend):
    r = Responder(backend)
    r.vip = None
    r.tsi = [__import__("ikev2.payloads").payloads.TrafficSelector(bytes(4), b"\xff" * 4)]
    s, r = connect(backend, r)
    e = error_of(s)
    assert isinstance(e, NotifyError) and e.notify == C.N_INTERNAL_ADDRESS_FAILURE


def test_retransmission_backoff_and_budget():
    from ikev2 import crypto

    s = Session(cfg(retransmit_timeout=1.0, retransmit_base=2.0, retransmit_tries=3),
                crypto.backend(), Rng(), GW, None)
    s.connect(0)
    first = s.out.pop()
    times = []
    now = 0
    while s.state != CLOSED and now < 100000:
        now = s.deadline()
        s.timeout(now)
        for d in s.out:
            assert d == first  # bit-identical
            times.append(now)
        s.out = []
    assert times == [1000, 3000, 7000]
    assert now == 15000
    e = error_of(s)
    assert isinstance(e, ProtocolError) and "no response" in str(e)
    assert "3 retransmissions" in str(e)


@per_backend
def test_gateway_requests_and_keepalive(backend):
    s, r = connect(backend)
    s.events = []

    def request(mid, payloads, ex=C.INFORMATIONAL):
        m = M.Message(ex, s.spi_i, r.spi_r, mid, 0, payloads, True)
        return bytes(4) + M.encode(m, r.tx)

    # a liveness check gets an empty response
    req = request(0, [])
    s.receive(req, 4500, 100)
    (resp, port), = s.out
    s.out = []
    m = M.decode(resp[4:], r.rx)
    assert m.is_response() and m.mid == 0 and m.payloads == []
    # we are the IKE SA's original initiator: I is set on responses too
    assert m.flags == C.FLAG_RESPONSE | C.FLAG_INITIATOR
    # its retransmission gets the same bytes, without new processing
    s.receive(req, 4500, 200)
    assert s.out == [(resp, 4500)]
    s.out = []
    # a CREATE_CHILD_SA request without an SA payload is malformed
    s.receive(request(1, [Notify(C.N_REKEY_SA)], C.CREATE_CHILD_SA), 4500, 300)
    m = M.decode(s.out.pop()[0][4:], r.rx)
    assert m.notify(C.N_INVALID_SYNTAX) is not None
    # NAT keepalive after 20 s of silence
    assert s.deadline() == 300 + 20000
    s.timeout(20300)
    assert s.out == [(b"\xff", 4500)]
    s.out = []
    # the gateway deletes the IKE SA
    s.receive(request(2, [Delete(C.PROTO_IKE)]), 4500, 400)
    assert s.state == CLOSED and ("down", "the gateway deleted the IKE SA") in s.events
    assert len(s.out) == 1


@per_backend
def test_child_delete_from_gateway(backend):
    s, r = connect(backend)
    ours = s.child.spi_in
    m = M.Message(C.INFORMATIONAL, s.spi_i, r.spi_r, 0, 0,
                  [Delete(C.PROTO_ESP, [r.esp_spi])], True)
    s.receive(bytes(4) + M.encode(m, r.tx), 4500, 10)
    (resp, _), (req, _) = s.out
    resp = M.decode(resp[4:], r.rx)
    assert resp.find(Delete).spis == [ours]  # RFC 7296 1.4.1: our inbound SPI
    # an IKE SA without a Child SA carries nothing: we close it (and the
    # driver re-establishes the tunnel)
    req = M.decode(req[4:], r.rx)
    assert not req.is_response() and req.find(Delete).protocol == C.PROTO_IKE
    assert s.child is None and s.state == CLOSING


@per_backend
def test_graceful_close_sends_delete(backend):
    s, r = connect(backend)
    s.close(50)
    (data, port), = s.out
    s.out = []
    m = M.decode(data[4:], r.rx)
    assert m.exchange == C.INFORMATIONAL and m.find(Delete).protocol == C.PROTO_IKE
    assert m.mid == 2
    reply = M.encode(M.Message(C.INFORMATIONAL, s.spi_i, r.spi_r, 2,
                               C.FLAG_RESPONSE, [], True), r.tx)
    s.receive(bytes(4) + reply, 4500, 60)
    assert s.state == CLOSED


@per_backend
def test_esp_through_the_session(backend):
    from ikev2 import keys as K
    from ikev2.esp import ChildSA
    from ikev2.proposals import select, parse

    s, r = connect(backend)
    p, chosen = r.child_keys
    offers = parse("aes128-sha256", False)
    suite = select(SA([__import__("ikev2.payloads").payloads.Proposal(
        1, C.PROTO_ESP, chosen, r.esp_spi)]), offers, C.PROTO_ESP)
    km = K.child_keymat(backend, r.keys.sk_d, r.ni, r.nr, 16, 32)
    ei, ai, er, ar = km
    gw = ChildSA(backend, suite, r.esp_spi, s.child.spi_in, (er, ar, ei, ai), Rng(b"g"))
    inside = b"\x45" + bytes(15) + b"\xc6\x33\x64\x02" + bytes(8)  # to 198.51.100.2
    assert s.send_ip(inside, 10)
    esp, port = s.out.pop()
    assert port == 4500
    assert gw.decap(esp) == (4, inside)
    # outbound policy: a destination outside the agreed TSr is not sent
    outside = b"\x45" + bytes(15) + b"\xcb\x00\x71\x01" + bytes(8)  # 203.0.113.1
    assert not s.send_ip(outside, 10) and s.out == [] and s.policy_drops == 1
    s.receive(gw.encap(b"\x45" + b"\x01" * 27), 4500, 11)
    assert ("ip", b"\x45" + b"\x01" * 27) in s.events


@per_backend
def test_gateway_rekeys_the_child_sa(backend):
    from ikev2 import keys as K
    from ikev2.esp import ChildSA
    from ikev2.payloads import (Proposal, Nonce, TSi, TSr, TrafficSelector)
    from ikev2.proposals import Suite

    s, r = connect(backend)
    p, chosen = r.child_keys
    suite = Suite(1, b"", C.ENCR_AES_CBC, 128, C.AUTH_HMAC_SHA2_256_128, 0, 0, 0)
    ei, ai, er, ar = K.child_keymat(backend, r.keys.sk_d, r.ni, r.nr, 16, 32)
    old_in = s.child.spi_in
    gw_old = ChildSA(backend, suite, r.esp_spi, old_in, (er, ar, ei, ai), Rng(b"o"))
    gspi, ni = b"\xee\x00\x00\x02", b"\x4e" * 32
    req = M.Message(C.CREATE_CHILD_SA, s.spi_i, r.spi_r, 0, 0, [
        Notify(C.N_REKEY_SA, b"", C.PROTO_ESP, r.esp_spi),
        SA([Proposal(1, C.PROTO_ESP, chosen, gspi)]), Nonce(ni),
        TSi([TrafficSelector(b"\xc6\x33\x64\x00", b"\xc6\x33\x64\xff")]),
        TSr([TrafficSelector(r.vip, r.vip)])], True)
    s.receive(bytes(4) + M.encode(req, r.tx), 4500, 100)
    resp = M.decode(s.out.pop()[0][4:], r.rx)
    assert resp.is_response() and resp.notify(C.N_NO_ADDITIONAL_SAS) is None
    new_in = resp.find(SA).proposals[0].spi
    nr = resp.find(Nonce).data
    assert new_in != old_in and s.next_child.spi_in == new_in and s.next_child.spi_out == gspi
    assert ("rekeyed", (new_in.hex(), False)) in s.events and s.rekeys == 1
    # the gateway started this exchange: its keys come first in KEYMAT
    gi, gai, gr, gar = K.child_keymat(backend, r.keys.sk_d, ni, nr, 16, 32)
    gw_new = ChildSA(backend, suite, gspi, new_in, (gi, gai, gr, gar), Rng(b"n"))
    inside = b"\x45" + bytes(15) + b"\xc6\x33\x64\x02" + bytes(8)
    # until the new SA carries traffic, we keep sending on the old one:
    # the gateway installs the new one only once our answer arrives
    assert s.send_ip(inside, 101)
    assert gw_old.decap(s.out.pop()[0]) == (4, inside)
    s.events = []
    s.receive(gw_new.encap(b"\x45new"), 4500, 102)
    s.receive(gw_old.encap(b"\x45old"), 4500, 103)  # the old one still works
    assert [v for k, v in s.events if k == "ip"] == [b"\x45new", b"\x45old"]
    assert s.child.spi_in == new_in and s.next_child is None
    assert s.send_ip(inside, 103)
    assert gw_new.decap(s.out.pop()[0]) == (4, inside)  # outbound: the new SA
    # the gateway deletes the old SA; we answer with its inbound SPI
    dele = M.Message(C.INFORMATIONAL, s.spi_i, r.spi_r, 1, 0,
                     [Delete(C.PROTO_ESP, [r.esp_spi])], True)
    s.receive(bytes(4) + M.encode(dele, r.tx), 4500, 104)
    assert M.decode(s.out.pop()[0][4:], r.rx).find(Delete).spis == [old_in]
    s.events = []
    s.receive(gw_old.encap(b"\x45late"), 4500, 105)
    assert s.events == [] and s.child.spi_in == new_in and s.state == ESTABLISHED


@per_backend
def test_rekey_of_an_unknown_child_and_new_child_sas_are_refused(backend):
    from ikev2.payloads import Proposal, Nonce

    s, r = connect(backend)
    p, chosen = r.child_keys
    sa = SA([Proposal(1, C.PROTO_ESP, chosen, b"\xee\x00\x00\x09")])
    for mid, pl, want in (
            (0, [Notify(C.N_REKEY_SA, b"", C.PROTO_ESP, b"\x01\x02\x03\x04"), sa,
                 Nonce(b"n" * 32)], C.N_CHILD_SA_NOT_FOUND),
            (1, [sa, Nonce(b"n" * 32)], C.N_NO_ADDITIONAL_SAS)):
        req = M.Message(C.CREATE_CHILD_SA, s.spi_i, r.spi_r, mid, 0, pl, True)
        s.receive(bytes(4) + M.encode(req, r.tx), 4500, 10 + mid)
        assert M.decode(s.out.pop()[0][4:], r.rx).notify(want) is not None
    assert s.rekeys == 0 and s.state == ESTABLISHED


@per_backend
def test_liveness_check_and_dead_gateway(backend):
    s, r = connect(backend, dpd_delay=30, retransmit_timeout=1.0,
                   retransmit_base=2.0, retransmit_tries=2, keepalive=0)
    s.events = []
    t0 = s.last_rx
    assert s.deadline() == t0 + 30000
    s.timeout(t0 + 29999)
    assert s.out == []  # not yet
    s.timeout(t0 + 30000)  # silence for dpd_delay: an empty INFORMATIONAL
    (req, port), = s.out
    s.out = []
    m = M.decode(req[4:], r.rx)
    assert m.exchange == C.INFORMATIONAL and m.payloads == [] and m.mid == 2
    assert s.liveness_checks == 1
    reply = M.encode(M.Message(C.INFORMATIONAL, s.spi_i, r.spi_r, 2,
                               C.FLAG_RESPONSE, [], True), r.tx)
    s.receive(bytes(4) + reply, 4500, t0 + 30050)
    assert s.state == ESTABLISHED and s.deadline() == t0 + 60050
    # then the gateway goes silent: 2 retransmissions, then it is dead
    now = t0 + 60050
    s.timeout(now)
    first = s.out.pop()
    while s.state == ESTABLISHED:
        now = s.deadline()
        s.timeout(now)
        if s.state == ESTABLISHED:
            assert s.out.pop() == first  # bit-identical retransmissions
    s.out = []
    e = error_of(s)
    assert isinstance(e, ProtocolError) and "liveness" in str(e)
    assert now - (t0 + 60050) == 1000 + 2000 + 4000 and s.state == CLOSED


def _gw_request(s, r, mid, ex, payloads, tx=None, spis=None, flags=0):
    spi_i, spi_r = spis or (s.spi_i, r.spi_r)
    m = M.Message(ex, spi_i, spi_r, mid, flags, payloads, True)
    return bytes(4) + M.encode(m, tx or r.tx)


def _last(s, rx):
    m = M.decode(s.out.pop()[0][4:], rx)
    s.out = []
    return m


@per_backend
def test_gateway_rekeys_the_ike_sa_and_becomes_its_initiator(backend):
    from ikev2 import keys as K
    from ikev2 import proposals
    from ikev2.crypto.dh import DH
    from ikev2.payloads import Nonce, KE
    from ikev2.sk import Cipher

    s, r = connect(backend)
    old_spis = (s.spi_i, r.spi_r)
    gspi, ni = b"\x47" * 8, b"\x11" * 32
    dh = DH(backend, 31, Rng(b"gwdh"))
    req = _gw_request(s, r, 0, C.CREATE_CHILD_SA, [
        proposals.to_sa(s.cfg.ike_offers, C.PROTO_IKE, gspi), Nonce(ni),
        KE(31, dh.public)])
    s.receive(req, 4500, 100)
    resp = _last(s, r.rx)  # answered on the old IKE SA
    assert resp.is_response() and resp.error() is None
    ours = resp.find(SA).proposals[0].spi
    nr, ke = resp.find(Nonce).data, resp.find(KE)
    assert len(ours) == 8 and (s.spi_i, s.spi_r) == (gspi, ours) and not s.we_init
    # RFC 7296 2.18 keys; the gateway is the new SA's initiator
    seed = K.rekey_skeyseed(backend, r.keys.sk_d, dh.shared(ke.data), ni, nr)
    k = K.IKEKeys(backend, seed, ni, nr, gspi, ours, 16, 32)
    g_tx = Cipher(backend, C.ENCR_AES_CBC, k.sk_ei, C.AUTH_HMAC_SHA2_256_128, k.sk_ai, Rng(b"t"))
    g_rx = Cipher(backend, C.ENCR_AES_CBC, k.sk_er, C.AUTH_HMAC_SHA2_256_128, k.sk_ar, Rng(b"u"))
    assert s.ike_rekeys == 1 and len(s.retiring) == 1
    # the gateway deletes the old IKE SA on the old SA: answered there,
    # and the tunnel stays up
    s.receive(_gw_request(s, r, 1, C.INFORMATIONAL, [Delete(C.PROTO_IKE)],
                          spis=old_spis), 4500, 110)
    m = _last(s, r.rx)
    assert m.is_response() and m.flags & C.FLAG_INITIATOR and m.payloads == []
    assert s.retiring == [] and s.state == ESTABLISHED and s.child is not None
    # a liveness check on the new SA, message IDs from 0, I flag the
    # gateway's: our response has no I flag now
    s.receive(_gw_request(s, r, 0, C.INFORMATIONAL, [], g_tx, (gspi, ours),
                          C.FLAG_INITIATOR), 4500, 120)
    m = _last(s, g_rx)
    assert m.is_response() and m.flags == C.FLAG_RESPONSE and m.mid == 0
    # our own requests on the new SA: mid 0, no I flag
    s.close(130)
    m = M.decode(s.out.pop()[0][4:], g_rx)
    assert m.mid == 0 and m.flags == 0 and m.find(Delete).protocol == C.PROTO_IKE
    # a message with the old roles' I flag is not ours
    before = s.dropped
    s.receive(_gw_request(s, r, 1, C.INFORMATIONAL, [], g_tx, (gspi, ours)), 4500, 140)
    assert s.dropped == before + 1


def _child_rekey_collision(backend, gw_ni, gw_nr):
    # we rekey the Child SA; the gateway's rekey of it crosses ours
    from ikev2.payloads import Proposal, Nonce, TSi, TSr, TrafficSelector

    s, r = connect(backend, rekey_time=10, rekey_jitter=0)
    old = s.child
    assert s.child_rekey_at == s.up_ms + 10000 or s.child_rekey_at is not None
    s.out = []
    s.timeout(s.child_rekey_at)
    ours_req = _last(s, r.rx)
    assert ours_req.exchange == C.CREATE_CHILD_SA and ours_req.notify(C.N_REKEY_SA).spi == old.spi_in
    ours_spi = ours_req.find(SA).proposals[0].spi
    p, chosen = r.child_keys
    ts = [TSi([TrafficSelector(b"\xc6\x33\x64\x00", b"\xc6\x33\x64\xff")]),
          TSr([TrafficSelector(r.vip, r.vip)])]
    s.receive(_gw_request(s, r, 0, C.CREATE_CHILD_SA, [
        Notify(C.N_REKEY_SA, b"", C.PROTO_ESP, r.esp_spi),
        SA([Proposal(1, C.PROTO_ESP, chosen, b"\xee\x00\x00\x0b")]), Nonce(gw_ni)] + ts), 4500, 20000)
    theirs_resp = _last(s, r.rx)
    theirs_spi = theirs_resp.find(SA).proposals[0].spi
    # the gateway's response to our request
    resp = M.Message(C.CREATE_CHILD_SA, s.spi_i, r.spi_r, ours_req.mid, C.FLAG_RESPONSE, [
        SA([Proposal(1, C.PROTO_ESP, chosen, b"\xee\x00\x00\x0c")]), Nonce(gw_nr)] + ts, True)
    s.receive(bytes(4) + M.encode(resp, r.tx), 4500, 20010)
    dele = _last(s, r.rx)
    s.gw = r
    return s, ours_req.find(Nonce).data, ours_spi, theirs_spi, old, dele


@per_backend
def test_child_rekey_collision_lowest_nonce_loses(backend):
    # RFC 7296 2.8.1: the new SA made with the lowest of the four nonces
    # is redundant, and its maker deletes it
    # 1. the gateway's exchange holds the lowest nonce: ours survives, and
    #    we delete the old SA (the gateway deletes its redundant one)
    s, ni, ours, theirs, old, dele = _child_rekey_collision(
        backend, b"\x00" * 32, b"\xff" * 32)
    assert s.child.spi_in == ours and s.our_rekeys == 1
    assert dele.exchange == C.INFORMATIONAL and dele.find(Delete).spis == [old.spi_in]
    assert theirs in [c.spi_in for c in s.old_children]  # inbound until deleted
    # 2. our exchange holds the lowest nonce: the gateway's SA survives and
    #    we delete our own new one
    s, ni, ours, theirs, old, dele = _child_rekey_collision(
        backend, b"\xff" * 32, b"\x00" * 32)
    assert s.next_child.spi_in == theirs and s.child is old
    assert dele.find(Delete).spis == [ours]
    # the gateway deletes the old SA: its new one takes the traffic
    r = s.gw
    s.receive(_gw_request(s, r, 1, C.INFORMATIONAL, [Delete(C.PROTO_ESP, [r.esp_spi])]),
              4500, 20020)
    assert s.child.spi_in == theirs and s.next_child is None and s.state == ESTABLISHED


@per_backend
def test_our_rekeys_on_lifetime_and_volume(backend):
    s, r = connect(backend, rekey_time=100, life_time=120, ike_rekey_time=300,
                   rekey_jitter=0.5, rekey_packets=3, keepalive=0, dpd_delay=0)
    t0 = s.up_ms
    # soft lifetimes with jitter: between 50 % and 100 % of the time
    assert t0 + 50000 <= s.child_rekey_at <= t0 + 100000
    assert t0 + 150000 <= s.ike_rekey_at <= t0 + 300000
    assert s.child_expire_at == t0 + 120000
    # a packet limit: the third packet asks for the rekey at once
    inside = b"\x45" + bytes(15) + b"\xc6\x33\x64\x02" + bytes(8)
    for i in range(3):
        assert s.send_ip(inside, t0 + 10 + i)
    assert s.child_rekey_at == t0 + 12 and s.deadline() <= t0 + 12
    s.out = []
    s.timeout(t0 + 12)
    m = _last(s, r.rx)
    assert m.exchange == C.CREATE_CHILD_SA and m.notify(C.N_REKEY_SA) is not None
    # no answer: the hard lifetime ends the IKE SA with a clear error
    s.rtx_at = None
    s.timeout(t0 + 120000)
    assert s.state == CLOSED and "hard lifetime" in str(error_of(s))


@per_backend
def test_unanswered_esp_brings_the_liveness_check_forward(backend):
    # the rule behind the recovery from a NAT's port change (test_paths.py):
    # an idle tunnel is checked after dpd_delay (60 s); ESP sent and not
    # answered brings the check forward to dpd_unanswered (5 s) after the
    # first such packet; an answer (any ESP or IKE from the gateway)
    # cancels that; dpd_unanswered 0 turns it off
    s, r = connect(backend, keepalive=0, dpd_delay=60)
    t0 = s.last_rx
    assert s.deadline() == t0 + 60000
    inside = b"\x45" + bytes(15) + b"\xc6\x33\x64\x02" + bytes(8)
    assert s.send_ip(inside, t0 + 1000) and s.send_ip(inside, t0 + 3000)
    s.out = []
    assert s.deadline() == t0 + 6000          # 5 s after the first unanswered
    s.timeout(t0 + 5999)
    assert s.out == [] and s.liveness_checks == 0
    s.timeout(t0 + 6000)
    (req, port), = s.out
    m = M.decode(req[4:], r.rx)
    assert m.exchange == C.INFORMATIONAL and m.payloads == [] and port == 4500
    s.out = []
    reply = M.encode(M.Message(C.INFORMATIONAL, s.spi_i, r.spi_r, m.mid,
                               C.FLAG_RESPONSE, [], True), r.tx)
    s.receive(bytes(4) + reply, 4500, t0 + 6100)
    assert s.state == ESTABLISHED and s.liveness_checks == 1
    assert s.deadline() == t0 + 6100 + 60000  # answered: back to dpd_delay
    # sent, then answered within 5 s: no early check
    assert s.send_ip(inside, t0 + 7000)
    s.last_rx = t0 + 7500                     # (an ESP answer, as receive() sets)
    assert s.deadline() == t0 + 7500 + 60000
    # dpd_delay shorter than 5 s stays the bound
    s2, _ = connect(backend, keepalive=0, dpd_delay=2)
    assert s2.send_ip(inside, s2.last_rx + 100)
    assert s2.deadline() == s2.last_rx + 2000
    # turned off: only dpd_delay
    s3, _ = connect(backend, keepalive=0, dpd_delay=60, dpd_unanswered=0)
    assert s3.send_ip(inside, s3.last_rx + 100)
    assert s3.deadline() == s3.last_rx + 60000
