/**
 * On Kubernetes anyone logged in may start their own server through the hub's API with user_options
 * of their choosing: none of them may raise the pod's limits, change its image, or pass for a
 * maintenance server. The pods are the ones a real KubeSpawner would create (tests/support/kubespawner.ts).
 * A student's pod reaches the hub directly, from the pod network the proxy is on: its X-Forwarded-For
 * must not choose the address its logins are counted for. The seats route answers only the hub.
 */
import { attack } from '../support/attacks';
import { BIG, type KubeSpawnerBench, kubeSpawnerBench, SITE, STUDENT_IMAGE } from '../support/kubespawner';

let bench: KubeSpawnerBench;
beforeAll(async () => {
  bench = await kubeSpawnerBench();
});
afterAll(async () => {
  await bench?.close();
});

/** What a participant could send to POST /hub/api/users/<name>/server, beside the profile options below. */
const GREEDY = {
  mem_limit: '64G',
  cpu_limit: 64,
  image: 'evil.example.org/miner:latest',
  kubespawner_override: { mem_limit: '64G', cpu_limit: 64 },
  extra_resource_limits: { 'nvidia.com/gpu': 1 },
  wod_maintenance: 'true',
};

test('a student cannot raise their own limits (or change image, or pass for maintenance) through user_options', async () => {
  await attack('kubernetes: a student starts their own server with user_options asking for 64G, 64 cores, another image', async () => {
    const { seats } = await bench.spawn({ student1: GREEDY, student25: GREEDY });
    for (const [name, expected] of [
      ['student1', BIG],
      ['student25', SITE],
    ] as const) {
      const c = seats[name].pod.spec.containers[0];
      expect([name, c.resources.limits]).toEqual([name, { memory: expected.memory, cpu: expected.cpu }]);
      expect(c.image).toBe(STUDENT_IMAGE);
      expect(c.env.find((e) => e.name === 'PYTHONNOUSERSITE')).toBeUndefined();
    }
  });
  // wod configures no profile list: KubeSpawner refuses to spawn for a profile it does not have
  await attack('kubernetes: a student asks for a KubeSpawner profile with more memory', async () => {
    await expect(bench.spawn({ student1: { profile: 'huge', 'profile-option-huge--memory': '64G' } })).rejects.toThrow(/No such profile: huge/);
  });
});

test("a student's pod calling the hub's login directly, or through the proxy, with a forged X-Forwarded-For is counted for its own address", async () => {
  const PROXY_POD = '10.20.0.5';
  const HTTPS_POD = '10.20.0.4';
  const STUDENT_POD = '10.20.0.9';
  const guess = (peer: string, forwardedFor: string) => ({ peer, forwardedFor, username: 'admin', password: 'guess' });
  const five = <T>(at: (n: number) => T): T[] => [1, 2, 3, 4, 5].map(at);
  await attack('kubernetes: a student pod forges X-Forwarded-For on the hub:8081 login (and through the proxy) to escape the count', async () => {
    const outcomes = await bench.logins(
      [PROXY_POD, HTTPS_POD],
      [
        // straight to hub:8081, a new forged address each time: all five count for the pod itself, the sixth is refused
        ...five((n) => guess(STUDENT_POD, `203.0.113.${n}`)),
        guess(STUDENT_POD, '203.0.113.6'),
        // through the proxy (which appends the pod's own address), through the chart's HTTPS pod and the proxy
        guess(PROXY_POD, `203.0.113.7, ${STUDENT_POD}`),
        guess(PROXY_POD, `203.0.113.8, ${STUDENT_POD}, ${HTTPS_POD}`),
      ],
    );
    expect(outcomes).toEqual([...five(() => 'refused'), 'throttled', 'throttled', 'throttled']);
  });
  // what the proxy pods forward is believed: each visitor is counted apart, not as the proxy
  const visitors = await bench.logins(
    [PROXY_POD, HTTPS_POD],
    [...five(() => guess(PROXY_POD, `198.51.100.7, ${HTTPS_POD}`)), guess(PROXY_POD, `198.51.100.7, ${HTTPS_POD}`), guess(PROXY_POD, '198.51.100.8')],
  );
  expect(visitors).toEqual([...five(() => 'refused'), 'throttled', 'refused']);
});

test("the seats route (KubeSpawner's question) answers only the hub: not without the secret, not through the proxy", async () => {
  const seat = `${bench.internalUrl}/seats/student1`;
  const asked = async (headers: Record<string, string>) => {
    const res = await fetch(seat, { headers });
    return { status: res.status, body: await res.text() };
  };
  // the hub's own question is answered (what the refusals below are compared with)
  expect(await asked({ Authorization: `Bearer ${bench.secret}` })).toMatchObject({ status: 200, body: expect.stringContaining('"limits"') });
  for (const [name, headers] of [
    ['without the shared secret', {}],
    ['with another secret', { Authorization: `Bearer ${'b'.repeat(64)}` }],
    ['through the proxy (X-Forwarded-For), secret and all', { Authorization: `Bearer ${bench.secret}`, 'X-Forwarded-For': '203.0.113.9' }],
  ] as const) {
    await attack(`kubernetes: a seat's limits asked of /internal/seats ${name}`, async () => {
      const answer = await asked(headers);
      expect(answer.status).toBe(404);
      expect(answer.body).not.toMatch(/limits|WKSHP|memory/i);
    });
  }
});
