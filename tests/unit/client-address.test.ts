import { spawn } from 'node:child_process';
import http from 'node:http';
import { TrustedProxies } from '../../hub-service/src/network/addresses';
import { clientAddress, trustFunction } from '../../hub-service/src/web/client-address';
import { identifyClient, peerUid, procEndpoints, socketOwner } from '../../hub-service/src/web/peer-uid';

const none = new TrustedProxies([]);
const nginx = new TrustedProxies(['10.0.0.2', '192.168.0.0/16']);
const HUB = 1000;

describe('clientAddress: X-Forwarded-For read from the right, over believed proxies only', () => {
  test("the hub's proxy (loopback, the hub's own uid) is believed: the address it appended is the client", () => {
    expect(clientAddress({ peer: '127.0.0.1', peerUid: HUB, forwardedFor: '203.0.113.7' }, { proxies: none, ownUid: HUB })).toEqual({
      address: '203.0.113.7',
      ignoredForwardedFor: false,
    });
  });

  test('what the client wrote before it is not: a forged X-Forwarded-For changes nothing', () => {
    const forged = clientAddress({ peer: '127.0.0.1', peerUid: HUB, forwardedFor: '198.51.100.1, 10.0.0.2, 203.0.113.7' }, { proxies: none, ownUid: HUB });
    expect(forged).toEqual({ address: '203.0.113.7', ignoredForwardedFor: true });
  });

  test('a loopback entry is not a proxy by itself: a local visitor of the public port is 127.0.0.1', () => {
    expect(clientAddress({ peer: '127.0.0.1', peerUid: HUB, forwardedFor: '198.51.100.1,127.0.0.1' }, { proxies: none, ownUid: HUB }).address).toBe('127.0.0.1');
  });

  test("an operator's listed proxy is stepped over, and only it", () => {
    const trust = { proxies: nginx, ownUid: HUB };
    expect(clientAddress({ peer: '127.0.0.1', peerUid: HUB, forwardedFor: '203.0.113.7, 10.0.0.2' }, trust).address).toBe('203.0.113.7');
    expect(clientAddress({ peer: '127.0.0.1', peerUid: HUB, forwardedFor: '198.51.100.1, 203.0.113.7, 192.168.3.4, 10.0.0.2' }, trust)).toEqual({
      address: '203.0.113.7',
      ignoredForwardedFor: true,
    });
    // nothing but proxies: the farthest one is all we know
    expect(clientAddress({ peer: '127.0.0.1', peerUid: HUB, forwardedFor: '192.168.3.4, 10.0.0.2' }, trust).address).toBe('192.168.3.4');
    // garbage written "by" a proxy: the proxy is the last hop known
    expect(clientAddress({ peer: '127.0.0.1', peerUid: HUB, forwardedFor: 'unknown, 10.0.0.2' }, trust)).toEqual({ address: '10.0.0.2', ignoredForwardedFor: true });
  });

  test('a peer that is neither loopback nor listed is the client, whatever it says', () => {
    expect(clientAddress({ peer: '203.0.113.9', forwardedFor: '1.2.3.4' }, { proxies: nginx, ownUid: HUB })).toEqual({ address: '203.0.113.9', ignoredForwardedFor: true });
    expect(clientAddress({ peer: '::ffff:10.0.0.2', forwardedFor: '203.0.113.7' }, { proxies: nginx, ownUid: HUB }).address).toBe('203.0.113.7');
  });

  test('a local process of another user is its own client, local-uid-N, and its header is ignored', () => {
    expect(clientAddress({ peer: '127.0.0.1', peerUid: 2001, forwardedFor: '203.0.113.7' }, { proxies: nginx, ownUid: 0 })).toEqual({
      address: 'local-uid-2001',
      ignoredForwardedFor: true,
    });
    expect(clientAddress({ peer: '::1', peerUid: 'not-found', forwardedFor: '203.0.113.7' }, { proxies: none, ownUid: 0 }).address).toBe('local-unknown');
    // where the kernel cannot say who it is, a loopback peer is taken for the proxy
    expect(clientAddress({ peer: '127.0.0.1', peerUid: 'unsupported', forwardedFor: '203.0.113.7' }, { proxies: none, ownUid: 0 }).address).toBe('203.0.113.7');
  });

  test("Express's trust function follows the same rule for the protocol", () => {
    const trust = trustFunction(nginx);
    expect(trust('127.0.0.1', 0)).toBe(true);
    expect(trust('127.0.0.1', 1)).toBe(false);
    expect(trust('10.0.0.2', 1)).toBe(true);
    expect(trust('203.0.113.7', 0)).toBe(false);
  });
});

describe('clientAddress with bindSocket: the socket peer, which the proxy writes as `undefined`, is the reverse proxy', () => {
  const socket = new TrustedProxies([], { socketHop: true });
  const viaSocket = (forwardedFor: string, proxies = socket) => clientAddress({ peer: '127.0.0.1', peerUid: HUB, forwardedFor }, { proxies, ownUid: HUB });

  test('the entry nginx set ($remote_addr) is the client, with no trustedProxies; what the client forged before it is not', () => {
    expect(viaSocket('198.51.100.7,undefined')).toEqual({ address: '198.51.100.7', ignoredForwardedFor: false });
    expect(viaSocket('203.0.113.9, 198.51.100.7, undefined')).toEqual({ address: '198.51.100.7', ignoredForwardedFor: true });
    expect(viaSocket('2001:db8::5,undefined').address).toBe('2001:db8::5');
  });

  test('a request through the socket that names no client is a local process of the socket group, not the hub', () => {
    expect(viaSocket('undefined')).toEqual({ address: 'local-socket', ignoredForwardedFor: false });
    expect(viaSocket('garbage,undefined')).toEqual({ address: 'local-socket', ignoredForwardedFor: true });
  });

  test('only the last entry, the one the hub proxy appended, stands for the socket: a forged `undefined` before it is not stepped over', () => {
    expect(viaSocket('198.51.100.1,undefined,203.0.113.7,undefined')).toEqual({ address: '203.0.113.7', ignoredForwardedFor: true });
    expect(viaSocket('198.51.100.1,undefined,undefined')).toEqual({ address: 'local-socket', ignoredForwardedFor: true });
  });

  test('listed proxies before the reverse proxy are still stepped over', () => {
    const both = new TrustedProxies(['10.0.0.2'], { socketHop: true });
    expect(viaSocket('203.0.113.7, 10.0.0.2, undefined', both).address).toBe('203.0.113.7');
  });

  test('without bindSocket an `undefined` entry is never believed: the proxy is the last hop known', () => {
    expect(viaSocket('198.51.100.7,undefined', none)).toEqual({ address: '127.0.0.1', ignoredForwardedFor: true });
    expect(viaSocket('198.51.100.7,undefined', nginx).address).toBe('127.0.0.1');
  });

  test("another user's process is its own client in socket mode too", () => {
    expect(clientAddress({ peer: '127.0.0.1', peerUid: 2001, forwardedFor: '198.51.100.7,undefined' }, { proxies: socket, ownUid: HUB }).address).toBe('local-uid-2001');
  });
});

describe('peer-uid: the owner of a local connection, from the kernel socket table', () => {
  // Two ends of 127.0.0.1:40000 -> 127.0.0.1:8081, the client's owned by uid 2001; a closed one in TIME_WAIT (uid 0, no inode).
  const LE = procEndpoints({ address: '127.0.0.1', port: 40000 }).v4 === '0100007F:9C40';
  const table = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F91 0100007F:9C41 06 00000000:00000000 03:00001000 00000000     0        0 0 3 0000000000000000',
    '   1: 0100007F:9C41 0100007F:1F91 06 00000000:00000000 03:00001000 00000000     0        0 0 3 0000000000000000',
    '   2: 0100007F:1F91 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 5555 1 0000000000000000',
    '   3: 0100007F:9C40 0100007F:1F91 01 00000000:00000000 00:00000000 00000000  2001        0 6666 1 0000000000000000',
  ].join('\n');

  (LE ? test : test.skip)('finds the established peer socket and its uid; a closed one is nobody, never root', () => {
    expect(procEndpoints({ address: '127.0.0.1', port: 8081 })).toEqual({ v4: '0100007F:1F91', v6: '0000000000000000FFFF00000100007F:1F91' });
    expect(procEndpoints({ address: '::1', port: 8081 }).v6).toBe('00000000000000000000000001000000:1F91');
    expect(socketOwner(table, '0100007F:9C40', '0100007F:1F91')).toBe(2001);
    expect(socketOwner(table, '0100007F:1F91', '0100007F:9C40')).toBe(1000);
    expect(socketOwner(table, '0100007F:9C41', '0100007F:1F91')).toBeNull();
  });

  test('where there is no socket table, it says so', async () => {
    const missing = () => Promise.reject(Object.assign(new Error('ENOENT'), { code: 'ENOENT' }));
    expect(await peerUid({ address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: 2 }, missing)).toBe('unsupported');
    expect(await peerUid({ address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: 2 }, async () => '')).toBe('not-found');
    // a loopback peer whose ports the hub did not give is vouched for by no one
    expect((await identifyClient({ peer: '127.0.0.1', forwardedFor: '203.0.113.7' }, { proxies: none, ownUid: 0 })).address).toBe('local-unknown');
  });

  test('on this host: a real connection is traced to its real owner', async () => {
    const server = http.createServer((req, res) => {
      const s = req.socket;
      void identifyClient(
        { peer: s.remoteAddress!, peerPort: s.remotePort, local: s.localAddress, localPort: s.localPort, forwardedFor: String(req.headers['x-forwarded-for'] ?? '') },
        { proxies: none, ownUid: process.getuid!() },
      ).then((c) => res.end(c.address));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const ask = () =>
        new Promise<string>((resolve, reject) =>
          http
            .get({ host: '127.0.0.1', port, headers: { 'X-Forwarded-For': '203.0.113.7' }, agent: false }, (res) => {
              let body = '';
              res.on('data', (c: Buffer) => (body += c.toString()));
              res.on('end', () => resolve(body));
            })
            .on('error', reject),
        );
      // this process is of the server's own user: believed, as the hub's proxy is
      expect(await ask()).toBe('203.0.113.7');
      if (process.getuid!() === 0) {
        // another user's process on this host is its own client, whatever header it sends
        const script = `require('http').get({host:'127.0.0.1',port:${port},headers:{'X-Forwarded-For':'203.0.113.7'}},r=>{let b='';r.on('data',c=>b+=c);r.on('end',()=>process.stdout.write(b))})`;
        const child = spawn(process.execPath, ['-e', script], { uid: 65534, gid: 65534 });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        await new Promise((r) => child.on('close', r));
        expect(out).toBe('local-uid-65534');
      }
    } finally {
      server.close();
    }
  });
});
