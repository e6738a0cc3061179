"""Settings come from defaults, a TOML file and SHEQUYUN_* variables; secrets stay hidden."""

from __future__ import annotations

import pytest

from shequyun.settings import SettingsError, load_settings


def test_the_embedded_default_is_a_sqlite_file_under_var():
    settings = load_settings(environ={})
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.effective_database_url.endswith("/var/shequyun.db")


def test_environment_variables_override_the_toml_file(tmp_path):
    config = tmp_path / "shequyun.toml"
    config.write_text(
        '[shequyun]\nport = 9000\nlog_level = "debug"\nplugins_disabled = ["a"]\n'
        '[shequyun.plugins.hello]\ngreeting = "你好"\n',
        encoding="utf-8",
    )
    settings = load_settings(
        environ={"SHEQUYUN_PORT": "9100", "SHEQUYUN_PLUGINS_ALLOWED": "hello, b"},
        config_file=config,
    )
    assert settings.port == 9100
    assert settings.log_level == "DEBUG"
    assert settings.plugins_disabled == ("a",)
    assert settings.plugins_allowed == ("hello", "b")
    assert settings.settings_for_plugin("hello") == {"greeting": "你好"}


def test_secrets_can_be_referenced_from_the_environment(tmp_path):
    config = tmp_path / "shequyun.toml"
    config.write_text('secret_key = "$env:MY_SECRET"\n', encoding="utf-8")
    settings = load_settings(environ={"MY_SECRET": "s3cr3t-value"}, config_file=config)
    assert settings.secret_key.get_secret_value() == "s3cr3t-value"
    with pytest.raises(SettingsError, match="MY_SECRET, which is not set"):
        load_settings(environ={}, config_file=config)


def test_an_environment_reference_to_an_empty_variable_is_refused(tmp_path):
    """An empty ``secret_key`` quietly fell back to a key generated in each machine's data_dir:
    workers on two machines then refused each other's CSRF tokens. A ``"$env:NAME"`` names a
    value the operator meant to give, so an empty one is a mistake said at start-up."""
    config = tmp_path / "shequyun.toml"
    config.write_text('secret_key = "$env:MY_SECRET"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as empty:
        load_settings(environ={"MY_SECRET": ""}, config_file=config)
    assert str(empty.value) == (
        f"secret_key in {config} refers to environment variable MY_SECRET, which is empty "
        "(give it the value, or remove secret_key from the file)"
    )


def test_an_unset_environment_reference_names_the_setting_and_the_file(tmp_path):
    """The operations guide's example file lists a replica as ``"$env:SHEQUYUN_REPLICA_1"``;
    an operator without one who kept the line was told only that some variable was not set."""
    config = tmp_path / "shequyun.toml"
    config.write_text(
        '[shequyun]\ndatabase_replicas = ["$env:SHEQUYUN_REPLICA_1"]\n'
        '[shequyun.plugins.garbage]\napi_key = "$env:GARBAGE_KEY"\n',
        encoding="utf-8",
    )
    with pytest.raises(SettingsError) as replica:
        load_settings(environ={"GARBAGE_KEY": "k"}, config_file=config)
    assert str(replica.value) == (
        f"database_replicas in {config} refers to environment variable SHEQUYUN_REPLICA_1, "
        "which is not set (set it, or remove database_replicas from the file)"
    )
    with pytest.raises(SettingsError, match=r"^plugins\.garbage\.api_key in .* GARBAGE_KEY,"):
        load_settings(
            environ={"SHEQUYUN_REPLICA_1": "postgresql+psycopg://r@db-r1/s"}, config_file=config
        )


def test_secrets_are_never_shown():
    settings = load_settings(
        environ={
            "SHEQUYUN_SECRET_KEY": "top-secret-key",
            "SHEQUYUN_DATABASE_URL": "postgresql+psycopg://app:hunter2@db.example/shequyun",
        }
    )
    shown = repr(settings) + str(settings.public_dict())
    assert "top-secret-key" not in shown
    assert "hunter2" not in shown
    assert "postgresql+psycopg://app:***@db.example/shequyun" in shown


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SHEQUYUN_PORT": "eighty"}, "port: Input should be a valid integer"),
        ({"SHEQUYUN_TRACE_HOOKS": "maybe"}, "SHEQUYUN_TRACE_HOOKS must be true or false"),
        ({"SHEQUYUN_LOG_LEVEL": "loud"}, "log_level: must be DEBUG"),
        (
            {"SHEQUYUN_DATABASE_URL": "not a url"},
            "database_url: is not a database URL",
        ),
    ],
)
def test_bad_values_name_the_setting(environ, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(environ=environ)


def test_a_bad_value_is_not_echoed_because_it_may_be_a_secret():
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"SHEQUYUN_PORT": "hunter2"})
    assert "hunter2" not in str(caught.value)


def test_unknown_settings_in_the_file_are_refused(tmp_path):
    config = tmp_path / "shequyun.toml"
    config.write_text("colour = 'red'\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="colour: Extra inputs are not permitted"):
        load_settings(environ={}, config_file=config)
