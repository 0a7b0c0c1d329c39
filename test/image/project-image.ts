/**
 * The project's image, built from the Dockerfile with buildah (no Docker engine here) from the locally made bases,
 * as users' registries would get it. Tagged with a hash of what goes into it, so one build serves every test of a
 * run (and of later runs while the sources are unchanged).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../control-plane/binaries.js';

/** What the Dockerfile copies in. */
const INPUTS = ['Dockerfile', 'package.json', 'package-lock.json', 'tsconfig.json', 'runtime', 'operator'];

export function buildah(...args: string[]): string {
  return execFileSync('buildah', args, { env: BUILDAH_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

function cacheDir(): string {
  const dir = path.join(process.env.GWC_CACHE_DIR ?? path.join(homedir(), '.cache/gateway-cluster'), 'image');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Buildah's network library makes its CNI config folder and a cni.lock in it whatever the isolation, by default
 * /etc/cni/net.d: this containers.conf keeps them in the cache, so building an image changes nothing on the host.
 */
function containersConf(): string {
  const file = path.join(cacheDir(), 'containers.conf');
  writeFileSync(file, `[network]\nnetwork_config_dir = "${path.join(cacheDir(), 'cni')}"\n`);
  return file;
}

export const BUILDAH_ENV = { ...process.env, STORAGE_DRIVER: 'vfs', BUILDAH_ISOLATION: 'chroot', CONTAINERS_CONF: containersConf() };

function inputHash(): string {
  const hash = createHash('sha256');
  const add = (relative: string) => {
    const full = path.join(repoRoot, relative);
    if (statSync(full).isDirectory()) {
      for (const entry of readdirSync(full).sort()) add(path.join(relative, entry));
    } else {
      hash.update(relative).update('\0').update(readFileSync(full)).update('\0');
    }
  };
  for (const input of INPUTS) add(input);
  return hash.digest('hex').slice(0, 16);
}

/** The image's local tag, built now unless an image of these exact sources exists. */
export function projectImage(): string {
  const tag = `localhost/gateway-cluster:src-${inputHash()}`;
  const lock = path.join(cacheDir(), 'project-image.lock');
  // flock: test files run in parallel and may both want it.
  execFileSync('flock', [lock, 'bash', '-c', `
    set -e
    buildah inspect --type image "$0" >/dev/null 2>&1 && exit 0
    bases=$(bash "$1/test/image/make-base-images.sh")
    runtime=$(echo "$bases" | sed -n 1p); build=$(echo "$bases" | sed -n 2p)
    buildah bud --layers=false -q --build-arg BUILD_IMAGE="$build" --build-arg BASE_IMAGE="$runtime" -t "$0" -f "$1/Dockerfile" "$1" >/dev/null
    # Images of older sources (a few hundred MB each in vfs storage) and their archives go.
    for old in $(buildah images --format '{{.Name}}:{{.Tag}}' | grep '^localhost/gateway-cluster:src-' | grep -vxF "$0"); do
      buildah rmi -f "$old" >/dev/null
    done
    find "$2" -maxdepth 1 -name 'localhost_gateway-cluster_src-*.tar' ! -name "$(echo "$0" | sed 's/[^a-zA-Z0-9.-]\{1,\}/_/g').tar" -delete
  `, tag, repoRoot, cacheDir()], { env: BUILDAH_ENV, stdio: ['ignore', 'ignore', 'inherit'] });
  return tag;
}

/** `image` as a docker-archive file (what containerd imports), written once per image. */
export function imageArchive(image: string): string {
  const file = path.join(cacheDir(), `${image.replace(/[^a-zA-Z0-9.-]+/g, '_')}.tar`);
  if (!existsSync(file)) {
    buildah('push', '--quiet', image, `docker-archive:${file}.tmp:${image}`);
    renameSync(`${file}.tmp`, file);
  }
  return file;
}
