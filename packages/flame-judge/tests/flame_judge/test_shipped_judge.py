"""The shipped default judge's flame.json says how it was made in terms anyone can rerun."""

from __future__ import annotations

import json
from pathlib import Path

import flame_judge

SHIPPED = Path(flame_judge.__file__).parent / "judges" / "flame-smol" / "flame.json"


def test_shipped_provenance_is_reproducible_not_a_temporary_folder():
    meta = json.loads(SHIPPED.read_text())
    assert meta["fingerprint"] == "flame-smol@55cb140bb675a239"  # provenance edits never change it
    config = meta["config"]
    assert (config["mixture"], config["encoded"], config["output_dir"]) == (
        "mix",
        "mix/train.tokens",
        "runs/flame-smol",
    )
    provenance = meta["provenance"]
    assert provenance["mixture"]["built_with"] == "flame data build --out mix --on-error skip"
    assert provenance["mixture"]["rows"]["train"] == 95223
    assert provenance["mixture"]["build_config"]["licenses"] == ["MIT", "Apache-2.0", "BSD-3-Clause", "CC-BY-4.0"]
    assert provenance["encoded"]["built_with"].startswith("flame encode ")
    assert provenance["trained_by"].startswith("flame train ")
    # Stage 2: the reward head, no length feature, fitted on the pool and chosen on the dev suites.
    reward = meta["reward_head"]
    assert reward["config"]["length"] is False
    pairs = reward["provenance"]["train_pairs"]
    assert (pairs["pairs_from"], pairs["pairs"]) == ("pool", reward["train_pairs"])
    assert pairs["by_kind"] == reward["train_by_kind"]
    assert pairs["extracted_by"].startswith("flame reward features --mixture mix ")
    assert {p["pairs_from"] for p in reward["provenance"]["dev_pairs"]["merged"]} == {"suites", "human"}
    assert reward["provenance"]["fitted_by"].startswith("flame reward fit ")
    # Stage 3: the rater head. Rater head 4 refitted the pointwise head (shrunk toward the reward head,
    # fitted with an offset per task) and kept rater head 3's classification head, whose record travels
    # in `kept`: label-balanced rows plus benign copies, scores per label set, itself keeping rater
    # head 2's pointwise head (the standardization every later head shares).
    rater = meta["rater_head"]
    assert rater["config"]["pointwise"] is True
    assert rater["config"]["per_label_set"] is True
    assert ["yes", "no"] in rater["config"]["label_sets"]  # judge.classify's default labels
    assert rater["kept"]["heads"] == ["classification"]
    assert rater["heads"]["classification"]["kept_from"] == rater["kept"]["from"]["fingerprint"]
    pointwise = rater["heads"]["pointwise"]
    assert pointwise["task_offsets"] is True
    assert pointwise["prior"]["reward_head_of"] == rater["kept"]["from"]["fingerprint"]  # the judge it was fitted on
    assert pointwise["prior"]["weight"] > 0
    points = rater["provenance"]["train_rows"]
    assert points["task_types"] == ["pointwise"]
    assert {p["per_task"] for p in rater["provenance"]["dev_rows"]["merged"]} == {48, 16}
    three = rater["kept"]["from"]
    classification = three["provenance"]["train_rows"]
    assert classification["task_types"] == ["classification"]
    assert (classification["balance_labels"], classification["benign"]) == (True, 0.25)
    assert three["kept"]["heads"] == ["pointwise"]
    earlier = {tuple(p["task_types"]): p for p in three["kept"]["from"]["provenance"]["train_rows"]["merged"]}
    assert set(earlier) == {("pointwise",), ("classification",)}
    parts = [points, classification, *earlier.values()]
    assert all((p["forged"], p["generic"]) == (0.25, 0.3) for p in parts)
    assert all(p["extracted_by"].startswith("flame rater features --mixture mix ") for p in parts)
    for fit in (rater, three):
        assert fit["provenance"]["fitted_by"].startswith("flame rater fit ")
        assert "--keep-others" in fit["provenance"]["fitted_by"]
    assert "--reward-prior --task-offsets" in rater["provenance"]["fitted_by"]

    # Only fields that say where something *was* may still name the training machine's folders.
    def paths(node: object, key: str = "") -> list[tuple[str, str]]:
        if isinstance(node, dict):
            return [p for k, v in node.items() for p in paths(v, k)]
        if isinstance(node, list):
            return [p for v in node for p in paths(v, key)]
        return [(key, node)] if isinstance(node, str) and node.startswith(("/tmp", "/work", "/home")) else []

    assert {key for key, _ in paths(meta)} <= {"path_at_build", "output_dir_at_build"}
