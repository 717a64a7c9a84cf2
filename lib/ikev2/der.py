# A minimal DER reader (ITU-T X.690) for X.509 certificates and keys.
#
# Reader(buf, what) walks the TLV elements in buf[pos:end] without copying
# the buffer: sub() returns a Reader over one element's value, and the
# scalar readers return Python values.  Only what certificates need:
# definite lengths (indefinite BER lengths are refused), low tag numbers,
# lengths up to 16 MB and never beyond the input.  Every failure raises
# CertificateError("malformed <what>: <problem> (offset N)"); offsets are
# absolute in the buffer given to the first Reader.
#
# Times: UTCTime (YY < 50 is 20YY, RFC 5280 4.1.2.5.1) and GeneralizedTime,
# both "Z" and with seconds as DER requires, become seconds since
# 1970-01-01 UTC through days_from_civil (H. Hinnant's algorithm).
try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


from .errors import CertificateError

BOOLEAN = const(0x01)
INTEGER = const(0x02)
BIT_STRING = const(0x03)
OCTET_STRING = const(0x04)
NULL = const(0x05)
OID = const(0x06)
UTF8_STRING = const(0x0C)
UTC_TIME = const(0x17)
GENERALIZED_TIME = const(0x18)
SEQUENCE = const(0x30)
SET = const(0x31)


def ctx(n, constructed=True):
    # tag byte of a context-specific [n] element
    return (0xA0 if constructed else 0x80) | n


class Reader:
    def __init__(self, buf, what="DER", pos=0, end=None):
        self.buf = buf
        self.what = what
        self.pos = pos
        self.end = len(buf) if end is None else end
        self.start = pos  # header offset of the last element read

    def fail(self, msg, at=None):
        raise CertificateError("malformed %s: %s (offset %d)"
                               % (self.what, msg, self.pos if at is None else at))

    def more(self):
        return self.pos < self.end

    def peek(self):
        # tag of the next element, -1 at the end
        return self.buf[self.pos] if self.pos < self.end else -1

    def tlv(self, want=None):
        # -> (value start, value end) of the next element; checks its tag
        buf, p, end = self.buf, self.pos, self.end
        if p >= end:
            self.fail("missing element" if want is None
                      else "missing element with tag 0x%02x" % want)
        tag = buf[p]
        if want is not None and tag != want:
            self.fail("expected tag 0x%02x, found 0x%02x" % (want, tag))
        if tag & 0x1F == 0x1F:
            self.fail("high tag numbers are not supported")
        if p + 2 > end:
            self.fail("truncated element")
        n = buf[p + 1]
        q = p + 2
        if n == 0x80:
            self.fail("indefinite length (BER) is not allowed in DER")
        if n > 0x80:
            k = n - 0x80
            if k > 3:
                self.fail("length field of %d bytes" % k)
            if q + k > end:
                self.fail("truncated length")
            n = 0
            for i in range(k):
                n = (n << 8) | buf[q + i]
            q += k
        if n > end - q:
            self.fail("length %d exceeds the %d bytes left" % (n, end - q))
        self.start = p
        self.pos = q + n
        return q, q + n

    def value(self, want=None):
        s, e = self.tlv(want)
        return self.buf[s:e]

    def skip(self):
        self.tlv()

    def raw(self):
        # the whole last element read, header included
        return self.buf[self.start:self.pos]

    def sub(self, want=SEQUENCE):
        s, e = self.tlv(want)
        return Reader(self.buf, self.what, s, e)

    def done(self):
        if self.pos != self.end:
            self.fail("%d unexpected bytes" % (self.end - self.pos))

    def integer(self, want=INTEGER):
        # a non-negative INTEGER (serials, RSA numbers, versions, ECDSA r, s)
        v = self.value(want)
        if not v:
            self.fail("empty INTEGER", self.start)
        if v[0] & 0x80:
            self.fail("negative INTEGER", self.start)
        return int.from_bytes(v, "big")

    def oid(self):
        # the raw OID content bytes: compare with bytes constants
        v = self.value(OID)
        if not v or v[-1] & 0x80:
            self.fail("bad OID", self.start)
        return v

    def bits(self, want=BIT_STRING):
        # -> (unused bit count, bytes) of a BIT STRING
        v = self.value(want)
        if not v or v[0] > 7 or (v[0] and len(v) == 1):
            self.fail("bad BIT STRING", self.start)
        return v[0], v[1:]

    def bitstring(self):
        # a BIT STRING holding whole bytes (keys, signatures)
        u, v = self.bits()
        if u:
            self.fail("BIT STRING with unused bits", self.start)
        return v

    def sub_bits(self):
        # a Reader over the bytes of a BIT STRING with no unused bits
        s, e = self.tlv(BIT_STRING)
        if s == e or self.buf[s]:
            self.fail("bad BIT STRING", self.start)
        return Reader(self.buf, self.what, s + 1, e)

    def octets(self, want=OCTET_STRING):
        return self.value(want)

    def boolean(self):
        v = self.value(BOOLEAN)
        if len(v) != 1:
            self.fail("bad BOOLEAN", self.start)
        return v[0] != 0

    def null(self):
        if self.value(NULL):
            self.fail("bad NULL", self.start)

    def time(self):
        tag = self.peek()
        if tag != UTC_TIME and tag != GENERALIZED_TIME:
            self.fail("expected a UTCTime or GeneralizedTime")
        v = self.value()
        t = parse_time(v, tag == UTC_TIME)
        if t is None:
            self.fail("bad time %r" % bytes(v), self.start)
        return t


def _two(v, i):
    a, b = v[i] - 48, v[i + 1] - 48
    if not (0 <= a <= 9 and 0 <= b <= 9):
        return -1
    return a * 10 + b


def parse_time(v, utc):
    # "YYMMDDHHMMSSZ" (utc) or "YYYYMMDDHHMMSSZ" -> seconds since 1970, or
    # None if it is not one of these DER forms.
    if len(v) != (13 if utc else 15) or v[-1] != 0x5A:
        return None
    i = 2 if utc else 4
    y = _two(v, 0)
    if not utc:
        lo = _two(v, 2)
        if y < 0 or lo < 0:
            return None
        y = y * 100 + lo
    elif y >= 0:
        y += 2000 if y < 50 else 1900
    mo, d, hh, mm, ss = (_two(v, i), _two(v, i + 2), _two(v, i + 4),
                         _two(v, i + 6), _two(v, i + 8))
    if (y < 0 or not 1 <= mo <= 12 or not 1 <= d <= month_days(y, mo)
            or not 0 <= hh <= 23 or not 0 <= mm <= 59 or not 0 <= ss <= 59):
        return None
    return days_from_civil(y, mo, d) * 86400 + hh * 3600 + mm * 60 + ss


def month_days(y, m):
    if m == 2:
        return 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    return 30 if m in (4, 6, 9, 11) else 31


def days_from_civil(y, m, d):
    # days since 1970-01-01 of a proleptic Gregorian date
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z):
    # the inverse: days since 1970-01-01 -> (y, m, d)
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if m <= 2 else 0), m, d


def format_time(t, with_time=False):
    # seconds since 1970 -> "2021-03-01" (or "2021-03-01 12:00:00")
    days = t // 86400
    y, m, d = civil_from_days(days)
    s = "%04d-%02d-%02d" % (y, m, d)
    if with_time:
        r = t - days * 86400
        s += " %02d:%02d:%02d" % (r // 3600, r // 60 % 60, r % 60)
    return s


def oid_str(b):
    # raw OID content bytes -> "1.2.840.113549.1.1.11"
    out = []
    n = 0
    for x in b:
        n = (n << 7) | (x & 0x7F)
        if not x & 0x80:
            if not out:
                first = n // 40 if n < 80 else 2
                out.append(str(first))
                n -= 40 * first
            out.append(str(n))
            n = 0
    return ".".join(out)


# Encoding, for the little the library writes: RFC 7427 AUTH data, the
# AlgorithmIdentifier of our signature and an ECDSA Ecdsa-Sig-Value
# (ecdsa-with-SHA256 has no parameters, sha256WithRSAEncryption NULL ones).
ALG_ECDSA_SHA256 = b"\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02"
ALG_RSA_SHA256 = b"\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b\x05\x00"

def encode(tag, value):
    n = len(value)
    if n < 0x80:
        hdr = bytes((tag, n))
    elif n < 0x100:
        hdr = bytes((tag, 0x81, n))
    else:
        hdr = bytes((tag, 0x82, n >> 8, n & 0xFF))
    return hdr + value


def encode_int(n):
    # a non-negative int -> DER INTEGER element
    if n < 0:
        raise CertificateError("cannot encode a negative INTEGER")
    k = 1
    while n >> (8 * k):
        k += 1
    b = n.to_bytes(k, "big")
    if b[0] & 0x80:
        b = b"\x00" + b
    return encode(INTEGER, b)


def encode_ecdsa_sig(r, s):
    # Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
    return encode(0x30, encode_int(r) + encode_int(s))
