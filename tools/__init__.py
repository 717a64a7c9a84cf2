# Host-side tools (CPython only): build, bench, and later the gateway lab,
# provisioning, deploy and trace.  Installed as the package ikev2_tools.
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = os.path.join(ROOT, "lib")
