#!/usr/bin/env bash
# Installs what the tests need beyond npm packages, on a fresh Debian machine: Chromium for the browser test.
set -euo pipefail

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)

if ((${#need_apt[@]} > 0)); then
  echo "installing Debian packages: ${need_apt[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
