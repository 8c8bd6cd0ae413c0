import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const HOW_TO_GET = "Report tests render in Debian's Chromium: apt-get install chromium (or set CHROMIUM to a Chromium binary).";

/**
 * Debian's Chromium, headless, driven by playwright-core (no browser
 * download) with a fresh profile. The flags keep it off the network, which
 * this machine closes.
 */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`${executablePath} not found. ${HOW_TO_GET}`);
  return chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs],
  });
}
