// SPDX-License-Identifier: AGPL-3.0-or-later
// A strict reader for the XML our Open311 answers use (elements and text, no attributes, no
// namespaces, no DTD): throws on anything not well formed — an unknown entity, a stray '<' or
// '&', a mismatched or unclosed tag, text outside the root, bytes that are not UTF-8.
// Returns { name, children: [...], text } trees.
const ENT = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescape(s) {
  if (/<|&(?!(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/.test(s)) throw new Error(`bad text: ${s.slice(0, 40)}`);
  return s.replace(/&(amp|lt|gt|quot|apos);/g, (_, e) => ENT[e])
    .replace(/&#x([0-9a-fA-F]+);/g, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#([0-9]+);/g, (_, d) => String.fromCodePoint(Number(d)));
}

export function parseXml(buf) {
  const src = typeof buf === 'string' ? buf : new TextDecoder('utf-8', { fatal: true }).decode(buf);
  let i = 0;
  const decl = /^<\?xml version="1\.0" encoding="utf-8"\?>\s*/.exec(src);
  if (!decl) throw new Error('missing <?xml version="1.0" encoding="utf-8"?>');
  i = decl[0].length;
  const root = { name: null, children: [] };
  const stack = [root];
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const text = src.slice(i, lt < 0 ? src.length : lt);
    const top = stack[stack.length - 1];
    if (text.length) {
      if (top === root) { if (text.trim()) throw new Error('text outside the root'); } else top.text = (top.text || '') + unescape(text);
    }
    if (lt < 0) break;
    const gt = src.indexOf('>', lt);
    if (gt < 0) throw new Error('unterminated tag');
    const tag = src.slice(lt + 1, gt);
    i = gt + 1;
    let m;
    if ((m = /^\/([A-Za-z_][\w.-]*)$/.exec(tag))) {
      const open = stack.pop();
      if (!open || open.name !== m[1]) throw new Error(`mismatched </${m[1]}>`);
    } else if ((m = /^([A-Za-z_][\w.-]*)(\/?)$/.exec(tag))) {
      const el = { name: m[1], children: [], text: '' };
      if (top === root && root.children.length) throw new Error('two roots');
      top.children.push(el);
      if (!m[2]) stack.push(el);
    } else {
      throw new Error(`unexpected markup <${tag}>`);
    }
  }
  if (stack.length !== 1 || root.children.length !== 1) throw new Error('unclosed element or no root');
  return root.children[0];
}

// The names of an element's children, in order.
export const names = (el) => el.children.map((c) => c.name);
// The first child named `name`.
export const child = (el, name) => el.children.find((c) => c.name === name);
