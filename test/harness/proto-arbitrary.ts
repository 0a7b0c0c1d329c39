/** fast-check values for any message of a .proto, built from protobufjs's reflection of it: every field may be set. */
import fc from 'fast-check';
import protobuf from 'protobufjs';

const SCALARS: Record<string, fc.Arbitrary<unknown>> = {
  string: fc.string({ unit: 'binary', maxLength: 40 }),
  bytes: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  bool: fc.boolean(),
  int32: fc.integer(),
  sint32: fc.integer(),
  sfixed32: fc.integer(),
  uint32: fc.integer({ min: 0, max: 0xffffffff }),
  fixed32: fc.integer({ min: 0, max: 0xffffffff }),
  // protobufjs reads 64-bit integers as numbers here (proto-schema.ts): those a number holds exactly.
  int64: fc.maxSafeInteger(),
  sint64: fc.maxSafeInteger(),
  sfixed64: fc.maxSafeInteger(),
  uint64: fc.maxSafeNat(),
  fixed64: fc.maxSafeNat(),
  double: fc.double(),
  float: fc.float(),
};

export function messageArbitrary(type: protobuf.Type): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of type.fieldsArray) {
    const value = valueArbitrary(field.type, field.resolve().resolvedType);
    fields[field.name] =
      field instanceof protobuf.MapField
        ? fc.dictionary(fc.string({ maxLength: 10 }), value, { maxKeys: 4 })
        : field.repeated
          ? fc.array(value, { maxLength: 6 })
          : value;
  }
  return fc.record(fields, { requiredKeys: [] }) as fc.Arbitrary<Record<string, unknown>>;
}

function valueArbitrary(type: string, resolved: protobuf.ReflectionObject | null): fc.Arbitrary<unknown> {
  if (resolved instanceof protobuf.Type) return messageArbitrary(resolved);
  if (resolved instanceof protobuf.Enum) return fc.constantFrom(...Object.values(resolved.values));
  const scalar = SCALARS[type];
  if (!scalar) throw new Error(`no arbitrary for ${type}`);
  return scalar;
}
