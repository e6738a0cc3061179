// An existing district system, in Node.js, joined to shequyun by configuration and standards:
//
//   - a cadre signs in through the platform (OpenID Connect, authorization code + PKCE);
//   - the app lists the residents of the cadre's committee with its own client-credentials
//     token, which the platform limits to the app's scopes and the units where it is enabled;
//   - the platform's webhooks are verified with the official Standard Webhooks library.
//
// Configuration (environment): PLATFORM_URL, CLIENT_ID, CLIENT_SECRET, WEBHOOK_SECRET, APP_URL.
"use strict";

const crypto = require("node:crypto");
const express = require("express");
const { Issuer, generators } = require("openid-client");
const { Webhook } = require("standardwebhooks");

async function createApp(config) {
  const issuer = await Issuer.discover(config.platformUrl);
  const client = new issuer.Client({
    client_id: config.clientId,
    client_secret: config.clientSecret,
    redirect_uris: [`${config.appUrl}/callback`],
    post_logout_redirect_uris: [`${config.appUrl}/`],
    response_types: ["code"],
  });
  const webhook = new Webhook(config.webhookSecret);

  // In memory for the example; a real app keeps sessions in its own store.
  const sessions = new Map();
  const received = [];
  let appToken = null;

  function session(req, res) {
    const cookie = (req.headers.cookie || "").match(/(?:^|; )sid=([^;]+)/);
    let sid = cookie && sessions.has(cookie[1]) ? cookie[1] : null;
    if (!sid) {
      sid = crypto.randomBytes(18).toString("base64url");
      sessions.set(sid, {});
      res.setHeader("Set-Cookie", `sid=${sid}; Path=/; HttpOnly; SameSite=Lax`);
    }
    return sessions.get(sid);
  }

  // The app's own token (client credentials), renewed a minute before it expires.
  async function platformToken() {
    if (!appToken || appToken.expires_at * 1000 < Date.now() + 60_000) {
      appToken = await client.grant({ grant_type: "client_credentials" });
    }
    return appToken.access_token;
  }

  async function residentsOf(unitCode) {
    const url = new URL("/api/v1/residents", config.platformUrl);
    url.searchParams.set("unit", unitCode);
    const response = await fetch(url, {
      headers: { Authorization: `Bearer ${await platformToken()}` },
    });
    if (!response.ok) throw new Error(`residents: HTTP ${response.status}`);
    return (await response.json()).items;
  }

  const app = express();

  app.get("/", async (req, res, next) => {
    try {
      const s = session(req, res);
      if (!s.claims) return res.redirect("/login");
      const committee = (s.claims.grants || []).find((g) => g.level === "committee");
      const residents = committee ? await residentsOf(committee.unit_code) : [];
      const rows = residents.map((r) => `<li>${escape(r.name)}（${escape(r.unit.name)}）</li>`);
      res.type("html").send(
        `<!doctype html><meta charset="utf-8"><title>垃圾分类督导</title>` +
          `<h1>你好，${escape(s.claims.name)}</h1>` +
          `<p>${committee ? escape(committee.unit_name) : "未在居委任职"}的居民：</p>` +
          `<ul id="residents">${rows.join("")}</ul>` +
          `<p><a href="/logout">退出</a></p>`,
      );
    } catch (error) {
      next(error);
    }
  });

  app.get("/login", (req, res) => {
    const s = session(req, res);
    s.verifier = generators.codeVerifier();
    s.state = generators.state();
    s.nonce = generators.nonce();
    res.redirect(
      client.authorizationUrl({
        scope: "openid profile grants",
        code_challenge: generators.codeChallenge(s.verifier),
        code_challenge_method: "S256",
        state: s.state,
        nonce: s.nonce,
      }),
    );
  });

  app.get("/callback", async (req, res, next) => {
    try {
      const s = session(req, res);
      const params = client.callbackParams(req);
      // openid-client checks the state, the nonce, the ID token's signature (JWKS), iss,
      // aud and expiry, and sends the PKCE verifier.
      const tokens = await client.callback(`${config.appUrl}/callback`, params, {
        code_verifier: s.verifier,
        state: s.state,
        nonce: s.nonce,
      });
      s.claims = tokens.claims();
      s.idToken = tokens.id_token;
      res.redirect("/");
    } catch (error) {
      next(error);
    }
  });

  app.get("/logout", (req, res) => {
    const s = session(req, res);
    const idToken = s.idToken;
    delete s.claims;
    res.redirect(client.endSessionUrl({ id_token_hint: idToken }));
  });

  // Standard Webhooks: the raw body is what was signed.
  app.post("/webhooks", express.raw({ type: "application/json" }), (req, res) => {
    try {
      const event = webhook.verify(req.body, req.headers);
      if (!received.some((e) => e.id === req.headers["webhook-id"])) {
        received.push({ id: req.headers["webhook-id"], ...event });
      }
      res.status(204).end();
    } catch (error) {
      res.status(400).json({ error: "invalid signature" });
    }
  });

  app.get("/webhooks/received", (req, res) => res.json(received));

  app.use((error, req, res, next) => {
    res.status(500).type("text").send(String(error && error.message));
  });

  return app;
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function configFromEnv(env = process.env) {
  const missing = ["PLATFORM_URL", "CLIENT_ID", "CLIENT_SECRET", "WEBHOOK_SECRET", "APP_URL"]
    .filter((name) => !env[name]);
  if (missing.length) throw new Error(`missing settings: ${missing.join(", ")}`);
  return {
    platformUrl: env.PLATFORM_URL,
    clientId: env.CLIENT_ID,
    clientSecret: env.CLIENT_SECRET,
    webhookSecret: env.WEBHOOK_SECRET,
    appUrl: env.APP_URL,
  };
}

module.exports = { createApp, configFromEnv };
