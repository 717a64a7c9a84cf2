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
#
# This module holds what the gateway's Child SA rekey needs (the common
# case, hourly); the IKE SA rekey is in rekeyike.py and our own rekeys in
# rekeyown.py, each loaded only when used.
from . import const as C
from . import keys as K
from .errors import CryptoError
from .payloads import Notify, SA, Proposal, Nonce, KE, TSi, TSr
from .proposals import Suite
from .session import new_spi

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
    from .crypto.dh import DH

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
    # (classes are compared by KIND: this module is dropped and loaded
    # again between rekeys, see session.REKEY_MODULES)
    return ike or getattr(t, "KIND", None) == "ike"


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
            from .rekeyike import answer_ike

            return answer_ike(s, msg, sa, now)
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
    if old is s.next_child:  # its rekey is due before it carried traffic
        s.promote()
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
    nr = bytes(s.rng(C.NONCE_LEN))
    ei, ai, er, ar = K.child_keymat(s.c, s.keys.sk_d, nonce.data, nr,
                                    K.encr_key_len(suite.encr, suite.keylen),
                                    K.integ_key_len(suite.integ), gir)
    spi = new_spi(s.rng, 4)
    # the gateway's i->r keys protect what we receive
    new = ChildSA(s.c, suite, spi, p.spi, (er, ar, ei, ai), s.rng,
                  s.cfg.replay_window)
    t = s.pending
    if getattr(t, "KIND", None) == "child" and t.old is old:
        # a collision: our rekey of the same Child SA is in flight
        t.theirs = (new, min(nonce.data, nr))
    s.rekeyed(old, new, now)
    return ([SA([Proposal(p.num, C.PROTO_ESP, chosen, spi)]), Nonce(nr)]
            + reply_ke + [TSi(tsi.selectors), TSr(tsr.selectors)])
