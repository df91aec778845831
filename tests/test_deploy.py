"""Production settings pass Django's deployment checks; the OpenAPI schema has no warnings."""

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"STEMSPACE_DEV", "DEBUG"}}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=clean | env,
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING",
                        SECRET_KEY=secrets.token_urlsafe(50), DEBUG="0",
                        ALLOWED_HOSTS="stem.doantn.dongthap.gov.vn")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_secret_key():
    result = run_manage("check", SECRET_KEY="", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_openapi_schema_validates_without_warnings(tmp_path):
    result = run_manage("spectacular", "--validate", "--fail-on-warn", "--file",
                        str(tmp_path / "schema.yml"), STEMSPACE_DEV="1")
    assert result.returncode == 0, result.stdout + result.stderr


def test_gunicorn_config_loads():
    gunicorn = Path(sys.executable).with_name("gunicorn")
    env = {k: v for k, v in os.environ.items() if k not in {"STEMSPACE_DEV", "DEBUG"}}
    env |= {"SECRET_KEY": secrets.token_urlsafe(50), "DEBUG": "0"}
    result = subprocess.run([str(gunicorn), "--check-config", "-c", "deploy/gunicorn.conf.py",
                             "config.wsgi:application"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


PROXY_SETTINGS = ("import json; from django.conf import settings as s; print(json.dumps("
                  "[s.PROXY_COUNT, s.REST_FRAMEWORK['NUM_PROXIES'], s.SECURE_PROXY_SSL_HEADER, "
                  "s.AXES_CLIENT_IP_CALLABLE]))")


def test_behind_the_proxy_addresses_and_scheme_come_from_it():
    # tests/test_nginx.py runs the app behind nginx with these values.
    result = run_manage("shell", "-v", "0", "-c", PROXY_SETTINGS, STEMSPACE_DEV="1", BEHIND_PROXY="1")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [1, 1, ["HTTP_X_FORWARDED_PROTO", "https"],
                                         "config.proxy.client_ip"]


def test_without_a_proxy_a_client_cannot_choose_its_address():
    result = run_manage("shell", "-v", "0", "-c", PROXY_SETTINGS, STEMSPACE_DEV="1", BEHIND_PROXY="0")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[:3] == [0, 0, None]


def test_production_workers_share_one_cache_without_redis(tmp_path):
    """Two processes, as two gunicorn workers: what one counts (a throttle), the other sees."""
    env = {"SECRET_KEY": secrets.token_urlsafe(50), "DEBUG": "0", "CACHE_DIR": str(tmp_path),
           "REDIS_URL": ""}
    write = run_manage("shell", "-v", "0", "-c",
                       "from django.core.cache import cache; from django.conf import settings; "
                       "cache.set('throttle_user_7', [1, 2, 3], 60); "
                       "print(settings.CACHES['default']['BACKEND'])", **env)
    read = run_manage("shell", "-v", "0", "-c",
                      "from django.core.cache import cache; print(cache.get('throttle_user_7'))",
                      **env)

    assert write.returncode == 0 and read.returncode == 0, write.stderr + read.stderr
    assert write.stdout.strip() == "django.core.cache.backends.filebased.FileBasedCache"
    assert read.stdout.strip() == "[1, 2, 3]"


# --- systemd units ------------------------------------------------------------------------------

DEPLOY = ROOT / "deploy"
UNITS = sorted([*DEPLOY.glob("*.service"), *DEPLOY.glob("*.timer")])


def test_systemd_verifies_every_unit_but_for_the_programs_of_the_server(tmp_path):
    """systemd's own parser: unknown keys, bad calendars, a timer without its service fail.
    The programs live on the server (/srv/stemspace/app/.venv, rsync): those lines only."""
    assert shutil.which("systemd-analyze"), "make test installs systemd (scripts/test-packages.sh)"
    for unit in UNITS:
        shutil.copy(unit, tmp_path / unit.name)
    result = subprocess.run(["systemd-analyze", "verify", "--man=no",
                             *(unit.name for unit in UNITS)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if line.strip() and not re.search(r": Command \S+ is not executable", line)]
    assert problems == []


def test_every_timer_starts_a_service_that_runs_commands_we_have():
    from django.core.management import get_commands

    commands = get_commands()
    timers = [unit for unit in UNITS if unit.suffix == ".timer"]
    assert {timer.stem for timer in timers} == {
        "stemspace-reminders", "stemspace-backup", "stemspace-integrity"}
    for timer in timers:
        service = timer.with_suffix(".service").read_text()
        run = re.findall(r"manage\.py (\w+)", service)
        assert run and all(name in commands for name in run), (timer.name, run)
