// The least a Runtime API can be: Node's http server handing out N events
// ({"n":i}) to aws-lambda-ric and taking its answers, with no fnrun.
// Prints invocations/s.  Run by tests/bench/fnrun-rtapi (env RIC, N; the
// handler index.js in the current directory).
const http = require('http');
const { spawn } = require('child_process');
const N = Number(process.env.N || 5000);
let n = 0, t0, child;
const srv = http.createServer((req, res) => {
  if (req.method !== 'GET') {
    req.resume();
    req.on('end', () => { res.writeHead(202); res.end('{"status":"OK"}'); });
    return;
  }
  if (n === 0) t0 = process.hrtime.bigint();
  if (n === N) {
    console.log((N / (Number(process.hrtime.bigint() - t0) / 1e9)).toFixed(0));
    child.kill('SIGKILL');
    process.exit(0);
  }
  n++;
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Lambda-Runtime-Aws-Request-Id': `id-${n}`,
    'Lambda-Runtime-Deadline-Ms': String(Date.now() + 60000),
    'Lambda-Runtime-Invoked-Function-Arn': 'arn:aws:lambda:us-east-1:000000000000:function:f',
  });
  res.end(JSON.stringify({ n }));
});
srv.listen(0, '127.0.0.1', () => {
  child = spawn('node', [`${process.env.RIC}/bin/index.mjs`, 'index.handler'], {
    env: { ...process.env, AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${srv.address().port}`,
      LAMBDA_TASK_ROOT: process.cwd() },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
});
