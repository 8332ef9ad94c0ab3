#!/usr/bin/env node
// labsvc: the small HTTP service each lab host runs under supervisor (program `labsvc`).
// Plain Node, no dependencies: the lab copies this file to /opt/labsvc/labsvc.mjs on its hosts and
// supervisord runs it as `nobody` with the machine's node.
//
// - reads /etc/labsvc/labsvc.conf (`key=value` lines: port, bind, log_level); refuses to start on an
//   invalid file with a "parse error" / "invalid configuration" line on stderr and in app.log;
// - fails with "address already in use" when its port is taken, and with "No space left on device"
//   when it cannot write its state file at start (a full data disk);
// - appends one line to /var/log/labsvc/starts.log each time it starts serving (the lab's fix counter);
// - GET /health: 200 `ok` when it can read its state file and write to its data directory, otherwise
//   500/503 with the reason ("permission denied on …", "No space left on device");
// - one line per request in /var/log/labsvc/app.log.
import { appendFileSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';

const configPath = process.env.LABSVC_CONFIG || '/etc/labsvc/labsvc.conf';
const dataDir = process.env.LABSVC_DATA || '/var/lib/labsvc';
const logDir = process.env.LABSVC_LOG_DIR || '/var/log/labsvc';
const statePath = join(dataDir, 'state.json');
const LEVELS = ['debug', 'info', 'warn', 'error'];

function appLog(level, message) {
  try {
    appendFileSync(join(logDir, 'app.log'), `${new Date().toISOString()} ${level.toUpperCase()} ${message}\n`);
  } catch {
    // The log directory is not this service's health: never crash because of it.
  }
}

function fail(message, code) {
  process.stderr.write(`labsvc: ${message}\n`);
  appLog('error', message);
  process.exit(code);
}

function readConfig() {
  let text;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (err) {
    fail(`cannot read configuration ${configPath}: ${err.message}`, 78);
  }
  const config = { port: 8080, bind: '0.0.0.0', log_level: 'info' };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) fail(`parse error in ${configPath} line ${i + 1}: expected key=value, got "${line}"`, 78);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'port') {
      const port = Number(value);
      if (!/^\d+$/.test(value) || port < 1 || port > 65535)
        fail(`invalid configuration ${configPath} line ${i + 1}: port must be 1-65535, got "${value}"`, 78);
      config.port = port;
    } else if (key === 'bind') {
      if (!/^[0-9a-fA-F.:]+$/.test(value))
        fail(`invalid configuration ${configPath} line ${i + 1}: bind must be an IP address, got "${value}"`, 78);
      config.bind = value;
    } else if (key === 'log_level') {
      if (!LEVELS.includes(value))
        fail(`invalid configuration ${configPath} line ${i + 1}: log_level must be one of ${LEVELS.join(', ')}, got "${value}"`, 78);
      config.log_level = value;
    } else {
      fail(`invalid configuration ${configPath} line ${i + 1}: unknown directive "${key}"`, 78);
    }
  }
  return config;
}

const config = readConfig();
const debug = config.log_level === 'debug';
let requests = 0;
let probes = 0;

/** A new file renamed over the old one: a full disk refuses it (rewriting in place could reuse its blocks). */
function writeState() {
  const next = `${statePath}.${process.pid}.new`;
  try {
    writeFileSync(next, `${JSON.stringify({ pid: process.pid, startedAt, requests })}\n`);
    renameSync(next, statePath);
  } catch (err) {
    try {
      unlinkSync(next);
    } catch {
      // not created
    }
    throw err;
  }
}

function describe(err) {
  if (err.code === 'ENOSPC') return 'No space left on device (ENOSPC)';
  if (err.code === 'EACCES') return 'permission denied (EACCES)';
  return err.message;
}

/** Healthy = the state file is readable and the data directory takes a new write. */
function health() {
  try {
    JSON.parse(readFileSync(statePath, 'utf8'));
  } catch (err) {
    if (err.code === 'EACCES') return { status: 500, body: `unhealthy: permission denied on ${statePath}` };
    if (err.code !== 'ENOENT') return { status: 500, body: `unhealthy: cannot read ${statePath}: ${describe(err)}` };
  }
  // A new file each time: rewriting one file in place can reuse its own blocks on a full disk.
  const probe = join(dataDir, `.health-probe-${process.pid}-${++probes}`);
  try {
    writeFileSync(probe, `${Date.now()}\n`);
  } catch (err) {
    return { status: 503, body: `unhealthy: cannot write to ${dataDir}: ${describe(err)}` };
  } finally {
    try {
      unlinkSync(probe);
    } catch {
      // nothing was created
    }
  }
  return { status: 200, body: 'ok' };
}

const startedAt = new Date().toISOString();
appLog('info', `starting labsvc pid=${process.pid} config=${configPath} port=${config.port} log_level=${config.log_level}`);
try {
  writeState();
} catch (err) {
  // A service that cannot keep its state on a full disk does not start (what the lab's compound
  // fault "service down because its disk is full" needs); other write errors are only logged.
  if (err.code === 'ENOSPC') fail(`cannot write ${statePath}: ${describe(err)}`, 1);
  appLog('error', `cannot write ${statePath}: ${describe(err)}`);
}

const server = createServer((req, res) => {
  const begun = Date.now();
  requests++;
  let status = 200;
  let body;
  if (req.method === 'GET' && req.url === '/metrics') {
    // Prometheus text exposition; scrapes are not logged (one a second would look like log growth).
    const healthy = health().status === 200 ? 1 : 0;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(
      [
        '# HELP labsvc_requests_total Requests served since start.',
        '# TYPE labsvc_requests_total counter',
        `labsvc_requests_total ${requests}`,
        '# HELP labsvc_healthy 1 when /health would answer 200.',
        '# TYPE labsvc_healthy gauge',
        `labsvc_healthy ${healthy}`,
        '',
      ].join('\n'),
    );
    return;
  }
  if (req.method === 'GET' && req.url === '/health') {
    ({ status, body } = health());
  } else if (req.method === 'GET' && req.url === '/') {
    body = `labsvc on ${hostname()} (pid ${process.pid}, up since ${startedAt})`;
  } else {
    status = 404;
    body = 'not found';
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${body}\n`);
  appLog(
    status >= 500 ? 'error' : 'info',
    `${req.socket.remoteAddress ?? '-'} "${req.method} ${req.url}" ${status} ${Date.now() - begun}ms${status === 200 ? '' : ` ${body}`}`,
  );
  if (debug) appLog('debug', `request headers ${JSON.stringify(req.headers)}`);
});

server.on('error', (err) => {
  if (err.code === 'EADDRINUSE') fail(`listen tcp ${config.bind}:${config.port}: bind: address already in use (EADDRINUSE)`, 1);
  fail(`listen tcp ${config.bind}:${config.port}: ${err.message}`, 1);
});

server.listen(config.port, config.bind, () => {
  try {
    appendFileSync(join(logDir, 'starts.log'), `${new Date().toISOString()} start pid=${process.pid} port=${config.port}\n`);
  } catch (err) {
    appLog('error', `cannot append to starts.log: ${err.message}`);
  }
  appLog('info', `listening on ${config.bind}:${config.port}`);
  process.stdout.write(`labsvc: listening on ${config.bind}:${config.port}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    appLog('info', `stopping on ${signal}`);
    server.close();
    process.exit(0);
  });
}
