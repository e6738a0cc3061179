// End to end against a served platform (tests/apps/test_remote_node.py serves one and sets the
// environment): a cadre signs in through the platform, the app lists their committee's
// residents with its own token, and a webhook from the platform is verified.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { createApp, configFromEnv } = require("../app");

const env = process.env;
const skip = env.PLATFORM_URL ? false : "PLATFORM_URL is not set: run it through pytest";

// A browser: one cookie jar per origin, redirects followed by hand.
function browser() {
  const jars = new Map();
  async function go(url, options = {}) {
    for (let hops = 0; hops < 20; hops += 1) {
      const origin = new URL(url).origin;
      const jar = jars.get(origin) || new Map();
      jars.set(origin, jar);
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
      const response = await fetch(url, {
        ...options,
        redirect: "manual",
        headers: { ...(options.headers || {}), ...(cookie ? { cookie } : {}) },
      });
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(";");
        const [name, value] = pair.split("=");
        if (/Max-Age=0/i.test(line)) jar.delete(name);
        else jar.set(name, value);
      }
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location) {
        url = new URL(location, url).toString();
        options = {};
        continue;
      }
      return { url, response, text: await response.text() };
    }
    throw new Error("too many redirects");
  }
  return { go };
}

test("a cadre signs in through the platform and sees only their committee", { skip }, async (t) => {
  const app = await createApp(configFromEnv({ ...env, APP_URL: `http://127.0.0.1:${env.APP_PORT}` }));
  const server = app.listen(Number(env.APP_PORT), "127.0.0.1");
  t.after(() => server.close());
  const b = browser();

  // The app sends the browser to the platform, which asks for the portal login.
  const login = await b.go(`http://127.0.0.1:${env.APP_PORT}/`);
  assert.match(login.url, /\/login\?next=/);
  // The login form's own fields (the page header holds other forms, such as 大字模式's).
  const form = login.text.match(/<form method="post" action="\/login">[\s\S]*?<\/form>/)[0];
  const csrf = form.match(/name="csrf_token" value="([^"]*)"/)[1];
  const next = form.match(/name="next" value="([^"]*)"/)[1].replace(/&amp;/g, "&");
  const home = await b.go(new URL("/login", env.PLATFORM_URL).toString(), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      username: env.CADRE_USERNAME,
      password: env.CADRE_PASSWORD,
      csrf_token: csrf,
      next,
    }).toString(),
  });
  // Back in the app, signed in, with the residents its own token may read.
  assert.equal(home.response.status, 200, home.text);
  assert.match(home.text, new RegExp(`你好，${env.CADRE_NAME}`));
  assert.match(home.text, new RegExp(env.EXPECT_RESIDENT));
  assert.doesNotMatch(home.text, new RegExp(env.UNEXPECTED_RESIDENT));

  // Signing out of the app ends the platform session too (RP-initiated logout): back at the
  // app, which sends the browser to the platform, which asks for the password again.
  const out = await b.go(`http://127.0.0.1:${env.APP_PORT}/logout`);
  assert.ok(out.url.startsWith(`${env.PLATFORM_URL}/login?next=`), out.url);
});

test("the app verifies the platform's signed webhook", { skip }, async (t) => {
  const app = await createApp(configFromEnv({ ...env, APP_URL: `http://127.0.0.1:${env.APP_PORT}` }));
  const server = app.listen(Number(env.APP_PORT), "127.0.0.1");
  t.after(() => server.close());

  // A cadre registers a resident in the app's district; the platform's worker sends the event.
  const created = await fetch(new URL("/api/v1/residents", env.PLATFORM_URL), {
    method: "POST",
    headers: { Authorization: `Bearer ${env.CADRE_TOKEN}`, "content-type": "application/json" },
    body: env.NEW_RESIDENT,
  });
  assert.equal(created.status, 201, await created.clone().text());
  const resident = await created.json();

  let events = [];
  for (let i = 0; i < 120 && !events.some((e) => e.data.resident_id === resident.id); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    events = await (await fetch(`http://127.0.0.1:${env.APP_PORT}/webhooks/received`)).json();
  }
  const event = events.find((e) => e.data.resident_id === resident.id);
  assert.ok(event, "the webhook did not arrive");
  assert.equal(event.type, "resident.created");

  // A forged one is refused.
  const forged = await fetch(`http://127.0.0.1:${env.APP_PORT}/webhooks`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": "evt_forged",
      "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
      "webhook-signature": "v1,AAAA",
    },
    body: JSON.stringify({ type: "resident.created", data: {} }),
  });
  assert.equal(forged.status, 400);
});
