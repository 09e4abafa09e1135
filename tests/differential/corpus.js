/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
// Writes the differential corpus as JSON lines {id, schema, data} to
// stdout: every test instance of the given suite files, and for each a
// few instances derived from it (numbers moved by one, strings cut and
// grown, members dropped and added, items dropped and appended, types
// swapped), from a fixed seed so every run checks the same corpus.
// Usage: node corpus.js SUITE_DIR FILE...
'use strict';
const fs = require('fs');
const path = require('path');

let seed = 20201212;
function rand(n) {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
}

function mutate(v) {
  switch (typeof v) {
    case 'number': return [v + 1, v - 1, v / 2, String(v)];
    case 'string': {
      // By code point: cutting a surrogate pair would not be valid JSON
      // text for a strict parser.
      const cps = Array.from(v);
      return [cps.slice(0, Math.max(0, cps.length - 1)).join(''), v + 'x', cps.length];
    }
    case 'boolean': return [!v, v ? 1 : 0];
    default: break;
  }
  if (v === null) return [0, false];
  if (Array.isArray(v)) {
    const out = [v.slice(1), v.concat([v.length ? v[0] : 1]), v.concat([null])];
    if (v.length) {
      const i = rand(v.length);
      for (const m of mutate(v[i]).slice(0, 2)) out.push(v.slice(0, i).concat([m], v.slice(i + 1)));
    }
    return out;
  }
  const keys = Object.keys(v);
  const out = [Object.assign({}, v, {extra: 1})];
  if (keys.length) {
    const k = keys[rand(keys.length)];
    const dropped = Object.assign({}, v);
    delete dropped[k];
    out.push(dropped);
    for (const m of mutate(v[k]).slice(0, 2)) out.push(Object.assign({}, v, {[k]: m}));
  }
  return out;
}

const [dir, ...files] = process.argv.slice(2);
for (const file of files) {
  const groups = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  groups.forEach((g, gi) => {
    g.tests.forEach((t, ti) => {
      const id = `${file}#${gi}.${ti}`;
      process.stdout.write(JSON.stringify({id, schema: g.schema, data: t.data}) + '\n');
      mutate(t.data).forEach((d, mi) => {
        process.stdout.write(JSON.stringify({id: `${id}~${mi}`, schema: g.schema, data: d}) + '\n');
      });
    });
  });
}
