/**
 * JSON Schema (draft 2020-12) validation with ajv, loaded on first use: ajv is a large CommonJS
 * package whose loading would cost every run, while most runs validate only user-supplied files.
 */
import { createRequire } from 'node:module';
import type { ErrorObject } from 'ajv';

export type SchemaValidator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
type AjvCtor = new (opts: object) => { compile(schema: object): SchemaValidator };

const require = createRequire(import.meta.url);

/** A validator for `schema` (strict mode; all errors collected). */
export function compileSchema(schema: object): SchemaValidator {
  const mod = require('ajv/dist/2020.js') as AjvCtor & { default?: AjvCtor };
  // ajv is CommonJS: the class is the module's `default`.
  const Ajv2020 = mod.default ?? mod;
  return new Ajv2020({ allErrors: true, strict: true, strictRequired: false }).compile(schema);
}
