// The typed errors a driver hands its guest (Mirage's signatures' error variants): each family
// has an abstract base and one class a kind; ofKind makes the kind's base once for all families.
/**
 * The base of one kind of the family `Family`: its name is its kind, so `instanceof`, `name`
 * and `kind` agree.
 */
export function ofKind(Family, kind) {
    class OfKind extends Family {
        name = kind;
        kind = kind;
    }
    return OfKind;
}
//# sourceMappingURL=errors.js.map