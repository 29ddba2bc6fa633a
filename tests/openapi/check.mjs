// 1. docs/openapi.yaml is a valid OpenAPI 3.1 document (a real validator from npm).
// 2. Live answers of a running streamgate match the schemas the document gives them.
// 3. The app events it delivers (to a receiver here) match the document's webhooks payload.
// 4. A transcript served over HTTPS here is fetched; the transcript and search answers match.
// Usage: node check.mjs <openapi.yaml> <base-url> <stream-secret> <app-jwt> <admin-jwt> <limited-admin-jwt> <receiver-port>
//                       <files-port> <files-cert> <files-key>
import { readFileSync } from "node:fs";
import { createHmac } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import YAML from "yaml";

const [file, base, streamSecret, appJwt, adminJwt, limitedJwt, receiverPort, filesPort, filesCert, filesKey] = process.argv.slice(2);

// The app's endpoint: every delivery is kept, with its headers.
const deliveries = [];
const receiver = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
    res.writeHead(204);
    res.end();
  });
});
await new Promise((resolve) => receiver.listen(Number(receiverPort), "127.0.0.1", resolve));
let failures = 0, passed = 0;
const fail = (msg) => { failures++; console.error("FAIL " + msg); };
const pass = () => { passed++; };

const doc = YAML.parse(readFileSync(file, "utf8"));
const result = await new Validator().validate(doc);
if (!result.valid) fail("openapi.yaml is not valid OpenAPI 3.1: " + JSON.stringify(result.errors).slice(0, 2000));
else pass();

// Every operation has an operationId (unique) and tags, so that client generators work.
const operationIds = new Set();
for (const [path, item] of Object.entries(doc.paths)) {
  for (const [method, op] of Object.entries(item)) {
    if (!op.operationId || !Array.isArray(op.tags) || op.tags.length === 0) fail(`${method} ${path} lacks operationId or tags`);
    else if (operationIds.has(op.operationId)) fail(`${method} ${path}: duplicate operationId ${op.operationId}`);
    else { operationIds.add(op.operationId); pass(); }
  }
}

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
// The meeting list, and the app events the webhook above caused (created, started).
await call("meetings", "get", "/api/v1/meetings?limit=5", "/api/v1/meetings", { headers: auth(appJwt), schema: "MeetingListResponse", status: 200 });
await call("meetings all", "get", "/api/v1/meetings?all=true&status=active", "/api/v1/meetings", { headers: auth(adminJwt), schema: "MeetingListResponse", status: 200 });
await call("meetings bad status", "get", "/api/v1/meetings?status=gone", "/api/v1/meetings", { headers: auth(appJwt), status: 400 });
await call("meetings all, not admin", "get", "/api/v1/meetings?all=true", "/api/v1/meetings", { headers: auth(appJwt), status: 403 });
for (let i = 0; i < 100 && deliveries.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
if (deliveries.length < 2) fail(`app events: ${deliveries.length} delivered, expected 2`);
for (const d of deliveries) {
  for (const h of ["webhook-id", "webhook-timestamp", "webhook-signature"]) if (!d.headers[h]) fail(`app event without ${h}`);
  check("app event " + d.headers["webhook-id"], "AppEventPayload", JSON.parse(d.body));
}
const events = await call("app events", "get", "/api/v1/admin/app-events?status=delivered", "/api/v1/admin/app-events", { headers: auth(adminJwt), schema: "AppEventListResponse", status: 200 });
if (events.data.events.length < 2) fail("app events list: fewer than 2 delivered");
await call("app events not admin", "get", "/api/v1/admin/app-events", "/api/v1/admin/app-events", { headers: auth(appJwt), status: 403 });
await call("app events bad cursor", "get", "/api/v1/admin/app-events?cursor=zz", "/api/v1/admin/app-events", { headers: auth(adminJwt), status: 400 });
await call("redeliver", "post", `/api/v1/admin/app-events/${events.data.events[0]?.id}/redeliver`, "/api/v1/admin/app-events/{id}/redeliver", { headers: auth(adminJwt), schema: "RedeliveredResponse", status: 202 });
await call("redeliver unknown", "post", "/api/v1/admin/app-events/evt_nope/redeliver", "/api/v1/admin/app-events/{id}/redeliver", { headers: auth(adminJwt), status: 404 });
await call("redeliver failed", "post", "/api/v1/admin/app-events/redeliver-failed", "/api/v1/admin/app-events/redeliver-failed", { headers: auth(adminJwt), schema: "RedeliveredResponse", status: 202 });
for (let i = 0; i < 100 && deliveries.length < 3; i++) await new Promise((r) => setTimeout(r, 100));
if (deliveries.length < 3 || deliveries[2].headers["webhook-id"] !== events.data.events[0]?.id) fail("the redelivery did not arrive with the same webhook-id");
else pass();

// Transcripts: a file served here over HTTPS, fetched by streamgate, read and searched.
const transcriptFile = [
  { type: "speech", speaker_id: "alice", text: "Welcome to the openapi check", start_ts: 0, stop_ts: 1500 },
  { type: "speech", speaker_id: "bob", text: "The <b>budget</b> looks fine & final", start_ts: 1600, stop_ts: 4000 },
].map((l) => JSON.stringify(l)).join("\n") + "\n";
const files = https.createServer({ cert: readFileSync(filesCert), key: readFileSync(filesKey) }, (req, res) => {
  res.writeHead(200, { "Content-Type": "application/jsonl" });
  res.end(transcriptFile);
});
await new Promise((resolve) => files.listen(Number(filesPort), "127.0.0.1", resolve));
const started = JSON.stringify({ type: "call.session_started", created_at: "2026-04-08T14:00:00Z", call_cid: "default:oa-t",
  session_id: "s1", call: { id: "oa-t", type: "default", created_by: { id: "alice" }, custom: {} } });
const ready = JSON.stringify({ type: "call.transcription_ready", created_at: "2026-04-08T15:00:00Z", call_cid: "default:oa-t",
  egress_id: "eg", call_transcription: { filename: "oa-t.jsonl", url: `https://127.0.0.1:${filesPort}/oa-t.jsonl?sig=x`,
  start_time: "2026-04-08T14:00:00Z", end_time: "2026-04-08T14:30:00Z", session_id: "s1" } });
await call("webhook session", "post", "/api/webhook/stream", "/api/webhook/stream", { headers: signed(started, "oa-t1"), body: started, schema: "WebhookResponse", status: 200 });
await call("webhook transcription", "post", "/api/webhook/stream", "/api/webhook/stream", { headers: signed(ready, "oa-t2"), body: ready, schema: "WebhookResponse", status: 200 });
let transcript;
for (let i = 0; i < 100; i++) {
  transcript = await call("transcript", "get", "/api/v1/calls/oa-t/transcript", "/api/v1/calls/{callId}/transcript", { headers: auth(appJwt), schema: "TranscriptResponse", status: 200 });
  if (transcript.data.status !== "pending") break;
  await new Promise((r) => setTimeout(r, 100));
}
if (transcript.data.status !== "ready" || transcript.data.segments.length !== 2) fail("transcript not stored: " + JSON.stringify(transcript.data));
else pass();
for (const [format, type] of [["vtt", /^text\/vtt/], ["text", /^text\/plain/]]) {
  const res = await fetch(base + "/api/v1/calls/oa-t/transcript?format=" + format, { headers: auth(appJwt) });
  if (res.status !== 200 || !type.test(res.headers.get("content-type")) || res.headers.get("cache-control") !== "no-store") fail(`transcript ${format}: ${res.status} ${res.headers.get("content-type")}`);
  else pass();
  const media = Object.keys(doc.paths["/api/v1/calls/{callId}/transcript"].get.responses["200"].content);
  if (!media.some((m) => res.headers.get("content-type").startsWith(m))) fail(`transcript ${format}: ${res.headers.get("content-type")} is not documented`);
  else pass();
  await res.text();
}
await call("transcript bad format", "get", "/api/v1/calls/oa-t/transcript?format=xml", "/api/v1/calls/{callId}/transcript", { headers: auth(appJwt), status: 400 });
const found = await call("search", "get", "/api/v1/meetings/search?q=budget", "/api/v1/meetings/search", { headers: auth(appJwt), schema: "SearchResponse", status: 200 });
if (found.data.meetings.length !== 1 || !found.data.meetings[0].matches[0].snippet.includes("<mark>budget</mark>")) fail("search: " + JSON.stringify(found.data));
else pass();
await call("search all", "get", "/api/v1/meetings/search?q=%22openapi%20check%22&all=true&limit=1", "/api/v1/meetings/search", { headers: auth(adminJwt), schema: "SearchResponse", status: 200 });
await call("search without q", "get", "/api/v1/meetings/search", "/api/v1/meetings/search", { headers: auth(appJwt), status: 400 });
await call("search all, not admin", "get", "/api/v1/meetings/search?q=a&all=true", "/api/v1/meetings/search", { headers: auth(appJwt), status: 403 });
await call("search bad cursor", "get", "/api/v1/meetings/search?q=a&cursor=zz", "/api/v1/meetings/search", { headers: auth(appJwt), status: 400 });
for (let i = 0; i < 100 && !deliveries.some((d) => JSON.parse(d.body).type === "meeting.transcript_ready"); i++) await new Promise((r) => setTimeout(r, 100));
const announced = deliveries.find((d) => JSON.parse(d.body).type === "meeting.transcript_ready");
if (!announced) fail("no meeting.transcript_ready delivered");
else check("app event meeting.transcript_ready", "AppEventPayload", JSON.parse(announced.body));
files.close();
receiver.close();

// Stream is unreachable in this run: the documented upstream error.
await call("create call, Stream down", "post", "/api/v1/calls", "/api/v1/calls", { headers: auth(appJwt), body: JSON.stringify({ callId: "oa-2" }), status: 503 });
await call("end unknown", "post", "/api/v1/calls/nope/end", "/api/v1/calls/{callId}/end", { headers: auth(appJwt), status: 404 });

await call("end, invalid id", "post", "/api/v1/calls/bad.id/end", "/api/v1/calls/{callId}/end", { headers: auth(appJwt), status: 400 });
await call("sync, invalid type", "post", "/api/v1/calls/oa-1/sync?type=bad.type", "/api/v1/calls/{callId}/sync", { headers: auth(appJwt), status: 400 });
// 413 on every route that takes a body (the default JSON body limit is 64 KiB).
const big = JSON.stringify({ callId: "oa-3", custom: { pad: "x".repeat(70000) } });
for (const [path, template] of [["/api/v1/stream/token", "/api/v1/stream/token"], ["/api/v1/calls", "/api/v1/calls"],
                                 ["/api/v1/calls/oa-1/participants", "/api/v1/calls/{callId}/participants"],
                                 ["/api/v1/calls/oa-1/end", "/api/v1/calls/{callId}/end"],
                                 ["/api/v1/calls/oa-1/sync", "/api/v1/calls/{callId}/sync"],
                                 ["/api/v1/admin/webhooks/replay", "/api/v1/admin/webhooks/replay"],
                                 ["/api/v1/admin/app-events/evt_x/redeliver", "/api/v1/admin/app-events/{id}/redeliver"],
                                 ["/api/v1/admin/app-events/redeliver-failed", "/api/v1/admin/app-events/redeliver-failed"]]) {
  await call("413 " + path, "post", path, template, { headers: auth(adminJwt), body: big, status: 413 });
}
await call("413 webhook", "post", "/api/webhook/stream", "/api/webhook/stream",
           { headers: signed("x".repeat(2 * 1024 * 1024), "oa-big"), body: "x".repeat(2 * 1024 * 1024), status: 413 });
// 429 on every app route once a caller's bucket (60 a minute by default) is empty.
for (let i = 0; i < 60; i++) await fetch(base + "/api/v1/stream/token", { method: "POST", headers: auth(limitedJwt), body: "{}" });
for (const [method, path, template] of [["post", "/api/v1/stream/token", "/api/v1/stream/token"],
                                         ["post", "/api/v1/calls", "/api/v1/calls"],
                                         ["get", "/api/v1/calls/oa-1", "/api/v1/calls/{callId}"],
                                         ["post", "/api/v1/calls/oa-1/participants", "/api/v1/calls/{callId}/participants"],
                                         ["post", "/api/v1/calls/oa-1/end", "/api/v1/calls/{callId}/end"],
                                         ["post", "/api/v1/calls/oa-1/sync", "/api/v1/calls/{callId}/sync"],
                                         ["post", "/api/v1/admin/webhooks/replay", "/api/v1/admin/webhooks/replay"],
                                         ["get", "/api/v1/meetings", "/api/v1/meetings"],
                                         ["get", "/api/v1/meetings/search?q=a", "/api/v1/meetings/search"],
                                         ["get", "/api/v1/calls/oa-1/transcript", "/api/v1/calls/{callId}/transcript"],
                                         ["get", "/api/v1/admin/app-events", "/api/v1/admin/app-events"],
                                         ["post", "/api/v1/admin/app-events/evt_x/redeliver", "/api/v1/admin/app-events/{id}/redeliver"],
                                         ["post", "/api/v1/admin/app-events/redeliver-failed", "/api/v1/admin/app-events/redeliver-failed"]]) {
  const res = await fetch(base + path, { method: method.toUpperCase(), headers: auth(limitedJwt), body: method === "get" ? undefined : "{}" });
  const json = await res.json();
  if (res.status !== 429) fail(`${path}: expected 429, got ${res.status}`);
  else if (!res.headers.get("retry-after") || res.headers.get("x-ratelimit-remaining") !== "0" || !res.headers.get("x-ratelimit-limit"))
    fail(`${path}: 429 without Retry-After and the rate-limit headers`);
  else pass();
  documented(template, method, res.status);
  check("429 " + path, "Error", json);
}

console.log(`${passed} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
