// examples/web in Debian's Chromium: sign in with a dev JWT and check that StreamVideoClient got
// its Stream token through the tokenProvider from streamgate (the page shows the user id from
// that token). Stream itself is not reachable here; the page points the client's connection at
// an address that refuses.
//   node check.mjs PAGE_URL STREAMGATE_URL JWT EXPECTED_USER
import { chromium } from "playwright-core";

const [page_url, server, jwt, user] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
let failed = 0;
const check = (cond, msg) => {
  if (!cond) {
    failed++;
    console.error(`example: ${msg}`);
  }
};
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${page_url}/?stream=${encodeURIComponent("http://127.0.0.1:9")}`);
  await page.fill("#server", server);
  await page.fill("#jwt", jwt);
  await page.click("button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#user").textContent !== "–" ||
    document.querySelector("#status").classList.contains("error"), null, { timeout: 15000 });
  const shown = await page.textContent("#user");
  const status = await page.textContent("#status");
  const calls = Number(await page.textContent("#calls"));
  const expires = await page.textContent("#expires");
  check(shown === user, `the page shows user "${shown}", not "${user}" (status: ${status})`);
  check(calls >= 1, `the tokenProvider was called ${calls} times`);
  check(!Number.isNaN(Date.parse(expires)) && Date.parse(expires) > Date.now(), `expiry "${expires}"`);
  check(status.startsWith("token from streamgate"), `status: ${status}`);
  check(errors.length === 0, `page errors: ${errors.join("; ")}`);
  console.log(`example: the client holds a token for ${shown} from ${calls} provider call(s), expiring ${expires}`);
} finally {
  await browser.close();
}
if (failed) process.exit(1);
console.log("example: 1 passed, 0 failed");
