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

const readSync = fs.readSync;
const writeSync = fs.writeSync;
fs.readSync = function (fd, ...rest) {
  return readSync.call(this, fd === KERNEL_FD ? 0 : fd, ...rest);
};
fs.writeSync = function (fd, ...rest) {
  return writeSync.call(this, fd === KERNEL_FD ? 1 : fd, ...rest);
};

function relayed(stream) {
  return function write(chunk, encoding, callback) {
    const text = typeof encoding === 'string' ? encoding : 'utf8';
    const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), text);
    writeSync(2, `${JSON.stringify({ [stream]: data.toString('base64') })}\n`);
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') {
      done();
    }
    return true;
  };
}
process.stdout.write = relayed('stdout');
process.stderr.write = relayed('stderr');

require(program);
