# Algorithm proposals: strongSwan-style strings such as
# "aes128-sha256-x25519" or "aes256gcm16-prfsha256-ecp256" (IKE) and
# "aes128-sha256" or "aes128gcm16-x25519" (ESP, the DH group meaning PFS),
# turned into SA payloads, and the responder's choice checked against
# what was offered (RFC 7296 2.7, 3.3).
from . import const as C
from .errors import ProtocolError
from .payloads import SA, Proposal, Transform

# The names of the transforms in messages (the keywords of configcheck.py
# that parse to them; the encryption names carry the key length: aes128,
# aes256gcm16), as ";type id name" entries of one string: a dict would stay
# in RAM for the whole session.
_NAMES = (";2 5 prfsha256;3 12 sha256;4 14 modp2048;4 19 ecp256;4 31 x25519"
          ";5 1 esn;5 0 noesn;")


def _name(ttype, tid, keylen):
    # (keylen None: the Key Length attribute is missing, "aes?")
    if ttype == C.TRANS_ENCR and tid == C.ENCR_AES_GCM_16:
        return "aes%sgcm16" % ("?" if keylen is None else keylen)
    if ttype == C.TRANS_ENCR and tid == C.ENCR_AES_CBC:
        return "aes" + ("?" if keylen is None else str(keylen))
    k = ";%d %d " % (ttype, tid)
    i = _NAMES.find(k)
    if i < 0:
        return "%d:%d" % (ttype, tid)
    i += len(k)
    return _NAMES[i:_NAMES.index(";", i)]


class Offer:
    # One proposal we make: for each transform type, the (id, keylen)
    # choices in order of preference.
    def __init__(self, ike):
        self.ike = ike
        self.t = {C.TRANS_ENCR: [], C.TRANS_PRF: [], C.TRANS_INTEG: [],
                  C.TRANS_DH: [], C.TRANS_ESN: []}

    def transforms(self):
        out = []
        for ttype in (C.TRANS_ENCR, C.TRANS_PRF, C.TRANS_INTEG, C.TRANS_DH,
                      C.TRANS_ESN):
            for tid, kl in self.t[ttype]:
                attrs = [(C.ATTR_KEY_LENGTH, kl)] if kl else None
                out.append(Transform(ttype, tid, attrs))
        return out


def parse(text, ike=True):
    # "a-b-c, d-e-f" -> [Offer]; ConfigError names the bad keyword.  The
    # parser is in configcheck.py, needed when a configuration is checked.
    from .configcheck import parse

    return parse(text, ike)


def to_sa(offers, protocol, spi=b""):
    props = []
    for i in range(len(offers)):
        props.append(Proposal(i + 1, protocol, offers[i].transforms(), spi))
    return SA(props)


class Suite:
    # The responder's choice: exactly one transform of each type.
    def __init__(self, num, spi, encr, keylen, integ, prf, dh, esn):
        self.num = num
        self.spi = spi
        self.encr = encr
        self.keylen = keylen
        self.integ = integ
        self.prf = prf
        self.dh = dh
        self.esn = esn

    def name(self):
        parts = [_name(C.TRANS_ENCR, self.encr, self.keylen)]
        if self.integ:
            parts.append(_name(C.TRANS_INTEG, self.integ, None))
        if self.prf:
            parts.append(_name(C.TRANS_PRF, self.prf, None))
        if self.dh:
            parts.append(_name(C.TRANS_DH, self.dh, None))
        return "-".join(parts)


def select(sa, offers, protocol):
    # Checks the responder's SA payload against our offers and returns the
    # Suite; ProtocolError if it chose anything we did not offer.
    if sa is None:
        raise ProtocolError("response has no SA payload")
    if len(sa.proposals) != 1:
        raise ProtocolError("responder returned %d proposals, not 1"
                            % len(sa.proposals))
    p = sa.proposals[0]
    if p.protocol != protocol:
        raise ProtocolError("responder chose protocol %d, we asked %d"
                            % (p.protocol, protocol))
    if not 1 <= p.num <= len(offers):
        raise ProtocolError("responder chose proposal #%d, we made %d"
                            % (p.num, len(offers)))
    o = offers[p.num - 1]
    got = {}
    for tr in p.transforms:
        if tr.ttype in got:
            raise ProtocolError("responder chose two transforms of type %d"
                                % tr.ttype)
        choice = (tr.tid, tr.keylen())
        if tr.ttype not in o.t or choice not in o.t[tr.ttype]:
            raise ProtocolError("responder chose %s, which we did not offer"
                                % _name(tr.ttype, tr.tid, tr.keylen()))
        got[tr.ttype] = choice
    for ttype in o.t:
        if o.t[ttype] and ttype not in got:
            raise ProtocolError("responder's choice lacks transform type %d"
                                % ttype)
    if protocol == C.PROTO_IKE and p.spi:
        raise ProtocolError("IKE proposal in a response carries an SPI")
    if protocol == C.PROTO_ESP and len(p.spi) != 4:
        raise ProtocolError("ESP proposal SPI is %d bytes, not 4" % len(p.spi))

    none = (0, None)
    e = got.get(C.TRANS_ENCR, none)
    return Suite(p.num, p.spi, e[0], e[1], got.get(C.TRANS_INTEG, none)[0],
                 got.get(C.TRANS_PRF, none)[0], got.get(C.TRANS_DH, none)[0],
                 got.get(C.TRANS_ESN, none)[0])
