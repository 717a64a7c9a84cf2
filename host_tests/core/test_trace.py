# The session's trace (trace.py) and its field-level form (tracefmt.py),
# on both runtimes: what each record holds, the rings, the saved form,
# and that no secret enters a trace unless key export is on.
import io
import json

from harness import per_backend, Rng, raises
from responder import Responder
from test_session import cfg, pump, GW
from ikev2 import const as C
from ikev2 import tracefmt
from ikev2.esp import ChildSA
from ikev2.session import Session, ESTABLISHED
from ikev2.trace import Trace

PING = bytes.fromhex("45000054000100004001" "0000" "0a630007c6336402"
                     "0800" "0000" "abcd" "0001") + bytes(56)


def traced(backend, tr, **kw):
    s = Session(cfg(**kw), backend, Rng(b"init"), GW, None)
    s.trace = tr
    r = Responder(backend)
    s.connect(0)
    pump(s, r)
    assert s.state == ESTABLISHED
    return s, r


def saved(tr):
    f = io.StringIO()
    tr.dump(f)
    text = f.getvalue()
    return text, tracefmt.expand(json.loads(text))


def peer_of(s):
    # the gateway's side of our Child SA, to make ESP packets for us
    ch = s.child
    return ChildSA(ch.c, ch.suite, ch.spi_out, ch.spi_in,
                   (ch.k_in, ch.a_in, ch.k_out, ch.a_out), Rng(b"peer"))


def payload(rec, ptype):
    for p in rec["pl"]:
        if p["type"] == ptype:
            return p
    raise AssertionError("no payload %d in %r" % (ptype, rec))


@per_backend
def test_handshake_fields(backend):
    tr = Trace()
    s, r = traced(backend, tr)
    _, d = saved(tr)
    ike = [x for x in d["records"] if x["k"] == "ike"]
    assert [(x["dir"], x["ex"], x["mid"]) for x in ike] == [
        ("out", C.IKE_SA_INIT, 0), ("in", C.IKE_SA_INIT, 0),
        ("out", C.IKE_AUTH, 1), ("in", C.IKE_AUTH, 1)]
    init, init_r, auth, auth_r = ike
    assert not init["sk"] and auth["sk"] and init["spi_r"] == "0" * 16
    assert init_r["spi_r"] == s.spi_r.hex() and init_r["flags"] & C.FLAG_RESPONSE
    sa = payload(init, C.PT_SA)["props"][0]
    assert sa["proto"] == C.PROTO_IKE
    assert [C.TRANS_ENCR, C.ENCR_AES_CBC, 128] in sa["tf"]
    assert [C.TRANS_DH, C.DH_CURVE25519, None] in sa["tf"]
    assert payload(init, C.PT_KE) == {"type": C.PT_KE, "group": 31, "len": 32}
    assert payload(init, C.PT_NONCE)["len"] == len(s.ni)
    assert payload(auth, C.PT_IDI)["id"] == "device.lab"
    assert payload(auth, C.PT_AUTH) == {"type": C.PT_AUTH, "len": 32,
                                        "method": C.AUTH_SHARED_KEY}
    assert payload(auth, C.PT_TSR)["ts"] == [
        [C.TS_IPV4_ADDR_RANGE, 0, "198.51.100.0", "198.51.100.255", 0, 65535]]
    cp = payload(auth_r, C.PT_CP)
    assert cp["cfg_type"] == C.CFG_REPLY
    assert [C.CFG_INTERNAL_IP4_ADDRESS, "10.99.0.7"] in cp["attrs"]
    esp_sa = payload(auth_r, C.PT_SA)["props"][0]
    assert esp_sa["spi"] == s.child.spi_out.hex()
    # the wire sizes are the datagrams' (with the non-ESP marker on 4500)
    assert sum(x["len"] for x in ike) == s.bytes_ike
    # the client records the session's events (here, by hand)
    for kind, v in s.events:
        tr.event(9, kind, v)
    _, d = saved(tr)
    up = d["records"][-1]
    assert up["k"] == "ev" and up["what"] == "up"
    assert up["v"]["virtual_ip"] == "10.99.0.7"
    assert up["v"]["esp_spi_out"] == s.child.spi_out.hex()


@per_backend
def test_esp_records_and_drops(backend):
    tr = Trace()
    s, r = traced(backend, tr)
    assert s.send_ip(PING, 100)
    peer = peer_of(s)
    reply = peer.encap(PING)
    s.receive(reply, 4500, 101)
    s.receive(reply, 4500, 102)                      # a replay: dropped
    s.receive(b"\x01\x02\x03\x04" + reply[4:], 4500, 103)  # unknown SPI
    s.receive(b"\x00\x00\x00\x00" + b"junk", 4500, 104)    # not IKE
    _, d = saved(tr)
    esp = [x for x in d["records"] if x["k"] == "esp"]
    assert [(x["dir"], x["seq"]) for x in esp] == [("out", 1), ("in", 1)]
    assert esp[0]["spi"] == s.child.spi_out.hex()
    assert esp[0]["ip"] == [1, "10.99.0.7", "198.51.100.2", 84, 8, 1]
    drops = [x for x in d["records"] if x["k"] == "drop"]
    assert [x["what"] for x in drops] == ["esp", "esp", "ike"]
    assert "replayed 1" in drops[0]["why"]
    assert "unknown SPI 01020304" in drops[1]["why"]
    assert drops[2]["why"]  # the decoder's own message
    assert s.dropped == 1


@per_backend
def test_retransmission_is_traced(backend):
    tr = Trace()
    s = Session(cfg(), backend, Rng(b"init"), GW, None)
    s.trace = tr
    s.connect(0)
    s.out = []
    s.timeout(s.deadline())
    _, d = saved(tr)
    kinds = [(x["k"], x.get("n")) for x in d["records"]]
    assert kinds == [("ike", None), ("retx", 1)]
    assert d["records"][1]["ex"] == C.IKE_SA_INIT


@per_backend
def test_rings_bound_the_trace(backend):
    tr = Trace(limit=3)
    s, r = traced(backend, tr)
    for i in range(10):
        s.send_ip(PING, 100 + i)
    assert len(tr.records) == 3 and len(tr.packets) == 3
    assert tr.lost == (4 - 3) + (10 - 3)
    _, d = saved(tr)
    assert d["lost"] == tr.lost
    seqs = [x["seq"] for x in d["records"] if x["k"] == "esp"]
    assert seqs == [8, 9, 10]
    times = [x["t"] for x in d["records"]]
    assert times == sorted(times)


def _secrets(s, psk):
    # every secret of the session, as the text a leak would show
    k = s.keys
    ch = s.child
    vals = [psk, s.ni, s.nr, k.sk_d, k.sk_ai, k.sk_ar, k.sk_ei, k.sk_er,
            ch.k_in, ch.k_out, ch.a_in, ch.a_out]
    out = []
    for v in vals:
        if v:
            v = bytes(v)
            out += [v.hex(), v.hex().upper()]
    return out


@per_backend
def test_no_secret_without_key_export(backend):
    tr = Trace()
    s, r = traced(backend, tr)
    s.send_ip(PING, 100)
    text, d = saved(tr)
    assert "keys" not in d and '"keys"' not in text
    full = text + json.dumps(d)
    for v in _secrets(s, b"secret"):
        assert v not in full, "a secret in the trace: %s" % v
    # with export on, the keys are there (the check above can fail)
    tr2 = Trace(keys=True)
    s2, _ = traced(backend, tr2)
    s2.send_ip(PING, 100)
    text2, d2 = saved(tr2)
    assert s2.keys.sk_ei.hex() in text2 and s2.child.k_out.hex() in text2
    assert [k["sa"] for k in d2["keys"]] == ["ike", "esp"]
    assert d2["keys"][1]["spi_out"] == s2.child.spi_out.hex()
    assert s2.ni.hex() not in text2  # nonces stay out even then


def test_saved_form_errors():
    bad = (None, {"trace": 1, "records": []}, {"trace": 2},
           {"trace": 2, "records": [["nope", 1]]},
           {"trace": 2, "records": [["esp", 1, "out"]]},
           {"trace": 2, "records": [[1, 2, 3]]},
           {"trace": 2, "records": [["ike", 1, "in", 9, 0, True, "zz", []]]})
    for data in bad[:-1]:
        raises(tracefmt.TraceError, tracefmt.expand, data)
    # an IKE message that does not decode is shown as such, not a crash
    d = tracefmt.expand(bad[-1])
    assert d["records"][0]["error"].startswith("not decodable")


def test_drop_reasons():
    assert tracefmt.why(2, 35, 7) == ("an unexpected response (exchange 35, "
                                      "message ID 7)")
    assert tracefmt.why("ICV mismatch", 0, 0) == "ICV mismatch"
    assert tracefmt.why(99, 0, 0) == "reason 99"
