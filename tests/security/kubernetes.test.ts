/**
 * On Kubernetes anyone logged in may start their own server through the hub's API with user_options
 * of their choosing: none of them may raise the pod's limits, change its image, or pass for a
 * maintenance server. The pods are the ones a real KubeSpawner would create (tests/support/kubespawner.ts).
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
