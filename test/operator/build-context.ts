import type { BuildContext } from '../../operator/builders/cluster-object.js';
import { DEFAULT_OPERAND_IMAGE } from '../../operator/builders/container.js';

/** What the reconciler hands the builders for a cluster `chat` whose Secrets are the generated ones. */
export function buildContext(overrides: Partial<BuildContext> = {}): BuildContext {
  return {
    secretName: 'chat-secret',
    secretKey: 'secret',
    apiKeySecretName: 'chat-api-key',
    apiKeySecretKey: 'keys',
    defaultImage: DEFAULT_OPERAND_IMAGE,
    liveGatewayReplicas: undefined,
    serviceMonitorAvailable: false,
    ...overrides,
  };
}
