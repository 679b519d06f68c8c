import pytest

from zaspot.config import ConfigError, load


def test_no_file_runs_on_defaults():
    config = load(None)
    assert (config.port, config.db, config.ocpp.unknown_stations) == (9000, "./zaspot.db", "accept")


def test_a_good_file_is_typed(tmp_path):
    path = tmp_path / "zaspot.yaml"
    path.write_text("port: 9100\nocpp:\n  heartbeat_interval: 60\n  ping_interval: 10\n  unknown_stations: pending\n"
                    "stations:\n  - id: CP1\n    name: Lobby\n")
    config = load(path)
    assert config.port == 9100 and config.ocpp.heartbeat_interval == 60 and config.ocpp.ping_interval == 10.0
    assert config.ocpp.unknown_stations == "pending" and config.stations[0].name == "Lobby"
    assert config.ocpp.offline_timeout == 150


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("port: 9000\nocpp:\n  heartbeat_interval: often\n", "zaspot.yaml:3: ocpp.heartbeat_interval: expected a whole number, got 'often'"),
        ("port: 9000\nprot: 1\n", "zaspot.yaml:2: unknown key 'prot'"),
        ("ocpp:\n  unknown_stations: maybe\n", "zaspot.yaml:2: ocpp.unknown_stations: expected one of accept, pending, reject, got 'maybe'"),
        ("port: [1, 2\n", "zaspot.yaml:2: not valid YAML"),
        ("stations:\n  - name: no id\n", "zaspot.yaml:2: stations[0]:"),
    ],
)
def test_bad_config_is_one_line_with_file_and_line(tmp_path, text, message):
    path = tmp_path / "zaspot.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load(path)
    assert str(err.value).startswith(str(tmp_path / message.split(":", 1)[0]) + ":" + message.split(":", 1)[1])
    assert "\n" not in str(err.value)
