export const SITE = new Map([
    ['/', {
            type: 'text/html; charset=utf-8',
            body: `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>xenode www</title><link rel="stylesheet" href="/style.css"></head>
<body>
<h1>Hello from a xenode unikernel</h1>
<p>This page was served by a guest domain running its own TCP/IP stack, through dom0's gateway
and a host port forward. <a href="/api/status">/api/status</a> says how it is doing.</p>
</body>
</html>
`,
        }],
    ['/style.css', { type: 'text/css; charset=utf-8', body: 'body { font-family: sans-serif; max-width: 40em; margin: 2em auto; }\n' }],
    // What the benchmark asks for: small and fixed, so a peer on the host can serve the same bytes.
    ['/hello', { type: 'text/plain; charset=utf-8', body: 'Hello from a xenode unikernel\n' }],
]);
//# sourceMappingURL=site.js.map