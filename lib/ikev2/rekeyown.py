# Our own Child SA rekey (RFC 7296 1.3.3, 2.8), with the collision rule
# of 2.8.1, and the Delete of a Child SA.  Loaded when we rekey; see
# rekey.py.
from . import const as C
from . import keys as K
from . import proposals
from .errors import CryptoError, ProtocolError, notify_name
from .payloads import Notify, SA, Nonce, KE, TSi, TSr, Delete
from .session import new_spi


def retry_at(s, now):
    # a rekey of ours was refused for now: try again in a few seconds
    return now + int(s.cfg.retransmit_timeout * 1000 * (1 + s.rng(1)[0] / 128))


class RekeyChild:
    NAME = "CREATE_CHILD_SA (Child SA rekey)"
    EXCHANGE = C.CREATE_CHILD_SA
    KIND = "child"

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
        self.ni = bytes(s.rng(C.NONCE_LEN))
        pl = [Notify(C.N_REKEY_SA, b"", C.PROTO_ESP, self.old.spi_in),
              proposals.to_sa(s.cfg.esp_offers, C.PROTO_ESP, self.spi),
              Nonce(self.ni)]
        self.dh = None
        if self.group:  # PFS
            from .crypto.dh import DH

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
                    s.child_rekey_at = retry_at(s, now)
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
            s.retire(new)
            s.tasks.append(DeleteChild(s, new))
        else:
            # theirs is redundant (the gateway deletes it); ours replaces
            # both, and we delete the old one
            s.promote()
            s.retire(s.child)
            s.retire(self.old)
            s.child = new
            s.child_timers(now)
            s.our_rekeys += 1
            s.tasks.append(DeleteChild(s, self.old))
            s.events.append(("rekeyed", (new.spi_in.hex(), True)))
        return True


class DeleteChild:
    # INFORMATIONAL {D(ESP, our inbound SPI)}: the peer answers with its own
    NAME = "INFORMATIONAL (Delete Child SA)"
    EXCHANGE = C.INFORMATIONAL
    KIND = "delete"

    def __init__(self, s, ch):
        self.s = s
        self.ch = ch

    def build(self):
        return [Delete(C.PROTO_ESP, [self.ch.spi_in])]

    def process(self, msg, raw, now):
        self.s._drop_child(self.ch)
        return True
