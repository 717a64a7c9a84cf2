#!/bin/sh
# Creates the venv with the pinned packages and installs the project in it
# (editable, so console scripts like ikev2-bench run the working tree).
# On a fresh Debian, python3 -m venv needs the python3-venv package: it is
# installed with apt-get when missing (root is assumed, as on CI).
set -e
VENV=${1:-.venv}
PY=${PYTHON:-python3}
APT_UPDATED=
apt_install() {
    if [ "$(id -u)" != 0 ]; then
        echo "bootstrap: not root, cannot apt-get install $*: the tests that need them will skip and say why"
        return 0
    fi
    echo "bootstrap: apt-get install $*"
    [ -n "$APT_UPDATED" ] || { apt-get update -q >/dev/null; APT_UPDATED=1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
}
if ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    apt_install python3-venv
fi
# the gateway lab: strongSwan (charon with kernel-libipsec, swanctl) and
# the network tools the lab and its tests use
need=
P=/usr/lib/ipsec/plugins/libstrongswan
[ -x /usr/lib/ipsec/charon ] || need="$need strongswan-charon"
[ -e $P-kernel-libipsec.so ] || need="$need libcharon-extra-plugins"
[ -e $P-curve25519.so ] || need="$need libstrongswan-extra-plugins"
[ -e $P-gcm.so ] || need="$need libstrongswan-standard-plugins"
command -v swanctl >/dev/null 2>&1 || need="$need strongswan-swanctl"
command -v ip >/dev/null 2>&1 || need="$need iproute2"
command -v nft >/dev/null 2>&1 || need="$need nftables"
command -v tcpdump >/dev/null 2>&1 || need="$need tcpdump"
# the trace's checks: tshark decrypts a capture with our exported keys, and
# headless Chromium opens the sequence diagram (host_tests/test_trace.py)
command -v tshark >/dev/null 2>&1 || need="$need tshark"
command -v chromium >/dev/null 2>&1 || need="$need chromium"
# `make bench`: instruction counts of the MicroPython runs (callgrind)
command -v valgrind >/dev/null 2>&1 || need="$need valgrind"
[ -z "$need" ] || apt_install $need
if [ ! -x "$VENV/bin/python" ]; then
    echo "bootstrap: creating $VENV"
    "$PY" -m venv "$VENV"
fi
echo "bootstrap: installing pinned packages (requirements.txt)"
"$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt
"$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -e .
"$VENV/bin/micropython" -c "import sys; print('bootstrap: micropython', sys.version)"
