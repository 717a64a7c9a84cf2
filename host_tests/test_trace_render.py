# The trace renderer (tools/trace.py) and its IANA names (tools/ikenames.py),
# on CPython without a browser: labels and fields, the HTML page's
# self-containment and escaping, the keys only when exported, the SVG (well
# formed, ESP runs collapsed), loading errors and the command line.
#
# vectors/trace/sample.json: the field-level trace (tracefmt.expand) of a
# session with a real strongSwan gateway (IKE_SA_INIT, IKE_AUTH with a
# virtual IP, 3 pings, INFORMATIONAL Delete), without its keys.
import copy
import io
import json
import os
import re
import xml.etree.ElementTree as ET

import pytest

from harness import Rng, backends
from responder import Responder
from test_session import GW, cfg, pump
from ikev2 import const as C
from ikev2.session import Session, ESTABLISHED
from ikev2.trace import Trace
from tools import ikenames as N
from tools import trace

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "vectors", "trace", "sample.json")
HOSTILE = "</script><img src=x onerror=alert(1)>"
KEY = "00112233445566778899aabbccddeeff"  # a made-up key


@pytest.fixture
def sample():
    with open(SAMPLE) as f:
        return json.load(f)


def with_keys(data):
    d = copy.deepcopy(data)
    d["keys"] = [{"sa": "ike", "t": 7, "spi_i": "11" * 8, "spi_r": "22" * 8,
                  "encr": 12, "keylen": 128, "integ": 12, "sk_ei": KEY,
                  "sk_er": KEY, "sk_ai": KEY * 2, "sk_ar": KEY * 2},
                 {"sa": "esp", "t": 12, "spi_in": "33" * 4, "spi_out": "44" * 4,
                  "encr": 20, "keylen": 256, "integ": 0,
                  "k_out": KEY + "01020304", "k_in": KEY + "05060708"}]
    return d


def ike(t, dir, ex, mid, pl, response=False, sk=True):
    return {"k": "ike", "t": t, "dir": dir, "ex": ex, "mid": mid,
            "flags": C.FLAG_RESPONSE if response else C.FLAG_INITIATOR,
            "spi_i": "ab" * 8, "spi_r": "cd" * 8, "len": 100, "sk": sk,
            "pl": pl}


def esp(t, dir, seq):
    return {"k": "esp", "t": t, "dir": dir, "spi": "c0ffee00", "seq": seq,
            "len": 120, "ip": [17, "10.99.0.1", "198.51.100.2", 40, 5140, 5140]}


def traced(records, **top):
    d = {"trace": 2, "lost": 0, "limit": 0,
         "meta": {"initiator": None, "responder": "192.0.2.1"},
         "records": records}
    d.update(top)
    return d


def script(page, ident):
    # the text of <script ... id="ident">
    m = re.search(r'<script type="application/json" id="%s">(.*?)</script>'
                  % ident, page, re.S)
    return m.group(1)


def details_text(v):
    return "\n".join("%s %s" % (k, x) for s in v["details"] for k, x in s["rows"])


# ------------------------------------------------------------ names

def test_names():
    assert N.exchange(C.IKE_SA_INIT) == "IKE_SA_INIT"
    assert N.exchange(37) == "INFORMATIONAL"
    assert N.exchange(43) == "IKE_INTERMEDIATE"
    assert N.exchange(99) == "UNKNOWN(99)"
    assert N.exchange(250) == "PRIVATE(250)"
    assert N.notify(C.N_NAT_DETECTION_SOURCE_IP) == "NAT_DETECTION_SOURCE_IP"
    assert N.notify(16396) == "MOBIKE_SUPPORTED"
    assert N.notify(16404) == "MULTIPLE_AUTH_SUPPORTED"
    assert N.notify(16418) == "CHILDLESS_IKEV2_SUPPORTED"
    assert N.notify(14) == "NO_PROPOSAL_CHOSEN" and N.notify_kind(14) == "error"
    assert N.notify(9000) == "PRIVATE_ERROR(9000)"
    assert N.notify(16383) == "PRIVATE_ERROR(16383)"
    assert N.notify(20000) == "UNKNOWN(20000)"
    assert N.transform(1, 12, 128) == "ENCR AES_CBC (128-bit)"
    assert N.transform(1, 20, 256) == "ENCR AES_GCM_16 (256-bit)"
    assert N.transform(1, 28) == "ENCR CHACHA20_POLY1305"
    assert N.transform(2, 5) == "PRF HMAC_SHA2_256"
    assert N.transform(3, 12) == "INTEG HMAC_SHA2_256_128"
    assert N.transform(4, 31) == "D-H Curve25519"
    assert N.transform(4, 19) == "D-H ECP256"
    assert N.transform(5, 0) == "ESN No"
    assert N.transform(3, 2000) == "INTEG PRIVATE(2000)"
    assert N.payload(C.PT_NONCE, response=False) == "Ni"
    assert N.payload(C.PT_NONCE, response=True) == "Nr"
    assert N.payload(C.PT_SKF) == "SKF" and N.payload(99) == "UNKNOWN(99)"
    assert N.cfg_attr(13) == "INTERNAL_IP4_SUBNET"
    assert N.cfg_attr(25) == "INTERNAL_DNS_DOMAIN"
    assert N.auth_method(14) == "DIGITAL_SIGNATURE"
    assert N.id_type(13) == "ID_NULL" and N.ts_type(8) == "TS_IPV6_ADDR_RANGE"


def test_names_agree_with_const():
    # the numbers the library names itself (const.py) name the same here
    for name, n in vars(C).items():
        if name.startswith("N_"):
            assert N.notify(n) == name[2:]
        elif name.startswith(("ID_", "TS_")):
            assert name in (N.id_type(n), N.ts_type(n))
    for ex in ("IKE_SA_INIT", "IKE_AUTH", "CREATE_CHILD_SA", "INFORMATIONAL"):
        assert N.exchange(getattr(C, ex)) == ex
    assert N.cfg_type(C.CFG_REPLY) == "CFG_REPLY"
    assert N.cfg_attr(C.CFG_INTERNAL_IP6_DNS) == "INTERNAL_IP6_DNS"
    assert N.transform_id(C.TRANS_ENCR, C.ENCR_AES_GCM_16) == "AES_GCM_16"
    assert N.transform_id(C.TRANS_PRF, C.PRF_HMAC_SHA2_256) == "HMAC_SHA2_256"
    assert N.transform_id(C.TRANS_DH, C.DH_MODP2048) == "MODP2048"
    assert N.auth_method(C.AUTH_SHARED_KEY) == "SHARED_KEY"


# ------------------------------------------------------------ labels, fields

def test_summary_labels(sample):
    lines = trace.summary(sample)
    assert len(lines) == len(sample["records"])
    assert lines[0].endswith(
        "-> IKE_SA_INIT request #0  SA, KE, Ni, N(NAT_DETECTION_SOURCE_IP), "
        "N(NAT_DETECTION_DESTINATION_IP), N(IKEV2_FRAGMENTATION_SUPPORTED)  "
        "216 B")
    assert "<- IKE_SA_INIT response #0  SA, KE, Nr, " in lines[1]
    assert "N(CHILDLESS_IKEV2_SUPPORTED), N(MULTIPLE_AUTH_SUPPORTED)" in lines[1]
    assert lines[2].endswith(
        "-> IKE_AUTH request #1  SK { IDi, N(INITIAL_CONTACT), IDr, AUTH, "
        "CP(CFG_REQUEST), SA, TSi, TSr }  260 B")
    assert "<- IKE_AUTH response #1  SK { IDr, AUTH, CP(CFG_REPLY), SA, TSi, " \
        "TSr }" in lines[3]
    assert "== Tunnel up in" in lines[4] and "virtual IP 10.99.0.1" in lines[4]
    assert re.search(r"-> ESP SPI 0x[0-9a-f]{8} seq 1 \u00b7 ICMP echo request "
                     r"10\.99\.0\.1 \u2192 198\.51\.100\.2 \(84 B\)  136 B$",
                     lines[5])
    assert "-> INFORMATIONAL request #2  SK { D }" in lines[-3]
    assert "<- INFORMATIONAL response #2  SK { }" in lines[-2]
    assert lines[-1].endswith("== Tunnel down: closed by us")


def test_ike_fields(sample):
    v = trace.describe(trace.expand(sample)["records"][2], 2)
    assert v["title"] == "IKE_AUTH request" and v["dir"] == "out"
    text = details_text(v)
    for want in ("Exchange IKE_AUTH (35)", "Initiator flag set",
                 "Message ID 1", "Encrypted yes", "Type ID_FQDN",
                 "Identity device.lab", "Identity gw.lab",
                 "Method SHARED_KEY (2)", "INTERNAL_IP4_ADDRESS (empty)",
                 "Transform ENCR AES_CBC (128-bit)",
                 "Transform INTEG HMAC_SHA2_256_128", "Transform ESN No",
                 "Selector TS_IPV4_ADDR_RANGE, ports 0 to 65535, "
                 "198.51.100.0 to 198.51.100.255"):
        assert want in text, want
    init = details_text(trace.describe(sample["records"][0]))
    for want in ("Transform PRF HMAC_SHA2_256", "Transform D-H Curve25519",
                 "Group Curve25519 (31)", "Data 32 bytes",
                 "Type NAT_DETECTION_SOURCE_IP (16388, status)"):
        assert want in init, want
    reply = details_text(trace.describe(sample["records"][3]))
    assert "INTERNAL_IP4_ADDRESS 10.99.0.1" in reply
    assert "INTERNAL_IP4_DNS 198.51.100.53" in reply
    ping = details_text(trace.describe(sample["records"][5]))
    assert "Sequence number 1" in ping
    assert "ICMP echo request (type 8), sequence 1" in ping


def test_other_records():
    d = traced([
        ike(1, "out", C.CREATE_CHILD_SA, 3, [
            {"type": C.PT_NOTIFY, "ntype": 16393, "proto": 3,
             "spi": "c0ffee00", "len": 0},
            {"type": C.PT_CP, "cfg_type": 2, "attrs": [
                [13, "0a630000ffffff00"], [8, "20010db8" + "00" * 11 + "01" + "40"]]},
            {"type": C.PT_DELETE, "proto": 3, "spis": ["c0ffee00"]},
            {"type": C.PT_VENDOR, "len": 40, "data": "ab" * 32}]),
        {"k": "retx", "t": 2, "dir": "out", "ex": 36, "mid": 3, "n": 2,
         "len": 300},
        {"k": "retx", "t": 3, "dir": "in", "ex": 37, "mid": 5, "n": 0,
         "len": 80},
        {"k": "drop", "t": 4, "dir": "in", "what": "esp",
         "why": "an unknown SPI 01020304"},
        {"k": "keepalive", "t": 5, "dir": "out"},
        {"k": "ev", "t": 6, "what": "rekeyed", "v": ["c0ffee01", False]},
        {"k": "ev", "t": 7, "what": "error", "v": "timeout"},
        {"k": "future", "t": 8, "x": 1},
        {"k": "esp", "t": 9, "dir": "in"},           # fields missing
    ])
    lines = trace.summary(d)
    assert "-> CREATE_CHILD_SA request #3  retransmission #2  300 B" in lines[1]
    assert "<- INFORMATIONAL request #5  repeated by the responder" in lines[2]
    assert "x- ESP dropped: an unknown SPI 01020304" in lines[3]
    assert "-> NAT keepalive" in lines[4]
    assert "Child SA rekeyed by the gateway: new inbound SPI 0xc0ffee01" \
        in lines[5]
    assert lines[6].endswith("== Error: timeout")
    assert "Record \u201cfuture\u201d" in lines[7]
    assert "Unreadable esp record" in lines[8]
    views = trace.view(d)["rows"]
    assert views[6]["cls"] == "ev error"
    text = details_text(views[0])
    for want in ("Type REKEY_SA (16393, status)", "SPI 0xc0ffee00",
                 "INTERNAL_IP4_SUBNET 10.99.0.0/255.255.255.0",
                 "INTERNAL_IP6_ADDRESS 2001:db8::1/64", "SPIs 0xc0ffee00",
                 "Vendor ID " + "ab" * 32 + "\u2026", "Length 40 bytes"):
        assert want in text, want


# ------------------------------------------------------------ HTML

def test_html_is_self_contained(sample):
    page = trace.render_html(sample)
    assert page.startswith("<!DOCTYPE html>")
    assert re.search(r"<title>[^<]*IKEv2[^<]*</title>", page)
    assert 'id="diagram"' in page and 'id="details"' in page
    assert "data-idx" in page and "data-kind" in page  # set by the script
    assert not re.search(r"https?:|//[a-z]", page, re.I)
    assert not re.search(r"<(link|img|iframe|object)\b|\bsrc=|@import|url\(",
                         page, re.I)
    assert page.isascii()
    # the trace, as given, and the rows the script draws, as JSON
    assert json.loads(script(page, "trace-data")) == sample
    view = json.loads(script(page, "trace-view"))
    assert [r["i"] for r in view["rows"]] == list(range(len(sample["records"])))
    assert view["rows"][2]["title"] == "IKE_AUTH request"
    assert view["initiator"] == "this device"
    assert view["responder"] == "gateway 192.0.2.1"
    assert "lost" in view and view["lost"] == 0


def test_html_escapes_hostile_strings():
    d = traced([ike(1, "out", 35, 1, [{"type": C.PT_IDI, "id_type": 2,
                                        "id": HOSTILE + " %VIEW% %DATA%"}]),
                {"k": "drop", "t": 2, "dir": "in", "what": "ike",
                 "why": HOSTILE},
                {"k": "ev", "t": 3, "what": "error", "v": HOSTILE}],
               meta={"initiator": HOSTILE, "responder": "<b>&amp;"})
    page = trace.render_html(d, title=HOSTILE)
    assert HOSTILE not in page
    assert "<img" not in page and "<b>" not in page
    # every "</script" closes one of the page's three script elements
    assert page.count("</script") == page.count("<script") == 3
    # and the data is all there, as text, once decoded
    view = json.loads(script(page, "trace-view"))
    assert view["title"] == HOSTILE
    assert HOSTILE in details_text(view["rows"][0])
    assert view["rows"][1]["text"] == HOSTILE
    assert json.loads(script(page, "trace-data")) == d
    # the script builds the DOM with textContent only
    code = page[page.rindex("<script>"):]
    assert "innerHTML" not in code and "insertAdjacentHTML" not in code
    assert "document.write" not in code and "eval(" not in code


def test_lost_records(sample):
    d = dict(sample, lost=5, limit=32)
    view = json.loads(script(trace.render_html(d), "trace-view"))
    assert view["lost"] == 5
    assert view["lost_text"] == \
        "5 earlier records were dropped by the device's ring buffer"
    svg = trace.render_svg(d)
    assert "5 earlier records were dropped by the device&#x27;s ring buffer" \
        in svg


def test_keys_only_when_exported(sample):
    for data in (sample, dict(sample, keys=[])):
        page = trace.render_html(data)
        assert "keys" not in json.loads(script(page, "trace-view"))
        assert "sk_ei" not in page and KEY not in page
        assert KEY not in trace.render_svg(data)
    page = trace.render_html(with_keys(sample))
    view = json.loads(script(page, "trace-view"))
    assert [s["h"] for s in view["keys"]] == [
        "IKE SA 0x" + "11" * 8 + " / 0x" + "22" * 8,
        "ESP SA in 0x33333333 / out 0x44444444"]
    rows = dict(r for s in view["keys"] for r in s["rows"])
    assert rows["SK_ei (encryption, initiator)"] == KEY
    assert rows["Key and salt, outbound"] == KEY + "01020304"
    assert rows["Encryption"] == "ENCR AES_GCM_16 (256-bit)"
    assert "Sensitive: session keys, exported on request" in page
    assert KEY not in trace.render_svg(with_keys(sample))


# ------------------------------------------------------------ SVG

def test_svg(sample):
    svg = trace.render_svg(sample)
    root = ET.fromstring(svg.encode())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert 900 <= int(root.get("width")) <= 1000
    text = " ".join("".join(t.itertext()) for t in root.iter()
                    if t.tag.endswith("text"))
    for want in ("Initiator", "Responder", "gateway 192.0.2.1",
                 "IKE_SA_INIT request", "IKE_AUTH response",
                 "INFORMATIONAL request", "Tunnel down", "ICMP echo reply"):
        assert want in text, want
    assert "<script" not in svg and "href" not in svg
    assert svg.count("http") == 1  # the SVG namespace


def test_svg_escapes_hostile_strings():
    d = traced([{"k": "drop", "t": 1, "dir": "in", "what": "ike",
                 "why": HOSTILE + "\x00\x1b & \"'"}],
               meta={"initiator": HOSTILE, "responder": "x"})
    svg = trace.render_svg(d)
    assert HOSTILE not in svg
    text = " ".join(ET.fromstring(svg.encode()).itertext())
    assert HOSTILE in text


def test_svg_collapses_esp_runs():
    handshake = [ike(1, "out", 34, 0, [{"type": C.PT_SA, "props": []}],
                     sk=False),
                 ike(2, "in", 34, 0, [], response=True, sk=False)]
    pings = [esp(10 + i, "out" if i % 3 else "in", i) for i in range(60)]
    d = traced(handshake + pings + [{"k": "ev", "t": 99, "what": "down",
                                     "v": "closed by us"}])
    rows = trace.collapse(trace.view(d)["rows"], max_rows=20)
    assert len(rows) == 20
    assert [r["k"] for r in rows[:2]] == ["ike", "ike"] and rows[-1]["k"] == "ev"
    more = [r for r in rows if r["k"] == "more"]
    assert len(more) == 1
    kept = sum(r["k"] == "esp" for r in rows)
    assert more[0]["text"] == "\u2026 %d more ESP packets (%d out, %d in)" % (
        60 - kept, sum(1 for p in pings[kept:] if p["dir"] == "out"),
        sum(1 for p in pings[kept:] if p["dir"] == "in"))
    svg = trace.render_svg(d, max_rows=20)
    ET.fromstring(svg.encode())
    assert "more ESP packets" in svg and "IKE_SA_INIT request" in svg
    # few enough rows: nothing collapsed
    assert "more ESP" not in trace.render_svg(d, max_rows=100)


# ------------------------------------------------------------ a saved trace

def test_a_trace_the_library_saved():
    # the saved form (lib/ikev2/trace.py's dump) of a handshake with the
    # test responder renders as it is
    tr = Trace()
    s = Session(cfg(), backends()[0], Rng(b"render"), GW, None)
    s.trace = tr
    s.connect(0)
    pump(s, Responder(backends()[0]))
    assert s.state == ESTABLISHED
    for kind, v in s.events:
        tr.event(9, kind, v)
    f = io.StringIO()
    tr.dump(f)
    data = json.loads(f.getvalue())
    assert data["trace"] == trace.VERSION
    assert not isinstance(data["records"][0], dict)  # not field-level yet
    lines = trace.summary(data)
    assert "-> IKE_SA_INIT request #0  SA, KE, Ni" in lines[0]
    assert "-> IKE_AUTH request #1  SK { IDi" in lines[2]
    assert "== Tunnel up" in lines[-1]
    page = trace.render_html(data)
    assert json.loads(script(page, "trace-data")) == data
    ET.fromstring(trace.render_svg(data).encode())


# ------------------------------------------------------------ loading, CLI

def test_load_errors(tmp_path):
    def error(text):
        p = tmp_path / "t.json"
        p.write_text(text)
        with pytest.raises(trace.TraceError) as e:
            trace.load(str(p))
        msg = str(e.value)
        assert "\n" not in msg and str(p) in msg
        return msg

    assert "is not JSON" in error("{not json")
    assert 'is not an IKEv2 trace (no "trace" key)' in error('{"a": 1}')
    assert "is not an IKEv2 trace" in error("[1, 2]")
    assert "trace version 7" in error('{"trace": 7, "records": []}')
    assert "records are not a list" in error('{"trace": 2, "records": {}}')
    assert "record" in error('{"trace": 2, "records": [["ike", 1]]}')
    with pytest.raises(trace.TraceError) as e:
        trace.load(str(tmp_path / "missing.json"))
    assert "cannot read" in str(e.value)


def test_main_renders(sample, tmp_path, capsys):
    src = tmp_path / "s.json"
    src.write_text(json.dumps(sample))
    svg = tmp_path / "s.svg"
    assert trace.main(["render", str(src), "--svg", str(svg)]) == 0
    html = tmp_path / "s.html"
    assert capsys.readouterr().out.split() == [str(html), str(svg)]
    assert "IKE_AUTH request" in html.read_text()
    ET.parse(str(svg))
    out = tmp_path / "other.html"
    assert trace.main(["render", str(src), "-o", str(out)]) == 0
    assert out.exists()


def test_main_errors(sample, tmp_path, capsys):
    assert trace.main(["render", str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ikev2-trace: error: cannot read ")
    assert err.count("\n") == 1 and "Traceback" not in err
    src = tmp_path / "s.json"
    src.write_text(json.dumps(sample))
    assert trace.main(["render", str(src), "-o", str(src)]) == 2
    assert "would overwrite the trace" in capsys.readouterr().err
    assert json.loads(src.read_text()) == sample


def test_readme_diagram_is_current():
    # vectors/trace/demo.svg, the README's picture, is what the renderer
    # draws today from vectors/trace/demo.json (a `make demo` session saved
    # by the device, keys removed); regenerate it with the command below
    src = os.path.join(HERE, "vectors", "trace", "demo.json")
    with open(os.path.join(HERE, "vectors", "trace", "demo.svg")) as f:
        want = f.read()
    got = trace.render_svg(trace.load(src), max_rows=16)
    assert got == want, ("out of date: .venv/bin/ikev2-trace render "
                         "host_tests/vectors/trace/demo.json -o /tmp/demo.html "
                         "--svg host_tests/vectors/trace/demo.svg --max-rows 16")
