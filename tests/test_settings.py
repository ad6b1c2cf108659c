"""Settings: production refuses to start unsafely and passes Django's deploy checks."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

import pytest
from cryptography.fernet import Fernet

from cms.settings.env import env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parents[1]


def manage(*args, **env):
    unset = {"SECRET_KEY", "ALLOWED_HOSTS", "SYNDICATION_TOKEN_KEYS", "DATABASE_URL"}
    base = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = manage(
        "check", DJANGO_SETTINGS_MODULE="cms.settings.production", ALLOWED_HOSTS="example.org"
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set in the environment" in result.stderr


def production_env(tmp_path, **env):
    """Everything production requires, with ``env`` on top (a value of None unsets it)."""
    full = {
        "DJANGO_SETTINGS_MODULE": "cms.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "stories.example.org",
        "SYNDICATION_TOKEN_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}",
        **env,
    }
    return {name: value for name, value in full.items() if value is not None}


def test_production_passes_check_deploy_with_no_warnings(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ALLOWED_HOSTS", None),
        ("ALLOWED_HOSTS", ""),
        ("ALLOWED_HOSTS", " , "),
        ("DATABASE_URL", None),
        ("DATABASE_URL", " "),
    ],
)
def test_production_refuses_to_start_without_its_hosts_or_its_database(tmp_path, variable, value):
    """No silent fallback to base.py's localhost or SQLite file."""
    result = manage("check", **production_env(tmp_path, **{variable: value}))
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {variable} must be set in the environment" in result.stderr


def test_production_refuses_to_start_without_token_keys(tmp_path):
    result = manage("check", **production_env(tmp_path, SYNDICATION_TOKEN_KEYS=None))
    assert result.returncode != 0
    assert "SYNDICATION_TOKEN_KEYS must be set in the environment" in result.stderr


def test_environment_values_are_parsed_with_clear_errors(monkeypatch):
    monkeypatch.setenv("STORYLOOM_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="STORYLOOM_FLAG must be a boolean"):
        env_bool("STORYLOOM_FLAG")
    monkeypatch.setenv("STORYLOOM_FLAG", "Yes")
    assert env_bool("STORYLOOM_FLAG") is True
    monkeypatch.setenv("STORYLOOM_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="STORYLOOM_NUMBER must be an integer"):
        env_int("STORYLOOM_NUMBER", 1)
    monkeypatch.setenv("STORYLOOM_HOSTS", " a.example , ,b.example")
    assert env_list("STORYLOOM_HOSTS") == ["a.example", "b.example"]


def test_admin_gets_its_own_content_security_policy(admin_client):
    response = admin_client.get("/admin/", HTTP_HOST="localhost")
    assert response.status_code == 200
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]


def test_every_environment_variable_is_documented_in_env_example():
    import re

    base = (ROOT / "cms" / "settings" / "base.py").read_text()
    production = (ROOT / "cms" / "settings" / "production.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z0-9_]+)"', base + production))
    documented = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read, "no environment reads found; did the helpers change name?"
    assert read - documented == set()


@pytest.mark.django_db
@pytest.mark.parametrize("cookie", ["abcdefgh\x00ijklmnop", '"abcdefgh\\000ijklmnop"', "x" * 5000])
def test_a_session_cookie_no_key_looks_like_is_no_session(client, make_story, cookie):
    """A NUL in the cookie once reached PostgreSQL (a 500 on every page that looks at
    the user); now such a cookie is simply no session."""
    story = make_story()
    client.cookies["sessionid"] = cookie
    for url in (story.url, "/admin/"):
        assert client.get(url).status_code in (200, 302), url


def settings_folders(tmp_path, **env):
    """The files and folders under a fresh STORYLOOM_VAR_DIR once the settings are loaded."""
    var = tmp_path / "var"
    unset = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"}
    base = {k: v for k, v in os.environ.items() if k not in unset}
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; settings.DATABASES"],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "cms.settings.dev", "STORYLOOM_VAR_DIR": str(var)}
        | env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return {str(path.relative_to(var)) for path in var.rglob("*")} if var.exists() else set()


def test_embedded_mode_makes_the_folders_its_broker_and_results_use(tmp_path):
    assert settings_folders(tmp_path) == {
        "celery",
        "celery/broker",
        "celery/control",
        "celery/results",
    }


def test_a_deployment_on_postgresql_and_redis_writes_nothing_under_var(tmp_path):
    assert not settings_folders(
        tmp_path,
        DATABASE_URL="postgres://storyloom@127.0.0.1:5432/storyloom",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )


@pytest.mark.parametrize(("variable", "enabled"), [(None, "False"), ("true", "True")])
def test_development_serves_pages_uncached_unless_asked(variable, enabled):
    """Template changes show at once under ``make run``; production and tests cache."""
    env = {k: v for k, v in os.environ.items() if k != "PAGE_CACHE_ENABLED"}
    env["DJANGO_SETTINGS_MODULE"] = "cms.settings.dev"
    if variable is not None:
        env["PAGE_CACHE_ENABLED"] = variable
    code = "from django.conf import settings; print(settings.PAGE_CACHE_ENABLED)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == enabled, result.stderr
