// Tether's simulated MicroPython device: the WebAssembly port of MicroPython, its REPL fed
// from standard input one byte at a time (in order: each byte is processed before the next)
// and its output written to standard output as it comes. It speaks the raw REPL like a board
// on a serial line. Exits when standard input closes or the REPL asks to (Ctrl-D at the
// friendly prompt). Its filesystem is in memory, under /flash. Limits of the port: Ctrl-C cannot stop code that is running (bytes wait
// until it yields), and raw-paste mode is acknowledged but then never answers.
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

let heapsize = 1024 * 1024;
for (const arg of process.argv.slice(2)) {
  const m = /^--heap=(\d+)([km]?)$/i.exec(arg);
  if (!m) {
    process.stderr.write(`usage: sim.mjs [--heap=N[k|m]]\n`);
    process.exit(2);
  }
  heapsize = parseInt(m[1], 10) * ({ k: 1024, m: 1024 * 1024 }[m[2].toLowerCase()] ?? 1);
}

const mp = await loadMicroPython({
  heapsize,
  linebuffer: false,
  stdout: (bytes) => process.stdout.write(bytes),
});
// Session code is untrusted: it gets no handle on the JavaScript host (the port's `js` module
// would hand it Node's `process`), only the timers its asyncio runs on. The `sim` launcher also
// runs Node under its permission model, without code generation from strings.
mp.registerJsModule("js", {
  setTimeout: (f, ms) => setTimeout(f, ms),
  clearTimeout: (t) => clearTimeout(t),
});

// A board's filesystem: files live under /flash, the REPL's current directory.
mp.runPython("import os\nos.mkdir('/flash')\nos.chdir('/flash')");
mp.replInit();

let queue = Promise.resolve();
process.stdin.on("data", (chunk) => {
  queue = queue.then(async () => {
    for (const byte of chunk) {
      if (await mp.replProcessCharWithAsyncify(byte)) {
        process.exit(0);
      }
    }
  });
});
process.stdin.on("end", () => queue.then(() => process.exit(0)));
