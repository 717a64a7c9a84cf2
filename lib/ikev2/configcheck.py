# The check of a client configuration (see config.py), and the parser of
# algorithm proposals (see proposals.py).  Only needed while a Config is
# made: on MicroPython Config drops this module again once it is done, so
# its code and messages do not occupy RAM for the life of the tunnel.
from . import const as C
from .errors import ConfigError
from .ip import aton, cidr
from .proposals import Offer
from .session import _HANDSHAKE

# The keys, one per line: "name type default;" with the type s (str),
# i (int), b (bool), f (float) or l (list of str, the default one item),
# and "*" for a required key.  An upper-case type marks a key of
# certificate authentication: a Config holds it only when certificates are
# used (a PSK device's Config stays as small as it was).
_KEYS = (
    "gateway s *;"
    "port i 500;"
    "natt_port i 4500;"
    "local_port i 0;"
    "local_ip s ;"
    "local_id s *;"
    "local_id_type s auto;"
    "remote_id s ;"
    "remote_id_type s auto;"
    "psk s ;"
    "local_auth s auto;"
    "remote_auth s auto;"
    "cert S ;"
    "private_key S ;"
    "ca_cert L ;"
    "validity_check S auto;"
    "send_certreq B 1;"
    "fragment_size i 1280;"
    "ike s aes128-sha256-x25519;"
    "esp s aes128-sha256;"
    "remote_ts l 0.0.0.0/0;"
    "local_ts l 0.0.0.0/0;"
    "virtual_ip b 1;"
    "encap b 1;"
    "retransmit_timeout f 2.0;"
    "retransmit_base f 1.8;"
    "retransmit_tries i 5;"
    "keepalive f 20.0;"
    "dpd_delay f 60.0;"
    "dpd_unanswered f 5.0;"
    "replay_window i 64;"
    "rekey_time f 3600.0;"
    "life_time f 0.0;"
    "ike_rekey_time f 14400.0;"
    "rekey_jitter f 0.1;"
    "rekey_bytes i 0;"
    "rekey_packets i 0;"
    "initial_contact b 1")


# The algorithm keywords: "keyword type id keylen" (transform type
# 1 ENCR, 2 PRF, 3 INTEG, 4 DH, 5 ESN; the transform id; the key length in
# bits, 0 for none).
_WORDS = (
    "aes128 1 12 128 aes192 1 12 192 aes256 1 12 256 aes 1 12 128 "
    "aes128gcm16 1 20 128 aes128gcm128 1 20 128 "
    "aes256gcm16 1 20 256 aes256gcm128 1 20 256 "
    "sha256 3 12 0 sha2_256 3 12 0 prfsha256 2 5 0 "
    "modp2048 4 14 0 ecp256 4 19 0 x25519 4 31 0 curve25519 4 31 0 "
    "esn 5 1 0 noesn 5 0 0")
_ID_TYPES = {"fqdn": C.ID_FQDN, "rfc822": C.ID_RFC822_ADDR,
             "key_id": C.ID_KEY_ID, "ipv4": C.ID_IPV4_ADDR}


def id_payload_data(value, kind, key):
    # -> (ID type, identification data) for an IDi/IDr payload
    if kind == "auto":
        try:
            return C.ID_IPV4_ADDR, aton(value)
        except ValueError:
            pass
        kind = "rfc822" if "@" in value else "fqdn"
    t = _ID_TYPES.get(kind)
    if t is None:
        raise ConfigError("%s_type: %r is not one of auto, %s"
                          % (key, kind, ", ".join(sorted(_ID_TYPES))))
    if t == C.ID_IPV4_ADDR:
        try:
            return t, aton(value)
        except ValueError:
            raise ConfigError("%s: %r is not an IPv4 address" % (key, value))
    if not value:
        raise ConfigError("%s: empty identity" % key)
    return t, value.encode()


def check(cfg, d):
    # fills the Config cfg from the dict d, or raises ConfigError
    if not isinstance(d, dict):
        raise ConfigError("the configuration must be a JSON object")
    keys = []  # (name, type, default or None if required)
    names = []
    certs = []  # the certificate keys (upper-case type)
    for e in _KEYS.split(";"):
        k, t, v = e.split(" ", 2)
        if t.isupper():
            certs.append(k)
        typ = (str, int, bool, float, list)["sibfl".index(t.lower())]
        if v == "*":
            v = None
        elif typ is list:
            v = [v] if v else []
        elif typ is int:
            v = int(v)
        elif typ is not str:
            v = typ(float(v))  # a float, or a bool from 0 / 1
        keys.append((k, typ, v))
        names.append(k)
    if isinstance(d.get("ca_cert"), str):  # one CA: a string will do
        d = dict(d)
        d["ca_cert"] = [d["ca_cert"]]
    for k in d:
        if k not in names:
            raise ConfigError("unknown configuration key %r" % k)
    for k, _, default in keys:
        if default is None and k not in d:
            raise ConfigError("missing configuration key %r" % k)
    # certificates on either side, or a shared key both ways
    psk = (d.get("local_auth", "auto") == d.get("remote_auth", "auto") == "auto"
           and not [k for k in certs if k in d])
    for k, typ, default in keys:
        if psk and k in certs:
            continue
        v = d.get(k, default)
        if typ is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if typ is int and isinstance(v, bool) or not isinstance(v, typ):
            # a secret's value is never echoed (logs), only its type
            raise ConfigError("%s: expected %s, got %s" % (
                k, typ.__name__, type(v).__name__
                if k in ("psk", "private_key") else repr(v)))
        setattr(cfg, k, v)
    if not cfg.gateway:
        raise ConfigError("gateway: empty")
    for k in ("port", "natt_port", "local_port"):
        if not 0 <= getattr(cfg, k) <= 65535 or (
                k != "local_port" and not getattr(cfg, k)):
            raise ConfigError("%s: %r is not a UDP port" % (k, getattr(cfg, k)))
    if cfg.local_ip:
        try:
            aton(cfg.local_ip)
        except ValueError:
            raise ConfigError("local_ip: %r is not an IPv4 address"
                              % cfg.local_ip)
    cfg.idi = id_payload_data(cfg.local_id, cfg.local_id_type, "local_id")
    cfg.idr = (id_payload_data(cfg.remote_id, cfg.remote_id_type,
                               "remote_id") if cfg.remote_id else None)
    # certificates are checked by certauth.py, which a PSK device never loads
    if psk:
        cfg.local_auth = cfg.remote_auth = "psk"
        if not cfg.psk:
            raise ConfigError("psk: empty pre-shared key")
        cfg.psk_bytes = cfg.psk.encode()
    else:
        from . import _forget
        from . import certauth

        try:
            certauth.check(cfg)
        finally:
            _forget(*_HANDSHAKE)
    if cfg.fragment_size and not 576 <= cfg.fragment_size <= 65535:
        raise ConfigError("fragment_size: %r is not in 576..65535 (0 turns "
                          "IKE fragmentation off)" % cfg.fragment_size)
    cfg.ike_offers = parse(cfg.ike, True)
    cfg.esp_offers = parse(cfg.esp, False)
    cfg.remote_ts_ranges = _ts(cfg, "remote_ts")
    cfg.local_ts_ranges = _ts(cfg, "local_ts")
    if cfg.retransmit_timeout <= 0 or cfg.retransmit_base < 1:
        raise ConfigError("retransmit_timeout must be > 0 and "
                          "retransmit_base >= 1")
    if not 1 <= cfg.retransmit_tries <= 20:
        raise ConfigError("retransmit_tries: %r is not in 1..20"
                          % cfg.retransmit_tries)
    if cfg.keepalive < 0:
        raise ConfigError("keepalive: must be >= 0 (0 turns it off)")
    if cfg.dpd_delay < 0:
        raise ConfigError("dpd_delay: must be >= 0 (0 turns it off)")
    if cfg.dpd_unanswered < 0:
        raise ConfigError("dpd_unanswered: must be >= 0 (0 turns it off)")
    for k in ("rekey_time", "life_time", "ike_rekey_time", "rekey_bytes",
              "rekey_packets"):
        if getattr(cfg, k) < 0:
            raise ConfigError("%s: must be >= 0 (0 turns it off)" % k)
    if cfg.life_time and cfg.life_time <= cfg.rekey_time:
        raise ConfigError("life_time (%s s) must be longer than rekey_time "
                          "(%s s), or 0" % (cfg.life_time, cfg.rekey_time))
    if not 0 <= cfg.rekey_jitter < 1:
        raise ConfigError("rekey_jitter: a fraction in 0..0.99")
    if cfg.replay_window < 32 or cfg.replay_window % 8 or cfg.replay_window > 4096:
        raise ConfigError("replay_window: a multiple of 8 in 32..4096")


def _ts(cfg, key):
    v = getattr(cfg, key)
    if not v:
        raise ConfigError("%s: empty list" % key)
    out = []
    for s in v:
        try:
            out.append(cidr(s))
        except (ValueError, TypeError, AttributeError):
            raise ConfigError("%s: %r is not an IPv4 CIDR" % (key, s))
    return out


def _word(word):
    # keyword -> (transform type, transform id, key length in bits or
    # None), or None if unknown
    w = _WORDS.split()
    for i in range(0, len(w), 4):
        if w[i] == word:
            return int(w[i + 1]), int(w[i + 2]), int(w[i + 3]) or None
    return None


def parse(text, ike=True):
    # "a-b-c, d-e-f" -> [Offer]; ConfigError names the bad keyword
    what = "ike" if ike else "esp"
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("%s: empty proposal" % what)
    offers = []
    for part in text.split(","):
        part = part.strip()
        o = Offer(ike)
        for w in part.split("-"):
            spec = _word(w.strip().lower())
            if spec is None:
                raise ConfigError("%s: unknown algorithm %r in %r"
                                  % (what, w, part))
            ttype, tid, kl = spec
            if ttype == C.TRANS_PRF and not ike:
                raise ConfigError("%s: %r is an IKE-only algorithm" % (what, w))
            if (tid, kl) not in o.t[ttype]:
                o.t[ttype].append((tid, kl))
        _complete(o, what, part)
        offers.append(o)
    return offers


def _complete(o, what, part):
    t = o.t
    if not t[C.TRANS_ENCR]:
        raise ConfigError("%s: no encryption algorithm in %r" % (what, part))
    aead = t[C.TRANS_ENCR][0][0] == C.ENCR_AES_GCM_16
    for e in t[C.TRANS_ENCR]:
        if (e[0] == C.ENCR_AES_GCM_16) != aead:
            raise ConfigError("%s: %r mixes AEAD and non-AEAD encryption"
                              % (what, part))
    if aead:
        if t[C.TRANS_INTEG]:
            raise ConfigError("%s: AES-GCM takes no integrity algorithm (%r)"
                              % (what, part))
    elif not t[C.TRANS_INTEG]:
        raise ConfigError("%s: %r needs an integrity algorithm (e.g. sha256)"
                          % (what, part))
    if o.ike:
        if not t[C.TRANS_PRF]:
            # strongSwan derives the PRF from the integrity algorithm
            t[C.TRANS_PRF].append((C.PRF_HMAC_SHA2_256, None))
        if not t[C.TRANS_DH]:
            raise ConfigError("ike: no DH group in %r (e.g. x25519)" % part)
        if t[C.TRANS_ESN]:
            raise ConfigError("ike: ESN is an ESP option (%r)" % part)
    else:
        if (C.ESN_YES, None) in t[C.TRANS_ESN]:
            raise ConfigError("esp: extended sequence numbers are not "
                              "supported (%r)" % part)
        if not t[C.TRANS_ESN]:
            t[C.TRANS_ESN].append((C.ESN_NO, None))
