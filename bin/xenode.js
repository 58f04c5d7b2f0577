#!/usr/bin/env node
// The xenode command; the code lives in dist/ (built by `npm ci` through the prepare script).
import '../dist/src/cli/xenode.mjs';
