/**
 * Test-only: the few API calls the process kubelet makes, over @kubernetes/client-node, with "not found" as
 * undefined and the patch content types it needs.
 */
import {
  CoordinationV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1ConfigMap,
  type V1Secret,
} from '@kubernetes/client-node';

/** The HTTP status of a failed API call (client-node's ApiException has it as `code`), if any. */
export function apiStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown; statusCode?: unknown } | null)?.code ?? (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** One line for a failed call: status and the API's message when there is one. */
export function apiErrorMessage(error: unknown): string {
  const status = apiStatus(error);
  const body = (error as { body?: unknown } | null)?.body;
  let message: string | undefined;
  if (typeof body === 'string') {
    try {
      message = (JSON.parse(body) as { message?: string }).message;
    } catch {
      message = body.slice(0, 200);
    }
  } else if (body && typeof body === 'object') {
    message = (body as { message?: string }).message;
  }
  const text = message ?? (error instanceof Error ? error.message : String(error));
  return status === undefined ? text : `${status}: ${text}`;
}

export const strategicMergePatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export class KubeletApi {
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;

  constructor(readonly kubeConfig: KubeConfig) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.coordination = kubeConfig.makeApiClient(CoordinationV1Api);
  }

  async getConfigMap(namespace: string, name: string): Promise<V1ConfigMap | undefined> {
    return notFoundAsUndefined(this.core.readNamespacedConfigMap({ namespace, name }));
  }

  async getSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    return notFoundAsUndefined(this.core.readNamespacedSecret({ namespace, name }));
  }

  async requestToken(namespace: string, serviceAccount: string, request: { audience?: string; expirationSeconds?: number; podName: string; podUid: string }): Promise<string> {
    const response = await this.core.createNamespacedServiceAccountToken({
      namespace,
      name: serviceAccount,
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          audiences: request.audience ? [request.audience] : [],
          expirationSeconds: request.expirationSeconds ?? 3607,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: request.podName, uid: request.podUid },
        },
      },
    });
    const token = response.status?.token;
    if (!token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
    return token;
  }

  /** Binds the pod to the node, as the scheduler would. False when it is bound already (or gone). */
  async bindPod(namespace: string, name: string, uid: string | undefined, nodeName: string): Promise<boolean> {
    try {
      await this.core.createNamespacedPodBinding({
        namespace,
        name,
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name, namespace, ...(uid ? { uid } : {}) },
          target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
        },
      });
      return true;
    } catch (error) {
      if (apiStatus(error) === 409 || apiStatus(error) === 404) return false;
      throw error;
    }
  }

  /** Strategic merge patch of the pod's status subresource. False when the pod is gone. */
  async patchPodStatus(namespace: string, name: string, status: Record<string, unknown>): Promise<boolean> {
    try {
      await this.core.patchNamespacedPodStatus({ namespace, name, body: { status } }, strategicMergePatch);
      return true;
    } catch (error) {
      if (apiStatus(error) === 404) return false;
      throw error;
    }
  }

  /** Removes the pod object for good (grace 0), only if it is still the pod with this uid. */
  async deletePodNow(namespace: string, name: string, uid: string | undefined): Promise<void> {
    try {
      await this.core.deleteNamespacedPod({
        namespace,
        name,
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, ...(uid ? { preconditions: { uid } } : {}) },
      });
    } catch (error) {
      // 404: gone already; 409: the name now belongs to another pod (a StatefulSet's replacement).
      if (apiStatus(error) !== 404 && apiStatus(error) !== 409) throw error;
    }
  }
}

async function notFoundAsUndefined<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    if (apiStatus(error) === 404) return undefined;
    throw error;
  }
}
