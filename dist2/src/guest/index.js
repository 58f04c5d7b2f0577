// What guest programs import from 'xenode': the library OS (library.ts), and for driver domains,
// which run in Pool-0 only (their backends use Node's files), the backends they serve.
export * from './library.js';
export { serveBlockBackends, serveNetBackends } from './driver-domain.js';
//# sourceMappingURL=index.js.map