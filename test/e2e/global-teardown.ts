/**
 * Runs once after the e2e files, in the jest process. Each file stops its own processes
 * in afterAll; anything still registered here was leaked (a bug in a test or a helper):
 * kill it and fail the run, so leaks are noticed instead of piling up on CI machines.
 */
import { killRegisteredGroups } from './helpers/processRegistry';

export default function globalTeardown(): void {
	const leaked = killRegisteredGroups();
	if (leaked.length > 0) {
		throw new Error(`The e2e suite left processes running (now killed): ${leaked.join('; ')}`);
	}
}
