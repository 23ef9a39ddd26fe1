#!/usr/bin/env python3
"""Opens pages in a real headless Chromium and reports what a person would meet there.

Usage: browser.py CHROMIUM SCREENSHOT_DIR URL...

Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe: file
descriptors 3 and 4, JSON messages ended by a NUL byte), so nothing listens on a port and
nothing is fetched. For each URL, at a desktop width and then at a phone's, it collects the
console's errors and warnings, uncaught exceptions, the log's errors (a file that does not
load is one), failed requests, and what the page's own DOM says: headings, links, images,
tables, text contrast (WCAG 2 ratio of each text's colour against its background), whether
the page scrolls sideways, and what the first Tab focuses. It keeps a PNG screenshot of
each page at each width in SCREENSHOT_DIR and prints one JSON object per URL, in order, as a
JSON list on stdout.
"""

import base64
import json
import os
import subprocess
import sys
import tempfile

PROBE = r"""
(() => {
  const parse = c => (c.match(/[\d.]+/g) || ['0', '0', '0', '0']).map(Number);
  const lum = c => {
    const [r, g, b] = parse(c).slice(0, 3).map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = el => {
    for (; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor;
      const p = parse(c);
      if (p.length < 4 || p[3] > 0) return c;
    }
    return 'rgb(255, 255, 255)';
  };
  const contrast = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const st = getComputedStyle(el);
    if (st.visibility === 'hidden' || st.display === 'none') continue;
    const r = el.getBoundingClientRect();
    if (r.right < 0 || r.bottom < 0) continue; // off screen until focused (the skip link)
    const a = lum(st.color), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) contrast.push({tag: el.tagName, text: el.textContent.trim().slice(0, 60), ratio: Math.round(ratio * 100) / 100});
  }
  const skips = [];
  let previous = 0;
  for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    const level = Number(h.tagName[1]);
    if (previous && level > previous + 1) skips.push(h.tagName + ' ' + h.textContent.trim());
    previous = level;
  }
  const table = t => [...t.rows].map(r => [...r.cells].map(c => c.innerText.trim()));
  const tables = {};
  for (const region of document.querySelectorAll('[role=region]')) {
    const t = region.querySelector('table');
    if (t) tables[region.getAttribute('aria-label')] = table(t);
  }
  return {
    title: document.title,
    lang: document.documentElement.lang,
    h1: [...document.querySelectorAll('h1')].map(h => h.textContent.trim()),
    heading_skips: skips,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    images: [...document.images].map(i => ({src: i.src, loaded: i.complete && i.naturalWidth > 0, alt: i.getAttribute('alt')})),
    th_without_scope: [...document.querySelectorAll('th')].filter(th => !th.hasAttribute('scope')).length,
    tables_without_headings: [...document.querySelectorAll('table')].filter(t => !t.querySelector('th')).length,
    svg_without_title: [...document.querySelectorAll('svg')].filter(s => !s.querySelector('title')).length,
    scripts: document.scripts.length,
    contrast_failures: contrast,
    scrolls_sideways: document.documentElement.scrollWidth > window.innerWidth + 1,
    width: window.innerWidth,
    tables,
  };
})()
"""


class Browser:
    def __init__(self, chromium):
        self.profile = tempfile.TemporaryDirectory()
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def fds():
            # Out of the way first, so that neither lands on the other's number.
            os.dup2(to_chrome_r, 100)
            os.dup2(from_chrome_w, 101)
            os.dup2(100, 3)
            os.dup2(101, 4)

        self.proc = subprocess.Popen(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-pipe",
                "--user-data-dir=" + self.profile.name,
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=fds,
            pass_fds=(3, 4),
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.next_id = 0
        self.buffer = b""
        self.events = []

    def _read(self):
        while b"\0" not in self.buffer:
            chunk = os.read(self.from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method, session):
        for i, e in enumerate(self.events):
            if e.get("method") == method and e.get("sessionId") == session:
                del self.events[i]
                return e
        while True:
            e = self._read()
            if e.get("method") == method and e.get("sessionId") == session:
                return e
            self.events.append(e)

    def close(self):
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.profile.cleanup()


def visit(browser, url, width, height, mobile, shot):
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Runtime", "Log", "Page", "Network"):
        browser.send(domain + ".enable", session=session)
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        session=session,
    )
    browser.events = [e for e in browser.events if e.get("sessionId") != session]
    browser.send("Page.navigate", {"url": url}, session=session)
    browser.wait_for("Page.loadEventFired", session)
    probe = browser.send(
        "Runtime.evaluate", {"expression": PROBE, "returnByValue": True}, session=session
    )
    if "exceptionDetails" in probe:
        raise RuntimeError(f"the probe failed on {url}: {probe['exceptionDetails']}")
    report = probe["result"]["value"]
    # The whole page as it first shows (at most 6,000 px of it), before any key is pressed.
    height = browser.send(
        "Runtime.evaluate",
        {"expression": "document.documentElement.scrollHeight", "returnByValue": True},
        session=session,
    )["result"]["value"]
    shot_data = browser.send(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": min(height, 6000), "scale": 1},
        },
        session=session,
    )["data"]
    with open(shot, "wb") as f:
        f.write(base64.b64decode(shot_data))
    # The keyboard: what the first Tab focuses.
    for kind in ("keyDown", "keyUp"):
        browser.send(
            "Input.dispatchKeyEvent",
            {"type": kind, "key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9},
            session=session,
        )
    focused = browser.send(
        "Runtime.evaluate",
        {
            "expression": "[document.activeElement.tagName, document.activeElement.className, document.activeElement.getAttribute('href')]",
            "returnByValue": True,
        },
        session=session,
    )
    report["first_tab"] = focused["result"]["value"]
    report["screenshot"] = shot
    console, exceptions, log, failed = [], [], [], []
    for e in browser.events:
        if e.get("sessionId") != session:
            continue
        p = e.get("params", {})
        m = e.get("method")
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
            console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
        elif m == "Runtime.exceptionThrown":
            exceptions.append(p.get("exceptionDetails", {}).get("text", ""))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
            log.append(p["entry"].get("text", "") + " " + p["entry"].get("url", ""))
        elif m == "Network.loadingFailed":
            failed.append(p.get("errorText", ""))
    report.update(url=url, console=console, exceptions=exceptions, log=log, failed_requests=failed)
    browser.events = [e for e in browser.events if e.get("sessionId") != session]
    browser.send("Target.closeTarget", {"targetId": target})
    return report


def main():
    chromium, shots, urls = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(shots, exist_ok=True)
    browser = Browser(chromium)
    reports = []
    try:
        for n, url in enumerate(urls):
            name = url.rstrip("/").rsplit("/", 2)
            stem = "-".join(p for p in name[-2:] if p).replace(".html", "")
            desktop = visit(browser, url, 1280, 900, False, os.path.join(shots, f"{n:02}-{stem}.png"))
            phone = visit(browser, url, 390, 844, True, os.path.join(shots, f"{n:02}-{stem}-phone.png"))
            desktop["phone"] = {
                k: phone[k]
                for k in ("scrolls_sideways", "width", "console", "exceptions", "log", "failed_requests", "contrast_failures", "screenshot")
            }
            reports.append(desktop)
    finally:
        browser.close()
    json.dump(reports, sys.stdout)


if __name__ == "__main__":
    main()
