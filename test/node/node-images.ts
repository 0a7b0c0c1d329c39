/**
 * The images the node needs besides the project's: its pause image and CoreDNS, each a single static binary in an
 * otherwise empty image (buildah from scratch; no registry to pull from). Named after a hash of the binary, so a
 * rebuilt binary makes a new image.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildah } from '../image/project-image.js';

export function scratchImage(name: string, binary: string): string {
  const hash = createHash('sha256').update(readFileSync(binary)).digest('hex').slice(0, 12);
  const image = `localhost/gwc-node/${name}:${hash}`;
  try {
    buildah('inspect', '--type', 'image', image);
    return image;
  } catch {
    // not made yet
  }
  const container = buildah('from', 'scratch').trim();
  try {
    const inside = `/${path.basename(binary)}`;
    buildah('copy', '--quiet', '--chmod', '0755', container, binary, inside);
    buildah('config', '--entrypoint', JSON.stringify([inside]), '--cmd', '', container);
    buildah('commit', '--quiet', container, image);
  } finally {
    buildah('rm', container);
  }
  return image;
}
