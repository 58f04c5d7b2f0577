// A shared pCPU's side of the bytes its realms hand it (pcpu.ts's host functions): a realm's
// view read through this thread's own accessors, and node:v8's serializer and deserializer with
// the hooks that ran a realm's code, or aliased this thread's memory, replaced. Nothing here runs
// code of a realm's (docs/SECURITY.md).
import { DefaultDeserializer, DefaultSerializer } from 'node:v8';
import { types } from 'node:util';

/** This thread's own accessors of a view's extent, taken before any realm exists. */
function extentOf(proto: object): { buffer(): ArrayBufferLike; byteOffset(): number; byteLength(): number } {
  const get = <T>(name: string) => Reflect.getOwnPropertyDescriptor(proto, name)!.get as () => T;
  return { buffer: get('buffer'), byteOffset: get('byteOffset'), byteLength: get('byteLength') };
}
const typedArrayExtent = extentOf(Object.getPrototypeOf(Uint8Array.prototype) as object);
const dataViewExtent = extentOf(DataView.prototype);

/**
 * The bytes of a realm's view, as a view of this thread's own over the same memory: no Node API
 * is handed a realm's object. A realm's view answers `byteLength` and the rest from its realm's
 * prototypes, which its guest may redefine to say one thing to a check and another to the API
 * after it (a randomFillSync told a length past its buffer aborts the process, docs/SECURITY.md).
 * The accessors here read the view's own slots and run none of its code; a proxy is no view.
 */
export function ownBytes(v: unknown, what: string): Uint8Array {
  const extent = types.isTypedArray(v) ? typedArrayExtent : types.isDataView(v) ? dataViewExtent : undefined;
  if (!extent) throw new TypeError(`${what} needs bytes`);
  return new Uint8Array(Reflect.apply(extent.buffer, v, []), Reflect.apply(extent.byteOffset, v, []), Reflect.apply(extent.byteLength, v, []));
}

/**
 * A realm's array of one kind (its kind read from its slot), as this thread's own view of the same
 * memory; anything else throws. What this thread writes there the realm could write itself.
 */
function ownArray<T>(v: unknown, is: (v: unknown) => boolean, View: new (b: ArrayBuffer, offset: number, length: number) => T, size: number, what: string): T {
  if (!is(v)) throw new TypeError(what);
  const bytes = Reflect.apply(typedArrayExtent.byteLength, v, []) as number;
  return new View(Reflect.apply(typedArrayExtent.buffer, v, []) as ArrayBuffer, Reflect.apply(typedArrayExtent.byteOffset, v, []) as number, bytes / size);
}

/** blkfront's staged requests (host.blkPush). */
export function ownFloat64s(v: unknown, what: string): Float64Array {
  return ownArray(v, types.isFloat64Array, Float64Array, 8, `${what} needs a Float64Array`);
}

/** Where blkfront's poll writes its responses (host.blkPoll). */
export function ownInt32s(v: unknown, what: string): Int32Array {
  return ownArray(v, types.isInt32Array, Int32Array, 4, `${what} needs an Int32Array`);
}

/**
 * ownBytes for a Node or V8 API that reads them more than once: copied first if they are shared
 * memory. V8 decodes UTF-8 in two passes (the string's length, then its characters) and writes
 * past the string it made if another thread changed the bytes between them (a SIGSEGV of the
 * whole host), and other threads write a guest's pages while it runs (dom0's blkback and grant
 * copies). What is read of the copy is a mix of old and new bytes, as any racy read.
 */
export function unsharedBytes(v: unknown, what: string): Uint8Array {
  const bytes = ownBytes(v, what);
  return types.isSharedArrayBuffer(bytes.buffer) ? bytes.slice() : bytes;
}

const decoders = { lax: new TextDecoder(), fatal: new TextDecoder('utf-8', { fatal: true }) };

/** TextDecoder.decode (UTF-8) of a realm's view, from bytes no other thread changes meanwhile. */
export function decodeOwn(v: unknown, fatal: boolean): string {
  return (fatal ? decoders.fatal : decoders.lax).decode(unsharedBytes(v, 'decode'));
}

/** A typed array's kind, read from its slot (%TypedArray%.prototype's own getter), not its realm's tag. */
const typedArrayKind = Reflect.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, Symbol.toStringTag)!.get as () => string;
/** Node's indexes of a view's kind in its serialized form (lib/v8.js; 10 is its Buffer, which no realm has). */
const VIEW_INDEX = new Map<string, number>([
  ['Int8Array', 0], ['Uint8Array', 1], ['Uint8ClampedArray', 2], ['Int16Array', 3], ['Uint16Array', 4], ['Int32Array', 5],
  ['Uint32Array', 6], ['Float32Array', 7], ['Float64Array', 8], ['BigInt64Array', 11], ['BigUint64Array', 12],
]);
const DATA_VIEW_INDEX = 9;

/**
 * Node's serializer with the two hooks that ran a realm's code replaced: Node's _writeHostObject
 * read a view's constructor, extent and tag through the realm's getters and, for a tag it did not
 * know, built its error with util.inspect, which calls the value's custom-inspect method with this
 * thread's inspect function (whose constructor compiles code where `process` is). Here a view's
 * kind and bytes come from its slots (the bytes are Pool-0's), and no error is built by inspect.
 */
export class RealmSerializer extends DefaultSerializer {
  _writeHostObject(view: NodeJS.TypedArray | DataView): void {
    const index = types.isDataView(view) ? DATA_VIEW_INDEX : VIEW_INDEX.get(Reflect.apply(typedArrayKind, view, []) as string);
    if (index === undefined) throw new TypeError('serialize: a view of a kind Node does not serialize');
    const bytes = ownBytes(view, 'serialize');
    this.writeUint32(index);
    this.writeUint32(bytes.byteLength);
    this.writeRawBytes(bytes);
  }
  /** V8's error for a value it cannot clone, with V8's message (built without running the value's code). */
  _getDataCloneError(message: unknown): Error {
    return new TypeError(typeof message === 'string' ? message : 'serialize: a value that cannot be cloned');
  }
}

/** The view constructors of Node's indexes (lib/v8.js); its Buffer (10) comes back as a Uint8Array. */
const VIEW_TYPES: readonly (new (buffer: ArrayBuffer, byteOffset: number, length: number) => NodeJS.TypedArray | DataView)[] = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array,
  DataView as never, Uint8Array, BigInt64Array as never, BigUint64Array as never,
];

/**
 * Node's deserializer with its view hook replaced: Node's _readHostObject made a view whose
 * offset was not aligned for its kind over a copy in Buffer.allocUnsafe, a slice of this thread's
 * 8 KiB pool, and the clone into the realm copies a view's whole buffer: a crafted record (a save
 * file, a migration stream) handed the restored guest what else sat in the pool, its pool mates'
 * bytes. Here every view gets a buffer of its own bytes, never the input's nor the pool's.
 */
class RealmDeserializer extends DefaultDeserializer {
  _readHostObject(): NodeJS.TypedArray | DataView {
    const index = this.readUint32();
    const byteLength = this.readUint32();
    const View = VIEW_TYPES[index];
    if (!View) throw new TypeError(`deserialize: a view of kind ${index}, which Node does not serialize`);
    const per = (View as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
    if (byteLength % per !== 0) throw new TypeError(`deserialize: a view of ${byteLength} bytes, not whole elements of ${per}`);
    const own = new Uint8Array(byteLength);
    own.set(this.readRawBytes(byteLength));
    return new View(own.buffer, 0, View === (DataView as unknown) ? byteLength : byteLength / per);
  }
}

/**
 * node:v8's deserialize of a realm's view, with views of buffers of their own. V8 decodes the
 * record's UTF-8 strings in two passes too (unsharedBytes).
 */
export function deserializeOwn(v: unknown): unknown {
  const des = new RealmDeserializer(unsharedBytes(v, 'deserialize'));
  des.readHeader();
  return des.readValue();
}
