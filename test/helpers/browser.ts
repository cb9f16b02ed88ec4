/**
 * Headless Chromium for the dashboard's browser tests and its screenshot script: Debian's `chromium`
 * driven by playwright-core (no browser download), WebGL through SwiftShader so the 3D view renders
 * without a GPU. The caller closes what it launches.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** The Chromium binary: $CHROMIUM, else Debian's. */
export const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null. Outside CI a missing Chromium skips them; in CI it fails them. */
export function browserUnavailable(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const why = `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`;
  if (process.env['CI']) throw new Error(`browser tests: ${why}; CI installs it through APT_PACKAGES in .ci/run`);
  return why;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'],
  });
}
