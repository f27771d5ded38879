/** The README's examples that tests run elsewhere are the very files they run, not copies that drift. */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

test("the README's nginx example is scripts/deploy/nginx.conf, the file tests/integration/reverse-proxy.test.ts runs", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^```nginx\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  expect(blocks).toEqual([fs.readFileSync(path.join(ROOT, 'scripts', 'deploy', 'nginx.conf'), 'utf8')]);
});
