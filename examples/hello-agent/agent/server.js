// A small HTTP agent: answers greetings and reports its health.
// GET /health        -> 200 {"status":"ok"} once started
// GET /hello?name=x  -> 200 {"message":"Hello, x!","served":N}
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const greeting = process.env.GREETING ?? 'Hello';
let served = 0;

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const reply = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify(body)}\n`);
  };
  if (url.pathname === '/health') return reply(200, { status: 'ok' });
  if (url.pathname === '/hello') {
    served += 1;
    const name = url.searchParams.get('name') ?? 'world';
    console.log(`greeted ${name}`);
    return reply(200, { message: `${greeting}, ${name}!`, served });
  }
  return reply(404, { error: `no route ${url.pathname}` });
});

server.listen(port, () => console.log(`hello-agent listening on :${port}`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
