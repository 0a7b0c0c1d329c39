/**
 * A reconcile that cannot succeed until its object changes (an invalid spec), as controller-runtime's
 * reconcile.TerminalError: the controller counts and logs it, and does not retry it; a change to the object queues
 * it again.
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}
