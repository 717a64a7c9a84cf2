# ESP under attack (issue 9): replays, a bit flip at every position, a
# wrong SPI, truncation at every length, CBC padding-oracle probes and
# authentic packets with a bad trailer, for AES-CBC + HMAC-SHA-256-128 and
# AES-GCM-16, on packets we make and on the real ESP packets strongSwan
# sent in the recorded sessions (vectors/exchanges/).  Every attack must be
# dropped and counted exactly (rx_bad_icv, rx_replay, rx_malformed, the
# session's esp_unknown_spi), deliver nothing, never raise, never move the
# anti-replay window, and never reach the cipher: the receiving Child SA's
# backend is wrapped in Spy, which counts the decryptions and checks that
# every ICV comparison is the backend's constant-time one over the whole
# 16-byte ICV.  test_esp.py has the basic cases; N_* below are the counts
# the README's report table quotes (printed by report() under pytest -s).
import sys
from struct import pack, unpack

from harness import per_backend, vectors, h, Rng
from ikev2 import const as C
from ikev2 import ip as IP
from ikev2.config import Config
from ikev2.crypto import util
from ikev2.esp import ChildSA
from ikev2.proposals import Suite
from ikev2.session import Session, ESTABLISHED
from ikev2.trace import Trace

IN, OUT = b"\x00\x00\x10\x01", b"\x00\x00\x20\x02"
CBC, GCM = C.ENCR_AES_CBC, C.ENCR_AES_GCM_16
MPY = sys.implementation.name == "micropython"
TALLY = {}  # attack -> packets tried (summed over transforms and backends)


def tally(what, n):
    TALLY[what] = TALLY.get(what, 0) + n


class Spy:
    # A crypto backend that forwards to the real one and counts what the
    # ESP receive path asks of it.
    def __init__(self, b):
        self.b = b
        self.NAME = b.NAME
        self.cbc_dec = self.gcm_open = self.gcm_pt = self.macs = 0
        self.ct_n = 0          # ICV comparisons
        self.ct_last = None    # the received ICV of the last one

    def __getattr__(self, name):
        return getattr(self.b, name)

    def aes_cbc_decrypt(self, key, iv, data):
        self.cbc_dec += 1
        return self.b.aes_cbc_decrypt(key, iv, data)

    def aes_gcm_open(self, key, nonce, aad, ct):
        self.gcm_open += 1
        pt = self.b.aes_gcm_open(key, nonce, aad, ct)
        if pt is not None:
            self.gcm_pt += 1
        return pt

    def hmac_sha256(self, key, data):
        self.macs += 1
        return self.b.hmac_sha256(key, data)

    def ct_eq(self, a, b):
        assert len(a) == 16 and len(b) == 16, (len(a), len(b))
        self.ct_n += 1
        self.ct_last = bytes(b)
        return self.b.ct_eq(a, b)

    def decrypted(self):
        # plaintexts the cipher produced (GCM: only after its tag verified)
        return self.cbc_dec + self.gcm_pt


def suite_keys(encr):
    if encr == GCM:
        return (Suite(1, OUT, encr, 128, 0, 0, 0, 0),
                (b"E" * 20, b"", b"F" * 20, b""))
    return (Suite(1, OUT, encr, 128, C.AUTH_HMAC_SHA2_256_128, 0, 0, 0),
            (b"E" * 16, b"A" * 32, b"F" * 16, b"B" * 32))


def pair(backend, encr):
    # dev: our Child SA, its backend spied on; gw: the sending peer
    suite, km = suite_keys(encr)
    ei, ai, er, ar = km
    spy = Spy(backend)
    dev = ChildSA(spy, suite, IN, OUT, km, Rng(b"d"))
    gw = ChildSA(backend, suite, OUT, IN, (er, ar, ei, ai), Rng(b"g"))
    return dev, gw, spy


def counts(ch):
    return [ch.rx_packets, ch.rx_bad_icv, ch.rx_replay, ch.rx_malformed]


def seal(ch, seq, pt, spi=None):
    # an authentic packet as ch (the sender) would make it, of any aligned
    # plaintext pt (trailer included): the real keys, any trailer
    c = ch.c
    hdr = (spi or ch.spi_out) + pack(">I", seq)
    if ch.gcm:
        iv = pack(">II", 0, seq)
        return hdr + iv + c.aes_gcm_seal(ch.k_out, ch.salt_out + iv, hdr, pt)
    iv = ch.rng(16)
    body = hdr + iv + c.aes_cbc_encrypt(ch.k_out, iv, pt)
    return body + c.hmac_sha256(ch.m_out, body)[:16]


def flipped(pkt, i, bit):
    b = bytearray(pkt)
    b[i] ^= 1 << bit
    return bytes(b)


def seq_of(pkt):
    return unpack(">I", pkt[4:8])[0]


def is_replay(seq, seen, top, win=64):
    return seq == 0 or seq in seen or (seq <= top and top - seq >= win)


def bits_for(n):
    # every bit of every byte; for a full-size packet on MicroPython's slow
    # pure GCM one bit per byte (a different bit each byte)
    return 8 if n < 400 or not MPY else 1


# ------------------------------------------------------------ replays
@per_backend
def test_replays_never_deliver_twice(backend):
    # a script of sequence numbers, replays among them; a model of the
    # window (is_replay) says which must get through
    script = []
    for i in range(1, 101):
        script += [i, i]                # in order, each replayed at once
    script += list(range(1, 101))       # 37..100 in the window, 1..36 far
    script += [150, 120, 149, 90, 140, 87, 130, 100, 125, 86]  # reordered
    script += list(range(87, 151)) * 2  # duplicates in the moved window
    script += [300] + list(range(150, 300)) + list(range(230, 301))
    script += [0]                       # never valid (RFC 4303 3.3.3)
    for encr in (CBC, GCM):
        dev, gw, spy = pair(backend, encr)
        pkts = [gw.encap(b"p%d" % i) for i in range(1, 301)]
        zero = bytearray(pkts[0])
        zero[4:8] = bytes(4)
        seen, top = [], 0
        got = []
        replays = 0
        for q in script:
            r = dev.decap(bytes(zero) if q == 0 else pkts[q - 1])
            if is_replay(q, seen, top):
                assert r is None, q
                replays += 1
            else:
                assert r == (4, b"p%d" % q), q
                got.append(q)
                seen.append(q)
                top = max(top, q)
        assert len(got) == len(set(got))   # never delivered twice
        assert counts(dev) == [len(got), 0, replays, 0], counts(dev)
        assert spy.decrypted() == len(got)  # replays never reach the cipher
        assert replays > 400 and len(got) > 200
        tally("replay (own packets)", replays)
        tally("in-window reordered, delivered once", len(got))


# ------------------------------------------------------------ bit flips
def _flip_all(backend, encr, size, check_order):
    dev, gw, spy = pair(backend, encr)
    inner = bytes((i * 13) & 0xFF for i in range(size))
    seen = []
    for i in range(1, 5):               # the window holds 1..4
        assert dev.decap(gw.encap(inner)) is not None
        seen.append(i)
    pkt = gw.encap(inner)               # seq 5, not yet received
    later = gw.encap(inner)             # seq 6
    base = counts(dev)
    dec = spy.decrypted()
    want = [0, 0, 0, 0]
    step = bits_for(len(pkt))
    n = 0
    for i in range(len(pkt)):
        for bit in (range(8) if step == 8 else (i % 8,)):
            bad = flipped(pkt, i, bit)
            assert dev.decap(bad) is None, (i, bit)
            n += 1
            if i < 4:
                want[3] += 1                    # not our SPI
            elif i < 8 and is_replay(seq_of(bad), seen, 4):
                want[2] += 1
            else:
                want[1] += 1                    # bad ICV
    got = counts(dev)
    assert [got[k] - base[k] for k in range(4)] == want, (got, base, want)
    assert spy.decrypted() == dec, "a forged packet reached the cipher"
    assert dev.top == 4                 # the window did not move
    # a forged packet with a high sequence number blocks nothing
    forged = bytearray(pkt)
    forged[4:8] = pack(">I", 0x7FFFFFFF)
    assert dev.decap(bytes(forged)) is None and dev.top == 4
    if check_order:
        assert dev.decap(later) == (4, inner)
    assert dev.decap(pkt) == (4, inner)
    tally("bit flip (own, %s)" % ("full-size" if size > 1000 else "small"), n)
    return n


@per_backend
def test_bit_flip_at_every_position_is_dropped(backend):
    for encr in (CBC, GCM):
        for size in (1, 84, 1400):
            _flip_all(backend, encr, size, size == 84)


# ------------------------------------------------------------ wrong SPI
@per_backend
def test_wrong_spi_is_never_decrypted(backend):
    rng = Rng(b"spi")
    for encr in (CBC, GCM):
        dev, gw, spy = pair(backend, encr)
        pkt = gw.encap(b"x" * 40)
        n = 0
        for k in range(64):
            spi = rng(4)
            if spi == IN:
                continue
            assert dev.decap(spi + pkt[4:]) is None
            n += 1
        assert dev.decap(OUT + pkt[4:]) is None  # our own SPI, reflected
        n += 1
        assert counts(dev) == [0, 0, 0, n]
        assert spy.macs == spy.gcm_open == spy.cbc_dec == spy.ct_n == 0
        assert dev.decap(pkt) == (4, b"x" * 40)
        tally("wrong SPI (Child SA)", n)


# ------------------------------------------------------------ truncation
def _expect_cut(ch, n):
    body = n - 8 - ch.iv_len - 16
    return 3 if body < ch.align or body % ch.align else 1  # malformed / ICV


@per_backend
def test_truncated_and_oversized_packets(backend):
    for encr in (CBC, GCM):
        for size in (0, 84, 1400):
            dev, gw, spy = pair(backend, encr)
            pkt = bytes(gw.encap(bytes(size)))
            want = [0, 0, 0, 0]
            tried = 0
            for n in list(range(len(pkt))) + [len(pkt) + k for k in range(1, 33)]:
                cut = pkt[:n] if n <= len(pkt) else pkt + bytes(n - len(pkt))
                assert dev.decap(cut) is None, n
                want[_expect_cut(dev, n)] += 1
                tried += 1
            # the ICV alone cut short (HMAC-96 style, 12 of 16 bytes)
            assert dev.decap(pkt[:-4]) is None
            want[_expect_cut(dev, len(pkt) - 4)] += 1
            tried += 1
            assert counts(dev) == want and dev.top == 0
            assert spy.decrypted() == 0
            assert dev.decap(pkt) == (4, bytes(size))
            tally("truncated/oversized length", tried)


# ------------------------------------------------------------ padding oracle
@per_backend
def test_cbc_padding_oracle_probes_look_all_the_same(backend):
    # Vaudenay: XOR a guess into the block before the one whose padding is
    # probed (the IV for the first block) and watch how the receiver
    # reacts.  The ICV is checked first, so every probe must end the same
    # way, before the cipher: None, one more bad ICV, nothing decrypted.
    for size in (30, 1400):
        dev, gw, spy = pair(backend, CBC)
        pkt = gw.encap(bytes(size))     # 30 + 2: two ciphertext blocks
        ct_end = len(pkt) - 16
        probes = []
        if size == 30:                  # every byte of the IV and C1
            for blk in (8, 24):
                probes += [(blk + j, v) for j in range(16) for v in range(1, 256)]
        else:   # the last byte (all values) and byte 14 of the penultimate block
            for j in (15, 14):
                probes += [(ct_end - 32 + j, v) for v in range(1, 256)]
        outcomes = set()
        for pos, v in probes:
            bad = bytearray(pkt)
            bad[pos] ^= v
            before = counts(dev)
            r = dev.decap(bytes(bad))
            after = counts(dev)
            outcomes.add((r, tuple(after[k] - before[k] for k in range(4))))
            assert spy.ct_last == pkt[-16:]  # the whole ICV compared
        assert outcomes == {(None, (0, 1, 0, 0))}, outcomes
        assert spy.cbc_dec == 0 and spy.ct_n == len(probes)
        assert dev.decap(pkt) == (4, bytes(size)) and spy.cbc_dec == 1
        tally("CBC padding-oracle probe (own)", len(probes))


@per_backend
def test_authentic_packets_with_a_bad_trailer_are_malformed(backend):
    # made with the real keys: a valid ICV, then a pad length past the
    # start, padding bytes that are not 1, 2, 3, ..., or a next header
    # that is neither IPv4 (4) nor a dummy packet (59)
    for encr in (CBC, GCM):
        dev, gw, spy = pair(backend, encr)
        seq = 0
        want = [0, 0, 0, 0]
        n_pt = 48
        for pad in range(256):          # every pad length value
            seq += 1
            if pad + 2 <= n_pt:
                pt = bytes(n_pt - 2 - pad) + bytes(range(1, pad + 1)) + bytes((pad, 4))
            else:
                pt = bytes(n_pt - 2) + bytes((pad, 4))
            r = dev.decap(seal(gw, seq, pt))
            if pad + 2 <= n_pt:
                assert r == (4, bytes(n_pt - 2 - pad)), pad
                want[0] += 1
            else:
                assert r is None
                want[3] += 1
        for pad in range(1, 47):        # one wrong padding byte
            for j in (0, pad - 1):
                seq += 1
                p = bytearray(bytes(n_pt - 2 - pad) + bytes(range(1, pad + 1))
                              + bytes((pad, 4)))
                p[n_pt - 2 - pad + j] ^= 0x80
                assert dev.decap(seal(gw, seq, bytes(p))) is None
                want[3] += 1
        for nh in range(256):           # every next header
            seq += 1
            r = dev.decap(seal(gw, seq, bytes(n_pt - 2) + bytes((0, nh))))
            if nh in (4, 59):
                assert r == (nh, bytes(n_pt - 2))
                want[0] += 1
            else:
                assert r is None
                want[3] += 1
        assert counts(dev) == want, (counts(dev), want)
        # authentic packets spend their sequence numbers: replays still caught
        assert dev.top == seq
        assert dev.decap(seal(gw, seq, bytes(n_pt - 2) + b"\x00\x04")) is None
        assert dev.rx_replay == 1
        tally("authentic, bad trailer", want[3])
        tally("authentic, good trailer", want[0])


@per_backend
def test_gcm_tag_is_checked_before_the_keystream(backend):
    # For AES-GCM the ICV check is inside aes_gcm_open.  The portable
    # gcm.open (the mpy and pure backends) is called here with a counting
    # ECB: a wrong tag (every bit of it, or of the ciphertext) needs only
    # the 32 bytes for H and E(K, J0), never the counter blocks.
    from ikev2.crypto import gcm
    key, nonce, aad = b"K" * 16, b"N" * 12, b"A" * 8
    pt = bytes(range(100))
    ct = backend.aes_gcm_seal(key, nonce, aad, pt)
    used = [0]
    ecb = backend.aes_ecb(key)

    def counting(data):
        used[0] += len(data)
        return ecb(data)

    assert gcm.open(counting, nonce, aad, ct) == pt
    assert used[0] > 32                 # the genuine one was decrypted
    n = 0
    for i in range(len(ct)):
        for bit in (range(8) if i >= len(ct) - 16 else (i % 8,)):
            used[0] = 0
            bad = flipped(ct, i, bit)
            assert gcm.open(counting, nonce, aad, bad) is None
            assert backend.aes_gcm_open(key, nonce, aad, bad) is None
            assert used[0] == 32, used
            n += 1
    tally("GCM forged tag/ciphertext (gcm.open)", n)


# ------------------------------------------------------------ constant time
class Counted:
    # a byte string that counts which of its positions are read
    def __init__(self, b, reads):
        self.b = b
        self.reads = reads

    def __len__(self):
        return len(self.b)

    def __getitem__(self, i):
        self.reads.append(i)
        return self.b[i]


@per_backend
def test_icv_comparison_is_constant_time(backend):
    # the backend's ct_eq is right at every position...
    for n in (0, 1, 12, 16, 32):
        a = bytes((i * 37 + 5) & 0xFF for i in range(n))
        assert backend.ct_eq(a, bytes(a)) and backend.ct_eq(a, bytearray(a))
        assert backend.ct_eq(a, memoryview(a))
        assert not backend.ct_eq(a, a + b"\x00") and not backend.ct_eq(a + b"\x00", a)
        for i in range(n):
            for bit in range(8):
                assert not backend.ct_eq(a, flipped(a, i, bit)), (n, i, bit)
    # ... and is the constant-time one: OpenSSL's compare (host), the viper
    # loop (mpy, where native code loads) or util.ct_eq (pure, fallback)
    if backend.NAME == "host":
        assert "compare_digest" in backend.ct_eq.__code__.co_names
    elif backend.NAME == "mpy":
        try:
            from ikev2.crypto import ctnative
            assert backend.ct_eq is ctnative.ct_eq
        except Exception:
            assert backend.ct_eq is util.ct_eq
    else:
        assert backend.ct_eq is util.ct_eq
    # util.ct_eq reads every byte of both, wherever the first difference
    a = bytes(range(16))
    for i in range(-1, 16):
        b = flipped(a, i, 0) if i >= 0 else a
        ra, rb = [], []
        assert util.ct_eq(Counted(a, ra), Counted(b, rb)) == (i < 0)
        assert sorted(ra) == sorted(rb) == list(range(16)), (i, ra, rb)


@per_backend
def test_every_cbc_packet_is_checked_with_ct_eq_over_the_full_icv(backend):
    dev, gw, spy = pair(backend, CBC)
    n = 0
    for size in (0, 15, 16, 100, 1400):
        pkt = gw.encap(bytes(size))
        for bad in (flipped(pkt, len(pkt) - 1, 7), flipped(pkt, 30, 0), pkt):
            spy.ct_last = None
            dev.decap(bad)
            n += 1
            assert spy.ct_n == n and spy.ct_last == bad[-16:]
    assert counts(dev) == [5, 10, 0, 0] and spy.cbc_dec == 5


# ------------------------------------------------------------ recorded ESP
def recorded(backend, name):
    # the recorded session brought up again (test_session_replay.py) ->
    # (session, strongSwan's ESP packets, the gateway's side of the Child SA
    # made from the keys we derived: it seals what strongSwan would)
    rec = vectors("exchanges/" + name)
    cfg = Config(rec["config"])
    rng = Rng(rec["seed"].encode())
    s = Session(cfg, backend, rng, IP.aton(cfg.gateway), None)
    rng(2)
    now = 1000
    s.connect(now)
    esp = []
    for direction, port, data in rec["log"]:
        data = h(data)
        now += 5
        if s.state == ESTABLISHED:
            if direction == "in" and port == 4500 and data[:4] == s.child.spi_in:
                esp.append(data)
            continue
        if direction == "out":
            assert s.out.pop(0) == (data, port)
            continue
        s.receive(data, port, now)
    assert s.state == ESTABLISHED and len(esp) == 2, name
    s.out, s.events = [], []
    ch = s.child
    if ch.gcm:
        km = (ch.k_in + ch.salt_in, b"", ch.k_out + ch.salt_out, b"")
    else:
        km = (ch.k_in, ch.a_in, ch.k_out, ch.a_out)
    gw = ChildSA(backend, ch.suite, ch.spi_out, ch.spi_in, km, Rng(b"gw"))
    gw.seq = 2                          # strongSwan sent 1 and 2
    ch.c = Spy(backend)
    return s, esp, gw


RECORDED = (("x25519_cbc.json", "aes128-sha256"),
            ("ecp256_gcm.json", "aes256gcm16"))


def ip_packet(ident):
    # an inner IPv4 packet (UDP 10.99.0.254 -> 10.99.0.1), told apart by ident
    hdr = bytearray(bytes.fromhex("4500002c" "0000" "0000" "4011" "0000"
                                  "0a6300fe" "0a630001"))
    hdr[4:6] = pack(">H", ident)
    s = 0
    for k in range(0, 20, 2):
        s += (hdr[k] << 8) | hdr[k + 1]
    s = (s & 0xFFFF) + (s >> 16)
    hdr[10:12] = pack(">H", ~s & 0xFFFF)
    return bytes(hdr) + pack(">HHHH", 5000, 6000, 24, 0) + b"sixteen bytes..."


def quiet(s):
    # nothing observable came of it: no event, nothing sent, still up
    assert s.events == [] and s.out == [] and s.state == ESTABLISHED, s.events


def gc_threshold(n=None):
    # MicroPython: the session sets a GC threshold (collect every 8 KB) that
    # makes thousands of attack packets slow; the test puts it back after
    if not MPY:
        return None
    import gc
    old = gc.threshold()
    if n is not None:
        gc.threshold(n)
    return old


@per_backend
def test_recorded_strongswan_packets_under_attack(backend):
    saved = gc_threshold()
    try:
        for name, esp_name in RECORDED:
            _recorded_attacks(backend, name, esp_name)
    finally:
        gc_threshold(saved)


def _recorded_attacks(backend, name, esp_name):
    s, esp, gw = recorded(backend, name)
    gc_threshold(-1)
    ch = s.child
    spy = ch.c
    assert ch.suite.name() == esp_name
    tr = s.trace = Trace(limit=16)  # a device's rings; tr.n counts all
    now = 5000
    want = [0, 0, 0, 0]
    unknown = 0
    # 1. every bit of both real packets flipped, and every truncation,
    # before the genuine ones: nothing gets through, nothing moves
    for pkt in esp:
        for i in range(len(pkt)):
            for bit in range(8):
                bad = flipped(pkt, i, bit)
                now += 1
                s.receive(bad, 4500, now)
                quiet(s)
                if i < 4:
                    unknown += 1
                elif i < 8 and is_replay(seq_of(bad), [], 0):
                    want[2] += 1
                else:
                    want[1] += 1
        tally("bit flip (strongSwan's packets)", 8 * len(pkt))
        for n in range(len(pkt)):
            s.receive(pkt[:n], 4500, now)
            quiet(s)
            if n < 4:
                unknown += 1
            else:
                want[_expect_cut(ch, n)] += 1
        tally("truncation (strongSwan's packets)", len(pkt))
    # 2. padding-oracle probes on the CBC one: the last byte of the
    # penultimate block, every value, and byte 14
    if not ch.gcm:
        pkt = esp[0]
        outs = set()
        for j in (15, 14):
            for v in range(1, 256):
                bad = bytearray(pkt)
                bad[len(pkt) - 16 - 32 + j] ^= v
                before = counts(ch)
                s.receive(bytes(bad), 4500, now)
                quiet(s)
                after = counts(ch)
                outs.add(tuple(after[k] - before[k] for k in range(4)))
        assert outs == {(0, 1, 0, 0)}
        want[1] += 510
        tally("CBC padding-oracle probe (strongSwan's packet)", 510)
    # 3. unknown SPIs, our own outbound SPI among them: not decrypted
    rng = Rng(b"spis")
    for k in range(100):
        spi = ch.spi_out if k == 0 else rng(4)
        s.receive(spi + esp[0][4:], 4500, now)
        quiet(s)
        unknown += 1
    tally("unknown SPI (session)", 100)
    assert counts(ch) == want, (counts(ch), want)
    assert s.esp_unknown_spi == unknown
    assert s.info()["esp_unknown_spi"] == unknown
    assert s.info()["esp_rx_malformed"] == want[3]
    assert spy.decrypted() == 0 and ch.top == 0
    # every drop was traced; the last ones: the unknown SPIs, by number
    assert tr.n == unknown + want[1] + want[2] + want[3]
    assert [r[:4] for _, r in tr.records] == [["drop", now, "esp", 10]] * 16
    # 4. the genuine packets still get through, once each
    for pkt in esp:
        s.receive(pkt, 4500, now)
    kinds = [e[0] for e in s.events]
    assert kinds == ["ip", "ip"], s.events
    s.events = []
    for k in range(3):              # replayed at once
        for pkt in esp:
            s.receive(pkt, 4500, now)
            quiet(s)
    want[0] += 2
    want[2] += 6
    # 5. the window moves on with packets made with the real keys
    fresh = [gw.encap(ip_packet(k)) for k in range(3, 131)]
    for pkt in fresh:
        s.receive(pkt, 4500, now)
    assert [e[1] for e in s.events] == [ip_packet(k) for k in range(3, 131)]
    s.events = []
    want[0] += 128
    for pkt in esp + fresh:         # all of it again: far outside the
        s.receive(pkt, 4500, now)   # window (1..66) or duplicates
        quiet(s)
        want[2] += 1
    tally("replay (strongSwan's packets and the SA's keys)", 6 + 130)
    # 6. authentic with a bad trailer, through the session
    for pt in (bytes(46) + b"\x2f\x04", bytes(44) + b"\x01\x03\x02\x04",
               bytes(46) + b"\x00\x06", bytes(46) + b"\x00\x3b"):
        s.receive(seal(gw, gw.seq + 1, pt), 4500, now)
        gw.seq += 1
        quiet(s)
    want[3] += 3
    want[0] += 1                    # the dummy packet (59): no event
    assert counts(ch) == want, (counts(ch), want)
    assert s.esp_unknown_spi == unknown and s.dropped == 0
    # a genuine packet afterwards is still delivered
    s.receive(gw.encap(ip_packet(999)), 4500, now)
    assert s.events == [("ip", ip_packet(999))]
    tally("genuine after the attacks (delivered)", 1)


def report():
    # the numbers for the README's table (one run of every backend)
    for k in sorted(TALLY):
        print("%8d  %s" % (TALLY[k], k))


if __name__ == "__main__":
    # every test on every backend of this runtime, then the counts:
    #   python host_tests/core/test_esp_attacks.py   (CPython or micropython)
    import harness
    for b in harness.backends():
        for name in sorted(globals()):
            if name.startswith("test_"):
                globals()[name](b)
    report()
