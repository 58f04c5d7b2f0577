export declare class RealmUnsupported extends Error {
    name: string;
    constructor(what: string);
}
