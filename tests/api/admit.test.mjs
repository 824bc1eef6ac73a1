// SPDX-License-Identifier: AGPL-3.0-or-later
// Routes with large bodies check credentials from the head alone: a stranger announcing a
// 20 MB upload is told 401 at once, and the server never waits for (or buffers) the body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startServer } from './lib/server.mjs';

function rawHead(srv, head) {
  return new Promise((resolve, reject) => {
    const sock = connect(srv.port, srv.host);
    let got = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no answer; got: ${got}`)); }, 3000);
    sock.on('data', (d) => { got += d; });
    sock.on('close', () => { clearTimeout(timer); resolve(got); });
    sock.on('error', () => {});
    sock.write(head); // the announced body is never sent
  });
}

test('an upload without credentials is refused from its head: 401 at once, connection closed', async () => {
  const srv = await startServer();
  try {
    const t0 = Date.now();
    const answer = await rawHead(srv, 'POST /api/v1/media HTTP/1.1\r\nHost: x\r\n'
      + 'Content-Type: image/jpeg\r\nContent-Length: 20000000\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 401 /);
    assert.match(answer, /"code":"unauthenticated"/);
    assert.ok(Date.now() - t0 < 2000, 'answered without waiting for the body');
    const bad = await rawHead(srv, 'POST /api/v1/media HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer araldo_nope\r\n'
      + 'Content-Type: image/jpeg\r\nContent-Length: 20000000\r\n\r\n');
    assert.match(bad, /^HTTP\/1\.1 401 /);
    assert.match(bad, /"code":"invalid_token"/);
  } finally {
    await srv.stop();
    srv.cleanup();
  }
});
