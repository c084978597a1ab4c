"""Opens Stratus' noVNC page on a console session in headless Chromium, as a user's browser would.

    console_browser.py BASE_URL WSS_URL PASSWORD connect|refuse

`connect`: noVNC must report "Connected to QEMU (stratus-<id>)" and draw the guest's screen
(the small image's login prompt on tty1), so enough of the canvas must be lit.
`refuse`: with this password the VNC server must turn the browser away.
Prints what it saw; exits 0 when it matched the expectation.
"""

import sys
import time
from urllib.parse import quote, urlparse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

# Wall-clock limits for a page on a loaded 2-core CI machine; far above the usual 1-2 s.
CONNECT_WAIT_S = 45
SCREEN_WAIT_S = 30
# A 720x400 text screen with a login prompt lights a few hundred pixels; an empty one none.
MIN_LIT_PIXELS = 200

LIT_PIXELS = """
const canvas = document.querySelector('#screen canvas');
if (!canvas || canvas.width === 0) return -1;
const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
let lit = 0;
for (let i = 0; i < data.length; i += 4) {
  if (data[i] + data[i + 1] + data[i + 2] > 150) lit++;
}
return lit;
"""


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def status(driver):
    return driver.execute_script("const s = document.getElementById('status'); return s ? s.textContent : '';")


def main():
    base, wss, password, expect = sys.argv[1:5]
    path = urlparse(wss).path.lstrip("/")
    # vnc_lite.html reads `path` and `password` from the query (not the fragment).
    url = f"{base}/novnc/vnc_lite.html?path={quote(path)}&password={quote(password)}"
    driver = browser()
    try:
        driver.get(url)
        deadline = time.monotonic() + CONNECT_WAIT_S
        seen = status(driver)
        while time.monotonic() < deadline and not seen.startswith(("Connected", "Disconnected", "Something")):
            time.sleep(0.25)
            seen = status(driver)
        print(f"status: {seen!r}")
        if expect == "refuse":
            # Give a late success the chance to show itself before calling it refused.
            time.sleep(2)
            seen = status(driver)
            print(f"status after 2 s: {seen!r}")
            return 0 if not seen.startswith("Connected") else 1
        if not seen.startswith("Connected to QEMU (stratus-"):
            return 1
        deadline = time.monotonic() + SCREEN_WAIT_S
        lit = driver.execute_script(LIT_PIXELS)
        while time.monotonic() < deadline and lit < MIN_LIT_PIXELS:
            time.sleep(0.5)
            lit = driver.execute_script(LIT_PIXELS)
        print(f"lit pixels: {lit}")
        return 0 if lit >= MIN_LIT_PIXELS else 1
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
