// Skylark demo page: MQTT over WebSockets with MQTT.js, bundled by esbuild into the broker jar (web/build.sh).
import mqtt from 'mqtt';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const $ = (id) => document.getElementById(id);
const state = { client: null, received: 0, buckets: new Array(60).fill(0), current: 0, simulator: null };

// Live telemetry: every numeric field of a JSON payload is a series named "topic field", plotted against time.
const MAX_ROWS = 600;
const telemetry = { times: [], series: new Map(), plot: null, dirty: false };

function defaultUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const host = location.host || '127.0.0.1:8080';
  return `${scheme}//${host}/mqtt`;
}

function setStatus(text, kind) {
  const el = $('status');
  el.textContent = text;
  el.className = 'status ' + kind;
}

function log(text) {
  $('log').textContent = text;
}

function setConnected(connected) {
  $('connect').disabled = connected;
  $('disconnect').disabled = !connected;
  $('subscribe').disabled = !connected;
  $('publish').disabled = !connected;
  $('simulate').disabled = !connected;
}

function connect(event) {
  event.preventDefault();
  if (state.client) {
    state.client.end(true);
  }
  const options = {
    clientId: $('client-id').value || 'web-' + Math.random().toString(16).slice(2, 10),
    protocolVersion: Number($('version').value),
    clean: true,
    keepalive: 30,
    reconnectPeriod: 0,
    connectTimeout: 10000,
  };
  const token = $('token').value;
  if (token) {
    options.username = options.clientId; // the broker requires user name == client ID when one is given
    options.password = token;
  }
  setStatus('connecting…', 'wait');
  const client = mqtt.connect($('url').value, options);
  state.client = client;
  client.on('packetreceive', (packet) => {
    // A refused CONNECT: show the broker's own words (v5 Reason String) next to the reason code.
    if (packet.cmd === 'connack' && (packet.reasonCode || packet.returnCode)) {
      const code = packet.reasonCode || packet.returnCode;
      const why = packet.properties && packet.properties.reasonString;
      const text = 'refused (0x' + code.toString(16) + ')' + (why ? ': ' + why : '');
      setStatus(text, 'off');
      $('refusal').textContent = 'The broker refused the connection: ' + (why || 'reason code 0x' + code.toString(16));
      $('refusal').hidden = false;
    }
  });
  client.on('connect', () => {
    $('refusal').hidden = true;
    setStatus('connected as ' + options.clientId, 'on');
    setConnected(true);
    log('connected to ' + $('url').value);
  });
  client.on('message', onMessage);
  client.on('error', (err) => log('error: ' + err.message));
  client.on('close', () => {
    if (state.client === client) {
      if (!$('status').textContent.startsWith('refused')) {
        setStatus('disconnected', 'off');
      }
      setConnected(false);
      stopSimulator();
    }
  });
}

function disconnect() {
  if (state.client) {
    state.client.end();
    state.client = null;
  }
  setStatus('disconnected', 'off');
  setConnected(false);
}

function subscribe(event) {
  event.preventDefault();
  const filter = $('filter').value;
  state.client.subscribe(filter, { qos: Number($('sub-qos').value) }, (err, granted) => {
    if (err) {
      log('subscribe failed: ' + err.message);
    } else {
      const codes = (granted || []).map((g) => g.qos).join(',');
      log('subscribed to ' + filter + ' (granted ' + codes + ')');
      document.body.dataset.subscribed = filter;
    }
  });
}

function publish(event) {
  event.preventDefault();
  const topic = $('pub-topic').value;
  state.client.publish(topic, $('pub-payload').value,
    { qos: Number($('pub-qos').value), retain: $('pub-retain').checked },
    (err) => log(err ? 'publish failed: ' + err.message : 'published to ' + topic));
}

function onMessage(topic, payload) {
  addTelemetry(topic, payload);
  state.received++;
  state.current++;
  $('received').textContent = String(state.received);
  const item = document.createElement('li');
  const t = document.createElement('span');
  t.className = 'topic';
  t.textContent = topic;
  item.append(t, ' ', new TextDecoder().decode(payload));
  const list = $('messages');
  list.prepend(item);
  while (list.children.length > 200) {
    list.lastChild.remove();
  }
}

function tick() {
  state.buckets.push(state.current);
  state.buckets.shift();
  $('rate-now').textContent = String(state.current);
  state.current = 0;
  draw();
}

function draw() {
  const canvas = $('rate');
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const max = Math.max(10, ...state.buckets);
  const step = width / (state.buckets.length - 1);
  ctx.strokeStyle = '#1f5fa8';
  ctx.lineWidth = 2;
  ctx.beginPath();
  state.buckets.forEach((v, i) => {
    const x = i * step;
    const y = height - 4 - (v / max) * (height - 16);
    if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  });
  ctx.stroke();
  ctx.fillStyle = '#555';
  ctx.font = '11px sans-serif';
  ctx.fillText(max + ' msg/s', 4, 12);
}

/** The subject of a JWT (the client id a token is for), or null. */
function tokenSubject(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(part + '='.repeat((4 - part.length % 4) % 4)));
    return typeof claims.sub === 'string' ? claims.sub : null;
  } catch (e) {
    return null;
  }
}

function onToken() {
  const sub = tokenSubject($('token').value.trim());
  if (sub) {
    $('client-id').value = sub; // the broker requires client id == the token's sub
    $('client-id').readOnly = true;
  } else {
    $('client-id').readOnly = false;
  }
}

function addTelemetry(topic, payload) {
  let value;
  try {
    value = JSON.parse(new TextDecoder().decode(payload));
  } catch (e) {
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const fields = Object.entries(value).filter(([, v]) => typeof v === 'number' && Number.isFinite(v));
  if (fields.length === 0) return;
  const row = telemetry.times.length;
  telemetry.times.push(Date.now() / 1000);
  for (const values of telemetry.series.values()) values.push(null);
  for (const [field, v] of fields) {
    const name = topic + ' ' + field;
    if (!telemetry.series.has(name)) {
      telemetry.series.set(name, new Array(row + 1).fill(null));
      telemetry.plot = null; // a new series: build the chart again
    }
    telemetry.series.get(name)[row] = v;
  }
  if (telemetry.times.length > MAX_ROWS) {
    telemetry.times.shift();
    for (const values of telemetry.series.values()) values.shift();
  }
  telemetry.dirty = true;
}

const COLOURS = ['#1f5fa8', '#c0392b', '#27ae60', '#8e44ad', '#d35400', '#16a085', '#2c3e50', '#e67e22'];

function drawTelemetry() {
  if (!telemetry.dirty) return;
  telemetry.dirty = false;
  const data = [telemetry.times, ...telemetry.series.values()];
  if (!telemetry.plot) {
    const el = $('chart');
    el.textContent = '';
    telemetry.plot = new uPlot({
      width: Math.max(320, el.clientWidth || 600),
      height: 240,
      scales: { x: { time: true } },
      axes: [{ label: 'time' }, { label: 'value' }],
      series: [{}, ...[...telemetry.series.keys()].map((name, i) => ({
        label: name, stroke: COLOURS[i % COLOURS.length], width: 2, spanGaps: true, points: { show: true, size: 5 },
      }))],
    }, data, el);
  } else {
    telemetry.plot.setData(data);
  }
}

/** Points the chart holds (non-null values over every series): what the browser test waits for. */
function chartPoints() {
  if (!telemetry.plot) return 0;
  return telemetry.plot.data.slice(1).reduce((n, s) => n + s.filter((v) => v !== null && v !== undefined).length, 0);
}

function stopSimulator() {
  if (state.simulator) {
    clearInterval(state.simulator);
    state.simulator = null;
  }
  $('simulate').textContent = 'Simulate devices';
}

/** Three pretend devices publishing JSON telemetry from this page, twice a second. */
function toggleSimulator() {
  if (state.simulator) {
    stopSimulator();
    return;
  }
  let step = 0;
  state.simulator = setInterval(() => {
    if (!state.client || !state.client.connected) return stopSimulator();
    step++;
    for (let device = 1; device <= 3; device++) {
      const reading = {
        temperature: +(20 + device * 2 + 3 * Math.sin((step + device * 7) / 10) + Math.random()).toFixed(2),
        humidity: +(40 + device * 5 + 10 * Math.cos((step + device * 3) / 15)).toFixed(1),
      };
      state.client.publish('demo/sim/device-' + device, JSON.stringify(reading), { qos: 0 });
    }
  }, 500);
  $('simulate').textContent = 'Stop simulating';
  log('simulating 3 devices on demo/sim/device-1..3 (subscribe to demo/# to plot them)');
}

function start() {
  $('url').value = defaultUrl();
  $('client-id').value = 'web-' + Math.random().toString(16).slice(2, 10);
  $('connect-form').addEventListener('submit', connect);
  $('disconnect').addEventListener('click', disconnect);
  $('subscribe-form').addEventListener('submit', subscribe);
  $('publish-form').addEventListener('submit', publish);
  $('token').addEventListener('input', onToken);
  $('simulate').addEventListener('click', toggleSimulator);
  setInterval(tick, 1000);
  setInterval(drawTelemetry, 250);
  draw();
}

window.SkylarkDemo = { start, chartPoints };
if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', start);
} else {
  start();
}
