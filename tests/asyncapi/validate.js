// SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
// Validates an AsyncAPI document written by `jobwire asyncapi` with the
// AsyncAPI project's own parser (@asyncapi/parser, pinned in this folder's
// package-lock.json), then checks what jobwire promises about it.
// Usage: node validate.js DOC.json TYPE...   (TYPE: the event types the
// schema directory holds; each must have its channel and payload)
"use strict";
const fs = require("fs");
const { Parser } = require("@asyncapi/parser");

const SEVERITY = ["error", "warning", "info", "hint"];

function fail(msg) {
  console.error("FAIL: " + msg);
  process.exitCode = 1;
}

async function main() {
  const [file, ...types] = process.argv.slice(2);
  const parser = new Parser();
  const { document, diagnostics } = await parser.parse(fs.readFileSync(file, "utf8"));
  for (const d of diagnostics) {
    const line = `${SEVERITY[d.severity]} ${d.code}: ${d.message} at /${d.path.join("/")}`;
    // Errors and warnings fail; the only info expected is the hint that a
    // newer AsyncAPI version (3.1) exists.
    if (d.severity <= 1) fail(line);
    else console.log("note: " + line);
  }
  if (!document) {
    fail("the parser returned no document");
    return;
  }
  if (document.version() !== "3.0.0") fail(`asyncapi ${document.version()}, not 3.0.0`);
  for (const type of types) {
    const ch = document.channels().get(type);
    if (!ch) {
      fail(`no channel for event type ${type}`);
      continue;
    }
    const msg = ch.messages().all()[0];
    const payload = msg && msg.payload();
    if (type === "station") {
      // A station's status has its own topic; its sessions are ids.
      if (ch.address() !== "stations/{station}/status") fail(`channel station address ${ch.address()}`);
      const sessions = payload && payload.properties() && payload.properties().sessions;
      const item = sessions && sessions.items();
      if (!item || item.type() !== "string" || !item.pattern()) {
        fail("payload of station: sessions not resolved to the id schema");
      }
      continue;
    }
    if (!/\{session\}\/\{job\}\//.test(ch.address())) fail(`channel ${type} address ${ch.address()}`);
    // The schemas' "#/$defs/..." references resolved: job_id is a string
    // with the id pattern, not an unresolved $ref.
    const jobId = payload && payload.properties() && payload.properties().job_id;
    if (!jobId || jobId.type() !== "string" || !jobId.pattern()) {
      fail(`payload of ${type}: job_id not resolved to the id schema`);
    }
  }
  const bindings = (id) => {
    const op = document.operations().get(id);
    if (!op) {
      fail(`no operation ${id}`);
      return {};
    }
    const b = op.bindings().get("mqtt");
    return b ? b.value() : {};
  };
  const expect = { send_progress: [1, false], receive_state: [1, true], receive_stats: [0, true],
                   receive_rejections: [1, false], send_control: [1, false] };
  for (const [id, [qos, retain]] of Object.entries(expect)) {
    const v = bindings(id);
    if (v.qos !== qos || v.retain !== retain) fail(`${id}: mqtt binding ${JSON.stringify(v)}`);
  }
  const servers = document.servers();
  for (const [id, proto] of [["mqtt", "mqtt"], ["websocket", "ws"]]) {
    const s = servers.get(id);
    if (!s || s.protocol() !== proto) fail(`server ${id} (${proto}) missing`);
    else if (!s.security().length) fail(`server ${id} without the JWT scheme`);
  }
  if (!document.channels().get("jobwire.rejections")) fail("no rejection channel");
  if (!document.channels().get("jobwire.stats")) fail("no stats channel");
  if (!process.exitCode) {
    console.log(`ok: ${file}: ${document.channels().length} channels, ` +
                `${document.operations().length} operations`);
  }
}

main().catch((e) => fail(e.stack || String(e)));
