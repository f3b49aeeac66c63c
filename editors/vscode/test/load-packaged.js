// Loads an unpacked extension's entry point with `vscode` as the only module from outside it:
// every other require must resolve inside the package. Prints the exported functions.
"use strict";

const Module = require("node:module");

function anything() {
  const f = function () {};
  return new Proxy(f, {
    get: (_, key) => (key === "prototype" ? {} : anything()),
    construct: () => anything(),
    apply: () => anything(),
  });
}

const load = Module._load;
Module._load = function (request, ...rest) {
  return request === "vscode" ? anything() : load.call(this, request, ...rest);
};
const entry = require(process.argv[2]);
console.log(Object.keys(entry).sort().join(" "));
