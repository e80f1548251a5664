// The floor under a fastify server: one route answering nginx's request (If-None-Match with the image's ETag)
// with 304, no logger, no hooks, no plugins. Updraft's HTTP transport is fastify, so this is the least its
// check-in can cost here. Arguments: <port> <etag>.
import Fastify from 'fastify';

const [port, etag] = process.argv.slice(2);
const app = Fastify({ logger: false });
app.get('/*', (request, reply) => {
  reply
    .code(request.headers['if-none-match'] === etag ? 304 : 200)
    .header('ETag', etag)
    .send();
});
await app.listen({ port: Number(port), host: '127.0.0.1' });
console.log('listening');
