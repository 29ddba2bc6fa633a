// An app's endpoint for streamgate's app events. Every delivery is verified by the third-party
// `standardwebhooks` library (the reference implementation of the Standard Webhooks
// specification) with RECEIVER_SECRET; the tests read what it accepted and rejected.
//
//   POST /<anything>     a delivery: 204 when verified (or the status set by /_mode), 401 if not
//   GET  /_received      {accepted: [{id, timestamp, signature, body}], rejected: [...], answers}
//   POST /_mode          {"status": 500} answers every delivery with that status (200: normal)
//
// Prints {"msg":"listening","port":N} once it listens on 127.0.0.1 (port 0: any free port).
import http from 'node:http';
import { Webhook } from 'standardwebhooks';

const secret = process.env.RECEIVER_SECRET;
if (!secret) throw new Error('RECEIVER_SECRET is required');
const wh = new Webhook(secret);
const accepted = [];
const rejected = [];
let forcedStatus = 0;
let answers = 0;

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const server = http.createServer(async (req, res) => {
  const body = await readBody(req);
  if (req.method === 'GET' && req.url === '/_received') {
    const text = JSON.stringify({ accepted, rejected, answers });
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
    return;
  }
  if (req.method === 'POST' && req.url === '/_mode') {
    forcedStatus = JSON.parse(body).status === 200 ? 0 : JSON.parse(body).status;
    res.writeHead(204);
    res.end();
    return;
  }
  answers += 1;
  if (forcedStatus) {
    res.writeHead(forcedStatus);
    res.end('forced');
    return;
  }
  const headers = {
    'webhook-id': req.headers['webhook-id'],
    'webhook-timestamp': req.headers['webhook-timestamp'],
    'webhook-signature': req.headers['webhook-signature'],
  };
  try {
    const payload = wh.verify(body, headers);
    accepted.push({
      id: headers['webhook-id'],
      timestamp: headers['webhook-timestamp'],
      signature: headers['webhook-signature'],
      contentType: req.headers['content-type'] || '',
      path: req.url,
      receivedAt: Date.now(),
      body: payload,
    });
    res.writeHead(204);
    res.end();
  } catch (e) {
    rejected.push({ id: headers['webhook-id'] || '', error: String(e.message || e) });
    res.writeHead(401);
    res.end('bad signature');
  }
});

server.listen(Number(process.env.RECEIVER_PORT || 0), '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'listening', port: server.address().port }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
