/**
 * The images every node needs, imported once into a containerd root kept in the cache (a seed, one per set of image
 * archives), which each node's containerd root starts as a copy of, made of hard links. A bring-up with unchanged
 * images imports nothing, three nodes cost one import when they have changed, and taking the nodes down frees no
 * data (deleting three copies of 600 MB took 15 s here). Content blobs and the files of committed snapshot layers
 * never change once written (containers write to snapshots of their own, and an overlay mount never writes to its
 * lower layers), so sharing them is safe; everything else in the root (containerd's databases) is a real copy.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { startContainerd } from './containerd.js';
import type { NodeLayout } from './node-layout.js';
import { run } from './run-command.js';

/** The folders of a containerd root whose files are written once and never changed. */
const IMMUTABLE = ['io.containerd.content.v1.content/blobs', 'io.containerd.snapshotter.v1.overlayfs/snapshots'];
/** Seeds kept: two checkouts with different sources each keep theirs. */
const SEEDS_KEPT = 2;

function seedsDir(): string {
  return path.join(process.env.GWC_CACHE_DIR ?? path.join(homedir(), '.cache/gateway-cluster'), 'node-images');
}

/** An image archive (docker-archive) and the names it is tagged with. */
export type ImageArchive = [archive: string, names: string[]];

/**
 * The seed's containerd root for these images, imported now (by a containerd inside `node`'s namespaces, gone again
 * after) unless the cache has it.
 */
export async function ensureImageSeed(archives: ImageArchive[], node: NodeLayout, holderPid: number): Promise<string> {
  // The archives are named after their image, whose tag is a hash of its contents.
  const key = createHash('sha256').update(JSON.stringify(archives.map(([archive, names]) => [path.basename(archive), names]))).digest('hex').slice(0, 16);
  const seed = path.join(seedsDir(), key);
  const root = path.join(seed, 'root');
  if (existsSync(path.join(seed, 'ready'))) {
    const now = new Date();
    utimesSync(seed, now, now);
    return root;
  }
  const work = `${seed}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const containerd = await startContainerd(node, work, holderPid, work);
  try {
    for (const [archive, names] of archives) await containerd.importImage(archive, names);
  } finally {
    await containerd.stop();
  }
  rmSync(seed, { recursive: true, force: true });
  mkdirSync(seed, { recursive: true });
  renameSync(path.join(work, 'containerd', 'root'), root);
  writeFileSync(path.join(seed, 'ready'), archives.map(([archive]) => archive).join('\n'));
  rmSync(work, { recursive: true, force: true });
  pruneSeeds();
  return root;
}

function pruneSeeds(): void {
  const seeds = readdirSync(seedsDir())
    .map((name) => path.join(seedsDir(), name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const old of seeds.slice(SEEDS_KEPT)) rmSync(old, { recursive: true, force: true });
}

/** Makes `root` a copy of the seed: hard links for the immutable folders, real copies of every other file. */
export function cloneSeed(seedRoot: string, root: string): void {
  mkdirSync(path.dirname(root), { recursive: true });
  // cp keeps the owners, modes and extended attributes (overlay's opaque directories) of every folder.
  run('cp', ['-al', seedRoot, root]);
  const copyMutable = (relative: string) => {
    if (IMMUTABLE.includes(relative)) return;
    const full = path.join(root, relative);
    const stat = statSync(full, { throwIfNoEntry: false });
    if (stat?.isDirectory()) {
      for (const entry of readdirSync(full)) copyMutable(path.join(relative, entry));
    } else if (stat?.isFile()) {
      // A new file in place of the link: containerd's writes must not reach the seed.
      rmSync(full);
      copyFileSync(path.join(seedRoot, relative), full);
    }
  };
  copyMutable('');
}
