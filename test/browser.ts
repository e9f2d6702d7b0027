// Debian's Chromium, headless, driven by playwright-core: the browser the web view is tested in.
// test/setup/install-test-tools.sh puts it there; nothing is downloaded. Playwright gives each
// launch a new empty profile.

import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.ORRERY_CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // No background traffic: the machine may have no network beyond loopback.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return { browser, close: () => browser.close() };
}
