# The IKE SA rekey (RFC 7296 1.3.2, 2.18) in both roles, and the rekeyed
# IKE SA until it is deleted (Retiring).  Loaded when an IKE SA rekey
# happens (every few hours); see rekey.py.
from . import const as C
from . import keys as K
from . import message as M
from . import proposals
from .crypto.dh import DH
from .errors import CryptoError, DecodeError, ProtocolError, notify_name
from .payloads import Notify, SA, Proposal, Nonce, KE, Delete
from .rekey import choose, _suite, _ke
from .rekeyown import retry_at
from .session import new_spi
from .sk import Cipher


def answer_ike(s, msg, sa, now):
    p, chosen = choose(sa, s.cfg.ike_offers, C.PROTO_IKE)
    nonce = msg.find(Nonce)
    if p is None:
        return [Notify(C.N_NO_PROPOSAL_CHOSEN)], None
    if nonce is None:
        return [Notify(C.N_INVALID_SYNTAX)], None
    suite = _suite(p, chosen)
    if not suite.dh:
        return [Notify(C.N_NO_PROPOSAL_CHOSEN)], None
    k, gir = _ke(s, msg, suite.dh)
    nr = bytes(s.rng(C.NONCE_LEN))
    spi = new_spi(s.rng, 8)
    ni = nonce.data

    def after():
        # the response went out on the old IKE SA; now switch
        switch_ike(s, p.spi, spi, suite, ni, nr, gir, False, now)

    return [SA([Proposal(p.num, C.PROTO_IKE, chosen, spi)]), Nonce(nr), k], after


def switch_ike(s, spi_i, spi_r, suite, ni, nr, gir, ours, now):
    # the new IKE SA replaces the current one, which retires (and is
    # deleted by whoever started the rekey).  2.18: SKEYSEED from the old
    # SK_d, with the old SA's PRF; the keys over the new SPIs.
    seed = K.rekey_skeyseed(s.c, s.keys.sk_d, gir, ni, nr)
    old = Retiring(s, s.mid + 1 if ours else s.mid)
    k = K.IKEKeys(s.c, seed, ni, nr, spi_i, spi_r,
                  K.encr_key_len(suite.encr, suite.keylen),
                  K.integ_key_len(suite.integ))
    k.sk_pi = k.sk_pr = None  # no AUTH on a rekeyed SA
    e, i = suite.encr, suite.integ
    a = Cipher(s.c, e, k.sk_ei, i, k.sk_ai, s.rng)
    b = Cipher(s.c, e, k.sk_er, i, k.sk_ar, s.rng)
    s.tx, s.rx = (a, b) if ours else (b, a)
    s.spi_i, s.spi_r, s.we_init = spi_i, spi_r, ours
    s.keys, s.ike_suite = k, suite
    s.mid = s.peer_mid = 0
    s.cached = None
    s.retiring.append(old)
    if len(s.retiring) > 2:
        s.retiring.pop(0)
    if ours:
        old.delete(s, now)
    s.ike_rekeys += 1
    if ours:
        s.our_ike_rekeys += 1
    s.ike_rekey_at = s.soft(s.cfg.ike_rekey_time, now)
    s.events.append(("ike_rekeyed", ((spi_i + spi_r).hex(), ours)))


class RekeyIke:
    NAME = "CREATE_CHILD_SA (IKE SA rekey)"
    EXCHANGE = C.CREATE_CHILD_SA
    KIND = "ike"

    def __init__(self, s):
        self.s = s
        self.group = s.ike_suite.dh
        self.retried = False

    def build(self):
        s = self.s
        self.spi = new_spi(s.rng, 8)
        self.ni = bytes(s.rng(C.NONCE_LEN))
        self.dh = DH(s.c, self.group, s.rng)
        return [proposals.to_sa(s.cfg.ike_offers, C.PROTO_IKE, self.spi),
                Nonce(self.ni), KE(self.group, self.dh.public)]

    def process(self, msg, raw, now):
        s = self.s
        err = msg.error()
        if err is not None:
            if err.ntype == C.N_INVALID_KE_PAYLOAD and not self.retried \
                    and len(err.data) == 2:
                g = (err.data[0] << 8) | err.data[1]
                if g in s.cfg.groups():
                    self.group, self.retried = g, True
                    s.resend(self, now)
                    return False
            if err.ntype == C.N_TEMPORARY_FAILURE:
                s.ike_rekey_at = retry_at(s, now)
                return True
            raise ProtocolError("the gateway refused to rekey the IKE SA: %s"
                                % notify_name(err.ntype))
        sa = msg.find(SA)
        if sa is None or len(sa.proposals) != 1 or len(sa.proposals[0].spi) != 8:
            raise ProtocolError("IKE SA rekey response without an 8-byte SPI")
        spi_r = sa.proposals[0].spi
        sa.proposals[0].spi = b""  # select() checks the rest
        suite = proposals.select(sa, s.cfg.ike_offers, C.PROTO_IKE)
        nr, ke = msg.find(Nonce), msg.find(KE)
        if nr is None or ke is None or ke.group != self.group \
                or suite.dh != self.group:
            raise ProtocolError("IKE SA rekey response lacks Nonce or our KE")
        try:
            gir = self.dh.shared(ke.data)
        except CryptoError as e:
            raise ProtocolError("bad KE from the gateway: %s" % e)
        self.dh = None
        switch_ike(s, self.spi, spi_r, suite, self.ni, nr.data, gir, True, now)
        return True


class Retiring:
    # An IKE SA replaced by a rekey, until it is deleted: it answers the
    # peer's requests (its Delete, above all) and, when we started the
    # rekey, carries our Delete with retransmissions.
    def __init__(self, s, mid):
        self.spi_i, self.spi_r, self.we_init = s.spi_i, s.spi_r, s.we_init
        self.tx, self.rx = s.tx, s.rx
        self.mid, self.peer_mid, self.cached = mid, s.peer_mid, s.cached
        self.req = self.rtx_at = None
        self.tries = 0

    def _flags(self):
        return C.FLAG_INITIATOR if self.we_init else 0

    def delete(self, s, now):
        m = M.Message(C.INFORMATIONAL, self.spi_i, self.spi_r, self.mid,
                      self._flags(), [Delete(C.PROTO_IKE)], True)
        self.req = s._frame(M.encode(m, self.tx))
        if s.trace:
            s.trace.ike(s, now, m, [self.req])
        self._send(s, now)

    def _send(self, s, now):
        d, p = self.req
        s._emit(d, p, now)
        s.bytes_ike += len(d)
        t = s.cfg.retransmit_timeout * (s.cfg.retransmit_base ** self.tries)
        self.rtx_at = now + int(t * 1000)

    def timeout(self, s, now):
        if self.rtx_at is None or now < self.rtx_at:
            return
        if self.tries >= s.cfg.retransmit_tries:
            self._gone(s)  # the gateway lets it expire
            return
        self.tries += 1
        self._send(s, now)

    def _gone(self, s):
        if self in s.retiring:
            s.retiring.remove(self)

    def receive(self, s, data, ex, flags, mid, now):
        if bool(flags & C.FLAG_INITIATOR) == self.we_init:
            s._drop(now, 1)
            return
        try:
            msg = M.decode(data, self.rx)
        except DecodeError as e:
            s._drop(now, e)
            return
        if not msg.encrypted:
            s._drop(now, 5)
            return
        if s.trace:
            s.trace.ike(s, now, msg, data)
        if flags & C.FLAG_RESPONSE:
            if self.req is not None and mid == self.mid:
                self._gone(s)  # our Delete is answered
            return
        if self.cached and mid == self.cached[0]:
            for d, p in self.cached[1]:
                s._emit(d, p, now)
            return
        if mid != self.peer_mid:
            s._drop(now, 4, mid, self.peer_mid)
            return
        gone = False
        if ex == C.INFORMATIONAL:
            reply, gone = s.deletes(msg)
        elif ex == C.CREATE_CHILD_SA:
            reply = [Notify(C.N_TEMPORARY_FAILURE)]  # ask the new IKE SA
        else:
            reply = [Notify(C.N_INVALID_SYNTAX)]
        m = M.Message(ex, self.spi_i, self.spi_r, mid,
                      C.FLAG_RESPONSE | self._flags(), [] if gone else reply, True)
        out = [s._frame(M.encode(m, self.tx))]
        if s.trace:
            s.trace.ike(s, now, m, out)
        self.cached = (mid, out)
        self.peer_mid = mid + 1
        for d, p in out:
            s._emit(d, p, now)
            s.bytes_ike += len(d)
        if gone:
            self._gone(s)
