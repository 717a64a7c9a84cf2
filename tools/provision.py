# ikev2-provision: a new device identity, its files, and the gateway's side.
#
#   ikev2-provision --id sensor-01.example.org --gateway 203.0.113.10 \
#       --gateway-id vpn.example.org --telemetry 10.1.0.5:5140 \
#       --remote-ts 10.1.0.0/24 --out devices/sensor-01
#
# writes into --out (which must not exist yet, unless --force):
#   config.json      the device's settings (no secret in it)
#   secrets.json     the PSK (and the Wi-Fi password), mode 0600
#   swanctl.conf     the gateway's connection and secret for this device,
#                    to put in /etc/swanctl/conf.d/ (mode 0600: it holds the
#                    PSK) and load with `swanctl --load-all`
# The PSK is 32 random bytes (256 bits) unless --psk-file gives one, which
# must be strong.  With --pki DIR (a PKI made by ikev2-pki, holding
# devices/ID/) the device authenticates with its certificate instead: its
# cert.pem, key.pem (mode 0600) and ca.pem are copied into --out, the
# config names them, secrets.json holds no PSK, and swanctl.conf is the
# certificate connection for this device.  Every value is checked by the library's own config check
# and the application's, before anything is written: a bad proposal, an
# unknown key, a weak PSK stop with a one-line error and exit status 2.
import argparse
import base64
import ipaddress
import json
import math
import os
import re
import secrets
import shutil
import sys

from . import ROOT, LIB

sys.path[:0] = [LIB, os.path.join(ROOT, "firmware")]

MIN_PSK_CHARS = 20
MIN_PSK_BITS = 112  # RFC 8247: at least the strength of the weakest key


class ProvisionError(Exception):
    pass


def psk_strength(psk):
    # -> estimated bits: length times log2 of the alphabet its character
    # classes span, and less for a few distinct characters repeated
    classes = [(r"[a-z]", 26), (r"[A-Z]", 26), (r"[0-9]", 10), (r"[^a-zA-Z0-9]", 33)]
    alphabet = sum(n for rx, n in classes if re.search(rx, psk))
    distinct = len(set(psk))
    per_char = math.log2(max(2, min(alphabet, distinct * 2)))
    return len(psk) * per_char


def check_psk(psk):
    if len(psk) < MIN_PSK_CHARS:
        raise ProvisionError("the PSK is too short: %d characters, at least %d"
                             % (len(psk), MIN_PSK_CHARS))
    bits = psk_strength(psk)
    if bits < MIN_PSK_BITS:
        raise ProvisionError("the PSK is too weak: about %d bits, at least %d "
                             "(use a random one: leave out --psk-file)"
                             % (bits, MIN_PSK_BITS))
    return psk


def new_psk():
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def conn_name(device_id):
    return re.sub(r"[^A-Za-z0-9_-]", "-", device_id).strip("-") or "device"


def _settings(d, indent=0):
    # a dict as swanctl.conf text (sections and key = value)
    out = []
    pad = "    " * indent
    for k, v in d.items():
        if v is None:
            continue
        if isinstance(v, dict):
            out.append("%s%s {" % (pad, k))
            out += _settings(v, indent + 1)
            out.append("%s}" % pad)
        else:
            if isinstance(v, bool):
                v = "yes" if v else "no"
            elif isinstance(v, (list, tuple)):
                v = ",".join(v)
            out.append("%s%s = %s" % (pad, k, v))
    return out


def swanctl_snippet(a, psk, name):
    # the gateway's side: one connection for this device and its PSK.  The
    # proposals are the device's, in strongSwan's syntax (the same words).
    child = {"local_ts": ",".join(a.remote_ts), "esp_proposals": a.esp,
             "rekey_time": "%ds" % a.rekey_time, "dpd_action": "clear"}
    conn = {"version": 2, "proposals": a.ike, "pools": a.pool,
            "dpd_delay": "%ds" % a.dpd_delay, "send_certreq": False,
            "local": {"auth": "psk", "id": a.gateway_id},
            "remote": {"auth": "psk", "id": a.id},
            "children": {name: child}}
    top = {"connections": {name: conn},
           "secrets": {"ike-" + name: {"id-device": a.id, "id-gateway": a.gateway_id,
                                       # hex: swanctl reads 0x.. and 0s.. specially
                                       "secret": "0x" + psk.encode().hex()}}}
    head = ["# strongSwan swanctl.conf for device %s, made by ikev2-provision." % a.id,
            "# Holds the device's PSK: keep it mode 0600.  Install it with",
            "#   install -m 600 swanctl.conf /etc/swanctl/conf.d/%s.conf" % name,
            "#   swanctl --load-all"]
    if a.pool:
        head.append("# The pool %r must be defined in your swanctl.conf (pools { %s "
                    "{ addrs = ... } })." % (a.pool, a.pool))
    return "\n".join(head + _settings(top)) + "\n"


def device_config(a):
    cfg = {"gateway": a.gateway, "local_id": a.id, "remote_id": a.gateway_id,
           "ike": a.ike, "esp": a.esp, "remote_ts": a.remote_ts,
           "virtual_ip": bool(a.pool), "rekey_time": float(a.rekey_time),
           "dpd_delay": float(a.dpd_delay), "telemetry": a.telemetry,
           "interval": a.interval}
    if a.wifi_ssid:
        cfg["wifi_ssid"] = a.wifi_ssid
    for kv in a.set or ():
        k, eq, v = kv.partition("=")
        if not eq or not k:
            raise ProvisionError("--set expects KEY=VALUE, got %r" % kv)
        try:
            cfg[k] = json.loads(v)
        except ValueError:
            cfg[k] = v
    return cfg


def check(cfg, sec, tmp):
    # the device's own checks, run here: the library's Config (unknown keys,
    # proposals, IDs, selectors) and the application's (its keys, types)
    import app
    from ikev2.config import Config
    from ikev2.errors import ConfigError

    cp, sp = os.path.join(tmp, "config.json"), os.path.join(tmp, "secrets.json")
    _write(cp, cfg)
    _write(sp, sec, 0o600)
    try:
        _, tunnel = app.load(cp, sp)
        for k in CRED_FILES:  # relative to the device's root, here tmp
            if k in tunnel:
                tunnel[k] = os.path.join(tmp, tunnel[k])
        Config(tunnel)
    except app.AppError as e:
        raise ProvisionError(str(e).replace(tmp + os.sep, ""))
    except ConfigError as e:
        raise ProvisionError("config: %s" % e)


def _write(path, obj, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with open(fd, "w") as f:
        if isinstance(obj, str):
            f.write(obj)
        else:
            json.dump(obj, f, indent=1)
            f.write("\n")
    os.chmod(path, mode)


CRED_FILES = {"cert": "cert.pem", "private_key": "key.pem", "ca_cert": "ca.pem"}


def _pki_files(a):
    # -> {config key: source path} of the device's certificate, key and CA
    from . import pki

    d = pki.device_dir(a.pki, a.id)
    src = {"cert": os.path.join(d, "cert.pem"), "private_key": os.path.join(d, "key.pem"),
           "ca_cert": os.path.join(d, "ca.pem")}
    for p in src.values():
        if not os.path.exists(p):
            raise ProvisionError("%s is missing: make it with `ikev2-pki device %s "
                                 "--id %s`" % (p, a.pki, a.id))
    return src


def provision(a):
    # -> the output directory; nothing is written unless everything checks
    if a.pki:
        if a.psk_file:
            raise ProvisionError("--pki and --psk-file: a device uses one or "
                                 "the other")
        creds = _pki_files(a)
        psk = None
    elif a.psk_file:
        try:
            with open(a.psk_file) as f:
                psk = f.read().strip()
        except OSError as e:
            raise ProvisionError("cannot read --psk-file: %s" % e)
        check_psk(psk)
    else:
        psk = new_psk()
    try:
        ipaddress.ip_address(a.gateway)
    except ValueError:
        if not re.match(r"^[A-Za-z0-9.-]+$", a.gateway):
            raise ProvisionError("--gateway: not an address or host name: %r"
                                 % a.gateway)
    sec = {"psk": psk} if psk else {}
    if a.wifi_password_file:
        try:
            with open(a.wifi_password_file) as f:
                sec["wifi_password"] = f.read().strip()
        except OSError as e:
            raise ProvisionError("cannot read --wifi-password-file: %s" % e)
    cfg = device_config(a)
    if a.pki:
        cfg.update(CRED_FILES)
    out = a.out
    if os.path.exists(out) and not a.force:
        raise ProvisionError("%s exists: it may hold a device's only copy of its "
                             "secrets; choose another --out or add --force" % out)
    tmp = out.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp, mode=0o700)
    try:
        name = conn_name(a.id)
        if a.pki:
            from . import pki

            for k, src in creds.items():
                shutil.copy(src, os.path.join(tmp, CRED_FILES[k]))
            os.chmod(os.path.join(tmp, "key.pem"), 0o600)
            try:
                conf = pki.swanctl_text(a.pki, a.gateway_id, a.pool, a.remote_ts,
                                        ike=a.ike, esp=a.esp, devices=[a.id])
            except pki.PkiError as e:
                raise ProvisionError("--pki: %s" % e)
        else:
            conf = swanctl_snippet(a, psk, name)
        check(cfg, sec, tmp)
        _write(os.path.join(tmp, "swanctl.conf"), conf, 0o600)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.rename(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def parser():
    ap = argparse.ArgumentParser(
        prog="ikev2-provision",
        description="make a device identity (ID and PSK), its config.json and "
        "secrets.json, and the matching strongSwan swanctl.conf")
    ap.add_argument("--id", required=True, help="the device's IKE identity "
                    "(FQDN, user@domain or IPv4 address)")
    ap.add_argument("--gateway", required=True, help="the gateway's address")
    ap.add_argument("--gateway-id", required=True, help="the gateway's IKE identity")
    ap.add_argument("--telemetry", required=True,
                    help="HOST:PORT of the collector, inside the tunnel")
    ap.add_argument("--remote-ts", action="append", metavar="CIDR",
                    help="a network behind the gateway the device may reach "
                    "(repeat for more; default 0.0.0.0/0)")
    ap.add_argument("--ike", default="aes128-sha256-x25519",
                    help="IKE proposal (default %(default)s)")
    ap.add_argument("--esp", default="aes128-sha256",
                    help="ESP proposal (default %(default)s)")
    ap.add_argument("--pool", help="the gateway's virtual IP pool name "
                    "(the device then asks for an address)")
    ap.add_argument("--rekey-time", type=int, default=3600,
                    help="Child SA rekey, seconds (default %(default)s)")
    ap.add_argument("--dpd-delay", type=int, default=60,
                    help="liveness checks, seconds (default %(default)s)")
    ap.add_argument("--interval", type=float, default=10.0,
                    help="seconds between readings (default %(default)s)")
    ap.add_argument("--wifi-ssid", help="the Wi-Fi network")
    ap.add_argument("--wifi-password-file", help="a file holding the Wi-Fi password")
    ap.add_argument("--psk-file", help="use this PSK instead of a random one "
                    "(checked: at least %d characters, about %d bits)"
                    % (MIN_PSK_CHARS, MIN_PSK_BITS))
    ap.add_argument("--pki", metavar="DIR", help="authenticate with a "
                    "certificate from this ikev2-pki directory (DIR/devices/ID) "
                    "instead of a PSK")
    ap.add_argument("--set", action="append", metavar="KEY=VALUE",
                    help="any other device config key (JSON value)")
    ap.add_argument("--out", help="output directory (default devices/ID)")
    ap.add_argument("--force", action="store_true",
                    help="replace an existing output directory")
    return ap


def main(argv=None):
    a = parser().parse_args(argv)
    a.remote_ts = a.remote_ts or ["0.0.0.0/0"]
    a.out = a.out or os.path.join("devices", conn_name(a.id))
    try:
        out = provision(a)
    except ProvisionError as e:
        print("ikev2-provision: error: %s" % e, file=sys.stderr)
        return 2
    print("ikev2-provision: device %s" % a.id)
    files = [("config.json", "device settings"),
             ("secrets.json", "the Wi-Fi password, mode 0600" if a.pki
              else "the PSK, mode 0600"),
             ("swanctl.conf", "for the gateway, mode 0600")]
    if a.pki:
        files[1:1] = [("cert.pem", "the device's certificate"),
                      ("key.pem", "its private key, mode 0600"),
                      ("ca.pem", "the CA that signs the gateway's certificate")]
    for f, what in files:
        print("  %-34s %s" % (os.path.join(out, f), what))
    print("next: copy swanctl.conf to the gateway's /etc/swanctl/conf.d/, run "
          "`swanctl --load-all`, then `make deploy PORT=... DEVICE=%s`" % out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
