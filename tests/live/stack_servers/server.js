// The Node https oracle server (issue 23): requestCert + rejectUnauthorized, Node's defaults.
// Usage: node server.js PORT CERT KEY CLIENT_CA_BUNDLE. A refused client is logged on stdout.
'use strict';
const fs = require('fs');
const https = require('https');
const tls = require('tls');
const [port, cert, key, ca] = process.argv.slice(2);
// Node destroys a refused socket without an event: log its authorizationError (Node's own code)
// on the way; the decision is Node's, unchanged.
const destroy = tls.TLSSocket.prototype.destroy;
tls.TLSSocket.prototype.destroy = function (...args) {
  if (this.authorizationError && !this.loggedAuthorizationError) {
    this.loggedAuthorizationError = true;
    console.log(`authorizationError=${this.authorizationError} from ${this.remoteAddress}`);
  }
  return destroy.apply(this, args);
};
const server = https.createServer(
  { cert: fs.readFileSync(cert), key: fs.readFileSync(key), ca: fs.readFileSync(ca),
    requestCert: true, rejectUnauthorized: true },
  (req, res) => { res.writeHead(200); res.end('ok\n'); });
server.on('tlsClientError', (err) => {
  console.log(`tlsClientError code=${err.code} message=${err.message}`);
});
server.listen(Number(port), '127.0.0.1', () => console.log('LISTENING'));
