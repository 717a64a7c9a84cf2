# Constant-time comparison in viper code, for the ESP hot path on
# MicroPython (the ICV check of every packet): the mpy backend uses it
# where it imports (a native emitter, an .mpy built for this CPU) and
# util.ct_eq otherwise.  Same contract as util.ct_eq: the time depends on
# the length only.
import micropython


@micropython.viper
def _diff(a: ptr8, b: ptr8, n: int) -> int:
    r = 0
    i = 0
    while i < n:
        r |= a[i] ^ b[i]
        i += 1
    return r


def ct_eq(a, b):
    n = len(a)
    return n == len(b) and _diff(a, b, n) == 0
