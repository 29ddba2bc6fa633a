// Third-party checks of streamgate's WebVTT (tests/integration/test_transcripts.cpp runs them).
//   node check.mjs vtt <file.vtt> <expected.json>
//     the webvtt-parser library parses the file with no error, and its cues are the expected ones
//   node check.mjs track <api-base> <app-jwt> <call-id> <page-port> <expected.json>
//     Debian's Chromium: a page fetches the VTT with the app JWT, shows it as a <track> on a
//     <video>, and the TextTrack API reports the expected cues
// expected.json: {count, cues: [{index, start, end, voice, text}]} (seconds; a few sampled cues)
import fs from "node:fs";
import http from "node:http";

const [mode, ...args] = process.argv.slice(2);
let failures = 0, passed = 0;
const expect = (ok, msg) => { if (ok) passed++; else { failures++; console.error("FAIL " + msg); } };
const near = (a, b) => Math.abs(a - b) < 0.0005;

if (mode === "vtt") {
  const { WebVTTParser } = (await import("webvtt-parser")).default;
  const [file, expectedFile] = args;
  const expected = JSON.parse(fs.readFileSync(expectedFile, "utf8"));
  // The full HTML entity table, for the spec's behaviour (the library's default knows "&lt" but
  // not "&lt;").
  const entities = JSON.parse(fs.readFileSync(new URL("node_modules/webvtt-parser/html-entities.json", import.meta.url), "utf8"));
  const tree = new WebVTTParser(entities).parse(fs.readFileSync(file, "utf8"));
  expect(tree.errors.length === 0, "parser errors: " + JSON.stringify(tree.errors.slice(0, 5)));
  expect(tree.cues.length === expected.count, `cues ${tree.cues.length} != ${expected.count}`);
  for (const want of expected.cues) {
    const cue = tree.cues[want.index];
    expect(!!cue, `cue ${want.index} missing`);
    if (!cue) continue;
    expect(near(cue.startTime, want.start) && near(cue.endTime, want.end),
      `cue ${want.index} times ${cue.startTime}-${cue.endTime} != ${want.start}-${want.end}`);
    // The cue's text as the parser's tree holds it: a voice span with the speaker, then the text.
    const voice = cue.tree.children.find((n) => n.name === "v");
    expect(want.voice ? voice && voice.value === want.voice : !voice,
      `cue ${want.index} voice ${voice && voice.value} != ${want.voice}`);
    const text = (function flat(n) { return n.type === "text" ? n.value : (n.children || []).map(flat).join(""); })(cue.tree);
    expect(text === want.text, `cue ${want.index} text ${JSON.stringify(text)} != ${JSON.stringify(want.text)}`);
  }
} else if (mode === "track") {
  const { chromium } = await import("playwright-core");
  const [api, jwt, callId, pagePort, expectedFile] = args;
  const expected = JSON.parse(fs.readFileSync(expectedFile, "utf8"));
  const page = `<!doctype html><html><body><video id="v" width="320" height="180"></video><script>
window.showTranscript = async (api, jwt, callId) => {
  const res = await fetch(api + "/api/v1/calls/" + callId + "/transcript?format=vtt",
                          { headers: { "Authorization": "Bearer " + jwt } });
  const type = res.headers.get("Content-Type");
  const url = URL.createObjectURL(await res.blob());
  const video = document.getElementById("v");
  const track = document.createElement("track");
  track.kind = "captions"; track.label = "Transcript"; track.srclang = "en"; track.src = url;
  video.appendChild(track);
  track.track.mode = "hidden";
  await new Promise((resolve, reject) => {
    track.addEventListener("load", resolve);
    track.addEventListener("error", () => reject(new Error("track failed to load")));
    setTimeout(() => reject(new Error("track did not load in 30 s")), 30000);
  });
  const cues = track.track.cues;
  const pick = (i) => ({ start: cues[i].startTime, end: cues[i].endTime, text: cues[i].text,
                         html: cues[i].getCueAsHTML().textContent });
  return { status: res.status, type, count: cues.length, readyState: track.readyState,
           sample: Object.fromEntries(${JSON.stringify(expected.cues.map((c) => c.index))}.map((i) => [i, pick(i)])) };
};
</script></body></html>`;
  const server = await new Promise((resolve) => {
    const s = http.createServer((req, res) => { res.writeHead(200, { "Content-Type": "text/html" }); res.end(page); });
    s.listen(Number(pagePort), "127.0.0.1", () => resolve(s));
  });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const tab = await (await browser.newContext()).newPage();
    await tab.goto(`http://127.0.0.1:${pagePort}/`);
    const got = await tab.evaluate(([a, j, c]) => window.showTranscript(a, j, c), [api, jwt, callId]);
    expect(got.status === 200, "status " + got.status);
    expect(/^text\/vtt/.test(got.type), "content type " + got.type);
    expect(got.readyState === 2, "track readyState " + got.readyState);
    expect(got.count === expected.count, `TextTrack has ${got.count} cues, expected ${expected.count}`);
    for (const want of expected.cues) {
      const cue = got.sample[want.index];
      expect(near(cue.start, want.start) && near(cue.end, want.end),
        `cue ${want.index} times ${cue.start}-${cue.end} != ${want.start}-${want.end}`);
      const voiced = want.voice ? `<v ${want.voice}>` : "";
      expect(cue.html === want.text, `cue ${want.index} shown as ${JSON.stringify(cue.html)} != ${JSON.stringify(want.text)}`);
      expect(cue.text.startsWith(voiced), `cue ${want.index} raw text ${JSON.stringify(cue.text)}`);
    }
  } finally {
    await browser.close();
    server.close();
  }
} else {
  console.error("usage: check.mjs vtt|track ...");
  process.exit(2);
}
console.log(`${passed} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
