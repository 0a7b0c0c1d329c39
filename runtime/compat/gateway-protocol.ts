/**
 * GatewayWorker's GatewayProtocol (v4.0.0, GatewayClient v3.1.1), the frames a GatewayClient sends to a gateway:
 * a 28-byte big-endian header `pack_len(4) cmd(1) local_ip(4) local_port(2) client_ip(4) client_port(2)
 * connection_id(4) flag(1) gateway_port(2) ext_len(4)`, then `ext_len` bytes of ext data, then the body (the rest of
 * `pack_len`). A query is answered with `pack('N', length) . serialize($result)`.
 */

export const HEAD_LEN = 28;

/** The commands, by GatewayWorker's names (GatewayProtocol::CMD_*). */
export const Cmd = {
  ON_CONNECT: 1,
  ON_MESSAGE: 3,
  ON_CLOSE: 4,
  SEND_TO_ONE: 5,
  SEND_TO_ALL: 6,
  KICK: 7,
  DESTROY: 8,
  UPDATE_SESSION: 9,
  GET_ALL_CLIENT_SESSIONS: 10,
  IS_ONLINE: 11,
  BIND_UID: 12,
  UNBIND_UID: 13,
  SEND_TO_UID: 14,
  GET_CLIENT_ID_BY_UID: 15,
  BATCH_GET_CLIENT_ID_BY_UID: 16,
  JOIN_GROUP: 20,
  LEAVE_GROUP: 21,
  SEND_TO_GROUP: 22,
  GET_CLIENT_SESSIONS_BY_GROUP: 23,
  GET_CLIENT_COUNT_BY_GROUP: 24,
  SELECT: 25,
  GET_GROUP_ID_LIST: 26,
  UNGROUP: 27,
  BATCH_GET_CLIENT_COUNT_BY_GROUP: 28,
  WORKER_CONNECT: 200,
  PING: 201,
  GATEWAY_CLIENT_CONNECT: 202,
  GET_SESSION_BY_CLIENT_ID: 203,
  SET_SESSION: 204,
  ON_WEBSOCKET_CONNECT: 205,
} as const;

export const CMD_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(Cmd).map(([name, value]) => [value, `CMD_${name}`]));

/** The body is the bytes of a scalar; without it, the body is serialize() of a value. */
export const FLAG_BODY_IS_SCALAR = 0x01;
/** `$raw`: GatewayWorker writes the body to the client socket without the client protocol's framing. */
export const FLAG_NOT_CALL_ENCODE = 0x02;

export interface GatewayFrame {
  cmd: number;
  localIp: number;
  localPort: number;
  clientIp: number;
  clientPort: number;
  connectionId: number;
  flag: number;
  gatewayPort: number;
  extData: Buffer;
  body: Buffer;
}

/** A frame that cannot be read: the connection it came on is closed. `reason` is the metric label. */
export class GatewayProtocolError extends Error {
  constructor(
    readonly reason: 'header' | 'too-large',
    message: string,
  ) {
    super(message);
  }
}

/** Splits a byte stream into frames, each checked against the header's rules and `maxFrameBytes`. */
export class GatewayFrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrameBytes: number) {}

  /** The frames completed by `chunk`; throws GatewayProtocolError at the first bad header. */
  push(chunk: Buffer): GatewayFrame[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const frames: GatewayFrame[] = [];
    let at = 0;
    while (this.buffered.length - at >= 4) {
      const length = this.buffered.readUInt32BE(at);
      if (length > this.maxFrameBytes) throw new GatewayProtocolError('too-large', `frame of ${length} bytes is past the limit of ${this.maxFrameBytes}`);
      if (length < HEAD_LEN) throw new GatewayProtocolError('header', `frame length ${length} is shorter than the ${HEAD_LEN}-byte header`);
      if (this.buffered.length - at < length) break;
      frames.push(decodeFrame(this.buffered.subarray(at, at + length)));
      at += length;
    }
    this.buffered = this.buffered.subarray(at);
    return frames;
  }
}

function decodeFrame(frame: Buffer): GatewayFrame {
  const extLength = frame.readUInt32BE(24);
  if (extLength > frame.length - HEAD_LEN) {
    throw new GatewayProtocolError('header', `ext_len ${extLength} runs past the frame's ${frame.length} bytes`);
  }
  return {
    cmd: frame[4]!,
    localIp: frame.readUInt32BE(5),
    localPort: frame.readUInt16BE(9),
    clientIp: frame.readUInt32BE(11),
    clientPort: frame.readUInt16BE(15),
    connectionId: frame.readUInt32BE(17),
    flag: frame[21]!,
    gatewayPort: frame.readUInt16BE(22),
    extData: frame.subarray(HEAD_LEN, HEAD_LEN + extLength),
    body: frame.subarray(HEAD_LEN + extLength),
  };
}

/** GatewayProtocol::encode: a frame as GatewayClient writes it (its body bytes as they are). */
export function encodeGatewayFrame(frame: Partial<GatewayFrame> & { cmd: number }): Buffer {
  const ext = frame.extData ?? Buffer.alloc(0);
  const body = frame.body ?? Buffer.alloc(0);
  const head = Buffer.alloc(HEAD_LEN);
  head.writeUInt32BE(HEAD_LEN + ext.length + body.length, 0);
  head[4] = frame.cmd;
  head.writeUInt32BE(frame.localIp ?? 0, 5);
  head.writeUInt16BE(frame.localPort ?? 0, 9);
  head.writeUInt32BE(frame.clientIp ?? 0, 11);
  head.writeUInt16BE(frame.clientPort ?? 0, 15);
  head.writeUInt32BE(frame.connectionId ?? 0, 17);
  head[21] = frame.flag ?? FLAG_BODY_IS_SCALAR;
  head.writeUInt16BE(frame.gatewayPort ?? 0, 22);
  head.writeUInt32BE(ext.length, 24);
  return Buffer.concat([head, ext, body]);
}

/** A query's answer: `pack('N', strlen($buffer)) . $buffer`. */
export function encodeAnswer(serialized: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(serialized.length, 0);
  return Buffer.concat([length, serialized]);
}
