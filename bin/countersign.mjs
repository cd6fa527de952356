#!/usr/bin/env node
// `npx countersign ...` inside the repository: runs scripts/countersign.ts through tsx (a
// development dependency), so it works from a clean checkout after `npm install`, with no build.
import { register } from 'tsx/esm/api';

register();
await import('../scripts/countersign.ts');
