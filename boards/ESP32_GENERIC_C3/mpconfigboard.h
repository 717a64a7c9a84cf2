// The IKEv2 sensor on a generic ESP32C3 module.
#define MICROPY_HW_BOARD_NAME               "IKEv2 sensor (ESP32C3)"
#define MICROPY_HW_MCU_NAME                 "ESP32C3"

// No Bluetooth (see sdkconfig.board): more heap for the tunnel.
#define MICROPY_PY_BLUETOOTH                (0)

// The REPL on the UART too, for modules with a USB-UART bridge (as stock).
#define MICROPY_HW_ENABLE_UART_REPL         (1)
