// MQTT.js across two cluster nodes: a WebSocket client on one node and a TCP client on another exchange QoS 1
// messages both ways; every message arrives once, in order, with its v5 user properties.
// usage: node test/cluster.mjs <ws-url> <mqtt-url> <protocolVersion 4|5>
import mqtt from 'mqtt';

const [wsUrl, tcpUrl, versionArg] = process.argv.slice(2);
const protocolVersion = Number(versionArg);
const run = Math.random().toString(16).slice(2, 8);
const timer = setTimeout(() => { console.error('timed out'); process.exit(1); }, 30000);
const count = 50;

function open(url, clientId) {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { clientId, protocolVersion, reconnectPeriod: 0, connectTimeout: 10000 });
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

// subscriber on `sub`, publisher on `pub`: probes until the route reached the publisher's node, then the data
async function oneWay(sub, pub, base) {
  const got = [];
  let probed = false;
  let done;
  const finished = new Promise((resolve) => { done = resolve; });
  sub.on('message', (topic, payload, packet) => {
    if (topic === `${base}/probe`) { probed = true; return; }
    if (topic !== `${base}/data`) return;
    const user = packet.properties?.userProperties;
    if (protocolVersion === 5 && (!user || user.seq !== String(got.length))) {
      console.error(`missing or wrong user property on ${payload}: ${JSON.stringify(user)}`);
      process.exit(1);
    }
    got.push(payload.toString());
    if (got.length === count) done();
  });
  await sub.subscribeAsync(`${base}/#`, { qos: 1 });
  while (!probed) {
    await pub.publishAsync(`${base}/probe`, '', { qos: 0 });
    await new Promise((r) => setTimeout(r, 50));
  }
  for (let i = 0; i < count; i++) {
    const properties = protocolVersion === 5 ? { userProperties: { seq: String(i) } } : undefined;
    pub.publish(`${base}/data`, `m${i}`, { qos: 1, properties });
  }
  await finished;
  await new Promise((r) => setTimeout(r, 200)); // duplicates would follow right behind
  const expected = Array.from({ length: count }, (_, i) => `m${i}`);
  if (JSON.stringify(got) !== JSON.stringify(expected)) {
    console.error(`wrong messages on ${base}: ${got}`);
    process.exit(1);
  }
}

const ws = await open(wsUrl, `jsws-${run}-v${protocolVersion}`);
const tcp = await open(tcpUrl, `jstcp-${run}-v${protocolVersion}`);
await oneWay(ws, tcp, `e2e/js/${run}/to-ws`);
await oneWay(tcp, ws, `e2e/js/${run}/to-tcp`);
await ws.endAsync();
await tcp.endAsync();
clearTimeout(timer);
console.log(`ok ${wsUrl} <-> ${tcpUrl} v${protocolVersion}`);
