import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

/** How long a burst of change events (an editor writing, renaming, touching) is gathered into one. */
const SETTLE_MS = 150;

/**
 * Calls `onChange` once after each burst of changes to `file`. The folder is watched rather than the file, as
 * editors often save by writing a new file and renaming it over the old one, which ends a watch on the file itself.
 */
export function watchFile(file: string, onChange: () => void): () => void {
  const name = path.basename(file);
  let timer: NodeJS.Timeout | undefined;
  const watcher: FSWatcher = watch(path.dirname(file), (_event, changed) => {
    if (changed !== null && changed.toString() !== name) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, SETTLE_MS);
  });
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
