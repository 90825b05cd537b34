/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  // Integration suites share one local stack; they run one at a time and may take a while.
  testTimeout: 120_000,
  reporters: ['default', '<rootDir>/test/support/summaryReporter.js'],
};
