/**
 * Sizes of encoded messages found from protobufjs's reflection of their types, without encoding them: a bound that
 * an encoding never exceeds (each field set counted at the most its kind can take), and the exact size of one entry
 * of a list. A field the .proto gains is counted like the others.
 */
import protobuf from 'protobufjs';

type Size = (value: unknown) => number;

/** Bytes of a varint, at most: the length of anything that fits a frame, an enum, a 64-bit integer. */
export const MAX_VARINT_BYTES = 10;

/** A field's key (its number and wire type, which takes 3 bits) as a varint. */
const keyBytes = (field: protobuf.Field) => varintBytes(field.id * 8);

export function varintBytes(value: number): number {
  let bytes = 1;
  for (let rest = value; rest >= 128; rest = Math.floor(rest / 128)) bytes++;
  return bytes;
}

/** At least the bytes `message` encodes to as a `type`. Properties that are no field of it are not encoded and not counted. */
export function encodedBytesAtMost(type: protobuf.Type, message: object): number {
  let bytes = 0;
  for (const [name, size] of fieldSizes(type)) {
    const value = (message as Record<string, unknown>)[name];
    if (value !== undefined && value !== null) bytes += size(value);
  }
  return bytes;
}

/** The exact bytes of one entry of the list `field`, encoded as its own field (a key, a length, the entry). */
export function entryBytes(field: protobuf.Field): Size {
  const key = keyBytes(field);
  const resolved = field.resolve().resolvedType;
  const length: Size =
    resolved instanceof protobuf.Type
      ? (entry) => resolved.encode(entry as object).finish().length
      : field.type === 'string'
        ? (entry) => Buffer.byteLength(entry as string)
        : field.type === 'bytes'
          ? (entry) => (entry as Uint8Array).length
          : () => MAX_VARINT_BYTES;
  return (entry) => {
    const bytes = length(entry);
    return key + varintBytes(bytes) + bytes;
  };
}

const plans = new WeakMap<protobuf.Type, ReadonlyArray<readonly [string, Size]>>();

function fieldSizes(type: protobuf.Type): ReadonlyArray<readonly [string, Size]> {
  let plan = plans.get(type);
  if (!plan) {
    plan = type.fieldsArray.map((field) => [field.name, fieldSize(field)] as const);
    plans.set(type, plan);
  }
  return plan;
}

function fieldSize(field: protobuf.Field): Size {
  const key = keyBytes(field);
  const value = valueSize(field.type, field.resolve().resolvedType);
  if (field instanceof protobuf.MapField) {
    // Each entry is a message of the key (field 1) and the value (field 2).
    const mapKey = valueSize(field.keyType, null);
    return (map) => {
      let bytes = 0;
      for (const [k, v] of Object.entries(map as Record<string, unknown>)) {
        const entry = 1 + mapKey(k) + 1 + value(v);
        bytes += key + varintBytes(entry) + entry;
      }
      return bytes;
    };
  }
  if (!field.repeated) return (one) => key + value(one);
  // Packed (one key and length for all) or not (a key each): at most both.
  return (list) => {
    let bytes = key + MAX_VARINT_BYTES;
    for (const entry of list as unknown[]) bytes += key + value(entry);
    return bytes;
  };
}

/** The most bytes a value of this type takes after its key. */
function valueSize(type: string, resolved: protobuf.ReflectionObject | null): Size {
  if (resolved instanceof protobuf.Type) {
    return (message) => {
      const bytes = encodedBytesAtMost(resolved, message as object);
      return varintBytes(bytes) + bytes;
    };
  }
  switch (type) {
    case 'string':
      // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 for 2).
      return (text) => {
        const bytes = 3 * (text as string).length;
        return varintBytes(bytes) + bytes;
      };
    case 'bytes':
      return (bytes) => varintBytes((bytes as Uint8Array).length) + (bytes as Uint8Array).length;
    case 'bool':
      return () => 1;
    case 'fixed32':
    case 'sfixed32':
    case 'float':
      return () => 4;
    case 'fixed64':
    case 'sfixed64':
    case 'double':
      return () => 8;
    default:
      // Varints: enums and every other integer.
      return () => MAX_VARINT_BYTES;
  }
}
