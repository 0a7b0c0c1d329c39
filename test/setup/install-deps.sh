#!/usr/bin/env bash
# Installs what the tests need beyond npm packages, on a fresh Debian machine: Chromium for the browser test, and
# the tools test/control-plane/build-binaries.sh uses (curl, unzip, openssl; Go itself comes from the module proxy
# there when the machine has none), and buildah for the image tests.
set -euo pipefail

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
for tool_and_package in curl:curl unzip:unzip openssl:openssl flock:util-linux buildah:buildah; do
  command -v "${tool_and_package%%:*}" >/dev/null 2>&1 || need_apt+=("${tool_and_package#*:}")
done
[ -f /etc/ssl/certs/ca-certificates.crt ] || need_apt+=(ca-certificates)

if ((${#need_apt[@]} > 0)); then
  echo "installing Debian packages: ${need_apt[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
