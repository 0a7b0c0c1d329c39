#!/usr/bin/env bash
# Installs what the tests need beyond npm packages, on a fresh Debian machine: Chromium for the browser test, the
# tools test/control-plane/build-binaries.sh uses (curl, unzip, openssl; Go itself comes from the module proxy
# there when the machine has none), python3 (a non-Node client of the HTTP API), php-cli and php-curl (GatewayWorker's
# PHP GatewayClient against the compat ports, and the compat benchmark's curl), buildah for the image, and what
# the test node runs besides our Go builds
# (containerd, runc, the CNI plugins, nftables, iptables and conntrack for the kubelet and kube-proxy, ipset for
# kube-router, the nodes' NetworkPolicy engine).
set -euo pipefail

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
for tool_and_package in curl:curl unzip:unzip openssl:openssl flock:util-linux buildah:buildah \
  python3:python3 containerd:containerd runc:runc nft:nftables iptables:iptables conntrack:conntrack ip:iproute2 ipset:ipset; do
  command -v "${tool_and_package%%:*}" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "${tool_and_package%%:*}" >/dev/null 2>&1 ||
    need_apt+=("${tool_and_package#*:}")
done
command -v php >/dev/null 2>&1 || need_apt+=(php-cli)
php -m 2>/dev/null | grep -qx curl || need_apt+=(php-curl)
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] || need_apt+=(containernetworking-plugins)
[ -f /etc/ssl/certs/ca-certificates.crt ] || need_apt+=(ca-certificates)

if ((${#need_apt[@]} > 0)); then
  echo "installing Debian packages: ${need_apt[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
