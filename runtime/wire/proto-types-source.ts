/**
 * The TypeScript shapes of a .proto's messages and enums, generated from protobufjs's reflection of it: one interface
 * per message (field names in camelCase, as protobufjs reads and writes them) and one enum per enum (values in
 * PascalCase, without the enum's own prefix: ROLE_UNSPECIFIED is Role.Unspecified). Comments come along.
 *
 * Every field is optional, as in proto3: a sender leaves out what is at its zero value (protobufjs would encode it),
 * and a receiver states what it takes a missing field for. Only top-level messages and enums are supported.
 */
import protobuf from 'protobufjs';

const TS_OF_SCALAR: Readonly<Record<string, string>> = {
  double: 'number',
  float: 'number',
  int32: 'number',
  uint32: 'number',
  sint32: 'number',
  fixed32: 'number',
  sfixed32: 'number',
  int64: 'Uint64',
  uint64: 'Uint64',
  sint64: 'Uint64',
  fixed64: 'Uint64',
  sfixed64: 'Uint64',
  bool: 'boolean',
  string: 'string',
  bytes: 'Uint8Array',
};

const PREAMBLE = `/** A 64-bit integer: protobufjs decodes it as a number here (proto-schema.ts turns Long off), and encodes either. */
export type Uint64 = number | { toNumber(): number };`;

/** `origin` says where the source comes from and how to make it again, for its first line. */
export function protoTypesSource(root: protobuf.Root, packageName: string, origin: string): string {
  const namespace = root.lookup(packageName);
  if (!(namespace instanceof protobuf.Namespace)) throw new Error(`no package ${packageName}`);
  const parts = [`// Generated from ${origin}; do not edit by hand.`, PREAMBLE];
  for (const item of namespace.nestedArray) {
    if (item instanceof protobuf.Type) parts.push(messageSource(item));
    else if (item instanceof protobuf.Enum) parts.push(enumSource(item));
    else throw new Error(`${item.fullName}: only messages and enums are generated`);
  }
  return parts.join('\n\n') + '\n';
}

function messageSource(type: protobuf.Type): string {
  if (type.nestedArray.length > 0) throw new Error(`${type.fullName}: nested types are not generated; declare ${type.nestedArray[0]!.name} at the top level`);
  const oneofs = type.oneofsArray.map((oneof) =>
    oneof.fieldsArray.length === type.fieldsArray.length
      ? `One field at most is set: they form the oneof \`${oneof.name}\`.`
      : `One at most of ${oneof.fieldsArray.map((field) => field.name).join(', ')} is set: they form the oneof \`${oneof.name}\`.`,
  );
  const comment = [type.comment, ...oneofs].filter(Boolean).join('\n');
  if (type.fieldsArray.length === 0) return `${doc(comment, '')}export type ${type.name} = Record<string, never>;`;
  const fields = type.fieldsArray.map((field) => `${doc(field.comment, '  ')}  ${field.name}?: ${tsType(field)};`);
  return `${doc(comment, '')}export interface ${type.name} {\n${fields.join('\n')}\n}`;
}

function tsType(field: protobuf.Field): string {
  const resolved = field.resolve().resolvedType;
  const element = resolved ? resolved.name : TS_OF_SCALAR[field.type];
  if (element === undefined) throw new Error(`${field.fullName}: no TypeScript type for ${field.type}`);
  if (field instanceof protobuf.MapField) return `Record<string, ${element}>`;
  return field.repeated ? `${element}[]` : element;
}

function enumSource(enumeration: protobuf.Enum): string {
  const prefix = `${snakeCase(enumeration.name)}_`;
  const values = Object.entries(enumeration.values).map(([name, id]) => {
    const bare = name.startsWith(prefix) ? name.slice(prefix.length) : name;
    return `${doc(enumeration.comments[name], '  ')}  ${pascalCase(bare)} = ${id},`;
  });
  return `${doc(enumeration.comment, '')}export enum ${enumeration.name} {\n${values.join('\n')}\n}`;
}

/** EventKind: EVENT_KIND. */
function snakeCase(name: string): string {
  return name.replace(/(?<=[a-z0-9])(?=[A-Z])/g, '_').toUpperCase();
}

/** WEB_SOCKET_CONNECT: WebSocketConnect. */
function pascalCase(name: string): string {
  return name
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

function doc(comment: string | null | undefined, indent: string): string {
  if (!comment) return '';
  const lines = comment.replaceAll('*/', '*\\/').split('\n');
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((line) => `${indent} * ${line}`.trimEnd()).join('\n')}\n${indent} */\n`;
}
