# The IKE_SA_INIT exchange as a task (see tasks.py): the proposals, the
# Diffie-Hellman exchange, NAT detection and the IKE SA's keys.  On
# MicroPython the session drops this module, with the DH code, once the
# exchange is over.
from . import _collect_every, _forget, _tidy
from . import const as C
from . import keys as K
from . import proposals
from .crypto.dh import DH
from .errors import NotifyError, ProtocolError, CryptoError
from .payloads import KE, Nonce, Notify, SA
from .session import INIT_MODULES
from .sk import Cipher


def nat_hash(c, spi_i, spi_r, ip, port):
    # RFC 7296 2.23: SHA-1(SPIi | SPIr | IP | Port)
    return c.sha1(spi_i + spi_r + ip + bytes((port >> 8, port & 0xFF)))


class IkeInit:
    NAME = "IKE_SA_INIT"
    EXCHANGE = C.IKE_SA_INIT

    def __init__(self, s):
        self.s = s
        self.groups = s.cfg.groups()
        self.group = self.groups[0]
        self.dh = DH(s.c, self.group, s.rng)
        self.ni = bytes(s.rng(C.NONCE_LEN))
        self.cookie = None
        self.ke_retries = 0

    def build(self):
        s = self.s
        pl = []
        if self.cookie is not None:
            pl.append(Notify(C.N_COOKIE, self.cookie))
        pl += [proposals.to_sa(s.cfg.ike_offers, C.PROTO_IKE),
               KE(self.group, self.dh.public), Nonce(self.ni)]
        zero = bytes(8)
        if s.local is not None and not s.cfg.encap:
            src = nat_hash(s.c, s.spi_i, zero, s.local[0], s.local[1])
        else:
            # unknown source address, or encapsulation forced: a hash that
            # cannot match makes both sides see a NAT (as strongSwan's
            # encap=yes does), so ESP travels in UDP 4500 (RFC 3948)
            src = bytes(s.rng(20))
        dst = nat_hash(s.c, s.spi_i, zero, s.remote_ip, s.cfg.port)
        pl.append(Notify(C.N_NAT_DETECTION_SOURCE_IP, src))
        pl.append(Notify(C.N_NAT_DETECTION_DESTINATION_IP, dst))
        cfg = s.cfg
        if cfg.local_auth != "psk" or cfg.remote_auth != "psk":
            # RFC 7383 2.3: IKE fragmentation, for IKE_AUTH's certificates
            # (with a PSK, no message comes near the path MTU: the notify
            # would only cost 8 bytes each way)
            if cfg.fragment_size:
                pl.append(Notify(C.N_IKEV2_FRAGMENTATION_SUPPORTED))
            from . import certauth  # RFC 7427 4

            pl.append(Notify(C.N_SIGNATURE_HASH_ALGORITHMS, certauth.hashes(s.c)))
        return pl

    def prepare(self):
        # while IKE_SA_INIT's answer travels: load IKE_AUTH's code (its
        # task is made after this exchange, see session._ike_auth)
        from . import tasks  # noqa: F401

    def process(self, msg, raw, now):
        s = self.s
        n = msg.notify(C.N_COOKIE)
        if n is not None:
            if self.cookie is not None and self.cookie == n.data:
                raise ProtocolError("the gateway repeats the same COOKIE")
            if not 1 <= len(n.data) <= 64:
                raise ProtocolError("COOKIE of %d bytes" % len(n.data))
            self.cookie = n.data
            s.spi_r = bytes(8)
            s.resend(self, now)
            return False
        n = msg.notify(C.N_INVALID_KE_PAYLOAD)
        if n is not None:
            if len(n.data) != 2:
                raise ProtocolError("INVALID_KE_PAYLOAD without a group")
            g = (n.data[0] << 8) | n.data[1]
            if g not in self.groups or g == self.group or self.ke_retries:
                raise NotifyError(C.N_INVALID_KE_PAYLOAD,
                                  "the gateway wants DH group %d, which the "
                                  "ike proposals do not allow" % g)
            self.ke_retries += 1
            self.group = g
            self.dh = DH(s.c, g, s.rng)
            s.spi_r = bytes(8)
            s.resend(self, now)
            return False
        err = msg.error()
        if err is not None:
            if err.ntype == C.N_NO_PROPOSAL_CHOSEN:
                raise NotifyError(err.ntype, "NO_PROPOSAL_CHOSEN: the gateway "
                                  "accepts none of the ike proposals (%s)"
                                  % s.cfg.ike)
            raise NotifyError(err.ntype, data=err.data)
        if s.spi_r == bytes(8):
            raise ProtocolError("IKE_SA_INIT response without responder SPI")
        suite = proposals.select(msg.find(SA), s.cfg.ike_offers, C.PROTO_IKE)
        ke = msg.find(KE)
        nr = msg.find(Nonce)
        if ke is None or nr is None:
            raise ProtocolError("IKE_SA_INIT response lacks KE or Nonce")
        if ke.group != self.group or suite.dh != self.group:
            raise ProtocolError("the gateway answered DH group %d/%d to our %d"
                                % (ke.group, suite.dh, self.group))
        try:
            gir = self.dh.shared(ke.data)
        except CryptoError as e:
            raise ProtocolError("bad KE from the gateway: %s" % e)
        # the DH secret is not needed any more, nor the DH code: dropped
        # before the keys are made, into the room it leaves
        self.dh = None
        _forget(*INIT_MODULES[1:])
        self._nat(msg)
        if s.cfg.fragment_size and msg.notify(
                C.N_IKEV2_FRAGMENTATION_SUPPORTED) is not None:
            s.frag = [0, 0, None]
        n = msg.notify(C.N_SIGNATURE_HASH_ALGORITHMS)
        if n is not None:
            s.peer_hashes = n.data
        _collect_every(8192)  # until the session is up (or closed)
        _tidy()
        seed = K.skeyseed(s.c, self.ni, nr.data, gir)
        elen = K.encr_key_len(suite.encr, suite.keylen)
        ilen = K.integ_key_len(suite.integ)
        k = K.IKEKeys(s.c, seed, self.ni, nr.data, s.spi_i, s.spi_r, elen, ilen)
        s.keys = k
        s.ike_suite = suite
        s.tx = Cipher(s.c, suite.encr, k.sk_ei, suite.integ, k.sk_ai, s.rng)
        s.rx = Cipher(s.c, suite.encr, k.sk_er, suite.integ, k.sk_ar, s.rng)
        s.ni, s.nr = self.ni, nr.data
        # for the AUTH payloads: RealMessage1, our request as sent (on port
        # 500, so without the non-ESP marker), and RealMessage2
        s.real1, s.real2 = s.req[0][0], bytes(raw)
        _forget(*INIT_MODULES)  # and this module
        return True

    def _nat(self, msg):
        s = self.s
        srcs = []
        for n in msg.payloads:
            if n.TYPE == C.PT_NOTIFY and n.ntype == C.N_NAT_DETECTION_SOURCE_IP:
                srcs.append(n.data)
        dst = msg.notify(C.N_NAT_DETECTION_DESTINATION_IP)
        nat = False
        if srcs or dst:
            want = nat_hash(s.c, s.spi_i, s.spi_r, s.remote_ip, s.cfg.port)
            if want not in srcs:
                nat = True  # the gateway is behind a NAT (or fakes one)
            if s.local is None or dst is None or dst.data != nat_hash(
                    s.c, s.spi_i, s.spi_r, s.local[0], s.local[1]):
                nat = True  # we are behind a NAT (or do not know)
        if s.cfg.encap or nat:
            if not srcs and not dst:
                raise ProtocolError("the gateway does not support NAT "
                                    "traversal (no NAT_DETECTION notify)")
            s.natt = True
        else:
            raise ProtocolError(
                "no NAT between us and the gateway and encap is off: ESP "
                "would travel as raw IP protocol 50, which this client "
                "cannot send; set \"encap\": true")
