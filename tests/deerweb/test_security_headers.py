"""Every page: a Content-Security-Policy with no inline script or style, nosniff, and no
framing. Stored files keep their own, stricter policy (a sandbox)."""

from __future__ import annotations

import re

import pytest

from tests.browser import log_in
from tests.world import FILE_POLICY, ROOT, finished_prediction, stored_image

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
}


def directives(header: str) -> dict[str, str]:
    parts = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def assert_page_headers(response) -> None:
    assert directives(response["Content-Security-Policy"]) == POLICY
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


# --- Headers ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_login_page_has_the_policy_nosniff_and_no_framing(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert_page_headers(response)


@pytest.mark.django_db
def test_a_members_pages_have_the_policy_nosniff_and_no_framing(member_client, member):
    prediction = finished_prediction(member)
    for url in (
        "/predictions/",
        "/predictions/new/",
        f"/predictions/{prediction.pk}/",
        f"/predictions/{prediction.pk}/live/",
        "/usage/",
        "/prompts/",
        "/accounts/password/",
    ):
        response = member_client.get(url)
        assert response.status_code == 200, url
        assert_page_headers(response)


@pytest.mark.django_db
def test_the_admin_has_the_policy_nosniff_and_no_framing(client, admin_user):
    client.force_login(admin_user)
    for url in ("/admin/", "/admin/predictions/prediction/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_page_headers(response)


@pytest.mark.django_db
def test_error_pages_have_the_policy_too(member_client):
    response = member_client.get("/predictions/999999/")
    assert response.status_code == 404
    assert_page_headers(response)


@pytest.mark.django_db
def test_a_stored_output_keeps_its_sandbox_policy(member_client, member):
    prediction = finished_prediction(member)
    for url in (f"/predictions/{prediction.pk}/outputs/0/", f"/predictions/{prediction.pk}/outputs/0/thumbnail/"):
        response = member_client.get(url)
        assert response.status_code == 200
        assert response["Content-Security-Policy"] == FILE_POLICY
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_an_input_image_keeps_its_sandbox_policy(client, member):
    image, _ = stored_image(member)
    response = client.get(f"/inputs/{image.token}/")
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


# --- Nothing inline to forbid -------------------------------------------------------

INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I), "an inline event handler"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


def test_no_template_or_python_made_html_has_inline_script_or_style():
    found = []
    sources = [*ROOT.joinpath("templates").rglob("*.html"), *ROOT.joinpath("predictions").rglob("*.py")]
    for path in sources:
        if "migrations" in path.parts or "simulator" in path.parts:
            continue
        text = path.read_text()
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not found, "\n".join(found)


# --- In a real browser --------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.services
def test_chromium_reports_no_policy_violation_on_the_pages_a_member_and_an_admin_use(page, admin_user):
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}") if "Content Security Policy" in message.text else None
        ),
    )
    prediction = finished_prediction(admin_user)
    log_in(page, admin_user)
    for url in (
        "/predictions/",
        "/predictions/new/",
        f"/predictions/{prediction.pk}/",
        "/predictions/compare/",
        "/prompts/",
        "/usage/",
        "/gallery/",
        "/review/",
        "/accounts/password/",
        "/admin/",
        "/admin/predictions/prediction/",
        f"/admin/predictions/prediction/{prediction.pk}/change/",
    ):
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        page.wait_for_load_state("load")
    page.goto("/predictions/new/")
    page.get_by_label("Model", exact=True).select_option(index=1)
    page.wait_for_load_state("networkidle")
    assert violations == []
