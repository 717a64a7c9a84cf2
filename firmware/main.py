# Runs at boot on the device (after boot.py): the telemetry application,
# with config.json and secrets.json from the device's filesystem.
import app

app.boot()
