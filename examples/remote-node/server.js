// Serve the example app: PORT (default 3000) and the settings app.js reads.
"use strict";

const { createApp, configFromEnv } = require("./app");

createApp(configFromEnv()).then((app) => {
  const port = Number(process.env.PORT || 3000);
  app.listen(port, "127.0.0.1", () => console.log(`remote-node app on http://127.0.0.1:${port}/`));
});
