/**
 * Test-only: Kubernetes' `$(VAR)` expansion, as the kubelet applies it to env values, command and args
 * (a port of k8s.io/kubernetes third_party/forked/golang/expansion):
 * - `$(NAME)` becomes the value of NAME when it is defined, and stays `$(NAME)` verbatim when it is not;
 * - `$$` is an escaped `$` (so `$$(NAME)` gives `$(NAME)`);
 * - any other `$` (and an unclosed `$(`) is kept as it is.
 */

/** Expands `input` with `lookup`, which returns undefined for an undefined variable. */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    let advance = 1;
    if (next === '$') {
      out += '$';
    } else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close >= 0) {
        const name = input.slice(cursor + 2, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close - cursor;
      } else {
        out += '$(';
      }
    } else {
      out += `$${next}`;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** A lookup over maps searched in order (the first that defines the name wins). */
export function mappingFor(...contexts: ReadonlyArray<Record<string, string> | Map<string, string>>): (name: string) => string | undefined {
  return (name) => {
    for (const context of contexts) {
      const value = context instanceof Map ? context.get(name) : Object.hasOwn(context, name) ? context[name] : undefined;
      if (value !== undefined) return value;
    }
    return undefined;
  };
}
