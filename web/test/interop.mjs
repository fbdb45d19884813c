// MQTT.js interop: a WebSocket client and a TCP client exchange messages both ways through Skylark.
// usage: node test/interop.mjs <ws(s)-url> <mqtt(s)-url> <protocolVersion 4|5> [ca.pem]
import mqtt from 'mqtt';
import { readFileSync } from 'node:fs';

const [wsUrl, tcpUrl, versionArg, caFile] = process.argv.slice(2);
const protocolVersion = Number(versionArg);
const ca = caFile ? readFileSync(caFile) : undefined;
const run = Math.random().toString(16).slice(2, 8);
const timer = setTimeout(() => { console.error('timed out'); process.exit(1); }, 20000);

function open(url, clientId) {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { clientId, protocolVersion, reconnectPeriod: 0, connectTimeout: 10000, ca,
      rejectUnauthorized: true });
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

function expect(client, topic, payload) {
  return new Promise((resolve, reject) => {
    client.on('message', (t, p) => {
      if (t === topic) {
        p.toString() === payload ? resolve() : reject(new Error(`wrong payload on ${t}: ${p}`));
      }
    });
  });
}

const ws = await open(wsUrl, `ws-${run}-v${protocolVersion}`);
const tcp = await open(tcpUrl, `tcp-${run}-v${protocolVersion}`);
const toWs = `interop/${run}/to-ws`;
const toTcp = `interop/${run}/to-tcp`;
await ws.subscribeAsync(toWs, { qos: 1 });
await tcp.subscribeAsync(toTcp, { qos: 1 });
const gotWs = expect(ws, toWs, 'hello websocket');
const gotTcp = expect(tcp, toTcp, 'hello tcp');
await tcp.publishAsync(toWs, 'hello websocket', { qos: 1 });
await ws.publishAsync(toTcp, 'hello tcp', { qos: 1 });
// a burst in one direction: many packets per WebSocket frame on the way out
const many = 500;
let count = 0;
const gotMany = new Promise((resolve) => ws.on('message', (t) => { if (t === toWs + '/burst' && ++count === many) resolve(); }));
await ws.subscribeAsync(toWs + '/burst', { qos: 0 });
for (let i = 0; i < many; i++) {
  tcp.publish(toWs + '/burst', 'x'.repeat(i % 300));
}
await Promise.all([gotWs, gotTcp, gotMany]);
await ws.endAsync();
await tcp.endAsync();
clearTimeout(timer);
console.log(`ok ${wsUrl} <-> ${tcpUrl} v${protocolVersion}`);
