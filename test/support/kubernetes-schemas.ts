// Validates Kubernetes objects against the API's OpenAPI schemas (kubernetes-models 4)
// and the Prometheus Operator's CRD schemas (@kubernetes-models/prometheus-operator 4,
// generated from the operator's v0.65 CRDs). An object of a kind without a schema here
// is an error, never a pass.

import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Pod, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { KubernetesObject } from './kustomize.js';

interface Model {
  validate(): void;
}
type ModelClass = new (data: never) => Model;

const coreModels: Record<string, ModelClass> = {
  'v1/ConfigMap': ConfigMap as unknown as ModelClass,
  'v1/Pod': Pod as unknown as ModelClass,
  'v1/Service': Service as unknown as ModelClass,
  'v1/ServiceAccount': ServiceAccount as unknown as ModelClass,
  'apps/v1/Deployment': Deployment as unknown as ModelClass,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget as unknown as ModelClass,
};

export const OPERATOR_MODELS_PACKAGE = '@kubernetes-models/prometheus-operator';

let operatorModels: Promise<Record<string, ModelClass>> | undefined;

/** Loaded on first use by a computed name, so that type-checking never needs the package. */
function loadOperatorModels(): Promise<Record<string, ModelClass>> {
  operatorModels ??= (async () => {
    let module: { monitoringCoreosCom: { v1: Record<string, ModelClass> } };
    try {
      module = (await import(OPERATOR_MODELS_PACKAGE)) as typeof module;
    } catch (error) {
      throw new Error(
        `validating ServiceMonitor, PodMonitor and PrometheusRule needs the dev dependency ${OPERATOR_MODELS_PACKAGE} ` +
          `4.x (the line built on kubernetes-models 4; 5.x and later need Node 22): npm install --save-dev ${OPERATOR_MODELS_PACKAGE}@^4.4.4 ` +
          `(${(error as Error).message})`,
      );
    }
    const { v1 } = module.monitoringCoreosCom;
    return Object.fromEntries(['ServiceMonitor', 'PodMonitor', 'PrometheusRule'].map((kind) => [`monitoring.coreos.com/v1/${kind}`, v1[kind] as ModelClass]));
  })();
  return operatorModels;
}

/** Throws naming the object and every schema violation. */
export async function validateObject(object: KubernetesObject): Promise<void> {
  const key = `${object.apiVersion}/${object.kind}`;
  const Model = coreModels[key] ?? (object.apiVersion.startsWith('monitoring.coreos.com/') ? (await loadOperatorModels())[key] : undefined);
  const name = `${object.kind} ${object.metadata?.name ?? '(no name)'}`;
  if (!Model) throw new Error(`${name}: no schema for ${key}; add its model to test/support/kubernetes-schemas.ts`);
  try {
    new Model(object as never).validate();
  } catch (error) {
    throw new Error(`${name} does not validate against ${key}: ${(error as Error).message}`);
  }
}
