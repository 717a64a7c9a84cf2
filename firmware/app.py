# The device application: a sensor that sends its telemetry through the
# VPN.  On an ESP32, main.py calls main(); on the MicroPython unix port (the
# gateway lab, `make demo`) it runs as
#
#   micropython -m app CONFIG.json [SECRETS.json]
#
# Steps: load the config (secrets from their own file), join Wi-Fi (the
# ESP32's RNG is truly random only once the radio is on, so no key is made
# before), arm the watchdog, bring the tunnel up with a first ping (the
# first packet that matches the policy triggers IKE), then read the sensor
# every `interval` seconds and send the reading through the acknowledged
# store-and-forward buffer.  A tunnel that goes down is re-established with
# backoff; a lost Wi-Fi link is joined again.  Only hw.py touches machine,
# network and time.
import gc
import json
import sys

import hw

# The application's own keys, "name type default" (s str, i int, f float,
# b bool, o any); every other key belongs to the tunnel (ikev2.config),
# which refuses unknown ones by name.
_APP_KEYS = (
    "wifi_ssid s ;wifi_password s ;telemetry s *;interval f 10;"
    "sensor s mcu;count i 0;check_ping s ;watchdog f 120;led_pin i -2;"
    "led_rgb b 0;low_power b 0;buffer i 32;ack_ms i 3000;drain f 30;"
    "status_every f 300;trace i 0;trace_file s trace.json;export_keys b 0")
SECRET_KEYS = ("psk", "wifi_password")


class AppError(Exception):
    pass


def _log(msg):
    sys.stderr.write("app: %s\n" % msg)


def load(config_path, secrets_path=None):
    # -> (app settings, tunnel config dict); AppError names the problem
    d = _read(config_path)
    for k in SECRET_KEYS:
        if k in d and secrets_path:
            raise AppError("%s: %r belongs in the secrets file %s"
                           % (config_path, k, secrets_path))
    if secrets_path:
        s = _read(secrets_path)
        for k in s:
            if k not in SECRET_KEYS:
                raise AppError("%s: %r is not a secret (only %s)"
                               % (secrets_path, k, ", ".join(SECRET_KEYS)))
        d.update(s)
    app = {}
    for item in _APP_KEYS.split(";"):
        name, kind, default = (item.split(" ") + [""])[:3]
        if name in d:
            app[name] = _value(name, kind, d.pop(name))
        elif default == "*":
            raise AppError("%s: missing key %r" % (config_path, name))
        else:
            app[name] = _default(kind, default)
    host, _, port = app["telemetry"].rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise AppError("telemetry: expected HOST:PORT, got %r" % app["telemetry"])
    app["dest"] = (host, int(port))
    if app["interval"] <= 0 or app["buffer"] < 1 or app["count"] < 0:
        raise AppError("interval and buffer must be positive, count >= 0")
    if app["trace"] < 0 or (app["export_keys"] and not app["trace"]):
        raise AppError("trace: the number of records to keep (0: off); "
                       "export_keys needs it on")
    return app, d


def _read(path):
    try:
        with open(path) as f:
            d = json.load(f)
    except OSError as e:
        raise AppError("cannot read %s: %s" % (path, e))
    except ValueError as e:
        raise AppError("%s is not valid JSON: %s" % (path, e))
    if not isinstance(d, dict):
        raise AppError("%s: expected a JSON object" % path)
    return d


def _default(kind, text):
    if kind == "s":
        return text or None
    if kind == "b":
        return text == "1"
    return int(text) if kind == "i" else float(text)


def _value(name, kind, v):
    # a value from the JSON file, of the key's type, or AppError
    ok = {"s": isinstance(v, str), "b": isinstance(v, bool),
          "i": isinstance(v, int) and not isinstance(v, bool),
          "f": isinstance(v, (int, float)) and not isinstance(v, bool)}[kind]
    if not ok:
        raise AppError("%s: bad value %s (expected %s)" % (  # secrets: the type
            name, type(v).__name__ if name in SECRET_KEYS else repr(v),
            {"s": "a string", "b": "true or false", "i": "an integer",
             "f": "a number"}[kind]))
    return float(v) if kind == "f" else v


def sensor(app, platform):
    # the pluggable reading: "mcu" (the MCU's temperature where the board
    # has it, and the free heap) or "module.function", a function of no
    # argument that returns bytes or str, e.g. "mysensors.bme280"
    name = app["sensor"]
    if name == "mcu":
        free = getattr(gc, "mem_free", None)  # MicroPython only

        def read():
            t = platform.mcu_temperature()
            out = [] if t is None else [b"temp=%.1f" % t]
            if free:
                out.append(b"mem=%d" % free())
            return b" ".join(out) or b"alive"
        return read
    mod, _, fn = name.rpartition(".")
    try:
        f = getattr(__import__(mod), fn)
    except (ImportError, AttributeError, ValueError):
        raise AppError("sensor: no function %r to import" % name)

    def read():
        v = f()
        return v if isinstance(v, bytes) else str(v).encode()
    return read


class App:
    def __init__(self, app, tunnel, platform, log=_log):
        self.app = app
        self.tunnel = tunnel
        self.hw = platform
        self.log = log
        self.peak = 0
        self.pings = []

    def _heap(self):
        a = gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0
        if a > self.peak:
            self.peak = a

    def service(self, t, ms):
        # run the tunnel for ms, feeding the watchdog and watching Wi-Fi
        hw = self.hw
        end = hw.ticks_ms() + int(ms)
        while True:
            left = end - hw.ticks_ms()
            if left <= 0:
                return
            hw.feed()
            if not hw.network_ok():
                hw.led("connecting")
                if not hw.network_up(self.app["wifi_ssid"],
                                     self.app["wifi_password"], self.log):
                    hw.led("error")
                    hw.sleep_ms(min(left, 5000))
                    continue
            t.service(min(left, 1000))
            hw.led("up" if t.c.is_up() else "connecting")
            self._heap()

    def run(self):
        from ikev2.client import Client
        from ikev2.errors import ConfigError, IKEError
        from ikev2.telemetry import Telemetry

        a, hw, log = self.app, self.hw, self.log
        hw.led("connecting")
        if a["low_power"]:
            log("low power: %s" % ("on" if hw.low_power(True) else "not available"))
        if not hw.network_up(a["wifi_ssid"], a["wifi_password"], log):
            hw.led("error")
            raise AppError("no network: Wi-Fi did not connect")
        hw.watchdog(a["watchdog"])
        tr = None
        if a["trace"]:  # a ring of the last records, for ikev2-trace
            from ikev2.trace import Trace

            tr = Trace(a["trace"], a["export_keys"])
            if a["export_keys"]:
                log("WARNING: export_keys: %s will hold the session keys"
                    % a["trace_file"])
        try:
            c = Client(self.tunnel, log=log, trace=tr)
        except ConfigError as e:
            raise AppError("config: %s" % e)
        read = sensor(a, hw)
        t = Telemetry(c, a["dest"], capacity=a["buffer"], ack_ms=a["ack_ms"])
        try:
            if a["check_ping"]:
                # the first packet that matches the policy brings the tunnel
                # up; the echo reply proves the path end to end
                for _ in range(3):
                    hw.feed()
                    try:
                        self.pings.append(c.ping(a["check_ping"]))
                    except (IKEError, OSError) as e:  # telemetry retries
                        log("ping: %s" % e)
                        self.pings.append(None)
                        break
            every = int(a["interval"] * 1000)
            nxt = hw.ticks_ms()
            status = nxt + int(a["status_every"] * 1000)
            while not a["count"] or t.seq < a["count"]:
                wait = nxt - hw.ticks_ms()
                if wait > 0:
                    self.service(t, wait)
                nxt += every
                t.send(read())
                if hw.ticks_ms() >= status:
                    status += int(a["status_every"] * 1000)
                    log("status: %s" % self._brief(t))
            # the last records: wait for their acknowledgements
            end = hw.ticks_ms() + int(a["drain"] * 1000)
            while t.pending() and hw.ticks_ms() < end:
                self.service(t, min(500, end - hw.ticks_ms()))
            return self.summary(c, t)
        finally:
            c.close()
            hw.led("off")
            if tr is not None:
                self.save_trace(tr)

    def save_trace(self, tr):
        path = self.app["trace_file"]
        try:
            with open(path, "w") as f:
                tr.dump(f)
            self.log("trace: %d records (%d older ones dropped) in %s"
                     % (len(tr.records) + len(tr.packets), tr.lost, path))
        except OSError as e:
            self.log("trace: cannot write %s: %s" % (path, e))

    def _brief(self, t):
        s = t.stats()
        return ("%d records, %d acknowledged, %d queued, %d dropped, %d "
                "reconnects" % (s["records"], s["acked"], s["queued"],
                                s["dropped"], s["reconnects"]))

    def summary(self, c, t):
        d = c.stats()
        d.update(t.stats())
        d["pings"] = self.pings
        d["heap_peak"] = self.peak
        d["watchdog_late"] = self.hw.late
        d["platform"] = self.hw.name
        return d


def main(argv=None):
    # -> exit status: 0 all records acknowledged, 1 a failure, 2 bad config
    argv = argv if argv is not None else ["app"]
    cfg = argv[1] if len(argv) > 1 else "config.json"
    sec = argv[2] if len(argv) > 2 else "secrets.json"
    try:
        try:
            open(sec).close()
        except OSError:
            if len(argv) > 2:
                raise AppError("cannot read %s" % sec)
            sec = None  # no separate secrets file on this device
        app, tunnel = load(cfg, sec)
        platform = hw.platform(_log, app["led_pin"], app["led_rgb"])
        a = App(app, tunnel, platform)
        d = a.run()
    except AppError as e:
        _log("error: %s" % e)
        return 2
    except MemoryError:
        _log("error: out of memory")
        return 1
    except Exception as e:  # IKEError, OSError: one line, no traceback
        _log("error: %s" % e)
        return 1
    print(json.dumps(d))
    _log("done: %d records, %d acknowledged, %d queued, %d dropped"
         % (d["records"], d["acked"], d["queued"], d["dropped"]))
    return 0 if d["records"] and not d["queued"] else 1


def boot():
    # main.py on the device: run; after a failure wait and reset the board
    # (a fresh start, new SAs); a bad config stops here with the LED red,
    # since a reset would not fix it
    status = main()
    if status == 2:
        return status
    p = hw.platform(_log)
    _log("restarting in 10 s")
    p.sleep_ms(10000)
    p.reset()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
