# Cryptographic processing of the Encrypted payload (RFC 7296 3.14) and of
# its fragments (RFC 7383 2.5), for the IKE SA's two transforms:
#   ENCR_AES_CBC + AUTH_HMAC_SHA2_256_128: random 16-byte IV, the ICV is
#     the first 16 bytes of HMAC-SHA-256 over header..ciphertext;
#   ENCR_AES_GCM_16 (RFC 5282): 8-byte explicit IV, nonce = salt | IV,
#     AAD = IKE header | SK header, 16-byte tag, no integrity transform.
# One Cipher protects one direction (SK_ei/SK_ai or SK_er/SK_ar).
from struct import pack
from .errors import IntegrityError, ConfigError, DecodeError
from . import const as C


class Cipher:
    def __init__(self, crypto, encr, key, integ=C.AUTH_NONE, ikey=b"",
                 rng=None):
        self.c = crypto
        self.encr = encr
        if encr == C.ENCR_AES_CBC:
            if len(key) not in (16, 24, 32):
                raise ConfigError("AES-CBC key must be 16, 24 or 32 bytes")
            if integ != C.AUTH_HMAC_SHA2_256_128 or len(ikey) != 32:
                raise ConfigError("AES-CBC needs HMAC-SHA2-256-128 and a "
                                  "32-byte integrity key")
            if rng is None:
                raise ConfigError("AES-CBC needs a random source for IVs")
            self.iv_len = 16
            self.icv_len = 16
            self.block = 16
        elif encr == C.ENCR_AES_GCM_16:
            if len(key) not in (20, 28, 36):
                raise ConfigError("AES-GCM key must be 16/24/32 bytes + salt")
            if integ != C.AUTH_NONE:
                raise ConfigError("AES-GCM takes no integrity transform")
            self.iv_len = 8
            self.icv_len = 16
            self.block = 1  # no padding needed, only the Pad Length octet
            self.salt = key[-4:]
            key = key[:-4]
            self.counter = 0
        else:
            raise ConfigError("unsupported encryption transform %d" % encr)
        self.key = bytes(key)
        self.ikey = bytes(ikey)
        self.rng = rng

    # The padding: so that inner | padding | pad length fills whole cipher
    # blocks, -(n + 1) % self.block bytes for n inner bytes.
    def sealed_len(self, n):
        # IV | ciphertext | ICV for n bytes of inner payloads
        return self.iv_len + n + -(n + 1) % self.block + 1 + self.icv_len

    def max_plain(self, room):
        # most inner bytes whose sealed form fits in room
        n = room - self.iv_len - self.icv_len
        return n - n % self.block - 1

    def seal(self, aad, inner):
        pad = -(len(inner) + 1) % self.block
        pt = inner + bytes(pad) + bytes((pad,))
        if self.encr == C.ENCR_AES_CBC:
            iv = self.rng(16)
            ct = self.c.aes_cbc_encrypt(self.key, iv, pt)
            icv = self.c.hmac_sha256(self.ikey, aad + iv + ct)[:16]
            return iv + ct + icv
        self.counter += 1
        iv = pack(">Q", self.counter)
        return iv + self.c.aes_gcm_seal(self.key, self.salt + iv, aad, pt)

    def open(self, aad, body):
        # -> inner payload bytes; IntegrityError if the ICV does not verify
        n = len(body) - self.iv_len - self.icv_len
        if n < 1 or (self.encr == C.ENCR_AES_CBC and n % 16):
            raise IntegrityError("Encrypted payload of bad length")
        iv = body[:self.iv_len]
        if self.encr == C.ENCR_AES_CBC:
            ct = body[16:-16]
            mac = self.c.hmac_sha256(self.ikey, aad + iv + ct)[:16]
            if not self.c.ct_eq(mac, body[-16:]):
                raise IntegrityError("ICV mismatch")
            pt = self.c.aes_cbc_decrypt(self.key, iv, ct)
        else:
            pt = self.c.aes_gcm_open(self.key, self.salt + iv, aad,
                                     body[self.iv_len:])
            if pt is None:
                raise IntegrityError("AES-GCM tag mismatch")
        pad = pt[-1]
        if pad + 1 > len(pt):
            raise DecodeError("Encrypted payload: bad pad length")
        return pt[:len(pt) - 1 - pad]
