import { ErrorCode, type Reply } from '../wire/types.js';
import { mergePages } from '../wire/reply-pages.js';
import { GatewayCommandError, GatewayLostError, GatewayTimeoutError } from './gateway-errors.js';

/** The most pages one answer may come in (at the default frame limit, 16 GiB). */
const MAX_REPLY_PAGES = 1024;

interface PendingRequest {
  resolve(reply: Reply | undefined): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  address: string;
  /** The pages of an answer too large for one frame, so far. */
  pages?: Reply[];
}

/**
 * Requests waiting for a gateway's answer, matched to it by request id: each fails with a GatewayTimeoutError when
 * no answer comes in time, with a GatewayLostError when its gateway's link is lost, and with a GatewayCommandError
 * when the answer is an error; an answer in pages resolves once its last page is in.
 */
export class PendingRequests {
  private readonly pending = new Map<number, PendingRequest>();
  private nextRequestId = 0;

  constructor(private readonly timeoutMs: number) {}

  /** A new request to the gateway at `address`: its id, and its answer. */
  open(address: string): { requestId: number; reply: Promise<Reply | undefined> } {
    const requestId = (this.nextRequestId = (this.nextRequestId % 0xffffffff) + 1);
    const reply = new Promise<Reply | undefined>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(requestId, new GatewayTimeoutError(`gateway ${address} did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.pending.set(requestId, { resolve, reject, timer, address });
    });
    return { requestId, reply };
  }

  /** An answer (or a page of one) from a gateway; one no request waits for is dropped. */
  settle(reply: Reply): void {
    const requestId = reply.requestId ?? 0;
    const pending = this.pending.get(requestId);
    if (!pending) return;
    if (reply.partial) {
      const pages = (pending.pages ??= []);
      pages.push(reply);
      // A gateway is trusted to page, not to page without end.
      if (pages.length > MAX_REPLY_PAGES) this.fail(requestId, new Error(`gateway ${pending.address} sent an answer in more than ${MAX_REPLY_PAGES} pages`));
      return;
    }
    this.pending.delete(requestId);
    clearTimeout(pending.timer);
    const whole = pending.pages ? mergePages([...pending.pages, reply]) : reply;
    if (whole.error) pending.reject(new GatewayCommandError(whole.errorCode ?? ErrorCode.Unspecified, whole.error));
    else pending.resolve(whole);
  }

  fail(requestId: number, error: Error): void {
    const pending = this.pending.get(requestId);
    if (!pending) return;
    this.pending.delete(requestId);
    clearTimeout(pending.timer);
    pending.reject(error);
  }

  /** The link to `address` is lost: what was asked of it will not be answered. */
  gatewayLost(address: string): void {
    for (const [id, pending] of this.pending) {
      if (pending.address === address) this.fail(id, new GatewayLostError(address));
    }
  }

  failAll(error: Error): void {
    for (const id of [...this.pending.keys()]) this.fail(id, error);
  }
}
