// Calls the agent through its published host port, which the runner passes
// to steps that need the service as AGENT_SERVICE_API_URL.
const base = process.env.AGENT_SERVICE_API_URL;
if (!base) throw new Error('AGENT_SERVICE_API_URL is not set');
const res = await fetch(`${base}/hello?name=${process.env.CALLER}-from-host`);
const body = await res.json();
if (res.status !== 200 || !body.message?.startsWith('Hello, ')) {
  console.error(`unexpected answer ${res.status}: ${JSON.stringify(body)}`);
  process.exit(1);
}
console.log(body.message);
