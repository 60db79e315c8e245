import re

import pytest

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_describes_the_token_endpoint(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/auth/token/" in schema["paths"]


def test_the_interactive_docs_load_only_our_own_assets_and_no_inline_script(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn." not in html and "https://" not in html, "the docs must work offline and under our CSP"
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline scripts are refused by our CSP"
    assert "<style" not in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content
