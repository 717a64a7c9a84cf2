# The platform layer: the only code of the device application that touches
# `machine`, `network` and `time`.  Two platforms with one interface:
#
#   Esp32()   an ESP32, ESP32-S3 or ESP32-C3: Wi-Fi station, hardware
#             watchdog, status LED, the MCU's temperature sensor
#   Host()    the MicroPython unix port (and CPython) in the gateway lab:
#             no Wi-Fi (the namespace's link is up already), a software
#             watchdog that only reports, the LED as log lines
#
#   hw = platform()        the right one for where we run
#   hw.network_up(ssid, password, log)   -> True when the link is usable
#   hw.network_ok()        the link is still there
#   hw.watchdog(seconds)   arm it; hw.feed() from then on
#   hw.led(state)          "off" | "connecting" | "up" | "error"
#   hw.mcu_temperature()   degrees Celsius, or None
#   hw.ticks_ms(), hw.sleep_ms(ms), hw.reset()
import sys

try:
    import time

    _ticks = time.ticks_ms
    _diff = time.ticks_diff
    _sleep_ms = time.sleep_ms
except AttributeError:  # CPython
    import time

    def _ticks():
        return int(time.monotonic() * 1000)

    def _diff(a, b):
        return a - b

    def _sleep_ms(ms):
        time.sleep(ms / 1000)


class Host:
    name = "unix"

    def __init__(self, log=None):
        self.log = log
        self.led_state = "off"
        self.wdt_ms = 0
        self.fed = _ticks()
        self.late = 0  # times the loop went longer than the watchdog allows

    def ticks_ms(self):
        return _ticks()

    def elapsed_ms(self, since):
        return _diff(_ticks(), since)

    def sleep_ms(self, ms):
        _sleep_ms(ms)

    def network_up(self, ssid, password, log, tries=1):
        # the lab's namespace has its link up already: nothing to join
        return True

    def network_ok(self):
        return True

    def watchdog(self, seconds):
        self.wdt_ms = int(seconds * 1000)
        self.fed = _ticks()

    def feed(self):
        # a software watchdog: on the host a late feed is only counted, so
        # that a test sees a loop that would have reset a device
        now = _ticks()
        if self.wdt_ms and _diff(now, self.fed) > self.wdt_ms:
            self.late += 1
        self.fed = now

    def led(self, state):
        if state != self.led_state:
            self.led_state = state
            if self.log:
                self.log("status: %s" % state)

    def mcu_temperature(self):
        # a Linux thermal zone where there is one, else None
        try:
            with open("/sys/class/thermal/thermal_zone0/temp") as f:
                return int(f.read().strip()) / 1000
        except (OSError, ValueError):
            return None

    def low_power(self, on):
        return False

    def reset(self):
        sys.exit(3)


class Esp32(Host):
    # ESP32 (xtensa), ESP32-S3 (xtensa, USB), ESP32-C3 (RISC-V)
    def __init__(self, log=None, led_pin=-2, led_rgb=False):
        import machine
        import network

        Host.__init__(self, log)
        self.name = sys.implementation._machine
        self.machine = machine
        self.wlan = network.WLAN(network.STA_IF)
        self.wdt = None
        self.pin = None
        self.pixel = None
        led = _default_led(self.name) if led_pin == -2 else (
            None if led_pin < 0 else (led_pin, led_rgb))
        if led is not None:
            pin, rgb = led
            try:
                if rgb:
                    import neopixel

                    self.pixel = neopixel.NeoPixel(machine.Pin(pin), 1)
                else:
                    self.pin = machine.Pin(pin, machine.Pin.OUT)
            except (ImportError, ValueError, OSError):
                pass

    def network_up(self, ssid, password, log, tries=5):
        # join the access point, with retries and status; the RNG is truly
        # random only once the radio is on, so keys come after this
        if not ssid:
            log("wifi: no wifi_ssid in the config")
            return False
        w = self.wlan
        w.active(True)
        if w.isconnected():
            return True
        wait = 1000
        for attempt in range(1, tries + 1):
            log("wifi: joining %r (attempt %d of %d)" % (ssid, attempt, tries))
            self.led("connecting")
            try:
                w.connect(ssid, password)
            except OSError as e:
                log("wifi: %s" % e)
            t0 = _ticks()
            while _diff(_ticks(), t0) < 15000:
                if w.isconnected():
                    log("wifi: connected, address %s" % w.ifconfig()[0])
                    return True
                self.feed()
                _sleep_ms(250)
            log("wifi: not connected (status %s)" % w.status())
            try:
                w.disconnect()
            except OSError:
                pass
            _sleep_ms(wait)
            wait = min(wait * 2, 30000)
        return False

    def network_ok(self):
        return self.wlan.isconnected()

    def watchdog(self, seconds):
        Host.watchdog(self, seconds)
        if seconds:
            # cannot be stopped once armed: a hung loop resets the board
            self.wdt = self.machine.WDT(timeout=int(seconds * 1000))

    def feed(self):
        Host.feed(self)
        if self.wdt is not None:
            self.wdt.feed()

    def led(self, state):
        self.led_state = state
        if self.pixel is not None:
            self.pixel[0] = {"off": (0, 0, 0), "connecting": (16, 8, 0),
                             "up": (0, 16, 0), "error": (16, 0, 0)}[state]
            self.pixel.write()
        elif self.pin is not None:
            self.pin.value(1 if state in ("up", "error") else 0)

    def mcu_temperature(self):
        try:
            import esp32
        except ImportError:
            return None
        f = getattr(esp32, "mcu_temperature", None)  # S2, S3, C3, C6
        if f is not None:
            return f()
        f = getattr(esp32, "raw_temperature", None)  # the first ESP32, in F
        if f is not None:
            return round((f() - 32) / 1.8, 1)
        return None

    def low_power(self, on):
        # RFC 9333 considerations in the README: Wi-Fi modem sleep between
        # beacons keeps the association (and so the IKE and Child SAs)
        try:
            import network

            self.wlan.config(pm=network.WLAN.PM_POWERSAVE if on
                             else network.WLAN.PM_NONE)
            return True
        except (AttributeError, ValueError, OSError):
            return False

    def reset(self):
        self.machine.reset()


def _default_led(machine_name):
    # (pin, is_rgb) of the usual devkit's LED: DevKitC (GPIO2), S3-DevKitC
    # (WS2812 on GPIO48), C3-DevKitM (WS2812 on GPIO8)
    m = machine_name.upper()
    if "ESP32S3" in m.replace("-", ""):
        return (48, True)
    if "ESP32C3" in m.replace("-", ""):
        return (8, True)
    if "ESP32" in m:
        return (2, False)
    return None


def platform(log=None, led_pin=-2, led_rgb=False):
    # led_pin: -2 the board's usual LED, -1 none, else a GPIO number
    if sys.platform == "esp32":
        return Esp32(log, led_pin, led_rgb)
    return Host(log)
