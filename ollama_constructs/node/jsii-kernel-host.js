'use strict';
// Hosts jsii's kernel (`lib/program.js` of the runtime embedded in the installed `jsii` Python package)
// directly in the node process that jsii's Python client starts, without the relay process that
// `bin/jsii-runtime.js` puts in between. Started by ollama_constructs/_jsii_host.py through jsii's
// JSII_RUNTIME setting; the path of program.js comes in OLLAMA_CONSTRUCTS_JSII_PROGRAM.
//
// The kernel speaks its line protocol on file descriptor 3 (synchronous reads and writes, which the
// relay connects to the Python client's pipes). Here the client's pipes are stdin and stdout, so
// synchronous reads of descriptor 3 go to 0 and writes to 1. Descriptor 3 is held open first, so that no
// file the kernel opens can take that number. Anything a library prints to stdout or stderr goes to
// stderr as the relay sends it, one JSON object per chunk, which the Python client decodes and prints.

const fs = require('fs');
const v8 = require('v8');
const vm = require('vm');
const { Writable } = require('stream');

const KERNEL_FD = 3;
const program = process.env.OLLAMA_CONSTRUCTS_JSII_PROGRAM;
if (!program) {
  fs.writeSync(2, 'jsii-kernel-host.js: OLLAMA_CONSTRUCTS_JSII_PROGRAM is not set\n');
  process.exit(2);
}

try {
  fs.fstatSync(KERNEL_FD);
} catch {
  const fd = fs.openSync('/dev/null', 'r');
  if (fd !== KERNEL_FD) {
    fs.writeSync(2, `jsii-kernel-host.js: expected descriptor ${KERNEL_FD} to be free, got ${fd}\n`);
    process.exit(2);
  }
}

// The kernel blocks reading its next request, so V8 never sees the idle time in which it would shrink the
// heap: a request loop that frees objects (ollama_constructs releases every leaf's) leaves garbage that
// the heap only outgrows. Every CHECK_EVERY reads, when the heap has grown by GROWTH bytes since the last
// full collection, collect.
const CHECK_EVERY = 256;
const GROWTH = 12 * 1024 * 1024;
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc');
let reads = 0;
let collectedAt = v8.getHeapStatistics().total_heap_size;

function collectIfGrown() {
  if (v8.getHeapStatistics().total_heap_size - collectedAt > GROWTH) {
    collectGarbage();
    collectedAt = v8.getHeapStatistics().total_heap_size;
  }
}

const readSync = fs.readSync;
const writeSync = fs.writeSync;
fs.readSync = function (fd, ...rest) {
  if (fd !== KERNEL_FD) {
    return readSync.call(this, fd, ...rest);
  }
  reads += 1;
  if (reads % CHECK_EVERY === 0) {
    collectIfGrown();
  }
  return readSync.call(this, 0, ...rest);
};
fs.writeSync = function (fd, ...rest) {
  return writeSync.call(this, fd === KERNEL_FD ? 1 : fd, ...rest);
};

// process.stdout and process.stderr are replaced before anything touches them: Node's own streams would
// switch descriptors 1 and 2 to non-blocking mode, and the kernel's synchronous writes of a large answer
// would then meet EAGAIN and sleep (up to 10 ms each time) until this process's client reads the pipe.
function relayStream(name, fd) {
  const stream = new Writable({
    write(chunk, encoding, callback) {
      const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), encoding);
      writeSync(2, `${JSON.stringify({ [name]: data.toString('base64') })}\n`);
      callback();
    },
  });
  stream.fd = fd;
  stream.isTTY = false;
  Object.defineProperty(process, name, { configurable: true, enumerable: true, get: () => stream });
}
relayStream('stdout', 1);
relayStream('stderr', 2);

require(program);
