# ESP in tunnel mode (RFC 4303), one Child SA = one inbound and one
# outbound SA.  The hot path never raises: decap() returns None and counts
# (bad ICV, replay, malformed), as WireGuard does.
#
#  0                   1                   2                   3
#  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |               Security Parameters Index (SPI)                 |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |                      Sequence Number                          |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |                    IV (16 bytes CBC, 8 bytes GCM)             |
# ~                    Payload Data (the inner IPv4 packet)       ~
# +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |               |     Padding (1, 2, 3, ...)                    |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |                               |  Pad Length   | Next Header   |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |         Integrity Check Value (16 bytes)                      |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#
# AES-CBC + HMAC-SHA2-256-128 (RFC 3602, RFC 4868): random IV, ICV over
# SPI..ciphertext.  AES-GCM-16 (RFC 4106): IV = the sequence number as 8
# bytes, nonce = salt | IV, AAD = SPI | Sequence Number, 16-byte tag.
from struct import pack_into, unpack_from
from . import const as C

NH_IPV4 = 4
NH_NONE = 59  # dummy packet (RFC 4303 2.6): dropped silently
_SEQ_MAX = 0xFFFFFFFF
_PADDING = bytes(range(1, 256))  # RFC 4303 2.4: 1, 2, 3, ... (also
# what decap() checks an authentic packet's padding against, up to 255)


class ChildSA:
    # suite: the negotiated ESP proposals.Suite; keys: (encr_i, integ_i,
    # encr_r, integ_r) from keys.child_keymat; we are the initiator, so the
    # _i keys protect what we send.
    #
    # Anti-replay (RFC 4303 3.4.3): a sliding window of replay_window
    # sequence numbers as a bit ring in a bytearray (no big ints on the MCU
    # hot path): bit (seq % size) says seq was received, for seq in
    # (top - size, top].
    def __init__(self, crypto, suite, spi_in, spi_out, keymat, rng,
                 replay_window=64):
        self.c = crypto
        self.suite = suite
        self.spi_in = bytes(spi_in)
        self.spi_out = bytes(spi_out)
        ei, ai, er, ar = keymat
        self.gcm = suite.encr == C.ENCR_AES_GCM_16
        if self.gcm:
            self.k_out, self.salt_out = ei[:-4], ei[-4:]
            self.k_in, self.salt_in = er[:-4], er[-4:]
            self.iv_len = 8
            self.align = 4
        else:
            self.k_out, self.k_in = ei, er
            self.a_out, self.a_in = ai, ar
            # the HMAC keys as the backend prepares them (padded once)
            self.m_out, self.m_in = crypto.hmac_key(ai), crypto.hmac_key(ar)
            self.iv_len = 16
            self.align = 16
        self.rng = rng
        self.seq = 0
        if replay_window < 32 or replay_window % 8:
            raise ValueError("replay window must be a multiple of 8, >= 32")
        self.win = replay_window
        self.bits = bytearray(replay_window // 8)
        self.top = 0
        # counters
        self.tx_packets = self.tx_bytes = 0
        self.rx_packets = self.rx_bytes = 0
        self.rx_bad_icv = self.rx_replay = self.rx_malformed = 0
        self.rekeying = False  # a volume limit asked for its rekey

    def encap(self, inner, nh=NH_IPV4):
        # -> the ESP packet (a bytearray), or None once the sequence number
        # is exhausted (the Child SA must be rekeyed: RFC 4303 3.3.3).
        # One buffer per packet: the header, the IV and the padded inner
        # packet are written into it, CBC encrypts in place and the ICV
        # goes to its end (no intermediate copies on the device).
        if self.seq >= _SEQ_MAX:
            return None
        self.seq += 1
        n = len(inner)
        pad = -(n + 2) % self.align
        body = 8 + self.iv_len  # where the payload starts
        end = body + n + pad + 2
        pkt = bytearray(end + 16)
        pkt[:4] = self.spi_out
        pack_into(">I", pkt, 4, self.seq)
        pkt[body:body + n] = inner
        pkt[body + n:end - 2] = _PADDING[:pad]
        pkt[end - 2] = pad
        pkt[end - 1] = nh
        mv = memoryview(pkt)
        if self.gcm:
            pack_into(">I", pkt, 12, self.seq)  # IV: 0 | seq, 8 bytes
            mv[body:] = self.c.aes_gcm_seal(self.k_out, self.salt_out + pkt[8:16],
                                            pkt[:8], mv[body:end])
        else:
            c = self.c
            iv = self.rng(16)
            pkt[8:24] = iv
            ct = mv[24:end]
            c.aes_cbc_encrypt(self.k_out, iv, ct, ct)
            mv[end:] = c.hmac_sha256(self.m_out, mv[:end])[:16]
        self.tx_packets += 1
        self.tx_bytes += n
        return pkt

    def decap(self, pkt):
        # -> (next header, inner packet) or None (counted)
        n = len(pkt) - 8 - self.iv_len - 16
        if n < self.align or n % self.align or pkt[:4] != self.spi_in:
            self.rx_malformed += 1
            return None
        seq = unpack_from(">I", pkt, 4)[0]
        top = self.top
        i = seq % self.win
        if seq == 0 or (seq <= top and (top - seq >= self.win or
                                        self.bits[i >> 3] & (1 << (i & 7)))):
            self.rx_replay += 1
            return None
        ivend = 8 + self.iv_len
        if self.gcm:
            pt = self.c.aes_gcm_open(self.k_in, self.salt_in + pkt[8:ivend],
                                     pkt[:8], pkt[ivend:])
            if pt is None:
                self.rx_bad_icv += 1
                return None
        else:
            mv = memoryview(pkt)
            icv = self.c.hmac_sha256(self.m_in, mv[:-16])[:16]
            if not self.c.ct_eq(icv, mv[-16:]):
                self.rx_bad_icv += 1
                return None
            pt = self.c.aes_cbc_decrypt(self.k_in, pkt[8:ivend], mv[ivend:-16])
        # the window moves only for packets whose ICV verified
        if seq > top:
            if seq - top >= self.win:
                for j in range(len(self.bits)):
                    self.bits[j] = 0
            else:
                for q in range(top + 1, seq):
                    k = q % self.win
                    self.bits[k >> 3] &= ~(1 << (k & 7)) & 0xFF
            self.top = seq
        self.bits[i >> 3] |= 1 << (i & 7)
        # an authentic packet (its sequence number is spent) may still be
        # malformed: a pad length past its start, padding that is not
        # 1, 2, 3, ... or a next header that is neither IPv4 nor a dummy
        pad = pt[-2]
        end = len(pt) - 2 - pad
        if (end < 0 or pt[-1] not in (NH_IPV4, NH_NONE)
                or pt[end:-2] != _PADDING[:pad]):
            self.rx_malformed += 1
            return None
        self.rx_packets += 1
        inner = pt[:end]
        self.rx_bytes += len(inner)
        return pt[-1], inner
