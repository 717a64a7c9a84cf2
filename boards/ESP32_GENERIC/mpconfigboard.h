// The IKEv2 sensor on a generic ESP32 module.
#define MICROPY_HW_BOARD_NAME               "IKEv2 sensor (ESP32)"
#define MICROPY_HW_MCU_NAME                 "ESP32"

// No Bluetooth (see sdkconfig.board): more heap for the tunnel.
#define MICROPY_PY_BLUETOOTH                (0)
