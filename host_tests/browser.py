# Headless Chromium driven over the DevTools protocol on a pipe
# (--remote-debugging-pipe: JSON messages ending in NUL on fds 3 and 4),
# with the standard library only: open a page, click an element with real
# mouse events, read the DOM, take a screenshot.
#
#   with Browser() as b:
#       page = b.open("file:///path/to/page.html")
#       page.click("#diagram .msg[data-idx='2']")
#       text = page.eval("document.getElementById('details').textContent")
#       page.screenshot("shot.png")
#
# Chromium runs under a reaper (REAPER, below) in a session of its own, so
# that close() ends it and every process it started, even when it hangs.
import base64
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

EXE = shutil.which("chromium") or "/usr/bin/chromium"
# as root, without a sandbox; nothing that reaches for the network
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions",
         "--hide-scrollbars", "--mute-audio", "--disable-breakpad", "--disable-crash-reporter", "--no-zygote"]

# Chromium's crash handler detaches itself (a double fork): it would end as
# a zombie of init, which reaps nothing here.  So Chromium runs under this
# small reaper, a child subreaper (prctl PR_SET_CHILD_SUBREAPER) that
# collects every process Chromium leaves, then exits; SIGTERM ends them.
REAPER = r"""
import ctypes, os, signal, subprocess, sys, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)
p = subprocess.Popen(sys.argv[1:], pass_fds=(3, 4))
def kids():
    me, out = str(os.getpid()), []
    for d in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % d) as f:
                if f.read().rsplit(")", 1)[1].split()[1] == me:
                    out.append(int(d))
        except (OSError, IndexError, ValueError):
            pass
    return out
def end(*_):
    for k in kids():
        try:
            os.kill(k, signal.SIGKILL)
        except OSError:
            pass
signal.signal(signal.SIGTERM, end)
p.wait()
end_at = time.monotonic() + 3
while True:
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break
    if pid == 0:
        if time.monotonic() > end_at:
            end()
        time.sleep(0.05)
sys.exit(p.returncode)
"""


class BrowserError(RuntimeError):
    pass


def missing():
    # why Chromium cannot run here, or None
    if not os.path.exists(EXE):
        return "Chromium is missing: apt-get install chromium"
    return None


class Browser:
    def __init__(self, width=1400, height=1000, timeout=20.0):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="ikev2-chromium-")
        self.log = open(os.path.join(self.profile, "chromium.log"), "w")
        to_chrome, self._w = os.pipe()
        self._r, from_chrome = os.pipe()
        # fds 3 and 4 in the child: ours move above them first, so that
        # dup2 in the child neither clobbers one nor is a no-op
        r3 = fcntl.fcntl(to_chrome, fcntl.F_DUPFD_CLOEXEC, 10)
        w4 = fcntl.fcntl(from_chrome, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_chrome)
        os.close(from_chrome)

        def fds():
            os.dup2(r3, 3)
            os.dup2(w4, 4)

        argv = [sys.executable, "-c", REAPER, EXE] + FLAGS + [
                "--user-data-dir=" + self.profile,
                                "--window-size=%d,%d" % (width, height),
                                "--remote-debugging-pipe", "about:blank"]
        try:
            self.proc = subprocess.Popen(argv, preexec_fn=fds, close_fds=False,
                                         stdin=subprocess.DEVNULL,
                                         stdout=self.log, stderr=self.log,
                                         start_new_session=True)
        finally:
            os.close(r3)
            os.close(w4)
        self._buf = b""
        self._id = 0

    # ------------------------------------------------------------ protocol
    def call(self, method, params=None, session=None):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self._w, data):]
        except OSError as e:
            raise BrowserError("Chromium is gone (%s): %s" % (e, self._tail()))
        return self._reply(self._id, method)

    def _reply(self, want, method):
        end = time.monotonic() + self.timeout
        while True:
            while b"\0" not in self._buf:
                left = end - time.monotonic()
                if left <= 0:
                    raise BrowserError("no answer to %s within %.0f s"
                                       % (method, self.timeout))
                if not select.select([self._r], [], [], left)[0]:
                    continue
                chunk = os.read(self._r, 1 << 16)
                if not chunk:
                    raise BrowserError("Chromium closed the pipe: %s"
                                       % self._tail())
                self._buf += chunk
            raw, _, self._buf = self._buf.partition(b"\0")
            msg = json.loads(raw)
            if msg.get("id") == want:
                if "error" in msg:
                    raise BrowserError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})

    def _tail(self):
        try:
            with open(self.log.name) as f:
                return f.read()[-800:]
        except OSError:
            return ""

    # ------------------------------------------------------------ pages
    def open(self, url):
        tid = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = self.call("Target.attachToTarget",
                        {"targetId": tid, "flatten": True})["sessionId"]
        page = Page(self, sid)
        page.call("Page.enable")
        page.call("Runtime.enable")
        page.call("Page.navigate", {"url": url})
        page.wait("document.readyState === 'complete'")
        return page

    def close(self):
        if self.proc.poll() is None:
            try:
                self.call("Browser.close")
                self.proc.wait(5)
            except (BrowserError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            self.proc.terminate()  # the reaper ends what Chromium started
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                try:  # the session of its own: every process left in it
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(5)
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Page:
    def __init__(self, browser, session):
        self.b = browser
        self.session = session

    def call(self, method, params=None):
        return self.b.call(method, params, self.session)

    def eval(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr,
                                           "returnByValue": True})
        if "exceptionDetails" in r:
            raise BrowserError("%s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def wait(self, expr, timeout=10.0):
        end = time.monotonic() + timeout
        while not self.eval(expr):
            if time.monotonic() > end:
                raise BrowserError("timed out waiting for %s" % expr)
            time.sleep(0.05)

    def click(self, selector):
        # a real click: mouse pressed and released at the element's centre
        box = self.eval(
            "(function(){var e=document.querySelector(%s); if(!e) return null;"
            "e.scrollIntoView({block:'center'});"
            "var r=e.getBoundingClientRect();"
            "return [r.left+r.width/2, r.top+r.height/2];})()"
            % json.dumps(selector))
        if not box:
            raise BrowserError("nothing matches %s" % selector)
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent",
                      {"type": kind, "x": box[0], "y": box[1],
                       "button": "left", "clickCount": 1})

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path
