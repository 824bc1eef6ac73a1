// SPDX-License-Identifier: AGPL-3.0-or-later
// A tiny SMTP sink on 127.0.0.1 for the mail tests: speaks enough ESMTP for libcurl (EHLO/HELO,
// MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT), no TLS (127.0.0.1 is on push_allow_hosts in the
// tests), and keeps every message it receives. decode() reads one back: its headers, the
// subject with RFC 2047 words decoded, the quoted-printable body as UTF-8.
import net from 'node:net';

export async function startSmtpSink() {
  const messages = [];
  const server = net.createServer((sock) => {
    let buf = '';
    let inData = false;
    let cur = { from: null, rcpt: [], data: '' };
    sock.setEncoding('latin1'); // bytes as they are: the body is decoded later
    sock.write('220 sink.test ESMTP araldo-tests\r\n');
    sock.on('data', (chunk) => {
      buf += chunk;
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          const first = buf.startsWith('.\r\n');
          if (end < 0 && !first) return;
          const body = first ? '' : buf.slice(0, end + 2);
          buf = first ? buf.slice(3) : buf.slice(end + 5);
          cur.data = body.replace(/^\.\./gm, '.'); // undo dot-stuffing
          messages.push(cur);
          cur = { from: null, rcpt: [], data: '' };
          inData = false;
          sock.write('250 2.0.0 queued\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') sock.write('250-sink.test\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n');
        else if (verb === 'HELO') sock.write('250 sink.test\r\n');
        else if (verb === 'MAIL') { cur.from = /<([^>]*)>/.exec(line)?.[1] ?? null; sock.write('250 2.1.0 ok\r\n'); }
        else if (verb === 'RCPT') { cur.rcpt.push(/<([^>]*)>/.exec(line)?.[1]); sock.write('250 2.1.5 ok\r\n'); }
        else if (verb === 'DATA') { inData = true; sock.write('354 go ahead\r\n'); }
        else if (verb === 'RSET') { cur = { from: null, rcpt: [], data: '' }; sock.write('250 ok\r\n'); }
        else if (verb === 'NOOP') sock.write('250 ok\r\n');
        else if (verb === 'QUIT') { sock.end('221 bye\r\n'); return; }
        else sock.write('502 not implemented\r\n');
      }
    });
    sock.on('error', () => {});
  });
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address();
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    clear() { messages.length = 0; },
    close() { return new Promise((res) => server.close(res)); },
  };
}

function qp(s) {
  const bytes = [];
  const t = s.replace(/=\r\n/g, '');
  for (let i = 0; i < t.length; i++) {
    if (t[i] === '=' && /^[0-9A-F]{2}$/.test(t.slice(i + 1, i + 3))) { bytes.push(parseInt(t.slice(i + 1, i + 3), 16)); i += 2; }
    else bytes.push(t.charCodeAt(i) & 0xff);
  }
  return Buffer.from(bytes).toString('utf8');
}

function words(v) {
  return v.replace(/\?=\s+=\?/g, '?==?').replace(/=\?UTF-8\?B\?([^?]*)\?=/gi, (_, b) => Buffer.from(b, 'base64').toString('utf8'));
}

// Parse one received message: { headers (lower-case names, unfolded, raw), subject, body, raw }.
export function decode(msg) {
  const raw = msg.data;
  const sep = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, sep);
  const headers = {};
  for (const l of head.replace(/\r\n[ \t]/g, ' ').split('\r\n')) {
    const c = l.indexOf(':');
    headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
  }
  const body = qp(raw.slice(sep + 4));
  return { headers, subject: words(headers.subject || ''), body: body.replace(/\r\n/g, '\n'), raw, head };
}
