#!/usr/bin/env node
// The package bin `quazzar-conformance`: the suite is TypeScript run through tsx, so this plain
// JS shim registers tsx's ESM loader and hands over to the CLI. It works from an installed
// tarball because tsx is a runtime dependency of the package.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
