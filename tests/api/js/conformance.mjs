// The official JavaScript client (npm `replicate`, unmodified) against DeerWeb's API.
// Run by tests/api/test_replicate_js_client.py with DEERWEB_URL, DEERWEB_TOKEN, MODEL and,
// optionally, WEBHOOK_URL; prints one JSON object of what it saw.
import Replicate from "replicate";

const replicate = new Replicate({ auth: process.env.DEERWEB_TOKEN, baseUrl: `${process.env.DEERWEB_URL}/replicate/v1` });
const model = process.env.MODEL;
const seen = {};

async function fetched(output) {
  const url = String(output); // a URL string over http; a FileOutput (whose toString is its URL) over https
  const response = await fetch(url);
  return { url, status: response.status, bytes: (await response.arrayBuffer()).byteLength };
}

const output = await replicate.run(model, { input: { prompt: "a red deer in the snow" } });
seen.run = await Promise.all([].concat(output).map(fetched));

const created = await replicate.predictions.create({
  model,
  input: { prompt: "a red deer at dusk" },
  ...(process.env.WEBHOOK_URL ? { webhook: process.env.WEBHOOK_URL, webhook_events_filter: ["start", "completed"] } : {}),
});
seen.created = { id: created.id, status: created.status };
const done = await replicate.wait(created, { interval: 250 });
seen.waited = { id: done.id, status: done.status, outputs: [].concat(done.output ?? []).length };

const page = await replicate.predictions.list();
seen.listed = page.results.map((p) => p.id);

try {
  await replicate.predictions.create({ model, input: { prompt: "x", num_outputs: 99 } });
  seen.invalid = "accepted";
} catch (error) {
  seen.invalid = { status: error.response?.status, message: String(error.message) };
}

console.log(JSON.stringify(seen));
