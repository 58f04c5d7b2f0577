// A block driver domain: instead of a guest program it runs blkback, serving every disk the
// toolstack gives it (disk specs with backend=<this domain's name>). A crash here takes down
// this domain only; the guests it served see their disks close.
import { serveBlockBackends } from 'xenode';
export default function main(os) {
    return serveBlockBackends(os);
}
//# sourceMappingURL=blkback.js.map