// What a host does when a domain shuts down, from the on_poweroff/on_reboot/on_crash setting.
import type { ShutdownAction } from './domconfig.js';

/**
 * What the host does after a shutdown. xenode writes no core dumps, so the coredump-* actions
 * act as their plain counterparts; soft-reset restarts.
 */
export function effectiveAction(a: ShutdownAction): 'destroy' | 'restart' | 'rename-restart' | 'preserve' {
  switch (a) {
    case 'coredump-destroy':
      return 'destroy';
    case 'coredump-restart':
    case 'soft-reset':
      return 'restart';
    default:
      return a;
  }
}
