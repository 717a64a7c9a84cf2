#!/bin/sh
# Creates the venv with the pinned packages and installs the project in it
# (editable, so console scripts like ikev2-bench run the working tree).
# On a fresh Debian, python3 -m venv needs the python3-venv package: it is
# installed with apt-get when missing (root is assumed, as on CI).
set -e
VENV=${1:-.venv}
PY=${PYTHON:-python3}
if ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    echo "bootstrap: installing python3-venv with apt-get"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "bootstrap: creating $VENV"
    "$PY" -m venv "$VENV"
fi
echo "bootstrap: installing pinned packages (requirements.txt)"
"$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt
"$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -e .
"$VENV/bin/micropython" -c "import sys; print('bootstrap: micropython', sys.version)"
