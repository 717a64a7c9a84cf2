# The stock modules of the ESP32 port (network, neopixel, ...), then the
# IKEv2 library and the device application, frozen: their bytecode stays in
# flash instead of the heap.  `make firmware` prepares build/frozen-src.
include("$(PORT_DIR)/boards/manifest.py")
include("../../firmware/manifest.py")
