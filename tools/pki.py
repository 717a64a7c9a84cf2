# ikev2-pki: a small test PKI for certificate authentication, and the
# gateway's swanctl.conf that uses it.
#
#   ikev2-pki all pki --gateway-id gw.lab --ip 192.0.2.1 --device device1.lab
#
# or step by step:
#   ikev2-pki ca pki [--key ecdsa|rsa2048|rsa3072] [--cn "Lab Root CA"] [--days N]
#       pki/ca.pem, pki/ca.key (0600)
#   ikev2-pki gateway pki --id gw.lab [--ip 192.0.2.1] [--key ...]
#             [--days N | --not-before ISO --not-after ISO] [--ca-dir OTHER]
#       pki/gateway.pem, pki/gateway.key (0600), signed by the CA in pki (or
#       in OTHER); subjectAltName = the id (dNSName, rfc822Name or iPAddress)
#       plus --ip; keyUsage digitalSignature; extendedKeyUsage serverAuth
#       unless --no-eku.  --not-before/--not-after make e.g. an expired one.
#   ikev2-pki device pki --id device1.lab [--key ...] [--days N]
#       pki/devices/device1.lab/cert.pem, key.pem (0600; unencrypted SEC1
#       "EC PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY" PEM: what the device
#       reads) and ca.pem (the CA certificate, to check the gateway's)
#   ikev2-pki swanctl pki [--gateway-id gw.lab] [--pool labpool]
#             [--remote-ts 198.51.100.0/24] [--device-auth pubkey|psk
#             --psk-file F] [--ike ...] [--esp ...]
#       pki/swanctl.conf: one connection per device in pki/devices; the
#       gateway proves itself with gateway.pem, the device with its
#       certificate (or with the PSK in --psk-file: --device-auth psk)
#
# ECDSA keys are P-256, RSA keys 2048 or 3072 bits; every signature is
# SHA-256 (RSA: PKCS#1 v1.5).  Errors are one line on stderr and exit
# status 2; nothing that exists is replaced without --force.
#
# Note on the gateway's private key: swanctl loads private keys only from
# its own directories (/etc/swanctl/private, ecdsa, rsa, pkcs8; the
# SWANCTL_DIR), never from a path in swanctl.conf.  A `secrets { private-x
# { file = ... } }` section only gives the passphrase of an encrypted key
# in that directory (file is its name there; swanctl.conf(5), and
# load_creds.c compares it with the name relative to the directory), so
# the generated file does not carry one: its header says where to copy
# gateway.key.  Certificates can be named by absolute path (certs, cacerts).
import argparse
import datetime
import ipaddress
import os
import re
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEY_TYPES = ("ecdsa", "rsa2048", "rsa3072")
CA_DAYS = 3650
LEAF_DAYS = 825
SKEW = datetime.timedelta(minutes=5)   # not_before this much in the past
DEFAULT_REMOTE_TS = ("198.51.100.0/24",)
DEFAULT_IKE = "aes128-sha256-x25519"
DEFAULT_ESP = "aes128-sha256"
MIN_PSK_CHARS = 20


class PkiError(Exception):
    pass


# -------------------------------------------------------------- helpers

def check_key_type(kind):
    if kind not in KEY_TYPES:
        raise PkiError("--key: unknown key type %r (choose %s)"
                       % (kind, ", ".join(KEY_TYPES)))
    return kind


def new_key(kind="ecdsa"):
    check_key_type(kind)
    if kind == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))


def key_pem(key):
    # unencrypted SEC1 ("EC PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY")
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path, data, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with open(fd, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)
    return path


def _check_free(paths, force):
    if force:
        return
    for p in paths:
        if os.path.exists(p):
            raise PkiError("%s exists: add --force to replace it" % p)


def _read(path, what):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise PkiError("cannot read %s %s: %s" % (what, path, e.strerror or e))


def load_cert(path, what="certificate"):
    try:
        return x509.load_pem_x509_certificate(_read(path, what))
    except ValueError as e:
        raise PkiError("%s: not a PEM certificate (%s)" % (path, e))


def load_ca(ca_dir):
    """-> (certificate, private key) of the CA in ca_dir"""
    pem, key = os.path.join(ca_dir, "ca.pem"), os.path.join(ca_dir, "ca.key")
    if not os.path.exists(pem) or not os.path.exists(key):
        raise PkiError("no CA in %s (ca.pem, ca.key): run `ikev2-pki ca %s` first"
                       % (ca_dir, ca_dir))
    cert = load_cert(pem, "CA certificate")
    try:
        k = serialization.load_pem_private_key(_read(key, "CA key"), password=None)
    except (ValueError, TypeError) as e:
        raise PkiError("%s: not an unencrypted PEM private key (%s)" % (key, e))
    if k.public_key().public_numbers() != cert.public_key().public_numbers():
        raise PkiError("%s does not belong to %s" % (key, pem))
    return cert, k


def _utc(when, what):
    if when is None or isinstance(when, datetime.datetime):
        d = when
    else:
        try:
            d = datetime.datetime.fromisoformat(str(when))
        except ValueError:
            raise PkiError("%s: not an ISO date/time: %r (e.g. 2024-01-31 or "
                           "2024-01-31T12:00:00Z)" % (what, when))
    if d is not None and d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return d


def validity(days=None, not_before=None, not_after=None, default_days=LEAF_DAYS):
    """-> (not_before, not_after), aware UTC datetimes.  days and the two
    dates exclude each other; a missing date follows from the other and the
    default length; not_before defaults to now minus a few minutes."""
    if days is not None and (not_before is not None or not_after is not None):
        raise PkiError("give --days or --not-before/--not-after, not both")
    nb = _utc(not_before, "--not-before")
    na = _utc(not_after, "--not-after")
    if days is not None and int(days) < 1:
        raise PkiError("--days must be at least 1, got %s" % days)
    try:
        length = datetime.timedelta(days=default_days if days is None else int(days))
        if nb is None and na is None:
            nb = datetime.datetime.now(datetime.timezone.utc) - SKEW
            na = nb + SKEW + length
        elif nb is None:
            nb = min(datetime.datetime.now(datetime.timezone.utc) - SKEW, na - length)
        elif na is None:
            na = nb + length
    except (OverflowError, ValueError) as e:
        raise PkiError("bad validity: %s" % e)
    if na <= nb:
        raise PkiError("bad validity: not-after %s is not after not-before %s"
                       % (na.isoformat(), nb.isoformat()))
    if nb.year < 1950 or na.year > 9999:
        raise PkiError("bad validity: %s .. %s is out of range"
                       % (nb.isoformat(), na.isoformat()))
    return nb, na


def id_kind(ident):
    """'ip', 'email' or 'fqdn' for an IKE identity; PkiError otherwise."""
    try:
        ipaddress.ip_address(ident)
        return "ip"
    except ValueError:
        pass
    if re.match(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$", ident):
        return "email"
    if re.match(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*"
                r"[A-Za-z0-9])?)*$", ident or ""):
        return "fqdn"
    raise PkiError("--id: %r is not a host name, user@domain or IP address" % ident)


def san_names(ident, ip=None):
    kind = id_kind(ident)
    names = []
    if kind == "ip":
        names.append(x509.IPAddress(ipaddress.ip_address(ident)))
    elif kind == "email":
        names.append(x509.RFC822Name(ident))
    else:
        names.append(x509.DNSName(ident))
    if ip is not None:
        try:
            a = ipaddress.ip_address(ip)
        except ValueError:
            raise PkiError("--ip: not an IP address: %r" % ip)
        if x509.IPAddress(a) not in names:
            names.append(x509.IPAddress(a))
    return names


def cert_ids(cert):
    """The identities a certificate's subjectAltName carries (strings)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return ([str(v) for v in san.get_values_for_type(x509.DNSName)]
            + [str(v) for v in san.get_values_for_type(x509.RFC822Name)]
            + [str(v) for v in san.get_values_for_type(x509.IPAddress)])


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _sign_alg(key):
    return hashes.SHA256()    # ECDSA-with-SHA256 or sha256WithRSAEncryption


def _leaf(ca_cert, ca_key, key, ident, ip, nb, na, eku):
    pub = key.public_key()
    b = (x509.CertificateBuilder()
         .subject_name(_name(ident))
         .issuer_name(ca_cert.subject)
         .public_key(pub)
         .serial_number(x509.random_serial_number())
         .not_valid_before(nb)
         .not_valid_after(na)
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                      key_encipherment=False, data_encipherment=False,
                                      key_agreement=False, key_cert_sign=False,
                                      crl_sign=False, encipher_only=False,
                                      decipher_only=False), critical=True)
         .add_extension(x509.SubjectAlternativeName(san_names(ident, ip)), critical=False)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
             ca_cert.public_key()), critical=False))
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return b.sign(ca_key, _sign_alg(ca_key))


def device_dir(pki_dir, ident):
    id_kind(ident)
    if "/" in ident or ident.startswith("."):
        raise PkiError("--id: %r cannot name a directory" % ident)
    return os.path.join(pki_dir, "devices", ident)


def conn_name(ident):
    return re.sub(r"[^A-Za-z0-9_-]", "-", ident).strip("-") or "device"


# -------------------------------------------------------------- the PKI

def make_ca(pki_dir, key="ecdsa", cn="Lab Root CA", days=CA_DAYS, force=False):
    """A self-signed CA: pki_dir/ca.pem, ca.key (0600).  -> dict of paths"""
    paths = {"cert": os.path.join(pki_dir, "ca.pem"),
             "key": os.path.join(pki_dir, "ca.key")}
    check_key_type(key)
    if not cn or not cn.strip():
        raise PkiError("--cn must not be empty")
    nb, na = validity(days, default_days=CA_DAYS)
    _check_free(paths.values(), force)
    k = new_key(key)
    pub = k.public_key()
    cert = (x509.CertificateBuilder()
            .subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(pub)
            .serial_number(x509.random_serial_number())
            .not_valid_before(nb).not_valid_after(na)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
            .sign(k, _sign_alg(k)))
    os.makedirs(pki_dir, exist_ok=True)
    _write(paths["key"], key_pem(k), 0o600)
    _write(paths["cert"], cert_pem(cert))
    return paths


def make_gateway(pki_dir, id, ip=None, key="ecdsa", days=None, not_before=None,
                 not_after=None, ca_dir=None, eku=True, force=False):
    """The gateway's certificate signed by the CA in ca_dir (default
    pki_dir): pki_dir/gateway.pem, gateway.key (0600).  -> dict of paths"""
    paths = {"cert": os.path.join(pki_dir, "gateway.pem"),
             "key": os.path.join(pki_dir, "gateway.key")}
    san_names(id, ip)
    check_key_type(key)
    nb, na = validity(days, not_before, not_after)
    ca_cert, ca_key = load_ca(ca_dir or pki_dir)
    _check_free(paths.values(), force)
    k = new_key(key)
    cert = _leaf(ca_cert, ca_key, k, id, ip, nb, na,
                 [ExtendedKeyUsageOID.SERVER_AUTH] if eku else None)
    os.makedirs(pki_dir, exist_ok=True)
    _write(paths["key"], key_pem(k), 0o600)
    _write(paths["cert"], cert_pem(cert))
    return paths


def make_device(pki_dir, id, key="ecdsa", days=None, not_before=None, not_after=None,
                ca_dir=None, eku=True, force=False):
    """A device's certificate signed by the CA in ca_dir (default pki_dir):
    pki_dir/devices/ID/cert.pem, key.pem (0600) and ca.pem (the CA of
    pki_dir, which signs the gateway's certificate).  -> dict of paths"""
    d = device_dir(pki_dir, id)
    paths = {"cert": os.path.join(d, "cert.pem"), "key": os.path.join(d, "key.pem"),
             "ca": os.path.join(d, "ca.pem")}
    check_key_type(key)
    nb, na = validity(days, not_before, not_after)
    ca_cert, ca_key = load_ca(ca_dir or pki_dir)
    trust = os.path.join(pki_dir, "ca.pem")
    trust_pem = _read(trust, "CA certificate") if os.path.exists(trust) else cert_pem(ca_cert)
    _check_free(paths.values(), force)
    k = new_key(key)
    cert = _leaf(ca_cert, ca_key, k, id, None, nb, na,
                 [ExtendedKeyUsageOID.CLIENT_AUTH] if eku else None)
    os.makedirs(d, exist_ok=True)
    _write(paths["key"], key_pem(k), 0o600)
    _write(paths["cert"], cert_pem(cert))
    _write(paths["ca"], trust_pem)
    return paths


def find_devices(pki_dir):
    """The device ids with a certificate in pki_dir/devices, sorted."""
    base = os.path.join(pki_dir, "devices")
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return []
    return [n for n in names if os.path.isfile(os.path.join(base, n, "cert.pem"))]


def _read_psk(psk_file):
    try:
        with open(psk_file) as f:
            psk = f.read().strip()
    except OSError as e:
        raise PkiError("cannot read --psk-file %s: %s" % (psk_file, e.strerror or e))
    if len(psk) < MIN_PSK_CHARS:
        raise PkiError("the PSK in %s is too short: %d characters, at least %d"
                       % (psk_file, len(psk), MIN_PSK_CHARS))
    return psk


def _settings(d, indent=0):
    # a dict as swanctl.conf text (sections and key = value), as provision.py
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


def swanctl_text(pki_dir, gateway_id=None, pool=None, remote_ts=DEFAULT_REMOTE_TS,
                 device_auth="pubkey", psk=None, ike=DEFAULT_IKE, esp=DEFAULT_ESP,
                 devices=None):
    """The gateway's swanctl.conf text (see write_swanctl)."""
    pki_dir = os.path.abspath(pki_dir)
    gw_pem, gw_key = os.path.join(pki_dir, "gateway.pem"), os.path.join(pki_dir, "gateway.key")
    ca_pem = os.path.join(pki_dir, "ca.pem")
    if device_auth not in ("pubkey", "psk"):
        raise PkiError("--device-auth: %r is not pubkey or psk" % device_auth)
    if device_auth == "psk" and not psk:
        raise PkiError("--device-auth psk needs the PSK: --psk-file FILE")
    for p, what in ((ca_pem, "ca"), (gw_pem, "gateway"), (gw_key, "gateway")):
        if not os.path.exists(p):
            raise PkiError("%s is missing: run `ikev2-pki %s %s ...` first"
                           % (p, what, pki_dir))
    gw = load_cert(gw_pem, "gateway certificate")
    ids = cert_ids(gw)
    if gateway_id is None:
        if not ids:
            raise PkiError("%s has no subjectAltName: give --gateway-id" % gw_pem)
        gateway_id = ids[0]
    elif gateway_id not in ids:
        raise PkiError("%s is not for %s (its subjectAltName: %s): strongSwan would "
                       "not use it" % (gw_pem, gateway_id, ", ".join(ids) or "none"))
    devices = list(devices) if devices is not None else find_devices(pki_dir)
    if not devices:
        raise PkiError("no devices in %s: run `ikev2-pki device %s --id ...` first"
                       % (os.path.join(pki_dir, "devices"), pki_dir))
    ts = [remote_ts] if isinstance(remote_ts, str) else list(remote_ts)
    for t in ts:
        try:
            ipaddress.ip_network(t, strict=False)
        except ValueError:
            raise PkiError("--remote-ts: not a network: %r" % t)

    conns, secrets = {}, {}
    for dev in devices:
        name = conn_name(dev)
        if name in conns:
            raise PkiError("devices %s map to the same connection name %s" % (dev, name))
        remote = {"auth": device_auth, "id": dev}
        if device_auth == "pubkey":
            remote["cacerts"] = ca_pem
        conns[name] = {
            "version": 2,
            "proposals": ike,
            "pools": pool,
            "send_cert": "always",
            "send_certreq": device_auth == "pubkey",
            "local": {"auth": "pubkey", "certs": gw_pem, "id": gateway_id},
            "remote": remote,
            "children": {name: {"local_ts": ",".join(ts), "esp_proposals": esp}},
        }
        if device_auth == "psk":
            # hex: swanctl reads 0x.. and 0s.. specially (as provision.py)
            secrets["ike-" + name] = {"id-device": dev, "id-gateway": gateway_id,
                                      "secret": "0x" + psk.encode().hex()}
    top = {"connections": conns}
    if secrets:
        top["secrets"] = secrets
    keydir = "private"
    head = [
        "# strongSwan swanctl.conf for the gateway %s, made by ikev2-pki." % gateway_id,
        "# Devices: %s; the gateway authenticates with its certificate, the" % ", ".join(devices),
        "# devices with %s." % ("certificates from the CA in ca.pem" if device_auth == "pubkey"
                                else "the PSK below (keep this file mode 0600)"),
        "# Install it on the gateway (swanctl loads private keys only from its",
        "# %s/ directory, not from a path in this file):" % keydir,
        "#   install -m 600 %s /etc/swanctl/%s/gateway.key" % (gw_key, keydir),
        "#   install -m 600 swanctl.conf /etc/swanctl/conf.d/ikev2-pki.conf",
        "#   swanctl --load-all",
        "# The certificates below are named by absolute path: keep them there, or",
        "# copy them to /etc/swanctl/x509/ and x509ca/ and give the file names.",
    ]
    if device_auth == "pubkey":
        head += [
            "# The devices must send their certificate in IKE_AUTH (strongSwan as a",
            "# device: send_cert = always): the gateway's CERTREQ may not come when",
            "# another connection's IKE settings answer the IKE_SA_INIT."]
    if pool:
        head.append("# The pool %r must be defined in your swanctl.conf (pools { %s "
                    "{ addrs = ... } })." % (pool, pool))
    return "\n".join(head + _settings(top)) + "\n"


def write_swanctl(pki_dir, gateway_id=None, pool=None, remote_ts=DEFAULT_REMOTE_TS,
                  device_auth="pubkey", psk=None, psk_file=None, ike=DEFAULT_IKE,
                  esp=DEFAULT_ESP, devices=None, force=False):
    """pki_dir/swanctl.conf for the gateway: one connection per device (in
    pki_dir/devices, or the ids in devices).  The PSK (device_auth='psk')
    is psk or read from psk_file.  -> the path (mode 0600)"""
    if psk is None and psk_file:
        psk = _read_psk(psk_file)
    path = os.path.join(pki_dir, "swanctl.conf")
    text = swanctl_text(pki_dir, gateway_id, pool, remote_ts, device_auth, psk, ike,
                        esp, devices)
    _check_free([path], force)
    return _write(path, text, 0o600)


def make_all(pki_dir, gateway_id, devices, ip=None, key="ecdsa", cn="Lab Root CA",
             pool=None, remote_ts=DEFAULT_REMOTE_TS, ike=DEFAULT_IKE, esp=DEFAULT_ESP,
             device_auth="pubkey", psk_file=None, force=False):
    """CA, gateway, devices and swanctl.conf.  -> list of (path, what)"""
    devices = [devices] if isinstance(devices, str) else list(devices)
    if not devices:
        raise PkiError("give at least one --device")
    check_key_type(key)
    san_names(gateway_id, ip)
    targets = [os.path.join(pki_dir, f) for f in ("ca.pem", "ca.key", "gateway.pem",
                                                  "gateway.key", "swanctl.conf")]
    for dev in devices:
        d = device_dir(pki_dir, dev)
        targets += [os.path.join(d, f) for f in ("cert.pem", "key.pem", "ca.pem")]
    _check_free(targets, force)
    psk = _read_psk(psk_file) if device_auth == "psk" and psk_file else None
    if device_auth == "psk" and not psk:
        raise PkiError("--device-auth psk needs the PSK: --psk-file FILE")
    out = []
    p = make_ca(pki_dir, key=key, cn=cn, force=True)
    out += [(p["cert"], "CA certificate"), (p["key"], "CA key, mode 0600")]
    p = make_gateway(pki_dir, gateway_id, ip=ip, key=key, force=True)
    out += [(p["cert"], "gateway certificate"), (p["key"], "gateway key, mode 0600")]
    for dev in devices:
        p = make_device(pki_dir, dev, key=key, force=True)
        out += [(p["cert"], "device certificate"), (p["key"], "device key, mode 0600"),
                (p["ca"], "CA certificate for the device")]
    out.append((write_swanctl(pki_dir, gateway_id, pool, remote_ts, device_auth, psk,
                              ike=ike, esp=esp, devices=devices, force=True),
                "the gateway's swanctl.conf, mode 0600"))
    return out


# -------------------------------------------------------------- command line

class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # one line, exit status 2 (argparse's own prints the usage first)
        self.exit(2, "%s: error: %s\n" % (self.prog, message))


def parser():
    ap = _Parser(prog="ikev2-pki", description="a test PKI (CA, gateway and device "
                 "certificates) and the gateway's swanctl.conf using it")
    sub = ap.add_subparsers(dest="cmd", required=True, parser_class=_Parser)

    def key_arg(p):
        p.add_argument("--key", default="ecdsa", metavar="TYPE",
                       help="ecdsa (P-256, default), rsa2048 or rsa3072")

    def dates(p):
        p.add_argument("--days", type=int, help="validity in days (default %d)" % LEAF_DAYS)
        p.add_argument("--not-before", metavar="ISO", help="start of validity, "
                       "e.g. 2020-01-01 or 2020-01-01T00:00:00Z (UTC if no zone)")
        p.add_argument("--not-after", metavar="ISO", help="end of validity "
                       "(in the past: an expired certificate)")
        p.add_argument("--ca-dir", metavar="DIR", help="sign with the CA in DIR "
                       "(default: the CA in the PKI directory)")
        p.add_argument("--no-eku", action="store_true",
                       help="leave out extendedKeyUsage")

    def force(p):
        p.add_argument("--force", action="store_true", help="replace existing files")

    def conn_args(p):
        p.add_argument("--pool", help="virtual IP pool name for the devices "
                       "(defined elsewhere, e.g. the lab's labpool)")
        p.add_argument("--remote-ts", action="append", metavar="CIDR",
                       help="a network behind the gateway the devices may reach "
                       "(repeat for more; default %s)" % DEFAULT_REMOTE_TS[0])
        p.add_argument("--device-auth", default="pubkey", metavar="pubkey|psk",
                       help="how the devices authenticate (default pubkey)")
        p.add_argument("--psk-file", help="the devices' PSK (--device-auth psk)")
        p.add_argument("--ike", default=DEFAULT_IKE, help="IKE proposal "
                       "(default %(default)s)")
        p.add_argument("--esp", default=DEFAULT_ESP, help="ESP proposal "
                       "(default %(default)s)")

    p = sub.add_parser("ca", help="a new CA: DIR/ca.pem, DIR/ca.key")
    p.add_argument("dir")
    key_arg(p)
    p.add_argument("--cn", default="Lab Root CA", help="the CA's common name")
    p.add_argument("--days", type=int, default=CA_DAYS,
                   help="validity in days (default %(default)s)")
    force(p)

    p = sub.add_parser("gateway", help="the gateway's certificate: DIR/gateway.pem, "
                       "DIR/gateway.key")
    p.add_argument("dir")
    p.add_argument("--id", required=True, help="the gateway's IKE identity (FQDN, "
                   "user@domain or IP address), in subjectAltName")
    p.add_argument("--ip", help="an IP address to add to subjectAltName")
    key_arg(p)
    dates(p)
    force(p)

    p = sub.add_parser("device", help="a device's certificate: "
                       "DIR/devices/ID/cert.pem, key.pem, ca.pem")
    p.add_argument("dir")
    p.add_argument("--id", required=True, help="the device's IKE identity")
    key_arg(p)
    dates(p)
    force(p)

    p = sub.add_parser("swanctl", help="DIR/swanctl.conf for the gateway: a "
                       "connection per device in DIR/devices")
    p.add_argument("dir")
    p.add_argument("--gateway-id", help="the gateway's identity (default: the first "
                   "subjectAltName of gateway.pem)")
    conn_args(p)
    force(p)

    p = sub.add_parser("all", help="CA, gateway, devices and swanctl.conf at once")
    p.add_argument("dir")
    p.add_argument("--gateway-id", required=True)
    p.add_argument("--ip", help="the gateway's IP address, added to its "
                   "subjectAltName")
    p.add_argument("--device", action="append", required=True, metavar="ID",
                   help="a device identity (repeat for more)")
    p.add_argument("--cn", default="Lab Root CA", help="the CA's common name")
    key_arg(p)
    conn_args(p)
    force(p)
    return ap


def run(a):
    """-> list of (path, what) written"""
    if a.cmd == "ca":
        p = make_ca(a.dir, key=a.key, cn=a.cn, days=a.days, force=a.force)
        return [(p["cert"], "CA certificate"), (p["key"], "CA key, mode 0600")]
    if a.cmd == "gateway":
        p = make_gateway(a.dir, a.id, ip=a.ip, key=a.key, days=a.days,
                         not_before=a.not_before, not_after=a.not_after,
                         ca_dir=a.ca_dir, eku=not a.no_eku, force=a.force)
        return [(p["cert"], "gateway certificate"), (p["key"], "gateway key, mode 0600")]
    if a.cmd == "device":
        p = make_device(a.dir, a.id, key=a.key, days=a.days, not_before=a.not_before,
                        not_after=a.not_after, ca_dir=a.ca_dir, eku=not a.no_eku,
                        force=a.force)
        return [(p["cert"], "device certificate"), (p["key"], "device key, mode 0600"),
                (p["ca"], "CA certificate for the device")]
    remote_ts = a.remote_ts or list(DEFAULT_REMOTE_TS)
    if a.device_auth not in ("pubkey", "psk"):
        raise PkiError("--device-auth: %r is not pubkey or psk" % a.device_auth)
    if a.psk_file and a.device_auth != "psk":
        raise PkiError("--psk-file goes with --device-auth psk")
    if a.cmd == "swanctl":
        path = write_swanctl(a.dir, a.gateway_id, a.pool, remote_ts, a.device_auth,
                             psk_file=a.psk_file, ike=a.ike, esp=a.esp, force=a.force)
        return [(path, "the gateway's swanctl.conf, mode 0600")]
    return make_all(a.dir, a.gateway_id, a.device, ip=a.ip, key=a.key, cn=a.cn,
                    pool=a.pool, remote_ts=remote_ts, ike=a.ike, esp=a.esp,
                    device_auth=a.device_auth, psk_file=a.psk_file, force=a.force)


def main(argv=None):
    try:
        a = parser().parse_args(argv)
    except SystemExit as e:       # usage errors (exit 2) and --help (0)
        return e.code
    try:
        written = run(a)
    except PkiError as e:
        print("ikev2-pki: error: %s" % e, file=sys.stderr)
        return 2
    for path, what in written:
        print("  %-48s %s" % (path, what))
    if a.cmd in ("swanctl", "all"):
        print("next: see the head of %s for how to install it on the gateway"
              % os.path.join(a.dir, "swanctl.conf"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
