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


_cache_key = None
_cache_pads = None


def hmac_sha256(key, data):
    # RFC 2104 on hashlib.  MicroPython's hash objects have no copy(), so
    # the padded keys of the last key used are cached instead of the inner
    # and outer states: prf+ and the ICV reuse one key many times.
    global _cache_key, _cache_pads
    if key != _cache_key:
        k = key
        if len(k) > 64:
            k = hashlib.sha256(k).digest()
        k = k + bytes(64 - len(k))
        _cache_pads = (_xor_pad(k, 0x36), _xor_pad(k, 0x5C))
        _cache_key = bytes(key)
    ipad, opad = _cache_pads
    h = hashlib.sha256(ipad)
    h.update(data)
    inner = h.digest()
    h = hashlib.sha256(opad)
    h.update(inner)
    return h.digest()
