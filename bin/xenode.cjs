#!/usr/bin/env node
// The xenode command; the code lives in dist/ (built by `npm ci` through the prepare script).
// CommonJS, as the module it loads: `xenode list` then never starts Node's ES module loader.
require('../dist/src/cli/xenode.cjs');
