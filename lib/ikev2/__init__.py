# ikev2: a memory-frugal IKEv2 initiator and ESP encapsulator for
# MicroPython and CPython.  Modules are imported one by one on purpose
# (e.g. `from ikev2 import message`): importing the package costs nothing.
VERSION = "0.1.0"
