// One direction of the console page, with the policy the page layout (src/abi/console.ts)
// leaves to its users: each side keeps a private copy of the index it owns and reads the
// peer's index once per pass, and a peer index that claims more than the ring holds is
// corruption, so a peer that scribbles on the page cannot make us read or write outside it.
import { XENCONS_IN_SIZE, XENCONS_OUT_SIZE, XenconsInterface } from '../../abi/console.js';
import { XenError } from '../../errors.js';
export class ByteRing {
    #intf;
    #ring;
    #size;
    /** Our own index: cons if we consume, prod if we produce. */
    #mine;
    constructor(page, ring, side) {
        this.#intf = new XenconsInterface(page);
        this.#ring = ring;
        this.#size = ring === 'in' ? XENCONS_IN_SIZE : XENCONS_OUT_SIZE;
        this.#mine = side === 'producer' ? this.#prod() : this.#cons();
    }
    #prod() {
        return this.#ring === 'in' ? this.#intf.inProd : this.#intf.outProd;
    }
    #cons() {
        return this.#ring === 'in' ? this.#intf.inCons : this.#intf.outCons;
    }
    #outstanding(prod, cons) {
        const n = (prod - cons) >>> 0;
        if (n > this.#size)
            throw new XenError('EIO', `console ${this.#ring} ring indices are corrupt (prod ${prod}, cons ${cons})`);
        return n;
    }
    /** Producer: copy as much of `src` as fits; returns the bytes written. */
    write(src) {
        const n = Math.min(this.#size - this.#outstanding(this.#mine, this.#cons()), src.length);
        this.#intf.write(this.#ring, this.#mine, src.subarray(0, n));
        this.#mine = (this.#mine + n) >>> 0;
        if (this.#ring === 'in')
            this.#intf.inProd = this.#mine;
        else
            this.#intf.outProd = this.#mine;
        return n;
    }
    /** Consumer: take everything outstanding (copied out of the page). */
    read() {
        const out = new Uint8Array(this.#outstanding(this.#prod(), this.#mine));
        this.#intf.read(this.#ring, this.#mine, out);
        this.#mine = (this.#mine + out.length) >>> 0;
        if (this.#ring === 'in')
            this.#intf.inCons = this.#mine;
        else
            this.#intf.outCons = this.#mine;
        return out;
    }
    /** Bytes written and not yet taken, as the page says. */
    get pending() {
        return (this.#prod() - this.#cons()) >>> 0;
    }
}
//# sourceMappingURL=ring.js.map