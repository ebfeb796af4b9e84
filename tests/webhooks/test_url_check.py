"""Which webhook URLs DeerWeb takes: http(s) to public addresses, checked after resolving the host.

Every refusal here comes from a stub resolver: no test connects to a private or link-local address."""

import pytest

from tests.world import StubResolver
from webhooks.services import WebhookHostUnresolved, WebhookURLError, webhook_url_check
from webhooks.targets import address_is_public, target_resolve

PUBLIC = "93.184.216.34"


@pytest.mark.parametrize(
    "address",
    ["10.0.0.1", "192.168.1.1", "172.16.5.4", "169.254.169.254", "127.0.0.1", "0.0.0.0",  # noqa: S104
     "100.64.0.1",
     "224.0.0.1", "240.0.0.1", "255.255.255.255",
     "::1", "fe80::1", "fe80::1%eth0", "fc00::1", "ff02::1", "::", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
     "::ffff:169.254.169.254", "2002:a00:1::", "64:ff9b::a00:1", "::127.0.0.1"],
)  # fmt: skip
def test_a_host_resolving_to_a_non_public_address_is_refused(address, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    resolver = StubResolver({"hooks.example.com": [address]})
    with pytest.raises(WebhookURLError) as refused:
        webhook_url_check("https://hooks.example.com/deerweb", resolver=resolver)
    assert "does not send webhooks to “hooks.example.com”" in refused.value.message
    assert resolver.asked == ["hooks.example.com"], "refused after resolving the name"


@pytest.mark.parametrize(
    "url",
    ["http://10.0.0.1/hook", "http://192.168.1.1/hook", "http://169.254.169.254/latest/meta-data/",
     "http://[::1]:8000/hook", "http://[fe80::1]/hook", "http://[::ffff:127.0.0.1]/hook"],
)  # fmt: skip
def test_a_url_naming_a_non_public_address_is_refused_without_asking_dns(url, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    resolver = StubResolver({})
    with pytest.raises(WebhookURLError):
        webhook_url_check(url, resolver=resolver)
    assert resolver.asked == []


def test_a_host_with_one_private_address_among_public_ones_is_sent_to_a_public_one(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    resolver = StubResolver({"hooks.example.com": ["10.0.0.1", PUBLIC]})
    assert target_resolve("https://hooks.example.com/x", resolver=resolver).address == PUBLIC


def test_a_public_address_is_taken_and_kept_as_the_address_to_connect_to(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    target = target_resolve(
        "https://user:p%40ss@Hooks.Example.com:8443/in?token=s3cret",
        resolver=StubResolver({"hooks.example.com": [PUBLIC]}),
    )
    assert (target.host, target.address, target.port) == ("hooks.example.com", PUBLIC, 8443)
    assert target.pinned_url == f"https://{PUBLIC}:8443/in?token=s3cret"
    assert target.host_header == "hooks.example.com:8443"
    assert (target.username, target.password) == ("user", "p@ss")


def test_an_ipv6_address_is_connected_to_in_brackets(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    target = target_resolve(
        "http://hooks.example.com/x", resolver=StubResolver({"hooks.example.com": ["2606:4700::1"]})
    )
    assert target.pinned_url == "http://[2606:4700::1]:80/x"
    assert target.host_header == "hooks.example.com"


def test_the_allow_list_lets_127_0_0_1_through(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    assert target_resolve("http://127.0.0.1:8123/hook").address == "127.0.0.1"
    resolver = StubResolver({"receiver.internal": ["127.0.0.1"]})
    assert target_resolve("http://receiver.internal/hook", resolver=resolver).address == "127.0.0.1"
    with pytest.raises(WebhookURLError):
        webhook_url_check("http://127.0.0.2/hook")


def test_the_allow_list_takes_host_names_too(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["receiver.internal"]
    resolver = StubResolver({"receiver.internal": ["10.1.2.3"], "other.internal": ["10.1.2.3"]})
    assert target_resolve("http://receiver.internal/hook", resolver=resolver).address == "10.1.2.3"
    with pytest.raises(WebhookURLError):
        webhook_url_check("http://other.internal/hook", resolver=resolver)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.example.com/x", "must start with https:// or http://"),
        ("file:///etc/passwd", "must start with https:// or http://"),
        ("hooks.example.com/x", "must start with https:// or http://"),
        ("https:///x", "has no host"),
        ("https://hooks.example.com:99999/x", "invalid port"),
        ("https://hooks.example.com/a b", "spaces or control characters"),
        ("https://hooks.example.com/\r\nX-Injected: 1", "spaces or control characters"),
        ("", "Enter the webhook's URL"),
        ("https://hooks.example.com/" + "x" * 2000, "too long"),
    ],
)
def test_a_malformed_url_gets_a_clear_message(url, message):
    with pytest.raises(WebhookURLError) as refused:
        webhook_url_check(url, resolver=StubResolver({"hooks.example.com": [PUBLIC]}))
    assert message in refused.value.message


def test_a_host_that_does_not_resolve_is_refused_as_unresolved():
    with pytest.raises(WebhookHostUnresolved) as refused:
        webhook_url_check("https://nowhere.example.com/x", resolver=StubResolver({}))
    assert "“nowhere.example.com” could not be found" in refused.value.message


def test_only_ordinary_public_unicast_addresses_count_as_public():
    assert address_is_public(PUBLIC)
    assert address_is_public("2606:4700::1")
    assert not address_is_public("not an address")
    assert not address_is_public("::ffff:192.168.0.1")
