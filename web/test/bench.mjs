// A rough WebSocket-vs-TCP comparison through Skylark with MQTT.js (the client library, not the broker, is the
// bottleneck here): one publisher sends N QoS 0 messages, one subscriber on the same transport counts them.
// usage: node test/bench.mjs <url> [messages=20000] [payload bytes=64]
import mqtt from 'mqtt';

const [url, nArg, sizeArg] = process.argv.slice(2);
const n = Number(nArg || 20000);
const payload = Buffer.alloc(Number(sizeArg || 64), 120);
const topic = 'bench/' + Math.random().toString(16).slice(2, 8);
const sub = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
const pub = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
await sub.subscribeAsync(topic, { qos: 0 });
let count = 0;
const start = process.hrtime.bigint();
const done = new Promise((resolve) => sub.on('message', () => { if (++count === n) resolve(); }));
for (let i = 0; i < n; i++) {
  pub.publish(topic, payload);
  if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
}
const timeout = setTimeout(() => { console.log(`${url}: only ${count}/${n} in 30 s`); process.exit(1); }, 30000);
await done;
clearTimeout(timeout);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(`${url.split(':')[0]}: ${n} messages of ${payload.length} B in ${seconds.toFixed(2)} s = ${Math.round(n / seconds)} msg/s`);
await pub.endAsync();
await sub.endAsync();
