# ikev2: a memory-frugal IKEv2 initiator and ESP encapsulator for
# MicroPython and CPython.  Modules are imported one by one on purpose
# (e.g. `from ikev2 import message`): importing the package costs next to
# nothing, only the few helpers below that manage MicroPython's heap.
VERSION = "0.1.0"


def _forget(*names):
    # MicroPython: drop modules that one phase needs (the configuration
    # check, the handshake) once it is over, so that their code, which
    # lives in RAM, is freed; they are imported again when next needed.
    # CPython keeps them.
    import sys

    if sys.implementation.name != "micropython":
        return
    for name in names:
        if sys.modules.pop(name, None) is not None:
            pkg, _, attr = name.rpartition(".")
            try:
                delattr(sys.modules[pkg], attr)
            except (KeyError, AttributeError):
                pass


def _tidy():
    # MicroPython: a collection before making objects that live long (keys,
    # the Child SA) places them low in the heap instead of among the
    # garbage: MicroPython allocates first-fit and collects only when the
    # heap is full, and objects scattered high leave no contiguous room
    # for the 2 KB receive buffer.
    import sys

    if sys.implementation.name == "micropython":
        import gc

        gc.collect()


_threshold = None  # the GC threshold _collect_every() set


def _collect_every(n):
    # MicroPython: collect after every n bytes allocated too, not only when
    # the heap is full, so that garbage never spreads over the whole heap:
    # the objects that live long then stay packed low in it and the 2 KB
    # receive buffer finds room in one piece.  The client asks for 8 KB,
    # and none (n = -1) for the Diffie-Hellman arithmetic (collections cost
    # time).  (2 KB while the handshake made the state that lives on cost
    # a sixth of the handshake's instructions in collections, and gave the
    # same working set and smallest heap as 8 KB; with no threshold there,
    # the working set grew by 4 KiB.)  A threshold the application set
    # itself is kept.
    global _threshold
    import sys

    if sys.implementation.name != "micropython":
        return
    import gc

    threshold = getattr(gc, "threshold", None)
    if threshold is None:
        return
    now = threshold()
    if now < 0 or now == _threshold:
        threshold(n)
        _threshold = n
