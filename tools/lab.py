# The gateway lab: a strongSwan IKEv2 responder in network namespaces.
#
#   device ns  dev0 192.0.2.2/24 ---- gw-dev 192.0.2.1/24   gateway ns
#                                      gw-cloud 198.51.100.1/24
#   cloud ns   cloud0 198.51.100.2/24 -----'   (UDP collector on :5140)
#
# Lab(nat=True) puts a NAT namespace between device and gateway:
#
#   device ns  dev0 10.0.0.2/24 -- nat-in 10.0.0.1/24  NAT ns (masquerade)
#                                  nat-out 192.0.2.2/24 -- gw-dev 192.0.2.1/24
#
# device_ip is then the device's private address and device_public_ip the
# NAT's outside one (what the gateway sees); nat_rebind() changes the NAT's
# port mapping mid-session.  path_mtu=N (or set_path_mtu(N)) makes the link
# next to the gateway (NAT->gateway with nat=True, else device->gateway)
# a small-MTU link.
#
# The gateway runs charon (kernel-libipsec: userspace ESP on a TUN device,
# the kernel here has no ESP) with a generated swanctl.conf; virtual IPs come
# from an optional pool.  The cloud host routes the pool and the device
# subnet via the gateway.  The device has no route to the cloud subnet
# except through a tunnel, and the gateway drops anything forwarded straight
# from the device link (strict_forward), so nothing reaches the cloud in
# clear.  Everything lives in three namespaces with a unique name per lab
# instance; down() (also atexit, also on a failed up()) stops what the lab
# started, by pid, and deletes the namespaces.
#
# Note: kernel-libipsec requires UDP encapsulation, so the gateway always
# fakes a NAT (NAT_DETECTION_SOURCE_IP that never matches) and ESP always
# travels in UDP 4500 (RFC 3948), with or without encap=True.
#
# Usage:  with Lab(pool="10.99.0.0/24") as lab: lab.start_initiator(); lab.initiate()
#         ikev2-lab up --pool 10.99.0.0/24      (ikev2-lab list, ikev2-lab down NAME)
#         ikev2-lab up --include pki/swanctl.conf --private pki/gateway.key
#                                               (certificates made by ikev2-pki)
import argparse
import atexit
import ipaddress
import json
import os
import secrets
import select
import shutil
import signal
import socket
import re
import struct
import subprocess
import sys
import time

try:
    from . import ROOT
except ImportError:  # run as a script: python tools/lab.py
    ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHARON = "/usr/lib/ipsec/charon"
SWANCTL = "swanctl"
PREFIX = "ikev2lab-"
COLLECTOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "collector.py")

DEFAULT_IKE = "aes128-sha256-x25519,aes256gcm16-prfsha256-ecp256,aes128-sha256-modp2048"
DEFAULT_ESP = "aes128-sha256,aes256gcm16"
# Certificates: x509 pem pkcs1 pubkey openssl parse and check them and the
# SEC1/PKCS#1 keys ikev2-pki writes; mgf1 lets charon sign with RSA-PSS
# (rsa_pss = yes, RFC 7427).  No revocation or curl plugin: they would fetch
# CRLs/OCSP from addresses outside the lab's namespaces.
PLUGINS = ("random nonce aes sha1 sha2 hmac gmp curve25519 x509 pem pkcs1 pubkey "
           "openssl kernel-libipsec kernel-netlink socket-default vici updown attr "
           "gcm ctr kdf mgf1")
CONN = "lab"      # connection name (both sides)
CHILD = "lab"     # child SA name (both sides)
FWMARK = "0x42"   # marks charon's own IKE/ESP packets on the gateway


class LabError(RuntimeError):
    """The lab could not be brought up (message carries the log tail)."""


# -------------------------------------------------------------- helpers

def _tail(path, lines=40):
    try:
        with open(path, "r", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no %s)" % path


def _loaded_ok(p):
    """swanctl --load-all worked: rc 0 and no failure other than the missing
    credential directories of the private SWANCTL_DIR."""
    bad = [ln for ln in (p.stdout + p.stderr).splitlines()
           if "fail" in ln and not ln.startswith("opening directory")]
    return p.returncode == 0 and not bad


def _merge(base, extra):
    """base updated with extra, recursively for nested dicts (in place)."""
    for k, v in (extra or {}).items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _merge(base[k], v)
        else:
            base[k] = v
    return base


# the credential folders of a SWANCTL_DIR that swanctl --load-all reads
CRED_DIRS = ("x509", "x509ca", "x509aa", "x509ocsp", "x509crl", "x509ac",
             "pubkey", "private", "rsa", "ecdsa", "pkcs8", "pkcs12")


def _install_creds(swanctl_dir, creds):
    """Copy credential files into the folders of a SWANCTL_DIR: creds is
    {"private": [key files], "x509ca": [...], ...}.  Private keys are loaded
    by swanctl only from such folders (a path in swanctl.conf is not read)."""
    for sub, files in (creds or {}).items():
        if sub not in CRED_DIRS:
            raise LabError("creds: unknown swanctl folder %r (one of %s)"
                           % (sub, ", ".join(CRED_DIRS)))
        d = os.path.join(swanctl_dir, sub)
        os.makedirs(d, mode=0o700, exist_ok=True)
        for src in [files] if isinstance(files, str) else files:
            dst = os.path.join(d, os.path.basename(src))
            shutil.copyfile(src, dst)
            os.chmod(dst, 0o600)


def _conf_value(v):
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    return str(v)


def _conf_lines(d, indent=0):
    """A dict as strongswan.conf/swanctl.conf text: one setting per line,
    nested dicts become sections, None values are left out."""
    pad = "    " * indent
    out = []
    for k, v in d.items():
        if v is None:
            continue
        if isinstance(v, dict):
            out.append("%s%s {" % (pad, k))
            out.extend(_conf_lines(v, indent + 1))
            out.append("%s}" % pad)
        else:
            out.append("%s%s = %s" % (pad, k, _conf_value(v)))
    return out


def parse_vici_pretty(text):
    """Parse `swanctl --pretty` output (several `label { ... }` blocks) into
    a list of (label, dict).  Lists become Python lists."""
    blocks = []
    stack = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not stack:
            if line.endswith("{"):
                top = {}
                blocks.append((line[:-1].strip(), top))
                stack.append(top)
            continue
        cur = stack[-1]
        if isinstance(cur, list):
            if line == "]":
                stack.pop()
            else:
                cur.append(line)
        elif line == "}":
            stack.pop()
        elif line.endswith(" = ["):
            lst = []
            cur[line[:-4]] = lst
            stack.append(lst)
        elif line.endswith(" {"):
            sec = {}
            cur[line[:-2]] = sec
            stack.append(sec)
        elif " = " in line:
            k, v = line.split(" = ", 1)
            cur[k] = v
    return blocks


def _ike_sas_from_blocks(blocks):
    sas = []
    for label, body in blocks:
        for name, sa in body.items():
            if not isinstance(sa, dict):
                continue
            d = dict(sa)
            d["name"] = name
            children = []
            for cname, c in (sa.get("child-sas") or {}).items():
                cd = dict(c)
                cd["key"] = cname
                cd.setdefault("name", cname)
                children.append(cd)
            d["children"] = children
            d["spi_i"] = sa.get("initiator-spi")
            d["spi_r"] = sa.get("responder-spi")
            vips = list(sa.get("remote-vips") or []) + list(sa.get("local-vips") or [])
            d["vips"] = vips
            d["vip"] = vips[0] if vips else None
            sas.append(d)
    return sas


# -------------------------------------------------------------- pcap

def read_pcap(path):
    """Minimal pcap reader: a list of dicts for the IPv4 packets (time, src,
    dst, proto, length (IP total length), sport, dport, payload (transport
    payload bytes), kind: 'ike' (UDP 500, or 4500 with the non-ESP marker),
    'esp-udp' (UDP 4500 with an SPI), 'esp', 'udp', 'icmp', 'tcp', 'other',
    'ip-fragment' (a non-first IP fragment); df, mf and frag_offset: the IP
    header's fragment fields)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError("%s: not a pcap file" % path)
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(e + "I", data[20:24])[0]
    off = 24
    pkts = []
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(e + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        t = sec + frac / (1e9 if nano else 1e6)
        if linktype == 1:                      # Ethernet
            etype, ip = struct.unpack("!H", frame[12:14])[0], frame[14:]
            if etype == 0x8100:
                etype, ip = struct.unpack("!H", frame[16:18])[0], frame[18:]
        elif linktype == 113:                  # Linux cooked v1
            etype, ip = struct.unpack("!H", frame[14:16])[0], frame[16:]
        elif linktype == 276:                  # Linux cooked v2
            etype, ip = struct.unpack("!H", frame[0:2])[0], frame[20:]
        elif linktype in (12, 101, 14):        # raw IP
            etype, ip = 0x0800, frame
        else:
            continue
        if etype != 0x0800 or len(ip) < 20 or ip[0] >> 4 != 4:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        proto = ip[9]
        ff = struct.unpack("!H", ip[6:8])[0]
        p = {"time": t, "src": socket.inet_ntoa(ip[12:16]),
             "dst": socket.inet_ntoa(ip[16:20]), "proto": proto, "length": total,
             "sport": None, "dport": None, "payload": b"", "kind": "other",
             "df": bool(ff & 0x4000), "mf": bool(ff & 0x2000),
             "frag_offset": (ff & 0x1FFF) * 8}
        l4 = ip[ihl:total]
        if p["frag_offset"]:
            p["kind"] = "ip-fragment"  # no transport header in this one
            p["payload"] = l4
        elif proto == 17 and len(l4) >= 8:
            p["sport"], p["dport"] = struct.unpack("!HH", l4[:4])
            pl = l4[8:]
            p["payload"] = pl
            ports = (p["sport"], p["dport"])
            if 4500 in ports and pl[:4] == b"\0\0\0\0":
                p["kind"] = "ike"
                p["ike"] = pl[4:]
            elif 4500 in ports and pl == b"\xff":
                p["kind"] = "nat-keepalive"
            elif 4500 in ports and len(pl) >= 8:
                p["kind"] = "esp-udp"
                p["spi"], p["seq"] = struct.unpack("!II", pl[:8])
            elif 500 in ports:
                p["kind"] = "ike"
                p["ike"] = pl
            else:
                p["kind"] = "udp"
        elif proto == 50:
            p["kind"] = "esp"
            p["payload"] = l4
        elif proto == 1:
            p["kind"] = "icmp"
            p["payload"] = l4
        elif proto == 6:
            p["kind"] = "tcp"
            p["payload"] = l4
        pkts.append(p)
    return pkts


def ike_summary(msg):
    """Header fields and the payload chain of a plain IKE message (bytes
    starting at the IKE header): dict(spi_i, spi_r, exchange, flags, msgid,
    payloads=[(type, body)], notifies=[(type, data)])."""
    if len(msg) < 28:
        return None
    spi_i, spi_r, nxt, ver, exch, flags, msgid, length = struct.unpack(
        "!8s8sBBBBII", msg[:28])
    out = {"spi_i": spi_i.hex(), "spi_r": spi_r.hex(), "exchange": exch,
           "flags": flags, "msgid": msgid, "response": bool(flags & 0x20),
           "payloads": [], "notifies": []}
    off = 28
    while nxt and off + 4 <= len(msg):
        plen = struct.unpack("!H", msg[off + 2:off + 4])[0]
        if plen < 4:
            break
        body = msg[off + 4:off + plen]
        out["payloads"].append((nxt, body))
        if nxt == 41 and len(body) >= 4:
            spisz = body[1]
            ntype = struct.unpack("!H", body[2:4])[0]
            out["notifies"].append((ntype, body[4 + spisz:]))
        if nxt == 46:   # SK: nothing further in clear
            break
        nxt = msg[off]
        off += plen
    return out


class Capture:
    """tcpdump in a namespace writing a pcap file; stop() then packets()."""

    def __init__(self, lab, ns, iface, filt, path):
        self.lab, self.ns, self.iface, self.filter, self.path = lab, ns, iface, filt, path
        self.proc = None
        self._err = path + ".stderr"

    def start(self, timeout=5.0):
        errf = open(self._err, "w")
        cmd = ["tcpdump", "-i", self.iface, "-n", "-U", "--immediate-mode", "-s", "0", "-Z", "root",
               "-w", self.path]
        if self.filter:
            cmd += self.filter.split()
        self.proc = self.lab.popen(self.ns, *cmd, stdout=subprocess.DEVNULL,
                                   stderr=errf)
        errf.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if "listening on" in _tail(self._err):
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        err = _tail(self._err)
        self.stop()
        raise LabError("tcpdump on %s/%s did not start: %s" % (self.ns, self.iface, err))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            time.sleep(0.05)   # let the last packets reach the ring buffer
            self.lab._stop_proc(self.proc, sig=signal.SIGINT, timeout=3.0)
        return self

    def packets(self):
        self.stop()
        if not os.path.exists(self.path):
            return []
        return read_pcap(self.path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# -------------------------------------------------------------- cookie primer

_DH_NAMES = {"modp768": 1, "modp1024": 2, "modp1536": 5, "modp2048": 14,
             "modp3072": 15, "modp4096": 16, "modp6144": 17, "modp8192": 18,
             "modp1024s160": 22, "modp2048s224": 23, "modp2048s256": 24,
             "ecp192": 25, "ecp224": 26, "ecp256": 19, "ecp384": 20, "ecp521": 21,
             "ecp224bp": 27, "ecp256bp": 28, "ecp384bp": 29, "ecp512bp": 30,
             "x25519": 31, "curve25519": 31, "x448": 32, "curve448": 32}
_MODP_LEN = {1: 96, 2: 128, 5: 192, 14: 256, 15: 384, 16: 512, 17: 768, 18: 1024,
             22: 128, 23: 256, 24: 256}
_DH_OFFER = (31, 32, 19, 20, 21, 14, 15, 16, 17, 18, 5, 2, 1, 28, 29, 30, 27, 24, 23, 22)


def _first_dh(ike):
    for tok in ike.split(",")[0].split("-"):
        if tok in _DH_NAMES:
            return _DH_NAMES[tok]
    return 31


def _ke_data(group):
    if group in _MODP_LEN:      # y = 2: in range, and all the gateway needs
        return b"\0" * (_MODP_LEN[group] - 1) + b"\x02"
    from cryptography.hazmat.primitives.asymmetric import ec, x25519, x448
    from cryptography.hazmat.primitives import serialization as ser
    raw = ser.Encoding.Raw, ser.PublicFormat.Raw
    if group == 31:
        return x25519.X25519PrivateKey.generate().public_key().public_bytes(*raw)
    if group == 32:
        return x448.X448PrivateKey.generate().public_key().public_bytes(*raw)
    curves = {19: ec.SECP256R1, 20: ec.SECP384R1, 21: ec.SECP521R1,
              25: ec.SECP192R1, 26: ec.SECP224R1, 27: ec.BrainpoolP256R1,
              28: ec.BrainpoolP256R1, 29: ec.BrainpoolP384R1, 30: ec.BrainpoolP512R1}
    if group == 27:
        raise LabError("cookie primer: ecp224bp not supported")
    if group not in curves:
        raise LabError("cookie primer: DH group %d not supported" % group)
    pub = ec.generate_private_key(curves[group]()).public_key()
    pt = pub.public_bytes(ser.Encoding.X962, ser.PublicFormat.UncompressedPoint)
    return pt[1:]


def _transform(ttype, tid, keylen=None, last=False):
    attrs = struct.pack("!HH", 0x800E, keylen) if keylen else b""
    return struct.pack("!BBHBBH", 0 if last else 3, 0, 8 + len(attrs), ttype, 0,
                       tid) + attrs


def _proposal(num, encrs, integs, prfs, dhs, last):
    ts = []
    for tid, kl in encrs:
        ts.append((1, tid, kl))
    ts += [(3, t, None) for t in integs] + [(2, t, None) for t in prfs]
    ts += [(4, t, None) for t in dhs]
    body = b"".join(_transform(t, i, k, n == len(ts) - 1) for n, (t, i, k) in enumerate(ts))
    return struct.pack("!BBHBBBB", 0 if last else 2, 0, 8 + len(body), num, 1, 0,
                       len(ts)) + body


def _ike_sa_init(spi, group, ke, cookie=None):
    prfs = (5, 6, 7, 2, 4, 8)
    p1 = _proposal(1, [(12, 128), (12, 192), (12, 256), (13, 128), (13, 256), (3, None)],
                   (12, 13, 14, 2, 5, 8), prfs, _DH_OFFER, False)
    p2 = _proposal(2, [(20, 128), (20, 192), (20, 256), (19, 128), (19, 256),
                       (18, 128), (18, 256), (28, None)], (), prfs, _DH_OFFER, True)
    sa = p1 + p2
    pl = []  # (type, body)
    if cookie is not None:
        pl.append((41, struct.pack("!BBH", 0, 0, 16390) + cookie))
    pl.append((33, sa))
    pl.append((34, struct.pack("!HH", group, 0) + ke))
    pl.append((40, os.urandom(32)))
    body = b""
    for i, (t, b) in enumerate(pl):
        nxt = pl[i + 1][0] if i + 1 < len(pl) else 0
        body += struct.pack("!BBH", nxt, 0, 4 + len(b)) + b
    return struct.pack("!8s8sBBBBII", spi, b"\0" * 8, pl[0][0], 0x20, 34, 0x08, 0,
                       28 + len(body)) + body


def prime_half_open(gateway, group=31, port=500, timeout=2.0, tries=6):
    """Leave one half-open IKE SA on the gateway: send an IKE_SA_INIT, follow
    INVALID_KE_PAYLOAD and COOKIE, and never send IKE_AUTH.  Returns the
    responder SPI (hex).  Runs inside a lab namespace (see main: _prime)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    spi, cookie, ke = os.urandom(8), None, _ke_data(group)
    try:
        for _ in range(tries):
            s.sendto(_ike_sa_init(spi, group, ke, cookie), (gateway, port))
            try:
                resp, _ = s.recvfrom(65535)
            except socket.timeout:
                continue
            info = ike_summary(resp)
            if info is None or info["spi_i"] != spi.hex():
                continue
            notes = dict(info["notifies"])
            if 16390 in notes:
                cookie = notes[16390]
            elif 17 in notes and len(notes[17]) >= 2:
                group = struct.unpack("!H", notes[17][:2])[0]
                spi, cookie, ke = os.urandom(8), None, _ke_data(group)
            elif any(t == 33 for t, _ in info["payloads"]):
                return info["spi_r"]
            else:
                raise LabError("cookie primer: gateway refused IKE_SA_INIT "
                               "(notifies %s)" % sorted(notes))
        raise LabError("cookie primer: no usable answer from %s" % gateway)
    finally:
        s.close()


# -------------------------------------------------------------- the lab

class Lab:
    """A strongSwan IKEv2 gateway between a device and a cloud namespace.

    Lab(psk=None, ike=DEFAULT_IKE, esp=DEFAULT_ESP, local_ts=None, pool=None,
        dns=None, encap=False, cookies=False, local_id="gw.lab",
        remote_id="device.lab", rekey_time=None, life_time=None,
        over_time=None, dpd_delay=None, ike_version=2, log_level=1,
        extra_conn=None, extra_child=None, name=None, collector_port=5140,
        strict_forward=True, keep_state=True, verbose=True, includes=(),
        charon_opts=None, creds=None, nat=False, path_mtu=None)

    nat: a NAT namespace (nftables masquerade) between device and gateway;
    device_ip becomes the device's private address, device_public_ip is
    the NAT's outside address; see nat_rebind().
    path_mtu: the MTU of the link next to the gateway (see set_path_mtu).
    includes: more swanctl.conf files for the gateway (`include` lines),
    e.g. the one ikev2-provision writes for a device (pool "labpool"), or
    the one ikev2-pki writes (certificates by absolute path).
    charon_opts: a dict merged (recursively) into the `charon { }` section
    of the gateway's strongswan.conf, e.g. {"fragment_size": 576,
    "rsa_pss": True}.
    creds: files copied into the gateway's swanctl credential folders
    before loading, {"private": [key files], "x509ca": [...], ...}: swanctl
    loads private keys only from its folders (e.g. ikev2-pki's gateway.key).

    rekey_time: a value for both the IKE SA and the Child SA, or a dict
    {"ike": v, "child": v}; over_time: IKE SA only; life_time: Child SA only
    (swanctl has no IKE life_time: it is rekey_time + over_time).
    log_level: an int for every charon subsystem, or a dict (e.g.
    {"default": 1, "ike": 2, "net": 2}).
    """

    device_net = ipaddress.ip_network("192.0.2.0/24")
    cloud_net = ipaddress.ip_network("198.51.100.0/24")
    device_ip = "192.0.2.2"
    gateway_ip = "192.0.2.1"
    gateway_cloud_ip = "198.51.100.1"
    cloud_ip = "198.51.100.2"
    if_device = "dev0"
    if_gw_device = "gw-dev"
    if_gw_cloud = "gw-cloud"
    if_cloud = "cloud0"
    # Lab(nat=True): the NAT namespace between device and gateway
    nat = False
    device_public_ip = "192.0.2.2"   # the device as the gateway sees it
    nat_private_net = ipaddress.ip_network("10.0.0.0/24")
    nat_inside_ip = "10.0.0.1"
    if_nat_inside = "nat-in"
    if_nat_outside = "nat-out"
    path_mtu = None

    def __init__(self, psk=None, ike=DEFAULT_IKE, esp=DEFAULT_ESP, local_ts=None,
                 pool=None, dns=None, encap=False, cookies=False, local_id="gw.lab",
                 remote_id="device.lab", rekey_time=None, life_time=None,
                 over_time=None, dpd_delay=None, ike_version=2, log_level=1,
                 extra_conn=None, extra_child=None, name=None, collector_port=5140,
                 strict_forward=True, keep_state=True, verbose=True,
                 includes=(), charon_opts=None, creds=None, nat=False,
                 path_mtu=None):
        self.includes = list(includes)  # swanctl.conf files for the gateway
        self.charon_opts = dict(charon_opts or {})
        self.creds = dict(creds or {})
        for sub in self.creds:
            if sub not in CRED_DIRS:
                raise LabError("creds: unknown swanctl folder %r (one of %s)"
                               % (sub, ", ".join(CRED_DIRS)))
        self.name = name or self._new_name()
        self.ns_device = self.name + "-dev"
        self.ns_gateway = self.name + "-gw"
        self.ns_cloud = self.name + "-cloud"
        self.ns_nat = self.name + "-nat"
        if nat:
            self.nat = True
            self.device_ip = "10.0.0.2"  # private; device_public_ip: the NAT's
        self.path_mtu = path_mtu
        self.psk = psk if psk is not None else secrets.token_urlsafe(24)
        self.ike = ",".join(ike) if isinstance(ike, (list, tuple)) else ike
        self.esp = ",".join(esp) if isinstance(esp, (list, tuple)) else esp
        self.local_ts = local_ts or str(self.cloud_net)
        self.pool = str(ipaddress.ip_network(pool)) if pool else None
        self.dns = dns
        self.encap = bool(encap)
        self.cookies = bool(cookies)
        self.gateway_id = local_id
        self.device_id = remote_id
        self.rekey_time, self.life_time, self.over_time = rekey_time, life_time, over_time
        self.dpd_delay = dpd_delay
        self.ike_version = ike_version
        self.log_level = log_level
        self.extra_conn = dict(extra_conn or {})
        self.extra_child = dict(extra_child or {})
        self.collector_port = collector_port
        self.strict_forward = strict_forward
        self.keep_state = keep_state
        self.verbose = verbose
        self.state_dir = os.path.join(ROOT, "build", "lab", self.name)
        self.gw_dir = os.path.join(self.state_dir, "gateway")
        self.ini_dir = os.path.join(self.state_dir, "initiator")
        self.gateway_vici = "unix://" + os.path.join(self.gw_dir, "charon.vici")
        self.initiator_vici = "unix://" + os.path.join(self.ini_dir, "charon.vici")
        self.collector_file = os.path.join(self.state_dir, "collector.jsonl")
        self.primer_spi = None
        self._created_ns = []
        self._procs = {}          # key -> Popen, everything this lab started
        self._restarts = 0        # restart_gateway() calls
        self._captures = 0
        self._created_state = False
        self._up = False
        self._registered = False
        for ns in ("gateway", "initiator"):
            sock = os.path.join(self.state_dir, ns, "charon.vici")
            if len(sock) > 100:
                raise LabError("state dir too deep for a unix socket: %s" % sock)

    # ---------------------------------------------------------- names

    @staticmethod
    def _new_name():
        existing = set(list_namespaces())
        while True:
            name = PREFIX + secrets.token_hex(3)
            if not any(n.startswith(name + "-") for n in existing):
                return name

    def _ns(self, ns):
        return {"device": self.ns_device, "dev": self.ns_device,
                "gateway": self.ns_gateway, "gw": self.ns_gateway,
                "cloud": self.ns_cloud, "nat": self.ns_nat}.get(ns, ns)

    def _step(self, msg):
        if self.verbose:
            sys.stderr.write("lab %s: %s\n" % (self.name, msg))
            sys.stderr.flush()

    # ---------------------------------------------------------- running things

    def run(self, ns, *cmd, check=False, timeout=30, input=None, text=True,
            capture_output=True, env=None):
        """Run cmd in namespace ns ('device', 'gateway', 'cloud' or a name)."""
        argv = ["ip", "netns", "exec", self._ns(ns)] + [str(c) for c in cmd]
        p = subprocess.run(argv, capture_output=capture_output, text=text,
                           timeout=timeout, input=input, env=env)
        if check and p.returncode != 0:
            raise LabError("%s failed (%d): %s%s" % (" ".join(argv), p.returncode,
                                                     p.stdout or "", p.stderr or ""))
        return p

    def popen(self, ns, *cmd, key=None, **kw):
        """Start cmd in namespace ns; the lab stops it in down()."""
        argv = ["ip", "netns", "exec", self._ns(ns)] + [str(c) for c in cmd]
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(argv, **kw)
        self._procs[key or "proc-%d" % p.pid] = p
        return p

    def _ip(self, *args):
        p = subprocess.run(["ip"] + list(args), capture_output=True, text=True)
        if p.returncode != 0:
            raise LabError("ip %s: %s" % (" ".join(args), p.stderr.strip()))
        return p

    def nft(self, ns, rules):
        """Load an nftables script (text for `nft -f -`) into namespace ns,
        e.g. lab.nft('gateway', 'table inet loss { chain lossin { type filter
        hook input priority 0; udp dport 4500 numgen random mod 100 < 30 drop; } }').
        The tables vanish with the namespace."""
        return self.run(ns, "nft", "-f", "-", input=rules, check=True)

    # ---------------------------------------------------------- config

    def _log_levels(self):
        if isinstance(self.log_level, dict):
            lv = dict(self.log_level)
        else:
            lv = {"default": self.log_level}
        if self.cookies:   # "sending COOKIE notify" is a level 2 net message
            lv["net"] = max(int(lv.get("net", lv.get("default", 1))), 2)
        return lv

    def _strongswan_conf(self, d, vici, gateway, charon_opts=None):
        charon = {
            "load_modular": False,
            "load": PLUGINS,
            "install_routes": True,
            "install_virtual_ip": True,
            "retry_initiate_interval": 0,
            "plugins": {"vici": {"socket": vici}},
            "filelog": {"lab": dict({"path": os.path.join(d, "charon.log"),
                                     "time_format": "%H:%M:%S",
                                     "ike_name": True, "append": False,
                                     "flush_line": True}, **self._log_levels())},
            "syslog": {"identifier": "charon-" + self.name, "daemon": {"default": -1},
                       "auth": {"default": -1}},
        }
        if gateway:
            # route the remote TS via the TUN device even when it is the peer
            # itself (pool=None) and keep charon's own packets out of table 220
            charon["plugins"]["kernel-libipsec"] = {"allow_peer_ts": True}
            charon["plugins"]["kernel-netlink"] = {"fwmark": "!" + FWMARK}
            charon["plugins"]["socket-default"] = {"fwmark": FWMARK}
            if self.cookies:
                # receiver.c: cookies are demanded while the half-open IKE SA
                # count is >= cookie_threshold; one half-open SA (the primer)
                # kept alive for the lab's lifetime makes that permanent.
                charon["dos_protection"] = True
                charon["cookie_threshold"] = 1
                charon["half_open_timeout"] = 86400
        _merge(charon, self.charon_opts if gateway else charon_opts)
        return "\n".join(_conf_lines({"charon": charon})) + "\n"

    @staticmethod
    def _split(v):
        if isinstance(v, dict):
            return v.get("ike"), v.get("child")
        return v, v

    def _gateway_swanctl_conf(self):
        ike_rekey, child_rekey = self._split(self.rekey_time)
        conn = {
            "version": self.ike_version,
            "proposals": self.ike,
            "encap": True if self.encap else None,
            "dpd_delay": self.dpd_delay,
            "rekey_time": ike_rekey,
            "over_time": self._split(self.over_time)[0],
            "pools": "labpool" if self.pool else None,
            "send_certreq": False,
            "local": {"auth": "psk", "id": self.gateway_id},
            "remote": {"auth": "psk", "id": self.device_id},
        }
        child = {
            "local_ts": self.local_ts,
            "esp_proposals": self.esp,
            "rekey_time": child_rekey,
            "life_time": self._split(self.life_time)[1],
        }
        child.update(self.extra_child)
        conn["children"] = {CHILD: child}
        conn.update(self.extra_conn)
        top = {"connections": {CONN: conn}, "secrets": self._secrets()}
        if self.pool:
            top["pools"] = {"labpool": {"addrs": self.pool, "dns": self.dns}}
        # e.g. the swanctl.conf that ikev2-provision wrote for a device
        inc = ["include %s" % os.path.abspath(p) for p in self.includes]
        return "\n".join(_conf_lines(top) + inc) + "\n"

    def _secrets(self):
        # swanctl reads a secret that starts with 0x as hex and one with 0s
        # as base64, so a random PSK like "0xAb..." would silently change;
        # hex-encoding it always makes the gateway use exactly self.psk
        return {"ike-lab": {"id-gw": self.gateway_id, "id-dev": self.device_id,
                            "secret": "0x" + self.psk.encode().hex()}}

    def _initiator_swanctl_conf(self, conf=None):
        """The initiator's swanctl.conf: PSK with the lab's ids and
        proposals; conf (a dict) is merged into the connection, e.g.
        {"local": {"auth": "pubkey", "certs": CERT, "id": ID}} to use a
        certificate (a dict value replaces a section of the same name
        entirely); a str is the whole swanctl.conf text instead."""
        if isinstance(conf, str):
            return conf if conf.endswith("\n") else conf + "\n"
        conn = {
            "version": self.ike_version,
            "proposals": self.ike,
            "local_addrs": self.device_ip,
            "remote_addrs": self.gateway_ip,
            "vips": "0.0.0.0" if self.pool else None,
            "send_certreq": False,
            "local": {"auth": "psk", "id": self.device_id},
            "remote": {"auth": "psk", "id": self.gateway_id},
            "children": {CHILD: {"remote_ts": self.local_ts,
                                 "esp_proposals": self.esp,
                                 "start_action": "none"}},
        }
        conn.update(conf or {})
        top = {"connections": {CONN: conn}, "secrets": self._secrets()}
        return "\n".join(_conf_lines(top)) + "\n"

    # ---------------------------------------------------------- up

    def up(self):
        if self._up:
            return self
        if os.geteuid() != 0:
            raise LabError("the lab needs root (network namespaces)")
        for exe in (CHARON, "/usr/sbin/" + SWANCTL):
            if not os.path.exists(exe):
                raise LabError("%s is missing (apt-get install strongswan-charon "
                               "strongswan-swanctl)" % exe)
        if not self._registered:
            atexit.register(self._atexit)
            self._registered = True
        try:
            self._up_steps()
        except BaseException as e:
            log = _tail(os.path.join(self.gw_dir, "charon.log"))
            self._step("up failed: %s; cleaning up" % e)
            try:
                self.down()
            except Exception as e2:  # keep the first error
                sys.stderr.write("lab %s: cleanup error: %s\n" % (self.name, e2))
            if isinstance(e, LabError):
                raise LabError("%s\n--- tail of charon's log ---\n%s" % (e, log)) from e
            if isinstance(e, Exception):
                raise LabError("lab up failed: %r\n--- tail of charon's log ---\n%s"
                               % (e, log)) from e
            raise
        self._up = True
        return self

    def _up_steps(self):
        self._step("state dir %s" % self.state_dir)
        os.makedirs(self.gw_dir, exist_ok=True)
        self._created_state = True

        spaces = [self.ns_device, self.ns_gateway, self.ns_cloud]
        if self.nat:
            spaces.append(self.ns_nat)
        self._step("creating namespaces %s" % ", ".join(spaces))
        for ns in spaces:
            self._ip("netns", "add", ns)
            self._created_ns.append(ns)
            # no IPv6: no router solicitations or DAD chatter on the links
            self.run(ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
                     "net.ipv6.conf.default.disable_ipv6=1", check=True)

        self._step("veth pairs and addresses: device %s, gateway %s / %s, cloud %s"
                   % (self.device_ip, self.gateway_ip, self.gateway_cloud_ip,
                      self.cloud_ip))
        if self.nat:
            self._nat_links()
        else:
            self._ip("link", "add", self.if_device, "netns", self.ns_device, "type",
                     "veth", "peer", "name", self.if_gw_device, "netns", self.ns_gateway)
        self._ip("link", "add", self.if_cloud, "netns", self.ns_cloud, "type", "veth",
                 "peer", "name", self.if_gw_cloud, "netns", self.ns_gateway)
        dl, cl = self.device_net.prefixlen, self.cloud_net.prefixlen
        links = [(self.ns_gateway, self.if_gw_device, "%s/%d" % (self.gateway_ip, dl)),
                 (self.ns_gateway, self.if_gw_cloud, "%s/%d" % (self.gateway_cloud_ip, cl)),
                 (self.ns_cloud, self.if_cloud, "%s/%d" % (self.cloud_ip, cl))]
        if not self.nat:
            links.append((self.ns_device, self.if_device, "%s/%d" % (self.device_ip, dl)))
        for ns, ifc, addr in links:
            self._ip("-n", ns, "addr", "add", addr, "dev", ifc)
            self._ip("-n", ns, "link", "set", ifc, "up")
        for ns in spaces:
            self._ip("-n", ns, "link", "set", "lo", "up")
        if self.path_mtu:
            self.set_path_mtu(self.path_mtu)

        self._step("gateway forwarding, cloud routes via %s" % self.gateway_cloud_ip)
        self.run("gateway", "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", check=True)
        self._ip("-n", self.ns_cloud, "route", "add", str(self.device_net), "via",
                 self.gateway_cloud_ip)
        if self.pool:
            self._ip("-n", self.ns_cloud, "route", "add", self.pool, "via",
                     self.gateway_cloud_ip)
        if self.strict_forward:
            self.nft("gateway", "table inet labfilter {\n chain labfwd {\n"
                     "  type filter hook forward priority 0; policy accept;\n"
                     '  iifname "%s" counter drop\n }\n}\n' % self.if_gw_device)

        self._step("writing strongswan.conf and swanctl.conf")
        conf = os.path.join(self.gw_dir, "strongswan.conf")
        with open(conf, "w") as f:
            f.write(self._strongswan_conf(self.gw_dir, self.gateway_vici, True))
        with open(os.path.join(self.gw_dir, "swanctl.conf"), "w") as f:
            f.write(self._gateway_swanctl_conf())
        _install_creds(self.gw_dir, self.creds)

        self._step("starting charon in %s" % self.ns_gateway)
        self._start_charon("gateway", self.gw_dir, "charon-gw")

        self._step("loading swanctl.conf")
        p = self.swanctl("--load-all", "--noprompt", "--file",
                         os.path.join(self.gw_dir, "swanctl.conf"))
        if not _loaded_ok(p):
            raise LabError("swanctl --load-all failed: %s%s" % (p.stdout, p.stderr))

        self._step("starting the collector on %s:%d" % (self.cloud_ip, self.collector_port))
        self._start_collector()

        if self.cookies:
            self._step("cookies: priming one half-open IKE SA from %s" % self.cloud_ip)
            p = self.run("cloud", sys.executable, os.path.abspath(__file__), "_prime",
                         self.gateway_cloud_ip, str(_first_dh(self.ike)), timeout=30)
            if p.returncode != 0:
                raise LabError("cookie primer failed: %s%s" % (p.stdout, p.stderr))
            self.primer_spi = p.stdout.strip()
        self._step("up")

    def _nat_links(self):
        # device -- NAT -- gateway: the device has a private address and a
        # route to the gateway's link only (not to the cloud) via the NAT,
        # which masquerades what leaves towards the gateway
        nl = self.nat_private_net.prefixlen
        dl = self.device_net.prefixlen
        self._step("NAT: device %s -> %s / %s (masquerade) -> gateway %s"
                   % (self.device_ip, self.nat_inside_ip, self.device_public_ip,
                      self.gateway_ip))
        self._ip("link", "add", self.if_device, "netns", self.ns_device, "type", "veth",
                 "peer", "name", self.if_nat_inside, "netns", self.ns_nat)
        self._ip("link", "add", self.if_nat_outside, "netns", self.ns_nat, "type", "veth",
                 "peer", "name", self.if_gw_device, "netns", self.ns_gateway)
        for ns, ifc, addr in ((self.ns_device, self.if_device, "%s/%d" % (self.device_ip, nl)),
                              (self.ns_nat, self.if_nat_inside, "%s/%d" % (self.nat_inside_ip, nl)),
                              (self.ns_nat, self.if_nat_outside,
                               "%s/%d" % (self.device_public_ip, dl))):
            self._ip("-n", ns, "addr", "add", addr, "dev", ifc)
            self._ip("-n", ns, "link", "set", ifc, "up")
        self._ip("-n", self.ns_device, "route", "add", str(self.device_net), "via",
                 self.nat_inside_ip)
        self.run("nat", "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", check=True)
        self.nft("nat", "table ip labnat {\n"
                 " chain post { type nat hook postrouting priority 100; policy accept;\n"
                 '  oifname "%s" counter masquerade\n }\n}\n' % self.if_nat_outside)

    def nat_rebind(self, ports=None, flush=True):
        """The NAT forgets its mappings (its conntrack table is flushed) and
        maps new flows to source ports in ports ("20000-20999"; None: the
        kernel's choice, which keeps the device's port when it can): the
        device's next datagram leaves from a new public port, as after a
        NAT's timeout or reboot.  Returns the number of mappings flushed."""
        if not self.nat:
            raise LabError("nat_rebind: this lab has no NAT (Lab(nat=True))")
        rules = 'flush chain ip labnat post\n'
        if ports:  # (a port range needs a transport protocol match)
            rules += ('add rule ip labnat post oifname "%s" meta l4proto udp '
                      'counter masquerade to :%s\n' % (self.if_nat_outside, ports))
        rules += ('add rule ip labnat post oifname "%s" counter masquerade\n'
                  % self.if_nat_outside)
        self.nft("nat", rules)
        return self.nat_flush() if flush else 0

    def nat_flush(self):
        """Flush the NAT namespace's conntrack table (ctnetlink, no
        `conntrack` tool needed); -> the number of entries it held."""
        p = self.run("nat", sys.executable, os.path.abspath(__file__), "_ctflush",
                     timeout=15)
        if p.returncode != 0:
            raise LabError("conntrack flush in %s failed: %s%s"
                           % (self.ns_nat, p.stdout, p.stderr))
        return int(p.stdout.strip() or 0)

    def nat_mappings(self):
        """The NAT's current UDP mappings: a list of (private port, gateway
        port, public port) read from its conntrack table."""
        p = self.run("nat", sys.executable, os.path.abspath(__file__), "_ctlist",
                     timeout=15)
        if p.returncode != 0:
            raise LabError("conntrack list in %s failed: %s%s"
                           % (self.ns_nat, p.stdout, p.stderr))
        return [tuple(int(x) for x in ln.split()) for ln in p.stdout.splitlines()
                if ln.strip()]

    def set_path_mtu(self, mtu):
        """A small-MTU link on the path: NAT->gateway with nat=True (the
        device's own link stays at 1500, so the device learns the path MTU
        only from ICMP), else both ends of the device->gateway link."""
        ends = [(self.ns_gateway, self.if_gw_device)]
        ends.append((self.ns_nat, self.if_nat_outside) if self.nat
                    else (self.ns_device, self.if_device))
        for ns, ifc in ends:
            self._ip("-n", ns, "link", "set", ifc, "mtu", str(int(mtu)))
        self.path_mtu = int(mtu)

    def _start_charon(self, ns, d, key):
        conf = os.path.join(d, "strongswan.conf")
        vici = os.path.join(d, "charon.vici")
        if os.path.exists(vici):
            os.unlink(vici)
        out = open(os.path.join(d, "charon.out"), "w")
        env = dict(os.environ, STRONGSWAN_CONF=conf, SWANCTL_DIR=d)
        proc = self.popen(ns, "unshare", "-m", "--propagation", "private", "sh", "-c",
                          "mount -t tmpfs lab-run /run && exec %s" % CHARON,
                          key=key, stdout=out, stderr=subprocess.STDOUT, env=env)
        out.close()
        deadline = time.time() + 10
        uri = "unix://" + vici
        while time.time() < deadline:
            if proc.poll() is not None:
                raise LabError("charon in %s exited with %s: %s" % (
                    ns, proc.returncode, _tail(os.path.join(d, "charon.out"))))
            if os.path.exists(vici):
                p = self.run(ns, SWANCTL, "--stats", "--uri", uri, timeout=5)
                if p.returncode == 0:
                    return proc
            time.sleep(0.05)
        raise LabError("charon in %s does not answer on %s" % (ns, uri))

    def _start_collector(self):
        open(self.collector_file, "a").close()
        with open(os.path.join(self.state_dir, "collector.err"), "w") as err:
            proc = self.popen("cloud", sys.executable, "-u", COLLECTOR, "--port",
                              self.collector_port, "--out", self.collector_file,
                              key="collector", stdout=subprocess.PIPE, stderr=err)
        r, _, _ = select.select([proc.stdout], [], [], 10)
        line = proc.stdout.readline().decode() if r else ""
        if not line.startswith("ready"):
            raise LabError("collector did not start: %s" %
                           _tail(os.path.join(self.state_dir, "collector.err")))

    # ---------------------------------------------------------- down

    def _stop_proc(self, proc, sig=signal.SIGTERM, timeout=5.0):
        if proc.poll() is None:
            try:
                proc.send_signal(sig)
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            except ProcessLookupError:
                pass
        for s in (proc.stdout, proc.stderr):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass

    def down(self):
        """Stop everything the lab started and delete its namespaces.
        Idempotent; safe after a half-finished up()."""
        if not self._created_ns and not self._procs:
            self._up = False
            return
        self._step("down")
        # captures first (SIGINT flushes the pcap), then the rest
        order = sorted(self._procs.items(),
                       key=lambda kv: 0 if kv[0].startswith("capture") else 1)
        for key, proc in order:
            sig = signal.SIGINT if key.startswith("capture") else signal.SIGTERM
            try:
                self._stop_proc(proc, sig=sig, timeout=5.0)
            except Exception as e:
                sys.stderr.write("lab %s: stopping %s: %s\n" % (self.name, key, e))
        self._procs.clear()
        for ns in list(self._created_ns):
            kill_namespace_pids(ns)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            if ns not in list_namespaces():
                self._created_ns.remove(ns)
        if self._created_ns:
            raise LabError("could not delete namespaces %s" % self._created_ns)
        if self._created_state and not self.keep_state:
            shutil.rmtree(self.state_dir, ignore_errors=True)
        self._up = False
        if self._registered:
            atexit.unregister(self._atexit)
            self._registered = False

    def _atexit(self):
        try:
            self.down()
        except Exception as e:
            sys.stderr.write("lab %s: atexit cleanup: %s\n" % (self.name, e))

    def __enter__(self):
        return self.up()

    def __exit__(self, *exc):
        self.down()

    # ---------------------------------------------------------- swanctl / SAs

    def swanctl(self, *args, timeout=30):
        """swanctl in the gateway namespace against the gateway's vici socket."""
        return self.run("gateway", SWANCTL, *args, "--uri", self.gateway_vici,
                        timeout=timeout,
                        env=dict(os.environ, SWANCTL_DIR=self.gw_dir,
                                 STRONGSWAN_CONF=os.path.join(self.gw_dir,
                                                              "strongswan.conf")))

    def initiator_swanctl(self, *args, timeout=30):
        """swanctl in the device namespace against the initiator's socket."""
        return self.run("device", SWANCTL, *args, "--uri", self.initiator_vici,
                        timeout=timeout,
                        env=dict(os.environ, SWANCTL_DIR=self.ini_dir,
                                 STRONGSWAN_CONF=os.path.join(self.ini_dir,
                                                              "strongswan.conf")))

    def sas(self, side="gateway", include_primer=False):
        """IKE SAs as seen by the gateway (or side='initiator'): a list of
        dicts with swanctl's keys (state, initiator-spi, child-sas, ...) plus
        name, spi_i, spi_r, vips, vip and children (a list; each child has
        name, state, spi-in, spi-out, local-ts, remote-ts, ...)."""
        fn = self.swanctl if side == "gateway" else self.initiator_swanctl
        p = fn("--list-sas", "--pretty")
        if p.returncode != 0:
            raise LabError("swanctl --list-sas: %s%s" % (p.stdout, p.stderr))
        sas = _ike_sas_from_blocks(parse_vici_pretty(p.stdout))
        if side == "gateway" and not include_primer:
            sas = [s for s in sas if s.get("remote-host") != self.gateway_cloud_ip
                   and s.get("remote-host") != self.cloud_ip]
        return sas

    def conns(self, side="gateway"):
        """Names of the connections loaded in the gateway's (or the
        initiator's) charon."""
        fn = self.swanctl if side == "gateway" else self.initiator_swanctl
        p = fn("--list-conns")
        if p.returncode != 0:
            raise LabError("swanctl --list-conns: %s%s" % (p.stdout, p.stderr))
        return [ln.split(":")[0] for ln in p.stdout.splitlines()
                if ln and not ln[0].isspace() and ":" in ln]

    def charon_log(self, side="gateway"):
        """The charon log, the logs of earlier runs (restart_gateway) first."""
        d = self.gw_dir if side == "gateway" else self.ini_dir
        out = []
        for i in range(self._restarts if side == "gateway" else 0):
            out.append(os.path.join(d, "charon.log.%d" % i))
        out.append(os.path.join(d, "charon.log"))
        text = ""
        for path in out:
            try:
                with open(path, errors="replace") as f:
                    text += f.read()
            except OSError:
                pass
        return text

    def restart_gateway(self, down_for=0.0):
        """Kill the gateway's charon (SIGKILL: a crash, no Delete sent, every
        SA lost), wait down_for seconds, start it again and load the
        configuration.  The earlier log is kept (charon_log)."""
        proc = self._procs.pop("charon-gw")
        self._step("killing charon (pid %d)" % proc.pid)
        self._stop_proc(proc, sig=signal.SIGKILL)
        log = os.path.join(self.gw_dir, "charon.log")
        if os.path.exists(log):
            os.rename(log, "%s.%d" % (log, self._restarts))
        self._restarts += 1
        time.sleep(down_for)
        self._step("starting charon again")
        self._start_charon("gateway", self.gw_dir, "charon-gw")
        p = self.swanctl("--load-all", "--noprompt", "--file",
                         os.path.join(self.gw_dir, "swanctl.conf"))
        if not _loaded_ok(p):
            raise LabError("swanctl --load-all failed: %s%s" % (p.stdout, p.stderr))

    def loss(self, percent):
        """Drop percent % of the gateway's UDP 500/4500 datagrams at random,
        in both directions (IKE and ESP-in-UDP alike), with nftables;
        loss(0) ends it."""
        self.run("gateway", "nft", "delete", "table", "inet", "labloss")
        if not percent:
            return None
        return self.nft("gateway", (
            "table inet labloss {\n"
            " chain lossin { type filter hook input priority -10; policy accept;\n"
            "  udp dport { 500, 4500 } counter\n"
            "  udp dport { 500, 4500 } numgen random mod 100 < %d counter drop\n }\n"
            " chain lossout { type filter hook output priority -10; policy accept;\n"
            "  udp sport { 500, 4500 } counter\n"
            "  udp sport { 500, 4500 } numgen random mod 100 < %d counter drop\n }\n"
            "}\n") % (percent, percent))

    def loss_stats(self):
        """-> {"in": (seen, dropped), "out": (seen, dropped)}: the gateway's
        UDP 500/4500 datagrams that met loss(), in from the device's side
        and out towards it, and how many of them it dropped"""
        r = self.run("gateway", "nft", "list", "table", "inet", "labloss")
        got = [int(x) for x in re.findall(r"counter packets (\d+)", r.stdout)]
        if len(got) < 4:
            return {"in": (0, 0), "out": (0, 0)}
        return {"in": (got[0], got[1]), "out": (got[2], got[3])}

    def loss_counts(self):
        """-> (dropped inbound, dropped outbound) by loss()"""
        st = self.loss_stats()
        return st["in"][1], st["out"][1]

    def collector_records(self):
        recs = []
        try:
            with open(self.collector_file) as f:
                for line in f:
                    line = line.strip()
                    if line:
                        recs.append(json.loads(line))
        except OSError:
            pass
        return recs

    # ---------------------------------------------------------- captures

    def start_capture(self, ns, iface, filter="", name=None, path=None):
        """Start tcpdump on iface in ns; returns a Capture (stop(), packets(),
        path).  It is also stopped by down().  path: the pcap file (default:
        NAME.pcap in the lab's state folder)."""
        self._captures += 1
        name = name or "cap%d-%s-%s" % (self._captures, ns, iface)
        path = path or os.path.join(self.state_dir, name + ".pcap")
        cap = Capture(self, ns, iface, filter, path)
        cap.start()
        key = "capture-%d" % self._captures
        for k, v in list(self._procs.items()):
            if v is cap.proc:
                del self._procs[k]
        self._procs[key] = cap.proc
        return cap

    def capture_session(self, path=None):
        """Capture what crosses the gateway's device-facing link, IKE and
        ESP-in-UDP (ports 500 and 4500): the device's whole session, as
        Wireshark sees it; returns the Capture (stop() before reading)."""
        return self.start_capture("gateway", self.if_gw_device,
                                  "udp port 500 or udp port 4500",
                                  name="session", path=path)

    def capture(self, ns, iface, filter="", seconds=1.0):
        """Capture for `seconds` and return the parsed packets."""
        cap = self.start_capture(ns, iface, filter)
        time.sleep(seconds)
        return cap.packets()

    # ---------------------------------------------------------- strongSwan initiator

    def start_initiator(self, conf=None, creds=None, charon_opts=None):
        """A second charon in the device namespace as a strongSwan IKEv2
        initiator with the same PSK, ids and proposals (vips = 0.0.0.0 when a
        pool is configured).  Does not initiate: see initiate().
        conf: a dict merged into its connection "lab" (e.g. certificate
        auth: {"local": {"auth": "pubkey", "certs": CERT, "id": ID},
        "remote": {"auth": "pubkey", "id": GW_ID, "cacerts": CA}}), or the
        whole swanctl.conf text; creds: files for its credential folders
        ({"private": [KEY]}); charon_opts: merged into its charon section."""
        if "charon-ini" in self._procs:
            return
        self._step("starting strongSwan initiator in %s" % self.ns_device)
        os.makedirs(self.ini_dir, exist_ok=True)
        with open(os.path.join(self.ini_dir, "strongswan.conf"), "w") as f:
            f.write(self._strongswan_conf(self.ini_dir, self.initiator_vici, False,
                                          charon_opts))
        with open(os.path.join(self.ini_dir, "swanctl.conf"), "w") as f:
            f.write(self._initiator_swanctl_conf(conf))
        _install_creds(self.ini_dir, creds)
        try:
            self._start_charon("device", self.ini_dir, "charon-ini")
        except LabError as e:
            raise LabError("%s\n--- initiator log ---\n%s" % (
                e, _tail(os.path.join(self.ini_dir, "charon.log"))))
        p = self.initiator_swanctl("--load-all", "--noprompt", "--file",
                                   os.path.join(self.ini_dir, "swanctl.conf"))
        if not _loaded_ok(p):
            raise LabError("initiator swanctl --load-all failed: %s%s" % (p.stdout, p.stderr))

    def initiate(self, child=CHILD, timeout=15):
        """`swanctl --initiate --child CHILD` on the initiator; returns the
        elapsed seconds (includes the swanctl process start, ~ms)."""
        t0 = time.monotonic()
        p = self.initiator_swanctl("--initiate", "--child", child, "--timeout",
                                   str(timeout), timeout=timeout + 10)
        dt = time.monotonic() - t0
        if p.returncode != 0:
            raise LabError("initiate failed (%d): %s%s\n--- initiator log ---\n%s\n"
                           "--- gateway log ---\n%s" % (
                               p.returncode, p.stdout, p.stderr,
                               _tail(os.path.join(self.ini_dir, "charon.log")),
                               _tail(os.path.join(self.gw_dir, "charon.log"))))
        return dt

    def terminate(self, ike=CONN, timeout=10):
        return self.initiator_swanctl("--terminate", "--ike", ike, "--timeout",
                                      str(timeout), timeout=timeout + 10)

    # ---------------------------------------------------------- info

    def info(self):
        return {"name": self.name, "ns_device": self.ns_device,
                "ns_gateway": self.ns_gateway, "ns_cloud": self.ns_cloud,
                "device_ip": self.device_ip, "gateway_ip": self.gateway_ip,
                "gateway_cloud_ip": self.gateway_cloud_ip, "cloud_ip": self.cloud_ip,
                "collector_port": self.collector_port, "pool": self.pool,
                "dns": self.dns, "local_ts": self.local_ts, "psk": self.psk,
                "gateway_id": self.gateway_id, "device_id": self.device_id,
                "ike": self.ike, "esp": self.esp, "encap": self.encap,
                "cookies": self.cookies, "state_dir": self.state_dir,
                "includes": [os.path.abspath(p) for p in self.includes],
                "gateway_vici": self.gateway_vici,
                "charon_log": os.path.join(self.gw_dir, "charon.log"),
                "collector_file": self.collector_file, "nat": self.nat,
                "ns_nat": self.ns_nat if self.nat else None,
                "device_public_ip": self.device_public_ip, "path_mtu": self.path_mtu}


# -------------------------------------------------------------- conntrack

# ctnetlink (nfnetlink subsystem 1), enough to list UDP mappings and flush
# the table of the namespace it runs in, without the `conntrack` tool
_NETLINK_NETFILTER = 12
_CT_GET, _CT_DELETE = 0x101, 0x102     # (NFNL_SUBSYS_CTNETLINK << 8) | msg
_NLM_F_REQUEST, _NLM_F_ACK, _NLM_F_DUMP = 1, 4, 0x300


def _nl_attrs(buf):
    out = {}
    off = 0
    while off + 4 <= len(buf):
        ln, typ = struct.unpack_from("=HH", buf, off)
        if ln < 4:
            break
        out[typ & 0x3FFF] = buf[off + 4:off + ln]
        off += (ln + 3) & ~3
    return out


def _nl_request(msg_type, flags):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_NETFILTER)
    try:
        s.bind((0, 0))
        s.send(struct.pack("=IHHII", 20, msg_type, _NLM_F_REQUEST | flags, 1, 0)
               + struct.pack("=BBH", socket.AF_INET, 0, 0))
        msgs = []
        while True:
            data = s.recv(65536)
            off = 0
            while off + 16 <= len(data):
                ln, typ, _f, _seq, _pid = struct.unpack_from("=IHHII", data, off)
                if ln < 16:
                    return msgs
                body = data[off + 16:off + ln]
                off += (ln + 3) & ~3
                if typ == 3:     # NLMSG_DONE
                    return msgs
                if typ == 2:     # NLMSG_ERROR (0: the ACK)
                    err = struct.unpack_from("=i", body)[0]
                    if err:
                        raise OSError(-err, os.strerror(-err))
                    return msgs
                msgs.append(body[4:])  # after the nfgenmsg
    finally:
        s.close()


def ct_list():
    """-> [(proto, private sport, dport, public sport)] for this namespace"""
    out = []
    for body in _nl_request(_CT_GET, _NLM_F_DUMP):
        a = _nl_attrs(body)
        orig = _nl_attrs(_nl_attrs(a.get(1, b"")).get(2, b""))
        reply = _nl_attrs(_nl_attrs(a.get(2, b"")).get(2, b""))
        if 2 in orig and 3 in orig and 3 in reply:
            out.append((orig.get(1, b"\0")[0], struct.unpack("!H", orig[2])[0],
                        struct.unpack("!H", orig[3])[0],
                        struct.unpack("!H", reply[3])[0]))
    return out


def ct_flush():
    """Flush this namespace's conntrack table; -> the entries it held."""
    n = len(_nl_request(_CT_GET, _NLM_F_DUMP))
    _nl_request(_CT_DELETE, _NLM_F_ACK)
    return n


# -------------------------------------------------------------- module helpers

def list_namespaces(prefix=""):
    p = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    names = [ln.split()[0] for ln in p.stdout.splitlines() if ln.strip()]
    return [n for n in names if n.startswith(prefix)]


def namespace_pids(ns):
    p = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
    return [int(x) for x in p.stdout.split() if x.isdigit()]


def kill_namespace_pids(ns, timeout=3.0):
    """SIGTERM then SIGKILL every process inside namespace ns (only ever
    called on a namespace a lab created)."""
    pids = namespace_pids(ns)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.time() + timeout
    while pids and time.time() < deadline:
        time.sleep(0.05)
        pids = namespace_pids(ns)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main(argv=None):
    ap = argparse.ArgumentParser(prog="ikev2-lab", description="strongSwan gateway lab "
                                 "in network namespaces")
    sub = ap.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="bring a lab up, print it as JSON, run until "
                        "Ctrl-C/SIGTERM")
    up.add_argument("--pool", help="virtual IP pool, e.g. 10.99.0.0/24")
    up.add_argument("--dns", help="DNS server handed out with the pool")
    up.add_argument("--encap", action="store_true", help="force UDP encapsulation")
    up.add_argument("--cookies", action="store_true", help="demand a COOKIE always")
    up.add_argument("--nat", action="store_true", help="a masquerading NAT namespace "
                    "between device (10.0.0.2) and gateway")
    up.add_argument("--path-mtu", type=int, metavar="MTU",
                    help="the MTU of the link next to the gateway, e.g. 576")
    up.add_argument("--psk")
    up.add_argument("--ike", default=DEFAULT_IKE)
    up.add_argument("--esp", default=DEFAULT_ESP)
    up.add_argument("--local-ts")
    up.add_argument("--gateway-id", default="gw.lab")
    up.add_argument("--device-id", default="device.lab")
    up.add_argument("--dpd-delay")
    up.add_argument("--rekey-time")
    up.add_argument("--log-level", type=int, default=1)
    up.add_argument("--port", type=int, default=5140, help="collector port")
    up.add_argument("--include", action="append", metavar="FILE",
                    help="another swanctl.conf for the gateway (repeat for more), "
                    "e.g. the one ikev2-pki or ikev2-provision wrote")
    up.add_argument("--private", action="append", metavar="KEY",
                    help="a private key for the gateway's swanctl private/ "
                    "folder, e.g. ikev2-pki's gateway.key")
    up.add_argument("--initiator", action="store_true",
                    help="also start strongSwan's initiator and initiate once")
    up.add_argument("--capture", metavar="FILE.pcap",
                    help="capture IKE and ESP on the gateway's device link "
                    "into FILE.pcap (for Wireshark) while the lab runs")
    sub.add_parser("list", help="namespaces carrying the lab prefix")
    dn = sub.add_parser("down", help="kill the processes in and delete the "
                        "namespaces of a lab left behind (by name)")
    dn.add_argument("name")
    sub.add_parser("_ctflush")      # internal: Lab.nat_flush
    sub.add_parser("_ctlist")       # internal: Lab.nat_mappings
    pr = sub.add_parser("_prime")   # internal: the cookie primer
    pr.add_argument("gateway")
    pr.add_argument("group", type=int)
    a = ap.parse_args(argv)

    if a.cmd == "_ctflush":
        print(ct_flush())
        return 0
    if a.cmd == "_ctlist":
        for m in ct_list():
            if m[0] == 17:
                print(m[1], m[2], m[3])
        return 0
    if a.cmd == "_prime":
        print(prime_half_open(a.gateway, a.group))
        return 0
    if a.cmd == "list":
        for n in list_namespaces(PREFIX):
            print(n)
        return 0
    if a.cmd == "down":
        if not a.name.startswith(PREFIX):
            ap.error("not a lab name: %s" % a.name)
        for ns in list_namespaces(a.name + "-"):
            kill_namespace_pids(ns)
            subprocess.run(["ip", "netns", "del", ns])
            print("deleted", ns)
        return 0

    lab = Lab(psk=a.psk, ike=a.ike, esp=a.esp, local_ts=a.local_ts, pool=a.pool,
              dns=a.dns, encap=a.encap, cookies=a.cookies, local_id=a.gateway_id,
              remote_id=a.device_id, dpd_delay=a.dpd_delay, rekey_time=a.rekey_time,
              log_level=a.log_level, collector_port=a.port,
              includes=a.include or (), creds={"private": a.private} if a.private else None,
              nat=a.nat, path_mtu=a.path_mtu)

    def _term(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, _term)
    signal.signal(signal.SIGHUP, _term)
    try:
        lab.up()
        info = lab.info()
        if a.capture:
            info["capture"] = lab.capture_session(os.path.abspath(a.capture)).path
        if a.initiator:
            lab.start_initiator()
            info["initiate_seconds"] = round(lab.initiate(), 4)
            info["initiator_sas"] = lab.sas("initiator")
        print(json.dumps(info, indent=2), flush=True)
        sys.stderr.write("lab %s: running; Ctrl-C or SIGTERM tears it down\n" % lab.name)
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass
    except LabError as e:
        sys.stderr.write("ikev2-lab: %s\n" % e)
        return 1
    finally:
        lab.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
