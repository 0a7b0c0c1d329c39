/**
 * The handshake of an internal connection as a pure state machine: envelopes in, for each an envelope to send or a
 * verdict out; no sockets and no timers (PeerConnection runs it on a socket). The messages and proofs are described
 * in gwc.proto (Hello) and handshake.ts.
 */
import { closeCause, type CloseCause, type CloseCode } from './close-cause.js';
import { PROTOCOL_VERSION, dialerProof, listenerProof, newNonce, proofsMatch, type Transcript } from './handshake.js';
import { dialersOf } from './role-messages.js';
import { Role, type Envelope } from './types.js';

/** How long a connection may take over its handshake unless told otherwise (PeerOptions.handshakeTimeoutMs). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;

/** Which end of the connection we are: the dialer names where it meant to go; the listener knows where it is. */
export type PeerSide = { dial: DialTarget } | { accept: OwnAddress };

export interface DialTarget {
  /** The address dialed, as the Register listed it or as configured. */
  address: string;
  /** The role expected there. */
  role: Role;
}

export interface OwnAddress {
  /** Whether a dialer that dialed `target` meant to reach us. */
  matches(target: string): boolean;
  /** For log lines and refusals. */
  description: string;
}

export interface HandshakeOptions {
  secret: Buffer;
  /** Our role and name, sent in Hello when we dial. */
  role: Role;
  name: string;
  /** Sent in Hello when we dial: what our side offers (see Hello.features in gwc.proto). */
  features?: string[] | undefined;
}

/** What the handshake makes of one envelope. */
export type HandshakeStep =
  /** Send this and wait for the next. */
  | { next: 'send'; envelope: Envelope }
  /** Authenticated, once `envelope` (if any) is sent. */
  | { next: 'ready'; envelope?: Envelope }
  /** Tell the peer why (in a Refused), then close. */
  | { next: 'refuse'; cause: CloseCause }
  /** The peer refused us: close. */
  | { next: 'close'; cause: CloseCause };

type State = 'awaiting-hello' | 'awaiting-challenge' | 'awaiting-auth' | 'awaiting-welcome' | 'done';

export class Handshake {
  /** Who the peer is, as far as the handshake has learnt: the dialer knows whom it dialed, the listener reads Hello. */
  remoteRole: Role = Role.Unspecified;
  remoteName = '';
  remoteFeatures: readonly string[] = [];
  private state: State;
  /** Filled in as the handshake goes; both proofs are computed over all of it. */
  private transcript: Transcript | undefined;

  /**
   * @param channelBinding keying material of the TLS session the handshake runs in, or nothing on plain TCP (asked
   *   for when needed: a dialer's TLS session is not up yet when the connection is made).
   */
  constructor(
    private readonly side: PeerSide,
    private readonly options: HandshakeOptions,
    private readonly channelBinding: () => Uint8Array,
    private readonly ourNonce: Buffer = newNonce(),
  ) {
    if ('dial' in side) {
      this.state = 'awaiting-challenge';
      this.remoteRole = side.dial.role;
    } else {
      this.state = 'awaiting-hello';
    }
  }

  get done(): boolean {
    return this.state === 'done';
  }

  /** What a dialer sends first: its Hello. A listener sends nothing until it has one. */
  opening(): Envelope | undefined {
    if (!('dial' in this.side)) return undefined;
    const { role, name, features = [] } = this.options;
    return { hello: { role, name, nonce: this.ourNonce, version: PROTOCOL_VERSION, features, target: this.side.dial.address } };
  }

  receive(envelope: Envelope): HandshakeStep {
    switch (this.state) {
      case 'awaiting-hello':
        return this.onHello(envelope, (this.side as { accept: OwnAddress }).accept);
      case 'awaiting-auth':
        return this.onAuth(envelope);
      case 'awaiting-challenge':
        return this.onChallenge(envelope, (this.side as { dial: DialTarget }).dial);
      case 'awaiting-welcome':
        if (envelope.refused) return closed('REFUSED_BY_PEER', `refused by peer: ${envelope.refused.reason ?? ''}`);
        if (!envelope.welcome) return refused('UNEXPECTED_MESSAGE', 'expected Welcome');
        this.state = 'done';
        return { next: 'ready' };
      case 'done':
        throw new Error('the handshake is over');
    }
  }

  /** The listener: who dials, which version, which address it meant; answered with our proof. */
  private onHello(envelope: Envelope, own: OwnAddress): HandshakeStep {
    const hello = envelope.hello;
    const us = this.options.role;
    if (!hello) return refused('UNEXPECTED_MESSAGE', 'expected Hello');
    if (hello.version !== PROTOCOL_VERSION) {
      return refused('VERSION_MISMATCH', `unsupported protocol version ${hello.version}: this ${Role[us]} speaks version ${PROTOCOL_VERSION}`);
    }
    const role = hello.role ?? Role.Unspecified;
    if (!dialersOf(us).includes(role)) return refused('ROLE_NOT_ALLOWED', `role ${Role[role] ?? role} may not connect here`);
    this.remoteRole = role;
    this.remoteName = hello.name ?? '';
    const target = hello.target ?? '';
    if (!own.matches(target)) {
      return refused('MISDIRECTED', `dialed ${JSON.stringify(target)}, which is not this ${Role[us]} (${own.description}): relayed or misdirected`);
    }
    this.remoteFeatures = hello.features ?? [];
    this.transcript = {
      dialerRole: role,
      listenerRole: us,
      target,
      dialerNonce: Buffer.from(hello.nonce ?? []),
      listenerNonce: this.ourNonce,
      channelBinding: this.channelBinding(),
    };
    this.state = 'awaiting-auth';
    return { next: 'send', envelope: { challenge: { nonce: this.ourNonce, proof: listenerProof(this.options.secret, this.transcript), role: us } } };
  }

  private onAuth(envelope: Envelope): HandshakeStep {
    // A dialer that rejects our Challenge (another secret, or a relayed handshake) says so: log its reason.
    if (envelope.refused) return refused('REFUSED_BY_PEER', `peer refused our challenge: ${envelope.refused.reason ?? ''}`);
    if (!envelope.auth) return refused('UNEXPECTED_MESSAGE', 'expected Auth');
    if (!proofsMatch(dialerProof(this.options.secret, this.transcript!), envelope.auth.proof)) {
      return refused('AUTH_FAILED', 'authentication failed: wrong shared secret, or a handshake relayed from another connection');
    }
    this.state = 'done';
    return { next: 'ready', envelope: { welcome: {} } };
  }

  /** The dialer: the role we meant to reach, and its proof; answered with ours. */
  private onChallenge(envelope: Envelope, dial: DialTarget): HandshakeStep {
    if (envelope.refused) return closed('REFUSED_BY_PEER', `refused by peer: ${envelope.refused.reason ?? ''}`);
    const challenge = envelope.challenge;
    if (!challenge) return refused('UNEXPECTED_MESSAGE', 'expected Challenge');
    const role = challenge.role ?? Role.Unspecified;
    if (role !== dial.role) return refused('WRONG_PEER_ROLE', `expected a ${Role[dial.role]} at ${dial.address}, reached a ${Role[role] ?? role}`);
    this.transcript = {
      dialerRole: this.options.role,
      listenerRole: dial.role,
      target: dial.address,
      dialerNonce: this.ourNonce,
      listenerNonce: Buffer.from(challenge.nonce ?? []),
      channelBinding: this.channelBinding(),
    };
    if (!proofsMatch(listenerProof(this.options.secret, this.transcript), challenge.proof)) {
      return refused('AUTH_FAILED', `authentication failed: the peer at ${dial.address} does not hold the shared secret, or relays another connection's handshake`);
    }
    this.state = 'awaiting-welcome';
    return { next: 'send', envelope: { auth: { proof: dialerProof(this.options.secret, this.transcript) } } };
  }
}

function refused(code: CloseCode, detail: string): HandshakeStep {
  return { next: 'refuse', cause: closeCause(code, detail) };
}

function closed(code: CloseCode, detail: string): HandshakeStep {
  return { next: 'close', cause: closeCause(code, detail) };
}
