// Runs the ankibridge CLI from source in a child process (for tests that kill it mid-way).
import { main } from '../../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
