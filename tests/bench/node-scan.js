#!/usr/bin/env node
// Baseline for tests/bench/run: the same libuv + OpenSSL stack as certsweep,
// driven from Node.js.  Reads HOST:PORT lines, keeps CONCURRENCY tls.connect
// handshakes in flight, reads each peer's chain with getPeerCertificate(true)
// and prints one JSON summary line: {"targets", "certs", "errors"}.
//   node node-scan.js TARGETS_FILE [CONCURRENCY=500] [--resolve ADDR]
// With --resolve ADDR every name connects to ADDR (SNI = the name); IP literals
// are sent without SNI, as certsweep does.
'use strict';
const fs = require('fs');
const net = require('net');
const tls = require('tls');

const args = process.argv.slice(2);
let resolveTo = null;
const ri = args.indexOf('--resolve');
if (ri >= 0) {
  resolveTo = args[ri + 1];
  args.splice(ri, 2);
}
if (args.length < 1) {
  console.error('usage: node-scan.js TARGETS_FILE [CONCURRENCY] [--resolve ADDR]');
  process.exit(64);
}
const concurrency = parseInt(args[1] || '500', 10);
const targets = fs.readFileSync(args[0], 'utf8').split('\n')
  .map((l) => l.replace(/#.*/, '').trim()).filter((l) => l.length > 0);

let next = 0, inFlight = 0, certs = 0, errors = 0, chainCerts = 0;
const TIMEOUT_MS = 10000;

function probe(target) {
  const colon = target.lastIndexOf(':');
  const host = target.slice(0, colon);
  const port = parseInt(target.slice(colon + 1), 10);
  const isIp = net.isIP(host) !== 0;
  const opts = { host: resolveTo || host, port, rejectUnauthorized: false };
  if (!isIp) opts.servername = host;
  let done = false;
  const finish = (ok) => {
    if (done) return;
    done = true;
    if (ok) certs++; else errors++;
    inFlight--;
    pump();
  };
  const sock = tls.connect(opts, () => {
    const cert = sock.getPeerCertificate(true);
    let ok = cert && cert.fingerprint256 && cert.valid_to;
    for (let c = cert; ok && c && c.issuerCertificate && c.issuerCertificate !== c;
      c = c.issuerCertificate) chainCerts++;
    sock.destroy();
    finish(Boolean(ok));
  });
  sock.setTimeout(TIMEOUT_MS, () => { sock.destroy(); finish(false); });
  sock.on('error', () => finish(false));
  sock.on('close', () => finish(false));
}

function pump() {
  while (inFlight < concurrency && next < targets.length) {
    inFlight++;
    probe(targets[next++]);
  }
  if (inFlight === 0 && next >= targets.length) {
    console.log(JSON.stringify({ targets: targets.length, certs, errors, chain_certs: chainCerts }));
  }
}
pump();
