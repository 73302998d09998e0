// Runs the CLI from source (the same main() as bin/ankibridge.js runs from dist), for end-to-end tests.
import { main } from '../../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
