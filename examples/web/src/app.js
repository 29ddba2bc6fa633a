// A minimal browser client of streamgate: the app's login JWT goes to streamgate, never a Stream
// secret to the page. StreamVideoClient calls `tokenProvider` whenever it needs a user token (at
// connect, and again when one expires); the provider asks streamgate's token endpoint.
import { StreamVideoClient } from "@stream-io/video-client";

const $ = (id) => document.getElementById(id);
let providerCalls = 0;
let client = null;

// POST /api/v1/stream/token with the app JWT: {token, userId, apiKey, expiresAt}.
async function fetchStreamToken(server, jwt) {
  const res = await fetch(`${server}/api/v1/stream/token`, {
    method: "POST",
    headers: { Authorization: `Bearer ${jwt}` },
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body?.message ?? `streamgate answered ${res.status}`);
  return body.data;
}

// The claims of a JWT (for display only: the client never trusts them).
function claims(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part));
}

export async function signIn(server, jwt, options = {}) {
  if (client) await client.disconnectUser().catch(() => {});
  // The first answer tells the public API key and our user id: the page is configured with
  // nothing but streamgate's URL.
  const first = await fetchStreamToken(server, jwt);
  const tokenProvider = async () => {
    providerCalls += 1;
    $("calls").textContent = String(providerCalls);
    return (await fetchStreamToken(server, jwt)).token;
  };
  client = new StreamVideoClient({
    apiKey: first.apiKey,
    user: { id: first.userId },
    tokenProvider,
    options,
  });
  // Given a user and a provider, the client connects at once: it loads its token through the
  // provider before it opens its connection to Stream. Wait for that token.
  const manager = client.streamClient.tokenManager;
  const token = await (manager.tokenReady() ?? manager.loadToken());
  const c = claims(token);
  $("user").textContent = c.user_id;
  $("expires").textContent = new Date(c.exp * 1000).toISOString();
  $("status").textContent = "token from streamgate; connecting to Stream…";
  client.streamClient.connectUserTask?.then(
    () => ($("status").textContent = "connected to Stream"),
    (e) => ($("status").textContent = `token from streamgate; Stream not reachable (${e?.message ?? e})`),
  );
  return { userId: c.user_id, providerCalls, token };
}

$("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("status").classList.remove("error");
  $("status").textContent = "signing in…";
  // ?stream=URL points the client's Stream connection elsewhere (the test uses an address that
  // refuses at once, since Stream is not reachable from it).
  const stream = new URLSearchParams(location.search).get("stream");
  const options = stream ? { baseURL: stream, timeout: 2000 } : {};
  try {
    await signIn($("server").value.replace(/\/$/, ""), $("jwt").value.trim(), options);
  } catch (e) {
    $("status").classList.add("error");
    $("status").textContent = `sign-in failed: ${e.message}`;
  }
});
