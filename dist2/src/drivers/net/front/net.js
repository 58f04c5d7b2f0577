export {};
//# sourceMappingURL=net.js.map