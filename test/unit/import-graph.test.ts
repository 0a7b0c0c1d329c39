/**
 * The import graph, read from the sources: no cycle among runtime/'s folders (a folder is a layer, and a reader must
 * be able to tell which is lower), and no cycle among the files of runtime/ and operator/, type-only imports included.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../../runtime/assets.js';

const ROOT = packageRoot();
const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"](\.[^'"]+)['"]/g;

function sourcesUnder(folder: string): string[] {
  return readdirSync(path.join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => path.join(folder, file));
}

/** Each file (relative to the package root) and the files it imports. */
function importGraph(folders: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of folders.flatMap(sourcesUnder)) {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    const imports = [...text.matchAll(IMPORT)].map((match) => path.join(path.dirname(file), match[1]!).replace(/\.js$/, '.ts'));
    graph.set(file, [...new Set(imports)]);
  }
  return graph;
}

/** The strongly connected components with more than one node (Tarjan): each is a cycle, or several. */
export function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    indexOf.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indexOf.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, indexOf.get(next)!));
      }
    }
    if (low.get(node) !== indexOf.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || graph.get(node)?.includes(node)) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!indexOf.has(node)) visit(node);
  return found;
}

/** runtime/wire/x.ts: runtime/wire; a file at runtime/'s top (cli.ts, index.ts, assets.ts) is a node of its own. */
function folderOf(file: string): string {
  const parts = file.split(path.sep);
  return parts.length > 2 ? parts.slice(0, 2).join('/') : parts.join('/');
}

describe('the import graph', () => {
  const files = importGraph(['runtime', 'operator']);

  it('reads imports: every file it knows of imports only files that exist', () => {
    assert.ok(files.size > 100, `${files.size} files`);
    const missing = [...files].flatMap(([file, imports]) => imports.filter((target) => !files.has(target)).map((target) => `${file} -> ${target}`));
    assert.deepEqual(missing, []);
  });

  it('has no cycle among runtime/\'s folders', () => {
    const folders = new Map<string, string[]>();
    for (const [file, imports] of files) {
      if (!file.startsWith(`runtime${path.sep}`)) continue;
      const from = folderOf(file);
      const to = imports.filter((target) => target.startsWith(`runtime${path.sep}`)).map(folderOf).filter((folder) => folder !== from);
      folders.set(from, [...new Set([...(folders.get(from) ?? []), ...to])]);
    }
    assert.deepEqual(cycles(folders), []);
  });

  it('has no cycle among the files of runtime/ and operator/', () => {
    assert.deepEqual(cycles(files), []);
  });

  it('finds a cycle where there is one', () => {
    const graph = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
    assert.deepEqual(cycles(graph), [['a', 'b', 'c']]);
  });
});
