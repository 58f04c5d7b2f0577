// A network driver domain: instead of a guest program it runs netback and its own virtual
// switch, serving every vif the toolstack gives it (vif specs with backend=<this domain's
// name>). A crash here takes down this domain only; the guests it served see their vifs close.
import { serveNetBackends } from 'xenode';
export default function main(os) {
    return serveNetBackends(os);
}
//# sourceMappingURL=netback.js.map