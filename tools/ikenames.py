# IANA names of the IKEv2 numbers (RFC 7296 section 3 and the IANA
# "Internet Key Exchange Version 2 (IKEv2) Parameters" registries), for the
# trace renderer (trace.py) and for logs.  A gateway may send values the
# library never uses (MOBIKE_SUPPORTED, vendor notifies, CP attributes), so
# the tables are the whole registries, not just what const.py defines.  The
# names const.py gives already (notify, ID, TS and CP types) are taken from
# it, so that a number is named in one place.
#
# Every lookup returns a name for any number: "UNKNOWN(n)" for an
# unassigned one, "PRIVATE(n)" (or PRIVATE_ERROR/PRIVATE_STATUS) for the
# registries' private-use ranges.
import sys

from . import LIB

if LIB not in sys.path:
    sys.path.insert(0, LIB)

from ikev2 import const as C  # noqa: E402


def _const(prefix, strip=True, only=None):
    # {number: name} of const.py's names starting with prefix
    out = {}
    for name, value in vars(C).items():
        if name.startswith(prefix) and (only is None or name in only):
            out[value] = name[len(prefix):] if strip else name
    return out


def _name(table, n, private=None):
    # table[n]; else PRIVATE(n) when n >= private; else UNKNOWN(n)
    try:
        return table[n]
    except (KeyError, TypeError):
        pass
    if private is not None and isinstance(n, int) and n >= private:
        return "PRIVATE(%s)" % n
    return "UNKNOWN(%s)" % n


def _lookup(table, private=None):
    # the lookup function of a table (numbers from private on: private use)
    def name(n):
        return _name(table, n, private)
    return name


# ------------------------------------------------------------ exchanges
EXCHANGES = {
    34: "IKE_SA_INIT", 35: "IKE_AUTH", 36: "CREATE_CHILD_SA",
    37: "INFORMATIONAL", 38: "IKE_SESSION_RESUME", 39: "GSA_AUTH",
    40: "GSA_REGISTRATION", 41: "GSA_REKEY", 43: "IKE_INTERMEDIATE",
    44: "IKE_FOLLOWUP_KE", 45: "GSA_INBAND_REKEY",
}


exchange = _lookup(EXCHANGES, 240)


# ------------------------------------------------------------ payloads
# (short name as in the diagrams of RFC 7296, long name)
PAYLOADS = {
    0: ("NONE", "No Next Payload"),
    33: ("SA", "Security Association"),
    34: ("KE", "Key Exchange"),
    35: ("IDi", "Identification - Initiator"),
    36: ("IDr", "Identification - Responder"),
    37: ("CERT", "Certificate"),
    38: ("CERTREQ", "Certificate Request"),
    39: ("AUTH", "Authentication"),
    40: ("Ni/Nr", "Nonce"),
    41: ("N", "Notify"),
    42: ("D", "Delete"),
    43: ("V", "Vendor ID"),
    44: ("TSi", "Traffic Selector - Initiator"),
    45: ("TSr", "Traffic Selector - Responder"),
    46: ("SK", "Encrypted and Authenticated"),
    47: ("CP", "Configuration"),
    48: ("EAP", "Extensible Authentication"),
    49: ("GSPM", "Generic Secure Password Method"),
    50: ("IDg", "Group Identification"),
    51: ("GSA", "Group Security Association"),
    52: ("KD", "Key Download"),
    53: ("SKF", "Encrypted and Authenticated Fragment"),
    54: ("PS", "Puzzle Solution"),
}


def payload(n, response=None):
    """Short name: SA, KE, IDi, N, ...; the nonce is Ni in a request and Nr
    in a response (response=None: Ni/Nr)."""
    if n == C.PT_NONCE and response is not None:
        return "Nr" if response else "Ni"
    p = PAYLOADS.get(n)
    return p[0] if p else _name({}, n, private=128)


def payload_long(n):
    p = PAYLOADS.get(n)
    return p[1] if p else _name({}, n, private=128)


# ------------------------------------------------------------ notify types
# errors below 16384, status from 16384; const.py names the ones the
# library handles
NOTIFIES = _const("N_")
NOTIFIES.update({
    40: "UNACCEPTABLE_ADDRESSES", 41: "UNEXPECTED_NAT_DETECTED",
    42: "USE_ASSIGNED_HoA", 45: "INVALID_GROUP_ID", 46: "AUTHORIZATION_FAILED",
    47: "STATE_NOT_FOUND", 48: "TS_MAX_QUEUE",
    16392: "HTTP_CERT_LOOKUP_SUPPORTED", 16396: "MOBIKE_SUPPORTED",
    16397: "ADDITIONAL_IP4_ADDRESS", 16398: "ADDITIONAL_IP6_ADDRESS",
    16399: "NO_ADDITIONAL_ADDRESSES", 16400: "UPDATE_SA_ADDRESSES",
    16401: "COOKIE2", 16402: "NO_NATS_ALLOWED", 16403: "AUTH_LIFETIME",
    16404: "MULTIPLE_AUTH_SUPPORTED", 16405: "ANOTHER_AUTH_FOLLOWS",
    16406: "REDIRECT_SUPPORTED", 16407: "REDIRECT", 16408: "REDIRECTED_FROM",
    16409: "TICKET_LT_OPAQUE", 16410: "TICKET_REQUEST", 16411: "TICKET_ACK",
    16412: "TICKET_NACK", 16413: "TICKET_OPAQUE", 16414: "LINK_ID",
    16415: "USE_WESP_MODE", 16416: "ROHC_SUPPORTED",
    16417: "EAP_ONLY_AUTHENTICATION", 16418: "CHILDLESS_IKEV2_SUPPORTED",
    16419: "QUICK_CRASH_DETECTION", 16420: "IKEV2_MESSAGE_ID_SYNC_SUPPORTED",
    16421: "IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED",
    16422: "IKEV2_MESSAGE_ID_SYNC", 16423: "IPSEC_REPLAY_COUNTER_SYNC",
    16424: "SECURE_PASSWORD_METHODS", 16425: "PSK_PERSIST",
    16426: "PSK_CONFIRM", 16427: "ERX_SUPPORTED", 16428: "IFOM_CAPABILITY",
    16429: "SENDER_REQUEST_ID", 16432: "CLONE_IKE_SA_SUPPORTED",
    16433: "CLONE_IKE_SA", 16434: "PUZZLE", 16435: "USE_PPK",
    16436: "PPK_IDENTITY", 16437: "NO_PPK_AUTH",
    16438: "INTERMEDIATE_EXCHANGE_SUPPORTED", 16439: "IP4_ALLOWED",
    16440: "IP6_ALLOWED", 16441: "ADDITIONAL_KEY_EXCHANGE",
    16442: "USE_AGGFRAG", 16443: "SUPPORTED_AUTH_METHODS",
    16444: "SA_RESOURCE_INFO",
})
STATUS = 16384  # notify types from here on are status, below errors


def notify(n):
    if n in NOTIFIES:
        return NOTIFIES[n]
    if isinstance(n, int) and 8192 <= n < STATUS:
        return "PRIVATE_ERROR(%d)" % n
    if isinstance(n, int) and n >= 40960:
        return "PRIVATE_STATUS(%d)" % n
    return "UNKNOWN(%s)" % n


def notify_kind(n):
    return "error" if isinstance(n, int) and n < STATUS else "status"


# ------------------------------------------------------------ transforms
TRANSFORM_TYPES = {1: "ENCR", 2: "PRF", 3: "INTEG", 4: "D-H", 5: "ESN"}
TRANSFORM_TYPES.update({5 + i: "ADDKE%d" % i for i in range(1, 8)})  # RFC 9370

ENCR = {
    1: "DES_IV64", 2: "DES", 3: "3DES", 4: "RC5", 5: "IDEA", 6: "CAST",
    7: "BLOWFISH", 8: "3IDEA", 9: "DES_IV32", 11: "NULL", 12: "AES_CBC",
    13: "AES_CTR", 14: "AES_CCM_8", 15: "AES_CCM_12", 16: "AES_CCM_16",
    18: "AES_GCM_8", 19: "AES_GCM_12", 20: "AES_GCM_16",
    21: "NULL_AUTH_AES_GMAC", 23: "CAMELLIA_CBC", 24: "CAMELLIA_CTR",
    25: "CAMELLIA_CCM_8", 26: "CAMELLIA_CCM_12", 27: "CAMELLIA_CCM_16",
    28: "CHACHA20_POLY1305", 29: "AES_CCM_8_IIV", 30: "AES_GCM_16_IIV",
    31: "CHACHA20_POLY1305_IIV", 32: "KUZNYECHIK_MGM_KTREE",
    33: "MAGMA_MGM_KTREE", 34: "KUZNYECHIK_MGM_MAC_KTREE",
    35: "MAGMA_MGM_MAC_KTREE",
}
PRF = {
    1: "HMAC_MD5", 2: "HMAC_SHA1", 3: "HMAC_TIGER", 4: "AES128_XCBC",
    5: "HMAC_SHA2_256", 6: "HMAC_SHA2_384", 7: "HMAC_SHA2_512",
    8: "AES128_CMAC", 9: "HMAC_STREEBOG_512",
}
INTEG = {
    0: "NONE", 1: "HMAC_MD5_96", 2: "HMAC_SHA1_96", 3: "DES_MAC",
    4: "KPDK_MD5", 5: "AES_XCBC_96", 6: "HMAC_MD5_128", 7: "HMAC_SHA1_160",
    8: "AES_CMAC_96", 9: "AES_128_GMAC", 10: "AES_192_GMAC",
    11: "AES_256_GMAC", 12: "HMAC_SHA2_256_128", 13: "HMAC_SHA2_384_192",
    14: "HMAC_SHA2_512_256",
}
DH = {  # Key Exchange Methods (RFC 9370's name for D-H groups)
    0: "NONE", 1: "MODP768", 2: "MODP1024", 5: "MODP1536", 14: "MODP2048",
    15: "MODP3072", 16: "MODP4096", 17: "MODP6144", 18: "MODP8192",
    19: "ECP256", 20: "ECP384", 21: "ECP521", 22: "MODP1024_S160",
    23: "MODP2048_S224", 24: "MODP2048_S256", 25: "ECP192", 26: "ECP224",
    27: "BRAINPOOLP224R1", 28: "BRAINPOOLP256R1", 29: "BRAINPOOLP384R1",
    30: "BRAINPOOLP512R1", 31: "Curve25519", 32: "Curve448",
    33: "GOST3410_2012_256", 34: "GOST3410_2012_512", 35: "ML-KEM-512",
    36: "ML-KEM-768", 37: "ML-KEM-1024",
}
ESN = {0: "No", 1: "Yes"}
TRANSFORM_IDS = {1: ENCR, 2: PRF, 3: INTEG, 4: DH, 5: ESN}


transform_type = _lookup(TRANSFORM_TYPES, 241)


def transform_id(ttype, tid):
    # additional key exchanges (types 6-12) use the D-H table
    table = TRANSFORM_IDS.get(ttype, DH if ttype in TRANSFORM_TYPES else {})
    return _name(table, tid, private=1024)


def transform(ttype, tid, keylen=None):
    """"ENCR AES_CBC (128-bit)", "PRF HMAC_SHA2_256", "D-H Curve25519",
    "ESN No"."""
    s = "%s %s" % (transform_type(ttype), transform_id(ttype, tid))
    return s + " (%s-bit)" % keylen if keylen else s


dh_group = _lookup(DH, 1024)


# ------------------------------------------------------------ other registries
PROTOCOLS = {0: "none", 1: "IKE", 2: "AH", 3: "ESP", 4: "FC_ESP_HEADER",
             5: "FC_CT_AUTHENTICATION", 6: "GIKE_UPDATE"}

ID_TYPES = _const("ID_", strip=False)
ID_TYPES.update({12: "ID_FC_NAME", 13: "ID_NULL"})

AUTH_METHODS = {
    1: "RSA_SIG", 2: "SHARED_KEY", 3: "DSS_SIG", 9: "ECDSA_256",
    10: "ECDSA_384", 11: "ECDSA_521", 12: "GSPM", 13: "NULL",
    14: "DIGITAL_SIGNATURE",
}

CFG_TYPES = _const("CFG_", strip=False,
                   only=("CFG_REQUEST", "CFG_REPLY", "CFG_SET", "CFG_ACK"))
CFG_ATTRS = _const("CFG_INTERNAL_", strip=False)
CFG_ATTRS = {n: name[4:] for n, name in CFG_ATTRS.items()}  # no "CFG_"
CFG_ATTRS.update({
    4: "INTERNAL_IP4_NBNS", 6: "INTERNAL_IP4_DHCP", 7: "APPLICATION_VERSION",
    12: "INTERNAL_IP6_DHCP", 13: "INTERNAL_IP4_SUBNET",
    14: "SUPPORTED_ATTRIBUTES", 15: "INTERNAL_IP6_SUBNET",
    16: "MIP6_HOME_PREFIX", 17: "INTERNAL_IP6_LINK",
    18: "INTERNAL_IP6_PREFIX", 19: "HOME_AGENT_ADDRESS",
    20: "P_CSCF_IP4_ADDRESS", 21: "P_CSCF_IP6_ADDRESS", 22: "FTT_KAT",
    23: "EXTERNAL_SOURCE_IP4_NAT_INFO",
    24: "TIMEOUT_PERIOD_FOR_LIVENESS_CHECK", 25: "INTERNAL_DNS_DOMAIN",
    26: "INTERNAL_DNSSEC_TA", 27: "ENCDNS_IP4", 28: "ENCDNS_IP6",
    29: "ENCDNS_DIGEST_INFO",
})

TS_TYPES = _const("TS_", strip=False)
TS_TYPES.update({9: "TS_FC_ADDR_RANGE", 10: "TS_SECLABEL"})

CERT_ENCODINGS = {
    1: "PKCS #7 wrapped X.509 certificate", 2: "PGP Certificate",
    3: "DNS Signed Key", 4: "X.509 Certificate - Signature",
    6: "Kerberos Token", 7: "Certificate Revocation List (CRL)",
    8: "Authority Revocation List (ARL)", 9: "SPKI Certificate",
    10: "X.509 Certificate - Attribute", 11: "Raw RSA Key",
    12: "Hash and URL of X.509 certificate",
    13: "Hash and URL of X.509 bundle", 14: "OCSP Content",
    15: "Raw Public Key",
}

# inner packets (ESP records) and traffic selector protocols
IP_PROTOCOLS = {0: "any", 1: "ICMP", 2: "IGMP", 4: "IPIP", 6: "TCP",
                17: "UDP", 41: "IPv6", 47: "GRE", 50: "ESP", 51: "AH",
                58: "IPv6-ICMP", 132: "SCTP"}
ICMP_TYPES = {0: "echo reply", 3: "destination unreachable",
              5: "redirect", 8: "echo request", 11: "time exceeded",
              12: "parameter problem"}


protocol = _lookup(PROTOCOLS, 201)
id_type = _lookup(ID_TYPES, 249)
auth_method = _lookup(AUTH_METHODS, 201)
cfg_type = _lookup(CFG_TYPES, 128)
cfg_attr = _lookup(CFG_ATTRS, 16384)
ts_type = _lookup(TS_TYPES, 241)
cert_encoding = _lookup(CERT_ENCODINGS, 201)


def ip_proto(n):
    return IP_PROTOCOLS.get(n, "protocol %s" % n)


def icmp_type(n):
    return ICMP_TYPES.get(n, "type %s" % n)
