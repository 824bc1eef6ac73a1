// SPDX-License-Identifier: AGPL-3.0-or-later
// The authorization matrix: every endpoint × every kind of caller, with the expected status, in
// one table. Rows that change or destroy something build a fresh target for each caller, so
// every cell is judged on its own. Operators (any channel) and the org admins of the channel's
// Comune are stewards: they may do what an owner may, and the audit log names them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildWorld, ROLES } from './lib/world.mjs';

let w;
before(async () => { w = await buildWorld(); });
after(async () => { await w?.srv.stop(); w?.srv.cleanup(); });

//            anonymous follower other_org ch_admin ch_owner org_admin operator
const PUBLIC = [200, 200, 200, 200, 200, 200, 200];
const STAFF_ANY = (s) => [401, 401, s, s, s, s, s];
const FOLLOWER_ONLY = (s) => [401, s, 401, 401, 401, 401, 401];

// Each row: [method, path or setup(role) -> {path, body, as}, expected statuses by role].
const rows = () => [
  ['GET', '/healthz', PUBLIC],
  ['GET', '/readyz', PUBLIC],
  ['GET', '/metrics', [401, 401, 403, 403, 403, 403, 200]],
  ['GET', '/api/v1/me', STAFF_ANY(200)],
  ['GET', '/api/v1/tokens', STAFF_ANY(200)],
  ['POST', () => ({ path: '/api/v1/tokens', body: { name: 'matrix' } }), STAFF_ANY(201)],
  ['DELETE', async () => {
    const t = await w.ok(201, 'POST', '/api/v1/tokens', { as: w.tok.channel_owner, body: { name: 'x' } });
    return { path: `/api/v1/tokens/${t.id}` };
  }, [401, 401, 404, 404, 204, 404, 404]],
  // organizations and staff
  ['POST', () => ({ path: '/api/v1/orgs', body: { slug: w.unique('org'), name: 'Comune' } }), [401, 401, 403, 403, 403, 403, 201]],
  ['GET', '/api/v1/orgs', STAFF_ANY(200)],
  ['GET', '/api/v1/orgs/comune-a', PUBLIC],
  ['PATCH', () => ({ path: '/api/v1/orgs/comune-a', body: { name: 'Comune di A' } }), [401, 401, 403, 403, 403, 200, 200]],
  ['POST', () => ({ path: '/api/v1/orgs/comune-a/staff', body: { email: `${w.unique('s')}@a.it`, role: 'staff' } }), [401, 401, 403, 403, 403, 201, 201]],
  ['GET', '/api/v1/orgs/comune-a/staff', [401, 401, 403, 403, 403, 200, 200]],
  ['DELETE', async () => {
    const s = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/staff', { as: w.tok.operator, body: { email: `${w.unique('d')}@a.it`, role: 'staff' } });
    return { path: `/api/v1/orgs/comune-a/staff/${s.id}` };
  }, [401, 401, 403, 403, 403, 204, 204]],
  ['GET', '/api/v1/orgs/comune-a/audit', [401, 401, 403, 403, 403, 200, 200]],
  ['GET', '/api/v1/orgs/comune-a/audit?action=staff.add', [401, 401, 403, 403, 403, 200, 200]],
  // the staff console's reads: the formatter's preview, the org's channels, a channel's stats
  ['POST', () => ({ path: '/api/v1/preview', body: { text: 'Primo *avviso*' } }), STAFF_ANY(200)],
  ['GET', '/api/v1/orgs/comune-a/channels', [401, 401, 403, 200, 200, 200, 200]],
  ['GET', () => ({ path: `/api/v1/channels/${w.main}/stats` }), [401, 401, 403, 200, 200, 200, 200]],
  // A session is a cookie, not a token: with an API token these say so (400 not_a_session).
  ['GET', '/api/v1/session', [401, 401, 400, 400, 400, 400, 400]],
  ['DELETE', '/api/v1/session', [401, 401, 400, 400, 400, 400, 400]],
  ['PUT', () => ({ path: '/api/v1/me/password', body: { current_password: 'wrong-password', new_password: 'another-long-password' } }),
    [401, 401, 403, 403, 403, 403, 403]],
  // channels
  ['GET', '/api/v1/channels', PUBLIC],
  ['POST', () => ({ path: '/api/v1/channels', body: { org: 'comune-a', handle: w.unique('nuovo'), name: 'Nuovo', category: 'news', language: 'it' } }),
    [401, 401, 403, 201, 201, 201, 201]],
  ['GET', () => ({ path: `/api/v1/channels/${w.main}` }), PUBLIC],
  ['PATCH', () => ({ path: `/api/v1/channels/${w.main}`, body: { description: 'Aggiornato' } }), [401, 401, 403, 200, 200, 200, 200]],
  ['DELETE', async () => ({ path: `/api/v1/channels/${await w.channel()}` }), [401, 401, 403, 403, 204, 204, 204]],
  ['GET', () => ({ path: `/api/v1/channels/${w.main}/admins` }), [401, 401, 403, 200, 200, 200, 200]],
  ['POST', async () => ({ path: `/api/v1/channels/${await w.channel()}/admins`, body: { email: 'orgadmin@a.it' } }),
    [401, 401, 403, 403, 201, 201, 201]],
  ['DELETE', async () => ({ path: `/api/v1/channels/${await w.channel()}/admins/me` }), [401, 401, 404, 204, 409, 404, 404]],
  ['DELETE', async () => ({ path: `/api/v1/channels/${await w.channel()}/admins/${w.ids.admin}` }), [401, 401, 403, 403, 204, 204, 204]],
  ['POST', async () => ({ path: `/api/v1/channels/${await w.channel()}/owner`, body: { user_id: w.ids.admin } }),
    [401, 401, 403, 403, 204, 204, 204]],
  ['GET', '/api/v1/me/invitations', STAFF_ANY(200)],
  ['POST', async () => {
    const h = await w.channel();
    const inv = await w.ok(201, 'POST', `/api/v1/channels/${h}/admins`, { as: w.tok.channel_owner, body: { email: 'orgadmin@a.it' } });
    return { path: `/api/v1/invitations/${inv.id}/accept` };
  }, [401, 401, 404, 404, 404, 200, 404]],
  ['DELETE', async () => {
    const h = await w.channel();
    const inv = await w.ok(201, 'POST', `/api/v1/channels/${h}/admins`, { as: w.tok.channel_owner, body: { email: 'orgadmin@a.it' } });
    return { path: `/api/v1/invitations/${inv.id}` };
  }, [401, 401, 404, 404, 204, 204, 204]],
  ['GET', () => ({ path: `/api/v1/channels/${w.main}/invites` }), [401, 401, 403, 200, 200, 200, 200]],
  ['POST', () => ({ path: `/api/v1/channels/${w.main}/invites`, body: {} }), [401, 401, 403, 201, 201, 201, 201]],
  ['DELETE', async () => {
    const inv = await w.ok(201, 'POST', `/api/v1/channels/${w.main}/invites`, { as: w.tok.channel_owner, body: {} });
    return { path: `/api/v1/channels/${w.main}/invites/${inv.code}` };
  }, [401, 401, 403, 204, 204, 204, 204]],
  ['GET', async () => {
    const inv = await w.ok(201, 'POST', `/api/v1/channels/${w.main}/invites`, { as: w.tok.channel_owner, body: {} });
    return { path: `/api/v1/invites/${inv.code}` };
  }, PUBLIC],
  // followers
  ['POST', () => ({ path: '/api/v1/followers' }), [201, 201, 201, 201, 201, 201, 201]],
  ['PUT', () => ({ path: `/api/v1/channels/${w.main}/follow` }), FOLLOWER_ONLY(204)],
  ['PUT', () => ({ path: `/api/v1/channels/${w.main}/mute` }), FOLLOWER_ONLY(204)],
  ['DELETE', () => ({ path: `/api/v1/channels/${w.main}/mute` }), FOLLOWER_ONLY(204)],
  ['GET', '/api/v1/me/channels', FOLLOWER_ONLY(200)],
  ['DELETE', async (role) => {
    const h = await w.channel();
    return role === 'follower' ? { path: `/api/v1/channels/${h}/follow`, as: await w.follower(h) } : { path: `/api/v1/channels/${h}/follow` };
  }, FOLLOWER_ONLY(204)],
  ['DELETE', async (role) => (role === 'follower' ? { path: '/api/v1/me', as: await w.follower(w.main) } : { path: '/api/v1/me' }),
    [401, 204, 401, 401, 401, 401, 401]],
  // posts
  ['POST', () => ({ path: `/api/v1/channels/${w.main}/posts`, body: { text: 'Nuovo avviso' } }), [401, 401, 403, 201, 201, 201, 201]],
  ['GET', () => ({ path: `/api/v1/channels/${w.main}/posts` }), PUBLIC],
  ['PUT', () => ({ path: `/api/v1/channels/${w.main}/pin`, body: { post_id: w.mainPost } }), [401, 401, 403, 204, 204, 204, 204]],
  ['DELETE', () => ({ path: `/api/v1/channels/${w.main}/pin` }), [401, 401, 403, 204, 204, 204, 204]],
  ['GET', () => ({ path: `/api/v1/posts/${w.mainPost}` }), PUBLIC],
  ['PATCH', () => ({ path: `/api/v1/posts/${w.mainPost}`, body: { text: 'Primo *avviso* (corretto)' } }), [401, 401, 403, 200, 200, 200, 200]],
  ['DELETE', async () => ({ path: `/api/v1/posts/${await w.post(w.main)}` }), [401, 401, 403, 204, 204, 204, 204]],
  ['GET', () => ({ path: `/api/v1/posts/${w.mainPost}/edits` }), [401, 401, 403, 200, 200, 200, 200]],
  ['POST', () => ({ path: '/api/v1/views', body: { posts: [w.mainPost] } }), FOLLOWER_ONLY(204)],
  ['GET', () => ({ path: `/channels/${w.main}/feed.atom` }), PUBLIC],
  // reactions and votes: followers of the post's channel only; a staff token is no follower token
  ['PUT', () => ({ path: `/api/v1/posts/${w.mainPost}/reaction`, body: { emoji: '👍' } }), FOLLOWER_ONLY(204)],
  ['DELETE', () => ({ path: `/api/v1/posts/${w.mainPost}/reaction` }), FOLLOWER_ONLY(204)],
  ['PUT', async (role) => ({ path: `/api/v1/posts/${w.mainPost}/reaction`, body: { emoji: '👍' }, ...(role === 'follower' ? { as: await w.follower() } : {}) }),
    FOLLOWER_ONLY(403)],
  ['PUT', async () => ({ path: `/api/v1/posts/${await pollPost()}/vote`, body: { options: [0] } }), FOLLOWER_ONLY(204)],
  ['DELETE', async () => ({ path: `/api/v1/posts/${await pollPost()}/vote` }), FOLLOWER_ONLY(204)],
  ['PUT', async (role) => ({ path: `/api/v1/posts/${await pollPost()}/vote`, body: { options: [0] }, ...(role === 'follower' ? { as: await w.follower() } : {}) }),
    FOLLOWER_ONLY(403)],
  // civil-protection alerts (issue 13): org admins publish; staff only with civil_protection,
  // which nobody here has; what only the org's staff may read is 404 to everyone else
  ['GET', '/api/v1/orgs/comune-a/zones', PUBLIC],
  ['POST', () => ({ path: '/api/v1/orgs/comune-a/zones', body: { code: w.unique('Z'), name: 'Zona' } }), [401, 401, 403, 403, 403, 201, 201]],
  ['GET', async () => ({ path: `/api/v1/orgs/comune-a/zones/${await zone()}` }), PUBLIC],
  ['PATCH', async () => ({ path: `/api/v1/orgs/comune-a/zones/${await zone()}`, body: { name: 'Zona 2' } }), [401, 401, 403, 403, 403, 200, 200]],
  ['DELETE', async () => ({ path: `/api/v1/orgs/comune-a/zones/${await zone()}` }), [401, 401, 403, 403, 403, 204, 204]],
  ['GET', '/api/v1/orgs/comune-a/risks', PUBLIC],
  ['PUT', () => ({ path: '/api/v1/orgs/comune-a/risks/frane', body: { name: 'Frane' } }), [401, 401, 403, 403, 403, 204, 204]],
  ['DELETE', async () => {
    await w.ok(204, 'PUT', '/api/v1/orgs/comune-a/risks/tmp', { as: w.tok.operator, body: { name: 'Tmp' } });
    return { path: '/api/v1/orgs/comune-a/risks/tmp' };
  }, [401, 401, 403, 403, 403, 204, 204]],
  ['GET', '/api/v1/orgs/comune-a/alerts/settings', [404, 404, 404, 200, 200, 200, 200]],
  ['PUT', () => ({ path: '/api/v1/orgs/comune-a/alerts/settings', body: { two_person_rule: false } }), [401, 401, 404, 403, 403, 200, 200]],
  ['POST', async () => ({ path: '/api/v1/orgs/comune-a/alerts', body: alertBody(await zone(), { status: 'Test' }) }), [401, 401, 403, 403, 403, 201, 201]],
  ['GET', '/api/v1/orgs/comune-a/alerts', PUBLIC],
  ['GET', '/api/v1/orgs/comune-a/alerts/current', PUBLIC],
  ['GET', '/api/v1/orgs/comune-a/alerts/current?status=Exercise', [404, 404, 404, 200, 200, 200, 200]],
  ['GET', '/api/v1/orgs/comune-a/alerts.atom', PUBLIC],
  ['GET', async () => ({ path: `/api/v1/alerts/${await newAlert()}` }), PUBLIC],
  // official alert sources and templates (issue 14): the org's admins and civil_protection
  // staff; staff of another org do not learn they exist (404)
  ['GET', '/api/v1/orgs/comune-a/alert-sources', [401, 401, 404, 403, 403, 200, 200]],
  ['POST', () => ({ path: '/api/v1/orgs/comune-a/alert-sources', body: { kind: 'lamma-comune', comune: 'Certaldo' } }), [401, 401, 404, 403, 403, 201, 201]],
  ['GET', async () => ({ path: `/api/v1/orgs/comune-a/alert-sources/${await source()}` }), [401, 401, 404, 403, 403, 200, 200]],
  ['PATCH', async () => ({ path: `/api/v1/orgs/comune-a/alert-sources/${await source()}`, body: { interval_s: 900 } }), [401, 401, 404, 403, 403, 200, 200]],
  ['DELETE', async () => ({ path: `/api/v1/orgs/comune-a/alert-sources/${await source(true)}` }), [401, 401, 404, 403, 403, 204, 204]],
  ['GET', '/api/v1/orgs/comune-a/alert-templates', [401, 401, 404, 403, 403, 200, 200]],
  // the console's warning banner: every member of the org's staff
  ['GET', '/api/v1/orgs/comune-a/alert-sources/warnings', [401, 401, 404, 200, 200, 200, 200]],
  ['PUT', () => ({ path: '/api/v1/orgs/comune-a/alert-templates/vento/giallo', body: { language: 'it', instruction: 'Fissate gli oggetti sui balconi.' } }), [401, 401, 404, 403, 403, 200, 200]],
  ['GET', async () => ({ path: `/api/v1/alerts/${await newAlert()}.cap` }), PUBLIC],
  ['GET', async () => ({ path: `/api/v1/alerts/${await newAlert({ status: 'Exercise' })}` }), [404, 404, 404, 200, 200, 200, 200]],
  ['POST', async () => ({ path: `/api/v1/alerts/${await pendingAlert()}/approve` }), [401, 401, 404, 403, 403, 403, 200]],
  ['DELETE', async () => ({ path: `/api/v1/alerts/${await pendingAlert()}` }), [401, 401, 404, 403, 403, 200, 200]],
  ['POST', () => ({ path: '/api/v1/orgs/comune-a/alerts/import', body: {} }), [401, 401, 403, 403, 403, 415, 415]],
  // citizen reports (issue 15): Open311 reads are public; staff of the org work the queue; org
  // admins and operators edit the catalogue and settings and manage api keys
  ['GET', '/open311/v2/discovery.json?jurisdiction_id=comune-a', PUBLIC],
  ['GET', '/open311/v2/services.xml?jurisdiction_id=comune-a', PUBLIC],
  ['GET', '/open311/v2/services/altro.json?jurisdiction_id=comune-a', PUBLIC],
  ['GET', '/open311/v2/requests.json?jurisdiction_id=comune-a', PUBLIC],
  ['GET', async () => ({ path: `/open311/v2/requests/${(await report()).id}.xml?jurisdiction_id=comune-a` }), PUBLIC],
  ['GET', async () => ({ path: `/open311/v2/tokens/${(await report()).token}.json?jurisdiction_id=comune-a` }), PUBLIC],
  ['GET', '/api/v1/orgs/comune-a/services', [401, 401, 403, 200, 200, 200, 200]],
  ['PUT', () => ({ path: `/api/v1/orgs/comune-a/services/${w.unique('svc')}`, body: { name: 'Servizio' } }), [401, 401, 403, 403, 403, 204, 204]],
  ['DELETE', async () => {
    const code = w.unique('svc');
    await w.ok(204, 'PUT', `/api/v1/orgs/comune-a/services/${code}`, { as: w.tok.operator, body: { name: 'Servizio' } });
    return { path: `/api/v1/orgs/comune-a/services/${code}` };
  }, [401, 401, 403, 403, 403, 204, 204]],
  ['GET', '/api/v1/orgs/comune-a/report-settings', [401, 401, 403, 200, 200, 200, 200]],
  ['PATCH', () => ({ path: '/api/v1/orgs/comune-a/report-settings', body: { report_retention_days: 365 } }), [401, 401, 403, 403, 403, 204, 204]],
  ['POST', () => ({ path: '/api/v1/orgs/comune-a/api-keys', body: { name: 'app' } }), [401, 401, 403, 403, 403, 201, 201]],
  ['GET', '/api/v1/orgs/comune-a/api-keys', [401, 401, 403, 403, 403, 200, 200]],
  ['DELETE', async () => {
    const k = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/api-keys', { as: w.tok.operator, body: {} });
    return { path: `/api/v1/orgs/comune-a/api-keys/${k.id}` };
  }, [401, 401, 403, 403, 403, 204, 204]],
  ['GET', '/api/v1/orgs/comune-a/reports', [401, 401, 403, 200, 200, 200, 200]],
  ['GET', '/api/v1/orgs/comune-a/reports.csv', [401, 401, 403, 200, 200, 200, 200]],
  ['GET', '/api/v1/orgs/comune-a/reports.csv?contact=true', [401, 401, 403, 403, 403, 200, 403]],
  ['GET', '/api/v1/orgs/comune-a/reports.csv?group=service', [401, 401, 403, 200, 200, 200, 200]],
  ['GET', '/api/v1/orgs/comune-a/report-forwards', [401, 401, 403, 200, 200, 200, 200]],
  ['POST', () => ({ path: '/api/v1/orgs/comune-a/report-forwards', body: { name: w.unique('Ente'), endpoint: 'https://ente.example/open311/v2' } }), [401, 401, 403, 403, 403, 201, 201]],
  ['DELETE', async () => {
    const f = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/report-forwards', { as: w.tok.operator, body: { name: w.unique('Ente'), endpoint: 'https://ente.example/open311/v2' } });
    return { path: `/api/v1/orgs/comune-a/report-forwards/${f.id}` };
  }, [401, 401, 403, 403, 403, 204, 204]],
  // A target without a service code for the report: the org's staff reach the check (422)
  // without anything being sent; nobody else gets that far.
  ['POST', async () => {
    const f = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/report-forwards', { as: w.tok.operator, body: { name: w.unique('Ente'), endpoint: 'https://ente.example/open311/v2' } });
    return { path: `/api/v1/orgs/comune-a/reports/${(await report()).id}/forward`, body: { target: f.id } };
  }, [401, 401, 403, 422, 422, 422, 422]],
  ['GET', async () => ({ path: `/api/v1/orgs/comune-a/reports/${(await report()).id}` }), [401, 401, 403, 200, 200, 200, 200]],
  ['PATCH', async () => ({ path: `/api/v1/orgs/comune-a/reports/${(await report()).id}`, body: { note: 'Nota' } }), [401, 401, 403, 204, 204, 204, 204]],
  ['GET', '/api/v1/orgs/comune-a/reports/nearby?service_code=altro&lat=43.77&long=11.25', PUBLIC],
  ['GET', '/api/v1/orgs/comune-a/reports/statistics', PUBLIC],
  ['PUT', async () => ({ path: `/api/v1/orgs/comune-a/reports/${(await report()).id}/follow` }), FOLLOWER_ONLY(204)],
  ['GET', async () => ({ path: `/api/v1/reports/follow/${(await report()).token}` }), PUBLIC],
  ['POST', async () => {
    const r = await report();
    await w.ok(204, 'PATCH', `/api/v1/orgs/comune-a/reports/${r.id}`, { as: w.tok.operator, body: { status: 'risolta' } });
    return { path: `/api/v1/reports/follow/${r.token}/reopen`, body: {} };
  }, [204, 204, 204, 204, 204, 204, 204]],
];

// Alert sources of org A: one shared by the reads and PATCH, a fresh one for each DELETE (an org
// has at most 16).
let sharedSource;
const source = async (fresh = false) => {
  if (sharedSource && !fresh) return sharedSource;
  const s = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alert-sources', { as: w.tok.org_admin, body: { kind: 'cap-feed' } });
  if (!fresh) sharedSource = s.id;
  return s.id;
};

// Alerts: a fresh zone of org A, and alerts in it published (or left pending) by its org admin.
const zone = async () => (await w.ok(201, 'POST', '/api/v1/orgs/comune-a/zones', { as: w.tok.org_admin, body: { code: w.unique('Z'), name: 'Zona' } })).code;
const alertBody = (code, extra = {}) => ({
  zones: [code], risk: 'vento', level: 'giallo', expires: new Date(Date.now() + 3600e3).toISOString(),
  info: [{ language: 'it', headline: 'Vento forte' }], ...extra,
});
const newAlert = async (extra) => (await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: alertBody(await zone(), extra) })).id;
const pendingAlert = async () => {
  await w.ok(200, 'PUT', '/api/v1/orgs/comune-a/alerts/settings', { as: w.tok.operator, body: { two_person_rule: true } });
  const a = await w.ok(202, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: alertBody(await zone(), { level: 'rosso' }) });
  await w.ok(200, 'PUT', '/api/v1/orgs/comune-a/alerts/settings', { as: w.tok.operator, body: { two_person_rule: false } });
  return a.id;
};

// A citizen report of Comune A, filed by a new follower: its id and its follow token.
async function report() {
  const r = await fetch(`${w.srv.url}/open311/v2/requests.json?jurisdiction_id=comune-a`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await w.follower()}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'service_code=altro&address_string=Piazza+del+Comune',
  });
  assert.equal(r.status, 201);
  const [made] = await r.json();
  return { id: made.service_request_id, token: made.token };
}

// A post of the main channel with a two-option poll.
const pollPost = async () => (await w.ok(201, 'POST', `/api/v1/channels/${w.main}/posts`, {
  as: w.tok.channel_owner, body: { text: 'Sondaggio', poll: { question: 'Sì o no?', options: ['Sì', 'No'] } },
})).id;

test('authorization matrix: every endpoint × every kind of caller', async () => {
  const mismatches = [];
  for (const [method, target, expected] of rows()) {
    for (let i = 0; i < ROLES.length; i++) {
      const role = ROLES[i];
      const t = typeof target === 'string' ? { path: target } : await target(role);
      const as = 'as' in t ? t.as : w.tok[role];
      const r = await w.call(method, t.path, { as, body: t.body });
      if (r.status !== expected[i]) {
        mismatches.push(`${method} ${t.path} as ${role}: got ${r.status}, want ${expected[i]} ${r.text.slice(0, 120)}`);
      }
      if (r.status >= 400 && r.status !== 405) {
        assert.ok(r.data?.error?.code, `${method} ${t.path} as ${role}: error body has a code`);
      }
    }
  }
  assert.deepEqual(mismatches, []);
});

// Existence oracles (issue 9, finding 6): whoever cannot read an unlisted channel must not learn
// that it exists. For every endpoint that names a channel (by handle) or a post (by id), an
// outsider gets exactly the status and error code it gets for a handle or id that does not
// exist. Each row: (handle, post id, invite code) -> { method, path, body }.
const NAMED = [
  (h) => ({ method: 'GET', path: `/api/v1/channels/${h}` }),
  (h) => ({ method: 'PATCH', path: `/api/v1/channels/${h}`, body: { description: 'x' } }),
  (h) => ({ method: 'DELETE', path: `/api/v1/channels/${h}` }),
  (h) => ({ method: 'GET', path: `/api/v1/channels/${h}/admins` }),
  (h) => ({ method: 'GET', path: `/api/v1/channels/${h}/stats` }),
  (h) => ({ method: 'POST', path: `/api/v1/channels/${h}/admins`, body: { email: 'orgadmin@a.it' } }),
  (h) => ({ method: 'DELETE', path: `/api/v1/channels/${h}/admins/me` }),
  (h) => ({ method: 'DELETE', path: `/api/v1/channels/${h}/admins/${w.ids.admin}` }),
  (h) => ({ method: 'POST', path: `/api/v1/channels/${h}/owner`, body: { user_id: w.ids.admin } }),
  (h) => ({ method: 'GET', path: `/api/v1/channels/${h}/invites` }),
  (h) => ({ method: 'POST', path: `/api/v1/channels/${h}/invites`, body: {} }),
  (h, p, code) => ({ method: 'DELETE', path: `/api/v1/channels/${h}/invites/${code}` }),
  (h) => ({ method: 'PUT', path: `/api/v1/channels/${h}/follow` }),
  (h) => ({ method: 'DELETE', path: `/api/v1/channels/${h}/follow` }),
  (h) => ({ method: 'PUT', path: `/api/v1/channels/${h}/mute` }),
  (h) => ({ method: 'DELETE', path: `/api/v1/channels/${h}/mute` }),
  (h) => ({ method: 'POST', path: `/api/v1/channels/${h}/posts`, body: { text: 'x' } }),
  (h) => ({ method: 'GET', path: `/api/v1/channels/${h}/posts` }),
  (h, p) => ({ method: 'PUT', path: `/api/v1/channels/${h}/pin`, body: { post_id: p } }),
  (h) => ({ method: 'DELETE', path: `/api/v1/channels/${h}/pin` }),
  (h) => ({ method: 'GET', path: `/channels/${h}/feed.atom` }),
  (h) => ({ method: 'GET', path: `/api/v1/stream?channels=${h}` }),
  (h, p) => ({ method: 'GET', path: `/api/v1/posts/${p}` }),
  (h, p) => ({ method: 'PATCH', path: `/api/v1/posts/${p}`, body: { text: 'x' } }),
  (h, p) => ({ method: 'DELETE', path: `/api/v1/posts/${p}` }),
  (h, p) => ({ method: 'GET', path: `/api/v1/posts/${p}/edits` }),
  (h, p) => ({ method: 'PUT', path: `/api/v1/posts/${p}/reaction`, body: { emoji: '👍' } }),
  (h, p) => ({ method: 'DELETE', path: `/api/v1/posts/${p}/reaction` }),
  (h, p) => ({ method: 'PUT', path: `/api/v1/posts/${p}/vote`, body: { options: [0] } }),
  (h, p) => ({ method: 'DELETE', path: `/api/v1/posts/${p}/vote` }),
  (h, p) => ({ method: 'POST', path: '/api/v1/views', body: { posts: [p] } }),
];

// Status and error code, without reading a stream that was (wrongly) opened.
async function outcome(t, as) {
  const headers = as ? { authorization: `Bearer ${as}` } : {};
  const init = { method: t.method, headers };
  if (t.body !== undefined) { init.body = JSON.stringify(t.body); headers['content-type'] = 'application/json'; }
  const ac = new AbortController();
  const r = await fetch(`${w.srv.url}${t.path}`, { ...init, signal: ac.signal });
  if ((r.headers.get('content-type') || '').startsWith('text/event-stream')) {
    ac.abort();
    return `${r.status} (stream)`;
  }
  const text = await r.text();
  let code = null;
  try { code = JSON.parse(text)?.error?.code ?? null; } catch { /* not JSON */ }
  return `${r.status} ${code}`;
}

// An unlisted channel of org A (owner and admin as usual) with a poll post, and a live invite.
async function unlisted() {
  const h = await w.channel({ visibility: 'unlisted' });
  const post = (await w.ok(201, 'POST', `/api/v1/channels/${h}/posts`, {
    as: w.tok.channel_owner, body: { text: 'Riservato', poll: { question: 'Sì o no?', options: ['Sì', 'No'] } },
  })).id;
  const { code } = await w.ok(201, 'POST', `/api/v1/channels/${h}/invites`, { as: w.tok.channel_owner, body: {} });
  return { h, post, code };
}

test('Open311 POST: a follower token or the org\'s api_key; staff tokens are neither (403)', async () => {
  const key = (await w.ok(201, 'POST', '/api/v1/orgs/comune-a/api-keys', { as: w.tok.org_admin, body: {} })).api_key;
  const keyB = (await w.ok(201, 'POST', '/api/v1/orgs/comune-b/api-keys', { as: w.tok.operator, body: {} })).api_key;
  const send = (as, extra = '') => fetch(`${w.srv.url}/open311/v2/requests.json`, {
    method: 'POST',
    headers: { ...(as ? { authorization: `Bearer ${as}` } : {}), 'content-type': 'application/x-www-form-urlencoded' },
    body: `jurisdiction_id=comune-a&service_code=altro&address_id=1${extra}`,
  });
  const expected = [403, 201, 403, 403, 403, 403, 403];
  for (let i = 0; i < ROLES.length; i++) assert.equal((await send(w.tok[ROLES[i]])).status, expected[i], ROLES[i]);
  assert.equal((await send(null, `&api_key=${key}`)).status, 201);
  assert.equal((await send(null, `&api_key=${keyB}`)).status, 403, 'another org\'s key');
});

test('report streams: anyone with the follow token, or anyone by id (public status); unknown 404', async () => {
  const r = await report();
  for (const path of [`/api/v1/reports/follow/${r.token}/stream`, `/api/v1/orgs/comune-a/reports/${r.id}/stream`]) {
    for (const role of ROLES) {
      const ac = new AbortController();
      const headers = w.tok[role] ? { authorization: `Bearer ${w.tok[role]}` } : {};
      const res = await fetch(`${w.srv.url}${path}`, { headers, signal: ac.signal });
      assert.equal(res.status, 200, `${path} as ${role}`);
      assert.match(res.headers.get('content-type'), /^text\/event-stream/);
      ac.abort();
    }
  }
  assert.equal((await w.call('GET', '/api/v1/reports/follow/report_x/stream')).status, 404);
  assert.equal((await w.call('GET', `/api/v1/orgs/comune-b/reports/${r.id}/stream`)).status, 404, 'not through another org');
});

test('existence oracles: an unlisted channel answers outsiders exactly as a missing one', async () => {
  const u = await unlisted();
  const mismatches = [];
  for (const role of ['anonymous', 'follower', 'other_org']) {
    for (const row of NAMED) {
      const hidden = row(u.h, u.post, u.code);
      const missing = row('non-esiste', '999999999', u.code);
      const a = await outcome(hidden, w.tok[role]);
      const b = await outcome(missing, w.tok[role]);
      if (a !== b) mismatches.push(`${hidden.method} ${hidden.path} as ${role}: ${a}, missing: ${b}`);
    }
  }
  assert.deepEqual(mismatches, []);
  // Nothing the outsiders sent changed the channel: its post, admins and invite are all there.
  const r = await w.call('GET', `/api/v1/posts/${u.post}`, { as: w.tok.channel_owner });
  assert.equal(r.status, 200);
  assert.equal(r.data.views, 0, 'an outsider\'s view of an unreadable post is not counted');
});

test('existence oracles: who can read but not administer still gets 403', async () => {
  const u = await unlisted();
  const want = [
    [w.tok.channel_admin, { method: 'DELETE', path: `/api/v1/channels/${u.h}` }, '403 owner_only'],
    [w.tok.channel_admin, { method: 'POST', path: `/api/v1/channels/${u.h}/admins`, body: { email: 'orgadmin@a.it' } }, '403 owner_only'],
    [w.tok.channel_admin, { method: 'POST', path: `/api/v1/channels/${u.h}/owner`, body: { user_id: w.ids.admin } }, '403 owner_only'],
    [w.tok.other_org, { method: 'PATCH', path: `/api/v1/channels/${w.main}`, body: { description: 'x' } }, '403 not_channel_admin'],
    [w.tok.other_org, { method: 'GET', path: `/api/v1/channels/${w.main}/admins` }, '403 not_channel_admin'],
    [w.tok.other_org, { method: 'GET', path: `/api/v1/posts/${w.mainPost}/edits` }, '403 not_channel_admin'],
    [await w.follower(), { method: 'PUT', path: `/api/v1/posts/${w.mainPost}/reaction`, body: { emoji: '👍' } }, '403 not_following'],
  ];
  const got = [];
  for (const [as, t, expect] of want) {
    const o = await outcome(t, as);
    if (o !== expect) got.push(`${t.method} ${t.path}: ${o}, want ${expect}`);
  }
  assert.deepEqual(got, []);
  // A follower of the unlisted channel (through its invite) reacts and votes as anywhere else.
  const f = await w.follower();
  assert.equal((await w.call('PUT', `/api/v1/channels/${u.h}/follow?invite=${u.code}`, { as: f })).status, 204);
  assert.equal((await w.call('PUT', `/api/v1/posts/${u.post}/reaction`, { as: f, body: { emoji: '👍' } })).status, 204);
  assert.equal((await w.call('PUT', `/api/v1/posts/${u.post}/vote`, { as: f, body: { options: [0] } })).status, 204);
});

test('views: only posts the follower can read count (issue 9, finding 8)', async () => {
  const u = await unlisted();
  const views = async () => (await w.call('GET', `/api/v1/posts/${u.post}`, { as: w.tok.channel_owner })).data.views;
  // A follower of other channels reports the unlisted channel's post: accepted, not counted.
  assert.equal((await w.call('POST', '/api/v1/views', { as: w.tok.follower, body: { posts: [u.post] } })).status, 204);
  assert.equal(await views(), 0);
  // Its own follower's view counts.
  const f = await w.follower();
  assert.equal((await w.call('PUT', `/api/v1/channels/${u.h}/follow?invite=${u.code}`, { as: f })).status, 204);
  assert.equal((await w.call('POST', '/api/v1/views', { as: f, body: { posts: [u.post] } })).status, 204);
  assert.equal(await views(), 1);
  // A listed channel's post counts for anyone with a follower token.
  const before = (await w.call('GET', `/api/v1/posts/${w.mainPost}`, { as: w.tok.channel_owner })).data.views;
  assert.equal((await w.call('POST', '/api/v1/views', { as: await w.follower(), body: { posts: [w.mainPost] } })).status, 204);
  assert.equal((await w.call('GET', `/api/v1/posts/${w.mainPost}`, { as: w.tok.channel_owner })).data.views, before + 1);
});

// Issue 9, doc mismatch 2: credentials that are sent must be valid, even to endpoints that need
// none, so a client holding a stale token or session learns it (401) instead of reading on as
// anonymous. The endpoints that hand out credentials still work for such a client.
test('public reads: stale or bogus credentials are 401, valid or none are 200', async () => {
  const { code } = await w.ok(201, 'POST', `/api/v1/channels/${w.main}/invites`, { as: w.tok.channel_owner, body: {} });
  const publicReads = [
    `/api/v1/channels/${w.main}`, '/api/v1/channels', `/api/v1/channels/${w.main}/posts`,
    `/api/v1/posts/${w.mainPost}`, '/api/v1/orgs/comune-a', `/api/v1/invites/${code}`,
    `/api/v1/invites/${code}/qr.svg`,
  ];
  const gone = await w.follower();
  assert.equal((await w.call('DELETE', '/api/v1/me', { as: gone })).status, 204);
  const stale = [
    [{ authorization: 'Bearer araldo_not-a-real-token' }, '401 invalid_token'],
    [{ authorization: `Bearer ${gone}` }, '401 invalid_token'],
    [{ authorization: 'Bearer follower_bogus' }, '401 invalid_token'],
    [{ cookie: 'araldo_session=as_not-a-real-session' }, '401 session_expired'],
  ];
  const fine = [
    [{}, 200], [{ authorization: `Bearer ${w.tok.other_org}` }, 200], [{ authorization: `Bearer ${w.tok.follower}` }, 200],
  ];
  const bad = [];
  for (const path of publicReads) {
    for (const method of ['GET', 'HEAD']) {
      for (const [headers, want] of stale) {
        const r = await fetch(`${w.srv.url}${path}`, { method, headers });
        const text = await r.text();
        const got = method === 'HEAD' ? `${r.status}` : `${r.status} ${text && JSON.parse(text).error?.code}`;
        if (got !== (method === 'HEAD' ? want.slice(0, 3) : want)) bad.push(`${method} ${path} ${JSON.stringify(headers)}: ${got}`);
      }
      for (const [headers, want] of fine) {
        const r = await fetch(`${w.srv.url}${path}`, { method, headers });
        await r.arrayBuffer();
        if (r.status !== want) bad.push(`${method} ${path} ${JSON.stringify(headers)}: ${r.status}`);
      }
    }
  }
  assert.deepEqual(bad, []);
  // Where credentials are handed out, stale ones do not get in the way.
  let r = await w.call('POST', '/api/v1/followers', { as: gone });
  assert.equal(r.status, 201);
  r = await fetch(`${w.srv.url}/api/v1/session`, {
    method: 'POST', headers: { cookie: 'araldo_session=as_stale', 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'nobody@a.it', password: 'wrong-password' }),
  });
  assert.equal(r.status, 401);
  assert.equal((await r.json()).error.code, 'invalid_credentials', 'sign-in is judged on its body');
  // Outside the API (health checks, the web app, feeds) a stale cookie changes nothing.
  for (const path of ['/healthz', `/channels/${w.main}/feed.atom`]) {
    r = await fetch(`${w.srv.url}${path}`, { headers: { cookie: 'araldo_session=as_stale' } });
    await r.arrayBuffer();
    assert.equal(r.status, 200, path);
  }
});

// Issue 9, doc mismatch 10: an invitation id is never reused, so an id a client kept can never
// come to name another invitation (here: the next one, after the newest ended).
test('invitation ids are never reused after invitations end', async () => {
  const h = await w.channel();
  const seen = new Set();
  const invite = async () => {
    const inv = await w.ok(201, 'POST', `/api/v1/channels/${h}/admins`, { as: w.tok.channel_owner, body: { email: 'orgadmin@a.it' } });
    assert.ok(!seen.has(inv.id), `id ${inv.id} used again`);
    seen.add(inv.id);
    return inv.id;
  };
  // Dismissed by the invitee, withdrawn by the owner, accepted: each time the newest ends.
  let id = await invite();
  assert.equal((await w.call('DELETE', `/api/v1/invitations/${id}`, { as: w.tok.org_admin })).status, 204);
  id = await invite();
  assert.equal((await w.call('DELETE', `/api/v1/invitations/${id}`, { as: w.tok.channel_owner })).status, 204);
  const stale = await invite();
  assert.equal((await w.call('POST', `/api/v1/invitations/${stale}/accept`, { as: w.tok.org_admin })).status, 200);
  assert.equal((await w.call('DELETE', `/api/v1/channels/${h}/admins/${w.ids.orgAdmin}`, { as: w.tok.channel_owner })).status, 204);
  await invite();
  // The kept id names nothing now.
  assert.equal((await w.call('POST', `/api/v1/invitations/${stale}/accept`, { as: w.tok.org_admin })).status, 404);
});
