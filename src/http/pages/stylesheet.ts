/**
 * The pages' one stylesheet, kept as a string so that `tsc` ships it with no build step. Operators
 * theme the pages by overriding the custom properties of `:root` in their own stylesheet
 * (`LATCHKEY_STYLESHEET`), which is linked after this one.
 */
export const STYLESHEET = `
:root {
  --lk-accent: #4f46e5;
  --lk-accent-ink: #ffffff;
  --lk-accent-hover: #4338ca;
  --lk-bg: #f4f5f9;
  --lk-surface: #ffffff;
  --lk-ink: #1c1d26;
  --lk-muted: #5c6070;
  --lk-line: #dfe1ea;
  --lk-danger: #b42318;
  --lk-danger-bg: #fef3f2;
  --lk-ok: #067647;
  --lk-ok-bg: #ecfdf3;
  --lk-radius: 10px;
  --lk-font: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color-scheme: light;
}
*, *::before, *::after { box-sizing: border-box; }
html { font-family: var(--lk-font); font-size: 16px; line-height: 1.5; color: var(--lk-ink); background: var(--lk-bg); }
body { margin: 0; min-height: 100vh; display: flex; flex-direction: column; }
a { color: var(--lk-accent); }
a:hover { color: var(--lk-accent-hover); }
:focus-visible { outline: 3px solid var(--lk-accent); outline-offset: 2px; }
.lk-skip { position: absolute; left: -9999px; }
.lk-skip:focus { left: 1rem; top: 1rem; background: var(--lk-surface); padding: .5rem 1rem; z-index: 1; }
.lk-header { background: var(--lk-surface); border-bottom: 1px solid var(--lk-line); }
.lk-header-inner { max-width: 1000px; margin: 0 auto; padding: .75rem 1.25rem; display: flex; align-items: center; gap: 1rem; }
.lk-brand { font-weight: 700; font-size: 1.15rem; color: var(--lk-ink); text-decoration: none; display: flex; align-items: center; gap: .5rem; }
.lk-brand::before { content: ""; width: 1.4rem; height: 1.4rem; border-radius: 6px; background: linear-gradient(135deg, var(--lk-accent), #8b5cf6); }
.lk-nav { margin-left: auto; display: flex; align-items: center; gap: 1rem; }
.lk-nav a { text-decoration: none; font-weight: 500; }
.lk-nav form { margin: 0; }
.lk-main { flex: 1; width: 100%; max-width: 1000px; margin: 0 auto; padding: 2.5rem 1.25rem; }
.lk-card { background: var(--lk-surface); border: 1px solid var(--lk-line); border-radius: var(--lk-radius); padding: 1.75rem; box-shadow: 0 1px 2px rgba(16, 24, 40, .05); }
.lk-narrow { max-width: 26rem; margin: 0 auto; }
.lk-card + .lk-card { margin-top: 1.5rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 .35rem; }
h2 { font-size: 1.15rem; margin: 0 0 1rem; }
.lk-lead { color: var(--lk-muted); margin: 0 0 1.5rem; }
.lk-field { display: flex; flex-direction: column; gap: .35rem; margin-bottom: 1rem; }
.lk-field label { font-weight: 600; font-size: .95rem; }
.lk-hint { color: var(--lk-muted); font-size: .85rem; }
input[type="email"], input[type="password"], input[type="text"] {
  font: inherit; padding: .6rem .75rem; border: 1px solid var(--lk-line); border-radius: 8px; background: var(--lk-surface); color: var(--lk-ink); width: 100%;
}
input[aria-invalid="true"] { border-color: var(--lk-danger); }
.lk-check { display: flex; align-items: center; gap: .5rem; margin-bottom: 1.25rem; }
.lk-check input { width: 1.1rem; height: 1.1rem; accent-color: var(--lk-accent); }
button { font: inherit; font-weight: 600; white-space: nowrap; cursor: pointer; border-radius: 8px; padding: .6rem 1.1rem; border: 1px solid transparent; }
.lk-primary { background: var(--lk-accent); color: var(--lk-accent-ink); width: 100%; }
.lk-primary:hover { background: var(--lk-accent-hover); }
.lk-secondary { background: var(--lk-surface); color: var(--lk-ink); border-color: var(--lk-line); }
.lk-secondary:hover { background: var(--lk-bg); }
.lk-danger { background: var(--lk-surface); color: var(--lk-danger); border-color: #f3b8b2; }
.lk-danger:hover { background: var(--lk-danger-bg); }
.lk-link { background: none; border: 0; padding: 0; color: var(--lk-accent); font-weight: 500; }
.lk-alert { border-radius: 8px; padding: .75rem 1rem; margin-bottom: 1.25rem; border: 1px solid; }
.lk-error { color: var(--lk-danger); background: var(--lk-danger-bg); border-color: #f3b8b2; }
.lk-notice { color: var(--lk-ok); background: var(--lk-ok-bg); border-color: #a6e9c4; }
.lk-switch { margin: 1.25rem 0 0; text-align: center; color: var(--lk-muted); }
.lk-who { display: flex; flex-wrap: wrap; gap: .5rem 2rem; margin: 0; }
.lk-who dt { color: var(--lk-muted); font-size: .85rem; }
.lk-who dd { margin: 0; font-weight: 600; }
.lk-table-wrap { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-size: .95rem; }
th { text-align: left; color: var(--lk-muted); font-weight: 600; font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; }
th, td { padding: .7rem .6rem; border-bottom: 1px solid var(--lk-line); vertical-align: middle; }
tr:last-child td { border-bottom: 0; }
td form { margin: 0; }
td time { white-space: nowrap; }
.lk-device { white-space: nowrap; }
.lk-badge { display: inline-block; font-size: .75rem; font-weight: 700; padding: .1rem .5rem; border-radius: 999px; background: #eef2ff; color: var(--lk-accent); margin-left: .4rem; }
.lk-mode { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; }
.lk-actions { display: flex; flex-wrap: wrap; gap: .75rem; margin-top: 1.25rem; }
.lk-grid { display: grid; gap: 1.5rem; grid-template-columns: 1fr; }
.lk-footer { text-align: center; color: var(--lk-muted); font-size: .85rem; padding: 1.5rem; }
@media (min-width: 800px) { .lk-grid { grid-template-columns: 1fr 1fr; } }
.lk-lab-form fieldset { border: 0; padding: 0; margin: 0; display: grid; gap: 0 1rem; grid-template-columns: 1fr; align-items: end; }
.lk-lab-form .lk-primary { margin-bottom: 1rem; }
.lk-lab-panels { display: grid; gap: 1.25rem; grid-template-columns: 1fr; margin: 1.5rem 0; }
.lk-lab-panels > .lk-card { padding: 1.25rem; min-width: 0; margin-top: 0; }
.lk-lab-panel h3 { font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: var(--lk-muted); margin: 1rem 0 .4rem; }
.lk-lab-facts { display: grid; grid-template-columns: 1fr; gap: .1rem; margin: 0; font-size: .9rem; }
.lk-lab-facts dt { color: var(--lk-muted); font-size: .8rem; margin-top: .5rem; }
.lk-lab-facts dd { margin: 0; overflow-wrap: anywhere; white-space: pre-line; }
.lk-lab-code { background: var(--lk-bg); border: 1px solid var(--lk-line); border-radius: 8px; padding: .6rem; font-size: .78rem; white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; max-height: 18rem; overflow: auto; }
.lk-lab-log { margin: 0; padding-left: 1.8rem; font-size: .8rem; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; max-height: 14rem; overflow: auto; }
.lk-lab-log li { margin-bottom: .3rem; overflow-wrap: anywhere; }
.lk-lab-refused { color: var(--lk-danger); font-weight: 600; }
.lk-lab-live { color: var(--lk-ok); font-weight: 600; }
.lk-lab-panel .lk-actions { margin-top: 1rem; }
@media (min-width: 800px) { .lk-lab-form fieldset { grid-template-columns: 1fr 1fr auto; } }
@media (min-width: 1000px) { .lk-main:has(.lk-lab-panels) { max-width: 1280px; } .lk-lab-panels { grid-template-columns: repeat(3, minmax(0, 1fr)); } }
.lk-back { margin: 0 0 .75rem; font-size: .9rem; }
.lk-steps { padding-left: 1.25rem; }
.lk-steps li { margin-bottom: 1rem; }
.lk-qr { display: block; width: 12rem; height: 12rem; margin: .75rem 0 .5rem; }
.lk-secret, .lk-codes code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; letter-spacing: .05em; }
.lk-secret { display: block; margin-top: .5rem; padding: .5rem .75rem; background: var(--lk-bg); border-radius: 8px; word-break: break-all; }
.lk-code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 1.25rem; letter-spacing: .2em; }
.lk-codes { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: .5rem 1rem; }
.lk-codes code { white-space: nowrap; letter-spacing: 0; }
.lk-alt { margin-top: 1.25rem; }
.lk-alt summary { cursor: pointer; color: var(--lk-accent); font-weight: 500; margin-bottom: 1rem; }
.lk-subform h3 { font-size: 1rem; margin: 0 0 .75rem; }
.lk-button { display: block; text-align: center; font-weight: 600; text-decoration: none; border-radius: 8px; padding: .6rem 1.1rem; background: var(--lk-accent); color: var(--lk-accent-ink); }
.lk-button:hover { background: var(--lk-accent-hover); color: var(--lk-accent-ink); }
.lk-api h2 { margin: 2rem 0 .75rem; }
.lk-api h3 { font-size: 1rem; margin: 0 0 .35rem; overflow-wrap: anywhere; }
.lk-api h4 { font-size: .9rem; margin: 1rem 0 .35rem; color: var(--lk-muted); }
.lk-api pre { background: var(--lk-bg); border: 1px solid var(--lk-line); border-radius: 8px; padding: .6rem; font-size: .78rem; overflow: auto; max-height: 24rem; margin: .35rem 0 0; }
.lk-api code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em; }
.lk-api-op + .lk-api-op { margin-top: 1rem; }
.lk-api-summary { font-weight: 600; margin: 0 0 .35rem; }
.lk-api-prose { margin: 0 0 .35rem; }
.lk-api-method { display: inline-block; min-width: 4.2rem; text-align: center; font-size: .75rem; font-weight: 700; padding: .15rem .45rem; border-radius: 6px; background: #eef2ff; color: var(--lk-accent); }
.lk-api-post { background: var(--lk-ok-bg); color: var(--lk-ok); }
.lk-api-delete { background: var(--lk-danger-bg); color: var(--lk-danger); }
.lk-api-media { list-style: none; padding: 0; margin: 0; }
.lk-api-responses { margin: 0; }
.lk-api-responses > div { display: grid; grid-template-columns: 4rem 1fr; gap: .5rem; padding: .35rem 0; border-top: 1px solid var(--lk-line); }
.lk-api-responses dd { margin: 0; }
.lk-api-schema summary { cursor: pointer; color: var(--lk-accent); font-size: .85rem; }
`;
