// The seed document's Express implementation (seeds/000_*.txt), with its auth middleware
// written as the seed assumes: verify the app JWT with jsonwebtoken, then mint the Stream
// token with @stream-io/node-sdk. Webhook route from seeds/002_*.txt for the webhook benchmark.
const crypto = require('crypto');
const express = require('express');
const jwt = require('jsonwebtoken');
const { StreamClient } = require('@stream-io/node-sdk');

const streamClient = new StreamClient(process.env.STREAM_API_KEY, process.env.STREAM_API_SECRET);
const app = express();

function authMiddleware(req, res, next) {
  const header = req.headers.authorization || '';
  const token = header.startsWith('Bearer ') ? header.slice(7) : null;
  if (!token) return res.status(401).json({ success: false, message: 'User not authenticated' });
  try {
    const payload = jwt.verify(token, process.env.AUTH_JWT_SECRET, { algorithms: ['HS256'] });
    req.user = { _id: payload.sub };
    next();
  } catch (e) {
    res.status(401).json({ success: false, message: 'User not authenticated' });
  }
}

app.post('/api/v1/stream/token', express.json(), authMiddleware, async (req, res) => {
  try {
    const userId = req.user._id.toString();
    const token = streamClient.createToken(userId);
    const expiresAt = new Date(Date.now() + 3600000).toISOString();
    res.json({ success: true, data: { token, userId, expiresAt }, message: 'Token generated successfully' });
  } catch (error) {
    console.error('Error generating Stream token:', error);
    res.status(500).json({ success: false, message: 'Failed to generate video call token' });
  }
});

// seeds/002: verify the HMAC over the raw body, then act on the event (here: acknowledge).
app.post('/api/webhook/stream', express.raw({ type: '*/*' }), (req, res) => {
  const signature = req.headers['x-signature'] || '';
  const digest = crypto.createHmac('sha256', process.env.STREAM_API_SECRET).update(req.body).digest('hex');
  if (signature.length !== digest.length || !crypto.timingSafeEqual(Buffer.from(digest), Buffer.from(signature))) {
    return res.status(401).json({ success: false, message: 'Invalid signature' });
  }
  const event = JSON.parse(req.body.toString('utf8'));
  res.json({ success: true, received: event.type });
});

const port = Number(process.env.PORT || 8100);
app.listen(port, '127.0.0.1', () => console.log(`express reference listening on ${port}`));
