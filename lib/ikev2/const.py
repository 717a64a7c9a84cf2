# IKEv2 protocol numbers (RFC 7296 section 3 and the IANA registries).
try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


IKE_VERSION = const(0x20)  # major 2, minor 0
IKE_HEADER_LEN = const(28)
GENERIC_HDR_LEN = const(4)

# Exchange types
IKE_SA_INIT = const(34)
IKE_AUTH = const(35)
CREATE_CHILD_SA = const(36)
INFORMATIONAL = const(37)

# Header flags
FLAG_INITIATOR = const(0x08)
FLAG_VERSION = const(0x10)
FLAG_RESPONSE = const(0x20)

# Payload types
PT_NONE = const(0)
PT_SA = const(33)
PT_KE = const(34)
PT_IDI = const(35)
PT_IDR = const(36)
PT_CERT = const(37)
PT_CERTREQ = const(38)
PT_AUTH = const(39)
PT_NONCE = const(40)
PT_NOTIFY = const(41)
PT_DELETE = const(42)
PT_VENDOR = const(43)
PT_TSI = const(44)
PT_TSR = const(45)
PT_SK = const(46)
PT_CP = const(47)
PT_EAP = const(48)
PT_SKF = const(53)

# Protocol IDs (SA proposals, Notify, Delete)
PROTO_IKE = const(1)
PROTO_AH = const(2)
PROTO_ESP = const(3)

# Transform types
TRANS_ENCR = const(1)
TRANS_PRF = const(2)
TRANS_INTEG = const(3)
TRANS_DH = const(4)
TRANS_ESN = const(5)

# Transform IDs used here
ENCR_AES_CBC = const(12)
ENCR_AES_GCM_16 = const(20)
PRF_HMAC_SHA2_256 = const(5)
# our nonces (RFC 7296 2.10): at least 128 bits and half the PRF's key
# size, 32 bytes for PRF_HMAC_SHA2_256, the only PRF here; no longer, as
# every byte crosses the air
NONCE_LEN = const(16)
AUTH_NONE = const(0)
AUTH_HMAC_SHA2_256_128 = const(12)
DH_NONE = const(0)
DH_MODP2048 = const(14)
DH_ECP256 = const(19)
DH_CURVE25519 = const(31)
ESN_NO = const(0)
ESN_YES = const(1)

# Transform attribute types
ATTR_KEY_LENGTH = const(14)

# Identification types
ID_IPV4_ADDR = const(1)
ID_FQDN = const(2)
ID_RFC822_ADDR = const(3)
ID_IPV6_ADDR = const(5)
ID_DER_ASN1_DN = const(9)
ID_DER_ASN1_GN = const(10)
ID_KEY_ID = const(11)

# Authentication methods
AUTH_RSA_SIG = const(1)
AUTH_SHARED_KEY = const(2)
AUTH_DSS_SIG = const(3)
AUTH_ECDSA_256 = const(9)
AUTH_DIGITAL_SIGNATURE = const(14)

# Certificate encodings
CERT_X509_SIG = const(4)

# Traffic selector types
TS_IPV4_ADDR_RANGE = const(7)
TS_IPV6_ADDR_RANGE = const(8)

# Configuration payload
CFG_REQUEST = const(1)
CFG_REPLY = const(2)
CFG_SET = const(3)
CFG_ACK = const(4)
CFG_INTERNAL_IP4_ADDRESS = const(1)
CFG_INTERNAL_IP4_NETMASK = const(2)
CFG_INTERNAL_IP4_DNS = const(3)
CFG_INTERNAL_IP6_ADDRESS = const(8)
CFG_INTERNAL_IP6_DNS = const(10)

# Notify message types: errors (< 16384)
N_UNSUPPORTED_CRITICAL_PAYLOAD = const(1)
N_INVALID_IKE_SPI = const(4)
N_INVALID_MAJOR_VERSION = const(5)
N_INVALID_SYNTAX = const(7)
N_INVALID_MESSAGE_ID = const(9)
N_INVALID_SPI = const(11)
N_NO_PROPOSAL_CHOSEN = const(14)
N_INVALID_KE_PAYLOAD = const(17)
N_AUTHENTICATION_FAILED = const(24)
N_SINGLE_PAIR_REQUIRED = const(34)
N_NO_ADDITIONAL_SAS = const(35)
N_INTERNAL_ADDRESS_FAILURE = const(36)
N_FAILED_CP_REQUIRED = const(37)
N_TS_UNACCEPTABLE = const(38)
N_INVALID_SELECTORS = const(39)
N_TEMPORARY_FAILURE = const(43)
N_CHILD_SA_NOT_FOUND = const(44)

# Notify message types: status (>= 16384)
N_INITIAL_CONTACT = const(16384)
N_SET_WINDOW_SIZE = const(16385)
N_ADDITIONAL_TS_POSSIBLE = const(16386)
N_IPCOMP_SUPPORTED = const(16387)
N_NAT_DETECTION_SOURCE_IP = const(16388)
N_NAT_DETECTION_DESTINATION_IP = const(16389)
N_COOKIE = const(16390)
N_USE_TRANSPORT_MODE = const(16391)
N_REKEY_SA = const(16393)
N_ESP_TFC_PADDING_NOT_SUPPORTED = const(16394)
N_NON_FIRST_FRAGMENTS_ALSO = const(16395)
N_IKEV2_FRAGMENTATION_SUPPORTED = const(16430)
N_SIGNATURE_HASH_ALGORITHMS = const(16431)
