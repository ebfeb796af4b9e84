"""/predictions/new/: the picker, a form per schema family, uploads, validation, and starting
from a prompt or from another prediction ("Edit and run")."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from catalog.models import ModelConfig
from predictions.models import InputImage, Prediction, Prompt, Status
from tests.world import FLUX2, FLUX_DEV, IDEOGRAM, KONTEXT, RECRAFT_SVG, SCHNELL, SDXL, png, submit

pytestmark = pytest.mark.django_db
NEW = reverse("predictions:new")
FIELDS = reverse("predictions:new_fields")


def upload(data: bytes, name="deer.png", content_type="image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def field_block(html: str, name: str) -> str:
    """The markup of one field's box: from its <div class="field…"> to the next field or the end of the fieldset."""
    label = html.index(f'<label for="id_{name}">')
    start = html.rindex('<div class="field', 0, label)
    ends = [i for i in (html.find('<div class="field', label), html.find("</fieldset>", label)) if i != -1]
    return html[start : min(ends)] if ends else html[start:]


def page(client, **params) -> str:
    response = client.get(NEW, params)
    assert response.status_code == 200
    return response.content.decode()


# --- The picker and the widgets -----------------------------------------------------------------


def test_the_picker_groups_models_by_vendor_with_their_price(member_client):
    html = page(member_client)
    for vendor in ("Black Forest Labs", "Ideogram", "Recraft", "Stability AI", "DreamShaper"):
        assert f'<optgroup label="{vendor}">' in html
    assert "FLUX.1 [schnell] · $0.003 per image" in html
    assert "Stable Diffusion 3.5 Large · $0.065 per image" in html
    picker = html[html.index('<select name="model"') :]
    assert picker[: picker.index("</select>")].count("<option value=") == 28
    assert re.search(rf'<option value="{SCHNELL}"[^>]*selected', html)


def test_the_picker_shows_the_admins_price_and_hides_a_disabled_model(member_client):
    ModelConfig.objects.create(model_id=SCHNELL, price=Decimal("0.0050"))
    ModelConfig.objects.create(model_id=IDEOGRAM, enabled=False)
    html = page(member_client)
    assert "FLUX.1 [schnell] · $0.005 per image" in html
    assert f'value="{IDEOGRAM}"' not in html


def test_enums_are_selects_ranges_are_numbers_with_bounds_and_booleans_are_checkboxes(member_client):
    html = page(member_client, model=SCHNELL)
    assert re.search(r'<select name="aspect_ratio"[^>]*>', html)
    assert '<option value="16:9">16:9</option>' in html
    assert re.search(r'<input type="number" name="num_outputs" value="1"[^>]*min="1"[^>]*max="4"', html)
    assert re.search(r'<input type="checkbox" name="go_fast"[^>]*checked', html)
    assert re.search(r'<input type="number" name="seed"[^>]*min="0"', html)
    assert '<label for="id_seed">Seed</label>' in html


def test_a_number_input_allows_fractions(member_client):
    html = page(member_client, model=FLUX_DEV)
    assert re.search(r'<input type="number" name="guidance" value="3"[^>]*step="any"[^>]*min="0"[^>]*max="10"', html)


def test_an_added_models_whole_number_input_with_fractional_bounds_offers_the_whole_numbers_inside_them(
    member_client,
):
    ModelConfig.objects.create(
        model_id="someone/steps",
        price=Decimal("0.01"),
        input_schema={
            "required": ["prompt"],
            "properties": {
                "prompt": {"type": "string"},
                "steps": {"type": "integer", "minimum": 0.5, "maximum": 8.5},
            },
        },
    )
    html = page(member_client, model="someone/steps")
    assert re.search(r'<input type="number" name="steps"[^>]*min="1"[^>]*max="8"', html)


def test_kontext_offers_a_url_or_an_upload_for_its_input_image(member_client):
    html = page(member_client, model=KONTEXT)
    assert re.search(r'<input type="url"[^>]*name="input_image"[^>]*id="id_input_image"', html)
    assert re.search(r'<input type="file" name="input_image" id="id_input_image_file" accept="image/jpeg,', html)
    assert '<label for="id_input_image_file">or upload an image</label>' in html
    assert re.search(r'<select name="aspect_ratio"[^>]*>\s*<option value="match_input_image" selected>', html)


def test_flux2_takes_several_input_images_as_urls_and_uploads(member_client):
    html = page(member_client, model=FLUX2)
    assert re.search(r'<textarea name="input_images"[^>]*id="id_input_images"', html)
    assert re.search(r'<input type="file" name="input_images" id="id_input_images_file" [^>]* multiple>', html)
    assert "at most 8" in html
    assert "Billed per megapixel" in html


def test_an_undocumented_model_says_so_and_offers_only_the_prompt(member_client):
    html = page(member_client, model="recraftv3")
    assert "DeerAPI publishes no input schema for this model" in html
    assert 'name="prompt"' in html
    assert '<fieldset class="options">' not in html


def test_the_fields_endpoint_returns_only_that_models_part_of_the_form(member_client):
    response = member_client.get(FIELDS, {"model": IDEOGRAM})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="style_preset"' in html and 'name="magic_prompt_option"' in html
    assert 'name="prompt"' not in html and "<form" not in html and "<html" not in html
    assert member_client.get(FIELDS, {"model": "acme/none"}).status_code == 404


def test_the_no_js_switch_keeps_the_prompt_and_saves_nothing(member_client):
    response = member_client.post(NEW, {"model": RECRAFT_SVG, "prompt": "a stag", "switch": "1"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="style"' in html and "line_circuit" in html
    assert "a stag" in html
    assert not Prediction.objects.exists()


# --- Submitting -------------------------------------------------------------------------------


def test_only_the_models_inputs_are_saved_with_their_types(member_client):
    response = member_client.post(
        NEW,
        {
            "model": IDEOGRAM,
            "prompt": "a poster of a deer",
            "aspect_ratio": "16:9",
            "resolution": "None",
            "magic_prompt_option": "Off",
            "style_type": "Design",
            "style_preset": "Art Deco",
            "seed": "42",
            "num_outputs": "3",
            "go_fast": "on",
        },
    )
    prediction = Prediction.objects.get()
    assert response.status_code == 302
    assert prediction.model_id == IDEOGRAM
    assert prediction.input == {
        "prompt": "a poster of a deer",
        "aspect_ratio": "16:9",
        "resolution": "None",
        "magic_prompt_option": "Off",
        "style_type": "Design",
        "style_preset": "Art Deco",
        "seed": 42,
    }


@pytest.mark.parametrize(
    ("model", "data", "field", "message"),
    [
        (SCHNELL, {"num_outputs": "5"}, "num_outputs", "Ensure this value is less than or equal to 4."),
        (IDEOGRAM, {"resolution": "1x1"}, "resolution", "Select a valid choice."),
        (FLUX_DEV, {"guidance": "11.5"}, "guidance", "less than or equal to 10"),
        (SDXL, {"num_inference_steps": "two"}, "num_inference_steps", "Enter a whole number."),
        (KONTEXT, {"input_image": "ftp://example.com/deer.png"}, "input_image", "Enter an http(s) URL of an image"),
        (
            FLUX2,
            {"input_images": "\n".join(f"https://example.com/{n}.png" for n in range(9))},
            "input_images",
            "At most 8 images.",
        ),
        (SCHNELL, {"prompt": ""}, "prompt", "This field is required."),
    ],
)
def test_bad_input_gets_one_message_on_its_field_and_saves_nothing(member_client, model, data, field, message):
    post = {"model": model, "prompt": "a deer", **data}
    response = member_client.post(NEW, post)
    html = response.content.decode()
    assert response.status_code == 400
    block = field_block(html, field)
    assert block.startswith('<div class="field has-error'), f"no error on {field}"
    assert message in block
    assert not Prediction.objects.exists()


def test_a_small_upload_is_stored_and_sent_inline(member_client, member):
    data = png()
    response = member_client.post(
        NEW,
        {
            "model": KONTEXT,
            "prompt": "make it blue",
            "aspect_ratio": "1:1",
            "output_format": "png",
            "safety_tolerance": "2",
            "input_image": upload(data),
        },
    )
    assert response.status_code == 302
    stored = InputImage.objects.get()
    assert (stored.owner, stored.content_type, stored.size, stored.width) == (member, "image/png", len(data), 8)
    assert Prediction.objects.get().input["input_image"].startswith("data:image/png;base64,")


def test_a_large_upload_is_sent_as_a_public_url_when_deerweb_has_one(member_client, settings):
    settings.PUBLIC_URL = "https://deerweb.example.com"
    data = png((400, 400), noise=True)
    assert len(data) > 256 * 1024
    response = member_client.post(
        NEW,
        {
            "model": FLUX2,
            "prompt": "these two",
            "aspect_ratio": "1:1",
            "resolution": "1 MP",
            "safety_tolerance": "2",
            "output_format": "webp",
            "input_images": [upload(data), upload(png(), "b.png")],
        },
    )
    assert response.status_code == 302
    big = InputImage.objects.get(size=len(data))
    sent = Prediction.objects.get().input["input_images"]
    assert sent[0] == f"https://deerweb.example.com/inputs/{big.token}/"
    assert sent[1].startswith("data:image/png;base64,")


def test_a_large_upload_without_a_public_url_is_refused_with_a_message(member_client, settings):
    settings.PUBLIC_URL = ""
    response = member_client.post(
        NEW,
        {
            "model": KONTEXT,
            "prompt": "edit",
            "aspect_ratio": "1:1",
            "output_format": "png",
            "safety_tolerance": "2",
            "input_image": upload(png((400, 400), noise=True)),
        },
    )
    assert response.status_code == 400
    assert "too large to send to DeerAPI without a public address" in response.content.decode()
    assert not InputImage.objects.exists() and not Prediction.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not an image DeerWeb can read"),
        (b"GIF89a-but-not-really", "not an image DeerWeb can read"),
        (b"\0" * (10 * 1024 * 1024 + 1), "larger than 10 MB"),
    ],
)
def test_an_upload_that_is_not_an_allowed_image_is_refused(member_client, data, message):
    response = member_client.post(
        NEW,
        {
            "model": KONTEXT,
            "prompt": "edit",
            "aspect_ratio": "1:1",
            "output_format": "png",
            "safety_tolerance": "2",
            "input_image": upload(data, "x.png"),
        },
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not InputImage.objects.exists()


def test_an_image_in_a_format_deerapi_does_not_take_is_refused(member_client):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "BMP")
    response = member_client.post(
        NEW,
        {
            "model": KONTEXT,
            "prompt": "edit",
            "aspect_ratio": "1:1",
            "output_format": "png",
            "safety_tolerance": "2",
            "input_image": upload(buffer.getvalue(), "x.bmp", "image/bmp"),
        },
    )
    assert response.status_code == 400
    assert "Upload a JPEG, PNG, GIF or WebP image." in response.content.decode()


def test_an_upload_is_discarded_when_the_prediction_is_refused(member_client, member, settings):
    settings.PROMPT_MAX_LENGTH = 20
    response = member_client.post(
        NEW,
        {
            "model": KONTEXT,
            "prompt": "x" * 19 + " and more",
            "aspect_ratio": "1:1",
            "output_format": "png",
            "safety_tolerance": "2",
            "input_image": upload(png()),
        },
    )
    assert response.status_code == 400
    assert not InputImage.objects.exists()


# --- Starting from a prompt or a prediction ----------------------------------------------------


def test_a_library_prompt_fills_the_form_and_the_prediction_links_to_it(member_client, member):
    saved = Prompt.objects.create(owner=member, text="a deer by a lake at dusk", name="Lake")
    html = page(member_client, prompt_id=saved.pk)
    assert "a deer by a lake at dusk</textarea>" in html
    assert f'name="prompt_id" value="{saved.pk}"' in html
    member_client.post(NEW, {"model": "recraftv3", "prompt": saved.text, "prompt_id": saved.pk})
    assert Prediction.objects.get().prompt == saved


def test_another_members_prompt_id_is_ignored(member_client, other_member):
    theirs = Prompt.objects.create(owner=other_member, text="secret words", name="Theirs")
    assert "secret words" not in page(member_client, prompt_id=theirs.pk)
    member_client.post(NEW, {"model": "recraftv3", "prompt": "secret words", "prompt_id": theirs.pk})
    assert Prediction.objects.get().prompt != theirs


def test_edit_and_run_fills_the_form_with_the_inputs_and_keeps_a_fixed_seed(member_client, member):
    source = submit(member, prompt="a deer", aspect_ratio="21:9", num_outputs=3, go_fast=False, seed=77)
    html = page(member_client, **{"from": source.pk})
    assert f"Starting from prediction {source.pk}" in html
    assert '<option value="21:9" selected>' in html
    assert re.search(r'name="num_outputs" value="3"', html)
    assert re.search(r'name="seed" value="77"', html)
    assert not re.search(r'<input type="checkbox" name="go_fast"[^>]*checked', html)
    assert f'name="source" value="{source.pk}"' in html


def test_edit_and_run_creates_a_prediction_linked_to_its_source_and_prompt(member_client, member):
    source = submit(member, "recraftv3", prompt="a deer")
    member_client.post(
        NEW, {"model": "recraftv3", "prompt": "a deer", "source": source.pk, "prompt_id": source.prompt_id}
    )
    made = Prediction.objects.exclude(pk=source.pk).get()
    assert made.source == source
    assert made.prompt == source.prompt


def test_edit_and_run_shows_deerapis_field_messages_next_to_the_fields(member_client, member):
    source = submit(member, prompt="a deer")
    Prediction.objects.filter(pk=source.pk).update(
        status=Status.FAILED, metrics={"invalid_fields": {"aspect_ratio": "must be one of 1:1", "ghost": "gone"}}
    )
    html = page(member_client, **{"from": source.pk})
    block = field_block(html, "aspect_ratio")
    assert block.startswith('<div class="field has-error') and "must be one of 1:1" in block
    assert "ghost: gone" in html


def test_edit_and_run_of_a_prediction_the_member_cannot_see_is_404(member_client, other_member):
    theirs = submit(other_member, prompt="theirs")
    assert member_client.get(NEW, {"from": theirs.pk}).status_code == 404


def test_with_every_model_disabled_the_form_says_so(member_client):
    from catalog import specs as catalog

    ModelConfig.objects.bulk_create([ModelConfig(model_id=model_id, enabled=False) for model_id in catalog.MODELS])
    response = member_client.get(NEW)
    assert response.status_code == 503
    assert "No model is enabled." in response.content.decode()


# --- What a browser posts for an image input ---------------------------------------------------
# A browser sends the empty file picker as an empty part under the same name, after the URL box;
# Django's parser files it under POST, so the URL box arrives as ["<url>", ""].


def test_a_url_posted_with_the_empty_file_picker_is_sent(member_client):
    response = member_client.post(
        NEW,
        {
            "model": KONTEXT,
            "prompt": "make it snow",
            "aspect_ratio": "1:1",
            "output_format": "png",
            "safety_tolerance": "2",
            "input_image": ["https://example.com/deer.png", ""],
        },
    )
    assert response.status_code == 302
    assert Prediction.objects.get().input["input_image"] == "https://example.com/deer.png"


def test_urls_posted_with_the_empty_file_picker_are_all_sent(member_client):
    response = member_client.post(
        NEW,
        {
            "model": FLUX2,
            "prompt": "these two",
            "aspect_ratio": "1:1",
            "resolution": "1 MP",
            "safety_tolerance": "2",
            "output_format": "webp",
            "input_images": ["https://example.com/a.png\r\nhttps://example.com/b.png", ""],
        },
    )
    assert response.status_code == 302
    assert Prediction.objects.get().input["input_images"] == ["https://example.com/a.png", "https://example.com/b.png"]


def test_an_invalid_url_posted_with_the_empty_file_picker_gets_a_message_and_stays_in_the_box(member_client):
    response = member_client.post(NEW, {"model": KONTEXT, "prompt": "make it snow", "input_image": ["deer.png", ""]})
    assert response.status_code == 400
    block = field_block(response.content.decode(), "input_image")
    assert "Enter an http(s) URL of an image, or upload one." in block
    assert 'value="deer.png"' in block
    assert not Prediction.objects.exists()


def test_a_url_and_an_upload_for_one_image_get_a_message_and_store_nothing(member_client):
    response = member_client.post(
        NEW,
        {"model": KONTEXT, "prompt": "make it snow", "input_image": ["https://example.com/deer.png", upload(png())]},
    )
    assert response.status_code == 400
    block = field_block(response.content.decode(), "input_image")
    assert "Give either an image URL or an upload, not both." in block
    assert 'value="https://example.com/deer.png"' in block
    assert not Prediction.objects.exists()
    assert not InputImage.objects.exists()


# --- The prompt's length ----------------------------------------------------------------------


def test_an_over_long_prompt_is_not_cut_by_the_box_but_refused_with_a_message_and_kept(member_client, settings):
    settings.PROMPT_MAX_LENGTH = 20
    box = re.search(r"<textarea [^>]*>", page(member_client)).group(0)
    assert "maxlength" not in box, "the browser would cut a pasted prompt without a word"
    assert 'data-max-chars="20"' in box
    assert 'data-over-text="{count} of 20 characters: {over} too many"' in box

    text = "a deer in the snow at dawn"
    response = member_client.post(NEW, {"model": SCHNELL, "prompt": text})
    assert response.status_code == 400
    block = field_block(response.content.decode(), "prompt")
    assert f"Ensure this value has at most 20 characters (it has {len(text)})." in block
    assert f">\n{text}</textarea>" in block
    assert not Prediction.objects.exists()
