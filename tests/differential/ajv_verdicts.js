/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
// Reads the corpus (JSON lines {id, schema, data}) on stdin and prints
// "id<TAB>verdict" per line: valid, invalid, or unsupported when ajv 8
// (draft 2020-12, with ajv-formats) cannot compile the schema.
// Remote refs are served from the suite's remotes/ folder as
// http://localhost:1234/, as jobwire's conformance test does.
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;

const remotes = process.argv[2];

function remoteSchemas(dir, prefix, out) {
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name);
    if (fs.statSync(p).isDirectory()) remoteSchemas(p, prefix + name + '/', out);
    else if (name.endsWith('.json')) out.push([prefix + name, JSON.parse(fs.readFileSync(p, 'utf8'))]);
  }
  return out;
}
const remoteList = remotes ? remoteSchemas(remotes, 'http://localhost:1234/', []) : [];

// format.json and optional/format/unknown.json test the format-annotation
// vocabulary: both validators then leave format unchecked.
function formatAsAnnotation(id) {
  return id.startsWith('format.json#') || id.startsWith('optional/format/unknown.json#');
}

function newAjv(formats) {
  const ajv = new Ajv2020({strict: false, validateFormats: formats, allErrors: false,
    logger: false});
  addFormats(ajv);
  for (const [uri, schema] of remoteList) {
    try { ajv.addSchema(schema, uri); } catch (e) { /* a remote of another draft */ }
  }
  return ajv;
}

// ajv ignores formats it has no checker for (iri, iri-reference,
// idn-email, idn-hostname with ajv-formats 3); such schemas are not
// judged by ajv at all.
function unknownFormat(ajv, schema) {
  if (schema === null || typeof schema !== 'object') return false;
  if (typeof schema.format === 'string' && !(schema.format in ajv.formats)) return true;
  return Object.values(schema).some((v) => unknownFormat(ajv, v));
}

const cache = new Map();
const rl = readline.createInterface({input: process.stdin});
rl.on('line', (line) => {
  const c = JSON.parse(line);
  const formats = !formatAsAnnotation(c.id);
  const key = formats + JSON.stringify(c.schema);
  let v = cache.get(key);
  if (v === undefined) {
    try {
      const ajv = newAjv(formats);
      v = formats && unknownFormat(ajv, c.schema) ? null : ajv.compile(c.schema);
    } catch (e) { v = null; }
    cache.set(key, v);
  }
  let verdict = 'unsupported';
  if (v !== null) {
    try { verdict = v(c.data) ? 'valid' : 'invalid'; } catch (e) { verdict = 'unsupported'; }
  }
  process.stdout.write(`${c.id}\t${verdict}\n`);
});
