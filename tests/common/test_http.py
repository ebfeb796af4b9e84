import requests

from common import http

DEERAPI = "https://api.deerapi.example/replicate/v1/predictions/abc"


def _settings(session: http.Session, url: str) -> dict:
    return session.merge_environment_settings(url, {}, None, None, None)


def test_the_environments_proxy_is_used_and_no_proxy_is_honoured(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "files.example")
    session = http.Session()

    assert _settings(session, DEERAPI)["proxies"]["https"] == "http://proxy.example:3128"
    assert "https" not in _settings(session, "https://files.example/out-0.webp")["proxies"]


def test_a_callers_own_proxy_wins_over_the_environments(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    session = http.Session()

    merged = session.merge_environment_settings(DEERAPI, {"https": "http://mine.example:8080"}, None, None, None)

    assert merged["proxies"]["https"] == "http://mine.example:8080"


def test_the_environments_ca_bundle_is_used_unless_verification_is_given(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/deerweb/ca.pem")
    session = http.Session()

    assert _settings(session, DEERAPI)["verify"] == "/etc/deerweb/ca.pem"
    assert session.merge_environment_settings(DEERAPI, {}, None, False, None)["verify"] is False


def test_the_environment_is_read_once_per_origin(monkeypatch):
    calls = []
    real = http.get_environ_proxies

    def counting(url, no_proxy=None):
        calls.append(url)
        return real(url, no_proxy=no_proxy)

    monkeypatch.setattr(http, "get_environ_proxies", counting)
    session = http.Session()

    for n in range(3):
        _settings(session, f"{DEERAPI}{n}")
    _settings(session, "https://files.example/out-0.webp")

    assert len(calls) == 2


def test_a_netrc_entry_does_not_replace_the_keys_authorization_header(monkeypatch, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine api.deerapi.example login someone password secret\n")
    monkeypatch.setenv("NETRC", str(netrc))
    bearer = {"Authorization": "Bearer sk-team"}

    ours = http.Session().prepare_request(requests.Request("GET", DEERAPI, headers=bearer))
    plain = requests.Session().prepare_request(requests.Request("GET", DEERAPI, headers=bearer))

    assert ours.headers["Authorization"] == "Bearer sk-team"
    assert plain.headers["Authorization"].startswith("Basic ")  # what requests alone would send


def test_a_redirect_from_a_host_in_no_proxy_to_another_takes_the_environments_proxy(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "files.example")
    session = http.Session()
    proxies = _settings(session, "https://files.example/out-0.webp")["proxies"]
    redirected = requests.Request("GET", "https://cdn.example/out-0.webp").prepare()

    assert "https" not in proxies
    assert session.rebuild_proxies(redirected, proxies)["https"] == "http://proxy.example:3128"
    assert session.trust_env is False
