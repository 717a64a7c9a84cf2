# Run by test_micropython.py under the MicroPython unix port: the live heap
# across many rekeys of each kind (the gateway's and ours, Child SA and IKE
# SA), driven in-process against a scripted gateway, with the library as
# .mpy.  Prints "phase NAME HEAP_AFTER_WARMUP HEAP_AT_END" per kind; a
# leak of even a few bytes per rekey shows as a difference.
#   micropython mp_rekey_heap.py MPY_DIR N
import gc, sys
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, "host_tests/core"); sys.path.insert(0, "host_tests")
N = int(sys.argv[2])
WARM = 10
marks = {}


def mark(name, i):
    if i == WARM or i == N - 1:
        gc.collect()
        marks.setdefault(name, []).append(gc.mem_alloc())
        if i == N - 1:
            print("phase", name, marks[name][0], marks[name][1])

from harness import Rng
from responder import Responder
from ikev2 import const as C, message as M
from ikev2.config import Config
from ikev2.session import Session
from ikev2.payloads import Notify, SA, Proposal, Nonce, TSi, TSr, TrafficSelector, Delete
from ikev2 import crypto
b = crypto.backend()
cfg = Config({"gateway": "192.0.2.1", "local_id": "device.lab", "psk": "secret", "remote_ts": ["198.51.100.0/24"],
              "rekey_time": 0, "ike_rekey_time": 0, "keepalive": 0, "dpd_delay": 0})
s = Session(cfg, b, Rng(b"init"), b"\xc0\x00\x02\x01", None)
r = Responder(b)
s.connect(0)
def pump():
    for _ in range(10):
        out = s.out; s.out = []
        for data, port in out:
            if data == b"\xff" or (port == 4500 and data[:4] != bytes(4)): continue
            rep = r.handle(data, port)
            if rep is not None:
                s.receive((bytes(4) + rep) if port == 4500 else rep, port, 0)
pump()
p, chosen = r.child_keys
ts = [TSi([TrafficSelector(b"\xc6\x33\x64\x00", b"\xc6\x33\x64\xff")]), TSr([TrafficSelector(r.vip, r.vip)])]
gw_out = r.esp_spi
mid = 0
def req(payloads, ex):
    global mid
    m = M.Message(ex, s.spi_i, r.spi_r, mid, 0, payloads, True)
    mid += 1
    s.receive(bytes(4) + M.encode(m, r.tx), 4500, 1)
    out = s.out; s.out = []
    return M.decode(out[-1][0][4:], r.rx)
for i in range(N):
    new_gw = bytes((0xee, 1, (i >> 8) & 0xff, i & 0xff))
    resp = req([Notify(C.N_REKEY_SA, b"", C.PROTO_ESP, gw_out), SA([Proposal(1, C.PROTO_ESP, chosen, new_gw)]), Nonce(b"n" * 32)] + ts, C.CREATE_CHILD_SA)
    req([Delete(C.PROTO_ESP, [gw_out])], C.INFORMATIONAL)
    gw_out = new_gw
    s.events = []
    mark("gateway-child", i)
now = 10
for i in range(N):
    s.child_rekey_at = now
    s.timeout(now)
    for _ in range(3):
        out = s.out; s.out = []
        if not out: break
        m = M.decode(out[-1][0][4:], r.rx)
        if m.exchange == C.CREATE_CHILD_SA:
            pl = [SA([Proposal(1, C.PROTO_ESP, chosen, bytes((0xef, 2, (i >> 8) & 0xff, i & 0xff)))]), Nonce(b"r" * 32)] + ts
        else:
            pl = [Delete(C.PROTO_ESP, [b"\xee\x00\x00\x01"])]
        resp = M.Message(m.exchange, s.spi_i, r.spi_r, m.mid, C.FLAG_RESPONSE, pl, True)
        s.receive(bytes(4) + M.encode(resp, r.tx), 4500, now)
    now += 10
    s.events = []
    mark("our-child", i)
from ikev2 import keys as K
from ikev2.crypto.dh import DH
from ikev2.payloads import KE
from ikev2.sk import Cipher
for i in range(N):
    s.ike_rekey_at = now
    s.timeout(now)
    out = s.out; s.out = []
    m = M.decode(out[-1][0][4:], r.rx)
    assert m.exchange == C.CREATE_CHILD_SA, m
    prop = m.find(SA).proposals[0]
    ours = prop.spi
    ch = [prop.get(t)[0] for t in (C.TRANS_ENCR, C.TRANS_PRF, C.TRANS_INTEG, C.TRANS_DH)]
    ke = m.find(KE); ni = m.find(Nonce).data
    dh = DH(b, ke.group, Rng(b"g%d" % i))
    nr = b"q" * 32
    gspi = bytes((0x47, 0, 0, 0, 0, 0, (i >> 8) & 0xff, i & 0xff + 1))
    resp = M.Message(C.CREATE_CHILD_SA, s.spi_i, r.spi_r, m.mid, C.FLAG_RESPONSE,
                     [SA([Proposal(1, C.PROTO_IKE, ch, gspi)]), Nonce(nr), KE(ke.group, dh.public)], True)
    old_tx, old_rx, old_i, old_r = r.tx, r.rx, s.spi_i, r.spi_r
    s.receive(bytes(4) + M.encode(resp, r.tx), 4500, now)
    gir = dh.shared(ke.data)
    seed = K.rekey_skeyseed(b, r.keys.sk_d, gir, ni, nr)
    k = K.IKEKeys(b, seed, ni, nr, ours, gspi, 16, 32)
    r.keys = k
    r.rx = Cipher(b, C.ENCR_AES_CBC, k.sk_ei, C.AUTH_HMAC_SHA2_256_128, k.sk_ai, Rng(b"x"))
    r.tx = Cipher(b, C.ENCR_AES_CBC, k.sk_er, C.AUTH_HMAC_SHA2_256_128, k.sk_ar, Rng(b"y"))
    r.spi_r = gspi
    # our Delete of the old IKE SA, on the old SA
    out = s.out; s.out = []
    d = M.decode(out[-1][0][4:], old_rx)
    assert d.find(Delete).protocol == C.PROTO_IKE
    resp = M.Message(C.INFORMATIONAL, old_i, old_r, d.mid, C.FLAG_RESPONSE, [], True)
    s.receive(bytes(4) + M.encode(resp, old_tx), 4500, now)
    assert not s.retiring and s.spi_i == ours and s.state == 2, (s.retiring, s.state)
    now += 10
    s.events = []
    mark("our-ike", i)
from ikev2 import proposals
gmid = 0
gw_init = False  # after the first one the gateway is the original initiator
for i in range(N):
    gspi = bytes((0x48, 0, 0, 0, 0, 0, (i >> 8) & 0xff, i & 0xff + 1))
    ni = b"m" * 32
    dh = DH(b, 31, Rng(b"h%d" % i))
    fl = C.FLAG_INITIATOR if gw_init else 0
    rq = M.Message(C.CREATE_CHILD_SA, s.spi_i, s.spi_r, gmid, fl,
                   [proposals.to_sa(cfg.ike_offers, C.PROTO_IKE, gspi), Nonce(ni), KE(31, dh.public)], True)
    old_tx, old_rx, old_i, old_r = r.tx, r.rx, s.spi_i, s.spi_r
    s.receive(bytes(4) + M.encode(rq, r.tx), 4500, now)
    out = s.out; s.out = []
    m = M.decode(out[-1][0][4:], r.rx)
    ours = m.find(SA).proposals[0].spi
    nr = m.find(Nonce).data
    gir = dh.shared(m.find(KE).data)
    k = K.IKEKeys(b, K.rekey_skeyseed(b, r.keys.sk_d, gir, ni, nr), ni, nr, gspi, ours, 16, 32)
    r.keys = k
    r.tx = Cipher(b, C.ENCR_AES_CBC, k.sk_ei, C.AUTH_HMAC_SHA2_256_128, k.sk_ai, Rng(b"x"))
    r.rx = Cipher(b, C.ENCR_AES_CBC, k.sk_er, C.AUTH_HMAC_SHA2_256_128, k.sk_ar, Rng(b"y"))
    # the gateway deletes the old IKE SA on the old SA
    dl = M.Message(C.INFORMATIONAL, old_i, old_r, gmid + 1, fl, [Delete(C.PROTO_IKE)], True)
    s.receive(bytes(4) + M.encode(dl, old_tx), 4500, now)
    out = s.out; s.out = []
    assert M.decode(out[-1][0][4:], old_rx).is_response()
    assert not s.retiring and s.spi_i == gspi and s.state == 2 and not s.we_init
    gmid = 0
    gw_init = True
    now += 10
    s.events = []
    mark("gateway-ike", i)
