#!/usr/bin/env node
// The xenode command for scripts that run this file: the command itself is bin/xenode.cjs.
import './xenode.cjs';
