import { copyFileSync, mkdirSync, renameSync, symlinkSync } from 'node:fs';
import path from 'node:path';

/**
 * A folder laid out as the kubelet mounts a Secret: each key is a symlink `<key> -> ..data/<key>`, `..data` a symlink
 * to a timestamped folder. An update writes a new folder and renames a fresh `..data` link over the old one, so a
 * reader sees the old files or the new ones, never a mix.
 */
export class SecretVolume {
  private version = 0;

  constructor(
    readonly dir: string,
    files: Record<string, string>,
  ) {
    mkdirSync(dir, { recursive: true });
    this.update(files);
    for (const key of Object.keys(files)) symlinkSync(path.join('..data', key), path.join(dir, key));
  }

  path(key: string): string {
    return path.join(this.dir, key);
  }

  /** Replaces the contents: `files` maps each key to the file to copy in. */
  update(files: Record<string, string>): void {
    const folder = `..${Date.now()}_${++this.version}`;
    mkdirSync(path.join(this.dir, folder));
    for (const [key, source] of Object.entries(files)) copyFileSync(source, path.join(this.dir, folder, key));
    symlinkSync(folder, path.join(this.dir, '..data_tmp'));
    renameSync(path.join(this.dir, '..data_tmp'), path.join(this.dir, '..data'));
  }
}
