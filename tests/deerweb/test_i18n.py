"""Simplified Chinese beside English: negotiation, the switcher, and a complete, compiled catalogue."""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from predictions.models import Status
from tests.world import SCHNELL, make_prediction

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = CATALOGUE / "django.po"
MO = CATALOGUE / "django.mo"
CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}
HAN = re.compile(r"[\u4e00-\u9fff]")


def visible_text(html: str) -> str:
    """The page without its tags, so the language switcher's "简体中文" option can be told apart."""
    html = re.sub(r"<select.*?</select>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


# --- Pages ------------------------------------------------------------------------


def test_the_login_page_follows_a_chinese_browser(client, settings):
    settings.SANDBOX = True
    response = client.get(reverse("login"), **CHINESE)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans"' in html
    assert response["Content-Language"] == "zh-hans"
    for text in ("<title>登录 · DeerWeb</title>", "登录 DeerWeb", "用户名", "密码", "沙盒", "语言"):
        assert text in html
    for english in ("Log in to DeerWeb", "Username", "Password", "Sandbox"):
        assert english not in html


def test_the_history_page_follows_a_chinese_browser(member_client, member):
    make_prediction(member, status=Status.SUCCEEDED)
    make_prediction(member, status=Status.PROCESSING)
    response = member_client.get(reverse("predictions:list"), **CHINESE)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans"' in html
    for text in ("我的生成任务", "新建生成任务", "历史记录", "退出登录", "提示词", "状态", "已完成", "生成中"):
        assert text in html
    assert f"<code>{SCHNELL}</code>" in html, "model ids stay as they are"
    for english in ("Your predictions", "New prediction", "Log out", "Succeeded", "Processing"):
        assert english not in html


def test_an_empty_history_in_chinese(member_client):
    html = member_client.get(reverse("predictions:list"), **CHINESE).content.decode()
    assert "还没有生成任务。" in html
    assert "来创建第一个吧。" in html


def test_the_form_shows_chinese_labels_and_help_but_the_models_own_keys(member_client):
    html = member_client.get(reverse("predictions:new"), **CHINESE).content.decode()
    for text in ("宽高比", "想要生成的画面。", "图片文件格式。", "固定种子可复现结果；留空则随机。", ">生成<"):
        assert text in html
    for name in ("prompt", "aspect_ratio", "output_format", "seed"):
        assert f'name="{name}"' in html
    assert "Shape of the image." not in html


def test_a_message_from_a_view_is_in_chinese(member_client):
    html = member_client.get(reverse("predictions:new"), {"model": "acme/nope"}, **CHINESE).content.decode()
    assert "未知模型“acme/nope”，请从列表中选择。" in html


def test_the_same_pages_stay_english_for_an_english_browser(client, member_client, member):
    make_prediction(member)
    login = client.get(reverse("login"), **ENGLISH).content.decode()
    assert '<html lang="en"' in login
    assert "Log in to DeerWeb" in login
    assert not HAN.search(visible_text(login))

    history = member_client.get(reverse("predictions:list"), **ENGLISH).content.decode()
    assert '<html lang="en"' in history
    for text in ("Your predictions", "New prediction", "Succeeded"):
        assert text in history
    assert not HAN.search(visible_text(history))


def test_the_switcher_choice_sticks_over_the_browsers_language(member_client):
    history = reverse("predictions:list")
    response = member_client.post("/i18n/setlang/", {"language": "zh-hans", "next": history}, **ENGLISH)
    assert response.status_code == 302
    assert response["Location"] == history
    assert member_client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"

    for _ in range(2):  # not just the next request
        html = member_client.get(history, **ENGLISH).content.decode()
        assert '<html lang="zh-hans"' in html
        assert "我的生成任务" in html
    html = member_client.get(reverse("predictions:new"), **ENGLISH).content.decode()
    assert '<html lang="zh-hans"' in html

    member_client.post("/i18n/setlang/", {"language": "en", "next": history}, **CHINESE)
    html = member_client.get(history, **CHINESE).content.decode()
    assert '<html lang="en"' in html
    assert "Your predictions" in html


# --- The catalogue ------------------------------------------------------------------


@dataclass
class Entry:
    flags: set[str] = field(default_factory=set)
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def translations(self) -> list[str]:
        return [v for k, v in self.fields.items() if k.startswith("msgstr")]


def read_po(path: Path) -> list[Entry]:
    """A tiny .po reader: entries are blank-line separated; obsolete (#~) lines are ignored."""
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8").strip()):
        entry, key = Entry(), None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            elif match := re.match(r'(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) (".*")$', line):
                key = match.group(1)
                entry.fields[key] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and key:
                entry.fields[key] += ast.literal_eval(line)
        if "msgid" in entry.fields:
            entries.append(entry)
    return entries


def placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\(\w+\)[sd]", text))


def test_every_entry_of_the_chinese_catalogue_is_translated_and_not_fuzzy():
    entries = read_po(PO)
    header, messages = entries[0], entries[1:]
    assert header.fields["msgid"] == ""
    assert "Language: zh_Hans\n" in header.fields["msgstr"]
    assert "Plural-Forms: nplurals=1; plural=0;\n" in header.fields["msgstr"]
    assert "charset=UTF-8" in header.fields["msgstr"]
    assert len(messages) > 100
    problems = []
    for entry in entries:
        msgid = entry.fields["msgid"]
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {msgid!r}")
        if entry is not header and not all(entry.translations):
            problems.append(f"untranslated: {msgid!r}")
        if "python-format" in entry.flags and any(placeholders(t) != placeholders(msgid) for t in entry.translations):
            problems.append(f"placeholders differ: {msgid!r}")
    assert not problems, "fix locale/zh_Hans/LC_MESSAGES/django.po:\n" + "\n".join(problems)


def test_the_compiled_catalogue_matches_the_po():
    """Compares content, not modification times (a git checkout sets those arbitrarily)."""
    assert MO.exists(), "run: manage.py compilemessages --ignore=.venv"
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in read_po(PO)[1:]:
        msgid = entry.fields["msgid"]
        if "msgid_plural" in entry.fields:
            continue  # none yet; with nplurals=1 msgstr[0] is the only form
        if "msgctxt" in entry.fields:
            got = compiled.pgettext(entry.fields["msgctxt"], msgid)
        else:
            got = compiled.gettext(msgid)
        if got != entry.fields["msgstr"]:
            stale.append(msgid)
    assert not stale, "the .mo is older than the .po; run: manage.py compilemessages --ignore=.venv\n" + "\n".join(
        map(repr, stale)
    )


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
def test_msgfmt_accepts_the_catalogue():
    result = subprocess.run(
        [shutil.which("msgfmt"), "--check", "--statistics", "-o", os.devnull, str(PO)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "LC_ALL": "C"},
    )
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"\d+ translated messages\.\s*", result.stderr), result.stderr
