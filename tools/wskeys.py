# Wireshark's decryption tables from a trace recorded with key export on
# (ikev2.trace.Trace(keys=True)): the very files strongSwan's save-keys
# plugin writes, in a folder that can serve as a Wireshark configuration
# folder of its own:
#
#   DIR/ikev2_decryption_table  SPIi,SPIr,SK_ei,SK_er,"encr",SK_ai,SK_ar,"integ"
#   DIR/esp_sa                  "IPv4","src","dst","0xSPI","encr","0xkey","integ","0xkey"
#   DIR/preferences             ESP decryption and ICV checks on
#
#   WIRESHARK_CONFIG_DIR=DIR tshark -r capture.pcap
#
# These files decrypt the whole session: they are written 0600 in a 0700
# folder, and the caller prints WARNING.
import os

IKE_TABLE = "ikev2_decryption_table"
ESP_TABLE = "esp_sa"
PREFS = "preferences"
WARNING = ("WARNING: %s holds this session's keys: with them and a capture "
           "anyone can read the tunnel's traffic. Keep it private and delete "
           "it when done.")

# Wireshark's own names (its UAT enumerations), as strongSwan's save-keys
# plugin maps them: (transform ID, key bits) -> name
_IKE_ENCR = {(12, 128): "AES-CBC-128 [RFC3602]", (12, 192): "AES-CBC-192 [RFC3602]",
             (12, 256): "AES-CBC-256 [RFC3602]",
             (20, 128): "AES-GCM-128 with 16 octet ICV [RFC5282]",
             (20, 192): "AES-GCM-192 with 16 octet ICV [RFC5282]",
             (20, 256): "AES-GCM-256 with 16 octet ICV [RFC5282]"}
_IKE_INTEG = {0: "NONE [RFC4306]", 12: "HMAC_SHA2_256_128 [RFC4868]"}
_ESP_ENCR = {12: "AES-CBC [RFC3602]", 20: "AES-GCM [RFC4106]"}
_ESP_INTEG = {0: "ANY 128 bit authentication [no checking]",
              12: "HMAC-SHA-256-128 [RFC4868]"}


class KeyExportError(Exception):
    pass


def _name(table, key, what):
    try:
        return table[key]
    except KeyError:
        raise KeyExportError("no Wireshark name for %s %r" % (what, key))


def ike_lines(keys):
    out = []
    for k in keys:
        if k.get("sa") != "ike":
            continue
        enc = _name(_IKE_ENCR, (k["encr"], k["keylen"]), "IKE encryption")
        integ = _name(_IKE_INTEG, k["integ"], "IKE integrity")
        out.append('%s,%s,%s,%s,"%s",%s,%s,"%s"' % (
            k["spi_i"], k["spi_r"], k["sk_ei"], k["sk_er"], enc,
            k["sk_ai"], k["sk_ar"], integ))
    return out


def esp_lines(keys, meta):
    # one line per direction; an address the device did not know is "*"
    ours = meta.get("initiator") or "*"
    gw = meta.get("responder") or "*"
    out = []
    for k in keys:
        if k.get("sa") != "esp":
            continue
        enc = _name(_ESP_ENCR, k["encr"], "ESP encryption")
        integ = _name(_ESP_INTEG, k["integ"], "ESP integrity")
        for src, dst, spi, ek, ak in (
                (ours, gw, k["spi_out"], k["k_out"], k.get("a_out", "")),
                (gw, ours, k["spi_in"], k["k_in"], k.get("a_in", ""))):
            out.append('"IPv4","%s","%s","0x%s","%s","0x%s","%s","0x%s"' % (
                src, dst, spi, enc, ek, integ, ak))
    return out


def _private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def write(data, folder):
    # the three files from a trace's data (dict); -> their paths.
    # KeyExportError when the trace has no keys or an algorithm Wireshark lacks.
    keys = data.get("keys")
    if not keys:
        raise KeyExportError("the trace has no keys: record it with key export on")
    ike = ike_lines(keys)
    esp = esp_lines(keys, data.get("meta") or {})
    os.makedirs(folder, mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    paths = []
    for name, lines in ((IKE_TABLE, ike), (ESP_TABLE, esp),
                        (PREFS, ["esp.enable_encryption_decode: TRUE",
                                  "esp.enable_authentication_check: TRUE"])):
        p = os.path.join(folder, name)
        _private(p, "".join(x + "\n" for x in lines))
        paths.append(p)
    return paths
