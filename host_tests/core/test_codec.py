# The wire codec: known bytes, round trips, malformed input, RFC 7296 2.5
# handling of unknown payloads, SK and SKF protection.
from harness import per_backend, h, Rng, raises
from ikev2 import const as C
from ikev2 import message as M
from ikev2.payloads import (SA, Proposal, Transform, KE, IDi, IDr, Cert,
                            CertReq, Auth, Nonce, Notify, Delete, VendorID,
                            TSi, TSr, TrafficSelector, CP, Encrypted,
                            EncryptedFragment)
from ikev2.sk import Cipher
from ikev2.errors import (DecodeError, IntegrityError,
                          UnsupportedCriticalPayload, ConfigError)

SPI_I = h("0102030405060708")
SPI_R = h("1112131415161718")


def ike_sa():
    return SA([Proposal(1, C.PROTO_IKE, [
        Transform(C.TRANS_ENCR, C.ENCR_AES_CBC, [(C.ATTR_KEY_LENGTH, 128)]),
        Transform(C.TRANS_PRF, C.PRF_HMAC_SHA2_256),
        Transform(C.TRANS_INTEG, C.AUTH_HMAC_SHA2_256_128),
        Transform(C.TRANS_DH, C.DH_CURVE25519)])])


def every_payload():
    ts = TrafficSelector(h("0a000001"), h("0a0000ff"), 17, 500, 4500)
    ts6 = TrafficSelector(bytes(16), b"\xff" * 16, 0, 0, 65535,
                          C.TS_IPV6_ADDR_RANGE)
    return [
        ike_sa(),
        SA([Proposal(1, C.PROTO_ESP, [
            Transform(C.TRANS_ENCR, C.ENCR_AES_GCM_16, [(C.ATTR_KEY_LENGTH, 256)]),
            Transform(C.TRANS_ESN, C.ESN_NO)], h("c0ffee01")),
            Proposal(2, C.PROTO_ESP, [
                Transform(C.TRANS_ENCR, C.ENCR_AES_CBC, [(C.ATTR_KEY_LENGTH, 128), (99, b"tlv")]),
                Transform(C.TRANS_INTEG, C.AUTH_HMAC_SHA2_256_128),
                Transform(C.TRANS_ESN, C.ESN_NO)], h("c0ffee02"))]),
        KE(31, b"\x55" * 32),
        Nonce(b"\x66" * 32),
        Notify(C.N_NAT_DETECTION_SOURCE_IP, b"\x77" * 20),
        Notify(C.N_REKEY_SA, b"", C.PROTO_ESP, h("deadbeef")),
        IDi(C.ID_FQDN, b"sensor.example"),
        IDr(C.ID_IPV4_ADDR, h("c0000201")),
        Cert(C.CERT_X509_SIG, b"\x30\x82cert"),
        CertReq(C.CERT_X509_SIG, b"\x11" * 20),
        Auth(C.AUTH_SHARED_KEY, b"\x88" * 32),
        Delete(C.PROTO_ESP, [h("01020304"), h("05060708")]),
        Delete(C.PROTO_IKE),
        VendorID(b"strongSwan"),
        TSi([ts, ts6]),
        TSr([]),
        CP(C.CFG_REQUEST, [(C.CFG_INTERNAL_IP4_ADDRESS, b""),
                           (C.CFG_INTERNAL_IP4_DNS, b"")]),
    ]


def test_known_bytes_ike_sa_init():
    # Built by hand from the RFC 7296 bit diagrams.
    msg = M.Message(C.IKE_SA_INIT, SPI_I, bytes(8), 0, C.FLAG_INITIATOR,
                    [ike_sa(), KE(31, b"\xaa" * 32), Nonce(b"\xbb" * 16)])
    want = (SPI_I + bytes(8) + h("21" "20" "22" "08" "00000000")
            + (28 + 48 + 40 + 20).to_bytes(4, "big")
            # SA: next KE, len 4+44; proposal: last, len 44, #1, IKE, 0, 4
            + h("22000030" "0000002c" "01010004")
            + h("0300000c" "0100000c" "800e0080")   # ENCR AES-CBC 128
            + h("03000008" "02000005")              # PRF HMAC-SHA2-256
            + h("03000008" "0300000c")              # INTEG SHA2-256-128
            + h("00000008" "0400001f")              # DH 31
            + h("28000028" "001f0000") + b"\xaa" * 32  # KE, next Nonce
            + h("00000014") + b"\xbb" * 16)          # Nonce, last
    assert M.encode(msg) == want
    assert M.decode(want) == msg


def test_round_trip_every_payload():
    pl = every_payload()
    msg = M.Message(C.INFORMATIONAL, SPI_I, SPI_R, 7,
                    C.FLAG_INITIATOR | C.FLAG_RESPONSE, pl)
    data = M.encode(msg)
    back = M.decode(data)
    assert back == msg
    assert M.encode(back) == data
    for p in pl:  # and one by one
        m = M.Message(C.INFORMATIONAL, SPI_I, SPI_R, 1, 0, [p])
        assert M.decode(M.encode(m)) == m


def test_accessors():
    msg = M.Message(C.IKE_SA_INIT, SPI_I, payloads=every_payload())
    assert msg.find(KE).group == 31
    assert len(msg.find_all(Notify)) == 2
    assert msg.notify(C.N_REKEY_SA).spi == h("deadbeef")
    assert msg.notify(C.N_COOKIE) is None
    assert msg.find(SA).proposals[0].get(C.TRANS_ENCR)[0].keylen() == 128
    assert msg.find(CP).get(C.CFG_INTERNAL_IP4_DNS) == [b""]
    assert Notify(C.N_NO_PROPOSAL_CHOSEN).is_error()
    assert not Notify(C.N_COOKIE).is_error()


def _with_unknown(critical):
    # Nonce, then an unknown payload type 200, then a Notify
    return (SPI_I + bytes(8) + h("28202200 00000000")
            + (28 + 20 + 7 + 8).to_bytes(4, "big")
            + h("c8000014") + b"\x01" * 16
            + h("29") + (h("80") if critical else h("00")) + h("0007") + b"abc"
            + h("00000008 00004006"))


def test_unknown_noncritical_payload_is_skipped():
    m = M.decode(_with_unknown(False))
    assert [p.TYPE for p in m.payloads] == [C.PT_NONCE, C.PT_NOTIFY]
    assert m.unknown == [200]


def test_unknown_critical_payload_is_reported():
    e = raises(UnsupportedCriticalPayload, M.decode, _with_unknown(True))
    assert e.notify == C.N_UNSUPPORTED_CRITICAL_PAYLOAD
    assert e.payload_type == 200 and e.data == b"\xc8"
    assert isinstance(e, DecodeError)


def test_critical_bit_ignored_on_known_payload():
    data = bytearray(_with_unknown(False))
    data[29] = 0x80  # C bit on the Nonce
    assert M.decode(bytes(data)).find(Nonce).data == b"\x01" * 16


def test_malformed_inputs():
    good = M.encode(M.Message(C.INFORMATIONAL, SPI_I, SPI_R, 3, 0,
                              every_payload()))
    bad = [
        b"", good[:27], good[:-1], good + b"\x00",
        good[:17] + b"\x30" + good[18:],                  # IKE version 3
        good[:24] + b"\x00\x00\x00\x1c",                 # length field
    ]
    for i in range(28, len(good), 7):
        bad.append(good[:i])  # truncations that break the length field
        t = bytearray(good)
        t[i] ^= 0xFF
        bad.append(bytes(t))
    n = 0
    for b in bad:
        try:
            M.decode(b)
        except DecodeError:
            n += 1
    # every truncation and the header cases must fail; flips may survive
    assert n >= 6 + len(range(28, len(good), 7))


def test_payload_length_checks():
    def one(ptype, body):
        data = (SPI_I + bytes(8) + bytes((ptype, 0x20, 37, 0)) + bytes(4)
                + (28 + 4 + len(body)).to_bytes(4, "big")
                + bytes((0, 0)) + (4 + len(body)).to_bytes(2, "big") + body)
        return raises(DecodeError, M.decode, data)

    one(C.PT_KE, b"\x00")
    one(C.PT_NONCE, b"x" * 15)
    one(C.PT_NONCE, b"x" * 257)
    one(C.PT_IDI, b"\x02\x00")
    one(C.PT_AUTH, b"")
    one(C.PT_CERT, b"")
    one(C.PT_NOTIFY, h("0308400a") + b"\x00")   # SPI size 8, 1 byte
    one(C.PT_DELETE, h("03040002") + b"\x00" * 7)
    one(C.PT_TSI, h("01000000") + h("07000010") + bytes(4))
    one(C.PT_TSI, h("01000000") + h("07000011") + bytes(13))
    one(C.PT_TSI, h("02000000") + h("07000010") + bytes(12))
    one(C.PT_CP, h("01000000") + h("00010004") + b"\x00")
    one(C.PT_SA, h("0000000c") + h("01010001") + h("00000008"))  # 1 transform, 0 bytes
    one(C.PT_SA, h("00000008") + h("01010001"))             # transform count
    one(C.PT_SA, h("02000008") + h("01010000"))             # 'more' but none
    one(C.PT_SA, h("00000010") + h("01010001") + h("00000009") + h("03000005"))
    one(C.PT_SA, h("00000014") + h("01010001")
        + h("0000000c") + h("01000014") + h("000e0010"))   # TLV overruns
    one(C.PT_SKF, h("0000"))
    one(C.PT_SKF, h("00030002") + bytes(40))               # 3 of 2


def test_payload_length_field_overrun():
    data = bytearray(M.encode(M.Message(C.INFORMATIONAL, SPI_I, SPI_R, 0, 0,
                                        [Nonce(b"n" * 16)])))
    data[31] = 0xFF  # payload length beyond the message
    raises(DecodeError, M.decode, bytes(data))
    data[31] = 3  # shorter than a generic header
    raises(DecodeError, M.decode, bytes(data))


def _ciphers(backend, encr):
    rng = Rng(b"iv")
    if encr == C.ENCR_AES_CBC:
        k, a = b"K" * 16, b"A" * 32
        return (Cipher(backend, encr, k, C.AUTH_HMAC_SHA2_256_128, a, rng),
                Cipher(backend, encr, k, C.AUTH_HMAC_SHA2_256_128, a, rng))
    return (Cipher(backend, encr, b"G" * 36), Cipher(backend, encr, b"G" * 36))


@per_backend
def test_sk_round_trip_and_tamper(backend):
    for encr in (C.ENCR_AES_CBC, C.ENCR_AES_GCM_16):
        tx, rx = _ciphers(backend, encr)
        msg = M.Message(C.IKE_AUTH, SPI_I, SPI_R, 1, C.FLAG_INITIATOR,
                        every_payload(), encrypted=True)
        data = M.encode(msg, tx)
        assert M.decode(data).payloads[0].TYPE == C.PT_SK
        assert M.decode(data, rx) == msg
        for i in (0, 20, 27, 29, 40, len(data) - 1):
            t = bytearray(data)
            t[i] ^= 0x01
            raises(DecodeError, M.decode, bytes(t), rx)
        t = bytearray(data)
        t[-1] ^= 1
        raises(IntegrityError, M.decode, bytes(t), rx)
        # empty encrypted message (a liveness check)
        e = M.Message(C.INFORMATIONAL, SPI_I, SPI_R, 2, 0, [], encrypted=True)
        assert M.decode(M.encode(e, tx), rx) == e


@per_backend
def test_sk_lengths(backend):
    tx, _ = _ciphers(backend, C.ENCR_AES_CBC)
    for n in range(0, 40):
        s = tx.sealed_len(n)
        assert (s - 32) % 16 == 0 and s - 32 >= n + 1
        assert tx.max_plain(s) >= n
    g, _ = _ciphers(backend, C.ENCR_AES_GCM_16)
    assert g.sealed_len(10) == 8 + 11 + 16 and g.max_plain(35) == 10


@per_backend
def test_gcm_iv_is_unique(backend):
    tx, _ = _ciphers(backend, C.ENCR_AES_GCM_16)
    ivs = set()
    for i in range(5):
        data = M.encode(M.Message(C.INFORMATIONAL, SPI_I, SPI_R, 1, 0, [],
                                  encrypted=True), tx)
        ivs.add(data[32:40])
    assert len(ivs) == 5


def test_cipher_config_errors():
    from ikev2 import crypto

    b = crypto.backend()
    raises(ConfigError, Cipher, b, C.ENCR_AES_CBC, b"k" * 15,
           C.AUTH_HMAC_SHA2_256_128, b"a" * 32, Rng())
    raises(ConfigError, Cipher, b, C.ENCR_AES_CBC, b"k" * 16)
    raises(ConfigError, Cipher, b, C.ENCR_AES_GCM_16, b"k" * 16)
    raises(ConfigError, Cipher, b, C.ENCR_AES_GCM_16, b"k" * 20,
           C.AUTH_HMAC_SHA2_256_128, b"a" * 32)
    raises(ConfigError, Cipher, b, 3, b"k" * 24)


@per_backend
def test_fragments(backend):
    for encr in (C.ENCR_AES_CBC, C.ENCR_AES_GCM_16):
        tx, rx = _ciphers(backend, encr)
        big = every_payload() + [Cert(C.CERT_X509_SIG, bytes(range(256)) * 6)]
        msg = M.Message(C.IKE_AUTH, SPI_I, SPI_R, 1, C.FLAG_INITIATOR, big,
                        encrypted=True)
        frags = M.encode_fragments(msg, tx, 400)
        assert len(frags) > 3
        for f in frags:
            assert len(f) <= 400
            d = M.decode(f)
            assert isinstance(d.payloads[0], EncryptedFragment)
        r = M.Reassembler(rx)
        order = list(range(len(frags)))
        order = order[1:] + order[:1]  # first fragment last
        got = None
        for i in order:
            assert got is None
            got = r.feed(frags[i])
            if i == order[0]:
                assert r.feed(frags[i]) is None  # duplicate ignored
        assert got == msg
        t = bytearray(frags[1])
        t[-3] ^= 1
        raises(IntegrityError, M.Reassembler(rx).feed, bytes(t))
        raises(DecodeError, M.Reassembler(rx).feed, M.encode(msg, tx))


def test_encrypted_without_cipher_stays_opaque():
    raw = M.Message(C.IKE_AUTH, SPI_I, SPI_R, 1, 0, [Encrypted(C.PT_IDI, b"x" * 48)])
    d = M.decode(M.encode(raw))
    assert d == raw and d.payloads[0].inner == C.PT_IDI
    raises(ValueError, M.encode, M.Message(C.IKE_AUTH, SPI_I, payloads=[],
                                            encrypted=True))


def test_sk_must_be_last():
    data = (SPI_I + SPI_R + h("2e202300 00000000")
            + (28 + 8 + 20).to_bytes(4, "big")
            + h("28000008") + b"abcd" + h("00000014") + b"n" * 16)
    raises(DecodeError, M.decode, data)


@per_backend
def test_reassembly_bounds(backend):
    # RFC 7383 2.6 leaves the bounds to the receiver: size, count, time
    tx, rx = _ciphers(backend, C.ENCR_AES_GCM_16)
    big = [Cert(C.CERT_X509_SIG, bytes(range(256)) * 8)]
    msg = M.Message(C.IKE_AUTH, SPI_I, SPI_R, 1, C.FLAG_INITIATOR, big,
                    encrypted=True)
    frags = M.encode_fragments(msg, tx, 300)
    assert len(frags) > 6
    # more content than max_bytes: refused, and collection starts over
    r = M.Reassembler(rx, max_bytes=1024)
    got = None
    try:
        for f in frags:
            got = r.feed(f, 0)
        assert False, "over max_bytes accepted"
    except DecodeError as e:
        assert "1024" in str(e)
    assert got is None and r.have == 0
    # fragments spread over more than max_age: the old ones are dropped
    r = M.Reassembler(rx, max_age=1000)
    for f in frags[:-1]:
        assert r.feed(f, 0) is None
    assert r.feed(frags[-1], 5000) is None  # too late: a new collection
    for f in frags[:-1]:
        got = r.feed(f, 5100)
    assert got == msg
    # a total over the fragment bound is refused before decryption
    raises(ValueError, M.encode_fragments, msg, tx, 60)
