# Exchanges as tasks, in the manner of strongSwan's libcharon: each builds
# its request's payloads and processes the response.  process() returns
# True when the exchange is done, False after it restarted it (resend).
# Errors are raised as IKEError subclasses; the session turns them into
# an "error" event.  IKE_SA_INIT is in ikeinit.py, IKE_AUTH here, the
# Delete of a graceful close in session.py: on MicroPython the session
# drops each module once its part of the handshake is over.
from . import _tidy
from . import const as C
from . import keys as K
from . import proposals
from .errors import NotifyError, ProtocolError, AuthenticationFailed
from .ip import ntoa
from .payloads import (Notify, IDi, IDr, Auth, CP, TSi, TSr, TrafficSelector,
                       SA)
from .session import new_spi


def __getattr__(name):
    # nat_hash lives in ikeinit.py (IKE_SA_INIT is its only user)
    if name == "nat_hash":
        from .ikeinit import nat_hash

        return nat_hash
    raise AttributeError(name)


class IkeAuth:
    NAME = "IKE_AUTH"
    EXCHANGE = C.IKE_AUTH

    def __init__(self, s):
        self.s = s

    def prepare(self):
        # while IKE_AUTH's answer travels: the ESP code its Child SA needs
        from . import esp  # noqa: F401

    def build(self):
        s = self.s
        cfg = s.cfg
        self.spi = new_spi(s.rng, 4)
        idi = IDi(cfg.idi[0], cfg.idi[1])
        pl = [idi]
        if cfg.local_auth == cfg.remote_auth == "psk":
            auth = Auth(C.AUTH_SHARED_KEY,
                        K.psk_auth(s.c, cfg.psk_bytes, s.real1, s.nr,
                                   s.keys.sk_pi, idi.encode()))
        else:  # certificates on either side: CERT, CERTREQ, our AUTH
            from . import certauth

            auth = certauth.build(s, idi, pl)
        s.auth = {"method": auth.method}
        s.real1 = None  # not needed any more
        if cfg.initial_contact:
            pl.append(Notify(C.N_INITIAL_CONTACT))
        if cfg.idr is not None:
            pl.append(IDr(cfg.idr[0], cfg.idr[1]))
        pl.append(auth)
        if cfg.virtual_ip:
            pl.append(CP(C.CFG_REQUEST, [(C.CFG_INTERNAL_IP4_ADDRESS, b""),
                                         (C.CFG_INTERNAL_IP4_DNS, b"")]))
        self.tsi = _selectors([(bytes(4), b"\xff" * 4)] if cfg.virtual_ip
                              else cfg.local_ts_ranges)
        self.tsr = _selectors(cfg.remote_ts_ranges)
        pl += [proposals.to_sa(cfg.esp_offers, C.PROTO_ESP, self.spi),
               TSi(self.tsi), TSr(self.tsr)]
        return pl

    def process(self, msg, raw, now):
        s = self.s
        cfg = s.cfg
        err = msg.error()
        idr = msg.find(IDr)
        auth = msg.find(Auth)
        if err is not None and (idr is None or auth is None):
            if err.ntype == C.N_AUTHENTICATION_FAILED:
                e = AuthenticationFailed(
                    "AUTHENTICATION_FAILED: the gateway refused our "
                    "authentication (check %s, local_id and remote_id)"
                    % ("psk" if cfg.local_auth == "psk" else
                       "our certificate, its CA on the gateway"))
            else:
                e = NotifyError(err.ntype, data=err.data)
            e.peer_deleted = True  # the responder keeps no IKE SA
            raise e
        if idr is None or auth is None:
            raise ProtocolError("IKE_AUTH response lacks IDr or AUTH")
        if cfg.idr is not None and (idr.id_type, idr.data) != cfg.idr:
            raise AuthenticationFailed("the gateway identifies as %r (ID type "
                                       "%d), not %r (ID type %d)"
                                       % (idr.data, idr.id_type, cfg.remote_id,
                                          cfg.idr[0]))
        if cfg.remote_auth != "psk":  # the gateway's certificate
            from . import certauth

            certauth.process(s, msg, idr, auth)
        else:
            if auth.method != C.AUTH_SHARED_KEY:
                raise AuthenticationFailed("the gateway authenticates with "
                                           "method %d, not a shared key"
                                           % auth.method)
            want = K.psk_auth(s.c, cfg.psk_bytes, s.real2, s.ni,
                              s.keys.sk_pr, idr.encode())
            if not s.c.ct_eq(want, auth.data):
                raise AuthenticationFailed("the gateway's AUTH does not "
                                           "verify (wrong psk on one side?)")
        s.real2 = None  # not needed any more
        # the IKE SA is authenticated; now the Child SA
        if err is not None:
            raise NotifyError(err.ntype, _child_error(err.ntype), err.data)
        suite = proposals.select(msg.find(SA), cfg.esp_offers, C.PROTO_ESP)
        tsi, tsr = msg.find(TSi), msg.find(TSr)
        if tsi is None or tsr is None:
            raise ProtocolError("IKE_AUTH response lacks TSi or TSr")
        _check_narrowed(tsi.selectors, self.tsi, "TSi")
        _check_narrowed(tsr.selectors, self.tsr, "TSr")
        cp = msg.find(CP)
        if cfg.virtual_ip:
            _config_reply(s, cp)
        s.ts_i, s.ts_r = tsi.selectors, tsr.selectors
        # the response's payloads are garbage now: collected before the
        # handshake's peak (ESP's code and the Child SA's keys)
        msg.payloads = idr = auth = cp = tsi = tsr = err = None
        _tidy()
        from .esp import ChildSA  # loaded once the handshake needs it

        elen = K.encr_key_len(suite.encr, suite.keylen)
        ilen = K.integ_key_len(suite.integ)
        km = K.child_keymat(s.c, s.keys.sk_d, s.ni, s.nr, elen, ilen)
        child = ChildSA(s.c, suite, self.spi, suite.spi, km, s.rng,
                        cfg.replay_window)
        s.established(child, now)
        return True


def _selectors(ranges):
    out = []
    for a, b in ranges:
        out.append(TrafficSelector(a, b))
    return out


def _check_narrowed(got, asked, what):
    # RFC 7296 2.9: the responder may narrow, never widen
    if not got:
        raise ProtocolError("%s: the gateway returned no selector" % what)
    for g in got:
        if g.ts_type != C.TS_IPV4_ADDR_RANGE:  # we ask for IPv4 only
            raise ProtocolError("%s: the gateway returned a selector of "
                                "type %d, we asked for IPv4 (7) only"
                                % (what, g.ts_type))
        if g.start > g.end or g.sport > g.eport:
            raise ProtocolError("%s: empty selector %s-%s ports %d-%d"
                                % (what, ntoa(g.start), ntoa(g.end),
                                   g.sport, g.eport))
        ok = False
        for a in asked:
            if (a.start <= g.start and g.end <= a.end and a.sport <= g.sport
                    and g.eport <= a.eport and a.proto in (0, g.proto)):
                ok = True
        if not ok:
            raise ProtocolError("%s: the gateway widened the traffic "
                                "selectors to %s-%s" % (what, ntoa(g.start),
                                                        ntoa(g.end)))


def _config_reply(s, cp):
    # the CP of the answer (RFC 7296 3.15): CFG_REPLY, one usable IPv4
    # address of 4 bytes, DNS servers of 4 bytes (the first 4 kept)
    addrs = cp.get(C.CFG_INTERNAL_IP4_ADDRESS) if cp else []
    if not addrs:
        raise NotifyError(C.N_INTERNAL_ADDRESS_FAILURE,
                          "the gateway assigned no virtual IP")
    if cp.cfg_type != C.CFG_REPLY:
        raise ProtocolError("malformed CP: a CP of type %d, not CFG_REPLY"
                            % cp.cfg_type)
    a = addrs[0]
    if len(a) != 4:
        raise ProtocolError("malformed CP: INTERNAL_IP4_ADDRESS of %d bytes"
                            % len(a))
    dns = cp.get(C.CFG_INTERNAL_IP4_DNS)
    for d in dns:
        if len(d) != 4:
            raise ProtocolError("malformed CP: INTERNAL_IP4_DNS of %d bytes"
                                % len(d))
    if a[0] == 0 or a[0] == 127 or a[0] >= 224:
        raise ProtocolError("malformed CP: the gateway assigned the virtual "
                            "IP %s" % ntoa(a))
    s.vip = ntoa(a)
    s.dns = [ntoa(d) for d in dns[:4]]


def _child_error(n):
    if n == C.N_TS_UNACCEPTABLE:
        return ("TS_UNACCEPTABLE: the gateway accepts none of the traffic "
                "selectors (check remote_ts / local_ts)")
    if n == C.N_NO_PROPOSAL_CHOSEN:
        return ("NO_PROPOSAL_CHOSEN: the gateway accepts none of the esp "
                "proposals")
    if n == C.N_INTERNAL_ADDRESS_FAILURE:
        return ("INTERNAL_ADDRESS_FAILURE: the gateway has no virtual IP for "
                "us (pool exhausted or none configured)")
    if n == C.N_FAILED_CP_REQUIRED:
        return ("FAILED_CP_REQUIRED: the gateway requires a virtual IP "
                "request (set virtual_ip: true)")
    return None
