# A saved trace (trace.py's dump) as field-level records, for the sequence
# diagram (tools/trace.py): every IKE message is decoded again with the
# library's own decoder (message.py, payloads.py), and its payloads become
# dicts of their fields.  Pure and MicroPython-compatible, but used on the
# host: a device only records.
#
#   expand(data) -> {"trace", "meta", "lost", "limit", "keys"?,
#                    "records": [dict, ...]}
#
# Records ("k" is the kind, "t" the session's milliseconds, "dir" "out"
# or "in"):
#   ike   ex, mid, flags, spi_i, spi_r, len (bytes on the wire), sk
#         (encrypted), frags (RFC 7383 fragments, when it travelled so), pl:
#         one dict per payload ("type" and its fields, see payload()),
#         skipped (unknown payload types), error (when it does not decode)
#   esp   spi, seq, len, ip: [proto, src, dst, length, a, b] or None
#   retx  ex, mid, n, len;  drop  what, why;  ev  what, v;  keepalive
from . import const as C
from . import message as M
from .errors import DecodeError
from .ip import ntoa


class TraceError(Exception):
    pass


def _hex(b):
    return bytes(b).hex()


def _ip(b):
    return ntoa(b) if len(b) == 4 else _hex(b)


def _text(b):
    try:
        return bytes(b).decode()
    except UnicodeError:
        return _hex(b)


def payload(p):
    # the fields of one decoded payload (nonce and AUTH: their length only)
    t = p.TYPE
    d = {"type": t}
    if t == C.PT_SA:
        d["props"] = [{"num": q.num, "proto": q.protocol, "spi": _hex(q.spi),
                       "tf": [[x.ttype, x.tid, x.keylen()] for x in q.transforms]}
                      for q in p.proposals]
    elif t == C.PT_KE:
        d["group"] = p.group
        d["len"] = len(p.data)
    elif t == C.PT_IDI or t == C.PT_IDR:
        d["id_type"] = p.id_type
        if p.id_type == C.ID_IPV4_ADDR:
            d["id"] = _ip(p.data)
        elif p.id_type in (C.ID_FQDN, C.ID_RFC822_ADDR):
            d["id"] = _text(p.data)
        else:
            d["id"] = _hex(p.data)
    elif t == C.PT_AUTH:
        d["method"] = p.method
        d["len"] = len(p.data)
    elif t == C.PT_NONCE:
        d["len"] = len(p.data)
    elif t == C.PT_NOTIFY:
        d["ntype"] = p.ntype
        d["proto"] = p.protocol
        if p.spi:
            d["spi"] = _hex(p.spi)
        d["len"] = len(p.data)
        if p.data and len(p.data) <= 64:
            d["data"] = _hex(p.data)
    elif t == C.PT_DELETE:
        d["proto"] = p.protocol
        d["spis"] = [_hex(s) for s in p.spis]
    elif t == C.PT_TSI or t == C.PT_TSR:
        d["ts"] = [[s.ts_type, s.proto, _ip(s.start), _ip(s.end), s.sport,
                    s.eport] for s in p.selectors]
    elif t == C.PT_CP:
        d["cfg_type"] = p.cfg_type
        d["attrs"] = [[a, _ip(v) if len(v) == 4 else _hex(v)]
                      for a, v in p.attrs]
    elif t == C.PT_CERT or t == C.PT_CERTREQ:
        d["encoding"] = p.encoding
        d["len"] = len(p.data)
    elif t == C.PT_VENDOR:
        d["len"] = len(p.data)
        d["data"] = _hex(p.data[:32])
    return d


def _ike(r):
    # ["ike", t, dir, size, frags, encrypted, hex, skipped]
    d = {"k": "ike", "t": r[1], "dir": r[2], "len": r[3], "sk": bool(r[5]),
         "ex": 0, "mid": 0, "flags": 0, "spi_i": "", "spi_r": "", "pl": []}
    if r[4]:
        d["frags"] = r[4]
    if r[7]:
        d["skipped"] = r[7]
    try:
        msg = M.decode(bytes.fromhex(r[6]))
    except (DecodeError, ValueError) as e:
        d["error"] = "not decodable: %s" % e
        return d
    d.update({"ex": msg.exchange, "mid": msg.mid, "flags": msg.flags,
              "spi_i": _hex(msg.spi_i), "spi_r": _hex(msg.spi_r),
              "pl": [payload(p) for p in msg.payloads]})
    return d


_FIELDS = {"esp": ("spi", "seq", "len", "ip"),
           "retx": ("ex", "mid", "n", "len"),
           "drop": ("what", "why", "a", "b"), "ev": ("what", "v"),
           "keepalive": ()}

# the "up" event's value, as trace.py keeps it
UP = ("handshake_ms", "ike", "esp", "virtual_ip", "esp_spi_in", "esp_spi_out")

# the reasons session.py and trace.py give as numbers (with a and b)
_WHY = {1: "not for this IKE SA (its SPIs or the I flag)",
        2: "an unexpected response (exchange %d, message ID %d)",
        3: "a request before the IKE SA exists",
        4: "a request with message ID %d, expected %d",
        5: "an unencrypted message in a rekeyed IKE SA",
        10: "an unknown SPI %s",
        11: "failed its ICV or replay check (totals so far: bad ICV %d, "
            "replayed %d)"}


def why(code, a, b):
    # a drop's reason as text
    if not isinstance(code, int):
        return str(code)
    text = _WHY.get(code, "reason %d" % code)
    n = text.count("%")
    return text % ((a, b)[:n]) if n else text


def record(r):
    # one saved record (a list) -> its dict; TraceError when malformed
    if not isinstance(r, list) or len(r) < 2 or not isinstance(r[1], int):
        raise TraceError("not a trace record: %r" % (r,))
    k = r[0]
    try:
        if k == "ike":
            if len(r) != 8:
                raise TraceError("an ike record has 8 fields: %r" % (r,))
            return _ike(r)
        names = _FIELDS.get(k)
        if names is None:
            raise TraceError("unknown record kind %r" % (k,))
        d = {"k": k, "t": r[1]}
        vals = r[2:]
        if k in ("esp", "retx"):
            d["dir"] = r[2]
            vals = r[3:]
        elif k != "ev":  # a drop is of what came in
            d["dir"] = "out" if k == "keepalive" else "in"
        if len(vals) != len(names):
            raise TraceError("a %s record has %d fields: %r"
                             % (k, len(names) + 2 + (k in ("esp", "retx")), r))
        for n, v in zip(names, vals):
            d[n] = v
        if k == "drop":
            d["why"] = why(d["why"], d.pop("a"), d.pop("b"))
        elif k == "ev" and d["what"] == "up" and isinstance(d["v"], list):
            d["v"] = dict(zip(UP, d["v"]))
        return d
    except (TypeError, IndexError) as e:
        raise TraceError("malformed %s record (%s): %r" % (k, e, r))


def expand(data):
    # a saved trace (the dict json.load gives) -> field-level records
    if not isinstance(data, dict) or data.get("trace") != 2:
        raise TraceError("not an IKEv2 trace (version 2) file")
    recs = data.get("records")
    if not isinstance(recs, list):
        raise TraceError("the trace has no list of records")
    out = {"trace": 2, "meta": data.get("meta") or {},
           "lost": data.get("lost", 0), "limit": data.get("limit", 0),
           "records": [record(r) for r in recs]}
    if data.get("keys"):
        out["keys"] = data["keys"]
    return out
