#!/usr/bin/env node
// The published entry point: the CLI itself is bundled into dist/ by `npm run build`.
require('../dist/cli.js');
