import { expect, type Page, type TestInfo } from "@playwright/test";

/** Screenshots kept as test artifacts (issue 19's acceptance). */
export async function shot(page: Page, info: TestInfo, name: string) {
  await info.attach(name, { body: await page.screenshot({ fullPage: true }), contentType: "image/png" });
}

/** The page at 1440×900 and 1024×768: no horizontal scroll of the document, with a screenshot of each. */
export async function checkNoHorizontalScroll(page: Page, info: TestInfo, name: string) {
  for (const size of [{ width: 1440, height: 900 }, { width: 1024, height: 768 }]) {
    await page.setViewportSize(size);
    await page.waitForFunction(() => document.readyState === "complete");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `${name} scrolls sideways at ${size.width}×${size.height}`).toBeLessThanOrEqual(0);
    await shot(page, info, `${name}-${size.width}x${size.height}`);
  }
  await page.setViewportSize({ width: 1440, height: 900 });
}
