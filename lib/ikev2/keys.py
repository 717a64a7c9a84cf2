# Key derivation, RFC 7296 sections 2.13 to 2.18, and the shared-key AUTH
# payload (2.15).  The PRF is PRF_HMAC_SHA2_256 (the only one negotiated
# here), so every function takes the crypto backend `c` and uses its
# hmac_sha256.  Nothing here logs or keeps keys beyond its return value.
from .errors import CryptoError
from . import const as C

PRF_LEN = 32  # output and preferred key length of PRF_HMAC_SHA2_256
KEY_PAD = b"Key Pad for IKEv2"


def prf_plus(c, key, seed, n):
    # prf+ (K,S) = T1 | T2 | T3 | ...,  Tn = prf(K, Tn-1 | S | n)
    if n > 255 * PRF_LEN:
        raise CryptoError("prf+ cannot produce %d bytes" % n)
    out = bytearray()
    t = b""
    i = 1
    while len(out) < n:
        t = c.hmac_sha256(key, t + seed + bytes((i,)))
        out += t
        i += 1
    return bytes(out[:n])


def skeyseed(c, ni, nr, gir):
    # 2.14: SKEYSEED = prf(Ni | Nr, g^ir)
    return c.hmac_sha256(ni + nr, gir)


def rekey_skeyseed(c, old_sk_d, gir, ni, nr):
    # 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)
    return c.hmac_sha256(old_sk_d, gir + ni + nr)


class IKEKeys:
    # The seven IKE SA keys of 2.14:
    # {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
    #     = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr)
    # encr_len includes the 4-byte salt for AES-GCM; integ_len is 0 there.
    def __init__(self, c, seed, ni, nr, spi_i, spi_r, encr_len, integ_len):
        km = prf_plus(c, seed, ni + nr + spi_i + spi_r,
                      3 * PRF_LEN + 2 * integ_len + 2 * encr_len)
        p = 0
        self.sk_d = km[p:p + PRF_LEN]
        p += PRF_LEN
        self.sk_ai = km[p:p + integ_len]
        p += integ_len
        self.sk_ar = km[p:p + integ_len]
        p += integ_len
        self.sk_ei = km[p:p + encr_len]
        p += encr_len
        self.sk_er = km[p:p + encr_len]
        p += encr_len
        self.sk_pi = km[p:p + PRF_LEN]
        p += PRF_LEN
        self.sk_pr = km[p:p + PRF_LEN]

    def __repr__(self):
        return "IKEKeys(<secret>)"  # never print keys by accident


def child_keymat(c, sk_d, ni, nr, encr_len, integ_len, gir=None):
    # 2.17: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr).  Keys for the
    # initiator-to-responder SA come first, encryption key before
    # integrity key.  Returns (encr_i, integ_i, encr_r, integ_r).
    seed = ni + nr if gir is None else gir + ni + nr
    km = prf_plus(c, sk_d, seed, 2 * (encr_len + integ_len))
    a = encr_len
    b = a + integ_len
    return km[:a], km[a:b], km[b:b + encr_len], km[b + encr_len:]


def psk_auth(c, psk, real_message, nonce, sk_p, id_body):
    # 2.15: AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)
    # <SignedOctets> = RealMessage | NonceData | prf(SK_p, RestOfIDPayload)
    # For the initiator: RealMessage1 (its IKE_SA_INIT request), Nr, SK_pi,
    # IDi body.  For the responder: RealMessage2, Ni, SK_pr, IDr body.
    if not psk:
        raise CryptoError("empty pre-shared key")
    return c.hmac_sha256(c.hmac_sha256(psk, KEY_PAD),
                         real_message + nonce + c.hmac_sha256(sk_p, id_body))


def encr_key_len(encr, keylen_bits):
    # key bytes taken from KEYMAT for an encryption transform
    if encr == C.ENCR_AES_GCM_16:
        return keylen_bits // 8 + 4  # RFC 4106 / RFC 5282 salt
    return keylen_bits // 8


def integ_key_len(integ):
    if integ == C.AUTH_HMAC_SHA2_256_128:
        return 32
    if integ == C.AUTH_NONE:
        return 0
    raise CryptoError("unsupported integrity transform %d" % integ)
