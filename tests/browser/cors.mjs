// A page served from one origin fetches a Stream token from streamgate on another origin, with an
// Authorization header (so the browser sends a CORS preflight first). Allowed for the configured
// origin, blocked by the browser for another one.
// Usage: node cors.mjs <streamgate-base-url> <app-jwt> <allowed-page-port> <other-page-port>
import http from "node:http";
import { chromium } from "playwright-core";

const [api, jwt, allowedPort, otherPort] = process.argv.slice(2);
let failures = 0, passed = 0;
const expect = (ok, msg) => { if (ok) passed++; else { failures++; console.error("FAIL " + msg); } };

const page = `<!doctype html><html><body><script>
window.getToken = async (api, jwt) => {
  try {
    const res = await fetch(api + "/api/v1/stream/token", {
      method: "POST",
      headers: { "Authorization": "Bearer " + jwt, "Content-Type": "application/json" },
      body: JSON.stringify({ validitySeconds: 600 }) });
    const body = await res.json();
    return { ok: true, status: res.status, userId: body.data && body.data.userId,
             requestId: res.headers.get("X-Request-Id") };
  } catch (e) {
    return { ok: false, error: String(e) };
  }
};
</script></body></html>`;
const serve = (port) => new Promise((resolve) => {
  const s = http.createServer((req, res) => { res.writeHead(200, { "Content-Type": "text/html" }); res.end(page); });
  s.listen(Number(port), "127.0.0.1", () => resolve(s));
});
const servers = [await serve(allowedPort), await serve(otherPort)];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const context = await browser.newContext();
  const tab = await context.newPage();

  await tab.goto(`http://127.0.0.1:${allowedPort}/`);
  const allowed = await tab.evaluate(([a, j]) => window.getToken(a, j), [api, jwt]);
  expect(allowed.ok && allowed.status === 200, "allowed origin: " + JSON.stringify(allowed));
  expect(allowed.userId === "browser-user", "allowed origin reads the body: " + JSON.stringify(allowed));
  expect(!!allowed.requestId, "X-Request-Id is exposed to the page: " + JSON.stringify(allowed));

  await tab.goto(`http://127.0.0.1:${otherPort}/`);
  const blocked = await tab.evaluate(([a, j]) => window.getToken(a, j), [api, jwt]);
  expect(!blocked.ok && /Failed to fetch/.test(blocked.error), "other origin is blocked: " + JSON.stringify(blocked));
} finally {
  await browser.close();
  servers.forEach((s) => s.close());
}
console.log(`${passed} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
