from __future__ import annotations

import pytest

from flame_train.config import TrainConfig, describe
from flame_train.errors import ConfigError


def test_yaml_then_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("mixture: mix\nmax_steps: 10\nlora_targets: [q_proj, v_proj]\n")
    config = TrainConfig.load(path, ["max_steps=25", "lr=1e-4", "finetune=full"])
    assert (config.mixture, config.max_steps, config.lr, config.finetune) == ("mix", 25, 1e-4, "full")
    assert config.lora_targets == ["q_proj", "v_proj"]


def test_unknown_option_suggests_the_right_one():
    with pytest.raises(ConfigError, match="'max_step' \\(did you mean 'max_steps'\\?\\)"):
        TrainConfig.load(None, ["max_step=3"])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("finetune=qlora", "finetune = 'qlora': must be one of"),
        ("batch_size=0", "batch_size = 0: must be a positive integer"),
        ("lr=-1", "lr = -1"),
        ("max_steps", "expected key=value"),
    ],
)
def test_bad_values_are_named(override, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig.load(None, [override])


def test_every_option_is_documented():
    for line in describe().splitlines():
        name, _, help_text = line.partition(": ")
        assert help_text.strip(), f"{name} has no help text"
