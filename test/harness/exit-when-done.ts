/**
 * Preloaded (--import) into each test file's process by run-tests.ts. Once the file's tests and hooks are done, its
 * process has GRACE_MS to end by itself; past that it exits 1, naming what holds it open, so the file fails rather
 * than keeping CI waiting. This stands in for node's --test-force-exit, which with --test-concurrency above 1 can
 * end a file's process before its verdicts reach the runner (nodejs/node#64833): tests then go missing, silently.
 */
import { after } from 'node:test';

const GRACE_MS = 30_000;

after(() => {
  setTimeout(() => {
    process.stderr.write(`${process.argv[1]}: its tests ended ${GRACE_MS / 1000} s ago and it is held open by ${process.getActiveResourcesInfo().join(', ')}\n`);
    process.exit(1);
  }, GRACE_MS).unref();
});
