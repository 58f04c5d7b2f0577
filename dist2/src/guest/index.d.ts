export * from './library.js';
export { serveBlockBackends, serveNetBackends } from './driver-domain.js';
