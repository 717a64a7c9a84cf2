# ESP (RFC 4303) on its own: both transforms, the anti-replay window
# (3.4.3), the ICV checked before decryption, padding and next header.
from harness import per_backend, Rng
from ikev2 import const as C
from ikev2.esp import ChildSA
from ikev2.proposals import Suite

IN, OUT = b"\x00\x00\x10\x01", b"\x00\x00\x20\x02"


def pair(backend, encr, window=64):
    if encr == C.ENCR_AES_GCM_16:
        suite = Suite(1, OUT, encr, 128, 0, 0, 0, 0)
        km = (b"E" * 20, b"", b"F" * 20, b"")
    else:
        suite = Suite(1, OUT, encr, 128, C.AUTH_HMAC_SHA2_256_128, 0, 0, 0)
        km = (b"E" * 16, b"A" * 32, b"F" * 16, b"B" * 32)
    ei, ai, er, ar = km
    dev = ChildSA(backend, suite, IN, OUT, km, Rng(b"d"), window)
    # the gateway's view: its inbound is our outbound, keys swapped
    gw = ChildSA(backend, suite, OUT, IN, (er, ar, ei, ai), Rng(b"g"), window)
    return dev, gw


@per_backend
def test_round_trip_padding_and_next_header(backend):
    for encr in (C.ENCR_AES_CBC, C.ENCR_AES_GCM_16):
        dev, gw = pair(backend, encr)
        for n in (0, 1, 13, 14, 15, 16, 17, 100, 1400):
            inner = bytes((i * 7) & 0xFF for i in range(n))
            pkt = dev.encap(inner)
            assert pkt[:4] == OUT
            align = 16 if encr == C.ENCR_AES_CBC else 4
            iv = 16 if encr == C.ENCR_AES_CBC else 8
            assert (len(pkt) - 8 - iv - 16) % align == 0
            assert gw.decap(pkt) == (4, inner)
        assert dev.seq == 9 and gw.rx_packets == 9


@per_backend
def test_replay_window(backend):
    for encr in (C.ENCR_AES_CBC, C.ENCR_AES_GCM_16):
        dev, gw = pair(backend, encr)
        pkts = [dev.encap(b"p%d" % i) for i in range(1, 201)]
        # out of order inside the window is fine, each exactly once
        for i in (5, 3, 4, 1, 2):
            assert gw.decap(pkts[i - 1]) == (4, b"p%d" % i)
        assert gw.decap(pkts[2]) is None and gw.rx_replay == 1
        assert gw.decap(pkts[149])[1] == b"p150"   # jump ahead
        assert gw.decap(pkts[86]) is not None      # 87: inside 150-63..150
        assert gw.decap(pkts[85]) is None          # 86: left of the window
        assert gw.rx_replay == 2
        assert gw.decap(pkts[199]) is not None     # 200, a full window jump
        assert gw.decap(pkts[149]) is None and gw.rx_replay == 3


@per_backend
def test_tampering_and_wrong_spi_are_counted_not_raised(backend):
    for encr in (C.ENCR_AES_CBC, C.ENCR_AES_GCM_16):
        dev, gw = pair(backend, encr)
        pkt = dev.encap(b"reading")
        for i in (5, 9, 20, len(pkt) - 1):  # seq, IV, ciphertext, ICV
            bad = bytearray(pkt)
            bad[i] ^= 1
            assert gw.decap(bytes(bad)) is None
        assert gw.rx_bad_icv == 4 and gw.rx_replay == 0
        # a packet whose ICV failed did not move the window
        assert gw.decap(pkt) == (4, b"reading")
        assert gw.decap(b"\x00\x00\x00\x09" + pkt[4:]) is None
        assert gw.decap(pkt[:20]) is None and gw.rx_malformed == 2


@per_backend
def test_sequence_number_exhaustion(backend):
    dev, gw = pair(backend, C.ENCR_AES_CBC)
    dev.seq = 0xFFFFFFFE
    assert dev.encap(b"last") is not None
    assert dev.encap(b"one more") is None  # must rekey (RFC 4303 3.3.3)
