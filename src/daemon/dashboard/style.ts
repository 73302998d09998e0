/** The dashboard's stylesheet (served as /dashboard/app.css). Colours meet WCAG AA contrast. */
export const DASHBOARD_CSS = String.raw`
:root { color-scheme: light; --fg: #1b1f24; --muted: #545d68; --bg: #f6f7f9; --card: #fff; --line: #d0d7de;
  --accent: #0a58ca; --accent-fg: #fff; --danger: #b42318; --warn-bg: #fff4e5; --warn-fg: #7a2e0e; --ok: #1a7f37; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
header { background: #1f2a37; color: #fff; padding: 0.75rem 1rem; }
header h1 { margin: 0; font-size: 1.25rem; }
.status { margin: 0.25rem 0 0; }
main { max-width: 960px; margin: 0 auto; padding: 0.75rem; }
section { margin-bottom: 1.25rem; }
h2 { font-size: 1.1rem; margin: 0.5rem 0; }
h3 { font-size: 1.05rem; margin: 0 0 0.25rem; }
h4 { font-size: 0.95rem; margin: 0 0 0.25rem; }
.muted { color: var(--muted); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 0.75rem; margin-bottom: 0.75rem; }
.card.focused { outline: 3px solid var(--accent); outline-offset: 2px; }
.headline { font-weight: 600; margin: 0.25rem 0 0.5rem; }
.sides { display: grid; grid-template-columns: 1fr 1fr; gap: 0.75rem; }
.side { border: 1px solid var(--line); border-radius: 6px; padding: 0.5rem; min-width: 0; }
dl { display: grid; grid-template-columns: auto 1fr; gap: 0.1rem 0.5rem; margin: 0 0 0.5rem; }
dt { color: var(--muted); }
dd { margin: 0; font-variant-numeric: tabular-nums; }
svg.chart { width: 100%; height: 48px; display: block; }
svg.chart .bar { fill: #3b6fb6; }
svg.chart .bar.today { fill: #0a3d8f; }
svg.chart .axis { stroke: var(--line); stroke-width: 0.5; }
.actions { display: flex; flex-wrap: wrap; gap: 0.5rem; margin-top: 0.75rem; }
.action { display: flex; flex-direction: column; gap: 0.25rem; flex: 1 1 12rem; }
button { font: inherit; padding: 0.45rem 0.8rem; border-radius: 6px; border: 1px solid #8c959f; background: #fff; color: var(--fg); cursor: pointer; min-height: 2.5rem; }
button:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-fg); }
button.danger { background: var(--danger); border-color: var(--danger); color: #fff; }
button[disabled] { opacity: 0.6; cursor: not-allowed; }
.guard { background: var(--warn-bg); color: var(--warn-fg); border-radius: 4px; padding: 0.25rem 0.4rem; margin: 0; font-size: 0.9rem; }
.list { list-style: none; padding: 0; margin: 0; }
.list li { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 0.4rem 0.6rem; margin-bottom: 0.35rem;
  display: flex; flex-wrap: wrap; gap: 0.25rem 0.75rem; align-items: center; justify-content: space-between; }
.state-succeeded { color: var(--ok); font-weight: 600; }
.state-failed, .state-cancelled { color: var(--danger); font-weight: 600; }
progress { width: 100%; height: 1rem; }
dialog { border: 1px solid var(--line); border-radius: 8px; max-width: min(28rem, 92vw); }
dialog .buttons { display: flex; gap: 0.5rem; flex-wrap: wrap; }
@media (max-width: 560px) { .sides { grid-template-columns: 1fr; } main { padding: 0.5rem; } }
`;
