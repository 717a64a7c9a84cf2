# Helpers shared by the MicroPython and pure backends.
import hashlib


def ct_eq(a, b):
    # Constant-time comparison: the time depends on the length only.
    if len(a) != len(b):
        return False
    r = 0
    for i in range(len(a)):
        r |= a[i] ^ b[i]
    return r == 0


def sha256(data):
    return hashlib.sha256(data).digest()


def sha1(data):
    # only for NAT detection hashes (RFC 7296 2.23), never for security
    return hashlib.sha1(data).digest()


def _xor_pad(key, byte):
    # key (64 bytes) XOR a repeated byte, through one big-int operation
    k = int.from_bytes(key, "big")
    return (k ^ int.from_bytes(bytes((byte,)) * 64, "big")).to_bytes(64, "big")


# the padded keys of the last two keys used: [key, (ipad, opad), key, ...]
_cache = [None, None, None, None]


def _pads(k):
    if len(k) > 64:
        k = hashlib.sha256(k).digest()
    k = k + bytes(64 - len(k))
    return _xor_pad(k, 0x36), _xor_pad(k, 0x5C)


def hmac_key(key):
    # a key prepared for hmac_sha256 (for a key used for every packet)
    return _pads(key)


def hmac_sha256(key, data):
    # RFC 2104 on hashlib.  MicroPython's hash objects have no copy(), so
    # the padded keys are cached instead of the inner and outer states:
    # prf+ reuses one key many times, and the SK payloads alternate two.
    # key: bytes, or a key from hmac_key().
    c = _cache
    if type(key) is tuple:
        pads = key
    elif key == c[0]:
        pads = c[1]
    elif key == c[2]:
        pads = c[3]
        c[0], c[1], c[2], c[3] = c[2], pads, c[0], c[1]
    else:
        pads = _pads(key)
        c[2], c[3] = c[0], c[1]
        c[0], c[1] = bytes(key), pads
    ipad, opad = pads
    h = hashlib.sha256(ipad)
    h.update(data)
    inner = h.digest()
    h = hashlib.sha256(opad)
    h.update(inner)
    return h.digest()
