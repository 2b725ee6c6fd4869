// What the player is doing, in words: loaded from this origin because the page's
// Content-Security-Policy runs no inline script.
const watch = document.querySelector("moq-watch");
const show = (id, text) => { document.getElementById(id).textContent = text; };

// The player decodes with SharedArrayBuffer, which browsers grant only to cross-origin isolated pages.
show("isolated", self.crossOriginIsolated ? "yes" : "no: the server must send COOP and COEP");
show("transport", "WebTransport" in self ? "WebTransport supported" : "no WebTransport: WebSocket fallback (TCP 443)");

const MESSAGES = {
  connecting: "Connecting to the relay…",
  unreachable: "Cannot reach the relay; retrying. Check that it is up and that UDP or TCP 443 gets through.",
  offline: "No broadcast is live under this name yet. The player starts as soon as a publisher goes " +
    "live (for example `python -m tools.publish --stack <stack>`).",
  loading: "The broadcast is live; loading its tracks…",
  live: "Live.",
};

// The player retries quietly; after a few seconds without a session, say so.
const PATIENCE_MS = 5000;
let connectingSince = performance.now();

function state() {
  const connection = watch.connection.status.peek();
  if (connection === "connected") {
    connectingSince = undefined;
    return watch.broadcast.out.status.peek();
  }
  connectingSince ??= performance.now();
  return performance.now() - connectingSince < PATIENCE_MS ? "connecting" : "unreachable";
}

function render() {
  const now = state();
  const status = document.getElementById("status");
  status.dataset.state = now;
  status.textContent = MESSAGES[now] ?? now;
  const established = watch.connection.established.peek();
  if (established) show("transport", `${established.transport === "websocket" ? "WebSocket" : "WebTransport"} (connected)`);
}

await customElements.whenDefined("moq-watch");
watch.connection.status.subscribe(render);
watch.connection.established.subscribe(render);
watch.broadcast.out.status.subscribe(render);
render();
setInterval(render, 1000);
