# ikev2-trace: a saved session trace (lib/ikev2/trace.py) drawn as a
# sequence diagram.
#
#   ikev2-trace render TRACE.json [-o OUT.html] [--svg OUT.svg] [--title T]
#   ikev2-trace keys TRACE.json DIR    Wireshark's key files (wskeys.py)
#
# render_html(data): one self-contained page (inline style and script, no
#   external reference of any kind): the initiator's and the responder's
#   lifelines, one arrow per record in time order, notes for the client's
#   events; a click on a message (or Enter on it) shows its fields in the
#   details panel.  The session keys appear only when the trace has them
#   (recorded with key export on), in a section marked sensitive.
# render_svg(data): the same picture, static, for the README; long runs of
#   ESP packets shrink to one row so that the handshake stays in view.
# summary(data): one text line per record, for logs.
#
# All naming happens here, in Python: describe() turns a record into its
# label and its list of fields (names from ikenames.py).  The page's script
# only lays the rows out and shows the fields, always as text
# (textContent): a trace holds strings the gateway chose (IDs, reasons).
import argparse
import html
import ipaddress
import json
import os
import re
import sys

from . import ikenames as N
from ikev2 import tracefmt  # (ikenames put lib/ on sys.path)

C = N.C  # lib/ikev2/const.py
VERSION = 2  # of the traces lib/ikev2/trace.py saves


class TraceError(Exception):
    """A trace file that cannot be read or is not a trace: one line."""


# ------------------------------------------------------------ loading

def load(path):
    """The trace in the file at path, as saved (lib/ikev2/trace.py's dump),
    checked: TraceError when it cannot be read or drawn."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise TraceError("cannot read %s: %s" % (path, e.strerror or e))
    except UnicodeDecodeError:
        raise TraceError("%s is not a trace: not UTF-8 text" % path)
    try:
        data = json.loads(text)
    except ValueError as e:
        raise TraceError("%s is not JSON: %s" % (path, e))
    expand(data, path)
    return data


def expand(data, where="the trace"):
    """The trace with field-level records (tracefmt.expand(): each IKE
    message decoded again by the library); a trace already expanded as it
    is.  TraceError when data is not a trace of this version."""
    if not isinstance(data, dict) or "trace" not in data:
        raise TraceError('%s is not an IKEv2 trace (no "trace" key)' % where)
    if data["trace"] != VERSION:
        raise TraceError("%s: trace version %r, this renderer reads version "
                         "%d" % (where, data["trace"], VERSION))
    recs = data.get("records")
    if not isinstance(recs, list):
        raise TraceError("%s: its records are not a list" % where)
    if not isinstance(data.get("meta") or {}, dict):
        raise TraceError("%s: its meta is not an object" % where)
    if not isinstance(data.get("keys") or [], list):
        raise TraceError("%s: its keys are not a list" % where)
    if recs and all(isinstance(r, dict) for r in recs):
        return data
    try:
        return tracefmt.expand(data)
    except tracefmt.TraceError as e:
        raise TraceError("%s: %s" % (where, e))


# ------------------------------------------------------------ formatting

def _ms(t):
    return "%s ms" % t if isinstance(t, (int, float)) else "? ms"


def _spi(h):
    return "0x" + h if h else "none"


def _bytes(n):
    return "%s byte%s" % (n, "" if n == 1 else "s")


def _number(name, n):
    return "%s (%s)" % (name, n)


def _fmt(v):
    # a value of an event or an unknown record, as text
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list):
        return ", ".join(_fmt(x) for x in v) or "none"
    if isinstance(v, dict):
        return ", ".join("%s %s" % (k, _fmt(x)) for k, x in v.items())
    return str(v)


def _view(cls, title, text="", dir=None, tag="", size="", details=()):
    """One row of the diagram: cls (style), title and text (its label), dir
    ("out": initiator to responder, "in", None: a note), tag and size (shown
    small beside), details: [{"h": heading, "rows": [[field, value]]}]."""
    return {"cls": cls, "title": title, "text": text, "dir": dir, "tag": tag,
            "size": size, "details": list(details)}


def _section(heading, rows):
    return {"h": heading, "rows": [[str(k), str(v)] for k, v in rows]}


def _direction(d):
    return {"out": "Initiator \u2192 Responder",
            "in": "Responder \u2192 Initiator"}.get(d, "")


# ------------------------------------------------------------ IKE messages

def _payload_label(p, response):
    t = p.get("type")
    if t == C.PT_NOTIFY:
        return "N(%s)" % N.notify(p.get("ntype"))
    if t == C.PT_CP:
        return "CP(%s)" % N.cfg_type(p.get("cfg_type"))
    return N.payload(t, response)


def _proposal_rows(props):
    rows = []
    for q in props:
        rows.append(("Proposal %s" % q["num"], "%s, SPI %s"
                     % (N.protocol(q["proto"]), _spi(q["spi"]))))
        for ttype, tid, keylen in q["tf"]:
            rows.append(("Transform", N.transform(ttype, tid, keylen)))
    return rows


def _ts_text(s):
    ts_type, proto, start, end, sport, eport = s
    return "%s, ports %s to %s, %s to %s, IP protocol %s" % (
        N.ts_type(ts_type), sport, eport, start, end, N.ip_proto(proto))


def _cfg_value(attr, v):
    # CP attribute values: trace.py records 4 bytes as an IPv4 address and
    # anything else as hex; IPv6 addresses (with a prefix length) and IPv4
    # subnets are decoded here
    if v == "":
        return "(empty)"
    if not re.fullmatch(r"(?:[0-9a-f]{2})+", v):
        return v
    b = bytes.fromhex(v)
    if len(b) in (16, 17):
        a = str(ipaddress.IPv6Address(b[:16]))
        return a + "/%d" % b[16] if len(b) == 17 else a
    if len(b) == 8 and N.cfg_attr(attr).endswith("IP4_SUBNET"):
        return "%s/%s" % (ipaddress.IPv4Address(b[:4]),
                          ipaddress.IPv4Address(b[4:]))
    return v


def _notify_data(p):
    n = p.get("len", 0)
    if "data" in p:
        return "%s (%s)" % (p["data"], _bytes(n))
    return "none" if not n else "%s, not recorded" % _bytes(n)


def _payload_rows(p):
    t = p.get("type")
    if t == C.PT_SA:
        return _proposal_rows(p["props"])
    if t == C.PT_KE:
        return [("Group", _number(N.dh_group(p["group"]), p["group"])),
                ("Data", _bytes(p["len"]))]
    if t in (C.PT_IDI, C.PT_IDR):
        return [("Type", N.id_type(p["id_type"])), ("Identity", p["id"])]
    if t == C.PT_AUTH:
        return [("Method", _number(N.auth_method(p["method"]), p["method"])),
                ("Data", _bytes(p["len"]))]
    if t == C.PT_NONCE:
        return [("Data", _bytes(p["len"]))]
    if t == C.PT_NOTIFY:
        rows = [("Type", "%s (%s, %s)" % (N.notify(p["ntype"]), p["ntype"],
                                          N.notify_kind(p["ntype"]))),
                ("Protocol", N.protocol(p["proto"]))]
        if "spi" in p:
            rows.append(("SPI", _spi(p["spi"])))
        return rows + [("Data", _notify_data(p))]
    if t == C.PT_DELETE:
        spis = ", ".join(_spi(s) for s in p["spis"])
        return [("Protocol", N.protocol(p["proto"])),
                ("SPIs", spis or "none (the IKE SA itself)")]
    if t in (C.PT_TSI, C.PT_TSR):
        return [("Selector", _ts_text(s)) for s in p["ts"]]
    if t == C.PT_CP:
        return [("Type", N.cfg_type(p["cfg_type"]))] + [
            (N.cfg_attr(a), _cfg_value(a, v)) for a, v in p["attrs"]]
    if t in (C.PT_CERT, C.PT_CERTREQ):
        return [("Encoding", _number(N.cert_encoding(p["encoding"]),
                                     p["encoding"])),
                ("Data", _bytes(p["len"]))]
    if t == C.PT_VENDOR:
        more = "\u2026" if p["len"] > len(p["data"]) // 2 else ""
        return [("Vendor ID", p["data"] + more), ("Length", _bytes(p["len"]))]
    return [("Contents", "not recorded by the trace")]


def _flags(f):
    names = [n for bit, n in ((C.FLAG_INITIATOR, "Initiator"),
                              (C.FLAG_VERSION, "Version"),
                              (C.FLAG_RESPONSE, "Response")) if f & bit]
    return "0x%02x (%s)" % (f, ", ".join(names) or "none")


def _ike(r):
    if r.get("error"):  # recorded, but it does not decode
        return _view("ike", "IKE message", r["error"], r["dir"], "",
                     "%s B" % r["len"], [_section("IKE message", [
                         ("Length", _bytes(r["len"]) + " on the wire"),
                         ("Contents", r["error"])])])
    response = bool(r["flags"] & C.FLAG_RESPONSE)
    ex = N.exchange(r["ex"])
    title = "%s %s" % (ex, "response" if response else "request")
    pl = r.get("pl", [])
    names = [_payload_label(p, response) for p in pl]
    names += [N.payload(t) for t in r.get("skipped", [])]
    text = ", ".join(names)
    if r.get("sk"):
        text = "SK { %s }" % text if text else "SK { }"
    frags = r.get("frags")
    if frags:
        text += " in %d SKF fragments" % frags
    wire = _bytes(r["len"]) + " on the wire"
    head = [("Exchange", _number(ex, r["ex"])),
            ("Message", "response" if response else "request"),
            ("Flags", _flags(r["flags"])),
            ("Initiator flag", "set" if r["flags"] & C.FLAG_INITIATOR
             else "not set"),
            ("Message ID", r["mid"]),
            ("SPIi", _spi(r["spi_i"])), ("SPIr", _spi(r["spi_r"])),
            ("Length", wire),
            ("Encrypted", "yes (SK payload)" if r.get("sk") else "no")]
    if frags:
        head.append(("Fragments", "%d (RFC 7383)" % frags))
    if r.get("skipped"):
        head.append(("Not decoded", "payload types %s"
                     % ", ".join(str(t) for t in r["skipped"])))
    details = [_section("Header", head)]
    for p in pl:
        details.append(_section(
            "%s \u2014 %s" % (_payload_label(p, response),
                              N.payload_long(p.get("type"))),
            _payload_rows(p)))
    return _view("ike", title, text, r["dir"], "#%s" % r["mid"],
                 "%s B" % r["len"], details)


def _retx(r):
    ex = N.exchange(r["ex"])
    rows = [("Exchange", _number(ex, r["ex"])), ("Message ID", r["mid"])]
    if r["dir"] == "out":
        text = "retransmission #%s" % r["n"]
        rows.append(("Retransmission", "#%s of our request" % r["n"]))
    else:
        text = "repeated by the responder, cached response resent"
        rows.append(("What", "the responder sent its request again; our "
                     "cached response was sent again"))
    rows.append(("Length", _bytes(r["len"])))
    return _view("retx", "%s request" % ex, text, r["dir"], "#%s" % r["mid"],
                 "%s B" % r["len"], [_section("Retransmission", rows)])


# ------------------------------------------------------------ ESP, drops

def _inner_text(ip):
    if not ip:
        return "inner packet not decoded (not IPv4)"
    proto, src, dst, length, a, b = ip
    name = N.ip_proto(proto)
    if proto == 1 and a is not None:
        return "ICMP %s %s \u2192 %s (%s B)" % (N.icmp_type(a), src, dst,
                                                length)
    if proto == 17 and a is not None:
        return "UDP %s:%s \u2192 %s:%s (%s B)" % (src, a, dst, b, length)
    return "%s %s \u2192 %s (%s B)" % (name, src, dst, length)


def _inner_rows(ip):
    if not ip:
        return [("Inner packet", "not decoded: not an IPv4 packet")]
    proto, src, dst, length, a, b = ip
    rows = [("Protocol", _number(N.ip_proto(proto), proto)),
            ("Source", src), ("Destination", dst), ("Length", _bytes(length))]
    if proto == 1 and a is not None:
        rows.append(("ICMP", "%s (type %s), sequence %s"
                     % (N.icmp_type(a), a, b)))
    elif proto == 17 and a is not None:
        rows += [("Source port", a), ("Destination port", b)]
    return rows


def _esp(r):
    text = "SPI %s seq %s \u00b7 %s" % (_spi(r["spi"]), r["seq"],
                                        _inner_text(r.get("ip")))
    esp = [("SPI", _spi(r["spi"])), ("Sequence number", r["seq"]),
           ("Length", _bytes(r["len"]) + " (the ESP packet)")]
    return _view("esp", "ESP", text, r["dir"], "", "%s B" % r["len"],
                 [_section("ESP", esp),
                  _section("Inner packet", _inner_rows(r.get("ip")))])


def _drop(r):
    what = str(r.get("what", "")).upper() or "datagram"
    noun = "packet" if what == "ESP" else "message"
    rows = [("What", "an incoming %s %s" % (what, noun)), ("Reason", r["why"])]
    return _view("drop", "%s dropped" % what, str(r["why"]),
                 r.get("dir", "in"), details=[_section("Dropped", rows)])


def _keepalive(r):
    return _view("keepalive", "NAT keepalive", "", "out", details=[
        _section("NAT keepalive", [("What", "a one-byte datagram that keeps "
                                    "the NAT mapping open (RFC 3948)")])])


# ------------------------------------------------------------ events

def _up_text(v):
    parts = []
    if v.get("ike"):
        parts.append("IKE " + v["ike"])
    if v.get("esp"):
        parts.append("ESP " + v["esp"])
    if v.get("virtual_ip"):
        parts.append("virtual IP " + v["virtual_ip"])
    return ", ".join(parts)


_EVENTS = {"up": "Tunnel up", "down": "Tunnel down", "error": "Error",
           "child_down": "Child SA down"}


def _by(ours):
    return "us" if ours else "the gateway"


def _ev(r):
    # the client's event: a note, its text says it all (no details)
    what, v = r["what"], r.get("v")
    title = _EVENTS.get(what, "Event %s" % what)
    text = "" if v is None else _fmt(v)
    if what == "up" and isinstance(v, dict):
        if v.get("handshake_ms") is not None:
            title += " in %s ms" % v["handshake_ms"]
        text = _up_text(v)
    elif what == "rekeyed" and isinstance(v, list):
        title = "Child SA rekeyed by " + _by(v[1])
        text = "new inbound SPI " + _spi(v[0])
    elif what == "ike_rekeyed" and isinstance(v, list):
        title = "IKE SA rekeyed by " + _by(v[1])
        text = "new SPIs %s / %s" % (_spi(v[0][:16]), _spi(v[0][16:]))
    return _view("ev error" if what == "error" else "ev", title, text)


def _other(r):
    # a record of a kind this renderer does not know, or one it cannot read
    return _view("ev other", "Record \u201c%s\u201d" % r.get("k"), "",
                 details=[_section("Record", [(k, _fmt(x)) for k, x in
                                              r.items()])])


_KINDS = {"ike": _ike, "retx": _retx, "esp": _esp, "drop": _drop,
          "ev": _ev, "keepalive": _keepalive}


def describe(rec, i=0):
    """The view of record i (see _view), plus i, k (its kind), time and
    where (time and direction, for the details panel)."""
    make = _KINDS.get(rec.get("k"), _other)
    try:
        v = make(rec)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        v = _other(rec)
        v["title"] = "Unreadable %s record" % rec.get("k")
    v.update(i=i, k=str(rec.get("k")), time=_ms(rec.get("t")))
    v["where"] = " \u00b7 ".join(s for s in (v["time"], _direction(v["dir"]))
                                 if s)
    return v


def _label(v, tag=False):
    # title (tag: with the message ID) and text in one line:
    # "IKE_AUTH request #1  SK { ... }", "ESP SPI 0x...", "Tunnel down: ..."
    title = v["title"] + (" " + v["tag"] if tag and v["tag"] else "")
    if not v["text"]:
        return title
    if v["dir"] is None or v["k"] == "drop":
        return title + ": " + v["text"]
    return title + ("  " if v["tag"] else " ") + v["text"]


def summary(data):
    """One text line per record:
    '     6 ms  -> IKE_AUTH request #1  SK { IDi, ... }  260 B'."""
    arrows = {"out": "->", "in": "<-", None: "=="}
    lines = []
    for i, rec in enumerate(expand(data)["records"]):
        v = describe(rec, i)
        arrow = "x-" if v["k"] == "drop" else arrows.get(v["dir"], "==")
        line = "%9s  %s %s" % (v["time"], arrow, _label(v, tag=True))
        lines.append(line + ("  " + v["size"] if v["size"] else ""))
    return lines


# ------------------------------------------------------------ keys

_KEY_FIELDS = (("sk_ei", "SK_ei (encryption, initiator)"),
               ("sk_er", "SK_er (encryption, responder)"),
               ("sk_ai", "SK_ai (integrity, initiator)"),
               ("sk_ar", "SK_ar (integrity, responder)"),
               ("k_out", "Encryption key, outbound"),
               ("k_in", "Encryption key, inbound"),
               ("a_out", "Integrity key, outbound"),
               ("a_in", "Integrity key, inbound"))


def _key_section(k):
    if k.get("sa") == "ike":
        head = "IKE SA %s / %s" % (_spi(k.get("spi_i")), _spi(k.get("spi_r")))
    else:
        head = "ESP SA in %s / out %s" % (_spi(k.get("spi_in")),
                                          _spi(k.get("spi_out")))
    rows = [("From", _ms(k.get("t")))]
    if "encr" in k:
        rows.append(("Encryption", N.transform(C.TRANS_ENCR, k["encr"],
                                               k.get("keylen"))))
    if "integ" in k:
        rows.append(("Integrity", N.transform(C.TRANS_INTEG, k["integ"])))
    aead = "a_out" not in k
    for f, name in _KEY_FIELDS:
        if f in k:
            if aead and f in ("k_out", "k_in"):
                name = name.replace("Encryption key", "Key and salt")
            rows.append((name, k[f]))
    return _section(head, rows)


# ------------------------------------------------------------ the view

def view(data, title=None):
    """Everything the page draws: rows (one per record), header texts and,
    only when the trace has them, the keys."""
    data = expand(data)
    meta = data.get("meta") or {}
    recs = data["records"]
    times = [r["t"] for r in recs if isinstance(r.get("t"), (int, float))]
    facts = ["%d records" % len(recs)]
    if times:
        facts.append("%s\u2013%s ms" % (min(times), max(times)))
    facts += ["%s %s" % (k, _fmt(v)) for k, v in meta.items()
              if k not in ("initiator", "responder")]
    v = {"title": title or "IKEv2 session with %s"
         % (meta.get("responder") or "the gateway"),
         "subtitle": " \u00b7 ".join(facts),
         "initiator": _host("this device", meta.get("initiator")),
         "responder": _host("gateway", meta.get("responder")),
         "lost": data.get("lost") or 0,
         "lost_text": _lost_text(data["lost"]) if data.get("lost") else "",
         "rows": [describe(r, i) for i, r in enumerate(recs)]}
    if data.get("keys"):
        v["keys"] = [_key_section(k) for k in data["keys"]
                     if isinstance(k, dict)]
    return v


def _host(role, addr):
    return "%s %s" % (role, addr) if addr else role


def _lost_text(n):
    return ("%d earlier record%s %s dropped by the device's ring buffer"
            % (n, "" if n == 1 else "s", "was" if n == 1 else "were"))


# ------------------------------------------------------------ HTML

def _script_json(obj):
    # JSON inside <script type="application/json">: no "<" (so no
    # "</script" or "<!--"), ">" or "&" can end or confuse the element
    s = json.dumps(obj, ensure_ascii=True, separators=(",", ":"))
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace(
        "&", "\\u0026")


def render_html(data, title=None):
    """The trace as one self-contained HTML page (ASCII text)."""
    v = view(data, title)
    parts = {"TITLE": _ascii(html.escape(_clean(v["title"]))),
             "DATA": _script_json(data), "VIEW": _script_json(v)}
    # in one pass: a trace's strings may hold "%VIEW%" too
    return re.sub("%(TITLE|DATA|VIEW)%", lambda m: parts[m.group(1)], _PAGE)


def _clean(s):
    # characters XML 1.0 does not allow (controls), as U+FFFD
    return re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "\ufffd",
                  str(s))


def _ascii(s):
    return s.encode("ascii", "xmlcharrefreplace").decode("ascii")


_PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%TITLE% &#8212; IKEv2 sequence diagram</title>
<style>
:root { --l: 9%; --ike: #1f3a93; --esp: #0f8b7d; --drop: #c62828;
  --note: #fff7c2; --note-b: #d9b84a; --line: #9aa3af;
  --ink: #1d2330; --muted: #6b7482; --sel: #e6eeff; --panel: #ffffff; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: var(--ink);
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif; }
header { background: #fff; border-bottom: 1px solid #dde1e6;
  padding: 14px 24px; display: flex; flex-wrap: wrap; gap: 8px 24px;
  align-items: baseline; }
h1 { font-size: 18px; margin: 0; }
#subtitle { color: var(--muted); font-size: 13px; }
.legend { margin-left: auto; display: flex; gap: 14px; font-size: 12px;
  color: var(--muted); align-items: center; flex-wrap: wrap; }
.legend i { display: inline-block; width: 22px; height: 0;
  border-top: 2px solid; vertical-align: middle; margin-right: 5px; }
.legend .sw-note { width: 14px; height: 10px; border: 1px solid var(--note-b);
  background: var(--note); }
main { display: grid; grid-template-columns: minmax(720px, 1fr) 400px;
  gap: 16px; padding: 16px 24px; align-items: start; }
.card { background: var(--panel); border: 1px solid #dde1e6;
  border-radius: 8px; }
#diagram { padding: 10px 0 0; overflow: hidden; }
.row { display: grid; grid-template-columns: 70px 1fr 112px;
  min-height: 22px; }
.row.msg { cursor: pointer; }
.row.msg:hover { background: #f3f6fb; }
.row.selected, .row.selected:hover { background: var(--sel); }
.row:focus { outline: none; }
.row:focus-visible { box-shadow: inset 0 0 0 2px var(--ike); }
.t, .m { font: 11px/1.2 ui-monospace, SFMono-Regular, Menlo, Consolas,
  monospace; color: var(--muted); align-self: end; padding-bottom: 5px;
  white-space: nowrap; }
.t { text-align: right; padding-right: 10px; }
.m { padding-left: 10px; }
.lanes { position: relative; }
.lanes::before, .lanes::after { content: ""; position: absolute; top: 0;
  bottom: 0; width: 2px; background: var(--line); }
.lanes::before { left: calc(var(--l) - 1px); }
.lanes::after { right: calc(var(--l) - 1px); }
.label { position: relative; margin: 0 calc(var(--l) + 16px);
  padding: 7px 0 13px; text-align: center; font-size: 13px;
  overflow-wrap: anywhere; }
.label .title { font-weight: 650; color: var(--ike); margin-right: 6px; }
.arrow { position: absolute; left: var(--l); right: var(--l); bottom: 6px;
  height: 0; border-top: 2px solid var(--c, var(--ike)); }
.arrow::after { content: ""; position: absolute; top: -6px;
  border-style: solid; border-color: transparent; }
.out .arrow::after { right: -2px; border-width: 5px 0 5px 10px;
  border-left-color: var(--c, var(--ike)); }
.in .arrow::after { left: -2px; border-width: 5px 10px 5px 0;
  border-right-color: var(--c, var(--ike)); }
.row.esp { --c: var(--esp); min-height: 20px; }
.esp .label { font-size: 12px; padding: 3px 0 9px; color: #0b5f56; }
.esp .label .title { color: var(--esp); }
.esp .arrow { border-top-width: 1px; bottom: 5px; }
.esp .arrow::after { top: -4px; border-width: 3.5px 0 3.5px 8px; }
.esp.in .arrow::after { border-width: 3.5px 8px 3.5px 0; }
.esp .t, .esp .m { padding-bottom: 2px; font-size: 10.5px; }
.row.retx .arrow { border-top-style: dashed; }
.retx .label .text { font-style: italic; }
.row.drop { --c: var(--drop); }
.drop .label { color: var(--drop); }
.drop .label .title { color: var(--drop); }
.drop.in .arrow { left: 50%; }
.drop.out .arrow { right: 50%; }
.drop .arrow::after { display: none; }
.drop .x { position: absolute; top: -11px; font: bold 15px/1 sans-serif;
  color: var(--drop); }
.drop.in .x { left: -10px; }
.drop.out .x { right: -10px; }
.row.keepalive { min-height: 18px; --c: var(--muted); }
.keepalive .label { text-align: left; margin-left: calc(var(--l) + 56px);
  font-size: 11px; color: var(--muted); padding: 2px 0 4px; }
.keepalive .label .title { color: var(--muted); font-weight: 400; }
.keepalive .arrow { right: auto; width: 44px; border-top-width: 1px;
  bottom: 8px; }
.keepalive .arrow::after { top: -4px; border-width: 3.5px 0 3.5px 7px; }
.note { position: relative; z-index: 1; margin: 5px calc(var(--l) - 30px);
  background: var(--note); border: 1px solid var(--note-b);
  border-radius: 3px; padding: 5px 12px; text-align: center;
  font-size: 13px; overflow-wrap: anywhere; }
.note .title { font-weight: 650; }
.error .note { background: #fdecea; border-color: #e57373; color: #a01818; }
.other .note { background: #eef0f3; border-color: #c4c9d1; }
.lost .note { background: #fff1e0; border-color: #e0a050; }
.row.head .lanes { height: 62px; }
.row.end .lanes { height: 18px; }
.lane { position: absolute; top: 4px; z-index: 1; transform: translateX(-50%);
  min-width: 150px; max-width: 36%; padding: 6px 14px; border-radius: 6px;
  text-align: center;
  background: var(--ike); color: #fff; box-shadow: 0 1px 2px rgba(0,0,0,.2); }
.lane b { display: block; font-size: 14px; }
.lane span { display: block; font-size: 12px; color: #dbe4ff;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.lane.li { left: var(--l); }
.lane.ri { left: calc(100% - var(--l)); }
.hide-esp .row.esp, .hide-esp .row.keepalive { display: none; }
#details { position: sticky; top: 16px; z-index: 5;
  max-height: calc(100vh - 32px); overflow: auto; padding: 14px 18px 18px; }
#details h2 { font-size: 16px; margin: 0 0 2px; color: var(--ike);
  overflow-wrap: anywhere; }
#details .where { color: var(--muted); font-size: 12px; margin-bottom: 8px; }
#details h3 { font-size: 13px; margin: 14px 0 4px; padding-bottom: 3px;
  border-bottom: 1px solid #e3e6ea; overflow-wrap: anywhere; }
#details table { border-collapse: collapse; width: 100%; font-size: 12.5px;
  table-layout: fixed; }
#details th { width: min(38%, 13em); text-align: left; font-weight: 500;
  color: var(--muted); padding: 2px 10px 2px 0; vertical-align: top;
  overflow-wrap: anywhere; }
#details td { padding: 2px 0; font-family: ui-monospace, SFMono-Regular,
  Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
#details .hint { color: var(--muted); }
#keys { margin-top: 16px; padding: 12px 18px 16px; border: 2px solid #c62828;
  background: #fff7f7; }
#keys h2 { color: #c62828; font-size: 15px; margin: 0 0 4px; }
#keys p { margin: 0 0 8px; font-size: 13px; }
#keys h3 { font-size: 13px; margin: 12px 0 4px; }
#keys table { border-collapse: collapse; font-size: 12px; }
#keys th { width: 16em; text-align: left; font-weight: 500;
  color: var(--muted); padding: 2px 12px 2px 0; vertical-align: top; }
#keys td { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas,
  monospace; word-break: break-all; }
label.toggle { font-size: 12px; color: var(--muted); cursor: pointer; }
@media (max-width: 1180px) {
  main { grid-template-columns: 1fr; padding-bottom: 44vh; }
  #details { position: fixed; left: 0; right: 0; bottom: 0; top: auto;
    max-height: 42vh; border-radius: 0; box-shadow: 0 -2px 8px rgba(0,0,0,.15); }
}
</style>
</head>
<body>
<header>
  <h1 id="title"></h1>
  <span id="subtitle"></span>
  <span class="legend" id="legend"></span>
</header>
<main>
  <div>
    <div id="diagram" class="card" aria-label="sequence diagram"></div>
    <noscript><p>The diagram needs JavaScript; the trace is in this file
    as JSON (script element trace-data).</p></noscript>
  </div>
  <aside id="details" class="card" aria-live="polite">
    <p class="hint">Click a message to see its fields.</p>
  </aside>
</main>
<script type="application/json" id="trace-data">%DATA%</script>
<script type="application/json" id="trace-view">%VIEW%</script>
<script>
(function () {
  "use strict";
  var view = JSON.parse(document.getElementById("trace-view").textContent);
  var diagram = document.getElementById("diagram");
  var details = document.getElementById("details");
  var current = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function row(cls, time, meta) {
    var r = el("div", "row " + cls), lanes = el("div", "lanes");
    r.appendChild(el("div", "t", time || ""));
    r.appendChild(lanes);
    r.appendChild(el("div", "m", meta || ""));
    return {row: r, lanes: lanes};
  }

  function label(v) {
    var l = el("div", "label");
    l.appendChild(el("span", "title", v.title));
    if (v.text) { l.appendChild(el("span", "text", v.text)); }
    return l;
  }

  function record(v) {
    // a row per record: an arrow, or a note; all but the client's events
    // (notes that say it all) are clickable (.msg) and show their fields
    var meta = [v.tag, v.size].filter(Boolean).join(" \u00b7 ");
    var msg = v.k !== "ev";
    var r = row((msg ? "msg " : "") + v.cls + (v.dir ? " " + v.dir : ""),
                v.time, meta);
    r.row.setAttribute("data-idx", String(v.i));
    r.row.setAttribute("data-kind", v.k);
    if (msg) {
      r.row.setAttribute("tabindex", "0");
      r.row.setAttribute("role", "button");
    }
    if (v.dir) {
      r.lanes.appendChild(label(v));
      var a = el("div", "arrow");
      if (v.k === "drop") { a.appendChild(el("span", "x", "\u2715")); }
      r.lanes.appendChild(a);
    } else {
      var n = el("div", "note");
      n.appendChild(el("span", "title", v.title));
      if (v.text) { n.appendChild(document.createTextNode(": " + v.text)); }
      r.lanes.appendChild(n);
    }
    return r.row;
  }

  function table(rows) {
    var t = el("table");
    rows.forEach(function (kv) {
      var tr = el("tr");
      tr.appendChild(el("th", null, kv[0]));
      tr.appendChild(el("td", null, kv[1]));
      t.appendChild(tr);
    });
    return t;
  }

  function show(v) {
    details.textContent = "";
    details.appendChild(el("h2", null, v.title));
    details.appendChild(el("div", "where", v.where));
    v.details.forEach(function (s) {
      details.appendChild(el("h3", null, s.h));
      details.appendChild(table(s.rows));
    });
    details.scrollTop = 0;
  }

  function select(r) {
    if (current) {
      current.classList.remove("selected");
      current.removeAttribute("aria-pressed");
    }
    current = r;
    r.classList.add("selected");
    r.setAttribute("aria-pressed", "true");
    show(view.rows[Number(r.getAttribute("data-idx"))]);
  }

  function neighbour(r, down) {
    var n = r;
    do { n = down ? n.nextElementSibling : n.previousElementSibling; }
    while (n && !(n.classList.contains("msg") && n.offsetParent !== null));
    return n;
  }

  document.getElementById("title").textContent = view.title;
  document.getElementById("subtitle").textContent = view.subtitle;

  var legend = document.getElementById("legend");
  [["IKE", "var(--ike)", "solid"], ["ESP", "var(--esp)", "solid"],
   ["retransmission", "var(--ike)", "dashed"], ["dropped", "var(--drop)", "solid"]
  ].forEach(function (x) {
    var s = el("span"), i = el("i");
    i.style.borderTopColor = x[1];
    i.style.borderTopStyle = x[2];
    s.appendChild(i);
    s.appendChild(document.createTextNode(x[0]));
    legend.appendChild(s);
  });
  var ns = el("span"), sw = el("i", "sw-note");
  ns.appendChild(sw);
  ns.appendChild(document.createTextNode("event"));
  legend.appendChild(ns);
  var traffic = view.rows.filter(function (v) {
    return v.k === "esp" || v.k === "keepalive";
  }).length;
  if (traffic) {
    var tg = el("label", "toggle"), cb = el("input");
    cb.type = "checkbox";
    cb.checked = true;
    cb.addEventListener("change", function () {
      diagram.classList.toggle("hide-esp", !cb.checked);
    });
    tg.appendChild(cb);
    tg.appendChild(document.createTextNode(" ESP packets (" + traffic + ")"));
    legend.appendChild(tg);
  }

  var head = row("head");
  var li = el("div", "lane li"), ri = el("div", "lane ri");
  li.appendChild(el("b", null, "Initiator"));
  li.appendChild(el("span", null, view.initiator));
  ri.appendChild(el("b", null, "Responder"));
  ri.appendChild(el("span", null, view.responder));
  head.lanes.appendChild(li);
  head.lanes.appendChild(ri);
  diagram.appendChild(head.row);
  if (view.lost > 0) {
    var lost = row("lost");
    lost.lanes.appendChild(el("div", "note", view.lost_text));
    diagram.appendChild(lost.row);
  }
  view.rows.forEach(function (v) { diagram.appendChild(record(v)); });
  diagram.appendChild(row("end").row);

  if (view.keys && view.keys.length) {
    var keys = el("section", "card");
    keys.id = "keys";
    keys.appendChild(el("h2", null, "Sensitive: session keys, exported on request"));
    keys.appendChild(el("p", null, "With these keys and a capture of " +
      "this session anyone can read its traffic: keep this page private."));
    view.keys.forEach(function (s) {
      keys.appendChild(el("h3", null, s.h));
      keys.appendChild(table(s.rows));
    });
    diagram.parentNode.appendChild(keys);
  }

  diagram.addEventListener("click", function (e) {
    var r = e.target.closest(".msg");
    if (r) { select(r); }
  });
  diagram.addEventListener("keydown", function (e) {
    var r = e.target.closest ? e.target.closest(".msg") : null;
    if (!r) { return; }
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      select(r);
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      var n = neighbour(r, e.key === "ArrowDown");
      if (n) { e.preventDefault(); n.focus(); select(n); }
    }
  });
}());
</script>
</body>
</html>
"""


# ------------------------------------------------------------ SVG

SVG_WIDTH = 1000
_LI, _RI = 170, 830            # the lifelines
_MID = (_LI + _RI) // 2
_TIME_X, _META_X = 124, 842    # time column (right-aligned), size column
_LABEL = _RI - _LI - 36        # room for a label between the lifelines
_NOTE = 32                     # how far notes reach beyond the lifelines

_SVG_STYLE = """
text { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
.h { font-size: 17px; font-weight: 700; fill: #1d2330; }
.s { font-size: 12px; fill: #6b7482; }
.lane { fill: #1f3a93; } .lt { font-size: 14px; font-weight: 700; fill: #fff; }
.ls { font-size: 11.5px; fill: #dbe4ff; }
.life { stroke: #9aa3af; stroke-width: 2; }
.ti { font-size: 12.5px; font-weight: 700; fill: #1f3a93; }
.tx { font-size: 12px; fill: #1d2330; }
.a { stroke: #1f3a93; stroke-width: 2; } .ah { fill: #1f3a93; }
.retx { stroke-dasharray: 6 4; } .rt { font-style: italic; }
.esp { stroke: #0f8b7d; stroke-width: 1.2; } .esph { fill: #0f8b7d; }
.et { font-size: 11px; fill: #0b5f56; } .eti { font-weight: 700; fill: #0f8b7d; }
.drop { stroke: #c62828; } .dt { fill: #c62828; }
.dx { stroke: #c62828; stroke-width: 2.5; }
.ka { stroke: #6b7482; stroke-width: 1; } .kah { fill: #6b7482; }
.kt { font-size: 10.5px; fill: #6b7482; }
.note { fill: #fff7c2; stroke: #d9b84a; } .nt { font-size: 12.5px; fill: #3d3415; }
.ntb { font-weight: 700; }
.error { fill: #fdecea; stroke: #e57373; } .errt { fill: #a01818; }
.lost { fill: #fff1e0; stroke: #e0a050; }
.other { fill: #eef0f3; stroke: #c4c9d1; }
.tm { font-family: Menlo, Consolas, monospace; font-size: 10.5px; fill: #6b7482; }
.more { font-size: 11.5px; font-style: italic; fill: #6b7482; }
.dots { stroke: #0f8b7d; stroke-width: 1.2; stroke-dasharray: 1 4; }
"""


def _x(s):
    return html.escape(_clean(s), quote=True)


def _width(s, size):
    # about how wide s is, in pixels, in a sans-serif font of size px
    em = 0.0
    for ch in s:
        if ch in " ,.:;()[]{}|'!\u00b7":
            em += 0.3
        elif ch.isupper() or ch.isdigit() or ch in "_\u2192\u2026":
            em += 0.68
        else:
            em += 0.54
    return em * size


def _fit(s, px, size):
    # s, shortened with an ellipsis to at most about px wide
    while len(s) > 1 and _width(s, size) > px:
        s = s[:-2] + "\u2026"
    return s


def _wrap(s, px, size=12):
    # s in lines no wider than px (a word longer than that: a line of its own)
    lines = []
    for word in s.split(" "):
        if lines and _width(lines[-1] + " " + word, size) <= px:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


class _Svg:
    # the SVG's elements, top to bottom; y is where the next row starts
    def __init__(self):
        self.out = []
        self.y = 0

    def text(self, x, y, s, cls, anchor="start"):
        a = "" if anchor == "start" else ' text-anchor="%s"' % anchor
        self.out.append('<text x="%s" y="%s" class="%s"%s>%s</text>'
                        % (x, y, cls, a, _x(s)))

    def spans(self, x, y, parts, anchor="middle"):
        # one line of differently styled parts: [(text, cls)]
        body = "".join('<tspan class="%s">%s</tspan>' % (c, _x(s))
                       for s, c in parts if s)
        self.out.append('<text x="%s" y="%s" text-anchor="%s">%s</text>'
                        % (x, y, anchor, body))

    def line(self, x1, x2, y, cls):
        self.out.append('<line x1="%s" y1="%s" x2="%s" y2="%s" class="%s"/>'
                        % (x1, y, x2, y, cls))

    def arrow(self, x1, x2, y, cls, head, size=5):
        self.line(x1, x2, y, cls)
        d = size * 2 if x2 > x1 else -size * 2
        self.out.append('<polygon points="%s,%s %s,%s %s,%s" class="%s"/>'
                        % (x2, y, x2 - d, y - size, x2 - d, y + size, head))

    def side(self, y, v):
        # the time left of the lifelines, message ID and size right of them
        self.text(_TIME_X, y, v["time"], "tm", "end")
        meta = " \u00b7 ".join(s for s in (v.get("tag"), v.get("size")) if s)
        if meta:
            self.text(_META_X, y, meta, "tm")

    def note(self, text, cls, tcls, bold="", time=""):
        # a box across both lifelines; bold: the text's leading part
        lines = _wrap(text, _RI - _LI + 2 * _NOTE - 24, 12.5)
        h = 10 + 16 * len(lines)
        self.out.append('<rect x="%s" y="%s" width="%s" height="%s" rx="3" '
                        'class="%s"/>' % (_LI - _NOTE, self.y + 5,
                                          _RI - _LI + 2 * _NOTE, h, cls))
        for n, line in enumerate(lines):
            y = self.y + 22 + 16 * n
            if n == 0 and bold and line.startswith(bold):
                self.spans(_MID, y, [(bold, tcls + " ntb"),
                                     (line[len(bold):], tcls)])
            else:
                self.text(_MID, y, line, tcls, "middle")
        if time:
            self.text(_LI - _NOTE - 8, self.y + 22, time, "tm", "end")
        self.y += h + 10


def _svg_message(g, v):
    # an IKE message, a retransmission or a drop: its label, then the arrow
    out, drop = v["dir"] == "out", v["k"] == "drop"
    label = _label(v)
    if _width(label, 12.5) <= _LABEL:
        rest, lines = label[len(v["title"]):], []
    else:
        rest, lines = "", _wrap(v["text"], _LABEL)
    tcls = "tx dt" if drop else "tx rt" if v["k"] == "retx" else "tx"
    y = g.y + 18
    g.spans(_MID, y, [(v["title"], "ti dt" if drop else "ti"), (rest, tcls)])
    for line in lines:
        y += 15
        g.text(_MID, y, line, tcls, "middle")
    ay = y + 12
    if drop:
        x1 = _LI if out else _RI
        g.line(x1, _MID, ay, "a drop")
        for d in (-5, 5):  # the cross where it ends
            g.out.append('<line x1="%s" y1="%s" x2="%s" y2="%s" class="dx"/>'
                         % (_MID - 5, ay - d, _MID + 5, ay + d))
    else:
        x1, x2 = (_LI, _RI) if out else (_RI, _LI)
        g.arrow(x1, x2, ay, "a retx" if v["k"] == "retx" else "a", "ah")
    g.side(ay - 3, v)
    g.y = ay + 8


def _svg_traffic(g, v):
    # an ESP packet or a keepalive: a thin one-line row
    ay = g.y + 19
    if v["k"] == "keepalive":
        g.arrow(_LI, _LI + 44, ay - 4, "ka", "kah", 3.5)
        g.text(_LI + 52, ay, v["title"], "kt")
    else:
        g.spans(_MID, ay - 5, [("ESP ", "et eti"), (v["text"], "et")])
        x1, x2 = (_LI, _RI) if v["dir"] == "out" else (_RI, _LI)
        g.arrow(x1, x2, ay, "esp", "esph", 3.5)
    g.side(ay - 3, v)
    g.y = ay + 5


def _svg_more(g, item):
    # the row that stands for a run of collapsed ESP packets
    y = g.y + 16
    w = _width(item["text"], 11.5) + 16
    g.line(_LI + 20, _RI - 20, y - 4, "dots")
    g.out.append('<rect x="%.0f" y="%s" width="%.0f" height="16" '
                 'fill="#ffffff"/>' % (_MID - w / 2, y - 13, w))
    g.text(_MID, y, item["text"], "more", "middle")
    g.text(_TIME_X, y, item["time"], "tm", "end")
    g.y = y + 10


def _svg_note(g, v):
    cls, tcls = {"ev error": ("error", "nt errt"),
                 "ev other": ("other", "nt")}.get(v["cls"], ("note", "nt"))
    g.note(_label(v), cls, tcls, bold=v["title"], time=v["time"])


def _plural(n, word):
    return "%d %s%s" % (n, word, "" if n == 1 else "s")


def _more(run, kept):
    # the row that stands for the records of a run after the first kept
    rest = run[kept:]
    esp = [v for v in rest if v["k"] == "esp"]
    ka = len(rest) - len(esp)
    parts = []
    if esp:
        outs = sum(1 for v in esp if v["dir"] == "out")
        parts.append("%s (%d out, %d in)" % (
            _plural(len(esp), "more ESP packet" if kept else "ESP packet"),
            outs, len(esp) - outs))
    if ka:
        parts.append(_plural(ka, "NAT keepalive"))
    times = [rest[0]["time"], rest[-1]["time"]]
    return {"k": "more", "time": times[0] if times[0] == times[1] else
            "%s\u2013%s" % (times[0][:-3], times[1]),
            "text": "\u2026 " + ", ".join(parts)}


def collapse(views, max_rows=40):
    """The rows for the SVG: when there are more than max_rows, each run of
    consecutive ESP packets and keepalives keeps its first few rows (as
    many as max_rows allows) and one row counts the rest."""
    runs = []  # lists of views: a run of traffic, or one other view
    for v in views:
        traffic = v["k"] in ("esp", "keepalive")
        if traffic and runs and runs[-1][0]["k"] in ("esp", "keepalive"):
            runs[-1].append(v)
        else:
            runs.append([v])
    if len(views) <= max_rows:
        return list(views)

    def rows(keep):
        return sum(len(r) if len(r) <= keep + 1 else keep + 1 for r in runs)

    keep = max(len(r) for r in runs)
    while keep > 0 and rows(keep) > max_rows:
        keep -= 1
    out = []
    for r in runs:
        if len(r) <= keep + 1:
            out += r
        else:
            out += r[:keep] + [_more(r, keep)]
    return out


def render_svg(data, max_rows=40):
    """The trace as a static SVG sequence diagram (well-formed XML)."""
    v = view(data)
    g = _Svg()
    g.text(24, 30, v["title"], "h")
    g.text(24, 50, v["subtitle"], "s")
    top = 66
    for x, role, who in ((_LI, "Initiator", v["initiator"]),
                         (_RI, "Responder", v["responder"])):
        who = _fit(who, 240, 11.5)
        w = max(150, _width(who, 11.5) + 28)
        g.out.append('<rect x="%.0f" y="%s" width="%.0f" height="44" rx="6" '
                     'class="lane"/>' % (x - w / 2, top, w))
        g.text(x, top + 19, role, "lt", "middle")
        g.text(x, top + 36, who, "ls", "middle")
    life = len(g.out)  # the lifelines go here, under the rows
    g.y = top + 52
    if v["lost"]:
        g.note(v["lost_text"], "lost", "nt")
    for item in collapse(v["rows"], max_rows):
        if item["k"] == "more":
            _svg_more(g, item)
        elif item["k"] in ("esp", "keepalive"):
            _svg_traffic(g, item)
        elif item["dir"] is None:
            _svg_note(g, item)
        else:
            _svg_message(g, item)
    end = g.y + 12
    g.out.insert(life, "".join(
        '<line x1="%s" y1="%s" x2="%s" y2="%s" class="life"/>'
        % (x, top + 44, x, end) for x in (_LI, _RI)))
    height = end + 16
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
            'viewBox="0 0 %d %d" role="img" aria-label="%s">\n'
            '<style>%s</style>\n<rect width="100%%" height="100%%" '
            'fill="#ffffff"/>\n' % (SVG_WIDTH, height, SVG_WIDTH, height,
                                    _x("IKEv2 sequence diagram: " + v["title"]),
                                    _SVG_STYLE))
    return _ascii(head + "\n".join(g.out) + "\n</svg>\n")


# ------------------------------------------------------------ command line

def parser():
    ap = argparse.ArgumentParser(
        prog="ikev2-trace",
        description="IKEv2 session traces (ikev2c --trace, Trace.dump()): "
        "draw them as sequence diagrams.")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    r = sub.add_parser("render", help="the trace as an interactive HTML "
                       "sequence diagram (and a static SVG)")
    r.add_argument("trace", metavar="TRACE.json")
    r.add_argument("-o", "--output", metavar="OUT.html",
                   help="the HTML file (default: TRACE.html)")
    r.add_argument("--svg", metavar="OUT.svg",
                   help="also a static SVG, e.g. for a README")
    r.add_argument("--title", help="the page's title")
    r.add_argument("--max-rows", type=int, default=40, metavar="N",
                   help="SVG: collapse ESP runs beyond N rows (default 40)")
    k = sub.add_parser("keys", help="Wireshark's decryption tables "
                       "(ikev2_decryption_table, esp_sa) from a trace recorded "
                       "with key export on: SENSITIVE")
    k.add_argument("trace", metavar="TRACE.json")
    k.add_argument("folder", metavar="DIR",
                   help="where the files go (created 0700, files 0600); use "
                   "it as WIRESHARK_CONFIG_DIR")
    return ap


def _write(path, text):
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise TraceError("cannot write %s: %s" % (path, e.strerror or e))


def cmd_render(a):
    data = load(a.trace)
    out = a.output or os.path.splitext(a.trace)[0] + ".html"
    targets = [p for p in (out, a.svg) if p]
    if any(os.path.abspath(p) == os.path.abspath(a.trace) for p in targets):
        raise TraceError("the output would overwrite the trace %s" % a.trace)
    _write(out, render_html(data, a.title))
    if a.svg:
        _write(a.svg, render_svg(data, a.max_rows))
    return targets


def cmd_keys(a):
    from . import wskeys

    try:
        paths = wskeys.write(load(a.trace), a.folder)
    except wskeys.KeyExportError as e:
        raise TraceError("%s: %s" % (a.trace, e))
    except OSError as e:
        raise TraceError("cannot write %s: %s" % (a.folder, e.strerror or e))
    sys.stderr.write("ikev2-trace: " + wskeys.WARNING % a.folder + "\n")
    return paths


COMMANDS = {"render": cmd_render, "keys": cmd_keys}


def main(argv=None):
    a = parser().parse_args(argv)
    try:
        for path in COMMANDS[a.cmd](a):
            print(path)
    except TraceError as e:
        sys.stderr.write("ikev2-trace: error: %s\n" % e)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
