# Runs the device application on the MicroPython unix port for the memory
# budget (tools/bench_mem.py), the way a device holds its code:
#
#   micropython -X heapsize=N -m memrun fs  -       PRELOAD app.json secrets.json
#   micropython -X heapsize=N -m memrun rom IMAGE   PRELOAD app.json secrets.json
#   micropython-frozen -X heapsize=N -m memrun frozen - PRELOAD app.json secrets.json
#
# fs:  the .mpy files are read from the filesystem into the heap, as after
#      `make deploy` (mpremote cp) on a device.
# rom: the .mpy files execute in place from a ROMFS image (vfs.VfsRom), as
#      frozen into the firmware or deployed with `mpremote romfs deploy`.
#      On the device the image is in flash; here it must be in memory, so
#      it is read first, into the bottom of the heap, and its size is
#      reported: the heap cap is raised by exactly that much.
# frozen: a MicroPython built with the code frozen in (make firmware
#      BOARD=unix), as on a device flashed with `make firmware`.
# PRELOAD "1": import every module the session uses before it starts and
#      keep them, so that the heap in use then is the code, and what the
#      session needs beyond it is its working set.  "0": the library loads
#      and drops its phase modules itself, as on the device.
# Prints one JSON line: {"image": bytes, "code": bytes, "base": bytes, ...}
# and the application's own summary line after it.
import gc
import json
import sys

MODULES = ("ikev2", "ikev2.errors", "ikev2.ip", "ikev2.payloads", "ikev2.rare",
           "ikev2.message", "ikev2.sk", "ikev2.config", "ikev2.configcheck",
           "ikev2.crypto", "ikev2.crypto.util", "ikev2.crypto.mpy", "ikev2.esp",
           "ikev2.session", "ikev2.packet", "ikev2.client", "ikev2.telemetry",
           "ikev2.keys", "ikev2.proposals", "ikev2.crypto.dh",
           "ikev2.crypto.x25519", "ikev2.ikeinit", "ikev2.tasks", "ikev2.rekey",
           "ikev2.rekeyown", "ikev2.rekeyike", "hw", "app")


def main(argv):
    mode, image, preload = argv[1], argv[2], argv[3] == "1"
    gc.collect()
    a0 = gc.mem_alloc()
    img = None
    if mode == "rom":
        import vfs

        with open(image, "rb") as f:
            img = f.read()
        vfs.mount(vfs.VfsRom(img), "/rom")
        sys.path[:] = ["/rom", "/rom/lib"]
    gc.collect()
    a1 = gc.mem_alloc()
    held = []
    if preload:
        for m in MODULES:
            __import__(m)
            held.append(sys.modules[m])
        def keep(*names):
            pass

        for m in held:  # the modules bound _forget when they were imported
            if "_forget" in m.__dict__:
                setattr(m, "_forget", keep)
    gc.collect()
    a2 = gc.mem_alloc()
    print(json.dumps({"mode": mode, "image": a1 - a0, "code": a2 - a1,
                      "base": a2, "heap": gc.mem_alloc() + gc.mem_free()}))
    import app

    return app.main(["app"] + argv[4:])


sys.exit(main(sys.argv))
