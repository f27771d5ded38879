import { createLogger, scrubUrl } from '../../hub-service/src/log';

test('query values never reach the log', () => {
  expect(scrubUrl('/services/wod/oauth_callback?code=SECRET&state=S2')).toBe('/services/wod/oauth_callback?code&state');
  expect(scrubUrl('/user/x/lab?token=abc')).not.toContain('abc');
  expect(scrubUrl('/services/wod/health')).toBe('/services/wod/health');
});

test('levels below the threshold are dropped; lines carry level, label and fields', () => {
  const lines: string[] = [];
  const log = createLogger('info', 'wod', (l) => lines.push(l));
  log.debug('hidden');
  log.child('http').warn('slow', { ms: 12 });
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^\[W \S+ \S+ wod\.http\] slow ms=12$/);
});
