/**
 * The dashboard's HTML shell. Everything it shows is filled in by /dashboard/app.js from the API
 * (same-origin session cookie; writes carry the CSRF token from the meta tag). No inline script
 * or style, nothing from another origin: the page runs under DASHBOARD_CSP.
 */
function escapeAttr(s: string): string {
  return s.replace(/[&"<>]/g, (c) => ({ '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;' })[c] as string);
}

export function dashboardPage(session: { csrf: string } | undefined): string {
  const head =
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<title>ankibridge</title><link rel="icon" href="/dashboard/icon.svg" type="image/svg+xml"><link rel="stylesheet" href="/dashboard/app.css">';
  if (!session) {
    return (
      head +
      '</head><body><header><h1>ankibridge</h1></header><main><p>Not signed in. The dashboard opens signed in from the tray ' +
      '("Open dashboard") or with <code>ankibridge dashboard</code>; the link is for one use only.</p></main></body></html>'
    );
  }
  return (
    head +
    `<meta name="ankibridge-csrf" content="${escapeAttr(session.csrf)}"><script src="/dashboard/app.js" defer></script></head><body>` +
    '<header><h1>ankibridge</h1><p id="status-line" class="status" role="status" aria-live="polite">Connecting to the daemon…</p></header>' +
    '<main>' +
    '<section aria-labelledby="h-phones"><h2 id="h-phones">Phones</h2><div id="decisions"><p class="muted">No phone is connected.</p></div></section>' +
    '<section aria-labelledby="h-jobs"><h2 id="h-jobs">Running now</h2><div id="jobs"><p class="muted">Nothing is running.</p></div></section>' +
    '<section aria-labelledby="h-history"><h2 id="h-history">History</h2><ul id="history" class="list"></ul></section>' +
    '<section aria-labelledby="h-backups"><h2 id="h-backups">Backups</h2><ul id="backups" class="list"></ul></section>' +
    '</main>' +
    '<dialog id="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-guard">' +
    '<h2 id="confirm-title">Are you sure?</h2><p id="confirm-guard" class="guard"></p>' +
    '<p>A backup of what is overwritten is taken first, and can be restored from this page.</p>' +
    '<div class="buttons"><button type="button" id="confirm-yes" class="danger">Overwrite</button>' +
    '<button type="button" id="confirm-no">Cancel</button></div></dialog>' +
    '</body></html>'
  );
}

/** The page's icon (the tray's idle disc), so the browser does not ask for a missing /favicon.ico. */
export const DASHBOARD_ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="15" fill="#2e7d32"/>' +
  '<path d="M9 16.5l5 5 9-10.5" fill="none" stroke="#fff" stroke-width="4.4" stroke-linecap="round" stroke-linejoin="round"/></svg>';
