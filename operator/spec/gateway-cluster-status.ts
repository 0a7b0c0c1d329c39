import { z } from 'zod';

export const conditionTypes = ['Ready', 'Progressing', 'Degraded', 'Paused', 'NodeLoss'] as const;

const condition = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.string().meta({ format: 'date-time' }),
  observedGeneration: z.number().int().optional(),
});

const roleStatus = z.object({
  replicas: z.number().int().describe('pods wanted'),
  ready: z.number().int().describe('pods ready'),
});

export const gatewayClusterStatus = z.object({
  observedGeneration: z.number().int().optional(),
  conditions: z.array(condition).optional().meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
  register: roleStatus.optional(),
  gateways: roleStatus.optional(),
  workers: roleStatus.optional(),
  api: roleStatus.optional().describe('the HTTP API, when spec.api runs it'),
  /** The scale subresource's view: worker replicas and the selector of their pods. */
  replicas: z.number().int().optional(),
  selector: z.string().optional(),
  /** "ready/wanted" per role, for kubectl's printer columns. */
  gatewaysReady: z.string().optional(),
  workersReady: z.string().optional(),
  address: z.string().optional().describe('where clients connect: the client Service host:port'),
  registerAddress: z.string().optional(),
  apiUrl: z.string().optional().describe('where backends call the HTTP API: its Service, when spec.api runs it'),
  secretName: z.string().optional(),
});

export type GatewayClusterStatus = z.infer<typeof gatewayClusterStatus>;
export type Condition = z.infer<typeof condition>;
