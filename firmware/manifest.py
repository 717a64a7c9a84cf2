# Freeze manifest for the device firmware:
#   make -C ports/esp32 BOARD=... FROZEN_MANIFEST=<absolute path of this file>
# Freezing keeps the library's bytecode in flash instead of the heap.
# Paths are relative to this file.  crypto/host.py is frozen too but never
# imported on the device (it needs CPython's `cryptography`).
include("$(PORT_DIR)/boards/manifest.py")
package("ikev2", base_path="../lib", opt=3)
