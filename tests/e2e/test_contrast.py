"""A basic contrast check (WCAG 2 AA): every piece of text on the main pages stands out
from its background by 4.5:1, or 3:1 when large (24 px, or 18.66 px bold)."""

import io

import pytest
from django.core.management import call_command

from projects.models import Project
from spaces.models import Space
from tests.e2e.conftest import log_in

# For each element with its own text: its colour, the first opaque background behind it.
CONTRAST_JS = r"""
function rgb(text) {
  const m = text.match(/rgba?\(([^)]+)\)/);
  if (!m) return null;
  const p = m[1].split(',').map(parseFloat);
  return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
}
function lum(c) {
  const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
}
function background(el) {
  for (let node = el; node; node = node.parentElement) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c && c.a > 0.5) return c;
  }
  return {r: 255, g: 255, b: 255, a: 1};
}
const problems = [];
for (const el of document.querySelectorAll('body *')) {
  const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own) continue;
  const style = getComputedStyle(el);
  if (style.visibility === 'hidden' || style.display === 'none' || el.offsetParent === null
      && style.position !== 'fixed') continue;
  const rect = el.getBoundingClientRect();
  if (rect.width < 2 || rect.height < 2) continue;  // visually hidden helpers
  const fg = rgb(style.color), bg = background(el);
  const a = lum(fg), b = lum(bg);
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
  const large = size >= 24 || (bold && size >= 18.66);
  if (ratio < (large ? 3 : 4.5)) {
    problems.push(el.tagName + ' "' + el.textContent.trim().slice(0, 30) + '" ' +
                  ratio.toFixed(2) + ' ' + style.color + ' on ' + JSON.stringify(bg));
  }
}
return problems;
"""


@pytest.mark.django_db(transaction=True)
def test_main_pages_have_enough_contrast(browser, live_server):
    call_command("seed_demo", stdout=io.StringIO())
    space = Space.objects.filter(school__slug="ndc").first()
    project = Project.objects.filter(school__slug="ndc").first()
    browser.set_window_size(1280, 900)
    pages = {
        "teacher.ndc": ["/", f"/spaces/{space.pk}/", f"/spaces/{space.pk}/book/",
                        "/bookings/mine/", "/projects/", f"/projects/{project.pk}/",
                        "/sessions/", "/calendars/"],
        "manager.ndc": ["/manage/approvals/", "/manage/loans/", "/manage/equipment/",
                        "/dashboard/"],
    }
    problems = {}
    for username, paths in pages.items():
        log_in(browser, live_server.url, username, paths[0])
        for path in paths:
            browser.get(live_server.url + path)
            found = browser.execute_script(CONTRAST_JS)
            if found:
                problems[path] = found
    assert problems == {}
