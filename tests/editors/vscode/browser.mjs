// Drives code-server's workbench in Debian's chromium for tests/editors/test_vscode_real.py.
//
// One JSON request per stdin line, {"id", "op", "args"}; one JSON answer per stdout line,
// {"id", "ok", "value"} or {"id", "ok": false, "error"}. The ops are what a person does
// (keys, typing, clicks by visible text) and what a person sees (the editor's lines,
// notifications, ghost text); the Python test decides what to check.
//
// Usage: node browser.mjs <playwright-core folder> <chromium> <profile dir> <url>
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { join } from "node:path";

const [playwrightDir, executablePath, profileDir, url] = process.argv.slice(2);
const { chromium } = createRequire(join(playwrightDir, "noop.js"))("playwright-core");

const LONG = 60_000; // a loaded 2-core machine: wait on conditions, generously

const context = await chromium.launchPersistentContext(profileDir, {
  executablePath,
  headless: true,
  viewport: { width: 1400, height: 900 },
  args: [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--disable-quic",
  ],
});
const page = context.pages()[0] ?? (await context.newPage());
page.setDefaultTimeout(LONG);

const quickInput = () => page.locator(".quick-input-widget");
const quickInputBox = () => quickInput().locator("input.input");

/** The active editor's text: Monaco renders lines as absolutely placed divs, so sort by top. */
async function editorText() {
  return page.evaluate(() => {
    const editor = document.querySelector(".editor-group-container.active .monaco-editor .view-lines")
      ?? document.querySelector(".monaco-editor .view-lines");
    if (!editor) return null;
    const lines = [...editor.querySelectorAll(":scope > .view-line")].map((line) => ({
      top: parseFloat(line.style.top || "0"),
      text: line.textContent.replace(/\u00a0/g, " "),
    }));
    lines.sort((a, b) => a.top - b.top);
    return lines.map((line) => line.text).join("\n");
  });
}

const ops = {
  async open() {
    await page.goto(url, { waitUntil: "domcontentloaded", timeout: LONG * 2 });
    await page.locator(".monaco-workbench").waitFor({ timeout: LONG * 2 });
    await page.locator(".statusbar").waitFor({ timeout: LONG * 2 });
    return true;
  },
  async press({ keys }) {
    for (const key of keys) await page.keyboard.press(key);
    return true;
  },
  async type({ text }) {
    await page.keyboard.type(text, { delay: 40 });
    return true;
  },
  /** F1, the command's title, Enter: the command palette as a person uses it. */
  async command({ title }) {
    await page.keyboard.press("Escape");
    await page.keyboard.press("F1");
    await quickInputBox().waitFor({ state: "visible" });
    await quickInputBox().fill(`>${title}`);
    const row = quickInput().locator(".monaco-list-row", { hasText: title }).first();
    await row.waitFor({ state: "visible" });
    await row.click();
    return true;
  },
  /** Quick Open (Ctrl+P) a workspace file by name. */
  async openFile({ name }) {
    await page.keyboard.press("Escape");
    await page.keyboard.press("Control+P");
    await quickInputBox().waitFor({ state: "visible" });
    await quickInputBox().fill(name);
    // The row whose file name is exactly `name` (not test_<name>, not a stale first row).
    const exact = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
    const label = quickInput().locator(".monaco-list-row .label-name").filter({ hasText: exact });
    await label.first().click();
    await page.locator(`.tab.active[aria-label*="${name}"]`).first().waitFor();
    await page.locator(".editor-group-container.active .monaco-editor .view-lines").waitFor();
    // Focus the text as a person would: a click into the editor (the cursor goes there).
    await page.locator(".editor-group-container.active .monaco-editor .view-lines").first().click();
    return true;
  },
  /** Answer the open input box (an extension's showInputBox) and press Enter. */
  async answerInput({ text, placeholder }) {
    await quickInputBox().waitFor({ state: "visible" });
    if (placeholder) {
      await quickInput().getByText(placeholder).first().waitFor();
    }
    await quickInputBox().fill(text);
    await page.keyboard.press("Enter");
    await quickInput().waitFor({ state: "hidden" });
    return true;
  },
  /** Click the first visible element inside `within` whose text is `text`. */
  async click({ text, within, exact = true }) {
    const scope = within ? page.locator(within) : page;
    const target = scope.getByText(text, { exact }).first();
    await target.waitFor({ state: "visible" });
    await target.click();
    return true;
  },
  async clickSelector({ selector }) {
    const target = page.locator(selector).first();
    await target.waitFor({ state: "visible" });
    await target.click();
    return true;
  },
  /** Wait until an element matching `selector` (and holding `text`, if given) is visible. */
  async waitFor({ selector, text, timeout = LONG }) {
    const target = text ? page.locator(selector, { hasText: text }) : page.locator(selector);
    await target.first().waitFor({ state: "visible", timeout });
    return (await target.first().textContent()) ?? "";
  },
  /** Wait until the active editor shows `text` (whole content, exactly); returns what it shows. */
  async waitEditorText({ text, timeout = LONG }) {
    const deadline = Date.now() + timeout;
    let shown = await editorText();
    while (shown !== text && Date.now() < deadline) {
      await page.waitForTimeout(100);
      shown = await editorText();
    }
    return shown;
  },
  /** Wait until the editor's ghost text (inline suggestion) holds `text`; returns all of it. */
  async waitGhostText({ text, timeout = LONG }) {
    const ghost = () =>
      page.evaluate(() =>
        [...document.querySelectorAll(".ghost-text-decoration, .ghost-text")]
          .map((part) => part.textContent.replace(/\u00a0/g, " "))
          .join(""),
      );
    const deadline = Date.now() + timeout;
    let shown = await ghost();
    while (!shown.includes(text) && Date.now() < deadline) {
      await page.waitForTimeout(100);
      shown = await ghost();
    }
    return shown;
  },
  async editorText() {
    return editorText();
  },
  /** What decorations draw in the editor: `after` texts (CSS ::after content, not in the DOM
   * text) and the texts drawn struck through. */
  async decorationTexts() {
    return page.evaluate(() => {
      const spans = [...document.querySelectorAll(".monaco-editor .view-lines span")];
      const after = spans
        .map((span) => getComputedStyle(span, "::after").content)
        .filter((content) => content && content !== "none" && content !== "normal")
        .map((content) => JSON.parse(content));
      const struck = spans
        .filter((span) => !span.children.length)
        .filter((span) => getComputedStyle(span).textDecorationLine.includes("line-through"))
        .map((span) => span.textContent.replace(/\u00a0/g, " "));
      return { after, struck };
    });
  },
  /** The texts of the notification toasts on screen now. */
  async notifications() {
    return page.locator(".notification-toast .notification-list-item-message").allTextContents();
  },
  /** The HTML of the first element matching `selector` (and holding `text`): for diagnosis. */
  async html({ selector, text }) {
    const target = text ? page.locator(selector, { hasText: text }) : page.locator(selector);
    return target.first().evaluate((element) => element.outerHTML);
  },
  async count({ selector }) {
    return page.locator(selector).count();
  },
  async screenshot({ path }) {
    await page.screenshot({ path });
    return path;
  },
  async close() {
    await context.close();
    return true;
  },
};

const answer = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const { id, op, args } = JSON.parse(line);
  try {
    answer({ id, ok: true, value: await ops[op](args ?? {}) });
  } catch (error) {
    answer({ id, ok: false, error: String(error?.stack ?? error) });
  }
  if (op === "close") break;
}
process.exit(0);
