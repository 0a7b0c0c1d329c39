/** The largest payload sent as one frame of our own making: above it, copying the payload costs more than it saves. */
export const OWN_FRAME_MAX_PAYLOAD = 1024;

const FIN = 0x80;
const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
/** Payload lengths from this one up take a 16-bit extended length (RFC 6455, 5.2). */
const EXTENDED_16 = 126;

/**
 * A whole unmasked server data frame (RFC 6455, 5.2) in one buffer: FIN, text or binary, the payload copied in after
 * its length. For payloads up to OWN_FRAME_MAX_PAYLOAD only, which need no 64-bit length. ws's Sender writes a header
 * and the payload as two chunks under a cork of its own, which the socket then hands over as a writev of arrays.
 */
export function dataFrame(payload: Buffer, binary: boolean): Buffer {
  const length = payload.length;
  if (length > OWN_FRAME_MAX_PAYLOAD) throw new RangeError(`a payload of ${length} bytes is over ${OWN_FRAME_MAX_PAYLOAD}`);
  const headerBytes = length < EXTENDED_16 ? 2 : 4;
  const frame = Buffer.allocUnsafe(headerBytes + length);
  frame[0] = FIN | (binary ? OPCODE_BINARY : OPCODE_TEXT);
  if (length < EXTENDED_16) {
    frame[1] = length;
  } else {
    frame[1] = EXTENDED_16;
    frame.writeUInt16BE(length, 2);
  }
  payload.copy(frame, headerBytes);
  return frame;
}
