// Container health check for images without a shell (deploy/docker/Dockerfile): exits 0 when the
// server's plain-HTTP /readyz answers 2xx, 1 otherwise.
const port = process.env.TLSECHO_HTTP_PORT ?? '8080';
fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2500) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
