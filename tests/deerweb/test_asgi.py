"""deerweb/asgi.py, the application uvicorn runs: a page, a static file and a stored image answer as
they do under WSGI, files go out block by block from disk or an S3 bucket (without Django's warning about reading a
synchronous iterator whole), and the API answers through its own short chain."""

from __future__ import annotations

import io
import warnings
import zipfile

import pytest

from tests.world import asgi_request, finished_prediction, png


def _get(web_loop, path: str, *, cookie: str = "") -> tuple[int, dict[bytes, bytes], list[bytes], list[str]]:
    """GET `path` through a new ASGI handler, on `web_loop`: status, headers, body messages and Django's warnings
    about streaming responses."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        answer = web_loop.run(asgi_request(path, headers={"cookie": cookie}))
    return (
        answer.status,
        answer.headers,
        answer.bodies,
        [str(w.message) for w in caught if "StreamingHttpResponse" in str(w.message)],
    )


def test_the_api_answers_through_its_own_chain_and_the_pages_through_every_middleware(
    member_token, transactional_db, web_loop
):
    api = web_loop.run(asgi_request("/replicate/v1/account", headers={"authorization": f"Bearer {member_token}"}))
    page = web_loop.run(asgi_request("/accounts/login/"))

    assert api.status == 200 and page.status == 200
    assert api.headers[b"x-content-type-options"] == page.headers[b"x-content-type-options"] == b"nosniff"
    assert b"Accept-Language" in page.headers[b"vary"], "LocaleMiddleware"
    assert b"vary" not in api.headers and b"set-cookie" not in api.headers, "no locale, session or CSRF"


def test_a_page_answers_with_its_security_headers(transactional_db, web_loop):
    status, headers, bodies, caught = _get(web_loop, "/accounts/login/")

    assert status == 200
    assert b"default-src 'self'" in headers[b"content-security-policy"]
    assert headers[b"x-frame-options"] == b"DENY"
    assert b"<form" in b"".join(bodies)
    assert caught == []


def test_a_static_file_is_sent_by_whitenoise_without_reading_it_whole(settings, web_loop):
    settings.WHITENOISE_USE_FINDERS = True  # read when the handler loads its middleware

    status, headers, bodies, caught = _get(web_loop, "/static/deerweb/favicon.svg")

    assert status == 200
    assert headers[b"content-type"].startswith(b"image/svg+xml")
    assert b"<svg" in b"".join(bodies)
    assert caught == []


@pytest.mark.parametrize("size", [(8, 8), (600, 600)], ids=["small", "over-a-megabyte"])
def test_a_stored_image_is_streamed_block_by_block(member_client, member, transactional_db, web_loop, size):
    prediction = finished_prediction(member, outputs=1)
    output = prediction.outputs.get()
    data = png(size, noise=True)
    with open(output.file.path, "wb") as file:
        file.write(data)
    member_client.force_login(member)
    cookie = f"sessionid={member_client.cookies['sessionid'].value}"

    status, headers, bodies, caught = _get(web_loop, f"/predictions/{prediction.pk}/outputs/0/", cookie=cookie)

    assert status == 200
    assert headers[b"content-type"] == b"image/png"
    assert b"".join(bodies) == data
    assert caught == []  # common.responses.FileResponse's async iterator, not Django's whole-file fallback


def test_a_stored_image_in_an_s3_bucket_is_streamed_block_by_block_as_it_arrives(
    s3, member_client, member, transactional_db, web_loop
):
    prediction = finished_prediction(member, outputs=1)
    data = png((600, 600), noise=True)  # over a megabyte: several blocks
    s3.put(prediction.outputs.get().file.name, data)
    member_client.force_login(member)
    cookie = f"sessionid={member_client.cookies['sessionid'].value}"

    status, headers, bodies, caught = _get(web_loop, f"/predictions/{prediction.pk}/outputs/0/", cookie=cookie)

    assert status == 200
    assert headers[b"content-length"] == str(len(data)).encode()
    assert b"".join(bodies) == data
    assert len([body for body in bodies if body]) > 1
    assert caught == []


def test_a_zip_of_predictions_is_sent_part_by_part(member_client, member, transactional_db, web_loop):
    prediction = finished_prediction(member, outputs=3)
    member_client.force_login(member)
    cookie = f"sessionid={member_client.cookies['sessionid'].value}"

    status, headers, bodies, caught = _get(web_loop, f"/predictions/download/?id={prediction.pk}", cookie=cookie)

    assert status == 200 and headers[b"content-type"] == b"application/zip"
    assert len([body for body in bodies if body]) > 3  # an output per part, then the records
    assert caught == []  # common.responses.IteratorResponse, not Django's read-it-whole fallback
    names = zipfile.ZipFile(io.BytesIO(b"".join(bodies))).namelist()
    assert names == [*(f"deerweb-{prediction.pk}-{n}.png" for n in (1, 2, 3)), "metadata.json", "metadata.csv"]
