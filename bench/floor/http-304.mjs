// The floor under any Node.js HTTP server on this machine: node:http answering nginx's request (If-None-Match
// with the image's ETag) with 304 and doing nothing else. Run by bench/cases/esp8266-304.ts next to nginx, so
// docs/benchmarks.md can say how much of the gap to nginx is Node's own. Arguments: <port> <etag>.
import { createServer } from 'node:http';

const [port, etag] = process.argv.slice(2);
createServer((req, res) => {
  res.writeHead(req.headers['if-none-match'] === etag ? 304 : 200, { ETag: etag, 'Content-Length': 0 });
  res.end();
}).listen(Number(port), '127.0.0.1', () => console.log('listening'));
