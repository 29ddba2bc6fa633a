// deploy/k8s/streamgate.yaml without a cluster: each document validated against its Kubernetes
// schema (kubernetes-models, generated from the Kubernetes OpenAPI), then what issue #13 asks of
// the Deployment: secrets as files, threads from the CPU limit, no service-account token,
// topology spread, /metrics on its own port and not in the Service.
//   node tests/k8s/check.mjs deploy/k8s/streamgate.yaml
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { Deployment } from "kubernetes-models/apps/v1";
import { Service } from "kubernetes-models/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";

const models = {
  "apps/v1/Deployment": Deployment,
  "v1/Service": Service,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
};
let failures = 0;
const fail = (msg) => {
  failures++;
  console.error(`k8s: ${msg}`);
};
const check = (cond, msg) => cond || fail(msg);

const docs = parseAllDocuments(readFileSync(process.argv[2], "utf8")).map((d) => {
  if (d.errors.length) fail(`YAML: ${d.errors[0].message}`);
  return d.toJS();
});
const byKind = {};
for (const doc of docs) {
  const Model = models[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) {
    fail(`no schema for ${doc.apiVersion} ${doc.kind}`);
    continue;
  }
  try {
    new Model(doc).validate();
  } catch (e) {
    fail(`${doc.kind} ${doc.metadata?.name}: ${e.message}`);
  }
  byKind[doc.kind] = doc;
}
for (const kind of Object.keys(models).map((k) => k.split("/").pop()))
  check(byKind[kind], `no ${kind}`);

const pod = byKind.Deployment?.spec?.template?.spec ?? {};
const c = pod.containers?.[0] ?? {};
const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));
check(pod.automountServiceAccountToken === false, "automountServiceAccountToken is not false");
const keys = (pod.topologySpreadConstraints ?? []).map((t) => t.topologyKey);
check(keys.includes("topology.kubernetes.io/zone") && keys.includes("kubernetes.io/hostname"),
  "topology spread over zones and nodes missing");
check(env.HTTP_THREADS?.valueFrom?.resourceFieldRef?.resource === "limits.cpu",
  "HTTP_THREADS does not come from the CPU limit");
check(!(c.envFrom ?? []).some((e) => e.secretRef), "a secret is still loaded into the environment");
const mounts = Object.fromEntries((c.volumeMounts ?? []).map((m) => [m.name, m]));
const secretVolume = (pod.volumes ?? []).find((v) => v.secret?.secretName === "streamgate");
check(secretVolume && mounts[secretVolume.name]?.readOnly, "the secret is not mounted read-only");
const dir = secretVolume && mounts[secretVolume.name]?.mountPath;
for (const name of ["STREAM_API_SECRET", "AUTH_JWT_SECRET", "DATABASE_URL", "REDIS_URL"]) {
  check(!env[name], `${name} is set directly`);
  check(env[`${name}_FILE`]?.value === `${dir}/${name}`, `${name}_FILE does not name the mounted file`);
}
const ports = Object.fromEntries((c.ports ?? []).map((p) => [p.name, p.containerPort]));
check(ports.metrics === Number(env.METRICS_PORT?.value), "the metrics port is not declared");
check(ports.metrics !== ports.http, "metrics share the public port");
const annotations = byKind.Deployment?.spec?.template?.metadata?.annotations ?? {};
check(annotations["prometheus.io/port"] === String(ports.metrics), "the scrape annotation is not the metrics port");
const servicePorts = (byKind.Service?.spec?.ports ?? []).map((p) => p.targetPort);
check(!servicePorts.includes("metrics") && !servicePorts.includes(ports.metrics),
  "the Service exposes /metrics");
check(c.securityContext?.readOnlyRootFilesystem === true, "the root filesystem is writable");
check(pod.securityContext?.runAsNonRoot === true, "the pod may run as root");

if (failures) process.exit(1);
console.log(`k8s: ${docs.length} documents valid against the Kubernetes schemas; deployment rules hold`);
console.log("k8s: 1 passed, 0 failed");
