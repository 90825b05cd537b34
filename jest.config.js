/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
    // jose is published as ES modules only: Node requires it as is, jest's module system needs it as CommonJS.
    '/node_modules/jose/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2023' }, isolatedModules: true }],
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  // Integration suites share one local stack; they run one at a time and may take a while.
  testTimeout: 120_000,
  reporters: ['default', '<rootDir>/test/support/summaryReporter.js'],
};
