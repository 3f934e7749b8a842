// Types of browser.mjs, for the TypeScript tests that launch Chromium through it.
import type { Browser } from 'playwright-core';

/** SIMD_LINEAR_CHROMIUM, else /usr/bin/chromium (as vitest.config.ts). */
export const CHROMIUM: string;

/** Headless Chromium from CHROMIUM; rejects with a clear message when it is missing. */
export function launchChromium(): Promise<Browser>;

/** SIMD_LINEAR_FIREFOX, else /usr/bin/firefox-esr. */
export const FIREFOX: string;

/** Headless Firefox ESR from FIREFOX (puppeteer-core, WebDriver BiDi); rejects with a clear message when it is missing. */
export function launchFirefox(): Promise<import('puppeteer-core').Browser>;

/** Opens `url` and waits for window.__result; the result (or FAIL: …) and what went wrong on the way. */
export function loadResult(browser: Browser | import('puppeteer-core').Browser, url: string, timeout?: number): Promise<{ result: string; problems: string[] }>;
