# CREATE_CHILD_SA as responder (RFC 7296 1.3.3, 2.8): the gateway rekeys
# our Child SA on its own schedule (strongSwan: every hour by default).
#   request:  SK {N(REKEY_SA), SA, Ni, [KEi], TSi, TSr}
#   response: SK {SA, Nr, [KEr], TSi, TSr}
# The gateway initiates this exchange, so in KEYMAT (2.17) its keys come
# first: "initiator to responder" is gateway to us, our inbound.  The old
# Child SA keeps decrypting until the gateway deletes it.  Loaded on first
# use: most sessions see a rekey only once an hour.
from . import const as C
from . import keys as K
from .errors import CryptoError
from .payloads import Notify, SA, Proposal, Nonce, KE, TSi, TSr
from .proposals import Suite


def choose(sa, offers):
    # the responder's pick: the first ESP proposal of theirs that one of
    # our offers accepts, one transform of each type -> (proposal, chosen)
    for p in sa.proposals:
        if p.protocol != C.PROTO_ESP or len(p.spi) != 4:
            continue
        for o in offers:
            chosen = []
            for ttype in (C.TRANS_ENCR, C.TRANS_INTEG, C.TRANS_DH, C.TRANS_ESN):
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


def answer(s, msg):
    # -> the response payloads; installs the new Child SA on success
    from .esp import ChildSA
    from .session import new_spi

    n = msg.notify(C.N_REKEY_SA)
    sa = msg.find(SA)
    if n is None or sa is None or n.protocol != C.PROTO_ESP:
        # a new Child SA, or an IKE SA rekey: not supported yet
        return [Notify(C.N_NO_ADDITIONAL_SAS)]
    old = s.child_by_out(n.spi)
    if old is None:
        return [Notify(C.N_CHILD_SA_NOT_FOUND, b"", C.PROTO_ESP, n.spi)]
    p, chosen = choose(sa, s.cfg.esp_offers)
    nonce, tsi, tsr = msg.find(Nonce), msg.find(TSi), msg.find(TSr)
    if p is None:
        return [Notify(C.N_NO_PROPOSAL_CHOSEN)]
    if nonce is None or tsi is None or tsr is None:
        return [Notify(C.N_INVALID_SYNTAX)]
    got = {}
    for t in chosen:
        got[t.ttype] = t
    group = got[C.TRANS_DH].tid if C.TRANS_DH in got else 0
    gir = None
    reply_ke = []
    if group:
        ke = msg.find(KE)
        if ke is None or ke.group != group:
            return [Notify(C.N_INVALID_KE_PAYLOAD, bytes((group >> 8, group & 0xFF)))]
        from .crypto.dh import DH

        dh = DH(s.c, group, s.rng)
        try:
            gir = dh.shared(ke.data)
        except CryptoError:
            return [Notify(C.N_INVALID_SYNTAX)]
        reply_ke = [KE(group, dh.public)]
    e = got[C.TRANS_ENCR]
    integ = got[C.TRANS_INTEG].tid if C.TRANS_INTEG in got else 0
    esn = got[C.TRANS_ESN].tid if C.TRANS_ESN in got else 0
    suite = Suite(p.num, p.spi, e.tid, e.keylen(), integ, 0, group, esn)
    nr = bytes(s.rng(32))
    ei, ai, er, ar = K.child_keymat(s.c, s.keys.sk_d, nonce.data, nr,
                                    K.encr_key_len(e.tid, e.keylen()),
                                    K.integ_key_len(integ), gir)
    spi = new_spi(s.rng, 4)
    # the gateway's i->r keys protect what we receive
    s.rekeyed(old, ChildSA(s.c, suite, spi, p.spi, (er, ar, ei, ai), s.rng,
                           s.cfg.replay_window))
    return ([SA([Proposal(p.num, C.PROTO_ESP, chosen, spi)]), Nonce(nr)]
            + reply_ke + [TSi(tsi.selectors), TSr(tsr.selectors)])
