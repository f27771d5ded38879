/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  // Sources import './x.js' (nodenext); under ts-jest that is ./x.ts.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Integration tests run a real JupyterHub each; two at once fit this machine.
  maxWorkers: 2,
  testTimeout: 180000,
  // The security suite's ledger: `security: N attacks tried, N refused` at the end.
  globalSetup: '<rootDir>/tests/support/global-setup.ts',
  globalTeardown: '<rootDir>/tests/support/global-teardown.ts',
  slowTestThreshold: 60,
};
