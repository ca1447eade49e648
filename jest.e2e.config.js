/**
 * End-to-end suite: the packed package installed into a real n8n 2.41 (Node 24), run
 * through n8n's CLI, `n8n start` and queue mode against the fal emulator.
 * `npm run test:e2e` builds first; see docs/e2e-notes.md.
 */
module.exports = {
	preset: 'ts-jest',
	testEnvironment: 'node',
	roots: ['<rootDir>/test/e2e'],
	testMatch: ['**/*.e2e.test.ts'],
	transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
	// Installs n8n into the cache if needed (fails the run loudly if it cannot), packs the
	// package, and makes the jest process kill the suite's processes on Ctrl-C or a crash.
	globalSetup: '<rootDir>/test/e2e/global-setup.ts',
	// Fails the run if any process the suite started is still running.
	globalTeardown: '<rootDir>/test/e2e/global-teardown.ts',
	// One file at a time: every file boots n8n processes, and they compete for CPU.
	maxWorkers: 1,
	// Per test; slow steps (n8n boots) have their own shorter deadlines inside.
	testTimeout: 180_000,
	verbose: true,
};
