/**
 * The import graph, read from the sources, against ARCHITECTURE.md's table of what each folder of runtime/ and
 * operator/ may import: a file importing a folder its row does not name fails, and so does a row naming an import no
 * file makes, so the page cannot go stale silently. Also: the folders form layers (no cycle), and no cycle
 * among the files of runtime/ and operator/, type-only imports included.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../../runtime/assets.js';

const ROOT = packageRoot();
const TOPS = ['runtime', 'operator'];
const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"](\.[^'"]+)['"]/g;

function sourcesUnder(folder: string): string[] {
  return readdirSync(path.join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => path.join(folder, file).split(path.sep).join('/'));
}

/** Each file (relative to the package root, with /) and the files it imports. */
function importGraph(folders: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of folders.flatMap(sourcesUnder)) {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    const imports = [...text.matchAll(IMPORT)].map((match) => path.posix.join(path.posix.dirname(file), match[1]!).replace(/\.js$/, '.ts'));
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

/** runtime/wire/x.ts: runtime/wire; a file at the top of runtime/ or operator/ (cli.ts, main.ts) is a folder of its own. */
function folderOf(file: string): string {
  return file.split('/').slice(0, 2).join('/');
}

/** ARCHITECTURE.md's table: each folder and the folders it may import (a name without a slash is in the row's top folder). */
export function allowedImports(markdown: string): Map<string, Set<string>> {
  const table = new Map<string, Set<string>>();
  for (const line of markdown.split('\n')) {
    const cells = /^\|\s*`([^`]+)`\s*\|.*\|(.*)\|\s*$/.exec(line);
    if (!cells) continue;
    const [, folder, imports] = cells as unknown as [string, string, string];
    const top = folder.split('/')[0]!;
    const names = [...imports.matchAll(/`([^`]+)`/g)].map(([, name]) => (name!.includes('/') ? name! : `${top}/${name}`));
    assert.ok(!table.has(folder), `ARCHITECTURE.md has two rows for ${folder}`);
    table.set(folder, new Set(names));
  }
  return table;
}

/** Each folder-to-folder import of `files`, with the files that make it. */
export function folderImports(files: Map<string, string[]>): Map<string, Map<string, string[]>> {
  const edges = new Map<string, Map<string, string[]>>();
  for (const [file, imports] of files) {
    const from = folderOf(file);
    for (const target of imports) {
      const to = folderOf(target);
      if (to === from) continue;
      const byTarget = edges.get(from) ?? new Map<string, string[]>();
      byTarget.set(to, [...(byTarget.get(to) ?? []), `${file} -> ${target}`]);
      edges.set(from, byTarget);
    }
  }
  return edges;
}

/** What the code and the table disagree on, each as a sentence saying which of the two to change. */
export function disagreements(actual: Map<string, Map<string, string[]>>, allowed: Map<string, Set<string>>): string[] {
  const found: string[] = [];
  for (const [from, targets] of actual) {
    for (const [to, imports] of targets) {
      if (allowed.get(from)?.has(to)) continue;
      found.push(`${imports[0]}: ARCHITECTURE.md does not let ${from} import ${to} (the import is wrong, or the table is)`);
    }
  }
  for (const [from, targets] of allowed) {
    for (const to of targets) {
      if (!actual.get(from)?.has(to)) found.push(`ARCHITECTURE.md lets ${from} import ${to}, which no file of ${from} does: take it out of the row`);
    }
  }
  return found;
}

/** ARCHITECTURE.md names none. */
const KNOWN_CYCLES: string[][] = [];

describe('the import graph', () => {
  const files = importGraph(TOPS);
  const allowed = allowedImports(readFileSync(path.join(ROOT, 'ARCHITECTURE.md'), 'utf8'));

  it('reads imports: every file it knows of imports only files of runtime/ and operator/ that exist (never test/)', () => {
    assert.ok(files.size > 100, `${files.size} files`);
    const missing = [...files].flatMap(([file, imports]) => imports.filter((target) => !files.has(target)).map((target) => `${file} -> ${target}`));
    assert.deepEqual(missing, []);
  });

  it('has a row of ARCHITECTURE.md for every folder of runtime/ and operator/, and none for a folder that is not there', () => {
    const onDisk = TOPS.flatMap((top) =>
      readdirSync(path.join(ROOT, top), { withFileTypes: true })
        .filter((entry) => entry.isDirectory() || entry.name.endsWith('.ts'))
        .map((entry) => `${top}/${entry.name}`),
    );
    assert.ok(allowed.size > 20, `${allowed.size} rows read`);
    assert.deepEqual([...allowed.keys()].sort(), onDisk.sort());
    const unknown = [...allowed].flatMap(([from, targets]) => [...targets].filter((to) => !existsSync(path.join(ROOT, to))).map((to) => `${from} -> ${to}`));
    assert.deepEqual(unknown, [], 'every folder a row names exists');
  });

  it('imports exactly what ARCHITECTURE.md says each folder may import', () => {
    assert.deepEqual(disagreements(folderImports(files), allowed), []);
  });

  it('has folders in layers: no cycle among them', () => {
    const graph = new Map([...allowed].map(([from, targets]) => [from, [...targets]]));
    assert.deepEqual(cycles(graph), KNOWN_CYCLES);
  });

  it('has no cycle among the files of runtime/ and operator/', () => {
    assert.deepEqual(cycles(files), []);
  });

  it('finds a cycle where there is one', () => {
    const graph = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
    assert.deepEqual(cycles(graph), [['a', 'b', 'c']]);
  });

  it('finds an import the table does not allow, and an allowance no import uses', () => {
    const table = allowedImports(['| `runtime/wire` | frames | `net` |', '| `runtime/net` | sockets | — |', '| `runtime/gateway` | clients | `wire` `operator/spec` |'].join('\n'));
    assert.deepEqual([...table.get('runtime/gateway')!], ['runtime/wire', 'operator/spec']);
    const code = folderImports(new Map([['runtime/wire/a.ts', ['runtime/gateway/b.ts']], ['runtime/gateway/b.ts', ['runtime/wire/a.ts']]]));
    assert.deepEqual(disagreements(code, table), [
      'runtime/wire/a.ts -> runtime/gateway/b.ts: ARCHITECTURE.md does not let runtime/wire import runtime/gateway (the import is wrong, or the table is)',
      'ARCHITECTURE.md lets runtime/wire import runtime/net, which no file of runtime/wire does: take it out of the row',
      'ARCHITECTURE.md lets runtime/gateway import operator/spec, which no file of runtime/gateway does: take it out of the row',
    ]);
  });
});
