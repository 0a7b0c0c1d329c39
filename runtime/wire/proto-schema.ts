/**
 * runtime/proto/gwc.proto, read once: protobufjs's reflection of it is what the codec encodes with, what the TypeScript
 * shapes are generated from (proto-types.ts), and where the roles' permitted messages (role-messages.ts) and the
 * size bound of replies (message-size.ts) come from. Comments are kept: some of them are read (see role-messages.ts).
 */
import protobuf from 'protobufjs';
import { assetPath } from '../assets.js';

// uint64 fields (event sequences, counts) stay below 2^53, so they decode as plain numbers rather than a Long
// object each: acknowledgements carry many of them, and this is the hot path.
protobuf.util.Long = null as unknown as typeof protobuf.util.Long;
protobuf.configure();

export const PROTO_PACKAGE = 'gwc';
export const protoPath = assetPath('runtime', 'proto', 'gwc.proto');

export function loadProto(): protobuf.Root {
  const root = new protobuf.Root().loadSync(protoPath, { alternateCommentMode: true });
  root.resolveAll();
  return root;
}

export const protoRoot = loadProto();

export function protoType(name: string): protobuf.Type {
  return protoRoot.lookupType(`${PROTO_PACKAGE}.${name}`);
}

export function protoEnum(name: string): protobuf.Enum {
  return protoRoot.lookupEnum(`${PROTO_PACKAGE}.${name}`);
}
