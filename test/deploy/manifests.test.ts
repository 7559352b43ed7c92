// The Kubernetes manifests as an operator gets them: every kustomize overlay rendered
// (and the sidecar post-renderer run over Coder's chart output), every object validated
// against the Kubernetes and Prometheus Operator schemas, the security and wiring claims
// checked on the rendered objects, and the generated files compared with their sources.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse-config.js';
import { runGenerate } from '../support/generate.js';
import { findRenderer, parseObjects, render, renderComposed, type KubernetesObject, type Renderer } from '../support/kustomize.js';
import { validateObject } from '../support/kubernetes-schemas.js';

const repo = path.resolve(import.meta.dirname, '../..');
const k8s = path.join(repo, 'deploy/kubernetes');
const version = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;
const chartRender = readFileSync(path.join(import.meta.dirname, 'fixtures/coder-chart-render.yaml'), 'utf8');

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } } }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet: { path: string; port: string } };
  readinessProbe?: { httpGet: { path: string; port: string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  restartPolicy?: string;
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: Record<string, unknown>;
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
}
type Deployment = KubernetesObject & { spec: { replicas: number; template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec } } };
type Service = KubernetesObject & { spec: { clusterIP?: string; selector: Record<string, string>; ports: { name: string; port: number; targetPort: number | string }[]; publishNotReadyAddresses?: boolean } };

const find = <T extends KubernetesObject>(objects: KubernetesObject[], kind: string, name: string) => {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind} ${o.metadata.name}`).join(', ')}`);
  return found as T;
};
const monitorContainer = (deployment: Deployment) => deployment.spec.template.spec.containers.find((c) => c.name === 'coder-pg-capacity') as Container;

/** What every container of ours must promise, whatever the install. */
function expectLockedDown(container: Container) {
  expect(container.image).toBe(`ghcr.io/coder-pg-capacity/coder-pg-capacity:${version}`);
  expect(container.securityContext).toEqual({
    runAsNonRoot: true,
    runAsUser: 10001,
    runAsGroup: 10001,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  });
  expect(container.resources?.requests).toHaveProperty('memory');
  expect(container.resources?.limits).toHaveProperty('memory');
  expect(container.livenessProbe?.httpGet.path).toBe('/healthz');
}

/** Kubernetes expands $(NAME) only from variables listed earlier. */
function expectEnvReferencesDefinedFirst(container: Container) {
  const seen = new Set<string>();
  for (const variable of container.env ?? []) {
    for (const [, name] of (variable.value ?? '').matchAll(/\$\((\w+)\)/g)) expect(seen, `${variable.name} uses $(${name})`).toContain(name);
    seen.add(variable.name);
  }
}

/** The container's args and env as the daemon would read them, Secrets and fieldRefs filled in. */
function configOf(container: Container, namespace: string) {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    const value = from?.secretKeyRef ? 'postgres://coder@db.internal:5432/coder' : from?.fieldRef ? namespace : (variable.value ?? '');
    env[variable.name] = value.replace(/\$\((\w+)\)/g, (_, name: string) => env[name] ?? '');
  }
  const [command, ...flags] = container.args ?? [];
  expect(command).toBe('serve');
  return parseConfig(flags, env);
}

let renderer: Renderer;
const rendered = new Map<string, KubernetesObject[]>();

beforeAll(() => {
  renderer = findRenderer();
  for (const overlay of ['base', 'overlays/monitor-pair', 'prometheus-operator', 'prometheus-operator/rules', 'sidecar/prometheus-operator']) rendered.set(overlay, render(renderer, path.join(k8s, overlay)));
  rendered.set('base + components/password-file', renderComposed(renderer, { resources: [path.join(k8s, 'base')], components: [path.join(k8s, 'components/password-file')] }));
  rendered.set('prometheus-operator + components/password-file', renderComposed(renderer, { resources: [path.join(k8s, 'prometheus-operator')], components: [path.join(k8s, 'components/password-file')] }));
  rendered.set('sidecar post-render over the chart', parseObjects(postRender(chartRender).stdout));
});

function postRender(input: string) {
  return spawnSync(path.join(k8s, 'sidecar/post-render.sh'), [], { input, encoding: 'utf8' });
}

describe('the generated manifests', () => {
  it('match what npm run generate makes of the contract, alerts/, grafana/ and the base', () => {
    const check = runGenerate(['--check']);
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it("carry the rule file's 25 alerting rules (23 alerts, two of them in two severities) in the PrometheusRule, unchanged", () => {
    const rule = find<KubernetesObject & { spec: { groups: unknown } }>(rendered.get('prometheus-operator')!, 'PrometheusRule', 'coder-pg-capacity');
    const source = YAML.parse(readFileSync(path.join(repo, 'alerts/coder-pg-capacity.rules.yml'), 'utf8')) as { groups: { rules: { alert?: string }[] }[] };
    expect(rule.spec.groups).toEqual(source.groups);
    expect(source.groups.flatMap((group) => group.rules).filter((r) => r.alert)).toHaveLength(25);
  });

  it("carry grafana/coder-pg-capacity.json in a ConfigMap labelled for Grafana's dashboard sidecar", () => {
    const configMap = find<KubernetesObject & { data: Record<string, string> }>(rendered.get('prometheus-operator')!, 'ConfigMap', 'coder-pg-capacity-dashboard');
    expect(configMap.metadata.labels?.grafana_dashboard).toBe('1');
    expect(JSON.parse(configMap.data['coder-pg-capacity.json'] as string)).toEqual(JSON.parse(readFileSync(path.join(repo, 'grafana/coder-pg-capacity.json'), 'utf8')));
  });
});

describe('every rendered overlay', () => {
  it(`renders and validates against the Kubernetes and Prometheus Operator schemas`, async () => {
    expect(renderer.description).toMatch(/kustomize/);
    for (const [overlay, objects] of rendered) {
      expect(objects.length, overlay).toBeGreaterThan(0);
      for (const object of objects) await expect(validateObject(object), `${overlay}: ${object.kind} ${object.metadata.name}`).resolves.toBeUndefined();
    }
  });

  it('pins the image to this version and never uses latest', () => {
    for (const [overlay, objects] of rendered) {
      for (const deployment of objects.filter((o): o is Deployment => o.kind === 'Deployment')) {
        for (const container of deployment.spec.template.spec.containers) expect(container.image, overlay).not.toMatch(/:latest$|^[^:]+$/);
      }
    }
  });
});

describe('the Deployment install (base)', () => {
  const base = () => rendered.get('base')!;

  it('runs 1 replica, non-root with a read-only root filesystem, all capabilities dropped and seccomp RuntimeDefault', () => {
    const deployment = find<Deployment>(base(), 'Deployment', 'coder-pg-capacity');
    expect(deployment.metadata.namespace).toBe('coder');
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    const container = monitorContainer(deployment);
    expectLockedDown(container);
    expect(container.readinessProbe?.httpGet.path).toBe('/readyz');
    expect(container.ports).toEqual([{ name: 'metrics', containerPort: 9816, protocol: 'TCP' }]);
  });

  it('mounts no service account token', () => {
    expect(find<KubernetesObject & { automountServiceAccountToken: boolean }>(base(), 'ServiceAccount', 'coder-pg-capacity').automountServiceAccountToken).toBe(false);
    const pod = find<Deployment>(base(), 'Deployment', 'coder-pg-capacity').spec.template.spec;
    expect(pod.serviceAccountName).toBe('coder-pg-capacity');
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it("reads Coder's coder-db-url Secret and discovers coderd through the headless coder-metrics Service on 2112", () => {
    const container = monitorContainer(find<Deployment>(base(), 'Deployment', 'coder-pg-capacity'));
    expect(container.env?.find((v) => v.name === 'CODER_PG_CONNECTION_URL')?.valueFrom?.secretKeyRef).toEqual({ name: 'coder-db-url', key: 'url' });
    expectEnvReferencesDefinedFirst(container);
    const config = configOf(container, 'coder');
    expect(config.coder.targets).toEqual([
      { kind: 'dns', protocol: 'http:', hostname: 'coder-metrics.coder.svc.cluster.local', port: 2112, path: '/metrics', text: 'dns+http://coder-metrics.coder.svc.cluster.local:2112/metrics' },
    ]);
    expect(config.web.port).toBe(9816);

    const discovery = find<Service>(base(), 'Service', 'coder-metrics');
    expect(discovery.spec.clusterIP).toBe('None');
    expect(discovery.spec.publishNotReadyAddresses).toBe(true);
    expect(discovery.spec.selector).toEqual({ 'app.kubernetes.io/name': 'coder' });
    expect(discovery.spec.ports.map((p) => p.port)).toEqual([2112]);
  });

  it('serves /metrics on 9816 through the coder-pg-capacity Service, which selects only the monitor', () => {
    const service = find<Service>(base(), 'Service', 'coder-pg-capacity');
    const deployment = find<Deployment>(base(), 'Deployment', 'coder-pg-capacity');
    expect(service.spec.ports).toEqual([{ name: 'metrics', port: 9816, targetPort: 'metrics', protocol: 'TCP' }]);
    for (const [label, value] of Object.entries(service.spec.selector)) expect(deployment.spec.template.metadata.labels[label]).toBe(value);
  });

  it('takes the password from a mounted file with components/password-file', () => {
    const deployment = find<Deployment>(rendered.get('base + components/password-file')!, 'Deployment', 'coder-pg-capacity');
    const container = monitorContainer(deployment);
    expect(container.env?.find((v) => v.name === 'CODER_PG_CONNECTION_URL')?.valueFrom?.secretKeyRef).toEqual({ name: 'coder-pg-capacity-db', key: 'url' });
    const config = configOf(container, 'coder');
    expect(config.postgres.passwordFile).toBe('/run/secrets/coder-pg-capacity-db/password');
    expect((container as Container & { volumeMounts: { mountPath: string; readOnly: boolean }[] }).volumeMounts).toEqual([
      { name: 'db-password', mountPath: '/run/secrets/coder-pg-capacity-db', readOnly: true },
    ]);
    expectLockedDown(container);
  });
});

describe('the monitor pair (overlays/monitor-pair)', () => {
  const objects = () => rendered.get('overlays/monitor-pair')!;

  it("runs the base's monitor twice, and a drain evicts one at a time", () => {
    const deployment = find<Deployment>(objects(), 'Deployment', 'coder-pg-capacity');
    expect(deployment.spec.replicas).toBe(2);
    expect(monitorContainer(deployment)).toEqual(monitorContainer(find<Deployment>(rendered.get('base')!, 'Deployment', 'coder-pg-capacity')));
    const budget = find<KubernetesObject & { spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } }>(objects(), 'PodDisruptionBudget', 'coder-pg-capacity');
    expect(budget.spec.minAvailable).toBe(1);
    expect(Object.keys(budget.spec.selector.matchLabels).length).toBeGreaterThan(0);
    for (const [label, value] of Object.entries(budget.spec.selector.matchLabels)) expect(deployment.spec.template.metadata.labels[label]).toBe(value);
    expect(new Set(objects().map((o) => o.metadata.namespace))).toEqual(new Set(['coder']));
  });
});

describe('the Prometheus Operator overlay', () => {
  const objects = () => rendered.get('prometheus-operator')!;

  it('scrapes the monitor by its Service port and coderd by the chart port prometheus-http', () => {
    const serviceMonitor = find<KubernetesObject & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] } }>(objects(), 'ServiceMonitor', 'coder-pg-capacity');
    const service = find<Service>(objects(), 'Service', 'coder-pg-capacity');
    expect(serviceMonitor.spec.endpoints.map((e) => e.port)).toEqual(service.spec.ports.map((p) => p.name));
    for (const [label, value] of Object.entries(serviceMonitor.spec.selector.matchLabels)) expect(service.metadata.labels?.[label]).toBe(value);
    // The headless discovery Service shares the name label but must not be scraped as the monitor.
    const discovery = find<Service>(objects(), 'Service', 'coder-metrics');
    expect(Object.entries(serviceMonitor.spec.selector.matchLabels).every(([label, value]) => discovery.metadata.labels?.[label] === value)).toBe(false);

    const podMonitor = find<KubernetesObject & { spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string }[] } }>(objects(), 'PodMonitor', 'coderd');
    expect(podMonitor.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'coder' });
    expect(podMonitor.spec.podMetricsEndpoints.map((e) => e.port)).toEqual(['prometheus-http']);
  });

  it('puts every object in one namespace', () => {
    expect(new Set(objects().map((o) => o.metadata.namespace))).toEqual(new Set(['coder']));
  });
});

describe('the sidecar post-renderer over Coder chart output', () => {
  const objects = () => rendered.get('sidecar post-render over the chart')!;

  it("adds the monitor to coderd's pod and leaves the coder container and every other object as the chart made them", () => {
    const chart = parseObjects(chartRender);
    const before = find<Deployment>(chart, 'Deployment', 'coder');
    const after = find<Deployment>(objects(), 'Deployment', 'coder');
    expect(after.spec.template.spec.containers.map((c) => c.name).sort()).toEqual(['coder', 'coder-pg-capacity']);
    expect(after.spec.template.spec.containers.find((c) => c.name === 'coder')).toEqual(before.spec.template.spec.containers[0]);
    expect(after.spec.template.metadata.annotations?.['kubectl.kubernetes.io/default-container']).toBe('coder');
    expect(objects().filter((o) => o.kind !== 'Deployment')).toEqual(chart.filter((o) => o.kind !== 'Deployment'));
  });

  it('scrapes 127.0.0.1:2112, counts replicas from the replicas table, and has no readiness probe to fail coderd with', () => {
    const container = monitorContainer(find<Deployment>(objects(), 'Deployment', 'coder'));
    expectLockedDown(container);
    expect(container.readinessProbe).toBeUndefined();
    const config = configOf(container, 'coder');
    expect(config.coder.targets).toEqual([{ kind: 'static', url: 'http://127.0.0.1:2112/metrics' }]);
    expect(config.coder.replicasFromDb).toBe(true);
    // Its port must not collide with coderd's own in the shared network namespace.
    const coderPorts = find<Deployment>(objects(), 'Deployment', 'coder').spec.template.spec.containers.find((c) => c.name === 'coder')!.ports!.map((p) => p.containerPort);
    expect(coderPorts).not.toContain(container.ports?.[0]?.containerPort);
  });

  it("is scraped by the sidecar PodMonitor on the ports the pod declares", () => {
    const pod = find<Deployment>(objects(), 'Deployment', 'coder').spec.template;
    const podMonitor = find<KubernetesObject & { spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string }[] } }>(rendered.get('sidecar/prometheus-operator')!, 'PodMonitor', 'coder-pg-capacity-sidecar');
    for (const [label, value] of Object.entries(podMonitor.spec.selector.matchLabels)) expect(pod.metadata.labels[label]).toBe(value);
    const declared = pod.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name));
    for (const endpoint of podMonitor.spec.podMetricsEndpoints) expect(declared).toContain(endpoint.port);
  });

  it('fails, naming the label it looked for, when the chart output has no coderd Deployment', () => {
    const result = postRender('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unrelated\n');
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('app.kubernetes.io/name=coder');
  });
});

describe("the values for Coder's Helm chart", () => {
  const snippet = () => YAML.parse(readFileSync(path.join(repo, 'deploy/helm/coder-values-snippet.yaml'), 'utf8')) as { coder: { env: unknown[] }; extraTemplates: KubernetesObject[] };

  it("enable Coder's Prometheus endpoint", () => {
    expect(snippet().coder.env).toEqual([{ name: 'CODER_PROMETHEUS_ENABLE', value: 'true' }]);
  });

  it('deploy through extraTemplates exactly the base and the two monitors, without a namespace (Helm sets the release one)', () => {
    const withoutNamespace = (object: KubernetesObject) => ({ ...object, metadata: { ...object.metadata, namespace: undefined } });
    const strip = (objects: KubernetesObject[]) => objects.map(withoutNamespace).map((object) => JSON.parse(JSON.stringify(object)) as KubernetesObject);
    const key = (object: KubernetesObject) => `${object.kind}/${object.metadata.name}`;
    const expected = strip(rendered.get('prometheus-operator')!.filter((o) => !['PrometheusRule', 'ConfigMap'].includes(o.kind))).sort((a, b) => key(a).localeCompare(key(b)));
    const actual = [...snippet().extraTemplates].sort((a, b) => key(a).localeCompare(key(b)));
    expect(actual).toEqual(expected);
  });

  it("hold no {{ }}, which the chart's template engine would evaluate", () => {
    for (const file of ['coder-values-snippet.yaml', 'coder-values-native-sidecar.yaml']) expect(readFileSync(path.join(repo, 'deploy/helm', file), 'utf8')).not.toContain('{{');
  });

  it('give the native sidecar the same locked-down container, restarting Always', async () => {
    const values = YAML.parse(readFileSync(path.join(repo, 'deploy/helm/coder-values-native-sidecar.yaml'), 'utf8')) as { coder: { initContainers: Container[] } };
    const [sidecar] = values.coder.initContainers;
    expect(sidecar?.restartPolicy).toBe('Always');
    expectLockedDown(sidecar!);
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'coder' }, spec: { initContainers: values.coder.initContainers, containers: [{ name: 'coder', image: 'ghcr.io/coder/coder:v2.30.0' }] } };
    await expect(validateObject(pod)).resolves.toBeUndefined();
    expect(configOf(sidecar!, 'coder').coder.replicasFromDb).toBe(true);
  });
});

describe("docs/deployment.md's scrape config for Prometheus without the Operator", () => {
  // Debian's promtool is built without Kubernetes service discovery and cannot check it;
  // what can drift is the names it keeps, so those are checked against the manifests.
  const deploymentDoc = () => readFileSync(path.join(repo, 'docs/deployment.md'), 'utf8');
  const scrapeConfigs = () => {
    const doc = deploymentDoc();
    const heading = doc.indexOf('## Prometheus without the Operator');
    if (heading === -1) throw new Error('docs/deployment.md: no "## Prometheus without the Operator" section');
    const block = /```yaml\n([\s\S]*?)```/.exec(doc.slice(heading))?.[1];
    if (!block) throw new Error('docs/deployment.md: no yaml block under "## Prometheus without the Operator"');
    return (YAML.parse(block) as { scrape_configs: { job_name: string; relabel_configs: { regex?: string; action?: string }[] }[] }).scrape_configs;
  };
  const keep = (job: string) => scrapeConfigs().find((c) => c.job_name === job)?.relabel_configs.find((r) => r.action === 'keep')?.regex;

  it('keeps the monitor by its Service name and port name, as job coder-pg-capacity', () => {
    const service = find<Service>(rendered.get('base')!, 'Service', 'coder-pg-capacity');
    expect(keep('coder-pg-capacity')).toBe(`${service.metadata.name};${service.spec.ports[0]?.name}`);
  });

  it("keeps coderd by the chart's pod label and port name", () => {
    const pod = find<Deployment>(parseObjects(chartRender), 'Deployment', 'coder').spec.template;
    const port = pod.spec.containers[0]?.ports?.find((p) => p.containerPort === 2112)?.name;
    expect(keep('coderd')).toBe(`${pod.metadata.labels['app.kubernetes.io/name']};${port}`);
  });

  it('names the sidecar port the sidecar declares', () => {
    const sidecar = monitorContainer(find<Deployment>(rendered.get('sidecar post-render over the chart')!, 'Deployment', 'coder'));
    expect(deploymentDoc()).toContain(`regex: coder;${sidecar.ports?.[0]?.name}`);
  });
});
