import { z } from 'zod';
import { apiMethods, MAX_BATCH_CALLS } from './api-methods.js';

/** The version of the HTTP API's document; the paths carry its major version (/v1/). */
const API_VERSION = '1.0.0';

const errorBody = { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] };
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const failures = {
  '400': errorResponse('Bad JSON, or an argument that is missing, of the wrong type or refused by a gateway; the message names it.'),
  '401': errorResponse('Missing or invalid API key.'),
  '413': errorResponse('Request body over the limit.'),
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the schemas requests are validated with (api-methods.ts),
 * so the document and the server cannot disagree. Checked in as runtime/http-api/openapi.json (`npm run openapi`).
 */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(apiMethods)) {
    paths[`/v1/${name}`] = {
      post: {
        operationId: name,
        summary: method.summary,
        requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(method.args, 'input') } } },
        responses: {
          '200': {
            description: 'The call was made.',
            content: {
              'application/json': {
                schema: { type: 'object', properties: { result: jsonSchema(method.result, 'output') }, required: ['result'] },
              },
            },
          },
          ...failures,
          '502': errorResponse('The call failed in the cluster: a gateway failed to carry it out, or sent an answer it could not use.'),
          '504': errorResponse('A gateway the call needed did not answer in time.'),
        },
      },
    };
  }
  paths['/v1/batch'] = {
    post: {
      operationId: 'batch',
      summary: `Up to ${MAX_BATCH_CALLS} calls, made in order. Each call is checked first: one bad call and nothing is done (400).`,
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              properties: {
                calls: {
                  type: 'array',
                  maxItems: MAX_BATCH_CALLS,
                  items: {
                    type: 'object',
                    properties: { method: { type: 'string', enum: Object.keys(apiMethods) }, args: { type: 'object' } },
                    required: ['method'],
                  },
                },
              },
              required: ['calls'],
            },
          },
        },
      },
      responses: {
        '200': {
          description: 'One answer per call, in order: {"result": ...} or {"error": "..."}.',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: { results: { type: 'array', items: { oneOf: [{ type: 'object', properties: { result: {} }, required: ['result'] }, { $ref: '#/components/schemas/Error' }] } } },
                required: ['results'],
              },
            },
          },
        },
        ...failures,
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'GatewayCluster HTTP API',
      version: API_VERSION,
      description:
        'The Gateway API over HTTP: send to clients, uids and groups, bind, join, sessions and queries. Each method is ' +
        'POST /v1/<method> with its arguments as a JSON object. Binary messages: base64 in "message" with "binary": true.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key (--api-key, GWC_API_KEY or --api-key-file).' } },
      schemas: { Error: errorBody },
    },
  };
}
