# Rekeying (RFC 7296 1.3.2, 1.3.3, 2.8, 2.18, 2.25): the CREATE_CHILD_SA
# exchange in both roles, for the Child SA and for the IKE SA.  Loaded on
# first use: a tunnel sees a rekey every hour or so.
#
# Child SA:  SK {N(REKEY_SA), SA, Ni, [KEi], TSi, TSr}
#        ->  SK {SA, Nr, [KEr], TSi, TSr}
# IKE SA:    SK {SA, Ni, KEi}  ->  SK {SA, Nr, KEr}
#
# In KEYMAT (2.17) the keys of the exchange's initiator come first.  The new
# IKE SA belongs to whoever started its rekey (2.18): after the gateway
# rekeys the IKE SA, it is the original initiator and we are not.  Old SAs
# keep working until deleted: a rekeyed Child SA keeps decrypting, a
# rekeyed IKE SA (Retiring) answers and sends its Delete.
#
# Collisions (2.8.1, 2.25): when both sides rekey the same Child SA, both
# exchanges complete; the new SA made with the lowest of the four nonces
# is redundant and its maker deletes it.  A rekey of the IKE SA that
# crosses any exchange of ours, or a Child SA rekey that crosses ours of
# the IKE SA, is answered TEMPORARY_FAILURE (2.25); the gateway retries.
from . import const as C
from . import keys as K
from . import message as M
from . import proposals
from .crypto.dh import DH
from .errors import CryptoError, DecodeError, ProtocolError, notify_name
from .payloads import Notify, SA, Proposal, Nonce, KE, TSi, TSr, Delete
from .proposals import Suite
from .session import new_spi
from .sk import Cipher

_TYPES = (C.TRANS_ENCR, C.TRANS_PRF, C.TRANS_INTEG, C.TRANS_DH, C.TRANS_ESN)


def choose(sa, offers, protocol=C.PROTO_ESP):
    # the responder's pick: the first proposal of theirs for protocol that
    # one of our offers accepts, one transform of each type
    # -> (proposal, [chosen transforms]) or (None, None)
    spi_len = 8 if protocol == C.PROTO_IKE else 4
    for p in sa.proposals:
        if p.protocol != protocol or len(p.spi) != spi_len:
            continue
        for o in offers:
            chosen = []
            for ttype in _TYPES:
                have = [t for t in p.transforms if t.ttype == ttype]
                allowed = o.t[ttype]
                pick = None
                for t in have:
                    if (t.tid, t.keylen()) in allowed:
                        pick = t
                        break
                if pick is not None:
                    chosen.append(pick)
                elif allowed or (have and ttype != C.TRANS_ESN):
                    chosen = None  # one side wants this transform type
                    break
            if chosen is not None:
                return p, chosen
    return None, None


def _suite(p, chosen):
    got = {}
    for t in chosen:
        got[t.ttype] = t
    e = got[C.TRANS_ENCR]

    def tid(ttype):
        return got[ttype].tid if ttype in got else 0

    return Suite(p.num, p.spi, e.tid, e.keylen(), tid(C.TRANS_INTEG),
                 tid(C.TRANS_PRF), tid(C.TRANS_DH), tid(C.TRANS_ESN))


def _ke(s, msg, group):
    # -> (our KE payload, g^ir) for the peer's KE of group, or raises
    # _Refuse with the notify to answer
    ke = msg.find(KE)
    if ke is None or ke.group != group:
        raise _Refuse(Notify(C.N_INVALID_KE_PAYLOAD,
                             bytes((group >> 8, group & 0xFF))))
    dh = DH(s.c, group, s.rng)
    try:
        return KE(group, dh.public), dh.shared(ke.data)
    except CryptoError:
        raise _Refuse(Notify(C.N_INVALID_SYNTAX))


class _Refuse(Exception):
    pass


def _busy(s, ike):
    # RFC 7296 2.25: a rekey of the IKE SA while we run any exchange, or of
    # a Child SA while we rekey the IKE SA, gets TEMPORARY_FAILURE
    t = s.pending
    if t is None:
        return False
    return ike or isinstance(t, RekeyIke)


def answer(s, msg, now):
    # the gateway's CREATE_CHILD_SA request -> (response payloads, after)
    # where after() (or None) runs once the response is sent
    sa = msg.find(SA)
    n = msg.notify(C.N_REKEY_SA)
    if sa is None:
        return [Notify(C.N_INVALID_SYNTAX)], None
    ike = n is None and sa.proposals and sa.proposals[0].protocol == C.PROTO_IKE
    if n is None and not ike:
        return [Notify(C.N_NO_ADDITIONAL_SAS)], None  # a new Child SA
    if _busy(s, ike):
        return [Notify(C.N_TEMPORARY_FAILURE)], None
    try:
        if ike:
            return _answer_ike(s, msg, sa, now)
        return _answer_child(s, msg, sa, n, now), None
    except _Refuse as e:
        return [e.args[0]], None


def _answer_child(s, msg, sa, n, now):
    from .esp import ChildSA

    if n.protocol != C.PROTO_ESP:
        return [Notify(C.N_NO_ADDITIONAL_SAS)]
    old = s.child_by_out(n.spi)
    if old is None:
        return [Notify(C.N_CHILD_SA_NOT_FOUND, b"", C.PROTO_ESP, n.spi)]
    if old is not s.child:
        # we replaced it already (our rekey of it won the race): the
        # gateway keeps ours (2.25)
        return [Notify(C.N_TEMPORARY_FAILURE)]
    p, chosen = choose(sa, s.cfg.esp_offers)
    nonce, tsi, tsr = msg.find(Nonce), msg.find(TSi), msg.find(TSr)
    if p is None:
        return [Notify(C.N_NO_PROPOSAL_CHOSEN)]
    if nonce is None or tsi is None or tsr is None:
        return [Notify(C.N_INVALID_SYNTAX)]
    suite = _suite(p, chosen)
    gir = None
    reply_ke = []
    if suite.dh:
        k, gir = _ke(s, msg, suite.dh)
        reply_ke = [k]
    nr = bytes(s.rng(32))
    ei, ai, er, ar = K.child_keymat(s.c, s.keys.sk_d, nonce.data, nr,
                                    K.encr_key_len(suite.encr, suite.keylen),
                                    K.integ_key_len(suite.integ), gir)
    spi = new_spi(s.rng, 4)
    # the gateway's i->r keys protect what we receive
    new = ChildSA(s.c, suite, spi, p.spi, (er, ar, ei, ai), s.rng,
                  s.cfg.replay_window)
    t = s.pending
    if isinstance(t, RekeyChild) and t.old is old:
        # a collision: our rekey of the same Child SA is in flight
        t.theirs = (new, min(nonce.data, nr))
    s.rekeyed(old, new, now)
    return ([SA([Proposal(p.num, C.PROTO_ESP, chosen, spi)]), Nonce(nr)]
            + reply_ke + [TSi(tsi.selectors), TSr(tsr.selectors)])


def _answer_ike(s, msg, sa, now):
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
    nr = bytes(s.rng(32))
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
    s.ike_rekey_at = s.soft(s.cfg.ike_rekey_time, now)
    s.events.append(("ike_rekeyed", ((spi_i + spi_r).hex(), ours)))


def _retry(s, now):
    # a rekey of ours was refused for now: try again in a few seconds
    return now + int(s.cfg.retransmit_timeout * 1000 * (1 + s.rng(1)[0] / 128))


class RekeyChild:
    NAME = "CREATE_CHILD_SA (Child SA rekey)"
    EXCHANGE = C.CREATE_CHILD_SA

    def __init__(self, s, old):
        self.s = s
        self.old = old
        self.theirs = None  # (their new SA, its lowest nonce) on a collision
        offers = s.cfg.esp_offers
        self.group = offers[0].t[C.TRANS_DH][0][0] if offers[0].t[C.TRANS_DH] else 0
        self.retried = False

    def build(self):
        s = self.s
        self.spi = new_spi(s.rng, 4)
        self.ni = bytes(s.rng(32))
        pl = [Notify(C.N_REKEY_SA, b"", C.PROTO_ESP, self.old.spi_in),
              proposals.to_sa(s.cfg.esp_offers, C.PROTO_ESP, self.spi),
              Nonce(self.ni)]
        self.dh = None
        if self.group:  # PFS
            self.dh = DH(s.c, self.group, s.rng)
            pl.append(KE(self.group, self.dh.public))
        return pl + [TSi(s.ts_i), TSr(s.ts_r)]

    def process(self, msg, raw, now):
        from .esp import ChildSA

        s = self.s
        err = msg.error()
        if err is not None:
            if err.ntype == C.N_INVALID_KE_PAYLOAD and not self.retried \
                    and len(err.data) == 2:
                g = (err.data[0] << 8) | err.data[1]
                for o in s.cfg.esp_offers:
                    if (g, None) in o.t[C.TRANS_DH]:
                        self.group, self.retried = g, True
                        s.resend(self, now)
                        return False
            if err.ntype in (C.N_TEMPORARY_FAILURE, C.N_CHILD_SA_NOT_FOUND):
                if self.old is s.child:  # (else the gateway rekeyed it)
                    s.child_rekey_at = _retry(s, now)
                return True
            raise ProtocolError("the gateway refused to rekey the Child SA: "
                                "%s" % notify_name(err.ntype))
        suite = proposals.select(msg.find(SA), s.cfg.esp_offers, C.PROTO_ESP)
        nr = msg.find(Nonce)
        if nr is None:
            raise ProtocolError("CREATE_CHILD_SA response without Nonce")
        gir = None
        if suite.dh:
            ke = msg.find(KE)
            if ke is None or self.dh is None or ke.group != self.dh.group:
                raise ProtocolError("CREATE_CHILD_SA response without our KE")
            try:
                gir = self.dh.shared(ke.data)
            except CryptoError as e:
                raise ProtocolError("bad KE from the gateway: %s" % e)
        nr = nr.data
        km = K.child_keymat(s.c, s.keys.sk_d, self.ni, nr,
                            K.encr_key_len(suite.encr, suite.keylen),
                            K.integ_key_len(suite.integ), gir)
        new = ChildSA(s.c, suite, self.spi, suite.spi, km, s.rng,
                      s.cfg.replay_window)
        if self.theirs is None:
            s.rekeyed(self.old, new, now, True)
            s.tasks.append(DeleteChild(s, self.old))
        elif min(self.ni, nr) < self.theirs[1]:
            # 2.8.1: ours holds the lowest nonce, so ours is redundant: we
            # delete it; the gateway's new SA stays, the gateway deletes
            # the old one.  Ours may carry traffic until then.
            s.old_children.append(new)
            s.tasks.append(DeleteChild(s, new))
        else:
            # theirs is redundant (the gateway deletes it); ours replaces
            # both, and we delete the old one
            other = s.child
            s.child = new
            s.child_timers(now)
            s.our_rekeys += 1
            if other is not None and other not in s.old_children:
                s.old_children.append(other)
            s.tasks.append(DeleteChild(s, self.old))
            s.events.append(("rekeyed", (new.spi_in.hex(), True)))
        return True


class DeleteChild:
    # INFORMATIONAL {D(ESP, our inbound SPI)}: the peer answers with its own
    NAME = "INFORMATIONAL (Delete Child SA)"
    EXCHANGE = C.INFORMATIONAL

    def __init__(self, s, ch):
        self.s = s
        self.ch = ch

    def build(self):
        return [Delete(C.PROTO_ESP, [self.ch.spi_in])]

    def process(self, msg, raw, now):
        self.s._drop_child(self.ch)
        return True


class RekeyIke:
    NAME = "CREATE_CHILD_SA (IKE SA rekey)"
    EXCHANGE = C.CREATE_CHILD_SA

    def __init__(self, s):
        self.s = s
        self.group = s.ike_suite.dh
        self.retried = False

    def build(self):
        s = self.s
        self.spi = new_spi(s.rng, 8)
        self.ni = bytes(s.rng(32))
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
                s.ike_rekey_at = _retry(s, now)
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
            s.dropped += 1
            return
        try:
            msg = M.decode(data, self.rx)
        except DecodeError:
            s.dropped += 1
            return
        if not msg.encrypted:
            s.dropped += 1
            return
        if flags & C.FLAG_RESPONSE:
            if self.req is not None and mid == self.mid:
                self._gone(s)  # our Delete is answered
            return
        if self.cached and mid == self.cached[0]:
            for d, p in self.cached[1]:
                s._emit(d, p, now)
            return
        if mid != self.peer_mid:
            s.dropped += 1
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
        self.cached = (mid, out)
        self.peer_mid = mid + 1
        for d, p in out:
            s._emit(d, p, now)
            s.bytes_ike += len(d)
        if gone:
            self._gone(s)
