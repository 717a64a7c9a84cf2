# The IKEv2 sensor on a generic ESP32C3 module (4 MiB flash or more).
#   make firmware BOARD=ESP32_GENERIC_C3   (or, in ports/esp32 of a MicroPython tree:
#   make BOARD_DIR=<this directory>)
set(IDF_TARGET esp32c3)

# No sdkconfig.ble: Bluetooth is off, its stack would take heap.
set(SDKCONFIG_DEFAULTS
    boards/sdkconfig.base
    boards/sdkconfig.riscv
    ${MICROPY_BOARD_DIR}/sdkconfig.board
)

set(MICROPY_FROZEN_MANIFEST ${MICROPY_BOARD_DIR}/manifest.py)
