#!/usr/bin/env node
// The `pie` command: registers the TypeScript loader, then hands over to the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/pie.ts');
await main();
