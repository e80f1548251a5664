import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Code, MessageType, type CoapOption } from '../../src/transports/coap/message.js';
import { Opt } from '../../src/transports/coap/options.js';
import type { CoapServer } from '../../src/transports/coap/server.js';
import { encode, RawPeer, startServer, waitFor } from './helpers.js';

const path = (...segments: string[]): CoapOption[] =>
  segments.map((s) => ({ number: Opt.URI_PATH, value: Buffer.from(s) }));
const OBSERVE_0: CoapOption = { number: Opt.OBSERVE, value: Buffer.alloc(0) };

function request(messageId: number, code: number, options: CoapOption[], payload = Buffer.alloc(0)): Buffer {
  return encode({
    type: MessageType.CON,
    code,
    messageId,
    token: Buffer.from([0xcd, messageId & 0xff]),
    options: [...options].sort((a, b) => a.number - b.number),
    payload,
  });
}

const empty = (type: (typeof MessageType)['ACK' | 'RST'], messageId: number): Buffer =>
  encode({ type, code: 0, messageId, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) });

/**
 * The cluster-shared socket (endpoint.ts `forward`, docs/coap.md): a worker that is not the home one answers
 * stateless block GETs itself and hands everything that needs per-peer state to the home worker. Two endpoints in
 * one process stand for the two workers; the client talks to the forwarding one only.
 */
describe('CoAP forwarding to the home worker', () => {
  let home: CoapServer;
  let worker: CoapServer;
  let workerPort: number;
  const answeredBy: string[] = [];
  let posts = 0;
  let version = 1;

  const routes = (server: CoapServer, name: string) => {
    server.route('GET', '/plain', () => {
      answeredBy.push(name);
      return { code: Code.CONTENT, body: Buffer.alloc(3000, 7) };
    });
    server.route('GET', '/version', () => ({ code: Code.CONTENT, body: `v${version}` }), { obs: true });
    server.route('POST', '/count', () => ({ code: Code.CHANGED, body: `post ${++posts}` }));
    server.route(
      'GET',
      '/stateful',
      () => {
        answeredBy.push(name);
        return { code: Code.CONTENT, body: 'kept here' };
      },
      { peerState: true },
    );
  };

  before(async () => {
    ({ server: home } = await startServer({
      observe: { conEvery: 1 },
      transmission: { ackTimeoutMs: 300, maxRetransmit: 1 },
    }));
    ({ server: worker, port: workerPort } = await startServer({
      forward: (data, peer) => home.receive(data, peer),
    }));
    routes(home, 'home');
    routes(worker, 'worker');
  });
  after(async () => {
    await worker?.close();
    await home?.close();
  });

  it('answers a block GET itself and forwards a peerState route', async () => {
    const peer = await RawPeer.open(workerPort);
    try {
      peer.send(request(1, Code.GET, [...path('plain'), { number: Opt.BLOCK2, value: Buffer.from([0x16]) }]));
      const block = await peer.next();
      assert.equal(block.code, Code.CONTENT);
      assert.equal(block.payload.length, 1024);
      peer.send(request(2, Code.GET, path('stateful')));
      assert.equal((await peer.next()).payload.toString(), 'kept here');
      assert.deepEqual(answeredBy, ['worker', 'home']);
    } finally {
      await peer.close();
    }
  });

  it('deduplicates a retransmitted POST in the home worker: processed once, answered twice alike', async () => {
    const peer = await RawPeer.open(workerPort);
    try {
      const post = request(3, Code.POST, path('count'), Buffer.from('x'));
      peer.send(post);
      const first = await peer.next();
      peer.send(post);
      const second = await peer.next();
      assert.equal(posts, 1);
      assert.equal(first.payload.toString(), 'post 1');
      assert.deepEqual(second, first);
    } finally {
      await peer.close();
    }
  });

  it('registers observers in the home worker, and routes the ACK of a CON notification and a RST back to it', async () => {
    const peer = await RawPeer.open(workerPort);
    try {
      peer.send(request(4, Code.GET, [OBSERVE_0, ...path('version')]));
      const registered = await peer.next();
      assert.equal(registered.payload.toString(), 'v1');
      assert.equal(home.observerCount, 1);
      assert.equal(worker.observerCount, 0);

      // conEvery 1: a CON notification; its ACK reaches the worker and must end the home's retransmissions.
      version = 2;
      const notified = home.notifyObservers('/version');
      const notification = await peer.next();
      assert.equal(notification.type, MessageType.CON);
      assert.equal(notification.payload.toString(), 'v2');
      peer.send(empty(MessageType.ACK, notification.messageId));
      assert.equal(await notified, 1);
      // Unacknowledged, the notification would have been retransmitted and the observer removed (RFC 7641 §4.5).
      await assert.rejects(peer.next(700));
      assert.equal(home.observerCount, 1);

      version = 3;
      void home.notifyObservers('/version');
      const next = await peer.next();
      assert.equal(next.payload.toString(), 'v3');
      peer.send(empty(MessageType.RST, next.messageId));
      await waitFor(() => home.observerCount === 0);
    } finally {
      await peer.close();
    }
  });
});
