# Replays exchanges recorded from a real strongSwan 5.9.8 gateway
# (tools/record_exchange.py, vectors/exchanges/): with the same seeded
# randomness the session must produce our recorded requests bit for bit,
# accept the gateway's answers (its AUTH verifies with the PSK), and
# decrypt the gateway's ESP packets (an ICMP echo reply, a UDP reply).
from harness import per_backend, vectors, h, Rng
from ikev2 import ip as IP
from ikev2.config import Config
from ikev2.session import Session, ESTABLISHED, CLOSED

RECORDINGS = ("x25519_cbc.json", "ecp256_gcm.json", "modp2048_cbc.json",
              "invalid_ke_cookie.json")


def _replay(backend, name):
    rec = vectors("exchanges/" + name)
    cfg = Config(rec["config"])
    rng = Rng(rec["seed"].encode())
    s = Session(cfg, backend, rng, IP.aton(cfg.gateway), None)
    rng(2)  # the client's ICMP identifier, drawn after the session's SPI
    now = 1000
    s.connect(now)
    inner = []
    handshake = True
    for direction, port, data in rec["log"]:
        data = h(data)
        now += 5
        if direction == "out":
            if handshake:
                assert s.out, "nothing sent where the recording sends"
                got, gport = s.out.pop(0)
                assert gport == port and got == data, (name, direction, port)
            continue
        s.receive(data, port, now)
        for kind, v in s.events:
            assert kind != "error", v
            if kind == "ip":
                inner.append(v)
        s.events = []
        if s.state == ESTABLISHED and handshake:
            handshake = False
            s.out = []
            assert s.vip == rec["info"]["virtual_ip"]
            assert s.spi_i.hex() == rec["info"]["ike_spi_i"]
            assert s.spi_r.hex() == rec["info"]["ike_spi_r"]
            assert s.child.spi_in.hex() == rec["info"]["esp_spi_in"]
            assert s.child.spi_out.hex() == rec["info"]["esp_spi_out"]
            s.close(now)  # our Delete (mid 2) will meet the recorded answer
    assert s.state == CLOSED
    return rec, inner


@per_backend
def test_replay_strongswan_exchanges(backend):
    for name in RECORDINGS:
        rec, inner = _replay(backend, name)
        # the gateway's ESP: an ICMP echo reply and the collector's UDP ACK
        kinds = []
        for pkt in inner:
            src, dst, proto, payload = IP.parse_ipv4(pkt)
            assert IP.ntoa(dst) == rec["info"]["virtual_ip"]
            if proto == IP.PROTO_ICMP:
                kinds.append(IP.parse_icmp_echo(payload)[0])
            else:
                kinds.append(IP.parse_udp(src, dst, payload)[2])
        assert kinds == [IP.ICMP_ECHO_REPLY, rec["reply"].encode()], name


@per_backend
def test_replay_detects_a_tampered_answer(backend):
    # flip one bit of the gateway's IKE_AUTH answer: it must be dropped
    # (ICV), and the session keeps waiting instead of coming up
    rec = vectors("exchanges/x25519_cbc.json")
    cfg = Config(rec["config"])
    rng = Rng(rec["seed"].encode())
    s = Session(cfg, backend, rng, IP.aton(cfg.gateway), None)
    rng(2)
    s.connect(0)
    ins = [h(d) for direction, p, d in rec["log"] if direction == "in"]
    s.receive(ins[0], 500, 1)
    bad = bytearray(ins[1])
    bad[-20] ^= 1
    s.receive(bytes(bad), 4500, 2)
    assert s.state != ESTABLISHED and s.dropped == 1
    s.receive(ins[1], 4500, 3)
    assert s.state == ESTABLISHED
