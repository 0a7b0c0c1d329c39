/**
 * Test-only: how the process kubelet turns a container image into a local command. There are no container images
 * here; an ImageMap names the program a given image would run.
 */
import path from 'node:path';

/** What an image would run: its ENTRYPOINT, CMD, ENV and WORKDIR. */
export interface ImageCommand {
  entrypoint: string[];
  cmd?: string[];
  env?: Record<string, string>;
  workingDir?: string;
}

/** Maps an image reference to the command it runs, or undefined when the image is unknown. */
export type ImageMap = (image: string) => ImageCommand | undefined;

/** The parts of an image reference: `registry/path/repository:tag@digest`. */
export interface ImageReference {
  /** Everything before the tag and digest, e.g. `ghcr.io/x/gateway-cluster`. */
  name: string;
  /** The last path segment of the name, e.g. `gateway-cluster`. */
  repository: string;
  tag?: string;
  digest?: string;
}

export function parseImageReference(image: string): ImageReference {
  let rest = image.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  // A colon after the last slash separates the tag; one before it is a registry port (localhost:5000/x).
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const repository = rest.slice(rest.lastIndexOf('/') + 1);
  return { name: rest, repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/**
 * The project's own image: any reference whose repository (last path segment) is `gateway-cluster`, whatever the
 * registry or tag (`ghcr.io/x/gateway-cluster:0.1.0`, `localhost/gateway-cluster:dev`, `gateway-cluster`), runs the
 * compiled CLI `<repoRoot>/dist/runtime/cli.js` with this Node.
 */
export function projectImageMap(repoRoot: string): ImageMap {
  const cli = path.join(repoRoot, 'dist', 'runtime', 'cli.js');
  return (image) =>
    parseImageReference(image).repository === 'gateway-cluster' ? { entrypoint: [process.execPath, cli], workingDir: repoRoot } : undefined;
}

/**
 * Exact images, e.g. `{ 'tiny-server:1': { entrypoint: [process.execPath, file] } }`. A key without a tag matches the
 * name with any tag (and digest); a key with a tag matches only that tag.
 */
export function staticImageMap(entries: Record<string, ImageCommand>): ImageMap {
  return (image) => {
    const exact = entries[image];
    if (exact) return exact;
    const ref = parseImageReference(image);
    if (ref.tag !== undefined && entries[`${ref.name}:${ref.tag}`]) return entries[`${ref.name}:${ref.tag}`];
    return entries[ref.name];
  };
}

/** The first map that knows the image wins. */
export function combineImageMaps(...maps: ImageMap[]): ImageMap {
  return (image) => {
    for (const map of maps) {
      const command = map(image);
      if (command) return command;
    }
    return undefined;
  };
}
