#!/usr/bin/env bash
# Installs what is missing, and only that: lavapipe and the Vulkan tools from Debian, then a virtual
# environment in .venv with the package installed editable. Safe to run any number of times.
set -euo pipefail
cd "$(dirname "$0")/.."

debs="mesa-vulkan-drivers libvulkan1 spirv-tools spirv-headers vulkan-validationlayers"
missing=""
for p in $debs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing Debian packages:$missing"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
stamp=.venv/.legionella-installed
if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[test,bench]"
    touch "$stamp"
fi
