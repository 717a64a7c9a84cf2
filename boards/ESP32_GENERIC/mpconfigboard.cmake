# The IKEv2 sensor on a generic ESP32 module (4 MiB flash or more).
#   make firmware BOARD=ESP32_GENERIC   (or, in ports/esp32 of a MicroPython tree:
#   make BOARD_DIR=<this directory>)
set(IDF_TARGET esp32)

# No sdkconfig.ble: Bluetooth is off, its stack would take heap.
set(SDKCONFIG_DEFAULTS
    boards/sdkconfig.base
    ${MICROPY_BOARD_DIR}/sdkconfig.board
)

set(MICROPY_FROZEN_MANIFEST ${MICROPY_BOARD_DIR}/manifest.py)
