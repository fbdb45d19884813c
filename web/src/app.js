// Skylark demo page: MQTT over WebSockets with MQTT.js, bundled by esbuild into the broker jar (web/build.sh).
import mqtt from 'mqtt';

const $ = (id) => document.getElementById(id);
const state = { client: null, received: 0, buckets: new Array(60).fill(0), current: 0 };

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
  client.on('connect', () => {
    setStatus('connected as ' + options.clientId, 'on');
    setConnected(true);
    log('connected to ' + $('url').value);
  });
  client.on('message', onMessage);
  client.on('error', (err) => log('error: ' + err.message));
  client.on('close', () => {
    if (state.client === client) {
      setStatus('disconnected', 'off');
      setConnected(false);
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

function start() {
  $('url').value = defaultUrl();
  $('client-id').value = 'web-' + Math.random().toString(16).slice(2, 10);
  $('connect-form').addEventListener('submit', connect);
  $('disconnect').addEventListener('click', disconnect);
  $('subscribe-form').addEventListener('submit', subscribe);
  $('publish-form').addEventListener('submit', publish);
  setInterval(tick, 1000);
  draw();
}

window.SkylarkDemo = { start };
if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', start);
} else {
  start();
}
