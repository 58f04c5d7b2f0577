// xenode's version, from package.json (the one place it is written). Found by walking up from
// this module, which may be dist/src/version.js or linked into dist/src/cli/xenode.mjs.
import { readFileSync } from 'node:fs';
function readVersion() {
    for (let url = new URL('./', import.meta.url); url.pathname !== '/'; url = new URL('../', url)) {
        try {
            const pkg = JSON.parse(readFileSync(new URL('package.json', url), 'utf8'));
            if (pkg.name === 'xenode' && pkg.version)
                return pkg.version;
        }
        catch {
            /* not here: look further up */
        }
    }
    throw new Error("xenode's package.json was not found above its modules");
}
export const VERSION = readVersion();
//# sourceMappingURL=version.js.map