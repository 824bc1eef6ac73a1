// SPDX-License-Identifier: AGPL-3.0-or-later
// Raw-socket downloads for the tests of large bodies (static files, media): the body is hashed
// as it arrives, nothing kept; the reader may stall or pace itself; the server's memory can be
// sampled meanwhile.
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

export const sha256 = (b) => createHash('sha256').update(b).digest('hex');

// Write the request head `req` (as is, its empty line included) to 127.0.0.1:`port` and read
// the answer until the connection closes: { status, headers, length, sha } of its body.
// `stall`: ms without reading once connected, so the server meets a full socket; `started`:
// called once connected; `onBody(length, sock)`: after each piece of body (to pace the reader).
export function download(port, req, { stall = 0, started, onBody } = {}) {
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    let status = 0;
    const headers = {};
    let length = 0;
    const h = createHash('sha256');
    const sock = net.connect(port, '127.0.0.1', () => {
      sock.write(req);
      if (stall) {
        sock.pause();
        setTimeout(() => sock.resume(), stall);
      }
      started?.();
    });
    sock.on('data', (d) => {
      if (!status) {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = head.subarray(0, end).toString('latin1').split('\r\n');
        status = Number(lines[0].split(' ')[1]);
        for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
        d = head.subarray(end + 4);
      }
      length += d.length;
      h.update(d);
      onBody?.(length, sock);
    });
    sock.on('error', reject);
    sock.on('close', () => resolve({ status, headers, length, sha: h.digest('hex') }));
  });
}

// The resident memory of process `pid`, in KiB (Linux).
export const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

// Await `fn()` while sampling the RSS of `pid` every 20 ms: { result, before, peak } (KiB).
export async function peakRss(pid, fn) {
  const before = rssKiB(pid);
  let peak = before;
  const sampler = setInterval(() => { peak = Math.max(peak, rssKiB(pid)); }, 20);
  try {
    const result = await fn();
    return { result, before, peak: Math.max(peak, rssKiB(pid)) };
  } finally {
    clearInterval(sampler);
  }
}
