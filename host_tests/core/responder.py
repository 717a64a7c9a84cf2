# A scripted IKEv2 responder for the session unit tests, built from the
# library's own codec and KDF, with knobs for every error path.  Not a
# gateway: just enough to answer IKE_SA_INIT and IKE_AUTH, liveness checks
# and our Child SA rekeys (CREATE_CHILD_SA).  A retransmitted request
# (bit-identical) gets the cached answer, as RFC 7296 2.1 asks of a
# responder.  open()/seal() turn an answer back into a Message and back
# into bytes, for the hostile tests (test_hostile.py) that alter it.
from harness import Rng
from ikev2 import const as C
from ikev2 import keys as K
from ikev2 import message as M
from ikev2.crypto.dh import DH
from ikev2.payloads import (SA, Proposal, KE, Nonce, Notify, IDi, IDr, Auth,
                            CP, TSi, TSr, TrafficSelector)
from ikev2.sk import Cipher
from ikev2.tasks import nat_hash


class Responder:
    def __init__(self, backend, psk=b"secret", gw_ip=b"\xc0\x00\x02\x01"):
        self.c = backend
        self.psk = psk
        self.gw_ip = gw_ip
        self.rng = Rng(b"responder")
        self.spi_r = b"\x52" * 8
        self.cookie = None        # demand this cookie first
        self.want_group = None    # answer INVALID_KE_PAYLOAD unless this group
        self.init_error = None    # answer IKE_SA_INIT with this error notify
        self.auth_error = None    # answer IKE_AUTH with only this notify
        self.child_error = None   # IKE SA fine, Child SA refused with this
        self.tamper = None        # f(SA payload) alters our choice
        self.bad_auth = False
        self.tsi = None           # selectors to answer (default: narrowed)
        self.tsr = None
        self.vip = b"\x0a\x63\x00\x07"
        self.idr = IDr(C.ID_FQDN, b"gw.lab")
        self.esp_spi = b"\xee\x00\x00\x01"
        self.seen = []            # decoded requests
        self.last = None          # (request bytes, answer): retransmissions
        self.child_spi_i = None   # the initiator's inbound ESP SPI (latest)
        self.rekey = None         # (chosen, ni, nr, our new SPI), a rekey

    def handle(self, data, port):
        if port == 4500:
            assert data[:4] == bytes(4)
            data = data[4:]
        if self.last is not None and self.last[0] == data:
            return self.last[1]  # a retransmission: the same answer
        hdr = M.decode_header(data)
        if hdr[3] == C.IKE_SA_INIT:
            out = self._init(data)
        else:
            out = self._auth(data)
        self.last = (bytes(data), out)
        return out

    def open(self, answer):
        # one of our answers -> Message (decrypted if it is encrypted)
        hdr = M.decode_header(answer)
        return M.decode(answer, None if hdr[2] != C.PT_SK else self.tx)

    def seal(self, msg):
        # a Message -> bytes, as we send it (SK with our keys if encrypted)
        return M.encode(msg, self.tx if msg.encrypted else None)

    def gw_child(self, backend, rng=None):
        # the gateway's side of the latest Child SA (the first one, or the
        # one of the last rekey), for ESP round trips
        from ikev2.esp import ChildSA
        from ikev2.proposals import Suite

        if self.rekey is not None:
            chosen, ni, nr, spi = self.rekey
        else:
            chosen, ni, nr, spi = self.child_keys[1], self.ni, self.nr, self.esp_spi
        got = {}
        for t in chosen:
            got[t.ttype] = t
        e = got[C.TRANS_ENCR]
        integ = got[C.TRANS_INTEG].tid if C.TRANS_INTEG in got else 0
        suite = Suite(1, spi, e.tid, e.keylen(), integ, 0, 0, 0)
        ei, ai, er, ar = K.child_keymat(self.c, self.keys.sk_d, ni, nr,
                                        K.encr_key_len(e.tid, e.keylen()),
                                        K.integ_key_len(integ))
        return ChildSA(backend, suite, spi, self.child_spi_i, (er, ar, ei, ai),
                       rng or Rng(b"gw-esp"))

    def _rekey(self, req):
        # our Child SA rekey: SA, Nr, TSi, TSr (no PFS in these tests)
        p = req.find(SA).proposals[0]
        chosen = [p.get(t)[0] for t in (C.TRANS_ENCR, C.TRANS_INTEG, C.TRANS_ESN) if p.get(t)]
        spi = b"\xee\x00\x01\x00"
        nr = self.rng(32)
        self.child_spi_i = p.spi
        self.rekey = (chosen, req.find(Nonce).data, nr, spi)
        return self._reply(req, [SA([Proposal(p.num, C.PROTO_ESP, chosen, spi)]),
                                 Nonce(nr), req.find(TSi), req.find(TSr)], True)

    def _reply(self, req, payloads, encrypted=False, spi_r=None):
        m = M.Message(req.exchange, req.spi_i, self.spi_r if spi_r is None else spi_r,
                      req.mid, C.FLAG_RESPONSE, payloads, encrypted)
        out = M.encode(m, self.tx if encrypted else None)
        return out

    def _init(self, data):
        req = M.decode(data)
        self.seen.append(req)
        if self.cookie is not None:
            n = req.notify(C.N_COOKIE)
            if n is None or n.data != self.cookie:
                return self._reply(req, [Notify(C.N_COOKIE, self.cookie)], spi_r=bytes(8))
        ke = req.find(KE)
        if self.want_group is not None and ke.group != self.want_group:
            return self._reply(req, [Notify(C.N_INVALID_KE_PAYLOAD,
                                            bytes((0, self.want_group)))], spi_r=bytes(8))
        if self.init_error is not None:
            return self._reply(req, [Notify(self.init_error)], spi_r=bytes(8))
        p = req.find(SA).proposals[0]
        chosen = []
        for ttype in (C.TRANS_ENCR, C.TRANS_PRF, C.TRANS_INTEG, C.TRANS_DH):
            ts = p.get(ttype)
            if ttype == C.TRANS_DH:  # the group of the KE payload
                ts = [t for t in ts if t.tid == ke.group]
            if ts:
                chosen.append(ts[0])
        sa = SA([Proposal(p.num, C.PROTO_IKE, chosen)])
        if self.tamper:
            self.tamper(sa)
        encr = chosen[0]
        integ = [t for t in chosen if t.ttype == C.TRANS_INTEG]
        self.integ = integ[0].tid if integ else C.AUTH_NONE
        dh = DH(self.c, ke.group, self.rng)
        self.nr = self.rng(32)
        self.ni = req.find(Nonce).data
        gir = dh.shared(ke.data)
        seed = K.skeyseed(self.c, self.ni, self.nr, gir)
        elen = K.encr_key_len(encr.tid, encr.keylen())
        k = K.IKEKeys(self.c, seed, self.ni, self.nr, req.spi_i, self.spi_r,
                      elen, K.integ_key_len(self.integ))
        self.keys = k
        self.rx = Cipher(self.c, encr.tid, k.sk_ei, self.integ, k.sk_ai, self.rng)
        self.tx = Cipher(self.c, encr.tid, k.sk_er, self.integ, k.sk_ar, self.rng)
        self.real1 = data
        out = self._reply(req, [sa, KE(ke.group, dh.public), Nonce(self.nr),
                                Notify(C.N_NAT_DETECTION_SOURCE_IP,
                                       nat_hash(self.c, req.spi_i, self.spi_r,
                                                self.gw_ip, 500)),
                                Notify(C.N_NAT_DETECTION_DESTINATION_IP, bytes(20))])
        self.real2 = out
        return out

    def _auth(self, data):
        req = M.decode(data, self.rx)
        self.seen.append(req)
        if req.exchange == C.CREATE_CHILD_SA and req.find(SA) is not None:
            return self._rekey(req)
        if req.exchange != C.IKE_AUTH:
            return self._reply(req, [], True)
        idi = req.find(IDi)
        want = K.psk_auth(self.c, self.psk, self.real1, self.nr, self.keys.sk_pi,
                          idi.encode())
        ok = req.find(Auth).data == want
        if not ok or self.auth_error:
            return self._reply(req, [Notify(self.auth_error or C.N_AUTHENTICATION_FAILED)], True)
        auth = K.psk_auth(self.c, self.psk, self.real2, self.ni, self.keys.sk_pr,
                          self.idr.encode())
        if self.bad_auth:
            auth = bytes(32)
        pl = [self.idr, Auth(C.AUTH_SHARED_KEY, auth)]
        if self.child_error:
            return self._reply(req, pl + [Notify(self.child_error)], True)
        if req.find(CP) and self.vip:
            pl.append(CP(C.CFG_REPLY, [(C.CFG_INTERNAL_IP4_ADDRESS, self.vip),
                                       (C.CFG_INTERNAL_IP4_DNS, b"\x08\x08\x08\x08")]))
        p = req.find(SA).proposals[0]
        self.child_spi_i = p.spi
        chosen = [p.get(t)[0] for t in (C.TRANS_ENCR, C.TRANS_INTEG, C.TRANS_ESN) if p.get(t)]
        pl.append(SA([Proposal(p.num, C.PROTO_ESP, chosen, self.esp_spi)]))
        pl.append(TSi(self.tsi or [TrafficSelector(self.vip, self.vip)]))
        pl.append(TSr(self.tsr or [TrafficSelector(b"\xc6\x33\x64\x00", b"\xc6\x33\x64\xff")]))
        self.child_keys = (p, chosen)
        self.auth_answer = self._reply(req, pl, True)
        return self.auth_answer
