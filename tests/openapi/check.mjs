// 1. docs/openapi.yaml is a valid OpenAPI 3.1 document (a real validator from npm).
// 2. Live answers of a running streamgate match the schemas the document gives them.
// Usage: node check.mjs <openapi.yaml> <base-url> <stream-secret> <app-jwt> <admin-jwt>
import { readFileSync } from "node:fs";
import { createHmac } from "node:crypto";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import YAML from "yaml";

const [file, base, streamSecret, appJwt, adminJwt] = process.argv.slice(2);
let failures = 0, passed = 0;
const fail = (msg) => { failures++; console.error("FAIL " + msg); };
const pass = () => { passed++; };

const doc = YAML.parse(readFileSync(file, "utf8"));
const result = await new Validator().validate(doc);
if (!result.valid) fail("openapi.yaml is not valid OpenAPI 3.1: " + JSON.stringify(result.errors).slice(0, 2000));
else pass();

const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema({ $id: "openapi", components: doc.components });
const check = (name, schemaName, body) => {
  const validate = ajv.getSchema("openapi#/components/schemas/" + schemaName);
  if (!validate(body)) fail(`${name}: answer does not match ${schemaName}: ${JSON.stringify(validate.errors)} body ${JSON.stringify(body)}`);
  else pass();
};
// The documented response for this path, method and status must exist.
const documented = (path, method, status) => {
  // 405 is the documented answer (info.description) for a method a listed path does not have.
  if (status === 405) {
    if (!doc.paths[path] || doc.paths[path][method]) fail(`405 for ${method.toUpperCase()} ${path}, which is listed`);
    else pass();
    return;
  }
  const op = doc.paths[path]?.[method];
  if (!op || !op.responses[String(status)]) fail(`${method.toUpperCase()} ${path} answered ${status}, which is not documented`);
  else pass();
};

async function call(name, method, path, template, { headers = {}, body, schema, status }) {
  const res = await fetch(base + path, { method: method.toUpperCase(), headers, body });
  const json = await res.json();
  if (status && res.status !== status) fail(`${name}: expected ${status}, got ${res.status} ${JSON.stringify(json)}`);
  if (!res.headers.get("x-request-id")) fail(`${name}: no X-Request-Id`);
  documented(template, method, res.status);
  check(name, res.status < 400 ? schema : "Error", json);
  return json;
}

const auth = (jwt) => ({ Authorization: "Bearer " + jwt, "Content-Type": "application/json" });
const signed = (body, id) => ({ "X-Signature": createHmac("sha256", streamSecret).update(body).digest("hex"),
                                 "X-Webhook-Id": id, "Content-Type": "application/json" });

await call("health", "get", "/healthz", "/healthz", { schema: "HealthResponse", status: 200 });
await call("ready", "get", "/readyz", "/readyz", { schema: "HealthResponse", status: 200 });
await call("token", "post", "/api/v1/stream/token", "/api/v1/stream/token", { headers: auth(appJwt), body: "{}", schema: "TokenResponse", status: 200 });
await call("token unauthenticated", "post", "/api/v1/stream/token", "/api/v1/stream/token", { status: 401 });
await call("token bad body", "post", "/api/v1/stream/token", "/api/v1/stream/token", { headers: auth(appJwt), body: "[1]", status: 400 });
await call("token wrong method", "get", "/api/v1/stream/token", "/api/v1/stream/token", { status: 405 });
const event = JSON.stringify({ type: "call.session_started", created_at: "2026-04-08T14:00:00Z", call_cid: "default:oa-1",
  session_id: "s1", call: { id: "oa-1", type: "default", created_by: { id: "alice" }, custom: {} } });
await call("webhook", "post", "/api/webhook/stream", "/api/webhook/stream", { headers: signed(event, "oa-w1"), body: event, schema: "WebhookResponse", status: 200 });
await call("webhook bad signature", "post", "/api/webhook/stream", "/api/webhook/stream", { headers: { ...signed(event, "oa-w2"), "X-Signature": "0".repeat(64) }, body: event, status: 401 });
await call("meeting", "get", "/api/v1/calls/oa-1", "/api/v1/calls/{callId}", { headers: auth(appJwt), schema: "MeetingResponse", status: 200 });
await call("meeting unknown", "get", "/api/v1/calls/nope", "/api/v1/calls/{callId}", { headers: auth(appJwt), status: 404 });
await call("replay", "post", "/api/v1/admin/webhooks/replay", "/api/v1/admin/webhooks/replay", { headers: auth(adminJwt), body: "{}", schema: "ReplayResponse", status: 200 });
await call("replay not admin", "post", "/api/v1/admin/webhooks/replay", "/api/v1/admin/webhooks/replay", { headers: auth(appJwt), body: "{}", status: 403 });
// Stream is unreachable in this run: the documented upstream error.
await call("create call, Stream down", "post", "/api/v1/calls", "/api/v1/calls", { headers: auth(appJwt), body: JSON.stringify({ callId: "oa-2" }), status: 503 });
await call("end unknown", "post", "/api/v1/calls/nope/end", "/api/v1/calls/{callId}/end", { headers: auth(appJwt), status: 404 });

console.log(`${passed} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
