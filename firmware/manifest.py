# The freeze manifest of the device application: the library's PSK profile
# and its certificate modules (constants inlined) and the app, as prepared by `make firmware`
# in build/frozen-src.  The board manifests in boards/ include it after the
# port's stock modules; for the unix port it is the whole manifest:
#   make -C ports/unix FROZEN_MANIFEST=<absolute path of this file>
# Frozen bytecode, its constants and its names (qstrs) stay in flash: only
# the modules' dictionaries and function objects take heap.  main.py,
# config.json and secrets.json go on the device's filesystem (make deploy
# FROZEN=1).  Paths are relative to this file.
package("ikev2", base_path="../build/frozen-src", opt=3)
module("app.py", base_path="../build/frozen-src", opt=3)
module("hw.py", base_path="../build/frozen-src", opt=3)
