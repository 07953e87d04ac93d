"""Checks every response the test suite receives: no secret data ever leaves the console, and
no page carries inline script or style the Content-Security-Policy would block."""

import base64
import re

# Every Secret the tests create holds this under the key `console-canary`; the private keys
# of the TLS secrets are registered here too as they are made.
CANARY = "kubeconsole-canary-0d9f3b2a7c"
SECRET_VALUES: set[str] = set()


def register_secret_value(value: str) -> None:
    SECRET_VALUES.update({value, base64.b64encode(value.encode()).decode()})


register_secret_value(CANARY)

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)
# Pages of other projects the console embeds as they are: Django's admin.
UNCHECKED_HTML = ("/admin/",)


def problems(path: str, response) -> list[str]:
    if getattr(response, "streaming", False):
        return []
    content = response.content
    found = [f"secret data ({value[:12]}...)" for value in SECRET_VALUES if value.encode() in content]
    if b"PRIVATE KEY" in content:
        found.append("a PEM private key")
    is_html = response.headers.get("Content-Type", "").startswith("text/html")
    if is_html and not path.startswith(UNCHECKED_HTML):
        text = content.decode(errors="replace")
        for name, pattern in (("inline script", INLINE_SCRIPT), ("inline event handler", INLINE_HANDLER)):
            if pattern.search(text):
                found.append(f"{name}: {pattern.search(text).group(0)[:80]}")
        if INLINE_STYLE.search(text):
            found.append(f"inline style: {INLINE_STYLE.search(text).group(0)[:80]}")
    return found


def check(path: str, response) -> None:
    found = problems(path, response)
    assert not found, f"{path} answered with {', '.join(found)}"
