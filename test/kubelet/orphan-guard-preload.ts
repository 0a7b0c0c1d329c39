/**
 * Test-only: loaded into every process the process kubelet runs (`NODE_OPTIONS=--import=...`). If the kubelet's
 * process disappears without stopping its pods (a test run killed or crashed), the pod processes end themselves
 * within a second instead of lingering on their loopback ports. Checks once a second on a timer that does not keep
 * the process alive.
 */
import { KUBELET_PID_ENV } from './service-dns-names.js';

const kubeletPid = Number(process.env[KUBELET_PID_ENV]);
if (Number.isInteger(kubeletPid) && kubeletPid > 0) {
  setInterval(() => {
    try {
      process.kill(kubeletPid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') process.kill(process.pid, 'SIGKILL');
    }
  }, 1000).unref();
}
