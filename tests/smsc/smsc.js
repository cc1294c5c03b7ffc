// A test SMSC on the npm `smpp` package (a PDU implementation this project did not write).
//
//   node smsc.js <smpp port> <control port> [system_id] [password]
//
// SMPP side: bind_transceiver (checks system_id/password), unbind, enquire_link, submit_sm
// (answers a message id, then a delivery receipt per part when registered_delivery asks),
// deliver_sm_resp. Control side (HTTP on 127.0.0.1, JSON): GET /state, POST /config,
// POST /mo {from, to, text, ucs2}, POST /reset. Faults set by /config:
//   throttle: the next N submit_sm are answered ESME_RTHROTTLED (0x58)
//   reject: {"<destination>": <command_status>} answers that status for that number
//   stat: {"<destination>": ["UNDELIV", "069"]} receipt state and error for that number
//   garbage: the next submit_sm is answered with bytes that are no PDU
//   cut: the next submit_sm is answered with half a PDU, then the socket is closed
//   silent: submit_sm are never answered
//   receipt_delay_ms: wait before each receipt (default 5)
//   latency_ms: wait before answering each submit_sm (an SMSC storing the message; default 0)
"use strict";
const smpp = require("smpp");
const http = require("http");

const [port, controlPort, systemId = "panel", password = "secret"] = process.argv.slice(2);
let config = {};
let state;
function reset() {
  config = { throttle: 0, reject: {}, stat: {}, garbage: false, cut: false, silent: false, receipt_delay_ms: 5, latency_ms: 0 };
  state = { binds: 0, bind_failures: 0, unbinds: 0, enquire_links: 0, submits: [], deliver_resps: 0 };
}
reset();
let nextId = 1;
const sessions = new Set();

function stamp(d) {
  const p = (n) => String(n).padStart(2, "0");
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
}

function receipt(session, pdu, id) {
  const [stat, err] = config.stat[pdu.destination_addr] || ["DELIVRD", "000"];
  const now = stamp(new Date());
  const text = `id:${id} sub:001 dlvrd:${stat === "DELIVRD" ? "001" : "000"} submit date:${now} done date:${now} stat:${stat} err:${err} text:`;
  setTimeout(() => {
    if (!session.socket.writable) return;
    session.send(new smpp.PDU("deliver_sm", {
      source_addr: pdu.destination_addr,
      destination_addr: pdu.source_addr,
      esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT,
      short_message: text,
      receipted_message_id: id,
      message_state: stat === "DELIVRD" ? 2 : 5,
    }), () => { state.deliver_resps += 1; });
  }, config.receipt_delay_ms);
}

const server = smpp.createServer((session) => {
  session.socket.setNoDelay(true);
  sessions.add(session);
  session.on("close", () => sessions.delete(session));
  session.on("error", () => sessions.delete(session));
  session.on("bind_transceiver", (pdu) => {
    if (pdu.system_id !== systemId || pdu.password !== password) {
      state.bind_failures += 1;
      session.send(pdu.response({ command_status: smpp.ESME_RINVPASWD }));
      return;
    }
    state.binds += 1;
    session.bound = true;
    session.send(pdu.response({ system_id: "test-smsc" }));
  });
  session.on("unbind", (pdu) => {
    state.unbinds += 1;
    session.send(pdu.response());
    session.bound = false;
  });
  session.on("enquire_link", (pdu) => {
    state.enquire_links += 1;
    session.send(pdu.response());
  });
  session.on("submit_sm", (pdu) => {
    if (config.latency_ms > 0) setTimeout(() => submit(session, pdu), config.latency_ms);
    else submit(session, pdu);
  });
  session.on("deliver_sm_resp", () => {});
});
server.listen(Number(port), "127.0.0.1");

function submit(session, pdu) {
    if (!session.bound) {
      session.send(pdu.response({ command_status: smpp.ESME_RINVBNDSTS }));
      return;
    }
    if (config.garbage) {
      config.garbage = false;
      session.socket.write(Buffer.from("this is not an SMPP PDU at all, sorry", "ascii"));
      return;
    }
    if (config.cut) {
      config.cut = false;
      const whole = pdu.response({ message_id: "cut" }).toBuffer();
      session.socket.end(whole.subarray(0, 9));
      session.socket.destroy();
      return;
    }
    if (config.silent) return;
    if (config.throttle > 0) {
      config.throttle -= 1;
      session.send(pdu.response({ command_status: smpp.ESME_RTHROTTLED }));
      return;
    }
    const status = config.reject[pdu.destination_addr];
    if (status) {
      session.send(pdu.response({ command_status: status }));
      return;
    }
    const id = `m${nextId++}`;
    const sm = pdu.short_message || {};
    state.submits.push({
      id,
      source: pdu.source_addr,
      destination: pdu.destination_addr,
      data_coding: pdu.data_coding,
      esm_class: pdu.esm_class,
      registered_delivery: pdu.registered_delivery,
      udh: (sm.udh || []).map((b) => Buffer.from(b).toString("hex")),
      text: typeof sm.message === "string" ? sm.message : Buffer.from(sm.message || []).toString("hex"),
    });
    session.send(pdu.response({ message_id: id }));
    if (pdu.registered_delivery & 1) receipt(session, pdu, id);
}

function body(req) {
  return new Promise((resolve) => {
    let data = "";
    req.on("data", (c) => (data += c));
    req.on("end", () => resolve(data ? JSON.parse(data) : {}));
  });
}

http.createServer(async (req, res) => {
  const send = (code, value) => {
    res.writeHead(code, { "Content-Type": "application/json" });
    res.end(JSON.stringify(value));
  };
  if (req.method === "GET" && req.url === "/state") return send(200, { ...state, sessions: sessions.size });
  const input = await body(req);
  if (req.url === "/config") {
    Object.assign(config, input);
    return send(200, config);
  }
  if (req.url === "/reset") {
    reset();
    return send(200, {});
  }
  if (req.url === "/mo") {
    const session = [...sessions].find((s) => s.bound);
    if (!session) return send(409, { error: "no bound session" });
    session.send(new smpp.PDU("deliver_sm", {
      source_addr: input.from,
      source_addr_ton: 1,
      destination_addr: input.to || "36111",
      data_coding: input.ucs2 ? 8 : 0,
      short_message: input.text,
    }), (resp) => send(200, { command_status: resp.command_status }));
    return;
  }
  send(404, {});
}).listen(Number(controlPort), "127.0.0.1", () => {
  process.stdout.write(`ready ${port} ${controlPort}\n`);
});
